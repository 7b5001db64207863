//! Fuzz entry points over the client (feature `fuzz`). The cargo-fuzz targets in `fuzz/`
//! are one-line wrappers around these functions, so the bodies are type-checked (and run
//! on their seed corpora) by the ordinary test suite. The stream reader's target,
//! `herald_core::fuzz::xml_stream`, stays in the core: it needs the private reader.
//!
//! Each function takes the fuzzer's bytes and panics when an invariant breaks; peer input
//! itself must never make the core panic. Every call goes through the [`Contract`]
//! checker (by way of a [`Driver`]), and each target adds its own properties.
//!
//! - [`raw_bytes`]: server bytes into a fresh client, whole and in chunks (the outcome must
//!   not depend on the chunking, nor on a cached SCRAM key); the client may hold a SASL2
//!   user agent, a FAST token, a feature cache ([`modes`]).
//! - [`online_bytes`]: server bytes into a client a scripted login (RFC 6120 or SASL2 with
//!   Bind2) has brought online.
//! - [`command_sequence`]: an `arbitrary`-derived sequence of inputs, canned server
//!   messages, timeouts, TLS events and commands.
//!
//! The SCRAM nonce comes from `SeededEntropy::new(`[`SEED`]`)`, so a recorded login
//! transcript replays exactly (the server nonce extends ours, and `v=` verifies when the
//! transcript was recorded with [`PASSWORD`] and without channel binding); a FAST login
//! replays when the client holds [`FAST_TOKEN`] ([`modes::raw::FAST_TOKEN`]), the token the
//! server of the scripted seeds ([`scripted_seeds`]) had issued.
//!
//! [`Contract`]: crate::Contract

pub mod modes;
pub mod scripted_seeds;
mod sequence;
mod sequence_seeds;
mod websocket;

pub use modes::{FAST_TOKEN, USER_AGENT, raw_config};
pub use sequence::{command_sequence, command_sequence_events, command_sequence_trace};
pub use sequence_seeds::seed_steps as command_sequence_seed_steps;

use herald_core::{
    Action, Config, Event, Presence, ScramCache, SessionState, TlsPolicy, Transport,
};

use crate::Driver;

/// The account every fuzzed client logs in as.
pub const JID: &str = "alice@localhost/fuzz";
/// Its password (the seed transcripts were recorded with it).
pub const PASSWORD: &str = "fuzz-password-1";
/// The entropy seed of every fuzzed client: nonces and stanza ids are deterministic.
pub const SEED: u64 = 42;

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='fuzz' \
    version='1.0' xml:lang='en'>";
const FEATURES_STARTTLS: &str = "<stream:features><starttls \
    xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>";
const PROCEED: &str = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
const FEATURES_PLAIN: &str = "<stream:features><mechanisms \
    xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>\
    </stream:features>";
const FEATURES_SCRAM: &str = "<stream:features><mechanisms \
    xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism>\
    <mechanism>SCRAM-SHA-256</mechanism></mechanisms></stream:features>";
const SUCCESS: &str = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
const FEATURES_SASL2_PLAIN: &str = "<stream:features><authentication xmlns='urn:xmpp:sasl:2'>\
    <mechanism>PLAIN</mechanism><inline><bind xmlns='urn:xmpp:bind:0'/></inline>\
    </authentication></stream:features>";
const FEATURES_BIND: &str = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
    <session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>\
    </stream:features>";

const FEATURES_BIND_SM: &str = "<stream:features>\
    <bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/>\
    </stream:features>";
const ENABLED: &str = "<enabled xmlns='urn:xmpp:sm:3' id='fuzz-sm' resume='true'/>";

/// The configuration of every fuzzed client (with `tls` as given).
pub fn config(tls: TlsPolicy) -> Config {
    // The constants are a valid account JID.
    let mut config = Config::new(JID, PASSWORD).expect("valid fuzz JID");
    config.tls = tls;
    config
}

/// Everything observable from the client, to compare two runs.
type Transcript = (Vec<u8>, Vec<Action>, Vec<Event>);

