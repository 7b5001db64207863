//! Commands: the session, the account's presence, stanzas, the roster and subscriptions.
//! Each takes `now_ms`; misuse returns an error code and changes nothing.

use std::ffi::c_char;

use herald_core::jid::{BareJid, Jid};
use herald_core::minidom::Element;
use herald_core::{Client, Instant, MessageType, UsageError};

use crate::client::{herald_client, presence};
use crate::guard::{Error, Result, text, with_client};
use crate::types::*;

fn bare_jid(ptr: *const c_char, len: usize) -> Result<BareJid> {
    let s = text(ptr, len, "jid")?;
    BareJid::new(s).map_err(|e| Error::invalid(format!("invalid bare JID {s:?}: {e}")))
}

fn any_jid(ptr: *const c_char, len: usize) -> Result<Jid> {
    let s = text(ptr, len, "jid")?;
    Jid::new(s).map_err(|e| Error::invalid(format!("invalid JID {s:?}: {e}")))
}

/// Sends unavailable presence (when online), then `</stream:stream>`, and waits (bounded)
/// for the server's; the session ends with `HERALD_END_LOCAL_CLOSE`.
#[unsafe(no_mangle)]
pub extern "C" fn herald_close(client: *mut herald_client, now_ms: u64) -> i32 {
    with_client(client, |c| {
        let now = c.instant(now_ms)?;
        c.core.close(now)?;
        Ok(HERALD_OK)
    })
}

/// Sets the account's presence, `HERALD_PRESENCE_*`, keeping the status (IPWorks
/// `Presence`). Online, a change sends one stanza; before, it goes out in the initial
/// presence.
#[unsafe(no_mangle)]
pub extern "C" fn herald_set_presence(
    client: *mut herald_client,
    now_ms: u64,
    presence: i32,
) -> i32 {
    with_client(client, |c| {
        let presence = self::presence(presence)?;
        let now = c.instant(now_ms)?;
        c.core.set_presence(now, presence)?;
        Ok(HERALD_OK)
    })
}

/// Sets the status text (UTF-8, `len` bytes; empty clears it), keeping the presence
/// (IPWorks `Status`).
#[unsafe(no_mangle)]
pub extern "C" fn herald_set_status(
    client: *mut herald_client,
    now_ms: u64,
    status: *const c_char,
    len: usize,
) -> i32 {
    with_client(client, |c| {
        let status = text(status, len, "status")?;
        let now = c.instant(now_ms)?;
        c.core.set_status(now, status)?;
        Ok(HERALD_OK)
    })
}

/// Sets presence and status together, in one stanza (IPWorks `ChangePresence`).
#[unsafe(no_mangle)]
pub extern "C" fn herald_change_presence(
    client: *mut herald_client,
    now_ms: u64,
    presence: i32,
    status: *const c_char,
    len: usize,
) -> i32 {
    with_client(client, |c| {
        let presence = self::presence(presence)?;
        let status = text(status, len, "status")?;
        let now = c.instant(now_ms)?;
        c.core.change_presence(now, presence, status)?;
        Ok(HERALD_OK)
    })
}

/// Sends the account's current presence to `jid` only (directed presence).
#[unsafe(no_mangle)]
pub extern "C" fn herald_send_directed_presence(
    client: *mut herald_client,
    now_ms: u64,
    jid: *const c_char,
    len: usize,
) -> i32 {
    with_client(client, |c| {
        let jid = any_jid(jid, len)?;
        let now = c.instant(now_ms)?;
        c.core.send_directed_presence(now, &jid)?;
        Ok(HERALD_OK)
    })
}

/// Sends one stanza given as XML text (a `<message/>`, `<iq/>` or directed `<presence/>`;
/// broadcast presence goes through the presence calls), its root declaring
/// `xmlns='jabber:client'`.
#[unsafe(no_mangle)]
pub extern "C" fn herald_send_xml(
    client: *mut herald_client,
    now_ms: u64,
    xml: *const c_char,
    len: usize,
) -> i32 {
    with_client(client, |c| {
        let xml = text(xml, len, "xml")?;
        let element = parse_stanza(xml)?;
        let now = c.instant(now_ms)?;
        c.core.send(now, &element)?;
        Ok(HERALD_OK)
    })
}

fn parse_stanza(xml: &str) -> Result<Element> {
    xml.parse::<Element>()
        .map_err(|e| Error::invalid(format!("xml is not one element: {e}")))
}

/// A chat message (XEP-0184 receipt requested when the contact's verified capabilities
/// include receipts).
pub const HERALD_MESSAGE_CHAT: i32 = 0;
/// A normal message.
pub const HERALD_MESSAGE_NORMAL: i32 = 1;
/// A headline.
pub const HERALD_MESSAGE_HEADLINE: i32 = 2;

