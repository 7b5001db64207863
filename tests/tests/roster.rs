//! Roster and subscriptions (RFC 6121) against the scripted servers: fetch before the
//! initial presence, versioning, pushes (and spoofed ones), edits, subscription commands,
//! and contacts' presence. The answer window is in `subscription_window.rs`.

use herald_core::jid::BareJid;
use herald_core::{
    Event, Presence, Roster, RosterChange, RosterItem, SessionState, Subscription, UsageError,
};
use herald_testkit::{Pair, ServerProfile, config_for, replies};

fn bare(s: &str) -> BareJid {
    BareJid::new(s).unwrap()
}

fn online(profile: ServerProfile) -> Pair {
    let mut pair = Pair::with_profile(profile);
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Online);
    pair
}

/// The roster is requested before the initial presence (RFC 6121 section 2.2). Without
/// pipelining the client waits for it; with pipelining (the default) both leave with the
/// bind request and the roster arrives when it arrives, here after `Online`.
#[test]
fn the_roster_comes_before_the_initial_presence_and_is_reported_whole() {
    for pipelining in [false, true] {
        let profile = ServerProfile::prosody_like();
        let mut config = config_for(&profile);
        config.pipelining = pipelining;
        let mut pair = Pair::new(profile, config);
        pair.connect();
        roster_before_presence(pair, pipelining);
    }
}

fn roster_before_presence(mut pair: Pair, pipelining: bool) {
    let wire = pair.client_sent_since(0);
    let roster_at = wire.find("jabber:iq:roster").expect("roster requested");
    let presence_at = wire.find("<presence").expect("initial presence");
    assert!(roster_at < presence_at);
    let events = pair.take_events();
    let roster_event = events
        .iter()
        .position(|e| matches!(e, Event::Roster { .. }))
        .unwrap();
    let online_event = events
        .iter()
        .position(|e| matches!(e, Event::Online { .. }))
        .unwrap();
    assert_eq!(roster_event < online_event, !pipelining);
    let Event::Roster { roster, from_cache } = &events[roster_event] else {
        unreachable!()
    };
    assert!(!from_cache);
    assert_eq!(roster.version.as_deref(), Some("v1"));
    let bob = roster
        .get(&bare("bob@localhost"))
        .expect("bob in the roster");
    assert_eq!(bob.name.as_deref(), Some("Bob"));
    assert_eq!(bob.subscription, Subscription::Both);
    assert_eq!(pair.client().roster(), roster);
}

#[test]
fn a_cached_current_roster_is_confirmed_with_an_empty_result() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    let mut carol = RosterItem::new(bare("carol@localhost"));
    carol.subscription = Subscription::To;
    config.roster_cache = Some(Roster::from_items(Some("v1".into()), [carol.clone()]));
    let mut pair = Pair::new(profile, config);
    pair.connect();
    assert_eq!(pair.server.roster_gets, [Some("v1".to_string())]);
    let roster = pair
        .events
        .iter()
        .find_map(|e| match e {
            Event::Roster {
                roster,
                from_cache: true,
            } => Some(roster.clone()),
            _ => None,
        })
        .expect("the cached roster, confirmed");
    assert_eq!(roster.get(&carol.jid), Some(&carol));
    assert_eq!(pair.client().state(), SessionState::Online);
}

#[test]
fn a_stale_cache_is_replaced_by_the_servers_roster() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.roster_cache = Some(Roster::from_items(Some("v0".into()), []));
    let mut pair = Pair::new(profile, config);
    pair.connect();
    assert_eq!(pair.server.roster_gets, [Some("v0".to_string())]);
    assert!(pair.events.iter().any(|e| matches!(
        e,
        Event::Roster {
            from_cache: false,
            ..
        }
    )));
    assert!(pair.client().roster().get(&bare("bob@localhost")).is_some());
}

#[test]
fn without_versioning_no_ver_is_sent() {
    let pair = online(ServerProfile::ejabberd_like());
    assert_eq!(pair.server.roster_gets, [None]);
}

#[test]
fn the_roster_can_be_skipped() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.fetch_roster = false;
    let mut pair = Pair::new(profile, config);
    pair.connect();
    assert!(pair.server.roster_gets.is_empty());
    assert_eq!(pair.client().state(), SessionState::Online);
}

