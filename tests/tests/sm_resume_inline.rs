//! Resumption inline in SASL2 (XEP-0198 section 9.2, XEP-0388): `<resume/>` rides in
//! `<authenticate/>`, `<resumed/>` comes in `<success/>`; no stream restart, no bind, no
//! initial presence. Refused inline, the Bind 2 request in the same `<authenticate/>` gives
//! a fresh session at once, and the loss is reported.

mod sm_common;

use herald_core::{Event, Presence, Timeouts};
use herald_testkit::{Pair, Reply, ServerProfile};
use sm_common::{
    count, events_matching, from_bob, lost, messages_received, next_config, online, resumed,
    send_messages,
};

/// SASL2 with Bind 2 and SM inline; `m1` reached the server, `m2` did not, bob's `b1`
/// waits in the cut session.
fn cut_with_traffic() -> Pair {
    let mut pair = online(ServerProfile::fast_login_with_sm());
    pair.advance(Timeouts::default().ack_delay);
    assert!(pair.server.sm_session().unwrap().resumable);
    pair.take_events();
    pair.server.profile.sm_r_reply = Reply::Never;
    send_messages(&mut pair, &["m1"]);
    pair.drive();
    pair.cut_silently();
    send_messages(&mut pair, &["m2"]);
    pair.server.send_stanza(from_bob("b1"));
    pair.eof().drive();
    assert_eq!(pair.client().resumption().unwrap().unacknowledged(), 2);
    pair
}

/// The text of the client's `<authenticate/>` in the next login.
fn authenticate(pair: &Pair) -> String {
    let sent = pair.client_sent_since(0);
    let start = sent.find("<authenticate ").expect("SASL2");
    let end = sent[start..].find("</authenticate>").expect("closed") + start;
    sent[start..end].to_string()
}

#[test]
fn resume_goes_inline_in_sasl2_and_resends_what_the_server_lacked() {
    let mut pair = cut_with_traffic();
    let id = pair.server.profile.sm_store.latest().unwrap().id.clone();
    let mut next = pair.reconnect_with(next_config(&pair));
    next.connect();
    sm_common::assert_online(&next);
    let auth = authenticate(&next);
    assert!(
        auth.contains(&format!("previd='{id}'")) && auth.contains("<resume xmlns='urn:xmpp:sm:3'"),
        "{auth}"
    );
    // With the features cached, the <authenticate/> carrying it goes with the header
    // after TLS: the resumption costs no round trip beyond SCRAM's.
    let flights = next.flights();
    let flight = flights
        .iter()
        .find(|f| f.from_client && f.bytes.contains("<resume "))
        .unwrap();
    assert!(flight.bytes.contains("<stream:stream"), "{flights:#?}");
    assert_eq!(
        next.round_trips_to("<resume "),
        next.round_trips_to("<authenticate ")
    );
    let sent = next.client_sent_since(0);
    assert_eq!(count(&sent, "<resume "), 1, "{sent}");
    assert_eq!(count(&sent, "<presence"), 0, "{sent}");
    assert!(next.server.roster_gets.is_empty());
    assert_eq!(next.server.headers, 2, "no stream restart after SASL2");
    assert_eq!(resumed(&next.events), [1]);
    assert_eq!(lost(&next.events), []);
    assert_eq!(messages_received(&next.events), ["b1"]);
    let store = &next.server.profile.sm_store;
    assert_eq!(store.from_client_with_id("m1").len(), 1);
    assert_eq!(store.from_client_with_id("m2").len(), 1);
    assert_eq!(next.server.sm_session().unwrap().resumptions, 1);
    assert!(
        next.server.violations.is_empty(),
        "{:?}",
        next.server.violations
    );
}

#[test]
fn a_refused_inline_resume_binds_in_the_same_round_trip() {
    let mut pair = cut_with_traffic();
    let old = pair.server.profile.sm_store.latest().unwrap().id.clone();
    let mut config = next_config(&pair);
    config.presence = Presence::ExtendedAway;
    let mut next = pair.reconnect_with(config);
    next.server.profile.sm_refuse_resume = true;
    next.connect();
    sm_common::assert_online(&next);
    assert_eq!(resumed(&next.events), Vec::<usize>::new());
    assert_eq!(lost(&next.events), [(1, vec!["m2".to_string()])]);
    let fresh = next.server.sm_session().expect("enabled inline afresh");
    assert_ne!(fresh.id, old);
    assert!(fresh.resumable);
    let sent = next.client_sent_since(0);
    assert_eq!(count(&sent, "<presence"), 1, "{sent}");
    assert!(sent.contains("<show>xa</show>"), "{sent}");
    assert_eq!(
        events_matching(&next.events, |e| matches!(e, Event::Online { .. })),
        1
    );
    assert!(
        next.server.violations.is_empty(),
        "{:?}",
        next.server.violations
    );
}
