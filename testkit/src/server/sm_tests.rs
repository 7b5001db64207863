//! Stream management on one connection, against the server alone: the client's messages
//! are XEP-0198's examples, written by hand.

use super::ScriptedServer;
use super::test_client::{after_tls, header, plain, write};
use crate::profile::{Reply, ServerProfile};

pub(super) const BIND: &str = "<iq id='b1' type='set'><bind \
    xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>churchyard</resource></bind></iq>";
pub(super) const ENABLE: &str = "<enable xmlns='urn:xmpp:sm:3' resume='true'/>";
pub(super) const R: &str = "<r xmlns='urn:xmpp:sm:3'/>";
pub(super) const ROSTER_GET: &str = "<iq id='ls72g593' type='get'>\
    <query xmlns='jabber:iq:roster'/></iq>";

/// `<a h/>` from the client.
pub(super) fn a(h: u32) -> String {
    format!("<a xmlns='urn:xmpp:sm:3' h='{h}'/>")
}

/// The server's `<a h/>`.
pub(super) fn server_a(h: u32) -> String {
    format!("<a xmlns='urn:xmpp:sm:3' h='{h}'/>")
}

/// A message from the client (XEP-0198's friar), with an id to find it by.
pub(super) fn message(id: &str) -> String {
    format!(
        "<message id='{id}' to='juliet@example.com' xml:lang='en'><body>I'll send a friar \
         with speed, to Mantua, with my letters to thy lord.</body></message>"
    )
}

/// Past TLS and an RFC 6120 PLAIN login, the restarted stream's header answered; what the
/// server said last (its features).
pub(super) fn authenticated(profile: ServerProfile) -> (ScriptedServer, String) {
    let mut server = after_tls(profile);
    write(&mut server, &header(None));
    let auth = format!(
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{}</auth>",
        plain()
    );
    assert!(write(&mut server, &auth).starts_with("<success"));
    let features = write(&mut server, &header(None));
    (server, features)
}

/// Authenticated and bound to `alice@localhost/churchyard`.
pub(super) fn bound(profile: ServerProfile) -> ScriptedServer {
    let (mut server, _) = authenticated(profile);
    assert!(write(&mut server, BIND).contains("<jid>alice@localhost/churchyard</jid>"));
    server
}

/// Bound, with SM enabled (resumable when the profile allows it); the SM-ID.
pub(super) fn enabled(profile: ServerProfile) -> (ScriptedServer, String) {
    let mut server = bound(profile);
    let out = write(&mut server, ENABLE);
    assert!(out.starts_with("<enabled xmlns='urn:xmpp:sm:3'"), "{out}");
    let id = server.sm_id().expect("enabled").to_string();
    (server, id)
}

fn features_of(out: &str) -> &str {
    &out[out.find("<stream:features>").expect(out)..]
}

#[test]
fn sm_is_offered_after_authentication_only() {
    let mut server = after_tls(ServerProfile::stream_management());
    let before = write(&mut server, &header(None));
    assert!(!before.contains("urn:xmpp:sm:3"), "{before}");
    let (_, after) = authenticated(ServerProfile::stream_management());
    assert_eq!(
        features_of(&after),
        "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
         <sm xmlns='urn:xmpp:sm:3'/><ver xmlns='urn:xmpp:features:rosterver'/>\
         <session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>\
         </stream:features>"
    );
    let (_, plain) = authenticated(ServerProfile::prosody_like());
    assert!(!plain.contains("urn:xmpp:sm:3"), "off by default: {plain}");
}

