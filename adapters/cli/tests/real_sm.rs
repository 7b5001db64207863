//! Stream management (XEP-0198) with the `herald` command against real Prosody 0.12 and
//! ejabberd 23.01: alice's command reaches the server through a proxy the test blackholes
//! (no FIN, no reset); during the cut bob (another `herald`) goes away and alice goes dnd.
//! alice's `--link-check 2` finds the link dead; she resumes (`resumed`), each side sees
//! the other's change exactly once, bob never sees her offline, and the server's log shows
//! the resumption. A missing server fails the test; nothing skips.

mod real_cli;

use std::time::Duration;

use herald_testkit::flights::FlightProxy;
use herald_testkit::real::{Ejabberd, Prosody, RealServer};
use real_cli::{Herald, from};
use serde_json::Value;

const ACCOUNTS: &[(&str, &str)] = &[("alice", "alice-pw"), ("bob", "bob-pw")];

fn cut_and_resume(server: &dyn RealServer, resumed_marker: &str) {
    let proxy = FlightProxy::start(server.port(), Duration::from_millis(10)).expect("proxy");
    let mut bob = Herald::start(server, "bob");
    bob.expect(server, "presence_sent", |_| true);
    let mut alice = Herald::start_at(
        server,
        proxy.port(),
        "alice",
        // Only the test CA trusted (--ca-file), not the web PKI roots.
        &["--link-check", "2", "--status", "here", "--roots", "none"],
    );
    alice.expect(server, "presence_sent", |_| true);
    bob.expect(server, "presence", |v| {
        v["from"] == "alice@localhost/cli" && v["status"] == "here"
    });
    alice.expect(server, "presence", from("bob@localhost/cli"));
    // The <enabled/> answers the write after the bind: let it arrive.
    std::thread::sleep(Duration::from_millis(300));
    alice.read_available();
    bob.read_available();
    let (alice_before, bob_before) = (alice.seen.len(), bob.seen.len());

    assert_eq!(proxy.blackhole(), 1, "alice's one connection cut");
    bob.say("presence away on the move");
    alice.say("presence dnd in a tunnel");
    let dead = alice.expect(server, "disconnected", |_| true);
    assert_eq!(dead["code"], "link_dead", "{dead}");
    let resumed = alice.expect(server, "resumed", |_| true);
    assert!(resumed["resent"].as_u64() >= Some(1), "{resumed}");
    bob.expect(server, "presence", |v| {
        v["from"] == "alice@localhost/cli" && v["availability"] == "dnd"
    });
    alice.expect(server, "presence", |v| {
        v["from"] == "bob@localhost/cli" && v["availability"] == "away"
    });
    std::thread::sleep(Duration::from_secs(1));
    alice.read_available();
    bob.read_available();

    let presences = |seen: &[Value], jid: &str, availability: &str| {
        seen.iter()
            .filter(|v| v["event"] == "presence" && v["from"] == jid)
            .filter(|v| v["availability"] == availability)
            .count()
    };
    let alice_after = &alice.seen[alice_before..];
    let bob_after = &bob.seen[bob_before..];
    assert_eq!(presences(alice_after, "bob@localhost/cli", "away"), 1);
    assert_eq!(presences(bob_after, "alice@localhost/cli", "dnd"), 1);
    assert_eq!(
        presences(bob_after, "alice@localhost/cli", "offline"),
        0,
        "bob saw alice go offline: {bob_after:?}"
    );
    let presence_sent = alice_after
        .iter()
        .filter(|v| v["event"] == "presence_sent")
        .count();
    assert_eq!(
        presence_sent, 1,
        "only the change went out: {alice_after:?}"
    );
    assert!(
        server.log_text().contains(resumed_marker),
        "no {resumed_marker:?} in the server's log:\n{}",
        server.log_tail()
    );
    assert_eq!(alice.quit(server), 0);
    assert_eq!(bob.quit(server), 0);
}

#[test]
fn prosody_cut_resumes_cli() {
    let server = Prosody::start_with_smacks(ACCOUNTS, Duration::from_secs(60), false)
        .unwrap_or_else(|e| panic!("Prosody is required: {e}"));
    cut_and_resume(&server, "mod_smacks resuming existing session");
}

#[test]
fn ejabberd_cut_resumes_cli() {
    let server = Ejabberd::start_with_stream_mgmt(ACCOUNTS, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("ejabberd is required: {e}"));
    cut_and_resume(&server, "Resumed session for alice@localhost/cli");
}
