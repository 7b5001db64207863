//! What the core hands out: [`Event`]s for the application, [`Action`]s for the transport,
//! and the public [`SessionState`].

use jid::{BareJid, FullJid, Jid};

use crate::error::DisconnectReason;
use crate::sasl::Mechanism;
use crate::stanza::message::IncomingMessage;
use crate::stanza::presence::{IncomingPresence, Presence};
use crate::stanza::roster::{Roster, RosterItem};
use crate::xml::tree::Stanza;

/// Where the session is. Returned by [`Client::state`](crate::Client::state) and announced
/// by [`Event::StateChanged`] on every transition but the last: the end is reported once,
/// by [`Event::Disconnected`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionState {
    /// Not connected yet.
    Disconnected,
    /// Stream opened; waiting for the server's header and features.
    Connecting,
    /// `<starttls/>` sent; waiting for `<proceed/>`.
    StartingTls,
    /// The adapter is doing the TLS handshake.
    TlsHandshake,
    /// SASL exchange in progress.
    Authenticating {
        /// The mechanism chosen.
        mechanism: Mechanism,
    },
    /// Authenticated; restarting the stream and binding a resource.
    Binding,
    /// Authenticated; resuming the previous session (XEP-0198) instead of binding.
    Resuming,
    /// Establishing the RFC 3921 session (only when the server requires it).
    Session,
    /// Fetching the roster, before the initial presence.
    Roster,
    /// Logged in, initial presence sent.
    Online,
    /// `</stream:stream>` sent; waiting for the server's.
    Closing,
    /// Ended, for the reason given. Sticky.
    Closed {
        /// Why it ended.
        reason: DisconnectReason,
    },
}

impl SessionState {
    /// A short lower-case name (`connecting`, `online`, ...), for logs and the CLI.
    pub fn name(&self) -> &'static str {
        match self {
            SessionState::Disconnected => "disconnected",
            SessionState::Connecting => "connecting",
            SessionState::StartingTls => "starting_tls",
            SessionState::TlsHandshake => "tls_handshake",
            SessionState::Authenticating { .. } => "authenticating",
            SessionState::Binding => "binding",
            SessionState::Resuming => "resuming",
            SessionState::Session => "session",
            SessionState::Roster => "roster",
            SessionState::Online => "online",
            SessionState::Closing => "closing",
            SessionState::Closed { .. } => "closed",
        }
    }
}

/// Work for the transport. Drained with [`Client::poll_action`](crate::Client::poll_action)
/// after the transmit bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Start a TLS handshake for `server_name`, then call
    /// [`Client::tls_established`](crate::Client::tls_established) or
    /// [`Client::tls_failed`](crate::Client::tls_failed). Bytes read from the socket before
    /// that must not be passed to the core.
    StartTls {
        /// The name to verify the certificate against: the JID's domain.
        server_name: String,
    },
    /// Close the connection. Nothing more will be sent.
    CloseTransport,
}

