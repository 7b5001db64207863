//! Reaching the server: the targets to try (explicit server, DNS SRV, the domain), TCP,
//! direct TLS when the target asks for it, then the core's `connect`.

use std::time::Instant;

use herald_core::Transport as CoreTransport;
use herald_io::target::Target;
use herald_io::tls::channel_binding;

use crate::error::Error;
use crate::options::TlsMode;
use crate::session::Session;
use crate::tls::{self, HandshakeError};
use crate::transport::{Transport, connect_tcp};

impl Session {
    fn domain(&self) -> String {
        self.config.jid.domain().as_str().to_string()
    }

    /// The places to try, in order, when nothing redirects us.
    pub(crate) fn targets(&self) -> Vec<Target> {
        let mode = self.options.tls;
        if let Some((host, port)) = &self.options.server {
            return vec![Target {
                host: host.clone(),
                port: *port,
                direct_tls: mode == TlsMode::Direct,
            }];
        }
        let domain = self.domain();
        #[cfg(feature = "srv")]
        let mut targets = crate::srv::lookup(&domain);
        #[cfg(not(feature = "srv"))]
        let mut targets: Vec<Target> = Vec::new();
        match mode {
            TlsMode::StartTls => targets.retain(|t| !t.direct_tls),
            TlsMode::Direct => targets.retain(|t| t.direct_tls),
            TlsMode::Auto => {}
        }
        if targets.is_empty() {
            targets.push(Target {
                host: domain,
                port: mode.default_port(),
                direct_tls: mode == TlsMode::Direct,
            });
        }
        targets
    }

    /// Tries `targets` in order until one connects. A TLS failure stops at once (the
    /// certificate is checked against the domain, so another host would not help).
    pub(crate) fn open_any(&mut self, targets: Vec<Target>) -> Result<(), Error> {
        let mut last = None;
        for target in targets {
            match self.open(&target) {
                Ok(()) => return Ok(()),
                Err(e @ (Error::Tls(_) | Error::Config(_) | Error::Usage(_))) => return Err(e),
                Err(e) => {
                    self.trace
                        .note(&format!("{}:{}: {e}", target.host, target.port));
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::Config("no server to connect to".into())))
    }

    /// Opens a connection to `target` for the current client.
    fn open(&mut self, target: &Target) -> Result<(), Error> {
        self.trace.reset();
        let kind = if target.direct_tls {
            "direct TLS"
        } else {
            "STARTTLS"
        };
        self.trace.note(&format!(
            "connecting to {}:{} ({kind})",
            target.host, target.port
        ));
        let step = self.config.timeouts.step;
        let mut tcp = connect_tcp(&target.host, target.port, step)?;
        let now = Instant::now();
        if !target.direct_tls {
            self.transport = Some(Transport::Plain(tcp));
            self.client.connect(now, CoreTransport::Plain)?;
            return Ok(());
        }
        tcp.set_read_timeout(Some(step))?;
        let domain = self.domain();
        let conn = match tls::handshake(self.tls.direct.clone(), &domain, &mut tcp) {
            Ok(conn) => conn,
            Err(HandshakeError::Tls(message)) => return Err(Error::Tls(message)),
            Err(HandshakeError::TimedOut) => {
                return Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into());
            }
            Err(HandshakeError::Io(e)) => return Err(e.into()),
        };
        self.trace.note(&tls::describe(&conn));
        let binding = channel_binding(&conn);
        self.transport = Some(Transport::Tls {
            conn: Box::new(conn),
            tcp,
        });
        self.client
            .connect(now, CoreTransport::DirectTls(Some(binding)))?;
        Ok(())
    }
}
