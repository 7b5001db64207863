//! A cut in every login state, with and without a session to resume: before and after TLS,
//! during the TLS handshake, during SASL (RFC 6120 and SASL2), while binding, while
//! resuming, once online. Nothing panics (the contract checker watches every call), the end
//! is one `Disconnected { Eof }`, and the next connection gets online with nothing lost
//! in silence: every message is either at the server exactly once or reported lost.

mod sm_common;

use std::collections::BTreeSet;

use herald_core::{Config, DisconnectReason, Event, SessionState, Timeouts};
use herald_testkit::{Pair, Reply, ServerProfile, config_for};
use sm_common::{lost, next_config, online, resumed, send_messages};

/// One move of the login, the server's answers held: the TLS handshake when one is asked
/// for, else what the server has said so far, fed to the client as one read. False when
/// nothing is left to move.
fn one_move(pair: &mut Pair) -> bool {
    if pair.contract().tls_pending() {
        pair.step();
        return true;
    }
    let out = pair.server.take_output();
    if out.is_empty() || pair.transport_closed() {
        return false;
    }
    pair.feed(&out);
    true
}

/// A client with `config` against `from`'s profile (a fresh pair when `from` is `None`),
/// cut after `moves` moves of its login. The state it was cut in, and the pair.
fn cut_after(
    profile: &ServerProfile,
    config: Config,
    from: Option<&mut Pair>,
    moves: usize,
) -> Option<(SessionState, Pair)> {
    let mut pair = match from {
        Some(from) => from.reconnect_with(config),
        None => Pair::new(profile.clone(), config),
    };
    pair.hold = true;
    pair.start();
    for _ in 0..moves {
        if !one_move(&mut pair) {
            return None;
        }
    }
    let state = pair.client().state();
    pair.cut().drive();
    Some((state, pair))
}

/// After the cut: one end, for the cut; then the next connection gets online, resuming
/// when the cut one left a session.
fn assert_sensible(state: &SessionState, cut: &mut Pair) -> Pair {
    let ends = cut
        .events
        .iter()
        .filter(|e| matches!(e, Event::Disconnected { .. }))
        .count();
    assert_eq!(ends, 1, "{state:?}: {:#?}", cut.events);
    let reason = match state {
        SessionState::Closed { reason } => reason.clone(),
        _ => DisconnectReason::Eof,
    };
    assert_eq!(cut.ended(), reason, "{state:?}");
    let unacked = cut.client().resumption().map(|r| r.unacknowledged());
    let mut next = cut.reconnect_with(next_config(cut));
    next.connect();
    sm_common::assert_online(&next);
    // Resumed, or refused (by a server that refuses all): then what the server's `h` did
    // not cover is reported, once.
    let (resumes, reports) = (resumed(&next.events).len(), lost(&next.events).len());
    match unacked {
        Some(_) => assert!(
            (resumes, reports) == (1, 0) || (resumes == 0 && reports <= 1),
            "{state:?}: {:#?}",
            next.events
        ),
        None => assert_eq!((resumes, reports), (0, 0), "{state:?}"),
    }
    next
}

/// Every message the application sent is at the server at most once, and either there or
/// reported lost by one of `pairs`.
fn assert_nothing_lost_in_silence(ids: &[&str], pairs: &[&Pair]) {
    let store = &pairs.last().unwrap().server.profile.sm_store;
    let reported: BTreeSet<String> = pairs
        .iter()
        .flat_map(|p| lost(&p.events))
        .flat_map(|(_, ids)| ids)
        .collect();
    for id in ids {
        let arrived = store.from_client_with_id(id).len();
        assert!(arrived <= 1, "{id} arrived {arrived} times");
        assert!(
            arrived == 1 || reported.contains(*id),
            "{id}: neither arrived nor reported ({reported:?})"
        );
    }
}

/// Cuts a fresh login (no session to resume) after every move; the states cut in.
fn every_cut_of_a_fresh_login(profile: ServerProfile) -> BTreeSet<&'static str> {
    let mut states = BTreeSet::new();
    for moves in 0.. {
        let Some((state, mut cut)) = cut_after(&profile, config_for(&profile), None, moves) else {
            break;
        };
        states.insert(state.name());
        if state != SessionState::Online {
            assert!(cut.client().resumption().is_none(), "{state:?}");
        }
        assert_eq!(lost(&cut.events), [], "{state:?}");
        let next = assert_sensible(&state, &mut cut);
        assert!(
            next.server.violations.is_empty(),
            "{state:?}: {:?}",
            next.server.violations
        );
        assert!(moves < 50, "the login does not end");
    }
    states
}

