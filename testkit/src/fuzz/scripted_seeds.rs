//! Seeds for the logins the Debian Prosody and ejabberd cannot offer (SASL2, Bind2, FAST),
//! recorded against the scripted server: what the client was fed from the first stream
//! header to the server's answer to its close, by a client configured as the fuzz body
//! configures it for the seed's mode byte ([`raw_config`]), with the fuzz nonce and no
//! channel binding, so that SCRAM and the token's proof replay. Everything is in memory and
//! deterministic: the same code makes the same bytes.
//!
//! `cargo run -p herald-tests --example record_scripted_seeds` writes them to
//! `fuzz/corpus-seeds/`; `tests/tests/fuzz_seeds.rs` checks that the committed files are
//! what [`seeds`] makes today, and that each replays through its login.

use herald_core::{Client, Config, Presence, SeededEntropy, SessionState, TlsPolicy, Transport};

use super::modes::online::{FETCH_ROSTER, SASL2, WHOLE as ONLINE_WHOLE};
use super::modes::raw::{CACHED_FEATURES, DIRECT_TLS, FAST_TOKEN, USER_AGENT, WHOLE};
use super::modes::{HT, raw_config};
use super::{PASSWORD, SEED, config};
use crate::profile::{CLOCK_START, FastRotation, FastSlots, FastToken};
use crate::{Driver, Pair, ServerProfile};

/// One seed file: `fuzz/corpus-seeds/<target>/<name>`, the mode byte first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The fuzz target.
    pub target: &'static str,
    /// The file name.
    pub name: &'static str,
    /// The mode byte, then the server's bytes.
    pub data: Vec<u8>,
}

/// A `raw_server_bytes` seed: its file name, its mode byte and the server it is recorded
/// against.
#[derive(Debug, Clone, Copy)]
pub struct RawSeed {
    /// The file name.
    pub name: &'static str,
    /// The mode byte ([`raw`](super::modes::raw)).
    pub mode: u8,
    /// The server.
    pub server: fn() -> ServerProfile,
}

const fn raw_seed(name: &'static str, mode: u8, server: fn() -> ServerProfile) -> RawSeed {
    RawSeed { name, mode, server }
}

/// The `raw_server_bytes` seeds. Direct TLS ones are fed whole, so the target also
/// compares them with the same bytes fed one at a time; the STARTTLS one is fed one byte
/// at a time (fed whole, what follows `<proceed/>` would be plaintext injected before the
/// handshake).
pub const RAW: [RawSeed; 6] = [
    // SCRAM-SHA-256 over SASL2, Bind2 inline, a token asked for and issued.
    raw_seed("scripted-sasl2-login", USER_AGENT, sasl2_over_starttls),
    // SASL2 without Bind2: RFC 6120 binding on the same stream after the success.
    raw_seed(
        "scripted-sasl2-then-bind-login",
        DIRECT_TLS | WHOLE | USER_AGENT,
        sasl2_without_bind2,
    ),
    // The token logs in (HT-SHA-256-NONE) after the features, and is rotated.
    raw_seed(
        "scripted-fast-login",
        DIRECT_TLS | WHOLE | FAST_TOKEN,
        holding_the_token,
    ),
    // The same with the features cached: the token leaves with the header.
    raw_seed(
        "scripted-fast-cached-login",
        DIRECT_TLS | WHOLE | FAST_TOKEN | CACHED_FEATURES,
        holding_the_token,
    ),
    // A token the server never issued: refused, then SCRAM, and a new token.
    raw_seed(
        "scripted-refused-token-login",
        DIRECT_TLS | WHOLE | FAST_TOKEN,
        sasl2_over_direct_tls,
    ),
    // The cached SCRAM-SHA-256 is no longer offered: the early <authenticate/> is
    // refused, then SCRAM-SHA-1 from the features.
    raw_seed(
        "scripted-stale-cache-login",
        DIRECT_TLS | WHOLE | USER_AGENT | CACHED_FEATURES,
        sasl2_sha1_only,
    ),
];

/// The `online_bytes` seed's mode: the SASL2 login, the roster fetched, fed whole.
pub const ONLINE_MODE: u8 = SASL2 | FETCH_ROSTER | ONLINE_WHOLE;

/// Every scripted seed, recorded now, and the `command_sequence` seeds, encoded now.
pub fn seeds() -> Vec<Seed> {
    let mut seeds: Vec<Seed> = RAW
        .iter()
        .map(|seed| {
            let (config, transport) = raw_config(seed.mode);
            let fed = record((seed.server)(), config, transport);
            Seed {
                target: "raw_server_bytes",
                name: seed.name,
                data: [&[seed.mode][..], &fed].concat(),
            }
        })
        .collect();
    seeds.push(Seed {
        target: "online_bytes",
        name: "scripted-sasl2-online",
        data: [&[ONLINE_MODE][..], &online_part()].concat(),
    });
    seeds.extend(super::sequence_seeds::seeds());
    seeds
}

