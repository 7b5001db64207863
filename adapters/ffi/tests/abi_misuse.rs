//! Misuse of the C ABI: null pointers, zero lengths, invalid UTF-8, out-of-range numbers, a
//! too-small transmit buffer, calls after the end, a failing entropy callback. Each returns
//! its documented code, says why in `herald_last_error`, and loses nothing.

mod common;

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use herald_ffi::*;
use herald_testkit::profile::ServerProfile;

const NO_STR: herald_str = herald_str {
    ptr: ptr::null(),
    len: 0,
};

fn fresh() -> *mut herald_client {
    new_client(&config("alice@localhost/desk", "alice-pw"))
}

#[test]
fn null_client_and_out_pointers() {
    let n = ptr::null_mut();
    let mut i = 0;
    let mut s = NO_STR;
    let mut u = 0u64;
    let mut w = 0usize;
    let mut buf = [0u8; 8];
    let codes = [
        herald_get_state(n, &mut i),
        herald_get_presence(n, &mut i),
        herald_get_status(n, &mut s),
        herald_get_bound_jid(n, &mut s),
        herald_handle_input(n, 0, buf.as_ptr(), 1),
        herald_handle_eof(n, 0),
        herald_handle_timeout(n, 0),
        herald_tls_established(n, 0, ptr::null()),
        herald_tls_failed(n, 0, ptr::null(), 0),
        herald_connect(n, 0, HERALD_TRANSPORT_TCP, ptr::null()),
        herald_close(n, 0),
        herald_set_presence(n, 0, 1),
        herald_set_status(n, 0, ptr::null(), 0),
        herald_change_presence(n, 0, 1, ptr::null(), 0),
        herald_subscribe(n, 0, ptr::null(), 0),
        herald_poll_transmit(n, buf.as_mut_ptr(), buf.len(), &mut w),
        herald_poll_timeout(n, &mut u),
        herald_config_init(ptr::null_mut()),
    ];
    for (i, code) in codes.into_iter().enumerate() {
        assert_eq!(code, HERALD_ERR_NULL, "call {i}");
    }
    herald_client_free(ptr::null_mut()); // accepted, does nothing

    let config = config("alice@localhost", "pw");
    let mut client = ptr::null_mut();
    assert_eq!(herald_client_new(ptr::null(), &mut client), HERALD_ERR_NULL);
    assert!(last_error().contains("config"), "{}", last_error());
    assert_eq!(herald_client_new(&config, ptr::null_mut()), HERALD_ERR_NULL);
    assert!(client.is_null());

    let c = fresh();
    assert_eq!(herald_get_state(c, ptr::null_mut()), HERALD_ERR_NULL);
    assert_eq!(herald_get_status(c, ptr::null_mut()), HERALD_ERR_NULL);
    assert_eq!(herald_poll_event(c, ptr::null_mut()), HERALD_ERR_NULL);
    assert_eq!(herald_poll_action(c, ptr::null_mut()), HERALD_ERR_NULL);
    assert_eq!(herald_poll_timeout(c, ptr::null_mut()), HERALD_ERR_NULL);
    // A string pointer may be null only with length 0.
    assert_eq!(herald_set_status(c, 0, ptr::null(), 3), HERALD_ERR_NULL);
    assert!(last_error().contains("status"), "{}", last_error());
    herald_client_free(c);
}

