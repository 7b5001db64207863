//! A received stanza as one compact, read-only tree.
//!
//! Every name, namespace, attribute value and text of a [`Stanza`] lives in one string, and
//! its elements, attributes and texts in one array, in document order: two allocations per
//! stanza, whatever its size, where a [`minidom::Element`] tree makes several per element.
//! Text is stored expanded (entities resolved), namespaces resolved: what a `minidom`
//! element built from the same bytes holds. [`Stanza::to_element`] builds that element
//! when an application wants to edit or re-send the stanza.

use std::collections::HashMap;
use std::fmt;

use minidom::Element;
use minidom::rxml::{Namespace, NcName};

/// A byte range of [`Stanza::text`]. `u32` keeps nodes small: a stanza is far below
/// 4 GiB ([`Limits::MAX_STANZA_BYTES`](crate::Limits::MAX_STANZA_BYTES)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

/// One node, in document order: an element is followed by its attributes, then by its
/// content (texts and elements) up to `end`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Node {
    Element {
        name: Span,
        ns: Span,
        /// How many `Attr` nodes follow.
        attrs: u32,
        /// The index one past this element's last descendant.
        end: u32,
    },
    /// `ns` is empty for an attribute without namespace.
    Attr {
        ns: Span,
        name: Span,
        value: Span,
    },
    Text(Span),
}

/// A stanza (or any top-level element) the server sent, validated and namespace-resolved.
///
/// Read it like a `minidom` element: [`name`](Stanza::name), [`ns`](Stanza::ns),
/// [`attr`](Stanza::attr), [`children`](Stanza::children), [`get_child`](Stanza::get_child),
/// [`text`](Stanza::text); every element in it is an [`ElementRef`]. Equality is XML
/// equality: same names, namespaces, attributes (in any order) and content.
#[derive(Clone)]
pub struct Stanza {
    text: String,
    nodes: Vec<Node>,
}

/// An element of a [`Stanza`].
#[derive(Clone, Copy)]
pub struct ElementRef<'a> {
    stanza: &'a Stanza,
    index: usize,
}

/// A child of an element: an element or a piece of text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NodeRef<'a> {
    /// A child element.
    Element(ElementRef<'a>),
    /// Character data, entities expanded.
    Text(&'a str),
}

impl Stanza {
    fn str(&self, span: Span) -> &str {
        &self.text[span.start as usize..span.end as usize]
    }

    /// The top-level element.
    pub fn root(&self) -> ElementRef<'_> {
        ElementRef {
            stanza: self,
            index: 0,
        }
    }

    /// The top-level element's local name (`message`, `presence`, `iq`...).
    pub fn name(&self) -> &str {
        self.root().name()
    }

    /// The top-level element's namespace (`jabber:client` for a stanza).
    pub fn ns(&self) -> &str {
        self.root().ns()
    }

    /// Whether the top-level element is `name` in `ns`.
    pub fn is(&self, name: &str, ns: &str) -> bool {
        self.root().is(name, ns)
    }

    /// An attribute of the top-level element (without namespace), e.g. `from`, `id`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.root().attr(name)
    }

    /// The top-level element's attributes as `(namespace, name, value)`; see
    /// [`ElementRef::attrs`].
    pub fn attrs(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.root().attrs()
    }

    /// The top-level element's child elements.
    pub fn children(&self) -> impl Iterator<Item = ElementRef<'_>> {
        self.root().children()
    }

    /// The top-level element's first child `name` in `ns`.
    pub fn get_child(&self, name: &str, ns: &str) -> Option<ElementRef<'_>> {
        self.root().get_child(name, ns)
    }

    /// Whether the top-level element has a child `name` in `ns`.
    pub fn has_child(&self, name: &str, ns: &str) -> bool {
        self.get_child(name, ns).is_some()
    }

    /// The top-level element's own text (its text children, concatenated).
    pub fn text(&self) -> String {
        self.root().text()
    }

    /// The same stanza as a `minidom` element (to edit it, or to send it with
    /// [`Client::send`](crate::Client::send)).
    pub fn to_element(&self) -> Element {
        self.root().to_element()
    }

    /// Heap bytes this stanza holds (its string and node array).
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.nodes.capacity() * std::mem::size_of::<Node>()
    }
}

