//! Roster and subscription commands (RFC 6121), on [`Session`] and [`Handle`]: shorthands
//! for [`herald_io::Command`]s, whose effect on the core is written once, in `herald-io`.

use herald_core::Roster;
use herald_core::jid::{BareJid, Jid};
use herald_io::Command;

use crate::error::Error;
use crate::handle::Handle;
use crate::session::Session;

impl Session {
    /// The roster as the current connection knows it, or the last one while waiting to
    /// reconnect (empty before any was received).
    pub fn roster(&self) -> &Roster {
        self.sup
            .roster_for(Some(&self.client))
            .unwrap_or(&self.empty_roster)
    }

    /// The FAST token to persist for the next login (XEP-0484): see
    /// [`Event::FastTokenUpdated`](herald_core::Event::FastTokenUpdated).
    pub fn fast_token(&self) -> Option<&herald_core::FastToken> {
        self.sup.fast_token_for(Some(&self.client))
    }

    /// Adds `jid` to the roster with `name` and `groups`, and asks for a subscription.
    pub fn add_contact(
        &mut self,
        jid: &BareJid,
        name: Option<&str>,
        groups: &[String],
    ) -> Result<(), Error> {
        self.command(Command::AddContact {
            jid: jid.clone(),
            name: name.map(str::to_string),
            groups: groups.to_vec(),
        })
    }

    /// Adds or updates a roster item without touching subscriptions.
    pub fn update_contact(
        &mut self,
        jid: &BareJid,
        name: Option<&str>,
        groups: &[String],
    ) -> Result<(), Error> {
        self.command(Command::UpdateContact {
            jid: jid.clone(),
            name: name.map(str::to_string),
            groups: groups.to_vec(),
        })
    }

    /// Removes `jid` from the roster.
    pub fn remove_contact(&mut self, jid: &BareJid) -> Result<(), Error> {
        self.command(Command::RemoveContact(jid.clone()))
    }

    /// Asks to see `jid`'s presence.
    pub fn subscribe(&mut self, jid: &BareJid) -> Result<(), Error> {
        self.command(Command::Subscribe(jid.clone()))
    }

    /// Stops seeing `jid`'s presence.
    pub fn unsubscribe(&mut self, jid: &BareJid) -> Result<(), Error> {
        self.command(Command::Unsubscribe(jid.clone()))
    }

    /// Lets `jid` see our presence (answers its request, or pre-approves it). A request
    /// waits [`Timeouts::subscription_window`](herald_core::Timeouts::subscription_window)
    /// (30 s) for this or [`deny`](Self::deny); then the
    /// [`SubscriptionPolicy`](herald_core::SubscriptionPolicy) answers.
    pub fn approve(&mut self, jid: &BareJid) -> Result<(), Error> {
        self.command(Command::Approve(jid.clone()))
    }

    /// Refuses `jid`'s subscription request.
    pub fn deny(&mut self, jid: &BareJid) -> Result<(), Error> {
        self.command(Command::Deny(jid.clone()))
    }

    /// Takes back `jid`'s permission to see our presence.
    pub fn cancel(&mut self, jid: &BareJid) -> Result<(), Error> {
        self.command(Command::Cancel(jid.clone()))
    }

    /// Asks the server for `jid`'s current presence.
    pub fn probe(&mut self, jid: &Jid) -> Result<(), Error> {
        self.command(Command::Probe(jid.clone()))
    }

    /// Sends the current presence to `to` only.
    pub fn send_directed_presence(&mut self, to: &Jid) -> Result<(), Error> {
        self.command(Command::SendDirectedPresence(to.clone()))
    }
}

impl Handle {
    /// Queues [`Session::add_contact`].
    pub fn add_contact(
        &self,
        jid: BareJid,
        name: Option<String>,
        groups: Vec<String>,
    ) -> Result<(), Error> {
        self.command(Command::AddContact { jid, name, groups })
    }

    /// Queues [`Session::update_contact`].
    pub fn update_contact(
        &self,
        jid: BareJid,
        name: Option<String>,
        groups: Vec<String>,
    ) -> Result<(), Error> {
        self.command(Command::UpdateContact { jid, name, groups })
    }

    /// Queues [`Session::remove_contact`].
    pub fn remove_contact(&self, jid: BareJid) -> Result<(), Error> {
        self.command(Command::RemoveContact(jid))
    }

    /// Queues [`Session::subscribe`].
    pub fn subscribe(&self, jid: BareJid) -> Result<(), Error> {
        self.command(Command::Subscribe(jid))
    }

    /// Queues [`Session::unsubscribe`].
    pub fn unsubscribe(&self, jid: BareJid) -> Result<(), Error> {
        self.command(Command::Unsubscribe(jid))
    }

    /// Queues [`Session::approve`].
    pub fn approve(&self, jid: BareJid) -> Result<(), Error> {
        self.command(Command::Approve(jid))
    }

    /// Queues [`Session::deny`].
    pub fn deny(&self, jid: BareJid) -> Result<(), Error> {
        self.command(Command::Deny(jid))
    }

    /// Queues [`Session::cancel`].
    pub fn cancel(&self, jid: BareJid) -> Result<(), Error> {
        self.command(Command::Cancel(jid))
    }

    /// Queues [`Session::probe`].
    pub fn probe(&self, jid: Jid) -> Result<(), Error> {
        self.command(Command::Probe(jid))
    }

    /// Queues [`Session::send_directed_presence`].
    pub fn send_directed_presence(&self, to: Jid) -> Result<(), Error> {
        self.command(Command::SendDirectedPresence(to))
    }
}
