//! Real XMPP servers for tests: the Debian packages of Prosody (0.12) and ejabberd (23.01),
//! each started in the foreground as a child process with a throwaway configuration in a
//! temporary directory, listening for c2s on two free loopback ports (STARTTLS, and direct
//! TLS as in XEP-0368) with a certificate for `localhost` issued at test time by a test CA.
//!
//! Nothing outside the temporary directory is written (no system config, no pid file in
//! `/run`, no Erlang cookie in a home directory, no epmd). The daemons are stopped by pid
//! when the launcher is dropped.
//!
//! A missing binary is an error, never a skip: the caller is expected to `expect()` it so the
//! test fails loudly with the reason.

mod ejabberd;
mod prosody;
mod prosody_config;

pub use ejabberd::Ejabberd;
pub use prosody::Prosody;
pub use prosody_config::DEBIAN_MODULES;

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// The XMPP domain (virtual host) both launchers serve: the name on the test certificate.
pub use crate::pki::DOMAIN;
pub(crate) use crate::pki::{TestCerts, set_mode, write_file};

/// How long a daemon may take to accept connections on its c2s port.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How long an administrative command (`prosodyctl`, `ejabberdctl`) may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// What the tests need from a running server, whichever it is.
pub trait RealServer {
    /// `"prosody"` or `"ejabberd"`.
    fn name(&self) -> &'static str;
    /// The XMPP domain, always [`DOMAIN`].
    fn domain(&self) -> &str {
        DOMAIN
    }
    /// The loopback c2s port (STARTTLS).
    fn port(&self) -> u16;
    /// The loopback c2s port with TLS from the first byte (XEP-0368), same certificate.
    fn direct_tls_port(&self) -> u16;
    /// PEM file of the test CA that issued the server's certificate.
    fn ca_pem_path(&self) -> &Path;
    /// Stops the daemon and starts it again on the same port with the same data.
    fn restart(&mut self) -> Result<(), String>;
    /// Everything the server has logged so far (its main log file).
    fn log_text(&self) -> String;
    /// The end of the daemon's logs, for failure messages.
    fn log_tail(&self) -> String;
    /// The accounts the server has, by local part.
    fn registered_users(&self) -> Result<Vec<String>, String>;
}

/// A loopback port that was free a moment ago (bind port 0, read it, drop the socket).
pub fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("bind: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("local_addr: {e}"))
}

/// A temporary directory the daemon user can traverse and read.
pub(crate) fn temp_dir(prefix: &str) -> Result<tempfile::TempDir, String> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?;
    set_mode(dir.path(), 0o755)?;
    Ok(dir)
}

/// Whether we run as root (then the daemons drop to their own users).
pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Finds an executable on `PATH` (plus the sbin directories, which a non-root `PATH` may
/// lack), or says which Debian package provides it.
pub(crate) fn find_binary(name: &str, package: &str) -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "`{name}` not found: install the Debian package `{package}` \
                 (bash scripts/install-deps); real-server tests never skip"
            )
        })
}

/// Runs an administrative command to completion within [`COMMAND_TIMEOUT`], its output
/// captured in `out_file`. Returns stdout+stderr, or an error naming the command.
pub(crate) fn run_command(mut cmd: Command, out_file: &Path) -> Result<String, String> {
    let shown = format!("{cmd:?}");
    let out = fs::File::create(out_file).map_err(|e| format!("{}: {e}", out_file.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("spawn {shown}: {e}"))?;
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => sleep(Duration::from_millis(20)),
            Ok(None) => {
                signal_group(child.id(), "KILL");
                let _ = child.wait();
                let output = fs::read_to_string(out_file).unwrap_or_default();
                return Err(format!(
                    "{shown} did not finish in {COMMAND_TIMEOUT:?}; output:\n{output}"
                ));
            }
            Err(e) => return Err(format!("wait {shown}: {e}")),
        }
    };
    let output = fs::read_to_string(out_file).unwrap_or_default();
    if status.success() {
        Ok(output)
    } else {
        Err(format!("{shown} failed ({status}); output:\n{output}"))
    }
}

/// `kill -s SIG -- TARGET` with the shell's built-in `kill` (`/bin/kill` comes from procps,
/// which a minimal Debian lacks; `sh` is always there). No `unsafe` `libc::kill` needed.
fn kill(sig: &str, target: &str) {
    let _ = Command::new("sh")
        .args(["-c", "kill -s \"$0\" -- \"$1\"", sig, target])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Sends a signal to a process group (`kill -s SIG -- -PGID`).
pub(crate) fn signal_group(pgid: u32, sig: &str) {
    if pgid <= 1 {
        return;
    }
    kill(sig, &format!("-{pgid}"));
}

/// Sends a signal to one process.
pub(crate) fn signal_pid(pid: u32, sig: &str) {
    if pid <= 1 {
        return;
    }
    kill(sig, &pid.to_string());
}

/// Whether a process exists and is not a zombie.
pub(crate) fn pid_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// The process group of a process, from `/proc`.
pub(crate) fn pgid_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    // Fields after the name: state, ppid, pgrp.
    rest.split_whitespace().nth(2)?.parse().ok()
}

