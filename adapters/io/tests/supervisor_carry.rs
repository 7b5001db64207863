//! What the supervisor carries from one connection to the next, sans-IO on a virtual
//! clock: presence and status (set live or between connections), the SCRAM key cache and
//! the roster; and what it refuses or ends between connections.

mod supervisor_common;

use std::time::Instant;

use herald_core::{DisconnectReason, Presence, SeededEntropy, SessionState, UsageError};
use herald_io::Command;
use herald_io::supervisor::EndReason;
use herald_testkit::{ServerProfile, config_for};
use supervisor_common::*;

#[test]
fn presence_and_status_set_while_disconnected_become_the_next_initial_presence() {
    let profile = ServerProfile::prosody_like();
    let mut sup = supervisor(config_for(&profile));
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    let _ = retry(finish(&mut sup, &mut pair).1);

    assert_eq!(
        sup.apply_between(Command::set_presence(Presence::Away)),
        Ok(None)
    );
    assert_eq!(sup.apply_between(Command::set_status("lunch")), Ok(None));
    assert!(matches!(
        sup.apply_between(Command::set_status("bad \u{7}")),
        Err(UsageError::InvalidText { ch: '\u{7}' })
    ));
    let message: herald_core::minidom::Element =
        "<message xmlns='jabber:client' to='bob@localhost'/>"
            .parse()
            .unwrap();
    assert_eq!(
        sup.apply_between(Command::Send(Box::new(message))),
        Err(UsageError::NotOnline)
    );
    let bob: herald_core::jid::BareJid = "bob@localhost".parse().unwrap();
    assert_eq!(
        sup.apply_between(Command::Subscribe(bob)),
        Err(UsageError::NotOnline)
    );
    assert_eq!((sup.presence(), sup.status()), (Presence::Away, "lunch"));

    let pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    let sent = pair.server.received_named("presence");
    assert_eq!(sent.len(), 1, "exactly one initial presence");
    let xml = String::from(sent[0]);
    assert!(
        xml.contains("<show>away</show><status>lunch</status>"),
        "{xml}"
    );
}

#[test]
fn presence_set_while_connected_is_kept_for_the_next_attempt() {
    let profile = ServerProfile::prosody_like();
    let mut sup = supervisor(config_for(&profile));
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    pair.command(|client, now| {
        sup.apply_live(
            client,
            now,
            Command::change_presence(Presence::DoNotDisturb, "meeting"),
        )
    })
    .unwrap();
    pair.drive();
    let _ = retry(finish(&mut sup, &mut pair).1);
    let config = sup.next_config();
    assert_eq!(
        (config.presence, config.status.as_str()),
        (Presence::DoNotDisturb, "meeting")
    );
}

#[test]
fn scram_keys_and_the_roster_are_carried_into_the_next_attempt() {
    let profile = ServerProfile::prosody_like();
    let mut sup = supervisor(config_for(&profile));
    assert!(sup.next_config().scram_cache.is_empty());
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    // A first login pipelines its roster request before it knows the server versions
    // rosters: no `ver`.
    assert_eq!(pair.server.roster_gets, [None]);
    let _ = retry(finish(&mut sup, &mut pair).1);

    let config = sup.next_config();
    assert_eq!(config.scram_cache.len(), 1);
    let features = config
        .feature_cache
        .as_ref()
        .expect("the features are carried");
    assert_eq!(features.mechanisms, ["SCRAM-SHA-1", "PLAIN"]);
    assert!(features.roster_versioning);
    let roster = config.roster_cache.expect("the roster is carried");
    assert_eq!(roster.version.as_deref(), Some("v1"));
    assert!(roster.items.keys().any(|j| j.as_str() == "bob@localhost"));

    let pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    assert_eq!(pair.client().state(), SessionState::Online);
    // XEP-0237: the next login asks only for what changed since v1.
    assert_eq!(pair.server.roster_gets, [Some("v1".to_string())]);
    assert_eq!(pair.client().scram_cache().len(), 1);
}

#[test]
fn an_attempt_that_never_got_a_roster_keeps_the_last_one() {
    let profile = ServerProfile::prosody_like();
    let mut sup = supervisor(config_for(&profile));
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    let _ = retry(finish(&mut sup, &mut pair).1);
    // The next connection drops during login.
    let client = sup.next_client(SeededEntropy::new(1)).unwrap();
    let _ = retry(sup.on_disconnected(&DisconnectReason::Eof, &client, Instant::now()));
    let roster = sup.next_config().roster_cache.expect("still cached");
    assert_eq!(roster.version.as_deref(), Some("v1"));
}

#[test]
fn a_close_ends_the_session_live_or_between_connections() {
    let profile = ServerProfile::prosody_like();
    let mut sup = supervisor(config_for(&profile));
    let now = Instant::now();
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), now);
    pair.command(|client, now| sup.apply_live(client, now, Command::Close))
        .unwrap();
    // Closing twice is harmless.
    pair.command(|client, now| sup.apply_live(client, now, Command::Close))
        .unwrap();
    pair.drive();
    let (reason, next) = finish(&mut sup, &mut pair);
    assert_eq!(reason, DisconnectReason::LocalClose);
    assert_eq!(end(next), EndReason::Session(DisconnectReason::LocalClose));

    let mut sup = supervisor(config_for(&profile));
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), now);
    let _ = retry(finish(&mut sup, &mut pair).1);
    assert_eq!(
        sup.apply_between(Command::Close),
        Ok(Some(EndReason::Session(DisconnectReason::LocalClose)))
    );
    assert!(sup.is_closing());
}
