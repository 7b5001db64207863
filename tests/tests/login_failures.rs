//! Every way a login (or an online session) can end, one rule per test, each read as a
//! transcript: the client connects, the server says something, the client answers (or
//! pointedly does not), and the session ends exactly once with the exact reason.

use std::time::Duration;

use herald_core::jid::FullJid;
use herald_core::minidom::Element;
use herald_core::{
    Action, Config, DisconnectReason, Event, Limit, Limits, Mechanism, PeerMisbehaved, Presence,
    SessionState, Step, StreamErrorCondition, TlsPolicy, Transport, UsageError,
};
use herald_testkit::{
    Driver, Pair, ServerPhase, ServerProfile, SessionFeature, Tamper, config_for,
};

// ----- wire constants -----

const STREAM_CLOSE: &str = "</stream:stream>";
const STARTTLS: &str = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
const PROCEED: &str = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
const SERVER_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
     xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='manual-1' \
     version='1.0' xml:lang='en'>";
const STARTTLS_FEATURES: &str = "<stream:features><starttls \
     xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>";

/// The stream error the client sends for `condition`, followed by its stream close.
fn our_stream_error(condition: &str) -> String {
    format!(
        "<stream:error><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         </stream:error></stream:stream>"
    )
}

/// A stream error from the server, with text, and the server's stream close.
fn server_stream_error(condition: &str, text: &str) -> String {
    format!(
        "<stream:error><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         <text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>{text}</text>\
         </stream:error></stream:stream>"
    )
}

// ----- helpers -----

/// Everything the client wrote, as text.
fn wire(pair: &Pair) -> String {
    pair.client_sent_since(0)
}

fn went_online(pair: &Pair) -> bool {
    pair.events
        .iter()
        .any(|e| matches!(e, Event::Online { .. }))
}

/// A pair logged in against `profile` with the default configuration.
fn online(profile: ServerProfile) -> Pair {
    let mut pair = Pair::with_profile(profile);
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Online);
    pair
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Drops every server batch that contains `needle` (the server "never answers").
fn drop_batches_with(needle: &'static str) -> Tamper {
    Box::new(move |batch: Vec<u8>| {
        if contains(&batch, needle) {
            Vec::new()
        } else {
            batch
        }
    })
}

/// Drops the server batch carrying its third stream header (the one after TLS and SASL):
/// the stream restart after `<success/>` never arrives.
fn drop_third_stream_header() -> Tamper {
    let mut headers = 0;
    Box::new(move |batch: Vec<u8>| {
        if contains(&batch, "<stream:stream ") {
            headers += 1;
            if headers == 3 {
                return Vec::new();
            }
        }
        batch
    })
}

/// In the first server batch containing `needle`, replaces everything from `needle` on
/// with `replacement`.
fn replace_once_from(needle: &'static str, replacement: String) -> Tamper {
    let mut done = false;
    Box::new(move |batch: Vec<u8>| {
        if done {
            return batch;
        }
        let text = String::from_utf8(batch).expect("the scripted server speaks UTF-8");
        match text.find(needle) {
            Some(at) => {
                done = true;
                format!("{}{}", &text[..at], replacement).into_bytes()
            }
            None => text.into_bytes(),
        }
    })
}

/// A client driven by hand (the testkit's [`Driver`], without the scripted server: the test
/// plays the server), connected over a plain transport, the stream header written.
fn by_hand(config: Config) -> Driver {
    Driver::connected(config, 7, Transport::Plain)
}

/// Client and server have agreed on STARTTLS: `<starttls/>` went out, `<proceed/>` came
/// back, and the adapter was told to run the handshake.
fn at_tls_handshake() -> Driver {
    let mut m = by_hand(Config::new("alice@localhost/desk", "wonderland").unwrap());
    m.feed(SERVER_HEADER);
    m.feed(STARTTLS_FEATURES);
    assert!(m.wire_text().ends_with(STARTTLS), "{}", m.wire_text());
    assert_eq!(m.client().state(), SessionState::StartingTls);
    m.feed(PROCEED);
    assert_eq!(
        m.actions,
        vec![Action::StartTls {
            server_name: "localhost".into()
        }]
    );
    assert_eq!(m.client().state(), SessionState::TlsHandshake);
    m
}

// ===== TLS policy =====

#[test]
fn no_starttls_offered_on_plain_transport_ends_with_tls_not_offered_and_no_auth() {
    let mut profile = ServerProfile::prosody_like();
    profile.starttls = false;
    let mut pair = Pair::with_profile(profile);
    pair.connect();

    // The server offered SASL mechanisms in the clear; the client refused to use them.
    assert!(contains(
        &pair.delivered,
        "<mechanism>SCRAM-SHA-1</mechanism>"
    ));
    let reason = pair.ended();
    assert_eq!(reason, DisconnectReason::TlsNotOffered);
    assert!(!reason.should_reconnect());
    assert!(!contains(&pair.server.received_bytes, "<auth"));
    assert!(pair.server.auth_log.is_empty());
    assert_eq!(pair.server.mechanism_used(), None);
    // The client closed its stream politely: its header with the early `<starttls/>`
    // (pipelined: TLS is required anyway), then `</stream:stream>`.
    assert_eq!(pair.server.received_named("starttls").len(), 1);
    assert_eq!(pair.server.received.len(), 1, "no other element was sent");
    assert!(wire(&pair).ends_with(&format!("'>{STARTTLS}{STREAM_CLOSE}")));
    assert!(pair.server.client_closed);
}

#[test]
fn insecure_plaintext_logs_in_with_scram_without_tls() {
    let mut profile = ServerProfile::prosody_like();
    profile.starttls = false;
    let mut config = config_for(&profile);
    config.tls = TlsPolicy::InsecurePlaintext;
    let mut pair = Pair::new(profile, config);
    pair.connect();

    assert_eq!(pair.client().state(), SessionState::Online);
    assert!(!contains(&pair.server.received_bytes, "<starttls"));
    assert!(pair.actions.is_empty(), "no StartTls: {:?}", pair.actions);
    // No TLS, so no channel-binding data: GS2 'n'.
    assert_eq!(
        pair.server.auth_log,
        vec![("SCRAM-SHA-1".to_string(), "n,,".to_string())]
    );
    // The server never went through a TLS phase.
    assert_eq!(pair.server.phase, ServerPhase::Authenticated);
}

#[test]
fn plain_is_never_used_without_tls_even_with_insecure_plaintext() {
    let mut profile = ServerProfile::prosody_like();
    profile.starttls = false;
    profile.mechanisms = vec!["PLAIN"];
    let mut config = config_for(&profile);
    config.tls = TlsPolicy::InsecurePlaintext;
    assert!(config.allow_plain);
    let mut pair = Pair::new(profile, config);
    pair.connect();

    assert_eq!(
        pair.ended(),
        DisconnectReason::NoAcceptableMechanism {
            offered: vec!["PLAIN".to_string()]
        }
    );
    assert!(!contains(&pair.server.received_bytes, "<auth"));
    assert!(wire(&pair).ends_with(STREAM_CLOSE));
}

