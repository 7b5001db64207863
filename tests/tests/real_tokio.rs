//! herald-tokio against real Prosody and ejabberd (Debian packages) on loopback: login,
//! presence seen by a subscribed contact, wrong password, unknown CA, server restart, two
//! resources. A missing server fails the test; nothing here skips.

use std::time::Duration;

use herald_core::{Config, Event as CoreEvent, IncomingPresence, Presence};
use herald_testkit::real::{Ejabberd, Prosody, RealServer};
use herald_tokio::{ConnectOptions, EndReason, Event, Events, Handle};

mod tokio_common;

const ACCOUNTS: &[(&str, &str)] = &[("alice", "alice-pw"), ("bob", "bob-pw")];
const WAIT: Duration = Duration::from_secs(30);

fn config(jid: &str, password: &str) -> Config {
    Config::new(jid, password).expect("valid JID")
}

fn options(server: &dyn RealServer, trust_ca: bool) -> ConnectOptions {
    let mut options = ConnectOptions::default();
    options.server = Some(("127.0.0.1".into(), server.port()));
    options.ca_file = trust_ca.then(|| server.ca_pem_path().to_path_buf());
    options.reconnect_initial = Duration::from_millis(200);
    options.reconnect_max = Duration::from_secs(1);
    options
}

/// Events until `want` matches (bounded by [`WAIT`]); panics with what was seen.
async fn until(events: &mut Events, what: &str, want: impl Fn(&Event) -> bool) -> Vec<Event> {
    tokio_common::until(events, what, WAIT, want).await
}

fn presence_from<'a>(e: &'a Event, user: &str, resource: &str) -> Option<&'a IncomingPresence> {
    match e {
        Event::Core(CoreEvent::Presence(p))
            if p.user() == Some(user) && p.resource() == Some(resource) =>
        {
            Some(p)
        }
        _ => None,
    }
}

async fn online(
    server: &dyn RealServer,
    jid: &str,
    pw: &str,
    p: Presence,
    s: &str,
) -> (Handle, Events) {
    let mut config = config(jid, pw);
    config.presence = p;
    config.status = s.into();
    let (handle, mut events) =
        herald_tokio::connect(config, options(server, true)).expect("connect");
    until(&mut events, &format!("{jid} online"), |e| {
        matches!(e, Event::Core(CoreEvent::Online { .. }))
    })
    .await;
    (handle, events)
}

/// Bob watches while alice goes through the presence values; then both close.
async fn presence_flows_to_the_contact(server: &dyn RealServer) {
    let name = server.name();
    let (bob, mut bob_events) =
        online(server, "bob@localhost/watch", "bob-pw", Presence::Chat, "").await;
    let (alice, mut alice_events) = online(
        server,
        "alice@localhost/desk",
        "alice-pw",
        Presence::Away,
        "lunch",
    )
    .await;
    let expect = |p: Presence, s: &'static str| {
        move |e: &Event| {
            presence_from(e, "alice", "desk").is_some_and(|x| x.availability == p && x.status == s)
        }
    };
    until(
        &mut bob_events,
        &format!("{name}: away/lunch"),
        expect(Presence::Away, "lunch"),
    )
    .await;
    for (p, s) in [
        (Presence::DoNotDisturb, "meeting"),
        (Presence::ExtendedAway, "holiday"),
        (Presence::Offline, ""),
        (Presence::Chat, "back"),
    ] {
        alice.change_presence(p, s).await.expect("change presence");
        until(&mut bob_events, &format!("{name}: {p}/{s}"), expect(p, s)).await;
    }
    alice.close().await.expect("close");
    until(&mut alice_events, "alice ended", |e| {
        matches!(e, Event::Ended { .. })
    })
    .await;
    // Closing sends unavailable presence: bob sees alice go.
    until(&mut bob_events, &format!("{name}: alice gone"), |e| {
        presence_from(e, "alice", "desk").is_some_and(|x| x.availability == Presence::Offline)
    })
    .await;
    bob.close().await.expect("close");
}

async fn wrong_password_fails_once(server: &dyn RealServer) {
    let (_handle, mut events) = herald_tokio::connect(
        config("alice@localhost/x", "not-the-password"),
        options(server, true),
    )
    .expect("connect");
    let seen = until(&mut events, "end after auth failure", |e| {
        matches!(e, Event::Ended { .. })
    })
    .await;
    match seen.last() {
        Some(Event::Ended {
            reason: EndReason::Session(reason),
        }) => {
            assert!(reason.is_auth_failure(), "{}: {reason:?}", server.name())
        }
        other => panic!("{}: expected an auth failure, got {other:?}", server.name()),
    }
    assert!(!seen.iter().any(|e| matches!(e, Event::Reconnecting { .. })));
    assert_eq!(
        seen.iter()
            .filter(|e| matches!(e, Event::Connecting { .. }))
            .count(),
        1
    );
}

