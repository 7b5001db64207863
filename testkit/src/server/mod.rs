//! A scripted XMPP server that is itself sans-IO: client bytes in, server bytes out. It
//! plays the login the way a profile says (STARTTLS; RFC 6120 SASL or SASL2 with SCRAM,
//! PLAIN or a FAST token; RFC 6120 binding or Bind 2; optional session), records every
//! element the client sent, and lets tests inject or alter what it says.
//!
//! Like Prosody, it reads the client's stream strictly in order and answers each element
//! as it comes, whether or not the client waited for the previous answer: a client may
//! pipeline `<starttls/>` behind its stream header, `<auth/>` behind the header after TLS,
//! and bind, roster get and initial presence behind the header after SASL. What a real
//! server could not serve is refused the way one would refuse it, and noted in
//! [`ScriptedServer::violations`]:
//!
//! - bytes after `<starttls/>` in the same write (a real server hands them to TLS as a
//!   broken handshake): dropped;
//! - bytes after an RFC 6120 `<auth/>` or `<response/>` that succeeded, in the same write
//!   (the client restarted the stream before it could see `<success/>`; the server's
//!   parser is not reset yet): stream error `not-well-formed`;
//! - authentication before the required STARTTLS: SASL failure `encryption-required`
//!   (RFC 6120 section 6.5.5);
//! - a stanza before authentication (RFC 6120 section 4.9.3.12), including during a SASL2
//!   exchange (XEP-0388 section 2.5: "Servers MUST disconnect"): stream error
//!   `not-authorized`;
//! - an `<auth/>` to a server without RFC 6120 SASL, an `<authenticate/>` to one without
//!   SASL2: stream error `unsupported-stanza-type` (Prosody's answer to unknown elements);
//! - bytes that do not parse: stream error `not-well-formed`;
//! - a CSI nonza (XEP-0352) to a server that does not offer CSI: stream error
//!   `unsupported-stanza-type`; before a resource is bound: noted only;
//! - XEP-0198 misuse: `<enable/>` before binding or twice, `<resume/>` before
//!   authentication or after binding (`<failed>` with `unexpected-request`), `<r/>` or `<a/>`
//!   before SM is on (ignored), a bind after `<resumed/>` (stanza error `not-allowed`), an
//!   `<a h/>` above what was sent (stream error `undefined-condition` with
//!   `<handled-count-too-high/>`), inline `<enable/>` or `<resume/>` not offered (ignored).
//!
//! With [`sm`](crate::ServerProfile::sm) it serves XEP-0198 stream management (module
//! `sm`): it counts stanzas both ways once SM is on (the server's own stanzas go through
//! [`ScriptedServer::send_stanza`]; [`ScriptedServer::send_raw`] is not counted), answers
//! `<r/>`, takes `<a/>`, and keeps its sessions in the profile's
//! [`sm_store`](crate::ServerProfile::sm_store), where a connection lost without a close
//! ([`ScriptedServer::connection_lost`]) leaves one to resume on the next connection.
//!
//! Stanzas after authentication but before a resource is bound are answered as Prosody
//! does, with a stanza error `not-authorized` (so a pipelined roster get behind a refused
//! bind fails, and the presence with it); with [`SessionFeature::Required`](crate::SessionFeature::Required), likewise
//! until the session is established.

mod features;
mod sasl;
mod sasl2;
mod sm;
mod stanzas;

pub mod fast;

#[cfg(test)]
mod fast_tests;
#[cfg(test)]
mod sasl2_tests;
#[cfg(test)]
mod sm_inline_tests;
#[cfg(test)]
mod sm_resume_tests;
#[cfg(test)]
mod sm_tests;
#[cfg(test)]
mod test_client;
#[cfg(test)]
mod tests;

use minidom::Element;

pub use sasl2::bind2_resource;

use crate::profile::ServerProfile;
use crate::xml_in::{ClientEvent, ClientStream};

const NS_TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
const NS_SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_SASL2: &str = "urn:xmpp:sasl:2";
const NS_BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
const NS_BIND2: &str = "urn:xmpp:bind:0";
const NS_FAST: &str = "urn:xmpp:fast:0";
const NS_SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";
const NS_ROSTER: &str = "jabber:iq:roster";
const NS_CLIENT: &str = "jabber:client";
const NS_STREAMS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
const NS_CSI: &str = "urn:xmpp:csi:0";

/// Where the server's side of the login is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerPhase {
    /// Before TLS.
    Plain,
    /// `<proceed/>` sent; the pair must run the (simulated) handshake.
    TlsPending,
    /// TLS in place, not authenticated.
    Tls,
    /// Authenticated.
    Authenticated,
    /// The stream is over: the client closed it, or the server ended it with a stream
    /// error ([`ScriptedServer::stream_error`]). Later input is ignored.
    Closed,
}

/// Whether `input` is the client's stream close (and whitespace): a close that crossed
/// `<proceed/>` on the wire is still a close, not a broken TLS handshake.
fn is_stream_close(input: &[u8]) -> bool {
    String::from_utf8_lossy(input).trim() == "</stream:stream>"
}

