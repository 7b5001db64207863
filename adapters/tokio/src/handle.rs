//! The application's side: a cloneable [`Handle`] for commands, [`Events`] for what happens.

use std::time::Instant;

use herald_core::jid::{BareJid, Jid};
use herald_core::minidom::Element;
use herald_core::{Client, DisconnectReason, Presence, Roster, UsageError};
use tokio::sync::{mpsc, oneshot};

use crate::options::Error;

/// Commands from handles to the session task.
pub(crate) enum Command {
    ChangePresence {
        presence: Option<Presence>,
        status: Option<String>,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    Send {
        stanza: Box<Element>,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    Close {
        reply: oneshot::Sender<Result<(), Error>>,
    },
    /// Any other command, run on the current session's core (refused between connections).
    Call {
        call: CoreCall,
        reply: oneshot::Sender<Result<(), Error>>,
    },
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::ChangePresence { .. } => "ChangePresence",
            Command::Send { .. } => "Send",
            Command::Close { .. } => "Close",
            Command::Call { .. } => "Call",
        })
    }
}

/// A command to run on the session's core.
pub(crate) type CoreCall = Box<dyn FnOnce(&mut Client, Instant) -> Result<(), UsageError> + Send>;

/// Sends commands to the session task. Cheap to clone; every clone drives the same session.
///
/// Presence and status changes made while the adapter is between connections are kept and
/// become the initial presence of the next session.
#[derive(Debug, Clone)]
pub struct Handle {
    tx: mpsc::Sender<Command>,
}

impl Handle {
    pub(crate) fn new(tx: mpsc::Sender<Command>) -> Self {
        Handle { tx }
    }

