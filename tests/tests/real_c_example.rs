//! The C example (`examples/c/presence`: plain C, POSIX sockets, poll() and OpenSSL over
//! herald.h) against real Prosody and real ejabberd on loopback, driven like the `herald`
//! CLI: alice logs in from C away/"from C", bob (herald-std) sees it, `presence dnd` keeps
//! the status, `quit` sends offline and exits 0. A wrong password exits 1, a CA that did not
//! sign the server's certificate exits 3 before any credential, bad usage exits 2. One run
//! is under valgrind (no leak, no error).
//!
//! The example must be built first (`bash scripts/c-example`, which `scripts/test` runs): a
//! missing or stale binary fails these tests; nothing skips.

mod c_example_common;
mod real_common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use c_example_common::{CExample, EventLine, binary};
use herald_core::Presence;
use herald_testkit::pki::Pki;
use herald_testkit::real::{Ejabberd, Prosody, RealServer};
use real_common::{ACCOUNTS, Peer, config, options};

/// How one expected line may take, natively and under valgrind.
const WAIT: Duration = Duration::from_secs(30);
const VALGRIND_WAIT: Duration = Duration::from_secs(120);

fn prosody() -> Prosody {
    Prosody::start(ACCOUNTS).unwrap_or_else(|e| panic!("starting prosody: {e}"))
}

fn ejabberd() -> Ejabberd {
    Ejabberd::start(ACCOUNTS).unwrap_or_else(|e| panic!("starting ejabberd: {e}"))
}

/// The example's command line for `alice@localhost/c` on `server`, trusting `ca`.
fn alice_args(server: &dyn RealServer, ca: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--jid".to_string(),
        "alice@localhost/c".to_string(),
        "--server".to_string(),
        format!("127.0.0.1:{}", server.port()),
        "--ca-file".to_string(),
        ca.to_str().expect("UTF-8 path").to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn example(args: &[String], password: &str) -> Command {
    let mut command = Command::new(binary());
    command.args(args).env("HERALD_PASSWORD", password);
    command
}

/// The same under valgrind: any error or definite/indirect leak makes the exit status 1.
fn under_valgrind(args: &[String], password: &str) -> Command {
    let mut command = Command::new("valgrind");
    command
        .args([
            "--quiet",
            "--error-exitcode=1",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
        ])
        .arg(binary())
        .args(args)
        .env("HERALD_PASSWORD", password);
    command
}

/// How the C session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The `quit` command.
    Quit,
    /// End of standard input (also quit).
    EndOfInput,
}

/// Bob online; alice in C logs in away/"from C"; bob sees it; `presence dnd` (status kept);
/// an unknown command is an error line; alice leaves: bob sees offline, exit status 0.
fn presence_seen_by_bob(server: &dyn RealServer, valgrind: bool, ending: Ending) {
    let began = Instant::now();
    let mut bob = Peer::start(
        "bob",
        config("bob@localhost/watch", "bob-pw", Presence::Chat, ""),
        options(server, true, false),
    );
    bob.wait_online();
    bob.mark();

    let args = alice_args(
        server,
        server.ca_pem_path(),
        &[
            "--presence",
            "away",
            "--status",
            "from C",
            "--priority",
            "5",
        ],
    );
    let (mut command, wait) = if valgrind {
        (under_valgrind(&args, "alice-pw"), VALGRIND_WAIT)
    } else {
        (example(&args, "alice-pw"), WAIT)
    };
    let mut alice = CExample::start(&format!("C alice on {}", server.name()), &mut command, wait);
    let online = alice.expect("online", |_| true);
    assert_eq!(online.str("jid"), Some("alice@localhost/c"), "{online:?}");
    let sent = alice.expect("presence_sent", |_| true);
    assert_eq!(sent.str("presence"), Some("away"), "{sent:?}");
    assert_eq!(sent.str("status"), Some("from C"), "{sent:?}");
    // Alice sees bob too (subscribed both ways).
    alice.expect("presence", |v| v.str("from") == Some("bob@localhost/watch"));
    let p = bob.wait_presence("alice away/from C", "alice", Some("c"), |p| {
        p.availability == Presence::Away
    });
    assert_eq!(p.status, "from C", "{}", bob.dump());
    assert_eq!(p.priority, 5, "{}", bob.dump());
    let logged_in = began.elapsed();

    alice.say("presence dnd");
    let sent = alice.expect("presence_sent", |v| v.str("presence") == Some("dnd"));
    assert_eq!(
        sent.str("status"),
        Some("from C"),
        "the status is kept: {sent:?}"
    );
    let p = bob.wait_presence("alice dnd", "alice", Some("c"), |p| {
        p.availability == Presence::DoNotDisturb
    });
    assert_eq!(p.status, "from C", "{}", bob.dump());

    alice.say("frobnicate now");
    let error = alice.expect("error", |_| true);
    let message = error.str("message").unwrap_or("");
    assert!(
        message.starts_with("unknown command: \"frobnicate now\""),
        "{error:?}"
    );

    match ending {
        Ending::Quit => alice.say("quit"),
        Ending::EndOfInput => alice.close_stdin(),
    }
    bob.wait_presence("alice offline", "alice", Some("c"), |p| {
        p.availability == Presence::Offline
    });
    let bye = alice.expect("disconnected", |_| true);
    assert_eq!(bye.str("code"), Some("local_close"), "{bye:?}");
    let (status, stderr) = alice.finish();
    assert_eq!(
        status,
        0,
        "{}: exit status; stderr:\n{stderr}\nlines:\n{}",
        alice.who,
        alice.dump()
    );
    for event in [
        "state",
        "online",
        "presence_sent",
        "presence",
        "disconnected",
    ] {
        assert!(
            alice.printed(event, |_| true),
            "no {event}:\n{}",
            alice.dump()
        );
    }

    bob.assert_presences_exactly(
        "alice",
        "c",
        &[
            (Presence::Away, "from C"),
            (Presence::DoNotDisturb, "from C"),
            (Presence::Offline, ""),
        ],
    );
    eprintln!(
        "{}{}: online and seen by bob in {logged_in:?}, all done in {:?}",
        server.name(),
        if valgrind { " (valgrind)" } else { "" },
        began.elapsed()
    );
}

