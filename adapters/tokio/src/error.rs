//! What can go wrong: starting a session, a command, or waiting for it to get online.

use herald_io::OptionsError;
use herald_io::tls::TlsSetupError;

use crate::EndReason;

/// Why a session could not start, a command could not be carried out, or
/// [`Events::wait_online`](crate::Events::wait_online) gave up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The core refused the command (see [`herald_core::UsageError`]); nothing changed.
    /// Between two connections, sending and roster commands are refused with
    /// [`UsageError::NotOnline`](herald_core::UsageError::NotOnline).
    #[error(transparent)]
    Usage(#[from] herald_core::UsageError),
    /// The session task has ended; no more commands are taken.
    #[error("the session has ended")]
    Ended,
    /// The session ended before it got online, for this reason (from
    /// [`Events::wait_online`](crate::Events::wait_online)).
    #[error("the session ended: {0}")]
    EndedWith(EndReason),
    /// [`connect`](crate::connect): the core would refuse this configuration.
    #[error("configuration: {0}")]
    Config(#[from] herald_core::ConfigError),
    /// [`connect`](crate::connect): these options cannot work.
    #[error("connect options: {0}")]
    Options(#[from] OptionsError),
    /// [`connect`](crate::connect): the TLS configuration cannot be built (a CA file that
    /// cannot be read or holds no certificate, no platform roots).
    #[error(transparent)]
    TlsSetup(#[from] TlsSetupError),
    /// [`connect`](crate::connect) was called outside a tokio runtime.
    #[error("herald_tokio::connect needs a tokio runtime (call it inside one)")]
    NoRuntime,
}
