//! Presence: the five availability values of the IPWorks `Presence` property, the stanza the
//! account sends, and the reading of contacts' presence.

use std::fmt;

use jid::Jid;
use minidom::Element;

use crate::jid_util::parse_jid;
use crate::stanza::caps::Caps;
use crate::stanza::{NS_CLIENT, NS_STANZAS, attr_name, condition_and_text};
use crate::xml::tree::Stanza;

/// Availability, numbered as the IPWorks `XmppPresences` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Presence {
    /// Invisible / offline: sent as `<presence type='unavailable'/>`.
    Offline = 0,
    /// Available (the default): `<presence/>` without `<show/>`.
    #[default]
    Chat = 1,
    /// Away from the computer: `<show>away</show>`.
    Away = 2,
    /// Away for a long time: `<show>xa</show>`.
    ExtendedAway = 3,
    /// Busy, do not disturb: `<show>dnd</show>`.
    DoNotDisturb = 4,
}

impl Presence {
    /// All values, in numeric order.
    pub const ALL: [Presence; 5] = [
        Presence::Offline,
        Presence::Chat,
        Presence::Away,
        Presence::ExtendedAway,
        Presence::DoNotDisturb,
    ];

    /// The IPWorks number (0 to 4).
    pub fn as_number(self) -> u8 {
        self as u8
    }

    /// The `<show/>` text, `None` for `Chat` (sent without `<show/>`) and `Offline`.
    pub fn show(self) -> Option<&'static str> {
        match self {
            Presence::Offline | Presence::Chat => None,
            Presence::Away => Some("away"),
            Presence::ExtendedAway => Some("xa"),
            Presence::DoNotDisturb => Some("dnd"),
        }
    }

    /// Short name used by the CLI: `offline`, `chat`, `away`, `xa`, `dnd`.
    pub fn name(self) -> &'static str {
        match self {
            Presence::Offline => "offline",
            Presence::Chat => "chat",
            Presence::Away => "away",
            Presence::ExtendedAway => "xa",
            Presence::DoNotDisturb => "dnd",
        }
    }

    /// Whether this value means the account is available (anything but `Offline`).
    pub fn is_available(self) -> bool {
        self != Presence::Offline
    }

    /// Reads a received `<show/>` leniently: no show, `chat` and unknown values are `Chat`.
    pub fn from_show(show: Option<&str>) -> Presence {
        match show.map(str::trim) {
            Some("away") => Presence::Away,
            Some("xa") => Presence::ExtendedAway,
            Some("dnd") => Presence::DoNotDisturb,
            _ => Presence::Chat,
        }
    }
}

/// A number outside 0..=4, or a name that is not a presence value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a presence value: {0} (expected 0-4 or offline, chat, away, xa, dnd)")]
pub struct InvalidPresence(pub String);

impl TryFrom<u8> for Presence {
    type Error = InvalidPresence;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Presence::ALL
            .get(usize::from(value))
            .copied()
            .ok_or_else(|| InvalidPresence(value.to_string()))
    }
}

impl From<Presence> for u8 {
    fn from(value: Presence) -> u8 {
        value.as_number()
    }
}

impl std::str::FromStr for Presence {
    type Err = InvalidPresence;
    /// Accepts the names (`chat`, `away`, `xa`, `dnd`, `offline`, plus `extended_away`,
    /// `do_not_disturb`, `available`, `unavailable`) and the numbers 0 to 4.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.as_str() {
            "offline" | "unavailable" | "0" => Ok(Presence::Offline),
            "chat" | "available" | "online" | "1" => Ok(Presence::Chat),
            "away" | "2" => Ok(Presence::Away),
            "xa" | "extended_away" | "extendedaway" | "3" => Ok(Presence::ExtendedAway),
            "dnd" | "do_not_disturb" | "donotdisturb" | "busy" | "4" => Ok(Presence::DoNotDisturb),
            _ => Err(InvalidPresence(s.to_string())),
        }
    }
}

