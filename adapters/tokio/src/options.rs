//! How to connect, and what can go wrong outside the protocol.

use std::path::PathBuf;
use std::time::Duration;

/// How TLS starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsMode {
    /// Plain TCP, then STARTTLS (port 5222).
    StartTls,
    /// TLS from the first byte (XEP-0368, port 5223), ALPN `xmpp-client`.
    Direct,
}

/// Connection options. Start from [`ConnectOptions::default`] and set fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Connect here and skip DNS SRV. Default: none (SRV, then the domain on 5222).
    pub server: Option<(String, u16)>,
    /// TLS mode for an explicit server, or to force one over SRV. Default: none (STARTTLS
    /// for an explicit server or the fallback; what SRV says otherwise).
    pub tls: Option<TlsMode>,
    /// Extra trusted CAs (PEM), added to the webpki roots.
    pub ca_file: Option<PathBuf>,
    /// Reconnect after a session ends for a reason where that makes sense. Default true.
    pub reconnect: bool,
    /// First reconnect delay (doubles up to `reconnect_max`). Default 1 s.
    pub reconnect_initial: Duration,
    /// Longest reconnect delay. Default 60 s.
    pub reconnect_max: Duration,
    /// How long a TCP connect or TLS handshake may take. Default 15 s.
    pub connect_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            server: None,
            tls: None,
            ca_file: None,
            reconnect: true,
            reconnect_initial: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(15),
        }
    }
}

/// Why a command could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The core refused the command (see [`herald_core::UsageError`]).
    #[error(transparent)]
    Usage(#[from] herald_core::UsageError),
    /// The session task has ended; no more commands are taken.
    #[error("the session has ended")]
    Ended,
    /// Not connected right now (between two connection attempts).
    #[error("not connected right now")]
    NotConnected,
}
