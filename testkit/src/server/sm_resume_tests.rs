//! Stream management across connections, against the server alone: a connection is lost
//! (no close either way), the profile and its sessions go to a new server, and the client
//! (by hand) resumes, as XEP-0198 section 5 has it.

use super::ScriptedServer;
use super::sm_tests::{BIND, ENABLE, R, ROSTER_GET, a, authenticated, enabled, message, server_a};
use super::test_client::write;
use crate::profile::{CLOCK_START, ServerProfile};

fn resume(previd: &str, h: u32) -> String {
    format!("<resume xmlns='urn:xmpp:sm:3' h='{h}' previd='{previd}'/>")
}

fn resumed(previd: &str, h: u32) -> String {
    format!("<resumed xmlns='urn:xmpp:sm:3' h='{h}' previd='{previd}'/>")
}

fn item_not_found(h: Option<u32>) -> String {
    let h = h.map(|h| format!(" h='{h}'")).unwrap_or_default();
    format!(
        "<failed xmlns='urn:xmpp:sm:3'{h}><item-not-found \
         xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>"
    )
}

/// The connection is lost; the profile, with its sessions, as the next connection finds it.
fn cut(mut server: ScriptedServer) -> ServerProfile {
    server.connection_lost();
    server.profile
}

/// A first connection: SM on with resumption, the client's presence, `m1` and `m2` handled,
/// three stanzas to the client of which it acknowledged the first; then a cut. The SM-ID and
/// the profile after the cut.
fn first_connection(profile: ServerProfile) -> (String, ServerProfile) {
    let (mut server, id) = enabled(profile);
    write(&mut server, "<presence><show>away</show></presence>");
    write(&mut server, &[message("m1"), message("m2")].concat());
    for n in 1..=3 {
        server.send_stanza(format!("<message id='s{n}' from='bob@localhost/x'/>"));
    }
    assert_eq!(
        write(&mut server, &a(1)),
        "<message id='s1' from='bob@localhost/x'/>\
        <message id='s2' from='bob@localhost/x'/><message id='s3' from='bob@localhost/x'/>"
    );
    (id, cut(server))
}

/// The whole of section 5: after SASL, `<resume/>` instead of binding; the server says what it
/// handled, resends what the client had not acknowledged (and bob's message from the
/// outage) in order, and the session goes on with its counts, JID and presence.
#[test]
fn a_cut_session_is_resumed_with_what_the_client_missed() {
    let (id, mut profile) = first_connection(ServerProfile::stream_management());
    let session = profile.sm_store.get(&id).unwrap();
    assert_eq!(session.detached_at, Some(CLOCK_START));
    assert_eq!((session.handled, session.sent, session.acked), (3, 3, 1));
    let queued = profile
        .sm_store
        .queue("<message id='bob1' from='bob@localhost/x'><body>back?</body></message>");
    assert_eq!(queued, 4);

    let (mut server, features) = authenticated(profile);
    assert!(
        features.contains("<sm xmlns='urn:xmpp:sm:3'/>"),
        "{features}"
    );
    // The client handled s1 and s2 (its h is 2), s3 was lost with the connection.
    let out = write(&mut server, &resume(&id, 2));
    assert_eq!(
        out,
        format!(
            "{}<message id='s3' from='bob@localhost/x'/>\
             <message id='bob1' from='bob@localhost/x'><body>back?</body></message>",
            resumed(&id, 3)
        )
    );
    assert_eq!(server.sm_resent.len(), 2);
    assert_eq!(server.sm_id(), Some(id.as_str()));
    assert_eq!(server.bound.as_deref(), Some("alice@localhost/churchyard"));
    let session = server.sm_session().unwrap();
    assert_eq!((session.acked, session.resumptions), (2, 1));
    assert_eq!(session.detached_at, None);
    let presence = session.presence.as_ref().unwrap();
    assert_eq!(
        presence.get_child("show", "jabber:client").unwrap().text(),
        "away"
    );

    // No bind, no presence: the roster get is served at once, and the counts go on.
    let out = write(&mut server, &[ROSTER_GET, R].concat());
    assert!(out.starts_with("<iq type='result' id='ls72g593'>"), "{out}");
    assert!(out.ends_with(&server_a(4)), "{out}");
    write(&mut server, &a(5));
    assert!(server.sm_session().unwrap().unacked.is_empty());
    assert!(server.violations.is_empty(), "{:?}", server.violations);
}

