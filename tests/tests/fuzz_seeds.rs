//! The fuzz entry points (`herald_testkit::fuzz` and, for the stream reader,
//! `herald_core::fuzz`; feature `fuzz` of both) on the committed seed corpora and on every
//! input a fuzzer ever crashed, so a fixed crash stays fixed and the fuzz bodies run in the
//! ordinary test suite. The recorded logins (real servers, and the scripted server for
//! SASL2, Bind2 and FAST) must replay through a whole login, or the seeds would stop the
//! fuzzer at authentication.

use std::path::{Path, PathBuf};

use herald_core::{DisconnectReason, Event, Mechanism, SessionState};
use herald_testkit::fuzz::scripted_seeds;
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

/// Feeds a recorded login one byte at a time to the client `raw_bytes` makes for its mode
/// byte, and returns that client (its events, SCRAM key cache, FAST token).
fn replay(data: &[u8]) -> Driver {
    let (config, transport) = fuzz::raw_config(data[0]);
    let mut client = Driver::connected(config, fuzz::SEED, transport);
    for byte in &data[1..] {
        client.input(std::slice::from_ref(byte));
        if client.contract().tls_pending() {
            client.tls_established(None).expect("handshake");
        }
    }
    client
}

/// How the session of a replayed recording ended (the recordings end with the server's
/// answer to our close, which the replaying client did not send: the server closed first).
fn ending(events: &[Event]) -> Option<DisconnectReason> {
    events.iter().find_map(|e| match e {
        Event::Disconnected { reason } => Some(reason.clone()),
        _ => None,
    })
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
        let client = replay(data);
        let events = &client.events;
        // `raw_bytes` replays such a login with the verified key cached, too.
        let keys = client.client().scram_cache().len();
        assert_eq!(keys, 1, "{server}: the verified SCRAM key is cached");
        let online = events.iter().any(|e| matches!(e, Event::Online { .. }));
        assert!(online, "{server}: {events:#?}");
        assert_eq!(
            ending(events),
            Some(DisconnectReason::ServerClosed),
            "{server}"
        );
    }
}

/// The scripted seeds are what `herald_testkit::fuzz::scripted_seeds` records today: the
/// committed files were made by it, and a change to the client or the scripted server that
/// changes them shows here (re-record with `cargo run -p herald-tests --example
/// record_scripted_seeds`).
#[test]
fn scripted_seeds_are_what_the_recorder_makes_today() {
    for seed in scripted_seeds::seeds() {
        let (_, committed) = seeds(seed.target)
            .into_iter()
            .find(|(p, _)| p.ends_with(seed.name))
            .unwrap_or_else(|| panic!("{}/{} is not committed", seed.target, seed.name));
        assert!(
            committed == seed.data,
            "{}/{} differs from what the recorder makes: re-record it",
            seed.target,
            seed.name
        );
    }
}

/// The scripted SASL2, Bind2 and FAST logins replay through a whole login with the client
/// their mode byte gives, each the way its name says: the mechanisms tried, the server's
/// proof verified (SCRAM `v=` or the token's HMAC), the token issued or rotated.
#[test]
fn scripted_logins_replay_through_a_whole_sasl2_login() {
    use Mechanism::{HtSha256None as Ht, ScramSha1, ScramSha256};
    let expected: [(&str, &[Mechanism], usize); 6] = [
        ("scripted-sasl2-login", &[ScramSha256], 1),
        ("scripted-sasl2-then-bind-login", &[ScramSha256], 1),
        ("scripted-fast-login", &[Ht], 1),
        ("scripted-fast-cached-login", &[Ht], 1),
        // Refused, dropped (an update), then SCRAM and a new one.
        ("scripted-refused-token-login", &[Ht, ScramSha256], 2),
        // The stale early choice, taken back.
        ("scripted-stale-cache-login", &[ScramSha256, ScramSha1], 1),
    ];
    let all = seeds("raw_server_bytes");
    for (seed, (name, mechanisms, updates)) in scripted_seeds::RAW.iter().zip(expected) {
        assert_eq!(seed.name, name);
        let (_, data) = all.iter().find(|(p, _)| p.ends_with(name)).unwrap();
        assert_eq!(data[0], seed.mode, "{name}: mode byte");
        let client = replay(data);
        let events = &client.events;
        let tried: Vec<Mechanism> = events
            .iter()
            .filter_map(|e| match e {
                Event::StateChanged(SessionState::Authenticating { mechanism }) => Some(*mechanism),
                _ => None,
            })
            .collect();
        assert_eq!(tried, mechanisms, "{name}: {events:#?}");
        let online = events.iter().any(|e| matches!(e, Event::Online { .. }));
        assert!(online, "{name}: {events:#?}");
        let updated = events
            .iter()
            .filter(|e| **e == Event::FastTokenUpdated)
            .count();
        assert_eq!(updated, updates, "{name}: {events:#?}");
        let token = client.client().fast_token().expect("a token issued");
        assert_ne!(token.token.expose(), fuzz::FAST_TOKEN, "{name}: a new one");
        assert_eq!(
            ending(events),
            Some(DisconnectReason::ServerClosed),
            "{name}"
        );
    }
}

