//! Reading messages, receipts, carbons and delays; writing messages, receipts and the
//! carbons request.

use jid::{BareJid, Jid};
use minidom::Element;
use minidom::rxml::{Namespace, NcName};
use proptest::prelude::*;
use proptest::sample::select;

use super::message::*;
use crate::stanza::NS_CLIENT;
use crate::xml::tree::Stanza;
use crate::xml::{InvalidXml, arb_element, read_after_header as read};

const OWN: &str = "me@example.com";

fn own() -> BareJid {
    BareJid::new(OWN).unwrap()
}

fn jid(s: &str) -> Jid {
    Jid::new(s).unwrap()
}

fn classify_lang(xml: &str, lang: Option<&str>) -> MessageKind {
    classify_message(&read(xml), &own(), lang)
}

fn classify(xml: &str) -> MessageKind {
    classify_lang(xml, None)
}

fn message(xml: &str) -> IncomingMessage {
    match classify(xml) {
        MessageKind::Message(m) => m,
        other => panic!("{other:?} for {xml}"),
    }
}

fn receipt(from: &str, id: &str) -> MessageKind {
    let (from, id) = (jid(from), id.to_string());
    MessageKind::Receipt { from, id }
}

fn body_with(xml: &str, lang: Option<&str>) -> Option<String> {
    match classify_lang(xml, lang) {
        MessageKind::Message(m) => m.body,
        other => panic!("{other:?} for {xml}"),
    }
}

#[test]
fn chat_with_body_thread_and_id() {
    let m = message(
        "<message from='juliet@example.net/balcony' to='me@example.com/desk' type='chat' \
         id='m1'><body>Art thou not &lt;Romeo&gt;?</body><thread>e0ffe42b</thread></message>",
    );
    assert_eq!(m.from, jid("juliet@example.net/balcony"));
    assert_eq!(m.to, Some(jid("me@example.com/desk")));
    assert_eq!(m.kind, MessageType::Chat);
    assert_eq!(m.body.as_deref(), Some("Art thou not <Romeo>?"));
    assert_eq!(m.thread.as_deref(), Some("e0ffe42b"));
    assert_eq!(m.id.as_deref(), Some("m1"));
    assert!(m.delay.is_none() && !m.receipt_requested && m.carbon.is_none());
    // A thread alone is content too.
    let m = message("<message from='a@b'><thread>t</thread></message>");
    assert_eq!((m.body, m.thread.as_deref()), (None, Some("t")));
}

#[test]
fn types() {
    let kind = |attr: &str| message(&format!("<message from='a@b'{attr}><body/></message>")).kind;
    assert_eq!(kind(""), MessageType::Normal);
    assert_eq!(kind(" type='bogus'"), MessageType::Normal);
    assert_eq!(kind(" type='normal'"), MessageType::Normal);
    assert_eq!(kind(" type='headline'"), MessageType::Headline);
    assert_eq!(kind(" type='groupchat'"), MessageType::Groupchat);
    assert_eq!(kind(" type='chat'"), MessageType::Chat);
    assert_eq!(MessageType::default(), MessageType::Normal);
    for name in ["chat", "normal", "headline", "groupchat"] {
        assert_eq!(MessageType::from_attr(Some(name)).as_str(), name);
    }
}

#[test]
fn without_content_it_is_other() {
    for xml in [
        "<message from='a@b' type='chat'>\
         <composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
        "<message from='room@muc.b' type='groupchat'><subject>s</subject></message>",
        "<message from='a@b'><request xmlns='urn:xmpp:receipts'/></message>",
        "<message from='a@b'/>",
        // A body in another namespace is not the message's.
        "<message from='a@b'><body xmlns='urn:x'>x</body></message>",
        // Not a client message at all.
        "<iq from='a@b' type='get'/>",
    ] {
        assert_eq!(classify(xml), MessageKind::Other, "{xml}");
    }
}

#[test]
fn body_choice_by_language() {
    let bodies = "<body xml:lang='de'>Hallo</body><body xml:lang='en'>Hello</body>";
    // The body without xml:lang wins wherever it is.
    let xml = format!("<message from='a@b'>{bodies}<body>plain</body></message>");
    assert_eq!(body_with(&xml, Some("en")).as_deref(), Some("plain"));
    // Else the one in the stream's language (case aside)...
    let xml = format!("<message from='a@b'>{bodies}</message>");
    assert_eq!(body_with(&xml, Some("EN")).as_deref(), Some("Hello"));
    // ...or in the stanza's own, which overrides the stream's...
    let xml = format!("<message from='a@b' xml:lang='de'>{bodies}</message>");
    assert_eq!(body_with(&xml, Some("en")).as_deref(), Some("Hallo"));
    // ...else the first.
    let xml = format!("<message from='a@b'>{bodies}</message>");
    assert_eq!(body_with(&xml, Some("fr")).as_deref(), Some("Hallo"));
    assert_eq!(body_with(&xml, None).as_deref(), Some("Hallo"));
    // A carbon copy inherits its wrapper's language.
    let inner = format!("<message xmlns='jabber:client' from='a@b'>{bodies}</message>");
    let xml = carbon("sent", None, &inner).replacen("<message", "<message xml:lang='en'", 1);
    assert_eq!(body_with(&xml, Some("de")).as_deref(), Some("Hello"));
}

