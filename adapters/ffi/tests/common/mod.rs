//! Driving the ABI from Rust as a C caller would: raw pointers, explicit lengths, codes.
#![allow(dead_code, unreachable_pub)] // each test binary uses a part

use std::ffi::c_char;
use std::ptr;

use herald_ffi::*;
use herald_testkit::profile::ServerProfile;
use herald_testkit::server::ScriptedServer;

/// A herald_str as a Rust string (handed-out strings are also NUL-terminated).
pub fn string(s: herald_str) -> String {
    assert!(!s.ptr.is_null(), "handed-out strings are never null");
    // SAFETY: the library hands out `len` bytes plus a NUL at `ptr`, valid until the next
    // poll; we copy at once.
    let bytes = unsafe { std::slice::from_raw_parts(s.ptr.cast::<u8>(), s.len + 1) };
    assert_eq!(bytes[s.len], 0, "handed-out strings end with a NUL");
    String::from_utf8(bytes[..s.len].to_vec()).expect("UTF-8")
}

/// A borrowed herald_str for a config field.
pub fn arg(s: &str) -> herald_str {
    herald_str {
        ptr: s.as_ptr().cast::<c_char>(),
        len: s.len(),
    }
}

pub fn last_error() -> String {
    string(herald_last_error())
}

/// The defaults with a JID and password, seeded entropy, plaintext allowed.
pub fn config(jid: &'static str, password: &'static str) -> herald_config {
    // SAFETY: a zeroed herald_config is a valid value (null pointers, zero numbers,
    // `entropy` None) for herald_config_init to overwrite.
    let mut config: herald_config = unsafe { std::mem::zeroed() };
    assert_eq!(herald_config_init(&mut config), HERALD_OK);
    config.jid = arg(jid);
    config.password = arg(password);
    config.entropy_source = HERALD_ENTROPY_SEED;
    config.seed = 42;
    config
}

pub fn new_client(config: &herald_config) -> *mut herald_client {
    let mut client = ptr::null_mut();
    let code = herald_client_new(config, &mut client);
    assert_eq!(code, HERALD_OK, "{}", last_error());
    assert!(!client.is_null());
    client
}

/// One event, owned.
#[derive(Debug, Clone)]
pub struct Ev {
    pub kind: i32,
    pub json: String,
    pub jid: String,
    pub state: i32,
    pub presence: i32,
    pub status: String,
    pub code: String,
    pub text: String,
    pub end: i32,
    pub flag: bool,
    pub count: u64,
}

pub fn events(client: *mut herald_client) -> Vec<Ev> {
    let mut out = Vec::new();
    // SAFETY: as above.
    let mut e: herald_event = unsafe { std::mem::zeroed() };
    loop {
        match herald_poll_event(client, &mut e) {
            HERALD_OK => return out,
            HERALD_READY => out.push(Ev {
                kind: e.kind,
                json: string(e.json),
                jid: string(e.jid),
                state: e.state,
                presence: e.presence,
                status: string(e.status),
                code: string(e.code),
                text: string(e.text),
                end: e.end,
                flag: e.flag,
                count: e.count,
            }),
            other => panic!("poll_event: {other}: {}", last_error()),
        }
    }
}

/// Everything waiting to be written, read `cap` bytes at a time.
pub fn transmit(client: *mut herald_client, cap: usize) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = vec![0u8; cap];
    loop {
        let mut n = usize::MAX;
        match herald_poll_transmit(client, buf.as_mut_ptr(), cap, &mut n) {
            HERALD_OK => {
                assert_eq!(n, 0);
                return all;
            }
            HERALD_READY => {
                assert!(n > 0 && n <= cap);
                all.extend_from_slice(&buf[..n]);
            }
            other => panic!("poll_transmit: {other}: {}", last_error()),
        }
    }
}

/// (kind, server_name) of every waiting action.
pub fn actions(client: *mut herald_client) -> Vec<(i32, String)> {
    let mut out = Vec::new();
    let mut a = herald_action {
        kind: 0,
        server_name: herald_str {
            ptr: ptr::null(),
            len: 0,
        },
    };
    while herald_poll_action(client, &mut a) == HERALD_READY {
        out.push((a.kind, string(a.server_name)));
    }
    out
}

/// A C-style run loop against the scripted server, in memory, `cap` bytes per transmit.
pub struct Wire {
    pub client: *mut herald_client,
    pub server: ScriptedServer,
    pub now_ms: u64,
    pub cap: usize,
    pub events: Vec<Ev>,
    pub closed: bool,
    /// Channel binding given to tls_established: what the profile binds with.
    pub exporter: Vec<u8>,
    pub end_point: Vec<u8>,
}

impl Wire {
    pub fn new(client: *mut herald_client, profile: ServerProfile, cap: usize) -> Wire {
        let exporter = profile
            .channel_binding_data("tls-exporter")
            .unwrap_or_default();
        let end_point = profile
            .channel_binding_data("tls-server-end-point")
            .unwrap_or_default();
        Wire {
            client,
            server: ScriptedServer::new(profile),
            now_ms: 1_000,
            cap,
            events: Vec::new(),
            closed: false,
            exporter,
            end_point,
        }
    }

    /// Drains the client (transmit, actions, events) and moves bytes until nothing moves.
    pub fn drive(&mut self) {
        for _ in 0..1000 {
            let mut moved = false;
            let out = transmit(self.client, self.cap);
            if !out.is_empty() {
                moved = true;
                self.server.handle_input(&out);
            }
            for (kind, name) in actions(self.client) {
                moved = true;
                match kind {
                    HERALD_ACTION_START_TLS => {
                        assert_eq!(name, "localhost");
                        self.server.tls_done();
                        let binding = herald_channel_binding {
                            tls_exporter: herald_bytes {
                                ptr: self.exporter.as_ptr(),
                                len: self.exporter.len(),
                            },
                            tls_server_end_point: herald_bytes {
                                ptr: self.end_point.as_ptr(),
                                len: self.end_point.len(),
                            },
                            tls_unique: herald_bytes {
                                ptr: ptr::null(),
                                len: 0,
                            },
                        };
                        let code = herald_tls_established(self.client, self.now_ms, &binding);
                        assert_eq!(code, HERALD_OK, "{}", last_error());
                    }
                    HERALD_ACTION_CLOSE_TRANSPORT => self.closed = true,
                    other => panic!("unknown action {other}"),
                }
            }
            let new = events(self.client);
            moved |= !new.is_empty();
            self.events.extend(new);
            let input = self.server.take_output();
            if !input.is_empty() && !self.closed {
                moved = true;
                let code =
                    herald_handle_input(self.client, self.now_ms, input.as_ptr(), input.len());
                assert_eq!(code, HERALD_OK, "{}", last_error());
            }
            if !moved {
                return;
            }
        }
        panic!("did not settle");
    }

    pub fn kinds(&self) -> Vec<i32> {
        self.events.iter().map(|e| e.kind).collect()
    }
}
