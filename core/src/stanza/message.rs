//! Messages (RFC 6121 section 5), with delivery receipts (XEP-0184), message carbons
//! (XEP-0280 v1.0) and delayed delivery (XEP-0203): reading what the server delivers and
//! writing what the account sends.

use jid::{BareJid, Jid};
use minidom::rxml::XMLNS_XML;

use crate::jid_util::parse_jid;
use crate::stanza::{NS_CLIENT, NS_STANZAS, condition_and_text};
use crate::xml::tree::{ElementRef, Stanza};
use crate::xml::{InvalidXml, escape_text, invalid_char, push_attr};

/// Message Delivery Receipts (XEP-0184).
pub(crate) const NS_RECEIPTS: &str = "urn:xmpp:receipts";
/// Message Carbons (XEP-0280).
pub(crate) const NS_CARBONS: &str = "urn:xmpp:carbons:2";
/// Stanza Forwarding (XEP-0297), which carbons wrap their copy in.
pub(crate) const NS_FORWARD: &str = "urn:xmpp:forward:0";
/// Delayed Delivery (XEP-0203).
pub(crate) const NS_DELAY: &str = "urn:xmpp:delay";

/// The `type` of a message (RFC 6121 section 5.2.2). `type='error'` is not a kind of
/// message but a failure report, read separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum MessageType {
    /// One-to-one conversation.
    Chat,
    /// A standalone message, expecting no conversation (the default: a message without
    /// `type`, or with a type RFC 6121 does not define, is normal).
    #[default]
    Normal,
    /// An alert or news item, no reply expected.
    Headline,
    /// A message in a multi-user chat room.
    Groupchat,
}

impl MessageType {
    /// The `type` attribute value: `chat`, `normal`, `headline` or `groupchat`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Chat => "chat",
            MessageType::Normal => "normal",
            MessageType::Headline => "headline",
            MessageType::Groupchat => "groupchat",
        }
    }

    /// Reads a `type` attribute: missing or unknown values (and `error`) are `Normal`.
    pub(crate) fn from_attr(value: Option<&str>) -> MessageType {
        match value {
            Some("chat") => MessageType::Chat,
            Some("headline") => MessageType::Headline,
            Some("groupchat") => MessageType::Groupchat,
            _ => MessageType::Normal,
        }
    }
}

/// When and by whom a message was delayed (XEP-0203): offline storage, a room's history.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delay {
    /// When the message was first sent, as the server wrote it (an XEP-0082 UTC date-time
    /// such as `2002-09-10T23:08:25Z`; not checked).
    pub stamp: String,
    /// Who delayed it (a server or a room), when stated and valid.
    pub from: Option<Jid>,
}

/// Which side of a conversation held on another of the account's resources a carbon copy
/// (XEP-0280) shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CarbonDirection {
    /// A message another resource of the account received.
    Received,
    /// A message another resource of the account sent: `from` is that resource, `to` the
    /// recipient.
    Sent,
}

/// A message with content (a body or a thread), as delivered or as a carbon copy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IncomingMessage {
    /// The sender. A message delivered without `from` is from the account itself (its
    /// bare JID: RFC 6120 section 8.1.2.1, the server sending on the account's behalf). For
    /// a [`Sent`](CarbonDirection::Sent) carbon: the account's resource that sent it.
    pub from: Jid,
    /// The addressee as stated (`None` when absent). For a
    /// [`Sent`](CarbonDirection::Sent) carbon: whom the account wrote to.
    pub to: Option<Jid>,
    /// The message type.
    pub kind: MessageType,
    /// The text: the `<body/>` without `xml:lang`, else the one in the stanza's language
    /// (its own `xml:lang`, else the stream's), else the first. `None` without a body.
    pub body: Option<String>,
    /// The conversation thread (`<thread/>`), if any.
    pub thread: Option<String>,
    /// The message `id`, if any.
    pub id: Option<String>,
    /// Delayed delivery information, if the message was delayed.
    pub delay: Option<Delay>,
    /// The sender asks for a delivery receipt (XEP-0184): answer with a receipt for `id`.
    /// Never set on groupchat messages, on messages without `id`, or on carbon copies
    /// (the resource the message went to answers, not this one).
    pub receipt_requested: bool,
    /// Set when this is a carbon copy (XEP-0280) of a message another of the account's
    /// resources received or sent.
    pub carbon: Option<CarbonDirection>,
}

/// What a received `<message/>` means to the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MessageKind {
    /// A message with a body or a thread, possibly a carbon copy.
    Message(IncomingMessage),
    /// `type='error'`: a message we sent could not be delivered. `condition` is
    /// `undefined-condition` when the error names none.
    Error {
        from: Option<Jid>,
        id: Option<String>,
        condition: String,
        text: Option<String>,
    },
    /// A delivery receipt (XEP-0184) for the message `id` we sent to `from`.
    Receipt { from: Jid, id: String },
    /// A carbon wrapper (XEP-0280) sent by someone other than the account (`from`): a
    /// forgery, to be dropped (and logged), never unwrapped.
    Forged { from: Jid },
    /// Anything else (chat states only, a subject, an unreadable address, a malformed or
    /// nested carbon...): handed to the application as a raw stanza.
    Other,
}