#[test]
fn errors() {
    let error = classify(
        "<message from='juliet@example.net' type='error' id='m1'><body>hi</body>\
         <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>gone</text></error></message>",
    );
    let expected = MessageKind::Error {
        from: Some(jid("juliet@example.net")),
        id: Some("m1".into()),
        condition: "service-unavailable".into(),
        text: Some("gone".into()),
    };
    assert_eq!(error, expected);
    let undefined = |from| MessageKind::Error {
        from,
        id: None,
        condition: "undefined-condition".into(),
        text: None,
    };
    assert_eq!(
        classify("<message type='error' from='a@b'><error type='cancel'/></message>"),
        undefined(Some(jid("a@b")))
    );
    // Without <error/>, and with an unreadable sender: still an error, never a message.
    assert_eq!(
        classify("<message type='error' from='@bad'><body>x</body></message>"),
        undefined(None)
    );
}

#[test]
fn receipt_requests() {
    let request = "<request xmlns='urn:xmpp:receipts'/>";
    let m = message(&format!(
        "<message from='a@b/c' type='chat' id='m2'><body>x</body>{request}</message>"
    ));
    assert!(m.receipt_requested);
    for xml in [
        // No receipts in rooms, and none that could not name the message.
        format!(
            "<message from='r@muc/n' type='groupchat' id='g'><body>x</body>{request}</message>"
        ),
        format!("<message from='a@b/c' type='chat'><body>x</body>{request}</message>"),
        format!("<message from='a@b/c' id=''><body>x</body>{request}</message>"),
    ] {
        assert!(!message(&xml).receipt_requested, "{xml}");
    }
    let error =
        format!("<message type='error' from='a@b' id='e'><body>x</body>{request}</message>");
    assert!(matches!(classify(&error), MessageKind::Error { .. }));
}

#[test]
fn receipts() {
    let xml =
        "<message from='a@b/c' id='r1'><received xmlns='urn:xmpp:receipts' id='m2'/></message>";
    assert_eq!(classify(xml), receipt("a@b/c", "m2"));
    // XEP-0184 before 1.1 echoed the id on the stanza itself.
    let old = "<message from='a@b/c' id='m2'><received xmlns='urn:xmpp:receipts'/></message>";
    assert_eq!(classify(old), receipt("a@b/c", "m2"));
    assert_eq!(classify(&old.replace(" id='m2'", "")), MessageKind::Other);
    // With a body it is a message (the receipt is not reported).
    let m = message(&xml.replace("<received", "<body>x</body><received"));
    assert_eq!(m.body.as_deref(), Some("x"));
}

#[test]
fn delay_and_missing_or_invalid_from() {
    let m = message(
        "<message to='me@example.com'><body>x</body>\
         <delay xmlns='urn:xmpp:delay' stamp='2002-09-10T23:08:25Z' from='example.com'/></message>",
    );
    // No from: the server, on the account's behalf.
    assert_eq!(m.from, Jid::from(own()));
    let delay = m.delay.unwrap();
    assert_eq!(delay.stamp, "2002-09-10T23:08:25Z");
    assert_eq!(delay.from, Some(jid("example.com")));
    // A delay without stamp is no delay; an unreadable delayer is dropped.
    let m = message(
        "<message from='a@b'><body>x</body><delay xmlns='urn:xmpp:delay' from='b'/>\
         <delay xmlns='urn:xmpp:delay' stamp='s' from='@'/></message>",
    );
    assert_eq!(m.delay.map(|d| (d.stamp, d.from)), Some(("s".into(), None)));
    for xml in [
        "<message from='@bad'><body>x</body></message>",
        "<message from=''><body>x</body></message>",
        "<message from='a@b' to='c@/d'><body>x</body></message>",
    ] {
        assert_eq!(classify(xml), MessageKind::Other, "{xml}");
    }
}

/// A carbon of `inner` from `outer_from` (none: no attribute).
fn carbon(direction: &str, outer_from: Option<&str>, inner: &str) -> String {
    let from = outer_from.map_or(String::new(), |f| format!(" from='{f}'"));
    format!(
        "<message{from} to='me@example.com/desk' type='chat'><{direction} xmlns='urn:xmpp:carbons:2'>\
         <forwarded xmlns='urn:xmpp:forward:0'>{inner}</forwarded></{direction}></message>"
    )
}

