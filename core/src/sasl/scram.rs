//! SCRAM client (RFC 5802, RFC 7677), with optional channel binding.

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{EagerHash, Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::cache::{CachedKey, ScramCache, ct_eq};
use super::mechanism::{CbindFlag, ScramHash};

/// Longest `e=` text kept from the server; the rest is cut off.
const MAX_SERVER_ERROR_LEN: usize = 256;

impl ScramHash {
    /// SaltedPassword = Hi(password, salt, i) of RFC 5802: PBKDF2 with one output block.
    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Zeroizing<Vec<u8>> {
        #[cfg(test)]
        tests::PBKDF2_RUNS.with(|c| c.set(c.get() + 1));
        match self {
            ScramHash::Sha1 => salted_password::<Sha1>(password, salt, iterations),
            ScramHash::Sha256 => salted_password::<Sha256>(password, salt, iterations),
        }
    }

    /// ClientProof and ServerSignature of RFC 5802 section 3 for `auth_message`.
    fn proof_and_signature(
        self,
        salted: &[u8],
        auth_message: &[u8],
    ) -> (Vec<u8>, Zeroizing<Vec<u8>>) {
        match self {
            ScramHash::Sha1 => scram_keys::<Sha1>(salted, auth_message),
            ScramHash::Sha256 => scram_keys::<Sha256>(salted, auth_message),
        }
    }
}

fn salted_password<D: EagerHash + Digest>(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Zeroizing<Vec<u8>> {
    let mut salted = Zeroizing::new(vec![0u8; <D as Digest>::output_size()]);
    pbkdf2::pbkdf2_hmac::<D>(password, salt, iterations, &mut salted);
    salted
}

fn scram_keys<D: EagerHash + Digest>(
    salted: &[u8],
    auth_message: &[u8],
) -> (Vec<u8>, Zeroizing<Vec<u8>>) {
    // Every intermediate key is wiped when it goes out of scope: with the salted password
    // or the client key, anyone could log in as the user.
    let hmac = |key: &[u8], data: &[u8]| {
        // HMAC accepts keys of any length (long keys are hashed), so this cannot fail.
        let mut mac = <Hmac<D> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
        Mac::update(&mut mac, data);
        Zeroizing::new(mac.finalize().into_bytes().to_vec())
    };
    let client_key = hmac(salted, b"Client Key");
    let stored_key = Zeroizing::new(<D as Digest>::digest(&*client_key).to_vec());
    let client_signature = hmac(&stored_key, auth_message);
    // ClientProof goes on the wire, so it needs no wiping.
    let proof = client_signature
        .iter()
        .zip(client_key.iter())
        .map(|(s, k)| s ^ k)
        .collect();
    let server_key = hmac(salted, b"Server Key");
    (proof, hmac(&server_key, auth_message))
}

/// Why SCRAM failed. Public: it ends up inside the session's disconnect reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScramError {
    /// The server's message is malformed; the text names which part.
    #[error("malformed SCRAM message from the server: {0}")]
    Malformed(&'static str),
    /// The server nonce does not extend the client nonce.
    #[error("the server nonce does not extend the client nonce")]
    NonceMismatch,
    /// The iteration count is outside the configured bounds.
    #[error("SCRAM iteration count {count} outside the allowed range {min}..={max}")]
    IterationCount {
        /// The count the server asked for.
        count: u32,
        /// The lowest count accepted.
        min: u32,
        /// The highest count accepted.
        max: u32,
    },
    /// The server sent `e=<error>`.
    #[error("the server rejected authentication: {0}")]
    ServerError(String),
    /// The server signature did not verify: the server does not know the password.
    #[error("the server signature did not verify")]
    SignatureMismatch,
    /// A message arrived in the wrong step.
    #[error("SCRAM message in the wrong step")]
    UnexpectedMessage,
}

/// Where a [`ScramClient`] is in the exchange.
#[derive(PartialEq, Eq)]
enum State {
    /// Waiting for server-first.
    AwaitingServerFirst,
    /// client-final sent; server-final must carry this signature.
    AwaitingServerFinal {
        server_signature: Zeroizing<Vec<u8>>,
    },
    /// The server proved it knows the password.
    Verified,
    /// A step failed; the exchange is over.
    Failed,
}

/// Client side of one SCRAM exchange.
pub(crate) struct ScramClient {
    hash: ScramHash,
    /// SASLprepped and escaped username.
    username: String,
    /// SASLprepped password; wiped once the salted password is computed, and on drop.
    password: Zeroizing<String>,
    cbind: CbindFlag,
    nonce: String,
    min_iterations: u32,
    max_iterations: u32,
    state: State,
    /// The salted password of this exchange and what it came from, for the cache once the
    /// server has verified it.
    key: Option<CachedKey>,
}

impl fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No password, nonce or server signature; CbindFlag's Debug omits the binding data.
        f.debug_struct("ScramClient")
            .field("hash", &self.hash)
            .field("username", &self.username)
            .field("cbind", &self.cbind)
            .field("verified", &self.is_verified())
            .finish_non_exhaustive()
    }
}

