//! Client state indication (XEP-0352) against the scripted server: the application's state
//! is kept like the presence (set before `connect` or during login, it applies once
//! online), goes out only to a server that offers `<csi xmlns='urn:xmpp:csi:0'/>`, once per
//! change, as nonzas stream management does not count; a new session is told only an
//! inactive state, a resumed one only a change made since the previous connection.

mod sm_common;

use herald_core::{SessionState, Timeouts, UsageError};
use herald_testkit::{Pair, ServerProfile, config_for};
use sm_common::{count, next_config, resumed, send_messages};

const ACTIVE: &str = "<active xmlns='urn:xmpp:csi:0'/>";
const INACTIVE: &str = "<inactive xmlns='urn:xmpp:csi:0'/>";

fn with_csi(profile: ServerProfile) -> ServerProfile {
    ServerProfile {
        csi: true,
        ..profile
    }
}

fn assert_online_cleanly(pair: &Pair) {
    assert_eq!(
        pair.client().state(),
        SessionState::Online,
        "{:#?}",
        pair.events
    );
    assert!(
        pair.server.violations.is_empty(),
        "{:?}",
        pair.server.violations
    );
    assert_eq!(pair.server.stream_error, None);
}

/// How many CSI nonzas of each kind the client sent since `mark`: (active, inactive).
fn csi_sent(pair: &Pair, mark: usize) -> (usize, usize) {
    let sent = pair.client_sent_raw(mark);
    (count(&sent, ACTIVE), count(&sent, INACTIVE))
}

#[test]
fn inactive_set_before_connect_goes_out_once_online() {
    let mut pair = Pair::configured(with_csi(ServerProfile::prosody_like()), |_| {});
    assert!(pair.client().client_active());
    pair.command(|c, now| c.set_client_active(now, false))
        .unwrap();
    assert!(!pair.client().client_active());
    pair.connect();
    assert_online_cleanly(&pair);
    assert_eq!(csi_sent(&pair, 0), (0, 1));
    let sent = pair.client_sent_raw(0);
    // After the session is established: after the bind result made it so, and after the
    // initial presence.
    assert!(sent.find(INACTIVE).unwrap() > sent.find("<presence").unwrap());
    assert!(pair.server.bound.is_some());
}

#[test]
fn the_config_gives_the_initial_state_and_a_change_during_login_wins() {
    // From the config, without pipelining.
    let mut pair = Pair::configured(with_csi(ServerProfile::prosody_like()), |c| {
        c.client_active = false;
        c.pipelining = false;
    });
    pair.connect();
    assert_online_cleanly(&pair);
    assert_eq!(csi_sent(&pair, 0), (0, 1));

    // Set inactive during the login, then active again: the server is never told.
    let mut pair = Pair::configured(with_csi(ServerProfile::prosody_like()), |_| {});
    pair.start();
    assert!(pair.step_until(|c| c.state() == SessionState::Binding));
    pair.command(|c, now| c.set_client_active(now, false))
        .unwrap();
    pair.drive();
    assert_eq!(pair.client().state(), SessionState::Online);
    pair.command(|c, now| c.set_client_active(now, true))
        .unwrap();
    pair.drive();
    // Online before the second call: the inactive state went out, then the active one.
    assert_eq!(csi_sent(&pair, 0), (1, 1));

    let mut pair = Pair::configured(with_csi(ServerProfile::prosody_like()), |_| {});
    pair.start();
    assert!(pair.step_until(|c| c.state() == SessionState::Binding));
    pair.command(|c, now| c.set_client_active(now, false))
        .unwrap();
    pair.command(|c, now| c.set_client_active(now, true))
        .unwrap();
    pair.drive();
    assert_online_cleanly(&pair);
    assert_eq!(csi_sent(&pair, 0), (0, 0));
}

#[test]
fn an_active_new_session_sends_nothing() {
    let mut pair = Pair::configured(with_csi(ServerProfile::prosody_like()), |_| {});
    pair.connect();
    assert_online_cleanly(&pair);
    assert_eq!(csi_sent(&pair, 0), (0, 0));
}

#[test]
fn each_change_goes_out_once_and_the_same_value_sends_nothing() {
    let mut pair = Pair::configured(with_csi(ServerProfile::prosody_like()), |_| {});
    pair.connect();
    pair.take_events();
    let mark = pair.mark();
    pair.command(|c, now| c.set_client_active(now, false))
        .unwrap();
    assert_eq!(pair.client_sent_raw(mark), INACTIVE);
    let mark = pair.mark();
    pair.command(|c, now| c.set_client_active(now, false))
        .unwrap();
    assert_eq!(pair.client_sent_raw(mark), "");
    pair.command(|c, now| c.set_client_active(now, true))
        .unwrap();
    assert_eq!(pair.client_sent_raw(mark), ACTIVE);
    let mark = pair.mark();
    pair.command(|c, now| c.set_client_active(now, true))
        .unwrap();
    assert_eq!(pair.client_sent_raw(mark), "");
    pair.drive();
    assert_online_cleanly(&pair);
    // No event: the nonzas are not presence, and the server answers none.
    let events = pair.take_events();
    assert!(events.is_empty(), "{events:?}");
}

/// A server without CSI would end the stream on the nonza (`unsupported-stanza-type`):
/// nothing goes out, and the value is still kept.
#[test]
fn not_offered_nothing_is_sent_and_nothing_fails() {
    let mut pair = Pair::configured(ServerProfile::prosody_like(), |c| c.client_active = false);
    pair.connect();
    assert_online_cleanly(&pair);
    pair.command(|c, now| c.set_client_active(now, true))
        .unwrap();
    pair.command(|c, now| c.set_client_active(now, false))
        .unwrap();
    pair.drive();
    assert_online_cleanly(&pair);
    assert_eq!(csi_sent(&pair, 0), (0, 0));
    assert!(!pair.client().client_active());
}

