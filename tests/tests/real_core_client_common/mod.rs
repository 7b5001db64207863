//! The Core Client profile against a real server (issue 17), shared by
//! `real_core_client.rs` for Prosody and ejabberd: capabilities verified through the
//! server's routing, messages both ways with receipts, carbons to a second resource, and a
//! blocked contact that stops seeing presence.

#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use herald_core::jid::Jid;
use herald_core::{CarbonDirection, Event as CoreEvent, MessageType, Presence};
use herald_std::Event;
use herald_testkit::real::RealServer;

use crate::real_common::{ALICE, BOB, Peer, STEP, Seen, config, options};

fn core(seen: &Seen) -> Option<&CoreEvent> {
    match seen {
        Seen::Event(Event::Core(e)) => Some(e),
        _ => None,
    }
}

fn start(server: &dyn RealServer, name: &str, jid: &str, carbons: bool) -> Peer {
    let password = if name.starts_with("alice") {
        ALICE.1
    } else {
        BOB.1
    };
    let mut config = config(jid, password, Presence::Chat, "");
    config.carbons = carbons;
    // Each its own client, so each announces its own `ver` (one query per `ver`).
    config.identity = herald_core::Identity::new("client", "pc").with_name(name);
    let mut peer = Peer::start(name, config, options(server, true, false));
    peer.wait_online();
    peer
}

/// `peer` verified `from`'s capabilities: returns the `ver`.
fn wait_caps_verified(peer: &mut Peer, from: &str) -> String {
    let from = from.to_string();
    let seen = peer.wait_for(&format!("caps of {from} verified"), STEP, |s| {
        matches!(core(s), Some(CoreEvent::CapsVerified { from: f, .. }) if f.as_str() == from)
            || matches!(core(s), Some(CoreEvent::CapsInvalid { .. }))
    });
    match core(&seen) {
        Some(CoreEvent::CapsVerified { ver, .. }) => ver.clone(),
        other => panic!("{}: {other:?}\n{}", peer.name, peer.dump()),
    }
}

fn wait_message(
    peer: &mut Peer,
    what: &str,
    pred: impl Fn(&herald_core::IncomingMessage) -> bool,
) -> herald_core::IncomingMessage {
    let seen = peer.wait_for(
        what,
        STEP,
        |s| matches!(core(s), Some(CoreEvent::Message(m)) if pred(m)),
    );
    match core(&seen) {
        Some(CoreEvent::Message(m)) => m.clone(),
        _ => unreachable!(),
    }
}

fn wait_receipt(peer: &mut Peer, from: &str, id: &str) {
    peer.wait_for(&format!("receipt for {id}"), STEP, |s| {
        matches!(core(s), Some(CoreEvent::Receipt { from: f, id: i }) if f.as_str() == from && i == id)
    });
}

/// Both announce caps; each verifies the other's through disco#info at `node#ver` routed
/// by the server (the answer's hash equals the `ver`); then messages both ways, each with
/// a receipt requested (the verified caps include receipts) and answered.
pub fn caps_then_messages_with_receipts(server: &dyn RealServer) {
    let mut bob = start(server, "bob", "bob@localhost/watch", false);
    let mut alice = start(server, "alice", "alice@localhost/desk", false);
    // Alice's presence reached Bob with caps, and Bob's reached Alice.
    let p = bob.wait_presence("alice with caps", "alice", Some("desk"), |p| {
        p.caps.is_some()
    });
    let alice_ver = p.caps.clone().unwrap().ver;
    assert_eq!(
        wait_caps_verified(&mut bob, "alice@localhost/desk"),
        alice_ver
    );
    let p = alice.wait_presence("bob with caps", "bob", Some("watch"), |p| p.caps.is_some());
    assert_eq!(
        wait_caps_verified(&mut alice, "bob@localhost/watch"),
        p.caps.unwrap().ver
    );

    let to_bob: Jid = "bob@localhost/watch".parse().unwrap();
    let id = alice
        .handle()
        .send_message(&to_bob, "hello from alice", MessageType::Chat)
        .expect("queued");
    let m = wait_message(&mut bob, "alice's message", |m| {
        m.body.as_deref() == Some("hello from alice")
    });
    assert_eq!(m.from.as_str(), "alice@localhost/desk");
    assert_eq!(m.kind, MessageType::Chat);
    assert_eq!(m.id.as_deref(), Some(id.as_str()));
    assert!(m.receipt_requested, "alice verified bob's receipts support");
    wait_receipt(&mut alice, "bob@localhost/watch", &id);

    let to_alice: Jid = "alice@localhost/desk".parse().unwrap();
    let id = bob
        .handle()
        .send_message(&to_alice, "hi alice", MessageType::Chat)
        .expect("queued");
    let m = wait_message(&mut alice, "bob's message", |m| {
        m.body.as_deref() == Some("hi alice")
    });
    assert_eq!(m.from.as_str(), "bob@localhost/watch");
    wait_receipt(&mut bob, "alice@localhost/desk", &id);
}

