//! A fast path for the common stanza, in front of rxml.
//!
//! rxml's namespace-resolving parser costs about three quarters of the reader's time on a
//! typical stream. Most stanzas use a small, plain subset of XML: ASCII names without
//! prefixes (but `xml:lang`), `xmlns` declarations, the five predefined entities, no
//! comments, CDATA, character references or carriage returns. [`parse_element`] reads a
//! complete top-level element of that subset straight into a [`Stanza`] (one string, one
//! node array), and gives up ([`None`]) on anything else: then the reader hands the same
//! bytes to rxml as before.
//!
//! It never rejects, it only declines. What it accepts is well-formed and yields the very
//! stanza rxml's path builds (a differential property test checks this), so the session
//! behaves the same with or without it, including every error and limit, and in any
//! chunking. Skipping rxml for a whole element is sound because, between two top-level
//! elements, rxml's state does not depend on the balanced element in between.

use std::cell::Cell;

use minidom::rxml::{XMLNS_XML, XMLNS_XMLNS};

use crate::xml::tree::{Builder, Span, Stanza};

use super::limits::Limits;

/// Longest name or attribute value taken here: well below the reader's rxml token limit,
/// beyond which rxml reports `restricted-xml`.
const MAX_TOKEN: usize = 1024;

/// Most attributes on one element, and deepest nesting, the fast path takes (kept on the
/// stack: no allocation per stanza for its bookkeeping).
const MAX_ATTRS: usize = 16;
const MAX_OPEN: usize = 32;

/// A stack of at most `N` items, on the stack; `push` fails when full (and the fast path
/// declines).
struct Fixed<T, const N: usize> {
    items: [T; N],
    len: usize,
}

impl<T: Copy + Default, const N: usize> Fixed<T, N> {
    fn new() -> Self {
        Fixed {
            items: [T::default(); N],
            len: 0,
        }
    }

    fn push(&mut self, item: T) -> Option<()> {
        *self.items.get_mut(self.len)? = item;
        self.len += 1;
        Some(())
    }

    fn pop(&mut self) -> Option<T> {
        self.len = self.len.checked_sub(1)?;
        Some(self.items[self.len])
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    fn as_slice(&self) -> &[T] {
        &self.items[..self.len]
    }
}

/// An attribute as written: prefix (if any), local name, raw value (entities unexpanded,
/// already checked).
#[derive(Clone, Copy, Default)]
struct RawAttr<'a> {
    prefix: Option<&'a str>,
    name: &'a str,
    value: Checked<'a>,
}

/// Text or an attribute value of the subset, entities unexpanded; `amp` when it has any.
#[derive(Clone, Copy, Default)]
struct Checked<'a> {
    raw: &'a str,
    amp: bool,
}

impl Checked<'_> {
    /// Appends the text with its entities expanded.
    fn write(&self, out: &mut String) -> Option<()> {
        if self.amp {
            unescape_into(self.raw, out)
        } else {
            out.push_str(self.raw);
            Some(())
        }
    }
}

/// A cursor over the input, as `&str` pieces validated one at a time.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Set when a read ran into the end of `bytes`: the element may be complete in a
    /// longer input.
    hit_end: Cell<bool>,
    /// The text run or attribute value (its start, and whether an attribute) that the end
    /// of `bytes` cut, if that is where the read stopped.
    cut_token: Cell<Option<(usize, bool)>>,
}

/// Whether `b` may start a name of the subset (ASCII NCName start).
fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

/// Whether `b` may continue a name of the subset (ASCII NCName char).
fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Whitespace of the subset: no carriage return (rxml normalises it; we decline instead).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n')
}

/// `bytes` as text of the subset: valid UTF-8 of XML `Char`s, no carriage return, only the
/// five predefined entities; and, in an attribute value, no tab, newline or `<` either
/// (attribute-value normalisation); in text, no `]]>`.
///
/// One branch-free pass over the bytes finds everything that needs a closer look, so the
/// common plain text costs that pass and UTF-8 validation.
fn checked_str(bytes: &[u8], in_attribute: bool) -> Option<Checked<'_>> {
    let (mut control, mut lt, mut bracket, mut ef, mut amp) = (false, false, false, false, false);
    for &b in bytes {
        control |= b < 0x20 && (in_attribute || (b != b'\t' && b != b'\n'));
        lt |= b == b'<';
        bracket |= b == b']';
        ef |= b == 0xEF;
        amp |= b == b'&';
    }
    if control || (in_attribute && lt) {
        return None;
    }
    let raw = std::str::from_utf8(bytes).ok()?;
    // U+FFFE and U+FFFF (EF BF BE, EF BF BF) are not XML characters.
    if ef && raw.contains(['\u{FFFE}', '\u{FFFF}']) {
        return None;
    }
    if !in_attribute && bracket && raw.contains("]]>") {
        return None;
    }
    if amp {
        unescape_into(raw, &mut ())?;
    }
    Some(Checked { raw, amp })
}

