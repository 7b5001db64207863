//! Stanzas on an authenticated stream: RFC 6120 binding, the RFC 3921 session, the
//! roster, presence, XEP-0199 pings to the server, XEP-0191 blocking. Every stanza the server answers with goes
//! through [`send_stanza`](ScriptedServer::send_stanza), so that stream management counts it.

use minidom::Element;

use super::sm::Held;
use super::{NS_BIND, NS_ROSTER, NS_SESSION, ScriptedServer};
use crate::profile::{Reply, SessionFeature};

const NS_STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
const NS_PING: &str = "urn:xmpp:ping";
const NS_BLOCKING: &str = "urn:xmpp:blocking";

impl ScriptedServer {
    /// A stanza on an authenticated stream, in the order it came.
    pub(super) fn on_stanza(&mut self, el: &Element) {
        let kind = el.attr("type").unwrap_or_default();
        let is_bind = el.name() == "iq" && el.get_child("bind", NS_BIND).is_some();
        let is_session = el.name() == "iq" && el.get_child("session", NS_SESSION).is_some();
        let waiting_for_session = self.profile.session == SessionFeature::Required
            && !self.session_established
            && !is_session;
        if !is_bind && (self.bound.is_none() || waiting_for_session) {
            // Prosody's stanza router: an authenticated client that is not bound (here also:
            // has no required session yet) gets a stanza error, results and errors nothing.
            if kind != "result" && kind != "error" {
                self.stanza_error(el, "auth", "not-authorized");
            }
            return;
        }
        match el.name() {
            "iq" => self.on_iq(el),
            "presence" => self.on_presence(el),
            _ => {}
        }
    }

    /// Answers `el` with a stanza error, as Prosody's `error_reply` does.
    fn stanza_error(&mut self, el: &Element, error_type: &str, condition: &str) {
        let id = el
            .attr("id")
            .map(|id| format!(" id='{id}'"))
            .unwrap_or_default();
        self.send_stanza(format!(
            "<{name} type='error'{id}><error type='{error_type}'><{condition} \
             xmlns='{NS_STANZAS}'/></error></{name}>",
            name = el.name()
        ));
    }

    fn on_iq(&mut self, el: &Element) {
        let id = el.attr("id").unwrap_or_default().to_string();
        if let Some(bind) = el.get_child("bind", NS_BIND) {
            if self.resumed {
                // XEP-0198 section 5: a resumed session has its resource already.
                self.violation("a bind after <resumed/>".to_string());
                return self.stanza_error(el, "cancel", "not-allowed");
            }
            if let Some(condition) = self.profile.bind_error.clone() {
                return self.stanza_error(el, "cancel", &condition);
            }
            let resource = bind
                .get_child("resource", NS_BIND)
                .map(|r| r.text())
                .unwrap_or_else(|| "srv-assigned-1".to_string());
            let jid = format!("{}/{resource}", self.bare_jid());
            self.bound = Some(jid.clone());
            self.send_stanza(format!(
                "<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
                 <jid>{jid}</jid></bind></iq>"
            ));
        } else if el.get_child("session", NS_SESSION).is_some() {
            self.session_established = true;
            self.send_stanza(format!("<iq type='result' id='{id}'/>"));
        } else if let Some(query) = el.get_child("query", NS_ROSTER) {
            self.on_roster_iq(el.attr("type").unwrap_or_default(), &id, query);
        } else if el.get_child("ping", NS_PING).is_some() && el.attr("type") == Some("get") {
            self.on_ping(el, id);
        } else if el.children().any(|c| c.ns() == NS_BLOCKING) {
            self.on_blocking_iq(el, &id);
        }
    }

    /// XEP-0191, as Prosody's mod_blocklist: the list for a get (the stream is "interested"
    /// from then on), and for a block or unblock the result, then the push of the change to
    /// an interested stream.
    fn on_blocking_iq(&mut self, el: &Element, id: &str) {
        let kind = el.attr("type").unwrap_or_default();
        if !matches!(kind, "get" | "set") {
            return;
        }
        let Some(mut list) = self.profile.blocklist.clone() else {
            return self.stanza_error(el, "cancel", "service-unavailable");
        };
        let Some(payload) = el.children().find(|c| c.ns() == NS_BLOCKING) else {
            return;
        };
        let items: Vec<String> = payload
            .children()
            .filter(|c| c.is("item", NS_BLOCKING))
            .filter_map(|c| c.attr("jid").map(str::to_string))
            .collect();
        let item_xml = |jids: &[String]| {
            jids.iter()
                .map(|j| format!("<item jid='{j}'/>"))
                .collect::<String>()
        };
        let name = payload.name().to_string();
        match (kind, name.as_str()) {
            ("get", "blocklist") => {
                self.blocklist_interested = true;
                let items = item_xml(&list);
                return self.send_stanza(format!(
                    "<iq type='result' id='{id}'><blocklist xmlns='{NS_BLOCKING}'>{items}\
                     </blocklist></iq>"
                ));
            }
            ("set", "block") if !items.is_empty() => {
                for jid in &items {
                    if !list.contains(jid) {
                        list.push(jid.clone());
                    }
                }
            }
            ("set", "unblock") if items.is_empty() => list.clear(),
            ("set", "unblock") => list.retain(|j| !items.contains(j)),
            _ => return self.stanza_error(el, "modify", "bad-request"),
        }
        self.profile.blocklist = Some(list);
        self.send_stanza(format!("<iq type='result' id='{id}'/>"));
        if self.blocklist_interested {
            self.pushes += 1;
            let to = self.bound.clone().unwrap_or_default();
            let items = item_xml(&items);
            self.send_stanza(format!(
                "<iq type='set' id='push{}' to='{to}'><{name} xmlns='{NS_BLOCKING}'>{items}\
                 </{name}></iq>",
                self.pushes
            ));
        }
    }

    /// XEP-0199: a ping to the server (no `to`, or the domain) is answered as
    /// [`ping_reply`](crate::ServerProfile::ping_reply) says; one to another entity has no
    /// one here to answer it.
    fn on_ping(&mut self, el: &Element, id: String) {
        let to = el.attr("to");
        if to.is_some() && to != Some(self.profile.domain.as_str()) {
            return;
        }
        match self.profile.ping_reply {
            Reply::Prompt => self.send_stanza(format!(
                "<iq type='result' id='{id}' from='{}'/>",
                self.profile.domain
            )),
            Reply::Held => self.held.push(Held::Pong(id)),
            Reply::Never => {}
        }
    }

    fn on_presence(&mut self, el: &Element) {
        if el.attr("type") == Some("unavailable")
            && self.profile.echo_unavailable
            && let Some(jid) = &self.bound
        {
            let echo = format!("<presence from='{jid}' to='{jid}' type='unavailable'/>");
            self.send_stanza(echo);
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
                return self.send_stanza(format!(
                    "<iq type='error' id='{id}'><error type='cancel'><{condition} \
                     xmlns='{NS_STANZAS}'/></error></iq>"
                ));
            }
            let current = self.profile.roster_version.clone();
            if current.is_some() && query.attr("ver") == current.as_deref() {
                // XEP-0237: the client's cached roster is current.
                return self.send_stanza(format!("<iq type='result' id='{id}'/>"));
            }
            let ver = current.map(|v| format!(" ver='{v}'")).unwrap_or_default();
            let items = self.roster_xml();
            return self.send_stanza(format!(
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
            self.send_stanza(push);
            self.send_stanza(result);
        } else {
            self.send_stanza(result);
            self.send_stanza(push);
        }
    }
}