#[test]
fn a_cut_in_every_state_of_an_rfc6120_login() {
    let states = every_cut_of_a_fresh_login(ServerProfile::stream_management());
    for expected in [
        "connecting",
        "tls_handshake",
        "authenticating",
        "binding",
        "online",
    ] {
        assert!(states.contains(expected), "{expected}: {states:?}");
    }
}

#[test]
fn a_cut_in_every_state_of_a_sasl2_login() {
    let states = every_cut_of_a_fresh_login(ServerProfile::fast_login_with_sm());
    for expected in ["connecting", "tls_handshake", "authenticating", "online"] {
        assert!(states.contains(expected), "{expected}: {states:?}");
    }
}

/// A first session online with SM: `m1` reached the server, `m2` did not; then a cut.
fn first_session(profile: ServerProfile) -> Pair {
    let mut pair = online(profile);
    pair.advance(Timeouts::default().ack_delay);
    pair.server.profile.sm_r_reply = Reply::Never;
    send_messages(&mut pair, &["m1"]);
    pair.drive();
    pair.cut_silently();
    send_messages(&mut pair, &["m2"]);
    pair.eof().drive();
    assert!(pair.client().resumption().is_some());
    pair
}

/// The login that resumes, cut after every move; then a third connection. The states cut
/// in.
fn every_cut_of_a_resuming_login(profile: ServerProfile) -> BTreeSet<&'static str> {
    let mut states = BTreeSet::new();
    for moves in 0.. {
        let mut first = first_session(profile.clone());
        let config = next_config(&first);
        let Some((state, mut cut)) = cut_after(&profile, config, Some(&mut first), moves) else {
            break;
        };
        states.insert(state.name());
        // Cut before the resumption was settled, the session is still to resume.
        if !matches!(state, SessionState::Online | SessionState::Closed { .. }) {
            assert!(
                cut.client().resumption().is_some(),
                "{state:?}: {:#?}",
                cut.events
            );
        }
        let next = assert_sensible(&state, &mut cut);
        assert_nothing_lost_in_silence(&["m1", "m2"], &[&cut, &next]);
        assert!(
            next.server.violations.is_empty(),
            "{state:?}: {:?}",
            next.server.violations
        );
        assert!(moves < 50, "the login does not end");
    }
    states
}

#[test]
fn a_cut_in_every_state_of_a_resuming_login() {
    let states = every_cut_of_a_resuming_login(ServerProfile::stream_management());
    for expected in [
        "connecting",
        "tls_handshake",
        "authenticating",
        "resuming",
        "online",
    ] {
        assert!(states.contains(expected), "{expected}: {states:?}");
    }
}

#[test]
fn a_cut_in_every_state_of_an_inline_resuming_login() {
    let states = every_cut_of_a_resuming_login(ServerProfile::fast_login_with_sm());
    for expected in ["connecting", "tls_handshake", "authenticating", "online"] {
        assert!(states.contains(expected), "{expected}: {states:?}");
    }
}

/// A resumption refused, then the fresh login cut in every state: what the refusal
/// reported stays reported, and nothing else goes missing.
#[test]
fn a_cut_in_every_state_after_a_refused_resume() {
    let profile = ServerProfile::stream_management();
    for moves in 0.. {
        let mut first = first_session(profile.clone());
        first.server.profile.sm_refuse_resume = true;
        let config = next_config(&first);
        let Some((state, mut cut)) = cut_after(&profile, config, Some(&mut first), moves) else {
            break;
        };
        let next = assert_sensible(&state, &mut cut);
        assert_nothing_lost_in_silence(&["m1", "m2"], &[&cut, &next]);
        assert!(moves < 50, "the login does not end");
    }
}

/// An old server that requires the RFC 3921 session, ejabberd-like otherwise: the session
/// step is cut too.
#[test]
fn a_cut_in_every_state_of_a_login_with_a_required_session() {
    let profile = ServerProfile {
        session: herald_testkit::SessionFeature::Required,
        sm: true,
        sm_resume: true,
        ..ServerProfile::ejabberd_like()
    };
    let states = every_cut_of_a_fresh_login(profile);
    for expected in [
        "connecting",
        "authenticating",
        "binding",
        "session",
        "online",
    ] {
        assert!(states.contains(expected), "{expected}: {states:?}");
    }
}
