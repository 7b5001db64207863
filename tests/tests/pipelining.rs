//! Pipelining against the scripted servers: what leaves in one write, and the fallbacks
//! when a server answers otherwise. `<starttls/>` with the first header; after SASL success
//! the header, the bind request, the roster request and the initial presence; with the
//! features cached from the last session, the SASL initial response with the header after
//! TLS (or the first header on direct TLS).

use herald_core::{
    DisconnectReason, Event, FastToken, FeatureCache, Mechanism, Presence, SessionState, TlsPolicy,
    Transport, UserAgent,
};
use herald_testkit::{Pair, ScramTamper, ServerProfile, config_for};

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
/// Our header on a secure stream names the account.
const SECURE_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='alice@localhost' to='localhost' \
    version='1.0'>";
const STARTTLS: &str = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";

fn pair(profile: ServerProfile, change: impl FnOnce(&mut herald_core::Config)) -> Pair {
    let mut config = config_for(&profile);
    change(&mut config);
    Pair::new(profile, config)
}

/// The streams the client wrote, split at each header.
fn streams(pair: &Pair) -> Vec<String> {
    let wire = pair.client_sent_since(0);
    wire.split("<?xml")
        .filter(|s| !s.is_empty())
        .map(|s| format!("<?xml{s}"))
        .collect()
}

#[test]
fn starttls_leaves_with_the_first_header_unless_pipelining_is_off() {
    let mut pipelined = pair(ServerProfile::prosody_like(), |_| {});
    pipelined.start();
    assert_eq!(
        pipelined.client_sent_since(0),
        format!("{HEADER}{STARTTLS}")
    );
    pipelined.drive();
    assert_eq!(pipelined.client().state(), SessionState::Online);

    let mut waiting = pair(ServerProfile::prosody_like(), |c| c.pipelining = false);
    waiting.start();
    assert_eq!(waiting.client_sent_since(0), HEADER);
    waiting.drive();
    assert_eq!(waiting.client().state(), SessionState::Online);
    assert_eq!(streams(&waiting)[0], format!("{HEADER}{STARTTLS}"));

    // Without TLS (loopback experiments) there is nothing to send early.
    let mut profile = ServerProfile::prosody_like();
    profile.starttls = false;
    let mut plain = pair(profile, |c| c.tls = TlsPolicy::InsecurePlaintext);
    plain.start();
    assert_eq!(plain.client_sent_since(0), HEADER);
}

#[test]
fn after_success_bind_roster_and_presence_leave_with_the_header() {
    let mut pair = pair(ServerProfile::prosody_like(), |c| {
        c.presence = Presence::Away;
        c.status = "lunch".into();
    });
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Online);
    let third = &streams(&pair)[2];
    let body = third.strip_prefix(SECURE_HEADER).expect("our header first");
    assert_eq!(
        body,
        "<iq id='h956eeb2f-1' type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <resource>desk</resource></bind></iq>\
         <iq id='h956eeb2f-2' type='get'><query xmlns='jabber:iq:roster'/></iq>\
         <presence><show>away</show><status>lunch</status></presence>"
    );
    // One initial presence, reported once, after Online; the roster after its answer.
    let names: Vec<&str> = pair
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Online { .. } => Some("online"),
            Event::PresenceSent { .. } => Some("presence_sent"),
            Event::Roster { .. } => Some("roster"),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["online", "presence_sent", "roster"]);
}

#[test]
fn without_roster_fetch_only_bind_and_presence_leave_early() {
    let mut pair = pair(ServerProfile::prosody_like(), |c| c.fetch_roster = false);
    pair.connect();
    let third = &streams(&pair)[2];
    assert!(third.contains("xmpp-bind"));
    assert!(!third.contains("jabber:iq:roster"));
    assert!(third.ends_with("<presence/>"));
    assert_eq!(pair.server.roster_gets.len(), 0);
}

