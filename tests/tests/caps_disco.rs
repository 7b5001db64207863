//! Entity capabilities (XEP-0115) and service discovery (XEP-0030, XEP-0092) against the
//! scripted server: the `<c/>` on every available presence, the disco answers consistent
//! with its `ver`, contacts' capabilities queried, verified and cached (a mismatch is
//! reported and not cached), and each caps policy.

use base64::Engine as _;
use herald_core::jid::Jid;
use herald_core::{CapsPolicy, Config, Event, Presence, SoftwareVersion};
use herald_testkit::{Pair, ServerProfile};
use sha1::{Digest, Sha1};

fn online_with(edit: impl FnOnce(&mut Config)) -> Pair {
    Pair::online_with(ServerProfile::prosody_like(), edit)
}

fn sha1_b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha1::digest(s.as_bytes()))
}

/// The default client's verification string, written out by hand (XEP-0115 section 5.1).
const DEFAULT_S: &str = "client/pc//Herald<http://jabber.org/protocol/caps<\
    http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<\
    urn:xmpp:ping<urn:xmpp:receipts<";

fn attr<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let start = xml.find(&format!(" {name}='"))? + name.len() + 3;
    Some(&xml[start..start + xml[start..].find('\'')?])
}

#[test]
fn every_available_presence_carries_caps_and_offline_none() {
    let mut pair = online_with(|_| {});
    let ver = sha1_b64(DEFAULT_S);
    let wire = pair.client_sent_raw(0);
    let caps = format!(
        "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' \
         node='https://example.invalid/herald' ver='{ver}'/>"
    );
    assert!(
        wire.contains(&format!("<presence>{caps}</presence>")),
        "{wire}"
    );
    let mark = pair.mark();
    pair.command(|c, now| c.change_presence(now, Presence::Away, "lunch"))
        .unwrap();
    assert_eq!(
        pair.client_sent_raw(mark),
        format!("<presence><show>away</show><status>lunch</status>{caps}</presence>")
    );
    let mark = pair.mark();
    pair.command(|c, now| c.set_presence(now, Presence::Offline))
        .unwrap();
    assert_eq!(
        pair.client_sent_raw(mark),
        "<presence type='unavailable'><status>lunch</status></presence>"
    );
}

#[test]
fn disco_info_answers_are_what_the_ver_hashes() {
    let mut pair = online_with(|c| {
        c.identity = herald_core::Identity::new("client", "bot").with_name("Robo & Co")
    });
    let ver = pair.client().config().caps().ver;
    assert_eq!(
        ver,
        sha1_b64(&DEFAULT_S.replace("client/pc//Herald", "client/bot//Robo & Co"))
    );
    let expected_query = "<identity category='client' type='bot' name='Robo &amp; Co'/>\
        <feature var='http://jabber.org/protocol/caps'/>\
        <feature var='http://jabber.org/protocol/disco#info'/>\
        <feature var='http://jabber.org/protocol/disco#items'/>\
        <feature var='urn:xmpp:ping'/><feature var='urn:xmpp:receipts'/></query>";

    // The bare query.
    let mark = pair.mark();
    pair.server_says(
        "<iq from='bob@localhost/x' id='d1' type='get'>\
         <query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
    );
    assert_eq!(
        pair.client_sent_raw(mark),
        format!(
            "<iq id='d1' to='bob@localhost/x' type='result'>\
             <query xmlns='http://jabber.org/protocol/disco#info'>{expected_query}</iq>"
        )
    );
    // At node#ver: the same, with the node.
    let node = format!("https://example.invalid/herald#{ver}");
    let mark = pair.mark();
    pair.server_says(&format!(
        "<iq from='bob@localhost/x' id='d2' type='get'>\
         <query xmlns='http://jabber.org/protocol/disco#info' node='{node}'/></iq>"
    ));
    assert_eq!(
        pair.client_sent_raw(mark),
        format!(
            "<iq id='d2' to='bob@localhost/x' type='result'>\
             <query xmlns='http://jabber.org/protocol/disco#info' node='{node}'>{expected_query}</iq>"
        )
    );
    // Another node: item-not-found. Items: none. Version: not by default.
    let mark = pair.mark();
    pair.server_says(
        "<iq from='bob@localhost/x' id='d3' type='get'>\
         <query xmlns='http://jabber.org/protocol/disco#info' node='elsewhere'/></iq>\
         <iq from='bob@localhost/x' id='d4' type='get'>\
         <query xmlns='http://jabber.org/protocol/disco#items'/></iq>\
         <iq from='bob@localhost/x' id='d5' type='get'><query xmlns='jabber:iq:version'/></iq>",
    );
    let sent = pair.client_sent_raw(mark);
    assert!(
        sent.contains("id='d3'") && sent.contains("item-not-found"),
        "{sent}"
    );
    assert!(sent.contains(
        "<iq id='d4' to='bob@localhost/x' type='result'>\
         <query xmlns='http://jabber.org/protocol/disco#items'/></iq>"
    ));
    assert!(
        sent.contains("id='d5'") && sent.contains("service-unavailable"),
        "{sent}"
    );
    assert!(!sent.contains("<os"));
}

