//! Protocol traces without secrets: the text of SASL `<auth>`, `<response>`,
//! `<challenge>` and `<success>` elements (SCRAM messages, the PLAIN password) is replaced
//! by `[redacted]`. Reads and writes may split tags and characters anywhere, so the
//! [`Redactor`] carries its state from one chunk to the next. [`XmlTrace`] emits both
//! directions as `tracing` events, the same way in both adapters.

use tracing::Level;

/// The `tracing` target of the XML trace.
pub const XML_TARGET: &str = "herald::xml";

/// The `tracing` target of the adapters' own notes: connects, TLS, reconnect decisions.
pub const SESSION_TARGET: &str = "herald::session";

/// The `tracing` target of the adapters' run loops: one TRACE event per wait, so that a
/// test (or a curious user) can count the loop's turns.
pub const DRIVER_TARGET: &str = "herald::driver";

/// The XML both ways as `tracing` events (target `herald::xml`, level TRACE): `C: ...` for
/// what the client wrote, `S: ...` for what the server sent, SASL payloads redacted.
#[derive(Debug, Default)]
pub struct XmlTrace {
    enabled: bool,
    sent: Redactor,
    received: Redactor,
}

impl XmlTrace {
    /// A trace that emits when `wanted` (`ConnectOptions::trace`) and a subscriber listens
    /// to `herald::xml` at TRACE.
    pub fn new(wanted: bool) -> XmlTrace {
        XmlTrace {
            enabled: wanted && tracing::enabled!(target: XML_TARGET, Level::TRACE),
            ..XmlTrace::default()
        }
    }

    /// Bytes written to the server.
    pub fn sent(&mut self, bytes: &[u8]) {
        if self.enabled {
            let text = self.sent.feed(bytes);
            if !text.is_empty() {
                tracing::trace!(target: XML_TARGET, "C: {text}");
            }
        }
    }

    /// Bytes read from the server.
    pub fn received(&mut self, bytes: &[u8]) {
        if self.enabled {
            let text = self.received.feed(bytes);
            if !text.is_empty() {
                tracing::trace!(target: XML_TARGET, "S: {text}");
            }
        }
    }

    /// Starts afresh: a new connection, or the new stream over TLS.
    pub fn reset(&mut self) {
        self.sent = Redactor::default();
        self.received = Redactor::default();
    }
}

const SECRET_ELEMENTS: [&str; 4] = ["auth", "response", "challenge", "success"];

#[derive(Debug, Default)]
enum Mode {
    #[default]
    Text,
    /// Inside a tag; `quote` is the open attribute quote, if any.
    Tag { quote: Option<char> },
}

/// Redacts one direction of the stream.
#[derive(Debug, Default)]
pub struct Redactor {
    mode: Mode,
    /// The current tag, until its `>`.
    tag: String,
    /// Between a secret element's start tag and the next tag.
    secret: bool,
    /// Whether `[redacted]` was written for the current secret text.
    marked: bool,
    /// An incomplete UTF-8 sequence from the end of the last chunk.
    partial: Vec<u8>,
}

impl Redactor {
    /// The printable, redacted form of `chunk` (a split tag is printed once complete).
    pub fn feed(&mut self, chunk: &[u8]) -> String {
        let mut bytes = std::mem::take(&mut self.partial);
        bytes.extend_from_slice(chunk);
        let text = match std::str::from_utf8(&bytes) {
            Ok(text) => text.to_string(),
            Err(e) if e.error_len().is_none() => {
                // Keep the incomplete tail for the next chunk.
                self.partial = bytes[e.valid_up_to()..].to_vec();
                String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned()
            }
            Err(_) => String::from_utf8_lossy(&bytes).into_owned(),
        };
        let mut out = String::new();
        for ch in text.chars() {
            match &mut self.mode {
                Mode::Text if ch == '<' => {
                    self.mode = Mode::Tag { quote: None };
                    self.tag.push(ch);
                }
                Mode::Text if self.secret => {
                    if !self.marked && !ch.is_whitespace() {
                        out.push_str("[redacted]");
                        self.marked = true;
                    }
                }
                Mode::Text => out.push(ch),
                Mode::Tag { quote } => {
                    self.tag.push(ch);
                    match (*quote, ch) {
                        (Some(q), c) if c == q => *quote = None,
                        (None, '"' | '\'') => *quote = Some(ch),
                        (None, '>') => {
                            out.push_str(&self.tag);
                            self.secret = opens_secret(&self.tag);
                            self.marked = false;
                            self.tag.clear();
                            self.mode = Mode::Text;
                        }
                        _ => {}
                    }
                }
            }
        }
        out
    }
}

/// Whether `tag` (complete, with `<` and `>`) is the start tag of a SASL payload element.
fn opens_secret(tag: &str) -> bool {
    if tag.starts_with("</") || tag.ends_with("/>") {
        return false;
    }
    let name: String = tag[1..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .collect();
    let local = name.rsplit(':').next().unwrap_or_default();
    SECRET_ELEMENTS.contains(&local)
}

/// Redacts one complete piece of XML (a fresh [`Redactor`] over `xml`).
pub fn redact_sasl(xml: &str) -> String {
    Redactor::default().feed(xml.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact_in_pieces(input: &str, size: usize) -> String {
        let mut r = Redactor::default();
        input
            .as_bytes()
            .chunks(size)
            .map(|c| r.feed(c))
            .collect::<String>()
    }

    #[test]
    fn sasl_payloads_are_redacted_however_the_bytes_are_split() {
        let input = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>\
            <challenge xmlns='x'>cj1meWtv</challenge><response xmlns='x'>Yz1iaXdz</response>\
            <success xmlns='x'>dj1ybUY5</success><message><body>h\u{e9}llo</body></message>";
        let expected = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>[redacted]</auth>\
            <challenge xmlns='x'>[redacted]</challenge><response xmlns='x'>[redacted]</response>\
            <success xmlns='x'>[redacted]</success><message><body>h\u{e9}llo</body></message>";
        for size in [1, 2, 3, 7, 64, input.len()] {
            let out = redact_in_pieces(input, size);
            assert_eq!(out, expected, "chunk size {size}");
            assert!(!out.contains("AGFsaWNl"));
        }
    }

    #[test]
    fn whole_pieces_and_lookalikes() {
        assert_eq!(
            redact_sasl("<response xmlns='x'>c2VjcmV0"),
            "<response xmlns='x'>[redacted]"
        );
        let plain = "<presence><status>auth me</status></presence><authority>x</authority>";
        assert_eq!(redact_sasl(plain), plain);
    }

    #[test]
    fn empty_and_prefixed_elements() {
        let mut r = Redactor::default();
        assert_eq!(
            r.feed(b"<success xmlns='x'/><body>a</body>"),
            "<success xmlns='x'/><body>a</body>"
        );
        assert_eq!(
            r.feed(b"<sasl:auth a='>'>c2VjcmV0</sasl:auth>"),
            "<sasl:auth a='>'>[redacted]</sasl:auth>"
        );
        assert_eq!(r.feed(b"<author>name</author>"), "<author>name</author>");
    }
}
