//! What can go wrong with a command.

/// Why a command could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
}
