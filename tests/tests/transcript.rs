//! The whole job against the Prosody-like script: STARTTLS, SCRAM-SHA-1, bind, initial
//! presence away/"lunch", a change, offline and back, a clean close. Every stanza is
//! asserted byte for byte. The login pipelines (the default): `<starttls/>` with the first
//! header; the bind request, the roster request and the initial presence with the third.

use herald_core::{Action, DisconnectReason, Event, Presence, SessionState};
use herald_testkit::{Pair, ServerProfile, config_for};

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>";
/// After TLS our header names the account (RFC 6120 section 4.7.1).
const SECURE_HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='alice@localhost' to='localhost' \
    version='1.0'>";

#[test]
fn prosody_like_login_presence_changes_and_close() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.presence = Presence::Away;
    config.status = "lunch".into();
    let mut pair = Pair::new(profile, config);

    pair.connect();

    let wire = pair.client_sent_since(0);
    // First stream: header, then STARTTLS (in the same write) and nothing else before TLS.
    let (first, rest) = wire.split_at(HEADER.len());
    assert_eq!(first, HEADER);
    let (starttls, rest) = rest.split_at(rest.find("<?xml").unwrap());
    assert_eq!(
        starttls,
        "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    );
    // Second stream (inside TLS): SCRAM-SHA-1.
    assert!(rest.starts_with(SECURE_HEADER));
    assert!(
        rest.contains("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>")
    );
    // The client holds binding data and the server offers no -PLUS: "y" (RFC 5802 6).
    assert_eq!(
        pair.server.auth_log,
        vec![("SCRAM-SHA-1".to_string(), "y,,".to_string())]
    );
    // Third stream: bind, the roster (RFC 6121 2.2: before the initial presence; without
    // `ver`: the features that offer versioning are not known yet when it leaves), then
    // exactly one initial presence with the configured values, all in one write.
    let third = &rest[rest.rfind("<?xml").unwrap()..];
    let after_header = &third[SECURE_HEADER.len()..];
    let bind_end = after_header.find("</iq>").unwrap() + "</iq>".len();
    assert!(after_header[..bind_end].contains(
        "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>desk</resource></bind>"
    ));
    assert!(
        !after_header.contains("xmpp-session"),
        "session is optional: not sent"
    );
    let (roster_get, presence) = after_header[bind_end..]
        .split_at(after_header[bind_end..].find("</iq>").unwrap() + "</iq>".len());
    assert!(roster_get.starts_with("<iq id='h"), "{roster_get}");
    assert!(
        roster_get.ends_with("type='get'><query xmlns='jabber:iq:roster'/></iq>"),
        "{roster_get}"
    );
    assert_eq!(
        presence,
        "<presence><show>away</show><status>lunch</status></presence>"
    );
    assert_eq!(pair.server.headers, 3);

    assert_eq!(pair.client().state(), SessionState::Online);
    let events = pair.take_events();
    let states: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::StateChanged(s) => Some(s.name()),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        [
            "connecting",
            "starting_tls",
            "tls_handshake",
            "connecting",
            "authenticating",
            "binding",
            "online"
        ]
    );
    let tail: Vec<_> = events
        .iter()
        .skip_while(|e| !matches!(e, Event::Online { .. }))
        .collect();
    // Online, the initial presence, then the roster when its answer arrives.
    assert_eq!(tail.len(), 3, "{tail:#?}");
    assert!(matches!(tail[2], Event::Roster { .. }));
    match tail[0] {
        Event::Online { jid } => assert_eq!(jid.as_str(), "alice@localhost/desk"),
        other => panic!("expected Online, got {other:?}"),
    }
    assert_eq!(
        tail[1],
        &Event::PresenceSent {
            presence: Presence::Away,
            status: "lunch".into()
        }
    );

    // A change while online: one stanza with both values.
    let mark = pair.mark();
    pair.command(|c, now| c.set_presence(now, Presence::DoNotDisturb))
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence><show>dnd</show><status>lunch</status></presence>"
    );

    // Offline: unavailable presence, session kept. Prosody echoes it back.
    let mark = pair.mark();
    pair.command(|c, now| c.change_presence(now, Presence::Offline, "gone"))
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence type='unavailable'><status>gone</status></presence>"
    );
    assert_eq!(pair.client().state(), SessionState::Online);
    let echoed = pair.take_events();
    assert!(echoed.iter().any(|e| matches!(e,
        Event::Presence(p) if p.availability == Presence::Offline
            && p.resource() == Some("desk"))));

    // And back.
    let mark = pair.mark();
    pair.command(|c, now| c.change_presence(now, Presence::Chat, "back"))
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence><status>back</status></presence>"
    );

    // Close: unavailable presence, our footer; the server answers with its own.
    let mark = pair.mark();
    pair.command(|c, now| c.close(now)).unwrap();
    pair.drive();
    assert_eq!(
        pair.client_sent_since(mark),
        "<presence type='unavailable'/></stream:stream>"
    );
    assert!(pair.server.client_closed);
    assert_eq!(
        pair.client().state(),
        SessionState::Closed {
            reason: DisconnectReason::LocalClose
        }
    );
    assert_eq!(pair.actions.last(), Some(&Action::CloseTransport));
    let end = pair.take_events();
    assert_eq!(
        end.last(),
        Some(&Event::Disconnected {
            reason: DisconnectReason::LocalClose
        })
    );
    assert!(pair.server.parse_error.is_none());
}
