//! Shared by the supervisor tests: each attempt's client logs in to the scripted server in
//! memory (`herald_testkit::Pair`) on a virtual clock; the supervisor is told how each
//! connection ended and says what comes next.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

use herald_core::{Config, DisconnectReason, Event, SeededEntropy};
use herald_io::ConnectOptions;
use herald_io::supervisor::{EndReason, Next, Retry, Supervisor};
use herald_io::target::Target;
use herald_testkit::{Pair, ServerProfile, replies};

pub const SECOND: Duration = Duration::from_secs(1);

pub fn options(initial: Duration, max: Duration) -> ConnectOptions {
    let mut options = ConnectOptions::default();
    options.reconnect_initial = initial;
    options.reconnect_max = max;
    options
}

pub fn supervisor(config: Config) -> Supervisor {
    Supervisor::new(config, &options(SECOND, 60 * SECOND), SeededEntropy::new(9))
}

pub fn starttls_target() -> Target {
    Target {
        host: "localhost".into(),
        port: 5222,
        direct_tls: false,
    }
}

/// Starts an attempt: the supervisor's client, connected to `target` and logged in (as far
/// as the server lets it) at `now`. Every event goes through `observe`, as in an adapter.
pub fn attempt(
    sup: &mut Supervisor,
    profile: &ServerProfile,
    target: &Target,
    now: Instant,
) -> Pair {
    let client = sup
        .next_client(SeededEntropy::new(7))
        .expect("valid config");
    let mut pair = Pair::with_client(profile.clone(), client);
    pair.now = now;
    sup.connected(target);
    pair.connect();
    for event in &pair.events {
        sup.observe(event);
    }
    pair
}

/// Ends the attempt (the connection drops unless it has ended already) and asks the
/// supervisor what comes next.
pub fn finish(sup: &mut Supervisor, pair: &mut Pair) -> (DisconnectReason, Next) {
    let seen = pair.events.len();
    if !pair.client().is_closed() {
        pair.eof().drive();
    }
    for event in &pair.events[seen..] {
        sup.observe(event);
    }
    let reason = pair
        .events
        .iter()
        .find_map(|e| match e {
            Event::Disconnected { reason } => Some(reason.clone()),
            _ => None,
        })
        .expect("the connection ended");
    let next = sup.on_disconnected(&reason, pair.client(), pair.now);
    (reason, next)
}

pub fn retry(next: Next) -> Retry {
    match next {
        Next::Retry(retry) => retry,
        Next::End(end) => panic!("expected a retry, got the end: {end:?}"),
    }
}

pub fn end(next: Next) -> EndReason {
    match next {
        Next::End(end) => end,
        Next::Retry(retry) => panic!("expected the end, got a retry: {retry:?}"),
    }
}

/// An attempt the server redirects to `host` right after its stream header, before any
/// login step.
pub fn redirected_at_once(sup: &mut Supervisor, target: &Target, host: &str, now: Instant) -> Next {
    let client = sup
        .next_client(SeededEntropy::new(7))
        .expect("valid config");
    let mut pair = Pair::with_client(ServerProfile::prosody_like(), client);
    pair.now = now;
    pair.hold = true;
    sup.connected(target);
    pair.start();
    pair.inject(
        format!(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='r' \
             version='1.0'>{}",
            replies::see_other_host(host)
        )
        .as_bytes(),
    );
    finish(sup, &mut pair).1
}
