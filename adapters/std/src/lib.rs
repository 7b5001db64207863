//! # herald-std: a blocking driver for herald-core
//!
//! [`Session`] owns a `std::net::TcpStream`, rustls (STARTTLS or direct TLS, web PKI roots
//! plus an optional CA file, channel binding for SCRAM `-PLUS`), the core's timers and the
//! reconnect policy. Your thread calls [`Session::pump`] in a loop and gets [`Event`]s back;
//! other threads give commands through a [`Handle`].
//!
//! ```no_run
//! use std::time::Duration;
//! use herald_std::{Config, ConnectOptions, CoreEvent, Event, Presence, Session};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = Config::new("alice@example.org/desk", "secret")?;
//! config.presence = Presence::Away;
//! config.status = "lunch".into();
//! let mut session = Session::connect(config, ConnectOptions::new().server("127.0.0.1", 5222))?;
//! loop {
//!     for event in session.pump(Duration::from_secs(1))? {
//!         match event {
//!             Event::Core(CoreEvent::Online { jid }) => {
//!                 println!("online as {jid}");
//!                 session.change_presence(Presence::DoNotDisturb, "in a meeting")?;
//!             }
//!             Event::Core(CoreEvent::Presence(p)) => println!("{} is {}", p.from, p.availability),
//!             Event::Core(CoreEvent::Disconnected { reason }) => println!("disconnected: {reason}"),
//!             Event::Reconnecting { attempt, delay } => println!("retry {attempt} in {delay:?}"),
//!             _ => {}
//!         }
//!     }
//! }
//! # }
//! ```
//!
//! ## What `pump` does
//!
//! It follows the core's run loop: after every input and command it writes what
//! `poll_transmit` gives, performs the actions (the STARTTLS handshake on the same socket,
//! closing), hands out the events, and then waits for input with a socket read timeout no
//! later than `poll_timeout`. Commands queued through a [`Handle`] are applied at least
//! every 100 ms. The socket is read only inside `pump`, one 16 KiB buffer at a time, and
//! `pump` returns the events of that buffer: an application that stops pumping stops the
//! reading, and TCP holds the server back (the bounded event channel of `herald-tokio`).
//!
//! ## Where it connects
//!
//! [`ConnectOptions::server`] if given; else, with the feature `srv`, the targets of the
//! domain's DNS SRV records (`_xmpps-client._tcp` for direct TLS, `_xmpp-client._tcp` for
//! STARTTLS, as [`TlsMode`] allows) in RFC 2782 order; then the JID's domain on port 5222
//! (STARTTLS) or 5223 ([`TlsMode::Direct`]). The certificate is always checked against the
//! JID's domain.
//!
//! ## Reconnects
//!
//! The rules are `herald_io::supervisor`'s table, the same as `herald-tokio`'s: a first
//! attempt that reaches no server fails [`Session::connect`]; later, a connection that
//! ends for a reason where
//! [`DisconnectReason::should_reconnect`](herald_core::DisconnectReason::should_reconnect)
//! holds is followed by [`Event::Reconnecting`], a wait (doubling from
//! [`ConnectOptions::reconnect_initial`] up to [`ConnectOptions::reconnect_max`], half of it
//! random jitter) and a new core client whose initial presence is the session's current
//! presence and status, with the SCRAM keys and roster of the last connection.
//! `see-other-host` is followed once, at once, with the same TLS mode. Never after an
//! authentication failure, a TLS or certificate failure, or [`Session::close`].
//!
//! ## Logging
//!
//! Through `tracing`, as `herald-tokio`: target `herald::session` for connects, TLS and
//! reconnect decisions, `herald::xml` (TRACE) for the XML both ways with SASL payloads
//! redacted when [`ConnectOptions::trace`] is set. Nothing is printed by the library
//! itself: install a subscriber (the `herald` command writes these to standard error).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod connect;
mod driver;
mod error;
mod handle;
mod roster;
mod session;
#[cfg(feature = "srv")]
mod srv;
mod tls;
mod transport;

use std::time::Duration;

pub use error::Error;
pub use handle::Handle;
pub use herald_core;
pub use herald_core::jid::{BareJid, FullJid, Jid};
pub use herald_core::{
    Config, ConfigError, DisconnectReason, Event as CoreEvent, IncomingMessage, MessageType,
    Presence, Roster, SessionState, UsageError,
};
pub use herald_io::{Command, ConnectOptions, OptionsError, Roots, TlsConfigs, TlsMode};
pub use session::Session;

/// What [`Session::pump`] hands out.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// An event of the core session (state changes, online, presence, disconnected, ...).
    ///
    /// `Disconnected` may be followed by [`Event::Reconnecting`]; without that, it is final.
    Core(herald_core::Event),
    /// The connection was lost; the next attempt starts after `delay`.
    Reconnecting {
        /// 1 for the first attempt since the session was last online.
        attempt: u32,
        /// The wait before connecting.
        delay: Duration,
    },
    /// A command queued through a [`Handle`] was refused; nothing changed.
    CommandFailed {
        /// Why.
        error: herald_core::UsageError,
    },
}
