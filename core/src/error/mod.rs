//! Errors: [`UsageError`] for API misuse (returned at once, nothing changes) and
//! [`DisconnectReason`] for the end of a session (reported once, as an event, then sticky).

mod peer;

pub use peer::{PeerMisbehaved, StreamErrorCondition};

use crate::sasl::{Mechanism, ScramError};
use crate::xml::Limit;

/// The application called a command that is not allowed now, or with a bad argument.
/// Nothing was sent and nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// The command needs `connect` first.
    #[error("the client is not connected")]
    NotConnected,
    /// `connect` on a client that has already connected.
    #[error("connect was already called on this client")]
    AlreadyConnected,
    /// The command needs an online session.
    #[error("the session is not online")]
    NotOnline,
    /// `close` was already called.
    #[error("the session is already closing")]
    AlreadyClosing,
    /// The session has ended; create a new client to reconnect.
    #[error("the session has ended: {0}")]
    SessionEnded(DisconnectReason),
    /// The text contains a character XML 1.0 cannot carry (a control character).
    #[error("text contains {ch:?}, which XML cannot carry")]
    InvalidText {
        /// The offending character.
        ch: char,
    },
    /// The element cannot be written as XML (bad name, bad character or too deep).
    #[error("the element cannot be sent: {0}")]
    InvalidElement(String),
    /// Broadcast presence goes through `set_presence` / `change_presence`, so the core's
    /// idea of the account's presence stays true. Directed presence (with `to`) may be sent.
    #[error("send broadcast presence with set_presence or change_presence")]
    UsePresenceApi,
    /// `approve` for a JID that sent no subscription request, on a server without
    /// pre-approval (RFC 6121 section 3.4).
    #[error("no subscription request from that JID, and the server does not offer pre-approval")]
    NoPendingRequest,
    /// [`Client::block`](crate::Client::block) with no JID: XEP-0191 has no such request
    /// (an empty [`unblock`](crate::Client::unblock) unblocks everything).
    #[error("block needs at least one JID")]
    NothingToBlock,
    /// `tls_established` or `tls_failed` when no TLS handshake was requested.
    #[error("no TLS handshake is in progress")]
    NoTlsHandshake,
    /// `handle_message` on a connection that is not a WebSocket
    /// ([`Transport::WebSocket`](crate::Transport::WebSocket)).
    #[error("handle_message is for WebSocket transports; use handle_input on TCP")]
    NotWebSocket,
}

/// Checks that `text` can be carried by XML 1.0 (no control characters but tab, newline
/// and carriage return; no U+FFFE or U+FFFF), as the presence commands do.
pub fn check_text(text: &str) -> Result<(), UsageError> {
    match crate::xml::invalid_char(text) {
        Some(ch) => Err(UsageError::InvalidText { ch }),
        None => Ok(()),
    }
}

/// The configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The JID does not parse.
    #[error("invalid JID: {0}")]
    InvalidJid(String),
    /// An account JID needs a local part (`user@domain`).
    #[error("the JID has no local part")]
    JidWithoutLocalPart,
    /// [`Limits::max_stanza_bytes`](crate::Limits::max_stanza_bytes) is above
    /// [`Limits::MAX_STANZA_BYTES`](crate::Limits::MAX_STANZA_BYTES).
    #[error("max_stanza_bytes {0} is above the largest supported ({max})", max = crate::Limits::MAX_STANZA_BYTES)]
    StanzaLimitTooLarge(usize),
    /// A timeout in [`Timeouts`](crate::Timeouts) is longer than
    /// [`Timeouts::MAX`](crate::Timeouts::MAX) (a deadline that far out could overflow the
    /// clock).
    #[error("the {0} timeout is longer than a year")]
    TimeoutTooLong(&'static str),
    /// SASLprep (RFC 4013) refuses the account's local part or the password: no server
    /// could accept them.
    #[error("the credentials contain characters SASL does not allow")]
    InvalidCredentials,
    /// The user agent's id, software or device name contains a character XML cannot carry.
    #[error("the user agent contains {ch:?}, which XML cannot carry")]
    InvalidUserAgent {
        /// The offending character.
        ch: char,
    },
    /// The configured status text contains a character XML cannot carry.
    #[error("the status text contains {ch:?}, which XML cannot carry")]
    InvalidStatus {
        /// The offending character.
        ch: char,
    },
    /// [`Config::resumption`](crate::Config::resumption) is a session of another account.
    #[error("the session to resume belongs to {jid}, not to this account")]
    ResumptionOfOtherAccount {
        /// The resumption's JID.
        jid: jid::FullJid,
    },
    /// The identity, features, caps node or software version cannot be announced: a
    /// duplicate, a `<` (XEP-0115 section 5.1) or a character XML cannot carry.
    #[error("service discovery information: {0}")]
    InvalidDiscoInfo(String),
}

/// The login step a timeout interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// Waiting for the stream header and features.
    StreamFeatures,
    /// Waiting for `<proceed/>` after `<starttls/>`.
    StartTls,
    /// Waiting for the adapter to finish the TLS handshake.
    TlsHandshake,
    /// SASL exchange.
    Authentication,
    /// Resource binding.
    Binding,
    /// Resuming a stream management session (XEP-0198).
    Resumption,
    /// RFC 3921 session establishment.
    Session,
    /// Fetching the roster.
    Roster,
    /// Waiting for the server's `</stream:stream>` after ours.
    Closing,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::StreamFeatures => "stream features",
            Step::StartTls => "STARTTLS",
            Step::TlsHandshake => "TLS handshake",
            Step::Authentication => "authentication",
            Step::Binding => "resource binding",
            Step::Resumption => "session resumption",
            Step::Session => "session establishment",
            Step::Roster => "roster fetch",
            Step::Closing => "closing",
        })
    }
}

