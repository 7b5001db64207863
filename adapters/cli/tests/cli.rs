//! The `herald` binary against the in-process fake server: usage errors, the JSON event
//! lines, stdin commands and exit statuses.

#[path = "../../std/tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use common::{FakeServer, pki, temp_file};
use serde_json::Value;

fn herald() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
    command.env_remove("HERALD_PASSWORD");
    command
}

/// Runs to completion with no standard input; returns (status, stdout, stderr).
fn run(command: &mut Command) -> (i32, String, String) {
    let out = command.stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Value>,
}

impl Running {
    fn start(command: &mut Command) -> Running {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let line = line.unwrap();
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"));
                assert!(value["event"].is_string(), "{line}");
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Running {
            child,
            stdin,
            lines,
        }
    }

    /// Waits for an event line of kind `event`; returns it.
    fn expect(&self, event: &str) -> Value {
        loop {
            let value = self
                .lines
                .recv_timeout(Duration::from_secs(15))
                .unwrap_or_else(|_| panic!("no {event:?} event"));
            if value["event"] == event {
                return value;
            }
        }
    }

    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    fn wait(mut self) -> i32 {
        drop(self.stdin.take());
        for _ in 0..150 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("herald did not exit");
    }
}

#[test]
fn bad_usage_exits_with_2() {
    let (code, _, err) = run(herald().args(["--presence", "away"]));
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(herald()
        .args(["--jid", "alice@localhost", "--presence", "busy"])
        .env("HERALD_PASSWORD", "x"));
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(herald().args(["--jid", "alice@localhost"]));
    assert_eq!(code, 2);
    assert!(err.contains("HERALD_PASSWORD"), "{err}");
    let (code, _, _) = run(herald()
        .args(["--jid", "not a jid@@", "--server", "127.0.0.1:1"])
        .env("HERALD_PASSWORD", "x"));
    assert_eq!(code, 2);
}

#[test]
fn there_is_no_way_to_give_the_password_in_argv() {
    for flag in ["--password", "--pass", "-p"] {
        let (code, _, err) = run(herald().args(["--jid", "alice@localhost", flag, "secret"]));
        assert_eq!(code, 2, "{flag}: {err}");
    }
    let (_, help, _) = run(herald().arg("--help"));
    assert!(help.contains("HERALD_PASSWORD") && help.contains("--password-file"));
    assert!(!help.contains("--password "), "{help}");
}

/// A STARTTLS server that logs alice in, shows her bob's presence and reports every
/// presence she sends; with the path of a CA file that trusts it.
fn server() -> (FakeServer, Receiver<String>, String) {
    let pki = pki();
    let ca = temp_file("ca.pem", &pki.ca_pem);
    let (tx, rx) = mpsc::channel();
    let tls = pki.server.clone();
    let server = FakeServer::start(move |_, conn| {
        let Ok(initial) = conn.login(Some(&tls)) else {
            return;
        };
        tx.send(initial).unwrap();
        conn.send(
            "<presence from='bob@localhost/phone'><show>away</show>\
             <status>out</status><priority>5</priority></presence>",
        )
        .unwrap();
        while let Ok(p) = conn.expect_presence() {
            let closing = p.contains("unavailable");
            tx.send(p).unwrap();
            if closing {
                break;
            }
        }
        let _ = conn.answer_close();
    });
    (server, rx, ca.to_str().unwrap().to_string())
}

#[test]
fn events_commands_and_a_clean_quit() {
    let (server, presences, ca) = server();
    let password = temp_file("password", "secret\n");
    let mut cli = Running::start(herald().args([
        "--jid",
        "alice@localhost/desk",
        "--server",
        &format!("127.0.0.1:{}", server.port),
        "--ca-file",
        &ca,
        "--presence",
        "away",
        "--status",
        "lunch",
        "--password-file",
        password.to_str().unwrap(),
    ]));
    assert_eq!(cli.expect("state")["state"], "connecting");
    assert_eq!(cli.expect("online")["jid"], "alice@localhost/desk");
    let sent = cli.expect("presence_sent");
    assert_eq!(
        (&sent["presence"], &sent["status"]),
        (&"away".into(), &"lunch".into())
    );
    let initial = presences.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(initial.contains("<show>away</show>") && initial.contains("<status>lunch</status>"));

    let bob = cli.expect("presence");
    assert_eq!(bob["from"], "bob@localhost/phone");
    assert_eq!(bob["user"], "bob");
    assert_eq!(bob["domain"], "localhost");
    assert_eq!(bob["resource"], "phone");
    assert_eq!(bob["availability"], "away");
    assert_eq!(bob["show"], "away");
    assert_eq!(bob["status"], "out");
    assert_eq!(bob["priority"], 5);

    cli.say("frobnicate now");
    assert!(
        cli.expect("error")["message"]
            .as_str()
            .unwrap()
            .contains("frobnicate")
    );
    cli.say("presence dnd in a meeting");
    let sent = cli.expect("presence_sent");
    assert_eq!(
        (&sent["presence"], &sent["status"]),
        (&"dnd".into(), &"in a meeting".into())
    );
    cli.say("status");
    let sent = cli.expect("presence_sent");
    assert_eq!(
        (&sent["presence"], &sent["status"]),
        (&"dnd".into(), &"".into())
    );
    cli.say("presence 3");
    assert_eq!(cli.expect("presence_sent")["presence"], "xa");
    for expected in ["<show>dnd</show>", "</presence>", "<show>xa</show>"] {
        let p = presences.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(p.contains(expected), "{p} lacks {expected}");
    }

    cli.say("quit");
    assert_eq!(cli.expect("disconnected")["code"], "local_close");
    assert_eq!(cli.wait(), 0);
}