#[test]
fn bad_configurations_are_refused() {
    let mut client = ptr::null_mut();
    let mut check = |edit: &dyn Fn(&mut herald_config), code: i32, says: &str| {
        let mut c = config("alice@localhost/desk", "pw");
        edit(&mut c);
        assert_eq!(herald_client_new(&c, &mut client), code, "{says}");
        assert!(last_error().contains(says), "{says}: {}", last_error());
        assert!(client.is_null());
    };
    check(
        &|c| {
            c.jid = herald_str {
                ptr: ptr::null(),
                len: 5,
            }
        },
        HERALD_ERR_NULL,
        "config.jid",
    );
    check(&|c| c.jid = NO_STR, HERALD_ERR_CONFIG, "JID");
    check(&|c| c.jid = arg("not a jid@@"), HERALD_ERR_CONFIG, "JID");
    check(
        &|c| c.jid = arg("localhost"),
        HERALD_ERR_CONFIG,
        "local part",
    );
    check(&|c| c.password = arg("\u{7}"), HERALD_ERR_CONFIG, "");
    check(
        &|c| {
            c.status = herald_str {
                ptr: b"\xff\xfe".as_ptr().cast(),
                len: 2,
            }
        },
        HERALD_ERR_UTF8,
        "config.status",
    );
    check(
        &|c| c.presence = 5,
        HERALD_ERR_INVALID_ARGUMENT,
        "presence 5",
    );
    check(
        &|c| c.presence = -1,
        HERALD_ERR_INVALID_ARGUMENT,
        "presence -1",
    );
    check(
        &|c| c.priority = 128,
        HERALD_ERR_INVALID_ARGUMENT,
        "priority 128",
    );
    check(&|c| c.tls = 2, HERALD_ERR_INVALID_ARGUMENT, "tls 2");
    check(
        &|c| c.subscriptions = 9,
        HERALD_ERR_INVALID_ARGUMENT,
        "subscriptions 9",
    );
    check(
        &|c| c.entropy_source = 3,
        HERALD_ERR_INVALID_ARGUMENT,
        "entropy_source 3",
    );
    check(
        &|c| c.entropy_source = HERALD_ENTROPY_CALLBACK,
        HERALD_ERR_NULL,
        "config.entropy",
    );
    check(
        &|c| c.subscription_window_ms = u64::MAX,
        HERALD_ERR_CONFIG,
        "subscription_window",
    );
}

#[test]
fn zero_lengths_and_invalid_utf8_change_nothing() {
    let c = fresh();
    // An empty read is the end of the stream, not input.
    assert_eq!(
        herald_handle_input(c, 0, b"x".as_ptr(), 0),
        HERALD_ERR_INVALID_ARGUMENT
    );
    assert!(
        last_error().contains("herald_handle_eof"),
        "{}",
        last_error()
    );
    // Empty status: meaningful (no <status/>), accepted, null pointer or not.
    assert_eq!(herald_set_status(c, 0, ptr::null(), 0), HERALD_OK);
    let text = "lunch";
    assert_eq!(
        herald_set_status(c, 0, text.as_ptr().cast(), text.len()),
        HERALD_OK
    );
    let bad = b"caf\xc3";
    assert_eq!(
        herald_set_status(c, 0, bad.as_ptr().cast(), bad.len()),
        HERALD_ERR_UTF8
    );
    assert!(last_error().contains("not UTF-8"), "{}", last_error());
    let control = "a\u{1}b";
    assert_eq!(
        herald_change_presence(
            c,
            0,
            HERALD_PRESENCE_AWAY,
            control.as_ptr().cast(),
            control.len()
        ),
        HERALD_ERR_INVALID_ARGUMENT
    );
    assert_eq!(herald_set_presence(c, 0, 7), HERALD_ERR_INVALID_ARGUMENT);
    let mut s = NO_STR;
    let mut p = -1;
    assert_eq!(herald_get_status(c, &mut s), HERALD_OK);
    assert_eq!(string(s), "lunch");
    assert_eq!(herald_get_presence(c, &mut p), HERALD_OK);
    assert_eq!(p, HERALD_PRESENCE_CHAT);
    // Empty and malformed JIDs.
    assert_eq!(
        herald_subscribe(c, 0, ptr::null(), 0),
        HERALD_ERR_INVALID_ARGUMENT
    );
    let bad_jid = "a@b@c";
    assert_eq!(
        herald_subscribe(c, 0, bad_jid.as_ptr().cast(), bad_jid.len()),
        HERALD_ERR_INVALID_ARGUMENT
    );
    let bad_xml = "<message";
    assert_eq!(
        herald_send_xml(c, 0, bad_xml.as_ptr().cast(), bad_xml.len()),
        HERALD_ERR_INVALID_ARGUMENT
    );
    // Numbers out of range.
    assert_eq!(
        herald_connect(c, 0, 9, ptr::null()),
        HERALD_ERR_INVALID_ARGUMENT
    );
    herald_client_free(c);
}

