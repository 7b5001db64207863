//! The Python example (`examples/python/presence.py`: ctypes over herald-ffi's C ABI) against
//! real Prosody on loopback: alice logs in from Python with away/"from Python", changes to
//! dnd/"still Python" and closes (exit 0); bob (herald-std) sees exactly those three
//! presences. A wrong password exits 1 (authentication), an untrusted certificate 3 (TLS).
//!
//! Needs `python3` and the built library (`cargo build -p herald-ffi`, which `scripts/test`
//! runs first); without them these tests fail, they never skip.

mod real_common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use herald_core::Presence;
use herald_testkit::real::{Prosody, RealServer};
use real_common::{ACCOUNTS, Peer, config, options};

/// How long the script may run before it is killed and the test fails.
const SCRIPT_LIMIT: Duration = Duration::from_secs(60);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The library the script loads: `HERALD_FFI_LIB`, else the debug build in `target/`.
fn library() -> PathBuf {
    let lib = std::env::var_os("HERALD_FFI_LIB")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/debug/libherald_ffi.so"));
    assert!(
        lib.is_file(),
        "{} is missing: run `cargo build -p herald-ffi --locked` first (scripts/test does)",
        lib.display()
    );
    lib
}

fn python() -> &'static str {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "python3 is missing (Debian: apt-get install python3)"
    );
    "python3"
}

struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\n--- stdout\n{}--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Runs the example as alice@localhost/py with `args` after the connection's, trusting the
/// server's test CA when `trust_ca`, and kills it after [`SCRIPT_LIMIT`].
fn run_example(server: &Prosody, password: &str, trust_ca: bool, args: &[&str]) -> Run {
    let root = repo_root();
    let port = server.port().to_string();
    let mut command = Command::new(python());
    command
        .arg(root.join("examples/python/presence.py"))
        .args(["--jid", "alice@localhost/py"])
        .args(["--server", &format!("127.0.0.1:{port}")]);
    if trust_ca {
        command.arg("--ca-file").arg(server.ca_pem_path());
    }
    let mut child = command
        .args(args)
        .env("HERALD_PASSWORD", password)
        .env("HERALD_FFI_LIB", library())
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + SCRIPT_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for python3") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the Python example ran longer than {SCRIPT_LIMIT:?}; stderr:\n{}\n{}",
                stderr.join().unwrap_or_default(),
                server.log_tail()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Run {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn server() -> Prosody {
    // What the script needs, first: a missing piece fails the test before Prosody starts.
    python();
    library();
    // alice and bob, each on the other's roster with subscription both.
    Prosody::start(ACCOUNTS).unwrap_or_else(|e| panic!("starting prosody: {e}"))
}

#[test]
fn python_logs_in_changes_presence_and_closes() {
    let server = server();
    let mut bob = Peer::start(
        "bob",
        config("bob@localhost/desk", "bob-pw", Presence::Chat, ""),
        options(&server, true, false),
    );
    bob.wait_online();
    bob.mark();

    let run = run_example(
        &server,
        "alice-pw",
        true,
        &[
            "--presence",
            "away",
            "--status",
            "from Python",
            "--then-presence",
            "dnd",
            "--then-status",
            "still Python",
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{run}\n{}", server.log_tail());
    let lines = run.lines();
    let online = r#"{"event":"online","jid":"alice@localhost/py"}"#;
    assert!(lines.contains(&online), "no {online}:\n{run}");
    let sent: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.contains(r#""event":"presence_sent""#))
        .collect();
    assert_eq!(
        sent,
        [
            r#"{"event":"presence_sent","presence":"away","status":"from Python"}"#,
            r#"{"event":"presence_sent","presence":"dnd","status":"still Python"}"#,
        ],
        "{run}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.contains(r#""event":"disconnected""#)),
        "the last line is not the end:\n{run}"
    );

    bob.wait_presence("away", "alice", Some("py"), |p| {
        p.availability == Presence::Away && p.status == "from Python"
    });
    bob.wait_presence("dnd", "alice", Some("py"), |p| {
        p.availability == Presence::DoNotDisturb && p.status == "still Python"
    });
    bob.wait_presence("offline", "alice", Some("py"), |p| {
        p.availability == Presence::Offline
    });
    bob.assert_presences_exactly(
        "alice",
        "py",
        &[
            (Presence::Away, "from Python"),
            (Presence::DoNotDisturb, "still Python"),
            (Presence::Offline, ""),
        ],
    );
}

#[test]
fn python_with_a_wrong_password_exits_1() {
    let server = server();
    let run = run_example(&server, "not-the-password", true, &["--presence", "chat"]);
    assert_eq!(run.status.code(), Some(1), "{run}");
    assert!(
        run.lines()
            .iter()
            .any(|l| l.contains(r#""event":"disconnected""#) && l.contains("auth_failed")),
        "{run}"
    );
    assert!(!run.stdout.contains(r#""event":"online""#), "{run}");
}

#[test]
fn python_without_the_test_ca_exits_3_before_any_credential() {
    let server = server();
    // The system's CAs do not know the test CA: the handshake fails in Python's ssl, and
    // the script reports it with herald_tls_failed.
    let run = run_example(&server, "alice-pw", false, &[]);
    assert_eq!(run.status.code(), Some(3), "{run}");
    let lines = run.lines();
    assert!(
        lines
            .last()
            .is_some_and(|l| l.contains(r#""event":"disconnected""#) && l.contains("tls_failed")),
        "{run}"
    );
    assert!(!run.stdout.contains("authenticating"), "{run}");
}