#[test]
fn end_of_input_means_quit() {
    let (server, _presences, ca) = server();
    let (code, out, err) = run(herald()
        .args(["--jid", "alice@localhost", "--ca-file", &ca])
        .args(["--server", &format!("127.0.0.1:{}", server.port)])
        .env("HERALD_PASSWORD", "secret"));
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.lines().last().unwrap().contains("local_close"), "{out}");
}

#[test]
fn insecure_plaintext_warns_and_still_never_sends_plain_in_the_clear() {
    let server = FakeServer::start(|_, conn| {
        let _ = conn.authenticate_and_bind();
    });
    // Standard input stays open, so the session ends by itself, not by a quit.
    let mut child = herald()
        .args(["--jid", "alice@localhost", "--insecure-plaintext"])
        .args(["--server", &format!("127.0.0.1:{}", server.port)])
        .env("HERALD_PASSWORD", "secret")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stdin = child.stdin.take();
    let output = child.wait_with_output().unwrap();
    let code = output.status.code().unwrap_or(-1);
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("WARNING") && err.contains("--insecure-plaintext"),
        "{err}"
    );
    // The server offers only PLAIN, which the core never sends without TLS.
    assert!(out.contains("no_acceptable_mechanism"), "{out}");
    assert_eq!(code, 4);
    assert!(!server.transcript(0).contains(common::ALICE_PLAIN));
}

#[test]
fn a_wrong_password_exits_with_1_and_an_unknown_ca_with_3() {
    let pki = pki();
    let tls = pki.server.clone();
    let server = FakeServer::start(move |_, conn| {
        let _ = conn.login(Some(&tls));
        let _ = conn.expect("</stream:stream>");
    });
    let address = format!("127.0.0.1:{}", server.port);
    let ca = temp_file("ca.pem", &pki.ca_pem);

    let mut cli = Running::start(
        herald()
            .args(["--jid", "alice@localhost", "--server", &address])
            .args(["--ca-file", ca.to_str().unwrap()])
            .env("HERALD_PASSWORD", "wrong"),
    );
    assert_eq!(cli.expect("disconnected")["code"], "auth_failed");
    cli.stdin = None; // keep stdin open until the failure is seen, then let go
    assert_eq!(cli.wait(), 1);

    let cli = Running::start(
        herald()
            .args(["--jid", "alice@localhost", "--server", &address])
            .env("HERALD_PASSWORD", "secret"),
    );
    assert_eq!(cli.expect("disconnected")["code"], "tls_failed");
    assert_eq!(cli.wait(), 3);
    assert!(!server.transcript(1).contains("<auth"));
    assert_eq!(server.accepted(), 2, "no retries");
}

#[test]
fn trace_shows_the_xml_without_the_password() {
    let (server, _presences, ca) = server();
    let mut child = herald()
        .args(["--jid", "alice@localhost/desk", "--ca-file", &ca, "--trace"])
        .args(["--server", &format!("127.0.0.1:{}", server.port)])
        .env("HERALD_PASSWORD", "secret")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("\"online\"") {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "no online event");
    }
    drop(stdin); // end of input: quit
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let trace = String::from_utf8_lossy(&output.stderr);
    assert!(trace.contains("C: <starttls"), "{trace}");
    assert!(
        trace.contains("mechanism='PLAIN'>[redacted]</auth>"),
        "{trace}"
    );
    assert!(trace.contains("S: <iq type='result'"), "{trace}");
    assert!(!trace.contains(common::ALICE_PLAIN), "{trace}");
}
