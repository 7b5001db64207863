//! XMPP over WebSocket (RFC 7395) against real Prosody (`mod_websocket`, Debian's 0.12) on
//! loopback: alice logs in with herald-tokio over `ws://` and over `wss://` with an initial
//! presence away/"on the web", changes it to dnd/"busy", and closes; bob (herald-std, TCP)
//! must see exactly that sequence. A wrong password over WebSocket ends with the
//! authentication failure, not a hang. A missing server fails the test; nothing skips.

mod real_common;

use herald_core::{DisconnectReason, Presence, TlsPolicy};
use herald_testkit::real::{Prosody, RealServer};
use herald_tokio::{ConnectOptions, EndReason, Error};
use real_common::{Peer, STEP, config, options};

const ACCOUNTS: &[(&str, &str)] = &[("alice", "alice-pw"), ("bob", "bob-pw")];

fn alice_options(server: &Prosody, secure: bool) -> ConnectOptions {
    let url = server.websocket_url(secure).expect("a WebSocket port");
    ConnectOptions::new()
        .websocket(url)
        .ca_file(server.ca_pem_path())
        .reconnect(false)
}

fn alice_config(secure: bool, password: &str) -> herald_core::Config {
    let mut config = config(
        "alice@localhost/web",
        password,
        Presence::Away,
        "on the web",
    );
    if !secure {
        // `ws:` has no TLS of its own; this Prosody counts loopback WebSocket as secure.
        config.tls = TlsPolicy::InsecurePlaintext;
    }
    config
}

fn presence_sequence_seen_by_bob(secure: bool) {
    let server = Prosody::start_with_websocket(ACCOUNTS, true).expect("Prosody");
    let mut bob = Peer::start(
        "bob",
        config("bob@localhost/desk", "bob-pw", Presence::Chat, ""),
        options(&server, true, false),
    );
    bob.wait_online();
    bob.mark();

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (handle, mut events) = rt.block_on(async {
        herald_tokio::connect(
            alice_config(secure, "alice-pw"),
            alice_options(&server, secure),
        )
        .expect("connect")
    });
    let jid = rt
        .block_on(async { tokio::time::timeout(STEP, events.wait_online()).await })
        .expect("online in time")
        .unwrap_or_else(|e| panic!("alice over WebSocket: {e}\n{}", server.log_tail()));
    assert_eq!(jid.to_string(), "alice@localhost/web");
    bob.wait_presence("away", "alice", Some("web"), |p| {
        p.availability == Presence::Away && p.status == "on the web"
    });
    rt.block_on(handle.change_presence(Presence::DoNotDisturb, "busy"))
        .expect("change");
    bob.wait_presence("dnd", "alice", Some("web"), |p| {
        p.availability == Presence::DoNotDisturb && p.status == "busy"
    });
    rt.block_on(handle.close()).expect("close");
    bob.wait_presence("offline", "alice", Some("web"), |p| {
        p.availability == Presence::Offline
    });
    let end = rt.block_on(async {
        let mut last = None;
        while let Ok(Some(event)) = tokio::time::timeout(STEP, events.recv()).await {
            last = Some(event);
        }
        last
    });
    assert!(
        matches!(
            end,
            Some(herald_tokio::Event::Ended {
                reason: EndReason::Session(DisconnectReason::LocalClose)
            })
        ),
        "{end:?}"
    );
    bob.assert_presences_exactly(
        "alice",
        "web",
        &[
            (Presence::Away, "on the web"),
            (Presence::DoNotDisturb, "busy"),
            (Presence::Offline, ""),
        ],
    );
}

#[test]
fn presence_over_ws_on_prosody() {
    presence_sequence_seen_by_bob(false);
}

#[test]
fn presence_over_wss_on_prosody() {
    presence_sequence_seen_by_bob(true);
}

#[test]
fn a_wrong_password_over_websocket_is_an_auth_failure() {
    let server = Prosody::start_with_websocket(ACCOUNTS, true).expect("Prosody");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let err = rt.block_on(async {
        let (_handle, mut events) =
            herald_tokio::connect(alice_config(true, "wrong"), alice_options(&server, true))
                .expect("connect");
        tokio::time::timeout(STEP, events.wait_online())
            .await
            .expect("an answer in time")
            .unwrap_err()
    });
    match err {
        Error::EndedWith(EndReason::Session(reason)) => {
            assert!(reason.is_auth_failure(), "{reason:?}")
        }
        other => panic!("{other:?}"),
    }
}
