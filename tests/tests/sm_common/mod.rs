//! What the stream management tests share: a client online with SM against the scripted
//! server, messages with ids, the next connection's configuration as the reconnect
//! supervisor builds it, and the SM events picked out of a pair's events.

#![allow(dead_code)] // Each test file uses its own part of this.

use herald_core::minidom::Element;
use herald_core::{Config, Event, SessionState};
use herald_testkit::{Pair, ServerProfile, config_for};

/// The client's `<enable/>`.
pub(crate) const ENABLE: &str = "<enable xmlns='urn:xmpp:sm:3' resume='true'/>";
/// The client's `<r/>`.
pub(crate) const R: &str = "<r xmlns='urn:xmpp:sm:3'/>";

/// A pair logged in with SM against `profile`, its login events kept.
pub(crate) fn online(profile: ServerProfile) -> Pair {
    let mut pair = Pair::with_profile(profile);
    pair.connect();
    assert_online(&pair);
    pair
}

/// A pair logged in with SM on the Prosody-like preset, its events taken.
pub(crate) fn online_with_sm() -> Pair {
    let mut pair = online(ServerProfile::stream_management());
    assert!(pair.server.sm_id().is_some(), "SM enabled");
    pair.take_events();
    pair
}

pub(crate) fn assert_online(pair: &Pair) {
    assert_eq!(
        pair.client().state(),
        SessionState::Online,
        "{:#?}\nviolations: {:?}",
        pair.events,
        pair.server.violations
    );
}

/// `<message to='bob@localhost' id='{id}'>` with a body.
pub(crate) fn message(id: &str) -> Element {
    format!(
        "<message xmlns='jabber:client' to='bob@localhost' id='{id}' type='chat'>\
         <body>{id}</body></message>"
    )
    .parse()
    .expect("a valid message")
}

/// The client sends messages with these ids (online), without driving.
pub(crate) fn send_messages(pair: &mut Pair, ids: &[&str]) {
    for id in ids {
        let msg = message(id);
        pair.command(|c, now| c.send(now, &msg)).expect("online");
    }
}

/// A stanza from bob, counted by the server's SM.
pub(crate) fn from_bob(id: &str) -> String {
    format!(
        "<message from='bob@localhost/x' to='alice@localhost' id='{id}'><body>{id}</body></message>"
    )
}

/// How many times `needle` occurs in `hay`.
pub(crate) fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

/// The next connection's configuration, as the reconnect supervisor makes it from the last
/// client: the profile's account with the last client's presence, status, SCRAM keys,
/// features, FAST token and session to resume.
pub(crate) fn next_config(pair: &Pair) -> Config {
    let last = pair.client();
    let mut config = config_for(&pair.server.profile);
    config.presence = last.presence();
    config.status = last.status().to_string();
    config.scram_cache = last.scram_cache().clone();
    config.feature_cache = last.feature_cache().cloned();
    config.fast_token = last.fast_token().cloned();
    config.resumption = last.resumption().cloned();
    config
}

/// The `resent` of every `Resumed` event.
pub(crate) fn resumed(events: &[Event]) -> Vec<usize> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Resumed { resent } => Some(*resent),
            _ => None,
        })
        .collect()
}

/// Every `StanzasLost` event: (count, ids).
pub(crate) fn lost(events: &[Event]) -> Vec<(usize, Vec<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::StanzasLost { count, ids } => Some((*count, ids.clone())),
            _ => None,
        })
        .collect()
}

/// How many events match.
pub(crate) fn events_matching(events: &[Event], what: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| what(e)).count()
}

/// The ids of bob's messages the client handed to the application, in order.
pub(crate) fn messages_received(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Stanza(s) if s.name() == "message" => s.attr("id").map(str::to_string),
            Event::Message(m) => m.id.clone(),
            _ => None,
        })
        .collect()
}