/// Escapes a username for `n=` (RFC 5802 section 5.1).
fn escape_username(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

/// `printable` of RFC 5802: %x21-2B / %x2D-7E.
fn is_printable(s: &str) -> bool {
    s.bytes().all(|b| (0x21..=0x7E).contains(&b) && b != b',')
}

/// Parses `i=` per RFC 5802's `posit-number` (no sign, no leading zero).
fn parse_iterations(value: &str) -> Result<u32, ScramError> {
    const BAD: ScramError = ScramError::Malformed("iteration count");
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) || value.starts_with('0') {
        return Err(BAD);
    }
    value.parse::<u32>().map_err(|_| BAD)
}

/// Checks that every extension after `i=` has the form `ALPHA "=" value`, and none is `m=`.
fn check_extensions<'a>(mut rest: impl Iterator<Item = &'a str>) -> Result<(), ScramError> {
    rest.try_for_each(|attr| {
        let b = attr.as_bytes();
        if b.len() < 2 || !b[0].is_ascii_alphabetic() || b[1] != b'=' {
            Err(ScramError::Malformed("extension"))
        } else if b[0] == b'm' {
            Err(ScramError::Malformed("mandatory extension"))
        } else {
            Ok(())
        }
    })
}

impl ScramClient {
    /// Starts an exchange.
    ///
    /// `nonce`: printable ASCII without ',' (the caller makes it from its random source).
    /// `min_iterations`..=`max_iterations` bounds the server's iteration count. `username`
    /// and `password` are SASLprepped already ([`Credentials`](super::credentials::Credentials)).
    pub(crate) fn new(
        hash: ScramHash,
        username: &str,
        password: &str,
        cbind: CbindFlag,
        nonce: String,
        min_iterations: u32,
        max_iterations: u32,
    ) -> Result<Self, ScramError> {
        let password = Zeroizing::new(password.to_string());
        if nonce.is_empty() || !is_printable(&nonce) {
            return Err(ScramError::Malformed("client nonce"));
        }
        Ok(ScramClient {
            hash,
            username: escape_username(username),
            password,
            cbind,
            nonce,
            min_iterations,
            max_iterations,
            state: State::AwaitingServerFirst,
            key: None,
        })
    }

    fn client_first_bare(&self) -> String {
        format!("n={},r={}", self.username, self.nonce)
    }

    /// client-first-message including the GS2 header, e.g. `b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"`.
    pub(crate) fn client_first(&self) -> Vec<u8> {
        let mut msg = self.cbind.gs2_header();
        msg.push_str(&self.client_first_bare());
        msg.into_bytes()
    }

    /// Takes server-first-message, returns client-final-message (with `c=` and `p=`).
    #[cfg(test)]
    pub(crate) fn handle_server_first(&mut self, msg: &[u8]) -> Result<Vec<u8>, ScramError> {
        self.handle_server_first_cached(msg, &ScramCache::default())
    }

    /// [`handle_server_first`](Self::handle_server_first), taking the salted password from
    /// `cache` when it holds one for the same inputs instead of running PBKDF2.
    pub(crate) fn handle_server_first_cached(
        &mut self,
        msg: &[u8],
        cache: &ScramCache,
    ) -> Result<Vec<u8>, ScramError> {
        if self.state != State::AwaitingServerFirst {
            return Err(ScramError::UnexpectedMessage);
        }
        let password = core::mem::take(&mut self.password);
        // `take` left an empty string behind; `password` is wiped when the key is dropped.
        match self.server_first(msg, password, cache) {
            Ok((client_final, server_signature)) => {
                self.state = State::AwaitingServerFinal { server_signature };
                Ok(client_final)
            }
            Err(e) => {
                self.state = State::Failed;
                Err(e)
            }
        }
    }