/// The server's `h` tells the client what to resend: here the server never got `m2`, the
/// client resends it after `<resumed/>`, and the session counted it exactly once.
#[test]
fn the_client_resends_what_the_servers_h_says_it_lacks_and_it_counts_once() {
    let (mut server, id) = enabled(ServerProfile::stream_management());
    write(&mut server, &message("m1"));
    // m2 was in the client's socket buffer when the link died.
    let profile = cut(server);
    let (mut server, _) = authenticated(profile);
    let out = write(&mut server, &resume(&id, 0));
    assert_eq!(out, resumed(&id, 1));
    write(&mut server, &[message("m2").as_str(), R].concat());
    let store = &server.profile.sm_store;
    assert_eq!(store.from_client_with_id("m1").len(), 1);
    assert_eq!(store.from_client_with_id("m2").len(), 1);
    assert_eq!(server.sm_session().unwrap().handled, 2);

    // A client that resends m1 as well, although h='1' said the server had it, shows.
    write(&mut server, &message("m1"));
    assert_eq!(server.profile.sm_store.from_client_with_id("m1").len(), 2);
}

/// After a refused resume the client binds a fresh session (the `h` in `<failed/>` told it
/// that `m1` arrived, so only `m2` is sent again): the store's log spans both sessions.
#[test]
fn the_log_of_client_stanzas_spans_a_refused_resume_and_the_fresh_session() {
    let (mut server, old) = enabled(ServerProfile::stream_management());
    write(&mut server, &message("m1"));
    let mut profile = cut(server);
    profile.clock += 300;
    let (mut server, _) = authenticated(profile);
    assert_eq!(
        write(&mut server, &resume(&old, 0)),
        item_not_found(Some(1))
    );
    write(&mut server, &[BIND, ENABLE, &message("m2")].concat());
    let fresh = server.sm_id().unwrap();
    assert_ne!(fresh, old);
    let store = &server.profile.sm_store;
    let messages: Vec<(Option<&str>, Option<&str>)> = store
        .from_client
        .iter()
        .filter(|(_, el)| el.name() == "message")
        .map(|(sm, el)| (sm.as_deref(), el.attr("id")))
        .collect();
    assert_eq!(
        messages,
        [(Some(old.as_str()), Some("m1")), (Some(fresh), Some("m2"))]
    );
}

/// What the server sends while the connection is down is queued in the cut session, as
/// [`SmStore::queue`](crate::SmStore::queue) does.
#[test]
fn stanzas_sent_after_the_cut_wait_for_the_resume() {
    let (mut server, id) = enabled(ServerProfile::stream_management());
    server.connection_lost();
    server.send_stanza("<message id='late' from='bob@localhost/x'/>");
    assert!(server.take_output().is_empty());
    let (mut next, _) = authenticated(server.profile);
    let out = write(&mut next, &resume(&id, 0));
    assert!(
        out.ends_with("<message id='late' from='bob@localhost/x'/>"),
        "{out}"
    );
}

