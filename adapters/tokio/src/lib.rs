//! # herald-tokio: Herald on tokio
//!
//! Binds the sans-IO [`herald_core::Client`] to tokio: TCP, DNS SRV (`_xmpps-client` and
//! `_xmpp-client`, RFC 6120 section 3.2 and XEP-0368), STARTTLS or direct TLS with rustls,
//! one reused timer following `poll_timeout`, and reconnects with capped, jittered
//! backoff. All protocol logic stays in the core.
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

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod connect;
mod driver;
mod handle;
mod options;

pub use handle::{EndReason, Event, Events, Handle};
pub use options::{ConnectOptions, Error, TlsMode};

/// Starts a session for `config`: resolves, connects and logs in in a spawned task.
///
/// Must be called inside a tokio runtime. Commands go through the returned [`Handle`];
/// everything that happens comes out of [`Events`], ending with [`Event::Ended`].
pub fn connect(config: herald_core::Config, options: ConnectOptions) -> (Handle, Events) {
    let (commands_tx, commands_rx) = tokio::sync::mpsc::channel(64);
    let (events_tx, events_rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = driver::Driver::new(config, options, commands_rx, events_tx);
    tokio::spawn(driver.run());
    (Handle::new(commands_tx), Events::new(events_rx))
}
