//! XMPP over WebSocket (RFC 7395): every message is one complete XML element. Our stream
//! opens with `<open/>` and closes with `<close/>` in the framing namespace instead of the
//! stream header and `</stream:stream>`; every other message carries its own namespace
//! declarations (a stanza says `xmlns='jabber:client'`, a stream-level element names the
//! streams namespace), since there is no enclosing stream element to inherit them from.
//!
//! Reading, the server's messages go through the same [`StreamReader`] as a TCP stream: the
//! reader is primed with a synthetic stream root, every message is read as a child of it,
//! and the server's `<open/>` and `<close/>` become the header and the close.

use super::reader::{StreamEvent, StreamHeader, StreamReader, XmlError};
use super::writer::escape_attr;
use crate::xml::tree::Stanza;

/// The framing namespace of `<open/>` and `<close/>`.
pub(crate) const NS_FRAMING: &str = "urn:ietf:params:xml:ns:xmpp-framing";

/// What the reader is primed with: a root that declares what a TCP stream's header would.
const SYNTHETIC_ROOT: &[u8] = b"<stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams'>";

/// Our `<open/>`: `to` (and `from`, on a secure transport) attribute-escaped.
pub(crate) fn open(to: &str, from: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + to.len());
    out.extend_from_slice(b"<open xmlns='");
    out.extend_from_slice(NS_FRAMING.as_bytes());
    if let Some(from) = from {
        out.extend_from_slice(b"' from='");
        escape_attr(from, &mut out);
    }
    out.extend_from_slice(b"' to='");
    escape_attr(to, &mut out);
    out.extend_from_slice(b"' version='1.0'/>");
    out
}

/// Our `<close/>`.
pub(crate) const CLOSE: &[u8] = b"<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>";

/// Makes the element that starts `message` (written by the core, so well-formed and
/// starting with `<name`) declare its namespace: `jabber:client` for an unprefixed element
/// without `xmlns`, the streams namespace for a `stream:` one without `xmlns:stream`.
pub(crate) fn declare_namespace(message: &mut Vec<u8>, start: usize) {
    let bytes = &message[start..];
    if bytes.first() != Some(&b'<') {
        return;
    }
    let name_end = bytes
        .iter()
        .position(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>'))
        .unwrap_or(bytes.len());
    let name = &bytes[1..name_end];
    // The start tag's end: the first `>` outside an attribute value.
    let mut quote = None;
    let mut tag_end = bytes.len();
    for (i, &b) in bytes.iter().enumerate().skip(name_end) {
        match (quote, b) {
            (None, b'\'' | b'"') => quote = Some(b),
            (Some(q), _) if b == q => quote = None,
            (None, b'>') => {
                tag_end = i;
                break;
            }
            _ => {}
        }
    }
    let tag = &bytes[name_end..tag_end];
    let has = |needle: &[u8]| tag.windows(needle.len()).any(|w| w == needle);
    let declaration: &[u8] = if name.starts_with(b"stream:") {
        if has(b"xmlns:stream=") {
            return;
        }
        b" xmlns:stream='http://etherx.jabber.org/streams'"
    } else if name.contains(&b':') || has(b"xmlns=") {
        return;
    } else {
        b" xmlns='jabber:client'"
    };
    let at = start + name_end;
    message.splice(at..at, declaration.iter().copied());
}

impl StreamReader {
    /// A reader for the messages of one WebSocket stream.
    pub(crate) fn for_websocket(limits: super::Limits) -> StreamReader {
        let mut reader = StreamReader::new(limits);
        let mut root = SYNTHETIC_ROOT;
        // The synthetic root always parses into its header, which nobody needs to see.
        let header = reader.next(&mut root);
        debug_assert!(
            matches!(header, Ok(Some(StreamEvent::Header(_)))),
            "{header:?}"
        );
        reader
    }
}

/// The server's message, read as a child of the synthetic root, as the stream event it
/// stands for: `<open/>` is the header, `<close/>` the close.
pub(crate) fn unframe(event: StreamEvent) -> Result<StreamEvent, XmlError> {
    match event {
        StreamEvent::Element(el) if el.ns() == NS_FRAMING => match el.name() {
            "open" => Ok(StreamEvent::Header(header(&el))),
            "close" => Ok(StreamEvent::Close),
            _ => Err(XmlError::BadFormat(
                "an element of the WebSocket framing namespace other than <open/> or <close/>",
            )),
        },
        StreamEvent::Element(el) => Ok(StreamEvent::Element(el)),
        // `</stream:stream>`: a TCP close in a WebSocket message, still a close.
        StreamEvent::Close => Ok(StreamEvent::Close),
        StreamEvent::Header(_) => Err(XmlError::BadFormat(
            "a stream header in a WebSocket message",
        )),
    }
}

fn header(open: &Stanza) -> StreamHeader {
    let attr = |name: &str| open.attr(name).map(str::to_string);
    StreamHeader {
        from: attr("from"),
        id: attr("id"),
        version: attr("version"),
        lang: open
            .root()
            .attr_ns("http://www.w3.org/XML/1998/namespace", "lang")
            .map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(message: &str) -> String {
        let mut bytes = message.as_bytes().to_vec();
        declare_namespace(&mut bytes, 0);
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn stanzas_get_the_client_namespace_once() {
        assert_eq!(declared("<presence/>"), "<presence xmlns='jabber:client'/>");
        assert_eq!(
            declared("<iq type='get' id='a>b'><query xmlns='jabber:iq:roster'/></iq>"),
            "<iq xmlns='jabber:client' type='get' id='a>b'><query xmlns='jabber:iq:roster'/></iq>"
        );
        let sasl = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>x</auth>";
        assert_eq!(declared(sasl), sasl);
        // A child's xmlns does not count for the element itself.
        assert_eq!(
            declared("<message to='b'><body xmlns='x'/></message>"),
            "<message xmlns='jabber:client' to='b'><body xmlns='x'/></message>"
        );
    }

    #[test]
    fn stream_elements_get_the_streams_prefix_declared() {
        assert_eq!(
            declared("<stream:error><x/></stream:error>"),
            "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><x/></stream:error>"
        );
    }

    #[test]
    fn open_escapes_and_names_the_account_only_when_asked() {
        assert_eq!(
            String::from_utf8(open("a'b", None)).unwrap(),
            "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='a&apos;b' version='1.0'/>"
        );
        assert!(
            String::from_utf8(open("d", Some("u@d")))
                .unwrap()
                .contains("from='u@d'")
        );
    }

    #[test]
    fn the_server_open_and_close_are_header_and_close() {
        let mut reader = StreamReader::for_websocket(super::super::Limits::default());
        let mut open = &b"<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='d' id='i' \
            version='1.0' xml:lang='en'/>"[..];
        let event = reader.next(&mut open).unwrap().unwrap();
        assert_eq!(
            unframe(event).unwrap(),
            StreamEvent::Header(StreamHeader {
                from: Some("d".into()),
                id: Some("i".into()),
                version: Some("1.0".into()),
                lang: Some("en".into()),
            })
        );
        let mut features = &b"<features xmlns='http://etherx.jabber.org/streams'/>"[..];
        match unframe(reader.next(&mut features).unwrap().unwrap()).unwrap() {
            StreamEvent::Element(el) => {
                assert!(el.is("features", "http://etherx.jabber.org/streams"))
            }
            other => panic!("{other:?}"),
        }
        let mut close = CLOSE;
        let event = reader.next(&mut close).unwrap().unwrap();
        assert_eq!(unframe(event).unwrap(), StreamEvent::Close);
    }
}
