//! A tiny scripted XMPP server on loopback for the adapter and CLI tests: plain TCP,
//! STARTTLS or direct TLS with a CA and a `localhost` certificate made by rcgen, PLAIN
//! authentication for `alice@localhost` / `secret`, resource binding.
#![allow(dead_code, unreachable_pub)]

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// base64("\0alice\0secret"): the PLAIN payload the server accepts.
pub const ALICE_PLAIN: &str = "AGFsaWNlAHNlY3JldA==";

const SERVER_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='s1' version='1.0'>";

/// A test CA and a server configuration with a leaf certificate for `localhost` it signed.
pub struct Pki {
    pub ca_pem: String,
    pub server: Arc<ServerConfig>,
    pub server_direct: Arc<ServerConfig>,
}

pub fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Herald test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    let mut direct = config.clone();
    direct.alpn_protocols = vec![b"xmpp-client".to_vec()];
    Pki {
        ca_pem: ca_cert.pem(),
        server: Arc::new(config),
        server_direct: Arc::new(direct),
    }
}

/// Writes `contents` to a fresh file under the temp dir and returns its path.
pub fn temp_file(name: &str, contents: &str) -> std::path::PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "herald-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
    Gone,
}

/// One accepted connection, with everything the client sent kept in `received`.
pub struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    pub received: Arc<Mutex<String>>,
    /// The `<item/>`s of the roster a roster fetch gets (empty by default).
    pub roster_items: String,
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match &self.stream {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(s) => s.get_ref(),
            Stream::Gone => panic!("connection gone"),
        }
    }

    fn read_some(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 4096];
        let n = match &mut self.stream {
            Stream::Plain(tcp) => tcp.read(&mut chunk)?,
            Stream::Tls(s) => s.read(&mut chunk)?,
            Stream::Gone => 0,
        };
        self.buf.extend_from_slice(&chunk[..n]);
        self.received
            .lock()
            .unwrap()
            .push_str(&String::from_utf8_lossy(&chunk[..n]));
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
        let before = self.expect("<presence")?;
        drop(before);
        let head = self.expect(">")?;
        if head.ends_with("/>") {
            return Ok(format!("<presence{head}"));
        }
        let rest = self.expect("</presence>")?;
        Ok(format!("<presence{head}{rest}"))
    }

    pub fn send(&mut self, text: &str) -> io::Result<()> {
        match &mut self.stream {
            Stream::Plain(tcp) => tcp.write_all(text.as_bytes()),
            Stream::Tls(s) => {
                s.write_all(text.as_bytes())?;
                s.flush()
            }
            Stream::Gone => Ok(()),
        }
    }

    /// The server side of a TLS handshake on this connection.
    pub fn start_tls(&mut self, config: Arc<ServerConfig>) -> io::Result<()> {
        let Stream::Plain(mut tcp) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            panic!("start_tls on a TLS connection");
        };
        let mut conn = ServerConnection::new(config).map_err(io::Error::other)?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        self.stream = Stream::Tls(Box::new(StreamOwned::new(conn, tcp)));
        Ok(())
    }

    /// Drops the connection without a stream close (a crash, as the client sees it).
    pub fn drop_connection(&mut self) {
        let _ = self.tcp().shutdown(std::net::Shutdown::Both);
        self.stream = Stream::Gone;
    }

    fn open_stream(&mut self, features: &str) -> io::Result<()> {
        self.expect("version='1.0'>")?;
        self.send(SERVER_HEADER)?;
        self.send(&format!("<stream:features>{features}</stream:features>"))
    }

    /// STARTTLS (when `tls` is given), PLAIN for alice/secret, bind. Returns the initial
    /// presence, or `Err` when a step failed (the transcript says what the client sent).
    pub fn login(&mut self, tls: Option<&Arc<ServerConfig>>) -> io::Result<String> {
        if let Some(config) = tls {
            self.open_stream(
                "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>",
            )?;
            self.expect("<starttls")?;
            self.expect("/>")?;
            self.send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")?;
            self.start_tls(config.clone())?;
        }
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

    /// Answers IQ requests (a roster fetch gets [`Conn::roster_items`]) until the client sends a
    /// presence, and returns that presence.
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

    /// Answers the client's close: reads its unavailable presence and `</stream:stream>`,
    /// then closes ours.
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

/// A server on a free loopback port that runs `script` for each connection in turn.
pub struct FakeServer {
    pub port: u16,
    pub accepted: Arc<AtomicUsize>,
    /// What the client sent on each connection.
    pub transcripts: Arc<Mutex<Vec<Arc<Mutex<String>>>>>,
}

impl FakeServer {
    pub fn start<F>(script: F) -> FakeServer
    where
        F: Fn(usize, &mut Conn) + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let transcripts = Arc::new(Mutex::new(Vec::new()));
        let (count, logs) = (accepted.clone(), transcripts.clone());
        std::thread::spawn(move || {
            for (index, stream) in listener.incoming().enumerate() {
                let Ok(tcp) = stream else { continue };
                tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                let received = Arc::new(Mutex::new(String::new()));
                logs.lock().unwrap().push(received.clone());
                let mut conn = Conn {
                    stream: Stream::Plain(tcp),
                    buf: Vec::new(),
                    received,
                    roster_items: String::new(),
                };
                script(index, &mut conn);
            }
        });
        FakeServer {
            port,
            accepted,
            transcripts,
        }
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// What the client sent on connection `index` so far.
    pub fn transcript(&self, index: usize) -> String {
        self.transcripts.lock().unwrap()[index]
            .lock()
            .unwrap()
            .clone()
    }
}
