//! The rustls client configurations of a session, built once and shared: every session
//! and every reconnect given the same [`TlsConfigs`] uses the same two `Arc<ClientConfig>`s
//! (a rustls configuration with the web PKI roots is about 34 KB of heap; ten thousand
//! sessions should not hold ten thousand copies).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

use crate::tls::ALPN_XMPP_CLIENT;

/// The TLS configuration cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TlsSetupError {
    /// The CA file cannot be read or holds no certificate.
    #[error("CA file {path}: {message}")]
    CaFile {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The platform's certificate store could not be read, or held nothing usable.
    #[error("platform certificates: {0}")]
    Platform(String),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Which certificate authorities a session trusts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Roots {
    /// The Mozilla roots compiled in (`webpki-roots`). The default.
    #[default]
    WebPki,
    /// The platform's: `SSL_CERT_FILE` / `SSL_CERT_DIR` when set, else the system store
    /// (`rustls-native-certs`).
    Platform,
    /// Only the certificates in this PEM file: a private CA, nothing else trusted.
    CaFileOnly(PathBuf),
}

/// A client configuration: TLS 1.2 and 1.3 with the ring provider, the webpki roots plus
/// the certificates in `ca_file` (PEM), and `alpn` (set `xmpp-client` for direct TLS).
pub fn client_config(
    ca_file: Option<&Path>,
    alpn: bool,
) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let configs = TlsConfigs::new(&Roots::WebPki, ca_file)?;
    Ok(configs.for_mode(alpn))
}

/// The two client configurations a session needs: STARTTLS, and direct TLS with ALPN
/// `xmpp-client` (XEP-0368). Cloning shares them. Build one and put it in
/// [`ConnectOptions::tls_config`](crate::ConnectOptions::tls_config) of every session: the
/// CA file is read once, and the configurations (and rustls's session ticket cache, so
/// reconnects resume TLS) are shared.
#[derive(Clone)]
pub struct TlsConfigs {
    /// For the STARTTLS upgrade.
    pub starttls: Arc<ClientConfig>,
    /// For TLS from the first byte.
    pub direct: Arc<ClientConfig>,
}

impl fmt::Debug for TlsConfigs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // rustls's own Debug prints every root certificate.
        f.debug_struct("TlsConfigs")
            .field("direct_alpn", &self.direct.alpn_protocols.len())
            .finish_non_exhaustive()
    }
}

impl TlsConfigs {
    /// Both configurations, trusting the web PKI roots plus `ca_file` (read here: blocking
    /// file I/O, so an async adapter calls this off its runtime's workers).
    pub fn load(ca_file: Option<&Path>) -> Result<TlsConfigs, TlsSetupError> {
        TlsConfigs::new(&Roots::WebPki, ca_file)
    }

