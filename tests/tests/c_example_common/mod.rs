//! The C example (`examples/c/presence`, built by `bash scripts/c-example`) run by a test:
//! its standard input written line by line, its JSON event lines read on a thread and
//! checked to be JSON.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

/// The workspace's root directory.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The built example; panics (never skips) when it is missing or older than the library,
/// header or source it is built from.
pub(crate) fn binary() -> PathBuf {
    let root = root();
    let binary = root.join("examples/c/presence");
    let build = "build it with `bash scripts/c-example` (cargo build -p herald-ffi, then make \
                 -C examples/c)";
    let Some(built) = modified(&binary) else {
        panic!("{} is missing: {build}", binary.display());
    };
    for input in [
        "target/debug/libherald_ffi.a",
        "adapters/ffi/include/herald.h",
        "examples/c/presence.c",
    ] {
        let path = root.join(input);
        let Some(input_time) = modified(&path) else {
            panic!("{} is missing: {build}", path.display());
        };
        assert!(
            built >= input_time,
            "{} is older than {}: {build}",
            binary.display(),
            path.display()
        );
    }
    binary
}

// ----- the event lines -----

/// One JSON event line.
pub(crate) type Json = serde_json::Value;

/// Reading an event line's members.
pub(crate) trait EventLine {
    /// The string member `key`, if it is one.
    fn str(&self, key: &str) -> Option<&str>;
    /// The `"event"` member.
    fn event(&self) -> &str;
}

impl EventLine for Json {
    fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Json::as_str)
    }

    fn event(&self) -> &str {
        self.str("event").unwrap_or("")
    }
}

/// A running example: standard input piped, standard output read as JSON lines on a
/// thread; standard error collected (valgrind's report goes there).
pub(crate) struct CExample {
    pub(crate) who: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Result<Json, String>>,
    stderr: Receiver<String>,
    /// Every line read so far, for failure messages.
    pub(crate) seen: Vec<Json>,
    /// Lines read past while looking for something else, oldest first.
    skipped: VecDeque<Json>,
    /// How long one expected line may take.
    pub(crate) wait: Duration,
}

impl CExample {
    /// Starts `command` (the example, or valgrind running it).
    pub(crate) fn start(who: &str, command: &mut Command, wait: Duration) -> CExample {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{who}: cannot run {command:?}: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let parsed = serde_json::from_str::<Json>(&line)
                    .map_err(|e| format!("not JSON ({e}): {line:?}"))
                    .and_then(|v| match v.event() {
                        "" => Err(format!("no \"event\" string: {line}")),
                        _ => Ok(v),
                    });
                if tx.send(parsed).is_err() {
                    break;
                }
            }
        });
        let mut err = child.stderr.take().expect("stderr");
        let (etx, stderr) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            let _ = etx.send(text);
        });
        let stdin = child.stdin.take();
        CExample {
            who: who.to_string(),
            child,
            stdin,
            lines,
            stderr,
            seen: Vec::new(),
            skipped: VecDeque::new(),
            wait,
        }
    }

    /// Writes one line to its standard input.
    pub(crate) fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").unwrap_or_else(|e| panic!("{}: stdin: {e}", self.who));
        stdin.flush().expect("flush stdin");
    }

    /// Closes its standard input (end of input means quit).
    pub(crate) fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// The oldest line of kind `event` for which `want` holds, waiting at most `self.wait`;
    /// other lines are kept for later calls.
    pub(crate) fn expect(&mut self, event: &str, want: impl Fn(&Json) -> bool) -> Json {
        let fits = |v: &Json| v.event() == event && want(v);
        if let Some(i) = self.skipped.iter().position(fits) {
            return self.skipped.remove(i).expect("present");
        }
        let deadline = Instant::now() + self.wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let value = match self.lines.recv_timeout(left) {
                Ok(Ok(value)) => value,
                Ok(Err(line)) => self.fail(&line),
                Err(RecvTimeoutError::Timeout) => {
                    self.fail(&format!("timed out waiting for {event}"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.fail(&format!("output ended while waiting for {event}"))
                }
            };
            self.seen.push(value.clone());
            if fits(&value) {
                return value;
            }
            self.skipped.push_back(value);
        }
    }

    /// Waits (bounded) for the exit, reads the rest of standard output, and returns the exit
    /// status and standard error.
    pub(crate) fn finish(&mut self) -> (i32, String) {
        let deadline = Instant::now() + self.wait;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status.code().unwrap_or(-1);
            }
            if Instant::now() >= deadline {
                self.fail("did not exit");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        loop {
            match self.lines.recv_timeout(Duration::from_secs(5)) {
                Ok(Ok(value)) => {
                    self.seen.push(value.clone());
                    self.skipped.push_back(value);
                }
                Ok(Err(line)) => self.fail(&line),
                Err(_) => break,
            }
        }
        let stderr = self
            .stderr
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default();
        (status, stderr)
    }

    /// Whether a line of kind `event` for which `want` holds was printed (among all lines
    /// read so far).
    pub(crate) fn printed(&self, event: &str, want: impl Fn(&Json) -> bool) -> bool {
        self.seen.iter().any(|v| v.event() == event && want(v))
    }

    /// Every line read so far, one per line, for failure messages.
    pub(crate) fn dump(&self) -> String {
        self.seen
            .iter()
            .map(|v| format!("  {v:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn fail(&self, what: &str) -> ! {
        panic!("{}: {what}\nits lines:\n{}", self.who, self.dump());
    }
}

impl Drop for CExample {
    fn drop(&mut self) {
        // A failed test must not leave the process behind.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
