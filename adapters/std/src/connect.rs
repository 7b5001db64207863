//! Reaching the server: the targets to try (a redirect, the explicit server, DNS SRV, the
//! domain), TCP and direct TLS each bounded by the login step timeout, then the core's
//! `connect`. What a failure means is the supervisor's business.

use std::io;
use std::time::Instant;

use herald_core::Transport as CoreTransport;
use herald_io::supervisor::Next;
use herald_io::target::{Target, choose};
use herald_io::tls::channel_binding;
use herald_io::trace::{SESSION_TARGET, XmlTrace};

use crate::error::Error;
use crate::session::Session;
use crate::tls::{self, HandshakeError};
use crate::transport::{Transport, connect_tcp};

/// Why no connection was opened.
#[derive(Debug)]
pub(crate) enum OpenFailure {
    /// No target answered (the last one's error).
    Io(io::Error),
    /// A direct TLS handshake failed (certificate, alert).
    Tls(String),
}

impl From<OpenFailure> for Error {
    fn from(failure: OpenFailure) -> Error {
        match failure {
            OpenFailure::Io(e) => Error::Io(e),
            OpenFailure::Tls(message) => Error::Tls(message),
        }
    }
}

impl Session {
    /// The places to try, in order: the redirect alone, else the usual targets.
    pub(crate) fn targets(&self, redirect: Option<Target>) -> Vec<Target> {
        if let Some(target) = redirect {
            return vec![target];
        }
        let domain = self.sup.domain().to_string();
        #[cfg(feature = "srv")]
        let srv = if self.options.server.is_none() {
            crate::srv::lookup(&domain)
        } else {
            Vec::new()
        };
        #[cfg(not(feature = "srv"))]
        let srv = Vec::new();
        choose(&domain, &self.options, srv)
    }

    /// Tries `targets` in order until one connects. A TLS failure stops at once (the
    /// certificate is checked against the domain, so another host would not help).
    pub(crate) fn open_any(&mut self, targets: Vec<Target>) -> Result<(), OpenFailure> {
        let mut last = None;
        for target in targets {
            match self.open(&target) {
                Ok(()) => {
                    self.sup.connected(&target);
                    return Ok(());
                }
                Err(OpenFailure::Tls(message)) => {
                    tracing::debug!(target: SESSION_TARGET, "TLS failed: {message}");
                    return Err(OpenFailure::Tls(message));
                }
                Err(OpenFailure::Io(e)) => {
                    tracing::debug!(target: SESSION_TARGET, "{}:{}: {e}", target.host, target.port);
                    last = Some(io::Error::new(
                        e.kind(),
                        format!("{}:{}: {e}", target.host, target.port),
                    ));
                }
            }
        }
        Err(OpenFailure::Io(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "no server to connect to")
        })))
    }

    /// What the supervisor says about a failed attempt to open a connection.
    pub(crate) fn on_open_failure(&mut self, failure: &OpenFailure) -> Next {
        match failure {
            OpenFailure::Tls(message) => self.sup.on_tls_failed(message),
            OpenFailure::Io(e) => self.sup.on_unreachable(&e.to_string(), Instant::now()),
        }
    }

    /// Opens a connection to `target` for the current client.
    fn open(&mut self, target: &Target) -> Result<(), OpenFailure> {
        self.trace = XmlTrace::new(self.options.trace);
        tracing::debug!(target: SESSION_TARGET, "connecting to {}:{} ({})", target.host,
            target.port, if target.direct_tls { "direct TLS" } else { "STARTTLS" });
        let step = self.sup.step_timeout();
        let mut tcp = connect_tcp(&target.host, target.port, step).map_err(OpenFailure::Io)?;
        let transport = if target.direct_tls {
            tcp.set_read_timeout(Some(step)).map_err(OpenFailure::Io)?;
            let domain = self.sup.domain().to_string();
            let conn = match tls::handshake(self.tls.direct.clone(), &domain, &mut tcp) {
                Ok(conn) => conn,
                Err(HandshakeError::Tls(message)) => return Err(OpenFailure::Tls(message)),
                Err(HandshakeError::TimedOut) => {
                    return Err(OpenFailure::Io(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the TLS handshake timed out",
                    )));
                }
                Err(HandshakeError::Io(e)) => return Err(OpenFailure::Io(e)),
            };
            tracing::debug!(target: SESSION_TARGET, "{}", tls::describe(&conn));
            let binding = channel_binding(&conn);
            self.transport = Some(Transport::Tls {
                conn: Box::new(conn),
                tcp,
            });
            CoreTransport::DirectTls(Some(binding))
        } else {
            self.transport = Some(Transport::Plain(tcp));
            CoreTransport::Plain
        };
        // A fresh client always accepts connect; report it plainly if that ever changes.
        self.client
            .connect(Instant::now(), transport)
            .map_err(|e| OpenFailure::Io(io::Error::other(e.to_string())))
    }
}
