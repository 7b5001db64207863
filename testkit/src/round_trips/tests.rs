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

/// Today's STARTTLS login: nine waits before the initial presence, one per line below.
/// The core's pipelining (issue 12) will change this number and the shape of the flights:
/// the core engineer updates them with it.
#[test]
fn todays_starttls_login_takes_nine_round_trips_to_presence() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.connect();

    let openings: Vec<String> = client_flights(&pair).iter().map(opening).collect();
    assert_eq!(
        openings,
        [
            "<?xml version='1.0'?><st", // stream header (never waits)
            "<starttls xmlns='urn:iet", // 1: waited for the features
            "TLS",                      // 2: waited for <proceed/>
            "<?xml version='1.0'?><st", // 3: waited for the TLS handshake
            "<auth xmlns='urn:ietf:pa", // 4: waited for the features
            "<response xmlns='urn:iet", // 5: waited for the SCRAM challenge
            "<?xml version='1.0'?><st", // 6: waited for <success/>
            "<iq id='h956eeb2f-1' typ", // 7: bind, waited for the features
            "<iq id='h956eeb2f-2' typ", // 8: roster get, waited for the bind result
            "<presence/>",              // 9: waited for the roster
        ]
    );
    let flights = pair.flights();
    assert_eq!(flights[0].bytes, HEADER, "the first flight, byte for byte");
    assert_eq!(
        flights[2].bytes,
        "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    );
    assert_eq!(
        flights[3].bytes,
        "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    );
    assert_eq!(pair.round_trips_to_presence(), Some(9));
    assert_eq!(pair.round_trips_to("<auth "), Some(4));
    assert_eq!(pair.round_trips_to("<message"), None);
    assert!(
        pair.server.violations.is_empty(),
        "{:?}",
        pair.server.violations
    );
}

/// Direct TLS (XEP-0368): the handshake is the first flight; seven waits. The core's
/// pipelining (issue 12) will change this number: the core engineer updates it with it.
#[test]
fn todays_direct_tls_login_takes_seven_round_trips_to_presence() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    let binding = pair.channel_binding.clone();
    pair.connect_over(Transport::DirectTls(binding)).unwrap();
    pair.drive();

    let flights = pair.flights();
    assert!(flights[0].from_client && flights[0].tls_handshake);
    assert!(!flights[1].from_client && flights[1].tls_handshake);
    assert_eq!(flights[2].bytes, HEADER);
    assert_eq!(pair.round_trips_to_presence(), Some(7));
    assert_eq!(pair.server.headers, 2);
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
    assert_eq!(round_trips_to(&whole, "<presence"), Some(9));
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
    assert_eq!(
        flights.len(),
        before,
        "merged into the flight that carried the presence"
    );
    let last = flights.last().unwrap();
    assert!(last.from_client);
    assert!(
        last.bytes
            .ends_with("<presence><show>away</show><status>out</status></presence>"),
        "{}",
        last.bytes
    );
}

/// A server that offers SASL2, Bind 2 and FAST next to RFC 6120 SASL leaves today's client
/// (which knows none of them) where it was: the same nine round trips, nothing refused.
#[test]
fn todays_client_logs_in_as_before_when_sasl2_is_offered_alongside() {
    let mut pair = Pair::with_profile(ServerProfile::fast_login());
    pair.connect();
    assert!(
        pair.flights()[7]
            .bytes
            .contains("<authentication xmlns='urn:xmpp:sasl:2'>")
    );
    assert_eq!(pair.round_trips_to_presence(), Some(9));
    assert_eq!(pair.server.mechanism_used(), Some("SCRAM-SHA-256"));
    assert_eq!(pair.server.bound.as_deref(), Some("alice@localhost/desk"));
    assert!(
        pair.server.violations.is_empty(),
        "{:?}",
        pair.server.violations
    );
}
