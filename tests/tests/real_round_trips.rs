//! Round trips from TCP connect to the initial presence on the wire, counted by the
//! delaying proxy (`herald_testkit::flights`) in front of real Prosody 0.12 and ejabberd 23.01
//! (Debian packages), for each way in: STARTTLS and direct TLS, herald-tokio and
//! herald-std, a reconnect, and a Prosody that offers SASL2 and Bind2. Each test asserts the
//! count the client takes today (`herald_testkit::flights::expected`); issue 12's core work
//! lowers those numbers towards their targets. The count does not depend on the delay (only
//! the wall time does). A missing server fails the test; nothing here skips.
//!
//! Run with `--nocapture` to see each count and wall time.

mod round_trips_common;

use std::time::Duration;

use herald_testkit::flights::expected::{
    DIRECT_TLS_FIRST_LOGIN, DIRECT_TLS_RECONNECT, DIRECT_TLS_RESUME, DIRECT_TLS_STALE_CACHE,
    Expected, SASL2_STARTTLS_FIRST_LOGIN, STARTTLS_FIRST_LOGIN, STARTTLS_RESUME,
};
use herald_testkit::real::{Ejabberd, Prosody, RealServer};
use round_trips_common::{
    ACCOUNTS, Tls, alice, proxy, std_login, tokio_login, tokio_login_and_reconnect,
    tokio_login_and_resume,
};

/// Each direction's delay: long enough that a round trip stands out from the machine's
/// own latency, short enough for a quick test.
const DELAY: Duration = Duration::from_millis(15);

fn prosody() -> Prosody {
    Prosody::start(ACCOUNTS).unwrap_or_else(|e| panic!("Prosody is required: {e}"))
}

fn prosody_sasl2() -> Prosody {
    Prosody::start_with_sasl2(ACCOUNTS, true)
        .unwrap_or_else(|e| panic!("Prosody with prosody-modules is required: {e}"))
}

fn ejabberd() -> Ejabberd {
    Ejabberd::start(ACCOUNTS).unwrap_or_else(|e| panic!("ejabberd is required: {e}"))
}

/// `"prosody"`, `"ejabberd"`, or `"prosody (SASL2 + Bind2)"` for the Prosody that offers them.
fn label(server: &dyn RealServer, expected: Expected) -> String {
    if expected == SASL2_STARTTLS_FIRST_LOGIN {
        format!("{} (SASL2 + Bind2)", server.name())
    } else {
        server.name().to_string()
    }
}

async fn tokio_path(server: &dyn RealServer, tls: Tls, expected: Expected) {
    let proxy = proxy(server, tls, DELAY);
    let login = tokio_login(server, &proxy, tls).await;
    let what = format!("{} {} herald-tokio", label(server, expected), tls.name());
    expected.assert_today(&what, &login);
}

fn std_path(server: &dyn RealServer, tls: Tls, expected: Expected) {
    let proxy = proxy(server, tls, DELAY);
    let login = std_login(server, &proxy, tls);
    let what = format!("{} {} herald-std", label(server, expected), tls.name());
    expected.assert_today(&what, &login);
}

