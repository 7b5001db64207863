//! SCRAM against the scripted server, whose SCRAM is written independently of the client's:
//! which mechanism and GS2 header the client picks for each server, that honest servers
//! let it in, and that each way a server can lie ends the session before anything else is
//! sent.

use herald_core::{
    ChannelBinding, DisconnectReason, Event, IterationBounds, Mechanism, ScramError, SessionState,
    Transport,
};
use herald_testkit::{Pair, ScramTamper, ServerProfile, config_for};

const ABORT: &str = "<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
const STREAM_CLOSE: &str = "</stream:stream>";

// ----- helpers -----

/// Logged in: online, resource bound, one bind request, no disconnect.
fn assert_logged_in(pair: &Pair) {
    assert_eq!(
        pair.client().state(),
        SessionState::Online,
        "{:#?}",
        pair.events
    );
    assert!(
        pair.events
            .iter()
            .any(|e| matches!(e, Event::Online { .. })),
        "{:#?}",
        pair.events
    );
    assert!(
        !pair
            .events
            .iter()
            .any(|e| matches!(e, Event::Disconnected { .. }))
    );
    assert_eq!(
        pair.server.bound.as_deref(),
        Some("alice@localhost/desk"),
        "the server bound the resource after authenticating us"
    );
}

/// Neither online nor binding: a failed SASL must end the login right there.
fn assert_not_logged_in(pair: &Pair) {
    assert!(
        !pair
            .events
            .iter()
            .any(|e| matches!(e, Event::Online { .. }))
    );
    assert_eq!(pair.client().bound_jid(), None);
    assert!(
        pair.server.received_named("iq").is_empty(),
        "no bind request"
    );
    assert!(pair.server.received_named("presence").is_empty());
    assert_eq!(pair.server.bound, None);
}

/// `(mechanism, gs2-header)` pairs the server saw, as owned strings.
fn auth_log(pair: &Pair) -> Vec<(String, String)> {
    pair.server.auth_log.clone()
}

fn entry(mechanism: &str, gs2: &str) -> Vec<(String, String)> {
    vec![(mechanism.to_string(), gs2.to_string())]
}

/// The `<response>` elements the client sent.
fn responses(pair: &Pair) -> usize {
    pair.server.received_named("response").len()
}

/// What the client sent after its `<auth/>`, as text.
fn sent_after_auth(pair: &Pair) -> String {
    let wire = String::from_utf8_lossy(&pair.server.received_bytes).into_owned();
    let at = wire.find("</auth>").expect("an <auth/> was sent") + "</auth>".len();
    wire[at..].to_string()
}

fn connected(profile: ServerProfile) -> Pair {
    let mut pair = Pair::with_profile(profile);
    pair.connect();
    pair
}

fn scram_error(pair: &Pair) -> ScramError {
    match pair.ended() {
        reason @ DisconnectReason::Scram { .. } => {
            assert!(reason.is_auth_failure());
            assert!(!reason.should_reconnect());
            let DisconnectReason::Scram { mechanism, error } = reason else {
                unreachable!()
            };
            assert_eq!(mechanism, Mechanism::ScramSha1);
            error
        }
        other => panic!("expected a SCRAM failure, got {other:?}"),
    }
}

// ===== choosing the mechanism and the GS2 header =====

#[test]
fn prosody_like_login_uses_scram_sha_1_and_says_y_when_holding_binding_data() {
    // The server offers no -PLUS; the client could bind (the simulated TLS gives data), so
    // RFC 5802 section 6 asks for 'y': "I support binding, I think you do not".
    let pair = connected(ServerProfile::prosody_like());
    assert_logged_in(&pair);
    assert_eq!(auth_log(&pair), entry("SCRAM-SHA-1", "y,,"));
    assert_eq!(pair.server.mechanism_used(), Some("SCRAM-SHA-1"));
    assert!(
        pair.events
            .contains(&Event::StateChanged(SessionState::Authenticating {
                mechanism: Mechanism::ScramSha1
            }))
    );
    // Full exchange: one <response> with the proof, no abort.
    assert_eq!(responses(&pair), 1);
    assert!(pair.server.received_named("abort").is_empty());
}

