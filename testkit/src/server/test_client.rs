//! A client written by hand for the server's own tests: its messages are literal XML, and
//! its cryptography uses `hmac`/`sha2` directly, not the server's helpers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::ScriptedServer;
use crate::profile::ServerProfile;

/// XEP-0388's example user agent.
pub(super) const UA: &str = "d4565fa7-4d72-4749-b3d3-740edbf87770";

/// A client stream header, with `from` (XEP-0388 section 2.1) or without.
pub(super) fn header(from: Option<&str>) -> String {
    let from = from.map(|f| format!(" from='{f}'")).unwrap_or_default();
    format!(
        "<?xml version='1.0'?><stream:stream{from} to='localhost' version='1.0' \
         xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
    )
}

/// The server's answer to a header on stream `n` (its `id` is `s{n}`), without features.
pub(super) fn server_header(n: usize, to: Option<&str>) -> String {
    let to = to.map(|t| format!(" to='{t}'")).unwrap_or_default();
    format!(
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
         xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='s{n}'{to} \
         version='1.0' xml:lang='en'>"
    )
}

/// A server playing `profile`, past a (simulated) TLS handshake.
pub(super) fn after_tls(profile: ServerProfile) -> ScriptedServer {
    let mut server = ScriptedServer::new(profile);
    server.tls_done();
    server
}

/// What the server said since last asked, as text.
pub(super) fn said(server: &mut ScriptedServer) -> String {
    String::from_utf8(server.take_output()).expect("the server speaks UTF-8")
}

/// Feeds `xml` as one write of the client and returns the server's answer.
pub(super) fn write(server: &mut ScriptedServer, xml: &str) -> String {
    server.handle_input(xml.as_bytes());
    said(server)
}

pub(super) fn b64(bytes: impl AsRef<[u8]>) -> String {
    BASE64.encode(bytes)
}

/// PLAIN's message for the profile's account.
pub(super) fn plain() -> String {
    b64("\0alice\0wonderland")
}

/// HMAC-SHA-256(key, parts...).
pub(super) fn hmac256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The text of the first `<name ...>text</name>` in `xml`.
pub(super) fn text_of(xml: &str, name: &str) -> Option<String> {
    let open = xml.find(&format!("<{name}"))?;
    let start = open + xml[open..].find('>')? + 1;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(xml[start..end].to_string())
}

/// The value of the first `attr='...'` in `xml`.
pub(super) fn attr_of(xml: &str, attr: &str) -> Option<String> {
    let start = xml.find(&format!(" {attr}='"))? + attr.len() + 3;
    let end = start + xml[start..].find('\'')?;
    Some(xml[start..end].to_string())
}
