//! A minimal XML stream reader for the scripted server: top-level elements of the client's
//! stream as `minidom::Element`s. The server trusts its test client only as far as
//! rxml's well-formedness checks go; it is not the code under test.

use minidom::Element;
use minidom::rxml::{self, Parse};

/// What the client's stream produced.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// `<stream:stream ...>` with its `to` and `from` attributes.
    Header {
        /// The `to` attribute.
        to: Option<String>,
        /// The `from` attribute (XEP-0388 and XEP-0484 clients name their bare JID there).
        from: Option<String>,
    },
    /// A complete top-level element.
    Element(Element),
    /// `</stream:stream>`.
    Close,
}

/// Push parser for one stream of the client.
#[derive(Debug, Default)]
pub struct ClientStream {
    parser: rxml::Parser,
    stack: Vec<Element>,
    depth: usize,
    started: bool,
}

impl ClientStream {
    /// A fresh stream (after TLS and SASL the client starts a new one).
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether any byte was read on this stream.
    pub fn started(&self) -> bool {
        self.started
    }

    /// Feeds bytes; returns the complete events.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<ClientEvent>, String> {
        let mut input = bytes;
        let mut out = Vec::new();
        while let Some(ev) = self.next_event(&mut input)? {
            out.push(ev);
        }
        Ok(out)
    }

    /// Reads from `input` up to the end of the next complete event and returns it, leaving
    /// `input` just after it; `None` once `input` is used up without completing one. A
    /// server that must switch parsers at an element (`<starttls/>`, SASL `<success/>`)
    /// reads one event at a time, so that the bytes after it are not swallowed by the old
    /// stream.
    pub fn next_event(&mut self, input: &mut &[u8]) -> Result<Option<ClientEvent>, String> {
        self.started |= !input.is_empty();
        let mut out = Vec::new();
        loop {
            match self.parser.parse(input, false) {
                Ok(Some(ev)) => {
                    self.on_event(ev, &mut out);
                    if let Some(done) = out.pop() {
                        return Ok(Some(done));
                    }
                }
                Ok(None) => return Ok(None),
                Err(rxml::error::EndOrError::NeedMoreData) => return Ok(None),
                Err(e) => return Err(format!("{e:?}")),
            }
        }
    }

    fn on_event(&mut self, ev: rxml::Event, out: &mut Vec<ClientEvent>) {
        match ev {
            rxml::Event::XmlDeclaration(..) => {}
            rxml::Event::StartElement(_, (ns, name), attrs) => {
                self.depth += 1;
                if self.depth == 1 {
                    let attr = |name: &str| {
                        attrs
                            .iter()
                            .find(|((ans, an), _)| ans.is_empty() && an.as_str() == name)
                            .map(|(_, v)| v.clone())
                    };
                    let (to, from) = (attr("to"), attr("from"));
                    out.push(ClientEvent::Header { to, from });
                    return;
                }
                let mut el = Element::builder(name.as_str(), ns.as_str()).build();
                *el.attrs_mut() = attrs;
                self.stack.push(el);
            }
            rxml::Event::EndElement(_) => {
                self.depth -= 1;
                if self.depth == 0 {
                    out.push(ClientEvent::Close);
                    return;
                }
                let el = self.stack.pop().expect("balanced by rxml");
                match self.stack.last_mut() {
                    Some(parent) => {
                        parent.append_child(el);
                    }
                    None => out.push(ClientEvent::Element(el)),
                }
            }
            rxml::Event::Text(_, text) => {
                if let Some(top) = self.stack.last_mut() {
                    top.append_text(text);
                }
            }
        }
    }
}
