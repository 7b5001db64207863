//! Secrets stay secret: the trace of a full login, written the way the adapters write it
//! (`herald_io::trace::Redactor`, one per direction, fed each read and write as it
//! happens), contains neither the password nor any SASL payload; and the `Debug` of the
//! configuration and of the client at every login step shows neither.
//!
//! (`login_failures.rs` checks the reasons and errors of failed logins; `scram.rs`'s unit
//! tests the SCRAM client's own `Debug` and the wiping of the password.)

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use herald_core::{Event, SessionState};
use herald_io::trace::Redactor;
use herald_testkit::{Chunking, Pair, ServerProfile, config_for};

const PASSWORD: &str = "Tr0ub4dor&3-horse";

/// The SASL payloads on the wire: the text of every `<auth>`, `<challenge>`, `<response>`
/// and `<success>`, base64 and decoded.
fn sasl_payloads(wire: &str) -> Vec<String> {
    let mut payloads = Vec::new();
    for name in ["auth", "challenge", "response", "success"] {
        let mut rest = wire;
        while let Some(at) = rest.find(&format!("<{name} ")) {
            rest = &rest[at..];
            let Some(open_end) = rest.find('>') else {
                break;
            };
            let close = format!("</{name}>");
            if rest[..open_end].ends_with('/') {
                rest = &rest[open_end..];
                continue;
            }
            let Some(close_at) = rest.find(&close) else {
                break;
            };
            let text = rest[open_end + 1..close_at].trim().to_string();
            if !text.is_empty() {
                if let Ok(decoded) = BASE64.decode(&text) {
                    // Each SCRAM attribute on its own (nonce, salt, proof, signature).
                    let decoded = String::from_utf8_lossy(&decoded).into_owned();
                    payloads.extend(
                        decoded
                            .split([',', '\0'])
                            .filter(|a| a.len() > 6)
                            .map(str::to_string),
                    );
                }
                payloads.push(text);
            }
            rest = &rest[close_at..];
        }
    }
    payloads
}

/// The trace an adapter would write: each direction through its own redactor, fed in
/// pieces of `size` bytes.
fn trace(pair: &Pair, size: usize) -> String {
    let mut out = String::new();
    let mut sent = Redactor::default();
    for piece in pair.server.received_bytes.chunks(size) {
        out.push_str("C: ");
        out.push_str(&sent.feed(piece));
        out.push('\n');
    }
    let mut received = Redactor::default();
    for piece in pair.delivered.chunks(size) {
        out.push_str("S: ");
        out.push_str(&received.feed(piece));
        out.push('\n');
    }
    out
}

fn logged_in(profile: ServerProfile) -> Pair {
    let mut profile = profile;
    profile.password = PASSWORD.to_string();
    let config = config_for(&profile);
    let mut pair = Pair::new(profile, config);
    pair.chunking = Chunking::Random(7);
    pair.hold = true;
    pair.start();
    pair.drive();
    // One login step at a time; at each, nothing secret in Debug.
    for _ in 0..20 {
        let shown = format!(
            "{:?} {:#?} {:?}",
            pair.client(),
            pair.client(),
            pair.client().config()
        );
        assert!(!shown.contains(PASSWORD), "{shown}");
        let wire = String::from_utf8_lossy(&pair.server.received_bytes).into_owned();
        for payload in sasl_payloads(&wire) {
            assert!(!shown.contains(&payload), "{payload:?} in {shown}");
        }
        if !pair.deliver() {
            break;
        }
    }
    assert_eq!(pair.client().state(), SessionState::Online);
    pair.command(|c, now| c.close(now)).expect("close");
    pair.deliver();
    pair
}

fn check(pair: &Pair, plain: bool) {
    let client_wire = String::from_utf8_lossy(&pair.server.received_bytes).into_owned();
    let server_wire = String::from_utf8_lossy(&pair.delivered).into_owned();
    let payloads: Vec<String> = sasl_payloads(&client_wire)
        .into_iter()
        .chain(sasl_payloads(&server_wire))
        .collect();
    // The test means something: the payloads are on the wire (inside TLS).
    assert!(payloads.len() >= if plain { 2 } else { 8 }, "{payloads:?}");
    if plain {
        let response = BASE64.encode(format!("\0alice\0{PASSWORD}"));
        assert!(client_wire.contains(&response));
    }
    for size in [1, 5, 64, 100_000] {
        let trace = trace(pair, size);
        assert!(!trace.contains(PASSWORD), "password in the trace:\n{trace}");
        for payload in &payloads {
            assert!(!trace.contains(payload.as_str()), "{payload:?} in\n{trace}");
        }
        assert!(trace.contains("[redacted]"));
        assert!(trace.contains("<bind"), "the rest of the trace is kept");
    }
    let events = format!("{:?}", pair.events);
    assert!(!events.contains(PASSWORD));
    assert!(matches!(
        pair.events.last(),
        Some(Event::Disconnected { .. })
    ));
}

#[test]
fn a_scram_login_trace_has_no_password_and_no_sasl_payload() {
    check(&logged_in(ServerProfile::prosody_like()), false);
}

#[test]
fn a_scram_plus_login_trace_has_no_password_and_no_sasl_payload() {
    check(&logged_in(ServerProfile::ejabberd_like()), false);
}

#[test]
fn a_plain_login_trace_has_no_password() {
    let profile = ServerProfile {
        mechanisms: vec!["PLAIN"],
        ..ServerProfile::prosody_like()
    };
    check(&logged_in(profile), true);
}