#[test]
fn direct_tls_satisfies_the_tls_requirement_without_starttls() {
    let profile = ServerProfile::prosody_like();
    let config = config_for(&profile);
    assert_eq!(config.tls, TlsPolicy::Required);
    let mut pair = Pair::new(profile, config);
    // XEP-0368: TLS from the first byte, so the server offers SASL at once.
    pair.server.tls_done();
    let binding = pair.channel_binding.clone();
    pair.connect_over(Transport::DirectTls(binding)).unwrap();
    pair.drive();

    assert_eq!(pair.client().state(), SessionState::Online);
    assert!(!contains(&pair.server.received_bytes, "<starttls"));
    assert!(pair.actions.is_empty(), "no StartTls: {:?}", pair.actions);
    assert_eq!(pair.server.headers, 2, "initial stream, then after SASL");
}

#[test]
fn starttls_refused_ends_with_start_tls_refused() {
    let mut profile = ServerProfile::prosody_like();
    profile.refuse_starttls = true;
    let mut pair = Pair::with_profile(profile);
    pair.connect();

    assert!(contains(
        &pair.delivered,
        "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    ));
    let reason = pair.ended();
    assert_eq!(reason, DisconnectReason::StartTlsRefused);
    assert!(!reason.should_reconnect());
    assert!(wire(&pair).ends_with(&format!("{STARTTLS}{STREAM_CLOSE}")));
    assert!(!contains(&pair.server.received_bytes, "<auth"));
    assert!(
        !pair
            .actions
            .iter()
            .any(|a| matches!(a, Action::StartTls { .. }))
    );
}

// ===== STARTTLS injection =====

/// Plaintext glued to `<proceed/>` in the same read.
fn injection_after_proceed(injected: &'static str) {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.tamper = Some(Box::new(move |mut batch: Vec<u8>| {
        if contains(&batch, "<proceed ") {
            batch.extend_from_slice(injected.as_bytes());
        }
        batch
    }));
    pair.connect();

    assert!(contains(&pair.delivered, &format!("{PROCEED}{injected}")));
    assert_eq!(pair.ended(), DisconnectReason::TlsInjection);
    assert!(!DisconnectReason::TlsInjection.should_reconnect());
    // The StartTls action was produced, then the close; nothing after <starttls/>.
    assert_eq!(
        pair.actions,
        vec![
            Action::StartTls {
                server_name: "localhost".into()
            },
            Action::CloseTransport
        ]
    );
    assert!(wire(&pair).ends_with(STARTTLS), "{}", wire(&pair));
    assert_eq!(pair.server.received.len(), 1, "only <starttls/>");
    // The handshake never had to run: the server is still waiting for it.
    assert_eq!(pair.server.phase, ServerPhase::TlsPending);
    assert!(!went_online(&pair));
}

#[test]
fn starttls_injection_of_sasl_success_in_the_proceed_batch() {
    injection_after_proceed("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
}

#[test]
fn starttls_injection_of_a_single_space_in_the_proceed_batch() {
    injection_after_proceed(" ");
}

#[test]
fn starttls_injection_in_a_later_read_during_the_handshake() {
    let mut m = at_tls_handshake();
    let written = m.wire.len();

    m.feed("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");

    assert_eq!(m.ended(), DisconnectReason::TlsInjection);
    assert_eq!(
        m.wire.len(),
        written,
        "nothing written during the handshake"
    );
    assert!(m.wire_text().ends_with(STARTTLS));
    // Too late for the adapter now.
    assert_eq!(
        m.tls_established(None),
        Err(UsageError::SessionEnded(DisconnectReason::TlsInjection))
    );
}

#[test]
fn starttls_injection_of_one_byte_in_a_later_read() {
    let mut m = at_tls_handshake();
    let written = m.wire.len();
    m.feed(" ");
    assert_eq!(m.ended(), DisconnectReason::TlsInjection);
    assert_eq!(m.wire.len(), written);
}

#[test]
fn empty_read_during_the_handshake_is_not_an_injection() {
    let mut m = at_tls_handshake();
    m.feed("");
    assert_eq!(m.client().state(), SessionState::TlsHandshake);
    assert!(
        !m.events
            .iter()
            .any(|e| matches!(e, Event::Disconnected { .. }))
    );
}

// ===== TLS handshake outcome =====

#[test]
fn tls_failed_from_the_adapter_ends_with_tls_failed() {
    let mut m = at_tls_handshake();
    let written = m.wire.len();

    m.tls_failed("certificate has expired")
        .expect("a handshake is pending");

    let reason = m.ended();
    assert_eq!(
        reason,
        DisconnectReason::TlsFailed {
            message: "certificate has expired".into()
        }
    );
    assert!(!reason.should_reconnect());
    assert!(!reason.is_auth_failure());
    assert_eq!(m.wire.len(), written, "nothing written after <starttls/>");
}

#[test]
fn tls_established_without_a_pending_handshake_is_a_usage_error() {
    let config = Config::new("alice@localhost/desk", "wonderland").unwrap();
    let mut client = Driver::new(config.clone(), 3);
    // Before connect.
    assert_eq!(
        client.tls_established(None),
        Err(UsageError::NoTlsHandshake)
    );
    assert_eq!(client.tls_failed("x"), Err(UsageError::NoTlsHandshake));
    assert_eq!(client.client().state(), SessionState::Disconnected);

    // Connecting, and after <starttls/> but before <proceed/>: still nothing pending.
    let mut m = by_hand(config);
    assert_eq!(m.tls_established(None), Err(UsageError::NoTlsHandshake));
    m.feed(SERVER_HEADER);
    m.feed(STARTTLS_FEATURES);
    let written = m.wire.len();
    let events = m.events.len();
    assert_eq!(m.tls_established(None), Err(UsageError::NoTlsHandshake));
    assert_eq!(m.tls_failed("x"), Err(UsageError::NoTlsHandshake));
    // Misuse changes nothing: nothing to write, no event, no action.
    assert_eq!(m.wire.len(), written);
    assert_eq!(m.events.len(), events);
    assert!(m.actions.is_empty());
    assert_eq!(m.client().state(), SessionState::StartingTls);

    // Online, the handshake is long done.
    let mut pair = online(ServerProfile::prosody_like());
    assert_eq!(pair.tls_established(None), Err(UsageError::NoTlsHandshake));
    assert_eq!(pair.client().state(), SessionState::Online);
}

// ===== SASL =====

#[test]
fn wrong_password_ends_with_auth_failed_not_authorized() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.password = "not-the-password".into();
    let mut pair = Pair::new(profile, config);
    pair.connect();

    let reason = pair.ended();
    assert_eq!(
        reason,
        DisconnectReason::AuthFailed {
            condition: "not-authorized".into(),
            text: None
        }
    );
    assert!(!reason.should_reconnect());
    assert!(reason.is_auth_failure());
    assert!(wire(&pair).ends_with(STREAM_CLOSE));
    assert!(pair.server.received_named("iq").is_empty(), "no bind");
}