/// Where [`unescape_into`] writes: a `String`, or nothing (to check only).
trait Sink {
    fn put_str(&mut self, s: &str);
    fn put_char(&mut self, c: char);
}

impl Sink for String {
    fn put_str(&mut self, s: &str) {
        self.push_str(s);
    }

    fn put_char(&mut self, c: char) {
        self.push(c);
    }
}

impl Sink for () {
    fn put_str(&mut self, _: &str) {}

    fn put_char(&mut self, _: char) {}
}

/// Appends `text` to `out` with the five predefined entities expanded; `None` for a
/// character reference or any other entity (rxml's business), or a stray `&`.
fn unescape_into(text: &str, out: &mut impl Sink) -> Option<()> {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.put_str(&rest[..amp]);
        rest = &rest[amp + 1..];
        let semi = rest.find(';')?;
        out.put_char(match &rest[..semi] {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => return None,
        });
        rest = &rest[semi + 1..];
    }
    out.put_str(rest);
    Some(())
}

/// Whether the start of a text run or attribute value, cut by the end of the input, is of
/// the subset so far (an unfinished UTF-8 sequence or entity reference at the very end
/// allowed): only then may the fast path hold it, since rxml, given the same bytes, would
/// not have failed yet either.
fn clean_so_far(bytes: &[u8], in_attribute: bool) -> bool {
    // rxml limits names and attribute values (not text) to its token length.
    if in_attribute && bytes.len() > MAX_TOKEN {
        return false;
    }
    let valid = match std::str::from_utf8(bytes) {
        Ok(text) => text.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => return false,
    };
    // Check the text up to the last `&` (the rest may be a reference cut short).
    let Ok(text) = std::str::from_utf8(&bytes[..valid]) else {
        return false;
    };
    let complete = match text.rfind('&') {
        Some(amp) if !text[amp..].contains(';') => {
            // rxml gives up on a reference longer than 8 bytes; only the start of one of
            // the five predefined entities may end up of the subset.
            let partial = &text[amp + 1..];
            if !["lt", "gt", "amp", "apos", "quot"]
                .iter()
                .any(|e| e.starts_with(partial))
            {
                return false;
            }
            &text[..amp]
        }
        _ => text,
    };
    checked_str(complete.as_bytes(), in_attribute).is_some()
}

impl<'a> Cursor<'a> {
    /// Whether the token the end of the input cut (if any) is of the subset so far.
    fn cut_token_clean(&self) -> bool {
        match self.cut_token.get() {
            Some((start, in_attribute)) => clean_so_far(&self.bytes[start..], in_attribute),
            None => true,
        }
    }

    fn peek(&self) -> Option<u8> {
        let b = self.bytes.get(self.pos).copied();
        if b.is_none() {
            self.hit_end.set(true);
        }
        b
    }

    /// The offset of the next `byte` at or after `from`, which ends the text run or
    /// attribute value starting there.
    fn find(&self, from: usize, byte: u8, in_attribute: bool) -> Option<usize> {
        let found = self.bytes[from..].iter().position(|b| *b == byte);
        if found.is_none() {
            self.hit_end.set(true);
            self.cut_token.set(Some((from, in_attribute)));
        }
        found
    }

    fn skip_space(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// An ASCII NCName.
    fn name(&mut self) -> Option<&'a str> {
        let start = self.pos;
        if !self.peek().is_some_and(is_name_start) {
            return None;
        }
        while self.peek().is_some_and(is_name_char) {
            self.pos += 1;
        }
        if self.pos - start > MAX_TOKEN {
            // Too long for the subset however it ends (rxml's token limit comes later).
            self.cut_token.set(Some((start, true)));
            self.hit_end.set(false);
            return None;
        }
        // ASCII only, so always UTF-8.
        std::str::from_utf8(&self.bytes[start..self.pos]).ok()
    }

    /// `name` or `prefix:name`.
    fn qname(&mut self) -> Option<(Option<&'a str>, &'a str)> {
        let first = self.name()?;
        if self.peek() == Some(b':') {
            self.pos += 1;
            Some((Some(first), self.name()?))
        } else {
            Some((None, first))
        }
    }

