//! The scripted server behind XMPP-over-WebSocket framing (RFC 7395), for the core's
//! WebSocket tests: [`WsServer`] takes the client's messages one by one, checks that each is
//! exactly one complete element, turns `<open/>` / `<close/>` into the stream header and
//! close the [`ScriptedServer`] speaks, and hands the server's stream back cut into
//! messages, one element each, `<open/>` for its header and `<close/>` for its close.
//!
//! The connection is a secure WebSocket (`wss:`): the server starts after TLS, so it
//! offers no STARTTLS.

use minidom::Element;

use crate::profile::ServerProfile;
use crate::server::ScriptedServer;
use crate::xml_in::{ClientEvent, ClientStream};

/// The framing namespace.
pub const NS_FRAMING: &str = "urn:ietf:params:xml:ns:xmpp-framing";

/// What a message is read inside of, to parse it alone.
const WRAPPER: &str =
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

/// A [`ScriptedServer`] seen through WebSocket framing.
#[derive(Debug)]
pub struct WsServer {
    /// The server behind the framing.
    pub server: ScriptedServer,
    /// Reads the server's current stream, to cut it into messages.
    from_server: ClientStream,
    /// The server's messages not taken yet.
    pending: Vec<Vec<u8>>,
    /// Every message the client sent, in order.
    pub received: Vec<String>,
}

/// Parses one message alone: exactly one complete element, or why not.
pub fn one_element(message: &[u8]) -> Result<Element, String> {
    let mut stream = ClientStream::new();
    let mut events = stream.feed(WRAPPER.as_bytes())?;
    events.extend(stream.feed(message)?);
    let text = String::from_utf8_lossy(message);
    match events.as_slice() {
        [ClientEvent::Header { .. }, ClientEvent::Element(el)] => {
            // Nothing of a second element may follow the first.
            let end = stream.feed(b"</stream:stream>")?;
            match end.as_slice() {
                [ClientEvent::Close] => Ok(el.clone()),
                _ => Err(format!("more than one element in {text:?}")),
            }
        }
        _ => Err(format!("not one complete element: {text:?}")),
    }
}

fn serialise(el: &Element) -> Vec<u8> {
    let mut out = Vec::new();
    el.write_to(&mut out).expect("writing to a Vec");
    out
}

impl WsServer {
    /// A server playing `profile` on a secure WebSocket.
    pub fn new(profile: ServerProfile) -> Self {
        let mut server = ScriptedServer::new(profile);
        server.tls_done();
        WsServer {
            server,
            from_server: ClientStream::new(),
            pending: Vec::new(),
            received: Vec::new(),
        }
    }

    /// One message of the client. Panics when it is not exactly one complete element, or
    /// when it is a stream header or a `</stream:stream>` (TCP framing on a WebSocket).
    pub fn client_message(&mut self, message: &[u8]) {
        let text = String::from_utf8_lossy(message).into_owned();
        assert!(
            !text.contains("<stream:stream") && !text.contains("</stream:stream>"),
            "TCP framing in a WebSocket message: {text}"
        );
        let el = one_element(message).unwrap_or_else(|e| panic!("{e}"));
        self.received.push(text);
        if el.is("open", NS_FRAMING) {
            // A new stream: what the server said on the old one is cut first.
            self.cut_output();
            self.from_server = ClientStream::new();
            let mut header = String::from(
                "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
                 xmlns:stream='http://etherx.jabber.org/streams'",
            );
            for name in ["to", "from", "version"] {
                if let Some(value) = el.attr(name) {
                    header.push_str(&format!(" {name}='{value}'"));
                }
            }
            header.push('>');
            self.server.handle_input(header.as_bytes());
        } else if el.is("close", NS_FRAMING) {
            self.server.handle_input(b"</stream:stream>");
        } else {
            self.server.handle_input(message);
        }
    }

    /// Sends `message` to the client as it is (tests inject broken framing with this).
    pub fn send_message(&mut self, message: impl Into<Vec<u8>>) {
        self.cut_output();
        self.pending.push(message.into());
    }

    /// The server's messages since the last call.
    pub fn take_messages(&mut self) -> Vec<Vec<u8>> {
        self.cut_output();
        std::mem::take(&mut self.pending)
    }

    fn cut_output(&mut self) {
        let out = self.server.take_output();
        let events = self
            .from_server
            .feed(&out)
            .unwrap_or_else(|e| panic!("the scripted server's stream does not parse: {e}"));
        for event in events {
            let message = match event {
                ClientEvent::Header { from, .. } => {
                    let from = from.map(|f| format!(" from='{f}'")).unwrap_or_default();
                    format!("<open xmlns='{NS_FRAMING}'{from} id='ws' version='1.0'/>").into_bytes()
                }
                ClientEvent::Element(el) => serialise(&el),
                ClientEvent::Close => format!("<close xmlns='{NS_FRAMING}'/>").into_bytes(),
            };
            self.pending.push(message);
        }
    }
}
