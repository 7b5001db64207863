//! XMPP over WebSocket (RFC 7395) in the core, against the scripted server behind
//! `herald_testkit::websocket::WsServer`: `<open/>` and `<close/>` instead of the stream
//! header and `</stream:stream>`, one complete element per message both ways (the bridge
//! parses every client message alone and fails the test otherwise), restarts after SASL,
//! no STARTTLS, and a server message that is not exactly one element is a `bad-format`
//! stream error.

use std::time::Instant;

use herald_core::{
    Client, Config, DisconnectReason, Event, Presence, SeededEntropy, StreamErrorCondition,
    TlsPolicy, Transport, UsageError,
};
use herald_testkit::websocket::{WsServer, one_element};
use herald_testkit::{ServerProfile, config_for};

/// Moves messages both ways until neither side has more; returns the client's events.
fn run(client: &mut Client, ws: &mut WsServer, now: Instant) -> Vec<Event> {
    let mut events = Vec::new();
    for _ in 0..100 {
        let mut sent = false;
        loop {
            let mut message = Vec::new();
            if client.poll_message(&mut message) == 0 {
                break;
            }
            ws.client_message(&message);
            sent = true;
        }
        while let Some(action) = client.poll_action() {
            // `CloseTransport` is due at the end; a TLS handshake never is.
            assert!(
                !matches!(action, herald_core::Action::StartTls { .. }),
                "STARTTLS on a WebSocket"
            );
        }
        while let Some(event) = client.poll_event() {
            events.push(event);
        }
        let messages = ws.take_messages();
        if messages.is_empty() && !sent {
            return events;
        }
        for message in messages {
            client
                .handle_message(now, &message)
                .expect("a WebSocket client");
        }
    }
    panic!("the exchange never settled: {events:?}");
}

fn online(config: Config, secure: bool) -> (Client, WsServer, Vec<Event>, Instant) {
    let profile = ServerProfile::prosody_like();
    let mut client = Client::new(config, SeededEntropy::new(7)).expect("config");
    let mut ws = WsServer::new(profile);
    let now = Instant::now();
    client
        .connect(now, Transport::WebSocket { secure })
        .expect("connect");
    let events = run(&mut client, &mut ws, now);
    (client, ws, events, now)
}

fn is_online(events: &[Event]) -> bool {
    events.iter().any(|e| matches!(e, Event::Online { .. }))
}

#[test]
fn a_login_over_a_secure_websocket_gets_online_one_element_per_message() {
    let profile = ServerProfile::prosody_like();
    let (client, ws, events, _) = online(config_for(&profile), true);
    assert!(is_online(&events), "{events:#?}");
    let first = &ws.received[0];
    assert!(
        first.starts_with("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'")
            && first.contains("to='localhost'")
            && first.contains("version='1.0'"),
        "{first}"
    );
    // Two streams (before and after SASL), no STARTTLS on a WebSocket.
    let opens = ws
        .received
        .iter()
        .filter(|m| m.starts_with("<open"))
        .count();
    assert_eq!(opens, 2, "{:#?}", ws.received);
    assert!(!ws.received.iter().any(|m| m.contains("starttls")));
    // Every stanza says its namespace, since no stream element lends it one.
    let presence = ws
        .received
        .iter()
        .find(|m| m.starts_with("<presence"))
        .expect("the initial presence");
    assert!(presence.contains("xmlns='jabber:client'"), "{presence}");
    assert_eq!(ws.server.received_named("presence").len(), 1);
    assert_eq!(client.presence(), Presence::Chat);
}

