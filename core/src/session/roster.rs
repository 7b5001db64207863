//! The roster (RFC 6121 section 2): fetched after binding and before the initial presence
//! (with XEP-0237 versioning), roster pushes and roster edits. Subscriptions are in
//! `subscriptions`.

use std::time::Instant;

use jid::BareJid;
use minidom::Element;

use crate::client::Client;
use crate::error::UsageError;
use crate::event::{Event, RosterChange};
use crate::session::State;
use crate::stanza::iq::{error_for, result_for};
use crate::stanza::presence::stanza_error;
use crate::stanza::roster::{
    ItemChange, NS_ROSTER, Roster, RosterItem, presence_to, read_item, roster_get, roster_set,
};

impl Client {
    /// After binding: fetch the roster (when configured), then go online.
    pub(super) fn after_session_established(&mut self, now: Instant) {
        if !self.config.fetch_roster {
            return self.go_online(now);
        }
        let id = self.next_id();
        let cached = self.config.roster_cache.clone();
        let version = match &cached {
            Some(roster) if self.server.roster_versioning => {
                Some(roster.version.clone().unwrap_or_default())
            }
            // Versioning offered but nothing cached: ver='' asks for the full roster.
            None if self.server.roster_versioning => Some(String::new()),
            _ => None,
        };
        self.write(now, &roster_get(&id, version.as_deref()));
        self.enter(now, State::ExpectRoster { id });
    }

    /// The answer to our roster get.
    pub(super) fn on_roster_result(&mut self, now: Instant, el: &Element) {
        if el.attr("type") == Some("error") {
            let (condition, _) = stanza_error(el);
            self.push_event(Event::RosterUnavailable { condition });
        } else {
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
                None => match self.config.roster_cache.clone() {
                    Some(cached) if self.server.roster_versioning => (cached, true),
                    _ => (Roster::default(), false),
                },
            };
            self.roster = roster;
            self.push_event(Event::Roster {
                roster: self.roster.clone(),
                from_cache,
            });
        }
        self.go_online(now);
    }

    /// A roster push (RFC 6121 section 2.1.6). Only the server or the account itself may
    /// push; anything else is ignored, as the RFC requires.
    pub(super) fn on_roster_push(&mut self, now: Instant, el: &Element, can_reply: bool) {
        if let Some(from) = el.attr("from") {
            let own = self.config.jid.to_bare();
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
            return self.on_unanswerable_push(now, el, can_reply);
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
            self.write(now, &result_for(el));
        }
        self.push_event(Event::RosterPush {
            change,
            item,
            version: self.roster.version.clone(),
        });
    }

    fn on_unanswerable_push(&mut self, now: Instant, el: &Element, can_reply: bool) {
        if can_reply {
            self.write(now, &error_for(el, "modify", "bad-request"));
        }
    }

    /// The result of one of our roster sets.
    pub(super) fn on_roster_edit_answer(&mut self, el: &Element, jid: BareJid) {
        if el.attr("type") == Some("error") {
            let (condition, _) = stanza_error(el);
            self.push_event(Event::RosterEditFailed { jid, condition });
        }
    }

    /// Adds `jid` to the roster (or updates it) with `name` and `groups`, and asks for a
    /// subscription to its presence, as IPWorks `Add` does.
    pub fn add_contact(
        &mut self,
        now: Instant,
        jid: &BareJid,
        name: Option<&str>,
        groups: &[String],
    ) -> Result<(), UsageError> {
        self.update_contact(now, jid, name, groups)?;
        self.write(now, &presence_to("subscribe", jid.as_str()));
        Ok(())
    }

    /// Adds or updates a roster item without touching subscriptions.
    pub fn update_contact(
        &mut self,
        now: Instant,
        jid: &BareJid,
        name: Option<&str>,
        groups: &[String],
    ) -> Result<(), UsageError> {
        self.require_online()?;
        for text in name.into_iter().chain(groups.iter().map(String::as_str)) {
            crate::check_text(text)?;
        }
        let id = self.next_id();
        self.write(now, &roster_set(&id, jid, Some((name, groups))));
        self.pending_roster_edits.insert(id, jid.clone());
        Ok(())
    }

    /// Removes `jid` from the roster (the server also cancels subscriptions both ways).
    pub fn remove_contact(&mut self, now: Instant, jid: &BareJid) -> Result<(), UsageError> {
        self.require_online()?;
        let id = self.next_id();
        self.write(now, &roster_set(&id, jid, None));
        self.pending_roster_edits.insert(id, jid.clone());
        Ok(())
    }
}