#[test]
fn prosody_like_login_without_binding_data_says_n() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.channel_binding = None;
    pair.connect();
    assert_logged_in(&pair);
    assert_eq!(auth_log(&pair), entry("SCRAM-SHA-1", "n,,"));
}

#[test]
fn empty_binding_data_counts_as_none() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.channel_binding = Some(ChannelBinding::default());
    pair.connect();
    assert_logged_in(&pair);
    assert_eq!(auth_log(&pair), entry("SCRAM-SHA-1", "n,,"));
}

#[test]
fn ejabberd_like_login_binds_the_channel_with_tls_server_end_point() {
    let pair = connected(ServerProfile::ejabberd_like());
    assert_logged_in(&pair);
    // The server advertised only tls-server-end-point (XEP-0440); the client holds both
    // exporter and end-point data and uses what was advertised. The server verified c=.
    assert_eq!(
        auth_log(&pair),
        entry("SCRAM-SHA-1-PLUS", "p=tls-server-end-point,,")
    );
    assert!(
        pair.events
            .contains(&Event::StateChanged(SessionState::Authenticating {
                mechanism: Mechanism::ScramSha1Plus
            }))
    );
}

#[test]
fn direct_tls_binding_data_enables_plus_too() {
    let mut pair = Pair::with_profile(ServerProfile::ejabberd_like());
    pair.server.tls_done();
    pair.connect_over(Transport::DirectTls(Some(
        ChannelBinding::tls_server_end_point(herald_testkit::profile::END_POINT.to_vec()),
    )))
    .unwrap();
    pair.drive();
    assert_logged_in(&pair);
    assert_eq!(
        auth_log(&pair),
        entry("SCRAM-SHA-1-PLUS", "p=tls-server-end-point,,")
    );
}

#[test]
fn ejabberd_like_rejects_binding_data_that_does_not_match_its_certificate() {
    // The server really checks c=: a client whose TLS layer saw another certificate (a
    // man in the middle) is refused.
    let mut pair = Pair::with_profile(ServerProfile::ejabberd_like());
    pair.channel_binding = Some(ChannelBinding::tls_server_end_point(
        b"hash of the attacker's certificate".to_vec(),
    ));
    pair.connect();
    assert_eq!(
        auth_log(&pair),
        entry("SCRAM-SHA-1-PLUS", "p=tls-server-end-point,,")
    );
    assert_eq!(
        pair.ended(),
        DisconnectReason::AuthFailed {
            condition: "not-authorized".into(),
            text: None
        }
    );
    assert_not_logged_in(&pair);
}

#[test]
fn ejabberd_like_without_advertisement_uses_plain_scram_with_n() {
    let mut profile = ServerProfile::ejabberd_like();
    profile.cb_advertised = None;
    let pair = connected(profile);
    assert_logged_in(&pair);
    // No guessing the binding type, and never 'y' while the server offers -PLUS (the
    // server would take it for a downgrade and refuse, as this one does).
    assert_eq!(auth_log(&pair), entry("SCRAM-SHA-1", "n,,"));
}

#[test]
fn ejabberd_like_without_binding_data_uses_plain_scram_with_n() {
    let mut pair = Pair::with_profile(ServerProfile::ejabberd_like());
    pair.channel_binding = None;
    pair.connect();
    assert_logged_in(&pair);
    assert_eq!(auth_log(&pair), entry("SCRAM-SHA-1", "n,,"));
}

#[test]
fn ejabberd_like_with_only_exporter_data_cannot_bind_and_says_n() {
    // Advertised tls-server-end-point, but the TLS layer only gave tls-exporter.
    let mut pair = Pair::with_profile(ServerProfile::ejabberd_like());
    pair.channel_binding = Some(ChannelBinding::tls_exporter(b"exporter bytes".to_vec()));
    pair.connect();
    assert_logged_in(&pair);
    assert_eq!(auth_log(&pair), entry("SCRAM-SHA-1", "n,,"));
}

#[test]
fn server_without_plus_and_client_holding_data_says_y() {
    let mut profile = ServerProfile::ejabberd_like();
    profile.mechanisms = vec!["SCRAM-SHA-1", "PLAIN"];
    profile.cb_advertised = None;
    let pair = connected(profile);
    assert_logged_in(&pair);
    assert_eq!(auth_log(&pair), entry("SCRAM-SHA-1", "y,,"));
}

