//! A `herald` process run by a test: to completion, or driven through its standard input
//! and read from its JSON event lines. Shared by the CLI tests on the loopback server.
#![allow(dead_code)] // each test binary uses a part

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::Value;

/// The binary, with no password in its environment.
pub(crate) fn herald() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
    command.env_remove("HERALD_PASSWORD");
    command
}

/// Runs to completion with no standard input; returns (status, stdout, stderr).
pub(crate) fn run(command: &mut Command) -> (i32, String, String) {
    let out = command.stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A `herald` process with piped standard input and output.
pub(crate) struct Running {
    child: Child,
    pub(crate) stdin: Option<ChildStdin>,
    lines: Receiver<Value>,
    /// Lines read past while looking for another kind of event, oldest first.
    pub(crate) skipped: VecDeque<Value>,
}

impl Running {
    /// Starts `command` with its standard input and output piped; standard error is the
    /// test's.
    pub(crate) fn start(command: &mut Command) -> Running {
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
            skipped: VecDeque::new(),
        }
    }

    /// Waits for an event line of kind `event`; returns it.
    pub(crate) fn expect(&mut self, event: &str) -> Value {
        self.expect_where(event, |_| true)
    }

    /// The oldest event line of kind `event` for which `want` holds, among the lines
    /// skipped so far and the ones to come (at most 15 s away). Other lines are kept for
    /// later calls.
    pub(crate) fn expect_where(&mut self, event: &str, want: impl Fn(&Value) -> bool) -> Value {
        let fits = |v: &Value| v["event"] == event && want(v);
        if let Some(i) = self.skipped.iter().position(fits) {
            return self.skipped.remove(i).unwrap();
        }
        loop {
            let value = self
                .lines
                .recv_timeout(Duration::from_secs(15))
                .unwrap_or_else(|_| panic!("no {event:?} event; skipped: {:?}", self.skipped));
            if fits(&value) {
                return value;
            }
            self.skipped.push_back(value);
        }
    }

    /// Writes `line` to its standard input.
    pub(crate) fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Closes its standard input and waits (15 s at most) for its exit status.
    pub(crate) fn wait(mut self) -> i32 {
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
