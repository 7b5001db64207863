//! The stream reader: turns the server's bytes into stream events, enforcing [`Limits`].
//!
//! Parsing is done by rxml's namespace-resolving push parser; the elements are built here
//! (not with minidom's tree builder, which is too lenient for peer input).
//!
//! The reader never hands the parser more bytes than the current limit allows, and it
//! decides where a top-level element starts by looking at the bytes itself. Every decision
//! therefore depends only on byte positions in the stream, never on how the stream was split
//! into chunks: any split yields the same events and the same error.

use minidom::Element;
use minidom::rxml::error::EndOrError;
use minidom::rxml::{self, AttrMap, Namespace, Options, Parse, Parser, WithOptions};

use super::limits::{Limit, Limits};

/// The namespace of `<stream:stream>` and the other stream-level elements.
const NS_STREAMS: &str = "http://etherx.jabber.org/streams";

/// Longest name, attribute value or text chunk rxml will buffer as one token.
const MAX_TOKEN_LENGTH: usize = 64 * 1024;

/// Attributes of the server's `<stream:stream>` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamHeader {
    /// The `from` attribute: the server's domain.
    pub(crate) from: Option<String>,
    /// The `id` attribute: the stream id.
    pub(crate) id: Option<String>,
    /// The `version` attribute (`1.0` for a modern server).
    pub(crate) version: Option<String>,
    /// The `xml:lang` attribute: the default language of the stream.
    pub(crate) lang: Option<String>,
}

/// One thing the server sent at the top level of its stream.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StreamEvent {
    /// The opening `<stream:stream>` tag.
    Header(StreamHeader),
    /// A complete child of the stream root: a stanza, features, a SASL element, an error...
    Element(Element),
    /// The closing `</stream:stream>` tag.
    Close,
}

/// Peer misbehaviour at the XML layer; each maps to the RFC 6120 stream error condition the
/// client sends before closing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum XmlError {
    /// The bytes are not well-formed (namespace-well-formed, UTF-8) XML; the message is rxml's.
    #[error("not well-formed XML: {0}")]
    NotWellFormed(String),
    /// A construct XMPP forbids (comment, processing instruction, DTD...); the message is rxml's.
    #[error("restricted XML: {0}")]
    RestrictedXml(String),
    /// The server broke one of our [`Limits`].
    #[error("limit exceeded: {0}")]
    LimitExceeded(Limit),
    /// Well-formed but not a valid stream, e.g. non-whitespace text between stanzas.
    #[error("bad format: {0}")]
    BadFormat(&'static str),
    /// The root element is not `{http://etherx.jabber.org/streams}stream`.
    #[error("the stream root is not {{http://etherx.jabber.org/streams}}stream")]
    InvalidNamespace,
}

impl XmlError {
    /// The RFC 6120 stream error condition (element name in
    /// `urn:ietf:params:xml:ns:xmpp-streams`) to send for this error.
    pub(crate) fn condition(&self) -> &'static str {
        match self {
            XmlError::NotWellFormed(_) => "not-well-formed",
            XmlError::RestrictedXml(_) => "restricted-xml",
            XmlError::LimitExceeded(_) => "policy-violation",
            XmlError::BadFormat(_) => "bad-format",
            XmlError::InvalidNamespace => "invalid-namespace",
        }
    }

    /// Converts an rxml parser error.
    fn from_rxml(e: rxml::Error) -> Self {
        match e {
            rxml::Error::RestrictedXml(_) => XmlError::RestrictedXml(e.to_string()),
            other => XmlError::NotWellFormed(other.to_string()),
        }
    }
}

/// Where the reader is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the stream header has been parsed (XML declaration, header).
    Prolog,
    /// At depth 1, after a top-level element: only whitespace has been seen since.
    Between,
    /// Inside a top-level element (or its `<` has been seen).
    InElement,
    /// `</stream:stream>` has been parsed.
    Closed,
}

/// Incremental reader of the server's stream. Feed it bytes with [`StreamReader::next`].
#[derive(Debug)]
pub(crate) struct StreamReader {
    /// The rxml push parser.
    parser: Parser,
    /// The limits enforced.
    limits: Limits,
    /// Where we are.
    phase: Phase,
    /// Open elements, the stream root included.
    depth: usize,
    /// Elements under construction, outermost (the top-level element) first.
    stack: Vec<Element>,
    /// Bytes consumed since the current top-level element (or the prolog) started.
    element_bytes: usize,
    /// Whitespace bytes consumed since the last top-level element ended.
    whitespace_run: usize,
    /// The error that poisoned the reader, returned again by every later call.
    error: Option<XmlError>,
}

