//! Flights and round trips of today's client against the scripted server.

use herald_core::Transport;

use super::{Flight, round_trips_to};
use crate::{Chunking, Pair, ServerProfile};

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";

fn client_flights(pair: &Pair) -> Vec<Flight> {
    pair.flights()
        .into_iter()
        .filter(|f| f.from_client)
        .collect()
}

/// A flight's first bytes, to read a login at a glance.
fn opening(flight: &Flight) -> String {
    if flight.tls_handshake {
        return "TLS".to_string();
    }
    flight.bytes.chars().take(24).collect()
}

/// The STARTTLS login, pipelined: five waits before the initial presence, one per line
/// below (nine before issue 12: the features before `<starttls/>`, the features before the
/// bind request, the bind result before the roster request, the roster before the
/// presence).
#[test]
fn a_starttls_login_takes_five_round_trips_to_presence() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.connect();

    let openings: Vec<String> = client_flights(&pair).iter().map(opening).collect();
    assert_eq!(
        openings,
        [
            "<?xml version='1.0'?><st", // stream header and <starttls/> (never waits)
            "TLS",                      // 1: waited for <proceed/>
            "<?xml version='1.0'?><st", // 2: waited for the TLS handshake
            "<auth xmlns='urn:ietf:pa", // 3: waited for the features
            "<response xmlns='urn:iet", // 4: waited for the SCRAM challenge
            "<?xml version='1.0'?><st", // 5: header, bind, roster, presence: waited for <success/>
        ]
    );
    let flights = pair.flights();
    assert_eq!(
        flights[0].bytes,
        format!("{HEADER}<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
        "the first flight, byte for byte"
    );
    let last = &client_flights(&pair)[5].bytes;
    assert!(last.contains("xmpp-bind") && last.contains("jabber:iq:roster"));
    assert!(crate::without_caps(last).ends_with("<presence/>"), "{last}");
    assert_eq!(pair.round_trips_to_presence(), Some(5));
    assert_eq!(pair.round_trips_to("<auth "), Some(3));
    assert_eq!(pair.round_trips_to("<message"), None);
    assert!(
        pair.server.violations.is_empty(),
        "{:?}",
        pair.server.violations
    );
}

/// Direct TLS (XEP-0368): the handshake is the first flight; four waits.
#[test]
fn a_direct_tls_login_takes_four_round_trips_to_presence() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    let binding = pair.channel_binding.clone();
    pair.connect_over(Transport::DirectTls(binding)).unwrap();
    pair.drive();

    let flights = pair.flights();
    assert!(flights[0].from_client && flights[0].tls_handshake);
    assert!(!flights[1].from_client && flights[1].tls_handshake);
    assert!(flights[2].bytes.starts_with("<?xml"));
    assert_eq!(pair.round_trips_to_presence(), Some(4));
    assert_eq!(pair.server.headers, 2);
    assert!(
        pair.server.violations.is_empty(),
        "{:?}",
        pair.server.violations
    );
}

/// With the features cached from the last session, direct TLS takes three: the initial
/// response leaves with the header.
#[test]
fn a_direct_tls_login_with_cached_features_takes_three() {
    let mut first = Pair::with_profile(ServerProfile::prosody_like());
    first.connect_over(Transport::DirectTls(None)).unwrap();
    first.drive();
    let cache = first.client().feature_cache().cloned();

    let profile = ServerProfile::prosody_like();
    let mut config = crate::config_for(&profile);
    config.feature_cache = cache;
    let mut pair = Pair::new(profile, config);
    pair.connect_over(Transport::DirectTls(None)).unwrap();
    pair.drive();
    assert_eq!(pair.round_trips_to_presence(), Some(3));
    assert!(
        pair.server.violations.is_empty(),
        "{:?}",
        pair.server.violations
    );
}

/// Chunking cuts server batches, not flights: the same login gives the same flights
/// whole, byte by byte or cut at random.
#[test]
fn chunking_does_not_change_the_flights() {
    let run = |chunking: Chunking| {
        let mut pair = Pair::with_profile(ServerProfile::ejabberd_like());
        pair.chunking = chunking;
        pair.connect();
        pair.flights()
    };
    let whole = run(Chunking::Whole);
    assert_eq!(run(Chunking::ByteAtATime), whole);
    assert_eq!(run(Chunking::Random(7)), whole);
    assert_eq!(run(Chunking::Random(1234)), whole);
    assert_eq!(round_trips_to(&whole, "<presence"), Some(5));
}

