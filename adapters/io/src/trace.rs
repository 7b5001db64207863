//! Protocol traces without secrets: SASL payloads are cut out before XML is logged.

use std::borrow::Cow;

const SASL_ELEMENTS: [&str; 4] = ["auth", "response", "challenge", "success"];

/// Replaces the text content of SASL `<auth>`, `<response>`, `<challenge>` and
/// `<success>` elements with `[redacted]`. Other bytes pass unchanged. Works on any
/// fragment, so an element split over two reads is redacted in both halves' trace lines
/// only as far as each contains it; adapters trace whole reads and writes.
pub fn redact_sasl(xml: &str) -> Cow<'_, str> {
    if !SASL_ELEMENTS
        .iter()
        .any(|name| xml.contains(&format!("<{name}")))
    {
        return Cow::Borrowed(xml);
    }
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some((start, name)) = next_sasl_open(rest) {
        let Some(head_end) = rest[start..].find('>').map(|i| start + i + 1) else {
            break;
        };
        out.push_str(&rest[..head_end]);
        rest = &rest[head_end..];
        if out.ends_with("/>") {
            continue;
        }
        let close = format!("</{name}>");
        match rest.find(&close) {
            Some(end) => {
                if end > 0 {
                    out.push_str("[redacted]");
                }
                rest = &rest[end..];
            }
            None => {
                out.push_str("[redacted]");
                rest = "";
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn next_sasl_open(s: &str) -> Option<(usize, &'static str)> {
    SASL_ELEMENTS
        .iter()
        .filter_map(|name| {
            let pattern = format!("<{name}");
            s.match_indices(&pattern)
                .find(|(i, _)| {
                    matches!(
                        s.as_bytes().get(i + pattern.len()),
                        Some(b' ' | b'>' | b'/')
                    )
                })
                .map(|(i, _)| (i, *name))
        })
        .min_by_key(|(i, _)| *i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sasl_payloads_are_redacted() {
        let xml = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>";
        assert_eq!(
            redact_sasl(xml),
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>[redacted]</auth>"
        );
        let xml = "<challenge xmlns='x'>cj1m</challenge><response xmlns='x'>Yz1i</response><success xmlns='x'/>";
        assert_eq!(
            redact_sasl(xml),
            "<challenge xmlns='x'>[redacted]</challenge><response xmlns='x'>[redacted]</response><success xmlns='x'/>"
        );
    }

    #[test]
    fn other_xml_passes_and_lookalikes_are_left_alone() {
        let xml = "<presence><status>auth me</status></presence><authority>x</authority>";
        assert_eq!(redact_sasl(xml), xml);
    }

    #[test]
    fn unterminated_payload_is_redacted_to_the_end() {
        assert_eq!(
            redact_sasl("<response xmlns='x'>c2VjcmV0"),
            "<response xmlns='x'>[redacted]"
        );
    }
}