/// The scripted server.
#[derive(Debug)]
pub struct ScriptedServer {
    /// The profile it plays.
    pub profile: ServerProfile,
    /// Login phase.
    pub phase: ServerPhase,
    stream: ClientStream,
    out: Vec<u8>,
    /// Every top-level element the client sent, in order.
    pub received: Vec<Element>,
    /// Every byte the client sent, in order.
    pub received_bytes: Vec<u8>,
    /// The client's stream headers seen (one per stream).
    pub headers: usize,
    /// The `from` of the client's last stream header.
    pub stream_from: Option<String>,
    /// Whether the client sent `</stream:stream>`.
    pub client_closed: bool,
    /// Set when the client's bytes did not parse.
    pub parse_error: Option<String>,
    /// The stream error the server ended the stream with, if it did.
    pub stream_error: Option<String>,
    /// What the client did that a real server would not have served (see the module docs),
    /// in order. Empty for a well-behaved client.
    pub violations: Vec<String>,
    /// The full JID bound.
    pub bound: Option<String>,
    /// Whether the RFC 3921 session was established.
    pub session_established: bool,
    sasl: Option<sasl::Exchange>,
    sasl2: Option<sasl2::Pending>,
    /// Whether FAST was offered on the current stream.
    fast_offered: bool,
    restarted: bool,
    mechanism_used: Option<String>,
    /// The mechanism and GS2 header the client authenticated with (empty for PLAIN and
    /// FAST), for RFC 6120 SASL and SASL2 alike.
    pub auth_log: Vec<(String, String)>,
    /// Every SASL2 `<success/>` and `<failure/>` the server sent, in order.
    pub sasl2_outcomes: Vec<String>,
    /// The `ver` of each roster get the client sent (`None`: no versioning), except those
    /// refused for want of a bound resource or a required session.
    pub roster_gets: Vec<Option<String>>,
    pushes: u32,
    /// The SM-ID of the XEP-0198 session this stream serves (its state is in the profile's
    /// [`sm_store`](crate::ServerProfile::sm_store)).
    sm: Option<String>,
    /// Stanzas sent since the server's last `<r/>`.
    sm_since_request: u32,
    /// Whether this stream was resumed rather than bound.
    resumed: bool,
    /// The stanzas resent after `<resumed/>` on this connection, in order.
    pub sm_resent: Vec<String>,
    /// Whether the client asked for the block list (XEP-0191) on this stream: changes are
    /// pushed to it from then on.
    pub blocklist_interested: bool,
    held: Vec<sm::Held>,
    connection_lost: bool,
}

impl ScriptedServer {
    /// A server playing `profile`.
    pub fn new(profile: ServerProfile) -> Self {
        ScriptedServer {
            profile,
            phase: ServerPhase::Plain,
            stream: ClientStream::new(),
            out: Vec::new(),
            received: Vec::new(),
            received_bytes: Vec::new(),
            headers: 0,
            stream_from: None,
            client_closed: false,
            parse_error: None,
            stream_error: None,
            violations: Vec::new(),
            bound: None,
            session_established: false,
            sasl: None,
            sasl2: None,
            fast_offered: false,
            restarted: false,
            mechanism_used: None,
            auth_log: Vec::new(),
            sasl2_outcomes: Vec::new(),
            roster_gets: Vec::new(),
            pushes: 0,
            sm: None,
            sm_since_request: 0,
            resumed: false,
            sm_resent: Vec::new(),
            blocklist_interested: false,
            held: Vec::new(),
            connection_lost: false,
        }
    }

    /// Bytes the server wants to send.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// What the server has said but the client has not been given yet.
    pub fn pending_output(&self) -> &[u8] {
        &self.out
    }

    /// Sends raw bytes to the client (tests inject stanzas and garbage with this). Stream
    /// management does not count them: a stanza a client on SM must count goes through
    /// [`send_stanza`](Self::send_stanza). Nothing is sent once the connection is lost.
    pub fn send_raw(&mut self, bytes: impl AsRef<[u8]>) {
        if !self.connection_lost {
            self.out.extend_from_slice(bytes.as_ref());
        }
    }

    /// Whether [`connection_lost`](Self::connection_lost) was called.
    pub fn is_connection_lost(&self) -> bool {
        self.connection_lost
    }

    /// The simulated TLS handshake finished: a new stream begins.
    pub fn tls_done(&mut self) {
        if self.connection_lost {
            return;
        }
        self.phase = ServerPhase::Tls;
        self.stream = ClientStream::new();
    }