/// A login leaves its server's features in `feature_cache()`; the next login with them
/// sends `<auth/>` in the same write as its header after TLS, and still gets online.
#[test]
fn a_cached_offer_sends_the_initial_response_with_the_header_after_tls() {
    let mut first = pair(ServerProfile::prosody_like(), |_| {});
    first.connect();
    let cache = first.client().feature_cache().cloned().expect("learned");
    assert_eq!(cache.mechanisms, ["SCRAM-SHA-1", "PLAIN"]);
    assert!(cache.roster_versioning);

    let mut second = pair(ServerProfile::prosody_like(), |c| {
        c.feature_cache = Some(cache.clone())
    });
    second.connect();
    assert_eq!(second.client().state(), SessionState::Online);
    let after_tls = &streams(&second)[1];
    let body = after_tls
        .strip_prefix(SECURE_HEADER)
        .expect("our header first");
    assert!(
        body.starts_with("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>"),
        "{body}"
    );
    // Only the SCRAM exchange in that stream: nothing waited for the features.
    assert_eq!(second.server.auth_log.len(), 1);
    // The roster request of the cached login asks for what changed (versioning known).
    assert_eq!(second.server.roster_gets, [Some(String::new())]);
}

/// The cache says SCRAM-SHA-256; the server now offers SCRAM-SHA-1 only. Its refusal of
/// the early choice sends the login the slow way, from the features: online all the same.
#[test]
fn a_stale_cached_offer_falls_back_to_the_features() {
    let mut stale = FeatureCache::default();
    stale.mechanisms = vec!["SCRAM-SHA-256".into()];
    let mut pair = pair(ServerProfile::prosody_like(), |c| {
        c.feature_cache = Some(stale)
    });
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Online);
    let auths: Vec<&str> = pair
        .server
        .auth_log
        .iter()
        .map(|(m, _)| m.as_str())
        .collect();
    assert_eq!(
        auths,
        ["SCRAM-SHA-1"],
        "the refused early <auth/> logs nothing"
    );
    let after_tls = &streams(&pair)[1];
    assert!(after_tls.contains("mechanism='SCRAM-SHA-256'"));
    assert!(after_tls.contains("mechanism='SCRAM-SHA-1'"));
    assert!(
        pair.events
            .contains(&Event::StateChanged(SessionState::Authenticating {
                mechanism: Mechanism::ScramSha1
            }))
    );
    // What this session learned replaces the stale cache.
    assert_eq!(
        pair.client().feature_cache().map(|c| c.mechanisms.clone()),
        Some(vec!["SCRAM-SHA-1".to_string(), "PLAIN".to_string()])
    );
}

/// On direct TLS (XEP-0368) the cached initial response leaves with the first header.
#[test]
fn direct_tls_with_a_cached_offer_authenticates_in_the_first_write() {
    let mut profile = ServerProfile::prosody_like();
    profile.starttls = false;
    let mut learn = pair(profile.clone(), |_| {});
    learn.connect_over(Transport::DirectTls(None)).unwrap();
    learn.drive();
    let cache = learn.client().feature_cache().cloned().expect("learned");

    let mut pair = pair(profile, |c| c.feature_cache = Some(cache));
    pair.connect_over(Transport::DirectTls(None)).unwrap();
    let first = pair.client_sent_since(0);
    assert!(
        first.starts_with(&format!(
            "{SECURE_HEADER}<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>"
        )),
        "{first}"
    );
    pair.drive();
    assert_eq!(pair.client().state(), SessionState::Online);
}

/// A cached offer is only used on a secure stream: with `InsecurePlaintext` the client
/// waits for the features (its cache came from a TLS stream).
#[test]
fn no_early_credentials_on_a_plaintext_stream() {
    let mut cache = FeatureCache::default();
    cache.mechanisms = vec!["SCRAM-SHA-1".into()];
    let mut profile = ServerProfile::prosody_like();
    profile.starttls = false;
    let mut pair = pair(profile, |c| {
        c.tls = TlsPolicy::InsecurePlaintext;
        c.feature_cache = Some(cache);
    });
    pair.start();
    assert_eq!(pair.client_sent_since(0), HEADER);
    pair.drive();
    assert_eq!(pair.client().state(), SessionState::Online);
}

