//! Messages (RFC 6121 section 5): what arrives becomes an event (with its receipt answered,
//! XEP-0184), and what the application sends gets an id and, when the contact's
//! capabilities say it answers, a receipt request.

use jid::Jid;

use crate::error::UsageError;
use crate::event::Event;
use crate::stanza::message::{
    MessageKind, MessageType, NS_RECEIPTS, classify_message, write_message, write_receipt,
};
use crate::xml::tree::Stanza;

use super::super::context::Context;
use super::SessionData;

impl SessionData {
    /// A `<message/>` once online.
    pub(super) fn on_message(&mut self, el: Stanza, can_reply: bool, cx: &mut Context) {
        let own = cx.config.jid.to_bare();
        match classify_message(&el, &own, None) {
            MessageKind::Message(message) => {
                if message.receipt_requested
                    && cx.config.receipts
                    && can_reply
                    && let Some(id) = &message.id
                {
                    let receipt_id = cx.out.next_id();
                    let to = &message.from;
                    cx.out.write_with(|out| {
                        // The id and JID came from a parsed stanza: XML can carry them.
                        let _ = write_receipt(to, &receipt_id, id, out);
                    });
                }
                cx.out.push_event(Event::Message(message));
            }
            MessageKind::Error {
                from,
                id,
                condition,
                text,
            } => cx.out.push_event(Event::MessageError {
                from,
                id,
                condition,
                text,
            }),
            MessageKind::Receipt { from, id } => cx.out.push_event(Event::Receipt { from, id }),
            // XEP-0280 section 11: a carbon not from the account is ignored.
            MessageKind::Forged { .. } => {}
            MessageKind::Other => cx.out.push_event(Event::Stanza(el)),
        }
    }

    /// Sends a message; returns its id. A receipt is requested when receipts are on and
    /// the addressee (a full JID: that resource; a bare one: any online resource) announced
    /// capabilities that include them.
    pub(crate) fn send_message(
        &mut self,
        to: &Jid,
        body: &str,
        kind: MessageType,
        id: Option<&str>,
        cx: &mut Context,
    ) -> Result<String, UsageError> {
        crate::error::check_text(body)?;
        if let Some(id) = id {
            crate::error::check_text(id)?;
            if id.is_empty() {
                return Err(UsageError::InvalidElement("an empty message id".into()));
            }
        }
        let request = cx.config.receipts
            && kind != MessageType::Groupchat
            && self.supports(to, NS_RECEIPTS, cx) == Some(true);
        let id = id.map_or_else(|| cx.out.next_id(), str::to_owned);
        let mut bytes = Vec::new();
        write_message(to, kind, body, &id, request, &mut bytes)
            .map_err(|e| UsageError::InvalidElement(e.to_string()))?;
        cx.out
            .write_with_id(&id, |out| out.extend_from_slice(&bytes));
        Ok(id)
    }

    /// Whether `jid` supports `feature`, from the capabilities its presence announced: a
    /// full JID asks that resource, a bare JID any of its online resources. `None` when
    /// nothing is known (no presence with caps, or the caps not verified yet).
    pub(crate) fn supports(&self, jid: &Jid, feature: &str, cx: &Context) -> Option<bool> {
        let mut known = false;
        let mut any = false;
        let resources = self.contacts.values().filter(|p| match jid.resource() {
            Some(_) => p.from == *jid,
            None => p.from.to_bare() == jid.to_bare(),
        });
        for presence in resources {
            let Some(features) = presence
                .caps
                .as_ref()
                .and_then(|c| cx.caps_cache.get(&c.ver))
            else {
                continue;
            };
            known = true;
            any |= features
                .binary_search_by(|f| f.as_str().cmp(feature))
                .is_ok();
        }
        known.then_some(any)
    }
}