    async fn call(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<(), Error>>) -> Command,
    ) -> Result<(), Error> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| Error::Ended)?;
        answer.await.map_err(|_| Error::Ended)?
    }

    /// Sets the availability (see [`herald_core::Client::set_presence`]).
    pub async fn set_presence(&self, presence: Presence) -> Result<(), Error> {
        self.call(|reply| Command::ChangePresence {
            presence: Some(presence),
            status: None,
            reply,
        })
        .await
    }

    /// Sets the status text (see [`herald_core::Client::set_status`]).
    pub async fn set_status(&self, status: impl Into<String>) -> Result<(), Error> {
        let status = status.into();
        self.call(|reply| Command::ChangePresence {
            presence: None,
            status: Some(status),
            reply,
        })
        .await
    }

    /// Sets both and sends once (see [`herald_core::Client::change_presence`]).
    pub async fn change_presence(
        &self,
        presence: Presence,
        status: impl Into<String>,
    ) -> Result<(), Error> {
        let status = status.into();
        self.call(|reply| Command::ChangePresence {
            presence: Some(presence),
            status: Some(status),
            reply,
        })
        .await
    }

    /// Sends a stanza (see [`herald_core::Client::send`]); needs an online session.
    pub async fn send(&self, stanza: Element) -> Result<(), Error> {
        let stanza = Box::new(stanza);
        self.call(|reply| Command::Send { stanza, reply }).await
    }

    async fn core(
        &self,
        call: impl FnOnce(&mut Client, Instant) -> Result<(), UsageError> + Send + 'static,
    ) -> Result<(), Error> {
        let call: CoreCall = Box::new(call);
        self.call(|reply| Command::Call { call, reply }).await
    }

    /// The roster as the current session knows it.
    pub async fn roster(&self) -> Result<Roster, Error> {
        let (tx, rx) = oneshot::channel();
        self.core(move |client, _| {
            let _ = tx.send(client.roster().clone());
            Ok(())
        })
        .await?;
        rx.await.map_err(|_| Error::Ended)
    }

    /// Adds `jid` with `name` and `groups` and asks for a subscription (see
    /// [`herald_core::Client::add_contact`]).
    pub async fn add_contact(
        &self,
        jid: BareJid,
        name: Option<String>,
        groups: Vec<String>,
    ) -> Result<(), Error> {
        self.core(move |c, now| c.add_contact(now, &jid, name.as_deref(), &groups))
            .await
    }

    /// Adds or updates a roster item without touching subscriptions.
    pub async fn update_contact(
        &self,
        jid: BareJid,
        name: Option<String>,
        groups: Vec<String>,
    ) -> Result<(), Error> {
        self.core(move |c, now| c.update_contact(now, &jid, name.as_deref(), &groups))
            .await
    }

    /// Removes `jid` from the roster.
    pub async fn remove_contact(&self, jid: BareJid) -> Result<(), Error> {
        self.core(move |c, now| c.remove_contact(now, &jid)).await
    }

    /// Asks to see `jid`'s presence.
    pub async fn subscribe(&self, jid: BareJid) -> Result<(), Error> {
        self.core(move |c, now| c.subscribe(now, &jid)).await
    }

    /// Stops seeing `jid`'s presence.
    pub async fn unsubscribe(&self, jid: BareJid) -> Result<(), Error> {
        self.core(move |c, now| c.unsubscribe(now, &jid)).await
    }

    /// Lets `jid` see our presence (answers its request or pre-approves it). A request
    /// waits [`Timeouts::subscription_window`](herald_core::Timeouts::subscription_window)
    /// (30 s) for this or [`deny`](Self::deny); then the
    /// [`SubscriptionPolicy`](herald_core::SubscriptionPolicy) answers.
    pub async fn approve(&self, jid: BareJid) -> Result<(), Error> {
        self.core(move |c, now| c.approve(now, &jid)).await
    }

    /// Refuses `jid`'s subscription request.
    pub async fn deny(&self, jid: BareJid) -> Result<(), Error> {
        self.core(move |c, now| c.deny(now, &jid)).await
    }

    /// Takes back `jid`'s permission to see our presence.
    pub async fn cancel(&self, jid: BareJid) -> Result<(), Error> {
        self.core(move |c, now| c.cancel(now, &jid)).await
    }

    /// Asks the server for `jid`'s presence (only on request; RFC 6121 advises against it).
    pub async fn probe(&self, jid: Jid) -> Result<(), Error> {
        self.core(move |c, now| c.probe(now, &jid)).await
    }

    /// Sends the current presence to one JID.
    pub async fn send_directed_presence(&self, to: Jid) -> Result<(), Error> {
        self.core(move |c, now| c.send_directed_presence(now, &to))
            .await
    }

    /// Closes the session for good (no reconnect). [`Event::Ended`] follows.
    pub async fn close(&self) -> Result<(), Error> {
        self.call(|reply| Command::Close { reply }).await
    }
}

/// Why the session task stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// The last session ended for this reason and reconnecting would not help (or is off).
    Session(DisconnectReason),
    /// No server could be reached and reconnecting is off.
    Unreachable(String),
    /// TLS failed (for example the certificate did not verify): never retried.
    Tls(String),
    /// The configuration cannot be used (for example a bad CA file).
    Config(String),
}

/// What the adapter reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// An event of the current session's core.
    Core(herald_core::Event),
    /// Trying a server.
    Connecting {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// Direct TLS (else STARTTLS).
        direct_tls: bool,
    },
    /// A server could not be reached.
    ConnectFailed {
        /// Host and port.
        target: String,
        /// Why.
        error: String,
    },
    /// Waiting before the next connection attempt.
    Reconnecting {
        /// 1 for the first retry.
        attempt: u32,
        /// The wait.
        delay: std::time::Duration,
    },
    /// The task stopped; no more events follow.
    Ended {
        /// Why.
        reason: EndReason,
    },
}

/// The stream of [`Event`]s.
#[derive(Debug)]
pub struct Events {
    rx: mpsc::UnboundedReceiver<Event>,
}

impl Events {
    pub(crate) fn new(rx: mpsc::UnboundedReceiver<Event>) -> Self {
        Events { rx }
    }

    /// The next event; `None` after [`Event::Ended`].
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }
}
