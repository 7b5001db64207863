//! Logging in through a [`FlightProxy`] with herald-tokio or herald-std and reading the
//! round trips up to the initial presence. Shared by `tests/real_round_trips.rs` and the
//! `round_trips` example (`#[path]`), so that both measure the same way.
#![allow(dead_code, unreachable_pub)] // each user takes a part

use std::time::{Duration, Instant};

use herald_core::{Config, Event as CoreEvent};
use herald_testkit::flights::{FlightProxy, Login};
use herald_testkit::real::RealServer;
use herald_tokio::TlsMode;

/// The accounts the servers are started with (subscribed to each other).
pub const ACCOUNTS: &[(&str, &str)] = &[("alice", "alice-pw"), ("bob", "bob-pw")];

/// How long a login through the proxy may take.
pub const WAIT: Duration = Duration::from_secs(30);

/// How the client reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// Plain TCP, then STARTTLS, on the server's c2s port.
    StartTls,
    /// TLS from the first byte (XEP-0368), on the server's direct TLS port.
    Direct,
}

impl Tls {
    /// The server port the proxy goes to.
    pub fn upstream(self, server: &dyn RealServer) -> u16 {
        match self {
            Tls::StartTls => server.port(),
            Tls::Direct => server.direct_tls_port(),
        }
    }

    fn mode(self) -> TlsMode {
        match self {
            Tls::StartTls => TlsMode::StartTls,
            Tls::Direct => TlsMode::Direct,
        }
    }

    /// For messages.
    pub fn name(self) -> &'static str {
        match self {
            Tls::StartTls => "STARTTLS",
            Tls::Direct => "direct TLS",
        }
    }
}

/// A proxy in front of `server`'s port for `tls`, delaying each direction by `delay`.
pub fn proxy(server: &dyn RealServer, tls: Tls, delay: Duration) -> FlightProxy {
    FlightProxy::start(tls.upstream(server), delay)
        .unwrap_or_else(|e| panic!("starting the flight proxy: {e}"))
}

/// alice's account, resource `desk`.
pub fn alice() -> Config {
    Config::new("alice@localhost/desk", "alice-pw").expect("valid config")
}

/// Connect options for the proxy in front of `server`, trusting its test CA.
pub fn options(
    server: &dyn RealServer,
    proxy: &FlightProxy,
    tls: Tls,
) -> herald_io::ConnectOptions {
    let mut o = herald_io::ConnectOptions::default();
    o.server = Some(("127.0.0.1".into(), proxy.port()));
    o.tls = tls.mode();
    o.ca_file = Some(server.ca_pem_path().to_path_buf());
    o.reconnect_initial = Duration::from_millis(100);
    o.reconnect_max = Duration::from_millis(500);
    o.trace = std::env::var_os("HERALD_TEST_TRACE").is_some();
    o
}

fn is_presence_sent(event: &CoreEvent) -> bool {
    matches!(event, CoreEvent::PresenceSent { .. })
}

/// herald-tokio: waits for the next `PresenceSent` and returns the instant it was seen.
pub async fn tokio_presence_seen(events: &mut herald_tokio::Events, what: &str) -> Instant {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(herald_tokio::Event::Core(e))) if is_presence_sent(&e) => {
                return Instant::now();
            }
            Ok(Some(event)) => seen.push(event),
            Ok(None) => panic!("{what}: events ended before PresenceSent: {seen:#?}"),
            Err(_) => panic!("{what}: no PresenceSent within {WAIT:?}: {seen:#?}"),
        }
    }
}

/// One first login with herald-tokio through `proxy`; closes the session afterwards.
pub async fn tokio_login(server: &dyn RealServer, proxy: &FlightProxy, tls: Tls) -> Login {
    tokio_login_with(server, proxy, tls, alice()).await
}

/// [`tokio_login`] with `config` (a feature cache, a token...).
pub async fn tokio_login_with(
    server: &dyn RealServer,
    proxy: &FlightProxy,
    tls: Tls,
    config: Config,
) -> Login {
    let what = format!("{} {} herald-tokio", server.name(), tls.name());
    let (handle, mut events) =
        herald_tokio::connect(config, options(server, proxy, tls)).expect("connect");
    let seen = tokio_presence_seen(&mut events, &what).await;
    // Counted while the session is still up: nothing it does afterwards can blur the count.
    let login = tokio::task::block_in_place(|| proxy.login_seen_at(seen));
    let _ = handle.close().await;
    login
}

