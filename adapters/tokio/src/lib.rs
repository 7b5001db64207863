//! # herald-tokio: Herald on tokio
//!
//! Binds the sans-IO [`herald_core::Client`] to tokio: TCP, DNS SRV (`_xmpps-client` and
//! `_xmpp-client`, RFC 6120 section 3.2 and XEP-0368), STARTTLS or direct TLS with rustls,
//! one reused timer following `poll_timeout`, and reconnects. All protocol logic stays in
//! the core; what happens between connections (backoff, redirects, which failures end the
//! session, what carries over) is `herald_io::supervisor`'s rules table, the same as
//! `herald-std`'s.
//!
//! [`connect`] spawns one task that owns the core and the socket (no shared lock around
//! the state machine) and returns a cloneable [`Handle`] for commands and an [`Events`]
//! receiver.
//!
//! ```no_run
//! use herald_core::{Config, Event as CoreEvent, Presence};
//! use herald_tokio::{ConnectOptions, Event};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = Config::new("alice@example.org/desk", "secret")?;
//! config.presence = Presence::Away;
//! config.status = "lunch".into();
//! let (handle, mut events) = herald_tokio::connect(config, ConnectOptions::default());
//! while let Some(event) = events.recv().await {
//!     match event {
//!         Event::Core(CoreEvent::Online { jid }) => {
//!             println!("online as {jid}");
//!             handle.change_presence(Presence::DoNotDisturb, "meeting").await?;
//!             handle.close().await?;
//!         }
//!         Event::Ended { .. } => break,
//!         other => println!("{other:?}"),
//!     }
//! }
//! # Ok(()) }
//! ```
//!
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
//! The CA file is read once per session on tokio's blocking pool. The SCRAM key derivation
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

pub use error::Error;
pub use events::{Event, Events};
pub use handle::Handle;
pub use herald_io::supervisor::EndReason;
pub use herald_io::{Command, ConnectOptions, Roots, TlsConfigs, TlsMode};

/// How many commands may wait for the task before a handle's call waits to queue.
const COMMAND_QUEUE: usize = 64;

/// Starts a session for `config`: resolves, connects and logs in in a spawned task.
///
/// Must be called inside a tokio runtime. Commands go through the returned [`Handle`];
/// everything that happens comes out of [`Events`], ending with [`Event::Ended`].
pub fn connect(config: herald_core::Config, options: ConnectOptions) -> (Handle, Events) {
    let (requests_tx, requests_rx) = tokio::sync::mpsc::channel(COMMAND_QUEUE);
    let (events_tx, events_rx) = tokio::sync::mpsc::channel(options.event_capacity.max(1));
    let driver = driver::Driver::new(config, options, requests_rx, events_tx);
    tokio::spawn(driver.run());
    (Handle::new(requests_tx), Events::new(events_rx))
}
