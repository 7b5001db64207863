//! A server floods presence while the application does not drain its events: the channel
//! never holds more than its bound, the session stops reading (the server's writes stall
//! once the socket buffers are full) and memory stays flat; once drained, every presence
//! arrives.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{AfterOnline, FLOOD_STANZA, PlainServer, plain_config, plain_profile, resident_bytes};
use herald_core::Event as CoreEvent;
use herald_tokio::Event;

const BOUND: usize = 16;
/// 30 MB of presence: far more than the loopback socket buffers hold.
const FLOOD: usize = 400_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_stops_the_reading_and_the_channel_stays_bounded() {
    let profile = plain_profile();
    let server = PlainServer::start(profile.clone(), AfterOnline::Flood(FLOOD));
    let mut options = common::options(server.port);
    options.event_capacity = BOUND;
    let (handle, mut events) =
        herald_tokio::connect(plain_config(&profile), options).expect("connect");
    assert_eq!(events.bound(), BOUND);
    let mut presences = 0usize;
    let online = Instant::now() + Duration::from_secs(20);
    loop {
        let event = tokio::time::timeout_at(online.into(), events.recv())
            .await
            .expect("online in time")
            .expect("events go on");
        match event {
            Event::Core(CoreEvent::Online { .. }) => break,
            Event::Core(CoreEvent::Presence(_)) => presences += 1,
            _ => {}
        }
    }

    // The application looks away for two seconds.
    let rss_before = resident_bytes();
    let mut most = 0;
    let mut written_at = Vec::new();
    for tick in 0..40 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        most = most.max(events.len());
        assert!(events.len() <= BOUND, "{} events waiting", events.len());
        if tick % 10 == 9 {
            written_at.push(server.flooded.load(Ordering::SeqCst));
        }
    }
    let rss_growth = resident_bytes().saturating_sub(rss_before);
    let total = FLOOD * FLOOD_STANZA.len();
    let stalled = *written_at.last().unwrap();
    eprintln!(
        "channel at most {most}/{BOUND}; server wrote {stalled} of {total} bytes \
         (per 0.5 s: {written_at:?}); resident memory grew {rss_growth} bytes"
    );
    assert_eq!(most, BOUND, "the channel filled up");
    assert!(stalled < total / 2, "the server was never held back");
    assert_eq!(
        written_at[2], written_at[3],
        "the server kept writing: the session kept reading"
    );
    assert!(rss_growth < 8 << 20, "memory grew by {rss_growth} bytes");

    // Draining again: everything arrives.
    let drained = Instant::now() + Duration::from_secs(120);
    while presences < FLOOD {
        let event = tokio::time::timeout_at(drained.into(), events.recv())
            .await
            .unwrap_or_else(|_| panic!("only {presences} of {FLOOD} presences"))
            .expect("events go on");
        assert!(events.len() <= BOUND);
        if let Event::Core(CoreEvent::Presence(p)) = event {
            assert_eq!(p.status, "flood");
            presences += 1;
        }
    }
    assert_eq!(server.flooded.load(Ordering::SeqCst), total);
    handle.close().await.unwrap();
    while let Some(event) = events.recv().await {
        if matches!(event, Event::Ended { .. }) {
            break;
        }
    }
}
