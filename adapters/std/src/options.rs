//! How [`Session::connect`](crate::Session::connect) reaches the server.

use std::path::PathBuf;

/// How TLS is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TlsMode {
    /// Plain TCP, then STARTTLS when the server asks for it (port 5222 by default).
    #[default]
    StartTls,
    /// TLS from the first byte (XEP-0368, port 5223 by default), with ALPN `xmpp-client`.
    Direct,
}

impl TlsMode {
    /// The port used when none is given: 5222 for STARTTLS, 5223 for direct TLS.
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::StartTls => 5222,
            TlsMode::Direct => 5223,
        }
    }
}

/// Transport options for [`Session::connect`](crate::Session::connect).
///
/// Build with [`ConnectOptions::default`] and adjust the fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// The host and port to connect to. `None`: the JID's domain on
    /// [`TlsMode::default_port`]. (`herald-std` does no DNS SRV lookup; give the host
    /// here when the domain's SRV records point elsewhere.)
    pub server: Option<(String, u16)>,
    /// STARTTLS (the default) or direct TLS.
    pub tls: TlsMode,
    /// A PEM file of CA certificates to trust in addition to the built-in web PKI roots.
    pub ca_file: Option<PathBuf>,
    /// Reconnect after a connection loss, with exponential backoff (default `true`). Never
    /// after an authentication failure, a TLS or certificate failure, or a local close.
    pub reconnect: bool,
    /// Log the XML in both directions on standard error, with SASL payloads redacted.
    pub trace: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            server: None,
            tls: TlsMode::StartTls,
            ca_file: None,
            reconnect: true,
            trace: false,
        }
    }
}
