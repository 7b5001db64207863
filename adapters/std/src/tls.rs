//! The rustls client configurations (built by `herald-io`) and the blocking handshake on an
//! already connected socket.

use std::io;
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;

use herald_io::tls::TlsSetupError;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};

use crate::error::Error;

/// The two client configurations a session needs: STARTTLS, and direct TLS with ALPN
/// `xmpp-client` (XEP-0368). Both trust the web PKI roots plus the CA file, if any.
#[derive(Debug, Clone)]
pub(crate) struct TlsConfigs {
    pub(crate) starttls: Arc<ClientConfig>,
    pub(crate) direct: Arc<ClientConfig>,
}

impl TlsConfigs {
    pub(crate) fn new(ca_file: Option<&Path>) -> Result<TlsConfigs, Error> {
        let build = |alpn| {
            herald_io::tls::client_config(ca_file, alpn).map_err(|e| match e {
                TlsSetupError::CaFile { .. } => Error::Config(e.to_string()),
                other => Error::Tls(other.to_string()),
            })
        };
        Ok(TlsConfigs {
            starttls: build(false)?,
            direct: build(true)?,
        })
    }
}

/// Why a handshake did not finish.
#[derive(Debug)]
pub(crate) enum HandshakeError {
    /// TLS itself failed (certificate, protocol, alert): reconnecting will not help.
    Tls(String),
    /// The socket's read timeout expired.
    TimedOut,
    /// The connection failed underneath (reset, end of file).
    Io(io::Error),
}

/// Runs a client handshake for `server_name` over `tcp` (blocking, bounded by the socket's
/// read timeout).
pub(crate) fn handshake(
    config: Arc<ClientConfig>,
    server_name: &str,
    tcp: &mut TcpStream,
) -> Result<ClientConnection, HandshakeError> {
    let name = ServerName::try_from(server_name.to_string())
        .map_err(|e| HandshakeError::Tls(format!("invalid server name {server_name:?}: {e}")))?;
    let mut conn =
        ClientConnection::new(config, name).map_err(|e| HandshakeError::Tls(e.to_string()))?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(tcp) {
            return Err(classify(e));
        }
    }
    Ok(conn)
}

/// Sorts an I/O error from rustls into TLS failure, timeout or transport failure.
pub(crate) fn classify(e: io::Error) -> HandshakeError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => HandshakeError::TimedOut,
        // complete_io wraps rustls errors (certificate, alerts, protocol) as InvalidData.
        io::ErrorKind::InvalidData => HandshakeError::Tls(match e.get_ref() {
            Some(inner) => inner.to_string(),
            None => e.to_string(),
        }),
        _ => HandshakeError::Io(e),
    }
}

/// A one-line summary of the negotiated session, for the trace.
pub(crate) fn describe(conn: &ClientConnection) -> String {
    let version = conn
        .protocol_version()
        .map(|v| format!("{v:?}"))
        .unwrap_or_default();
    let suite = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_default();
    format!("TLS established: {version} {suite}")
}
