//! The real-server launchers themselves: Prosody and ejabberd start on free loopback ports,
//! offer STARTTLS, and direct TLS on a port of its own, present a certificate for `localhost`
//! that chains to the test CA on both, have the accounts, survive a restart on the same
//! ports with the same data, and are gone after drop. These never skip: a missing server
//! binary fails the test with the reason.

use std::time::{Duration, Instant};

use herald_testkit::real::{
    DOMAIN, Ejabberd, Prosody, RealServer, openssl_direct_tls, openssl_starttls, stream_features,
};

const ACCOUNTS: &[(&str, &str)] = &[("alice", "alice-pw"), ("bob", "bob-pw")];

fn check(server: &mut dyn RealServer) {
    let name = server.name();
    let features = stream_features(server.port(), DOMAIN, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("{name}: {e}\n{}", server.log_tail()));
    assert!(
        features.contains("<starttls"),
        "{name} offers no STARTTLS: {features}"
    );
    assert!(
        features.contains("<required"),
        "{name} does not require STARTTLS: {features}"
    );
    let out = std::env::temp_dir().join(format!("herald-openssl-{name}-{}.out", server.port()));
    let tls = openssl_starttls(server.port(), server.ca_pem_path(), &out)
        .unwrap_or_else(|e| panic!("{name}: TLS with the test CA failed: {e}"));
    let _ = std::fs::remove_file(&out);
    assert!(
        tls.contains("Verification: OK"),
        "{name}: certificate not verified: {tls}"
    );
    // XEP-0368: the same certificate with TLS from the first byte, on a port of its own.
    assert_ne!(server.direct_tls_port(), server.port());
    let direct = openssl_direct_tls(server.direct_tls_port(), server.ca_pem_path(), &out)
        .unwrap_or_else(|e| panic!("{name}: direct TLS with the test CA failed: {e}"));
    let _ = std::fs::remove_file(&out);
    assert!(
        direct.contains("Verification: OK"),
        "{name}: direct TLS certificate not verified: {direct}"
    );
    assert_eq!(
        server.registered_users().expect("registered users"),
        vec!["alice".to_string(), "bob".to_string()],
        "{name}"
    );
}

#[test]
fn prosody_starts_offers_starttls_and_has_the_accounts() {
    let began = Instant::now();
    let mut server = Prosody::start(ACCOUNTS).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "prosody: listening after {:?} ({:?} with accounts)",
        server.startup,
        began.elapsed()
    );
    check(&mut server);
    let pid = server.pid().expect("running");
    server.restart().unwrap_or_else(|e| panic!("restart: {e}"));
    eprintln!("prosody: restarted in {:?}", server.startup);
    assert_ne!(server.pid(), Some(pid));
    check(&mut server);
    let dir = server.dir().to_path_buf();
    let pid = server.pid().expect("running");
    drop(server);
    assert!(!dir.exists(), "temp dir left behind");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "prosody still running"
    );
}

#[test]
fn ejabberd_starts_offers_starttls_and_has_the_accounts() {
    let began = Instant::now();
    let mut server = Ejabberd::start(ACCOUNTS).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "ejabberd: listening after {:?} ({:?} with accounts and rosters)",
        server.startup,
        began.elapsed()
    );
    check(&mut server);
    let roster = server
        .ctl(&["get_roster", "alice", DOMAIN])
        .expect("get_roster");
    assert!(
        roster.contains("bob@localhost") && roster.contains("both"),
        "{roster}"
    );
    server.restart().unwrap_or_else(|e| panic!("restart: {e}"));
    eprintln!("ejabberd: restarted in {:?}", server.startup);
    check(&mut server);
    let dir = server.dir().to_path_buf();
    let beam = server.beam_pid().expect("beam pid");
    drop(server);
    assert!(!dir.exists(), "temp dir left behind");
    let stat = std::fs::read_to_string(format!("/proc/{beam}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z"),
        "ejabberd VM still running: {stat}"
    );
}
