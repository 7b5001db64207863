//! The stream header and `<stream:features>` the server sends, phase by phase.

use super::{ScriptedServer, ServerPhase};
use crate::profile::SessionFeature;

impl ScriptedServer {
    /// The answer to a client stream header: ours, then the features of the phase.
    pub(super) fn send_header_and_features(&mut self) {
        let p = &self.profile;
        // XEP-0388 section 2.1: answer the client's `from` with `to`.
        let to = self
            .stream_from
            .as_ref()
            .map(|f| format!(" to='{f}'"))
            .unwrap_or_default();
        let header = format!(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' from='{}' id='s{}'{to} \
             version='{}' xml:lang='en'>",
            p.domain, self.headers, p.stream_version
        );
        let features = match self.phase {
            ServerPhase::Plain if p.starttls => {
                "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
                    .to_string()
            }
            ServerPhase::Plain | ServerPhase::Tls => self.sasl_features(),
            ServerPhase::Authenticated => self.session_features(),
            ServerPhase::TlsPending | ServerPhase::Closed => String::new(),
        };
        self.send_raw(format!(
            "{header}<stream:features>{features}</stream:features>"
        ));
    }

    /// SASL offers: RFC 6120 `<mechanisms/>` and the XEP-0440 channel-binding types.
    fn sasl_features(&mut self) -> String {
        let p = &self.profile;
        let mut xml = String::new();
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
        xml
    }

    /// The features of an authenticated stream: binding (unless bound already), the
    /// session, roster versioning, pre-approval.
    fn session_features(&self) -> String {
        let p = &self.profile;
        let mut xml = String::new();
        if self.bound.is_none() {
            xml.push_str("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>");
        }
        if p.roster_version.is_some() {
            xml.push_str("<ver xmlns='urn:xmpp:features:rosterver'/>");
        }
        if p.pre_approval {
            xml.push_str("<sub xmlns='urn:xmpp:features:pre-approval'/>");
        }
        if self.bound.is_none() {
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
        xml
    }
}
