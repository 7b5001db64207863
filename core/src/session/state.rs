//! The private state enum: each variant owns its phase's data, and a transition moves it
//! into the next (see the table in `session/mod.rs`).

use jid::FullJid;

use crate::error::{DisconnectReason, Step};
use crate::event::SessionState;
use crate::stanza::roster::Roster;
use crate::stanza::sm::Resumption;

use super::context::Link;
use super::login::{
    Authenticating, EarlyBind, ExpectBind, ExpectResumed, ExpectRoster, ExpectSession,
};
use super::online::{Online, SessionData};

/// Which stream of the login we are on: each restart begins a new one.
#[derive(Debug)]
pub(crate) enum Phase {
    /// The first stream, on a plain or direct-TLS transport.
    Initial(Link),
    /// After STARTTLS.
    AfterTls(Link),
    /// After SASL success.
    AfterAuth,
}

/// What went out with our stream header, before the server's features (pipelining: each
/// saves the round trip of waiting for them).
#[derive(Debug)]
pub(crate) enum Early {
    Nothing,
    /// `<starttls/>` (TLS is required and the transport is plain).
    StartTls,
    /// The SASL initial response, chosen from the cached features.
    Auth(Box<Authenticating>),
    /// The bind request, the roster request and the initial presence.
    Bind(Box<EarlyBind>),
    /// `<resume/>` (XEP-0198), for the session this client was given to resume.
    Resume,
}

/// One stream of the login: its phase, and what we sent early on it.
#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) phase: Phase,
    pub(crate) early: Early,
}

impl Stream {
    pub(crate) fn new(phase: Phase, early: Early) -> Stream {
        Stream { phase, early }
    }

    fn is_after_auth(&self) -> bool {
        matches!(self.phase, Phase::AfterAuth)
    }

    /// Our `<resume/>` went out with the header: the stream is resuming, not binding.
    fn is_resuming(&self) -> bool {
        matches!(self.early, Early::Resume)
    }
}

/// `close` was called: our `</stream:stream>` is out, the server's is awaited. What the
/// session had is kept, so that what arrives meanwhile is still reported.
#[derive(Debug)]
pub(crate) struct Closing {
    pub(crate) jid: Option<FullJid>,
    pub(crate) data: Box<SessionData>,
}

/// The end, for good.
#[derive(Debug)]
pub(crate) struct Closed {
    pub(crate) reason: DisconnectReason,
    /// The roster as the session last knew it, for the next session's cache.
    pub(crate) roster: Roster,
    /// What the next connection resumes (XEP-0198), when the connection was lost under a
    /// resumable session.
    pub(crate) resumption: Option<Box<Resumption>>,
}

/// Where the session is.
#[derive(Debug)]
pub(crate) enum State {
    Disconnected,
    ExpectHeader(Stream),
    ExpectFeatures(Stream),
    ExpectProceed,
    TlsHandshake,
    Authenticating(Box<Authenticating>),
    ExpectBind(ExpectBind),
    ExpectResumed(ExpectResumed),
    ExpectSession(ExpectSession),
    ExpectRoster(ExpectRoster),
    Online(Online),
    Closing(Closing),
    Closed(Closed),
}

impl State {
    pub(crate) fn public(&self) -> SessionState {
        match self {
            State::Disconnected => SessionState::Disconnected,
            State::ExpectHeader(s) | State::ExpectFeatures(s) if s.is_resuming() => {
                SessionState::Resuming
            }
            State::ExpectHeader(s) | State::ExpectFeatures(s) if s.is_after_auth() => {
                SessionState::Binding
            }
            State::ExpectHeader(_) | State::ExpectFeatures(_) => SessionState::Connecting,
            State::ExpectProceed => SessionState::StartingTls,
            State::TlsHandshake => SessionState::TlsHandshake,
            State::Authenticating(auth) => SessionState::Authenticating {
                mechanism: auth.mechanism,
            },
            State::ExpectBind(_) => SessionState::Binding,
            State::ExpectResumed(_) => SessionState::Resuming,
            State::ExpectSession(_) => SessionState::Session,
            State::ExpectRoster(_) => SessionState::Roster,
            State::Online(_) => SessionState::Online,
            State::Closing(_) => SessionState::Closing,
            State::Closed(closed) => SessionState::Closed {
                reason: closed.reason.clone(),
            },
        }
    }

    /// The step the step timer guards in this state.
    pub(crate) fn step(&self) -> Option<Step> {
        match self {
            State::ExpectHeader(s) | State::ExpectFeatures(s) if s.is_resuming() => {
                Some(Step::Resumption)
            }
            State::ExpectHeader(s) | State::ExpectFeatures(s) if s.is_after_auth() => {
                Some(Step::Binding)
            }
            State::ExpectHeader(_) | State::ExpectFeatures(_) => Some(Step::StreamFeatures),
            State::ExpectProceed => Some(Step::StartTls),
            State::TlsHandshake => Some(Step::TlsHandshake),
            State::Authenticating(_) => Some(Step::Authentication),
            State::ExpectBind(_) => Some(Step::Binding),
            State::ExpectResumed(_) => Some(Step::Resumption),
            State::ExpectSession(_) => Some(Step::Session),
            State::ExpectRoster(_) => Some(Step::Roster),
            State::Closing(_) => Some(Step::Closing),
            State::Disconnected | State::Online(_) | State::Closed(_) => None,
        }
    }

    /// The bound JID and the session's data, once bound (and while closing).
    pub(crate) fn bound(&self) -> (Option<&FullJid>, Option<&SessionData>) {
        match self {
            State::ExpectBind(s) => (None, Some(&s.data)),
            State::ExpectSession(s) => (Some(&s.jid), Some(&s.data)),
            State::ExpectRoster(s) => (Some(&s.jid), Some(&s.data)),
            State::Online(s) => (Some(&s.jid), Some(&s.data)),
            State::Closing(s) => (s.jid.as_ref(), Some(&s.data)),
            _ => (None, None),
        }
    }

    /// The session's data, mutably, for stanzas that arrive once bound.
    pub(crate) fn data_mut(&mut self) -> Option<&mut SessionData> {
        match self {
            State::ExpectBind(s) => Some(&mut s.data),
            State::ExpectSession(s) => Some(&mut s.data),
            State::ExpectRoster(s) => Some(&mut s.data),
            State::Online(s) => Some(&mut s.data),
            State::Closing(s) => Some(&mut s.data),
            _ => None,
        }
    }
}