impl<'a> ElementRef<'a> {
    fn header(self) -> (Span, Span, usize, usize) {
        match self.stanza.nodes[self.index] {
            Node::Element {
                name,
                ns,
                attrs,
                end,
            } => (name, ns, attrs as usize, end as usize),
            // An `ElementRef` is only made for an element node.
            Node::Attr { .. } | Node::Text(_) => unreachable!("ElementRef on a non-element"),
        }
    }

    /// The local name.
    pub fn name(self) -> &'a str {
        self.stanza.str(self.header().0)
    }

    /// The namespace.
    pub fn ns(self) -> &'a str {
        self.stanza.str(self.header().1)
    }

    /// Whether this is `name` in `ns`.
    pub fn is(self, name: &str, ns: &str) -> bool {
        self.name() == name && self.ns() == ns
    }

    /// Whether the namespace is `ns`.
    pub fn has_ns(self, ns: &str) -> bool {
        self.ns() == ns
    }

    /// Every attribute as `(namespace, name, value)`; the namespace is `""` for the usual
    /// attribute without one, [`XMLNS_XML`](minidom::rxml::XMLNS_XML) for `xml:lang`.
    pub fn attrs(self) -> impl Iterator<Item = (&'a str, &'a str, &'a str)> + 'a {
        let stanza = self.stanza;
        let (_, _, count, _) = self.header();
        stanza.nodes[self.index + 1..self.index + 1 + count]
            .iter()
            .map(move |node| match *node {
                Node::Attr { ns, name, value } => {
                    (stanza.str(ns), stanza.str(name), stanza.str(value))
                }
                Node::Element { .. } | Node::Text(_) => unreachable!("attributes come first"),
            })
    }

    /// The attribute `name` without namespace.
    pub fn attr(self, name: &str) -> Option<&'a str> {
        self.attr_ns("", name)
    }

    /// The attribute `name` in namespace `ns` (`""`: none).
    pub fn attr_ns(self, ns: &str, name: &str) -> Option<&'a str> {
        self.attrs()
            .find(|(n, local, _)| *local == name && *n == ns)
            .map(|(_, _, value)| value)
    }

    /// The children, elements and texts, in order.
    pub fn nodes(self) -> impl Iterator<Item = NodeRef<'a>> + 'a {
        let stanza = self.stanza;
        let (_, _, attrs, end) = self.header();
        let mut next = self.index + 1 + attrs;
        std::iter::from_fn(move || {
            if next >= end {
                return None;
            }
            let at = next;
            Some(match stanza.nodes[at] {
                Node::Element { end, .. } => {
                    next = end as usize;
                    NodeRef::Element(ElementRef { stanza, index: at })
                }
                Node::Text(span) => {
                    next += 1;
                    NodeRef::Text(stanza.str(span))
                }
                Node::Attr { .. } => unreachable!("attributes come right after their element"),
            })
        })
    }

    /// The child elements, in order.
    pub fn children(self) -> impl Iterator<Item = ElementRef<'a>> + 'a {
        self.nodes().filter_map(|node| match node {
            NodeRef::Element(el) => Some(el),
            NodeRef::Text(_) => None,
        })
    }

    /// The text children, in order.
    pub fn texts(self) -> impl Iterator<Item = &'a str> + 'a {
        self.nodes().filter_map(|node| match node {
            NodeRef::Text(text) => Some(text),
            NodeRef::Element(_) => None,
        })
    }

    /// The first child `name` in `ns`.
    pub fn get_child(self, name: &str, ns: &str) -> Option<ElementRef<'a>> {
        self.children().find(|c| c.is(name, ns))
    }

    /// Whether there is a child `name` in `ns`.
    pub fn has_child(self, name: &str, ns: &str) -> bool {
        self.get_child(name, ns).is_some()
    }

    /// The text children, concatenated (as `minidom`'s `Element::text`).
    pub fn text(self) -> String {
        self.texts().collect()
    }

    /// This element and its content as a `minidom` element.
    pub fn to_element(self) -> Element {
        let mut el = Element::bare(self.name(), self.ns());
        let map = el.attrs_mut();
        for (ns, name, value) in self.attrs() {
            // Names were NCNames when the stanza was read or built.
            if let Ok(name) = NcName::try_from(name) {
                let ns = if ns.is_empty() {
                    Namespace::NONE
                } else {
                    Namespace::try_share_static(ns).unwrap_or_else(|| ns.to_string().into())
                };
                map.insert(ns, name, value.to_string());
            }
        }
        for node in self.nodes() {
            match node {
                NodeRef::Element(child) => {
                    el.append_child(child.to_element());
                }
                NodeRef::Text(text) => el.append_text(text.to_string()),
            }
        }
        el
    }
}

