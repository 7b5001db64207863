//! The answer window of incoming subscription requests, on the scripted server with a
//! virtual clock: the application answers within `Timeouts::subscription_window`, else the
//! policy answers when it closes or at `close`, whichever comes first; exactly one answer
//! per request.

use std::time::Duration;

use herald_core::jid::BareJid;
use herald_core::{Config, Event, SessionState, SubscriptionPolicy, UsageError};
use herald_testkit::{Pair, ServerProfile, config_for};

const WINDOW: Duration = Duration::from_secs(30);
const SECOND: Duration = Duration::from_secs(1);

fn bare(s: &str) -> BareJid {
    BareJid::new(s).unwrap()
}

fn online_with(change: impl FnOnce(&mut Config)) -> Pair {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    // Only the window's timer runs.
    config.timeouts.keepalive = None;
    config.timeouts.link_check = None;
    change(&mut config);
    let mut pair = Pair::new(profile, config);
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Online);
    pair.take_events();
    pair
}

fn online(policy: SubscriptionPolicy) -> Pair {
    online_with(|c| c.subscription_policy = policy)
}

fn request(pair: &mut Pair, from: &str) {
    pair.server_says(&format!("<presence from='{from}' type='subscribe'/>"));
}

fn answered(from: &str, approved: bool) -> Event {
    Event::SubscriptionAnswered {
        from: bare(from),
        approved,
    }
}

#[test]
fn the_default_window_is_30_seconds_and_an_answer_within_it_is_the_only_one() {
    assert_eq!(
        Config::new("a@b", "pw")
            .unwrap()
            .timeouts
            .subscription_window,
        WINDOW
    );
    let mut pair = online(SubscriptionPolicy::default());
    let mark = pair.mark();
    request(&mut pair, "erin@localhost/phone");
    assert_eq!(
        pair.take_events(),
        [Event::SubscriptionRequest {
            from: bare("erin@localhost")
        }]
    );
    // A person or a script answers a second later: nothing went out meanwhile.
    pair.advance(SECOND);
    assert_eq!(pair.client_sent_since(mark), "");
    pair.command(|c, now| c.approve(now, &bare("erin@localhost")))
        .unwrap();
    pair.drive();
    pair.advance(WINDOW);
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence to='erin@localhost' type='subscribed'/>"
    );
    assert!(
        pair.take_events().is_empty(),
        "the policy does not answer again"
    );
    assert_eq!(pair.client().poll_timeout(), None);
    // The request is answered: a second approve is not an answer to anything.
    assert_eq!(
        pair.command(|c, now| c.approve(now, &bare("erin@localhost"))),
        Err(UsageError::NoPendingRequest)
    );
}

#[test]
fn deny_answers_when_the_window_closes_not_before() {
    let mut pair = online(SubscriptionPolicy::Deny);
    let start = pair.now;
    let mark = pair.mark();
    request(&mut pair, "carol@localhost");
    pair.take_events();
    assert_eq!(pair.client().poll_timeout(), Some(start + WINDOW));
    pair.advance(WINDOW - Duration::from_millis(1));
    assert_eq!(pair.client_sent_since(mark), "");
    assert!(pair.fire_next_timeout());
    assert_eq!(pair.now, start + WINDOW);
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence to='carol@localhost' type='unsubscribed'/>"
    );
    assert_eq!(pair.take_events(), [answered("carol@localhost", false)]);
    assert_eq!(pair.client().poll_timeout(), None);
}

#[test]
fn each_request_has_its_own_window() {
    let mut pair = online(SubscriptionPolicy::Deny);
    let mark = pair.mark();
    request(&mut pair, "carol@localhost");
    pair.advance(20 * SECOND);
    request(&mut pair, "dave@localhost");
    pair.take_events();
    pair.advance(10 * SECOND);
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence to='carol@localhost' type='unsubscribed'/>"
    );
    assert_eq!(pair.take_events(), [answered("carol@localhost", false)]);
    let mark = pair.mark();
    pair.advance(19 * SECOND);
    assert_eq!(pair.client_sent_since(mark), "");
    pair.advance(SECOND);
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence to='dave@localhost' type='unsubscribed'/>"
    );
}

