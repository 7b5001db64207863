//! # herald-tokio: Herald on tokio
//!
//! Binds the sans-IO [`herald_core::Client`] to tokio: TCP, DNS SRV (`_xmpps-client` and
//! `_xmpp-client`, RFC 6120 section 3.2 and XEP-0368), STARTTLS or direct TLS with rustls,
//! or XMPP over WebSocket (RFC 7395, [`ConnectOptions::websocket`](herald_io::ConnectOptions::websocket)),
//! one reused timer following `poll_timeout`, and reconnects. All protocol logic stays in
//! the core; what happens between connections (backoff, redirects, which failures end the
//! session, what carries over) is `herald_io::supervisor`'s rules table, the same as
//! `herald-std`'s.
//!
//! [`connect`] checks the configuration and options, builds the TLS configuration, spawns
//! one task that owns the core and the socket (no shared lock around the state machine) and
//! returns a cloneable [`Handle`] for commands and an [`Events`] receiver. One dependency is
//! enough: the core's types are re-exported here ([`Config`], [`Presence`], [`CoreEvent`]...,
//! and the whole core as [`herald_core`]).
//!
//! ```no_run
//! use herald_tokio::{Config, ConnectOptions, CoreEvent, Event, Presence};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = Config::new("alice@example.org/desk", "secret")?;
//! config.presence = Presence::Away;
//! config.status = "lunch".into();
//! let options = ConnectOptions::new().server("127.0.0.1", 5222).ca_file("ca.pem");
//! let (handle, mut events) = herald_tokio::connect(config, options)?;
//! let jid = events.wait_online().await?;
//! println!("online as {jid}");
//! handle.change_presence(Presence::DoNotDisturb, "meeting").await?;
//! while let Some(event) = events.recv().await {
//!     match event {
//!         Event::Core(CoreEvent::Presence(p)) => println!("{} is {}", p.from, p.availability),
//!         Event::Ended { reason } => println!("ended: {reason}"),
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! ## How long a session lives
//!
//! Until [`Handle::close`], until the session ends on its own ([`Event::Ended`]: a wrong
//! password, a certificate failure, reconnect off...), or until the [`Events`] receiver is
//! dropped: nobody would see what happens next, so the session closes as `close()` would
//! (`let (handle, _) = connect(..)` connects nothing). Dropping every [`Handle`] does not
//! end it: the events keep coming, only commands are no longer possible.
//!
//! ## Many sessions, one task
//!
//! [`Events`] is a [`Stream`](futures_core::Stream): merge many with
//! `futures::stream::select_all` (or `tokio_stream::StreamMap`) and drive them all from one
//! task; `examples/many_sessions.rs` does. Give every session a clone of one
//! [`TlsConfigs`] ([`ConnectOptions::tls_config`](herald_io::ConnectOptions::tls_config))
//! so they share one rustls configuration.

//! ## Back-pressure
//!
//! [`Events`] is a bounded channel of
//! [`ConnectOptions::event_capacity`](herald_io::ConnectOptions::event_capacity) events
//! (256 by default). When the application does not drain it and it fills, the task stops
//! reading the socket, so a server that floods presence is slowed down by TCP instead of
//! filling memory. Commands and the core's timers still run while it waits, so awaiting a
//! [`Handle`] call never deadlocks on a full channel; their events wait in the core.
//!
//! ## Work off the runtime
//!
//! The SCRAM key derivation
//! (PBKDF2, up to `Config::scram_iterations.max` rounds) happens inside the core when it
//! reads the server's challenge: while the core is `Authenticating`, the task hands the
//! server's bytes to the core inside `spawn_blocking` (the client moves there and back),
//! so no runtime worker stalls. `block_in_place` would avoid the move but panics on a
//! current-thread runtime.
//!
//! ## Logging
//!
//! Through `tracing`, as `herald-std`: target `herald::session` for connects, TLS and
//! reconnect decisions, `herald::xml` (TRACE) for the XML both ways with SASL payloads
//! redacted when [`ConnectOptions::trace`](herald_io::ConnectOptions::trace) is set, and
//! `herald::driver` (TRACE) once per wait of the run loop.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod connect;
mod driver;
mod error;
mod events;
mod handle;
mod session;
#[cfg(feature = "websocket")]
mod websocket;

pub use error::Error;
pub use events::{Event, Events};
pub use handle::Handle;
pub use herald_core;
pub use herald_core::jid::{BareJid, FullJid, Jid};
pub use herald_core::{
    Config, ConfigError, DisconnectReason, Event as CoreEvent, IncomingMessage, MessageType,
    Presence, Roster, SessionState, UsageError,
};
pub use herald_io::supervisor::EndReason;
pub use herald_io::tls::TlsSetupError;
pub use herald_io::{Command, ConnectOptions, OptionsError, Roots, TlsConfigs, TlsMode};

/// The README's tokio snippet, compiled as a doc test so that it stays pasteable.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeSnippets;

/// How many commands may wait for the task before a handle's call waits to queue.
const COMMAND_QUEUE: usize = 64;

/// Starts a session for `config`: checks `config` and `options`, builds the TLS
/// configuration (or takes [`ConnectOptions::tls_config`](herald_io::ConnectOptions::tls_config)),
/// then resolves, connects and logs in in a spawned task.
///
/// Fails at once, with nothing started, when the core would refuse `config`
/// ([`Error::Config`]), `options` cannot work ([`Error::Options`]), the CA file or platform
/// store cannot be loaded ([`Error::TlsSetup`]: it is read here, on the calling thread; a
/// process with many sessions builds one [`TlsConfigs`] and shares it), or there is no tokio
/// runtime ([`Error::NoRuntime`]). Everything after that (DNS, TCP, TLS, the login) comes
/// out of [`Events`], ending with [`Event::Ended`].
pub fn connect(
    config: herald_core::Config,
    options: ConnectOptions,
) -> Result<(Handle, Events), Error> {
    config.check()?;
    options.check()?;
    if options.websocket.is_some() && !cfg!(feature = "websocket") {
        return Err(Error::Options(OptionsError::WebSocketUrl(
            "given, but herald-tokio was built without its `websocket` feature".into(),
        )));
    }
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
    let tls = options.tls_configs()?;
    let (requests_tx, requests_rx) = tokio::sync::mpsc::channel(COMMAND_QUEUE);
    let (events_tx, events_rx) = tokio::sync::mpsc::channel(options.event_capacity);
    let driver = driver::Driver::new(config, options, tls, requests_rx, events_tx);
    runtime.spawn(driver.run());
    Ok((Handle::new(requests_tx), Events::new(events_rx)))
}
