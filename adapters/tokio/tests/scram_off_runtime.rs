//! While the core authenticates, server input (which makes it derive the SCRAM key with
//! PBKDF2) is handed to it on tokio's blocking pool, never on a runtime worker: the driver
//! marks that work with a `tracing` event, and this test checks on which thread it ran.

mod common;

use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use common::{AfterOnline, PlainServer, plain_config, plain_profile};
use herald_core::Event as CoreEvent;
use herald_tokio::Event;

/// Records the thread of every `authenticating_off_the_runtime` event.
#[derive(Clone, Default)]
struct Threads(Arc<Mutex<Vec<ThreadId>>>);

impl tracing::Subscriber for Threads {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.name() == "authenticating_off_the_runtime"
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if event.metadata().name() == "authenticating_off_the_runtime" {
            self.0.lock().unwrap().push(std::thread::current().id());
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

// Current-thread runtime: every runtime worker is this thread.
#[tokio::test]
async fn scram_input_is_handled_on_the_blocking_pool() {
    let threads = Threads::default();
    // Global: the blocking pool's threads must see it too. This binary has one test.
    tracing::subscriber::set_global_default(threads.clone()).unwrap();
    let profile = plain_profile();
    let server = PlainServer::start(profile.clone(), AfterOnline::Nothing);
    let (handle, mut events) =
        herald_tokio::connect(plain_config(&profile), common::options(server.port))
            .expect("connect");
    loop {
        let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
            .await
            .expect("online in time")
            .expect("events go on");
        if matches!(event, Event::Core(CoreEvent::Online { .. })) {
            break;
        }
    }
    let seen = threads.0.lock().unwrap().clone();
    // SCRAM: the server-first message (PBKDF2 here) and the server-final message.
    assert!(!seen.is_empty(), "no input while authenticating?");
    let runtime = std::thread::current().id();
    assert!(
        seen.iter().all(|t| *t != runtime),
        "{seen:?} vs {runtime:?}"
    );
    handle.close().await.unwrap();
}
