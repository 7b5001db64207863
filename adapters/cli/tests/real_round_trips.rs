//! Round trips from TCP connect to the initial presence on the wire for the `herald`
//! command, counted by the delaying proxy (`herald_testkit::flights`) in front of real
//! Prosody 0.12 and ejabberd 23.01, over STARTTLS (`--tls starttls`) and direct TLS
//! (`--tls direct`). The instant is the one the test read the `presence_sent` line: the
//! command prints it after its session wrote the presence. Each test asserts today's count
//! (`herald_testkit::flights::expected`). A missing server fails the test; nothing skips.

mod real_cli;

use std::time::Duration;

use herald_testkit::flights::FlightProxy;
use herald_testkit::flights::expected::{DIRECT_TLS_FIRST_LOGIN, Expected, STARTTLS_FIRST_LOGIN};
use herald_testkit::real::{Ejabberd, Prosody, RealServer};
use real_cli::Herald;

const ACCOUNTS: &[(&str, &str)] = &[("alice", "alice-pw"), ("bob", "bob-pw")];
/// Each direction's delay (the count does not depend on it).
const DELAY: Duration = Duration::from_millis(15);

/// `herald --tls MODE` through a proxy in front of `upstream`; asserts today's count.
fn cli_path(server: &dyn RealServer, upstream: u16, mode: &str, expected: Expected) {
    let proxy = FlightProxy::start(upstream, DELAY).expect("flight proxy");
    let mut alice = Herald::start_at(server, proxy.port(), "alice", &["--tls", mode]);
    let (_, seen) = alice.expect_at(server, "presence_sent", |_| true);
    let login = proxy.login_seen_at(seen);
    expected.assert_today(&format!("{} --tls {mode} herald", server.name()), &login);
    assert_eq!(alice.quit(server), 0);
}

fn prosody() -> Prosody {
    Prosody::start(ACCOUNTS).unwrap_or_else(|e| panic!("Prosody is required: {e}"))
}

fn ejabberd() -> Ejabberd {
    Ejabberd::start(ACCOUNTS).unwrap_or_else(|e| panic!("ejabberd is required: {e}"))
}

#[test]
fn prosody_starttls_first_login_cli() {
    let server = prosody();
    cli_path(&server, server.port(), "starttls", STARTTLS_FIRST_LOGIN);
}

#[test]
fn prosody_direct_tls_first_login_cli() {
    let server = prosody();
    cli_path(
        &server,
        server.direct_tls_port(),
        "direct",
        DIRECT_TLS_FIRST_LOGIN,
    );
}

#[test]
fn ejabberd_starttls_first_login_cli() {
    let server = ejabberd();
    cli_path(&server, server.port(), "starttls", STARTTLS_FIRST_LOGIN);
}

#[test]
fn ejabberd_direct_tls_first_login_cli() {
    let server = ejabberd();
    cli_path(
        &server,
        server.direct_tls_port(),
        "direct",
        DIRECT_TLS_FIRST_LOGIN,
    );
}