/// XEP-0198 section 5's `<enabled/>` with an SM-ID, `resume`, `max` and `location`; the
/// session is in the profile's store, with the bound JID.
#[test]
fn enable_with_resume_is_enabled_with_an_id_max_and_location() {
    let profile = ServerProfile {
        sm_location: Some("[2001:41D0:1:A49b::1]:9222".into()),
        ..ServerProfile::stream_management()
    };
    let mut server = bound(profile);
    let out = write(&mut server, ENABLE);
    let id = server.sm_id().unwrap().to_string();
    assert!(id.starts_with("sm1-") && id.len() > 12, "{id}");
    assert_eq!(
        out,
        format!(
            "<enabled xmlns='urn:xmpp:sm:3' id='{id}' resume='true' max='300' \
             location='[2001:41D0:1:A49b::1]:9222'/>"
        )
    );
    let session = server.sm_session().unwrap();
    assert!(session.resumable);
    assert_eq!(session.jid, "alice@localhost/churchyard");
    assert_eq!((session.handled, session.sent, session.window), (0, 0, 300));
    assert_eq!(session.detached_at, None);
    assert!(server.violations.is_empty(), "{:?}", server.violations);
}

#[test]
fn the_clients_max_is_taken_when_lower_than_the_servers() {
    let mut server = bound(ServerProfile::stream_management());
    let out = write(
        &mut server,
        "<enable xmlns='urn:xmpp:sm:3' resume='1' max='60'/>",
    );
    assert!(out.contains(" max='60'"), "{out}");
    assert_eq!(server.sm_session().unwrap().window, 60);
}

#[test]
fn without_resumption_enabled_carries_no_id() {
    let mut server = bound(ServerProfile::stream_management());
    let out = write(&mut server, "<enable xmlns='urn:xmpp:sm:3'/>");
    assert_eq!(out, "<enabled xmlns='urn:xmpp:sm:3'/>");
    assert!(!server.sm_session().unwrap().resumable);

    let profile = ServerProfile {
        sm_resume: false,
        ..ServerProfile::stream_management()
    };
    let mut server = bound(profile);
    assert_eq!(
        write(&mut server, ENABLE),
        "<enabled xmlns='urn:xmpp:sm:3'/>"
    );
}

/// Section 3: the server SHALL refuse an `<enable/>` before binding, and a second one.
#[test]
fn enable_before_binding_and_a_second_enable_fail_with_unexpected_request() {
    let refused = "<failed xmlns='urn:xmpp:sm:3'><unexpected-request \
        xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>";
    let (mut server, _) = authenticated(ServerProfile::stream_management());
    assert_eq!(write(&mut server, ENABLE), refused);
    assert_eq!(server.sm_id(), None);
    write(&mut server, BIND);
    assert!(write(&mut server, ENABLE).starts_with("<enabled "));
    assert_eq!(write(&mut server, ENABLE), refused);
    assert_eq!(server.violations.len(), 2, "{:?}", server.violations);
    assert_eq!(server.profile.sm_store.sessions.len(), 1);
}

#[test]
fn enable_to_a_server_without_sm_is_an_unsupported_stanza_type() {
    let mut server = bound(ServerProfile::prosody_like());
    let out = write(&mut server, ENABLE);
    assert!(
        out.starts_with("<stream:error><unsupported-stanza-type"),
        "{out}"
    );
}

#[test]
fn the_enable_error_knob_answers_with_failed() {
    let profile = ServerProfile {
        sm_enable_error: Some("internal-server-error".into()),
        ..ServerProfile::stream_management()
    };
    let mut server = bound(profile);
    assert_eq!(
        write(&mut server, ENABLE),
        "<failed xmlns='urn:xmpp:sm:3'><internal-server-error \
         xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>"
    );
    assert_eq!(server.sm_id(), None);
    assert!(server.profile.sm_store.sessions.is_empty());
}

/// Section 4's annotated example: the client's message follows `<enable/>` before
/// `<enabled/>` came back, and counts; the `<r/>` is answered with `h='1'`.
#[test]
fn a_stanza_right_after_enable_counts_before_enabled_is_seen() {
    let mut server = bound(ServerProfile::stream_management());
    let out = write(
        &mut server,
        &["<enable xmlns='urn:xmpp:sm:3'/>", &message("m1")].concat(),
    );
    assert_eq!(out, "<enabled xmlns='urn:xmpp:sm:3'/>");
    assert_eq!(write(&mut server, R), server_a(1));
}

