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

use super::fast::{self, Fast};
use super::limits::{Limit, Limits};
use crate::xml::tree::{Builder, Stanza};

/// The namespace of `<stream:stream>` and the other stream-level elements.
const NS_STREAMS: &str = "http://etherx.jabber.org/streams";

/// Longest name, attribute value or text chunk rxml will buffer as one token (longer text
/// comes as several events, merged here; a longer name or attribute value is
/// `restricted-xml`). 4 KiB holds the longest JID (3071 bytes, RFC 7622). rxml reserves this
/// much for its token buffer up front, and again after every entity or character reference,
/// so a bigger value costs every idle client and every `&amp;` that much heap.
const MAX_TOKEN_LENGTH: usize = 4 * 1024;

/// Most bytes of a top-level element held for the fast path while it arrives in pieces,
/// and most attempts at it; beyond either, rxml reads it. Each attempt reads at most the
/// bytes held, so tiny hostile chunks cost at most four passes over an element.
const MAX_PENDING: usize = 16 * 1024;
const MAX_PENDING_TRIES: u8 = 4;

/// What [`StreamReader::fast_element`] did with the input.
enum FastStep {
    /// A whole element.
    Event(StreamEvent),
    /// The start of an element, held until more bytes come (all of the input taken).
    Held,
    /// rxml's to read.
    Rxml,
}

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
    Element(Stanza),
    /// The closing `</stream:stream>` tag.
    Close,
}

