//! The add-approve-watch flow between two `herald` processes on real Prosody and ejabberd,
//! driven through their standard input and read from their JSON events: alice adds bob,
//! bob approves and adds alice back, alice approves; both `roster` commands say `both`;
//! alice's presence change reaches bob and bob's reaches alice; alice removes bob and bob
//! sees her go offline; both quit with status 0.
//! Never skips: a missing server fails the test.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use herald_tests::real::{Ejabberd, Prosody, RealServer};
use serde_json::{Value, json};

const ACCOUNTS: &[(&str, &str)] = &[("alice", "alice-pw"), ("bob", "bob-pw")];
/// How long any one expected event may take.
const WAIT: Duration = Duration::from_secs(30);

/// One `herald` process: its standard input, and its event lines read on a thread.
struct Herald {
    who: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Value>,
    /// Every line read so far, for failure messages.
    seen: Vec<Value>,
    /// Lines read past while looking for something else, oldest first.
    skipped: VecDeque<Value>,
}

impl Herald {
    fn start(server: &dyn RealServer, who: &'static str) -> Herald {
        let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["--jid", &format!("{who}@localhost/cli")])
            .args(["--server", &format!("127.0.0.1:{}", server.port())])
            .arg("--ca-file")
            .arg(server.ca_pem_path())
            .args(["--subscriptions", "ask"])
            .env("HERALD_PASSWORD", format!("{who}-pw"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run herald");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value: Value = serde_json::from_str(&line).unwrap_or_else(
                    |e| json!({ "event": "not_json", "line": line, "error": e.to_string() }),
                );
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Herald {
            who,
            child,
            stdin,
            lines,
            seen: Vec::new(),
            skipped: VecDeque::new(),
        }
    }

    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// The oldest event of kind `event` for which `want` holds, waiting at most [`WAIT`];
    /// other lines are kept for later calls. Panics on a timeout or a line that is not
    /// JSON.
    fn expect(
        &mut self,
        server: &dyn RealServer,
        event: &str,
        want: impl Fn(&Value) -> bool,
    ) -> Value {
        let fits = |v: &Value| v["event"] == event && want(v);
        if let Some(i) = self.skipped.iter().position(fits) {
            return self.skipped.remove(i).unwrap();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let value = match self.lines.recv_timeout(left) {
                Ok(value) => value,
                Err(RecvTimeoutError::Timeout) => {
                    self.fail(server, &format!("timed out waiting for {event}"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.fail(server, &format!("output ended while waiting for {event}"))
                }
            };
            self.seen.push(value.clone());
            if value["event"] == "not_json" {
                self.fail(server, "a line that is not JSON");
            }
            if fits(&value) {
                return value;
            }
            self.skipped.push_back(value);
        }
    }

    fn fail(&self, server: &dyn RealServer, what: &str) -> ! {
        let lines: Vec<String> = self.seen.iter().map(Value::to_string).collect();
        panic!(
            "{}: {}: {what}\nits events:\n{}\nserver log:\n{}",
            server.name(),
            self.who,
            lines.join("\n"),
            server.log_tail()
        );
    }

    /// `quit`, then the exit status (bounded wait).
    fn quit(&mut self, server: &dyn RealServer) -> i32 {
        self.say("quit");
        let bye = self.expect(server, "disconnected", |_| true);
        assert_eq!(
            bye["code"],
            "local_close",
            "{}: {}",
            server.name(),
            self.who
        );
        drop(self.stdin.take());
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.fail(server, "did not exit after quit");
    }
}

impl Drop for Herald {
    fn drop(&mut self) {
        // A failed test must not leave the process behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn from(jid: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["from"] == jid
}

/// A `roster_push` for `jid` with `subscription`.
fn push(jid: &'static str, subscription: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["jid"] == jid && v["subscription"] == subscription
}

/// A contact's presence with these values.
fn presence(
    user: &'static str,
    availability: &'static str,
    status: &'static str,
) -> impl Fn(&Value) -> bool {
    move |v| v["user"] == user && v["availability"] == availability && v["status"] == status
}

fn add_approve_watch(server: &dyn RealServer) {
    let name = server.name();
    let mut alice = Herald::start(server, "alice");
    let mut bob = Herald::start(server, "bob");
    for herald in [&mut alice, &mut bob] {
        // The accounts start with empty rosters; the roster comes before online.
        let roster = herald.expect(server, "roster", |_| true);
        assert_eq!(roster["items"], json!([]), "{name}: {}", herald.who);
        herald.expect(server, "online", |_| true);
    }

    alice.say("add bob@localhost Bob Friends");
    let item = alice.expect(server, "roster_push", |v| v["jid"] == "bob@localhost");
    assert_eq!(
        (&item["name"], &item["groups"]),
        (&json!("Bob"), &json!(["Friends"])),
        "{name}"
    );
    bob.expect(server, "subscription_request", from("alice@localhost"));
    bob.say("approve alice@localhost");
    bob.say("add alice@localhost");
    alice.expect(server, "subscribed", from("bob@localhost"));
    alice.expect(server, "subscription_request", from("bob@localhost"));
    alice.say("approve bob@localhost");
    bob.expect(server, "subscribed", from("alice@localhost"));

    // Both ways on both sides once the last pushes arrived; the roster commands agree.
    alice.expect(server, "roster_push", push("bob@localhost", "both"));
    bob.expect(server, "roster_push", push("alice@localhost", "both"));
    alice.say("roster");
    let roster = alice.expect(server, "roster", |_| true);
    let items = roster["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{name}: {roster}");
    assert_eq!(
        (
            &items[0]["jid"],
            &items[0]["name"],
            &items[0]["groups"],
            &items[0]["subscription"]
        ),
        (
            &json!("bob@localhost"),
            &json!("Bob"),
            &json!(["Friends"]),
            &json!("both")
        ),
        "{name}: {roster}"
    );
    bob.say("roster");
    let roster = bob.expect(server, "roster", |_| true);
    let items = roster["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{name}: {roster}");
    assert_eq!(
        (
            &items[0]["jid"],
            &items[0]["name"],
            &items[0]["groups"],
            &items[0]["subscription"]
        ),
        (
            &json!("alice@localhost"),
            &Value::Null,
            &json!([]),
            &json!("both")
        ),
        "{name}: {roster}"
    );

    // Each sees the other's changes.
    alice.say("presence dnd meeting");
    let seen = bob.expect(server, "presence", presence("alice", "dnd", "meeting"));
    assert_eq!(seen["from"], "alice@localhost/cli", "{name}");
    bob.say("presence away lunch");
    alice.expect(server, "presence", presence("bob", "away", "lunch"));

    // Removing the item ends the subscriptions: bob sees alice go offline.
    alice.say("remove bob@localhost");
    alice.expect(server, "roster_push", |v| {
        v["change"] == "removed" && v["jid"] == "bob@localhost"
    });
    bob.expect(server, "presence", presence("alice", "offline", ""));
    alice.say("roster");
    assert_eq!(
        alice.expect(server, "roster", |_| true)["items"],
        json!([]),
        "{name}"
    );

    assert_eq!(alice.quit(server), 0, "{name}: alice's exit status");
    assert_eq!(bob.quit(server), 0, "{name}: bob's exit status");
}

#[test]
fn prosody_add_approve_watch_through_the_cli() {
    let server =
        Prosody::start_with(ACCOUNTS, false).unwrap_or_else(|e| panic!("Prosody is required: {e}"));
    add_approve_watch(&server);
}

#[test]
fn ejabberd_add_approve_watch_through_the_cli() {
    let server = Ejabberd::start_with(ACCOUNTS, false)
        .unwrap_or_else(|e| panic!("ejabberd is required: {e}"));
    add_approve_watch(&server);
}
