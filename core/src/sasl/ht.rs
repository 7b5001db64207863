//! FAST tokens (XEP-0484) and the HT-SHA-256-NONE mechanism they log in with
//! (draft-schmaus-kitten-sasl-ht): one message each way, no PBKDF2, no round trip of its
//! own.
//!
//! The initial response is `authcid NUL HMAC-SHA-256(token, "Initiator" || cb-data)`; the
//! server proves it holds the token with `HMAC-SHA-256(token, "Responder" || cb-data)` in
//! its success. `-NONE` binds no channel: cb-data is empty.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::cache::ct_eq;
use super::credentials::Secret;

/// The token mechanism Herald speaks.
pub(crate) const HT_SHA_256_NONE: &str = "HT-SHA-256-NONE";

/// A FAST token (XEP-0484) the server issued: log in with it in one round trip instead of
/// SCRAM. Persist it (it is a credential: its `Debug` output is redacted) and give it back
/// in [`Config::fast_token`](crate::Config::fast_token) with the same
/// [`Config::user_agent`](crate::Config::user_agent).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FastToken {
    /// The mechanism the token is for, e.g. `HT-SHA-256-NONE`.
    pub mechanism: String,
    /// The token.
    pub token: Secret,
    /// When the server says it expires (an XML date-time, as the server sent it).
    pub expiry: Option<String>,
}

impl FastToken {
    /// A token for `mechanism`.
    pub fn new(
        mechanism: impl Into<String>,
        token: impl Into<Secret>,
        expiry: Option<String>,
    ) -> Self {
        FastToken {
            mechanism: mechanism.into(),
            token: token.into(),
            expiry,
        }
    }
}

impl fmt::Debug for FastToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FastToken")
            .field("mechanism", &self.mechanism)
            .field("token", &self.token)
            .field("expiry", &self.expiry)
            .finish()
    }
}

fn hmac(token: &str, message: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(token.as_bytes()).expect("HMAC takes any key");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// The HT-SHA-256-NONE initial response for `username` (SASLprepped) with `token`.
pub(crate) fn ht_initial_response(username: &str, token: &str) -> Vec<u8> {
    let mut out = username.as_bytes().to_vec();
    out.push(0);
    out.extend_from_slice(&hmac(token, b"Initiator"));
    out
}

/// Whether the server's final data proves it holds `token`.
pub(crate) fn ht_verify(token: &str, server_final: &[u8]) -> bool {
    ct_eq(&hmac(token, b"Responder"), server_final)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent of the code above: RFC 4231 test case 2 checks the HMAC itself, then the
    /// message layout.
    #[test]
    fn hmac_and_messages() {
        let mac = hmac("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            mac.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let initial = ht_initial_response("alice", "secret-token:fast-1");
        assert_eq!(&initial[..6], b"alice\0");
        assert_eq!(
            &initial[6..],
            hmac("secret-token:fast-1", b"Initiator").as_slice()
        );
        let responder = hmac("secret-token:fast-1", b"Responder");
        assert!(ht_verify("secret-token:fast-1", &responder));
        assert!(!ht_verify("secret-token:fast-2", &responder));
        assert!(!ht_verify("secret-token:fast-1", &initial[6..]));
        let token = FastToken::new(HT_SHA_256_NONE, "secret-token:fast-1", None);
        assert!(!format!("{token:?}").contains("fast-1"));
    }
}
