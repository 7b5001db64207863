//! The stream writer: serializes what the client sends, refusing anything XML 1.0 cannot
//! express instead of emitting bytes the server would reject.
//!
//! minidom's own serializer is not used: it panics on some inputs and keeps parsed prefixes.

use minidom::rxml::strings::validate_ncname;
use minidom::rxml::{XMLNS_XML, XMLNS_XMLNS};
use minidom::{Element, Node};

/// The default namespace of the client's stream.
const NS_CLIENT: &str = "jabber:client";
/// The stream namespace, bound to the `stream` prefix by [`stream_header`].
const NS_STREAMS: &str = "http://etherx.jabber.org/streams";
/// Deepest nesting [`write_element`] accepts, the written element being depth 1.
const MAX_DEPTH: usize = 64;

/// What the application asked us to write cannot be expressed in XML 1.0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InvalidXml {
    /// A char outside the XML 1.0 `Char` production: U+0000-U+0008, U+000B, U+000C,
    /// U+000E-U+001F, U+FFFE or U+FFFF.
    #[error("U+{:04X} cannot appear in XML", u32::from(*ch))]
    Char {
        /// The offending character.
        ch: char,
    },
    /// An element name that is not a valid NCName, or a name or namespace that cannot be
    /// written (an attribute called `xmlns`, the reserved `xmlns` namespace, an element in
    /// the XML namespace).
    #[error("cannot write the XML name {0:?}")]
    Name(String),
    /// Elements nested deeper than 64.
    #[error("elements nested deeper than {MAX_DEPTH}")]
    TooDeep,
}

/// Whether `c` matches the XML 1.0 `Char` production (Rust chars are never surrogates).
fn is_xml_char(c: char) -> bool {
    !matches!(c, '\0'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Checks that `s` can be written as XML text or as an attribute value.
pub(crate) fn check_text(s: &str) -> Result<(), InvalidXml> {
    match invalid_char(s) {
        Some(ch) => Err(InvalidXml::Char { ch }),
        None => Ok(()),
    }
}

/// The first char of `s` XML 1.0 cannot carry, if any.
pub(crate) fn invalid_char(s: &str) -> Option<char> {
    s.chars().find(|c| !is_xml_char(*c))
}

/// Appends `s`, already checked, as character data: `&`, `<`, `>` and CR (which a parser would
/// otherwise turn into LF) are escaped.
pub(crate) fn escape_text(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'\r' => out.extend_from_slice(b"&#13;"),
            _ => out.push(b),
        }
    }
}

/// Appends ` name='value'`: `value` checked by the caller, escaped here.
pub(crate) fn push_attr(name: &str, value: &str, out: &mut Vec<u8>) {
    out.push(b' ');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"='");
    escape_attr(value, out);
    out.push(b'\'');
}

/// Appends `s`, already checked, as the content of a single-quoted attribute value. Tab, LF
/// and CR are escaped too, so that attribute-value normalization keeps them.
pub(crate) fn escape_attr(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'\'' => out.extend_from_slice(b"&apos;"),
            b'"' => out.extend_from_slice(b"&quot;"),
            b'\t' => out.extend_from_slice(b"&#9;"),
            b'\n' => out.extend_from_slice(b"&#10;"),
            b'\r' => out.extend_from_slice(b"&#13;"),
            _ => out.push(b),
        }
    }
}

/// Appends ` name='value'` (value checked and escaped).
fn write_attr(prefix: &str, name: &str, value: &str, out: &mut Vec<u8>) -> Result<(), InvalidXml> {
    check_text(value)?;
    out.push(b' ');
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"='");
    escape_attr(value, out);
    out.push(b'\'');
    Ok(())
}

