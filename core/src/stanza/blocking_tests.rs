//! Reading and writing the Blocking Command's elements (XEP-0191).

use jid::Jid;

use super::blocking::*;
use crate::xml::read_after_header as read;

fn jid(s: &str) -> Jid {
    Jid::new(s).unwrap()
}

fn written(el: &minidom::Element) -> String {
    let mut out = Vec::new();
    crate::xml::write_element(el, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The requests as XEP-0191 examples 3, 6 and 10 show them, JIDs escaped.
#[test]
fn requests_are_written_as_in_the_xep() {
    assert_eq!(
        written(&blocklist_request("b1")),
        "<iq id='b1' type='get'><blocklist xmlns='urn:xmpp:blocking'/></iq>"
    );
    let jids = [jid("romeo@montague.net"), jid("iago@shakespeare.lit/a'b&c")];
    assert_eq!(
        written(&blocking_set("b2", true, &jids)),
        "<iq id='b2' type='set'><block xmlns='urn:xmpp:blocking'>\
         <item jid='romeo@montague.net'/><item jid='iago@shakespeare.lit/a&apos;b&amp;c'/>\
         </block></iq>"
    );
    assert_eq!(
        written(&blocking_set("b3", false, &[])),
        "<iq id='b3' type='set'><unblock xmlns='urn:xmpp:blocking'/></iq>"
    );
}

/// Pushes are read with their items; an unparsable JID is skipped; an unblock with no
/// item is "everything"; other IQs are not pushes.
#[test]
fn pushes_are_read() {
    let push = read(
        "<iq id='p1' type='set'><block xmlns='urn:xmpp:blocking'>\
         <item jid='romeo@montague.net'/><item jid='@bad'/><item/>\
         <item jid='x@y' xmlns='other'/></block></iq>",
    );
    assert_eq!(
        read_push(&push),
        Some(Push::Block(vec![jid("romeo@montague.net")]))
    );
    let all = read("<iq id='p2' type='set'><unblock xmlns='urn:xmpp:blocking'/></iq>");
    assert_eq!(read_push(&all), Some(Push::Unblock(Vec::new())));
    let get = read("<iq id='p3' type='get'><block xmlns='urn:xmpp:blocking'/></iq>");
    assert_eq!(read_push(&get), None);
    let other = read("<iq id='p4' type='set'><query xmlns='jabber:iq:roster'/></iq>");
    assert_eq!(read_push(&other), None);
}

#[test]
fn the_list_is_read() {
    let result = read(
        "<iq id='b1' type='result'><blocklist xmlns='urn:xmpp:blocking'>\
         <item jid='romeo@montague.net'/><item jid='montague.net'/></blocklist></iq>",
    );
    let list = result.get_child("blocklist", NS_BLOCKING).unwrap();
    assert_eq!(
        read_items(list),
        vec![jid("romeo@montague.net"), jid("montague.net")]
    );
}