#[test]
fn a_roster_error_leaves_an_empty_roster_and_the_login_goes_on() {
    let mut profile = ServerProfile::prosody_like();
    profile.roster_error = Some("internal-server-error".into());
    let pair = online(profile);
    assert!(pair.events.iter().any(|e| matches!(e,
        Event::RosterUnavailable { condition } if condition == "internal-server-error")));
    assert!(pair.client().roster().items.is_empty());
}

#[test]
fn pushes_from_the_server_are_applied_and_answered() {
    let mut pair = online(ServerProfile::prosody_like());
    pair.take_events();
    let mark = pair.mark();
    pair.server_says(
        "<iq type='set' id='p1'><query xmlns='jabber:iq:roster' ver='v2'>\
         <item jid='dave@localhost' name='Dave' subscription='none' ask='subscribe'>\
         <group>Work</group></item></query></iq>",
    );
    assert_eq!(pair.client_sent_since(mark), "<iq id='p1' type='result'/>");
    let events = pair.take_events();
    let [
        Event::RosterPush {
            change: RosterChange::Added,
            item,
            version,
        },
    ] = &events[..]
    else {
        panic!("{events:?}")
    };
    assert_eq!(item.jid.as_str(), "dave@localhost");
    assert_eq!(item.groups, ["Work"]);
    assert!(item.pending_out);
    assert_eq!(version.as_deref(), Some("v2"));
    // From the account's own bare JID is fine too; removal.
    let mark = pair.mark();
    pair.server_says(
        "<iq type='set' id='p2' from='alice@localhost'><query xmlns='jabber:iq:roster'>\
         <item jid='bob@localhost' subscription='remove'/></query></iq>",
    );
    assert_eq!(
        pair.client_sent_since(mark),
        "<iq id='p2' to='alice@localhost' type='result'/>"
    );
    assert!(matches!(&pair.take_events()[..],
        [Event::RosterPush { change: RosterChange::Removed, item, .. }]
            if item.jid.as_str() == "bob@localhost"));
    assert!(pair.client().roster().get(&bare("bob@localhost")).is_none());
}

/// The one `RosterPush` shape, for a removal: the whole item (as the roster held it: name,
/// groups) with the subscription the push says, `remove`.
#[test]
fn a_removal_push_carries_the_whole_item() {
    let mut pair = online(ServerProfile::prosody_like());
    pair.server_says(
        "<iq type='set' id='p1'><query xmlns='jabber:iq:roster' ver='v2'>\
         <item jid='dave@localhost' name='Dave' subscription='both' approved='true'>\
         <group>Work</group><group>Chess</group></item></query></iq>",
    );
    pair.take_events();
    pair.server_says(
        "<iq type='set' id='p2'><query xmlns='jabber:iq:roster' ver='v3'>\
         <item jid='dave@localhost' subscription='remove'/></query></iq>",
    );
    let mut dave = RosterItem::new(bare("dave@localhost"));
    dave.name = Some("Dave".into());
    dave.groups = vec!["Work".into(), "Chess".into()];
    dave.subscription = Subscription::Remove;
    assert_eq!(
        pair.take_events(),
        [Event::RosterPush {
            change: RosterChange::Removed,
            item: dave,
            version: Some("v3".into()),
        }]
    );
    // An item the roster did not hold: as the push describes it.
    pair.server_says(
        "<iq type='set' id='p3'><query xmlns='jabber:iq:roster' ver='v4'>\
         <item jid='zoe@localhost' name='Zoe' subscription='remove'/></query></iq>",
    );
    let mut zoe = RosterItem::new(bare("zoe@localhost"));
    zoe.name = Some("Zoe".into());
    zoe.subscription = Subscription::Remove;
    assert_eq!(
        pair.take_events(),
        [Event::RosterPush {
            change: RosterChange::Removed,
            item: zoe,
            version: Some("v4".into()),
        }]
    );
    assert!(
        pair.client()
            .roster()
            .items
            .values()
            .all(|i| i.subscription != Subscription::Remove)
    );
}

#[test]
fn spoofed_pushes_are_ignored() {
    let mut pair = online(ServerProfile::prosody_like());
    pair.take_events();
    let before = pair.client().roster().clone();
    let mark = pair.mark();
    for from in [
        "mallory@evil.example",
        "bob@localhost",
        "alice@localhost/other",
        "localhost",
    ] {
        pair.server_says(&format!(
            "<iq type='set' id='x' from='{from}'><query xmlns='jabber:iq:roster'>\
             <item jid='mallory@evil.example' subscription='both'/></query></iq>"
        ));
    }
    assert_eq!(pair.client_sent_since(mark), "");
    assert!(pair.take_events().is_empty());
    assert_eq!(pair.client().roster(), &before);
}

