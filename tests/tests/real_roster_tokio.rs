//! The add-approve-watch flow on real Prosody and ejabberd through herald-tokio, with the
//! default subscription policy: alice adds bob, bob approves a second after the request and
//! adds alice back, alice approves a second later; both rosters say `both` and nobody was
//! refused; each sees the other's presence; removing the item stops it. Never skips.

use std::time::Duration;

use herald_core::jid::BareJid;
use herald_core::{Config, Event as CoreEvent, Presence, RosterChange, Subscription};
use herald_testkit::real::{Ejabberd, Prosody, RealServer};
use herald_tokio::{ConnectOptions, Event, Events, Handle};

mod tokio_common;

const ACCOUNTS: &[(&str, &str)] = &[("alice", "alice-pw"), ("bob", "bob-pw")];
const WAIT: Duration = Duration::from_secs(30);
/// How long a person takes to answer a request.
const THINKING: Duration = Duration::from_secs(1);

fn bare(s: &str) -> BareJid {
    BareJid::new(s).expect("valid JID")
}

async fn until(events: &mut Events, what: &str, want: impl Fn(&CoreEvent) -> bool) -> Vec<Event> {
    tokio_common::until(events, what, WAIT, tokio_common::core(want)).await
}

async fn login(server: &dyn RealServer, user: &str) -> (Handle, Events) {
    // The default policy: the application answers within the window.
    let config = Config::new(&format!("{user}@localhost/r"), format!("{user}-pw")).unwrap();
    let mut options = ConnectOptions::default();
    options.server = Some(("127.0.0.1".into(), server.port()));
    options.ca_file = Some(server.ca_pem_path().to_path_buf());
    let (handle, mut events) = herald_tokio::connect(config, options).expect("connect");
    until(&mut events, &format!("{user} online"), |e| {
        matches!(e, CoreEvent::Online { .. })
    })
    .await;
    // The accounts start with empty rosters (the roster, requested with the bind request,
    // arrives when it arrives: here, after online).
    let seen = until(&mut events, &format!("{user}'s roster"), |e| {
        matches!(e, CoreEvent::Roster { .. })
    })
    .await;
    assert!(matches!(seen.last(),
        Some(Event::Core(CoreEvent::Roster { roster, .. })) if roster.items.is_empty()));
    (handle, events)
}

fn sees(from: &'static str, p: Presence, status: &'static str) -> impl Fn(&CoreEvent) -> bool {
    move |e| {
        matches!(e, CoreEvent::Presence(x)
            if x.from.to_bare().as_str() == from && x.availability == p && x.status == status)
    }
}

