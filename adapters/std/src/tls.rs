//! The blocking TLS handshake on an already connected socket (the client configurations
//! come from `herald_io::tls::TlsConfigs`, built once per session).

use std::io;
use std::net::TcpStream;
use std::sync::Arc;

use herald_io::tls::handshake_failure;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};

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
    if matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ) {
        return HandshakeError::TimedOut;
    }
    match handshake_failure(&e) {
        Some(message) => HandshakeError::Tls(message),
        None => HandshakeError::Io(e),
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