#[test]
fn accept_approves_when_the_window_closes() {
    let mut pair = online(SubscriptionPolicy::Accept);
    let mark = pair.mark();
    request(&mut pair, "carol@localhost");
    pair.take_events();
    assert!(pair.fire_next_timeout());
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence to='carol@localhost' type='subscribed'/>"
    );
    assert_eq!(pair.take_events(), [answered("carol@localhost", true)]);
}

#[test]
fn close_answers_open_requests_first_by_the_policy() {
    for (policy, answer) in [
        (SubscriptionPolicy::Deny, "unsubscribed"),
        (SubscriptionPolicy::Accept, "subscribed"),
    ] {
        let mut pair = online(policy);
        request(&mut pair, "carol@localhost");
        request(&mut pair, "dave@localhost");
        pair.command(|c, now| c.approve(now, &bare("dave@localhost")))
            .unwrap();
        pair.drive();
        pair.take_events();
        let mark = pair.mark();
        pair.advance(SECOND);
        pair.command(|c, now| c.close(now)).unwrap();
        pair.drive();
        // The answer, then the unavailable presence, then the end of the stream; dave was
        // answered already.
        assert_eq!(
            pair.client_sent_since(mark),
            format!(
                "<presence to='carol@localhost' type='{answer}'/>\
                 <presence type='unavailable'/></stream:stream>"
            ),
            "{policy:?}"
        );
        let events = pair.take_events();
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, Event::SubscriptionAnswered { .. }))
                .collect::<Vec<_>>(),
            [&answered(
                "carol@localhost",
                policy == SubscriptionPolicy::Accept
            )]
        );
    }
}

#[test]
fn ask_sends_nothing_says_so_and_still_takes_an_answer() {
    let mut pair = online(SubscriptionPolicy::Ask);
    let mark = pair.mark();
    request(&mut pair, "carol@localhost");
    pair.take_events();
    assert!(pair.fire_next_timeout());
    assert_eq!(pair.client_sent_since(mark), "");
    assert_eq!(
        pair.take_events(),
        [Event::SubscriptionLeftPending {
            from: bare("carol@localhost")
        }]
    );
    assert_eq!(pair.client().poll_timeout(), None);
    // Still pending at the server: a late answer is an answer.
    pair.command(|c, now| c.approve(now, &bare("carol@localhost")))
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence to='carol@localhost' type='subscribed'/>"
    );
    // At close, a request still in its window is left pending too, and reported once.
    request(&mut pair, "dave@localhost");
    request(&mut pair, "erin@localhost");
    assert!(pair.fire_next_timeout()); // dave's and erin's windows close
    request(&mut pair, "frank@localhost");
    pair.take_events();
    let mark = pair.mark();
    pair.command(|c, now| c.close(now)).unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence type='unavailable'/></stream:stream>"
    );
    let left: Vec<Event> = pair
        .take_events()
        .into_iter()
        .filter(|e| matches!(e, Event::SubscriptionLeftPending { .. }))
        .collect();
    assert_eq!(
        left,
        [Event::SubscriptionLeftPending {
            from: bare("frank@localhost")
        }]
    );
}

#[test]
fn a_zero_window_answers_right_after_the_event_as_ipworks() {
    let mut pair = online_with(|c| c.timeouts.subscription_window = Duration::ZERO);
    let start = pair.now;
    let mark = pair.mark();
    request(&mut pair, "carol@localhost");
    // Due at once: the next handle_timeout, at the same instant.
    assert_eq!(pair.client().poll_timeout(), Some(start));
    assert!(pair.fire_next_timeout());
    assert_eq!(pair.now, start);
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence to='carol@localhost' type='unsubscribed'/>"
    );
    // Answered while handling the event: the policy stays quiet.
    let mark = pair.mark();
    request(&mut pair, "dave@localhost");
    pair.command(|c, now| c.approve(now, &bare("dave@localhost")))
        .unwrap();
    pair.drive();
    pair.take_events();
    pair.fire_next_timeout();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence to='dave@localhost' type='subscribed'/>"
    );
    assert!(pair.take_events().is_empty());
}