#[test]
fn sasl_failure_with_text_is_reported_with_its_text() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.password = "not-the-password".into();
    let mut pair = Pair::new(profile, config);
    pair.tamper = Some(replace_once_from(
        "<not-authorized/></failure>",
        "<not-authorized/><text>bad</text></failure>".into(),
    ));
    pair.connect();

    assert!(contains(&pair.delivered, "<text>bad</text>"));
    let reason = pair.ended();
    assert_eq!(
        reason,
        DisconnectReason::AuthFailed {
            condition: "not-authorized".into(),
            text: Some("bad".into())
        }
    );
    assert!(!reason.should_reconnect());
    assert!(reason.is_auth_failure());
    assert_eq!(
        reason.to_string(),
        "authentication failed: not-authorized (bad)"
    );
}

#[test]
fn no_acceptable_mechanism_lists_what_was_offered() {
    let mut profile = ServerProfile::prosody_like();
    profile.mechanisms = vec!["X-OAUTH2"];
    let mut pair = Pair::with_profile(profile);
    pair.connect();

    let reason = pair.ended();
    assert_eq!(
        reason,
        DisconnectReason::NoAcceptableMechanism {
            offered: vec!["X-OAUTH2".into()]
        }
    );
    assert!(!reason.should_reconnect());
    assert!(!contains(&pair.server.received_bytes, "<auth"));
    // TLS was done, then the client closed its second stream.
    assert_eq!(pair.server.headers, 2);
    assert!(wire(&pair).ends_with(STREAM_CLOSE));
}

// ===== stream errors from the server =====

/// Checks the client answered a server stream error with `</stream:stream>` only.
fn answered_with_close_only(pair: &Pair, mark: usize) {
    assert_eq!(pair.client_sent_since(mark), STREAM_CLOSE);
    assert!(!contains(&pair.server.received_bytes, "<stream:error"));
}

#[test]
fn stream_error_instead_of_the_first_features() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.tamper = Some(replace_once_from(
        "<stream:features>",
        server_stream_error("host-unknown", "no such domain here"),
    ));
    let mark = pair.mark();
    pair.connect();

    let reason = pair.ended();
    assert_eq!(
        reason,
        DisconnectReason::StreamError {
            condition: "host-unknown".into(),
            text: Some("no such domain here".into())
        }
    );
    assert!(!reason.should_reconnect());
    // Our header with the early `<starttls/>`, then only the close.
    let sent = pair.client_sent_since(mark);
    assert!(sent.starts_with("<?xml"));
    assert!(
        sent.ends_with(&format!("'>{STARTTLS}{STREAM_CLOSE}")),
        "{sent}"
    );
    assert!(!contains(&pair.server.received_bytes, "<stream:error"));
}

#[test]
fn stream_error_instead_of_the_features_after_tls() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    // The second stream's features (after TLS).
    let mut seen = 0;
    let mut inner = replace_once_from(
        "<stream:features>",
        server_stream_error("system-shutdown", "going down for maintenance"),
    );
    pair.tamper = Some(Box::new(move |batch: Vec<u8>| {
        if contains(&batch, "<stream:features>") {
            seen += 1;
            if seen == 2 {
                return inner(batch);
            }
        }
        batch
    }));
    pair.connect();

    let reason = pair.ended();
    assert_eq!(
        reason,
        DisconnectReason::StreamError {
            condition: "system-shutdown".into(),
            text: Some("going down for maintenance".into())
        }
    );
    assert!(reason.should_reconnect(), "a restart is worth retrying");
    assert!(!contains(&pair.server.received_bytes, "<auth"));
    assert!(wire(&pair).ends_with(&format!("'>{STREAM_CLOSE}")));
    assert!(!contains(&pair.server.received_bytes, "<stream:error"));
}

#[test]
fn stream_error_during_authentication() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.tamper = Some(replace_once_from(
        "<challenge",
        server_stream_error("internal-server-error", "database gone"),
    ));
    pair.connect();

    assert_eq!(
        pair.ended(),
        DisconnectReason::StreamError {
            condition: "internal-server-error".into(),
            text: Some("database gone".into())
        }
    );
    assert!(wire(&pair).ends_with(&format!("</auth>{STREAM_CLOSE}")));
    assert!(!contains(&pair.server.received_bytes, "<response"));
    assert!(!contains(&pair.server.received_bytes, "<stream:error"));
}

#[test]
fn stream_error_conflict_while_online() {
    let mut pair = online(ServerProfile::prosody_like());
    let mark = pair.mark();
    pair.server_says(&server_stream_error(
        "conflict",
        "Replaced by new connection",
    ));

    let reason = pair.ended();
    assert_eq!(
        reason,
        DisconnectReason::StreamError {
            condition: "conflict".into(),
            text: Some("Replaced by new connection".into())
        }
    );
    assert!(!reason.should_reconnect(), "reconnecting would fight");
    answered_with_close_only(&pair, mark);
}

#[test]
fn stream_error_system_shutdown_without_text_while_online() {
    let mut pair = online(ServerProfile::prosody_like());
    let mark = pair.mark();
    pair.server_says(
        "<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         </stream:error></stream:stream>",
    );

    let reason = pair.ended();
    assert_eq!(
        reason,
        DisconnectReason::StreamError {
            condition: "system-shutdown".into(),
            text: None
        }
    );
    assert!(reason.should_reconnect());
    assert!(!reason.is_auth_failure());
    answered_with_close_only(&pair, mark);
}

#[test]
fn see_other_host_while_online_names_the_host() {
    let mut pair = online(ServerProfile::prosody_like());
    let mark = pair.mark();
    pair.server_says(
        "<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>\
         other.example.net:5222</see-other-host></stream:error></stream:stream>",
    );

    let reason = pair.ended();
    assert_eq!(
        reason,
        DisconnectReason::SeeOtherHost {
            host: "other.example.net:5222".into()
        }
    );
    assert!(reason.should_reconnect());
    answered_with_close_only(&pair, mark);
}

#[test]
fn see_other_host_instead_of_features() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.tamper = Some(replace_once_from(
        "<stream:features>",
        "<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>\
         [2001:db8::1]:5222</see-other-host></stream:error></stream:stream>"
            .into(),
    ));
    pair.connect();

    assert_eq!(
        pair.ended(),
        DisconnectReason::SeeOtherHost {
            host: "[2001:db8::1]:5222".into()
        }
    );
    assert!(wire(&pair).ends_with(&format!("'>{STARTTLS}{STREAM_CLOSE}")));
}

// ===== malformed XML =====

/// Online, the server sends `junk`: the session ends with `MalformedXml { condition }` and
/// the client's own stream error for that condition.
fn malformed_while_online(junk: &str, condition: &str) -> Pair {
    let mut pair = online(ServerProfile::prosody_like());
    let mark = pair.mark();
    pair.server_says(junk);

    let reason = pair.ended();
    match &reason {
        DisconnectReason::MalformedXml {
            condition: got,
            detail,
        } => {
            assert_eq!(*got, condition, "{junk:?}: {detail}");
            assert!(!detail.is_empty());
        }
        other => panic!("{junk:?}: expected MalformedXml, got {other:?}"),
    }
    assert!(reason.should_reconnect());
    assert_eq!(pair.client_sent_since(mark), our_stream_error(condition));
    assert!(
        !pair.events.iter().any(|e| matches!(e, Event::Stanza(_))),
        "no stanza reported from broken input"
    );
    pair
}

