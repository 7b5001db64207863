//! Resource binding (RFC 6120 section 7), the legacy RFC 3921 session when the server
//! requires it, and the move to `Online` with exactly one initial presence.

use std::time::Instant;

use jid::FullJid;
use minidom::Element;

use crate::xml::tree::Stanza;

use crate::client::{Client, Farewell};
use crate::error::{DisconnectReason, PeerMisbehaved};
use crate::event::Event;
use crate::jid_util::parse_jid;
use crate::session::State;
use crate::stanza::NS_CLIENT;
use crate::stanza::iq::{NS_BIND, bind_request, session_request};
use crate::stanza::presence::stanza_error;

impl Client {
    pub(super) fn start_bind(&mut self, now: Instant, session_required: bool) {
        let id = self.next_id();
        let resource = self.config.jid.resource().map(|r| r.as_str().to_string());
        let request = bind_request(&id, resource.as_deref());
        self.write(now, &request);
        self.enter(
            now,
            State::ExpectBindResult {
                id,
                session_required,
            },
        );
    }

    /// An element while binding or establishing the session: our IQ's answer, or an early
    /// stanza handled as if online.
    pub(super) fn on_binding_element(&mut self, now: Instant, stanza: Stanza) {
        let (pending, binding, session_required) = match &self.state {
            State::ExpectBindResult {
                id,
                session_required,
            } => (id.as_str(), true, *session_required),
            State::ExpectSessionResult { id } | State::ExpectRoster { id } => {
                (id.as_str(), false, false)
            }
            _ => return,
        };
        let answers_us = stanza.is("iq", NS_CLIENT)
            && stanza.attr("id") == Some(pending)
            && matches!(stanza.attr("type"), Some("result") | Some("error"));
        if !answers_us {
            return self.on_stanza(now, stanza, true);
        }
        let el = stanza.to_element();
        if matches!(self.state, State::ExpectRoster { .. }) {
            return self.on_roster_result(now, &el);
        }
        if el.attr("type") == Some("error") {
            let (condition, _) = stanza_error(&el);
            let reason = if binding {
                DisconnectReason::BindFailed { condition }
            } else {
                DisconnectReason::SessionFailed { condition }
            };
            return self.fail(now, reason, Farewell::CloseStream);
        }
        if !binding {
            return self.after_session_established(now);
        }
        let Some(jid) = bound_jid(&el) else {
            let reason = DisconnectReason::PeerMisbehaved(PeerMisbehaved::InvalidBindResult);
            return self.fail(now, reason, Farewell::CloseStream);
        };
        if !same_account(&jid, &self.config.jid.to_bare()) {
            // Going online as someone else would misreport who we are to the application.
            let reason =
                DisconnectReason::PeerMisbehaved(PeerMisbehaved::BoundOtherAccount { jid });
            return self.fail(now, reason, Farewell::CloseStream);
        }
        self.bound = Some(jid);
        if session_required {
            let id = self.next_id();
            self.write(now, &session_request(&id));
            self.enter(now, State::ExpectSessionResult { id });
        } else {
            self.after_session_established(now);
        }
    }

    /// Online: exactly one initial presence, with the values current at this moment.
    pub(super) fn go_online(&mut self, now: Instant) {
        self.enter(now, State::Online);
        if let Some(jid) = self.bound.clone() {
            self.push_event(Event::Online { jid });
        }
        self.send_own_presence(now);
    }
}

/// Whether `bound` belongs to `account`: local part and domain compared case-insensitively,
/// as servers normalise them (nodeprep / PRECIS lower-cases; domains are case-insensitive).
fn same_account(bound: &FullJid, account: &jid::BareJid) -> bool {
    let node = |n: Option<&jid::NodeRef>| n.map(|n| n.as_str().to_lowercase());
    node(bound.node()) == node(account.node())
        && bound.domain().as_str().to_lowercase() == account.domain().as_str().to_lowercase()
}

fn bound_jid(iq: &Element) -> Option<FullJid> {
    let text = iq
        .get_child("bind", NS_BIND)?
        .get_child("jid", NS_BIND)?
        .text();
    parse_jid(text.trim()).ok()?.try_into_full().ok()
}
