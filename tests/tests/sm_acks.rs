//! Counting and acknowledgements (XEP-0198 sections 4 and 6): both ways, `<r/>` answered
//! with the client's `h`, an `<r/>` of our own after five unacknowledged stanzas or once a
//! burst has waited `ack_delay`, the unacknowledged stanzas bounded by
//! `Limits::max_unacked_stanzas` (the oldest reported lost, never silent growth), and an
//! `<a h/>` acknowledging more than was sent answered with the stream error the XEP names.

mod sm_common;

use std::time::Duration;

use herald_core::{DisconnectReason, Event, PeerMisbehaved, Timeouts};
use herald_testkit::{Pair, Reply, ServerProfile, config_for};
use sm_common::{R, count, from_bob, lost, online_with_sm, send_messages};

/// Online with SM, the login's own stanzas (roster request, presence) acknowledged.
fn settled() -> Pair {
    let mut pair = online_with_sm();
    pair.advance(Timeouts::default().ack_delay);
    pair.take_events();
    pair
}

#[test]
fn the_clients_h_counts_stanzas_not_nonzas_and_answers_r() {
    let mut pair = settled();
    for n in 1..=3 {
        pair.server_sends(&from_bob(&format!("b{n}")));
    }
    // Whitespace and SM elements are not stanzas.
    pair.server_says("  ");
    pair.server.sm_send_ack();
    pair.drive();
    let mark = pair.mark();
    pair.server.sm_request_ack();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<a xmlns='urn:xmpp:sm:3' h='3'/>"
    );
    assert!(
        pair.server.violations.is_empty(),
        "{:?}",
        pair.server.violations
    );
    // And the server, told so, holds nothing for the client.
    assert!(pair.server.sm_session().unwrap().unacked.is_empty());
}

#[test]
fn every_stanza_the_client_sends_is_counted_by_the_server() {
    let mut pair = settled();
    let before = pair.server.sm_session().unwrap().handled;
    send_messages(&mut pair, &["m1", "m2", "m3"]);
    pair.command(|c, now| c.set_status(now, "here")).unwrap();
    pair.drive();
    assert_eq!(pair.server.sm_session().unwrap().handled, before + 4);
    pair.advance(Timeouts::default().ack_delay);
    // The server's answer acknowledged them all: nothing is left to resend.
    pair.cut().drive();
    let resumption = pair.client().resumption().expect("resumable");
    assert_eq!(resumption.unacknowledged(), 0);
}

#[test]
fn five_unacknowledged_stanzas_ask_for_an_ack_at_once() {
    let mut pair = settled();
    let mark = pair.mark();
    send_messages(&mut pair, &["m1", "m2", "m3", "m4"]);
    pair.drive();
    assert_eq!(count(&pair.client_sent_since(mark), R), 0);
    send_messages(&mut pair, &["m5"]);
    let sent = pair.client_sent_since(mark);
    assert_eq!(count(&sent, R), 1, "{sent}");
    assert!(sent.ends_with(R), "the request follows the fifth: {sent}");
    pair.drive();
    pair.cut().drive();
    assert_eq!(pair.client().resumption().unwrap().unacknowledged(), 0);
}

/// Fewer than five: the request waits for `ack_delay` of quiet, so a burst costs one.
#[test]
fn a_short_burst_is_acknowledged_after_ack_delay() {
    let delay = Timeouts::default().ack_delay;
    let mut pair = settled();
    let mark = pair.mark();
    send_messages(&mut pair, &["m1", "m2"]);
    pair.drive();
    pair.advance(delay - Duration::from_millis(1));
    assert_eq!(count(&pair.client_sent_since(mark), R), 0);
    send_messages(&mut pair, &["m3"]);
    pair.advance(Duration::from_millis(1));
    let sent = pair.client_sent_since(mark);
    assert_eq!(count(&sent, R), 1, "{sent}");
    // The request is answered: no further request, however long the quiet.
    pair.advance(delay * 10);
    assert_eq!(count(&pair.client_sent_since(mark), R), 1);
}

#[test]
fn no_request_while_one_is_unanswered() {
    let mut pair = settled();
    pair.server.profile.sm_r_reply = Reply::Held;
    let mark = pair.mark();
    send_messages(&mut pair, &["m1", "m2", "m3", "m4", "m5"]);
    send_messages(&mut pair, &["m6", "m7", "m8", "m9", "m10"]);
    pair.drive();
    pair.advance(Timeouts::default().ack_delay * 3);
    assert_eq!(count(&pair.client_sent_since(mark), R), 1);
    // The answer comes: the five sent since ask again.
    pair.server.release_held();
    pair.drive();
    assert_eq!(count(&pair.client_sent_since(mark), R), 2);
}

/// Past `max_unacked_stanzas` the oldest unacknowledged stanzas are dropped and reported,
/// by id, never kept without bound.
#[test]
fn past_the_bound_the_oldest_are_reported_lost() {
    let profile = ServerProfile::stream_management();
    let mut config = config_for(&profile);
    config.limits.max_unacked_stanzas = 3;
    let mut pair = Pair::new(profile, config);
    pair.connect();
    pair.advance(Timeouts::default().ack_delay);
    assert_eq!(lost(&pair.events), []);
    pair.server.profile.sm_r_reply = Reply::Never;
    send_messages(&mut pair, &["m1", "m2", "m3", "m4", "m5"]);
    pair.drive();
    let reported = lost(&pair.events);
    let total: usize = reported.iter().map(|(n, _)| n).sum();
    let ids: Vec<String> = reported.into_iter().flat_map(|(_, ids)| ids).collect();
    assert_eq!(total, 2);
    assert_eq!(ids, ["m1", "m2"]);
    pair.cut().drive();
    assert_eq!(pair.client().resumption().unwrap().unacknowledged(), 3);
}

/// An `<a h/>` beyond what was sent: `undefined-condition` with
/// `<handled-count-too-high/>` (XEP-0198 section 6), and the session ends for good.
#[test]
fn an_ack_of_more_than_was_sent_is_a_stream_error() {
    // The login's roster request and presence went out with the bind request, before
    // <enable/>: m1 is the first stanza counted.
    let mut pair = settled();
    let mark = pair.mark();
    send_messages(&mut pair, &["m1"]);
    pair.drive();
    pair.take_events();
    pair.server_says("<a xmlns='urn:xmpp:sm:3' h='9'/>");
    let sent = pair.client_sent_since(mark);
    assert!(
        sent.contains(
            "<stream:error><undefined-condition xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
             <handled-count-too-high xmlns='urn:xmpp:sm:3' h='9' send-count='1'/>"
        ),
        "{sent}"
    );
    assert!(sent.ends_with("</stream:stream>"), "{sent}");
    assert_eq!(
        pair.ended(),
        DisconnectReason::PeerMisbehaved(PeerMisbehaved::HandledCountTooHigh { h: 9, sent: 1 })
    );
    assert!(pair.client().resumption().is_none());
    assert!(pair.transport_closed());
}

/// The server's own lie, from its profile: every `<a/>` claims five more.
#[test]
fn a_server_claiming_too_much_in_its_answer_ends_the_session() {
    let mut pair = settled();
    pair.server.profile.sm_h_too_high = Some(5);
    send_messages(&mut pair, &["m1", "m2", "m3", "m4", "m5"]);
    pair.drive();
    assert!(matches!(
        pair.ended(),
        DisconnectReason::PeerMisbehaved(PeerMisbehaved::HandledCountTooHigh { .. })
    ));
    assert_eq!(
        sm_common::events_matching(&pair.events, |e| matches!(e, Event::Disconnected { .. })),
        1
    );
}