/// Peer misbehaviour at the XML layer; each maps to the RFC 6120 stream error condition the
/// client sends before closing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum XmlError {
    /// The bytes are not well-formed (namespace-well-formed) XML; the message is rxml's.
    #[error("not well-formed XML: {0}")]
    NotWellFormed(String),
    /// The stream is not UTF-8: a byte sequence UTF-8 does not allow, or a declaration
    /// naming another encoding (RFC 6120 sections 4.9.3.22 and 11.6); the message is rxml's.
    #[error("not UTF-8: {0}")]
    UnsupportedEncoding(String),
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
            XmlError::UnsupportedEncoding(_) => "unsupported-encoding",
            XmlError::LimitExceeded(_) => "policy-violation",
            XmlError::BadFormat(_) => "bad-format",
            XmlError::InvalidNamespace => "invalid-namespace",
        }
    }

    /// Converts an rxml parser error; `last` is the byte rxml stopped at (the last one it
    /// consumed), which tells a forbidden construct from plain bad syntax.
    ///
    /// rxml parses restricted XML, which has no DTD: `<!DOCTYPE` (or `<!ENTITY`...) is a
    /// syntax error for it, and a reference to an entity other than the five predefined
    /// ones an undeclared entity. RFC 6120 section 11.1 forbids DTDs and entity references
    /// in XMPP, and the stream error for a forbidden construct is `restricted-xml`.
    fn from_rxml(e: rxml::Error, last: Option<u8>) -> Self {
        match e {
            rxml::Error::InvalidUtf8Byte(_) => XmlError::UnsupportedEncoding(e.to_string()),
            // rxml's only encoding restriction: `encoding='...'` other than UTF-8.
            rxml::Error::RestrictedXml(what) if what.contains("encoding") => {
                XmlError::UnsupportedEncoding(e.to_string())
            }
            rxml::Error::RestrictedXml(_) => XmlError::RestrictedXml(e.to_string()),
            // `<!` then a letter: a document type or markup declaration.
            rxml::Error::InvalidSyntax(_) if last.is_some_and(|b| b.is_ascii_uppercase()) => {
                XmlError::RestrictedXml(format!("document type declaration ({e})"))
            }
            // A complete `&name;` naming no predefined entity.
            rxml::Error::UndeclaredEntity if last == Some(b';') => {
                XmlError::RestrictedXml(format!("entity reference ({e})"))
            }
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
    /// The rxml push parser; `None` while released (see [`StreamReader::release_parser`]).
    /// Boxed: 552 bytes that an idle client (whose parser is released) does not hold.
    parser: Option<Box<Parser>>,
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
    /// The prolog's bytes (XML declaration, root start tag): before the header, to learn
    /// the root's default namespace; after it, to make a released parser again (parsing
    /// them leaves a new parser where the first was after the header). `None` once longer
    /// than [`MAX_PROLOG`] (the parser is then never released).
    prolog: Option<Vec<u8>>,
    /// The default namespace the root declared, when plain: what the fast path needs.
    default_ns: Option<String>,
    /// True once rxml finished a top-level element: from then on it holds no pending
    /// event between two elements, and the fast path may read whole elements past it.
    rxml_settled: bool,
    /// Whether the fast path is tried (tests turn it off to compare).
    fast_path: bool,
    /// Where the fast path builds a stanza; released when the input runs out, so an idle
    /// reader holds nothing.
    scratch: Builder,
    /// The start of a top-level element of the fast path's subset that did not end in its
    /// chunk, not yet given to rxml: the next input completes it (most stanzas straddling
    /// two reads stay on the fast path). Empty most of the time.
    pending: Vec<u8>,
    /// Attempts at `pending`.
    pending_tries: u8,
    /// Set while rxml reads bytes the fast path gave up on.
    rxml_only: bool,
}

/// Longest prolog kept to find the root's default namespace.
const MAX_PROLOG: usize = 1024;

/// Whether `b` is XML whitespace (the `S` production).
fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl StreamReader {
    /// A reader at the start of a new stream.
    pub(crate) fn new(limits: Limits) -> Self {
        StreamReader {
            parser: Some(Box::new(new_parser())),
            limits,
            phase: Phase::Prolog,
            depth: 0,
            stack: Vec::new(),
            element_bytes: 0,
            whitespace_run: 0,
            error: None,
            prolog: Some(Vec::new()),
            default_ns: None,
            rxml_settled: false,
            fast_path: true,
            scratch: Builder::default(),
            pending: Vec::new(),
            pending_tries: 0,
            rxml_only: false,
        }
    }

    /// A reader that always goes through rxml (the fuzz targets compare it with the fast
    /// path).
    #[cfg(feature = "fuzz")]
    pub(crate) fn without_fast_path(limits: Limits) -> Self {
        StreamReader {
            fast_path: false,
            ..StreamReader::new(limits)
        }
    }

    /// Bytes of the unfinished top-level element (or prolog) read so far: what the reader
    /// holds on the peer's behalf. Never above [`Limits::max_stanza_bytes`] while the
    /// reader is usable; 0 once it is poisoned (the partial tree is freed).
    pub(crate) fn buffered_bytes(&self) -> usize {
        match (self.phase, &self.error) {
            (_, Some(_)) | (Phase::Closed, _) => 0,
            (Phase::Between, None) => self.pending.len(),
            (Phase::Prolog | Phase::InElement, None) => self.element_bytes,
        }
    }

    /// Whether the reader holds no part of an element: between two top-level elements (or
    /// after the close). A WebSocket message must leave it so.
    pub(crate) fn between_elements(&self) -> bool {
        matches!(self.phase, Phase::Between | Phase::Closed) && self.pending.is_empty()
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
            Ok(None) => {
                if self.scratch.capacity_bytes() > 0 {
                    self.scratch = Builder::default();
                }
                self.release_parser();
                Ok(None)
            }
            Ok(ev) => Ok(ev),
            Err(e) => {
                self.error = Some(e.clone());
                // Free the partial tree; its depth is capped, so dropping it is safe.
                self.stack.clear();
                self.pending = Vec::new();
                Err(e)
            }
        }
    }

    /// The body of [`StreamReader::next`], without the poisoning.
    fn step(&mut self, input: &mut &[u8]) -> Result<Option<StreamEvent>, XmlError> {
        if !self.pending.is_empty() {
            return self.resume_pending(input);
        }
        loop {
            if self.phase == Phase::Closed {
                return Ok(None);
            }
            let window_len = if self.phase == Phase::Between {
                // At least 1: whitespace_run <= max_whitespace_run here.
                let budget = self.limits.max_whitespace_run.saturating_add(1) - self.whitespace_run;
                let spaces = input
                    .iter()
                    .take(budget)
                    .take_while(|b| is_xml_space(**b))
                    .count();
                match input.first() {
                    Some(b'<') if spaces == 0 => {
                        match self.fast_element(input) {
                            FastStep::Event(ev) => return Ok(Some(ev)),
                            FastStep::Held => return Ok(None),
                            FastStep::Rxml => {}
                        }
                        self.phase = Phase::InElement;
                        self.element_bytes = 0;
                        continue;
                    }
                    Some(_) if spaces == 0 => {
                        // A self-closing root (`<stream:stream .../>`) leaves its end event
                        // in the parser: the stream is closed and the text after it is not
                        // ours to judge. Without this, the outcome depended on whether the
                        // text came in the same chunk as the `/>` (found by fuzzing).
                        if let Some(event) = self.pending_event()? {
                            if let Some(ev) = self.handle(event)? {
                                return Ok(Some(ev));
                            }
                            continue;
                        }
                        return Err(XmlError::BadFormat("text between top-level elements"));
                    }
                    // With no input left, the parser may still have events to give.
                    _ => spaces,
                }
            } else {
                // At least 1: element_bytes <= max_stanza_bytes here.
                let budget = self.limits.max_stanza_bytes.saturating_add(1) - self.element_bytes;
                input.len().min(budget)
            };
            let whole_window = &input[..window_len];
            let mut window = whole_window;
            let result = self.parser()?.parse(&mut window, false);
            let consumed = window_len - window.len();
            let last = consumed.checked_sub(1).map(|i| whole_window[i]);
            *input = &input[consumed..];
            if self.phase == Phase::Prolog
                && let Some(prolog) = &mut self.prolog
            {
                if prolog.len() + consumed <= MAX_PROLOG {
                    prolog.extend_from_slice(&whole_window[..consumed]);
                } else {
                    self.prolog = None;
                }
            }
            if self.phase == Phase::Between {
                self.whitespace_run = self.whitespace_run.saturating_add(consumed);
                if self.whitespace_run > self.limits.max_whitespace_run {
                    return Err(XmlError::LimitExceeded(Limit::WhitespaceRun));
                }
            } else {
                self.element_bytes = self.element_bytes.saturating_add(consumed);
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
                Err(EndOrError::Error(e)) => return Err(XmlError::from_rxml(e, last)),
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

    /// A whole top-level element read by the fast path (see `fast`), when it can take it;
    /// `input` is then advanced past it, as rxml's path would. The start of one that does
    /// not end in `input` is held for the next input.
    fn fast_element(&mut self, input: &mut &[u8]) -> FastStep {
        if !self.fast_path || !self.rxml_settled || self.rxml_only {
            return FastStep::Rxml;
        }
        let Some(ns) = self.default_ns.as_deref() else {
            return FastStep::Rxml;
        };
        match fast::parse_element(input, ns, &self.limits, &mut self.scratch) {
            Fast::Done(el, len) => {
                *input = &input[len..];
                self.whitespace_run = 0;
                FastStep::Event(StreamEvent::Element(el))
            }
            Fast::Incomplete if input.len() < MAX_PENDING => {
                self.pending.extend_from_slice(input);
                self.pending_tries = 1;
                *input = &[];
                FastStep::Held
            }
            Fast::Incomplete | Fast::Declined => FastStep::Rxml,
        }
    }

    /// More input for the held element: the fast path tries again on the held bytes and
    /// what follows; when it cannot finish it within its bounds, rxml reads them all, in
    /// order, exactly as if nothing had been held.
    fn resume_pending(&mut self, input: &mut &[u8]) -> Result<Option<StreamEvent>, XmlError> {
        if input.is_empty() {
            return Ok(None);
        }
        let held = self.pending.len();
        let cap = MAX_PENDING.min(self.limits.max_stanza_bytes.saturating_add(1));
        let take = input.len().min(cap.saturating_sub(held));
        self.pending.extend_from_slice(&input[..take]);
        self.pending_tries += 1;
        if let Some(ns) = self.default_ns.as_deref() {
            match fast::parse_element(&self.pending, ns, &self.limits, &mut self.scratch) {
                // The held bytes alone did not end it, so it ends in the new ones.
                Fast::Done(el, len) if len > held => {
                    *input = &input[len - held..];
                    self.pending = Vec::new();
                    self.whitespace_run = 0;
                    return Ok(Some(StreamEvent::Element(el)));
                }
                Fast::Incomplete
                    if take == input.len()
                        && self.pending.len() < cap
                        && self.pending_tries < MAX_PENDING_TRIES =>
                {
                    *input = &[];
                    return Ok(None);
                }
                Fast::Done(..) | Fast::Incomplete | Fast::Declined => {}
            }
        }
        let bytes = std::mem::take(&mut self.pending);
        let mut rest = &bytes[..];
        self.rxml_only = true;
        let result = self.step(&mut rest);
        self.rxml_only = false;
        let consumed = bytes.len() - rest.len();
        if consumed >= held {
            *input = &input[consumed - held..];
        } else {
            // Not reached (the held bytes end no element), but never lose a byte.
            self.pending = bytes[consumed..held].to_vec();
        }
        match result {
            // The held bytes are read; the rest of the input (beyond the cap) follows.
            Ok(None) if !input.is_empty() => self.step(input),
            other => other,
        }
    }

    /// Drops the parser when its state is only "inside the root, between two elements",
    /// which the prolog's bytes make again: an idle reader then holds no token buffer
    /// (rxml reserves [`MAX_TOKEN_LENGTH`] on its first byte) and no namespace state.
    /// After rxml finished a top-level element it holds no pending event between elements
    /// (what the fast path relies on too), and at most whitespace of an unfinished text
    /// token, which is ignored at depth 1 (its limit is counted here, not by rxml). Called
    /// when the input runs out, so the events do not depend on where it ran out.
    fn release_parser(&mut self) {
        let idle = match self.phase {
            Phase::Between => self.rxml_settled && self.prolog.is_some(),
            Phase::Closed => true,
            Phase::Prolog | Phase::InElement => false,
        };
        if idle && self.error.is_none() {
            self.parser = None;
        }
    }

    /// The parser, made again from the prolog's bytes if it was released.
    fn parser(&mut self) -> Result<&mut Parser, XmlError> {
        if self.parser.is_none() {
            let prolog = self.prolog.as_deref().unwrap_or_default();
            self.parser = Some(Box::new(parser_after(prolog)?));
        }
        Ok(self.parser.get_or_insert_with(|| Box::new(new_parser())))
    }

    /// An event the parser still holds from bytes it already consumed, if any.
    fn pending_event(&mut self) -> Result<Option<rxml::Event>, XmlError> {
        match self.parser()?.parse(&mut &[][..], false) {
            Ok(Some(event)) => Ok(Some(event)),
            Err(EndOrError::NeedMoreData) => Ok(None),
            Err(EndOrError::Error(e)) => Err(XmlError::from_rxml(e, None)),
            Ok(None) => Err(XmlError::NotWellFormed("unexpected end of document".into())),
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
                    if let Some(prolog) = &mut self.prolog {
                        prolog.shrink_to_fit();
                    }
                    self.default_ns = self
                        .prolog
                        .as_deref()
                        .and_then(fast::root_default_namespace);
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
                        self.rxml_settled = true;
                        Ok(Some(StreamEvent::Element(Stanza::from(&el))))
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

/// A parser at the start of a stream.
fn new_parser() -> Parser {
    Parser::with_options(Options {
        max_token_length: MAX_TOKEN_LENGTH,
        ..Options::default()
    })
}

/// A parser that has read `prolog` (the XML declaration, if any, and the root's start
/// tag, which it read before without error): inside the root, where a released one was.
fn parser_after(prolog: &[u8]) -> Result<Parser, XmlError> {
    let mut parser = new_parser();
    let mut rest = prolog;
    let mut root = false;
    loop {
        match parser.parse(&mut rest, false) {
            Ok(Some(rxml::Event::XmlDeclaration(..))) if !root => {}
            Ok(Some(rxml::Event::StartElement(..))) if !root => root = true,
            Err(EndOrError::NeedMoreData) if root && rest.is_empty() => return Ok(parser),
            // Not reached: these bytes parsed to exactly this before.
            _ => {
                return Err(XmlError::NotWellFormed(
                    "the stream header did not read the same again".into(),
                ));
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

/// `body` read as the first element after a server stream header (`jabber:client`). For
/// tests.
#[cfg(test)]
pub(crate) fn read_after_header(body: &str) -> Stanza {
    let mut bytes = b"<stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
        .to_vec();
    bytes.extend_from_slice(body.as_bytes());
    first_element(&bytes)
}

/// The first element after the stream header in `bytes` (a whole stream's start), read
/// with default limits; panics on anything else. For the writer's and the tree's tests.
#[cfg(test)]
pub(crate) fn first_element(bytes: &[u8]) -> Stanza {
    let mut reader = StreamReader::new(Limits::default());
    let mut input = bytes;
    assert!(matches!(
        reader.next(&mut input),
        Ok(Some(StreamEvent::Header(_)))
    ));
    match reader.next(&mut input) {
        Ok(Some(StreamEvent::Element(stanza))) => stanza,
        other => panic!("{other:?}"),
    }
}

#[cfg(test)]
#[path = "reader_tests.rs"]
mod tests;
