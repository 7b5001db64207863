//! Every presence and status rule of DESIGN section 5 (the IPWorks `Presence` / `Status` /
//! `ChangePresence` semantics), each in its own test, against the Prosody-like script.

use std::time::Duration;

use herald_core::minidom::Element;
use herald_core::{
    Client, ConfigError, DisconnectReason, Event, IqPolicy, Presence, SeededEntropy, SessionState,
    UsageError,
};
use herald_testkit::{Pair, ServerProfile, config_for, replies};

fn online_pair() -> Pair {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Online);
    pair.take_events();
    pair
}

/// The `<presence>` stanzas the client sent, serialised as on the wire.
fn presences_sent(pair: &Pair) -> Vec<String> {
    let wire = pair.client_sent_since(0);
    let mut found = Vec::new();
    let mut rest = wire.as_str();
    while let Some(start) = rest.find("<presence") {
        let tail = &rest[start..];
        let end = match (tail.find("/>"), tail.find("</presence>")) {
            (Some(a), Some(b)) if a < b && !tail[..a].contains('>') => a + 2,
            (_, Some(b)) => b + "</presence>".len(),
            (Some(a), None) => a + 2,
            (None, None) => tail.len(),
        };
        found.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    found
}

#[test]
fn defaults_are_chat_and_empty_status() {
    let profile = ServerProfile::prosody_like();
    let client = Client::new(config_for(&profile), SeededEntropy::new(1)).unwrap();
    assert_eq!(client.presence(), Presence::Chat);
    assert_eq!(client.status(), "");
    let pair = online_pair();
    // Chat is sent without <show/>, an empty status without <status/>.
    assert_eq!(presences_sent(&pair), ["<presence/>"]);
}

#[test]
fn set_before_connect_changes_the_initial_presence() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.command(|c, now| c.set_presence(now, Presence::ExtendedAway))
        .unwrap();
    pair.command(|c, now| c.set_status(now, "on holiday"))
        .unwrap();
    assert_eq!(pair.client().state(), SessionState::Disconnected);
    pair.connect();
    assert_eq!(
        presences_sent(&pair),
        ["<presence><show>xa</show><status>on holiday</status></presence>"]
    );
}

/// Values set during the login go out in one initial presence with the latest values.
/// Without pipelining that holds to the end of binding; with it (the default) the initial
/// presence leaves with the bind request, right after SASL success, so it carries the
/// values of that moment, and a change during binding goes out once online, as a change.
#[test]
fn set_during_login_sends_nothing_until_one_initial_presence_with_the_latest_values() {
    for pipelining in [false, true] {
        let profile = ServerProfile::prosody_like();
        let mut config = config_for(&profile);
        config.pipelining = pipelining;
        let mut pair = Pair::new(profile, config);
        pair.start();
        pair.command(|c, now| c.set_presence(now, Presence::Away))
            .unwrap();
        assert!(pair.step_until(|c| matches!(c.state(), SessionState::Authenticating { .. })));
        pair.command(|c, now| c.change_presence(now, Presence::DoNotDisturb, "latest"))
            .unwrap();
        assert!(
            presences_sent(&pair).is_empty(),
            "nothing before the session is up"
        );
        assert!(pair.step_until(|c| c.state() == SessionState::Binding));
        if !pipelining {
            pair.command(|c, now| c.set_status(now, "later still"))
                .unwrap();
            assert!(presences_sent(&pair).is_empty(), "nothing before binding");
        }
        pair.drive();
        assert_eq!(pair.client().state(), SessionState::Online);
        let status = if pipelining { "latest" } else { "later still" };
        assert_eq!(
            presences_sent(&pair),
            [format!(
                "<presence><show>dnd</show><status>{status}</status></presence>"
            )],
            "pipelining {pipelining}"
        );
        let sent: Vec<_> = pair
            .events
            .iter()
            .filter(|e| matches!(e, Event::PresenceSent { .. }))
            .collect();
        assert_eq!(
            sent,
            [&Event::PresenceSent {
                presence: Presence::DoNotDisturb,
                status: status.into()
            }]
        );
    }
}

/// With pipelining the initial presence left with the bind request: a value set while the
/// bind is on its way goes out once online, as one change after the initial presence.
#[test]
fn set_while_binding_goes_out_as_a_change_once_online() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.start();
    assert!(pair.step_until(|c| c.state() == SessionState::Binding));
    assert_eq!(presences_sent(&pair), ["<presence/>"], "pipelined");
    pair.command(|c, now| c.set_presence(now, Presence::Away))
        .unwrap();
    assert_eq!(
        presences_sent(&pair),
        ["<presence/>"],
        "nothing while binding"
    );
    pair.drive();
    assert_eq!(pair.client().state(), SessionState::Online);
    assert_eq!(
        presences_sent(&pair),
        ["<presence/>", "<presence><show>away</show></presence>"]
    );
    let sent: Vec<_> = pair
        .events
        .iter()
        .filter(|e| matches!(e, Event::PresenceSent { .. }))
        .collect();
    assert_eq!(
        sent,
        [
            &Event::PresenceSent {
                presence: Presence::Chat,
                status: String::new()
            },
            &Event::PresenceSent {
                presence: Presence::Away,
                status: String::new()
            }
        ]
    );
}