/// The last `max` bytes of a file, for error messages.
pub(crate) fn tail(path: &Path, max: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let start = bytes.len().saturating_sub(max);
            format!(
                "--- {} ---\n{}",
                path.display(),
                String::from_utf8_lossy(&bytes[start..])
            )
        }
        Err(e) => format!("--- {} --- ({e})", path.display()),
    }
}

/// A daemon started in the foreground in its own process group, output to a file.
#[derive(Debug)]
pub(crate) struct Daemon {
    child: Child,
}

impl Daemon {
    pub(crate) fn spawn(mut cmd: Command, out_file: &Path) -> Result<Daemon, String> {
        let shown = format!("{cmd:?}");
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(out_file)
            .map_err(|e| format!("{}: {e}", out_file.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("spawn {shown}: {e}"))?;
        Ok(Daemon { child })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status text)` once the daemon has exited.
    pub(crate) fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }

    /// Signals the whole group, waits up to `grace` for the child, then kills the group.
    pub(crate) fn stop(&mut self, grace: Duration) {
        let pgid = self.child.id();
        if self.exited().is_none() {
            signal_group(pgid, "TERM");
            let deadline = Instant::now() + grace;
            while self.exited().is_none() && Instant::now() < deadline {
                sleep(Duration::from_millis(20));
            }
        }
        signal_group(pgid, "KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `port` on loopback accepts a TCP connection, the daemon exits, or
/// [`START_TIMEOUT`] passes.
pub(crate) fn wait_for_port(
    port: u16,
    daemon: &mut Daemon,
    what: &str,
    logs: impl Fn() -> String,
) -> Result<Duration, String> {
    let started = Instant::now();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
            return Ok(started.elapsed());
        }
        if let Some(status) = daemon.exited() {
            return Err(format!(
                "{what} exited ({status}) before listening on 127.0.0.1:{port}\n{}",
                logs()
            ));
        }
        if started.elapsed() > START_TIMEOUT {
            return Err(format!(
                "{what} did not accept connections on 127.0.0.1:{port} within {START_TIMEOUT:?}\n{}",
                logs()
            ));
        }
        sleep(Duration::from_millis(50));
    }
}

/// Opens a plain TCP connection, sends a client stream header for `domain` and returns what
/// the server sent up to and including `</stream:features>` (bounded by `timeout`).
pub fn stream_features(port: u16, domain: &str, timeout: Duration) -> Result<String, String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    let header = format!(
        "<?xml version='1.0'?><stream:stream to='{domain}' version='1.0' xml:lang='en' \
         xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
    );
    s.write_all(header.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if String::from_utf8_lossy(&got).contains("</stream:features>") {
                    let _ = s.write_all(b"</stream:stream>");
                    return Ok(String::from_utf8_lossy(&got).into_owned());
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    Err(format!(
        "no complete <stream:features> within {timeout:?}; got: {}",
        String::from_utf8_lossy(&got)
    ))
}

/// Runs `openssl s_client -starttls xmpp` against the server, verifying the chain against
/// `ca` and the name `localhost`. Returns openssl's output on success.
pub fn openssl_starttls(port: u16, ca: &Path, out_file: &Path) -> Result<String, String> {
    let openssl = find_binary("openssl", "openssl")?;
    let mut cmd = Command::new(openssl);
    cmd.args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-starttls", "xmpp", "-xmpphost", DOMAIN, "-CAfile"])
        .arg(ca)
        .args(["-verify_return_error", "-verify_hostname", DOMAIN, "-brief"]);
    run_command(cmd, out_file)
}

/// Runs `openssl s_client` with TLS from the first byte (XEP-0368) against the server's
/// direct TLS port, verifying the chain against `ca` and the name `localhost`. Returns
/// openssl's output on success.
pub fn openssl_direct_tls(port: u16, ca: &Path, out_file: &Path) -> Result<String, String> {
    let openssl = find_binary("openssl", "openssl")?;
    let mut cmd = Command::new(openssl);
    cmd.args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-servername", DOMAIN, "-CAfile"])
        .arg(ca)
        .args(["-verify_return_error", "-verify_hostname", DOMAIN, "-brief"]);
    run_command(cmd, out_file)
}
