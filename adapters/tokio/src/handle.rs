//! The application's side: a cloneable [`Handle`] whose commands go to the session task.
//!
//! The commands are [`herald_io::Command`]s, the same as `herald-std`'s; what each does
//! between connections is the supervisor's rule (`herald_io::supervisor`).

use herald_core::jid::{BareJid, Jid};
use herald_core::minidom::Element;
use herald_core::{MessageType, Presence, Roster};
use herald_io::Command;
use tokio::sync::{mpsc, oneshot};

use crate::error::Error;

/// What a handle asks of the session task.
#[derive(Debug)]
pub(crate) enum Request {
    /// Boxed: a `Command` is 88 bytes and tokio allocates the queue's first block of 32
    /// slots up front; boxed, a request is 24 bytes (2 KB less per session).
    Command {
        command: Box<Command>,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    Roster {
        reply: oneshot::Sender<Roster>,
    },
    FastToken {
        reply: oneshot::Sender<Option<herald_core::FastToken>>,
    },
}

/// Sends commands to the session task. Cheap to clone; every clone drives the same session.
///
/// Each call returns once the task has applied the command (not once the server answered).
/// Presence and status changes made between connections are kept and become the next
/// connection's initial presence. Dropping every handle does not end the session (its
/// events keep coming); [`close`](Self::close) does, and so does dropping the
/// [`Events`](crate::Events) receiver.
#[derive(Debug, Clone)]
pub struct Handle {
    tx: mpsc::Sender<Request>,
}

impl Handle {
    pub(crate) fn new(tx: mpsc::Sender<Request>) -> Self {
        Handle { tx }
    }

