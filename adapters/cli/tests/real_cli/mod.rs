//! A `herald` process on a real server, driven through its standard input and read from
//! its JSON event lines; shared by the real-server CLI tests.
#![allow(dead_code)] // each test binary uses a part

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use herald_testkit::real::RealServer;
use serde_json::{Value, json};

/// How long any one expected event may take.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// One `herald` process: its standard input, and its event lines read on a thread.
pub(crate) struct Herald {
    pub(crate) who: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    /// Each line with the instant it was read (for round-trip counts).
    lines: Receiver<(Value, Instant)>,
    /// Every line read so far, for failure messages.
    pub(crate) seen: Vec<Value>,
    /// Lines read past while looking for something else, oldest first.
    skipped: VecDeque<(Value, Instant)>,
}

impl Herald {
    /// `who@localhost/cli` with the default options.
    pub(crate) fn start(server: &dyn RealServer, who: &'static str) -> Herald {
        Herald::start_with(server, who, &[])
    }

    /// `who@localhost/cli` (password `who-pw`) with `extra` options.
    pub(crate) fn start_with(server: &dyn RealServer, who: &'static str, extra: &[&str]) -> Herald {
        Herald::start_at(server, server.port(), who, extra)
    }

    /// [`start_with`](Herald::start_with), connecting to `port` on 127.0.0.1 (a proxy, the
    /// direct TLS port...).
    pub(crate) fn start_at(
        server: &dyn RealServer,
        port: u16,
        who: &'static str,
        extra: &[&str],
    ) -> Herald {
        let mut child = Command::new(env!("CARGO_BIN_EXE_herald"))
            .args(["--jid", &format!("{who}@localhost/cli")])
            .args(["--server", &format!("127.0.0.1:{port}")])
            .arg("--ca-file")
            .arg(server.ca_pem_path())
            .args(extra)
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
                let read = Instant::now();
                let value: Value = serde_json::from_str(&line).unwrap_or_else(
                    |e| json!({ "event": "not_json", "line": line, "error": e.to_string() }),
                );
                if tx.send((value, read)).is_err() {
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

    /// Reads every line already printed (into `seen`, kept for later `expect` calls).
    pub(crate) fn read_available(&mut self) {
        while let Ok((value, read)) = self.lines.try_recv() {
            self.seen.push(value.clone());
            self.skipped.push_back((value, read));
        }
    }

    pub(crate) fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// The oldest event of kind `event` for which `want` holds, waiting at most [`WAIT`];
    /// other lines are kept for later calls. Panics on a timeout or a line that is not
    /// JSON.
    pub(crate) fn expect(
        &mut self,
        server: &dyn RealServer,
        event: &str,
        want: impl Fn(&Value) -> bool,
    ) -> Value {
        self.expect_at(server, event, want).0
    }

    /// [`expect`](Herald::expect), with the instant the line was read from the process.
    pub(crate) fn expect_at(
        &mut self,
        server: &dyn RealServer,
        event: &str,
        want: impl Fn(&Value) -> bool,
    ) -> (Value, Instant) {
        let fits = |v: &Value| v["event"] == event && want(v);
        if let Some(i) = self.skipped.iter().position(|(v, _)| fits(v)) {
            return self.skipped.remove(i).unwrap();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (value, read) = match self.lines.recv_timeout(left) {
                Ok(line) => line,
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
                return (value, read);
            }
            self.skipped.push_back((value, read));
        }
    }

    pub(crate) fn fail(&self, server: &dyn RealServer, what: &str) -> ! {
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
    pub(crate) fn quit(&mut self, server: &dyn RealServer) -> i32 {
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

/// An event from `jid`.
pub(crate) fn from(jid: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["from"] == jid
}