/// Runs the example with standard input left open until it exits; returns the process
/// after its exit status and standard error.
fn run_to_exit(who: &str, command: &mut Command) -> (CExample, i32, String) {
    let mut c = CExample::start(who, command, WAIT);
    // The session ends by itself; standard input stays open until then (its end would
    // mean quit).
    c.expect("disconnected", |_| true);
    let (status, stderr) = c.finish();
    (c, status, stderr)
}

fn wrong_password_exits_1(server: &dyn RealServer) {
    let args = alice_args(server, server.ca_pem_path(), &[]);
    let (c, status, stderr) = run_to_exit(
        &format!("C alice (wrong password) on {}", server.name()),
        &mut example(&args, "not-the-password"),
    );
    assert_eq!(status, 1, "stderr:\n{stderr}\nlines:\n{}", c.dump());
    assert!(!c.printed("online", |_| true), "{}", c.dump());
    assert!(
        c.printed("disconnected", |v| v.str("code") == Some("auth_failed")),
        "{}",
        c.dump()
    );
}

/// A PEM file with a CA that did not sign the server's certificate.
struct OtherCa(PathBuf);

impl OtherCa {
    fn new(tag: &str) -> OtherCa {
        let pki = Pki::generate().expect("another test CA");
        let path = std::env::temp_dir().join(format!(
            "herald-c-example-other-ca-{}-{tag}.pem",
            std::process::id()
        ));
        std::fs::write(&path, &pki.ca_pem).expect("write the other CA");
        OtherCa(path)
    }
}

impl Drop for OtherCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn unknown_ca_exits_3(server: &dyn RealServer) {
    let other = OtherCa::new(server.name());
    let args = alice_args(server, &other.0, &[]);
    let (c, status, stderr) = run_to_exit(
        &format!("C alice (unknown CA) on {}", server.name()),
        &mut example(&args, "alice-pw"),
    );
    assert_eq!(status, 3, "stderr:\n{stderr}\nlines:\n{}", c.dump());
    let bye = c
        .seen
        .iter()
        .find(|v| v.event() == "disconnected")
        .expect("disconnected");
    assert_eq!(bye.str("code"), Some("tls_failed"), "{bye:?}");
    assert!(
        bye.str("reason").unwrap_or("").contains("certificate"),
        "{bye:?}"
    );
    // No credential went out: SASL never started.
    assert!(
        !c.printed("state", |v| v.str("state") == Some("authenticating")),
        "{}",
        c.dump()
    );
}

#[test]
fn presence_from_c_seen_by_bob_on_prosody() {
    presence_seen_by_bob(&prosody(), false, Ending::Quit);
}

#[test]
fn presence_from_c_seen_by_bob_on_ejabberd() {
    presence_seen_by_bob(&ejabberd(), false, Ending::Quit);
}

#[test]
fn wrong_password_exits_1_on_prosody() {
    wrong_password_exits_1(&prosody());
}

#[test]
fn wrong_password_exits_1_on_ejabberd() {
    wrong_password_exits_1(&ejabberd());
}

#[test]
fn unknown_ca_exits_3_on_prosody() {
    unknown_ca_exits_3(&prosody());
}

#[test]
fn unknown_ca_exits_3_on_ejabberd() {
    unknown_ca_exits_3(&ejabberd());
}

/// The happy path under valgrind, ending with the end of standard input: no error, no
/// definite or indirect leak (`--error-exitcode=1`), exit status 0.
#[test]
fn presence_from_c_under_valgrind_on_prosody() {
    presence_seen_by_bob(&prosody(), true, Ending::EndOfInput);
}

/// Bad usage exits 2 before connecting anywhere, with the reason on standard error and
/// nothing on standard output.
#[test]
fn bad_usage_exits_2() {
    let server = "127.0.0.1:9"; // never reached
    let cases: &[(&[&str], Option<&str>, &str)] = &[
        (
            &["--jid", "alice@localhost", "--server", server],
            None,
            "HERALD_PASSWORD",
        ),
        (&["--server", server], Some("pw"), "--jid"),
        (&["--jid", "alice@localhost"], Some("pw"), "--server"),
        (
            &[
                "--jid",
                "alice@localhost",
                "--server",
                server,
                "--presence",
                "busy",
            ],
            Some("pw"),
            "presence",
        ),
        (
            &[
                "--jid",
                "alice@localhost",
                "--server",
                server,
                "--priority",
                "200",
            ],
            Some("pw"),
            "priority",
        ),
        (
            &[
                "--jid",
                "alice@localhost",
                "--server",
                server,
                "--frobnicate",
            ],
            Some("pw"),
            "--frobnicate",
        ),
        (
            &["--jid", "alice@localhost", "--server", "[::1"],
            Some("pw"),
            "--server",
        ),
        (
            &["--jid", "@localhost", "--server", server],
            Some("pw"),
            "JID",
        ),
        (
            &["--jid", "alice@localhost", "--status"],
            Some("pw"),
            "--status",
        ),
    ];
    for (args, password, mentioned) in cases {
        let mut command = Command::new(binary());
        command.args(*args).env_remove("HERALD_PASSWORD");
        if let Some(password) = password {
            command.env("HERALD_PASSWORD", password);
        }
        let out = command
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run the example");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(mentioned), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: {:?}", out.stdout);
    }
}