#[test]
fn a_bind_after_resumed_is_refused_and_noted() {
    let (id, profile) = first_connection(ServerProfile::stream_management());
    let (mut server, _) = authenticated(profile);
    write(&mut server, &resume(&id, 3));
    let out = write(&mut server, BIND);
    assert_eq!(
        out,
        "<iq type='error' id='b1'><error type='cancel'><not-allowed \
         xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    );
    assert_eq!(server.violations, ["a bind after <resumed/>"]);
    assert_eq!(server.bound.as_deref(), Some("alice@localhost/churchyard"));
}

/// An unknown SM-ID fails without `h`; binding is still allowed on the stream, and a new
/// session can be enabled.
#[test]
fn an_unknown_session_fails_with_item_not_found_and_the_client_binds() {
    let (mut server, _) = authenticated(ServerProfile::stream_management());
    assert_eq!(
        write(&mut server, &resume("sm9-nothing", 0)),
        item_not_found(None)
    );
    assert!(write(&mut server, BIND).contains("<jid>"));
    assert!(
        write(&mut server, "<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
            .starts_with("<enabled ")
    );
    assert!(server.violations.is_empty(), "{:?}", server.violations);
}

/// The window is counted on the profile's clock from the cut: one second short of it the
/// session resumes, at it the session is gone, and `<failed/>` says what the server had.
#[test]
fn past_the_window_resumption_fails_with_the_servers_h() {
    let (id, profile) = first_connection(ServerProfile::stream_management());
    let just_in_time = ServerProfile {
        clock: CLOCK_START + 299,
        ..profile.clone()
    };
    let (mut server, _) = authenticated(just_in_time);
    assert!(write(&mut server, &resume(&id, 3)).starts_with(&resumed(&id, 3)));

    let too_late = ServerProfile {
        clock: CLOCK_START + 300,
        ..profile
    };
    let (mut server, _) = authenticated(too_late);
    assert_eq!(write(&mut server, &resume(&id, 3)), item_not_found(Some(3)));
    assert!(server.profile.sm_store.get(&id).is_none());
    assert_eq!(server.profile.sm_store.ended.get(&id), Some(&3));
    // The client binds a fresh session on the same stream.
    assert!(write(&mut server, BIND).contains("<jid>"));
    let (mut again, _) = authenticated(server.profile);
    assert_eq!(write(&mut again, &resume(&id, 3)), item_not_found(Some(3)));
}

#[test]
fn the_refusal_knob_fails_a_resumption_as_if_it_timed_out() {
    let (id, profile) = first_connection(ServerProfile::stream_management());
    let refusing = ServerProfile {
        sm_refuse_resume: true,
        ..profile
    };
    let (mut server, _) = authenticated(refusing);
    assert_eq!(write(&mut server, &resume(&id, 3)), item_not_found(Some(3)));
    assert!(server.profile.sm_store.sessions.is_empty());
}

#[test]
fn without_resumption_resume_is_feature_not_implemented() {
    let (id, profile) = first_connection(ServerProfile::stream_management());
    let no_resume = ServerProfile {
        sm_resume: false,
        ..profile
    };
    let (mut server, _) = authenticated(no_resume);
    assert_eq!(
        write(&mut server, &resume(&id, 3)),
        "<failed xmlns='urn:xmpp:sm:3'><feature-not-implemented \
         xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>"
    );
}

/// A session enabled without `resume='true'`, or closed cleanly, is gone after the
/// connection.
#[test]
fn a_session_not_resumable_or_closed_cleanly_is_not_kept() {
    let mut server = super::sm_tests::bound(ServerProfile::stream_management());
    write(&mut server, "<enable xmlns='urn:xmpp:sm:3'/>");
    let id = server.sm_id().unwrap().to_string();
    let profile = cut(server);
    assert!(profile.sm_store.sessions.is_empty(), "not resumable");
    let (mut next, _) = authenticated(profile);
    assert_eq!(write(&mut next, &resume(&id, 0)), item_not_found(None));

    let (mut server, id) = enabled(ServerProfile::stream_management());
    write(&mut server, "</stream:stream>");
    let (mut next, _) = authenticated(server.profile);
    assert_eq!(write(&mut next, &resume(&id, 0)), item_not_found(None));
}

/// XEP-0198's security consideration: no resumption before authentication; nor on a
/// stream that bound a resource already.
#[test]
fn resume_before_authentication_or_after_binding_is_refused() {
    let unexpected = "<failed xmlns='urn:xmpp:sm:3'><unexpected-request \
        xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>";
    let (id, profile) = first_connection(ServerProfile::stream_management());
    let mut server = super::test_client::after_tls(profile.clone());
    write(&mut server, &super::test_client::header(None));
    assert_eq!(write(&mut server, &resume(&id, 3)), unexpected);
    assert_eq!(server.violations.len(), 1);

    let mut server = super::sm_tests::bound(profile);
    assert_eq!(write(&mut server, &resume(&id, 3)), unexpected);
    assert!(
        server
            .profile
            .sm_store
            .get(&id)
            .unwrap()
            .detached_at
            .is_some()
    );
}

/// The client's `h` on `<resume/>` is an `<a/>`: one above the send count ends the stream.
#[test]
fn a_resume_acknowledging_more_than_was_sent_ends_the_stream() {
    let (id, profile) = first_connection(ServerProfile::stream_management());
    let (mut server, _) = authenticated(profile);
    let out = write(&mut server, &resume(&id, 7));
    assert!(
        out.contains("<handled-count-too-high xmlns='urn:xmpp:sm:3' h='7' send-count='3'/>"),
        "{out}"
    );
    assert_eq!(server.stream_error.as_deref(), Some("undefined-condition"));
}

#[test]
fn a_resume_without_h_is_a_bad_request() {
    let (id, profile) = first_connection(ServerProfile::stream_management());
    let (mut server, _) = authenticated(profile);
    let out = write(
        &mut server,
        &format!("<resume xmlns='urn:xmpp:sm:3' previd='{id}'/>"),
    );
    assert!(out.contains("<bad-request "), "{out}");
    assert_eq!(server.violations.len(), 1);
}