#[test]
fn mismatched_end_tag_is_not_well_formed() {
    malformed_while_online("<a><b></a>", "not-well-formed");
}

#[test]
fn comment_between_stanzas_is_restricted_xml() {
    malformed_while_online("<!-- x -->", "restricted-xml");
}

#[test]
fn comment_inside_a_stanza_is_restricted_xml() {
    malformed_while_online(
        "<message from='bob@localhost/x'><body>hi<!-- x --></body></message>",
        "restricted-xml",
    );
}

#[test]
fn processing_instruction_is_restricted_xml() {
    malformed_while_online("<?php echo 1; ?>", "restricted-xml");
}

/// RFC 6120 section 11.1: a DTD is restricted XML.
#[test]
fn dtd_mid_stream_is_restricted_xml() {
    malformed_while_online("<!DOCTYPE message>", "restricted-xml");
}

/// RFC 6120 section 11.1: entity references (other than the five predefined ones) are
/// restricted XML.
#[test]
fn undeclared_entity_reference_is_restricted_xml() {
    malformed_while_online(
        "<message from='bob@localhost/x'><body>&lol;</body></message>",
        "restricted-xml",
    );
}

/// `<!` followed by anything but a comment, CDATA or a declaration is plain bad syntax.
#[test]
fn bang_junk_is_not_well_formed() {
    malformed_while_online("<message><!x></message>", "not-well-formed");
}

#[test]
fn predefined_entities_and_character_references_are_fine() {
    let mut pair = online(ServerProfile::prosody_like());
    pair.server_says(
        "<message from='bob@localhost/x'><body>&lt;&amp;&gt;&quot;&apos;&#65;</body></message>",
    );
    assert_eq!(pair.client().state(), SessionState::Online);
    assert_eq!(bodies(&pair), ["<&>\"'A"]);
}

/// rxml implements "restricted XML", which has no `doctypedecl` production; the reader
/// reports the DTD as `restricted-xml` (RFC 6120 section 11.1), before anything is parsed
/// or sent.
#[test]
fn dtd_in_the_prolog_is_refused() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.tamper = Some(replace_once_from(
        "<stream:stream ",
        format!(
            "<!DOCTYPE stream:stream [<!ENTITY lol 'lol'>]>{}",
            &SERVER_HEADER["<?xml version='1.0'?>".len()..]
        ),
    ));
    let mark = pair.mark();
    pair.connect();

    let reason = pair.ended();
    assert!(
        matches!(
            reason,
            DisconnectReason::MalformedXml {
                condition: StreamErrorCondition::RestrictedXml,
                ..
            }
        ),
        "{reason:?}"
    );
    let sent = pair.client_sent_since(mark);
    assert!(
        sent.ends_with(&format!(
            "'>{STARTTLS}{}",
            our_stream_error("restricted-xml")
        )),
        "{sent}"
    );
}

#[test]
fn text_between_stanzas_is_bad_format() {
    malformed_while_online("hello", "bad-format");
}

#[test]
fn text_after_a_valid_stanza_is_bad_format_and_the_stanza_still_counts() {
    let mut pair = online(ServerProfile::prosody_like());
    let mark = pair.mark();
    pair.server_says("<message from='bob@localhost/x'><body>one</body></message>hello");

    let stanzas = pair
        .events
        .iter()
        .filter(|e| matches!(e, Event::Stanza(_) | Event::Message(_)))
        .count();
    assert_eq!(stanzas, 1, "the message before the junk was delivered");
    assert!(matches!(
        pair.ended(),
        DisconnectReason::MalformedXml {
            condition: StreamErrorCondition::BadFormat,
            ..
        }
    ));
    assert_eq!(pair.client_sent_since(mark), our_stream_error("bad-format"));
}

#[test]
fn undeclared_prefix_is_not_well_formed() {
    malformed_while_online("<foo:bar/>", "not-well-formed");
}

/// RFC 6120 section 4.9.3.22: bytes that break UTF-8 are `unsupported-encoding`.
#[test]
fn invalid_utf8_is_unsupported_encoding() {
    let mut pair = online(ServerProfile::prosody_like());
    let mark = pair.mark();
    pair.server
        .send_raw(b"<message><body>\xff\xfe</body></message>");
    pair.drive();
    assert!(matches!(
        pair.ended(),
        DisconnectReason::MalformedXml {
            condition: StreamErrorCondition::UnsupportedEncoding,
            ..
        }
    ));
    assert_eq!(
        pair.client_sent_since(mark),
        our_stream_error("unsupported-encoding")
    );
}

// ===== limits =====

/// A pair logged in with `limits` in the configuration.
fn online_with_limits(limits: Limits) -> Pair {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.limits = limits;
    let mut pair = Pair::new(profile, config);
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Online);
    pair
}

fn limit_hit(pair: &Pair, mark: usize, limit: Limit) {
    let reason = pair.ended();
    assert_eq!(reason, DisconnectReason::LimitExceeded(limit));
    assert!(reason.should_reconnect());
    assert_eq!(
        pair.client_sent_since(mark),
        our_stream_error("policy-violation")
    );
    assert!(!pair.events.iter().any(|e| matches!(e, Event::Stanza(_))));
}

/// The bodies of the chat messages delivered (as [`Event::Message`]).
fn bodies(pair: &Pair) -> Vec<String> {
    pair.events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m.body.clone().unwrap_or_default()),
            _ => None,
        })
        .collect()
}

fn stanzas(pair: &Pair) -> Vec<&herald_core::Stanza> {
    pair.events
        .iter()
        .filter_map(|e| match e {
            Event::Stanza(el) => Some(el),
            _ => None,
        })
        .collect()
}

/// A `<message/>` of exactly `len` bytes on the wire.
/// With `len == 0`, the message with an empty body (its length is the overhead).
fn message_of_len(len: usize) -> String {
    let head = "<message from='bob@localhost/x' type='chat'><body>";
    let tail = "</body></message>";
    let pad = len.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(pad))
}

#[test]
fn default_limits_are_as_documented() {
    let limits = Limits::default();
    assert_eq!(limits.max_stanza_bytes, 256 * 1024);
    assert_eq!(limits.max_depth, 32);
    assert_eq!(limits.max_attributes, 64);
    assert_eq!(limits.max_whitespace_run, 64 * 1024);
}

#[test]
fn a_300_kib_message_exceeds_the_default_stanza_size() {
    let mut pair = online(ServerProfile::prosody_like());
    let mark = pair.mark();
    pair.server_says(&message_of_len(300 * 1024));
    limit_hit(&pair, mark, Limit::StanzaSize);
}

#[test]
fn a_stanza_of_exactly_the_limit_passes_one_byte_more_does_not() {
    let mut limits = Limits::default();
    limits.max_stanza_bytes = 2048;
    let mut pair = online_with_limits(limits);
    // Exactly at the limit, followed in the same read by a keepalive and a second stanza.
    let batch = format!("{} {}", message_of_len(2048), message_of_len(100));
    pair.server_says(&batch);
    assert_eq!(pair.client().state(), SessionState::Online);
    assert_eq!(bodies(&pair).len(), 2);
    let body = bodies(&pair)[0].clone();
    assert_eq!(body.len(), 2048 - message_of_len(0).len());

    let mut pair = online_with_limits(limits);
    let mark = pair.mark();
    pair.server_says(&message_of_len(2049));
    limit_hit(&pair, mark, Limit::StanzaSize);
}

