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
    /// Whatever the DNS SRV records say (feature `srv`): `_xmpps-client` targets with
    /// direct TLS and `_xmpp-client` targets with STARTTLS, by priority and weight; without
    /// records, or with an explicit [`ConnectOptions::server`], the same as `StartTls`.
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

/// Transport options for [`Session::connect`](crate::Session::connect).
///
/// Build with [`ConnectOptions::default`] and adjust the fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// The host and port to connect to (no SRV lookup). `None`: with the feature `srv`,
    /// the targets of the domain's DNS SRV records for the [`TlsMode`] (RFC 6120 section
    /// 3.2, XEP-0368), then the JID's domain on [`TlsMode::default_port`]; without the
    /// feature, only the latter.
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
