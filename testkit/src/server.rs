//! A scripted XMPP server that is itself sans-IO: client bytes in, server bytes out. It
//! plays the login (STARTTLS, SCRAM/PLAIN, bind, optional session) the way a profile says,
//! records every element the client sent, and lets tests inject or alter what it says.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use minidom::Element;

use crate::profile::{ScramTamper, ServerProfile, SessionFeature};
use crate::scram_server::{Hash, StoredCredentials, attributes, verify_client_proof};
use crate::xml_in::{ClientEvent, ClientStream};

const NS_TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
const NS_SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
const NS_SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";
const NS_ROSTER: &str = "jabber:iq:roster";

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
    /// The client closed its stream.
    Closed,
}

#[derive(Debug)]
struct ScramExchange {
    creds: StoredCredentials,
    gs2_header: String,
    client_first_bare: String,
    server_first: String,
    nonce: String,
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
    /// Whether the client sent `</stream:stream>`.
    pub client_closed: bool,
    /// Set when the client's bytes did not parse.
    pub parse_error: Option<String>,
    /// The full JID bound.
    pub bound: Option<String>,
    scram: Option<ScramExchange>,
    mechanism_used: Option<String>,
    /// The mechanism and GS2 header the client authenticated with.
    pub auth_log: Vec<(String, String)>,
    /// The `ver` of each roster get the client sent (`None`: no versioning).
    pub roster_gets: Vec<Option<String>>,
    pushes: u32,
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
            client_closed: false,
            parse_error: None,
            bound: None,
            scram: None,
            mechanism_used: None,
            auth_log: Vec::new(),
            roster_gets: Vec::new(),
            pushes: 0,
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

    /// Sends raw bytes to the client (tests inject stanzas and garbage with this).
    pub fn send_raw(&mut self, bytes: impl AsRef<[u8]>) {
        self.out.extend_from_slice(bytes.as_ref());
    }

    /// The simulated TLS handshake finished: a new stream begins.
    pub fn tls_done(&mut self) {
        self.phase = ServerPhase::Tls;
        self.stream = ClientStream::new();
    }

    /// Feeds the client's bytes.
    pub fn handle_input(&mut self, bytes: &[u8]) {
        self.received_bytes.extend_from_slice(bytes);
        match self.stream.feed(bytes) {
            Ok(events) => {
                for ev in events {
                    self.on_event(ev);
                }
            }
            Err(e) => self.parse_error = Some(e),
        }
    }

    /// The elements the client sent with this name (e.g. `presence`).
    pub fn received_named(&self, name: &str) -> Vec<&Element> {
        self.received.iter().filter(|e| e.name() == name).collect()
    }

