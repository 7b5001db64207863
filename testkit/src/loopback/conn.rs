//! One accepted connection of the [`LoopbackServer`](super::LoopbackServer), played by a
//! test script step by step (`expect`, `send`, `start_tls`, a hand-written PLAIN login) or
//! by the scripted server ([`Conn::serve`](super::Conn::serve)).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use rustls::{ServerConfig, ServerConnection, StreamOwned};

use super::ConnectionLog;
use crate::pki::Pki;

/// base64("\0alice\0secret"): the PLAIN payload the hand-written login accepts.
pub const ALICE_PLAIN: &str = "AGFsaWNlAHNlY3JldA==";

const SERVER_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='s1' version='1.0'>";

pub(super) enum Socket {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
    Gone,
}

/// One accepted connection; everything the client sends is kept in its [`ConnectionLog`].
pub struct Conn {
    pub(super) socket: Socket,
    buf: Vec<u8>,
    pub(super) log: Arc<Mutex<ConnectionLog>>,
    pki: Arc<Pki>,
    pub(super) stop: Arc<AtomicBool>,
    /// The `<item/>`s of the roster a roster fetch gets in the hand-written login (empty by
    /// default).
    pub roster_items: String,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("tls", &matches!(self.socket, Socket::Tls(_)))
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl Conn {
    pub(super) fn new(
        tcp: TcpStream,
        log: Arc<Mutex<ConnectionLog>>,
        pki: Arc<Pki>,
        stop: Arc<AtomicBool>,
    ) -> Conn {
        Conn {
            socket: Socket::Plain(tcp),
            buf: Vec::new(),
            log,
            pki,
            stop,
            roster_items: String::new(),
        }
    }

    /// Reads what is there (blocking up to the socket's read timeout) and logs it.
    pub(super) fn read_raw(&mut self, chunk: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.socket {
            Socket::Plain(tcp) => tcp.read(chunk)?,
            Socket::Tls(s) => s.read(chunk)?,
            Socket::Gone => 0,
        };
        let mut log = self.log.lock().expect("log lock");
        log.sent.extend_from_slice(&chunk[..n]);
        if matches!(self.socket, Socket::Plain(_)) {
            log.plaintext.extend_from_slice(&chunk[..n]);
        }
        Ok(n)
    }

    fn read_some(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 4096];
        let n = self.read_raw(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// Reads until `needle` arrives; returns (and consumes) everything up to its end.
    pub fn expect(&mut self, needle: &str) -> io::Result<String> {
        loop {
            let text = String::from_utf8_lossy(&self.buf).into_owned();
            if let Some(i) = text.find(needle) {
                let end = i + needle.len();
                self.buf.drain(..end);
                return Ok(text[..end].to_string());
            }
            if self.read_some()? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("EOF while waiting for {needle:?}; have {text:?}"),
                ));
            }
        }
    }

    /// Reads one `<presence .../>` or `<presence>...</presence>` and returns it.
    pub fn expect_presence(&mut self) -> io::Result<String> {
        self.expect("<presence")?;
        let head = self.expect(">")?;
        if head.ends_with("/>") {
            return Ok(format!("<presence{head}"));
        }
        let rest = self.expect("</presence>")?;
        Ok(format!("<presence{head}{rest}"))
    }

    /// Writes `text` to the client.
    pub fn send(&mut self, text: &str) -> io::Result<()> {
        self.write(text.as_bytes())
    }

    pub(super) fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.socket {
            Socket::Plain(tcp) => tcp.write_all(bytes),
            Socket::Tls(s) => {
                s.write_all(bytes)?;
                s.flush()
            }
            Socket::Gone => Ok(()),
        }
    }

    /// The server side of the TLS handshake after `<proceed/>`.
    pub fn start_tls(&mut self) -> io::Result<()> {
        self.handshake(self.pki.server_config())
    }

    /// The server side of a direct TLS handshake (XEP-0368, ALPN `xmpp-client`), before
    /// any XMPP.
    pub fn accept_direct_tls(&mut self) -> io::Result<()> {
        self.handshake(self.pki.direct_tls_config())
    }

    fn handshake(&mut self, config: Arc<ServerConfig>) -> io::Result<()> {
        let Socket::Plain(mut tcp) = std::mem::replace(&mut self.socket, Socket::Gone) else {
            panic!("a TLS handshake on a connection that is not plain TCP");
        };
        let mut conn = ServerConnection::new(config).map_err(io::Error::other)?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        self.socket = Socket::Tls(Box::new(StreamOwned::new(conn, tcp)));
        Ok(())
    }

    /// Drops the connection without a stream close (a crash, as the client sees it).
    pub fn drop_connection(&mut self) {
        let tcp = match &self.socket {
            Socket::Plain(tcp) => Some(tcp),
            Socket::Tls(s) => Some(s.get_ref()),
            Socket::Gone => None,
        };
        if let Some(tcp) = tcp {
            let _ = tcp.shutdown(Shutdown::Both);
        }
        self.socket = Socket::Gone;
    }

    fn open_stream(&mut self, features: &str) -> io::Result<()> {
        self.expect("version='1.0'>")?;
        self.send(SERVER_HEADER)?;
        self.send(&format!("<stream:features>{features}</stream:features>"))
    }

    /// A hand-written login: STARTTLS, PLAIN for alice/secret, bind. Returns the initial
    /// presence, or `Err` when a step failed (the log says what the client sent).
    pub fn login(&mut self) -> io::Result<String> {
        self.open_stream(
            "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>",
        )?;
        self.expect("<starttls")?;
        self.expect("/>")?;
        self.send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")?;
        self.start_tls()?;
        self.authenticate_and_bind()
    }

    /// PLAIN and bind, from the first stream header on (the transport is already set).
    pub fn authenticate_and_bind(&mut self) -> io::Result<String> {
        self.open_stream(
            "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>",
        )?;
        let auth = self.expect("</auth>")?;
        if !auth.contains(ALICE_PLAIN) {
            self.send(
                "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
            )?;
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "bad password",
            ));
        }
        self.send("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")?;
        self.open_stream("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>")?;
        let iq = self.expect("</iq>")?;
        let id = attr(&iq, "id").unwrap_or_default();
        self.send(&format!(
            "<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
             <jid>alice@localhost/desk</jid></bind></iq>"
        ))?;
        self.answer_iqs_until_presence()
    }

    /// Answers IQ requests (a roster fetch gets [`Conn::roster_items`]) until the client
    /// sends a presence, and returns that presence.
    pub fn answer_iqs_until_presence(&mut self) -> io::Result<String> {
        loop {
            let text = String::from_utf8_lossy(&self.buf).into_owned();
            let presence = text.find("<presence");
            let iq = text.find("<iq");
            match (presence, iq) {
                (Some(p), Some(i)) if i < p => self.answer_iq()?,
                (Some(_), _) => return self.expect_presence(),
                (None, Some(_)) => self.answer_iq()?,
                (None, None) => {
                    if self.read_some()? == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                }
            }
        }
    }

    fn answer_iq(&mut self) -> io::Result<()> {
        self.expect("<iq")?;
        let head = self.expect(">")?;
        if !head.ends_with("/>") {
            self.expect("</iq>")?;
        }
        let id = attr(&format!("<iq{head}"), "id").unwrap_or_default();
        let body = if head.contains("'get'") || head.contains("\"get\"") {
            format!(
                "<query xmlns='jabber:iq:roster'>{}</query>",
                self.roster_items
            )
        } else {
            String::new()
        };
        self.send(&format!("<iq type='result' id='{id}'>{body}</iq>"))
    }

    /// Answers the client's close: reads up to its `</stream:stream>`, then closes ours.
    pub fn answer_close(&mut self) -> io::Result<()> {
        self.expect("</stream:stream>")?;
        self.send("</stream:stream>")
    }
}

/// The value of attribute `name` in the first tag of `xml`.
pub fn attr(xml: &str, name: &str) -> Option<String> {
    for quote in ['\'', '"'] {
        let pattern = format!(" {name}={quote}");
        if let Some(i) = xml.find(&pattern) {
            let rest = &xml[i + pattern.len()..];
            return rest.find(quote).map(|end| rest[..end].to_string());
        }
    }
    None
}
