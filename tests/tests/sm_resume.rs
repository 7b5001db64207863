//! Resumption after a cut (XEP-0198 section 5): the next client, given
//! `Client::resumption()`, sends `<resume previd h/>` with the stream header after
//! authentication; the server's `h` decides what is resent and exactly that is; the session
//! is online again with no bind, no roster request and no initial presence, and a presence
//! changed meanwhile goes out once. Also: the state while resuming, the location hint, and
//! a clean close that leaves nothing to resume.

mod sm_common;

use std::time::Duration;

use herald_core::{DisconnectReason, Event, Presence, SeededEntropy, SessionState, Step, Timeouts};
use herald_io::{ConnectOptions, Next, Supervisor};
use herald_testkit::{Pair, Reply, ServerProfile, config_for};
use sm_common::{
    count, events_matching, from_bob, lost, messages_received, next_config, online_with_sm,
    resumed, send_messages,
};

/// Online with SM; bob's `b0` handled; `m1` reached the server, `m2` did not (the link died
/// under it); bob's `b1` was queued during the cut; neither side acknowledged anything since
/// the login. The pair is cut and the client knows it.
fn cut_with_traffic() -> Pair {
    let mut pair = online_with_sm();
    pair.advance(Timeouts::default().ack_delay);
    pair.server.profile.sm_r_reply = Reply::Never;
    pair.server_sends(&from_bob("b0"));
    send_messages(&mut pair, &["m1"]);
    pair.drive();
    pair.cut_silently();
    send_messages(&mut pair, &["m2"]);
    pair.server.send_stanza(from_bob("b1"));
    pair.eof().drive();
    assert_eq!(pair.ended(), DisconnectReason::Eof);
    let resumption = pair.client().resumption().expect("resumable");
    assert_eq!(resumption.unacknowledged(), 2);
    pair.take_events();
    pair
}

#[test]
fn a_cut_session_resumes_and_exactly_the_missing_stanzas_are_resent() {
    let mut pair = cut_with_traffic();
    let id = pair.server.profile.sm_store.latest().unwrap().id.clone();
    let mut next = pair.reconnect_with(next_config(&pair));
    next.connect();
    sm_common::assert_online(&next);

    let sent = next.client_sent_since(0);
    // The client handled b0 and its presence echo... whatever its h, the server agreed.
    assert_eq!(count(&sent, "<resume xmlns='urn:xmpp:sm:3'"), 1, "{sent}");
    assert!(sent.contains(&format!("previd='{id}'")), "{sent}");
    assert_eq!(count(&sent, "<bind "), 0, "{sent}");
    assert_eq!(count(&sent, "<enable "), 0, "{sent}");
    assert_eq!(count(&sent, "<presence"), 0, "{sent}");
    assert_eq!(count(&sent, "jabber:iq:roster"), 0, "{sent}");
    assert!(next.server.roster_gets.is_empty());

    // The server had m1: only m2 went again, and each arrived once.
    let store = &next.server.profile.sm_store;
    assert_eq!(store.from_client_with_id("m1").len(), 1);
    assert_eq!(store.from_client_with_id("m2").len(), 1);
    assert_eq!(resumed(&next.events), [1]);
    assert_eq!(lost(&next.events), []);
    // Bob's b1 reached the client once, b0 not again.
    assert_eq!(messages_received(&next.events), ["b1"]);
    assert_eq!(
        events_matching(&next.events, |e| matches!(e, Event::Online { .. })),
        1
    );
    assert!(
        !next
            .events
            .iter()
            .any(|e| matches!(e, Event::PresenceSent { .. } | Event::Roster { .. })),
        "{:#?}",
        next.events
    );
    let session = next.server.sm_session().unwrap();
    assert_eq!(session.id, id);
    assert_eq!(session.resumptions, 1);
    assert_eq!(next.server.headers, 3, "STARTTLS, after TLS, after SASL");
    assert!(
        next.server.violations.is_empty(),
        "{:?}",
        next.server.violations
    );
    assert_eq!(
        next.client().bound_jid().map(|j| j.to_string()),
        Some(session.jid.clone())
    );
    assert_eq!(next.client().roster(), pair.client().roster());
    assert_eq!(next.client().roster().items.len(), 1);
}

