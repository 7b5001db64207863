//! Events as a tagged C struct: the kind, the fields that kind uses, and the event's JSON
//! as the `herald` CLI prints it. The strings live in the client's [`EventStore`] until the
//! next `herald_poll_event`.

#![allow(non_camel_case_types)]

use herald_core::{Event, Presence, SessionState};

use crate::client::{herald_client, state_number};
use crate::types::herald_str;

/// An event the library has no kind number for yet (its JSON still says what it is).
pub const HERALD_EVENT_OTHER: i32 = 0;
/// The session moved to `state` (`code` holds its name, e.g. `"connecting"`; for
/// `HERALD_STATE_AUTHENTICATING`, `text` is the SASL mechanism, e.g. `"SCRAM-SHA-1-PLUS"`).
pub const HERALD_EVENT_STATE: i32 = 1;
/// Logged in as `jid` (the bound full JID); the initial presence went out.
pub const HERALD_EVENT_ONLINE: i32 = 2;
/// The account's presence went out with `presence` and `status`.
pub const HERALD_EVENT_PRESENCE_SENT: i32 = 3;
/// A contact's presence: `jid` (the sender's full JID), `presence`, `status`, `priority`.
pub const HERALD_EVENT_PRESENCE: i32 = 4;
/// A presence came back as an error: `jid` (empty when not stated), `code` (the
/// condition), `text`.
pub const HERALD_EVENT_PRESENCE_ERROR: i32 = 5;
/// The roster arrived: `count` items (the JSON lists them); `flag`: from the cache.
pub const HERALD_EVENT_ROSTER: i32 = 6;
/// The server could not give the roster: `code` (the condition).
pub const HERALD_EVENT_ROSTER_UNAVAILABLE: i32 = 7;
/// A roster push for `jid`: `code` is `added`, `updated` or `removed` (the JSON has the
/// item).
pub const HERALD_EVENT_ROSTER_PUSH: i32 = 8;
/// A roster edit of `jid` was refused: `code` (the condition).
pub const HERALD_EVENT_ROSTER_EDIT_FAILED: i32 = 9;
/// `jid` asks to see our presence: answer with `herald_approve` or `herald_deny`.
pub const HERALD_EVENT_SUBSCRIPTION_REQUEST: i32 = 10;
/// The policy answered `jid`'s request; `flag`: approved.
pub const HERALD_EVENT_SUBSCRIPTION_ANSWERED: i32 = 11;
/// Nobody answered `jid`'s request; it stays pending at the server.
pub const HERALD_EVENT_SUBSCRIPTION_LEFT_PENDING: i32 = 12;
/// `jid` approved our subscription request.
pub const HERALD_EVENT_SUBSCRIBED: i32 = 13;
/// `jid` refused or cancelled our subscription.
pub const HERALD_EVENT_UNSUBSCRIBED: i32 = 14;
/// `jid` no longer wants to see our presence.
pub const HERALD_EVENT_CONTACT_UNSUBSCRIBED: i32 = 15;
/// A cut session was resumed (XEP-0198); `count` stanzas were sent again.
pub const HERALD_EVENT_RESUMED: i32 = 16;
/// `count` stanzas may not have arrived.
pub const HERALD_EVENT_STANZAS_LOST: i32 = 17;
/// The FAST token changed.
pub const HERALD_EVENT_FAST_TOKEN_UPDATED: i32 = 18;
/// Any other stanza (message, IQ, ...): `text` is its XML.
pub const HERALD_EVENT_STANZA: i32 = 19;
/// A message: `jid` is the sender (for a carbon copy of a message another resource
/// sent: that resource), `text` the body (empty without one), `code` the type (`chat`,
/// `normal`, `headline`, `groupchat`), `status` the message id (empty without one); `flag`:
/// a carbon copy (XEP-0280). The JSON has the thread, delay and carbon direction.
pub const HERALD_EVENT_MESSAGE: i32 = 21;
/// A message came back as an error: `jid` (empty when not stated), `code` (the
/// condition), `text`, `status` the failed message's id (empty when unknown).
pub const HERALD_EVENT_MESSAGE_ERROR: i32 = 22;
/// `jid` received our message whose id is in `status` (XEP-0184).
pub const HERALD_EVENT_RECEIPT: i32 = 23;
/// `jid`'s capabilities did not verify: `code` is the `ver`, `text` why.
pub const HERALD_EVENT_CAPS_INVALID: i32 = 24;
/// The session ended, once: `code` is the reason's stable name (`"auth_failed"`, ...),
/// `text` says it for people, `end` is `HERALD_END_*`, `flag`: reconnecting may help.
pub const HERALD_EVENT_DISCONNECTED: i32 = 20;