impl fmt::Display for Presence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Builds the account's broadcast presence. The caller has checked `status` with
/// [`check_text`](crate::xml::check_text).
pub(crate) fn build_own_presence(presence: Presence, status: &str, priority: i8) -> Element {
    let mut builder = Element::builder("presence", NS_CLIENT);
    if presence == Presence::Offline {
        builder = builder.attr(attr_name("type"), "unavailable");
    }
    let mut el = builder.build();
    if let Some(show) = presence.show() {
        el.append_child(Element::builder("show", NS_CLIENT).append(show).build());
    }
    if !status.is_empty() {
        el.append_child(Element::builder("status", NS_CLIENT).append(status).build());
    }
    if presence.is_available() && priority != 0 {
        el.append_child(
            Element::builder("priority", NS_CLIENT)
                .append(priority.to_string())
                .build(),
        );
    }
    el
}

/// Appends the account's broadcast presence to `out`: the bytes
/// [`build_own_presence`] gives through the writer, without building the element (a
/// presence change is then one stanza and no tree). `status` was checked with
/// [`check_text`](crate::check_text) when it was set.
pub(crate) fn write_own_presence(
    presence: Presence,
    status: &str,
    priority: i8,
    caps: Option<&Caps>,
    out: &mut Vec<u8>,
) {
    let show = presence.show();
    let priority = (presence.is_available() && priority != 0).then_some(priority);
    let caps = caps.filter(|_| presence.is_available());
    out.extend_from_slice(b"<presence");
    if presence == Presence::Offline {
        out.extend_from_slice(b" type='unavailable'");
    }
    if show.is_none() && status.is_empty() && priority.is_none() && caps.is_none() {
        out.extend_from_slice(b"/>");
        return;
    }
    out.push(b'>');
    if let Some(show) = show {
        out.extend_from_slice(b"<show>");
        out.extend_from_slice(show.as_bytes());
        out.extend_from_slice(b"</show>");
    }
    if !status.is_empty() {
        out.extend_from_slice(b"<status>");
        crate::xml::escape_text(status, out);
        out.extend_from_slice(b"</status>");
    }
    if let Some(priority) = priority {
        use std::io::Write;
        out.extend_from_slice(b"<priority>");
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{priority}");
        out.extend_from_slice(b"</priority>");
    }
    if let Some(caps) = caps {
        caps.write(out);
    }
    out.extend_from_slice(b"</presence>");
}

/// A contact's presence as received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IncomingPresence {
    /// The sender (usually a full JID: user, domain, resource).
    pub from: Jid,
    /// Availability on the same five values; `type='unavailable'` is `Offline`.
    pub availability: Presence,
    /// The `<show/>` text as sent, if any (unknown values are kept here and read as `Chat`).
    pub show: Option<String>,
    /// The status text (the first `<status/>`), empty when absent.
    pub status: String,
    /// The priority, 0 when absent; out-of-range values are clamped, unparsable ones are 0.
    pub priority: i8,
    /// The capabilities it announced (XEP-0115 `<c/>`), if any: ask
    /// [`Client::supports`](crate::Client::supports) what they stand for.
    pub caps: Option<Caps>,
}

impl IncomingPresence {
    /// The sender's local part (user), if any.
    pub fn user(&self) -> Option<&str> {
        self.from.node().map(|n| n.as_str())
    }

    /// The sender's domain.
    pub fn domain(&self) -> &str {
        self.from.domain().as_str()
    }

    /// The sender's resource, if any.
    pub fn resource(&self) -> Option<&str> {
        self.from.resource().map(|r| r.as_str())
    }
}

/// What a received `<presence/>` means to the core.
#[derive(Debug)]
pub(crate) enum PresenceKind {
    /// Availability (no type, or `unavailable`).
    Availability(IncomingPresence),
    /// `type='error'`: the condition and text.
    Error {
        from: Option<Jid>,
        condition: String,
        text: Option<String>,
    },
    /// Subscription management, probes, unknown types, or an unreadable `from`: handed to
    /// the application as a raw stanza.
    Other,
}