/// Section 8.1, the basic acking scenario: both counts move one stanza at a time; the
/// bind before `<enable/>` and the nonzas do not count.
#[test]
fn the_basic_acking_scenario_counts_both_ways() {
    let (mut server, _) = enabled(ServerProfile::stream_management());
    let out = write(&mut server, &[ROSTER_GET, R].concat());
    assert!(
        out.starts_with("<iq type='result' id='ls72g593'><query"),
        "{out}"
    );
    assert!(out.ends_with(&server_a(1)), "{out}");
    assert_eq!(server.sm_session().unwrap().sent, 1);
    assert_eq!(server.sm_session().unwrap().unacked.len(), 1);

    let out = write(&mut server, &[a(1).as_str(), "<presence/>", R].concat());
    assert_eq!(out, server_a(2));
    assert!(server.sm_session().unwrap().unacked.is_empty());

    let out = write(&mut server, &[a(1), message("m1"), R.to_string()].concat());
    assert_eq!(out, server_a(3));
    let session = server.sm_session().unwrap();
    assert_eq!((session.handled, session.sent, session.acked), (3, 1, 1));
    let logged = &server.profile.sm_store.from_client;
    let names: Vec<&str> = logged.iter().map(|(_, e)| e.name()).collect();
    assert_eq!(names, ["iq", "iq", "presence", "message"], "the bind too");
    assert_eq!(logged[0].0, None, "the bind came before <enable/>");
    assert_eq!(logged[1].0.as_deref(), server.sm_id());
    assert_eq!(
        session.presence.as_ref().map(|p| p.name()),
        Some("presence")
    );
}

#[test]
fn an_ack_drops_the_stanzas_it_acknowledges() {
    let (mut server, _) = enabled(ServerProfile::stream_management());
    for n in 1..=3 {
        server.send_stanza(format!("<message id='s{n}' from='bob@localhost/x'/>"));
    }
    write(&mut server, &a(2));
    let session = server.sm_session().unwrap();
    assert_eq!(session.acked, 2);
    assert_eq!(
        Vec::from(session.unacked.clone()),
        [(3, "<message id='s3' from='bob@localhost/x'/>".to_string())]
    );
    assert!(server.violations.is_empty());
}

/// Section 6: an `h` above what was sent ends the stream, and the session with it.
#[test]
fn an_ack_above_the_send_count_is_handled_count_too_high() {
    let (mut server, id) = enabled(ServerProfile::stream_management());
    server.send_stanza("<message id='s1'/>");
    server.take_output();
    let out = write(&mut server, &a(10));
    assert_eq!(
        out,
        "<stream:error><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         <handled-count-too-high xmlns='urn:xmpp:sm:3' h='10' send-count='1'/>\
         <text xml:lang='en' xmlns='urn:ietf:params:xml:ns:xmpp-streams'>You acknowledged \
         10 stanzas, but I only sent you 1 so far.</text></stream:error></stream:stream>"
    );
    assert_eq!(server.stream_error.as_deref(), Some("undefined-condition"));
    assert!(server.profile.sm_store.get(&id).is_none());
}

/// Both counters run from 2^32 - 2 (a knob): three stanzas each way wrap them to 1.
#[test]
fn the_counters_wrap_at_2_to_the_32() {
    let profile = ServerProfile {
        sm_counter_start: u32::MAX - 1,
        ..ServerProfile::stream_management()
    };
    let (mut server, _) = enabled(profile);
    let three = [message("m1"), message("m2"), message("m3")].concat();
    assert_eq!(
        write(&mut server, &[three.as_str(), R].concat()),
        server_a(1)
    );
    for n in 1..=3 {
        server.send_stanza(format!("<message id='s{n}'/>"));
    }
    server.take_output();
    let session = server.sm_session().unwrap();
    let numbers: Vec<u32> = session.unacked.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [u32::MAX, 0, 1]);
    write(&mut server, &a(0));
    assert_eq!(server.sm_session().unwrap().unacked.len(), 1);
    write(&mut server, &a(1));
    assert!(server.sm_session().unwrap().unacked.is_empty());
    let out = write(&mut server, &a(2));
    assert!(
        out.contains("<handled-count-too-high xmlns='urn:xmpp:sm:3' h='2' send-count='1'/>"),
        "{out}"
    );
}