/// Why a session ended. Reported once in [`Event::Disconnected`](crate::Event::Disconnected)
/// and kept in [`SessionState::Closed`](crate::SessionState::Closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The application closed the session (the server confirmed, or the close timed out).
    #[error("closed by the application")]
    LocalClose,
    /// The server closed its stream without an error.
    #[error("the server closed the stream")]
    ServerClosed,
    /// The transport reached end of file without a stream close.
    #[error("the connection was closed unexpectedly")]
    Eof,
    /// The server sent a stream error.
    #[error("stream error {condition}{}", text.as_deref().map(|t| format!(": {t}")).unwrap_or_default())]
    StreamError {
        /// The RFC 6120 condition, e.g. `system-shutdown`.
        condition: StreamErrorCondition,
        /// The server's human-readable text, if any.
        text: Option<String>,
    },
    /// The server asked us to connect to another host (`see-other-host`).
    #[error("the server redirects to {host}")]
    SeeOtherHost {
        /// The host (and optional port) to use instead.
        host: String,
    },
    /// The server rejected the credentials (SASL `<failure/>`).
    #[error("authentication failed: {condition}{}", text.as_deref().map(|t| format!(" ({t})")).unwrap_or_default())]
    AuthFailed {
        /// The SASL condition, e.g. `not-authorized`.
        condition: String,
        /// The server's text, if any.
        text: Option<String>,
    },
    /// The SCRAM exchange failed on our side: the server misbehaved or could not prove it
    /// knows the password (or, for a FAST token mechanism, the token).
    #[error("SCRAM failed with {mechanism}: {error}")]
    Scram {
        /// The mechanism in use.
        mechanism: Mechanism,
        /// What went wrong.
        error: ScramError,
    },
    /// The server offered no mechanism Herald accepts.
    #[error("no acceptable SASL mechanism among {offered:?}")]
    NoAcceptableMechanism {
        /// What the server offered.
        offered: Vec<String>,
    },
    /// TLS is required, but the server did not offer STARTTLS on a plain transport.
    /// No credential was sent.
    #[error("the server does not offer STARTTLS and TLS is required")]
    TlsNotOffered,
    /// The server answered `<starttls/>` with `<failure/>`.
    #[error("the server refused STARTTLS")]
    StartTlsRefused,
    /// The adapter reported that the TLS handshake failed.
    #[error("TLS failed: {message}")]
    TlsFailed {
        /// The adapter's description (for example a certificate error).
        message: String,
    },
    /// Plaintext bytes arrived after `<proceed/>`: a STARTTLS injection attempt.
    #[error("plaintext data after <proceed/> (STARTTLS injection)")]
    TlsInjection,
    /// The server's XML was not acceptable; we sent the stream error `condition`.
    #[error("malformed input ({condition}): {detail}")]
    MalformedXml {
        /// The stream error condition sent to the server.
        condition: StreamErrorCondition,
        /// What was wrong.
        detail: String,
    },
    /// The server broke one of the configured [`Limits`](crate::Limits).
    #[error("the server exceeded the {0} limit")]
    LimitExceeded(Limit),
    /// The server broke the protocol in a way Herald detects (we sent a stream error or
    /// closed the stream).
    #[error("protocol violation: {0}")]
    PeerMisbehaved(PeerMisbehaved),
    /// Resource binding failed.
    #[error("resource binding failed: {condition}")]
    BindFailed {
        /// The stanza error condition.
        condition: String,
    },
    /// The RFC 3921 session request failed.
    #[error("session establishment failed: {condition}")]
    SessionFailed {
        /// The stanza error condition.
        condition: String,
    },
    /// A login step took too long.
    #[error("timed out during {0}")]
    Timeout(Step),
    /// Nothing came back from the server, not even the answer to a link check: the
    /// connection is gone without a word (a NAT timeout, a roaming device).
    #[error("the link is dead: the server answered no link check")]
    LinkDead,
}

impl DisconnectReason {
    /// Whether connecting again may help.
    ///
    /// False after authentication failures, TLS failures, configuration problems and the
    /// application's own close, and after stream errors that would repeat (`conflict`,
    /// `not-authorized`, `host-unknown`, ...). True for network trouble, timeouts and
    /// server restarts.
    pub fn should_reconnect(&self) -> bool {
        match self {
            DisconnectReason::ServerClosed
            | DisconnectReason::Eof
            | DisconnectReason::SeeOtherHost { .. }
            | DisconnectReason::Timeout(_)
            | DisconnectReason::LinkDead
            | DisconnectReason::MalformedXml { .. }
            | DisconnectReason::LimitExceeded(_)
            | DisconnectReason::PeerMisbehaved(_) => true,
            DisconnectReason::StreamError { condition, .. } => !condition.repeats(),
            DisconnectReason::LocalClose
            | DisconnectReason::AuthFailed { .. }
            | DisconnectReason::Scram { .. }
            | DisconnectReason::NoAcceptableMechanism { .. }
            | DisconnectReason::TlsNotOffered
            | DisconnectReason::StartTlsRefused
            | DisconnectReason::TlsFailed { .. }
            | DisconnectReason::TlsInjection
            | DisconnectReason::BindFailed { .. }
            | DisconnectReason::SessionFailed { .. } => false,
        }
    }

    /// Whether the server rejected the credentials (or could not prove it knows them).
    pub fn is_auth_failure(&self) -> bool {
        matches!(
            self,
            DisconnectReason::AuthFailed { .. } | DisconnectReason::Scram { .. }
        )
    }
}
