//! The cut and reconnection helpers, with today's client (which does not enable SM): the
//! server's SM session is made by hand, as a client would have enabled it.

use std::time::Duration;

use herald_core::{DisconnectReason, Event, Presence, SessionState};

use crate::pair::{Pair, config_for};
use crate::profile::{CLOCK_START, ServerProfile};

fn online(profile: ServerProfile) -> Pair {
    let config = crate::pair::config_for(&profile);
    online_with(profile, config)
}

/// A pair on `profile` with a client made from `config`, connected and online.
fn online_with(profile: ServerProfile, config: herald_core::Config) -> Pair {
    let mut pair = Pair::new(profile, config);
    pair.connect();
    assert!(
        pair.events
            .iter()
            .any(|e| matches!(e, Event::Online { .. })),
        "{:?}",
        pair.events
    );
    pair
}

#[test]
fn a_cut_is_an_eof_to_the_client_and_no_close_to_the_server() {
    let mut pair = online(ServerProfile::stream_management());
    let mark = pair.mark();
    pair.cut().drive();
    assert!(pair.is_cut());
    assert!(pair.server.is_connection_lost());
    assert!(
        !pair.server.client_closed,
        "no </stream:stream> reached the server"
    );
    assert_eq!(pair.mark(), mark);
    assert_eq!(pair.ended(), DisconnectReason::Eof);
}

/// A silent cut: the client's writes go nowhere and it is told nothing.
#[test]
fn after_a_silent_cut_nothing_crosses_and_the_client_is_not_told() {
    let mut pair = online(ServerProfile::stream_management());
    let (mark, delivered) = (pair.mark(), pair.delivered.len());
    pair.cut_silently();
    pair.command(|c, now| c.set_presence(now, Presence::Away))
        .expect("still online as far as the client knows");
    pair.server.send_raw("<presence from='bob@localhost/x'/>");
    pair.drive();
    assert_eq!(pair.mark(), mark);
    assert_eq!(pair.delivered.len(), delivered);
    assert_eq!(pair.client().state(), SessionState::Online);
}

/// The next pair plays the same profile: the cut SM session (with what the server could not
/// deliver, and bob's message queued during the outage) waits in its store; its clocks are
/// the gap later.
#[test]
fn the_next_pair_finds_the_cut_session_in_the_same_profile() {
    let profile = ServerProfile::stream_management();
    let mut pair = online(profile.clone());
    // What a client enabling SM would have sent; the answer never reaches this client.
    pair.hold = true;
    pair.server
        .handle_input(b"<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    let id = pair.server.sm_id().expect("enabled").to_string();
    pair.server
        .send_stanza("<message id='lost' from='bob@localhost/x'/>");
    pair.cut();
    pair.server
        .send_stanza("<message id='queued' from='bob@localhost/x'/>");

    let before = pair.now;
    let mut next = pair.reconnect_after(Duration::from_secs(42), config_for(&profile));
    assert_eq!(next.now, before + Duration::from_secs(42));
    assert_eq!(next.server.profile.clock, CLOCK_START + 42);
    let session = next.server.profile.sm_store.get(&id).expect("kept");
    assert_eq!(session.detached_at, Some(CLOCK_START));
    let unacked: Vec<&str> = session.unacked.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(
        unacked,
        [
            "<message id='lost' from='bob@localhost/x'/>",
            "<message id='queued' from='bob@localhost/x'/>"
        ]
    );
    next.connect();
    assert_eq!(next.client().state(), SessionState::Online);
    assert_eq!(next.server.headers, 3, "a whole new login");
    assert!(
        next.server.violations.is_empty(),
        "{:?}",
        next.server.violations
    );
}

/// A reconnection from a pair that was not cut cuts its server side first: the session
/// waits, it is not lost.
#[test]
fn reconnecting_without_a_cut_cuts_the_server_side_first() {
    let profile = ServerProfile::stream_management();
    let mut pair = online(profile.clone());
    pair.hold = true;
    pair.server
        .handle_input(b"<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    let id = pair.server.sm_id().unwrap().to_string();
    let next = pair.reconnect_with(config_for(&profile));
    assert!(pair.is_cut());
    let session = next.server.profile.sm_store.get(&id).unwrap();
    assert_eq!(session.detached_at, Some(CLOCK_START));
}

#[test]
fn server_sends_counts_what_server_says_does_not() {
    let mut pair = online(ServerProfile::stream_management());
    pair.hold = true;
    pair.server
        .handle_input(b"<enable xmlns='urn:xmpp:sm:3' resume='true'/>");
    pair.server.take_output();
    pair.hold = false;
    pair.server_sends("<presence from='bob@localhost/x'/>");
    pair.server_says("<presence from='bob@localhost/y'/>");
    assert_eq!(pair.server.sm_session().unwrap().sent, 1);
}

/// The SM presets stay servers a client without SM logs in to: the features it does not
/// know (`<sm/>`, Bind 2's inline `<feature/>`, SASL2's inline `<sm/>`) change nothing.
#[test]
fn a_client_without_sm_logs_in_to_the_sm_presets() {
    for profile in [
        ServerProfile::stream_management(),
        ServerProfile::fast_login_with_sm(),
    ] {
        let mut config = crate::pair::config_for(&profile);
        config.stream_management = false;
        let pair = online_with(profile, config);
        assert!(
            pair.server.violations.is_empty(),
            "{:?}",
            pair.server.violations
        );
        assert_eq!(pair.server.sm_id(), None);
        assert!(pair.server.bound.is_some());
    }
}
