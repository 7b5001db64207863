//! Roster and subscriptions (RFC 6121 sections 2 and 3): the roster fetched after binding
//! and before the initial presence (with XEP-0237 versioning), roster pushes, roster edits,
//! subscription commands and the answer policy for incoming requests.

use std::time::Instant;

use jid::{BareJid, Jid};
use minidom::Element;

use crate::client::Client;
use crate::config::SubscriptionPolicy;
use crate::error::UsageError;
use crate::event::{Event, RosterChange};
use crate::session::State;
use crate::stanza::iq::{error_for, result_for};
use crate::stanza::presence::stanza_error;
use crate::stanza::roster::{
    ItemChange, NS_ROSTER, Roster, presence_to, read_item, roster_get, roster_set,
};
use crate::stanza::tree::Stanza;
use crate::timer::Timer;

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
        let change = match changes.into_iter().next() {
            Some(ItemChange::Remove(jid)) => {
                self.roster.items.remove(&jid);
                RosterChange::Removed(jid)
            }
            Some(ItemChange::Upsert(item)) => {
                match self.roster.items.insert(item.jid.clone(), item.clone()) {
                    Some(_) => RosterChange::Updated(item),
                    None => RosterChange::Added(item),
                }
            }
            None => return,
        };
        if can_reply {
            self.write(now, &result_for(el));
        }
        self.push_event(Event::RosterPush {
            change,
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

    /// Asks to see `jid`'s presence (`subscribe`).
    pub fn subscribe(&mut self, now: Instant, jid: &BareJid) -> Result<(), UsageError> {
        self.send_subscription(now, "subscribe", jid)
    }

    /// Stops seeing `jid`'s presence (`unsubscribe`).
    pub fn unsubscribe(&mut self, now: Instant, jid: &BareJid) -> Result<(), UsageError> {
        self.send_subscription(now, "unsubscribe", jid)
    }

    /// Lets `jid` see our presence (`subscribed`): answers its request, or pre-approves it
    /// when the server supports pre-approval (RFC 6121 section 3.4).
    pub fn approve(&mut self, now: Instant, jid: &BareJid) -> Result<(), UsageError> {
        self.require_online()?;
        if !self.pending_subscription_requests.contains(jid) && !self.server.pre_approval {
            return Err(UsageError::NoPendingRequest);
        }
        self.pending_subscription_requests.remove(jid);
        self.send_subscription(now, "subscribed", jid)
    }

    /// Refuses `jid`'s subscription request (`unsubscribed`).
    pub fn deny(&mut self, now: Instant, jid: &BareJid) -> Result<(), UsageError> {
        self.pending_subscription_requests.remove(jid);
        self.send_subscription(now, "unsubscribed", jid)
    }

    /// Takes back `jid`'s permission to see our presence (`unsubscribed`).
    pub fn cancel(&mut self, now: Instant, jid: &BareJid) -> Result<(), UsageError> {
        self.deny(now, jid)
    }

    /// Asks the server for `jid`'s current presence (`probe`). RFC 6121 advises clients not
    /// to probe; the core never does on its own.
    pub fn probe(&mut self, now: Instant, jid: &Jid) -> Result<(), UsageError> {
        self.require_online()?;
        self.write(now, &presence_to("probe", jid.as_str()));
        Ok(())
    }

    fn send_subscription(
        &mut self,
        now: Instant,
        kind: &str,
        jid: &BareJid,
    ) -> Result<(), UsageError> {
        self.require_online()?;
        self.write(now, &presence_to(kind, jid.as_str()));
        Ok(())
    }

    /// An incoming `subscribe`, `subscribed`, `unsubscribe` or `unsubscribed`; false for
    /// other presence types.
    pub(super) fn on_subscription_presence(&mut self, now: Instant, el: &Stanza) -> bool {
        // The type first: most presence is availability, and parsing a JID is not free.
        if !matches!(
            el.attr("type"),
            Some("subscribe" | "subscribed" | "unsubscribed" | "unsubscribe")
        ) {
            return false;
        }
        let Some(from) = el
            .attr("from")
            .and_then(|f| crate::jid_util::parse_jid(f).ok())
            .map(Jid::into_bare)
        else {
            return false;
        };
        match el.attr("type") {
            Some("subscribe") => {
                self.pending_subscription_requests.insert(from.clone());
                if self.config.subscription_policy != SubscriptionPolicy::Ask {
                    self.unanswered_requests.push(from.clone());
                    if !self.timers.is_set(Timer::SubscriptionPolicy) {
                        let at = now + self.config.timeouts.subscription_answer;
                        self.timers.set(Timer::SubscriptionPolicy, at);
                    }
                }
                self.push_event(Event::SubscriptionRequest { from });
            }
            Some("subscribed") => self.push_event(Event::Subscribed { from }),
            Some("unsubscribed") => self.push_event(Event::Unsubscribed { from }),
            Some("unsubscribe") => self.push_event(Event::ContactUnsubscribed { from }),
            _ => return false,
        }
        true
    }

    /// Requests the application did not answer while handling the event (before the
    /// policy timer, due at once by default, fired) get the configured policy's answer
    /// (IPWorks: denied unless accepted in the event handler).
    pub(crate) fn apply_subscription_policy(&mut self, now: Instant) {
        if self.unanswered_requests.is_empty() || !matches!(self.state, State::Online) {
            return;
        }
        let approve = self.config.subscription_policy == SubscriptionPolicy::Accept;
        for jid in std::mem::take(&mut self.unanswered_requests) {
            if !self.pending_subscription_requests.remove(&jid) {
                continue; // answered by the application meanwhile
            }
            let kind = if approve {
                "subscribed"
            } else {
                "unsubscribed"
            };
            self.write(now, &presence_to(kind, jid.as_str()));
            self.push_event(Event::SubscriptionAnswered {
                from: jid,
                approved: approve,
            });
        }
    }

    fn require_online(&self) -> Result<(), UsageError> {
        if let Some(e) = self.ended() {
            return Err(e);
        }
        match self.state {
            State::Online => Ok(()),
            State::Disconnected => Err(UsageError::NotConnected),
            State::Closing => Err(UsageError::AlreadyClosing),
            _ => Err(UsageError::NotOnline),
        }
    }
}