fn transcript(d: Driver) -> Transcript {
    (d.wire, d.actions, d.events)
}

/// Server bytes: answers (IQ results and errors, stream errors) stay in proportion to the
/// input, so a server cannot make the client amplify its traffic.
fn input(d: &mut Driver, bytes: &[u8]) {
    let sent = d.input(bytes);
    assert!(
        sent <= 2 * bytes.len() + 1024,
        "{sent} bytes sent for {} received",
        bytes.len()
    );
}

/// Feeds `bytes` in pieces of `chunk`, finishing a requested TLS handshake after each.
fn input_chunked(d: &mut Driver, bytes: &[u8], chunk: usize) {
    for piece in bytes.chunks(chunk.max(1)) {
        if d.contract().transport_closed() {
            return;
        }
        input(d, piece);
        if d.contract().tls_pending() {
            let _ = d.tls_established(None);
        }
    }
}

/// The id of the last IQ the client sent whose payload names `ns` (the bind request, the
/// roster request: with pipelining both leave in one write), else of the last IQ.
fn last_iq_id_with(d: &Driver, ns: &str) -> String {
    let text = String::from_utf8_lossy(&d.wire);
    let end = text.rfind(ns).unwrap_or(text.len());
    let Some(at) = text[..end].rfind("<iq ") else {
        return "none".into();
    };
    let tail = &text[at..];
    tail.find("id='")
        .map(|i| &tail[i + 4..])
        .and_then(|t| t.split('\'').next())
        .unwrap_or("none")
        .to_string()
}

/// Server bytes into a fresh client. The first byte picks the transport, the chunk size and
/// what the client holds from earlier sessions ([`modes::raw`]); a requested TLS handshake
/// completes after the chunk that asked for it. Without STARTTLS
/// the same bytes are also fed one at a time, and both runs must agree; when the login
/// verified a SCRAM key, a run with that key cached must agree too.
pub fn raw_bytes(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let chunk = [1, 7, 61, usize::MAX][usize::from(mode >> 2) & 3];
    let run = |chunk: usize, cache: Option<ScramCache>| {
        let (mut config, transport) = raw_config(mode);
        if let Some(cache) = cache {
            config.scram_cache = cache;
        }
        let mut d = Driver::new(config, SEED);
        let _ = d.connect(transport);
        input_chunked(&mut d, rest, chunk);
        d.eof();
        let cache = d.client().scram_cache().clone();
        (transcript(d), cache)
    };
    let (first, cache) = run(chunk, None);
    let starttls = first.1.iter().any(|a| matches!(a, Action::StartTls { .. }));
    if chunk != 1 && !starttls {
        assert_eq!(first, run(1, None).0, "chunking changed the outcome");
    }
    if !cache.is_empty() {
        // The server verified a SCRAM key: the same bytes again, with the key cached, must
        // give the same outcome without PBKDF2.
        let (again, _) = run(chunk, Some(cache));
        assert_eq!(first, again, "the SCRAM key cache changed the outcome");
    }
}

/// A client the scripted server messages brought online, as `online_bytes` starts from
/// with `mode` ([`modes::online`]): over STARTTLS, PLAIN and RFC 6120 binding (with the
/// roster, when fetched, received, and stream management, when asked for, enabled with
/// resumption), or over direct TLS and SASL2 PLAIN with Bind2 inline (online at the
/// success, the roster request unanswered).
pub fn online_driver(mode: u8) -> Driver {
    let fetch_roster = mode & modes::online::FETCH_ROSTER != 0;
    let stream_management = mode & modes::online::STREAM_MANAGEMENT != 0;
    let mut config = config(TlsPolicy::Required);
    config.fetch_roster = fetch_roster;
    if mode & modes::online::WEBSOCKET != 0 {
        return websocket::online(config, stream_management);
    }
    if mode & modes::online::SASL2 != 0 {
        return online_over_sasl2(config);
    }
    let mut d = Driver::new(config, SEED);
    let _ = d.connect(Transport::Plain);
    input(
        &mut d,
        format!("{HEADER}{FEATURES_STARTTLS}{PROCEED}").as_bytes(),
    );
    let _ = d.tls_established(None);
    input(
        &mut d,
        format!("{HEADER}{FEATURES_PLAIN}{SUCCESS}").as_bytes(),
    );
    let features = if stream_management {
        FEATURES_BIND_SM
    } else {
        FEATURES_BIND
    };
    input(&mut d, format!("{HEADER}{features}").as_bytes());
    let id = last_iq_id_with(&d, NS_BIND);
    input(&mut d, bind_result(&id, JID).as_bytes());
    if stream_management {
        input(&mut d, ENABLED.as_bytes());
    }
    if fetch_roster {
        let id = last_iq_id_with(&d, NS_ROSTER);
        let roster = format!("<iq type='result' id='{id}'><query xmlns='jabber:iq:roster'/></iq>");
        input(&mut d, roster.as_bytes());
    }
    assert_eq!(
        d.client().state(),
        SessionState::Online,
        "the scripted login"
    );
    d
}

