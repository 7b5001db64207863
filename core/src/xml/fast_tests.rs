//! Unit tests of `fast` (a child module, so private items are in reach).

use super::*;

fn outcome(bytes: &[u8]) -> Fast {
    parse_element(
        bytes,
        "jabber:client",
        &Limits::default(),
        &mut Builder::default(),
    )
}

fn parse(s: &str) -> Option<(Stanza, usize)> {
    match outcome(s.as_bytes()) {
        Fast::Done(stanza, len) => Some((stanza, len)),
        Fast::Incomplete | Fast::Declined => None,
    }
}

fn declined(s: &[u8]) -> bool {
    matches!(outcome(s), Fast::Declined)
}

#[test]
fn a_cut_element_is_incomplete_not_declined() {
    let presence = "<presence from='a@b/c' xml:lang='en'><show>away</show>\
        <status>x &amp; y \u{e9}</status><c xmlns='http://jabber.org/protocol/caps' \
        ver='q+/='/></presence>";
    for cut in 1..presence.len() {
        if !presence.is_char_boundary(cut) {
            continue;
        }
        assert!(
            matches!(outcome(&presence.as_bytes()[..cut]), Fast::Incomplete),
            "{cut}"
        );
    }
    assert!(matches!(outcome(presence.as_bytes()), Fast::Done(..)));
    // At the stanza size limit, more bytes cannot help: rxml reports the limit.
    let tight = Limits {
        max_stanza_bytes: 20,
        ..Limits::default()
    };
    let cut = &presence.as_bytes()[..40];
    let over = parse_element(cut, "jabber:client", &tight, &mut Builder::default());
    assert!(matches!(over, Fast::Declined));
}

#[test]
fn takes_the_common_stanzas() {
    let presence = "<presence from='a@b/c' xml:lang='en'><show>away</show>\
        <status>x &amp; y \u{e9}</status><c xmlns='http://jabber.org/protocol/caps' \
        ver='q+/='/></presence><next/>";
    let (el, len) = parse(presence).expect("in the subset");
    assert_eq!(len, presence.len() - "<next/>".len());
    assert!(el.is("presence", "jabber:client"));
    assert_eq!(el.root().attr_ns(XMLNS_XML, "lang"), Some("en"));
    let status = el.get_child("status", "jabber:client").expect("status");
    assert_eq!(status.text(), "x & y \u{e9}");
    let caps = el
        .get_child("c", "http://jabber.org/protocol/caps")
        .expect("caps");
    assert_eq!(caps.attr("ver"), Some("q+/="));
    assert!(parse("<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>").is_some());
}

#[test]
fn declines_the_rest() {
    for s in [
        "<a>&#10;</a>",
        "<a>\r\n</a>",
        "<a x='\n'/>",
        "<p:a xmlns:p='u'/>",
        "<a><![CDATA[x]]></a>",
        "<a><!-- c --></a>",
        "<a x='1' x='2'/>",
        "<a xmlns=''/>",
        "<a>]]></a>",
        "<a>\u{1}</a>",
        "<a>\u{FFFF}</a>",
        "<\u{e9}/>",
        "</stream:stream>",
        "<a></b>",
    ] {
        assert!(declined(s.as_bytes()), "{s:?}");
    }
    assert!(declined(b"<a>\xff</a>"));
    assert_eq!(
        root_default_namespace(
            b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='s'>"
        ),
        Some("jabber:client".to_owned())
    );
    assert_eq!(
        root_default_namespace(b"<stream:stream xmlns:stream='s'>"),
        None
    );
}
