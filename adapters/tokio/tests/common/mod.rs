//! For herald-tokio's own tests: connect options for a loopback server, a `tracing`
//! subscriber that counts the driver's waits, and the CPU time and resident memory of the
//! process. The servers are the test kit's ([`herald_testkit::loopback`]).
#![allow(dead_code, unreachable_pub, unused_imports)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use herald_io::ConnectOptions;
use herald_io::trace::DRIVER_TARGET;

pub use herald_testkit::loopback::{
    AfterOnline, FLOOD_STANZA, PlainServer, plain_config, plain_profile, redirector,
};

/// Options for `port` on 127.0.0.1 with short reconnect delays.
pub fn options(port: u16) -> ConnectOptions {
    ConnectOptions::new()
        .server("127.0.0.1", port)
        .reconnect_delays(Duration::from_millis(50), Duration::from_millis(200))
}

/// Counts the driver's waits (target [`DRIVER_TARGET`]).
#[derive(Debug, Clone, Default)]
pub struct WaitCounter {
    pub waits: Arc<AtomicUsize>,
}

impl tracing::Subscriber for WaitCounter {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target() == DRIVER_TARGET
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if event.metadata().target() == DRIVER_TARGET {
            self.waits.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// CPU time the calling thread has used (Linux: `/proc/thread-self/schedstat`).
pub fn thread_cpu_time() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    let nanos: u64 = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("schedstat's first field");
    Duration::from_nanos(nanos)
}

/// The resident memory of the process (Linux: `/proc/self/statm`, pages of 4 KiB).
pub fn resident_bytes() -> usize {
    let text = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: usize = text
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("statm's second field");
    pages * 4096
}