#[test]
fn a_presence_change_is_one_message_and_close_ends_with_close() {
    let profile = ServerProfile::prosody_like();
    let (mut client, mut ws, _, now) = online(config_for(&profile), true);
    let before = ws.received.len();
    client
        .change_presence(now, Presence::Away, "on the web")
        .expect("change");
    run(&mut client, &mut ws, now);
    let change = &ws.received[before..];
    assert_eq!(change.len(), 1, "{change:#?}");
    let el = one_element(change[0].as_bytes()).expect("one element");
    assert!(el.is("presence", "jabber:client"), "{}", change[0]);
    assert!(change[0].contains("<show>away</show>"), "{}", change[0]);

    let before = ws.received.len();
    client.close(now).expect("close");
    let events = run(&mut client, &mut ws, now);
    let closing = &ws.received[before..];
    assert_eq!(closing.len(), 2, "{closing:#?}");
    assert!(closing[0].contains("type='unavailable'"), "{}", closing[0]);
    assert_eq!(
        closing[1],
        "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>"
    );
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Disconnected {
                reason: DisconnectReason::LocalClose
            }
        )),
        "{events:#?}"
    );
}

fn bad_message_ends_the_session(message: &str) {
    let profile = ServerProfile::prosody_like();
    let (mut client, mut ws, _, now) = online(config_for(&profile), true);
    let before = ws.received.len();
    ws.send_message(message.as_bytes().to_vec());
    let events = run(&mut client, &mut ws, now);
    let reason = events.iter().find_map(|e| match e {
        Event::Disconnected { reason } => Some(reason.clone()),
        _ => None,
    });
    assert!(
        matches!(
            &reason,
            Some(DisconnectReason::MalformedXml { condition, .. })
                if *condition == StreamErrorCondition::BadFormat
        ),
        "{message}: {reason:?}"
    );
    // The stream error and the close, each its own message.
    let after = &ws.received[before..];
    assert_eq!(after.len(), 2, "{after:#?}");
    assert!(
        after[0].starts_with("<stream:error xmlns:stream="),
        "{}",
        after[0]
    );
    assert!(after[0].contains("<bad-format"), "{}", after[0]);
    assert!(after[1].starts_with("<close"), "{}", after[1]);
}

#[test]
fn a_message_with_two_elements_is_bad_format() {
    bad_message_ends_the_session(
        "<message xmlns='jabber:client' from='a@b'/><message xmlns='jabber:client' from='a@b'/>",
    );
}

#[test]
fn a_message_ending_inside_an_element_is_bad_format() {
    bad_message_ends_the_session("<message xmlns='jabber:client' from='a@b'><body>hi");
}

#[test]
fn whitespace_around_the_element_is_harmless() {
    let profile = ServerProfile::prosody_like();
    let (mut client, mut ws, _, now) = online(config_for(&profile), true);
    ws.send_message(&b"\n <presence xmlns='jabber:client' from='juliet@localhost/balcony'/>\n"[..]);
    let events = run(&mut client, &mut ws, now);
    assert!(
        events.iter().any(|e| matches!(e, Event::Presence(_))),
        "{events:#?}"
    );
    assert!(!client.is_closed());
}

#[test]
fn a_plain_websocket_with_tls_required_sends_no_credentials() {
    let profile = ServerProfile::prosody_like();
    let (_, ws, events, _) = online(config_for(&profile), false);
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Disconnected {
                reason: DisconnectReason::TlsNotOffered
            }
        )),
        "{events:#?}"
    );
    assert!(
        !ws.received.iter().any(|m| m.contains("<auth")),
        "{:#?}",
        ws.received
    );
}

#[test]
fn a_plain_websocket_on_loopback_logs_in_when_plaintext_is_allowed() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.tls = TlsPolicy::InsecurePlaintext;
    let (_, _, events, _) = online(config, false);
    assert!(is_online(&events), "{events:#?}");
}

#[test]
fn handle_message_on_tcp_is_refused() {
    let profile = ServerProfile::prosody_like();
    let mut client = Client::new(config_for(&profile), SeededEntropy::new(7)).expect("config");
    let now = Instant::now();
    client.connect(now, Transport::Plain).expect("connect");
    assert_eq!(
        client.handle_message(now, b"<x/>"),
        Err(UsageError::NotWebSocket)
    );
}

