//! The SASL2 + Bind2 Prosody (`Prosody::start_with_sasl2`: Debian's prosody-modules on
//! Prosody 0.12.3, with the local `mod_herald_ssl_info`) spoken to by hand, byte by byte:
//! STARTTLS with rustls, then a SASL2 SCRAM-SHA-1 exchange with an inline Bind2 request
//! (XEP-0388, XEP-0386). What the 2023 `mod_sasl2` does after `<success>`: it sends
//! `<stream:features>` again on the same stream, no stream restart, and those features
//! still ask for an RFC 6120 bind. A missing server or module package fails the test; it
//! never skips.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use herald_io::tls::TlsConfigs;
use herald_testkit::real::{Prosody, RealServer};
use herald_testkit::scram_server::{Hash, attributes};
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};

const ACCOUNTS: &[(&str, &str)] = &[("alice", "alice-pw"), ("bob", "bob-pw")];
const WAIT: Duration = Duration::from_secs(10);
const HEADER: &str = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' \
    xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

trait Socket: Read + Write {}
impl<T: Read + Write> Socket for T {}

/// One hand-driven client connection: what it read and did not consume yet.
struct Raw {
    socket: Box<dyn Socket>,
    buf: Vec<u8>,
    /// Everything read, for failure messages.
    log: String,
}

impl Raw {
    fn send(&mut self, text: &str) {
        self.socket.write_all(text.as_bytes()).expect("write");
        self.socket.flush().expect("flush");
    }

    /// Reads until `needle`; returns (and consumes) everything up to its end.
    fn until(&mut self, needle: &str) -> String {
        self.until_one_of(&[needle])
    }

    /// Reads until one of `needles`; returns (and consumes) everything up to the end of the
    /// first found.
    fn until_one_of(&mut self, needles: &[&str]) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = String::from_utf8_lossy(&self.buf).into_owned();
            let found = needles
                .iter()
                .filter_map(|n| text.find(n).map(|i| i + n.len()))
                .min();
            if let Some(end) = found {
                self.buf.drain(..end);
                return text[..end].to_string();
            }
            assert!(
                Instant::now() < deadline,
                "none of {needles:?} within {WAIT:?}; read so far:\n{}",
                self.log
            );
            let mut chunk = [0u8; 8192];
            match self.socket.read(&mut chunk) {
                Ok(0) => panic!("EOF waiting for {needles:?}; read so far:\n{}", self.log),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    self.log.push_str(&String::from_utf8_lossy(&chunk[..n]));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("read: {e}; read so far:\n{}", self.log),
            }
        }
    }
}

/// Connects, negotiates STARTTLS, and returns the TLS stream with the post-TLS features.
fn starttls(server: &Prosody) -> (Raw, String) {
    let tcp = TcpStream::connect((Ipv4Addr::LOCALHOST, server.port())).expect("connect");
    tcp.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut raw = Raw {
        socket: Box::new(tcp.try_clone().expect("clone")),
        buf: Vec::new(),
        log: String::new(),
    };
    raw.send(HEADER);
    let features = raw.until("</stream:features>");
    assert!(features.contains("<starttls"), "{features}");
    raw.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    raw.until("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    let tls = TlsConfigs::load(Some(server.ca_pem_path())).expect("TLS config");
    let name = ServerName::try_from("localhost").expect("name");
    let conn = ClientConnection::new(tls.starttls, name).expect("TLS client");
    raw.socket = Box::new(StreamOwned::new(conn, tcp));
    raw.log.push_str("\n[TLS]\n");
    raw.send(HEADER);
    let features = raw.until("</stream:features>");
    (raw, features)
}

/// The content of the first `<name>...</name>` in `xml`.
fn text_of<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = xml.find(&format!("<{name}"))?;
    let start = open + xml[open..].find('>')? + 1;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..end])
}

fn prosody() -> Prosody {
    Prosody::start_with_sasl2(ACCOUNTS, false)
        .unwrap_or_else(|e| panic!("Prosody with prosody-modules is required: {e}"))
}

#[test]
fn after_starttls_the_features_offer_sasl2_with_inline_bind2() {
    let server = prosody();
    let (_raw, features) = starttls(&server);
    eprintln!("prosody features after TLS: {features}");
    assert!(
        features.contains("<authentication xmlns='urn:xmpp:sasl:2'>"),
        "no SASL2 in the features: {features}\n{}",
        server.log_tail()
    );
    let sasl2 = text_of(&features, "authentication").expect("authentication element");
    assert!(
        sasl2.contains("<mechanism>SCRAM-SHA-1</mechanism>"),
        "{sasl2}"
    );
    let inline = text_of(sasl2, "inline").expect("inline element");
    assert!(
        inline.contains("<bind xmlns='urn:xmpp:bind:0'>"),
        "{inline}"
    );
    // The RFC 6120 SASL stays offered next to it: today's clients log in as before.
    assert!(
        features.contains("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"),
        "{features}"
    );
}

