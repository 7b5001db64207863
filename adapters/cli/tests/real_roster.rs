//! The add-approve-watch flow between two `herald` processes on real Prosody and ejabberd,
//! driven through their standard input and read from their JSON events, with the default
//! options (`--subscriptions deny`): alice adds bob, bob approves a second after the request
//! and adds alice back, alice approves a second later; both `roster` commands say `both` and
//! nobody was refused; alice's presence change reaches bob and bob's reaches alice; they
//! exchange messages with receipts; alice blocks bob (her
//! message is refused, her presence change raises no error) and unblocks him; alice
//! removes bob (a removal push of the usual shape) and bob sees her go offline; both quit
//! with status 0. Never skips: a missing server fails the test.

mod real_cli;

use std::time::Duration;

use herald_testkit::real::{Ejabberd, Prosody, RealServer};
use real_cli::{Herald, from};
use serde_json::{Value, json};

const ACCOUNTS: &[(&str, &str)] = &[("alice", "alice-pw"), ("bob", "bob-pw")];
/// How long a person or a script takes to answer a request.
const THINKING: Duration = Duration::from_secs(1);

/// A `roster_push` for `jid` with `subscription`.
fn push(jid: &'static str, subscription: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["jid"] == jid && v["subscription"] == subscription
}

/// A contact's presence with these values.
fn presence(
    user: &'static str,
    availability: &'static str,
    status: &'static str,
) -> impl Fn(&Value) -> bool {
    move |v| v["user"] == user && v["availability"] == availability && v["status"] == status
}

fn add_approve_watch(server: &dyn RealServer) {
    let name = server.name();
    let mut alice = Herald::start(server, "alice");
    let mut bob = Herald::start(server, "bob");
    for herald in [&mut alice, &mut bob] {
        // The accounts start with empty rosters; the roster comes before online.
        let roster = herald.expect(server, "roster", |_| true);
        assert_eq!(roster["items"], json!([]), "{name}: {}", herald.who);
        herald.expect(server, "online", |_| true);
    }

    alice.say("add bob@localhost Bob Friends");
    let item = alice.expect(server, "roster_push", |v| v["jid"] == "bob@localhost");
    assert_eq!(
        (&item["name"], &item["groups"]),
        (&json!("Bob"), &json!(["Friends"])),
        "{name}"
    );
    bob.expect(server, "subscription_request", from("alice@localhost"));
    std::thread::sleep(THINKING);
    bob.say("approve alice@localhost");
    bob.say("add alice@localhost");
    alice.expect(server, "subscribed", from("bob@localhost"));
    alice.expect(server, "subscription_request", from("bob@localhost"));
    std::thread::sleep(THINKING);
    alice.say("approve bob@localhost");
    bob.expect(server, "subscribed", from("alice@localhost"));

    // Both ways on both sides once the last pushes arrived; the roster commands agree.
    alice.expect(server, "roster_push", push("bob@localhost", "both"));
    bob.expect(server, "roster_push", push("alice@localhost", "both"));
    alice.say("roster");
    let roster = alice.expect(server, "roster", |_| true);
    let items = roster["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{name}: {roster}");
    assert_eq!(
        (
            &items[0]["jid"],
            &items[0]["name"],
            &items[0]["groups"],
            &items[0]["subscription"]
        ),
        (
            &json!("bob@localhost"),
            &json!("Bob"),
            &json!(["Friends"]),
            &json!("both")
        ),
        "{name}: {roster}"
    );
    bob.say("roster");
    let roster = bob.expect(server, "roster", |_| true);
    let items = roster["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{name}: {roster}");
    assert_eq!(
        (
            &items[0]["jid"],
            &items[0]["name"],
            &items[0]["groups"],
            &items[0]["subscription"]
        ),
        (
            &json!("alice@localhost"),
            &Value::Null,
            &json!([]),
            &json!("both")
        ),
        "{name}: {roster}"
    );

    // The answers were the people's: no policy answer, no refusal either way.
    for herald in [&alice, &bob] {
        assert!(
            herald
                .seen
                .iter()
                .all(|v| v["event"] != "unsubscribed" && v["event"] != "subscription_answered"),
            "{name}: {}: {:?}",
            herald.who,
            herald.seen
        );
    }

    // Each sees the other's changes.
    alice.say("presence dnd meeting");
    let seen = bob.expect(server, "presence", presence("alice", "dnd", "meeting"));
    assert_eq!(seen["from"], "alice@localhost/cli", "{name}");
    bob.say("presence away lunch");
    alice.expect(server, "presence", presence("bob", "away", "lunch"));

    talk_block_unblock(server, &mut alice, &mut bob);

    // Removing the item ends the subscriptions: bob sees alice go offline.
    alice.say("remove bob@localhost");
    let removed = alice.expect(server, "roster_push", |v| {
        v["change"] == "removed" && v["jid"] == "bob@localhost"
    });
    assert_eq!(
        (
            &removed["name"],
            &removed["groups"],
            &removed["subscription"]
        ),
        (&json!("Bob"), &json!(["Friends"]), &json!("remove")),
        "{name}: {removed}"
    );
    bob.expect(server, "presence", presence("alice", "offline", ""));
    alice.say("roster");
    assert_eq!(
        alice.expect(server, "roster", |_| true)["items"],
        json!([]),
        "{name}"
    );

    assert_eq!(alice.quit(server), 0, "{name}: alice's exit status");
    assert_eq!(bob.quit(server), 0, "{name}: bob's exit status");
}