#[test]
fn software_version_is_answered_only_when_allowed_and_changes_the_ver() {
    let plain = online_with(|_| {});
    let mut pair =
        online_with(|c| c.software_version = Some(SoftwareVersion::new("Herald", "0.1")));
    assert_ne!(
        pair.client().config().caps().ver,
        plain.client().config().caps().ver,
        "jabber:iq:version is a feature now"
    );
    let mark = pair.mark();
    pair.server_says(
        "<iq from='bob@localhost/x' id='v1' type='get'><query xmlns='jabber:iq:version'/></iq>",
    );
    assert_eq!(
        pair.client_sent_raw(mark),
        "<iq id='v1' to='bob@localhost/x' type='result'><query xmlns='jabber:iq:version'>\
         <name>Herald</name><version>0.1</version></query></iq>"
    );
}

/// Bob's client, as XEP-0115's simple example (section 5.2).
const EXODUS_VER: &str = "QgayPKawpkPSDYmwT/WM94uAlu0=";
const EXODUS_INFO: &str = "<identity category='client' name='Exodus 0.9.1' type='pc'/>\
    <feature var='http://jabber.org/protocol/caps'/>\
    <feature var='http://jabber.org/protocol/disco#info'/>\
    <feature var='http://jabber.org/protocol/disco#items'/>\
    <feature var='http://jabber.org/protocol/muc'/>";

fn bob_presence(ver: &str) -> String {
    format!(
        "<presence from='bob@localhost/exodus'><c xmlns='http://jabber.org/protocol/caps' \
         hash='sha-1' node='http://code.google.com/p/exodus' ver='{ver}'/></presence>"
    )
}

/// The id of the disco#info query the client sent since `mark`, checking its address.
fn caps_query(pair: &Pair, mark: usize, ver: &str) -> String {
    let sent = pair.client_sent_raw(mark);
    assert!(
        sent.contains(&format!(
            "to='bob@localhost/exodus' type='get'><query xmlns='http://jabber.org/protocol/disco#info' \
             node='http://code.google.com/p/exodus#{ver}'/>"
        )),
        "{sent}"
    );
    attr(&sent, "id").expect("an id").to_string()
}

fn answer(pair: &mut Pair, id: &str, info: &str) {
    pair.server_says(&format!(
        "<iq from='bob@localhost/exodus' id='{id}' type='result'>\
         <query xmlns='http://jabber.org/protocol/disco#info'>{info}</query></iq>"
    ));
}

#[test]
fn a_contacts_caps_are_queried_verified_and_cached() {
    let mut pair = online_with(|_| {});
    let bob: Jid = "bob@localhost/exodus".parse().unwrap();
    let mark = pair.mark();
    pair.server_says(&bob_presence(EXODUS_VER));
    let id = caps_query(&pair, mark, EXODUS_VER);
    assert_eq!(
        pair.client()
            .supports(&bob, "http://jabber.org/protocol/muc"),
        None
    );
    answer(&mut pair, &id, EXODUS_INFO);
    assert_eq!(
        pair.client()
            .supports(&bob, "http://jabber.org/protocol/muc"),
        Some(true)
    );
    assert_eq!(
        pair.client().supports(&bob, "urn:xmpp:receipts"),
        Some(false)
    );
    let bare: Jid = "bob@localhost".parse().unwrap();
    assert_eq!(
        pair.client()
            .supports(&bare, "http://jabber.org/protocol/muc"),
        Some(true)
    );
    assert!(pair.client().caps_cache().contains(EXODUS_VER));
    // The same ver again, from anyone: no second query.
    let mark = pair.mark();
    pair.server_says(&bob_presence(EXODUS_VER));
    assert_eq!(pair.client_sent_raw(mark), "");
}

