//! Roster and subscription commands (RFC 6121), on [`Session`] and [`Handle`], plus
//! [`Session::call`] for any other core command.

use std::time::Instant;

use herald_core::jid::{BareJid, Jid};
use herald_core::{Client, Roster, UsageError};

use crate::error::Error;
use crate::handle::{Command, Handle};
use crate::session::{Session, usage_error};

impl Session {
    /// Runs a command on the live core client, then drains its output as every command
    /// does. For core commands this adapter has no method for. Refused with
    /// [`UsageError::NotOnline`] while waiting to reconnect.
    ///
    /// Change presence and status only through this session's methods (the session keeps
    /// them for the next connection); closing the client here ends the session.
    pub fn call(
        &mut self,
        f: impl FnOnce(&mut Client, Instant) -> Result<(), UsageError> + Send + 'static,
    ) -> Result<(), Error> {
        self.command(Command::Call(Box::new(f)))
            .map_err(usage_error)
    }

    /// The roster as the current (or last) connection knows it.
    pub fn roster(&self) -> &Roster {
        self.client.roster()
    }

    /// Adds `jid` to the roster with `name` and `groups`, and asks for a subscription.
    pub fn add_contact(
        &mut self,
        jid: &BareJid,
        name: Option<&str>,
        groups: &[String],
    ) -> Result<(), Error> {
        let (jid, name, groups) = (jid.clone(), name.map(str::to_string), groups.to_vec());
        self.call(move |c, now| c.add_contact(now, &jid, name.as_deref(), &groups))
    }

    /// Adds or updates a roster item without touching subscriptions.
    pub fn update_contact(
        &mut self,
        jid: &BareJid,
        name: Option<&str>,
        groups: &[String],
    ) -> Result<(), Error> {
        let (jid, name, groups) = (jid.clone(), name.map(str::to_string), groups.to_vec());
        self.call(move |c, now| c.update_contact(now, &jid, name.as_deref(), &groups))
    }

    /// Removes `jid` from the roster.
    pub fn remove_contact(&mut self, jid: &BareJid) -> Result<(), Error> {
        let jid = jid.clone();
        self.call(move |c, now| c.remove_contact(now, &jid))
    }

    /// Asks to see `jid`'s presence.
    pub fn subscribe(&mut self, jid: &BareJid) -> Result<(), Error> {
        let jid = jid.clone();
        self.call(move |c, now| c.subscribe(now, &jid))
    }

    /// Stops seeing `jid`'s presence.
    pub fn unsubscribe(&mut self, jid: &BareJid) -> Result<(), Error> {
        let jid = jid.clone();
        self.call(move |c, now| c.unsubscribe(now, &jid))
    }

    /// Lets `jid` see our presence (answers its request, or pre-approves it). A request
    /// waits [`Timeouts::subscription_window`](herald_core::Timeouts::subscription_window)
    /// (30 s) for this or [`deny`](Self::deny); then the
    /// [`SubscriptionPolicy`](herald_core::SubscriptionPolicy) answers.
    pub fn approve(&mut self, jid: &BareJid) -> Result<(), Error> {
        let jid = jid.clone();
        self.call(move |c, now| c.approve(now, &jid))
    }

    /// Refuses `jid`'s subscription request.
    pub fn deny(&mut self, jid: &BareJid) -> Result<(), Error> {
        let jid = jid.clone();
        self.call(move |c, now| c.deny(now, &jid))
    }

    /// Takes back `jid`'s permission to see our presence.
    pub fn cancel(&mut self, jid: &BareJid) -> Result<(), Error> {
        let jid = jid.clone();
        self.call(move |c, now| c.cancel(now, &jid))
    }

    /// Asks the server for `jid`'s current presence.
    pub fn probe(&mut self, jid: &Jid) -> Result<(), Error> {
        let jid = jid.clone();
        self.call(move |c, now| c.probe(now, &jid))
    }

    /// Sends the current presence to `to` only.
    pub fn send_directed_presence(&mut self, to: &Jid) -> Result<(), Error> {
        let to = to.clone();
        self.call(move |c, now| c.send_directed_presence(now, &to))
    }
}

impl Handle {
    /// Queues [`Session::call`].
    pub fn call(
        &self,
        f: impl FnOnce(&mut Client, Instant) -> Result<(), UsageError> + Send + 'static,
    ) -> Result<(), Error> {
        self.queue(Command::Call(Box::new(f)))
    }

    /// Queues [`Session::add_contact`].
    pub fn add_contact(
        &self,
        jid: BareJid,
        name: Option<String>,
        groups: Vec<String>,
    ) -> Result<(), Error> {
        self.call(move |c, now| c.add_contact(now, &jid, name.as_deref(), &groups))
    }

    /// Queues [`Session::update_contact`].
    pub fn update_contact(
        &self,
        jid: BareJid,
        name: Option<String>,
        groups: Vec<String>,
    ) -> Result<(), Error> {
        self.call(move |c, now| c.update_contact(now, &jid, name.as_deref(), &groups))
    }

    /// Queues [`Session::remove_contact`].
    pub fn remove_contact(&self, jid: BareJid) -> Result<(), Error> {
        self.call(move |c, now| c.remove_contact(now, &jid))
    }

    /// Queues [`Session::subscribe`].
    pub fn subscribe(&self, jid: BareJid) -> Result<(), Error> {
        self.call(move |c, now| c.subscribe(now, &jid))
    }

    /// Queues [`Session::unsubscribe`].
    pub fn unsubscribe(&self, jid: BareJid) -> Result<(), Error> {
        self.call(move |c, now| c.unsubscribe(now, &jid))
    }

    /// Queues [`Session::approve`].
    pub fn approve(&self, jid: BareJid) -> Result<(), Error> {
        self.call(move |c, now| c.approve(now, &jid))
    }

    /// Queues [`Session::deny`].
    pub fn deny(&self, jid: BareJid) -> Result<(), Error> {
        self.call(move |c, now| c.deny(now, &jid))
    }

    /// Queues [`Session::cancel`].
    pub fn cancel(&self, jid: BareJid) -> Result<(), Error> {
        self.call(move |c, now| c.cancel(now, &jid))
    }

    /// Queues [`Session::probe`].
    pub fn probe(&self, jid: Jid) -> Result<(), Error> {
        self.call(move |c, now| c.probe(now, &jid))
    }

    /// Queues [`Session::send_directed_presence`].
    pub fn send_directed_presence(&self, to: Jid) -> Result<(), Error> {
        self.call(move |c, now| c.send_directed_presence(now, &to))
    }
}