/// With the features cached, `<resume/>` rides in the same write as the stream header
/// after authentication: resuming costs no round trip of its own.
#[test]
fn resume_is_pipelined_with_the_header_after_authentication() {
    let mut pair = cut_with_traffic();
    let config = next_config(&pair);
    assert!(config.feature_cache.is_some());
    let mut next = pair.reconnect_with(config);
    next.connect();
    let flights = next.flights();
    let flight = flights
        .iter()
        .find(|f| f.from_client && f.bytes.contains("<resume "))
        .expect("a resume");
    assert!(
        flight.bytes.starts_with("<?xml") || flight.bytes.contains("<stream:stream"),
        "{}",
        flight.bytes
    );
    let header = flight.bytes.find("<stream:stream").unwrap();
    assert!(flight.bytes.find("<resume ").unwrap() > header);
    // The resumed session goes on counting: a message and its acknowledgement.
    let mark = next.mark();
    next.server.profile.sm_r_reply = Reply::Prompt;
    send_messages(&mut next, &["m3"]);
    next.advance(Timeouts::default().ack_delay);
    assert_eq!(count(&next.client_sent_since(mark), "<r xmlns"), 1);
    next.cut().drive();
    assert_eq!(next.client().resumption().unwrap().unacknowledged(), 0);
}

/// While the early `<resume/>` waits for its answer the client says it is resuming, and
/// the step timer guarding it is the resumption's.
#[test]
fn the_state_while_resuming_is_resuming() {
    let mut pair = cut_with_traffic();
    let mut next = pair.reconnect_with(next_config(&pair));
    next.start();
    let resuming = next.step_until(|c| c.state() == SessionState::Resuming);
    assert!(resuming, "{:#?}", next.events);
    assert!(
        next.events
            .contains(&Event::StateChanged(SessionState::Resuming))
    );
    assert!(
        !next
            .events
            .contains(&Event::StateChanged(SessionState::Binding)),
        "{:#?}",
        next.events
    );
    next.drive();
    sm_common::assert_online(&next);
}

/// The server never answers the `<resume/>`: the step timer ends the login, naming the
/// resumption, and what was waiting for an acknowledgement is reported, not dropped.
#[test]
fn a_resume_never_answered_times_out_as_the_resumption_step() {
    let mut pair = cut_with_traffic();
    let mut next = pair.reconnect_with(next_config(&pair));
    next.start();
    assert!(next.step_until(|c| c.state() == SessionState::Resuming));
    // The server's answers go nowhere from here.
    next.cut_silently();
    next.advance(Timeouts::default().step);
    assert_eq!(next.ended(), DisconnectReason::Timeout(Step::Resumption));
    let reported = lost(&next.events);
    assert_eq!(reported, [(2, vec!["m1".to_string(), "m2".to_string()])]);
}

/// A presence set on the cut client (it went nowhere) is resent from the unacknowledged
/// stanzas, and not sent a second time as a change.
#[test]
fn a_presence_set_during_a_silent_cut_goes_out_once() {
    let mut pair = online_with_sm();
    pair.advance(Timeouts::default().ack_delay);
    pair.cut_silently();
    pair.command(|c, now| c.change_presence(now, Presence::Away, "on the train"))
        .unwrap();
    pair.eof().drive();
    let mut next = pair.reconnect_with(next_config(&pair));
    next.connect();
    sm_common::assert_online(&next);
    assert_eq!(resumed(&next.events), [1]);
    let away: Vec<_> = next
        .server
        .profile
        .sm_store
        .from_client
        .iter()
        .filter(|(_, p)| p.name() == "presence" && p.attr("to").is_none())
        .filter(|(_, p)| {
            p.get_child("show", "jabber:client")
                .is_some_and(|s| s.text() == "away")
        })
        .collect();
    assert_eq!(away.len(), 1, "{away:?}");
    assert_eq!(next.client().presence(), Presence::Away);
    assert_eq!(next.client().status(), "on the train");
}

/// A presence the application changed between the connections (the client was closed, the
/// next configuration carries it) goes out once, after `<resumed/>`.
#[test]
fn a_presence_changed_between_connections_goes_out_once_after_resumption() {
    let mut pair = cut_with_traffic();
    let mut config = next_config(&pair);
    config.presence = Presence::DoNotDisturb;
    let mut next = pair.reconnect_with(config);
    next.start();
    // And a status set while resuming.
    assert!(next.step_until(|c| c.state() == SessionState::Resuming));
    next.command(|c, now| c.set_status(now, "busy")).unwrap();
    next.drive();
    sm_common::assert_online(&next);
    let sent = next.client_sent_since(0);
    assert_eq!(count(&sent, "<presence"), 1, "{sent}");
    let presence = &sent[sent.find("<presence").unwrap()..];
    assert!(presence.contains("<show>dnd</show>"), "{presence}");
    assert!(presence.contains("<status>busy</status>"), "{presence}");
    assert!(sent.find("<presence").unwrap() > sent.find("<resume ").unwrap());
    assert_eq!(
        events_matching(&next.events, |e| matches!(
            e,
            Event::PresenceSent {
                presence: Presence::DoNotDisturb,
                ..
            }
        )),
        1
    );
}