/// The scripted SASL2 online seed continues the SASL2 login `online_bytes` scripts: the
/// roster result it holds answers that login's roster request.
#[test]
fn the_scripted_online_seed_continues_the_targets_sasl2_login() {
    let all = seeds("online_bytes");
    let (_, data) = all
        .iter()
        .find(|(p, _)| p.ends_with("scripted-sasl2-online"))
        .expect("the SASL2 online seed");
    assert_eq!(data[0], scripted_seeds::ONLINE_MODE);
    let mut client = fuzz::online_driver(data[0]);
    client.input(&data[1..]);
    let events = &client.events;
    assert!(
        events.iter().any(|e| matches!(e, Event::Roster { .. })),
        "{events:#?}"
    );
    assert!(
        events.iter().any(|e| matches!(e, Event::Presence(_))),
        "{events:#?}"
    );
    assert_eq!(ending(events), Some(DisconnectReason::ServerClosed));
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

/// Every `command_sequence` seed decodes to exactly the steps it was written as (so the
/// variant counts and indices of the encoder match the target's enums).
#[test]
fn command_sequence_seeds_decode_to_their_steps() {
    let all = seeds("command_sequence");
    let written = fuzz::command_sequence_seed_steps();
    assert_eq!(all.len(), written.len(), "a seed file no one writes");
    for (name, steps) in written {
        let (_, data) = all
            .iter()
            .find(|(p, _)| p.ends_with(name))
            .unwrap_or_else(|| panic!("no seed {name}"));
        let decoded: Vec<String> = fuzz::command_sequence_trace(data)
            .into_iter()
            .map(|line| line.split(" -> ").next().unwrap_or_default().to_string())
            .collect();
        assert_eq!(decoded, steps, "{name}");
    }
}

/// The Core Client seed's canned messages do what their names say: the contact's caps are
/// verified from the answer, a message, a receipt and a carbon arrive, the block list and
/// both pushes are reported, and the session ends cleanly.
#[test]
fn the_core_client_seed_reaches_the_profile() {
    let all = seeds("command_sequence");
    let (_, data) = all
        .iter()
        .find(|(p, _)| p.ends_with("core-client"))
        .expect("the core-client seed");
    let (trace, events) = fuzz::command_sequence_events(data);
    let count = |what: fn(&Event) -> bool| events.iter().filter(|e| what(e)).count();
    assert_eq!(
        count(|e| matches!(e, Event::CapsVerified { .. })),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(|e| matches!(e, Event::CapsInvalid { .. })),
        0,
        "{events:#?}"
    );
    assert_eq!(
        count(|e| matches!(e, Event::Receipt { .. })),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(|e| matches!(e, Event::Message(m) if m.carbon.is_some())),
        1
    );
    assert_eq!(
        count(|e| matches!(e, Event::Message(m) if m.carbon.is_none())),
        1
    );
    assert_eq!(
        count(|e| matches!(e, Event::Blocklist { jids } if jids.len() == 1)),
        1
    );
    assert_eq!(
        count(|e| matches!(e, Event::Blocked { .. })),
        1,
        "{events:#?}"
    );
    assert_eq!(
        count(|e| matches!(e, Event::Unblocked { .. })),
        1,
        "{events:#?}"
    );
    assert_eq!(
        ending(&events),
        Some(DisconnectReason::LocalClose),
        "{trace:#?}"
    );
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
