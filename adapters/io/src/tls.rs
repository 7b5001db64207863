//! rustls client setup and the channel-binding data SCRAM `-PLUS` needs.

use herald_core::ChannelBinding;
use rustls::{ClientConnection, ProtocolVersion};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// ALPN protocol id for XMPP client connections over direct TLS (XEP-0368).
pub const ALPN_XMPP_CLIENT: &[u8] = b"xmpp-client";

pub use crate::tls_config::{Roots, TlsConfigs, TlsSetupError, client_config};

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
}
