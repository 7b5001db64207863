//! Enabling stream management (XEP-0198 section 3): after binding with `resume='true'`,
//! pipelined with the bind request when the server offered SM last time, inline in Bind 2
//! when SASL2 offers it; not at all when the client does not want it or the server does
//! not offer it; and a refused `<enable/>` leaves a working session without SM.

mod sm_common;

use herald_core::Event;
use herald_testkit::{Pair, ServerProfile, config_for};
use sm_common::{ENABLE, R, count, next_config, online, send_messages};

#[test]
fn enable_goes_out_once_after_bind_with_resumption_asked() {
    let pair = online(ServerProfile::stream_management());
    let sent = pair.client_sent_since(0);
    assert_eq!(count(&sent, ENABLE), 1, "{sent}");
    let bind = sent.find("<bind ").expect("a bind request");
    assert!(sent.find(ENABLE).unwrap() > bind, "{sent}");
    let session = pair.server.sm_session().expect("enabled");
    assert!(session.resumable);
    assert!(
        pair.server.violations.is_empty(),
        "{:?}",
        pair.server.violations
    );
}

/// With the features of the last login cached, `<enable/>` rides in the same flight as the
/// bind request, the roster request and the initial presence: no round trip of its own,
/// and the roster request and presence after it are counted.
#[test]
fn with_cached_features_enable_is_pipelined_with_the_bind_request() {
    let profile = ServerProfile::stream_management();
    let mut first = online(profile.clone());
    first.command(|c, now| c.close(now)).unwrap();
    first.drive();
    let mut config = next_config(&first);
    assert!(
        config.resumption.is_none(),
        "a closed session is not resumed"
    );
    config.feature_cache = first.client().feature_cache().cloned();
    let mut pair = first.reconnect_with(config);
    pair.connect();
    sm_common::assert_online(&pair);
    let flights = pair.flights();
    let with_bind = flights
        .iter()
        .find(|f| f.from_client && f.bytes.contains("<bind "))
        .expect("a bind request");
    assert!(with_bind.bytes.contains(ENABLE), "{}", with_bind.bytes);
    assert!(with_bind.bytes.contains("<presence"), "{}", with_bind.bytes);
    assert_eq!(
        pair.round_trips_to(ENABLE),
        pair.round_trips_to("<bind "),
        "{flights:#?}"
    );
    // The server counted the roster request and the presence.
    assert_eq!(pair.server.sm_session().unwrap().handled, 2);
    assert!(
        pair.server.violations.is_empty(),
        "{:?}",
        pair.server.violations
    );
}

/// Bind 2 offers SM inline: `<enable/>` goes inside `<bind/>` in `<authenticate/>`, and no
/// separate `<enable/>` follows.
#[test]
fn with_bind2_enable_goes_inline() {
    let pair = online(ServerProfile::fast_login_with_sm());
    let sent = pair.client_sent_since(0);
    let start = sent.find("<authenticate ").expect("SASL2");
    let end = sent[start..].find("</authenticate>").unwrap() + start;
    let authenticate = &sent[start..end];
    let bind = authenticate.find("<bind xmlns='urn:xmpp:bind:0'").unwrap();
    assert!(authenticate[bind..].contains("<enable xmlns='urn:xmpp:sm:3'"));
    assert!(authenticate[bind..].contains("resume='true'"));
    assert_eq!(count(&sent, "<enable "), 1, "{sent}");
    assert!(pair.server.received_named("enable").is_empty());
    assert!(pair.server.sm_session().unwrap().resumable);
    assert!(
        pair.server.violations.is_empty(),
        "{:?}",
        pair.server.violations
    );
}

#[test]
fn a_client_that_does_not_want_sm_sends_no_enable() {
    let profile = ServerProfile::stream_management();
    let mut config = config_for(&profile);
    config.stream_management = false;
    let mut pair = Pair::new(profile, config);
    pair.connect();
    sm_common::assert_online(&pair);
    send_messages(&mut pair, &["m1", "m2", "m3", "m4", "m5", "m6"]);
    pair.drive();
    let sent = pair.client_sent_since(0);
    assert_eq!(count(&sent, "urn:xmpp:sm:3"), 0, "{sent}");
    assert_eq!(pair.server.sm_id(), None);
}

#[test]
fn a_server_without_sm_gets_no_enable() {
    let mut pair = online(ServerProfile::prosody_like());
    send_messages(&mut pair, &["m1", "m2", "m3", "m4", "m5", "m6"]);
    pair.drive();
    let sent = pair.client_sent_since(0);
    assert_eq!(count(&sent, "urn:xmpp:sm:3"), 0, "{sent}");
    pair.cut().drive();
    assert!(pair.client().resumption().is_none());
}

/// `<failed/>` to `<enable/>`: the session goes on without SM, asks for no acks, and a cut
/// leaves nothing to resume.
#[test]
fn a_refused_enable_leaves_a_session_without_sm() {
    let profile = ServerProfile {
        sm_enable_error: Some("internal-server-error".into()),
        ..ServerProfile::stream_management()
    };
    let mut pair = online(profile);
    assert_eq!(pair.server.sm_id(), None);
    let mark = pair.mark();
    send_messages(&mut pair, &["m1", "m2", "m3", "m4", "m5", "m6"]);
    pair.drive();
    pair.advance(std::time::Duration::from_secs(5));
    let sent = pair.client_sent_since(mark);
    assert_eq!(count(&sent, R), 0, "{sent}");
    assert_eq!(count(&sent, "<message"), 6);
    pair.cut().drive();
    assert!(pair.client().resumption().is_none());
    assert!(
        !pair
            .events
            .iter()
            .any(|e| matches!(e, Event::StanzasLost { .. })),
        "{:?}",
        pair.events
    );
}
