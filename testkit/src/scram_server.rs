//! The server side of SCRAM (RFC 5802, RFC 7677), written independently of the client's, so
//! that a shared mistake cannot make both ends agree.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Which hash the mechanism uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    /// SCRAM-SHA-1.
    Sha1,
    /// SCRAM-SHA-256.
    Sha256,
}

impl Hash {
    /// For a mechanism name such as `SCRAM-SHA-256-PLUS`.
    pub fn for_mechanism(name: &str) -> Option<Hash> {
        if name.starts_with("SCRAM-SHA-256") {
            Some(Hash::Sha256)
        } else if name.starts_with("SCRAM-SHA-1") {
            Some(Hash::Sha1)
        } else {
            None
        }
    }

    /// HMAC(key, data).
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => {
                let mut m = <Hmac<Sha1> as KeyInit>::new_from_slice(key).expect("any key length");
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            Hash::Sha256 => {
                let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
        }
    }

    /// H(data).
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => Sha1::digest(data).to_vec(),
            Hash::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    /// Hi(password, salt, i), RFC 5802 section 2.2, written out as the RFC defines it.
    pub fn hi(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        let mut block = salt.to_vec();
        block.extend_from_slice(&1u32.to_be_bytes());
        let mut u = self.hmac(password, &block);
        let mut out = u.clone();
        for _ in 1..iterations {
            u = self.hmac(password, &u);
            for (o, b) in out.iter_mut().zip(&u) {
                *o ^= b;
            }
        }
        out
    }
}

/// The keys a server stores for an account.
#[derive(Debug, Clone)]
pub struct StoredCredentials {
    /// The hash.
    pub hash: Hash,
    /// Salt.
    pub salt: Vec<u8>,
    /// Iteration count.
    pub iterations: u32,
    /// StoredKey = H(ClientKey).
    pub stored_key: Vec<u8>,
    /// ServerKey = HMAC(SaltedPassword, "Server Key").
    pub server_key: Vec<u8>,
}

impl StoredCredentials {
    /// Derives the stored keys from a password.
    pub fn new(hash: Hash, password: &str, salt: &[u8], iterations: u32) -> Self {
        let salted = hash.hi(password.as_bytes(), salt, iterations);
        let client_key = hash.hmac(&salted, b"Client Key");
        StoredCredentials {
            hash,
            salt: salt.to_vec(),
            iterations,
            stored_key: hash.digest(&client_key),
            server_key: hash.hmac(&salted, b"Server Key"),
        }
    }
}

/// Splits `a=x,b=y` into pairs; values may contain `=`.
pub fn attributes(msg: &str) -> Vec<(char, String)> {
    msg.split(',')
        .filter_map(|part| {
            let mut chars = part.chars();
            let key = chars.next()?;
            let rest = chars.as_str().strip_prefix('=')?;
            Some((key, rest.to_string()))
        })
        .collect()
}

/// Verifies a client-final-message against the auth message; returns the server signature
/// on success.
pub fn verify_client_proof(
    creds: &StoredCredentials,
    auth_message: &str,
    proof_b64: &str,
) -> Option<Vec<u8>> {
    let proof = BASE64.decode(proof_b64).ok()?;
    let signature = creds.hash.hmac(&creds.stored_key, auth_message.as_bytes());
    if proof.len() != signature.len() {
        return None;
    }
    let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
    if creds.hash.digest(&client_key) != creds.stored_key {
        return None;
    }
    Some(creds.hash.hmac(&creds.server_key, auth_message.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5802 section 5: the server side of the published SCRAM-SHA-1 exchange.
    #[test]
    fn rfc5802_vector() {
        let salt = BASE64.decode("QSXCR+Q6sek8bf92").unwrap();
        let creds = StoredCredentials::new(Hash::Sha1, "pencil", &salt, 4096);
        let auth = "n=user,r=fyko+d2lbbFgONRv9qkxdawL,\
            r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,\
            c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j";
        let v = verify_client_proof(&creds, auth, "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=").unwrap();
        assert_eq!(BASE64.encode(v), "rmF9pqV8S7suAoZWja4dJRkFsKQ=");
        assert!(verify_client_proof(&creds, auth, "v0X8v3Bz2T0CJGbJQyF0X+HI4Tt=").is_none());
    }

    /// RFC 7677 section 3: SCRAM-SHA-256.
    #[test]
    fn rfc7677_vector() {
        let salt = BASE64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let creds = StoredCredentials::new(Hash::Sha256, "pencil", &salt, 4096);
        let auth = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
            r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
            c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let v = verify_client_proof(&creds, auth, "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
            .unwrap();
        assert_eq!(
            BASE64.encode(v),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }
}