    /// Applies `command` (the named methods below are shorthands for it).
    pub async fn command(&self, command: Command) -> Result<(), Error> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request::Command {
                command: Box::new(command),
                reply,
            })
            .await
            .map_err(|_| Error::Ended)?;
        answer.await.map_err(|_| Error::Ended)?
    }

    /// Sets the availability (see [`herald_core::Client::set_presence`]).
    pub async fn set_presence(&self, presence: Presence) -> Result<(), Error> {
        self.command(Command::set_presence(presence)).await
    }

    /// Sets the status text (see [`herald_core::Client::set_status`]).
    pub async fn set_status(&self, status: impl Into<String>) -> Result<(), Error> {
        self.command(Command::set_status(status)).await
    }

    /// Sets both and sends once (see [`herald_core::Client::change_presence`]).
    pub async fn change_presence(
        &self,
        presence: Presence,
        status: impl Into<String>,
    ) -> Result<(), Error> {
        self.command(Command::change_presence(presence, status))
            .await
    }

    /// Sends a stanza (see [`herald_core::Client::send`]); needs an online session.
    pub async fn send(&self, stanza: Element) -> Result<(), Error> {
        self.command(Command::Send(Box::new(stanza))).await
    }

    /// Sends a message to `to` (see [`herald_core::Client::send_message`]); returns its id,
    /// which a receipt or an error event names later. Needs an online session.
    pub async fn send_message(
        &self,
        to: Jid,
        body: impl Into<String>,
        kind: MessageType,
    ) -> Result<String, Error> {
        let command = Command::message(to, body, kind);
        let Command::SendMessage { id, .. } = &command else {
            unreachable!("Command::message builds a SendMessage")
        };
        let id = id.clone();
        self.command(command).await?;
        Ok(id)
    }

    /// Sets the client state (XEP-0352, see [`herald_core::Client::set_client_active`]):
    /// `false` lets the server hold back unimportant traffic. Kept across reconnects.
    pub async fn set_client_active(&self, active: bool) -> Result<(), Error> {
        self.command(Command::SetClientActive(active)).await
    }

    /// Asks for the block list (XEP-0191): a `Blocklist` event answers, and from then on
    /// the server's pushes come as `Blocked` / `Unblocked`.
    pub async fn request_blocklist(&self) -> Result<(), Error> {
        self.command(Command::RequestBlocklist).await
    }

    /// Blocks `jids` (XEP-0191).
    pub async fn block(&self, jids: Vec<Jid>) -> Result<(), Error> {
        self.command(Command::Block(jids)).await
    }

    /// Unblocks `jids`; everyone when empty (XEP-0191).
    pub async fn unblock(&self, jids: Vec<Jid>) -> Result<(), Error> {
        self.command(Command::Unblock(jids)).await
    }

    /// The roster as the current connection knows it, or the last one while reconnecting
    /// (empty before any was received).
    pub async fn roster(&self) -> Result<Roster, Error> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request::Roster { reply })
            .await
            .map_err(|_| Error::Ended)?;
        answer.await.map_err(|_| Error::Ended)
    }

    /// The FAST token to persist for the next login (XEP-0484): see
    /// [`Event::FastTokenUpdated`](herald_core::Event::FastTokenUpdated).
    pub async fn fast_token(&self) -> Result<Option<herald_core::FastToken>, Error> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request::FastToken { reply })
            .await
            .map_err(|_| Error::Ended)?;
        answer.await.map_err(|_| Error::Ended)
    }

    /// Adds `jid` with `name` and `groups` and asks for a subscription
    /// ([`Command::AddContact`]).
    pub async fn add_contact(
        &self,
        jid: BareJid,
        name: Option<String>,
        groups: Vec<String>,
    ) -> Result<(), Error> {
        self.command(Command::AddContact { jid, name, groups })
            .await
    }

    /// Adds or updates a roster item without touching subscriptions
    /// ([`Command::UpdateContact`]).
    pub async fn update_contact(
        &self,
        jid: BareJid,
        name: Option<String>,
        groups: Vec<String>,
    ) -> Result<(), Error> {
        self.command(Command::UpdateContact { jid, name, groups })
            .await
    }

    /// Removes `jid` from the roster ([`Command::RemoveContact`]).
    pub async fn remove_contact(&self, jid: BareJid) -> Result<(), Error> {
        self.command(Command::RemoveContact(jid)).await
    }

    /// Asks to see `jid`'s presence ([`Command::Subscribe`]).
    pub async fn subscribe(&self, jid: BareJid) -> Result<(), Error> {
        self.command(Command::Subscribe(jid)).await
    }

    /// Stops seeing `jid`'s presence ([`Command::Unsubscribe`]).
    pub async fn unsubscribe(&self, jid: BareJid) -> Result<(), Error> {
        self.command(Command::Unsubscribe(jid)).await
    }

    /// Lets `jid` see our presence (answers its request or pre-approves it). A request
    /// waits [`Timeouts::subscription_window`](herald_core::Timeouts::subscription_window)
    /// (30 s) for this or [`deny`](Self::deny); then the
    /// [`SubscriptionPolicy`](herald_core::SubscriptionPolicy) answers.
    pub async fn approve(&self, jid: BareJid) -> Result<(), Error> {
        self.command(Command::Approve(jid)).await
    }

    /// Refuses `jid`'s subscription request ([`Command::Deny`]).
    pub async fn deny(&self, jid: BareJid) -> Result<(), Error> {
        self.command(Command::Deny(jid)).await
    }

    /// Takes back `jid`'s permission to see our presence ([`Command::Cancel`]).
    pub async fn cancel(&self, jid: BareJid) -> Result<(), Error> {
        self.command(Command::Cancel(jid)).await
    }

    /// Asks the server for `jid`'s presence (only on request; RFC 6121 advises against it).
    pub async fn probe(&self, jid: Jid) -> Result<(), Error> {
        self.command(Command::Probe(jid)).await
    }

    /// Sends the current presence to one JID ([`Command::SendDirectedPresence`]).
    pub async fn send_directed_presence(&self, to: Jid) -> Result<(), Error> {
        self.command(Command::SendDirectedPresence(to)).await
    }

    /// Closes the session for good (no reconnect). [`Event::Ended`](crate::Event::Ended)
    /// follows.
    pub async fn close(&self) -> Result<(), Error> {
        self.command(Command::Close).await
    }
}

#[cfg(test)]
mod tests {
    use super::Request;

    /// The command queue's first block (32 requests) is allocated with every session.
    #[test]
    fn a_request_is_small() {
        assert!(size_of::<Request>() <= 32, "{}", size_of::<Request>());
    }
}