#[test]
fn set_while_online_sends_one_stanza_with_both_values_and_priority() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.priority = 5;
    config.status = "here".into();
    let mut pair = Pair::new(profile, config);
    pair.connect();
    let mark = pair.mark();
    pair.command(|c, now| c.set_presence(now, Presence::Away))
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence><show>away</show><status>here</status><priority>5</priority></presence>"
    );
    let mark = pair.mark();
    pair.command(|c, now| c.set_status(now, "still here"))
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence><show>away</show><status>still here</status><priority>5</priority></presence>"
    );
}

#[test]
fn change_presence_updates_both_and_sends_once() {
    let mut pair = online_pair();
    let mark = pair.mark();
    pair.command(|c, now| c.change_presence(now, Presence::DoNotDisturb, "meeting"))
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence><show>dnd</show><status>meeting</status></presence>"
    );
    assert_eq!(pair.client().presence(), Presence::DoNotDisturb);
    assert_eq!(pair.client().status(), "meeting");
    assert_eq!(
        pair.take_events(),
        [Event::PresenceSent {
            presence: Presence::DoNotDisturb,
            status: "meeting".into()
        }]
    );
}

#[test]
fn an_unchanged_value_sends_nothing() {
    let mut pair = online_pair();
    pair.command(|c, now| c.change_presence(now, Presence::Away, "x"))
        .unwrap();
    pair.drive();
    pair.take_events();
    let mark = pair.mark();
    pair.command(|c, now| c.set_presence(now, Presence::Away))
        .unwrap();
    pair.command(|c, now| c.set_status(now, "x")).unwrap();
    pair.command(|c, now| c.change_presence(now, Presence::Away, "x"))
        .unwrap();
    pair.drive();
    assert_eq!(pair.client_sent_since(mark), "");
    assert!(pair.take_events().is_empty());
}

#[test]
fn empty_status_clears_it() {
    let mut pair = online_pair();
    pair.command(|c, now| c.set_status(now, "busy day"))
        .unwrap();
    pair.drive();
    let mark = pair.mark();
    pair.command(|c, now| c.set_status(now, "")).unwrap();
    pair.drive();
    assert_eq!(pair.client_sent_since(mark), "<presence/>");
}

#[test]
fn offline_sends_unavailable_and_keeps_the_session_then_available_again() {
    let mut pair = online_pair();
    let mark = pair.mark();
    pair.command(|c, now| c.set_presence(now, Presence::Offline))
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence type='unavailable'/>"
    );
    assert_eq!(pair.client().state(), SessionState::Online);
    // The session still works: a ping is answered.
    let mark = pair.mark();
    pair.server_says(&replies::ping("p9", "localhost"));
    assert_eq!(
        pair.client_sent_since(mark),
        "<iq id='p9' to='localhost' type='result'/>"
    );
    let mark = pair.mark();
    pair.command(|c, now| c.set_presence(now, Presence::Chat))
        .unwrap();
    pair.drive();
    assert_eq!(pair.client_sent_since(mark), "<presence/>");
}

#[test]
fn presence_error_is_an_event_and_keeps_session_and_values() {
    let mut pair = online_pair();
    pair.command(|c, now| c.change_presence(now, Presence::Offline, "invisible"))
        .unwrap();
    pair.drive();
    pair.take_events();
    pair.server_says(&replies::presence_error(
        "alice@localhost/desk",
        "modify",
        "not-acceptable",
        Some("no invisibility"),
    ));
    let events = pair.take_events();
    assert_eq!(events.len(), 1, "{events:?}");
    match &events[0] {
        Event::PresenceError {
            from,
            condition,
            text,
        } => {
            assert_eq!(condition, "not-acceptable");
            assert_eq!(text.as_deref(), Some("no invisibility"));
            assert_eq!(
                from.as_ref().map(|j| j.as_str()),
                Some("alice@localhost/desk")
            );
        }
        other => panic!("expected PresenceError, got {other:?}"),
    }
    assert_eq!(pair.client().state(), SessionState::Online);
    assert_eq!(pair.client().presence(), Presence::Offline);
    assert_eq!(pair.client().status(), "invisible");
}