/// The opening of the client's stream:
/// `<?xml version='1.0'?><stream:stream xmlns='jabber:client'
/// xmlns:stream='http://etherx.jabber.org/streams' to='DOMAIN' version='1.0'>`.
///
/// `to` is attribute-escaped; a char XML cannot carry (never in a valid domain) is replaced
/// by U+FFFD so that the output is always well-formed.
pub(crate) fn stream_header(to: &str, from: Option<&str>) -> Vec<u8> {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
            .collect()
    };
    let to = clean(to);
    let mut out = Vec::with_capacity(192 + to.len());
    out.extend_from_slice(b"<?xml version='1.0'?><stream:stream xmlns='");
    out.extend_from_slice(NS_CLIENT.as_bytes());
    out.extend_from_slice(b"' xmlns:stream='");
    out.extend_from_slice(NS_STREAMS.as_bytes());
    if let Some(from) = from {
        out.extend_from_slice(b"' from='");
        escape_attr(&clean(from), &mut out);
    }
    out.extend_from_slice(b"' to='");
    escape_attr(&to, &mut out);
    out.extend_from_slice(b"' version='1.0'>");
    out
}

/// The closing of the client's stream: `</stream:stream>`.
pub(crate) fn stream_footer() -> &'static [u8] {
    b"</stream:stream>"
}

