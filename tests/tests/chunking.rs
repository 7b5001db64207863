//! Chunking must not matter: the same server bytes delivered whole, one byte at a time, or
//! split at random points give identical transmits, actions and events, including when the
//! server ends in garbage or breaks a limit; and whichever way the login went (RFC 6120 or
//! SASL2 with Bind2, a FAST token used, rotated or refused, a feature cache current or
//! stale, pipelining on or off); and with stream management through acknowledgements, a
//! cut and a resumption (granted or refused).

use std::time::Duration;

use herald_core::minidom::Element;
use herald_core::{Action, Event, Presence, SessionState};
use herald_testkit::{Chunking, Pair, ServerProfile, config_for};
use proptest::prelude::*;

mod login_paths;

use login_paths::LoginPath;

/// Server-to-client fragments sent once online, some friendly, some hostile.
const FRAGMENTS: &[&str] = &[
    "<presence from='bob@localhost/phone'><show>away</show><status>caf\u{e9} &amp; cr\u{e8}me</status><priority>3</priority></presence>",
    "<message from='bob@localhost/phone' type='chat'><body><![CDATA[<hi>]]> &#x20AC;</body></message>",
    "<iq type='get' id='p1' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>",
    "<iq type='set' id='x1' from='bob@localhost/phone'><query xmlns='urn:example'/></iq>",
    "  \n ",
    "<presence from='carol@localhost/a' type='unavailable'/>",
    "<presence type='error' from='alice@localhost/desk'><error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>",
    "<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bye</text></stream:error>",
    "<message><body>unterminated",
    "junk text",
    "<a><b></a>",
    "<!-- comment -->",
    "</stream:stream>",
];

/// Everything observable from the client, and the mechanisms the server saw.
#[derive(Debug, PartialEq)]
struct Transcript {
    client_bytes: Vec<u8>,
    events: Vec<Event>,
    actions: Vec<Action>,
    mechanisms: Vec<String>,
}

impl Transcript {
    fn count(&self, what: impl Fn(&Event) -> bool) -> usize {
        self.events.iter().filter(|e| what(e)).count()
    }
}

/// Logs in along `path`, then the server sends the fragments of `script` in one batch; a
/// presence change and a close follow if the session is still up.
fn run(path: LoginPath, chunking: Chunking, script: &[usize]) -> Transcript {
    let (profile, mut config, transport) = path.setup();
    config.presence = Presence::Away;
    config.status = "lunch".into();
    let mut pair = Pair::new(profile, config);
    pair.chunking = chunking;
    pair.connect_over(transport).unwrap();
    pair.drive();
    assert_eq!(pair.client().state(), SessionState::Online, "{path:?}");
    // All the fragments go out as one server batch, so only the cutting differs.
    let batch: String = script.iter().map(|&i| FRAGMENTS[i]).collect();
    pair.server.send_raw(batch);
    pair.drive();
    if !pair.client().is_closed() {
        pair.command(|c, now| c.set_presence(now, Presence::DoNotDisturb))
            .unwrap();
        pair.command(|c, now| c.close(now)).unwrap();
        pair.drive();
    }
    Transcript {
        client_bytes: pair.server.received_bytes.clone(),
        events: pair.events.clone(),
        actions: pair.actions.clone(),
        mechanisms: pair
            .server
            .auth_log
            .iter()
            .map(|(m, _)| m.clone())
            .collect(),
    }
}