/// Something the application should know.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The session moved to a new state. Never [`SessionState::Closed`]: the end comes as
    /// [`Event::Disconnected`], once.
    StateChanged(SessionState),
    /// Logged in: resource bound, initial presence sent. Also right after
    /// [`Event::Resumed`]: the same session is usable again (nothing was bound or sent
    /// anew).
    Online {
        /// The bound full JID.
        jid: FullJid,
    },
    /// The account's broadcast presence went out with these values.
    PresenceSent {
        /// Availability sent.
        presence: Presence,
        /// Status text sent (empty: no `<status/>`).
        status: String,
    },
    /// A contact's (or one of the account's own resources') presence.
    Presence(IncomingPresence),
    /// A presence came back with `type='error'`. The session and the stored presence and
    /// status are unchanged. A `<not-acceptable/>` from a JID on the known block list
    /// ([`Client::blocklist`](crate::Client::blocklist)) is not reported: it is the server
    /// refusing our presence to a contact the account blocked (XEP-0191 section 3.3).
    PresenceError {
        /// Who sent the error, if stated.
        from: Option<Jid>,
        /// The stanza error condition, e.g. `not-acceptable`.
        condition: String,
        /// The error text, if any.
        text: Option<String>,
    },
    /// The roster, fetched at login (or the cached one, confirmed current by the server).
    Roster {
        /// The whole roster.
        roster: Roster,
        /// True when the server said the cached roster is current.
        from_cache: bool,
    },
    /// The server could not give the roster; the session goes on with an empty one.
    RosterUnavailable {
        /// The stanza error condition.
        condition: String,
    },
    /// The server pushed a roster change (already answered by the core). Every push has
    /// the same shape: what happened to which item, and the whole item.
    RosterPush {
        /// Added, updated or removed.
        change: RosterChange,
        /// The item as it is now. For a removal: the item as the roster last held it (as
        /// the push describes it when the roster did not hold it), with
        /// [`Subscription::Remove`](crate::Subscription::Remove).
        item: RosterItem,
        /// The new roster version, if the server uses versioning.
        version: Option<String>,
    },
    /// A roster edit (add, update, remove) was refused.
    RosterEditFailed {
        /// The item concerned.
        jid: BareJid,
        /// The stanza error condition.
        condition: String,
    },
    /// `from` asks to see our presence. Answer with
    /// [`approve`](crate::Client::approve) or [`deny`](crate::Client::deny) within
    /// [`Timeouts::subscription_window`](crate::Timeouts::subscription_window); when the
    /// window closes, or at [`close`](crate::Client::close) if that comes first, the
    /// [`SubscriptionPolicy`](crate::SubscriptionPolicy) answers. A request repeated while
    /// it is open is not reported again.
    SubscriptionRequest {
        /// Who asks.
        from: BareJid,
    },
    /// The policy answered a request the application left unanswered: exactly one answer
    /// goes out per request.
    SubscriptionAnswered {
        /// Who asked.
        from: BareJid,
        /// Whether it was approved.
        approved: bool,
    },
    /// Nobody answered `from`'s request in time and the policy is
    /// [`Ask`](crate::SubscriptionPolicy::Ask) (or the request came while closing, when no
    /// answer can go out): nothing was sent. The server keeps the request and delivers it
    /// again at the next login (RFC 6121 section 3.1.3); until this session ends,
    /// `approve` and `deny` still answer it.
    SubscriptionLeftPending {
        /// Who asked.
        from: BareJid,
    },
    /// `from` approved our subscription request: we will see its presence.
    Subscribed {
        /// The contact.
        from: BareJid,
    },
    /// `from` refused our request or cancelled our subscription.
    Unsubscribed {
        /// The contact.
        from: BareJid,
    },
    /// `from` no longer wants to see our presence.
    ContactUnsubscribed {
        /// The contact.
        from: BareJid,
    },
    /// A cut session was resumed (XEP-0198): online again without a new bind or initial
    /// presence; contacts saw nothing. `resent` stanzas the server had not acknowledged
    /// went out again.
    Resumed {
        /// How many stanzas were sent again.
        resent: usize,
    },
    /// Stanzas that may not have arrived: resumption was refused (or came too late), or
    /// more were waiting for an acknowledgement than
    /// [`Limits::max_unacked_stanzas`](crate::Limits::max_unacked_stanzas).
    StanzasLost {
        /// How many.
        count: usize,
        /// The `id`s of those that had one (the application's messages, usually).
        ids: Vec<String>,
    },
    /// The FAST token changed: the server issued or rotated one, or refused the one the
    /// login used. Persist [`Client::fast_token`](crate::Client::fast_token) (a credential)
    /// for the next login.
    FastTokenUpdated,
    /// A message with a body or a thread (RFC 6121 section 5): chat, normal, headline or
    /// groupchat; or a carbon copy (XEP-0280) of one another resource of the account
    /// received or sent. A requested receipt (XEP-0184) was already answered when
    /// [`Config::receipts`](crate::Config::receipts) is on.
    Message(IncomingMessage),
    /// A message came back with `type='error'`: `id` is the one
    /// [`Client::send_message`](crate::Client::send_message) returned, if the server kept
    /// it.
    MessageError {
        /// Who answered with the error, if stated.
        from: Option<Jid>,
        /// The failed message's id, if the error carries it.
        id: Option<String>,
        /// The stanza error condition, e.g. `service-unavailable`.
        condition: String,
        /// The error text, if any.
        text: Option<String>,
    },
    /// `from` received our message `id` (XEP-0184).
    Receipt {
        /// Who confirms.
        from: Jid,
        /// The id [`Client::send_message`](crate::Client::send_message) returned.
        id: String,
    },
    /// A contact's capabilities were verified and cached: its disco#info answer hashed to
    /// the `ver` it announced. From now on [`Client::supports`](crate::Client::supports)
    /// answers for every resource that announces this `ver`.
    CapsVerified {
        /// Who answered.
        from: Jid,
        /// The `ver` now in the cache.
        ver: String,
    },
    /// A contact's capabilities could not be verified: its disco#info answer did not hash
    /// to the `ver` it announced, or was malformed. Nothing was cached (XEP-0115 section
    /// 5.4): the contact's features stay unknown.
    CapsInvalid {
        /// Who answered.
        from: Jid,
        /// The `ver` it announced.
        ver: String,
        /// What was wrong.
        reason: String,
    },
    /// The block list (XEP-0191), the answer to
    /// [`Client::request_blocklist`](crate::Client::request_blocklist): every JID blocked
    /// (at most [`Config::max_blocklist`](crate::Config::max_blocklist) of them), sorted.
    /// From now on the server pushes changes and [`Client::blocklist`](crate::Client::blocklist)
    /// follows them.
    Blocklist {
        /// The blocked JIDs.
        jids: Vec<Jid>,
    },
    /// The server pushed a block (XEP-0191), already answered: these JIDs are blocked now,
    /// by this client's [`block`](crate::Client::block) or by another resource of the
    /// account.
    Blocked {
        /// The JIDs blocked.
        jids: Vec<Jid>,
    },
    /// The server pushed an unblock (XEP-0191), already answered: these JIDs are no longer
    /// blocked; none means every JID is unblocked (the list is empty now).
    Unblocked {
        /// The JIDs unblocked; empty: all of them.
        jids: Vec<Jid>,
    },
    /// A block, unblock or block list request (XEP-0191) was refused, e.g.
    /// `service-unavailable` from a server without the blocking command.
    BlockingFailed {
        /// The stanza error condition.
        condition: String,
    },
    /// Any other stanza (message, IQ, probe, unknown top-level element), as a compact
    /// read-only tree; [`Stanza::to_element`] gives the `minidom` element.
    Stanza(Stanza),
    /// The session ended. Emitted once; every later command returns
    /// [`UsageError::SessionEnded`](crate::UsageError::SessionEnded).
    Disconnected {
        /// Why.
        reason: DisconnectReason,
    },
}

/// What a roster push did to its item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RosterChange {
    /// A new item.
    Added,
    /// An item changed (name, groups or subscription).
    Updated,
    /// An item was removed.
    Removed,
}

impl RosterChange {
    /// `added`, `updated` or `removed`.
    pub fn as_str(self) -> &'static str {
        match self {
            RosterChange::Added => "added",
            RosterChange::Updated => "updated",
            RosterChange::Removed => "removed",
        }
    }
}
