//! Prosody 0.12 (Debian package `prosody`) on two loopback ports: STARTTLS and direct TLS
//! (XEP-0368), optionally with SASL2 and Bind2 from `prosody-modules`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::prosody_config::{Layout, config_text, install_sasl2_modules};
use super::{
    DOMAIN, Daemon, RealServer, TestCerts, find_binary, free_port, run_command, tail, temp_dir,
    wait_for_port, write_file,
};

/// A Prosody started for one test; stopped (and its directory removed) on drop.
#[derive(Debug)]
pub struct Prosody {
    dir: tempfile::TempDir,
    port: u16,
    direct_tls_port: u16,
    /// HTTP and HTTPS ports of `mod_websocket`, when on.
    websocket: Option<(u16, u16)>,
    certs: TestCerts,
    config: PathBuf,
    log: PathBuf,
    out: PathBuf,
    prosody: PathBuf,
    prosodyctl: PathBuf,
    daemon: Option<Daemon>,
    /// How long the last start took until the port accepted connections.
    pub startup: Duration,
}

impl Prosody {
    /// Starts Prosody with these `(user, password)` accounts on `localhost`, every account
    /// subscribed to every other in both directions.
    pub fn start(accounts: &[(&str, &str)]) -> Result<Prosody, String> {
        Prosody::start_with(accounts, true)
    }

    /// Like [`start`](Prosody::start); with `subscribed` false the accounts start with
    /// empty rosters (for subscription tests).
    pub fn start_with(accounts: &[(&str, &str)], subscribed: bool) -> Result<Prosody, String> {
        Prosody::launch_new(accounts, subscribed, false, None)
    }

    /// For scale runs: `count` accounts `{prefix}1`... with password `{prefix}-pw`, written
    /// straight into the data directory (no `prosodyctl`, which costs ~30 ms an account),
    /// with `internal_plain` storage (SCRAM-SHA-1 is still what a client gets), and
    /// empty rosters. Raise the file-descriptor limit before (Prosody inherits it).
    pub fn start_with_many(prefix: &str, count: usize) -> Result<Prosody, String> {
        let mut server = Prosody::prepare(false, None, true, false)?;
        let dir = server
            .dir
            .path()
            .join("data")
            .join(encode(DOMAIN))
            .join("accounts");
        fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        let text = format!("return {{\n\t[\"password\"] = \"{prefix}-pw\";\n}};\n");
        for i in 1..=count {
            write_file(&dir.join(format!("{prefix}{i}.dat")), &text, 0o644)?;
        }
        server.launch()?;
        Ok(server)
    }

    /// Like [`start_with`](Prosody::start_with), with SASL2 (XEP-0388) and Bind2 (XEP-0386)
    /// from Debian's `prosody-modules` (`mod_sasl2`, `mod_sasl2_bind2`) and the local
    /// `mod_herald_ssl_info` that makes them work on 0.12 (`testkit/prosody/`). After TLS the
    /// features offer `<authentication xmlns='urn:xmpp:sasl:2'>` with an inline Bind2, next
    /// to the RFC 6120 `<mechanisms>`. A missing `prosody-modules` is an error.
    pub fn start_with_sasl2(
        accounts: &[(&str, &str)],
        subscribed: bool,
    ) -> Result<Prosody, String> {
        Prosody::launch_new(accounts, subscribed, true, None)
    }

    /// Like [`start`](Prosody::start), with stream management (XEP-0198, Prosody's own
    /// `mod_smacks`) offering resumption for `hibernation` (whole seconds, at least 1), and
    /// with debug logging, so that [`log_text`](RealServer::log_text) tells a resumed session
    /// from a new one. With `sasl2`, SASL2 and Bind2 as in
    /// [`start_with_sasl2`](Prosody::start_with_sasl2); not `mod_sasl2_sm` (inline
    /// resumption), which calls a `mod_smacks` export 0.12 does not have (`do_enable`) and
    /// fails every SASL2 login, so `<enable/>` and `<resume/>` come after SASL2's success.
    pub fn start_with_smacks(
        accounts: &[(&str, &str)],
        hibernation: Duration,
        sasl2: bool,
    ) -> Result<Prosody, String> {
        let secs = hibernation.as_secs().max(1);
        Prosody::launch_new(accounts, true, sasl2, Some(secs))
    }

