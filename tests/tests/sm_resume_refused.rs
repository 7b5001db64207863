//! Resumption refused (XEP-0198 section 5, `<failed/>`), too late (the server's window
//! passed), or no longer offered: a fresh session binds, restores presence and status, and
//! `StanzasLost` lists the stanzas that may not have arrived (what the server's `h` in
//! `<failed/>` says it had is not among them). And a session that ends before its
//! resumption was settled, for another reason than a cut, reports them too.

mod sm_common;

use std::time::Duration;

use herald_core::{DisconnectReason, Event, Presence, SessionState, Timeouts};
use herald_testkit::{Pair, Reply, ScramTamper};
use sm_common::{
    count, events_matching, from_bob, lost, next_config, online_with_sm, resumed, send_messages,
};

/// Online with SM as away with a status; `m1` reached the server, `m2` did not; nothing
/// acknowledged since the login; then a cut the client knows of.
fn cut_with_traffic() -> Pair {
    let mut pair = online_with_sm();
    pair.command(|c, now| c.change_presence(now, Presence::Away, "lunch"))
        .unwrap();
    pair.drive();
    pair.advance(Timeouts::default().ack_delay);
    pair.server.profile.sm_r_reply = Reply::Never;
    pair.server_sends(&from_bob("b0"));
    send_messages(&mut pair, &["m1"]);
    pair.drive();
    pair.cut_silently();
    send_messages(&mut pair, &["m2"]);
    pair.eof().drive();
    assert_eq!(pair.client().resumption().unwrap().unacknowledged(), 2);
    pair.take_events();
    pair
}

/// A fresh session after the refusal: bound, SM enabled anew, the presence restored once.
fn assert_fresh_session(next: &Pair, old_id: &str) {
    sm_common::assert_online(next);
    assert_eq!(resumed(&next.events), Vec::<usize>::new());
    let sent = next.client_sent_since(0);
    assert_eq!(count(&sent, "<resume "), 1, "{sent}");
    assert_eq!(count(&sent, "<bind "), 1, "{sent}");
    assert_eq!(count(&sent, "<enable "), 1, "{sent}");
    assert!(sent.find("<bind ").unwrap() > sent.find("<resume ").unwrap());
    let fresh = next.server.sm_id().expect("SM enabled afresh");
    assert_ne!(fresh, old_id);
    assert_eq!(count(&sent, "<presence"), 1, "{sent}");
    let presence = &sent[sent.find("<presence").unwrap()..];
    assert!(presence.contains("<show>away</show>"), "{presence}");
    assert!(presence.contains("<status>lunch</status>"), "{presence}");
    assert_eq!(
        events_matching(&next.events, |e| matches!(
            e,
            Event::PresenceSent {
                presence: Presence::Away,
                ..
            }
        )),
        1
    );
    assert_eq!(next.client().presence(), Presence::Away);
    assert!(
        next.server.violations.is_empty(),
        "{:?}",
        next.server.violations
    );
}

#[test]
fn a_refused_resume_starts_fresh_and_reports_what_the_server_lacked() {
    let mut pair = cut_with_traffic();
    let old = pair.server.profile.sm_store.latest().unwrap().id.clone();
    let mut config = next_config(&pair);
    assert!(config.resumption.is_some());
    config.presence = pair.client().presence();
    let mut next = pair.reconnect_with(config);
    next.server.profile.sm_refuse_resume = true;
    next.connect();
    assert_fresh_session(&next, &old);
    // The failed's h said m1 arrived: only m2 may be lost.
    assert_eq!(lost(&next.events), [(1, vec!["m2".to_string()])]);
    // Not resent: the application decides.
    assert!(
        next.server
            .profile
            .sm_store
            .from_client_with_id("m2")
            .is_empty()
    );
}

#[test]
fn a_resume_after_the_window_starts_fresh_and_reports_the_loss() {
    let mut pair = cut_with_traffic();
    let old = pair.server.profile.sm_store.latest().unwrap().id.clone();
    let window = pair.server.profile.sm_store.get(&old).unwrap().window;
    let config = next_config(&pair);
    let mut next = pair.reconnect_after(Duration::from_secs(window + 1), config);
    next.connect();
    assert_fresh_session(&next, &old);
    assert_eq!(lost(&next.events), [(1, vec!["m2".to_string()])]);
}

/// Just within the window it still resumes.
#[test]
fn a_resume_within_the_window_resumes() {
    let mut pair = cut_with_traffic();
    let window = pair.server.profile.sm_store.latest().unwrap().window;
    let config = next_config(&pair);
    let mut next = pair.reconnect_after(Duration::from_secs(window - 1), config);
    next.connect();
    sm_common::assert_online(&next);
    assert_eq!(resumed(&next.events), [1]);
}

/// The server stopped offering stream management: nothing says what it had, so everything
/// unacknowledged is reported, and no `<resume/>` is sent where it is not offered.
#[test]
fn a_server_without_sm_any_more_gets_a_fresh_login_and_all_is_reported() {
    let mut pair = cut_with_traffic();
    let mut config = next_config(&pair);
    // Without the cache the features decide: they no longer offer SM.
    config.feature_cache = None;
    let mut next = pair.reconnect_with(config);
    next.server.profile.sm = false;
    next.connect();
    sm_common::assert_online(&next);
    let sent = next.client_sent_since(0);
    assert_eq!(count(&sent, "urn:xmpp:sm:3"), 0, "{sent}");
    assert_eq!(
        lost(&next.events),
        [(2, vec!["m1".to_string(), "m2".to_string()])]
    );
    assert_eq!(resumed(&next.events), Vec::<usize>::new());
}

/// The login with a session to resume fails for good (a server that lies in SCRAM): the
/// stanzas it held are reported, not dropped in silence, and nothing is left to resume.
#[test]
fn a_login_that_fails_before_resuming_reports_the_stanzas() {
    let mut pair = cut_with_traffic();
    let mut config = next_config(&pair);
    // No cached keys: the server's lie must show in SCRAM.
    config.scram_cache = Default::default();
    let mut next = pair.reconnect_with(config);
    next.server.profile.scram_tamper = ScramTamper::WrongSignature;
    next.connect();
    assert!(
        matches!(next.ended(), DisconnectReason::Scram { .. }),
        "{:?}",
        next.ended()
    );
    assert_eq!(
        lost(&next.events),
        [(2, vec!["m1".to_string(), "m2".to_string()])]
    );
    assert!(next.client().resumption().is_none());
    // The report comes before the end.
    assert!(matches!(
        next.events.last(),
        Some(Event::Disconnected { .. })
    ));
}

/// A stream error during the login with a session to resume: reported as well.
#[test]
fn a_stream_error_before_resuming_reports_the_stanzas() {
    let mut pair = cut_with_traffic();
    let mut next = pair.reconnect_with(next_config(&pair));
    next.start();
    assert!(next.step_until(|c| matches!(c.state(), SessionState::Authenticating { .. })));
    // Instead of its <success/>, the server shuts down.
    let success = next.server.take_output();
    assert!(String::from_utf8_lossy(&success).starts_with("<success "));
    next.server_says(
        "<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         </stream:error>",
    );
    assert!(
        matches!(next.ended(), DisconnectReason::StreamError { .. }),
        "{:?}",
        next.ended()
    );
    assert_eq!(lost(&next.events).len(), 1);
    assert_eq!(lost(&next.events)[0].0, 2);
}