/// A link found dead by the client's own check resumes just the same.
#[test]
fn a_dead_link_resumes() {
    let mut pair = online_with_sm();
    pair.advance(Timeouts::default().ack_delay);
    pair.cut_silently();
    send_messages(&mut pair, &["m1"]);
    for _ in 0..10 {
        if pair.client().is_closed() || !pair.fire_next_timeout() {
            break;
        }
    }
    assert_eq!(pair.ended(), DisconnectReason::LinkDead);
    let mut next = pair.reconnect_with(next_config(&pair));
    next.connect();
    sm_common::assert_online(&next);
    assert_eq!(resumed(&next.events), [1]);
    assert_eq!(
        next.server.profile.sm_store.from_client_with_id("m1").len(),
        1
    );
}

/// The session resumed can be cut and resumed again, with the counts going on.
#[test]
fn a_resumed_session_resumes_again() {
    let mut pair = cut_with_traffic();
    let mut second = pair.reconnect_with(next_config(&pair));
    second.connect();
    sm_common::assert_online(&second);
    second.server_sends(&from_bob("b2"));
    second.cut_silently();
    send_messages(&mut second, &["m3"]);
    second.eof().drive();
    let mut third = second.reconnect_with(next_config(&second));
    third.connect();
    sm_common::assert_online(&third);
    assert_eq!(third.server.sm_session().unwrap().resumptions, 2);
    let store = &third.server.profile.sm_store;
    for id in ["m1", "m2", "m3"] {
        assert_eq!(store.from_client_with_id(id).len(), 1, "{id}");
    }
    assert!(
        messages_received(&third.events).is_empty(),
        "b2 was handled"
    );
    assert!(
        third.server.violations.is_empty(),
        "{:?}",
        third.server.violations
    );
}

/// The server's `location` hint reaches the resumption, and the supervisor follows it
/// once: the retry after the cut goes there, the next one to the usual targets.
#[test]
fn the_location_hint_is_kept_and_followed_once() {
    let profile = ServerProfile {
        sm_location: Some("[2001:db8::1]:9222".into()),
        ..ServerProfile::stream_management()
    };
    let mut sup = Supervisor::new(
        config_for(&profile),
        &ConnectOptions::default(),
        SeededEntropy::new(7),
    );
    let client = sup.next_client(SeededEntropy::new(42)).unwrap();
    let mut pair = Pair::with_client(profile, client);
    pair.connect();
    sm_common::assert_online(&pair);
    for e in &pair.events {
        sup.observe(e);
    }
    pair.cut().drive();
    let resumption = pair.client().resumption().expect("resumable");
    assert_eq!(resumption.location(), Some("[2001:db8::1]:9222"));
    let Next::Retry(retry) = sup.on_disconnected(&DisconnectReason::Eof, pair.client(), pair.now)
    else {
        panic!("a lost connection is retried");
    };
    assert_eq!(retry.delay, Duration::ZERO);
    let target = retry.target.expect("the hint");
    assert_eq!((target.host.as_str(), target.port), ("2001:db8::1", 9222));
    // That connection breaks before the login got anywhere: the session is still to
    // resume, but the hint is not followed again.
    let client = sup.next_client(SeededEntropy::new(43)).unwrap();
    assert!(client.config().resumption.is_some());
    let mut second = pair.reconnect_with_client(client);
    second.start();
    second.cut().drive();
    assert!(second.client().resumption().is_some(), "a cut keeps it");
    let Next::Retry(retry) = sup.on_disconnected(&second.ended(), second.client(), second.now)
    else {
        panic!("retried");
    };
    assert_eq!(retry.target, None);
    // The usual target resumes it.
    let client = sup.next_client(SeededEntropy::new(44)).unwrap();
    let mut third = second.reconnect_with_client(client);
    third.connect();
    sm_common::assert_online(&third);
    assert_eq!(resumed(&third.events), [0]);
}

/// A clean close sends unavailable presence and `</stream:stream>`, and leaves nothing to
/// resume: the server ends the SM session too.
#[test]
fn a_clean_close_leaves_nothing_to_resume() {
    let mut pair = online_with_sm();
    let id = pair.server.sm_id().unwrap().to_string();
    send_messages(&mut pair, &["m1"]);
    let mark = pair.mark();
    pair.command(|c, now| c.close(now)).unwrap();
    pair.drive();
    let sent = pair.client_sent_since(mark);
    let unavailable = sent.find("<presence type='unavailable'").expect(&sent);
    assert!(
        sent.find("</stream:stream>").unwrap() > unavailable,
        "{sent}"
    );
    assert_eq!(pair.ended(), DisconnectReason::LocalClose);
    assert!(pair.client().resumption().is_none());
    assert!(pair.server.profile.sm_store.get(&id).is_none());
    assert!(next_config(&pair).resumption.is_none());
}

