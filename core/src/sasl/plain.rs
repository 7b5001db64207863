//! PLAIN (RFC 4616).

use super::credentials::Credentials;

/// The PLAIN initial response: `"\0" + username + "\0" + password` (both SASLprepped),
/// with no authzid. The caller wipes it once sent.
pub(crate) fn plain_initial_response(credentials: &Credentials) -> Vec<u8> {
    let (username, password) = (&credentials.username, &credentials.password);
    let mut out = Vec::with_capacity(2 + username.len() + password.len());
    out.push(0);
    out.extend_from_slice(username.as_bytes());
    out.push(0);
    out.extend_from_slice(password.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(user: &str, password: &str) -> Vec<u8> {
        plain_initial_response(&Credentials::prepare(user, password).unwrap())
    }

    #[test]
    fn plain_response() {
        assert_eq!(plain("tim", "tanstaaftanstaaf"), b"\0tim\0tanstaaftanstaaf");
        assert_eq!(plain("user", ""), b"\0user\0");
        // SASLprepped: U+00AD maps to nothing; U+00A0 (no-break space) to a space.
        assert_eq!(plain("us\u{00AD}er", "I\u{00A0}X"), b"\0user\0I X");
    }
}
