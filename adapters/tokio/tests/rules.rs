//! herald-tokio follows herald-io's supervisor rules as herald-std does (see
//! `adapters/std/tests/session.rs` for the same cases there): a first attempt that reaches
//! no server ends the session; `see-other-host` is followed at once, once.

mod common;

use std::time::Duration;

use common::{AfterOnline, PlainServer, plain_config, plain_profile, redirector};
use herald_core::{DisconnectReason, Event as CoreEvent, Presence};
use herald_tokio::{EndReason, Event, Events};

async fn until(events: &mut Events, want: impl Fn(&Event) -> bool) -> Vec<Event> {
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out: {seen:#?}"))
            .unwrap_or_else(|| panic!("events ended: {seen:#?}"));
        let done = want(&event);
        seen.push(event);
        if done {
            return seen;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_attempt_that_reaches_no_server_ends_the_session() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let profile = plain_profile();
    let (_handle, mut events) =
        herald_tokio::connect(plain_config(&profile), common::options(port)).expect("connect");
    let seen = until(&mut events, |e| matches!(e, Event::Ended { .. })).await;
    assert!(
        matches!(seen.last(), Some(Event::Ended { reason: EndReason::Unreachable(m) })
            if m.contains(&port.to_string())),
        "{seen:#?}"
    );
    let count = |f: fn(&Event) -> bool| seen.iter().filter(|e| f(e)).count();
    assert_eq!(count(|e| matches!(e, Event::Connecting { .. })), 1);
    assert_eq!(count(|e| matches!(e, Event::ConnectFailed { .. })), 1);
    assert_eq!(count(|e| matches!(e, Event::Reconnecting { .. })), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn see_other_host_is_followed_at_once_and_presence_carries_over() {
    let profile = plain_profile();
    let target = PlainServer::start(profile.clone(), AfterOnline::Nothing);
    let redirect = redirector(format!("127.0.0.1:{}", target.port));
    let first = redirect.port;
    let mut config = plain_config(&profile);
    config.presence = Presence::Away;
    config.status = "lunch".into();
    let (handle, mut events) =
        herald_tokio::connect(config, common::options(first)).expect("connect");
    let seen = until(&mut events, |e| {
        matches!(e, Event::Core(CoreEvent::PresenceSent { .. }))
    })
    .await;
    assert!(seen.iter().any(|e| matches!(
        e,
        Event::Core(CoreEvent::Disconnected {
            reason: DisconnectReason::SeeOtherHost { .. }
        })
    )));
    assert!(seen.contains(&Event::Reconnecting {
        attempt: 1,
        delay: Duration::ZERO
    }));
    // Plain TCP (no direct TLS) to the named port: the redirected connection's TLS mode.
    assert!(seen.contains(&Event::Connecting {
        host: "127.0.0.1".into(),
        port: target.port,
        direct_tls: false
    }));
    assert!(seen.iter().any(|e| matches!(e,
        Event::Core(CoreEvent::PresenceSent { presence: Presence::Away, status }) if status == "lunch")));
    assert_eq!(target.accepted(), 1);
    handle.close().await.unwrap();
    let tail = until(&mut events, |e| matches!(e, Event::Ended { .. })).await;
    assert_eq!(
        tail.last(),
        Some(&Event::Ended {
            reason: EndReason::Session(DisconnectReason::LocalClose)
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn between_connections_presence_is_kept_and_sending_is_refused() {
    let profile = plain_profile();
    let server = PlainServer::start(profile.clone(), AfterOnline::DropFirst);
    let mut options = common::options(server.port);
    // Time to give commands while the task waits to reconnect.
    options.reconnect_initial = Duration::from_secs(3);
    options.reconnect_max = Duration::from_secs(3);
    let (handle, mut events) =
        herald_tokio::connect(plain_config(&profile), options).expect("connect");
    let seen = until(&mut events, |e| matches!(e, Event::Reconnecting { .. })).await;
    assert!(
        seen.iter()
            .any(|e| matches!(e, Event::Core(CoreEvent::Online { .. })))
    );
    handle.set_presence(Presence::Away).await.unwrap();
    handle.set_status("back soon").await.unwrap();
    assert!(matches!(
        handle.set_status("bad \u{1}").await,
        Err(herald_tokio::Error::Usage(
            herald_core::UsageError::InvalidText { .. }
        ))
    ));
    let message: herald_core::minidom::Element =
        "<message xmlns='jabber:client' to='bob@localhost'/>"
            .parse()
            .unwrap();
    assert_eq!(
        handle.send(message).await,
        Err(herald_tokio::Error::Usage(
            herald_core::UsageError::NotOnline
        ))
    );
    let bob: herald_core::jid::BareJid = "bob@localhost".parse().unwrap();
    assert_eq!(
        handle.subscribe(bob.clone()).await,
        Err(herald_tokio::Error::Usage(
            herald_core::UsageError::NotOnline
        ))
    );
    // The last connection's roster is still there.
    assert!(handle.roster().await.unwrap().items.contains_key(&bob));

    let seen = until(&mut events, |e| {
        matches!(e, Event::Core(CoreEvent::PresenceSent { .. }))
    })
    .await;
    let sent: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            Event::Core(CoreEvent::PresenceSent { presence, status }) => {
                Some((*presence, status.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(sent, [(Presence::Away, "back soon".to_string())]);
    handle.close().await.unwrap();
    until(&mut events, |e| matches!(e, Event::Ended { .. })).await;
    assert!(matches!(
        handle.set_presence(Presence::Away).await,
        Err(herald_tokio::Error::Ended)
    ));
}
