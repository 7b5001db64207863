//! How an adapter reaches the server and when it tries again: one [`ConnectOptions`] for
//! both drivers, so that the same settings mean the same thing in both.

use std::path::PathBuf;
use std::time::Duration;

use crate::tls::{Roots, TlsConfigs, TlsSetupError};

/// How TLS starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TlsMode {
    /// Plain TCP, then STARTTLS (port 5222 by default).
    StartTls,
    /// TLS from the first byte (XEP-0368, port 5223 by default), with ALPN `xmpp-client`.
    Direct,
    /// Whatever the DNS SRV records say: `_xmpps-client` targets with direct TLS and
    /// `_xmpp-client` targets with STARTTLS, by priority and weight. Without records, or
    /// with an explicit [`ConnectOptions::server`], the same as `StartTls`. The default.
    #[default]
    Auto,
}

impl TlsMode {
    /// The port used when none is given: 5223 for direct TLS, else 5222.
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::Direct => 5223,
            TlsMode::StartTls | TlsMode::Auto => 5222,
        }
    }
}

/// Transport and reconnect options, shared by `herald-tokio` and `herald-std`.
///
/// Build with [`ConnectOptions::new`] and its setters (or take the default and assign the
/// fields; a struct literal does not compile, so that new options never break callers).
/// [`check`](Self::check) tells what cannot work before anything connects. The rules they
/// feed are in the [`supervisor`](crate::supervisor) docs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Connect here and skip DNS SRV. Default: none (SRV where the adapter can look it up,
    /// then the JID's domain on [`TlsMode::default_port`]).
    pub server: Option<(String, u16)>,
    /// STARTTLS, direct TLS, or what SRV says ([`TlsMode::Auto`], the default).
    pub tls: TlsMode,
    /// XMPP over WebSocket (RFC 7395) to this `ws://` or `wss://` URL (for example
    /// `wss://example.org/xmpp-websocket`) instead of TCP: `server`, `tls` and SRV are not
    /// used; the roots and CA file are, for `wss:`. `herald-tokio` only (`herald-std`
    /// refuses it). A `ws:` URL carries no TLS, so the core's
    /// [`TlsPolicy`](herald_core::TlsPolicy) must allow plaintext (loopback only). Default:
    /// none.
    pub websocket: Option<String>,
    /// A PEM file of CA certificates to trust in addition to [`roots`](Self::roots). Read
    /// once, when the session starts. Ignored with [`tls_config`](Self::tls_config).
    pub ca_file: Option<PathBuf>,
    /// Which certificate authorities to trust: the web PKI roots compiled in (default), the
    /// platform's, or only `CaFileOnly`'s file. Ignored with
    /// [`tls_config`](Self::tls_config).
    pub roots: Roots,
    /// TLS configurations built once ([`TlsConfigs::new`], or
    /// [`TlsConfigs::from_config`] for a provider or verifier of your own) and shared by
    /// every session given a clone: many sessions then hold one rustls configuration
    /// instead of one pair each, and nothing is read from disk per session. Default: none
    /// (each session builds its own from `roots` and `ca_file`).
    pub tls_config: Option<TlsConfigs>,
    /// Reconnect after a connection loss (default `true`). Never after an authentication
    /// failure, a TLS or certificate failure, or a local close.
    pub reconnect: bool,
    /// First reconnect delay; it doubles up to `reconnect_max`, half of it random jitter.
    /// Default 1 s.
    pub reconnect_initial: Duration,
    /// Longest reconnect delay. Default 60 s.
    pub reconnect_max: Duration,
    /// Emit the XML both ways as `tracing` events (target `herald::xml`, level TRACE), with
    /// SASL payloads redacted. Default false.
    pub trace: bool,
    /// How many events `herald-tokio` buffers for the application before it stops reading
    /// the socket (back-pressure). Default 256; 0 is refused by [`check`](Self::check). `herald-std` hands events out
    /// from `pump` and reads nothing between two calls, so it needs no such bound.
    pub event_capacity: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            server: None,
            tls: TlsMode::Auto,
            websocket: None,
            ca_file: None,
            roots: Roots::WebPki,
            tls_config: None,
            reconnect: true,
            reconnect_initial: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(60),
            trace: false,
            event_capacity: 256,
        }
    }
}

impl ConnectOptions {
    /// The TLS configurations a session with these options uses: the shared
    /// [`tls_config`](Self::tls_config), else built from `roots` and `ca_file` (blocking
    /// file I/O: an async adapter calls this off its runtime's workers).
    pub fn tls_configs(&self) -> Result<TlsConfigs, TlsSetupError> {
        match &self.tls_config {
            Some(shared) => Ok(shared.clone()),
            None => TlsConfigs::new(&self.roots, self.ca_file.as_deref()),
        }
    }
}
