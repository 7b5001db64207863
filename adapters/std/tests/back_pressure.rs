//! herald-std's back-pressure: the socket is read only inside `pump`, one buffer at a
//! time. A server floods presence while the application does not pump: the server's
//! writes stall once the socket buffers are full; each pump hands out at most one
//! buffer's worth of events; once pumped, every presence arrives.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use herald_core::Event as CoreEvent;
use herald_std::ConnectOptions;
use herald_std::{Event, Session};
use herald_testkit::loopback::{
    AfterOnline, FLOOD_STANZA, PlainServer, plain_config, plain_profile,
};

/// 30 MB of presence: far more than the loopback socket buffers hold.
const FLOOD: usize = 400_000;
/// The most presences one 16 KiB read can hold (a stanza cut by the read finishes in the
/// next one).
const PER_READ: usize = 16 * 1024 / FLOOD_STANZA.len() + 1;

#[test]
fn a_session_that_is_not_pumped_reads_nothing_and_each_pump_is_bounded() {
    let profile = plain_profile();
    let server = PlainServer::start(profile.clone(), AfterOnline::Flood(FLOOD));
    let mut session =
        Session::connect(plain_config(&profile), options(server.port)).expect("connects");
    let mut presences = 0;
    let online = Instant::now() + Duration::from_secs(20);
    let mut is_online = false;
    while !is_online && Instant::now() < online {
        // The flood may come in the same read as the bind result: count the whole batch.
        for event in session.pump(Duration::from_millis(100)).unwrap() {
            match event {
                Event::Core(CoreEvent::Online { .. }) => is_online = true,
                Event::Core(CoreEvent::Presence(_)) => presences += 1,
                _ => {}
            }
        }
    }
    assert_eq!(session.state(), herald_core::SessionState::Online);

    // The application looks away for two seconds.
    let mut written_at = Vec::new();
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(500));
        written_at.push(server.flooded.load(Ordering::SeqCst));
    }
    let total = FLOOD * FLOOD_STANZA.len();
    eprintln!("server wrote {written_at:?} of {total} bytes while nobody pumped");
    assert!(written_at[3] < total / 2, "the server was never held back");
    assert_eq!(written_at[2], written_at[3], "the server kept writing");

    let mut most = 0;
    let drained = Instant::now() + Duration::from_secs(120);
    while presences < FLOOD {
        assert!(Instant::now() < drained, "only {presences} of {FLOOD}");
        let events = session.pump(Duration::from_millis(100)).unwrap();
        most = most.max(events.len());
        assert!(
            events.len() <= PER_READ,
            "{} events from one pump",
            events.len()
        );
        presences += events
            .iter()
            .filter(|e| matches!(e, Event::Core(CoreEvent::Presence(_))))
            .count();
    }
    eprintln!("at most {most} events per pump (bound {PER_READ})");
    assert_eq!(server.flooded.load(Ordering::SeqCst), total);
    session.close().unwrap();
}

/// Options for `port` on 127.0.0.1 with short reconnect delays.
fn options(port: u16) -> ConnectOptions {
    let mut options = ConnectOptions::default();
    options.server = Some(("127.0.0.1".into(), port));
    options.reconnect_initial = Duration::from_millis(50);
    options.reconnect_max = Duration::from_millis(200);
    options
}