/// `from` sends `to` a chat message: `to` gets it from `from`'s full JID, `from` gets the
/// receipt for its id.
fn say_with_receipt(server: &dyn RealServer, from: &mut Herald, to: &mut Herald, text: &str) {
    let name = server.name();
    let to_bare = format!("{}@localhost", to.who);
    from.say(&format!("message {to_bare} {text}"));
    let sent = from.expect(server, "message_sent", |v| v["to"] == to_bare.as_str());
    let id = sent["id"].as_str().unwrap().to_owned();
    let got = to.expect(server, "message", |v| v["id"] == id.as_str());
    let from_full = format!("{}@localhost/cli", from.who);
    assert_eq!(
        (&got["from"], &got["type"], &got["body"]),
        (&json!(from_full), &json!("chat"), &json!(text)),
        "{name}: {got}"
    );
    let receipt = from.expect(server, "receipt", |v| v["id"] == id.as_str());
    assert_eq!(
        receipt["from"],
        format!("{}@localhost/cli", to.who),
        "{name}"
    );
}

/// Messages both ways, each with its receipt (both sides announced receipts in their caps);
/// then alice blocks bob: her message to him is refused, her presence change is not
/// reported as an error (Prosody bounces it), and unblocking works.
fn talk_block_unblock(server: &dyn RealServer, alice: &mut Herald, bob: &mut Herald) {
    let name = server.name();
    say_with_receipt(server, alice, bob, "hello bob");
    say_with_receipt(server, bob, alice, "hi alice, how are you?");

    alice.say("block bob@localhost");
    let blocked = alice.expect(server, "blocked", |_| true);
    assert_eq!(blocked["jids"], json!(["bob@localhost"]), "{name}");
    alice.say("presence away");
    alice.expect(server, "presence_sent", |v| v["presence"] == "away");
    alice.say("message bob@localhost are you there?");
    let sent = alice.expect(server, "message_sent", |_| true);
    let refused = alice.expect(server, "message_error", |v| v["id"] == sent["id"]);
    assert_eq!(refused["condition"], "not-acceptable", "{name}: {refused}");
    alice.read_available();
    assert!(
        alice.seen.iter().all(|v| v["event"] != "presence_error"),
        "{name}: the presence bounced by the block is not an error: {:?}",
        alice.seen
    );
    alice.say("unblock bob@localhost");
    let unblocked = alice.expect(server, "unblocked", |_| true);
    assert_eq!(unblocked["jids"], json!(["bob@localhost"]), "{name}");
    alice.say("blocklist");
    assert_eq!(
        alice.expect(server, "blocklist", |v| v["jids"] == json!([]))["jids"],
        json!([]),
        "{name}"
    );
}

#[test]
fn prosody_add_approve_watch_through_the_cli() {
    let server =
        Prosody::start_with(ACCOUNTS, false).unwrap_or_else(|e| panic!("Prosody is required: {e}"));
    add_approve_watch(&server);
}

#[test]
fn ejabberd_add_approve_watch_through_the_cli() {
    let server = Ejabberd::start_with(ACCOUNTS, false)
        .unwrap_or_else(|e| panic!("ejabberd is required: {e}"));
    add_approve_watch(&server);
}
