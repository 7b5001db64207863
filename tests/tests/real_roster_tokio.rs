//! The add-approve-watch flow on real Prosody and ejabberd through herald-tokio: alice adds
//! bob, bob approves and adds alice back, alice approves; both rosters say `both`, each sees
//! the other's presence; removing the item stops it. Never skips.

use std::time::Duration;

use herald_core::jid::BareJid;
use herald_core::{
    Config, Event as CoreEvent, Presence, RosterChange, Subscription, SubscriptionPolicy,
};
use herald_tests::real::{Ejabberd, Prosody, RealServer};
use herald_tokio::{ConnectOptions, Event, Events, Handle};

mod tokio_common;

const ACCOUNTS: &[(&str, &str)] = &[("alice", "alice-pw"), ("bob", "bob-pw")];
const WAIT: Duration = Duration::from_secs(30);

fn bare(s: &str) -> BareJid {
    BareJid::new(s).expect("valid JID")
}

async fn until(events: &mut Events, what: &str, want: impl Fn(&CoreEvent) -> bool) -> Vec<Event> {
    tokio_common::until(events, what, WAIT, tokio_common::core(want)).await
}

async fn login(server: &dyn RealServer, user: &str) -> (Handle, Events) {
    let mut config = Config::new(&format!("{user}@localhost/r"), format!("{user}-pw")).unwrap();
    // Events reach a tokio application after the core's drain, so answers come from the
    // application itself rather than the synchronous default policy.
    config.subscription_policy = SubscriptionPolicy::Ask;
    let mut options = ConnectOptions::default();
    options.server = Some(("127.0.0.1".into(), server.port()));
    options.ca_file = Some(server.ca_pem_path().to_path_buf());
    let (handle, mut events) = herald_tokio::connect(config, options);
    let seen = until(&mut events, &format!("{user} online"), |e| {
        matches!(e, CoreEvent::Online { .. })
    })
    .await;
    // The accounts start with empty rosters.
    assert!(seen.iter().any(|e| matches!(e,
        Event::Core(CoreEvent::Roster { roster, .. }) if roster.items.is_empty())));
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
        matches!(e, CoreEvent::RosterPush { change: RosterChange::Added(i) | RosterChange::Updated(i), .. }
            if i.jid.as_str() == "bob@localhost")
    })
    .await;
    until(&mut bob_events, &format!("{name}: bob gets the request"), |e| {
        matches!(e, CoreEvent::SubscriptionRequest { from } if from.as_str() == "alice@localhost")
    })
    .await;
    bob.approve(alice_jid.clone()).await.unwrap();
    until(
        &mut alice_events,
        &format!("{name}: alice is subscribed"),
        |e| matches!(e, CoreEvent::Subscribed { from } if from.as_str() == "bob@localhost"),
    )
    .await;

    bob.add_contact(alice_jid.clone(), Some("Alice".into()), vec![])
        .await
        .unwrap();
    until(&mut alice_events, &format!("{name}: alice gets bob's request"), |e| {
        matches!(e, CoreEvent::SubscriptionRequest { from } if from.as_str() == "bob@localhost")
    })
    .await;
    alice.approve(bob_jid.clone()).await.unwrap();
    until(
        &mut bob_events,
        &format!("{name}: bob is subscribed"),
        |e| matches!(e, CoreEvent::Subscribed { from } if from.as_str() == "alice@localhost"),
    )
    .await;

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
    until(&mut alice_events, &format!("{name}: removal push"), |e| {
        matches!(e, CoreEvent::RosterPush { change: RosterChange::Removed(j), .. } if j.as_str() == "bob@localhost")
    })
    .await;
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