#[test]
fn every_login_path_is_identical_whole_byte_at_a_time_and_cut_at_random() {
    let script = [0, 1, 2, 3, 4, 5, 6];
    for path in LoginPath::ALL {
        let whole = run(path, Chunking::Whole, &script);
        assert_eq!(whole, run(path, Chunking::ByteAtATime, &script), "{path:?}");
        assert_eq!(whole, run(path, Chunking::Random(7), &script), "{path:?}");
        // Each path went the way its name says, through login and the stanzas.
        assert_eq!(whole.mechanisms, path.mechanisms(), "{path:?}");
        assert_eq!(whole.count(|e| matches!(e, Event::Online { .. })), 1);
        assert_eq!(whole.count(|e| matches!(e, Event::PresenceError { .. })), 1);
        // Bob's presence, Carol's unavailable one, and the echo of ours.
        assert_eq!(
            whole.count(|e| matches!(e, Event::Presence(_))),
            3 - usize::from(path == LoginPath::Ejabberd),
            "{path:?}"
        );
        let updates = whole.count(|e| *e == Event::FastTokenUpdated);
        let expected = match path {
            // Issued after SCRAM; rotated in the token login's success.
            LoginPath::Sasl2Bind2 | LoginPath::StaleCache | LoginPath::FastToken => 1,
            // Dropped, then a new one.
            LoginPath::RefusedToken => 2,
            _ => 0,
        };
        assert_eq!(updates, expected, "{path:?}: {:#?}", whole.events);
        if path == LoginPath::StaleCache {
            // The early choice the server refused.
            let sent = String::from_utf8_lossy(&whole.client_bytes);
            let early = "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-256'>";
            assert!(sent.contains(early), "{sent}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn any_split_gives_the_same_transcript(
        seed in any::<u64>(),
        script in proptest::collection::vec(0..FRAGMENTS.len(), 0..8),
        path in proptest::sample::select(LoginPath::ALL.to_vec()),
    ) {
        let whole = run(path, Chunking::Whole, &script);
        let random = run(path, Chunking::Random(seed), &script);
        prop_assert_eq!(&whole, &random);
        let bytes = run(path, Chunking::ByteAtATime, &script);
        prop_assert_eq!(&whole, &bytes);
        // Every run ends: cleanly or with exactly one Disconnected as the last event.
        let ends = whole.events.iter().filter(|e| matches!(e, Event::Disconnected { .. })).count();
        prop_assert_eq!(ends, 1);
        let last_is_disconnected = matches!(whole.events.last(), Some(Event::Disconnected { .. }));
        prop_assert!(last_is_disconnected, "the last event is Disconnected");
    }
}

/// What the server does once online in an SM run, by index: stanzas counted by SM, its own
/// `<r/>` and `<a/>`, whitespace.
fn sm_server_move(pair: &mut Pair, what: usize, n: usize) {
    match what % 5 {
        0 => pair.server.send_stanza(format!(
            "<message from='bob@localhost/x' id='b{n}'><body>caf\u{e9} {n}</body></message>"
        )),
        1 => pair.server.send_stanza(format!(
            "<presence from='bob@localhost/x'><status>{n}</status></presence>"
        )),
        2 => pair.server.sm_request_ack(),
        3 => pair.server.sm_send_ack(),
        _ => pair.server.send_raw(" \n"),
    }
}

fn sm_transcript(pair: &Pair) -> Transcript {
    Transcript {
        client_bytes: pair.server.received_bytes.clone(),
        events: pair.events.clone(),
        actions: pair.actions.clone(),
        mechanisms: Vec::new(),
    }
}

/// With stream management: a login, the server's moves of `script` as one batch with the
/// client's messages between them, a silent cut found by the link check, and the next
/// connection resuming (or refused, when `refuse`). Both connections' transcripts.
fn run_sm(chunking: Chunking, script: &[usize], refuse: bool) -> (Transcript, Transcript) {
    let profile = ServerProfile {
        iterations: 4096,
        sm_ack_every: Some(3),
        ..ServerProfile::stream_management()
    };
    let mut pair = Pair::new(profile.clone(), config_for(&profile));
    pair.chunking = chunking;
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Online);
    for (n, &what) in script.iter().enumerate() {
        sm_server_move(&mut pair, what, n);
    }
    pair.drive();
    for n in 0..6 {
        let msg: Element = format!(
            "<message xmlns='jabber:client' to='bob@localhost' id='m{n}'><body>{n}</body></message>"
        )
        .parse()
        .unwrap();
        pair.command(|c, now| c.send(now, &msg)).unwrap();
        if n == 2 {
            pair.drive();
        }
    }
    pair.drive();
    pair.advance(Duration::from_secs(2));
    pair.cut_silently();
    pair.server
        .send_stanza("<message from='bob@localhost/x' id='late'/>");
    // Written into the dead link: resent on resumption, reported lost on refusal.
    let msg: Element = "<message xmlns='jabber:client' to='bob@localhost' id='m6'/>"
        .parse()
        .unwrap();
    pair.command(|c, now| c.send(now, &msg)).unwrap();
    for _ in 0..10 {
        if pair.client().is_closed() || !pair.fire_next_timeout() {
            break;
        }
    }
    let first = sm_transcript(&pair);

    let mut config = config_for(&profile);
    config.scram_cache = pair.client().scram_cache().clone();
    config.feature_cache = pair.client().feature_cache().cloned();
    config.resumption = pair.client().resumption().cloned();
    config.presence = Presence::Away;
    let mut next = pair.reconnect_with(config);
    next.server.profile.sm_refuse_resume = refuse;
    next.connect();
    assert_eq!(next.client().state(), SessionState::Online);
    next.command(|c, now| c.close(now)).unwrap();
    next.drive();
    (first, sm_transcript(&next))
}

#[test]
fn stream_management_is_identical_whole_byte_at_a_time_and_cut_at_random() {
    let script = [0, 2, 1, 3, 0, 0, 4, 2];
    for refuse in [false, true] {
        let whole = run_sm(Chunking::Whole, &script, refuse);
        assert_eq!(whole, run_sm(Chunking::ByteAtATime, &script, refuse));
        assert_eq!(whole, run_sm(Chunking::Random(11), &script, refuse));
        let resumed = whole.1.count(|e| matches!(e, Event::Resumed { .. }));
        let lost = whole.1.count(|e| matches!(e, Event::StanzasLost { .. }));
        assert_eq!((resumed, lost), if refuse { (0, 1) } else { (1, 0) });
        let expected = if refuse {
            Event::StanzasLost {
                count: 1,
                ids: vec!["m6".into()],
            }
        } else {
            Event::Resumed { resent: 1 }
        };
        assert!(whole.1.events.contains(&expected), "{:#?}", whole.1.events);
        // bob's late message arrives once when resumed.
        let late = whole
            .1
            .count(|e| matches!(e, Event::Stanza(s) if s.attr("id") == Some("late")));
        assert_eq!(late, usize::from(!refuse));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn any_split_gives_the_same_sm_transcript(
        seed in any::<u64>(),
        script in proptest::collection::vec(0..5usize, 0..10),
        refuse in any::<bool>(),
    ) {
        let whole = run_sm(Chunking::Whole, &script, refuse);
        prop_assert_eq!(&whole, &run_sm(Chunking::Random(seed), &script, refuse));
        prop_assert_eq!(&whole, &run_sm(Chunking::ByteAtATime, &script, refuse));
    }
}