/// A message `levels` deep: the message is depth 2 (the stream root is depth 1), each
/// nested `<x/>` one more, so the deepest element is at depth `levels + 1`.
fn nested_message(levels: usize) -> String {
    let mut xml = String::from("<message from='bob@localhost/x'>");
    for _ in 1..levels {
        xml.push_str("<x xmlns='urn:example:deep'>");
    }
    for _ in 1..levels {
        xml.push_str("</x>");
    }
    xml.push_str("</message>");
    xml
}

#[test]
fn nesting_depth_at_the_limit_passes_one_more_does_not() {
    // The message itself is depth 2: 31 levels of it and below reach depth 32.
    let mut pair = online(ServerProfile::prosody_like());
    pair.server_says(&nested_message(31));
    assert_eq!(pair.client().state(), SessionState::Online);
    assert_eq!(stanzas(&pair).len(), 1);

    let mut pair = online(ServerProfile::prosody_like());
    let mark = pair.mark();
    pair.server_says(&nested_message(32));
    limit_hit(&pair, mark, Limit::Depth);
}

#[test]
fn a_small_depth_limit_is_honoured() {
    let mut limits = Limits::default();
    limits.max_depth = 5;
    // The login's deepest element is the bind result: stream > iq > bind > jid (4).
    let mut pair = online_with_limits(limits);
    let mark = pair.mark();
    pair.server_says(&nested_message(5));
    limit_hit(&pair, mark, Limit::Depth);
}

fn message_with_attributes(n: usize) -> String {
    let mut xml = String::from("<message");
    for i in 0..n {
        xml.push_str(&format!(" a{i}='{i}'"));
    }
    xml.push_str("/>");
    xml
}

#[test]
fn attribute_count_at_the_limit_passes_one_more_does_not() {
    let mut pair = online(ServerProfile::prosody_like());
    pair.server_says(&message_with_attributes(64));
    assert_eq!(pair.client().state(), SessionState::Online);
    assert_eq!(stanzas(&pair).len(), 1);
    assert_eq!(stanzas(&pair)[0].attrs().count(), 64);

    let mut pair = online(ServerProfile::prosody_like());
    let mark = pair.mark();
    pair.server_says(&message_with_attributes(65));
    limit_hit(&pair, mark, Limit::Attributes);
}

#[test]
fn whitespace_run_at_the_limit_passes_one_more_does_not() {
    let mut pair = online(ServerProfile::prosody_like());
    pair.server_says(&format!("{}{}", " ".repeat(64 * 1024), message_of_len(100)));
    assert_eq!(pair.client().state(), SessionState::Online);
    assert_eq!(bodies(&pair).len(), 1);

    let mut pair = online(ServerProfile::prosody_like());
    let mark = pair.mark();
    pair.server_says(&" ".repeat(64 * 1024 + 1));
    limit_hit(&pair, mark, Limit::WhitespaceRun);
}

#[test]
fn a_small_whitespace_limit_counts_runs_across_reads() {
    let mut limits = Limits::default();
    limits.max_whitespace_run = 16;
    let mut pair = online_with_limits(limits);
    let mark = pair.mark();
    pair.server_says("\n\n\n\n\n\n\n\n");
    pair.server_says("\t\t\t\t\t\t\t\t");
    assert_eq!(pair.client().state(), SessionState::Online, "16 is allowed");
    pair.server_says(" ");
    limit_hit(&pair, mark, Limit::WhitespaceRun);
}

// ===== timeouts =====

#[test]
fn default_step_timeout_is_30_seconds_and_early_timeouts_do_nothing() {
    let profile = ServerProfile::prosody_like();
    let config = config_for(&profile);
    assert_eq!(config.timeouts.step, Duration::from_secs(30));
    let mut pair = Pair::new(profile, config);
    pair.tamper = Some(Box::new(|_| Vec::new()));
    let start = pair.now;
    pair.connect();

    let deadline = pair
        .client()
        .poll_timeout()
        .expect("the step timer is armed");
    assert_eq!(deadline, start + Duration::from_secs(30));
    let events = pair.events.len();
    let actions = pair.actions.len();
    let written = pair.mark();

    // One millisecond early: nothing happens (nothing to write, no action, no event).
    pair.timeout_at(deadline - Duration::from_millis(1));
    assert_eq!(pair.actions.len(), actions);
    assert_eq!(pair.client().state(), SessionState::Connecting);
    assert_eq!(pair.client().poll_timeout(), Some(deadline));
    assert_eq!(pair.events.len(), events);
    assert_eq!(pair.mark(), written);

    // At the deadline.
    assert!(pair.fire_next_timeout());
    assert_eq!(pair.now, deadline);
    assert_eq!(
        pair.ended(),
        DisconnectReason::Timeout(Step::StreamFeatures)
    );
}

#[test]
fn server_silent_after_connect_times_out_in_stream_features() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.tamper = Some(Box::new(|_| Vec::new()));
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Connecting);
    assert!(pair.delivered.is_empty());
    let mark = pair.mark();

    assert!(pair.fire_next_timeout());
    let reason = pair.ended();
    assert_eq!(reason, DisconnectReason::Timeout(Step::StreamFeatures));
    assert!(reason.should_reconnect());
    assert_eq!(reason.to_string(), "timed out during stream features");
    assert_eq!(pair.client_sent_since(mark), STREAM_CLOSE);
}

#[test]
fn header_without_features_times_out_in_stream_features() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.tamper = Some(replace_once_from("<stream:features>", String::new()));
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Connecting);
    assert!(contains(&pair.delivered, "<stream:stream "));

    pair.advance(Duration::from_secs(29));
    assert_eq!(pair.client().state(), SessionState::Connecting);
    pair.advance(Duration::from_secs(1));
    assert_eq!(
        pair.ended(),
        DisconnectReason::Timeout(Step::StreamFeatures)
    );
}

#[test]
fn unanswered_starttls_times_out_in_start_tls() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    // Only the <proceed/> is lost (it comes in the batch with the features: our
    // <starttls/> went out with our header).
    pair.tamper = Some(replace_once_from(PROCEED, String::new()));
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::StartingTls);
    let deadline = pair.client().poll_timeout().unwrap();
    assert_eq!(deadline, pair.now + Duration::from_secs(30));
    pair.timeout_at(deadline - Duration::from_millis(1));
    assert_eq!(pair.client().state(), SessionState::StartingTls);

    assert!(pair.fire_next_timeout());
    assert_eq!(pair.ended(), DisconnectReason::Timeout(Step::StartTls));
    assert!(wire(&pair).ends_with(&format!("{STARTTLS}{STREAM_CLOSE}")));
}

