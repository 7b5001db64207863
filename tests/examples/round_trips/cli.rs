//! The `herald` command's login through the proxy: the instant its `presence_sent` line is
//! read is the instant the application saw the presence go out.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use herald_testkit::flights::{FlightProxy, Login};
use herald_testkit::real::RealServer;

use crate::round_trips_common::{Tls, WAIT};

/// Runs `herald` as alice through `proxy`, counts its login, then quits it.
pub(crate) fn login(
    herald: &Path,
    server: &dyn RealServer,
    proxy: &FlightProxy,
    tls: Tls,
) -> Login {
    let mode = match tls {
        Tls::StartTls => "starttls",
        Tls::Direct => "direct",
    };
    let mut child = Command::new(herald)
        .args(["--jid", "alice@localhost/cli"])
        .args(["--server", &format!("127.0.0.1:{}", proxy.port())])
        .args(["--tls", mode])
        .arg("--ca-file")
        .arg(server.ca_pem_path())
        .env("HERALD_PASSWORD", "alice-pw")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", herald.display()));
    let stdout = child.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send((line, Instant::now())).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    let at = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok((line, at)) if line.contains(r#""event":"presence_sent""#) => break at,
            Ok((line, _)) => seen.push(line),
            Err(_) => {
                let _ = child.kill();
                panic!("herald printed no presence_sent within {WAIT:?}: {seen:#?}");
            }
        }
    };
    let login = proxy.login_seen_at(at);
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"quit\n");
    }
    let quit_by = Instant::now() + Duration::from_secs(5);
    while Instant::now() < quit_by {
        if let Ok(Some(_)) = child.try_wait() {
            return login;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    login
}
