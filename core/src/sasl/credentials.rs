//! The account's credentials as SASL sends them: SASLprep (RFC 4013) applied once, when the
//! client is built, so that a name or password no server could accept is a configuration
//! error rather than a failed login.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A password. Its `Debug` output is redacted and its bytes are overwritten on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a password.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret text. Only the SASL code should need this.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Overwrites the whole allocation (spare capacity included) before it is freed.
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for Secret {}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

/// The SASLprepped username (the JID's local part) and password.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) username: String,
    pub(crate) password: Zeroizing<String>,
}

impl Credentials {
    /// Prepares `username` and `password`; `None` when SASLprep refuses either.
    pub(crate) fn prepare(username: &str, password: &str) -> Option<Credentials> {
        let username = stringprep::saslprep(username).ok()?.into_owned();
        let password = Zeroizing::new(stringprep::saslprep(password).ok()?.into_owned());
        Some(Credentials { username, password })
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saslprep_maps_and_refuses() {
        // U+00AD maps to nothing; U+00A0 (no-break space) maps to a space.
        let c = Credentials::prepare("us\u{00AD}er", "I\u{00A0}X").unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("user", "I X"));
        assert!(Credentials::prepare("user", "a\u{7}").is_none());
        assert!(Credentials::prepare("\u{0}", "p").is_none());
        assert!(!format!("{c:?}").contains("I X"));
    }
}