#[test]
fn a_repeated_request_is_the_same_request() {
    let mut pair = online(SubscriptionPolicy::Deny);
    let mark = pair.mark();
    request(&mut pair, "carol@localhost/a");
    pair.advance(10 * SECOND);
    request(&mut pair, "carol@localhost/b");
    assert_eq!(
        pair.take_events(),
        [Event::SubscriptionRequest {
            from: bare("carol@localhost")
        }],
        "reported once"
    );
    pair.advance(20 * SECOND); // the first window closes
    pair.advance(WINDOW);
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence to='carol@localhost' type='unsubscribed'/>",
        "answered once, when the first window closed"
    );
}

#[test]
fn a_withdrawn_request_gets_no_answer() {
    let mut pair = online(SubscriptionPolicy::Deny);
    let mark = pair.mark();
    request(&mut pair, "carol@localhost");
    pair.server_says("<presence from='carol@localhost' type='unsubscribe'/>");
    assert_eq!(pair.client().poll_timeout(), None);
    pair.advance(WINDOW);
    pair.command(|c, now| c.close(now)).unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence type='unavailable'/></stream:stream>"
    );
}

#[test]
fn open_requests_are_bounded_and_the_oldest_is_answered_early() {
    let mut pair = online_with(|c| c.max_open_subscription_requests = 2);
    let mark = pair.mark();
    for from in ["a@localhost", "b@localhost", "c@localhost"] {
        request(&mut pair, from);
    }
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence to='a@localhost' type='unsubscribed'/>"
    );
    assert!(pair.take_events().contains(&answered("a@localhost", false)));
    // A flood keeps the table at the cap, each request answered exactly once.
    for i in 0..1000 {
        request(&mut pair, &format!("flood{i}@localhost"));
    }
    pair.advance(WINDOW);
    let sent = pair.client_sent_since(mark);
    assert_eq!(sent.matches("type='unsubscribed'").count(), 1003);
    assert_eq!(pair.client().poll_timeout(), None);
}

#[test]
fn a_request_while_closing_is_left_pending() {
    let mut pair = online(SubscriptionPolicy::Deny);
    pair.command(|c, now| c.close(now)).unwrap();
    // The pair's server echoes the close at once; inject before it is delivered.
    let mark = pair.mark();
    pair.feed(b"<presence from='carol@localhost' type='subscribe'/>");
    pair.drive();
    assert!(!pair.client_sent_since(mark).contains("carol"));
    let events = pair.take_events();
    assert!(
        events.contains(&Event::SubscriptionLeftPending {
            from: bare("carol@localhost")
        }),
        "{events:?}"
    );
}

#[test]
fn an_unexpected_end_answers_nothing() {
    let mut pair = online(SubscriptionPolicy::Deny);
    let mark = pair.mark();
    request(&mut pair, "carol@localhost");
    pair.eof();
    pair.drive();
    assert_eq!(pair.client().poll_timeout(), None);
    assert_eq!(pair.client_sent_since(mark), "");
    assert!(
        !pair
            .take_events()
            .iter()
            .any(|e| matches!(e, Event::SubscriptionAnswered { .. }))
    );
}

#[test]
fn a_window_beyond_a_year_is_a_config_error_not_a_clock_overflow() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.timeouts.subscription_window = Duration::MAX;
    assert_eq!(
        herald_core::Client::new(config.clone(), herald_core::SeededEntropy::new(1)).err(),
        Some(herald_core::ConfigError::TimeoutTooLong(
            "subscription_window"
        ))
    );
    config.timeouts.subscription_window = herald_core::Timeouts::MAX;
    assert!(herald_core::Client::new(config, herald_core::SeededEntropy::new(1)).is_ok());
}
