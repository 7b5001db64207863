//! ejabberd 23.01 (Debian package `ejabberd`) on two loopback ports: STARTTLS and direct TLS
//! (XEP-0368).
//!
//! Started with `ejabberdctl --config-dir D --spool S --logs L foreground`. The generated
//! `ejabberdctl.cfg` gives the node a unique name, a fixed Erlang distribution port on
//! 127.0.0.1 (`ERL_DIST_PORT`, so no epmd is started or needed), its own cookie (so no
//! `~/.erlang.cookie` is read or written) and a pid file in the temporary directory. As root,
//! `ejabberdctl` switches to the `ejabberd` user, so the spool and log directories are handed
//! to that user and everything else is made world-readable. As another user, a copy of
//! `ejabberdctl` with the user switch removed is used.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::{
    DOMAIN, Daemon, RealServer, TestCerts, find_binary, free_port, is_root, pgid_of, pid_alive,
    run_command, signal_group, signal_pid, tail, temp_dir, wait_for_port, write_file,
};

/// An ejabberd started for one test; stopped (and its directory removed) on drop.
#[derive(Debug)]
pub struct Ejabberd {
    dir: tempfile::TempDir,
    port: u16,
    direct_tls_port: u16,
    certs: TestCerts,
    ctl: PathBuf,
    cfg_dir: PathBuf,
    spool: PathBuf,
    logs: PathBuf,
    out: PathBuf,
    daemon: Option<Daemon>,
    /// How long the last start took until the port accepted connections.
    pub startup: Duration,
}

impl Ejabberd {
    /// Starts ejabberd with these `(user, password)` accounts on `localhost`, every account
    /// subscribed to every other in both directions.
    pub fn start(accounts: &[(&str, &str)]) -> Result<Ejabberd, String> {
        Ejabberd::start_with(accounts, true)
    }

    /// Like [`start`](Ejabberd::start); with `subscribed` false the accounts start with
    /// empty rosters (for subscription tests).
    pub fn start_with(accounts: &[(&str, &str)], subscribed: bool) -> Result<Ejabberd, String> {
        Ejabberd::launch_new(accounts, subscribed, None)
    }

    /// Like [`start`](Ejabberd::start), with stream management (XEP-0198,
    /// `mod_stream_mgmt`) offering resumption for `resume_timeout` (whole seconds, at least
    /// 1); [`log_text`](RealServer::log_text) shows `Resumed session` for a resumption.
    pub fn start_with_stream_mgmt(
        accounts: &[(&str, &str)],
        resume_timeout: Duration,
    ) -> Result<Ejabberd, String> {
        Ejabberd::launch_new(accounts, true, Some(resume_timeout.as_secs().max(1)))
    }

