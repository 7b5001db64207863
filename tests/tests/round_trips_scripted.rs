//! Round trips to the initial presence against the scripted server on a loopback socket
//! with direct TLS, through the delaying proxy (`herald_testkit::flights`): the path where
//! issue 12's FAST token (XEP-0484) is proven, since Prosody 0.12 cannot offer FAST. The
//! first login (SASL2, SCRAM, Bind2 inline) asks for a token; the proxy cuts the
//! connection; the reconnect logs in with the token, sent with the first header after the
//! TLS handshake: two round trips.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald_core::{Event as CoreEvent, UserAgent};
use herald_testkit::ServerProfile;
use herald_testkit::config_for;
use herald_testkit::flights::FlightProxy;
use herald_testkit::flights::expected::{
    DIRECT_TLS_FIRST_LOGIN, FAST_DIRECT_TLS, FAST_INLINE_RESUME,
};
use herald_testkit::loopback::{LoopbackServer, Then};
use herald_tokio::{ConnectOptions, Event, Events, TlsMode};

mod tokio_common;

const DELAY: Duration = Duration::from_millis(15);

/// The scripted server with SASL2, Bind2 and FAST behind TLS from the first byte; the
/// tokens it issues outlive a connection (one profile for all, as a real server's store).
fn fast_server() -> (LoopbackServer, ServerProfile) {
    serve_shared(ServerProfile::fast_login())
}

/// `profile` behind direct TLS, one profile for all connections (tokens, SM sessions).
fn serve_shared(mut profile: ServerProfile) -> (LoopbackServer, ServerProfile) {
    profile.starttls = false;
    let shared = Arc::new(Mutex::new(profile.clone()));
    let server = LoopbackServer::start(move |_, conn| {
        if conn.accept_direct_tls().is_err() {
            return;
        }
        let played = shared.lock().expect("profile").clone();
        conn.serve_with(&played, |scripted, _| {
            *shared.lock().expect("profile") = scripted.profile.clone();
            Then::Serve
        });
    });
    (server, profile)
}

async fn presence_seen(events: &mut Events, what: &str) -> Instant {
    tokio_common::until(
        events,
        what,
        Duration::from_secs(20),
        tokio_common::core(|e| matches!(e, CoreEvent::PresenceSent { .. })),
    )
    .await;
    Instant::now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_direct_tls_fast_token_reconnect_tokio() {
    let (server, profile) = fast_server();
    let proxy = FlightProxy::start(server.port, DELAY).expect("flight proxy");
    let mut options = ConnectOptions::default();
    options.server = Some(("127.0.0.1".into(), proxy.port()));
    options.tls = TlsMode::Direct;
    options.ca_file = Some(server.ca_file().to_path_buf());
    options.reconnect_initial = Duration::from_millis(100);
    let mut config = config_for(&profile);
    config.user_agent = Some(UserAgent::new("d4565fa7-4d72-4749-b3d3-740edbf87770"));
    let (handle, mut events) = herald_tokio::connect(config, options).expect("connect");

    let seen = presence_seen(&mut events, "the first login").await;
    let first = tokio::task::block_in_place(|| proxy.login_seen_at(seen));
    DIRECT_TLS_FIRST_LOGIN.assert_today("scripted direct TLS (SASL2) herald-tokio", &first);
    let token = handle.fast_token().await.expect("live").expect("a token");
    assert_eq!(token.mechanism, "HT-SHA-256-NONE");

    proxy.cut();
    let seen = presence_seen(&mut events, "the reconnect").await;
    let again = tokio::task::block_in_place(|| proxy.login_seen_at(seen));
    assert_eq!((first.connection, again.connection), (0, 1));
    FAST_DIRECT_TLS.assert_today("scripted direct TLS, FAST token, herald-tokio", &again);
    assert!(server.transcript(1).contains("mechanism='HT-SHA-256-NONE'"));
    assert!(!server.transcript(1).contains("SCRAM"));

    handle.close().await.expect("close");
    tokio_common::until(&mut events, "Ended", Duration::from_secs(10), |e| {
        matches!(e, Event::Ended { .. })
    })
    .await;
}

/// Stream management inline too (`fast_login_with_sm`): the first login enables it in
/// Bind2; the proxy blackholes the link; the client's link check finds it dead, and the
/// reconnect resumes inside the FAST `<authenticate/>`: TLS plus one round trip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_direct_tls_fast_inline_resume_tokio() {
    let (server, profile) = serve_shared(ServerProfile::fast_login_with_sm());
    let proxy = FlightProxy::start(server.port, DELAY).expect("flight proxy");
    let mut options = ConnectOptions::default();
    options.server = Some(("127.0.0.1".into(), proxy.port()));
    options.tls = TlsMode::Direct;
    options.ca_file = Some(server.ca_file().to_path_buf());
    let mut config = config_for(&profile);
    config.user_agent = Some(UserAgent::new("d4565fa7-4d72-4749-b3d3-740edbf87770"));
    config.timeouts.link_check = Some(Duration::from_secs(1));
    config.timeouts.link_answer = Duration::from_secs(1);
    let (handle, mut events) = herald_tokio::connect(config, options).expect("connect");
    presence_seen(&mut events, "the first login").await;
    assert!(handle.fast_token().await.expect("live").is_some());
    // Acknowledgements settle (the client asks after a second): nothing to resend.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(proxy.blackhole(), 1);
    tokio_common::until(
        &mut events,
        "Resumed",
        Duration::from_secs(20),
        tokio_common::core(|e| matches!(e, CoreEvent::Resumed { resent: 0 })),
    )
    .await;
    let resume = tokio::task::block_in_place(|| proxy.answered_at(Instant::now()));
    println!(
        "scripted direct TLS, FAST + inline resume: {} round trips, {:?} to Resumed",
        resume.round_trips, resume.wall
    );
    assert_eq!(resume.connection, 1);
    assert_eq!(
        resume.round_trips, FAST_INLINE_RESUME.today,
        "{}: {:#?}",
        FAST_INLINE_RESUME.path, resume.client_flights
    );
    let transcript = server.transcript(1);
    assert!(
        transcript.contains("mechanism='HT-SHA-256-NONE'"),
        "{transcript}"
    );
    assert!(transcript.contains("<resume "), "{transcript}");
    handle.close().await.expect("close");
}