/// The flights hold exactly what crossed: the client's flights are every byte the server
/// received, the server's every byte the client was given; they alternate.
#[test]
fn flights_are_what_crossed_and_alternate() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.chunking = Chunking::ByteAtATime;
    pair.connect();
    pair.server_says("<presence from='bob@localhost/phone'><status>caf\u{e9}</status></presence>");
    let flights = pair.flights();
    let sent: String = flights
        .iter()
        .filter(|f| f.from_client)
        .map(|f| f.bytes.as_str())
        .collect();
    let given: String = flights
        .iter()
        .filter(|f| !f.from_client)
        .map(|f| f.bytes.as_str())
        .collect();
    assert_eq!(sent.as_bytes(), pair.server.received_bytes);
    assert_eq!(given.as_bytes(), pair.delivered);
    assert!(
        given.ends_with("<status>caf\u{e9}</status></presence>"),
        "one character cut in two is whole again"
    );
    for two in flights.windows(2) {
        assert_ne!(two[0].from_client, two[1].from_client, "{two:?}");
    }
}

/// A client that writes twice without an answer in between (a command, then another)
/// makes one flight, and it did not wait.
#[test]
fn writes_without_an_answer_between_make_one_flight() {
    use herald_core::Presence;
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.connect();
    let before = pair.flights().len();
    pair.command(|c, now| c.set_presence(now, Presence::Away))
        .unwrap();
    pair.command(|c, now| c.set_status(now, "out")).unwrap();
    pair.drive();
    let flights = pair.flights();
    assert_eq!(flights.len(), before + 1, "one flight for both");
    let last = flights.last().unwrap();
    assert!(last.from_client);
    assert!(
        crate::without_caps(&last.bytes)
            .ends_with("<presence><show>away</show><status>out</status></presence>"),
        "{}",
        last.bytes
    );
}

/// A server that offers SASL2, Bind 2 and FAST next to RFC 6120 SASL: the client takes
/// SASL2 with Bind 2 inline; no stream restart, no bind request; still five waits over
/// STARTTLS, the last carrying the roster request and the presence.
#[test]
fn sasl2_with_bind2_takes_five_round_trips_over_starttls() {
    let mut pair = Pair::with_profile(ServerProfile::fast_login());
    pair.connect();
    assert_eq!(pair.round_trips_to_presence(), Some(5));
    assert_eq!(pair.round_trips_to("<authenticate "), Some(3));
    assert_eq!(pair.server.mechanism_used(), Some("SCRAM-SHA-256"));
    let bound = pair.server.bound.clone().expect("bound");
    assert!(bound.starts_with("alice@localhost/desk"), "{bound}");
    assert_eq!(pair.server.headers, 2, "no restart after SASL2 success");
    assert!(
        !pair
            .server
            .received_bytes
            .windows(10)
            .any(|w| w == b"xmpp-bind'")
    );
    assert!(
        pair.server.violations.is_empty(),
        "{:?}",
        pair.server.violations
    );
}

/// FAST (XEP-0484): the first login asks for a token; the next, on direct TLS with the
/// features and the token, logs in with HT-SHA-256-NONE in the first write after the
/// handshake: two waits to the initial presence.
#[test]
fn a_fast_token_logs_in_in_two_round_trips_on_direct_tls() {
    let mut profile = ServerProfile::fast_login();
    profile.starttls = false;
    let mut config = crate::config_for(&profile);
    config.user_agent = Some(herald_core::UserAgent::new(
        "d4565fa7-4d72-4749-b3d3-740edbf87770",
    ));
    let mut first = Pair::new(profile.clone(), config.clone());
    first.connect_over(Transport::DirectTls(None)).unwrap();
    first.drive();
    assert_eq!(first.round_trips_to_presence(), Some(4));
    assert!(first.events.contains(&herald_core::Event::FastTokenUpdated));
    let token = first
        .client()
        .fast_token()
        .cloned()
        .expect("a token was issued");

    config.fast_token = Some(token);
    config.feature_cache = first.client().feature_cache().cloned();
    let mut pair = Pair::new(first.server.profile.clone(), config);
    pair.connect_over(Transport::DirectTls(None)).unwrap();
    pair.drive();
    assert_eq!(pair.client().state(), herald_core::SessionState::Online);
    assert_eq!(pair.server.mechanism_used(), Some("HT-SHA-256-NONE"));
    assert_eq!(pair.round_trips_to_presence(), Some(2));
    assert!(
        pair.server.violations.is_empty(),
        "{:?}",
        pair.server.violations
    );
}