    /// After `<`: the tag name, its attributes, and whether it closes itself. `None` when
    /// the tag is not complete in the input or not of the subset.
    fn start_tag(
        &mut self,
        attrs: &mut Fixed<RawAttr<'a>, MAX_ATTRS>,
        strict: bool,
    ) -> Option<(Option<&'a str>, &'a str, bool)> {
        let (prefix, name) = self.qname()?;
        attrs.clear();
        loop {
            let spaced = self.skip_space();
            match self.peek()? {
                b'>' => {
                    self.pos += 1;
                    return Some((prefix, name, false));
                }
                b'/' => {
                    self.pos += 1;
                    if self.peek()? != b'>' {
                        return None;
                    }
                    self.pos += 1;
                    return Some((prefix, name, true));
                }
                // Attributes must be separated from the name and from each other.
                _ if !spaced => return None,
                _ => {}
            }
            let (prefix, name) = self.qname()?;
            self.skip_space();
            if self.peek()? != b'=' {
                return None;
            }
            self.pos += 1;
            self.skip_space();
            let quote = self.peek()?;
            if quote != b'\'' && quote != b'"' {
                return None;
            }
            self.pos += 1;
            let start = self.pos;
            let len = self.find(start, quote, true)?;
            let raw = &self.bytes[start..start + len];
            if raw.len() > MAX_TOKEN {
                return None;
            }
            self.pos = start + len + 1;
            // rxml rejects a bad reference or namespace declaration as soon as it reads the
            // value, before the tag ends: decline now, not after the `>`.
            let value = checked_str(raw, true)?;
            if strict {
                match (prefix, name) {
                    (None, "xmlns") => {
                        plain_namespace(value.raw)?;
                    }
                    (Some("xml"), "lang") | (None, _) => {}
                    (Some(_), _) => return None,
                }
            }
            attrs.push(RawAttr {
                prefix,
                name,
                value,
            })?;
        }
    }
}

/// The default namespace the stream root declares (`xmlns='...'` on `<stream:stream>`),
/// read from the prolog bytes rxml has already accepted; `None` when it is not plain.
pub(super) fn root_default_namespace(prolog: &[u8]) -> Option<String> {
    // The prolog is an optional XML declaration, whitespace, then the root's start tag.
    let mut from = 0;
    if prolog.starts_with(b"<?") {
        from = prolog.windows(2).position(|w| w == b"?>")? + 2;
    }
    let start = from + prolog[from..].iter().position(|b| *b == b'<')?;
    let mut cursor = Cursor {
        bytes: prolog,
        pos: start + 1,
        hit_end: Cell::new(false),
        cut_token: Cell::new(None),
    };
    let mut attrs = Fixed::new();
    cursor.start_tag(&mut attrs, false)?;
    let mut declared = attrs
        .as_slice()
        .iter()
        .filter(|a| a.prefix.is_none() && a.name == "xmlns");
    let first = declared.next()?;
    if declared.next().is_some() {
        // rxml accepts a repeated default declaration (the last wins); leave it to rxml.
        return None;
    }
    plain_namespace(first.value.raw).map(str::to_owned)
}

/// What the fast path made of the bytes at the start of the input.
pub(super) enum Fast {
    /// A complete element of the subset, and the bytes it took.
    Done(Stanza, usize),
    /// So far of the subset, but the element does not end within the input (and the input
    /// is shorter than the stanza size limit): more bytes may complete it.
    Incomplete,
    /// Not of the subset: rxml's to read.
    Declined,
}

/// Reads one complete top-level element of the subset from the start of `input` (which
/// starts with `<`), at stream depth 1 where `default_ns` is in scope.
///
/// `scratch` is where the stanza is built (left empty, its buffers kept for the next one);
/// the stanza returned gets exactly-sized copies.
pub(super) fn parse_element(
    input: &[u8],
    default_ns: &str,
    limits: &Limits,
    scratch: &mut Builder,
) -> Fast {
    scratch.clear();
    // Longer elements are rxml's (which enforces the size limit).
    let truncated = input.len() > limits.max_stanza_bytes;
    let mut cursor = Cursor {
        bytes: &input[..input.len().min(limits.max_stanza_bytes)],
        pos: 0,
        hit_end: Cell::new(false),
        cut_token: Cell::new(None),
    };
    let outcome = match parse_inner(&mut cursor, default_ns, limits, scratch) {
        Some(len) => Fast::Done(scratch.finish_copy(), len),
        None if cursor.hit_end.get() && !truncated && cursor.cut_token_clean() => Fast::Incomplete,
        None => Fast::Declined,
    };
    scratch.clear();
    outcome
}

