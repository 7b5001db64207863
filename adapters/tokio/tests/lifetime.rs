//! How long a session lives (the rule in the crate docs): dropping every `Handle` leaves it
//! running, its events still coming, and the task does not spin on the closed command
//! channel (before a fix, `commands.recv()` returned `None` on every turn and burnt a core:
//! the oracle is the count of the loop's waits, which does not depend on the machine's
//! speed); dropping the `Events` receiver closes it as `close()` would; a session whose
//! events were never kept does not log in.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{PlainServer, WaitCounter, plain_config, plain_profile};
use herald_tokio::Error;

/// Waits until connection 0's transcript holds `needle` (10 s at most).
async fn server_saw(server: &PlainServer, needle: &str) -> String {
    for _ in 0..200 {
        let text = server.server.transcript(0);
        if text.contains(needle) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the server never saw {needle:?}: {}",
        server.server.transcript(0)
    );
}

// A current-thread runtime: the session task runs on this thread, and the thread-local
// subscriber sees the driver's waits.
#[tokio::test]
async fn dropping_every_handle_leaves_the_session_running_without_spinning() {
    let counter = WaitCounter::default();
    let _guard = tracing::subscriber::set_default(counter.clone());
    let profile = plain_profile();
    let server = PlainServer::start(profile.clone(), common::AfterOnline::Nothing);
    let (handle, mut events) =
        herald_tokio::connect(plain_config(&profile), common::options(server.port))
            .expect("connect");
    events.wait_online().await.expect("online");
    while !events.is_empty() {
        events.recv().await;
    }

    let waits = counter.waits.load(Ordering::SeqCst);
    drop(handle);
    // Half a second with no handle: no end, no close, and a handful of waits at most.
    let quiet = tokio::time::timeout(Duration::from_millis(500), events.recv()).await;
    assert!(quiet.is_err(), "an event came: {quiet:?}");
    let waits = counter.waits.load(Ordering::SeqCst) - waits;
    assert!(waits <= 5, "{waits} waits in 500 ms without handles");
    let transcript = server.server.transcript(0);
    assert!(
        !transcript.contains("unavailable") && !transcript.contains("</stream:stream>"),
        "closed without being asked: {transcript}"
    );
    assert_eq!(server.server.accepted(), 1);

    // The events receiver is the last owner: dropping it closes the session.
    drop(events);
    let transcript = server_saw(&server, "</stream:stream>").await;
    assert!(transcript.contains("unavailable"), "{transcript}");
    assert_eq!(server.server.accepted(), 1, "no reconnect after the close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_events_closes_the_session_and_ends_the_handles() {
    let profile = plain_profile();
    let server = PlainServer::start(profile.clone(), common::AfterOnline::Nothing);
    let (handle, mut events) =
        herald_tokio::connect(plain_config(&profile), common::options(server.port))
            .expect("connect");
    events.wait_online().await.expect("online");
    drop(events);
    let transcript = server_saw(&server, "</stream:stream>").await;
    assert!(transcript.contains("unavailable"), "{transcript}");
    let mut ended = false;
    for _ in 0..200 {
        if handle.set_status("still there?").await == Err(Error::Ended) {
            ended = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ended, "the task still takes commands after the close");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.server.accepted(), 1, "no reconnect after the close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_whose_events_nobody_kept_connects_nothing() {
    let profile = plain_profile();
    let server = PlainServer::start(profile.clone(), common::AfterOnline::Nothing);
    let (handle, _) = herald_tokio::connect(plain_config(&profile), common::options(server.port))
        .expect("connect");
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if handle.set_presence(herald_tokio::Presence::Away).await == Err(Error::Ended) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(ended.is_ok(), "the session did not end");
    // The task may have started connecting before the receiver was dropped (it runs on
    // another worker): at most that connection, and no login on it.
    assert!(server.server.accepted() <= 1);
    let transcript = server.server.transcript(0);
    assert!(
        !transcript.contains("<auth") && !transcript.contains("<presence"),
        "{transcript}"
    );
}
