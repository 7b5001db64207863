//! JID parsing that works around `jid` 0.12's handling of a trailing dot in the domain.

use jid::Jid;

/// Parses a JID, first removing a trailing dot from the domain (RFC 7622 section 3.2 says it
/// is stripped before comparison). `jid` 0.12.3 reads `user@example.com./x` as having the
/// resource `"/x"`; this never does.
pub(crate) fn parse_jid(s: &str) -> Result<Jid, jid::Error> {
    let (bare, resource) = match s.find('/') {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    };
    match bare.strip_suffix('.') {
        Some(stripped) if !stripped.is_empty() && !stripped.ends_with('@') => {
            let mut fixed = String::with_capacity(s.len());
            fixed.push_str(stripped);
            if let Some(r) = resource {
                fixed.push_str(r);
            }
            Jid::new(&fixed)
        }
        _ => Jid::new(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_dot_is_stripped_and_resource_kept() {
        let j = parse_jid("user@example.com./x").unwrap();
        assert_eq!(j.domain().as_str(), "example.com");
        assert_eq!(j.resource().map(|r| r.as_str()), Some("x"));
        let j = parse_jid("example.com.").unwrap();
        assert_eq!(j.domain().as_str(), "example.com");
    }

    #[test]
    fn ordinary_jids_parse() {
        let j = parse_jid("a@b.c/d/e").unwrap();
        assert_eq!(j.node().map(|n| n.as_str()), Some("a"));
        assert_eq!(j.resource().map(|r| r.as_str()), Some("d/e"));
        assert!(parse_jid("@b").is_err());
        assert!(parse_jid("").is_err());
    }
}