/// A first login with herald-tokio, then the proxy cuts the connection, and the login of
/// the reconnect: both counts.
pub async fn tokio_login_and_reconnect(
    server: &dyn RealServer,
    proxy: &FlightProxy,
    tls: Tls,
) -> (Login, Login) {
    let what = format!("{} {} herald-tokio reconnect", server.name(), tls.name());
    let (handle, mut events) =
        herald_tokio::connect(alice(), options(server, proxy, tls)).expect("connect");
    let first_seen = tokio_presence_seen(&mut events, &what).await;
    let first = tokio::task::block_in_place(|| proxy.login_seen_at(first_seen));
    proxy.cut();
    let again = tokio_presence_seen(&mut events, &what).await;
    let second = tokio::task::block_in_place(|| proxy.login_seen_at(again));
    let _ = handle.close().await;
    (first, second)
}

/// herald-tokio: logs in through `proxy` (stream management on, a link check after
/// `link_check`), lets the acknowledgements settle, blackholes the connection, and measures
/// the resumption that follows the dead link. Returns the first login and the resumption
/// ([`FlightProxy::answered_at`]: the round trips from the new connection's TCP accept to
/// `<resumed/>` back, and the wall time to `Resumed`).
pub async fn tokio_login_and_resume(
    server: &dyn RealServer,
    proxy: &FlightProxy,
    tls: Tls,
    mut config: Config,
    link_check: Duration,
) -> (Login, Login) {
    let what = format!("{} {} herald-tokio resume", server.name(), tls.name());
    config.timeouts.link_check = Some(link_check);
    config.timeouts.link_answer = link_check;
    let (handle, mut events) =
        herald_tokio::connect(config, options(server, proxy, tls)).expect("connect");
    let first_seen = tokio_presence_seen(&mut events, &what).await;
    let first = tokio::task::block_in_place(|| proxy.login_seen_at(first_seen));
    // The client asks for an ack after `ack_delay` (1 s): nothing left to resend.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(proxy.blackhole(), 1, "{what}: one connection to cut");
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut seen = Vec::new();
    let resumed_seen = loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(herald_tokio::Event::Core(CoreEvent::Resumed { resent }))) => {
                assert_eq!(resent, 0, "{what}: nothing was waiting for an ack");
                break Instant::now();
            }
            Ok(Some(event)) => seen.push(event),
            Ok(None) => panic!("{what}: events ended before Resumed: {seen:#?}"),
            Err(_) => panic!("{what}: no Resumed within {WAIT:?}: {seen:#?}"),
        }
    };
    let resume = proxy.answered_at(resumed_seen);
    let _ = handle.close().await;
    (first, resume)
}

/// One first login with herald-std through `proxy`; closes the session afterwards.
pub fn std_login(server: &dyn RealServer, proxy: &FlightProxy, tls: Tls) -> Login {
    let what = format!("{} {} herald-std", server.name(), tls.name());
    let mut session = herald_std::Session::connect(alice(), options(server, proxy, tls))
        .unwrap_or_else(|e| panic!("{what}: connect: {e}"));
    let seen = std_presence_seen(&mut session, &what);
    let login = proxy.login_seen_at(seen);
    let _ = session.close();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline && session.pump(Duration::from_millis(100)).is_ok() {}
    login
}

/// herald-std: pumps until `PresenceSent` and returns the instant `pump` handed it out.
pub fn std_presence_seen(session: &mut herald_std::Session, what: &str) -> Instant {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let events = session
            .pump(Duration::from_millis(200))
            .unwrap_or_else(|e| panic!("{what}: pump: {e}; seen {seen:#?}"));
        let now = Instant::now();
        for event in events {
            if matches!(&event, herald_std::Event::Core(e) if is_presence_sent(e)) {
                return now;
            }
            seen.push(event);
        }
    }
    panic!("{what}: no PresenceSent within {WAIT:?}: {seen:#?}");
}