/// Reads a `<message/>` the server delivered. `own` is the account's bare JID;
/// `default_lang` the stream's `xml:lang` (RFC 6120 section 4.7.4), which a stanza without
/// its own inherits.
///
/// Carbon copies are unwrapped (one level only) when the wrapper comes from `own` or has
/// no `from`: the server stamps `from` on everything it routes from other entities, so a
/// stanza without one was generated by the server on the account's behalf (RFC 6120
/// section 8.1.2.1), just as one from the bare JID. Anything else is
/// [`MessageKind::Forged`] (XEP-0280 section 11: copies not from the bare JID MUST be
/// ignored); a wrapper from one of the account's full JIDs is refused too.
pub(crate) fn classify_message(
    el: &Stanza,
    own: &BareJid,
    default_lang: Option<&str>,
) -> MessageKind {
    let msg = el.root();
    if !msg.is("message", NS_CLIENT) {
        return MessageKind::Other;
    }
    if msg.attr("type") == Some("error") {
        return read_error(msg);
    }
    let Some((from, to)) = addresses(msg, own) else {
        return MessageKind::Other;
    };
    let mut carbons = msg.children().filter(|c| is_carbon(*c));
    if let Some(wrapper) = carbons.next() {
        if carbons.next().is_some() {
            return MessageKind::Other;
        }
        if from != *own {
            return MessageKind::Forged { from };
        }
        // The forwarded message inherits the wrapper's language (XML 1.0 section 2.12).
        let lang = msg.attr_ns(XMLNS_XML, "lang").or(default_lang);
        return unwrap_carbon(wrapper, own, lang);
    }
    let kind = MessageType::from_attr(msg.attr("type"));
    let id = non_empty(msg.attr("id"));
    let Some(mut message) = read_content(msg, from.clone(), to, default_lang) else {
        return match msg.get_child("received", NS_RECEIPTS) {
            Some(receipt) => match non_empty(receipt.attr("id")).or(id) {
                // Before XEP-0184 1.1 the receipt carried the acknowledged id as its own.
                Some(id) => MessageKind::Receipt { from, id },
                None => MessageKind::Other,
            },
            None => MessageKind::Other,
        };
    };
    message.receipt_requested = kind != MessageType::Groupchat
        && message.id.is_some()
        && msg.has_child("request", NS_RECEIPTS);
    MessageKind::Message(message)
}

/// The message a carbon `<received/>` or `<sent/>` forwards, if it is a readable,
/// non-error message with content and no carbon of its own.
fn unwrap_carbon(
    wrapper: ElementRef<'_>,
    own: &BareJid,
    default_lang: Option<&str>,
) -> MessageKind {
    let direction = match wrapper.name() {
        "sent" => CarbonDirection::Sent,
        _ => CarbonDirection::Received,
    };
    let Some(forwarded) = wrapper.get_child("forwarded", NS_FORWARD) else {
        return MessageKind::Other;
    };
    let Some(inner) = forwarded.get_child("message", NS_CLIENT) else {
        return MessageKind::Other;
    };
    // A carbon inside a carbon is never unwrapped: one level only.
    if inner.attr("type") == Some("error") || inner.children().any(is_carbon) {
        return MessageKind::Other;
    }
    let Some((from, to)) = addresses(inner, own) else {
        return MessageKind::Other;
    };
    match read_content(inner, from, to, default_lang) {
        Some(mut message) => {
            message.delay = message.delay.or_else(|| read_delay(forwarded));
            message.carbon = Some(direction);
            MessageKind::Message(message)
        }
        None => MessageKind::Other,
    }
}

/// Whether `el` is a carbon wrapper (`<private/>`, the no-copy hint, is not).
fn is_carbon(el: ElementRef<'_>) -> bool {
    el.has_ns(NS_CARBONS) && matches!(el.name(), "received" | "sent")
}

/// `from` (absent: the account's bare JID) and `to`; `None` when either is not a JID.
fn addresses(msg: ElementRef<'_>, own: &BareJid) -> Option<(Jid, Option<Jid>)> {
    let from = match msg.attr("from") {
        Some(from) => parse_jid(from).ok()?,
        None => Jid::from(own.clone()),
    };
    let to = match msg.attr("to") {
        Some(to) => Some(parse_jid(to).ok()?),
        None => None,
    };
    Some((from, to))
}

/// The message, if it has a body or a thread (receipt request left unset).
fn read_content(
    msg: ElementRef<'_>,
    from: Jid,
    to: Option<Jid>,
    default_lang: Option<&str>,
) -> Option<IncomingMessage> {
    let body = select_body(msg, default_lang);
    let thread = msg.get_child("thread", NS_CLIENT).map(|t| t.text());
    if body.is_none() && thread.is_none() {
        return None;
    }
    Some(IncomingMessage {
        from,
        to,
        kind: MessageType::from_attr(msg.attr("type")),
        body,
        thread,
        id: non_empty(msg.attr("id")),
        delay: read_delay(msg),
        receipt_requested: false,
        carbon: None,
    })
}