/// Runs a login, then a presence change, then a close, the server's messages handed to
/// the client in batches of the sizes in `batches` (cycled), the client's output drained
/// after each batch; returns what the client reported and what the server received.
fn outcome(batches: &[usize]) -> (Vec<Event>, Vec<String>) {
    let profile = ServerProfile::prosody_like();
    let mut client = Client::new(config_for(&profile), SeededEntropy::new(7)).expect("config");
    let mut ws = WsServer::new(profile);
    let now = Instant::now();
    let mut events = Vec::new();
    let mut sizes = batches.iter().cycle();
    client
        .connect(now, Transport::WebSocket { secure: true })
        .expect("connect");
    settle(&mut client, &mut ws, &mut sizes, &mut events);
    client
        .change_presence(now, Presence::DoNotDisturb, "busy")
        .expect("change");
    settle(&mut client, &mut ws, &mut sizes, &mut events);
    client.close(now).expect("close");
    settle(&mut client, &mut ws, &mut sizes, &mut events);
    (events, ws.received.clone())
}

/// Moves messages until neither side has more, the server's in batches.
fn settle<'a>(
    client: &mut Client,
    ws: &mut WsServer,
    sizes: &mut impl Iterator<Item = &'a usize>,
    events: &mut Vec<Event>,
) {
    let now = Instant::now();
    let mut queue = std::collections::VecDeque::new();
    for _ in 0..400 {
        let mut message = Vec::new();
        let mut sent = false;
        while client.poll_message(&mut message) > 0 {
            ws.client_message(&message);
            message.clear();
            sent = true;
        }
        while client.poll_action().is_some() {}
        events.extend(std::iter::from_fn(|| client.poll_event()));
        queue.extend(ws.take_messages());
        if queue.is_empty() && !sent {
            return;
        }
        let n = (*sizes.next().unwrap_or(&1)).clamp(1, queue.len().max(1));
        for message in queue.drain(..n.min(queue.len())) {
            client
                .handle_message(now, &message)
                .expect("a WebSocket client");
        }
    }
    panic!("the exchange never settled");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// However the server's messages are batched between the client's turns, the client
    /// reports the same events and sends the same messages: message boundaries, not
    /// timing, decide.
    #[test]
    fn batching_of_messages_never_changes_the_outcome(
        batches in proptest::collection::vec(1usize..6, 1..8)
    ) {
        let reference = outcome(&[usize::MAX]);
        proptest::prop_assert!(is_online(&reference.0));
        proptest::prop_assert!(reference.1.last().is_some_and(|m| m.starts_with("<close")));
        let batched = outcome(&batches);
        proptest::prop_assert_eq!(&batched.0, &reference.0);
        proptest::prop_assert_eq!(&batched.1, &reference.1);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any bytes as a message after login: no panic, and once the message is handled the
    /// reader holds nothing of it (a message is never continued by the next one).
    #[test]
    fn any_message_is_taken_whole_or_refused(
        cut in 1usize..60,
        junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
    ) {
        let profile = ServerProfile::prosody_like();
        let (mut client, _ws, _, now) = online(config_for(&profile), true);
        let stanza = b"<message xmlns='jabber:client' from='bob@localhost/x' type='chat'><body>hello there</body></message>";
        let cut = cut.min(stanza.len() - 1);
        let mut message = stanza[..cut].to_vec();
        message.extend_from_slice(&junk);
        client.handle_message(now, &message).expect("a WebSocket client");
        let mut out = Vec::new();
        while client.poll_message(&mut out) > 0 {
            out.clear();
        }
        proptest::prop_assert_eq!(client.buffered_bytes(), 0);
        // Half an element never completes with the next message.
        if !client.is_closed() {
            client.handle_message(now, &stanza[cut..]).expect("a WebSocket client");
            proptest::prop_assert!(client.is_closed());
        }
    }
}