    fn server_first(
        &mut self,
        msg: &[u8],
        password: Zeroizing<String>,
        cache: &ScramCache,
    ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>), ScramError> {
        let text = core::str::from_utf8(msg)
            .map_err(|_| ScramError::Malformed("server-first not UTF-8"))?;
        let mut attrs = text.split(',');
        // split always yields at least one item.
        let first = attrs.next().unwrap_or_default();
        if first.starts_with("m=") {
            return Err(ScramError::Malformed("mandatory extension"));
        }
        if let Some(err) = first.strip_prefix("e=") {
            return Err(server_error(err));
        }
        let server_nonce = first
            .strip_prefix("r=")
            .filter(|n| is_printable(n))
            .ok_or(ScramError::Malformed("nonce"))?;
        if server_nonce.len() <= self.nonce.len() || !server_nonce.starts_with(&self.nonce) {
            return Err(ScramError::NonceMismatch);
        }
        let salt = attrs
            .next()
            .and_then(|a| a.strip_prefix("s="))
            .and_then(|s| BASE64.decode(s).ok())
            .filter(|s| !s.is_empty())
            .ok_or(ScramError::Malformed("salt"))?;
        let iterations = attrs
            .next()
            .and_then(|a| a.strip_prefix("i="))
            .ok_or(ScramError::Malformed("iteration count"))?;
        let count = parse_iterations(iterations)?;
        check_extensions(attrs)?;
        // Bound check before PBKDF2: a huge count would stall the client.
        if count < self.min_iterations || count > self.max_iterations {
            let (min, max) = (self.min_iterations, self.max_iterations);
            return Err(ScramError::IterationCount { count, min, max });
        }

        let mut cbind_input = self.cbind.gs2_header().into_bytes();
        if let CbindFlag::Used { data, .. } = &self.cbind {
            cbind_input.extend_from_slice(data);
        }
        let without_proof = format!("c={},r={}", BASE64.encode(&cbind_input), server_nonce);
        let auth_message = format!("{},{},{}", self.client_first_bare(), text, without_proof);

        let salted = match cache.get(self.hash, &self.username, &password, &salt, count) {
            Some(salted) => Zeroizing::new(salted.to_vec()),
            None => self.hash.salted_password(password.as_bytes(), &salt, count),
        };
        let (proof, server_signature) = self
            .hash
            .proof_and_signature(&salted, auth_message.as_bytes());
        self.key = Some(CachedKey {
            hash: self.hash,
            username: self.username.clone(),
            password,
            salt,
            iterations: count,
            salted,
        });
        let client_final = format!("{},p={}", without_proof, BASE64.encode(&proof));
        Ok((client_final.into_bytes(), server_signature))
    }

    /// Takes server-final-message (`v=...` or `e=...`) and verifies the server signature in
    /// constant time.
    pub(crate) fn handle_server_final(&mut self, msg: &[u8]) -> Result<(), ScramError> {
        let State::AwaitingServerFinal { server_signature } = &self.state else {
            return Err(ScramError::UnexpectedMessage);
        };
        let result = verify_server_final(msg, server_signature);
        self.state = if result.is_ok() {
            State::Verified
        } else {
            State::Failed
        };
        result
    }

    /// True once [`handle_server_final`](Self::handle_server_final) succeeded.
    pub(crate) fn is_verified(&self) -> bool {
        matches!(self.state, State::Verified)
    }

    /// The salted password of this exchange and its inputs, once computed (or taken from
    /// the cache); the caller caches it only when [`is_verified`](Self::is_verified).
    pub(crate) fn take_key(&mut self) -> Option<CachedKey> {
        self.key.take()
    }
}

fn server_error(value: &str) -> ScramError {
    let mut end = value.len().min(MAX_SERVER_ERROR_LEN);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    ScramError::ServerError(value[..end].to_owned())
}

fn verify_server_final(msg: &[u8], expected: &[u8]) -> Result<(), ScramError> {
    let text =
        core::str::from_utf8(msg).map_err(|_| ScramError::Malformed("server-final not UTF-8"))?;
    let mut attrs = text.split(',');
    let first = attrs.next().unwrap_or_default();
    if let Some(err) = first.strip_prefix("e=") {
        return Err(server_error(err));
    }
    let verifier = first
        .strip_prefix("v=")
        .ok_or(ScramError::Malformed("server-final"))?;
    check_extensions(attrs)?;
    let signature = BASE64
        .decode(verifier)
        .map_err(|_| ScramError::Malformed("server signature"))?;
    if ct_eq(&signature, expected) {
        Ok(())
    } else {
        Err(ScramError::SignatureMismatch)
    }
}

#[cfg(test)]
#[path = "scram_tests.rs"]
mod tests;
