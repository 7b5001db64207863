//! The fuzz entry points (`herald_testkit::fuzz` and, for the stream reader,
//! `herald_core::fuzz`; feature `fuzz` of both) on the committed seed corpora and on every
//! input a fuzzer ever crashed, so a fixed crash stays fixed and the fuzz bodies run in the
//! ordinary test suite. The recorded real-server logins must replay through a whole login,
//! or the seeds would stop the fuzzer at SCRAM.

use std::path::{Path, PathBuf};

use herald_core::{Event, TlsPolicy, Transport};
use herald_testkit::{Driver, fuzz};

fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus-seeds")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("seed");
            (p, bytes)
        })
        .collect()
}

#[test]
fn raw_server_bytes_seeds() {
    for (_, data) in seeds("raw_server_bytes") {
        fuzz::raw_bytes(&data);
    }
}

#[test]
fn online_bytes_seeds() {
    for (_, data) in seeds("online_bytes") {
        fuzz::online_bytes(&data);
    }
}

#[test]
fn command_sequence_seeds() {
    for (_, data) in seeds("command_sequence") {
        fuzz::command_sequence(&data);
    }
}

#[test]
fn xml_stream_seeds() {
    for (_, data) in seeds("xml_stream") {
        herald_core::fuzz::xml_stream(&data);
    }
}

/// Feeds a recorded login one byte at a time, as `raw_bytes` mode 0 does, and returns the
/// events and how many SCRAM keys the client's cache ends with.
fn replay(data: &[u8]) -> (Vec<Event>, usize) {
    let config = fuzz::config(TlsPolicy::Required);
    let mut client = Driver::connected(config, fuzz::SEED, Transport::Plain);
    for byte in &data[1..] {
        client.input(std::slice::from_ref(byte));
        if client.contract().tls_pending() {
            client.tls_established(None).expect("handshake");
        }
    }
    let keys = client.client().scram_cache().len();
    (client.events, keys)
}

#[test]
fn recorded_real_logins_replay_to_online_with_a_verified_server_signature() {
    let logins = seeds("raw_server_bytes");
    for server in ["prosody", "ejabberd"] {
        let (path, data) = logins
            .iter()
            .find(|(p, _)| p.ends_with(format!("{server}-login")))
            .unwrap_or_else(|| panic!("no {server} login seed"));
        assert_eq!(data[0], 0, "{}: mode byte", path.display());
        let (events, keys) = replay(data);
        // `raw_bytes` replays such a login with the verified key cached, too.
        assert_eq!(keys, 1, "{server}: the verified SCRAM key is cached");
        let online = events.iter().any(|e| matches!(e, Event::Online { .. }));
        assert!(online, "{server}: {events:#?}");
        let ended = events.iter().find_map(|e| match e {
            Event::Disconnected { reason } => Some(reason.clone()),
            _ => None,
        });
        // The recording ends with the server's answer to our close, which the replaying
        // client did not send: the server closed first.
        assert_eq!(
            ended,
            Some(herald_core::DisconnectReason::ServerClosed),
            "{server}"
        );
    }
}

/// The hand-encoded `command_sequence` seeds decode to the steps their names promise (the
/// encoding is `arbitrary`'s: a continue byte, then a little-endian `u32` scaled to the
/// variant count, then the fields).
#[test]
fn command_sequence_seeds_decode_as_intended() {
    let all = seeds("command_sequence");
    let trace = |name: &str| {
        let (_, data) = all
            .iter()
            .find(|(p, _)| p.ends_with(name))
            .unwrap_or_else(|| panic!("no seed {name}"));
        fuzz::command_sequence_trace(data)
    };
    let login = trace("login-presence-close");
    assert_eq!(login.len(), 19, "{login:#?}");
    assert_eq!(login[11], "Say(IqResult) -> online", "{login:#?}");
    assert_eq!(login[12], "SetPresence(2) -> online", "{login:#?}");
    assert_eq!(login[18], "Say(StreamClose) -> closed", "{login:#?}");
    let other = trace("login-other-account");
    assert_eq!(
        other[10], "Say(BindResultForAnotherAccount) -> closed",
        "{other:#?}"
    );
    let tls = trace("during-tls");
    assert_eq!(tls[3], "Say(Proceed) -> tls_handshake", "{tls:#?}");
}

type EntryPoint = fn(&[u8]);

/// Every input a fuzzer crashed on, by target (`tests/fuzz-regressions/<target>/`).
#[test]
fn fuzz_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-regressions");
    let targets: [(&str, EntryPoint); 4] = [
        ("raw_server_bytes", fuzz::raw_bytes),
        ("online_bytes", fuzz::online_bytes),
        ("command_sequence", fuzz::command_sequence),
        ("xml_stream", herald_core::fuzz::xml_stream),
    ];
    for (target, run) in targets {
        let Ok(dir) = std::fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in dir {
            let path = entry.expect("dir entry").path();
            eprintln!("{}", path.display());
            run(&std::fs::read(&path).expect("regression input"));
        }
    }
}
