//! [`Handle`]: the session's commands, from any thread.

use std::sync::mpsc::Sender;

use herald_core::jid::Jid;
use herald_core::minidom::Element;
use herald_core::{MessageType, Presence};
use herald_io::Command;

use crate::error::Error;

/// Sends commands to a [`Session`](crate::Session) from other threads. Cheap to clone.
///
/// Commands are [`herald_io::Command`]s, the same as `herald-tokio`'s, queued and applied
/// in order by [`Session::pump`](crate::Session::pump) (within 100 ms while it runs). A
/// command the session refuses is reported as
/// [`Event::CommandFailed`](crate::Event::CommandFailed); `Err(`[`Error::Gone`]`)` here
/// only means the session was dropped.
#[derive(Debug, Clone)]
pub struct Handle {
    pub(crate) tx: Sender<Command>,
}

impl Handle {
    /// Queues `command` (the named methods are shorthands for it).
    pub fn command(&self, command: Command) -> Result<(), Error> {
        self.tx.send(command).map_err(|_| Error::Gone)
    }

    /// Queues [`Session::set_presence`](crate::Session::set_presence).
    pub fn set_presence(&self, presence: Presence) -> Result<(), Error> {
        self.command(Command::set_presence(presence))
    }

    /// Queues [`Session::set_status`](crate::Session::set_status).
    pub fn set_status(&self, status: &str) -> Result<(), Error> {
        self.command(Command::set_status(status))
    }

    /// Queues [`Session::change_presence`](crate::Session::change_presence).
    pub fn change_presence(&self, presence: Presence, status: &str) -> Result<(), Error> {
        self.command(Command::change_presence(presence, status))
    }

    /// Queues [`Session::send`](crate::Session::send).
    pub fn send(&self, stanza: &Element) -> Result<(), Error> {
        self.command(Command::Send(Box::new(stanza.clone())))
    }

    /// Queues a message to `to` (see [`herald_core::Client::send_message`]); returns its
    /// id, which a receipt or an error event names later.
    pub fn send_message(&self, to: &Jid, body: &str, kind: MessageType) -> Result<String, Error> {
        let command = Command::message(to.clone(), body, kind);
        let Command::SendMessage { id, .. } = &command else {
            unreachable!("Command::message builds a SendMessage")
        };
        let id = id.clone();
        self.command(command)?;
        Ok(id)
    }

    /// Queues the client state (XEP-0352, see [`herald_core::Client::set_client_active`]):
    /// `false` lets the server hold back unimportant traffic. Kept across reconnects.
    pub fn set_client_active(&self, active: bool) -> Result<(), Error> {
        self.command(Command::SetClientActive(active))
    }

    /// Queues a request for the block list (XEP-0191): a `Blocklist` event answers, and
    /// from then on the server's pushes come as `Blocked` / `Unblocked`.
    pub fn request_blocklist(&self) -> Result<(), Error> {
        self.command(Command::RequestBlocklist)
    }

    /// Queues blocking `jids` (XEP-0191).
    pub fn block(&self, jids: Vec<Jid>) -> Result<(), Error> {
        self.command(Command::Block(jids))
    }

    /// Queues unblocking `jids`; everyone when empty (XEP-0191).
    pub fn unblock(&self, jids: Vec<Jid>) -> Result<(), Error> {
        self.command(Command::Unblock(jids))
    }

    /// Queues [`Session::close`](crate::Session::close).
    pub fn close(&self) -> Result<(), Error> {
        self.command(Command::Close)
    }
}
