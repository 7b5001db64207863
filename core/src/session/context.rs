//! What every handler may use besides its own state's data: the [`Context`] (configuration,
//! credentials, SCRAM key cache, randomness, the account's presence and status, and the
//! [`Outbox`] it writes to), and what a failing handler returns: a [`Failure`].

use crate::config::Config;
use crate::entropy::Entropy;
use crate::error::{DisconnectReason, PeerMisbehaved, StreamErrorCondition};
use crate::outbox::Outbox;
use crate::sasl::{ChannelBinding, Credentials, FastToken, ScramCache};
use crate::stanza::caps::Caps;
use crate::stanza::caps_cache::CapsCache;
use crate::stanza::features::FeatureCache;
use crate::stanza::presence::Presence;
use crate::stanza::sm::Resumption;

/// The client-wide data the state machine works with.
pub(crate) struct Context {
    /// The configuration as the application built it (never changed by the session).
    pub(crate) config: Config,
    /// SASLprepped once, at construction.
    pub(crate) credentials: Credentials,
    /// The config's cache plus the keys this client's logins verified.
    pub(crate) scram_cache: ScramCache,
    /// The session to resume (the config's), until the server resumed or refused it.
    pub(crate) resumption: Option<Box<Resumption>>,
    /// What the server offered: the config's cache until this session's features arrive.
    pub(crate) feature_cache: Option<FeatureCache>,
    /// The FAST token: the config's until the server issues, rotates or refuses one.
    pub(crate) fast_token: Option<FastToken>,
    pub(crate) entropy: Box<dyn Entropy>,
    /// The account's availability and status, as the application last set them.
    pub(crate) presence: Presence,
    pub(crate) status: String,
    /// The client state (XEP-0352) as the application last set it: active or inactive.
    pub(crate) client_active: bool,
    /// The capabilities every available presence carries (from the config).
    pub(crate) own_caps: Caps,
    /// The config's capabilities cache plus what this client verified.
    pub(crate) caps_cache: CapsCache,
    pub(crate) out: Outbox,
}

impl Context {
    /// The account's domain: where our streams go.
    pub(crate) fn domain(&self) -> &str {
        self.config.jid.domain().as_str()
    }

    /// Opens a new stream. On a secure transport our header names the account (`from`, as
    /// RFC 6120 section 4.7.1 advises and FAST needs); before TLS it does not, so that
    /// nobody on the path learns who logs in.
    pub(crate) fn open_stream(&mut self, secure: bool) {
        let from = secure.then(|| self.config.jid.to_bare().to_string());
        self.out
            .open_stream(self.config.jid.domain().as_str(), from.as_deref());
    }
}

/// What the transport is, as far as the login needs to know: whether it is TLS already, and
/// the channel-binding data its handshake gave (for SCRAM `-PLUS`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Link {
    pub(crate) tls: bool,
    pub(crate) binding: Option<ChannelBinding>,
}

/// How a failure leaves the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Farewell {
    /// Nothing more may be written (TLS handshake in progress, transport gone).
    Silent,
    /// Close our stream with `</stream:stream>`.
    CloseStream,
    /// Send a stream error with this RFC 6120 condition, then close our stream.
    StreamError(StreamErrorCondition),
    /// The same, with an application-specific condition element (serialised) after it.
    StreamErrorDetail(StreamErrorCondition, String),
}

/// Why a handler ends the session, and how the end leaves the wire.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) reason: DisconnectReason,
    pub(crate) farewell: Farewell,
}

impl Failure {
    pub(crate) fn new(reason: DisconnectReason, farewell: Farewell) -> Failure {
        Failure { reason, farewell }
    }

    /// The server broke the protocol.
    pub(crate) fn peer(misbehaved: PeerMisbehaved, farewell: Farewell) -> Failure {
        Failure::new(DisconnectReason::PeerMisbehaved(misbehaved), farewell)
    }

    /// The server sent `got` where the protocol expects `expected`.
    pub(crate) fn unexpected(expected: &'static str, got: &str) -> Failure {
        Failure::peer(
            PeerMisbehaved::UnexpectedElement {
                expected,
                got: got.to_string(),
            },
            Farewell::StreamError(StreamErrorCondition::UnsupportedStanzaType),
        )
    }
}