async fn tokio_reconnect_path(server: &dyn RealServer, tls: Tls, first: Expected, again: Expected) {
    let proxy = proxy(server, tls, DELAY);
    let (login, reconnect) = tokio_login_and_reconnect(server, &proxy, tls).await;
    let what = format!("{} {} herald-tokio", server.name(), tls.name());
    first.assert_today(&what, &login);
    assert_eq!((login.connection, reconnect.connection), (0, 1));
    again.assert_today(&format!("{what}, reconnect"), &reconnect);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_starttls_first_login_tokio() {
    tokio_path(&prosody(), Tls::StartTls, STARTTLS_FIRST_LOGIN).await;
}

#[test]
fn prosody_starttls_first_login_std() {
    std_path(&prosody(), Tls::StartTls, STARTTLS_FIRST_LOGIN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_direct_tls_first_login_tokio() {
    tokio_path(&prosody(), Tls::Direct, DIRECT_TLS_FIRST_LOGIN).await;
}

#[test]
fn prosody_direct_tls_first_login_std() {
    std_path(&prosody(), Tls::Direct, DIRECT_TLS_FIRST_LOGIN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_direct_tls_reconnect_tokio() {
    tokio_reconnect_path(
        &prosody(),
        Tls::Direct,
        DIRECT_TLS_FIRST_LOGIN,
        DIRECT_TLS_RECONNECT,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_sasl2_starttls_first_login_tokio() {
    tokio_path(&prosody_sasl2(), Tls::StartTls, SASL2_STARTTLS_FIRST_LOGIN).await;
}

#[test]
fn prosody_sasl2_starttls_first_login_std() {
    std_path(&prosody_sasl2(), Tls::StartTls, SASL2_STARTTLS_FIRST_LOGIN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ejabberd_starttls_first_login_tokio() {
    tokio_path(&ejabberd(), Tls::StartTls, STARTTLS_FIRST_LOGIN).await;
}

#[test]
fn ejabberd_starttls_first_login_std() {
    std_path(&ejabberd(), Tls::StartTls, STARTTLS_FIRST_LOGIN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ejabberd_direct_tls_first_login_tokio() {
    tokio_path(&ejabberd(), Tls::Direct, DIRECT_TLS_FIRST_LOGIN).await;
}

#[test]
fn ejabberd_direct_tls_first_login_std() {
    std_path(&ejabberd(), Tls::Direct, DIRECT_TLS_FIRST_LOGIN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ejabberd_direct_tls_reconnect_tokio() {
    tokio_reconnect_path(
        &ejabberd(),
        Tls::Direct,
        DIRECT_TLS_FIRST_LOGIN,
        DIRECT_TLS_RECONNECT,
    )
    .await;
}

/// A feature cache that names a mechanism the server does not offer (SCRAM-SHA-256: Prosody
/// 0.12 and ejabberd 23.01 offer SCRAM-SHA-1): the early `<auth/>` is refused and the login
/// goes the slow way, one round trip more, online all the same.
async fn stale_cache_path(server: &dyn RealServer) {
    let proxy = proxy(server, Tls::Direct, DELAY);
    let mut config = round_trips_common::alice();
    let mut stale = herald_core::FeatureCache::default();
    stale.mechanisms = vec!["SCRAM-SHA-256".into()];
    config.feature_cache = Some(stale);
    let login = round_trips_common::tokio_login_with(server, &proxy, Tls::Direct, config).await;
    DIRECT_TLS_STALE_CACHE.assert_today(
        &format!("{} direct TLS herald-tokio", server.name()),
        &login,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_direct_tls_stale_cache_tokio() {
    stale_cache_path(&prosody()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ejabberd_direct_tls_stale_cache_tokio() {
    stale_cache_path(&ejabberd()).await;
}

/// A cut (blackholed) session resumes: the round trips from the new connection's accept
/// to `<resumed/>` back, asserted.
async fn resume_path(server: &dyn RealServer, tls: Tls, expected: Expected) {
    let proxy = proxy(server, tls, DELAY);
    let (_, resume) =
        tokio_login_and_resume(server, &proxy, tls, alice(), Duration::from_secs(1)).await;
    let what = format!("{} {} herald-tokio", server.name(), tls.name());
    println!(
        "{what}: resume in {} round trips, {:?} from TCP connect to Resumed",
        resume.round_trips, resume.wall
    );
    assert_eq!(
        resume.round_trips, expected.today,
        "{what}: {}: client flights {:#?}",
        expected.path, resume.client_flights
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_resume_starttls_tokio() {
    let server = Prosody::start_with_smacks(ACCOUNTS, Duration::from_secs(60), false)
        .unwrap_or_else(|e| panic!("Prosody is required: {e}"));
    resume_path(&server, Tls::StartTls, STARTTLS_RESUME).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_resume_direct_tls_tokio() {
    let server = Prosody::start_with_smacks(ACCOUNTS, Duration::from_secs(60), false)
        .unwrap_or_else(|e| panic!("Prosody is required: {e}"));
    resume_path(&server, Tls::Direct, DIRECT_TLS_RESUME).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_sasl2_resume_direct_tls_tokio() {
    let server = Prosody::start_with_smacks(ACCOUNTS, Duration::from_secs(60), true)
        .unwrap_or_else(|e| panic!("Prosody is required: {e}"));
    resume_path(&server, Tls::Direct, DIRECT_TLS_RESUME).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ejabberd_resume_direct_tls_tokio() {
    let server = Ejabberd::start_with_stream_mgmt(ACCOUNTS, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("ejabberd is required: {e}"));
    resume_path(&server, Tls::Direct, DIRECT_TLS_RESUME).await;
}