#[test]
fn an_answer_that_does_not_hash_to_the_ver_is_reported_and_not_cached() {
    let mut pair = online_with(|_| {});
    let bob: Jid = "bob@localhost/exodus".parse().unwrap();
    let mark = pair.mark();
    pair.server_says(&bob_presence(EXODUS_VER));
    let id = caps_query(&pair, mark, EXODUS_VER);
    // One feature more than the ver stands for: a poisoning attempt.
    answer(
        &mut pair,
        &id,
        &format!("{EXODUS_INFO}<feature var='urn:xmpp:receipts'/>"),
    );
    let events = pair.take_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::CapsInvalid { from, ver, .. }
            if from.as_str() == "bob@localhost/exodus" && ver == EXODUS_VER)),
        "{events:?}"
    );
    assert!(!pair.client().caps_cache().contains(EXODUS_VER));
    assert_eq!(pair.client().supports(&bob, "urn:xmpp:receipts"), None);
    // A malformed answer (a duplicate feature, XEP-0115 section 5.4) likewise.
    pair.server_says(&bob_presence("other"));
    let sent = pair.client_sent_raw(0);
    let id = attr(&sent[sent.rfind("<iq").unwrap()..], "id")
        .unwrap()
        .to_string();
    answer(
        &mut pair,
        &id,
        "<identity category='client' type='pc'/><feature var='a'/><feature var='a'/>",
    );
    assert!(
        pair.take_events()
            .iter()
            .any(|e| matches!(e, Event::CapsInvalid { reason, .. } if reason.contains("twice")))
    );
}

#[test]
fn the_policy_says_when_to_ask() {
    let mut off = online_with(|c| c.caps_policy = CapsPolicy::Off);
    let mark = off.mark();
    off.server_says(&bob_presence(EXODUS_VER));
    assert_eq!(off.client_sent_raw(mark), "");

    let mut on_demand = online_with(|c| c.caps_policy = CapsPolicy::OnDemand);
    let mark = on_demand.mark();
    on_demand.server_says(&bob_presence(EXODUS_VER));
    assert_eq!(on_demand.client_sent_raw(mark), "");
    let bob: Jid = "bob@localhost".parse().unwrap();
    on_demand.command(|c, now| c.query_caps(now, &bob)).unwrap();
    let id = caps_query(&on_demand, mark, EXODUS_VER);
    answer(&mut on_demand, &id, EXODUS_INFO);
    assert_eq!(
        on_demand
            .client()
            .supports(&bob, "http://jabber.org/protocol/muc"),
        Some(true)
    );

    // A cache from an earlier client: known at once, nothing asked.
    let cache = on_demand.client().caps_cache().clone();
    let mut warm = online_with(|c| c.caps_cache = cache);
    let mark = warm.mark();
    warm.server_says(&bob_presence(EXODUS_VER));
    assert_eq!(warm.client_sent_raw(mark), "");
    assert_eq!(
        warm.client()
            .supports(&bob, "http://jabber.org/protocol/muc"),
        Some(true)
    );
}

#[test]
fn a_presence_flood_with_fresh_vers_sends_a_bounded_number_of_queries() {
    let mut pair = online_with(|_| {});
    let mark = pair.mark();
    let flood: String = (0..200)
        .map(|i| {
            format!(
                "<presence from='u{i}@localhost/r'><c xmlns='http://jabber.org/protocol/caps' \
                 hash='sha-1' node='n' ver='v{i}'/></presence>"
            )
        })
        .collect();
    pair.server_says(&flood);
    let sent = pair.client_sent_raw(mark);
    assert_eq!(sent.matches("disco#info").count(), 16, "{sent}");
}

#[test]
fn changing_the_features_recomputes_the_ver_and_announces_it() {
    let mut pair = online_with(|_| {});
    let before = pair.client().config().caps().ver;
    let mark = pair.mark();
    pair.command(|c, now| c.set_extra_features(now, vec!["urn:example:games".into()]))
        .unwrap();
    let after = pair.client().config().caps().ver;
    assert_ne!(before, after);
    assert_eq!(
        after,
        sha1_b64(&DEFAULT_S.replace("urn:xmpp:ping<", "urn:example:games<urn:xmpp:ping<"))
    );
    let sent = pair.client_sent_raw(mark);
    assert!(
        sent.starts_with("<presence><c ") && sent.contains(&format!("ver='{after}'")),
        "{sent}"
    );
    // The same features again: nothing sent. A feature with '<': refused, nothing changed.
    let mark = pair.mark();
    pair.command(|c, now| c.set_extra_features(now, vec!["urn:example:games".into()]))
        .unwrap();
    assert!(
        pair.command(|c, now| c.set_extra_features(now, vec!["a<b".into()]))
            .is_err()
    );
    assert_eq!(pair.client_sent_raw(mark), "");
    assert_eq!(pair.client().config().caps().ver, after);
    // The disco answer follows.
    pair.server_says(
        "<iq from='bob@localhost/x' id='d9' type='get'>\
         <query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
    );
    assert!(
        pair.client_sent_raw(mark)
            .contains("<feature var='urn:example:games'/>")
    );
}