#[test]
fn commands_out_of_turn_are_state_errors() {
    let c = fresh();
    let bob = "bob@localhost";
    assert_eq!(
        herald_subscribe(c, 0, bob.as_ptr().cast(), bob.len()),
        HERALD_ERR_STATE
    );
    assert!(last_error().contains("not"), "{}", last_error());
    assert_eq!(herald_tls_established(c, 0, ptr::null()), HERALD_ERR_STATE);
    assert_eq!(herald_close(c, 0), HERALD_ERR_STATE);
    assert_eq!(
        herald_connect(c, 0, HERALD_TRANSPORT_TCP, ptr::null()),
        HERALD_OK
    );
    assert_eq!(
        herald_connect(c, 0, HERALD_TRANSPORT_TCP, ptr::null()),
        HERALD_ERR_STATE
    );
    let presence = "<presence xmlns='jabber:client'/>";
    assert_eq!(
        herald_send_xml(c, 0, presence.as_ptr().cast(), presence.len()),
        HERALD_ERR_STATE
    );
    herald_client_free(c);
}

#[test]
fn a_too_small_transmit_buffer_loses_nothing() {
    let c = fresh();
    let twin = fresh();
    for client in [c, twin] {
        assert_eq!(
            herald_connect(client, 0, HERALD_TRANSPORT_TCP, ptr::null()),
            HERALD_OK
        );
    }
    let expected = transmit(twin, 64 * 1024);
    assert!(expected.len() > 10);

    let mut written = 99;
    assert_eq!(
        herald_poll_transmit(c, ptr::null_mut(), 0, &mut written),
        HERALD_ERR_BUFFER_TOO_SMALL
    );
    assert_eq!(written, 0);
    assert!(last_error().contains("bytes wait"), "{}", last_error());
    let mut buf = [0u8; 16];
    // A null buffer with room claimed, a null `written`: refused, nothing taken.
    assert_eq!(
        herald_poll_transmit(c, ptr::null_mut(), 16, &mut written),
        HERALD_ERR_NULL
    );
    assert_eq!(
        herald_poll_transmit(c, buf.as_mut_ptr(), 16, ptr::null_mut()),
        HERALD_ERR_NULL
    );
    // Three bytes at a time, then the rest: the same bytes as the twin's.
    let mut got = Vec::new();
    assert_eq!(
        herald_poll_transmit(c, buf.as_mut_ptr(), 3, &mut written),
        HERALD_READY
    );
    assert_eq!(written, 3);
    got.extend_from_slice(&buf[..3]);
    got.extend(transmit(c, 5));
    assert_eq!(got, expected);
    // Nothing waits: a zero capacity is fine then.
    assert_eq!(
        herald_poll_transmit(c, ptr::null_mut(), 0, &mut written),
        HERALD_OK
    );
    herald_client_free(c);
    herald_client_free(twin);
}

#[test]
fn a_refused_poll_keeps_its_event() {
    let c = fresh();
    assert_eq!(
        herald_connect(c, 0, HERALD_TRANSPORT_TCP, ptr::null()),
        HERALD_OK
    );
    assert_eq!(herald_poll_event(c, ptr::null_mut()), HERALD_ERR_NULL);
    let got = events(c);
    assert_eq!(
        got.first().map(|e| e.kind),
        Some(HERALD_EVENT_STATE),
        "{got:?}"
    );
    herald_client_free(c);
}

#[test]
fn calls_after_the_end() {
    let c = fresh();
    assert_eq!(
        herald_connect(c, 0, HERALD_TRANSPORT_TCP, ptr::null()),
        HERALD_OK
    );
    assert_eq!(herald_handle_eof(c, 10), HERALD_OK);
    let _ = transmit(c, 4096);
    let end = events(c).pop().expect("an event");
    assert_eq!(
        (end.kind, end.code.as_str(), end.end, end.flag),
        (HERALD_EVENT_DISCONNECTED, "eof", HERALD_END_OTHER, true)
    );
    let status = "x";
    let jid = "bob@localhost";
    for code in [
        herald_set_presence(c, 20, HERALD_PRESENCE_AWAY),
        herald_set_status(c, 20, status.as_ptr().cast(), 1),
        herald_change_presence(c, 20, HERALD_PRESENCE_AWAY, status.as_ptr().cast(), 1),
        herald_close(c, 20),
        herald_subscribe(c, 20, jid.as_ptr().cast(), jid.len()),
        herald_connect(c, 20, HERALD_TRANSPORT_TCP, ptr::null()),
    ] {
        assert_eq!(code, HERALD_ERR_SESSION_ENDED);
    }
    assert!(last_error().contains("ended"), "{}", last_error());
    // Inputs after the end are ignored; getters and polls still answer.
    assert_eq!(herald_handle_input(c, 30, b"<x/>".as_ptr(), 4), HERALD_OK);
    let mut state = -1;
    assert_eq!(herald_get_state(c, &mut state), HERALD_OK);
    assert_eq!(state, HERALD_STATE_CLOSED);
    assert!(events(c).is_empty());
    assert!(transmit(c, 64).is_empty());
    herald_client_free(c);
}

