//! PLAIN (RFC 4616).

use super::ScramError;

/// The PLAIN initial response: `"\0" + saslprep(username) + "\0" + saslprep(password)`,
/// with no authzid.
pub(crate) fn plain_initial_response(
    username: &str,
    password: &str,
) -> Result<Vec<u8>, ScramError> {
    let username = stringprep::saslprep(username).map_err(|_| ScramError::Saslprep)?;
    let password = zeroize::Zeroizing::new(
        stringprep::saslprep(password)
            .map_err(|_| ScramError::Saslprep)?
            .into_owned(),
    );
    let mut out = Vec::with_capacity(2 + username.len() + password.len());
    out.push(0);
    out.extend_from_slice(username.as_bytes());
    out.push(0);
    out.extend_from_slice(password.as_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_response() {
        assert_eq!(
            plain_initial_response("tim", "tanstaaftanstaaf").unwrap(),
            b"\0tim\0tanstaaftanstaaf"
        );
        assert_eq!(plain_initial_response("user", "").unwrap(), b"\0user\0");
    }

    #[test]
    fn plain_saslprep() {
        // U+00AD maps to nothing; U+00A0 (no-break space) maps to a space.
        assert_eq!(
            plain_initial_response("us\u{00AD}er", "I\u{00A0}X").unwrap(),
            b"\0user\0I X"
        );
        assert_eq!(
            plain_initial_response("user", "a\u{7}"),
            Err(ScramError::Saslprep)
        );
        assert_eq!(
            plain_initial_response("\u{0}", "p"),
            Err(ScramError::Saslprep)
        );
    }
}