/// The nonzas are not stanzas: counted, they would leave the client waiting for an
/// acknowledgement the server never gives (its `h` counts stanzas only).
#[test]
fn stream_management_does_not_count_the_nonzas() {
    let mut pair = Pair::configured(with_csi(ServerProfile::stream_management()), |_| {});
    pair.connect();
    assert_online_cleanly(&pair);
    pair.advance(Timeouts::default().ack_delay);
    let before = pair.server.sm_session().unwrap().handled;
    pair.command(|c, now| c.set_client_active(now, false))
        .unwrap();
    send_messages(&mut pair, &["m1", "m2"]);
    pair.command(|c, now| c.set_client_active(now, true))
        .unwrap();
    pair.drive();
    pair.advance(Timeouts::default().ack_delay);
    assert_eq!(pair.server.sm_session().unwrap().handled, before + 2);
    assert_online_cleanly(&pair);
    pair.cut().drive();
    let resumption = pair.client().resumption().expect("resumable");
    assert_eq!(resumption.unacknowledged(), 0);
}

/// The server keeps a resumed session's state: the same value is not sent again, a value
/// changed between the connections is, once.
#[test]
fn a_resumed_session_is_told_only_a_change() {
    let mut pair = Pair::configured(with_csi(ServerProfile::stream_management()), |c| {
        c.client_active = false;
    });
    pair.connect();
    assert_eq!(csi_sent(&pair, 0), (0, 1));
    pair.cut().drive();

    let mut config = next_config(&pair);
    config.client_active = pair.client().client_active();
    let mut second = pair.reconnect_with(config);
    second.connect();
    assert_online_cleanly(&second);
    assert_eq!(resumed(&second.events), [0]);
    assert_eq!(csi_sent(&second, 0), (0, 0));
    second.cut().drive();

    // Back in the foreground while the link was down.
    let mut config = next_config(&second);
    config.client_active = true;
    let mut third = second.reconnect_with(config);
    third.connect();
    assert_online_cleanly(&third);
    assert_eq!(resumed(&third.events), [0]);
    let sent = third.client_sent_raw(0);
    assert_eq!(count(&sent, ACTIVE), 1, "{sent}");
    assert!(sent.find(ACTIVE).unwrap() > sent.find("<resume ").unwrap());
    // And that state is what the next resumption starts from.
    third.cut().drive();
    let mut fourth = third.reconnect_with(next_config(&third));
    fourth.connect();
    assert_online_cleanly(&fourth);
    assert_eq!(csi_sent(&fourth, 0), (0, 0));
}

/// Without resumption the next session is new: the server assumes active again, and the
/// inactive state is restored.
#[test]
fn a_new_session_after_a_reconnect_is_told_inactive_again() {
    let mut pair = Pair::configured(with_csi(ServerProfile::prosody_like()), |c| {
        c.client_active = false;
    });
    pair.connect();
    pair.cut().drive();
    let mut config = config_for(&pair.server.profile);
    config.client_active = pair.client().client_active();
    let mut next = pair.reconnect_with(config);
    next.connect();
    assert_online_cleanly(&next);
    assert_eq!(csi_sent(&next, 0), (0, 1));
}

/// A refused resumption binds a new session: the inactive state is restored in it.
#[test]
fn a_refused_resumption_is_a_new_session() {
    let mut pair = Pair::configured(with_csi(ServerProfile::stream_management()), |c| {
        c.client_active = false;
    });
    pair.connect();
    pair.cut().drive();
    let mut config = next_config(&pair);
    config.client_active = pair.client().client_active();
    pair.server.profile.sm_refuse_resume = true;
    let mut next = pair.reconnect_with(config);
    next.connect();
    assert_online_cleanly(&next);
    assert!(resumed(&next.events).is_empty());
    assert!(next.server.bound.is_some());
    assert_eq!(csi_sent(&next, 0), (0, 1));
}

/// SASL2 with Bind 2 goes online at `<success/>`, before the features say CSI is offered:
/// the state goes out when they do.
#[test]
fn with_sasl2_the_state_goes_out_when_the_features_come() {
    let profile = with_csi(ServerProfile::fast_login());
    let mut pair = Pair::configured(profile, |c| c.client_active = false);
    pair.connect();
    assert_online_cleanly(&pair);
    assert!(
        pair.server
            .sasl2_outcomes
            .iter()
            .any(|o| o.contains("<bound"))
    );
    assert_eq!(csi_sent(&pair, 0), (0, 1));
}

#[test]
fn closing_and_ended_sessions_refuse_the_command() {
    let mut pair = Pair::configured(with_csi(ServerProfile::prosody_like()), |_| {});
    pair.connect();
    pair.command(|c, now| c.close(now)).unwrap();
    let mark = pair.mark();
    assert_eq!(
        pair.command(|c, now| c.set_client_active(now, false)),
        Err(UsageError::AlreadyClosing)
    );
    assert_eq!(pair.client_sent_raw(mark), "");
    pair.drive();
    assert!(pair.client().is_closed());
    assert!(matches!(
        pair.command(|c, now| c.set_client_active(now, false)),
        Err(UsageError::SessionEnded(_))
    ));
    assert!(pair.client().client_active());
}