#[test]
fn tls_handshake_that_never_completes_times_out_silently() {
    let mut m = at_tls_handshake();
    let written = m.wire.len();
    let deadline = m.client().poll_timeout().expect("the handshake is timed");
    assert_eq!(deadline, m.now + Duration::from_secs(30));

    m.timeout_at(deadline - Duration::from_millis(1));
    assert_eq!(m.client().state(), SessionState::TlsHandshake);

    m.timeout_at(deadline);
    assert_eq!(m.ended(), DisconnectReason::Timeout(Step::TlsHandshake));
    assert_eq!(
        m.wire.len(),
        written,
        "nothing may be written mid-handshake"
    );
    assert!(m.wire_text().ends_with(STARTTLS));
}

#[test]
fn stalled_sasl_times_out_in_authentication() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.tamper = Some(drop_batches_with("<challenge"));
    pair.connect();
    assert_eq!(
        pair.client().state(),
        SessionState::Authenticating {
            mechanism: Mechanism::ScramSha1
        }
    );
    let deadline = pair.client().poll_timeout().unwrap();
    pair.timeout_at(deadline - Duration::from_millis(1));
    assert!(matches!(
        pair.client().state(),
        SessionState::Authenticating { .. }
    ));

    assert!(pair.fire_next_timeout());
    assert_eq!(
        pair.ended(),
        DisconnectReason::Timeout(Step::Authentication)
    );
    assert!(wire(&pair).ends_with(&format!("</auth>{STREAM_CLOSE}")));
}

#[test]
fn stalled_bind_times_out_in_binding() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.tamper = Some(drop_batches_with("<iq type='result'"));
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Binding);
    assert_eq!(bind_requests(&pair), 1, "bind sent");
    let deadline = pair.client().poll_timeout().unwrap();
    pair.timeout_at(deadline - Duration::from_millis(1));
    assert_eq!(pair.client().state(), SessionState::Binding);

    assert!(pair.fire_next_timeout());
    assert_eq!(pair.ended(), DisconnectReason::Timeout(Step::Binding));
    // The bind request, the roster request and the initial presence went out together
    // (pipelined); after the timeout, only our close.
    assert!(wire(&pair).ends_with(&format!("<presence/>{STREAM_CLOSE}")));
    assert!(!went_online(&pair));
}

#[test]
fn no_stream_restart_after_sasl_success_times_out_in_binding() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    // The server's third stream header (after TLS and SASL) never arrives.
    pair.tamper = Some(drop_third_stream_header());
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Binding);
    // Our bind request went out with our header (pipelined); its answer never comes.
    assert_eq!(bind_requests(&pair), 1);
    assert!(!went_online(&pair));

    assert!(pair.fire_next_timeout());
    assert_eq!(pair.ended(), DisconnectReason::Timeout(Step::Binding));
}

#[test]
fn stalled_required_session_times_out_in_session() {
    let mut profile = ServerProfile::prosody_like();
    profile.session = SessionFeature::Required;
    let mut pair = Pair::with_profile(profile);
    // Let the bind result through, drop the session result (an empty iq result).
    pair.tamper = Some(Box::new(|batch: Vec<u8>| {
        if contains(&batch, "<iq type='result'") && !contains(&batch, "<bind") {
            Vec::new()
        } else {
            batch
        }
    }));
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Session);

    assert!(pair.fire_next_timeout());
    assert_eq!(pair.ended(), DisconnectReason::Timeout(Step::Session));
    assert!(!went_online(&pair));
}

#[test]
fn each_step_gets_a_fresh_deadline() {
    // Time spent in one step does not count against the next.
    let profile = ServerProfile::prosody_like();
    let mut pair = Pair::with_profile(profile);
    pair.tamper = Some(drop_batches_with("<challenge"));
    pair.connect_over(Transport::Plain).unwrap();
    let first = pair.client().poll_timeout().unwrap();
    pair.now += Duration::from_secs(20);
    pair.drive();
    // Features, STARTTLS and auth all happened at t+20 s.
    assert!(matches!(
        pair.client().state(),
        SessionState::Authenticating { .. }
    ));
    assert_eq!(
        pair.client().poll_timeout(),
        Some(first + Duration::from_secs(20))
    );
}

/// `Step::StreamFeatures` is "waiting for the stream header and features": one step, one
/// deadline. A server that trickles the header just before the deadline does not buy
/// itself another 30 s for the features.
#[test]
fn stream_header_and_features_share_one_deadline() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    let mut batches = 0;
    pair.tamper = Some(Box::new(move |batch: Vec<u8>| {
        batches += 1;
        if batches == 1 { Vec::new() } else { batch }
    }));
    let start = pair.now;
    pair.connect();
    let deadline = start + Duration::from_secs(30);
    assert_eq!(pair.client().poll_timeout(), Some(deadline));

    pair.now += Duration::from_secs(20);
    pair.server_says(SERVER_HEADER);
    assert_eq!(pair.client().state(), SessionState::Connecting);
    assert_eq!(
        pair.client().poll_timeout(),
        Some(deadline),
        "the header does not restart the step"
    );

    assert!(pair.fire_next_timeout());
    assert_eq!(pair.now, deadline);
    assert_eq!(
        pair.ended(),
        DisconnectReason::Timeout(Step::StreamFeatures)
    );
}

/// `Step::Binding` covers the stream restart after SASL, the features and the bind
/// result: one deadline from `<success/>`.
#[test]
fn stream_restart_and_bind_share_one_deadline() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    // The third stream (after SASL): header and features are held back.
    pair.tamper = Some(drop_third_stream_header());
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Binding);
    let deadline = pair.now + Duration::from_secs(30);
    assert_eq!(pair.client().poll_timeout(), Some(deadline));

    pair.now += Duration::from_secs(10);
    pair.server_says(&SERVER_HEADER.replace("manual-1", "s3"));
    pair.now += Duration::from_secs(10);
    // The features reach the client; its bind request went out early (pipelined) and the
    // answer was held back with the header: nothing comes.
    pair.tamper = Some(drop_batches_with("<iq type='result'"));
    pair.server_says(
        "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
    );
    assert_eq!(bind_requests(&pair), 1, "bind sent");
    assert_eq!(pair.client().state(), SessionState::Binding);
    assert_eq!(pair.client().poll_timeout(), Some(deadline));

    assert!(pair.fire_next_timeout());
    assert_eq!(pair.now, deadline);
    assert_eq!(pair.ended(), DisconnectReason::Timeout(Step::Binding));
}

#[test]
fn close_without_the_servers_answer_times_out_as_local_close() {
    let mut profile = ServerProfile::prosody_like();
    profile.answer_close = false;
    let mut pair = online(profile);
    let mark = pair.mark();
    pair.command(|c, now| c.close(now)).unwrap();
    pair.drive();
    assert_eq!(pair.client().state(), SessionState::Closing);
    assert_eq!(
        pair.client().poll_timeout(),
        Some(pair.now + Duration::from_secs(5))
    );
    assert!(pair.fire_next_timeout());
    assert_eq!(pair.ended(), DisconnectReason::LocalClose);
    let sent = pair.client_sent_since(mark);
    assert!(
        sent.ends_with(&format!("type='unavailable'/>{STREAM_CLOSE}")),
        "{sent}"
    );
}

// ===== EOF and closes =====