#[test]
fn text_xml_cannot_carry_is_a_usage_error_and_changes_nothing() {
    let mut pair = online_pair();
    let mark = pair.mark();
    for bad in ["bell\u{7}", "nul\u{0}", "esc\u{1b}[0m", "\u{FFFE}"] {
        let err = pair.command(|c, now| c.set_status(now, bad)).unwrap_err();
        assert!(matches!(err, UsageError::InvalidText { .. }), "{err:?}");
        let err = pair
            .command(|c, now| c.change_presence(now, Presence::Away, bad))
            .unwrap_err();
        assert!(matches!(err, UsageError::InvalidText { .. }), "{err:?}");
    }
    pair.drive();
    assert_eq!(pair.client_sent_since(mark), "");
    assert_eq!(pair.client().presence(), Presence::Chat);
    assert_eq!(pair.client().status(), "");
    // Tabs, newlines and any Unicode are fine.
    pair.command(|c, now| c.set_status(now, "a\tb\nc ☕ <&>"))
        .unwrap();
    pair.drive();
    assert!(
        pair.client_sent_since(mark)
            .contains("<status>a\tb\nc ☕ &lt;&amp;&gt;</status>")
    );
    // The same rule guards the configuration.
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.status = "\u{8}".into();
    let err = Client::new(config, SeededEntropy::new(1)).unwrap_err();
    assert_eq!(err, ConfigError::InvalidStatus { ch: '\u{8}' });
}

#[test]
fn close_sends_unavailable_then_footer_and_waits_bounded() {
    let mut profile = ServerProfile::prosody_like();
    profile.answer_close = false;
    let mut pair = Pair::with_profile(profile);
    pair.connect();
    pair.take_events();
    let mark = pair.mark();
    pair.command(|c, now| c.close(now)).unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence type='unavailable'/></stream:stream>"
    );
    assert_eq!(pair.client().state(), SessionState::Closing);
    assert_eq!(
        pair.command(|c, now| c.close(now)),
        Err(UsageError::AlreadyClosing)
    );
    assert_eq!(
        pair.command(|c, now| c.set_presence(now, Presence::Away)),
        Err(UsageError::AlreadyClosing)
    );
    // The wait is bounded by the close timeout (5 s by default).
    let deadline = pair.client().poll_timeout().expect("close timer armed");
    assert_eq!(deadline - pair.now, Duration::from_secs(5));
    pair.advance(Duration::from_millis(4999));
    assert_eq!(pair.client().state(), SessionState::Closing);
    pair.advance(Duration::from_millis(1));
    assert_eq!(
        pair.client().state(),
        SessionState::Closed {
            reason: DisconnectReason::LocalClose
        }
    );
    assert!(pair.transport_closed());
    assert_eq!(
        pair.take_events().last(),
        Some(&Event::Disconnected {
            reason: DisconnectReason::LocalClose
        })
    );
    assert_eq!(pair.client().poll_timeout(), None);
}

#[test]
fn incoming_presence_from_contacts_is_read_leniently() {
    let mut pair = online_pair();
    pair.server_says(
        "<presence from='bob@localhost/phone'><show>xa</show><status>gone fishing</status>\
         <priority>7</priority></presence>\
         <presence from='carol@localhost/pc'><show>sleeping</show><priority>lots</priority></presence>\
         <presence from='dave@localhost/x' type='unavailable'/>\
         <presence from='erin@localhost'><show>chat</show><priority>999</priority></presence>",
    );
    let events = pair.take_events();
    let presences: Vec<_> = events
        .iter()
        .map(|e| match e {
            Event::Presence(p) => p,
            other => panic!("expected presence events only, got {other:?}"),
        })
        .collect();
    assert_eq!(presences.len(), 4);
    let bob = presences[0];
    assert_eq!(bob.user(), Some("bob"));
    assert_eq!(bob.domain(), "localhost");
    assert_eq!(bob.resource(), Some("phone"));
    assert_eq!(bob.availability, Presence::ExtendedAway);
    assert_eq!(bob.show.as_deref(), Some("xa"));
    assert_eq!(bob.status, "gone fishing");
    assert_eq!(bob.priority, 7);
    let carol = presences[1];
    assert_eq!(
        carol.availability,
        Presence::Chat,
        "unknown show reads as available"
    );
    assert_eq!(carol.show.as_deref(), Some("sleeping"));
    assert_eq!(carol.priority, 0);
    assert_eq!(presences[2].availability, Presence::Offline);
    let erin = presences[3];
    assert_eq!(erin.resource(), None);
    assert_eq!(erin.availability, Presence::Chat);
    assert_eq!(erin.priority, 127);
    assert_eq!(pair.client().state(), SessionState::Online);
}