#[test]
fn the_server_asks_for_an_ack_every_n_stanzas() {
    let profile = ServerProfile {
        sm_ack_every: Some(2),
        ..ServerProfile::stream_management()
    };
    let (mut server, _) = enabled(profile);
    server.send_stanza("<message id='s1'/>");
    server.send_stanza("<message id='s2'/>");
    server.send_stanza("<message id='s3'/>");
    assert_eq!(
        String::from_utf8(server.take_output()).unwrap(),
        format!("<message id='s1'/><message id='s2'/>{R}<message id='s3'/>")
    );
}

/// A late server holds its `<a/>` until released, then counts what came meanwhile; a
/// hung one never answers.
#[test]
fn r_is_answered_late_or_never_as_the_profile_says() {
    let late = ServerProfile {
        sm_r_reply: Reply::Held,
        ..ServerProfile::stream_management()
    };
    let (mut server, _) = enabled(late);
    assert_eq!(
        write(&mut server, &[message("m1").as_str(), R].concat()),
        ""
    );
    assert_eq!(write(&mut server, &message("m2")), "");
    server.release_held();
    assert_eq!(
        String::from_utf8(server.take_output()).unwrap(),
        server_a(2)
    );

    let hung = ServerProfile {
        sm_r_reply: Reply::Never,
        ..ServerProfile::stream_management()
    };
    let (mut server, _) = enabled(hung);
    assert_eq!(write(&mut server, R), "");
    server.release_held();
    assert!(server.take_output().is_empty());
}

#[test]
fn a_lying_server_acknowledges_more_than_it_was_sent() {
    let profile = ServerProfile {
        sm_h_too_high: Some(5),
        ..ServerProfile::stream_management()
    };
    let (mut server, _) = enabled(profile);
    assert_eq!(
        write(&mut server, &[message("m1").as_str(), R].concat()),
        server_a(6)
    );
}

#[test]
fn r_and_a_before_enable_are_ignored_and_noted() {
    let mut server = bound(ServerProfile::stream_management());
    assert_eq!(write(&mut server, &[R, &a(0)].concat()), "");
    assert_eq!(server.violations.len(), 2, "{:?}", server.violations);
}

/// XEP-0199 pings to the server: answered, held, or never, as the profile says; one for
/// another entity is not the server's to answer.
#[test]
fn pings_to_the_server_are_answered_as_the_profile_says() {
    let ping = |id: &str, to: &str| {
        format!("<iq type='get' id='{id}'{to}><ping xmlns='urn:xmpp:ping'/></iq>")
    };
    let mut server = bound(ServerProfile::prosody_like());
    assert_eq!(
        write(&mut server, &ping("p1", "")),
        "<iq type='result' id='p1' from='localhost'/>"
    );
    assert_eq!(
        write(&mut server, &ping("p2", " to='localhost'")),
        "<iq type='result' id='p2' from='localhost'/>"
    );
    assert_eq!(write(&mut server, &ping("p3", " to='bob@localhost'")), "");

    let held = ServerProfile {
        ping_reply: Reply::Held,
        ..ServerProfile::stream_management()
    };
    let (mut server, _) = enabled(held);
    assert_eq!(write(&mut server, &ping("p4", "")), "");
    server.release_held();
    assert_eq!(
        String::from_utf8(server.take_output()).unwrap(),
        "<iq type='result' id='p4' from='localhost'/>"
    );
    assert_eq!(server.sm_session().unwrap().sent, 1, "the result counts");

    let never = ServerProfile {
        ping_reply: Reply::Never,
        ..ServerProfile::prosody_like()
    };
    let mut server = bound(never);
    assert_eq!(write(&mut server, &ping("p5", "")), "");
}

/// Section 7: `</stream:stream>` ends the session; it cannot be resumed.
#[test]
fn a_clean_close_ends_the_session() {
    let (mut server, id) = enabled(ServerProfile::stream_management());
    write(&mut server, "</stream:stream>");
    assert!(server.profile.sm_store.get(&id).is_none());
    assert_eq!(server.sm_id(), None);
}
