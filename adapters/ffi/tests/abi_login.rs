//! A whole session through the C ABI against the scripted server, in memory: STARTTLS,
//! SCRAM-PLUS with the caller's channel-binding bytes, the initial presence, a change, the
//! caller's clock, and the close; transmit buffers of every size give the same bytes.

mod common;

use common::*;
use herald_ffi::*;
use herald_testkit::profile::ServerProfile;

fn log_in(cap: usize) -> Wire {
    let mut config = config("alice@localhost/desk", "wonderland");
    config.presence = HERALD_PRESENCE_AWAY;
    config.status = arg("from C");
    let client = new_client(&config);
    let mut wire = Wire::new(client, ServerProfile::ejabberd_like(), cap);
    assert_eq!(
        herald_connect(client, wire.now_ms, HERALD_TRANSPORT_TCP, std::ptr::null()),
        HERALD_OK
    );
    wire.drive();
    wire
}

#[test]
fn logs_in_and_changes_presence() {
    let mut wire = log_in(4096);
    let c = wire.client;
    let online = wire
        .events
        .iter()
        .find(|e| e.kind == HERALD_EVENT_ONLINE)
        .unwrap_or_else(|| panic!("not online: {:?}", wire.events));
    assert_eq!(online.jid, "alice@localhost/desk");
    assert_eq!(
        online.json,
        r#"{"event":"online","jid":"alice@localhost/desk"}"#
    );
    assert_eq!(wire.server.mechanism_used(), Some("SCRAM-SHA-1-PLUS"));
    let sent: Vec<_> = wire
        .events
        .iter()
        .filter(|e| e.kind == HERALD_EVENT_PRESENCE_SENT)
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].presence, sent[0].status.as_str()),
        (HERALD_PRESENCE_AWAY, "from C")
    );
    let states: Vec<_> = wire
        .events
        .iter()
        .filter(|e| e.kind == HERALD_EVENT_STATE)
        .map(|e| (e.state, e.code.clone()))
        .collect();
    assert_eq!(
        states.first(),
        Some(&(HERALD_STATE_CONNECTING, "connecting".into()))
    );
    assert_eq!(states.last(), Some(&(HERALD_STATE_ONLINE, "online".into())));
    let authenticating = wire
        .events
        .iter()
        .find(|e| e.state == HERALD_STATE_AUTHENTICATING)
        .expect("an authenticating state");
    assert_eq!(authenticating.text, "SCRAM-SHA-1-PLUS");

    let mut state = -1;
    assert_eq!(herald_get_state(c, &mut state), HERALD_OK);
    assert_eq!(state, HERALD_STATE_ONLINE);
    let mut jid = herald_str {
        ptr: std::ptr::null(),
        len: 0,
    };
    assert_eq!(herald_get_bound_jid(c, &mut jid), HERALD_READY);
    assert_eq!(string(jid), "alice@localhost/desk");

    // A change: one stanza with both values, one event.
    wire.events.clear();
    let status = "busy";
    let code = herald_change_presence(
        c,
        wire.now_ms,
        HERALD_PRESENCE_DND,
        status.as_ptr().cast(),
        status.len(),
    );
    assert_eq!(code, HERALD_OK);
    let bytes = String::from_utf8(transmit(c, 4096)).unwrap();
    assert!(
        bytes.contains("<show>dnd</show>") && bytes.contains("<status>busy</status>"),
        "{bytes}"
    );
    assert_eq!(wire.kinds(), Vec::<i32>::new());
    wire.events = events(c);
    assert_eq!(wire.kinds(), vec![HERALD_EVENT_PRESENCE_SENT]);
    let mut presence = -1;
    assert_eq!(herald_get_presence(c, &mut presence), HERALD_OK);
    assert_eq!(presence, HERALD_PRESENCE_DND);
    let mut got = herald_str {
        ptr: std::ptr::null(),
        len: 0,
    };
    assert_eq!(herald_get_status(c, &mut got), HERALD_OK);
    assert_eq!(string(got), "busy");

    // A message: its id comes back NUL-terminated; an incoming one is an event.
    let mut id = [0u8; 65];
    let (to, body) = ("bob@localhost", "hi & bye");
    let code = herald_send_message(
        c,
        wire.now_ms,
        to.as_ptr().cast(),
        to.len(),
        body.as_ptr().cast(),
        body.len(),
        HERALD_MESSAGE_CHAT,
        id.as_mut_ptr().cast(),
        id.len(),
    );
    assert_eq!(code, HERALD_OK, "{}", last_error());
    let id = std::ffi::CStr::from_bytes_until_nul(&id)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = String::from_utf8(transmit(c, 4096)).unwrap();
    assert_eq!(
        bytes,
        format!(
            "<message to='bob@localhost' type='chat' id='{id}'><body>hi &amp; bye</body></message>"
        )
    );
    let mut small = [0u8; 8];
    let code = herald_send_message(
        c,
        wire.now_ms,
        to.as_ptr().cast(),
        to.len(),
        body.as_ptr().cast(),
        body.len(),
        HERALD_MESSAGE_CHAT,
        small.as_mut_ptr().cast(),
        small.len(),
    );
    assert_eq!(code, HERALD_ERR_BUFFER_TOO_SMALL);
    assert!(transmit(c, 4096).is_empty(), "nothing sent");
    wire.server.send_raw(format!(
        "<message from='bob@localhost/x' type='chat' id='b1'><body>hello</body></message>\
         <message from='bob@localhost/x'><received xmlns='urn:xmpp:receipts' id='{id}'/></message>"
    ));
    wire.events.clear();
    wire.drive();
    let got: Vec<_> = wire
        .events
        .iter()
        .map(|e| (e.kind, e.jid.as_str(), e.text.as_str(), e.status.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (HERALD_EVENT_MESSAGE, "bob@localhost/x", "hello", "b1"),
            (HERALD_EVENT_RECEIPT, "bob@localhost/x", "", id.as_str()),
        ]
    );
    wire.events.clear();

    // Setting the current value sends nothing.
    assert_eq!(
        herald_set_presence(c, wire.now_ms, HERALD_PRESENCE_DND),
        HERALD_OK
    );
    assert!(transmit(c, 4096).is_empty());

    // The close: unavailable presence, the stream's end, the server's, one DISCONNECTED.
    wire.events.clear();
    assert_eq!(herald_close(c, wire.now_ms), HERALD_OK);
    wire.drive();
    let end = wire.events.last().expect("events").clone();
    assert_eq!(end.kind, HERALD_EVENT_DISCONNECTED, "{:?}", wire.events);
    assert_eq!(
        (end.code.as_str(), end.end, end.flag),
        ("local_close", HERALD_END_LOCAL_CLOSE, false)
    );
    assert!(
        end.json.contains(r#""event":"disconnected""#),
        "{}",
        end.json
    );
    assert!(wire.closed, "CLOSE_TRANSPORT was asked for");
    herald_client_free(c);
}

