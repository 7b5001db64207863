//! rustls client setup and the channel-binding data SCRAM `-PLUS` needs.

use std::path::Path;
use std::sync::Arc;

use herald_core::ChannelBinding;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, ClientConnection, ProtocolVersion, RootCertStore};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// ALPN protocol id for XMPP client connections over direct TLS (XEP-0368).
pub const ALPN_XMPP_CLIENT: &[u8] = b"xmpp-client";

/// The TLS configuration cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// The CA file cannot be read or holds no certificate.
    #[error("CA file {path}: {message}")]
    CaFile {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A client configuration: TLS 1.2 and 1.3 with the ring provider, the webpki roots plus
/// the certificates in `ca_file` (PEM), and `alpn` (set `xmpp-client` for direct TLS).
pub fn client_config(
    ca_file: Option<&Path>,
    alpn: bool,
) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
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
            roots.add(cert).map_err(|e| ca_error(e.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    if alpn {
        config.alpn_protocols = vec![ALPN_XMPP_CLIENT.to_vec()];
    }
    Ok(Arc::new(config))
}

/// The two client configurations a session needs, built once per session (the CA file is
/// read once): STARTTLS, and direct TLS with ALPN `xmpp-client` (XEP-0368).
#[derive(Debug, Clone)]
pub struct TlsConfigs {
    /// For the STARTTLS upgrade.
    pub starttls: Arc<ClientConfig>,
    /// For TLS from the first byte.
    pub direct: Arc<ClientConfig>,
}

impl TlsConfigs {
    /// Both configurations, trusting the web PKI roots plus `ca_file` (read here: blocking
    /// file I/O, so an async adapter calls this off its runtime's workers).
    pub fn load(ca_file: Option<&Path>) -> Result<TlsConfigs, TlsSetupError> {
        Ok(TlsConfigs {
            starttls: client_config(ca_file, false)?,
            direct: client_config(ca_file, true)?,
        })
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

/// Sorts a failed handshake: `Some(message)` when TLS itself failed (certificate, alert,
/// protocol: rustls errors, which the stream wrappers report as `InvalidData`), which
/// ends the session; `None` when the connection failed underneath (reset, end of file),
/// which is network trouble.
pub fn handshake_failure(e: &std::io::Error) -> Option<String> {
    (e.kind() == std::io::ErrorKind::InvalidData).then(|| match e.get_ref() {
        Some(inner) => inner.to_string(),
        None => e.to_string(),
    })
}

/// The channel-binding data of an established connection: `tls-exporter` (RFC 9266, TLS
/// 1.3 only) and `tls-server-end-point` (RFC 5929, the hash of the server certificate).
/// The core picks the type the server advertises.
pub fn channel_binding(conn: &ClientConnection) -> ChannelBinding {
    let mut binding = ChannelBinding::default();
    if conn.protocol_version() == Some(ProtocolVersion::TLSv1_3) {
        let mut out = [0u8; 32];
        if conn
            .export_keying_material(&mut out, b"EXPORTER-Channel-Binding", None)
            .is_ok()
        {
            binding.tls_exporter = Some(out.to_vec());
        }
    }
    binding.tls_server_end_point = conn
        .peer_certificates()
        .and_then(|certs| certs.first())
        .and_then(|cert| end_point_hash(cert.as_ref()));
    binding
}

/// RFC 5929 section 4.1: hash the certificate with the hash of its signature algorithm,
/// SHA-256 when that is MD5 or SHA-1 (or unknown).
pub fn end_point_hash(cert_der: &[u8]) -> Option<Vec<u8>> {
    let oid = signature_algorithm_oid(cert_der)?;
    Some(match signature_hash(oid) {
        SigHash::Sha384 => Sha384::digest(cert_der).to_vec(),
        SigHash::Sha512 => Sha512::digest(cert_der).to_vec(),
        SigHash::Sha256 => Sha256::digest(cert_der).to_vec(),
    })
}

enum SigHash {
    Sha256,
    Sha384,
    Sha512,
}

fn signature_hash(oid: &[u8]) -> SigHash {
    // DER contents of the OIDs: sha384WithRSAEncryption 1.2.840.113549.1.1.12,
    // sha512WithRSAEncryption ...1.1.13, ecdsa-with-SHA384 1.2.840.10045.4.3.3,
    // ecdsa-with-SHA512 ...4.3.4. Ed25519 and the rest fall back to SHA-256.
    const RSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
    const RSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
    const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
    const ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
    match oid {
        RSA_SHA384 | ECDSA_SHA384 => SigHash::Sha384,
        RSA_SHA512 | ECDSA_SHA512 => SigHash::Sha512,
        _ => SigHash::Sha256,
    }
}

/// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, .. }
/// and AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, .. }.
fn signature_algorithm_oid(der: &[u8]) -> Option<&[u8]> {
    let (tag, cert, _) = der_element(der)?;
    if tag != 0x30 {
        return None;
    }
    let (_, _, after_tbs) = der_element(cert)?;
    let (tag, alg, _) = der_element(after_tbs)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, oid, _) = der_element(alg)?;
    (tag == 0x06).then_some(oid)
}

/// One DER TLV: (tag, contents, rest).
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_with(alg: &'static rcgen::SignatureAlgorithm) -> Vec<u8> {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn end_point_hash_follows_the_signature_hash() {
        let p256 = cert_with(&rcgen::PKCS_ECDSA_P256_SHA256);
        assert_eq!(
            end_point_hash(&p256).unwrap(),
            Sha256::digest(&p256).to_vec()
        );
        let p384 = cert_with(&rcgen::PKCS_ECDSA_P384_SHA384);
        assert_eq!(
            end_point_hash(&p384).unwrap(),
            Sha384::digest(&p384).to_vec()
        );
        let ed = cert_with(&rcgen::PKCS_ED25519);
        assert_eq!(end_point_hash(&ed).unwrap().len(), 32);
    }

    #[test]
    fn garbage_certificates_give_no_hash() {
        assert_eq!(end_point_hash(&[]), None);
        assert_eq!(end_point_hash(&[0x30, 0x82, 0xff]), None);
        assert_eq!(end_point_hash(&[0x04, 0x00]), None);
    }

    #[test]
    fn ca_file_errors_are_clear() {
        let err = client_config(Some(Path::new("/nonexistent/ca.pem")), false).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
        assert!(client_config(None, true).is_ok());
    }
}