async fn add_approve_watch_remove(server: &dyn RealServer) {
    let name = server.name();
    let (alice, mut alice_events) = login(server, "alice").await;
    let (bob, mut bob_events) = login(server, "bob").await;
    let (alice_jid, bob_jid) = (bare("alice@localhost"), bare("bob@localhost"));

    alice
        .add_contact(bob_jid.clone(), Some("Bob".into()), vec!["Friends".into()])
        .await
        .unwrap();
    until(&mut alice_events, &format!("{name}: alice's push for bob"), |e| {
        matches!(e, CoreEvent::RosterPush { change: RosterChange::Added | RosterChange::Updated, item, .. }
            if item.jid.as_str() == "bob@localhost")
    })
    .await;
    let mut bob_seen = until(&mut bob_events, &format!("{name}: bob gets the request"), |e| {
        matches!(e, CoreEvent::SubscriptionRequest { from } if from.as_str() == "alice@localhost")
    })
    .await;
    tokio::time::sleep(THINKING).await;
    bob.approve(alice_jid.clone()).await.unwrap();
    let mut alice_seen = until(
        &mut alice_events,
        &format!("{name}: alice is subscribed"),
        |e| matches!(e, CoreEvent::Subscribed { from } if from.as_str() == "bob@localhost"),
    )
    .await;

    bob.add_contact(alice_jid.clone(), Some("Alice".into()), vec![])
        .await
        .unwrap();
    alice_seen.extend(
        until(&mut alice_events, &format!("{name}: alice gets bob's request"), |e| {
            matches!(e, CoreEvent::SubscriptionRequest { from } if from.as_str() == "bob@localhost")
        })
        .await,
    );
    tokio::time::sleep(THINKING).await;
    alice.approve(bob_jid.clone()).await.unwrap();
    bob_seen.extend(
        until(
            &mut bob_events,
            &format!("{name}: bob is subscribed"),
            |e| matches!(e, CoreEvent::Subscribed { from } if from.as_str() == "alice@localhost"),
        )
        .await,
    );
    // The answers were the people's: no policy answer, no refusal either way.
    for seen in [&alice_seen, &bob_seen] {
        assert!(
            !seen.iter().any(|e| matches!(
                e,
                Event::Core(
                    CoreEvent::Unsubscribed { .. } | CoreEvent::SubscriptionAnswered { .. }
                )
            )),
            "{name}: {seen:?}"
        );
    }

    // Both rosters say `both` once the last push arrived.
    for (handle, events, contact) in [
        (&alice, &mut alice_events, &bob_jid),
        (&bob, &mut bob_events, &alice_jid),
    ] {
        let mut subscription = None;
        for _ in 0..100 {
            subscription = handle
                .roster()
                .await
                .unwrap()
                .get(contact)
                .map(|i| i.subscription);
            if subscription == Some(Subscription::Both) {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), events.recv()).await;
        }
        assert_eq!(subscription, Some(Subscription::Both), "{name}: {contact}");
    }
    let item = alice
        .roster()
        .await
        .unwrap()
        .get(&bob_jid)
        .cloned()
        .unwrap();
    assert_eq!(item.name.as_deref(), Some("Bob"));
    assert_eq!(item.groups, ["Friends"]);

    // Each sees the other's changes.
    alice
        .change_presence(Presence::DoNotDisturb, "meeting")
        .await
        .unwrap();
    until(
        &mut bob_events,
        &format!("{name}: bob sees alice dnd"),
        sees("alice@localhost", Presence::DoNotDisturb, "meeting"),
    )
    .await;
    bob.change_presence(Presence::Away, "lunch").await.unwrap();
    until(
        &mut alice_events,
        &format!("{name}: alice sees bob away"),
        sees("bob@localhost", Presence::Away, "lunch"),
    )
    .await;

    // Removing the item cancels the subscriptions: bob stops seeing alice.
    alice.remove_contact(bob_jid.clone()).await.unwrap();
    let seen = until(&mut alice_events, &format!("{name}: removal push"), |e| {
        matches!(e, CoreEvent::RosterPush { change: RosterChange::Removed, item, .. }
            if item.jid.as_str() == "bob@localhost")
    })
    .await;
    // The whole item, as the roster held it, with `remove`.
    let Some(Event::Core(CoreEvent::RosterPush { item, .. })) = seen.last() else {
        panic!("{name}: {seen:?}")
    };
    assert_eq!(
        (item.name.as_deref(), &item.groups[..], item.subscription),
        (
            Some("Bob"),
            &["Friends".to_string()][..],
            Subscription::Remove
        ),
        "{name}"
    );
    until(&mut bob_events, &format!("{name}: bob sees alice leave"), |e| {
        matches!(e, CoreEvent::Presence(x) if x.from.to_bare().as_str() == "alice@localhost" && x.availability == Presence::Offline)
    })
    .await;
    alice
        .change_presence(Presence::ExtendedAway, "gone")
        .await
        .unwrap();
    let quiet = tokio::time::timeout(
        Duration::from_secs(2),
        until(
            &mut bob_events,
            "nothing",
            sees("alice@localhost", Presence::ExtendedAway, "gone"),
        ),
    )
    .await;
    assert!(
        quiet.is_err(),
        "{name}: bob still saw alice after the removal"
    );
    alice.close().await.unwrap();
    bob.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prosody_add_approve_watch_remove() {
    let server =
        Prosody::start_with(ACCOUNTS, false).unwrap_or_else(|e| panic!("Prosody is required: {e}"));
    add_approve_watch_remove(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ejabberd_add_approve_watch_remove() {
    let server = Ejabberd::start_with(ACCOUNTS, false)
        .unwrap_or_else(|e| panic!("ejabberd is required: {e}"));
    add_approve_watch_remove(&server).await;
}