/// One event from `herald_poll_event`. Fields a kind does not use are empty or 0. Every
/// string is valid until the next `herald_poll_event` (or `herald_client_free`) on the
/// same client.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct herald_event {
    /// `HERALD_EVENT_*`.
    pub kind: i32,
    /// The event as one JSON object, the line the `herald` CLI prints for it (an `"event"`
    /// key names it; keys come in alphabetical order); empty for `HERALD_EVENT_STANZA`.
    pub json: herald_str,
    /// The JID the event is about (see each kind).
    pub jid: herald_str,
    /// `HERALD_STATE_*`, for `HERALD_EVENT_STATE`.
    pub state: i32,
    /// `HERALD_PRESENCE_*`, for `PRESENCE_SENT` and `PRESENCE`.
    pub presence: i32,
    /// The status text, for `PRESENCE_SENT` and `PRESENCE`.
    pub status: herald_str,
    /// The priority, for `PRESENCE`.
    pub priority: i32,
    /// A short machine-readable word (see each kind).
    pub code: herald_str,
    /// Text for people, or a stanza's XML (see each kind).
    pub text: herald_str,
    /// For `DISCONNECTED`: `HERALD_END_*`.
    pub end: i32,
    /// A yes/no (see each kind).
    pub flag: bool,
    /// A count (see each kind).
    pub count: u64,
}

/// The strings of the event last handed out.
#[derive(Debug, Default)]
pub(crate) struct EventStore {
    json: Vec<u8>,
    jid: Vec<u8>,
    status: Vec<u8>,
    code: Vec<u8>,
    text: Vec<u8>,
}

fn presence_number(p: Presence) -> i32 {
    i32::from(p.as_number())
}

