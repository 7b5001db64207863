//! herald-tokio against the scripted server on a real loopback socket with real TLS.

use std::time::Duration;

use herald_core::{DisconnectReason, Event as CoreEvent, Presence};
use herald_testkit::loopback::LoopbackServer;
use herald_testkit::{ServerProfile, config_for};
use herald_tokio::{ConnectOptions, EndReason, Event, Events};

mod tokio_common;

fn options(server: &LoopbackServer, trust_ca: bool) -> ConnectOptions {
    let mut options = ConnectOptions::default();
    options.server = Some(("127.0.0.1".into(), server.port));
    options.ca_file = trust_ca.then(|| server.ca_file().to_path_buf());
    options.reconnect_initial = Duration::from_millis(50);
    options.reconnect_max = Duration::from_millis(200);
    options
}

/// Waits (bounded) for an event matching `want`, returning everything seen up to it.
async fn until(events: &mut Events, want: impl Fn(&Event) -> bool) -> Vec<Event> {
    tokio_common::until(events, "the expected event", Duration::from_secs(20), want).await
}

fn is_online(e: &Event) -> bool {
    matches!(e, Event::Core(CoreEvent::Online { .. }))
}

fn is_ended(e: &Event) -> bool {
    matches!(e, Event::Ended { .. })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_login_initial_presence_change_and_close() {
    let server = LoopbackServer::scripted(ServerProfile::prosody_like(), false);
    let mut config = config_for(&ServerProfile::prosody_like());
    config.presence = Presence::Away;
    config.status = "lunch".into();
    let (handle, mut events) =
        herald_tokio::connect(config, options(&server, true)).expect("connect");
    until(&mut events, is_online).await;
    handle
        .change_presence(Presence::DoNotDisturb, "meeting")
        .await
        .unwrap();
    handle.close().await.unwrap();
    let tail = until(&mut events, is_ended).await;
    assert_eq!(
        tail.last(),
        Some(&Event::Ended {
            reason: EndReason::Session(DisconnectReason::LocalClose)
        })
    );
    let log = server.connection(0);
    let presences: Vec<String> = log.presences().iter().map(|p| String::from(*p)).collect();
    assert_eq!(presences.len(), 3, "{presences:?}");
    assert!(
        presences[0].contains("<show>away</show><status>lunch</status>"),
        "{presences:?}"
    );
    assert!(
        presences[1].contains("<show>dnd</show><status>meeting</status>"),
        "{presences:?}"
    );
    assert!(presences[2].contains("type='unavailable'"), "{presences:?}");
    assert!(log.client_closed);
    // Before TLS only the header and <starttls/> went out in the clear.
    let plaintext = String::from_utf8_lossy(&log.plaintext);
    assert!(
        plaintext.ends_with("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
        "{plaintext}"
    );
    assert_eq!(server.accepted(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_ca_fails_before_any_credential_and_is_not_retried() {
    let server = LoopbackServer::scripted(ServerProfile::prosody_like(), false);
    let config = config_for(&ServerProfile::prosody_like());
    let (_handle, mut events) =
        herald_tokio::connect(config, options(&server, false)).expect("connect");
    let seen = until(&mut events, is_ended).await;
    match seen.last() {
        Some(Event::Ended {
            reason: EndReason::Tls(message),
        }) => {
            assert!(message.to_lowercase().contains("certificate"), "{message}")
        }
        other => panic!("expected a TLS end, got {other:?}"),
    }
    assert!(!seen.iter().any(|e| matches!(e, Event::Reconnecting { .. })));
    let log = server.connection(0);
    assert!(!log.received.iter().any(|e| e.name() == "auth"));
    assert_eq!(server.accepted(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_with_the_current_presence_after_the_server_drops() {
    let server = LoopbackServer::scripted(ServerProfile::prosody_like(), true);
    let config = config_for(&ServerProfile::prosody_like());
    let (handle, mut events) =
        herald_tokio::connect(config, options(&server, true)).expect("connect");
    until(&mut events, is_online).await;
    // The server cuts the first connection after the initial presence; a change made
    // now, online or between connections, must be the next session's initial presence.
    let _ = handle
        .change_presence(Presence::ExtendedAway, "back soon")
        .await;
    let seen = until(&mut events, |e| matches!(e, Event::Reconnecting { .. })).await;
    assert!(seen.iter().any(|e| matches!(e,
        Event::Core(CoreEvent::Disconnected { reason }) if reason.should_reconnect())));
    handle
        .change_presence(Presence::ExtendedAway, "back soon")
        .await
        .unwrap();
    until(&mut events, is_online).await;
    let second = server.connection_when(1, |log| !log.presences().is_empty());
    let initial = second.presences();
    assert_eq!(initial.len(), 1, "{:?}", second.received);
    assert!(String::from(initial[0]).contains("<show>xa</show><status>back soon</status>"));
    handle.close().await.unwrap();
    until(&mut events, is_ended).await;
}
