//! Chunking must not matter: the same server bytes delivered whole, one byte at a time, or
//! split at random points give identical transmits, actions and events, including when the
//! server ends in garbage or breaks a limit; and whichever way the login went (RFC 6120 or
//! SASL2 with Bind2, a FAST token used, rotated or refused, a feature cache current or
//! stale, pipelining on or off).

use herald_core::{Action, Event, Presence, SessionState};
use herald_testkit::{Chunking, Pair};
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
