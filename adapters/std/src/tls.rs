//! rustls client configuration (web PKI roots plus an optional CA file) and the blocking
//! handshake on an already connected socket.

use std::io;
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

use crate::error::Error;

/// The two client configurations a session needs: STARTTLS, and direct TLS with ALPN
/// `xmpp-client` (XEP-0368).
#[derive(Debug, Clone)]
pub(crate) struct TlsConfigs {
    pub(crate) starttls: Arc<ClientConfig>,
    pub(crate) direct: Arc<ClientConfig>,
}

impl TlsConfigs {
    /// Trusts the web PKI roots and, when given, every certificate in `ca_file`.
    pub(crate) fn new(ca_file: Option<&Path>) -> Result<TlsConfigs, Error> {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(path) = ca_file {
            add_ca_file(&mut roots, path)?;
        }
        // An explicit provider: the process-wide default may be unset, or ambiguous when
        // another crate in the build enables a second one.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut direct = config.clone();
        direct.alpn_protocols = vec![b"xmpp-client".to_vec()];
        Ok(TlsConfigs {
            starttls: Arc::new(config),
            direct: Arc::new(direct),
        })
    }
}

fn add_ca_file(roots: &mut RootCertStore, path: &Path) -> Result<(), Error> {
    let bad = |what: String| Error::Config(format!("CA file {}: {what}", path.display()));
    let mut added = 0;
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))? {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
        added += 1;
    }
    if added == 0 {
        return Err(bad("no certificate found".into()));
    }
    Ok(())
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
