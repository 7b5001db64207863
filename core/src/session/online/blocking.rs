//! The Blocking Command (XEP-0191): the block list as the server last said it, the
//! application's block, unblock and list requests, and the server's pushes. The server
//! filters what blocked JIDs send; the core only keeps the list and reports.
//!
//! The server pushes changes to the resources that asked for the list (XEP-0191 section
//! 3.3, "interested resources"), so the list is known, and kept up to date, only once
//! [`request_blocklist`](SessionData::request_blocklist) was answered.

use std::collections::BTreeSet;

use jid::Jid;

use crate::error::UsageError;
use crate::event::Event;
use crate::stanza::NS_CLIENT;
use crate::stanza::blocking::{
    NS_BLOCKING, Push, blocking_set, blocklist_request, read_items, read_push,
};
use crate::stanza::iq::{error_for, result_for};
use crate::stanza::presence::stanza_error;
use crate::xml::tree::Stanza;

use super::super::context::Context;
use super::SessionData;

/// What one of our blocking requests asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlockingRequest {
    /// The block list.
    List,
    /// A block or an unblock: its success is reported by the push that follows.
    Change,
}

impl SessionData {
    /// Asks the server for the block list ([`Event::Blocklist`] answers).
    pub(crate) fn request_blocklist(&mut self, cx: &mut Context) {
        let id = cx.out.next_id();
        cx.out.write(&blocklist_request(&id));
        self.pending_blocking.insert(id, BlockingRequest::List);
    }

    /// Asks the server to block `jids` (`block`), or to unblock them (with none: every
    /// JID). A block of no JID is refused: XEP-0191 has no such request.
    pub(crate) fn change_blocking(
        &mut self,
        block: bool,
        jids: &[Jid],
        cx: &mut Context,
    ) -> Result<(), UsageError> {
        if block && jids.is_empty() {
            return Err(UsageError::NothingToBlock);
        }
        let id = cx.out.next_id();
        cx.out
            .write_checked(&blocking_set(&id, block, jids))
            .map_err(|e| UsageError::InvalidElement(e.to_string()))?;
        self.pending_blocking.insert(id, BlockingRequest::Change);
        Ok(())
    }

    /// The answer to one of our blocking requests, or a block or unblock push from the
    /// server; true when `el` was one of these. A push from anyone but the server or the
    /// account is not one: it is left to the handling of unknown requests.
    pub(super) fn on_blocking(&mut self, el: &Stanza, can_reply: bool, cx: &mut Context) -> bool {
        if !el.is("iq", NS_CLIENT) {
            return false;
        }
        if matches!(el.attr("type"), Some("result") | Some("error"))
            && let Some(request) = el
                .attr("id")
                .and_then(|id| self.pending_blocking.remove(id))
        {
            self.on_blocking_answer(el, request, cx);
            return true;
        }
        let Some(push) = read_push(el) else {
            return false;
        };
        if !from_account(el, cx) {
            return false;
        }
        self.on_blocking_push(el, push, can_reply, cx);
        true
    }

    fn on_blocking_answer(&mut self, el: &Stanza, request: BlockingRequest, cx: &mut Context) {
        if el.attr("type") == Some("error") {
            let (condition, _) = stanza_error(&el.to_element());
            cx.out.push_event(Event::BlockingFailed { condition });
            return;
        }
        if request == BlockingRequest::Change {
            return;
        }
        let max = cx.config.max_blocklist;
        let list: BTreeSet<Jid> = el
            .get_child("blocklist", NS_BLOCKING)
            .map(read_items)
            .unwrap_or_default()
            .into_iter()
            .take(max)
            .collect();
        let jids = list.iter().cloned().collect();
        self.blocklist = Some(list);
        cx.out.push_event(Event::Blocklist { jids });
    }

    /// A push (XEP-0191 sections 3.3 to 3.5): applied to the list when it is known,
    /// answered, reported. A block of no JID is a bad request.
    fn on_blocking_push(&mut self, el: &Stanza, push: Push, can_reply: bool, cx: &mut Context) {
        let max = cx.config.max_blocklist;
        let event = match push {
            Push::Block(jids) if jids.is_empty() => {
                if can_reply {
                    cx.out.write(&error_for(el, "modify", "bad-request"));
                }
                return;
            }
            Push::Block(jids) => {
                if let Some(list) = self.blocklist.as_mut() {
                    for jid in &jids {
                        if list.len() >= max {
                            break;
                        }
                        list.insert(jid.clone());
                    }
                }
                Event::Blocked { jids }
            }
            Push::Unblock(jids) => {
                if let Some(list) = self.blocklist.as_mut() {
                    if jids.is_empty() {
                        list.clear();
                    } else {
                        for jid in &jids {
                            list.remove(jid);
                        }
                    }
                }
                Event::Unblocked { jids }
            }
        };
        if can_reply {
            cx.out.write(&result_for(el));
        }
        cx.out.push_event(event);
    }

    /// Whether a presence error is the server refusing our presence to a JID on the known
    /// block list: a server refuses what the user sends to a blocked JID with
    /// `<not-acceptable/>` (XEP-0191 section 3.3), and Prosody does so for each broadcast
    /// presence too. The application asked for that block; its presence did not fail, so
    /// the bounce is not reported.
    pub(super) fn is_block_bounce(&self, from: Option<&Jid>, condition: &str) -> bool {
        let (Some(list), Some(from)) = (self.blocklist.as_ref(), from) else {
            return false;
        };
        condition == "not-acceptable" && blocks(list, from)
    }
}

/// Whether `list` blocks `jid`: the JID itself, its bare JID or its domain (the matching
/// of XEP-0016 section 2.1, which XEP-0191 uses).
fn blocks(list: &BTreeSet<Jid>, jid: &Jid) -> bool {
    let bare = Jid::from(jid.to_bare());
    let domain = Jid::from(jid.domain().to_owned());
    list.contains(jid) || list.contains(&bare) || list.contains(&domain)
}

/// Whether `el` comes from the server or the account itself (no `from`, or the account's
/// bare JID), as a roster push must (RFC 6121 section 2.1.6).
fn from_account(el: &Stanza, cx: &Context) -> bool {
    let Some(from) = el.attr("from") else {
        return true;
    };
    let own = cx.config.jid.to_bare();
    crate::jid_util::parse_jid(from).is_ok_and(|j| j.is_bare() && j.to_bare() == own)
}