/// `<resumed h/>` claiming more than the client sent: the stream error XEP-0198 names, and
/// the stanzas that were waiting are reported, not dropped.
#[test]
fn a_resumed_h_beyond_what_was_sent_is_a_stream_error() {
    let mut pair = cut_with_traffic();
    let mut next = pair.reconnect_with(next_config(&pair));
    next.server.profile.sm_h_too_high = Some(7);
    next.connect();
    assert!(
        matches!(
            next.ended(),
            DisconnectReason::PeerMisbehaved(
                herald_core::PeerMisbehaved::HandledCountTooHigh { .. }
            )
        ),
        "{:?}",
        next.ended()
    );
    let sent = next.client_sent_since(0);
    assert!(
        sent.contains("<handled-count-too-high xmlns='urn:xmpp:sm:3'"),
        "{sent}"
    );
    assert_eq!(
        lost(&next.events),
        [(2, vec!["m1".to_string(), "m2".to_string()])]
    );
    assert!(next.client().resumption().is_none());
}

/// The cache says the server resumes, but it dropped stream management: the early
/// `<resume/>` cannot be answered with `<resumed/>`, and nothing is lost in silence.
#[test]
fn a_stale_cache_resume_to_a_server_without_sm_reports_and_recovers() {
    let mut pair = cut_with_traffic();
    let mut next = pair.reconnect_with(next_config(&pair));
    next.server.profile.sm = false;
    next.connect();
    // The server's answer is a stream error for an element it does not know.
    assert!(
        matches!(next.ended(), DisconnectReason::StreamError { .. }),
        "{:?}",
        next.ended()
    );
    assert_eq!(
        lost(&next.events),
        [(2, vec!["m1".to_string(), "m2".to_string()])]
    );
    assert!(next.client().resumption().is_none());
    // Its features after authentication corrected the cache: the next login sends nothing
    // of stream management, and gets online.
    let mut third = next.reconnect_with(next_config(&next));
    third.connect();
    sm_common::assert_online(&third);
    let sent = third.client_sent_since(0);
    assert_eq!(count(&sent, "urn:xmpp:sm:3"), 0, "{sent}");
}

/// Past the bound while the link was dead: the oldest were reported when they were pushed
/// out, the rest are resent on resumption, and each message is either at the server once or
/// was reported.
#[test]
fn the_bound_and_a_resumption_together() {
    let profile = ServerProfile::stream_management();
    let mut config = config_for(&profile);
    config.limits.max_unacked_stanzas = 3;
    let mut pair = Pair::new(profile, config);
    pair.connect();
    pair.advance(Timeouts::default().ack_delay);
    pair.take_events();
    pair.cut_silently();
    send_messages(&mut pair, &["m1", "m2", "m3", "m4", "m5"]);
    let reported: Vec<String> = lost(&pair.events)
        .into_iter()
        .flat_map(|(_, ids)| ids)
        .collect();
    assert_eq!(reported, ["m1", "m2"]);
    pair.eof().drive();
    let mut config = next_config(&pair);
    config.limits.max_unacked_stanzas = 3;
    let mut next = pair.reconnect_with(config);
    next.connect();
    sm_common::assert_online(&next);
    assert_eq!(resumed(&next.events), [3]);
    let store = &next.server.profile.sm_store;
    for (id, times) in [("m1", 0), ("m2", 0), ("m3", 1), ("m4", 1), ("m5", 1)] {
        assert_eq!(store.from_client_with_id(id).len(), times, "{id}");
    }
    assert!(
        next.server.violations.is_empty(),
        "{:?}",
        next.server.violations
    );
}

/// The application closes while the `<resume/>` is unanswered: a clean end, nothing left to
/// resume, and the stanzas that were not resent reported.
#[test]
fn a_close_while_resuming_reports_and_leaves_nothing() {
    let mut pair = cut_with_traffic();
    let mut next = pair.reconnect_with(next_config(&pair));
    next.start();
    assert!(next.step_until(|c| c.state() == SessionState::Resuming));
    next.command(|c, now| c.close(now)).unwrap();
    next.drive();
    assert_eq!(next.ended(), DisconnectReason::LocalClose);
    assert!(next.client().resumption().is_none());
    let reported: usize = lost(&next.events).iter().map(|(n, _)| n).sum();
    assert!(reported <= 2, "{:#?}", next.events);
    // Whatever the server resumed and then saw closed, no message arrived twice, and each
    // arrived or was reported.
    let store = &next.server.profile.sm_store;
    let ids: Vec<String> = lost(&next.events)
        .into_iter()
        .flat_map(|(_, ids)| ids)
        .collect();
    for id in ["m1", "m2"] {
        let arrived = store.from_client_with_id(id).len();
        assert!(arrived <= 1, "{id}");
        assert!(
            arrived == 1 || ids.iter().any(|i| i == id),
            "{id}: {:#?}",
            next.events
        );
    }
}
