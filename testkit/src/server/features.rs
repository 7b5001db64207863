//! The stream header and `<stream:features>` the server sends, phase by phase.

use super::sm::NS_SM;
use super::{NS_BIND2, NS_FAST, NS_SASL2, ScriptedServer, ServerPhase};
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

    /// Whether the current stream may use FAST: offered by the profile, and (as Prosody's
    /// mod_sasl2_fast does) only when the stream header named the account in `from`, which
    /// XEP-0484 section 5.1 requires of FAST clients.
    fn fast_available(&self) -> bool {
        let p = &self.profile;
        let named = self
            .stream_from
            .as_deref()
            .is_some_and(|from| from.contains('@'));
        p.sasl2 && p.fast && !p.fast_mechanisms.is_empty() && named
    }

    /// SASL offers: RFC 6120 `<mechanisms/>`, SASL2 `<authentication/>` with its inline
    /// features, and the XEP-0440 channel-binding types.
    fn sasl_features(&mut self) -> String {
        self.fast_offered = self.fast_available();
        let p = &self.profile;
        let mut xml = String::new();
        if p.legacy_sasl {
            xml.push_str("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>");
            for m in &p.mechanisms {
                xml.push_str(&format!("<mechanism>{m}</mechanism>"));
            }
            xml.push_str("</mechanisms>");
        }
        if p.sasl2 {
            xml.push_str(&format!("<authentication xmlns='{NS_SASL2}'>"));
            for m in &p.mechanisms {
                xml.push_str(&format!("<mechanism>{m}</mechanism>"));
            }
            let mut inline = String::new();
            if p.bind2 && self.sm_inline_enable_offered() {
                // XEP-0386 section 3.1: what Bind 2 can enable inline.
                inline.push_str(&format!(
                    "<bind xmlns='{NS_BIND2}'><inline><feature var='{NS_SM}'/></inline></bind>"
                ));
            } else if p.bind2 {
                inline.push_str(&format!("<bind xmlns='{NS_BIND2}'/>"));
            }
            if self.sm_inline_resume_offered() {
                inline.push_str(&format!("<sm xmlns='{NS_SM}'/>"));
            }
            if self.fast_offered {
                inline.push_str(&format!("<fast xmlns='{NS_FAST}'>"));
                for m in &p.fast_mechanisms {
                    inline.push_str(&format!("<mechanism>{m}</mechanism>"));
                }
                inline.push_str("</fast>");
            }
            if !inline.is_empty() {
                xml.push_str(&format!("<inline>{inline}</inline>"));
            }
            xml.push_str("</authentication>");
        }
        if let Some(types) = &p.cb_advertised {
            xml.push_str("<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>");
            for t in types {
                xml.push_str(&format!("<channel-binding type='{t}'/>"));
            }
            xml.push_str("</sasl-channel-binding>");
        }
        xml
    }

    /// The features of an authenticated stream: binding (unless Bind 2 bound already),
    /// stream management (unless on already), roster versioning, pre-approval, the session.
    pub(super) fn session_features(&self) -> String {
        let p = &self.profile;
        let mut xml = String::new();
        if self.bound.is_none() {
            xml.push_str("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>");
        }
        if p.sm && self.sm.is_none() {
            xml.push_str(&format!("<sm xmlns='{NS_SM}'/>"));
        }
        if p.roster_version.is_some() {
            xml.push_str("<ver xmlns='urn:xmpp:features:rosterver'/>");
        }
        if p.pre_approval {
            xml.push_str("<sub xmlns='urn:xmpp:features:pre-approval'/>");
        }
        if p.csi {
            xml.push_str("<csi xmlns='urn:xmpp:csi:0'/>");
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
