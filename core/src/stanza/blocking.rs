//! The Blocking Command (XEP-0191): the requests the client sends (the block list, block,
//! unblock) and what it reads (the list, and the server's block and unblock pushes).

use jid::Jid;
use minidom::Element;

use crate::jid_util::parse_jid;
use crate::stanza::{NS_CLIENT, attr_name};
use crate::xml::tree::{ElementRef, Stanza};

/// The blocking namespace.
pub(crate) const NS_BLOCKING: &str = "urn:xmpp:blocking";

fn iq(kind: &'static str, id: &str, payload: Element) -> Element {
    Element::builder("iq", NS_CLIENT)
        .attr(attr_name("type"), kind)
        .attr(attr_name("id"), id)
        .append(payload)
        .build()
}

/// `<iq type='get'><blocklist xmlns='urn:xmpp:blocking'/></iq>` (to the account's server).
pub(crate) fn blocklist_request(id: &str) -> Element {
    iq(
        "get",
        id,
        Element::builder("blocklist", NS_BLOCKING).build(),
    )
}

/// `<iq type='set'><block><item jid='...'/>...</block></iq>`, or `<unblock>` when `block`
/// is false (with no item: unblock everything, XEP-0191 section 3.5).
pub(crate) fn blocking_set(id: &str, block: bool, jids: &[Jid]) -> Element {
    let name = if block { "block" } else { "unblock" };
    let mut payload = Element::builder(name, NS_BLOCKING).build();
    for jid in jids {
        payload.append_child(
            Element::builder("item", NS_BLOCKING)
                .attr(attr_name("jid"), jid.as_str())
                .build(),
        );
    }
    iq("set", id, payload)
}

/// The JIDs of the `<item/>`s of a `<blocklist/>`, `<block/>` or `<unblock/>`, in order;
/// an item whose JID does not parse is skipped.
pub(crate) fn read_items(el: ElementRef<'_>) -> Vec<Jid> {
    el.children()
        .filter(|c| c.is("item", NS_BLOCKING))
        .filter_map(|c| parse_jid(c.attr("jid")?).ok())
        .collect()
}

/// A block or unblock push (XEP-0191 sections 3.3 to 3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Push {
    /// These JIDs are blocked now.
    Block(Vec<Jid>),
    /// These JIDs are unblocked now; none: every JID is.
    Unblock(Vec<Jid>),
}

/// Reads an IQ `set` carrying `<block/>` or `<unblock/>`; `None` for anything else.
pub(crate) fn read_push(iq: &Stanza) -> Option<Push> {
    if !iq.is("iq", NS_CLIENT) || iq.attr("type") != Some("set") {
        return None;
    }
    if let Some(block) = iq.get_child("block", NS_BLOCKING) {
        return Some(Push::Block(read_items(block)));
    }
    iq.get_child("unblock", NS_BLOCKING)
        .map(|unblock| Push::Unblock(read_items(unblock)))
}
