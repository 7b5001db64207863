//! One command type for both adapters: what an application may ask of a session, written
//! once, applied to the live core client here (or kept for the next connection by the
//! [`Supervisor`](crate::supervisor::Supervisor) while there is none).

use std::time::Instant;

use herald_core::jid::{BareJid, Jid};
use herald_core::minidom::Element;
use herald_core::{Client, MessageType, Presence, UsageError};

/// A command for a session. The adapters' handles build these; their named methods
/// (`set_presence`, `add_contact`, ...) are shorthands.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Command {
    /// Sets the availability, the status text, or both (see
    /// [`Client::change_presence`]); `None` keeps the current value. Between connections
    /// the values become the next connection's initial presence.
    ChangePresence {
        /// The new availability.
        presence: Option<Presence>,
        /// The new status text.
        status: Option<String>,
    },
    /// Sends a stanza ([`Client::send`]); needs an online session.
    Send(Box<Element>),
    /// Sends a message with this `id` ([`Client::send_message_with_id`]); needs an online
    /// session. [`Command::message`] picks a fresh id.
    SendMessage {
        /// The addressee.
        to: Jid,
        /// The text.
        body: String,
        /// Chat, normal, headline or groupchat.
        kind: MessageType,
        /// The message's id: a receipt or an error names it.
        id: String,
    },
    /// Adds a roster item and asks for a subscription ([`Client::add_contact`]).
    AddContact {
        /// The contact.
        jid: BareJid,
        /// Its name.
        name: Option<String>,
        /// Its groups.
        groups: Vec<String>,
    },
    /// Adds or updates a roster item without touching subscriptions
    /// ([`Client::update_contact`]).
    UpdateContact {
        /// The contact.
        jid: BareJid,
        /// Its name.
        name: Option<String>,
        /// Its groups.
        groups: Vec<String>,
    },
    /// Removes a roster item ([`Client::remove_contact`]).
    RemoveContact(BareJid),
    /// Asks to see the contact's presence ([`Client::subscribe`]).
    Subscribe(BareJid),
    /// Stops seeing the contact's presence ([`Client::unsubscribe`]).
    Unsubscribe(BareJid),
    /// Lets the contact see our presence ([`Client::approve`]).
    Approve(BareJid),
    /// Refuses the contact's subscription request ([`Client::deny`]).
    Deny(BareJid),
    /// Takes back the contact's permission to see our presence ([`Client::cancel`]).
    Cancel(BareJid),
    /// Asks the server for a presence ([`Client::probe`]).
    Probe(Jid),
    /// Sends the current presence to one JID ([`Client::send_directed_presence`]).
    SendDirectedPresence(Jid),
    /// Tells the server whether the user is using the client (XEP-0352,
    /// [`Client::set_client_active`]); kept across reconnects like presence.
    SetClientActive(bool),
    /// Asks for the block list ([`Client::request_blocklist`]); needs an online session.
    RequestBlocklist,
    /// Blocks these JIDs ([`Client::block`]); needs an online session.
    Block(Vec<Jid>),
    /// Unblocks these JIDs, or everyone when empty ([`Client::unblock`]).
    Unblock(Vec<Jid>),
    /// Closes the session for good: no reconnect follows.
    Close,
}

impl Command {
    /// [`Command::ChangePresence`] of the availability only.
    pub fn set_presence(presence: Presence) -> Command {
        Command::ChangePresence {
            presence: Some(presence),
            status: None,
        }
    }

    /// [`Command::ChangePresence`] of the status text only.
    pub fn set_status(status: impl Into<String>) -> Command {
        Command::ChangePresence {
            presence: None,
            status: Some(status.into()),
        }
    }

    /// [`Command::ChangePresence`] of both, sent as one stanza.
    pub fn change_presence(presence: Presence, status: impl Into<String>) -> Command {
        Command::ChangePresence {
            presence: Some(presence),
            status: Some(status.into()),
        }
    }

    /// [`Command::SendMessage`] with a fresh id (unique in this process, unpredictable
    /// across processes).
    pub fn message(to: Jid, body: impl Into<String>, kind: MessageType) -> Command {
        Command::SendMessage {
            to,
            body: body.into(),
            kind,
            id: fresh_message_id(),
        }
    }

    /// Runs a command other than `Close` on a live client.
    pub(crate) fn apply(self, client: &mut Client, now: Instant) -> Result<(), UsageError> {
        match self {
            Command::ChangePresence { presence, status } => {
                let presence = presence.unwrap_or(client.presence());
                let status = status.unwrap_or_else(|| client.status().to_string());
                client.change_presence(now, presence, &status)
            }
            Command::Send(stanza) => client.send(now, &stanza),
            Command::SendMessage { to, body, kind, id } => {
                client.send_message_with_id(now, &to, &body, kind, &id)
            }
            Command::AddContact { jid, name, groups } => {
                client.add_contact(now, &jid, name.as_deref(), &groups)
            }
            Command::UpdateContact { jid, name, groups } => {
                client.update_contact(now, &jid, name.as_deref(), &groups)
            }
            Command::RemoveContact(jid) => client.remove_contact(now, &jid),
            Command::Subscribe(jid) => client.subscribe(now, &jid),
            Command::Unsubscribe(jid) => client.unsubscribe(now, &jid),
            Command::Approve(jid) => client.approve(now, &jid),
            Command::Deny(jid) => client.deny(now, &jid),
            Command::Cancel(jid) => client.cancel(now, &jid),
            Command::Probe(jid) => client.probe(now, &jid),
            Command::SendDirectedPresence(to) => client.send_directed_presence(now, &to),
            Command::SetClientActive(active) => client.set_client_active(now, active),
            Command::RequestBlocklist => client.request_blocklist(now),
            Command::Block(jids) => client.block(now, &jids),
            Command::Unblock(jids) => client.unblock(now, &jids),
            Command::Close => match client.close(now) {
                // Closing twice, or closing what already ended, still ends the session.
                Ok(()) | Err(UsageError::AlreadyClosing | UsageError::SessionEnded(_)) => Ok(()),
                Err(e) => Err(e),
            },
        }
    }
}

/// A message id: a per-process random prefix (std's hasher keys are random per process)
/// and a counter.
fn fresh_message_id() -> String {
    use std::hash::{BuildHasher, RandomState};
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| RandomState::new().hash_one(std::process::id()));
    format!("m{prefix:016x}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}
