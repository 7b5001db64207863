//! Messages (RFC 6121 section 5) against the scripted server: sending with an id, receipts
//! (XEP-0184) requested only from contacts whose verified caps include them and answered
//! when asked, incoming messages, errors and receipts as their own events, and carbons
//! (XEP-0280): enabled when asked for, copies unwrapped only from the account itself.

use herald_core::jid::Jid;
use herald_core::{CarbonDirection, Config, Event, MessageType, UsageError};
use herald_testkit::{Pair, ServerProfile, config_for};

fn online_with(edit: impl FnOnce(&mut Config)) -> Pair {
    Pair::online_with(ServerProfile::prosody_like(), edit)
}

fn jid(s: &str) -> Jid {
    s.parse().unwrap()
}

#[test]
fn a_message_goes_out_with_an_id_and_without_a_receipt_request_to_the_unknown() {
    let mut pair = online_with(|_| {});
    let mark = pair.mark();
    let id = pair
        .command(|c, now| {
            c.send_message(
                now,
                &jid("bob@localhost"),
                "hi <there> & co",
                MessageType::Chat,
            )
        })
        .unwrap();
    assert_eq!(
        pair.client_sent_raw(mark),
        format!(
            "<message to='bob@localhost' type='chat' id='{id}'><body>hi &lt;there&gt; &amp; co</body></message>"
        )
    );
    // Text XML cannot carry is refused, nothing sent.
    let mark = pair.mark();
    let err = pair
        .command(|c, now| c.send_message(now, &jid("bob@localhost"), "a\u{1}b", MessageType::Chat))
        .unwrap_err();
    assert!(matches!(err, UsageError::InvalidText { .. }), "{err:?}");
    assert_eq!(pair.client_sent_raw(mark), "");
}

#[test]
fn not_online_is_an_error() {
    let profile = ServerProfile::prosody_like();
    let mut pair = Pair::new(profile.clone(), config_for(&profile));
    let err = pair
        .command(|c, now| c.send_message(now, &jid("bob@localhost"), "x", MessageType::Chat))
        .unwrap_err();
    assert_eq!(err, UsageError::NotConnected);
}

#[test]
fn receipts_are_requested_from_contacts_that_support_them_and_confirmed() {
    let mut pair = online_with(|_| {});
    // Bob's client announces caps that include receipts; the client verifies them.
    let info = "<identity category='client' type='phone'/><feature var='urn:xmpp:receipts'/>";
    let ver = {
        use base64::Engine as _;
        use sha1::Digest as _;
        let s = "client/phone//<urn:xmpp:receipts<";
        base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(s.as_bytes()))
    };
    let mark = pair.mark();
    pair.server_says(&format!(
        "<presence from='bob@localhost/phone'><c xmlns='http://jabber.org/protocol/caps' \
         hash='sha-1' node='n' ver='{ver}'/></presence>"
    ));
    let sent = pair.client_sent_raw(mark);
    let id_at = sent.find("id='").unwrap() + 4;
    let query_id = &sent[id_at..id_at + sent[id_at..].find('\'').unwrap()];
    pair.server_says(&format!(
        "<iq from='bob@localhost/phone' id='{query_id}' type='result'>\
         <query xmlns='http://jabber.org/protocol/disco#info'>{info}</query></iq>"
    ));
    let bob = jid("bob@localhost/phone");
    assert_eq!(
        pair.client().supports(&bob, "urn:xmpp:receipts"),
        Some(true)
    );
    let mark = pair.mark();
    let id = pair
        .command(|c, now| c.send_message(now, &bob, "ping", MessageType::Chat))
        .unwrap();
    assert!(
        pair.client_sent_raw(mark)
            .ends_with("<body>ping</body><request xmlns='urn:xmpp:receipts'/></message>")
    );
    pair.take_events();
    pair.server_says(&format!(
        "<message from='bob@localhost/phone' id='r1'><received xmlns='urn:xmpp:receipts' id='{id}'/></message>"
    ));
    let events = pair.take_events();
    assert!(
        matches!(&events[..], [Event::Receipt { from, id: got }] if *from == bob && *got == id),
        "{events:?}"
    );
}