#[test]
fn carbons_from_the_account_are_unwrapped() {
    let inner = "<message xmlns='jabber:client' from='juliet@example.net/balcony' \
        to='me@example.com/phone' type='chat' id='c1'><body>hi</body>\
        <request xmlns='urn:xmpp:receipts'/></message>";
    for from in [Some(OWN), Some("ME@example.com"), None] {
        let m = message(&carbon("received", from, inner));
        assert_eq!(m.carbon, Some(CarbonDirection::Received));
        assert_eq!(m.from, jid("juliet@example.net/balcony"));
        assert_eq!(m.to, Some(jid("me@example.com/phone")));
        assert_eq!((m.body, m.id), (Some("hi".into()), Some("c1".into())));
        // The resource the message went to answers the request.
        assert!(!m.receipt_requested);
    }
    let sent = "<message xmlns='jabber:client' from='me@example.com/phone' \
        to='juliet@example.net' type='chat'><body>bye</body></message>";
    let m = message(&carbon("sent", Some(OWN), sent));
    assert_eq!(m.carbon, Some(CarbonDirection::Sent));
    assert_eq!(m.from, jid("me@example.com/phone"));
    assert_eq!(m.to, Some(jid("juliet@example.net")));
    assert_eq!(m.body.as_deref(), Some("bye"));
    // The forwarding's delay stands in for the message's own.
    let delayed = format!("<delay xmlns='urn:xmpp:delay' stamp='t'/>{sent}");
    let m = message(&carbon("sent", Some(OWN), &delayed));
    assert_eq!(m.delay.map(|d| d.stamp).as_deref(), Some("t"));
}

#[test]
fn carbons_from_anyone_else_are_forgeries() {
    let inner = "<message xmlns='jabber:client' from='juliet@example.net/balcony' \
        to='me@example.com' type='chat'><body>come alone</body></message>";
    for from in ["m@evil.example", "me@example.com/phone", "example.com"] {
        assert_eq!(
            classify(&carbon("received", Some(from), inner)),
            MessageKind::Forged { from: jid(from) },
            "{from}"
        );
    }
    let invalid = carbon("sent", Some("@"), inner);
    assert_eq!(classify(&invalid), MessageKind::Other);
}

#[test]
fn malformed_and_nested_carbons_are_other() {
    let plain = "<message xmlns='jabber:client' from='a@b'><body>x</body></message>";
    // A carbon (with a body of its own, so that only the nesting makes it unreadable).
    let nested = carbon("received", Some(OWN), plain)
        .replacen("<message", "<message xmlns='jabber:client'", 1)
        .replacen("<received", "<body>middle</body><received", 1);
    let second = format!(
        "</forwarded></received><sent xmlns='urn:xmpp:carbons:2'>\
         <forwarded xmlns='urn:xmpp:forward:0'>{plain}</forwarded></sent>"
    );
    let foreign = "<message xmlns='urn:x'><body>x</body></message>";
    let state_only = plain.replace("<body>x</body>", "<active xmlns='urn:c'/>");
    let error = plain.replace("from=", "type='error' from=");
    let own_carbon = |direction, inner: &str| carbon(direction, Some(OWN), inner);
    for xml in [
        own_carbon("received", ""),
        own_carbon("received", foreign),
        own_carbon("sent", &plain.replace("a@b", "@")),
        own_carbon("sent", &state_only),
        own_carbon("sent", &error),
        // Two wrappers: ambiguous.
        own_carbon("received", plain).replace("</forwarded></received>", &second),
        // A carbon inside a carbon is not unwrapped twice.
        own_carbon("received", &nested),
    ] {
        assert_eq!(classify(&xml), MessageKind::Other, "{xml}");
    }
}