/// Sends `body` to `to` as a message of `kind` (`HERALD_MESSAGE_*`) and stores its id,
/// NUL-terminated, in `id` (`id_capacity` bytes; the id is at most 64 bytes): a receipt or
/// an error event names it. `HERALD_ERR_BUFFER_TOO_SMALL` (nothing sent) when the id does
/// not fit. Online only.
#[unsafe(no_mangle)]
pub extern "C" fn herald_send_message(
    client: *mut herald_client,
    now_ms: u64,
    to: *const c_char,
    to_len: usize,
    body: *const c_char,
    body_len: usize,
    kind: i32,
    id: *mut c_char,
    id_capacity: usize,
) -> i32 {
    with_client(client, |c| {
        let to = any_jid(to, to_len)?;
        let body = text(body, body_len, "body")?;
        let kind = match kind {
            HERALD_MESSAGE_CHAT => MessageType::Chat,
            HERALD_MESSAGE_NORMAL => MessageType::Normal,
            HERALD_MESSAGE_HEADLINE => MessageType::Headline,
            other => {
                return Err(Error::invalid(format!(
                    "message kind {other} is not 0 to 2"
                )));
            }
        };
        if id.is_null() {
            return Err(Error::null("id"));
        }
        // The core's ids are a short prefix and a counter: far below 64 bytes.
        if id_capacity < 65 {
            return Err(Error::new(
                HERALD_ERR_BUFFER_TOO_SMALL,
                "the id buffer needs 65 bytes",
            ));
        }
        let now = c.instant(now_ms)?;
        let sent = c.core.send_message(now, &to, body, kind)?;
        let n = sent.len().min(64);
        // SAFETY: `id` is non-null with at least 65 writable bytes (checked above, the
        // caller's promise); `sent` is our own memory.
        unsafe {
            std::ptr::copy_nonoverlapping(sent.as_ptr(), id.cast::<u8>(), n);
            id.add(n).write(0);
        }
        Ok(HERALD_OK)
    })
}

/// Adds `jid` to the roster with `name` (may be empty for none) and asks for a
/// subscription to its presence, as IPWorks `Add` does. Online only.
#[unsafe(no_mangle)]
pub extern "C" fn herald_add_contact(
    client: *mut herald_client,
    now_ms: u64,
    jid: *const c_char,
    jid_len: usize,
    name: *const c_char,
    name_len: usize,
) -> i32 {
    with_client(client, |c| {
        let jid = bare_jid(jid, jid_len)?;
        let name = text(name, name_len, "name")?;
        let now = c.instant(now_ms)?;
        let name = (!name.is_empty()).then_some(name);
        c.core.add_contact(now, &jid, name, &[])?;
        Ok(HERALD_OK)
    })
}

/// Runs a command that takes one JID.
fn jid_command<J>(
    client: *mut herald_client,
    now_ms: u64,
    jid: (*const c_char, usize),
    parse: fn(*const c_char, usize) -> Result<J>,
    command: fn(&mut Client, Instant, &J) -> std::result::Result<(), UsageError>,
) -> i32 {
    with_client(client, |c| {
        let jid = parse(jid.0, jid.1)?;
        let now = c.instant(now_ms)?;
        command(&mut c.core, now, &jid)?;
        Ok(HERALD_OK)
    })
}

/// Removes `jid` (a bare JID) from the roster; the server cancels subscriptions both
/// ways. Online only.
#[unsafe(no_mangle)]
pub extern "C" fn herald_remove_contact(
    client: *mut herald_client,
    now_ms: u64,
    jid: *const c_char,
    len: usize,
) -> i32 {
    jid_command(client, now_ms, (jid, len), bare_jid, Client::remove_contact)
}

/// Asks to see `jid`'s presence (`subscribe`). Online only.
#[unsafe(no_mangle)]
pub extern "C" fn herald_subscribe(
    client: *mut herald_client,
    now_ms: u64,
    jid: *const c_char,
    len: usize,
) -> i32 {
    jid_command(client, now_ms, (jid, len), bare_jid, Client::subscribe)
}

/// Stops seeing `jid`'s presence (`unsubscribe`). Online only.
#[unsafe(no_mangle)]
pub extern "C" fn herald_unsubscribe(
    client: *mut herald_client,
    now_ms: u64,
    jid: *const c_char,
    len: usize,
) -> i32 {
    jid_command(client, now_ms, (jid, len), bare_jid, Client::unsubscribe)
}

/// Lets `jid` see our presence (`subscribed`): answers its request, or pre-approves it
/// when the server allows. `HERALD_ERR_STATE` when there is nothing to answer and no
/// pre-approval. Online only.
#[unsafe(no_mangle)]
pub extern "C" fn herald_approve(
    client: *mut herald_client,
    now_ms: u64,
    jid: *const c_char,
    len: usize,
) -> i32 {
    jid_command(client, now_ms, (jid, len), bare_jid, Client::approve)
}

/// Refuses `jid`'s request, or takes back its permission (`unsubscribed`). Online only.
#[unsafe(no_mangle)]
pub extern "C" fn herald_deny(
    client: *mut herald_client,
    now_ms: u64,
    jid: *const c_char,
    len: usize,
) -> i32 {
    jid_command(client, now_ms, (jid, len), bare_jid, Client::deny)
}

/// Asks the server for `jid`'s current presence (`probe`). Online only.
#[unsafe(no_mangle)]
pub extern "C" fn herald_probe(
    client: *mut herald_client,
    now_ms: u64,
    jid: *const c_char,
    len: usize,
) -> i32 {
    jid_command(client, now_ms, (jid, len), any_jid, Client::probe)
}