    /// Feeds the client's bytes (one write of the client, or one read of a socket), element
    /// by element, in order.
    pub fn handle_input(&mut self, bytes: &[u8]) {
        if self.connection_lost {
            return;
        }
        self.received_bytes.extend_from_slice(bytes);
        let mut input = bytes;
        while !input.is_empty() && self.phase != ServerPhase::Closed {
            if !self.stream.started() && is_stream_close(input) {
                // The client closed the stream the server just restarted (after
                // `<success/>` crossed the close on the wire): a close all the same.
                input = &[];
                self.on_event(ClientEvent::Close);
                continue;
            }
            if self.phase == ServerPhase::TlsPending && !is_stream_close(input) {
                return self.violation(format!(
                    "{} bytes after <starttls/> in the same write, before the TLS handshake: \
                     dropped",
                    input.len()
                ));
            }
            let event = match self.stream.next_event(&mut input) {
                Ok(Some(event)) => event,
                Ok(None) => return,
                Err(e) => {
                    self.parse_error = Some(e.clone());
                    return self.end_stream("not-well-formed", format!("unparsable: {e}"));
                }
            };
            self.on_event(event);
            if std::mem::take(&mut self.restarted) && !input.is_empty() {
                let early = String::from_utf8_lossy(input).into_owned();
                return self.end_stream(
                    "not-well-formed",
                    format!("sent before it could see <success/>, in the same write: {early}"),
                );
            }
        }
    }

    /// The elements the client sent with this name (e.g. `presence`).
    pub fn received_named(&self, name: &str) -> Vec<&Element> {
        self.received.iter().filter(|e| e.name() == name).collect()
    }

    /// The mechanism the client chose last.
    pub fn mechanism_used(&self) -> Option<&str> {
        self.mechanism_used.as_deref()
    }

    fn on_event(&mut self, ev: ClientEvent) {
        match ev {
            ClientEvent::Header { from, .. } => {
                self.headers += 1;
                self.stream_from = from;
                self.send_header_and_features();
            }
            ClientEvent::Close => {
                self.client_closed = true;
                self.phase = ServerPhase::Closed;
                // XEP-0198 section 7: a clean close ends the session.
                self.sm_end_session();
                if self.profile.answer_close {
                    self.send_raw("</stream:stream>");
                }
            }
            ClientEvent::Element(el) => {
                self.received.push(el.clone());
                self.on_element(&el);
            }
        }
    }

    fn on_element(&mut self, el: &Element) {
        let ns = el.ns();
        if el.is("starttls", NS_TLS) {
            if self.profile.refuse_starttls {
                self.send_raw("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>");
            } else {
                self.send_raw("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
                self.phase = ServerPhase::TlsPending;
            }
        } else if ns == NS_SASL {
            if !self.profile.legacy_sasl {
                return self.unsupported(el);
            }
            match el.name() {
                "auth" => self.on_auth(el),
                "response" => self.on_response(el),
                "abort" => self.sasl_failure("aborted"),
                _ => {}
            }
        } else if ns == NS_SASL2 {
            if !self.profile.sasl2 {
                return self.unsupported(el);
            }
            match el.name() {
                "authenticate" => self.on_authenticate(el),
                "response" => self.on_sasl2_response(el),
                "abort" => self.sasl2_failure("aborted", None),
                _ => {}
            }
        } else if ns == NS_CLIENT && matches!(el.name(), "iq" | "presence" | "message") {
            if self.phase != ServerPhase::Authenticated {
                let what = format!("<{}/> before authentication", el.name());
                return self.end_stream("not-authorized", what);
            }
            self.sm_count_inbound(el);
            self.on_stanza(el);
        } else if ns == sm::NS_SM {
            if !self.profile.sm {
                return self.unsupported(el);
            }
            self.on_sm(el);
        } else if ns == NS_CSI {
            if !self.profile.csi {
                return self.unsupported(el);
            }
            if self.bound.is_none() {
                self.violation(format!("<{}/> (CSI) before a resource is bound", el.name()));
            }
        }
    }

    fn unsupported(&mut self, el: &Element) {
        let what = format!(
            "<{} xmlns='{}'/>, which this server does not offer",
            el.name(),
            el.ns()
        );
        self.end_stream("unsupported-stanza-type", what);
    }

    /// Ends the stream with a stream error, noting why as a violation.
    fn end_stream(&mut self, condition: &str, why: String) {
        self.end_stream_with(condition, "", why);
    }

    /// Ends the stream with a stream error carrying `extra` after the condition; an SM
    /// session ends with it.
    fn end_stream_with(&mut self, condition: &str, extra: &str, why: String) {
        self.violation(why);
        self.send_raw(format!(
            "<stream:error><{condition} xmlns='{NS_STREAMS}'/>{extra}</stream:error>\
             </stream:stream>"
        ));
        self.stream_error = Some(condition.to_string());
        self.phase = ServerPhase::Closed;
        self.sm_end_session();
    }

    /// Whether authentication comes too early: STARTTLS is required and not done (RFC 6120
    /// section 6.5.5). A violation too: the client would have sent credentials in the clear.
    fn tls_required_first(&mut self) -> bool {
        let early = self.phase == ServerPhase::Plain && self.profile.starttls;
        if early {
            self.violation("authentication before the required STARTTLS".to_string());
        }
        early
    }

    fn violation(&mut self, why: String) {
        self.violations.push(why);
    }

    /// The account's bare JID.
    fn bare_jid(&self) -> String {
        format!("{}@{}", self.profile.username, self.profile.domain)
    }
}