    fn on_event(&mut self, ev: ClientEvent) {
        match ev {
            ClientEvent::Header { .. } => {
                self.headers += 1;
                self.send_header_and_features();
            }
            ClientEvent::Close => {
                self.client_closed = true;
                self.phase = ServerPhase::Closed;
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

    fn send_header_and_features(&mut self) {
        let p = &self.profile;
        let mut xml = format!(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' from='{}' id='s{}' \
             version='{}' xml:lang='en'>",
            p.domain, self.headers, p.stream_version
        );
        xml.push_str("<stream:features>");
        match self.phase {
            ServerPhase::Plain if p.starttls => {
                xml.push_str(
                    "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>",
                );
            }
            ServerPhase::Plain | ServerPhase::Tls => {
                if !(self.phase == ServerPhase::Plain && p.starttls) {
                    xml.push_str("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>");
                    for m in &p.mechanisms {
                        xml.push_str(&format!("<mechanism>{m}</mechanism>"));
                    }
                    xml.push_str("</mechanisms>");
                    if let Some(types) = &p.cb_advertised {
                        xml.push_str("<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>");
                        for t in types {
                            xml.push_str(&format!("<channel-binding type='{t}'/>"));
                        }
                        xml.push_str("</sasl-channel-binding>");
                    }
                }
            }
            ServerPhase::Authenticated => {
                xml.push_str("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>");
                if p.roster_version.is_some() {
                    xml.push_str("<ver xmlns='urn:xmpp:features:rosterver'/>");
                }
                if p.pre_approval {
                    xml.push_str("<sub xmlns='urn:xmpp:features:pre-approval'/>");
                }
                match p.session {
                    SessionFeature::Absent => {}
                    SessionFeature::Optional => xml.push_str(
                        "<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>",
                    ),
                    SessionFeature::Required => {
                        xml.push_str("<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>")
                    }
                }
            }
            ServerPhase::TlsPending | ServerPhase::Closed => {}
        }
        xml.push_str("</stream:features>");
        self.send_raw(xml);
    }

    fn on_element(&mut self, el: &Element) {
        if el.is("starttls", NS_TLS) {
            if self.profile.refuse_starttls {
                self.send_raw("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>");
            } else {
                self.send_raw("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
                self.phase = ServerPhase::TlsPending;
            }
        } else if el.is("auth", NS_SASL) {
            self.on_auth(el);
        } else if el.is("response", NS_SASL) {
            self.on_response(el);
        } else if el.is("abort", NS_SASL) {
            self.sasl_failure("aborted");
        } else if el.is("iq", "jabber:client") {
            self.on_iq(el);
        } else if el.is("presence", "jabber:client") {
            self.on_presence(el);
        }
    }

    fn sasl_failure(&mut self, condition: &str) {
        self.send_raw(format!(
            "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><{condition}/></failure>"
        ));
        self.scram = None;
    }

    fn on_auth(&mut self, el: &Element) {
        let mechanism = el.attr("mechanism").unwrap_or_default().to_string();
        let data = BASE64.decode(el.text().trim()).unwrap_or_default();
        let text = String::from_utf8_lossy(&data).to_string();
        self.mechanism_used = Some(mechanism.clone());
        if !self.profile.mechanisms.iter().any(|m| *m == mechanism) {
            return self.sasl_failure("invalid-mechanism");
        }
        if mechanism == "PLAIN" {
            self.auth_log.push((mechanism, String::new()));
            let parts: Vec<&str> = text.split('\0').collect();
            let ok = parts.len() == 3
                && parts[1] == self.profile.username
                && parts[2] == self.profile.password;
            return if ok {
                self.sasl_success(None)
            } else {
                self.sasl_failure("not-authorized")
            };
        }
        let Some(hash) = Hash::for_mechanism(&mechanism) else {
            return self.sasl_failure("invalid-mechanism");
        };
        // gs2-header: flag "," authzid ","
        let mut pieces = text.splitn(3, ',');
        let (flag, authzid, bare) = (
            pieces.next().unwrap_or_default(),
            pieces.next().unwrap_or_default(),
            pieces.next().unwrap_or_default(),
        );
        let gs2_header = format!("{flag},{authzid},");
        self.auth_log.push((mechanism.clone(), gs2_header.clone()));
        let offers_plus = self.profile.mechanisms.iter().any(|m| m.ends_with("-PLUS"));
        if flag == "y" && offers_plus {
            // RFC 5802 section 6: the client thinks we lack channel binding, but we offer it.
            return self.sasl_failure("not-authorized");
        }
        let attrs = attributes(bare);
        let user = attrs
            .iter()
            .find(|(k, _)| *k == 'n')
            .map(|(_, v)| v.clone());
        let cnonce = attrs
            .iter()
            .find(|(k, _)| *k == 'r')
            .map(|(_, v)| v.clone());
        let (Some(user), Some(cnonce)) = (user, cnonce) else {
            return self.sasl_failure("malformed-request");
        };
        if user
            != self
                .profile
                .username
                .replace('=', "=3D")
                .replace(',', "=2C")
        {
            return self.sasl_failure("not-authorized");
        }
        let nonce = match self.profile.scram_tamper {
            ScramTamper::ForeignNonce => "AAAAthisisnotyournonce".to_string(),
            _ => format!("{cnonce}{}", self.profile.server_nonce_suffix),
        };
        let creds = StoredCredentials::new(
            hash,
            &self.profile.password,
            &self.profile.salt,
            // Counts above 20,000 only test the client's bound: it refuses before proving.
            self.profile.iterations.min(20_000),
        );
        let server_first = format!(
            "r={nonce},s={},i={}",
            BASE64.encode(&self.profile.salt),
            self.profile.iterations
        );
        self.send_raw(format!(
            "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
            BASE64.encode(&server_first)
        ));
        self.scram = Some(ScramExchange {
            creds,
            gs2_header,
            client_first_bare: bare.to_string(),
            server_first,
            nonce,
        });
    }

    fn on_response(&mut self, el: &Element) {
        let Some(ex) = self.scram.take() else {
            return self.sasl_failure("malformed-request");
        };
        let data = BASE64.decode(el.text().trim()).unwrap_or_default();
        let text = String::from_utf8_lossy(&data).to_string();
        let attrs = attributes(&text);
        let get = |k: char| attrs.iter().find(|(a, _)| *a == k).map(|(_, v)| v.clone());
        let (Some(c), Some(r), Some(p)) = (get('c'), get('r'), get('p')) else {
            return self.sasl_failure("malformed-request");
        };
        let mut cbind_input = ex.gs2_header.as_bytes().to_vec();
        if let Some(kind) = ex
            .gs2_header
            .strip_prefix("p=")
            .and_then(|s| s.split(',').next())
        {
            match self.profile.channel_binding_data(kind) {
                Some(data) => cbind_input.extend_from_slice(&data),
                None => return self.sasl_failure("not-authorized"),
            }
        }
        if BASE64.decode(&c).ok() != Some(cbind_input) || r != ex.nonce {
            return self.sasl_failure("not-authorized");
        }
        let without_proof = text.rsplit_once(",p=").map(|(a, _)| a).unwrap_or_default();
        let auth_message = format!(
            "{},{},{}",
            ex.client_first_bare, ex.server_first, without_proof
        );
        let Some(mut signature) = verify_client_proof(&ex.creds, &auth_message, &p) else {
            return self.sasl_failure("not-authorized");
        };
        if self.profile.scram_tamper == ScramTamper::WrongSignature {
            signature[0] ^= 0xff;
        }
        let server_final = format!("v={}", BASE64.encode(signature));
        self.sasl_success(Some(server_final));
    }

    fn sasl_success(&mut self, server_final: Option<String>) {
        let payload = match (&server_final, self.profile.scram_tamper) {
            (Some(_), ScramTamper::OmitServerFinal) => String::new(),
            (Some(v), _) => BASE64.encode(v),
            (None, _) => String::new(),
        };
        self.send_raw(format!(
            "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{payload}</success>"
        ));
        self.phase = ServerPhase::Authenticated;
        self.stream = ClientStream::new();
    }

    fn on_iq(&mut self, el: &Element) {
        let id = el.attr("id").unwrap_or_default().to_string();
        if let Some(bind) = el.get_child("bind", NS_BIND) {
            if let Some(condition) = &self.profile.bind_error {
                return self.send_raw(format!(
                    "<iq type='error' id='{id}'><error type='cancel'><{condition} \
                     xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                ));
            }
            let resource = bind
                .get_child("resource", NS_BIND)
                .map(|r| r.text())
                .unwrap_or_else(|| "srv-assigned-1".to_string());
            let jid = format!(
                "{}@{}/{}",
                self.profile.username, self.profile.domain, resource
            );
            self.bound = Some(jid.clone());
            self.send_raw(format!(
                "<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
                 <jid>{jid}</jid></bind></iq>"
            ));
        } else if el.get_child("session", NS_SESSION).is_some() {
            self.send_raw(format!("<iq type='result' id='{id}'/>"));
        } else if let Some(query) = el.get_child("query", NS_ROSTER) {
            self.on_roster_iq(el.attr("type").unwrap_or_default(), &id, query);
        }
    }

    fn on_presence(&mut self, el: &Element) {
        if el.attr("type") == Some("unavailable")
            && self.profile.echo_unavailable
            && let Some(jid) = &self.bound
        {
            let echo = format!("<presence from='{jid}' to='{jid}' type='unavailable'/>");
            self.send_raw(echo);
        }
    }

    fn roster_xml(&self) -> String {
        let mut items = String::new();
        for (jid, name, subscription) in &self.profile.roster {
            let name = name
                .as_ref()
                .map(|n| format!(" name='{n}'"))
                .unwrap_or_default();
            items.push_str(&format!(
                "<item jid='{jid}'{name} subscription='{subscription}'/>"
            ));
        }
        items
    }

    fn on_roster_iq(&mut self, kind: &str, id: &str, query: &Element) {
        if kind == "get" {
            self.roster_gets.push(query.attr("ver").map(str::to_string));
            if let Some(condition) = &self.profile.roster_error {
                return self.send_raw(format!(
                    "<iq type='error' id='{id}'><error type='cancel'><{condition} \
                     xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                ));
            }
            let current = self.profile.roster_version.clone();
            if current.is_some() && query.attr("ver") == current.as_deref() {
                // XEP-0237: the client's cached roster is current.
                return self.send_raw(format!("<iq type='result' id='{id}'/>"));
            }
            let ver = current.map(|v| format!(" ver='{v}'")).unwrap_or_default();
            let items = self.roster_xml();
            return self.send_raw(format!(
                "<iq type='result' id='{id}'><query xmlns='jabber:iq:roster'{ver}>{items}</query></iq>"
            ));
        }
        let Some(item) = query.get_child("item", NS_ROSTER) else {
            return;
        };
        let jid = item.attr("jid").unwrap_or_default().to_string();
        let removing = item.attr("subscription") == Some("remove");
        self.profile.roster.retain(|(j, _, _)| *j != jid);
        let push_item = if removing {
            format!("<item jid='{jid}' subscription='remove'/>")
        } else {
            let name = item.attr("name").map(str::to_string);
            let attr = name
                .as_ref()
                .map(|n| format!(" name='{n}'"))
                .unwrap_or_default();
            self.profile.roster.push((jid.clone(), name, "none".into()));
            format!("<item jid='{jid}'{attr} subscription='none'/>")
        };
        self.pushes += 1;
        let to = self.bound.clone().unwrap_or_default();
        let push = format!(
            "<iq type='set' id='push{}' to='{to}'><query xmlns='jabber:iq:roster'>{push_item}</query></iq>",
            self.pushes
        );
        let result = format!("<iq type='result' id='{id}'/>");
        if self.profile.push_before_result {
            self.send_raw(push);
            self.send_raw(result);
        } else {
            self.send_raw(result);
            self.send_raw(push);
        }
    }

    /// The mechanism the client chose last.
    pub fn mechanism_used(&self) -> Option<&str> {
        self.mechanism_used.as_deref()
    }
}
