//! What the first byte of a byte target's input (its mode) picks: the transport, the
//! chunk size, and the client's state from earlier sessions (a SASL2 user agent, a FAST
//! token, a feature cache) or pipelining off. A mode byte of 0 is the plain configuration
//! the real-server seeds were recorded with.

use herald_core::{Config, FastToken, FeatureCache, Sasl2Offer, TlsPolicy, Transport, UserAgent};

use super::config;

/// `raw_bytes` mode bits.
pub mod raw {
    /// Bits 0-1: 0 or 1, STARTTLS; 2, direct TLS; 3, insecure plaintext.
    pub const DIRECT_TLS: u8 = 2;
    /// Bits 2-3: the chunk size, 1, 7, 61 bytes or everything at once (this value).
    pub const WHOLE: u8 = 3 << 2;
    /// The client has a SASL2 user agent ([`USER_AGENT`](super::USER_AGENT)): it asks a
    /// server that offers FAST for a token.
    pub const USER_AGENT: u8 = 1 << 4;
    /// The client has the user agent and its token, [`FAST_TOKEN`](super::FAST_TOKEN).
    pub const FAST_TOKEN: u8 = 1 << 5;
    /// The client has the features of [`ServerProfile::fast_login`] cached: on a secure
    /// stream its initial response leaves with the header.
    ///
    /// [`ServerProfile::fast_login`]: crate::ServerProfile::fast_login
    pub const CACHED_FEATURES: u8 = 1 << 6;
    /// Pipelining is off: the client waits for the server at every step.
    pub const NO_PIPELINING: u8 = 1 << 7;
}

/// `online_bytes` mode bits.
pub mod online {
    /// Bits 0-2: the chunk size, 1, 3, 16, 64, 256, 1024, 4096 bytes or everything at once
    /// (this value).
    pub const WHOLE: u8 = 7;
    /// The client fetches the roster.
    pub const FETCH_ROSTER: u8 = 1 << 3;
    /// The scripted login is SASL2 with Bind2 inline on direct TLS (online at the
    /// `<success/>`, the roster request unanswered, the stream not restarted), instead of
    /// STARTTLS, RFC 6120 SASL and binding.
    pub const SASL2: u8 = 1 << 4;
    /// The server offers stream management (RFC 6120 login only), and the client enables
    /// it with resumption.
    pub const STREAM_MANAGEMENT: u8 = 1 << 5;
    /// The input ends with the connection lost instead of a close: a resumption, if left,
    /// must be of the account.
    pub const LOST: u8 = 1 << 6;
    /// The login and the input are WebSocket messages (RFC 7395, a secure WebSocket): the
    /// scripted login as one message per element, then the input cut into messages at
    /// each NUL byte (which no XML holds); the chunk bits do not count.
    pub const WEBSOCKET: u8 = 1 << 7;
}

/// The SASL2 user agent of a client that has one.
pub const USER_AGENT: &str = "00000000-0000-4000-8000-00000000f022";
/// The FAST token of a client that has one: the scripted FAST seeds were recorded against
/// a server that had issued it to [`USER_AGENT`].
pub const FAST_TOKEN: &str = "secret-token:fuzz";
/// The token mechanism.
pub(crate) const HT: &str = "HT-SHA-256-NONE";

/// The client `raw_bytes` runs for `mode` (see [`raw`]), and how it connects.
pub fn raw_config(mode: u8) -> (Config, Transport) {
    let (tls, transport) = match mode & 3 {
        0 | 1 => (TlsPolicy::Required, Transport::Plain),
        2 => (TlsPolicy::Required, Transport::DirectTls(None)),
        _ => (TlsPolicy::InsecurePlaintext, Transport::Plain),
    };
    let mut config = config(tls);
    if mode & (raw::USER_AGENT | raw::FAST_TOKEN) != 0 {
        config.user_agent = Some(UserAgent::new(USER_AGENT));
    }
    if mode & raw::FAST_TOKEN != 0 {
        config.fast_token = Some(FastToken::new(HT, FAST_TOKEN, None));
    }
    if mode & raw::CACHED_FEATURES != 0 {
        config.feature_cache = Some(fast_login_features());
    }
    if mode & raw::NO_PIPELINING != 0 {
        config.pipelining = false;
    }
    (config, transport)
}

/// What a login to [`ServerProfile::fast_login`](crate::ServerProfile::fast_login) leaves
/// in the feature cache.
pub fn fast_login_features() -> FeatureCache {
    let mechanisms: Vec<String> = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]
        .map(String::from)
        .to_vec();
    let mut cache = FeatureCache::default();
    cache.mechanisms = mechanisms.clone();
    cache.sasl2 = Some(Sasl2Offer {
        mechanisms,
        bind2: true,
        fast: vec![HT.into()],
        ..Default::default()
    });
    cache.roster_versioning = true;
    cache
}