/// The fallbacks cost one round trip each, never the login (direct TLS, features cached).
#[test]
fn a_stale_cache_costs_one_round_trip_on_direct_tls() {
    let mut profile = ServerProfile::prosody_like();
    profile.starttls = false;
    let mut stale = FeatureCache::default();
    stale.mechanisms = vec!["SCRAM-SHA-256".into()];
    let mut pair = pair(profile, |c| c.feature_cache = Some(stale));
    pair.connect_over(Transport::DirectTls(None)).unwrap();
    pair.drive();
    assert_eq!(pair.client().state(), SessionState::Online);
    // TLS; header + stale <auth/> (refused); <auth/> from the features; SCRAM final;
    // header + bind + roster + presence.
    assert_eq!(pair.round_trips_to_presence(), Some(4));
}

/// A FAST token the server does not know: refused, dropped (reported), and the login goes
/// on with SCRAM from the same features, asking for a new token: one round trip more.
#[test]
fn a_refused_fast_token_falls_back_to_scram_and_gets_a_new_one() {
    let mut profile = ServerProfile::fast_login();
    profile.starttls = false;
    let mut learn = pair(profile.clone(), |_| {});
    learn.connect_over(Transport::DirectTls(None)).unwrap();
    learn.drive();
    let cache = learn.client().feature_cache().cloned();

    let mut pair = pair(profile, |c| {
        c.user_agent = Some(UserAgent::new("d4565fa7-4d72-4749-b3d3-740edbf87770"));
        c.fast_token = Some(FastToken::new(
            "HT-SHA-256-NONE",
            "secret-token:forged",
            None,
        ));
        c.feature_cache = cache;
    });
    pair.connect_over(Transport::DirectTls(None)).unwrap();
    pair.drive();
    assert_eq!(pair.client().state(), SessionState::Online);
    assert_eq!(pair.server.mechanism_used(), Some("SCRAM-SHA-256"));
    // TLS; header + <authenticate/> with the token (refused); SCRAM first; SCRAM final;
    // roster + presence.
    assert_eq!(pair.round_trips_to_presence(), Some(4));
    let updates = pair
        .events
        .iter()
        .filter(|e| **e == Event::FastTokenUpdated)
        .count();
    assert_eq!(updates, 2, "dropped, then a new one: {:#?}", pair.events);
    let token = pair.client().fast_token().expect("a new token");
    assert_ne!(token.token.expose(), "secret-token:forged");
}

/// A token whose server proof does not verify ends the login (mutual authentication), as
/// a SCRAM server signature that does not verify does.
#[test]
fn a_fast_login_without_the_servers_proof_fails() {
    let mut profile = ServerProfile::fast_login();
    profile.starttls = false;
    let agent = UserAgent::new("d4565fa7-4d72-4749-b3d3-740edbf87770");
    let mut first = pair(profile.clone(), |c| c.user_agent = Some(agent.clone()));
    first.connect_over(Transport::DirectTls(None)).unwrap();
    first.drive();
    let token = first.client().fast_token().cloned().expect("issued");

    let mut tampered = first.server.profile.clone();
    tampered.scram_tamper = ScramTamper::WrongSignature;
    let mut pair = pair(tampered, |c| {
        c.user_agent = Some(agent);
        c.fast_token = Some(token);
    });
    pair.connect_over(Transport::DirectTls(None)).unwrap();
    pair.drive();
    assert!(matches!(
        pair.client().state(),
        SessionState::Closed {
            reason: DisconnectReason::Scram {
                mechanism: Mechanism::HtSha256None,
                ..
            }
        }
    ));
}