    fn launch_new(
        accounts: &[(&str, &str)],
        subscribed: bool,
        sasl2: bool,
        smacks: Option<u64>,
    ) -> Result<Prosody, String> {
        Prosody::launch_with(accounts, subscribed, sasl2, smacks, false)
    }

    /// Like [`start_with`](Prosody::start_with), with XMPP over WebSocket (RFC 7395,
    /// Prosody's `mod_websocket`) on a loopback HTTP and HTTPS port besides the c2s ports:
    /// [`websocket_url`](Prosody::websocket_url) gives `ws://` and `wss://` URLs. Prosody
    /// is told to count `ws://` as secure (it is loopback), and accepts any page's Origin.
    pub fn start_with_websocket(
        accounts: &[(&str, &str)],
        subscribed: bool,
    ) -> Result<Prosody, String> {
        Prosody::launch_with(accounts, subscribed, false, None, true)
    }

    /// The WebSocket endpoint: `ws://127.0.0.1:PORT/xmpp-websocket`, or
    /// `wss://localhost:PORT/xmpp-websocket` (the certificate names `localhost`). `None`
    /// unless started with [`start_with_websocket`](Prosody::start_with_websocket).
    pub fn websocket_url(&self, secure: bool) -> Option<String> {
        let (http, https) = self.websocket?;
        Some(if secure {
            format!("wss://{DOMAIN}:{https}/xmpp-websocket")
        } else {
            format!("ws://127.0.0.1:{http}/xmpp-websocket")
        })
    }

    fn launch_with(
        accounts: &[(&str, &str)],
        subscribed: bool,
        sasl2: bool,
        smacks: Option<u64>,
        websocket: bool,
    ) -> Result<Prosody, String> {
        let server = Prosody::prepare(sasl2, smacks, false, websocket)?;
        // prosodyctl writes the account files directly; the daemon reads them at login.
        for (user, password) in accounts {
            server.register(user, password)?;
        }
        let users: Vec<&str> = accounts.iter().map(|(u, _)| *u).collect();
        for user in users.iter().filter(|_| subscribed) {
            let contacts: Vec<&str> = users.iter().copied().filter(|c| c != user).collect();
            if !contacts.is_empty() {
                server.write_roster(user, &contacts)?;
            }
        }
        let mut server = server;
        server.launch()?;
        Ok(server)
    }

    /// Config, certificates and data directory, not started.
    fn prepare(
        sasl2: bool,
        smacks: Option<u64>,
        plain: bool,
        websocket: bool,
    ) -> Result<Prosody, String> {
        let prosody = find_binary("prosody", "prosody")?;
        let prosodyctl = find_binary("prosodyctl", "prosody")?;
        let dir = temp_dir("herald-prosody-")?;
        let root = dir.path().to_path_buf();
        let port = free_port()?;
        let direct_tls_port = loop {
            let p = free_port()?;
            if p != port {
                break p;
            }
        };
        let websocket = if websocket {
            let mut ports = vec![port, direct_tls_port];
            while ports.len() < 4 {
                let p = free_port()?;
                if !ports.contains(&p) {
                    ports.push(p);
                }
            }
            Some((ports[2], ports[3]))
        } else {
            None
        };
        let layout = Layout {
            root: root.clone(),
            port,
            direct_tls_port,
            sasl2,
            smacks,
            plain,
            websocket,
        };
        if sasl2 {
            install_sasl2_modules(&layout)?;
        }
        let certs = crate::pki::Pki::generate()?.write(&root)?;
        let data = root.join("data");
        fs::create_dir(&data).map_err(|e| format!("mkdir {}: {e}", data.display()))?;
        let config = root.join("prosody.cfg.lua");
        let log = root.join("prosody.log");
        let out = root.join("prosody.out");
        write_file(&config, &config_text(&layout, &certs), 0o644)?;
        Ok(Prosody {
            dir,
            port,
            direct_tls_port,
            websocket,
            certs,
            config,
            log,
            out,
            prosody,
            prosodyctl,
            daemon: None,
            startup: Duration::ZERO,
        })
    }

