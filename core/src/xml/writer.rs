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
    match s.chars().find(|c| !is_xml_char(*c)) {
        Some(ch) => Err(InvalidXml::Char { ch }),
        None => Ok(()),
    }
}

/// Appends `s`, already checked, as character data: `&`, `<`, `>` and CR (which a parser would
/// otherwise turn into LF) are escaped.
fn escape_text(s: &str, out: &mut Vec<u8>) {
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

/// Appends `s`, already checked, as the content of a single-quoted attribute value. Tab, LF
/// and CR are escaped too, so that attribute-value normalization keeps them.
fn escape_attr(s: &str, out: &mut Vec<u8>) {
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
pub(crate) fn stream_header(to: &str) -> Vec<u8> {
    let to: String = to
        .chars()
        .map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' })
        .collect();
    let mut out = Vec::with_capacity(160 + to.len());
    out.extend_from_slice(b"<?xml version='1.0'?><stream:stream xmlns='");
    out.extend_from_slice(NS_CLIENT.as_bytes());
    out.extend_from_slice(b"' xmlns:stream='");
    out.extend_from_slice(NS_STREAMS.as_bytes());
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