#[test]
fn sasl2_scram_with_inline_bind2_ends_bound_without_a_stream_restart() {
    let server = prosody();
    let (mut raw, _features) = starttls(&server);
    let hash = Hash::Sha1;
    let nonce = "herald-test-nonce-4f2a";
    let client_first_bare = format!("n=alice,r={nonce}");
    raw.send(&format!(
        "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-1'>\
         <initial-response>{}</initial-response>\
         <user-agent id='d4565fa7-4d72-4749-b3d3-740edbf87770'><software>herald-test</software>\
         <device>loopback</device></user-agent>\
         <bind xmlns='urn:xmpp:bind:0'><tag>herald</tag></bind></authenticate>",
        BASE64.encode(format!("n,,{client_first_bare}"))
    ));
    let challenge = raw.until("</challenge>");
    assert!(
        challenge.contains("<challenge xmlns='urn:xmpp:sasl:2'>"),
        "{challenge}"
    );
    let server_first = String::from_utf8(
        BASE64
            .decode(text_of(&challenge, "challenge").expect("challenge text"))
            .expect("base64"),
    )
    .expect("UTF-8");
    let attrs = attributes(&server_first);
    let get = |k: char| {
        attrs
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {k}= in {server_first}"))
    };
    let (combined, salt, iterations) = (get('r'), get('s'), get('i'));
    assert!(combined.starts_with(nonce), "{server_first}");
    let salted = hash.hi(
        b"alice-pw",
        &BASE64.decode(salt).expect("salt"),
        iterations.parse().expect("iterations"),
    );
    let client_key = hash.hmac(&salted, b"Client Key");
    let without_proof = format!("c=biws,r={combined}");
    let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
    let signature = hash.hmac(&hash.digest(&client_key), auth_message.as_bytes());
    let proof: Vec<u8> = client_key
        .iter()
        .zip(&signature)
        .map(|(k, s)| k ^ s)
        .collect();
    raw.send(&format!(
        "<response xmlns='urn:xmpp:sasl:2'>{}</response>",
        BASE64.encode(format!("{without_proof},p={}", BASE64.encode(proof)))
    ));

    let success = raw.until("</success>");
    assert!(
        success.contains("<success xmlns='urn:xmpp:sasl:2'>"),
        "{success}\n{}",
        server.log_tail()
    );
    // The server's signature comes as additional data, and it is the right one.
    let server_final = String::from_utf8(
        BASE64
            .decode(text_of(&success, "additional-data").expect("additional-data"))
            .expect("base64"),
    )
    .expect("UTF-8");
    let server_key = hash.hmac(&salted, b"Server Key");
    let expected_v = BASE64.encode(hash.hmac(&server_key, auth_message.as_bytes()));
    assert_eq!(server_final, format!("v={expected_v}"));
    // Bound inline, to a resource made of the tag: `herald~` and a hash of the user agent.
    let jid = text_of(&success, "authorization-identifier").expect("authorization-identifier");
    assert!(jid.starts_with("alice@localhost/herald~"), "{success}");
    assert!(
        success.contains("<bound xmlns='urn:xmpp:bind:0'"),
        "{success}"
    );

    // No stream restart: the features come again on the same stream, without SASL. They
    // still ask for an RFC 6120 bind (`<required/>`) and offer `<session/>`, although the
    // resource is bound: 0.12's mod_saslauth adds them to every authenticated stream's
    // features. A client that bound inline must not bind again.
    let features = raw.until_one_of(&["</stream:features>", "<stream:features/>"]);
    eprintln!("prosody after SASL2 success: {success}{features}");
    assert!(!features.contains("<stream:stream"), "{features}");
    assert!(!features.contains("urn:xmpp:sasl:2"), "{features}");
    assert!(
        features.contains("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><required/></bind>"),
        "{features}"
    );

    // And the session is usable at once: the roster answers.
    raw.send("<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>");
    let result = raw.until("</iq>");
    assert!(
        result.contains("id='roster1'") && result.contains("type='result'"),
        "{result}"
    );
}
