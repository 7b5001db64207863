//! Shared by the herald-tokio test binaries (each uses a part, hence the allow).
#![allow(dead_code)]

use std::time::Duration;

use herald_core::Event as CoreEvent;
use herald_tokio::{Event, Events};

/// Events until one matches `want`, returning all seen up to it; panics with the history
/// after `wait` or when the events end.
pub(crate) async fn until(
    events: &mut Events,
    what: &str,
    wait: Duration,
    want: impl Fn(&Event) -> bool,
) -> Vec<Event> {
    let mut seen = Vec::new();
    let deadline = tokio::time::sleep(wait);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(e) => {
                    let done = want(&e);
                    seen.push(e);
                    if done {
                        return seen;
                    }
                }
                None => panic!("events ended while waiting for {what}: {seen:#?}"),
            },
            _ = &mut deadline => panic!("timed out waiting for {what}: {seen:#?}"),
        }
    }
}

/// Lifts a predicate on core events to adapter events.
pub(crate) fn core(want: impl Fn(&CoreEvent) -> bool) -> impl Fn(&Event) -> bool {
    move |e| matches!(e, Event::Core(c) if want(c))
}