/// Whether `b` is XML whitespace (the `S` production).
fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl StreamReader {
    /// A reader at the start of a new stream.
    pub(crate) fn new(limits: Limits) -> Self {
        let options = Options {
            max_token_length: MAX_TOKEN_LENGTH,
            ..Options::default()
        };
        StreamReader {
            parser: Parser::with_options(options),
            limits,
            phase: Phase::Prolog,
            depth: 0,
            stack: Vec::new(),
            element_bytes: 0,
            whitespace_run: 0,
            error: None,
        }
    }

    /// Parses from `input` until one [`StreamEvent`] is complete (returns `Ok(Some)`, with
    /// `input` advanced exactly past the event's last byte) or input is exhausted (`Ok(None)`,
    /// all of `input` consumed into the parser).
    ///
    /// After [`StreamEvent::Close`], always `Ok(None)` without consuming. After an error the
    /// reader is poisoned: every later call returns the same error.
    pub(crate) fn next(&mut self, input: &mut &[u8]) -> Result<Option<StreamEvent>, XmlError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        match self.step(input) {
            Ok(ev) => Ok(ev),
            Err(e) => {
                self.error = Some(e.clone());
                // Free the partial tree; its depth is capped, so dropping it is safe.
                self.stack.clear();
                Err(e)
            }
        }
    }

    /// The body of [`StreamReader::next`], without the poisoning.
    fn step(&mut self, input: &mut &[u8]) -> Result<Option<StreamEvent>, XmlError> {
        loop {
            if self.phase == Phase::Closed {
                return Ok(None);
            }
            let window_len = match self.phase {
                Phase::Between => {
                    // Budget is at least 1: whitespace_run <= max_whitespace_run here.
                    let budget = self.limits.max_whitespace_run + 1 - self.whitespace_run;
                    let spaces = input
                        .iter()
                        .take(budget)
                        .take_while(|b| is_xml_space(**b))
                        .count();
                    if spaces == 0 {
                        match input.first() {
                            Some(b'<') => {
                                self.phase = Phase::InElement;
                                self.element_bytes = 0;
                                continue;
                            }
                            Some(_) => {
                                return Err(XmlError::BadFormat("text between top-level elements"));
                            }
                            // Nothing to feed, but the parser may still have events to give.
                            None => 0,
                        }
                    } else {
                        spaces
                    }
                }
                // Budget is at least 1: element_bytes <= max_stanza_bytes here.
                _ => input
                    .len()
                    .min(self.limits.max_stanza_bytes + 1 - self.element_bytes),
            };
            let mut window = &input[..window_len];
            let result = self.parser.parse(&mut window, false);
            let consumed = window_len - window.len();
            *input = &input[consumed..];
            if self.phase == Phase::Between {
                self.whitespace_run += consumed;
                if self.whitespace_run > self.limits.max_whitespace_run {
                    return Err(XmlError::LimitExceeded(Limit::WhitespaceRun));
                }
            } else {
                self.element_bytes += consumed;
                if self.element_bytes > self.limits.max_stanza_bytes {
                    return Err(XmlError::LimitExceeded(Limit::StanzaSize));
                }
            }
            match result {
                Err(EndOrError::NeedMoreData) => {
                    if input.is_empty() {
                        return Ok(None);
                    }
                    if consumed == 0 && window_len > 0 {
                        // rxml consumes its whole input before asking for more; never loop.
                        return Err(XmlError::NotWellFormed("parser made no progress".into()));
                    }
                }
                Err(EndOrError::Error(e)) => return Err(XmlError::from_rxml(e)),
                Ok(None) => {
                    // Only reported at end of file, which we never signal.
                    return Err(XmlError::NotWellFormed("unexpected end of document".into()));
                }
                Ok(Some(event)) => {
                    if let Some(ev) = self.handle(event)? {
                        return Ok(Some(ev));
                    }
                }
            }
        }
    }

    /// Processes one parser event; returns a stream event when one is complete.
    fn handle(&mut self, event: rxml::Event) -> Result<Option<StreamEvent>, XmlError> {
        match event {
            rxml::Event::XmlDeclaration(..) => Ok(None),
            rxml::Event::StartElement(_, (ns, name), attrs) => {
                if self.depth + 1 > self.limits.max_depth {
                    return Err(XmlError::LimitExceeded(Limit::Depth));
                }
                if attrs.len() > self.limits.max_attributes {
                    return Err(XmlError::LimitExceeded(Limit::Attributes));
                }
                self.depth += 1;
                if self.depth == 1 {
                    if ns != NS_STREAMS || name.as_str() != "stream" {
                        return Err(XmlError::InvalidNamespace);
                    }
                    self.phase = Phase::Between;
                    self.whitespace_run = 0;
                    return Ok(Some(StreamEvent::Header(header(&attrs))));
                }
                let mut el = Element::builder(name.as_str(), String::from(ns)).build();
                *el.attrs_mut() = attrs;
                self.stack.push(el);
                Ok(None)
            }
            rxml::Event::EndElement(_) => {
                if self.depth <= 1 {
                    self.depth = 0;
                    self.phase = Phase::Closed;
                    return Ok(Some(StreamEvent::Close));
                }
                self.depth -= 1;
                let Some(el) = self.stack.pop() else {
                    // rxml pairs start and end tags, so the stack holds depth - 1 elements.
                    return Err(XmlError::NotWellFormed("unbalanced end tag".into()));
                };
                match self.stack.last_mut() {
                    Some(parent) => {
                        parent.append_child(el);
                        Ok(None)
                    }
                    None => {
                        self.phase = Phase::Between;
                        self.whitespace_run = 0;
                        Ok(Some(StreamEvent::Element(el)))
                    }
                }
            }
            rxml::Event::Text(_, text) => {
                match self.stack.last_mut() {
                    // `append_text` merges with a preceding text node, so the tree does not
                    // depend on how rxml split the text into events.
                    Some(el) if !text.is_empty() => el.append_text(text),
                    Some(_) => {}
                    None if text.bytes().all(is_xml_space) => {}
                    None => return Err(XmlError::BadFormat("text between top-level elements")),
                }
                Ok(None)
            }
        }
    }
}

/// Extracts the interesting attributes of the stream header.
fn header(attrs: &AttrMap) -> StreamHeader {
    let plain = |name: &str| attrs.get(Namespace::none(), name).cloned();
    StreamHeader {
        from: plain("from"),
        id: plain("id"),
        version: plain("version"),
        lang: attrs.get(rxml::XMLNS_XML, "lang").cloned(),
    }
}
