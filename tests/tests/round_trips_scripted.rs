//! Round trips to the initial presence against the scripted server on a loopback socket
//! with direct TLS, through the delaying proxy (`herald_testkit::flights`): the path where
//! issue 12's FAST token (XEP-0484) is proven, since Prosody 0.12 cannot offer FAST. Today
//! the client has no token and logs in as on any direct TLS server.

use std::time::Duration;

use herald_core::Event as CoreEvent;
use herald_testkit::ServerProfile;
use herald_testkit::config_for;
use herald_testkit::flights::FlightProxy;
use herald_testkit::flights::expected::FAST_DIRECT_TLS;
use herald_testkit::loopback::LoopbackServer;
use herald_tokio::{ConnectOptions, Event, TlsMode};

mod tokio_common;

const DELAY: Duration = Duration::from_millis(15);

/// The Prosody-like scripted server behind TLS from the first byte (no STARTTLS offered).
fn direct_tls_server() -> (LoopbackServer, ServerProfile) {
    let mut profile = ServerProfile::prosody_like();
    profile.starttls = false;
    let played = profile.clone();
    let server = LoopbackServer::start(move |_, conn| {
        if conn.accept_direct_tls().is_ok() {
            conn.serve(&played);
        }
    });
    (server, profile)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_direct_tls_first_login_tokio() {
    let (server, profile) = direct_tls_server();
    let proxy = FlightProxy::start(server.port, DELAY).expect("flight proxy");
    let mut options = ConnectOptions::default();
    options.server = Some(("127.0.0.1".into(), proxy.port()));
    options.tls = TlsMode::Direct;
    options.ca_file = Some(server.ca_file().to_path_buf());
    let (handle, mut events) = herald_tokio::connect(config_for(&profile), options);
    tokio_common::until(
        &mut events,
        "PresenceSent",
        Duration::from_secs(20),
        tokio_common::core(|e| matches!(e, CoreEvent::PresenceSent { .. })),
    )
    .await;
    let seen = std::time::Instant::now();
    let login = tokio::task::block_in_place(|| proxy.login_seen_at(seen));
    FAST_DIRECT_TLS.assert_today("scripted direct TLS herald-tokio", &login);
    assert!(!server.transcript(0).contains("<starttls"));
    handle.close().await.expect("close");
    tokio_common::until(&mut events, "Ended", Duration::from_secs(10), |e| {
        matches!(e, Event::Ended { .. })
    })
    .await;
}