    fn launch_new(
        accounts: &[(&str, &str)],
        subscribed: bool,
        stream_mgmt: Option<u64>,
    ) -> Result<Ejabberd, String> {
        let system_ctl = find_binary("ejabberdctl", "ejabberd")?;
        find_binary("erl", "erlang-base (a dependency of ejabberd)")?;
        let dir = temp_dir("herald-ejabberd-")?;
        let root = dir.path().to_path_buf();
        let port = free_port()?;
        let other_port = |taken: &[u16]| loop {
            match free_port() {
                Ok(p) if taken.contains(&p) => continue,
                other => break other,
            }
        };
        let direct_tls_port = other_port(&[port])?;
        let dist_port = other_port(&[port, direct_tls_port])?;
        let certs = crate::pki::Pki::generate()?.write(&root)?;
        let cfg_dir = root.join("cfg");
        let spool = root.join("spool");
        let logs = root.join("log");
        for d in [&cfg_dir, &spool, &logs] {
            fs::create_dir(d).map_err(|e| format!("mkdir {}: {e}", d.display()))?;
            super::set_mode(d, 0o755)?;
        }
        let ctl = if is_root() {
            // ejabberdctl switches to the `ejabberd` user: give it what it writes.
            let mut chown = Command::new("chown");
            chown.arg("-R").arg("ejabberd:").arg(&spool).arg(&logs);
            run_command(chown, &root.join("chown.out"))?;
            system_ctl
        } else {
            let script = fs::read_to_string(&system_ctl)
                .map_err(|e| format!("read {}: {e}", system_ctl.display()))?;
            let patched = script.replace("INSTALLUSER=ejabberd", "INSTALLUSER=");
            let path = root.join("ejabberdctl");
            write_file(&path, &patched, 0o755)?;
            path
        };
        let node = format!("herald{port}@localhost");
        write_file(
            &cfg_dir.join("ejabberdctl.cfg"),
            &format!(
                "# Throwaway ejabberdctl config written by herald-testkit.\n\
                 ERLANG_NODE={node}\n\
                 ERL_DIST_PORT={dist_port}\n\
                 ERL_OPTIONS=\"-env ERL_CRASH_DUMP_BYTES 0 -setcookie herald_test_{port} \
                 -kernel inet_dist_use_interface {{127,0,0,1}}\"\n\
                 EJABBERD_PID_PATH={pid}\n\
                 CONTRIB_MODULES_PATH={contrib}\n\
                 CONTRIB_MODULES_CONF_DIR={contrib}/conf\n",
                pid = logs.join("ejabberd.pid").display(),
                contrib = spool.join("contrib").display(),
            ),
            0o644,
        )?;
        write_file(
            &cfg_dir.join("inetrc"),
            "{lookup,[\"file\",\"native\"]}.\n{host,{127,0,0,1}, [\"localhost\"]}.\n",
            0o644,
        )?;
        write_file(
            &cfg_dir.join("ejabberd.yml"),
            &config_text(port, direct_tls_port, &certs, stream_mgmt),
            0o644,
        )?;
        let out = root.join("ejabberd.out");
        let mut server = Ejabberd {
            dir,
            port,
            direct_tls_port,
            certs,
            ctl,
            cfg_dir,
            spool,
            logs,
            out,
            daemon: None,
            startup: Duration::ZERO,
        };
        server.launch()?;
        for (user, password) in accounts {
            server.ctl_when_ready(&["register", user, DOMAIN, password])?;
        }
        for (user, _) in accounts.iter().filter(|_| subscribed) {
            for (contact, _) in accounts.iter().filter(|(c, _)| c != user) {
                server.ctl_when_ready(&[
                    "add_rosteritem",
                    user,
                    DOMAIN,
                    contact,
                    DOMAIN,
                    contact,
                    "",
                    "both",
                ])?;
            }
        }
        Ok(server)
    }

    /// The temporary directory holding config, data and logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `ejabberdctl` against this node and returns its output.
    pub fn ctl(&self, args: &[&str]) -> Result<String, String> {
        let mut cmd = Command::new(&self.ctl);
        cmd.arg("--config-dir")
            .arg(&self.cfg_dir)
            .arg("--spool")
            .arg(&self.spool)
            .arg("--logs")
            .arg(&self.logs)
            .args(args);
        run_command(cmd, &self.dir.path().join("ejabberdctl.out"))
            .map_err(|e| format!("{e}\n{}", self.log_tail()))
    }