#[test]
fn eof_mid_login_ends_with_eof() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.tamper = Some(drop_batches_with("<challenge"));
    pair.connect();
    let mark = pair.mark();

    pair.eof();
    pair.drive();

    let reason = pair.ended();
    assert_eq!(reason, DisconnectReason::Eof);
    assert!(reason.should_reconnect());
    assert_eq!(
        pair.client_sent_since(mark),
        "",
        "nothing written to a dead socket"
    );
}

#[test]
fn eof_after_our_close_is_a_local_close() {
    let mut profile = ServerProfile::prosody_like();
    profile.answer_close = false;
    let mut pair = online(profile);
    pair.command(|c, now| c.close(now)).unwrap();
    pair.drive();
    assert_eq!(pair.client().state(), SessionState::Closing);
    assert!(pair.server.client_closed);

    pair.eof();
    pair.drive();
    let reason = pair.ended();
    assert_eq!(reason, DisconnectReason::LocalClose);
    assert!(!reason.should_reconnect());
}

#[test]
fn server_answering_our_close_is_a_local_close() {
    let mut pair = online(ServerProfile::prosody_like());
    pair.command(|c, now| c.close(now)).unwrap();
    pair.drive();
    assert_eq!(pair.ended(), DisconnectReason::LocalClose);
}

#[test]
fn server_closing_unprompted_while_online_is_server_closed() {
    let mut pair = online(ServerProfile::prosody_like());
    let mark = pair.mark();
    pair.server_says(STREAM_CLOSE);

    let reason = pair.ended();
    assert_eq!(reason, DisconnectReason::ServerClosed);
    assert!(reason.should_reconnect());
    // We close our stream too, and say nothing else (no unavailable presence).
    assert_eq!(pair.client_sent_since(mark), STREAM_CLOSE);
}

// ===== binding and session =====

#[test]
fn bind_error_ends_with_bind_failed() {
    let mut profile = ServerProfile::prosody_like();
    profile.bind_error = Some("not-allowed".into());
    let mut pair = Pair::with_profile(profile);
    pair.connect();

    let reason = pair.ended();
    assert_eq!(
        reason,
        DisconnectReason::BindFailed {
            condition: "not-allowed".into()
        }
    );
    assert!(!reason.should_reconnect());
    assert!(!went_online(&pair));
    assert_eq!(pair.client().bound_jid(), None);
    // The initial presence went out with the bind request (pipelined), nothing after the
    // refusal but our close.
    assert_eq!(pair.server.received_named("presence").len(), 1);
    assert!(wire(&pair).ends_with(&format!("<presence/>{STREAM_CLOSE}")));

    // Without pipelining, nothing but the bind request.
    let mut profile = ServerProfile::prosody_like();
    profile.bind_error = Some("not-allowed".into());
    let mut config = config_for(&profile);
    config.pipelining = false;
    let mut pair = Pair::new(profile, config);
    pair.connect();
    assert!(matches!(pair.ended(), DisconnectReason::BindFailed { .. }));
    assert!(pair.server.received_named("presence").is_empty());
    assert!(wire(&pair).ends_with(&format!("</iq>{STREAM_CLOSE}")));
}

fn bind_requests(pair: &Pair) -> usize {
    pair.server
        .received_named("iq")
        .iter()
        .filter(|iq| {
            iq.get_child("bind", "urn:ietf:params:xml:ns:xmpp-bind")
                .is_some()
        })
        .count()
}

fn session_requests(pair: &Pair) -> usize {
    pair.server
        .received_named("iq")
        .iter()
        .filter(|iq| {
            iq.get_child("session", "urn:ietf:params:xml:ns:xmpp-session")
                .is_some()
        })
        .count()
}

#[test]
fn required_session_is_established_before_going_online() {
    let mut profile = ServerProfile::prosody_like();
    profile.session = SessionFeature::Required;
    let mut pair = Pair::with_profile(profile);
    pair.connect();

    assert_eq!(pair.client().state(), SessionState::Online);
    assert_eq!(session_requests(&pair), 1);
    let iqs = pair.server.received_named("iq");
    let session = iqs
        .iter()
        .position(|iq| iq.has_child("session", "urn:ietf:params:xml:ns:xmpp-session"))
        .unwrap();
    assert_eq!(iqs[session].attr("type"), Some("set"));
    assert!(session > 0, "after the bind request");
    // The session went out after bind and before a presence: pipelining sent one with the
    // bind request already, and a server that requires the legacy session gets it again
    // once the session is established.
    let names: Vec<&str> = pair.server.received.iter().map(|e| e.name()).collect();
    assert_eq!(names.last(), Some(&"presence"));
    assert_eq!(pair.server.received_named("presence").len(), 2);
    assert!(
        pair.events
            .contains(&Event::StateChanged(SessionState::Session))
    );
}

#[test]
fn optional_session_is_not_requested() {
    let mut pair = online(ServerProfile::prosody_like());
    assert_eq!(session_requests(&pair), 0);
    assert!(
        !pair
            .events
            .contains(&Event::StateChanged(SessionState::Session))
    );
    pair.drive();

    let mut profile = ServerProfile::prosody_like();
    profile.session = SessionFeature::Absent;
    let pair = online(profile);
    assert_eq!(session_requests(&pair), 0);
}

#[test]
fn jid_without_resource_lets_the_server_choose() {
    let profile = ServerProfile::prosody_like();
    let config = Config::new("alice@localhost", profile.password.as_str()).unwrap();
    let mut pair = Pair::new(profile, config);
    pair.connect();

    let bind_iq = pair.server.received_named("iq")[0];
    let bind = bind_iq
        .get_child("bind", "urn:ietf:params:xml:ns:xmpp-bind")
        .expect("a bind request");
    assert_eq!(bind.children().count(), 0, "no <resource/>");
    let expected = FullJid::new("alice@localhost/srv-assigned-1").unwrap();
    assert!(
        pair.events.contains(&Event::Online {
            jid: expected.clone()
        }),
        "{:#?}",
        pair.events
    );
    assert_eq!(pair.client().bound_jid(), Some(&expected));
}

#[test]
fn jid_with_resource_requests_it() {
    let pair = online(ServerProfile::prosody_like());
    let bind_iq = pair.server.received_named("iq")[0];
    let resource = bind_iq
        .get_child("bind", "urn:ietf:params:xml:ns:xmpp-bind")
        .and_then(|b| b.get_child("resource", "urn:ietf:params:xml:ns:xmpp-bind"))
        .expect("a <resource/>");
    assert_eq!(resource.text(), "desk");
    assert!(pair.events.contains(&Event::Online {
        jid: FullJid::new("alice@localhost/desk").unwrap()
    }));
}

// ===== stream version =====

#[test]
fn stream_version_0_9_is_unsupported() {
    let mut profile = ServerProfile::prosody_like();
    profile.stream_version = "0.9".into();
    let mut pair = Pair::with_profile(profile);
    let mark = pair.mark();
    pair.connect();

    let reason = pair.ended();
    assert_eq!(
        reason,
        DisconnectReason::PeerMisbehaved(PeerMisbehaved::UnsupportedVersion {
            version: Some("0.9".into())
        })
    );
    let sent = pair.client_sent_since(mark);
    assert!(
        sent.ends_with(&format!(
            "'>{STARTTLS}{}",
            our_stream_error("unsupported-version")
        )),
        "{sent}"
    );
}