#[test]
fn only_plus_offered_without_advertisement_is_not_acceptable() {
    // -PLUS needs to know which binding type the server takes; without XEP-0440 the client
    // does not guess, and there is nothing else to fall back to.
    let mut profile = ServerProfile::ejabberd_like();
    profile.mechanisms = vec!["SCRAM-SHA-1-PLUS"];
    profile.cb_advertised = None;
    let pair = connected(profile);
    assert_eq!(
        pair.ended(),
        DisconnectReason::NoAcceptableMechanism {
            offered: vec!["SCRAM-SHA-1-PLUS".into()]
        }
    );
    assert!(pair.server.auth_log.is_empty());
    assert_eq!(pair.server.mechanism_used(), None);
}

#[test]
fn scram_sha_256_is_preferred_and_logs_in() {
    let mut profile = ServerProfile::prosody_like();
    profile.mechanisms = vec!["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"];
    let pair = connected(profile);
    assert_logged_in(&pair);
    assert_eq!(auth_log(&pair), entry("SCRAM-SHA-256", "y,,"));
    assert!(
        pair.events
            .contains(&Event::StateChanged(SessionState::Authenticating {
                mechanism: Mechanism::ScramSha256
            }))
    );
}

#[test]
fn scram_sha_256_is_preferred_whatever_the_servers_order() {
    let mut profile = ServerProfile::prosody_like();
    profile.mechanisms = vec!["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"];
    let mut pair = Pair::with_profile(profile);
    pair.channel_binding = None;
    pair.connect();
    assert_logged_in(&pair);
    assert_eq!(auth_log(&pair), entry("SCRAM-SHA-256", "n,,"));
}

#[test]
fn scram_sha_256_plus_with_an_advertised_exporter() {
    let mut profile = ServerProfile::prosody_like();
    profile.mechanisms = vec![
        "SCRAM-SHA-256-PLUS",
        "SCRAM-SHA-1-PLUS",
        "SCRAM-SHA-256",
        "SCRAM-SHA-1",
    ];
    profile.cb_advertised = Some(vec!["tls-exporter", "tls-server-end-point"]);
    profile.cb_accepted = vec!["tls-exporter", "tls-server-end-point"];
    let pair = connected(profile);
    assert_logged_in(&pair);
    // tls-exporter is preferred over tls-server-end-point when both are advertised.
    assert_eq!(
        auth_log(&pair),
        entry("SCRAM-SHA-256-PLUS", "p=tls-exporter,,")
    );
}

#[test]
fn plain_is_never_chosen_while_scram_is_offered() {
    for mechanisms in [
        vec!["PLAIN", "SCRAM-SHA-1"],
        vec!["SCRAM-SHA-1", "PLAIN"],
        vec!["PLAIN", "SCRAM-SHA-256"],
        vec!["PLAIN", "X-OAUTH2", "SCRAM-SHA-1"],
    ] {
        let mut profile = ServerProfile::prosody_like();
        profile.mechanisms = mechanisms.clone();
        let pair = connected(profile);
        assert_logged_in(&pair);
        let used = pair.server.mechanism_used().map(str::to_string);
        assert_ne!(used.as_deref(), Some("PLAIN"), "{mechanisms:?}");
        assert!(
            used.as_deref().is_some_and(|m| m.starts_with("SCRAM-")),
            "{mechanisms:?}: {used:?}"
        );
        assert!(!pair.server.auth_log.iter().any(|(m, _)| m == "PLAIN"));
    }
}

#[test]
fn plain_only_server_over_tls_logs_in_with_plain() {
    let mut profile = ServerProfile::prosody_like();
    profile.mechanisms = vec!["PLAIN"];
    let pair = connected(profile);
    assert_logged_in(&pair);
    assert_eq!(auth_log(&pair), entry("PLAIN", ""));
    assert_eq!(pair.server.headers, 3, "plain, after TLS, after SASL");
    assert!(
        pair.events
            .contains(&Event::StateChanged(SessionState::Authenticating {
                mechanism: Mechanism::Plain
            }))
    );
    assert_eq!(responses(&pair), 0, "PLAIN has no challenge");
}