#[test]
fn a_push_with_two_items_is_refused() {
    let mut pair = online(ServerProfile::prosody_like());
    let mark = pair.mark();
    pair.server_says(
        "<iq type='set' id='two'><query xmlns='jabber:iq:roster'>\
         <item jid='a@localhost'/><item jid='b@localhost'/></query></iq>",
    );
    assert!(pair.client_sent_since(mark).contains("<bad-request"));
    assert!(pair.client().roster().get(&bare("a@localhost")).is_none());
}

#[test]
fn add_contact_sets_the_item_and_asks_for_a_subscription_in_both_push_orders() {
    for profile in [
        ServerProfile::prosody_like(),
        ServerProfile::ejabberd_like(),
    ] {
        let mut pair = online(profile);
        pair.take_events();
        let mark = pair.mark();
        let carol = bare("carol@localhost");
        pair.command(|c, now| c.add_contact(now, &carol, Some("Carol"), &["Friends".into()]))
            .unwrap();
        pair.drive();
        let sent = pair.client_sent_since(mark);
        assert!(
            sent.contains(
                "<query xmlns='jabber:iq:roster'><item jid='carol@localhost' name='Carol'>\
             <group>Friends</group></item></query>"
            ),
            "{sent}"
        );
        assert!(
            sent.contains("<presence to='carol@localhost' type='subscribe'/>"),
            "{sent}"
        );
        assert!(sent.contains("<iq id='push1' type='result'/>"), "{sent}");
        let events = pair.take_events();
        assert!(
            matches!(&events[..],
            [Event::RosterPush { change: RosterChange::Added, item, .. }] if item.jid == carol),
            "{events:?}"
        );
        assert_eq!(
            pair.client()
                .roster()
                .get(&carol)
                .and_then(|i| i.name.as_deref()),
            Some("Carol")
        );
        // Removal goes the same way.
        pair.command(|c, now| c.remove_contact(now, &carol))
            .unwrap();
        pair.drive();
        assert!(pair.client().roster().get(&carol).is_none());
    }
}

#[test]
fn a_refused_roster_edit_is_reported() {
    let mut pair = online(ServerProfile::prosody_like());
    let mark = pair.mark();
    pair.command(|c, now| c.update_contact(now, &bare("bob@localhost"), Some("B"), &[]))
        .unwrap();
    let sent = pair.client_sent_since(mark);
    let id = sent
        .split("id='")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_string();
    pair.take_events();
    // The test answers in the server's place (the scripted server would accept the edit).
    pair.feed(
        format!(
            "<iq type='error' id='{id}'><error type='cancel'>\
             <not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        )
        .as_bytes(),
    );
    assert_eq!(
        pair.take_events(),
        [Event::RosterEditFailed {
            jid: bare("bob@localhost"),
            condition: "not-allowed".into()
        }]
    );
}

#[test]
fn roster_commands_need_an_online_session_and_valid_text() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    let bob = bare("bob@localhost");
    assert_eq!(
        pair.command(|c, now| c.add_contact(now, &bob, None, &[])),
        Err(UsageError::NotConnected)
    );
    pair.connect();
    assert!(matches!(
        pair.command(|c, now| c.add_contact(now, &bob, Some("\u{1}"), &[])),
        Err(UsageError::InvalidText { .. })
    ));
}

#[test]
fn subscription_commands_send_the_rfc_6121_stanzas() {
    let mut pair = online(ServerProfile::prosody_like());
    let erin = bare("erin@localhost");
    let mark = pair.mark();
    pair.command(|c, now| c.subscribe(now, &erin)).unwrap();
    pair.command(|c, now| c.unsubscribe(now, &erin)).unwrap();
    pair.command(|c, now| c.deny(now, &erin)).unwrap();
    pair.command(|c, now| c.cancel(now, &erin)).unwrap();
    pair.command(|c, now| c.probe(now, &erin.clone().into()))
        .unwrap();
    pair.command(|c, now| {
        c.send_directed_presence(now, &"room@muc.localhost/alice".parse().unwrap())
    })
    .unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence to='erin@localhost' type='subscribe'/>\
         <presence to='erin@localhost' type='unsubscribe'/>\
         <presence to='erin@localhost' type='unsubscribed'/>\
         <presence to='erin@localhost' type='unsubscribed'/>\
         <presence to='erin@localhost' type='probe'/>\
         <presence to='room@muc.localhost/alice'/>"
    );
}