impl fmt::Debug for ElementRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} xmlns='{}'>", self.name(), self.ns())
    }
}

impl PartialEq for ElementRef<'_> {
    /// XML equality of the two subtrees (attribute order aside).
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.stanza, other.stanza);
        let (start_a, start_b) = (self.index, other.index);
        let end_a = self.header().3;
        if end_a - start_a != other.header().3 - start_b {
            return false;
        }
        // Both subtrees are in document order: compare them node by node.
        (0..end_a - start_a).all(|i| match (a.nodes[start_a + i], b.nodes[start_b + i]) {
            (
                Node::Element {
                    name: na,
                    ns: sa,
                    attrs: ca,
                    end: ea,
                },
                Node::Element {
                    name: nb,
                    ns: sb,
                    attrs: cb,
                    end: eb,
                },
            ) => {
                let here_a = ElementRef {
                    stanza: a,
                    index: start_a + i,
                };
                let here_b = ElementRef {
                    stanza: b,
                    index: start_b + i,
                };
                a.str(na) == b.str(nb)
                    && a.str(sa) == b.str(sb)
                    && ca == cb
                    && ea as usize - start_a == eb as usize - start_b
                    && here_a
                        .attrs()
                        .all(|(ns, name, value)| here_b.attr_ns(ns, name) == Some(value))
            }
            // Attributes were compared with their element.
            (Node::Attr { .. }, Node::Attr { .. }) => true,
            (Node::Text(ta), Node::Text(tb)) => a.str(ta) == b.str(tb),
            _ => false,
        })
    }
}

impl PartialEq for Stanza {
    fn eq(&self, other: &Self) -> bool {
        self.root() == other.root()
    }
}

impl Eq for Stanza {}

impl fmt::Display for Stanza {
    /// The stanza as XML (namespace declarations where needed).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        crate::xml::write_element(&self.to_element(), &mut out).map_err(|_| fmt::Error)?;
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

impl fmt::Debug for Stanza {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Stanza({self})")
    }
}

impl From<&Element> for Stanza {
    /// The element as a stanza: adjacent text nodes merged and empty ones dropped, as in
    /// a parsed stanza (so two elements that differ only in how their text is split give
    /// equal stanzas).
    ///
    /// # Panics
    ///
    /// When the element's names, namespaces and texts add up to 4 GiB or more.
    fn from(el: &Element) -> Stanza {
        let mut builder = Builder::default();
        let mut namespaces = HashMap::new();
        builder.element(el, None, &mut namespaces);
        builder.finish()
    }
}

impl From<&Stanza> for Element {
    fn from(stanza: &Stanza) -> Element {
        stanza.to_element()
    }
}

impl From<Stanza> for Element {
    fn from(stanza: Stanza) -> Element {
        stanza.to_element()
    }
}

/// Writes a stanza's nodes in document order. Reused across stanzas by the reader (its
/// buffers keep their capacity); [`Builder::finish`] copies out exactly-sized ones.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    text: String,
    nodes: Vec<Node>,
}

