//! A session with stream management that ends for good (no resumption to follow) reports
//! what the server had not acknowledged, as `StanzasLost`, before `Disconnected`; a clean
//! close reports nothing (the server read everything before our close) and leaves nothing
//! to resume.

mod sm_common;

use herald_core::{DisconnectReason, Event, Timeouts};
use herald_testkit::{Pair, Reply, ServerProfile};
use sm_common::{lost, online, send_messages};

/// Online with SM from `profile`, the login acknowledged, then `m1` and `m2` sent and not
/// acknowledged.
fn with_unacked(profile: ServerProfile) -> Pair {
    let mut pair = online(profile);
    pair.advance(Timeouts::default().ack_delay);
    pair.take_events();
    pair.server.profile.sm_r_reply = Reply::Never;
    send_messages(&mut pair, &["m1", "m2"]);
    pair.drive();
    pair
}

fn assert_reported_before_the_end(pair: &Pair) {
    assert_eq!(
        lost(&pair.events),
        [(2, vec!["m1".to_string(), "m2".to_string()])],
        "{:#?}",
        pair.events
    );
    let at = pair
        .events
        .iter()
        .position(|e| matches!(e, Event::StanzasLost { .. }))
        .unwrap();
    assert!(matches!(
        pair.events[at + 1..],
        [Event::Disconnected { .. }]
    ));
    assert!(pair.client().resumption().is_none());
}

#[test]
fn a_stream_error_while_online_reports_the_unacknowledged() {
    let mut pair = with_unacked(ServerProfile::stream_management());
    pair.server_says(
        "<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
         </stream:error>",
    );
    assert!(matches!(pair.ended(), DisconnectReason::StreamError { .. }));
    assert_reported_before_the_end(&pair);
}

/// The server enabled SM without resumption: a cut cannot be repaired, so it is reported.
#[test]
fn a_cut_without_resumption_reports_the_unacknowledged() {
    let profile = ServerProfile {
        sm_resume: false,
        ..ServerProfile::stream_management()
    };
    let mut pair = with_unacked(profile);
    assert!(!pair.server.sm_session().unwrap().resumable);
    pair.cut().drive();
    assert_eq!(pair.ended(), DisconnectReason::Eof);
    assert_reported_before_the_end(&pair);
}

/// With resumption a cut reports nothing: the next connection resends.
#[test]
fn a_cut_with_resumption_reports_nothing() {
    let mut pair = with_unacked(ServerProfile::stream_management());
    pair.cut().drive();
    assert_eq!(lost(&pair.events), []);
    assert_eq!(pair.client().resumption().unwrap().unacknowledged(), 2);
}

#[test]
fn a_clean_close_reports_nothing_and_leaves_nothing() {
    let mut pair = with_unacked(ServerProfile::stream_management());
    pair.command(|c, now| c.close(now)).unwrap();
    pair.drive();
    assert_eq!(pair.ended(), DisconnectReason::LocalClose);
    assert_eq!(lost(&pair.events), []);
    assert!(pair.client().resumption().is_none());
}