#[test]
fn missing_stream_version_is_unsupported() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.tamper = Some(Box::new(|batch: Vec<u8>| {
        String::from_utf8(batch)
            .unwrap()
            .replace(" version='1.0' xml:lang", " xml:lang")
            .into_bytes()
    }));
    pair.connect();
    assert_eq!(
        pair.ended(),
        DisconnectReason::PeerMisbehaved(PeerMisbehaved::UnsupportedVersion { version: None })
    );
    assert!(wire(&pair).ends_with(&our_stream_error("unsupported-version")));
}

#[test]
fn stream_version_1_1_is_accepted() {
    let mut profile = ServerProfile::prosody_like();
    profile.stream_version = "1.1".into();
    let pair = online(profile);
    assert!(went_online(&pair));
}

// ===== the end is sticky =====

#[test]
fn after_disconnect_every_command_fails_with_the_same_reason_and_input_is_ignored() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.password = "not-the-password".into();
    let mut pair = Pair::new(profile, config);
    pair.connect();
    let reason = pair.ended();
    assert!(matches!(reason, DisconnectReason::AuthFailed { .. }));
    let sticky = Err(UsageError::SessionEnded(reason.clone()));
    let now = pair.now;

    assert_eq!(pair.connect_over(Transport::Plain), sticky);
    assert_eq!(
        pair.command(|c, now| c.set_presence(now, Presence::Away)),
        sticky
    );
    assert_eq!(pair.command(|c, now| c.set_status(now, "gone")), sticky);
    assert_eq!(
        pair.command(|c, now| c.change_presence(now, Presence::DoNotDisturb, "x")),
        sticky
    );
    let msg = Element::builder("message", "jabber:client")
        .attr(
            herald_core::minidom::rxml::NcName::try_from("to").unwrap(),
            "bob@localhost",
        )
        .build();
    assert_eq!(pair.command(|c, now| c.send(now, &msg)), sticky);
    assert_eq!(pair.command(|c, now| c.close(now)), sticky);
    assert_eq!(pair.tls_established(None), sticky);
    assert_eq!(pair.tls_failed("x"), sticky);
    assert_eq!(
        pair.client().presence(),
        Presence::Chat,
        "the failed commands changed nothing"
    );
    assert_eq!(pair.client().status(), "");

    // Inputs are ignored: no events, no bytes, no actions, no timers.
    let (events, actions, written) = (pair.events.len(), pair.actions.len(), pair.mark());
    pair.feed(SERVER_HEADER.as_bytes());
    pair.feed(b"<message from='bob@localhost/x'><body>hi</body></message>");
    pair.feed(b"<<<not xml at all");
    pair.eof();
    pair.timeout_at(now + Duration::from_secs(3600));
    assert_eq!(pair.mark(), written);
    assert_eq!(pair.actions.len(), actions);
    assert_eq!(pair.events.len(), events);
    assert_eq!(pair.client().poll_timeout(), None);
    assert_eq!(
        pair.client().state(),
        SessionState::Closed {
            reason: reason.clone()
        }
    );

    // Still the same reason after all that (an hour later).
    assert_eq!(pair.command(|c, now| c.close(now)), sticky);
}

#[test]
fn after_a_stream_error_online_commands_fail_too() {
    let mut pair = online(ServerProfile::prosody_like());
    pair.server_says(&server_stream_error("conflict", "replaced"));
    let reason = pair.ended();
    let sticky = Err(UsageError::SessionEnded(reason.clone()));
    assert_eq!(
        pair.command(|c, now| c.set_presence(now, Presence::Away)),
        sticky
    );
    assert_eq!(pair.command(|c, now| c.close(now)), sticky);
    let events = pair.events.len();
    pair.server_says("<message from='bob@localhost/x'><body>late</body></message>");
    assert_eq!(pair.events.len(), events);
}

// ===== secrets =====

#[test]
fn the_password_never_shows_in_debug_or_display() {
    const PASSWORD: &str = "s3cr3t-Hunter2-pw";
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.password = PASSWORD.into();
    let debug = format!("{config:?}");
    assert!(!debug.contains(PASSWORD), "{debug}");
    assert!(debug.contains("alice@localhost/desk"), "{debug}");
    assert!(!format!("{:#?}", config.password).contains(PASSWORD));

    let mut reasons = Vec::new();

    // Wrong password, the server's <failure/> held back: look at the client mid-SASL,
    // then let it time out.
    let mut pair = Pair::new(profile.clone(), config.clone());
    assert!(!format!("{:?}", pair.client()).contains(PASSWORD));
    pair.tamper = Some(drop_batches_with("<failure"));
    pair.connect();
    // Mid-SASL, the client holds the password (or its SCRAM state).
    assert!(matches!(
        pair.client().state(),
        SessionState::Authenticating { .. }
    ));
    let debug = format!("{:?} {:#?}", pair.client(), pair.client());
    assert!(!debug.contains(PASSWORD), "{debug}");
    pair.fire_next_timeout();
    reasons.push(pair.ended());
    assert!(!format!("{:?}", pair.client()).contains(PASSWORD));

    // Wrong password: AuthFailed.
    let mut pair = Pair::new(profile.clone(), config.clone());
    pair.connect();
    reasons.push(pair.ended());

    // PLAIN (the password goes on the wire, inside TLS, but nowhere else).
    let mut plain = profile.clone();
    plain.mechanisms = vec!["PLAIN"];
    let mut pair = Pair::new(plain, config.clone());
    pair.connect();
    reasons.push(pair.ended());
    assert!(!format!("{:?}", pair.events).contains(PASSWORD));

    // No mechanism, TLS not offered.
    let mut none = profile.clone();
    none.mechanisms = vec!["X-OAUTH2"];
    let mut pair = Pair::new(none, config.clone());
    pair.connect();
    reasons.push(pair.ended());
    let mut no_tls = profile.clone();
    no_tls.starttls = false;
    let mut pair = Pair::new(no_tls, config.clone());
    pair.connect();
    reasons.push(pair.ended());

    assert_eq!(reasons.len(), 5);
    for reason in &reasons {
        let shown = format!(
            "{reason} {reason:?} {}",
            UsageError::SessionEnded(reason.clone())
        );
        assert!(!shown.contains(PASSWORD), "{shown}");
    }
}

#[test]
fn garbage_after_our_close_ends_as_local_close_and_writes_nothing_more() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.connect();
    let mark = pair.mark();
    pair.command(|c, now| c.close(now)).unwrap();
    assert!(pair.client_sent_since(mark).ends_with("</stream:stream>"));
    // The server answers with something that is not XML (say, a TLS record).
    let mark = pair.mark();
    pair.feed(&[0x16, 0x03, 0x03, 0x00, 0x2a, b'x']);
    let after = pair.client_sent_since(mark);
    assert!(
        after.is_empty(),
        "nothing may follow </stream:stream>: {after:?}"
    );
    assert_eq!(
        pair.client().state(),
        herald_core::SessionState::Closed {
            reason: DisconnectReason::LocalClose
        }
    );
}
