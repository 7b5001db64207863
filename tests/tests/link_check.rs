//! The dead-link check: after `link_check` with nothing from the server the client asks for
//! something back (`<r/>` with stream management, an XEP-0199 ping without); with no answer
//! within `link_answer` the link is dead (`DisconnectReason::LinkDead`), and with SM the
//! session is left to resume. All on the virtual clock.

mod sm_common;

use std::time::Duration;

use herald_core::{DisconnectReason, Timeouts};
use herald_testkit::{Pair, Reply, ServerProfile};
use sm_common::{R, count, online, online_with_sm};

const PING: &str = "<ping xmlns='urn:xmpp:ping'/>";

fn check() -> Duration {
    Timeouts::default().link_check.expect("on by default")
}

fn answer() -> Duration {
    Timeouts::default().link_answer
}

/// Online with SM, the login's acknowledgements done: the silence starts now.
fn quiet_with_sm() -> Pair {
    let mut pair = online_with_sm();
    pair.advance(Timeouts::default().ack_delay);
    pair.server_says(" ");
    pair
}

#[test]
fn silence_asks_for_an_ack_and_an_answer_keeps_the_session() {
    let mut pair = quiet_with_sm();
    let mark = pair.mark();
    pair.advance(check() - Duration::from_secs(2));
    assert_eq!(count(&pair.client_sent_since(mark), R), 0);
    pair.advance(Duration::from_secs(2));
    let sent = pair.client_sent_since(mark);
    assert_eq!(count(&sent, R), 1, "{sent}");
    assert_eq!(count(&sent, PING), 0, "{sent}");
    // Answered at once: long past the deadline, still online.
    pair.advance(answer() * 2);
    sm_common::assert_online(&pair);
}

#[test]
fn any_byte_from_the_server_postpones_the_check() {
    let mut pair = quiet_with_sm();
    let mark = pair.mark();
    pair.advance(check() - Duration::from_secs(1));
    pair.server_says(" ");
    pair.advance(Duration::from_secs(30));
    assert_eq!(count(&pair.client_sent_since(mark), R), 0);
    pair.advance(check() - Duration::from_secs(30));
    assert_eq!(count(&pair.client_sent_since(mark), R), 1);
}

#[test]
fn an_unanswered_check_declares_the_link_dead_and_leaves_a_resumption() {
    let mut pair = quiet_with_sm();
    pair.server.profile.sm_r_reply = Reply::Never;
    pair.advance(check());
    pair.advance(answer() - Duration::from_millis(1));
    sm_common::assert_online(&pair);
    pair.advance(Duration::from_millis(1));
    assert_eq!(pair.ended(), DisconnectReason::LinkDead);
    assert!(pair.transport_closed());
    assert!(pair.client().resumption().is_some());
}

/// A slow answer within the deadline is an answer.
#[test]
fn a_late_answer_within_the_deadline_keeps_the_session() {
    let mut pair = quiet_with_sm();
    pair.server.profile.sm_r_reply = Reply::Held;
    pair.advance(check());
    pair.advance(answer() - Duration::from_secs(1));
    pair.server.release_held();
    pair.drive();
    pair.advance(Duration::from_secs(2));
    sm_common::assert_online(&pair);
}

/// The link dies without a word: the client's check goes nowhere, and the deadline finds
/// it in `link_check + link_answer`.
#[test]
fn a_silent_cut_is_found_in_bounded_time() {
    let mut pair = quiet_with_sm();
    let start = pair.now;
    pair.cut_silently();
    for _ in 0..10 {
        if pair.client().is_closed() || !pair.fire_next_timeout() {
            break;
        }
    }
    assert_eq!(pair.ended(), DisconnectReason::LinkDead);
    assert!(
        pair.now - start <= check() + answer(),
        "{:?}",
        pair.now - start
    );
    assert!(pair.client().resumption().is_some());
}

#[test]
fn without_sm_the_check_is_a_ping() {
    let mut pair = online(ServerProfile::prosody_like());
    let mark = pair.mark();
    pair.advance(check());
    let sent = pair.client_sent_since(mark);
    assert_eq!(count(&sent, PING), 1, "{sent}");
    assert_eq!(count(&sent, "urn:xmpp:sm:3"), 0, "{sent}");
    pair.advance(answer() * 2);
    sm_common::assert_online(&pair);
}

#[test]
fn without_sm_an_unanswered_ping_declares_the_link_dead() {
    let profile = ServerProfile {
        ping_reply: Reply::Never,
        ..ServerProfile::prosody_like()
    };
    let mut pair = online(profile);
    pair.advance(check());
    pair.advance(answer() - Duration::from_millis(1));
    sm_common::assert_online(&pair);
    pair.advance(Duration::from_millis(1));
    assert_eq!(pair.ended(), DisconnectReason::LinkDead);
    assert!(pair.client().resumption().is_none());
}

#[test]
fn no_check_when_link_check_is_off() {
    let profile = ServerProfile::stream_management();
    let mut config = herald_testkit::config_for(&profile);
    config.timeouts.link_check = None;
    let mut pair = Pair::new(profile, config);
    pair.connect();
    pair.server.profile.sm_r_reply = Reply::Never;
    pair.advance(Timeouts::default().ack_delay);
    let mark = pair.mark();
    pair.advance(check() * 10);
    assert_eq!(count(&pair.client_sent_since(mark), R), 0);
    sm_common::assert_online(&pair);
}