impl EventStore {
    /// Converts `event`, storing its strings here.
    pub(crate) fn convert(&mut self, event: &Event) -> herald_event {
        let json = herald_json::event(event)
            .map(|v| v.to_string())
            .unwrap_or_default();
        let mut out = herald_event {
            kind: HERALD_EVENT_OTHER,
            json: herald_client::hand_out(&mut self.json, &json),
            jid: herald_str::EMPTY,
            state: 0,
            presence: 0,
            status: herald_str::EMPTY,
            priority: 0,
            code: herald_str::EMPTY,
            text: herald_str::EMPTY,
            end: 0,
            flag: false,
            count: 0,
        };
        let mut jid = |s: &str| herald_client::hand_out(&mut self.jid, s);
        match event {
            Event::StateChanged(state) => {
                out.kind = HERALD_EVENT_STATE;
                out.state = state_number(state);
                out.code = herald_client::hand_out(&mut self.code, state.name());
                if let SessionState::Authenticating { mechanism } = state {
                    out.text = herald_client::hand_out(&mut self.text, mechanism.as_str());
                }
            }
            Event::Online { jid: bound } => {
                out.kind = HERALD_EVENT_ONLINE;
                out.jid = jid(bound.as_str());
            }
            Event::PresenceSent { presence, status } => {
                out.kind = HERALD_EVENT_PRESENCE_SENT;
                out.presence = presence_number(*presence);
                out.status = herald_client::hand_out(&mut self.status, status);
            }
            Event::Presence(p) => {
                out.kind = HERALD_EVENT_PRESENCE;
                out.jid = jid(p.from.as_str());
                out.presence = presence_number(p.availability);
                out.status = herald_client::hand_out(&mut self.status, &p.status);
                out.priority = i32::from(p.priority);
            }
            Event::PresenceError {
                from,
                condition,
                text,
            } => {
                out.kind = HERALD_EVENT_PRESENCE_ERROR;
                out.jid = jid(from.as_ref().map_or("", |j| j.as_str()));
                out.code = herald_client::hand_out(&mut self.code, condition);
                out.text = herald_client::hand_out(&mut self.text, text.as_deref().unwrap_or(""));
            }
            Event::Roster { roster, from_cache } => {
                out.kind = HERALD_EVENT_ROSTER;
                out.count = roster.items.len() as u64;
                out.flag = *from_cache;
            }
            Event::RosterUnavailable { condition } => {
                out.kind = HERALD_EVENT_ROSTER_UNAVAILABLE;
                out.code = herald_client::hand_out(&mut self.code, condition);
            }
            Event::RosterPush { change, item, .. } => {
                out.kind = HERALD_EVENT_ROSTER_PUSH;
                out.jid = jid(item.jid.as_str());
                out.code = herald_client::hand_out(&mut self.code, change.as_str());
            }
            Event::RosterEditFailed {
                jid: item,
                condition,
            } => {
                out.kind = HERALD_EVENT_ROSTER_EDIT_FAILED;
                out.jid = jid(item.as_str());
                out.code = herald_client::hand_out(&mut self.code, condition);
            }
            Event::SubscriptionRequest { from } => {
                out.kind = HERALD_EVENT_SUBSCRIPTION_REQUEST;
                out.jid = jid(from.as_str());
            }
            Event::SubscriptionAnswered { from, approved } => {
                out.kind = HERALD_EVENT_SUBSCRIPTION_ANSWERED;
                out.jid = jid(from.as_str());
                out.flag = *approved;
            }
            Event::SubscriptionLeftPending { from } => {
                out.kind = HERALD_EVENT_SUBSCRIPTION_LEFT_PENDING;
                out.jid = jid(from.as_str());
            }
            Event::Subscribed { from } => {
                out.kind = HERALD_EVENT_SUBSCRIBED;
                out.jid = jid(from.as_str());
            }
            Event::Unsubscribed { from } => {
                out.kind = HERALD_EVENT_UNSUBSCRIBED;
                out.jid = jid(from.as_str());
            }
            Event::ContactUnsubscribed { from } => {
                out.kind = HERALD_EVENT_CONTACT_UNSUBSCRIBED;
                out.jid = jid(from.as_str());
            }
            Event::Resumed { resent } => {
                out.kind = HERALD_EVENT_RESUMED;
                out.count = *resent as u64;
            }
            Event::StanzasLost { count, .. } => {
                out.kind = HERALD_EVENT_STANZAS_LOST;
                out.count = *count as u64;
            }
            Event::FastTokenUpdated => out.kind = HERALD_EVENT_FAST_TOKEN_UPDATED,
            Event::Stanza(stanza) => {
                out.kind = HERALD_EVENT_STANZA;
                out.text = herald_client::hand_out(&mut self.text, &stanza.to_string());
            }
            Event::Message(m) => {
                out.kind = HERALD_EVENT_MESSAGE;
                out.jid = jid(m.from.as_str());
                out.code = herald_client::hand_out(&mut self.code, m.kind.as_str());
                out.text = herald_client::hand_out(&mut self.text, m.body.as_deref().unwrap_or(""));
                out.status =
                    herald_client::hand_out(&mut self.status, m.id.as_deref().unwrap_or(""));
                out.flag = m.carbon.is_some();
            }
            Event::MessageError {
                from,
                id,
                condition,
                text,
            } => {
                out.kind = HERALD_EVENT_MESSAGE_ERROR;
                out.jid = jid(from.as_ref().map_or("", |j| j.as_str()));
                out.code = herald_client::hand_out(&mut self.code, condition);
                out.text = herald_client::hand_out(&mut self.text, text.as_deref().unwrap_or(""));
                out.status = herald_client::hand_out(&mut self.status, id.as_deref().unwrap_or(""));
            }
            Event::Receipt { from, id } => {
                out.kind = HERALD_EVENT_RECEIPT;
                out.jid = jid(from.as_str());
                out.status = herald_client::hand_out(&mut self.status, id);
            }
            Event::CapsInvalid { from, ver, reason } => {
                out.kind = HERALD_EVENT_CAPS_INVALID;
                out.jid = jid(from.as_str());
                out.code = herald_client::hand_out(&mut self.code, ver);
                out.text = herald_client::hand_out(&mut self.text, reason);
            }
            Event::Disconnected { reason } => {
                out.kind = HERALD_EVENT_DISCONNECTED;
                out.code =
                    herald_client::hand_out(&mut self.code, herald_json::reason_code(reason));
                out.text = herald_client::hand_out(&mut self.text, &reason.to_string());
                out.end = i32::from(herald_json::exit_status(reason));
                out.flag = reason.should_reconnect();
            }
            _ => {}
        }
        out
    }
}