#[test]
fn subscription_requests_and_messages_are_events() {
    let mut pair = online_pair();
    pair.server_says(
        "<presence from='bob@localhost' type='subscribe'/>\
         <message from='bob@localhost/phone' type='chat'><body>hi</body></message>",
    );
    let events = pair.take_events();
    assert_eq!(events.len(), 2, "{events:?}");
    match &events[0] {
        Event::SubscriptionRequest { from } => assert_eq!(from.as_str(), "bob@localhost"),
        other => panic!("{other:?}"),
    }
    match &events[1] {
        Event::Message(m) => {
            assert_eq!(m.from.as_str(), "bob@localhost/phone");
            assert_eq!(m.body.as_deref(), Some("hi"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn pings_are_answered_by_the_core_and_unknown_iqs_get_service_unavailable() {
    let mut pair = online_pair();
    let mark = pair.mark();
    pair.server_says(
        "<iq type='get' id='ping1' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>",
    );
    assert_eq!(
        pair.client_sent_since(mark),
        "<iq id='ping1' to='localhost' type='result'/>"
    );
    assert!(
        pair.take_events().is_empty(),
        "pings are the core's business"
    );

    let mark = pair.mark();
    pair.server_says(
        "<iq type='get' id='v1' from='bob@localhost/phone'><query xmlns='jabber:iq:version'/></iq>",
    );
    assert_eq!(
        pair.client_sent_since(mark),
        "<iq id='v1' to='bob@localhost/phone' type='error'><error type='cancel'>\
         <service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
    );
    assert!(matches!(&pair.take_events()[..], [Event::Stanza(el)] if el.attr("id") == Some("v1")));
}

#[test]
fn with_application_iq_policy_the_application_answers() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.iq_policy = IqPolicy::Application;
    let mut pair = Pair::new(profile, config);
    pair.connect();
    pair.take_events();
    let mark = pair.mark();
    pair.server_says(
        "<iq type='get' id='v2' from='bob@localhost/phone'><query xmlns='jabber:iq:version'/></iq>",
    );
    assert_eq!(pair.client_sent_since(mark), "");
    let events = pair.take_events();
    let Event::Stanza(request) = &events[0] else {
        panic!("{events:?}")
    };
    let reply: Element = format!(
        "<iq xmlns='jabber:client' type='result' id='{}' to='bob@localhost/phone'/>",
        request.attr("id").unwrap()
    )
    .parse()
    .unwrap();
    pair.command(|c, now| c.send(now, &reply)).unwrap();
    pair.drive();
    assert!(pair.client_sent_since(mark).contains("id='v2'"));
}

#[test]
fn send_is_checked() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    let msg: Element =
        "<message xmlns='jabber:client' to='bob@localhost'><body>hi</body></message>"
            .parse()
            .unwrap();
    assert_eq!(
        pair.command(|c, now| c.send(now, &msg)),
        Err(UsageError::NotOnline)
    );
    pair.connect();
    let mark = pair.mark();
    let broadcast: Element = "<presence xmlns='jabber:client'><show>dnd</show></presence>"
        .parse()
        .unwrap();
    assert_eq!(
        pair.command(|c, now| c.send(now, &broadcast)),
        Err(UsageError::UsePresenceApi)
    );
    let mut bad = msg.clone();
    bad.append_text("\u{1}");
    assert!(matches!(
        pair.command(|c, now| c.send(now, &bad)),
        Err(UsageError::InvalidElement(_))
    ));
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "",
        "refused sends write nothing"
    );
    let directed: Element = "<presence xmlns='jabber:client' to='room@muc.localhost/alice'/>"
        .parse()
        .unwrap();
    pair.command(|c, now| c.send(now, &directed)).unwrap();
    pair.command(|c, now| c.send(now, &msg)).unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence to='room@muc.localhost/alice'/><message to='bob@localhost'><body>hi</body></message>"
    );
}

#[test]
fn an_idle_online_stream_gets_whitespace_keepalives() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.timeouts.link_check = None; // the link check is tested in stream_management.rs
    let mut pair = Pair::new(profile, config);
    pair.connect();
    let mark = pair.mark();
    pair.advance(Duration::from_secs(59));
    assert_eq!(pair.client_sent_since(mark), "");
    pair.advance(Duration::from_secs(1));
    assert_eq!(pair.client_sent_since(mark), " ");
    // Sending resets the idle clock.
    pair.advance(Duration::from_secs(30));
    pair.command(|c, now| c.set_presence(now, Presence::Away))
        .unwrap();
    pair.drive();
    let mark = pair.mark();
    pair.advance(Duration::from_secs(59));
    assert_eq!(pair.client_sent_since(mark), "");
    pair.advance(Duration::from_secs(1));
    assert_eq!(pair.client_sent_since(mark), " ");
    assert_eq!(pair.client().state(), SessionState::Online);
}