    /// The temporary directory holding config, data and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Creates an account with `prosodyctl register`.
    pub fn register(&self, user: &str, password: &str) -> Result<(), String> {
        let mut cmd = Command::new(&self.prosodyctl);
        cmd.arg("--config")
            .arg(&self.config)
            .args(["register", user, DOMAIN, password]);
        run_command(cmd, &self.dir.path().join("prosodyctl.out")).map(|_| ())
    }

    /// Writes `user`'s roster with each contact at subscription `both`, in Prosody's internal
    /// storage format (`data/<host>/roster/<user>.dat`). Prosody 0.12's prosodyctl has no
    /// roster command; must be called before the user's roster is first loaded.
    fn write_roster(&self, user: &str, contacts: &[&str]) -> Result<(), String> {
        let dir = self
            .dir
            .path()
            .join("data")
            .join(encode(DOMAIN))
            .join("roster");
        fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        let mut text = String::from("return {\n\t[false] = {\n\t\t[\"version\"] = 1;\n\t};\n");
        for contact in contacts {
            let _ = writeln!(
                text,
                "\t[\"{contact}@{DOMAIN}\"] = {{\n\t\t[\"subscription\"] = \"both\";\n\t\t\
                 [\"name\"] = \"{contact}\";\n\t\t[\"groups\"] = {{}};\n\t}};"
            );
        }
        text.push_str("};\n");
        write_file(&dir.join(format!("{}.dat", encode(user))), &text, 0o644)
    }

    fn launch(&mut self) -> Result<(), String> {
        let mut cmd = Command::new(&self.prosody);
        cmd.arg("--config").arg(&self.config).arg("-F");
        let mut daemon = Daemon::spawn(cmd, &self.out)?;
        let logs = || self.log_tail();
        let mut ports = vec![self.port, self.direct_tls_port];
        if let Some((http, https)) = self.websocket {
            ports.extend([http, https]);
        }
        let listening = ports.iter().try_fold(Duration::ZERO, |took, &port| {
            wait_for_port(port, &mut daemon, "prosody", logs).map(|t| took.max(t))
        });
        match listening {
            Ok(took) => {
                self.startup = took;
                self.daemon = Some(daemon);
                Ok(())
            }
            Err(e) => {
                daemon.stop(Duration::from_secs(1));
                Err(e)
            }
        }
    }

    /// Stops the daemon (SIGTERM, then SIGKILL after 5 s).
    pub fn stop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            d.stop(Duration::from_secs(5));
        }
    }

    /// The daemon's pid, while running.
    pub fn pid(&self) -> Option<u32> {
        self.daemon.as_ref().map(Daemon::pid)
    }
}

impl RealServer for Prosody {
    fn name(&self) -> &'static str {
        "prosody"
    }

    fn port(&self) -> u16 {
        self.port
    }

    fn direct_tls_port(&self) -> u16 {
        self.direct_tls_port
    }

    fn ca_pem_path(&self) -> &Path {
        &self.certs.ca_pem
    }

    fn restart(&mut self) -> Result<(), String> {
        self.stop();
        let began = Instant::now();
        self.launch()?;
        self.startup = began.elapsed();
        Ok(())
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        format!("{}\n{}", tail(&self.log, 6000), tail(&self.out, 2000))
    }

    fn registered_users(&self) -> Result<Vec<String>, String> {
        let dir = self
            .dir
            .path()
            .join("data")
            .join(encode(DOMAIN))
            .join("accounts");
        let mut users: Vec<String> = fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".dat"))
                    .map(decode)
            })
            .collect();
        users.sort();
        Ok(users)
    }
}

impl Drop for Prosody {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Prosody's datamanager file-name encoding: every non-alphanumeric byte as `%xx`.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02x}")
            }
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