#[test]
fn written_message_reads_back() {
    let to = jid("juliet@example.net/balcony");
    let mut out = b"x".to_vec();
    let body = "a <b> & 'c' \"d\"\r\n";
    write_message(&to, MessageType::Chat, body, "i'd<", true, &mut out).unwrap();
    let expected = "x<message to='juliet@example.net/balcony' type='chat' id='i&apos;d&lt;'>\
        <body>a &lt;b&gt; &amp; 'c' \"d\"&#13;\n</body><request xmlns='urn:xmpp:receipts'/></message>";
    assert_eq!(String::from_utf8(out.clone()).unwrap(), expected);
    let stanza = read(std::str::from_utf8(&out[1..]).unwrap());
    let m = match classify_message(&stanza, &own(), None) {
        MessageKind::Message(m) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(m.body.as_deref(), Some(body));
    assert_eq!((m.id.as_deref(), m.receipt_requested), (Some("i'd<"), true));

    let mut out = Vec::new();
    write_message(&to, MessageType::Normal, "", "n", false, &mut out).unwrap();
    assert_eq!(
        out,
        b"<message to='juliet@example.net/balcony' type='normal' id='n'><body></body></message>"
    );
}

#[test]
fn written_receipt_and_carbons_request() {
    let mut out = Vec::new();
    write_receipt(&jid("a@b/c"), "r'1", "m\"2", &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        "<message to='a@b/c' id='r&apos;1'><received xmlns='urn:xmpp:receipts' id='m&quot;2'/></message>"
    );
    let m = classify_message(&read(std::str::from_utf8(&out).unwrap()), &own(), None);
    assert_eq!(m, receipt(OWN, "m\"2"));
    let mut out = Vec::new();
    write_carbons_enable("c&1", &mut out).unwrap();
    assert_eq!(
        out,
        b"<iq type='set' id='c&amp;1'><enable xmlns='urn:xmpp:carbons:2'/></iq>"
    );
}

#[test]
fn unwritable_text_is_refused_and_nothing_written() {
    let to = jid("a@b");
    let bell = InvalidXml::Char { ch: '\u{7}' };
    let mut out = b"before".to_vec();
    let results = [
        write_message(&to, MessageType::Chat, "ding\u{7}", "i", false, &mut out),
        write_message(&to, MessageType::Chat, "x", "\u{7}", true, &mut out),
        write_receipt(&to, "i", "\u{7}", &mut out),
        write_receipt(&to, "\u{7}", "i", &mut out),
        write_carbons_enable("\u{7}", &mut out),
    ];
    for result in results {
        assert_eq!(result, Err(bell.clone()));
    }
    assert_eq!(out, b"before");
}

const JIDS: &[Option<&str>] = &[
    None,
    Some(OWN),
    Some("me@example.com/x"),
    Some("e@x"),
    Some("@"),
];
const TYPES: &[Option<&str>] = &[None, Some("chat"), Some("groupchat"), Some("error")];
const IDS: &[Option<&str>] = &[None, Some(""), Some("i"), Some("en")];
const KNOWN: &[(&str, &str)] = &[
    ("body", NS_CLIENT),
    ("thread", NS_CLIENT),
    ("error", NS_CLIENT),
    ("request", NS_RECEIPTS),
    ("received", NS_RECEIPTS),
    ("delay", NS_DELAY),
    ("bad-request", crate::stanza::NS_STANZAS),
];

fn set(el: &mut Element, ns: Namespace<'static>, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        let name = NcName::try_from(name).unwrap();
        el.attrs_mut().insert(ns, name, value.to_string());
    }
}

/// A `<message/>` with odd attributes and content: random elements, the elements this
/// module reads (with odd values), and carbons forwarding such messages, nested.
fn arb_message() -> impl Strategy<Value = Element> {
    let body = Element::builder("body", NS_CLIENT).append("b");
    let leaf = Just(Element::builder("message", NS_CLIENT).append(body).build());
    leaf.prop_recursive(3, 24, 6, move |inner| {
        let carbon = (select(&["received", "sent", "private"][..]), inner).prop_map(|(d, m)| {
            let forwarded = Element::builder("forwarded", NS_FORWARD).append(m);
            Element::builder(d, NS_CARBONS).append(forwarded).build()
        });
        let known = (select(KNOWN), select(IDS), select(IDS), any::<bool>()).prop_map(
            |((name, ns), id, lang, text)| {
                let mut el = Element::bare(name, ns);
                set(&mut el, Namespace::NONE, "id", id);
                set(&mut el, Namespace::NONE, "stamp", id);
                set(&mut el, Namespace::XML, "lang", lang);
                if text {
                    el.append_text("t");
                }
                el
            },
        );
        let child = prop_oneof![1 => arb_element(), 2 => carbon, 4 => known];
        let attrs = (select(JIDS), select(JIDS), select(TYPES), select(IDS));
        (attrs, prop::collection::vec(child, 0..5)).prop_map(|((from, to, kind, id), children)| {
            let mut el = Element::bare("message", NS_CLIENT);
            for (name, value) in [("from", from), ("to", to), ("type", kind), ("id", id)] {
                set(&mut el, Namespace::NONE, name, value);
            }
            for child in children {
                el.append_child(child);
            }
            el
        })
    })
}

proptest! {
    #[test]
    fn classify_never_panics(el in arb_message(), lang in prop::option::of("[a-zA-Z-]{0,5}")) {
        let stanza = Stanza::from(&el);
        let kind = classify_message(&stanza, &own(), lang.as_deref());
        if let MessageKind::Message(m) = kind {
            prop_assert!(m.body.is_some() || m.thread.is_some());
            prop_assert!(!(m.receipt_requested && m.carbon.is_some()));
        }
    }
}
