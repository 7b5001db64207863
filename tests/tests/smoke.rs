use herald_core::{Event, Presence, SessionState};
use herald_tests::{Pair, ServerProfile, config_for};

#[test]
fn smoke() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.presence = Presence::Away;
    config.status = "lunch".into();
    let mut pair = Pair::new(profile, config);
    pair.connect();
    for e in &pair.events {
        println!("{e:?}");
    }
    println!("{}", String::from_utf8_lossy(&pair.server.received_bytes));
    println!("---\n{}", String::from_utf8_lossy(&pair.delivered));
    assert_eq!(pair.client.state(), SessionState::Online);
    assert!(
        pair.events
            .iter()
            .any(|e| matches!(e, Event::Online { .. }))
    );
}