#[test]
fn plain_only_server_with_plain_disallowed_is_not_acceptable() {
    let mut profile = ServerProfile::prosody_like();
    profile.mechanisms = vec!["PLAIN"];
    let mut config = config_for(&profile);
    config.allow_plain = false;
    let mut pair = Pair::new(profile, config);
    pair.connect();
    assert_eq!(
        pair.ended(),
        DisconnectReason::NoAcceptableMechanism {
            offered: vec!["PLAIN".into()]
        }
    );
    assert_eq!(pair.server.mechanism_used(), None);
}

// ===== a lying server =====

#[test]
fn foreign_nonce_is_a_nonce_mismatch_and_the_client_aborts_without_a_proof() {
    let mut profile = ServerProfile::prosody_like();
    profile.scram_tamper = ScramTamper::ForeignNonce;
    let pair = connected(profile);

    assert_eq!(scram_error(&pair), ScramError::NonceMismatch);
    assert_eq!(responses(&pair), 0, "no client-final, so no proof");
    assert_eq!(sent_after_auth(&pair), format!("{ABORT}{STREAM_CLOSE}"));
    assert_not_logged_in(&pair);
}

#[test]
fn wrong_server_signature_is_a_signature_mismatch_and_ends_the_session() {
    let mut profile = ServerProfile::prosody_like();
    profile.scram_tamper = ScramTamper::WrongSignature;
    let pair = connected(profile);

    assert_eq!(scram_error(&pair), ScramError::SignatureMismatch);
    // The proof went out (the server must see it to answer), then only the close: the
    // exchange is over, there is nothing to abort, and no stream restart.
    assert_eq!(responses(&pair), 1);
    assert!(sent_after_auth(&pair).ends_with(&format!("</response>{STREAM_CLOSE}")));
    assert_eq!(
        pair.server.headers, 2,
        "no third stream after the fake success"
    );
    assert_not_logged_in(&pair);
}

#[test]
fn success_without_server_final_is_refused() {
    let mut profile = ServerProfile::prosody_like();
    profile.scram_tamper = ScramTamper::OmitServerFinal;
    let pair = connected(profile);

    assert_eq!(
        scram_error(&pair),
        ScramError::Malformed("success without server signature")
    );
    assert_eq!(pair.server.headers, 2, "no stream restart");
    assert!(sent_after_auth(&pair).ends_with(&format!("</response>{STREAM_CLOSE}")));
    assert_not_logged_in(&pair);
}

#[test]
fn wrong_signature_is_refused_with_scram_sha_256_plus_too() {
    let mut profile = ServerProfile::ejabberd_like();
    profile.mechanisms = vec!["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"];
    profile.scram_tamper = ScramTamper::WrongSignature;
    let pair = connected(profile);
    assert_eq!(
        pair.ended(),
        DisconnectReason::Scram {
            mechanism: Mechanism::ScramSha256Plus,
            error: ScramError::SignatureMismatch
        }
    );
    assert_not_logged_in(&pair);
}

/// The server asks for `iterations`; the client must refuse before computing a proof.
fn refused_iterations(iterations: u32) {
    let mut profile = ServerProfile::prosody_like();
    profile.iterations = iterations;
    let pair = connected(profile);

    assert_eq!(
        scram_error(&pair),
        ScramError::IterationCount {
            count: iterations,
            min: 4096,
            max: 100_000
        }
    );
    assert_eq!(responses(&pair), 0, "no proof for a refused count");
    assert_eq!(sent_after_auth(&pair), format!("{ABORT}{STREAM_CLOSE}"));
    assert_not_logged_in(&pair);
}

#[test]
fn iteration_count_u32_max_is_refused() {
    refused_iterations(u32::MAX);
}

#[test]
fn iteration_count_above_the_default_max_is_refused() {
    refused_iterations(1_000_000);
    refused_iterations(100_001);
}

#[test]
fn iteration_count_below_the_default_min_is_refused() {
    refused_iterations(1000);
    refused_iterations(4095);
}