/// Alice's desk asks for carbons: a message Bob sends to her phone, and one her phone
/// sends to Bob, reach the desk as copies.
pub fn carbons_reach_the_second_resource(server: &dyn RealServer) {
    let mut desk = start(server, "alice-desk", "alice@localhost/desk", true);
    let phone = start(server, "alice-phone", "alice@localhost/phone", false);
    let bob = start(server, "bob", "bob@localhost/watch", false);
    let to_phone: Jid = "alice@localhost/phone".parse().unwrap();
    bob.handle()
        .send_message(&to_phone, "to your phone", MessageType::Chat)
        .unwrap();
    let m = wait_message(&mut desk, "the received copy", |m| {
        m.body.as_deref() == Some("to your phone")
    });
    assert_eq!(m.carbon, Some(CarbonDirection::Received));
    assert_eq!(m.from.as_str(), "bob@localhost/watch");
    let to_bob: Jid = "bob@localhost".parse().unwrap();
    phone
        .handle()
        .send_message(&to_bob, "from my phone", MessageType::Chat)
        .unwrap();
    let m = wait_message(&mut desk, "the sent copy", |m| {
        m.body.as_deref() == Some("from my phone")
    });
    assert_eq!(m.carbon, Some(CarbonDirection::Sent));
    assert_eq!(m.from.as_str(), "alice@localhost/phone");
    assert_eq!(
        m.to.as_ref().map(|j| j.to_bare().to_string()).as_deref(),
        Some("bob@localhost")
    );
}

/// Alice blocks Bob: her blocklist push confirms it and her next presence change does not
/// reach him; unblocked, he sees her again.
pub fn a_blocked_contact_stops_seeing_presence(server: &dyn RealServer) {
    let mut bob = start(server, "bob", "bob@localhost/watch", false);
    let mut alice = start(server, "alice", "alice@localhost/desk", false);
    bob.wait_presence("alice online", "alice", Some("desk"), |p| {
        p.availability == Presence::Chat
    });
    alice.handle().request_blocklist().unwrap();
    alice.wait_for(
        "the block list",
        STEP,
        |s| matches!(core(s), Some(CoreEvent::Blocklist { jids }) if jids.is_empty()),
    );
    let bob_bare: Jid = "bob@localhost".parse().unwrap();
    alice.handle().block(vec![bob_bare.clone()]).unwrap();
    alice.wait_for(
        "the block push",
        STEP,
        |s| matches!(core(s), Some(CoreEvent::Blocked { jids }) if *jids == [bob_bare.clone()]),
    );
    // XEP-0191 section 3.3: the server sends the blocked contact unavailable presence
    // (Prosody does, and it may arrive after the mark; ejabberd 23.01 does not), so only
    // available presence counts below.
    bob.mark();
    alice
        .handle()
        .change_presence(Presence::DoNotDisturb, "busy")
        .unwrap();
    alice.wait_for("alice's change sent", STEP, |s| {
        matches!(
            core(s),
            Some(CoreEvent::PresenceSent {
                presence: Presence::DoNotDisturb,
                ..
            })
        )
    });
    let later = bob.collect_for(Duration::from_secs(2));
    assert!(
        !later
            .iter()
            .any(|s| matches!(core(s), Some(CoreEvent::Presence(p))
                if p.user() == Some("alice") && p.availability.is_available())),
        "bob saw alice while blocked: {later:?}"
    );
    alice.handle().unblock(vec![bob_bare.clone()]).unwrap();
    alice.wait_for(
        "the unblock push",
        STEP,
        |s| matches!(core(s), Some(CoreEvent::Unblocked { jids }) if *jids == [bob_bare.clone()]),
    );
    // Prosody re-sends the presence on unblock; ejabberd only on the next change.
    alice.handle().set_status("back").unwrap();
    bob.wait_presence("alice visible again", "alice", Some("desk"), |p| {
        p.availability == Presence::DoNotDisturb
    });
}
