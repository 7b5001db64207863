//! A minimal XML stream reader for the scripted server: top-level elements of the client's
//! stream as `minidom::Element`s. The server trusts its test client only as far as
//! rxml's well-formedness checks go; it is not the code under test.

use minidom::Element;
use minidom::rxml::{self, Parse};

/// What the client's stream produced.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// `<stream:stream ...>` with its `to` attribute.
    Header {
        /// The `to` attribute.
        to: Option<String>,
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
}

impl ClientStream {
    /// A fresh stream (after TLS and SASL the client starts a new one).
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; returns the complete events.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<ClientEvent>, String> {
        let mut input = bytes;
        let mut out = Vec::new();
        loop {
            match self.parser.parse(&mut input, false) {
                Ok(Some(ev)) => self.on_event(ev, &mut out),
                Ok(None) => break,
                Err(rxml::error::EndOrError::NeedMoreData) => break,
                Err(e) => return Err(format!("{e:?}")),
            }
        }
        Ok(out)
    }

    fn on_event(&mut self, ev: rxml::Event, out: &mut Vec<ClientEvent>) {
        match ev {
            rxml::Event::XmlDeclaration(..) => {}
            rxml::Event::StartElement(_, (ns, name), attrs) => {
                self.depth += 1;
                if self.depth == 1 {
                    let to = attrs
                        .iter()
                        .find(|((ans, an), _)| ans.is_empty() && an.as_str() == "to")
                        .map(|(_, v)| v.clone());
                    out.push(ClientEvent::Header { to });
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