/// SASL2 PLAIN with Bind2 inline on direct TLS: online at the `<success/>`, bound to the
/// resource the scripted server makes of the JID's (as in the seed recorded against it).
fn online_over_sasl2(config: Config) -> Driver {
    let mut d = Driver::new(config, SEED);
    let _ = d.connect(Transport::DirectTls(None));
    let resource = crate::server::bind2_resource(Some("fuzz"), None);
    let success = format!(
        "<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>alice@localhost/{resource}\
         </authorization-identifier><bound xmlns='urn:xmpp:bind:0'/></success>"
    );
    input(
        &mut d,
        format!("{HEADER}{FEATURES_SASL2_PLAIN}{success}").as_bytes(),
    );
    assert_eq!(d.client().state(), SessionState::Online, "the SASL2 login");
    d
}

/// The resource binding namespace.
pub(crate) const NS_BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
/// The roster namespace.
pub(crate) const NS_ROSTER: &str = "jabber:iq:roster";

fn bind_result(id: &str, jid: &str) -> String {
    format!(
        "<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <jid>{jid}</jid></bind></iq>"
    )
}

/// Server bytes into a client that a scripted login brought online. The first byte picks
/// the chunk size and the login ([`modes::online`]), stream management (offered, enabled
/// with resumption, so that `<r/>`, `<a/>` and counting meet the bytes) and the end (the
/// connection is lost, and a resumption, if left, must belong to the account; else the
/// client closes, then the transport reaches end of file). Before the end, the timers of
/// the next two minutes fire (acknowledgement requests, link checks).
pub fn online_bytes(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let chunk = [1, 3, 16, 64, 256, 1024, 4096, usize::MAX][usize::from(mode) & 7];
    let mut d = online_driver(mode);
    if mode & modes::online::WEBSOCKET != 0 {
        for message in rest.split(|&b| b == 0) {
            input(&mut d, message);
        }
    } else {
        input_chunked(&mut d, rest, chunk);
    }
    if !d.client().is_closed() {
        let _ = d.command(|c, now| c.set_presence(now, Presence::Away));
        // The timers of the next two minutes, one at a time (each may arm the next).
        let until = d
            .client()
            .poll_timeout()
            .map(|t| t + std::time::Duration::from_secs(120));
        for _ in 0..16 {
            match (d.client().poll_timeout(), until) {
                (Some(at), Some(until)) if at <= until => d.timeout_at(at),
                _ => break,
            }
        }
    }
    if mode & modes::online::LOST != 0 {
        d.eof();
        if let Some(resumption) = d.client().resumption() {
            assert_eq!(
                resumption.jid().to_string(),
                JID,
                "a resumption of the account"
            );
            assert!(
                resumption.unacknowledged() <= herald_core::Limits::default().max_unacked_stanzas
            );
        }
        return;
    }
    let closed = !d.client().is_closed() && d.command(|c, now| c.close(now)).is_ok();
    d.eof();
    if closed {
        let left = d.client().resumption();
        assert!(left.is_none(), "a close leaves nothing to resume");
    }
}
