//! What a client keeps and forgets when its session ends, and how the end is reported: the
//! roster stays (the next session's cache), the bound JID and contacts' presence go, the
//! end is one `Disconnected` event (no `StateChanged(Closed)` before it), and the
//! configuration is still the one the client was built with.

use herald_core::jid::BareJid;
use herald_core::{DisconnectReason, Event, SessionState};
use herald_testkit::{Pair, ServerProfile, config_for};

fn bob() -> BareJid {
    BareJid::new("bob@localhost").unwrap()
}

#[test]
fn the_end_keeps_the_roster_and_forgets_the_session() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.connect();
    let roster = pair.client().roster().clone();
    assert!(roster.get(&bob()).is_some(), "{roster:?}");
    assert!(pair.client().bound_jid().is_some());
    pair.server_says("<presence from='bob@localhost/phone'/>");
    assert_eq!(pair.client().contact_presences(&bob()).len(), 1);
    pair.take_events();

    pair.eof().drive();
    assert_eq!(
        pair.client().state(),
        SessionState::Closed {
            reason: DisconnectReason::Eof
        }
    );
    assert_eq!(pair.client().roster(), &roster);
    assert_eq!(pair.client().bound_jid(), None);
    assert!(pair.client().contact_presences(&bob()).is_empty());
    // The end is reported once.
    assert_eq!(
        pair.take_events(),
        [Event::Disconnected {
            reason: DisconnectReason::Eof
        }]
    );
}

#[test]
fn a_login_leaves_the_config_as_built_and_keeps_its_keys_itself() {
    let profile = ServerProfile::prosody_like();
    let config = config_for(&profile);
    let mut pair = Pair::new(profile, config);
    pair.connect();
    assert_eq!(pair.client().state(), SessionState::Online);
    assert!(pair.client().config().scram_cache.is_empty());
    assert_eq!(pair.client().scram_cache().len(), 1);
}

#[test]
fn no_state_change_announces_the_end() {
    let mut pair = Pair::with_profile(ServerProfile::prosody_like());
    pair.connect();
    pair.command(|c, now| c.close(now)).unwrap();
    pair.drive();
    assert!(pair.client().is_closed());
    assert!(
        !pair
            .events
            .iter()
            .any(|e| matches!(e, Event::StateChanged(SessionState::Closed { .. }))),
        "{:#?}",
        pair.events
    );
    assert!(matches!(
        pair.events.last(),
        Some(Event::Disconnected { .. })
    ));
}