/// The body to show (RFC 6121 section 5.2.3): the one without `xml:lang`, else the one in
/// the stanza's inherited language, else the first.
fn select_body(msg: ElementRef<'_>, default_lang: Option<&str>) -> Option<String> {
    let lang = msg.attr_ns(XMLNS_XML, "lang").or(default_lang);
    let mut first = None;
    let mut matching = None;
    for body in msg.children().filter(|c| c.is("body", NS_CLIENT)) {
        let Some(body_lang) = body.attr_ns(XMLNS_XML, "lang") else {
            return Some(body.text());
        };
        first = first.or(Some(body));
        // Language tags compare without regard to case (BCP 47).
        if matching.is_none() && lang.is_some_and(|l| l.eq_ignore_ascii_case(body_lang)) {
            matching = Some(body);
        }
    }
    matching.or(first).map(|b| b.text())
}

/// The first `<delay/>` with a `stamp` (an invalid `from` is dropped, not fatal).
fn read_delay(el: ElementRef<'_>) -> Option<Delay> {
    el.children()
        .filter(|c| c.is("delay", NS_DELAY))
        .find_map(|delay| {
            Some(Delay {
                stamp: delay.attr("stamp")?.to_string(),
                from: delay.attr("from").and_then(|f| parse_jid(f).ok()),
            })
        })
}

/// `type='error'`: the sender (if valid), id, condition and text (RFC 6120 section 8.3).
fn read_error(msg: ElementRef<'_>) -> MessageKind {
    // Rare: read the error element with the minidom helper.
    let error = msg.get_child("error", NS_CLIENT).map(|e| e.to_element());
    let (condition, text) = match &error {
        Some(error) => {
            let (condition, text) = condition_and_text(error, NS_STANZAS);
            (condition.map(|c| c.name().to_string()), text)
        }
        None => (None, None),
    };
    MessageKind::Error {
        from: msg.attr("from").and_then(|f| parse_jid(f).ok()),
        id: non_empty(msg.attr("id")),
        condition: condition.unwrap_or_else(|| "undefined-condition".to_string()),
        text,
    }
}

fn non_empty(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_string)
}

/// Fails on the first of `texts` XML 1.0 cannot carry.
fn check_all(texts: &[&str]) -> Result<(), InvalidXml> {
    match texts.iter().find_map(|t| invalid_char(t)) {
        Some(ch) => Err(InvalidXml::Char { ch }),
        None => Ok(()),
    }
}

/// Appends `<message to='…' type='…' id='…'><body>…</body></message>`, with
/// `<request xmlns='urn:xmpp:receipts'/>` when `request_receipt` (XEP-0184). The stanza
/// takes the stream's default namespace (`jabber:client`). When `body` or `id` holds a
/// character XML cannot carry, nothing is appended.
pub(crate) fn write_message(
    to: &Jid,
    kind: MessageType,
    body: &str,
    id: &str,
    request_receipt: bool,
    out: &mut Vec<u8>,
) -> Result<(), InvalidXml> {
    check_all(&[to.as_str(), body, id])?;
    out.extend_from_slice(b"<message");
    push_attr("to", to.as_str(), out);
    push_attr("type", kind.as_str(), out);
    push_attr("id", id, out);
    out.extend_from_slice(b"><body>");
    escape_text(body, out);
    out.extend_from_slice(b"</body>");
    if request_receipt {
        out.extend_from_slice(b"<request xmlns='urn:xmpp:receipts'/>");
    }
    out.extend_from_slice(b"</message>");
    Ok(())
}

/// Appends a delivery receipt (XEP-0184): `<message to='…' id='…'><received
/// xmlns='urn:xmpp:receipts' id='…'/></message>`, where `id` is the new stanza's id and
/// `acked_id` the id of the message received. Nothing is appended on error.
pub(crate) fn write_receipt(
    to: &Jid,
    id: &str,
    acked_id: &str,
    out: &mut Vec<u8>,
) -> Result<(), InvalidXml> {
    check_all(&[to.as_str(), id, acked_id])?;
    out.extend_from_slice(b"<message");
    push_attr("to", to.as_str(), out);
    push_attr("id", id, out);
    out.extend_from_slice(b"><received xmlns='urn:xmpp:receipts'");
    push_attr("id", acked_id, out);
    out.extend_from_slice(b"/></message>");
    Ok(())
}

/// Appends the request that enables carbons for this session (XEP-0280 section 4):
/// `<iq type='set' id='…'><enable xmlns='urn:xmpp:carbons:2'/></iq>`. Nothing is appended
/// on error.
pub(crate) fn write_carbons_enable(id: &str, out: &mut Vec<u8>) -> Result<(), InvalidXml> {
    check_all(&[id])?;
    out.extend_from_slice(b"<iq type='set'");
    push_attr("id", id, out);
    out.extend_from_slice(b"><enable xmlns='urn:xmpp:carbons:2'/></iq>");
    Ok(())
}
