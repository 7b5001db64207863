//! The online session: incoming stanzas, and the presence / status commands with the
//! semantics of the IPWorks `Presence`, `Status` and `ChangePresence` (DESIGN section 5).

use std::time::Instant;

use minidom::Element;

use crate::client::Client;
use crate::config::IqPolicy;
use crate::error::UsageError;
use crate::event::Event;
use crate::session::State;
use crate::stanza::NS_CLIENT;
use crate::stanza::attr_name;
use crate::stanza::iq::{is_ping, result_for, service_unavailable_for};
use crate::stanza::presence::{
    IncomingPresence, Presence, PresenceKind, build_own_presence, classify_presence,
    write_own_presence,
};
use crate::stanza::roster::NS_ROSTER;
use crate::xml::tree::Stanza;
use jid::Jid;

impl Client {
    /// Sets the availability. Online, one presence stanza goes out at once with the current
    /// status; before or during login the value only changes what the initial presence will
    /// carry. Setting the current value sends nothing.
    pub fn set_presence(&mut self, now: Instant, presence: Presence) -> Result<(), UsageError> {
        self.change_presence(now, presence, &self.status.clone())
    }

    /// Sets the status text (any text, `""` clears it). Same rules as
    /// [`set_presence`](Self::set_presence); text XML cannot carry is a
    /// [`UsageError::InvalidText`].
    pub fn set_status(&mut self, now: Instant, status: &str) -> Result<(), UsageError> {
        self.change_presence(now, self.presence, status)
    }

    /// Sets availability and status together; online, exactly one stanza goes out (none when
    /// both equal the current values).
    pub fn change_presence(
        &mut self,
        now: Instant,
        presence: Presence,
        status: &str,
    ) -> Result<(), UsageError> {
        self.check_command_allowed()?;
        crate::check_text(status)?;
        if presence == self.presence && status == self.status {
            return Ok(());
        }
        self.presence = presence;
        self.status = status.to_string();
        if matches!(self.state, State::Online) {
            self.send_own_presence(now);
        }
        Ok(())
    }

    /// Sends a stanza the application built (message, IQ, directed presence).
    ///
    /// Needs an online session. Broadcast presence (a `<presence/>` without `to`) is refused
    /// with [`UsageError::UsePresenceApi`] so that [`presence`](Self::presence) stays true;
    /// an element XML cannot carry is refused with [`UsageError::InvalidElement`].
    pub fn send(&mut self, now: Instant, stanza: &Element) -> Result<(), UsageError> {
        if let Some(e) = self.ended() {
            return Err(e);
        }
        if !matches!(self.state, State::Online) {
            return Err(UsageError::NotOnline);
        }
        if stanza.is("presence", NS_CLIENT) && stanza.attr("to").is_none() {
            return Err(UsageError::UsePresenceApi);
        }
        self.write_checked(now, stanza)
    }

    fn check_command_allowed(&self) -> Result<(), UsageError> {
        match self.state {
            State::Closed(_) => Err(self.ended().unwrap_or(UsageError::AlreadyClosing)),
            State::Closing => Err(UsageError::AlreadyClosing),
            _ => Ok(()),
        }
    }

    /// Sends the account's presence with the current values.
    pub(super) fn send_own_presence(&mut self, now: Instant) {
        let (presence, priority) = (self.presence, self.config.priority);
        let status = std::mem::take(&mut self.status);
        self.write_with(now, |out| {
            write_own_presence(presence, &status, priority, out)
        });
        self.status = status;
        self.push_event(Event::PresenceSent {
            presence: self.presence,
            status: self.status.clone(),
        });
    }

    /// Sends the account's current presence to one JID (directed presence, RFC 6121
    /// section 4.6), for example to join a room or to show a non-contact we are here.
    pub fn send_directed_presence(&mut self, now: Instant, to: &Jid) -> Result<(), UsageError> {
        if let Some(e) = self.ended() {
            return Err(e);
        }
        if !matches!(self.state, State::Online) {
            return Err(UsageError::NotOnline);
        }
        let mut stanza = build_own_presence(self.presence, &self.status, self.config.priority);
        stanza.set_attr(minidom::rxml::Namespace::NONE, attr_name("to"), to.as_str());
        self.write(now, &stanza);
        Ok(())
    }

    /// Remembers the latest presence of each full JID; unavailable forgets it (all
    /// resources when it comes from a bare JID). Bounded by `max_tracked_presences`.
    fn track_contact(&mut self, p: &IncomingPresence) {
        if p.availability == Presence::Offline {
            if p.from.resource().is_some() {
                self.contacts.remove(p.from.as_str());
            } else {
                let bare = p.from.to_bare();
                self.contacts.retain(|_, c| c.from.to_bare() != bare);
            }
            return;
        }
        let key = p.from.as_str();
        if let Some(known) = self.contacts.get_mut(key) {
            // Most presence comes from a resource already known: no new key, and the
            // stored strings' buffers are reused (the key is the sender, so `from` is equal).
            let IncomingPresence {
                from: _,
                availability,
                show,
                status,
                priority,
            } = p;
            known.availability = *availability;
            known.show.clone_from(show);
            known.status.clone_from(status);
            known.priority = *priority;
        } else if self.contacts.len() < self.config.max_tracked_presences {
            self.contacts.insert(key.to_string(), p.clone());
        }
    }

    /// A stanza while online (or while closing, when `can_reply` is false: after our
    /// `</stream:stream>` nothing may be written).
    pub(super) fn on_stanza(&mut self, now: Instant, el: Stanza, can_reply: bool) {
        if el.is("presence", NS_CLIENT) {
            if self.on_subscription_presence(now, &el, can_reply) {
                return;
            }
            match classify_presence(&el, self.config.jid.domain().as_str()) {
                PresenceKind::Availability(p) => {
                    self.track_contact(&p);
                    self.push_event(Event::Presence(p))
                }
                PresenceKind::Error {
                    from,
                    condition,
                    text,
                } => self.push_event(Event::PresenceError {
                    from,
                    condition,
                    text,
                }),
                PresenceKind::Other => self.push_event(Event::Stanza(el)),
            }
            return;
        }
        if el.is("iq", NS_CLIENT)
            && matches!(el.attr("type"), Some("result") | Some("error"))
            && let Some(jid) = el
                .attr("id")
                .and_then(|id| self.pending_roster_edits.remove(id))
        {
            return self.on_roster_edit_answer(&el.to_element(), jid);
        }
        if el.is("iq", NS_CLIENT)
            && el.attr("type") == Some("set")
            && el.has_child("query", NS_ROSTER)
        {
            return self.on_roster_push(now, &el.to_element(), can_reply);
        }
        if el.is("iq", NS_CLIENT) && matches!(el.attr("type"), Some("get") | Some("set")) {
            if is_ping(&el) {
                if can_reply {
                    self.write(now, &result_for(&el));
                }
                return;
            }
            if can_reply && self.config.iq_policy == IqPolicy::ServiceUnavailable {
                self.write(now, &service_unavailable_for(&el));
            }
        }
        self.push_event(Event::Stanza(el));
    }
}
