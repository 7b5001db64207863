//! The roster (RFC 6121 section 2): fetched after binding and before the initial presence
//! (with XEP-0237 versioning), roster pushes and roster edits.

use jid::BareJid;
use minidom::Element;

use crate::error::UsageError;
use crate::event::{Event, RosterChange};
use crate::session::context::Context;
use crate::stanza::iq::{error_for, result_for};
use crate::stanza::presence::stanza_error;
use crate::stanza::roster::{
    ItemChange, NS_ROSTER, Roster, RosterItem, presence_to, read_item, roster_get, roster_set,
};

use super::SessionData;

/// Asks for the roster; with `versioning` (XEP-0237, the server offers it), `ver` from the
/// cached roster.
pub(crate) fn request_roster(id: &str, versioning: bool, cx: &mut Context) {
    let version = match &cx.config.roster_cache {
        Some(roster) if versioning => Some(roster.version.clone().unwrap_or_default()),
        // Versioning offered but nothing cached: ver='' asks for the full roster.
        None if versioning => Some(String::new()),
        _ => None,
    };
    cx.out.write(&roster_get(id, version.as_deref()));
}

impl SessionData {
    /// The answer to our roster get.
    pub(crate) fn on_roster_result(&mut self, el: &Element, cx: &mut Context) {
        if el.attr("type") == Some("error") {
            let (condition, _) = stanza_error(el);
            cx.out.push_event(Event::RosterUnavailable { condition });
            return;
        }
        let (roster, from_cache) = match el.get_child("query", NS_ROSTER) {
            Some(query) => {
                let mut roster = Roster {
                    version: query.attr("ver").map(str::to_string),
                    ..Roster::default()
                };
                for change in query.children().filter_map(read_item) {
                    if let ItemChange::Upsert(item) = change {
                        roster.items.insert(item.jid.clone(), item);
                    }
                }
                (roster, false)
            }
            // An empty result: the cached version is current (XEP-0237 section 2.3).
            None => match &cx.config.roster_cache {
                Some(cached) if self.server.roster_versioning => (cached.clone(), true),
                _ => (Roster::default(), false),
            },
        };
        self.roster = roster;
        cx.out.push_event(Event::Roster {
            roster: self.roster.clone(),
            from_cache,
        });
    }

    /// A roster push (RFC 6121 section 2.1.6). Only the server or the account itself may
    /// push; anything else is ignored, as the RFC requires.
    pub(super) fn on_roster_push(&mut self, el: &Element, can_reply: bool, cx: &mut Context) {
        if let Some(from) = el.attr("from") {
            let own = cx.config.jid.to_bare();
            let trusted = crate::jid_util::parse_jid(from)
                .map(|j| j.is_bare() && j.to_bare() == own)
                .unwrap_or(false);
            if !trusted {
                return;
            }
        }
        let Some(query) = el.get_child("query", NS_ROSTER) else {
            return;
        };
        let changes: Vec<ItemChange> = query.children().filter_map(read_item).collect();
        if changes.len() != 1 {
            // RFC 6121 2.1.6: a push carries exactly one item.
            if can_reply {
                cx.out.write(&error_for(el, "modify", "bad-request"));
            }
            return;
        }
        if let Some(version) = query.attr("ver") {
            self.roster.version = Some(version.to_string());
        }
        let (change, item) = match changes.into_iter().next() {
            Some(ItemChange::Remove(pushed)) => {
                // The item as we knew it, so that every push reads the same way.
                let item = match self.roster.items.remove(&pushed.jid) {
                    Some(known) => RosterItem {
                        subscription: pushed.subscription,
                        pending_out: false,
                        approved: false,
                        ..known
                    },
                    None => pushed,
                };
                (RosterChange::Removed, item)
            }
            Some(ItemChange::Upsert(item)) => {
                match self.roster.items.insert(item.jid.clone(), item.clone()) {
                    Some(_) => (RosterChange::Updated, item),
                    None => (RosterChange::Added, item),
                }
            }
            None => return,
        };
        if can_reply {
            cx.out.write(&result_for(el));
        }
        cx.out.push_event(Event::RosterPush {
            change,
            item,
            version: self.roster.version.clone(),
        });
    }

    /// The result of one of our roster sets.
    pub(super) fn on_roster_edit_answer(&mut self, el: &Element, jid: BareJid, cx: &mut Context) {
        if el.attr("type") == Some("error") {
            let (condition, _) = stanza_error(el);
            cx.out
                .push_event(Event::RosterEditFailed { jid, condition });
        }
    }

    /// Adds `jid` to the roster (or updates it) and asks for a subscription to its presence.
    pub(crate) fn add_contact(
        &mut self,
        jid: &BareJid,
        name: Option<&str>,
        groups: &[String],
        cx: &mut Context,
    ) -> Result<(), UsageError> {
        self.update_contact(jid, name, groups, cx)?;
        cx.out.write(&presence_to("subscribe", jid.as_str()));
        Ok(())
    }

    /// Adds or updates a roster item without touching subscriptions.
    pub(crate) fn update_contact(
        &mut self,
        jid: &BareJid,
        name: Option<&str>,
        groups: &[String],
        cx: &mut Context,
    ) -> Result<(), UsageError> {
        for text in name.into_iter().chain(groups.iter().map(String::as_str)) {
            crate::error::check_text(text)?;
        }
        let id = cx.out.next_id();
        cx.out.write(&roster_set(&id, jid, Some((name, groups))));
        self.pending_roster_edits.insert(id, jid.clone());
        Ok(())
    }

    /// Removes `jid` from the roster.
    pub(crate) fn remove_contact(&mut self, jid: &BareJid, cx: &mut Context) {
        let id = cx.out.next_id();
        cx.out.write(&roster_set(&id, jid, None));
        self.pending_roster_edits.insert(id, jid.clone());
    }
}