async fn unknown_ca_fails_before_credentials(server: &dyn RealServer) {
    let (_handle, mut events) = herald_tokio::connect(
        config("alice@localhost/x", "alice-pw"),
        options(server, false),
    )
    .expect("connect");
    let seen = until(&mut events, "end after TLS failure", |e| {
        matches!(e, Event::Ended { .. })
    })
    .await;
    assert!(
        matches!(
            seen.last(),
            Some(Event::Ended {
                reason: EndReason::Tls(_)
            })
        ),
        "{}: {seen:#?}",
        server.name()
    );
    let states: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            Event::Core(CoreEvent::StateChanged(s)) => Some(s.name()),
            _ => None,
        })
        .collect();
    assert!(!states.contains(&"authenticating"), "{states:?}");
}

async fn restart_reconnects_and_the_contact_sees_the_same_presence(server: &mut dyn RealServer) {
    let name = server.name();
    let (_bob, mut bob_events) =
        online(server, "bob@localhost/watch", "bob-pw", Presence::Chat, "").await;
    let (alice, mut alice_events) = online(
        server,
        "alice@localhost/desk",
        "alice-pw",
        Presence::DoNotDisturb,
        "busy",
    )
    .await;
    let busy = |e: &Event| {
        presence_from(e, "alice", "desk")
            .is_some_and(|x| x.availability == Presence::DoNotDisturb && x.status == "busy")
    };
    until(
        &mut bob_events,
        &format!("{name}: dnd before restart"),
        busy,
    )
    .await;
    server
        .restart()
        .unwrap_or_else(|e| panic!("{name} restart: {e}"));
    let seen = until(
        &mut alice_events,
        &format!("{name}: alice back online"),
        |e| matches!(e, Event::Core(CoreEvent::Online { .. })),
    )
    .await;
    assert!(
        seen.iter().any(|e| matches!(e, Event::Reconnecting { .. })),
        "{seen:#?}"
    );
    assert!(seen.iter().any(|e| matches!(e,
        Event::Core(CoreEvent::PresenceSent { presence: Presence::DoNotDisturb, status })
            if status == "busy")));
    until(&mut bob_events, &format!("{name}: dnd after restart"), busy).await;
    alice.close().await.expect("close");
}

async fn two_resources_of_one_account(server: &dyn RealServer) {
    let name = server.name();
    let (_bob, mut bob_events) =
        online(server, "bob@localhost/watch", "bob-pw", Presence::Chat, "").await;
    let (desk, _e1) = online(
        server,
        "alice@localhost/desk",
        "alice-pw",
        Presence::Away,
        "desk",
    )
    .await;
    let (phone, _e2) = online(
        server,
        "alice@localhost/phone",
        "alice-pw",
        Presence::Chat,
        "phone",
    )
    .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    let (mut seen_desk, mut seen_phone) = (false, false);
    while !(seen_desk && seen_phone) {
        let event = tokio::time::timeout_at(deadline, bob_events.recv())
            .await
            .unwrap_or_else(|_| panic!("{name}: bob did not see both resources"))
            .expect("bob's events ended");
        seen_desk |= presence_from(&event, "alice", "desk").is_some_and(|p| p.status == "desk");
        seen_phone |= presence_from(&event, "alice", "phone").is_some_and(|p| p.status == "phone");
    }
    desk.close().await.expect("close desk");
    phone.close().await.expect("close phone");
}

fn prosody() -> Prosody {
    Prosody::start(ACCOUNTS).unwrap_or_else(|e| panic!("Prosody is required: {e}"))
}

fn ejabberd() -> Ejabberd {
    Ejabberd::start(ACCOUNTS).unwrap_or_else(|e| panic!("ejabberd is required: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_presence_flows_to_the_contact() {
    presence_flows_to_the_contact(&prosody()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ejabberd_presence_flows_to_the_contact() {
    presence_flows_to_the_contact(&ejabberd()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_wrong_password_fails_once() {
    wrong_password_fails_once(&prosody()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ejabberd_wrong_password_fails_once() {
    wrong_password_fails_once(&ejabberd()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_unknown_ca_fails_before_credentials() {
    unknown_ca_fails_before_credentials(&prosody()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ejabberd_unknown_ca_fails_before_credentials() {
    unknown_ca_fails_before_credentials(&ejabberd()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_restart_reconnects_with_the_same_presence() {
    restart_reconnects_and_the_contact_sees_the_same_presence(&mut prosody()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ejabberd_restart_reconnects_with_the_same_presence() {
    restart_reconnects_and_the_contact_sees_the_same_presence(&mut ejabberd()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_two_resources_of_one_account() {
    two_resources_of_one_account(&prosody()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ejabberd_two_resources_of_one_account() {
    two_resources_of_one_account(&ejabberd()).await;
}