    /// Both configurations trusting `roots`, plus the certificates in `ca_file` when
    /// given (added to any of the three). Blocking file I/O.
    pub fn new(roots: &Roots, ca_file: Option<&Path>) -> Result<TlsConfigs, TlsSetupError> {
        let mut store = RootCertStore::empty();
        match roots {
            Roots::WebPki => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Roots::Platform => add_platform(&mut store)?,
            Roots::CaFileOnly(path) => add_pem(&mut store, path)?,
        }
        if let Some(path) = ca_file {
            add_pem(&mut store, path)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_root_certificates(store)
            .with_no_client_auth();
        Ok(TlsConfigs::from_config(config))
    }

    /// From a configuration the application built (its crypto provider, verifier, roots,
    /// client certificate): used as it is for STARTTLS, and a copy with ALPN `xmpp-client`
    /// for direct TLS. Channel binding works with any of them.
    pub fn from_config(config: ClientConfig) -> TlsConfigs {
        let mut direct = config.clone();
        direct.alpn_protocols = vec![ALPN_XMPP_CLIENT.to_vec()];
        let mut starttls = config;
        starttls.alpn_protocols.clear();
        TlsConfigs {
            starttls: Arc::new(starttls),
            direct: Arc::new(direct),
        }
    }

    /// The configuration for a connection that starts with TLS (`direct`) or upgrades.
    pub fn for_mode(&self, direct_tls: bool) -> Arc<ClientConfig> {
        if direct_tls {
            self.direct.clone()
        } else {
            self.starttls.clone()
        }
    }
}

fn add_pem(store: &mut RootCertStore, path: &Path) -> Result<(), TlsSetupError> {
    let ca_error = |message: String| TlsSetupError::CaFile {
        path: path.display().to_string(),
        message,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| ca_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ca_error(e.to_string()))?;
    if certs.is_empty() {
        return Err(ca_error("no certificate in the file".into()));
    }
    for cert in certs {
        store.add(cert).map_err(|e| ca_error(e.to_string()))?;
    }
    Ok(())
}

fn add_platform(store: &mut RootCertStore) -> Result<(), TlsSetupError> {
    let found = rustls_native_certs::load_native_certs();
    let (added, _) = store.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map_or_else(|| "no certificate found".to_string(), ToString::to_string);
        return Err(TlsSetupError::Platform(why));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use herald_testkit::pki::Pki;
    use rustls::{ClientConnection, ServerConfig, ServerConnection};

    use super::*;

    /// A TLS handshake in memory between `client` and `server` (a `localhost` leaf).
    fn handshake(client: Arc<ClientConfig>, server: Arc<ServerConfig>) -> Result<(), String> {
        let name = "localhost".try_into().expect("server name");
        let mut c = ClientConnection::new(client, name).map_err(|e| e.to_string())?;
        let mut s = ServerConnection::new(server).map_err(|e| e.to_string())?;
        for _ in 0..10 {
            let mut wire = Vec::new();
            c.write_tls(&mut wire).map_err(|e| e.to_string())?;
            s.read_tls(&mut Cursor::new(wire))
                .map_err(|e| e.to_string())?;
            s.process_new_packets()
                .map_err(|e| format!("server: {e}"))?;
            let mut wire = Vec::new();
            s.write_tls(&mut wire).map_err(|e| e.to_string())?;
            c.read_tls(&mut Cursor::new(wire))
                .map_err(|e| e.to_string())?;
            c.process_new_packets()
                .map_err(|e| format!("client: {e}"))?;
            if !c.is_handshaking() && !s.is_handshaking() {
                return Ok(());
            }
        }
        Err("no end to the handshake".into())
    }

    fn ca_file(pki: &Pki, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, &pki.ca_pem).unwrap();
        path
    }

    #[test]
    fn ca_file_errors_are_clear() {
        let err = client_config(Some(Path::new("/nonexistent/ca.pem")), false).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
        assert!(client_config(None, true).is_ok());
        let only = TlsConfigs::new(&Roots::CaFileOnly("/nonexistent/ca.pem".into()), None);
        assert!(only.unwrap_err().to_string().contains("/nonexistent"));
    }

    #[test]
    fn a_ca_file_adds_to_or_replaces_the_roots() {
        let dir = std::env::temp_dir().join(format!("herald-roots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (ours, other) = (Pki::generate().unwrap(), Pki::generate().unwrap());
        let our_ca = ca_file(&ours, &dir, "ours.pem");
        let other_ca = ca_file(&other, &dir, "other.pem");
        let server = ours.server_config();
        let web = TlsConfigs::new(&Roots::WebPki, None).unwrap();
        let added = TlsConfigs::new(&Roots::WebPki, Some(&our_ca)).unwrap();
        let only = TlsConfigs::new(&Roots::CaFileOnly(our_ca.clone()), None).unwrap();
        let only_other = TlsConfigs::new(&Roots::CaFileOnly(other_ca), None).unwrap();
        let err = handshake(web.starttls, server.clone()).unwrap_err();
        assert!(err.contains("UnknownIssuer"), "{err}");
        handshake(added.starttls, server.clone()).unwrap();
        handshake(only.starttls, server.clone()).unwrap();
        // Same CA name, another key: the signature does not verify.
        let err = handshake(only_other.starttls, server).unwrap_err();
        assert!(err.contains("invalid peer certificate"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn from_config_sets_alpn_for_direct_tls_only_and_clones_share() {
        let base = TlsConfigs::load(None).unwrap();
        let mut custom = (*base.direct).clone();
        custom.alpn_protocols = vec![b"something".to_vec()];
        let configs = TlsConfigs::from_config(custom);
        assert!(configs.starttls.alpn_protocols.is_empty());
        assert_eq!(
            configs.direct.alpn_protocols,
            vec![ALPN_XMPP_CLIENT.to_vec()]
        );
        let shared = configs.clone();
        assert!(Arc::ptr_eq(&shared.for_mode(true), &configs.direct));
        assert!(Arc::ptr_eq(&shared.for_mode(false), &configs.starttls));
        assert!(
            !format!("{configs:?}").contains("BEGIN"),
            "no certificates in Debug"
        );
    }
}
