//! Chunking must not matter: the same server bytes delivered whole, one byte at a time, or
//! split at random points give identical transmits, actions and events, including when the
//! server ends in garbage or breaks a limit.

use herald_core::{Action, Event, Presence};
use herald_testkit::{Chunking, Pair, ServerProfile, config_for};
use proptest::prelude::*;

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

/// Everything observable from the client.
#[derive(Debug, PartialEq)]
struct Transcript {
    client_bytes: Vec<u8>,
    events: Vec<Event>,
    actions: Vec<Action>,
}

fn run(profile: &ServerProfile, chunking: Chunking, script: &[usize]) -> Transcript {
    let mut config = config_for(profile);
    config.presence = Presence::Away;
    config.status = "lunch".into();
    let mut pair = Pair::new(profile.clone(), config);
    pair.chunking = chunking;
    pair.connect();
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
    }
}

fn fast(profile: ServerProfile) -> ServerProfile {
    ServerProfile {
        iterations: 4096,
        ..profile
    }
}

#[test]
fn login_and_presence_are_identical_whole_and_byte_at_a_time() {
    for profile in [
        ServerProfile::prosody_like(),
        ServerProfile::ejabberd_like(),
    ] {
        let script = [0, 1, 2, 3, 4, 5, 6];
        let whole = run(&profile, Chunking::Whole, &script);
        let bytes = run(&profile, Chunking::ByteAtATime, &script);
        assert_eq!(whole, bytes);
        // The run really went through login and the stanzas.
        assert!(
            whole
                .events
                .iter()
                .any(|e| matches!(e, Event::Online { .. }))
        );
        assert!(
            whole
                .events
                .iter()
                .any(|e| matches!(e, Event::PresenceError { .. }))
        );
        assert_eq!(
            whole
                .events
                .iter()
                .filter(|e| matches!(e, Event::Presence(_)))
                .count(),
            if profile.echo_unavailable { 3 } else { 2 }
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn any_split_gives_the_same_transcript(
        seed in any::<u64>(),
        script in proptest::collection::vec(0..FRAGMENTS.len(), 0..8),
        ejabberd in any::<bool>(),
    ) {
        let profile = fast(if ejabberd {
            ServerProfile::ejabberd_like()
        } else {
            ServerProfile::prosody_like()
        });
        let whole = run(&profile, Chunking::Whole, &script);
        let random = run(&profile, Chunking::Random(seed), &script);
        prop_assert_eq!(&whole, &random);
        let bytes = run(&profile, Chunking::ByteAtATime, &script);
        prop_assert_eq!(&whole, &bytes);
        // Every run ends: cleanly or with exactly one Disconnected as the last event.
        let ends = whole.events.iter().filter(|e| matches!(e, Event::Disconnected { .. })).count();
        prop_assert_eq!(ends, 1);
        let last_is_disconnected = matches!(whole.events.last(), Some(Event::Disconnected { .. }));
        prop_assert!(last_is_disconnected, "the last event is Disconnected");
    }
}