#[test]
fn approve_needs_a_request_unless_the_server_pre_approves() {
    let mut pair = online(ServerProfile::prosody_like());
    assert_eq!(
        pair.command(|c, now| c.approve(now, &bare("frank@localhost"))),
        Err(UsageError::NoPendingRequest)
    );
    let mut pair = online(ServerProfile::ejabberd_like());
    let mark = pair.mark();
    pair.command(|c, now| c.approve(now, &bare("frank@localhost")))
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence to='frank@localhost' type='subscribed'/>"
    );
}

#[test]
fn subscription_answers_from_contacts_are_events() {
    let mut pair = online(ServerProfile::prosody_like());
    pair.take_events();
    pair.server_says(
        "<presence from='bob@localhost' type='subscribed'/>\
         <presence from='carol@localhost' type='unsubscribed'/>\
         <presence from='dave@localhost' type='unsubscribe'/>",
    );
    assert_eq!(
        pair.take_events(),
        [
            Event::Subscribed {
                from: bare("bob@localhost")
            },
            Event::Unsubscribed {
                from: bare("carol@localhost")
            },
            Event::ContactUnsubscribed {
                from: bare("dave@localhost")
            },
        ]
    );
}

#[test]
fn contacts_presence_is_tracked_per_resource_with_a_best_resource() {
    let mut pair = online(ServerProfile::prosody_like());
    let bob = bare("bob@localhost");
    pair.server_says(&replies::contact_presence(
        "bob@localhost/phone",
        Some("away"),
        None,
        Some("5"),
    ));
    pair.server_says(&replies::contact_presence(
        "bob@localhost/desk",
        None,
        Some("here"),
        Some("5"),
    ));
    pair.server_says(&replies::contact_presence(
        "bob@localhost/tv",
        None,
        None,
        Some("-1"),
    ));
    assert_eq!(pair.client().contact_presences(&bob).len(), 3);
    // Equal priority: the most available wins (chat over away).
    assert_eq!(
        pair.client().best_presence(&bob).unwrap().resource(),
        Some("desk")
    );
    pair.server_says(&replies::contact_presence(
        "bob@localhost/phone",
        Some("dnd"),
        None,
        Some("9"),
    ));
    assert_eq!(
        pair.client().best_presence(&bob).unwrap().resource(),
        Some("phone")
    );
    pair.server_says("<presence from='bob@localhost/phone' type='unavailable'/>");
    assert_eq!(
        pair.client().best_presence(&bob).unwrap().resource(),
        Some("desk")
    );
    assert_eq!(pair.client().contact_presences(&bob).len(), 2);
    // An unavailable presence from the bare JID clears every resource.
    pair.server_says("<presence from='bob@localhost' type='unavailable'/>");
    assert!(pair.client().contact_presences(&bob).is_empty());
    // The Presence event itself is unchanged.
    assert!(
        pair.events
            .iter()
            .any(|e| matches!(e, Event::Presence(p) if p.availability == Presence::DoNotDisturb))
    );
    // And a disconnect forgets everything.
    pair.server_says(&replies::contact_presence(
        "bob@localhost/desk",
        None,
        None,
        None,
    ));
    pair.server_says(&replies::stream_error("system-shutdown", None));
    assert!(pair.client().contact_presences(&bob).is_empty());
}

#[test]
fn tracked_presences_are_bounded() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.max_tracked_presences = 3;
    let mut pair = Pair::new(profile, config);
    pair.connect();
    let flood: String = (0..50)
        .map(|i| replies::contact_presence(&format!("u{i}@localhost/r"), None, None, None))
        .collect();
    pair.server_says(&flood);
    let tracked: usize = (0..50)
        .map(|i| {
            pair.client()
                .contact_presences(&bare(&format!("u{i}@localhost")))
                .len()
        })
        .sum();
    assert_eq!(tracked, 3);
    // Events still report every presence.
    assert_eq!(
        pair.events
            .iter()
            .filter(|e| matches!(e, Event::Presence(_)))
            .count(),
        50
    );
}
