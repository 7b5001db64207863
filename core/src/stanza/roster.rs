//! The roster (RFC 6121 section 2): items, reading `<query xmlns='jabber:iq:roster'/>`, and
//! building roster gets and sets.

use std::collections::BTreeMap;

use jid::BareJid;
use minidom::Element;

use crate::jid_util::parse_jid;
use crate::stanza::{NS_CLIENT, attr_name};

/// The roster namespace.
pub(crate) const NS_ROSTER: &str = "jabber:iq:roster";
/// Roster versioning stream feature (XEP-0237).
pub(crate) const NS_ROSTER_VER: &str = "urn:xmpp:features:rosterver";
/// Subscription pre-approval stream feature (RFC 6121 section 3.4).
pub(crate) const NS_PRE_APPROVAL: &str = "urn:xmpp:features:pre-approval";

/// The subscription state of a roster item (RFC 6121 section 2.1.2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Subscription {
    /// Neither side sees the other's presence.
    #[default]
    None,
    /// We see the contact's presence.
    To,
    /// The contact sees ours.
    From,
    /// Both ways.
    Both,
    /// The item was removed: only in a removal push ([`RosterChange::Removed`]), never in
    /// a [`Roster`], as the push itself says (RFC 6121 section 2.1.2.5).
    ///
    /// [`RosterChange::Removed`]: crate::RosterChange::Removed
    Remove,
}

impl Subscription {
    /// The attribute value: `none`, `to`, `from`, `both` (or `remove`).
    pub fn as_str(self) -> &'static str {
        match self {
            Subscription::None => "none",
            Subscription::To => "to",
            Subscription::From => "from",
            Subscription::Both => "both",
            Subscription::Remove => "remove",
        }
    }
}

/// One contact in the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RosterItem {
    /// The contact's bare JID.
    pub jid: BareJid,
    /// The name the user gave the contact, if any.
    pub name: Option<String>,
    /// Groups, in the order the server sent them.
    pub groups: Vec<String>,
    /// Subscription state.
    pub subscription: Subscription,
    /// A subscription request from us is pending (`ask='subscribe'`).
    pub pending_out: bool,
    /// The contact is pre-approved (`approved='true'`).
    pub approved: bool,
}

impl RosterItem {
    /// An item for `jid` with no name, no groups and no subscription.
    pub fn new(jid: BareJid) -> Self {
        RosterItem {
            jid,
            name: None,
            groups: Vec::new(),
            subscription: Subscription::None,
            pending_out: false,
            approved: false,
        }
    }
}

/// The account's roster as the core knows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Roster {
    /// The roster version (XEP-0237), when the server uses versioning.
    pub version: Option<String>,
    /// Items by bare JID.
    pub items: BTreeMap<BareJid, RosterItem>,
}

impl Roster {
    /// A roster from cached items, to hand to [`Config::roster_cache`](crate::Config).
    pub fn from_items(
        version: Option<String>,
        items: impl IntoIterator<Item = RosterItem>,
    ) -> Self {
        Roster {
            version,
            items: items.into_iter().map(|i| (i.jid.clone(), i)).collect(),
        }
    }

    /// The item for `jid`.
    pub fn get(&self, jid: &BareJid) -> Option<&RosterItem> {
        self.items.get(jid)
    }
}

/// One `<item/>` read from a query: an item, or the removal of one (as the push describes
/// it, with [`Subscription::Remove`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ItemChange {
    Upsert(RosterItem),
    Remove(RosterItem),
}

/// Reads an `<item/>`; `None` when its JID is unusable (such items are skipped).
pub(crate) fn read_item(el: &Element) -> Option<ItemChange> {
    let jid = parse_jid(el.attr("jid")?).ok()?.into_bare();
    let subscription = match el.attr("subscription") {
        Some("remove") => Subscription::Remove,
        Some("to") => Subscription::To,
        Some("from") => Subscription::From,
        Some("both") => Subscription::Both,
        _ => Subscription::None,
    };
    let item = RosterItem {
        jid,
        name: el
            .attr("name")
            .filter(|n| !n.is_empty())
            .map(str::to_string),
        groups: el
            .children()
            .filter(|c| c.is("group", NS_ROSTER))
            .map(Element::text)
            .collect(),
        subscription,
        pending_out: el.attr("ask") == Some("subscribe"),
        approved: el.attr("approved") == Some("true"),
    };
    Some(if subscription == Subscription::Remove {
        ItemChange::Remove(item)
    } else {
        ItemChange::Upsert(item)
    })
}

/// `<iq type='get'><query xmlns='jabber:iq:roster' [ver]/></iq>`.
pub(crate) fn roster_get(id: &str, version: Option<&str>) -> Element {
    let mut query = Element::builder("query", NS_ROSTER);
    if let Some(v) = version {
        query = query.attr(attr_name("ver"), v);
    }
    Element::builder("iq", NS_CLIENT)
        .attr(attr_name("type"), "get")
        .attr(attr_name("id"), id)
        .append(query.build())
        .build()
}

/// A roster set for one item: add or update (`name`, `groups`), or remove.
pub(crate) fn roster_set(
    id: &str,
    jid: &BareJid,
    edit: Option<(Option<&str>, &[String])>,
) -> Element {
    let mut item = Element::builder("item", NS_ROSTER).attr(attr_name("jid"), jid.as_str());
    match edit {
        None => item = item.attr(attr_name("subscription"), "remove"),
        Some((name, groups)) => {
            if let Some(name) = name {
                item = item.attr(attr_name("name"), name);
            }
            for group in groups {
                item = item.append(
                    Element::builder("group", NS_ROSTER)
                        .append(group.as_str())
                        .build(),
                );
            }
        }
    }
    Element::builder("iq", NS_CLIENT)
        .attr(attr_name("type"), "set")
        .attr(attr_name("id"), id)
        .append(
            Element::builder("query", NS_ROSTER)
                .append(item.build())
                .build(),
        )
        .build()
}

/// A presence of `kind` (`subscribe`, `subscribed`, `unsubscribe`, `unsubscribed`, `probe`)
/// addressed to `to`.
pub(crate) fn presence_to(kind: &str, to: &str) -> Element {
    Element::builder("presence", NS_CLIENT)
        .attr(attr_name("to"), to)
        .attr(attr_name("type"), kind)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(xml: &str) -> Option<ItemChange> {
        let el: Element = format!("<item xmlns='{NS_ROSTER}' {xml}").parse().unwrap();
        read_item(&el)
    }

    #[test]
    fn items_are_read_leniently() {
        let Some(ItemChange::Upsert(i)) = item(
            "jid='bob@localhost' name='Bob' subscription='both' ask='subscribe'>\
             <group>Friends</group><group>Work</group></item>",
        ) else {
            panic!()
        };
        assert_eq!(i.jid.as_str(), "bob@localhost");
        assert_eq!(i.name.as_deref(), Some("Bob"));
        assert_eq!(i.groups, ["Friends", "Work"]);
        assert_eq!(i.subscription, Subscription::Both);
        assert!(i.pending_out);
        let Some(ItemChange::Upsert(i)) = item("jid='carol@localhost' subscription='odd'/>") else {
            panic!()
        };
        assert_eq!(i.subscription, Subscription::None);
        let mut removed = RosterItem::new(parse_jid("dave@localhost").unwrap().into_bare());
        removed.subscription = Subscription::Remove;
        assert_eq!(
            item("jid='dave@localhost' subscription='remove'/>"),
            Some(ItemChange::Remove(removed))
        );
        assert_eq!(item("jid='@@@'/>"), None);
        assert_eq!(item("name='no jid'/>"), None);
    }
}