#[test]
fn incoming_messages_are_events_and_asked_receipts_are_answered() {
    let mut pair = online_with(|_| {});
    let mark = pair.mark();
    pair.server_says(
        "<message from='bob@localhost/phone' type='chat' id='m1'><body>hello</body>\
         <thread>t1</thread><request xmlns='urn:xmpp:receipts'/></message>\
         <message from='bob@localhost/phone'><body xml:lang='fr'>salut</body><body>hi</body>\
         <delay xmlns='urn:xmpp:delay' stamp='2026-12-05T10:00:00Z'/></message>\
         <message from='bob@localhost/phone' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
    );
    let events = pair.take_events();
    let [
        Event::Message(first),
        Event::Message(second),
        Event::Stanza(state),
    ] = &events[..]
    else {
        panic!("{events:?}")
    };
    assert_eq!(first.from.as_str(), "bob@localhost/phone");
    assert_eq!(first.kind, MessageType::Chat);
    assert_eq!(first.body.as_deref(), Some("hello"));
    assert_eq!(first.thread.as_deref(), Some("t1"));
    assert_eq!(first.id.as_deref(), Some("m1"));
    assert!(first.receipt_requested);
    assert_eq!(second.kind, MessageType::Normal);
    assert_eq!(second.body.as_deref(), Some("hi"));
    assert_eq!(
        second.delay.as_ref().map(|d| d.stamp.as_str()),
        Some("2026-12-05T10:00:00Z")
    );
    assert_eq!(state.name(), "message");
    let sent = pair.client_sent_raw(mark);
    assert!(
        sent.starts_with("<message to='bob@localhost/phone' id=")
            && sent.ends_with("><received xmlns='urn:xmpp:receipts' id='m1'/></message>"),
        "{sent}"
    );
    assert_eq!(sent.matches("<message").count(), 1, "one receipt: {sent}");

    // Receipts off: none answered.
    let mut quiet = online_with(|c| c.receipts = false);
    let mark = quiet.mark();
    quiet.server_says(
        "<message from='bob@localhost/phone' id='m2'><body>x</body><request xmlns='urn:xmpp:receipts'/></message>",
    );
    assert_eq!(quiet.client_sent_raw(mark), "");
}

#[test]
fn an_error_comes_back_as_its_own_event() {
    let mut pair = online_with(|_| {});
    pair.server_says(
        "<message from='nobody@localhost' id='x1' type='error'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>\
         <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>gone</text></error></message>",
    );
    let events = pair.take_events();
    let [
        Event::MessageError {
            from,
            id,
            condition,
            text,
        },
    ] = &events[..]
    else {
        panic!("{events:?}")
    };
    assert_eq!(from.as_ref().map(Jid::as_str), Some("nobody@localhost"));
    assert_eq!(id.as_deref(), Some("x1"));
    assert_eq!(condition, "service-unavailable");
    assert_eq!(text.as_deref(), Some("gone"));
}

#[test]
fn carbons_are_enabled_when_asked_and_only_the_accounts_copies_are_unwrapped() {
    let off = online_with(|_| {});
    assert!(!off.client_sent_raw(0).contains("urn:xmpp:carbons:2"));
    let mut pair = online_with(|c| c.carbons = true);
    assert!(
        pair.client_sent_raw(0)
            .contains("<enable xmlns='urn:xmpp:carbons:2'/>")
    );
    let copy = |from: &str| {
        format!(
            "<message from='{from}' to='alice@localhost/desk'><sent xmlns='urn:xmpp:carbons:2'>\
             <forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='alice@localhost/phone' \
             to='bob@localhost' type='chat' id='c1'><body>from my phone</body></message>\
             </forwarded></sent></message>"
        )
    };
    pair.server_says(&copy("alice@localhost"));
    let events = pair.take_events();
    let [Event::Message(m)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(m.carbon, Some(CarbonDirection::Sent));
    assert_eq!(m.from.as_str(), "alice@localhost/phone");
    assert_eq!(m.to.as_ref().map(Jid::as_str), Some("bob@localhost"));
    assert_eq!(m.body.as_deref(), Some("from my phone"));
    // The same copy from someone else: a forgery, dropped.
    pair.server_says(&copy("mallory@localhost"));
    assert!(pair.take_events().is_empty());
}
