//! The adapter's error type.

use herald_core::{DisconnectReason, UsageError};

/// What [`Session`](crate::Session) methods return on failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The TCP connection could not be made (or failed outside a session).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// TLS failed, for example the server's certificate did not verify.
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The configuration or the options cannot be used (bad CA file, bad server name, ...).
    #[error("configuration error: {0}")]
    Config(String),
    /// The core refused the command (see [`UsageError`]); nothing changed.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The session is over for good (and will not reconnect), for this reason.
    #[error("the session has ended: {0}")]
    Ended(DisconnectReason),
    /// The [`Session`](crate::Session) behind a [`Handle`](crate::Handle) was dropped.
    #[error("the session is gone")]
    Gone,
}