impl Builder {
    /// Empties the builder, keeping its buffers.
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.nodes.clear();
    }

    /// Heap bytes held.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.text.capacity() + self.nodes.capacity() * std::mem::size_of::<Node>()
    }

    /// The text of `span`.
    pub(crate) fn str(&self, span: Span) -> &str {
        &self.text[span.start as usize..span.end as usize]
    }

    fn here(&self) -> u32 {
        // The reader bounds stanzas to `Limits::MAX_STANZA_BYTES` (1 GiB), each distinct
        // namespace stored once; only a hand-built element of 4 GiB of text gets here.
        u32::try_from(self.text.len()).expect("a Stanza holds less than 4 GiB of text")
    }

    /// Appends `s` and returns its span.
    pub(crate) fn push_str(&mut self, s: &str) -> Span {
        let start = self.here();
        self.text.push_str(s);
        Span {
            start,
            end: self.here(),
        }
    }

    /// Runs `write` on the text buffer and returns the span of what it appended; `None`
    /// (and nothing appended) when `write` fails.
    pub(crate) fn push_with(
        &mut self,
        write: impl FnOnce(&mut String) -> Option<()>,
    ) -> Option<Span> {
        let start = self.here();
        if write(&mut self.text).is_none() {
            self.text.truncate(start as usize);
            return None;
        }
        Some(Span {
            start,
            end: self.here(),
        })
    }

    /// Opens an element; returns its index, for [`close`](Self::close).
    pub(crate) fn open(&mut self, name: Span, ns: Span) -> usize {
        self.nodes.push(Node::Element {
            name,
            ns,
            attrs: 0,
            end: 0,
        });
        self.nodes.len() - 1
    }

    /// Adds an attribute to the element just opened (before any content).
    pub(crate) fn attr(&mut self, element: usize, ns: Span, name: Span, value: Span) {
        self.nodes.push(Node::Attr { ns, name, value });
        if let Node::Element { attrs, .. } = &mut self.nodes[element] {
            *attrs += 1;
        }
    }

    /// The attributes of `element` so far, as `(namespace, name)` spans.
    pub(crate) fn attr_names(&self, element: usize) -> impl Iterator<Item = (Span, Span)> + '_ {
        self.nodes[element + 1..]
            .iter()
            .filter_map(|node| match *node {
                Node::Attr { ns, name, .. } => Some((ns, name)),
                Node::Element { .. } | Node::Text(_) => None,
            })
    }

    /// The name and namespace spans of element `element`.
    pub(crate) fn name_and_ns(&self, element: usize) -> (Span, Span) {
        match self.nodes[element] {
            Node::Element { name, ns, .. } => (name, ns),
            Node::Attr { .. } | Node::Text(_) => (Span::default(), Span::default()),
        }
    }

    /// A text node.
    pub(crate) fn text(&mut self, span: Span) {
        self.nodes.push(Node::Text(span));
    }

    /// Closes `element`: its content is everything added since it was opened.
    pub(crate) fn close(&mut self, element: usize) {
        let len = u32::try_from(self.nodes.len()).expect("fewer nodes than bytes of text");
        if let Node::Element { end, .. } = &mut self.nodes[element] {
            *end = len;
        }
    }

    /// The stanza built so far, in exactly-sized buffers (the builder keeps its own).
    pub(crate) fn finish_copy(&self) -> Stanza {
        Stanza {
            text: self.text.as_str().to_owned(),
            nodes: self.nodes.clone(),
        }
    }

    /// The stanza built, taking the builder's buffers.
    pub(crate) fn finish(self) -> Stanza {
        Stanza {
            text: self.text,
            nodes: self.nodes,
        }
    }

    /// Appends `el` and its content. Each distinct namespace is stored once
    /// (`namespaces`), so a stanza's text never outgrows the element's own strings.
    fn element(
        &mut self,
        el: &Element,
        parent_ns: Option<Span>,
        namespaces: &mut HashMap<String, Span>,
    ) {
        let name = self.push_str(el.name());
        let ns = match parent_ns {
            Some(span) if el.has_ns(self.str(span)) => span,
            _ => self.namespace(el.ns(), namespaces),
        };
        let index = self.open(name, ns);
        for ((attr_ns, attr_name), value) in el.attrs() {
            let ns = if attr_ns.is_none() {
                Span::default()
            } else {
                self.namespace(attr_ns.as_str().to_owned(), namespaces)
            };
            let name = self.push_str(attr_name.as_str());
            let value = self.push_str(value);
            self.attr(index, ns, name, value);
        }
        let mut last_text: Option<Span> = None;
        for node in el.nodes() {
            match node {
                minidom::Node::Element(child) => {
                    self.element(child, Some(ns), namespaces);
                    last_text = None;
                }
                minidom::Node::Text(text) if text.is_empty() => {}
                minidom::Node::Text(text) => {
                    let more = self.push_str(text);
                    match (last_text, self.nodes.last_mut()) {
                        // Adjacent text nodes read as one, as in a parsed stanza; the
                        // previous text was the last thing written, so the spans touch.
                        (Some(previous), Some(Node::Text(last))) => {
                            *last = Span {
                                start: previous.start,
                                end: more.end,
                            };
                        }
                        _ => self.text(more),
                    }
                    if let Some(Node::Text(last)) = self.nodes.last() {
                        last_text = Some(*last);
                    }
                }
            }
        }
        self.close(index);
    }

    fn namespace(&mut self, ns: String, namespaces: &mut HashMap<String, Span>) -> Span {
        if let Some(span) = namespaces.get(&ns) {
            return *span;
        }
        let span = self.push_str(&ns);
        namespaces.insert(ns, span);
        span
    }
}
