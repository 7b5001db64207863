//! Dropping every `Handle` closes the session, and the task waits for the server's close
//! without spinning: before the fix, `commands.recv()` returned `None` on every turn of the
//! loop and the task burnt a core until the close timed out (1.7 s of CPU in a 2 s wait,
//! measured with this test's printout; now a fraction of a millisecond). The oracle is the
//! count of the loop's waits, which does not depend on the machine's speed.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{PlainServer, WaitCounter, plain_config, plain_profile, thread_cpu_time};
use herald_core::{DisconnectReason, Event as CoreEvent};
use herald_tokio::{EndReason, Event};

// A current-thread runtime: the session task runs on this thread, so the thread's CPU time
// is the task's, and the thread-local subscriber sees the driver's events.
#[tokio::test]
async fn dropping_every_handle_closes_without_spinning_while_the_server_stays_silent() {
    let counter = WaitCounter::default();
    let _guard = tracing::subscriber::set_default(counter.clone());
    let mut profile = plain_profile();
    profile.answer_close = false; // the server never answers our </stream:stream>
    let server = PlainServer::start(profile.clone(), common::AfterOnline::Nothing);
    let mut config = plain_config(&profile);
    let close_wait = Duration::from_secs(2);
    config.timeouts.close = close_wait;
    let (handle, mut events) = herald_tokio::connect(config, common::options(server.port));
    let deadline = tokio::time::sleep(Duration::from_secs(20));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            event = events.recv() => {
                if matches!(event, Some(Event::Core(CoreEvent::Online { .. }))) { break }
                assert!(event.is_some(), "ended before online");
            }
            _ = &mut deadline => panic!("not online"),
        }
    }

    let (waits, cpu, start) = (
        counter.waits.load(Ordering::SeqCst),
        thread_cpu_time(),
        Instant::now(),
    );
    drop(handle);
    let last = loop {
        match tokio::time::timeout(Duration::from_secs(20), events.recv()).await {
            Ok(Some(Event::Ended { reason })) => break reason,
            Ok(Some(_)) => {}
            Ok(None) => panic!("events ended without Ended"),
            Err(_) => panic!("the close never finished"),
        }
    };
    let elapsed = start.elapsed();
    let waits = counter.waits.load(Ordering::SeqCst) - waits;
    let cpu = thread_cpu_time() - cpu;
    eprintln!("close after the last handle: {elapsed:?}, {waits} waits, {cpu:?} of CPU");
    assert_eq!(last, EndReason::Session(DisconnectReason::LocalClose));
    assert!(
        elapsed >= close_wait - Duration::from_millis(100),
        "the close did not wait for the silent server: {elapsed:?}"
    );
    // A handful of waits (the close, the timer), not one per poll of a closed channel.
    assert!(waits <= 20, "{waits} waits in {elapsed:?}");
    assert_eq!(server.accepted(), 1);
}