#[test]
fn every_transmit_buffer_size_gives_the_same_session() {
    let whole = log_in(64 * 1024);
    let expected = whole.server.received_bytes.clone();
    for cap in [1, 2, 7, 100, 1000] {
        let wire = log_in(cap);
        assert_eq!(
            wire.server.received_bytes, expected,
            "bytes with a {cap}-byte buffer differ"
        );
        assert!(wire.kinds().contains(&HERALD_EVENT_ONLINE));
        herald_client_free(wire.client);
    }
    herald_client_free(whole.client);
}

#[test]
fn the_deadline_is_on_the_callers_clock() {
    let mut config = config("alice@localhost/desk", "wonderland");
    config.tls = HERALD_TLS_REQUIRED;
    let client = new_client(&config);
    let start = 5_000_000_u64; // a monotonic clock some time after boot
    assert_eq!(
        herald_connect(client, start, HERALD_TRANSPORT_TCP, std::ptr::null()),
        HERALD_OK
    );
    let _ = transmit(client, 4096);
    let mut deadline = 0;
    assert_eq!(herald_poll_timeout(client, &mut deadline), HERALD_READY);
    // The login step timeout is 30 s.
    assert_eq!(deadline, start + 30_000);
    // Early: nothing happens. At the deadline: the step times out and the session ends.
    assert_eq!(herald_handle_timeout(client, deadline - 1), HERALD_OK);
    assert!(
        events(client)
            .iter()
            .all(|e| e.kind != HERALD_EVENT_DISCONNECTED)
    );
    assert_eq!(herald_handle_timeout(client, deadline), HERALD_OK);
    let _ = transmit(client, 4096);
    let end = events(client).pop().expect("an event");
    assert_eq!(
        (end.kind, end.code.as_str(), end.end),
        (HERALD_EVENT_DISCONNECTED, "timeout", HERALD_END_OTHER)
    );
    herald_client_free(client);
}