#[test]
fn default_iteration_bounds_are_4096_to_100_000() {
    // What real servers use (Prosody 10,000, ejabberd 4,096), with headroom: a server
    // cannot make a login burn seconds of CPU.
    let bounds = IterationBounds::default();
    assert_eq!((bounds.min, bounds.max), (4096, 100_000));
    // The smallest accepted count logs in (ejabberd's default is exactly 4096).
    let profile = ServerProfile::ejabberd_like();
    assert_eq!(profile.iterations, 4096);
    assert_logged_in(&connected(profile));
}

#[test]
fn lowered_min_accepts_1000_iterations() {
    let mut profile = ServerProfile::prosody_like();
    profile.iterations = 1000;
    let mut config = config_for(&profile);
    config.scram_iterations.min = 1000;
    let mut pair = Pair::new(profile, config);
    pair.connect();
    assert_logged_in(&pair);
    assert_eq!(auth_log(&pair), entry("SCRAM-SHA-1", "y,,"));
}

#[test]
fn lowered_max_is_inclusive() {
    let mut profile = ServerProfile::prosody_like();
    profile.iterations = 12_000;
    let mut config = config_for(&profile);
    config.scram_iterations.max = 12_000;
    let mut pair = Pair::new(profile.clone(), config.clone());
    pair.connect();
    assert_logged_in(&pair);

    profile.iterations = 12_001;
    let mut pair = Pair::new(profile, config);
    pair.connect();
    assert_eq!(
        scram_error(&pair),
        ScramError::IterationCount {
            count: 12_001,
            min: 4096,
            max: 12_000
        }
    );
    assert_eq!(responses(&pair), 0);
}

// ----- the SCRAM key cache (reconnects skip PBKDF2) -----

#[test]
fn a_reconnect_with_the_scram_cache_logs_in_and_a_stale_key_is_dropped() {
    let mut first = Pair::with_profile(ServerProfile::prosody_like());
    first.connect();
    assert_eq!(first.client().state(), SessionState::Online);
    let cache = first.client().scram_cache().clone();
    assert_eq!(cache.len(), 1, "the verified key is cached");
    assert!(!format!("{cache:?} {:?}", first.client().config()).contains("wonderland"));

    // The next connection, carrying the cache: same server, same account.
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.scram_cache = cache.clone();
    let mut second = Pair::new(profile, config);
    second.connect();
    assert_eq!(second.client().state(), SessionState::Online);
    assert_eq!(second.client().scram_cache().len(), 1);

    // The password changed on the server (and in the config): the old key does not match
    // the new password, so PBKDF2 runs again and the login succeeds.
    let mut profile = ServerProfile::prosody_like();
    profile.password = "looking-glass".into();
    let mut config = config_for(&profile);
    config.scram_cache = cache.clone();
    let mut changed = Pair::new(profile, config);
    changed.connect();
    assert_eq!(changed.client().state(), SessionState::Online);
    assert_eq!(changed.client().scram_cache().len(), 2);

    // A wrong password is refused and leaves no key behind.
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.password = "not-the-password".into();
    config.scram_cache = cache;
    let mut wrong = Pair::new(profile, config);
    wrong.connect();
    assert!(matches!(
        wrong.ended(),
        DisconnectReason::AuthFailed { .. } | DisconnectReason::Scram { .. }
    ));
    assert_eq!(
        wrong.client().scram_cache().len(),
        1,
        "only the good key stays"
    );
}

/// SASLprep (RFC 4013) runs when the configuration is made: a password no server could
/// accept is a configuration error, not a login that fails half-way.
#[test]
fn credentials_saslprep_refuses_are_config_errors() {
    use herald_core::{Client, Config, ConfigError, SeededEntropy};
    assert_eq!(
        Config::new("alice@localhost", "bell\u{7}").err(),
        Some(ConfigError::InvalidCredentials)
    );
    // The fields are public: the client checks again.
    let mut config = Config::new("alice@localhost", "fine").unwrap();
    config.password = "bell\u{7}".into();
    assert_eq!(
        Client::new(config, SeededEntropy::new(1)).err(),
        Some(ConfigError::InvalidCredentials)
    );
    // Mapped characters are fine: U+00A0 becomes a space.
    assert!(Config::new("alice@localhost", "I\u{00A0}X").is_ok());
}