/// Runs a session, the client with `config` and the fuzz seed, the server playing
/// `profile`: the login,
/// a contact's presence with caps, a message asking for a receipt, a carbon, a block push,
/// a disco#info query and a ping, our presence changed, our close and the server's answer. Returns every byte the client was fed.
fn record(profile: ServerProfile, config: Config, transport: Transport) -> Vec<u8> {
    // The config is valid: the fuzz body builds the same.
    let client = Client::new(config, SeededEntropy::new(SEED)).expect("valid config");
    let mut pair = Pair::with_client(profile, client);
    // The fuzz body gives no channel binding, so the recording must not use it either.
    pair.channel_binding = None;
    pair.connect_over(transport).expect("connect");
    pair.drive();
    assert_eq!(pair.client().state(), SessionState::Online, "{pair:#?}");
    assert!(
        pair.server.violations.is_empty(),
        "{:?}",
        pair.server.violations
    );
    pair.server_says(
        "<presence from='bob@localhost/phone'><show>away</show><status>out</status>\
         <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' \
         node='http://code.google.com/p/exodus' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>\
         </presence><message from='bob@localhost/phone' type='chat' id='m1'><body>hi</body>\
         <thread>t1</thread><request xmlns='urn:xmpp:receipts'/></message>\
         <message from='alice@localhost' type='chat'><sent xmlns='urn:xmpp:carbons:2'>\
         <forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' \
         from='alice@localhost/phone' to='bob@localhost' type='chat' id='c1'>\
         <body>from my phone</body></message></forwarded></sent></message>\
         <iq type='set' id='block1'><block xmlns='urn:xmpp:blocking'>\
         <item jid='spam@evil.example'/></block></iq>\
         <iq type='get' id='disco1' from='bob@localhost/phone'>\
         <query xmlns='http://jabber.org/protocol/disco#info'/></iq>\
         <iq type='get' id='ping1' from='localhost'>\
         <ping xmlns='urn:xmpp:ping'/></iq>",
    );
    pair.command(|c, now| c.set_presence(now, Presence::Away))
        .expect("presence");
    pair.command(|c, now| c.close(now)).expect("close");
    pair.drive();
    assert!(pair.client().is_closed(), "{pair:#?}");
    pair.delivered.clone()
}

/// What the `online_bytes` SASL2 login's client is fed once online, recorded against a
/// server offering PLAIN alone over SASL2 with Bind2 (the login the target scripts): the
/// features that follow the success, the roster result, the rest of the session.
fn online_part() -> Vec<u8> {
    let profile = ServerProfile {
        mechanisms: vec!["PLAIN"],
        ..sasl2_over_direct_tls()
    };
    let mut config = config(TlsPolicy::Required);
    config.fetch_roster = true;
    let fed = record(profile, config.clone(), Transport::DirectTls(None));
    // Where the client went online: replayed a byte at a time.
    let mut d = Driver::connected(config, SEED, Transport::DirectTls(None));
    let online = fed.iter().position(|b| {
        d.input(std::slice::from_ref(b));
        d.client().state() == SessionState::Online
    });
    let at = online.expect("the replay goes online") + 1;
    fed[at..].to_vec()
}

/// [`ServerProfile::fast_login`] with the fuzz account, and SCRAM's least iteration count
/// (the fuzzer runs PBKDF2 on every input that gets that far).
fn sasl2_over_starttls() -> ServerProfile {
    ServerProfile {
        password: PASSWORD.into(),
        iterations: 4096,
        ..ServerProfile::fast_login()
    }
}

fn sasl2_over_direct_tls() -> ServerProfile {
    ServerProfile {
        starttls: false,
        ..sasl2_over_starttls()
    }
}

fn sasl2_without_bind2() -> ServerProfile {
    ServerProfile {
        bind2: false,
        ..sasl2_over_direct_tls()
    }
}

fn sasl2_sha1_only() -> ServerProfile {
    ServerProfile {
        mechanisms: vec!["SCRAM-SHA-1", "PLAIN"],
        ..sasl2_over_direct_tls()
    }
}

/// A server that issued [`FAST_TOKEN`](super::FAST_TOKEN) to the fuzz user agent, and
/// rotates tokens at every login (so the success carries a new one).
fn holding_the_token() -> ServerProfile {
    let mut profile = ServerProfile {
        fast_rotation: FastRotation::EveryLogin,
        ..sasl2_over_direct_tls()
    };
    let token = FastToken {
        secret: super::FAST_TOKEN.into(),
        mechanism: HT.into(),
        issued_at: CLOCK_START,
        expires_at: CLOCK_START + profile.fast_token_ttl,
    };
    let slots = FastSlots {
        current: Some(token),
        new: None,
    };
    profile.fast_tokens.insert(super::USER_AGENT.into(), slots);
    profile
}