static CALLS: AtomicUsize = AtomicUsize::new(0);

/// Gives bytes for as many calls as the `AtomicUsize` behind `ctx` says, then fails.
extern "C" fn limited_entropy(ctx: *mut c_void, buf: *mut u8, len: usize) -> i32 {
    // SAFETY: the tests pass a pointer to a static AtomicUsize as the context.
    let allowed = unsafe { &*ctx.cast::<AtomicUsize>() }.load(Ordering::SeqCst);
    if CALLS.fetch_add(1, Ordering::SeqCst) >= allowed {
        return 1;
    }
    // SAFETY: the library passes `len` writable bytes at `buf`.
    unsafe { ptr::write_bytes(buf, 0x5a, len) };
    0
}

#[test]
fn a_failing_entropy_callback_is_a_caught_panic_and_poisons_the_client() {
    let mut config = config("alice@localhost/desk", "wonderland");
    config.entropy_source = HERALD_ENTROPY_CALLBACK;
    config.entropy = Some(limited_entropy);
    static NONE: AtomicUsize = AtomicUsize::new(0);
    static ONE: AtomicUsize = AtomicUsize::new(1);
    // At once: herald_client_new itself needs random bytes.
    config.entropy_ctx = ptr::from_ref(&NONE).cast_mut().cast();
    CALLS.store(0, Ordering::SeqCst);
    let mut client = ptr::null_mut();
    assert_eq!(herald_client_new(&config, &mut client), HERALD_ERR_PANIC);
    assert!(client.is_null());
    assert!(
        last_error().contains("entropy callback failed"),
        "{}",
        last_error()
    );

    // Later: the SCRAM nonce, in the middle of the login.
    config.entropy_ctx = ptr::from_ref(&ONE).cast_mut().cast();
    CALLS.store(0, Ordering::SeqCst);
    let client = new_client(&config);
    let mut wire = Wire::new(client, ServerProfile::prosody_like(), 4096);
    assert_eq!(
        herald_connect(client, 1, HERALD_TRANSPORT_TCP, ptr::null()),
        HERALD_OK
    );
    let out = transmit(client, 4096);
    wire.server.handle_input(&out);
    let mut code = HERALD_OK;
    for _ in 0..10 {
        let input = wire.server.take_output();
        if !input.is_empty() {
            code = herald_handle_input(client, 2, input.as_ptr(), input.len());
            if code != HERALD_OK {
                break;
            }
        }
        for (kind, _) in actions(client) {
            if kind == HERALD_ACTION_START_TLS {
                wire.server.tls_done();
                code = herald_tls_established(client, 2, ptr::null());
            }
        }
        if code != HERALD_OK {
            break;
        }
        let out = transmit(client, 4096);
        wire.server.handle_input(&out);
    }
    assert_eq!(code, HERALD_ERR_PANIC, "the nonce needed entropy");
    let mut state = 0;
    assert_eq!(herald_get_state(client, &mut state), HERALD_ERR_PANIC);
    assert!(
        last_error().contains("can no longer be used"),
        "{}",
        last_error()
    );
    herald_client_free(client); // still freed cleanly
}

#[test]
fn last_error_is_per_thread_and_version_is_set() {
    assert_eq!(herald_set_presence(ptr::null_mut(), 0, 1), HERALD_ERR_NULL);
    let here = last_error();
    let there = std::thread::spawn(last_error).join().unwrap();
    assert!(here.contains("client"));
    assert_eq!(there, "");
    assert_eq!(string(herald_version()), env!("CARGO_PKG_VERSION"));
}