    /// Like [`ctl`](Self::ctl), retried for up to 60 s while the node is still creating its
    /// tables (`no_exists`: the ports can accept before the `passwd` table exists, seen when
    /// two ejabberds start at once on a busy machine) or not yet reachable (`nodedown`).
    fn ctl_when_ready(&self, args: &[&str]) -> Result<String, String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.ctl(args) {
                Err(e)
                    if (e.contains("no_exists") || e.contains("nodedown"))
                        && Instant::now() < deadline =>
                {
                    sleep(Duration::from_millis(250));
                }
                other => return other,
            }
        }
    }

    fn launch(&mut self) -> Result<(), String> {
        let _ = fs::remove_file(self.pid_file());
        let mut cmd = Command::new(&self.ctl);
        cmd.arg("--config-dir")
            .arg(&self.cfg_dir)
            .arg("--spool")
            .arg(&self.spool)
            .arg("--logs")
            .arg(&self.logs)
            .arg("foreground");
        let mut daemon = Daemon::spawn(cmd, &self.out)?;
        let logs = || self.log_tail();
        let listening = wait_for_port(self.port, &mut daemon, "ejabberd", logs).and_then(|took| {
            wait_for_port(self.direct_tls_port, &mut daemon, "ejabberd", logs).map(|_| took)
        });
        match listening {
            Ok(took) => {
                self.startup = took;
                self.daemon = Some(daemon);
                Ok(())
            }
            Err(e) => {
                self.daemon = Some(daemon);
                self.stop_with(Duration::ZERO);
                Err(e)
            }
        }
    }

    fn pid_file(&self) -> PathBuf {
        self.logs.join("ejabberd.pid")
    }

    /// The Erlang VM's pid, from ejabberd's pid file.
    pub fn beam_pid(&self) -> Option<u32> {
        fs::read_to_string(self.pid_file())
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// Stops the node: SIGTERM to the VM's process group (an orderly shutdown that keeps
    /// Mnesia consistent), SIGKILL after `grace`, and the `ejabberdctl`/`su` wrapper too.
    fn stop_with(&mut self, grace: Duration) {
        let Some(mut daemon) = self.daemon.take() else {
            return;
        };
        // `su` starts the VM in a new session, so it is not in our child's process group.
        let beam = self.beam_pid().filter(|p| pid_alive(*p));
        let beam_group = beam.and_then(pgid_of).filter(|g| *g > 1);
        match (beam, beam_group) {
            (_, Some(g)) => signal_group(g, "TERM"),
            (Some(p), None) => signal_pid(p, "TERM"),
            _ => {}
        }
        let deadline = Instant::now() + grace;
        while beam.is_some_and(pid_alive) && Instant::now() < deadline {
            sleep(Duration::from_millis(20));
        }
        match (beam, beam_group) {
            (_, Some(g)) => signal_group(g, "KILL"),
            (Some(p), None) => signal_pid(p, "KILL"),
            _ => {}
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while beam.is_some_and(pid_alive) && Instant::now() < deadline {
            sleep(Duration::from_millis(20));
        }
        daemon.stop(Duration::from_secs(1));
    }

    /// Stops the node in an orderly way (up to 10 s, then SIGKILL).
    pub fn stop(&mut self) {
        self.stop_with(Duration::from_secs(10));
    }
}

impl RealServer for Ejabberd {
    fn name(&self) -> &'static str {
        "ejabberd"
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
        fs::read_to_string(self.logs.join("ejabberd.log")).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        format!(
            "{}\n{}\n{}",
            tail(&self.logs.join("ejabberd.log"), 6000),
            tail(&self.logs.join("error.log"), 2000),
            tail(&self.out, 2000)
        )
    }

    fn registered_users(&self) -> Result<Vec<String>, String> {
        let out = self.ctl(&["registered_users", DOMAIN])?;
        let mut users: Vec<String> = out
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        users.sort();
        Ok(users)
    }
}

impl Drop for Ejabberd {
    fn drop(&mut self) {
        // The data is thrown away with the directory: no need for an orderly shutdown.
        self.stop_with(Duration::ZERO);
    }
}

fn config_text(
    port: u16,
    direct_tls_port: u16,
    certs: &TestCerts,
    stream_mgmt: Option<u64>,
) -> String {
    let stream_mgmt = stream_mgmt
        .map(|secs| format!("  mod_stream_mgmt:\n    resume_timeout: {secs}\n"))
        .unwrap_or_default();
    format!(
        r#"# Throwaway ejabberd config written by herald-testkit: c2s on loopback only, no s2s
# listener, no HTTP, no mod_fail2ban (wrong-password tests would ban 127.0.0.1).
hosts:
  - "{DOMAIN}"
loglevel: info
certfiles:
  - "{cert}"
  - "{key}"
listen:
  -
    port: {port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    access: c2s
    starttls_required: true
  -
    # XEP-0368: TLS from the first byte.
    port: {direct_tls_port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    access: c2s
    tls: true
auth_method: internal
auth_password_format: scram
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
modules:
  mod_roster:
    versioning: true
  mod_disco: {{}}
  mod_ping: {{}}
  mod_admin_extra: {{}}
  mod_carboncopy: {{}}
  mod_privacy: {{}}
  mod_blocking: {{}}
  mod_client_state: {{}}
{stream_mgmt}"#,
        cert = certs.cert_pem.display(),
        key = certs.key_pem.display(),
    )
}
