//! The compact stanza tree: navigation, equality, conversions and its memory bound.

use minidom::Element;
use minidom::rxml::XMLNS_XML;
use proptest::prelude::*;

use super::tree::{NodeRef, Stanza};
use crate::xml::{arb_element, read_after_header as read};

#[test]
fn reads_like_a_minidom_element() {
    let stanza = read(
        "<message from='a@b/c' type='chat' xml:lang='en'><body>x &amp; y</body>\
         <active xmlns='http://jabber.org/protocol/chatstates'/>tail</message>",
    );
    assert!(stanza.is("message", "jabber:client"));
    assert_eq!(stanza.attr("from"), Some("a@b/c"));
    assert_eq!(stanza.attr("lang"), None);
    assert_eq!(stanza.root().attr_ns(XMLNS_XML, "lang"), Some("en"));
    assert_eq!(stanza.attrs().count(), 3);
    let names: Vec<&str> = stanza.children().map(|c| c.name()).collect();
    assert_eq!(names, ["body", "active"]);
    assert_eq!(
        stanza.get_child("body", "jabber:client").map(|b| b.text()),
        Some("x & y".to_string())
    );
    assert!(stanza.has_child("active", "http://jabber.org/protocol/chatstates"));
    assert!(!stanza.has_child("active", "jabber:client"));
    assert_eq!(stanza.text(), "tail");
    let nodes: Vec<bool> = stanza
        .root()
        .nodes()
        .map(|n| matches!(n, NodeRef::Text(_)))
        .collect();
    assert_eq!(nodes, [false, false, true]);
    let el = stanza.to_element();
    assert_eq!(Stanza::from(&el), stanza);
    assert_eq!(el.attr("type"), Some("chat"));
}

#[test]
fn equality_is_xml_equality() {
    let a = read("<iq id='1' type='get'><q xmlns='urn:q' k='v'/></iq>");
    assert_eq!(
        a,
        read("<iq type='get' id='1'><q k='v' xmlns='urn:q'/></iq>")
    );
    for other in [
        "<iq id='1' type='set'><q xmlns='urn:q' k='v'/></iq>",
        "<iq id='1' type='get'><q xmlns='urn:r' k='v'/></iq>",
        "<iq id='1' type='get'><r xmlns='urn:q' k='v'/></iq>",
        "<iq id='1' type='get'><q xmlns='urn:q' k='w'/></iq>",
        "<iq id='1' type='get'><q xmlns='urn:q' j='v'/></iq>",
        "<iq id='1' type='get'><q xmlns='urn:q' k='v'/><q xmlns='urn:q' k='v'/></iq>",
        "<iq id='1' type='get'><q xmlns='urn:q' k='v'>t</q></iq>",
        "<iq id='1' type='get' x='y'><q xmlns='urn:q' k='v'/></iq>",
        "<iq id='1' type='get'/>",
    ] {
        assert_ne!(a, read(other), "{other}");
    }
}

#[test]
fn display_is_xml_that_reads_back_the_same() {
    let stanza = read(
        "<presence><status>a &lt;b&gt; \u{e9}</status>\
         <x xmlns='urn:x' xmlns:p='urn:p' p:q='1'/></presence>",
    );
    let text = stanza.to_string();
    assert!(text.starts_with("<presence"), "{text}");
    assert_eq!(read(&text), stanza);
    assert_eq!(format!("{stanza:?}"), format!("Stanza({text})"));
}

/// A namespace is stored once per stanza, however many elements use it: hostile input
/// cannot multiply a long namespace name by the number of elements.
#[test]
fn a_namespace_is_stored_once() {
    let ns = "urn:".to_string() + &"n".repeat(1000);
    let mut body = format!("<iq xmlns:p='{ns}'>");
    for _ in 0..2000 {
        body.push_str("<p:a/><b/>");
    }
    body.push_str("</iq>");
    let stanza = read(&body);
    assert_eq!(stanza.children().count(), 4000);
    assert!(stanza.children().step_by(2).all(|c| c.ns() == ns));
    assert!(
        stanza.heap_bytes() < 2 * body.len() + 4000 * 32,
        "{} bytes for a {}-byte stanza",
        stanza.heap_bytes(),
        body.len()
    );
}

proptest! {
    #[test]
    fn minidom_round_trip(el in arb_element()) {
        let stanza = Stanza::from(&el);
        prop_assert_eq!(stanza.to_element(), el.clone());
        prop_assert_eq!(Element::from(stanza.clone()), el);
        prop_assert_eq!(Stanza::from(&stanza.to_element()), stanza);
    }

    #[test]
    fn equal_exactly_when_the_elements_are(a in arb_element(), b in arb_element()) {
        prop_assert_eq!(Stanza::from(&a) == Stanza::from(&b), a == b);
        prop_assert_eq!(Stanza::from(&a), Stanza::from(&a.clone()));
    }
}