fn parse_inner(
    cursor: &mut Cursor<'_>,
    default_ns: &str,
    limits: &Limits,
    tree: &mut Builder,
) -> Option<usize> {
    let bytes = cursor.bytes;
    let mut attrs = Fixed::<RawAttr<'_>, MAX_ATTRS>::new();
    // The open elements' node indices, outermost first.
    let mut open = Fixed::<usize, MAX_OPEN>::new();
    // The root of the stream is depth 1; the top-level element depth 2.
    let max_open = limits.max_depth.checked_sub(1)?;
    let default_ns = tree.push_str(default_ns);
    // The XML namespace (of `xml:lang`), stored once per stanza when first used.
    let mut xml_ns = None;
    loop {
        if cursor.peek()? != b'<' {
            // Text, up to the next tag; only inside an element: the loop starts at `<` and
            // returns at the last `>`.
            open.as_slice().last()?;
            let start = cursor.pos;
            let len = cursor.find(start, b'<', false)?;
            cursor.pos += len;
            let raw = checked_str(&bytes[start..start + len], false)?;
            let text = tree.push_with(|out| raw.write(out))?;
            tree.text(text);
            continue;
        }
        cursor.pos += 1;
        match cursor.peek()? {
            b'/' => {
                cursor.pos += 1;
                // A top-level end tag is rxml's (the stream's end, or its error).
                let element = *open.as_slice().last()?;
                let (prefix, name) = cursor.qname()?;
                let expected = tree.str(tree.name_and_ns(element).0);
                // rxml compares the name as soon as it has read it, before the `>`.
                let name_cut = cursor.hit_end.get();
                if prefix.is_some()
                    || !expected.starts_with(name)
                    || (!name_cut && name != expected)
                {
                    cursor.hit_end.set(false);
                    return None;
                }
                cursor.skip_space();
                if cursor.peek()? != b'>' {
                    return None;
                }
                cursor.pos += 1;
                open.pop()?;
                tree.close(element);
                if open.as_slice().is_empty() {
                    return Some(cursor.pos);
                }
            }
            b'!' | b'?' => return None,
            _ => {
                let (prefix, name, empty) = cursor.start_tag(&mut attrs, true)?;
                if prefix.is_some() || reserved(name) || open.as_slice().len() >= max_open {
                    return None;
                }
                let inherited = match open.as_slice().last() {
                    Some(parent) => tree.name_and_ns(*parent).1,
                    None => default_ns,
                };
                let element =
                    element(tree, name, inherited, attrs.as_slice(), limits, &mut xml_ns)?;
                if empty {
                    tree.close(element);
                    if open.as_slice().is_empty() {
                        return Some(cursor.pos);
                    }
                } else {
                    open.push(element)?;
                }
            }
        }
    }
}

/// Writes an element's start tag into `tree`; returns its index, or `None` when the tag
/// needs rxml.
fn element(
    tree: &mut Builder,
    name: &str,
    inherited: Span,
    attrs: &[RawAttr<'_>],
    limits: &Limits,
    xml_ns: &mut Option<Span>,
) -> Option<usize> {
    let mut declared = None;
    for attr in attrs {
        if attr.prefix.is_none() && attr.name == "xmlns" {
            // A second declaration is rxml's error to report.
            if declared.is_some() {
                return None;
            }
            declared = Some(plain_namespace(attr.value.raw)?);
        }
    }
    let count = attrs.len() - usize::from(declared.is_some());
    if count > limits.max_attributes {
        return None;
    }
    let name = tree.push_str(name);
    let ns = match declared {
        Some(ns) => tree.push_str(ns),
        None => inherited,
    };
    let element = tree.open(name, ns);
    for attr in attrs {
        let namespace = match attr.prefix {
            None if attr.name == "xmlns" => continue,
            None if reserved(attr.name) => return None,
            None => Span::default(),
            Some("xml") if attr.name == "lang" => {
                *xml_ns.get_or_insert_with(|| tree.push_str(XMLNS_XML))
            }
            Some(_) => return None,
        };
        let duplicate = tree.attr_names(element).any(|(ns, existing)| {
            tree.str(existing) == attr.name && tree.str(ns) == tree.str(namespace)
        });
        if duplicate {
            return None;
        }
        let name = tree.push_str(attr.name);
        let value = tree.push_with(|out| attr.value.write(out))?;
        tree.attr(element, namespace, name, value);
    }
    Some(element)
}

/// Names beginning with `xml` (any case) are reserved by XML; whatever rxml makes of them
/// is rxml's business.
fn reserved(name: &str) -> bool {
    name.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("xml"))
}

/// A namespace name of the subset: plain URI characters (no entity, no quote), not empty,
/// not one of the reserved XML namespaces.
fn plain_namespace(value: &str) -> Option<&str> {
    let plain = value
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'&' | b'<' | b'\'' | b'"'));
    (plain && !value.is_empty() && value != XMLNS_XML && value != XMLNS_XMLNS).then_some(value)
}

#[cfg(test)]
#[path = "fast_tests.rs"]
mod tests;