/// Reads a `<presence/>` leniently: odd values never fail the stanza.
pub(crate) fn classify_presence(el: &Stanza, own_domain: &str) -> PresenceKind {
    let ptype = el.attr("type");
    match ptype {
        Some("error") => {
            // Rare: read the error with the minidom helpers.
            let (condition, text) = stanza_error(&el.to_element());
            PresenceKind::Error {
                from: el.attr("from").and_then(|f| parse_jid(f).ok()),
                condition,
                text,
            }
        }
        None | Some("unavailable") => {
            // A presence without `from` comes from the account's own server.
            let from = match el.attr("from") {
                Some(f) => match parse_jid(f) {
                    Ok(j) => j,
                    Err(_) => return PresenceKind::Other,
                },
                None => match parse_jid(own_domain) {
                    Ok(j) => j,
                    Err(_) => return PresenceKind::Other,
                },
            };
            let show = el.get_child("show", NS_CLIENT).map(|c| c.text());
            let availability = if ptype == Some("unavailable") {
                Presence::Offline
            } else {
                Presence::from_show(show.as_deref())
            };
            PresenceKind::Availability(IncomingPresence {
                from,
                availability,
                show,
                status: el
                    .get_child("status", NS_CLIENT)
                    .map(|c| c.text())
                    .unwrap_or_default(),
                priority: el
                    .get_child("priority", NS_CLIENT)
                    .map(|c| match c.texts().next() {
                        Some(text) if c.texts().nth(1).is_none() => parse_priority(text),
                        _ => parse_priority(&c.text()),
                    })
                    .unwrap_or(0),
                caps: Caps::from_presence(el.root()),
            })
        }
        Some(_) => PresenceKind::Other,
    }
}

fn parse_priority(text: &str) -> i8 {
    match text.trim().parse::<i64>() {
        Ok(v) => v.clamp(i64::from(i8::MIN), i64::from(i8::MAX)) as i8,
        Err(_) => 0,
    }
}

/// The condition and text of a stanza's `<error/>` child (RFC 6120 section 8.3).
pub(crate) fn stanza_error(el: &Element) -> (String, Option<String>) {
    let Some(error) = el.get_child("error", NS_CLIENT) else {
        return ("undefined-condition".to_string(), None);
    };
    let (condition, text) = condition_and_text(error, NS_STANZAS);
    let condition = condition.map_or("undefined-condition", |c| c.name());
    (condition.to_string(), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_as_in_the_seed() {
        for (n, p) in Presence::ALL.iter().enumerate() {
            assert_eq!(Presence::try_from(n as u8).unwrap(), *p);
            assert_eq!(u8::from(*p), n as u8);
        }
        assert_eq!(Presence::Offline as u8, 0);
        assert_eq!(Presence::Chat as u8, 1);
        assert_eq!(Presence::Away as u8, 2);
        assert_eq!(Presence::ExtendedAway as u8, 3);
        assert_eq!(Presence::DoNotDisturb as u8, 4);
        assert!(Presence::try_from(5).is_err());
    }

    #[test]
    fn names_parse() {
        assert_eq!("xa".parse::<Presence>().unwrap(), Presence::ExtendedAway);
        assert_eq!("DND".parse::<Presence>().unwrap(), Presence::DoNotDisturb);
        assert_eq!("3".parse::<Presence>().unwrap(), Presence::ExtendedAway);
        assert!("sleepy".parse::<Presence>().is_err());
    }

    #[test]
    fn default_is_chat() {
        assert_eq!(Presence::default(), Presence::Chat);
    }

    #[test]
    fn written_presence_is_the_built_one() {
        for presence in Presence::ALL {
            for status in ["", "lunch", "a <b> & c\r\n\t \u{e9}\u{1F41F}", "]]>"] {
                for priority in [0, 5, -1, 127, -128] {
                    let mut built = Vec::new();
                    let el = build_own_presence(presence, status, priority);
                    crate::xml::write_element(&el, &mut built).unwrap();
                    let mut written = b"x".to_vec();
                    write_own_presence(presence, status, priority, None, &mut written);
                    assert_eq!(
                        String::from_utf8_lossy(&written[1..]),
                        String::from_utf8_lossy(&built),
                        "{presence:?} {status:?} {priority}"
                    );
                }
            }
        }
    }

    #[test]
    fn priority_is_lenient() {
        assert_eq!(parse_priority(" 5 "), 5);
        assert_eq!(parse_priority("300"), 127);
        assert_eq!(parse_priority("-300"), -128);
        assert_eq!(parse_priority("high"), 0);
    }

    #[test]
    fn show_is_lenient() {
        assert_eq!(Presence::from_show(None), Presence::Chat);
        assert_eq!(Presence::from_show(Some("chat")), Presence::Chat);
        assert_eq!(Presence::from_show(Some("sleeping")), Presence::Chat);
        assert_eq!(Presence::from_show(Some("xa")), Presence::ExtendedAway);
    }
}
