//! [`Handle`]: the session's commands, from any thread.

use std::fmt;
use std::sync::mpsc::Sender;
use std::time::Instant;

use herald_core::minidom::Element;
use herald_core::{Client, Presence, UsageError};

use crate::error::Error;

/// Any core command, run on the live client (see [`Session::call`](crate::Session::call)).
pub(crate) type CoreCall = Box<dyn FnOnce(&mut Client, Instant) -> Result<(), UsageError> + Send>;

/// A command queued by a [`Handle`], applied by the next [`Session::pump`](crate::Session::pump).
pub(crate) enum Command {
    SetPresence(Presence),
    SetStatus(String),
    ChangePresence(Presence, String),
    Send(Element),
    Close,
    Call(CoreCall),
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::SetPresence(p) => f.debug_tuple("SetPresence").field(p).finish(),
            Command::SetStatus(s) => f.debug_tuple("SetStatus").field(s).finish(),
            Command::ChangePresence(p, s) => {
                f.debug_tuple("ChangePresence").field(p).field(s).finish()
            }
            Command::Send(el) => f.debug_tuple("Send").field(&el.name()).finish(),
            Command::Close => f.write_str("Close"),
            Command::Call(_) => f.write_str("Call(..)"),
        }
    }
}

/// Sends commands to a [`Session`](crate::Session) from other threads. Cheap to clone.
///
/// Commands are queued and applied in order by [`Session::pump`](crate::Session::pump)
/// (within 100 ms while it runs). A command the session refuses is reported as
/// [`Event::CommandFailed`](crate::Event::CommandFailed); `Err(`[`Error::Gone`]`)` here only
/// means the session was dropped.
#[derive(Debug, Clone)]
pub struct Handle {
    pub(crate) tx: Sender<Command>,
}

impl Handle {
    pub(crate) fn queue(&self, command: Command) -> Result<(), Error> {
        self.tx.send(command).map_err(|_| Error::Gone)
    }

    /// Queues [`Session::set_presence`](crate::Session::set_presence).
    pub fn set_presence(&self, presence: Presence) -> Result<(), Error> {
        self.queue(Command::SetPresence(presence))
    }

    /// Queues [`Session::set_status`](crate::Session::set_status).
    pub fn set_status(&self, status: &str) -> Result<(), Error> {
        self.queue(Command::SetStatus(status.to_string()))
    }

    /// Queues [`Session::change_presence`](crate::Session::change_presence).
    pub fn change_presence(&self, presence: Presence, status: &str) -> Result<(), Error> {
        self.queue(Command::ChangePresence(presence, status.to_string()))
    }

    /// Queues [`Session::send`](crate::Session::send).
    pub fn send(&self, stanza: &Element) -> Result<(), Error> {
        self.queue(Command::Send(stanza.clone()))
    }

    /// Queues [`Session::close`](crate::Session::close).
    pub fn close(&self) -> Result<(), Error> {
        self.queue(Command::Close)
    }
}
