//! Channel-binding data for SCRAM `-PLUS`, taken from a finished rustls handshake.
//!
//! - `tls-exporter` (RFC 9266): 32 bytes exported with the label
//!   `EXPORTER-Channel-Binding` and no context, on TLS 1.3 only (on TLS 1.2 it is safe only
//!   with the extended master secret, which rustls does not let us check).
//! - `tls-server-end-point` (RFC 5929 section 4.1): the hash of the server's end-entity
//!   certificate, with the certificate's signature hash, and SHA-256 in place of MD5, SHA-1
//!   and anything else.
//! - `tls-unique` is not available from rustls.

use herald_core::ChannelBinding;
use rustls::{ClientConnection, ProtocolVersion};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// The channel-binding data `conn` offers.
pub(crate) fn channel_binding(conn: &ClientConnection) -> ChannelBinding {
    let mut binding = ChannelBinding::default();
    if conn.protocol_version() == Some(ProtocolVersion::TLSv1_3) {
        binding.tls_exporter = conn
            .export_keying_material([0u8; 32], b"EXPORTER-Channel-Binding", None)
            .ok()
            .map(|bytes| bytes.to_vec());
    }
    binding.tls_server_end_point = conn
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|cert| server_end_point(cert.as_ref()));
    binding
}

/// The RFC 5929 `tls-server-end-point` hash of a DER certificate.
pub(crate) fn server_end_point(cert_der: &[u8]) -> Vec<u8> {
    match signature_hash(cert_der) {
        SigHash::Sha384 => Sha384::digest(cert_der).to_vec(),
        SigHash::Sha512 => Sha512::digest(cert_der).to_vec(),
        SigHash::Sha256 => Sha256::digest(cert_der).to_vec(),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum SigHash {
    Sha256,
    Sha384,
    Sha512,
}

// Signature algorithm OIDs (DER contents) whose hash is not SHA-256.
const SHA384_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
const SHA512_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
const ECDSA_WITH_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
const ECDSA_WITH_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];

/// Reads `Certificate.signatureAlgorithm.algorithm`; anything unreadable counts as SHA-256.
fn signature_hash(cert_der: &[u8]) -> SigHash {
    let oid = der_next(cert_der)
        .filter(|(tag, _, _)| *tag == 0x30)
        .and_then(|(_, cert, _)| der_next(cert))
        .and_then(|(_, _tbs, rest)| der_next(rest))
        .filter(|(tag, _, _)| *tag == 0x30)
        .and_then(|(_, alg, _)| der_next(alg))
        .filter(|(tag, _, _)| *tag == 0x06)
        .map(|(_, oid, _)| oid);
    match oid {
        Some(SHA384_WITH_RSA | ECDSA_WITH_SHA384) => SigHash::Sha384,
        Some(SHA512_WITH_RSA | ECDSA_WITH_SHA512) => SigHash::Sha512,
        _ => SigHash::Sha256,
    }
}

/// One DER element: (tag, contents, the bytes after it).
fn der_next(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
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
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
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

    /// A skeleton certificate: SEQUENCE { SEQUENCE {} , SEQUENCE { OID }, BIT STRING }.
    fn skeleton(oid: &[u8]) -> Vec<u8> {
        let mut alg = vec![0x06, oid.len() as u8];
        alg.extend_from_slice(oid);
        let mut body = vec![0x30, 0x00, 0x30, alg.len() as u8];
        body.extend_from_slice(&alg);
        body.extend_from_slice(&[0x03, 0x01, 0x00]);
        let mut cert = vec![0x30, body.len() as u8];
        cert.extend_from_slice(&body);
        cert
    }

    #[test]
    fn picks_the_certificate_signature_hash() {
        assert_eq!(
            signature_hash(&skeleton(ECDSA_WITH_SHA384)),
            SigHash::Sha384
        );
        assert_eq!(signature_hash(&skeleton(SHA512_WITH_RSA)), SigHash::Sha512);
        // sha256WithRSAEncryption
        let sha256 = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
        assert_eq!(signature_hash(&skeleton(&sha256)), SigHash::Sha256);
        assert_eq!(server_end_point(&skeleton(&sha256)).len(), 32);
        assert_eq!(server_end_point(&skeleton(ECDSA_WITH_SHA384)).len(), 48);
    }

    #[test]
    fn garbage_is_sha256_and_never_panics() {
        for input in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 2, 3, 4, 5],
            &[0x30, 0x05, 0x30],
        ] {
            assert_eq!(signature_hash(input), SigHash::Sha256);
        }
    }
}