/// Appends `el` as a top-level element of a stream whose default namespace is
/// `jabber:client` (as opened by [`stream_header`]). On error nothing is appended (`out`
/// keeps its length).
///
/// `xmlns='…'` is written only where an element's namespace differs from the one in scope;
/// elements in the stream namespace are written with the `stream:` prefix the header
/// declares. Attributes in the XML namespace are written `xml:name`, other namespaced
/// attributes get a prefix `a0`, `a1`... declared on their element. Prefixes stored in the
/// minidom element are ignored.
pub(crate) fn write_element(el: &Element, out: &mut Vec<u8>) -> Result<(), InvalidXml> {
    let start = out.len();
    let result = write_inner(el, NS_CLIENT, 1, out);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Writes `el` at `depth` where `default_ns` is the in-scope default namespace.
fn write_inner(
    el: &Element,
    default_ns: &str,
    depth: usize,
    out: &mut Vec<u8>,
) -> Result<(), InvalidXml> {
    if depth > MAX_DEPTH {
        return Err(InvalidXml::TooDeep);
    }
    let name = el.name();
    if validate_ncname(name).is_err() {
        return Err(InvalidXml::Name(name.to_owned()));
    }
    let ns = el.ns();
    check_text(&ns)?;
    if ns == XMLNS_XML || ns == XMLNS_XMLNS {
        return Err(InvalidXml::Name(format!("{{{ns}}}{name}")));
    }
    let (prefix, inner_default) = if ns == NS_STREAMS {
        ("stream:", default_ns)
    } else {
        ("", ns.as_str())
    };
    out.push(b'<');
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(name.as_bytes());
    if prefix.is_empty() && ns != default_ns {
        write_attr("", "xmlns", &ns, out)?;
    }

    // Declare one generated prefix per attribute namespace, in first-use order.
    let mut declared: Vec<&str> = Vec::new();
    for ((attr_ns, attr_name), _) in el.attrs() {
        let attr_ns = attr_ns.as_str();
        if attr_ns.is_empty() {
            if attr_name.as_str() == "xmlns" {
                return Err(InvalidXml::Name("xmlns".to_owned()));
            }
        } else if attr_ns == XMLNS_XMLNS {
            return Err(InvalidXml::Name(format!("{{{attr_ns}}}{attr_name}")));
        } else if attr_ns != XMLNS_XML && !declared.contains(&attr_ns) {
            write_attr("xmlns:", &format!("a{}", declared.len()), attr_ns, out)?;
            declared.push(attr_ns);
        }
    }
    for ((attr_ns, attr_name), value) in el.attrs() {
        let attr_ns = attr_ns.as_str();
        let attr_prefix = if attr_ns.is_empty() {
            String::new()
        } else if attr_ns == XMLNS_XML {
            "xml:".to_owned()
        } else {
            // Every attribute namespace but XML's was declared in the loop above.
            let index = declared.iter().position(|d| *d == attr_ns).unwrap_or(0);
            format!("a{index}:")
        };
        write_attr(&attr_prefix, attr_name.as_str(), value, out)?;
    }

    if el.nodes().next().is_none() {
        out.extend_from_slice(b"/>");
        return Ok(());
    }
    out.push(b'>');
    for node in el.nodes() {
        match node {
            Node::Element(child) => write_inner(child, inner_default, depth + 1, out)?,
            Node::Text(text) => {
                check_text(text)?;
                escape_text(text, out);
            }
        }
    }
    out.extend_from_slice(b"</");
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::first_element;
    use super::*;
    use minidom::rxml::{Namespace, NcName};
    use proptest::prelude::*;

    fn name(s: &str) -> NcName {
        NcName::try_from(s).unwrap()
    }

    fn written(el: &Element) -> String {
        let mut out = Vec::new();
        write_element(el, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn child(name: &str, text: &str) -> Element {
        Element::builder(name, NS_CLIENT).append(text).build()
    }

    #[test]
    fn stream_header_and_footer() {
        let header = stream_header("ex'ample.com", None);
        let expected = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
            xmlns:stream='http://etherx.jabber.org/streams' to='ex&apos;ample.com' version='1.0'>";
        assert_eq!(String::from_utf8(header).unwrap(), expected);
        let named = stream_header("example.com", Some("alice@example.com"));
        assert!(
            String::from_utf8(named)
                .unwrap()
                .contains("streams' from='alice@example.com' to='example.com' version='1.0'>")
        );
        assert_eq!(stream_footer(), b"</stream:stream>");
        assert!(
            String::from_utf8(stream_header("a\u{0}b", None))
                .unwrap()
                .contains("a\u{FFFD}b")
        );
    }

    #[test]
    fn presence() {
        let presence = Element::builder("presence", NS_CLIENT)
            .attr_ns(Namespace::XML, name("lang"), "en")
            .attr(name("id"), "p1")
            .append(child("show", "away"))
            .append(child("status", "Fish & chips <3 > \"'\r\n"))
            .append(child("priority", "5"))
            .build();
        let expected = "<presence id='p1' xml:lang='en'><show>away</show>\
            <status>Fish &amp; chips &lt;3 &gt; \"'&#13;\n</status><priority>5</priority></presence>";
        assert_eq!(written(&presence), expected);
    }

    #[test]
    fn namespaces_and_attributes() {
        let query = Element::builder("query", "jabber:iq:roster")
            .append(
                Element::builder("item", "jabber:iq:roster")
                    .attr(name("jid"), "a@b")
                    .build(),
            )
            .build();
        let iq = Element::builder("iq", NS_CLIENT)
            .attr(name("type"), "get")
            .attr(name("id"), "r1")
            .append(query)
            .build();
        let expected = "<iq id='r1' type='get'><query xmlns='jabber:iq:roster'>\
            <item jid='a@b'/></query></iq>";
        assert_eq!(written(&iq), expected);

        let el = Element::builder("x", "urn:x")
            .attr(name("v"), "&<>'\"\t\n\r")
            .attr_ns(Namespace::from("urn:b"), name("y"), "1")
            .attr_ns(Namespace::from("urn:b"), name("z"), "2")
            .attr_ns(Namespace::from("urn:c"), name("y"), "3")
            .append(Element::bare("unqualified", ""))
            .build();
        let expected = "<x xmlns='urn:x' xmlns:a0='urn:b' xmlns:a1='urn:c' \
            v='&amp;&lt;&gt;&apos;&quot;&#9;&#10;&#13;' a0:y='1' a0:z='2' a1:y='3'>\
            <unqualified xmlns=''/></x>";
        assert_eq!(written(&el), expected);

        let error = Element::builder("error", NS_STREAMS)
            .append(Element::bare(
                "not-well-formed",
                "urn:ietf:params:xml:ns:xmpp-streams",
            ))
            .build();
        let expected = "<stream:error>\
            <not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>";
        assert_eq!(written(&error), expected);
    }

    #[test]
    fn invalid_input_leaves_out_unchanged() {
        let bad_text = Element::builder("message", NS_CLIENT)
            .append(child("body", "ok"))
            .append(child("body", "bell\u{7}"))
            .build();
        let bad_attr = Element::builder("a", NS_CLIENT)
            .attr(name("x"), "\u{FFFE}")
            .build();
        let xmlns_attr = Element::builder("a", NS_CLIENT)
            .attr(name("xmlns"), "urn:x")
            .build();
        let mut too_deep = Element::bare("a", NS_CLIENT);
        for _ in 0..MAX_DEPTH {
            too_deep = Element::builder("a", NS_CLIENT).append(too_deep).build();
        }
        let cases = [
            (bad_text, InvalidXml::Char { ch: '\u{7}' }),
            (bad_attr, InvalidXml::Char { ch: '\u{FFFE}' }),
            (
                Element::bare("1a", NS_CLIENT),
                InvalidXml::Name("1a".into()),
            ),
            (
                Element::bare("a:b", NS_CLIENT),
                InvalidXml::Name("a:b".into()),
            ),
            (xmlns_attr, InvalidXml::Name("xmlns".into())),
            (too_deep, InvalidXml::TooDeep),
        ];
        for (el, error) in cases {
            let mut out = b"before".to_vec();
            assert_eq!(write_element(&el, &mut out), Err(error));
            assert_eq!(out, b"before");
        }
        let mut deepest = Element::bare("a", NS_CLIENT);
        for _ in 1..MAX_DEPTH {
            deepest = Element::builder("a", NS_CLIENT).append(deepest).build();
        }
        assert!(write_element(&deepest, &mut Vec::new()).is_ok());
        assert_eq!(check_text("\t\n\r \u{10FFFF}"), Ok(()));
        assert_eq!(check_text("\u{C}"), Err(InvalidXml::Char { ch: '\u{C}' }));
    }

    /// Writes `el` inside a stream and reads it back.
    fn round_trip(el: &Element) -> Element {
        let mut bytes = stream_header("example.com", None);
        write_element(el, &mut bytes).unwrap();
        first_element(&bytes).into()
    }

    fn xml_text() -> impl Strategy<Value = String> {
        any::<String>().prop_map(|s| s.chars().filter(|c| is_xml_char(*c)).collect())
    }

    /// An element without children, with random names, namespaces and attributes.
    fn arb_leaf() -> impl Strategy<Value = Element> {
        let names = || prop::sample::select(vec!["a", "body", "x-y.z_1", "\u{e9}l\u{e9}ment"]);
        let namespaces = prop::sample::select(vec![NS_CLIENT, "", "urn:x", NS_STREAMS]);
        let attr_ns = prop::sample::select(vec!["", XMLNS_XML, "urn:a", "urn:b"]);
        let attrs = prop::collection::vec((attr_ns, names(), xml_text()), 0..4);
        (names(), namespaces, attrs).prop_map(|(el_name, ns, attrs)| {
            let mut el = Element::bare(el_name, ns);
            for (attr_ns, attr_name, value) in attrs {
                let attr_ns = Namespace::from(attr_ns.to_owned());
                el.attrs_mut().insert(attr_ns, name(attr_name), value);
            }
            el
        })
    }

    /// Random element trees, texts merged and non-empty as the reader produces them.
    pub(crate) fn arb_element() -> impl Strategy<Value = Element> {
        arb_leaf().prop_recursive(4, 32, 4, |inner| {
            let node = prop_oneof![
                inner.prop_map(Node::Element),
                xml_text().prop_map(Node::Text)
            ];
            (arb_leaf(), prop::collection::vec(node, 0..4)).prop_map(|(mut parent, nodes)| {
                for node in nodes {
                    match node {
                        Node::Element(el) => {
                            parent.append_child(el);
                        }
                        // Merged and non-empty, as the reader produces them.
                        Node::Text(text) if !text.is_empty() => parent.append_text(text),
                        Node::Text(_) => {}
                    }
                }
                parent
            })
        })
    }

    proptest! {
        #[test]
        fn write_then_read_gives_the_same_element(el in arb_element()) {
            prop_assert_eq!(round_trip(&el), el);
        }
    }
}
