//! # herald-core: a sans-IO XMPP client
//!
//! This crate contains no networking code and never reads the clock. It takes the bytes
//! your transport read and the commands your application gives, and hands back the bytes
//! to write, [`Action`]s for the transport (start TLS, close) and [`Event`]s for the
//! application. Time comes in as a `now` argument (an [`Instant`]); randomness (SCRAM nonces,
//! stanza ids) from an [`Entropy`] you inject. Adapters bind it to tokio or blocking
//! sockets; you can bind it to anything else, fuzz it, or drive it from a test with a
//! virtual clock.
//!
//! It logs in (RFC 6120: stream, STARTTLS, SASL SCRAM/PLAIN, resource binding), sends the
//! initial presence and keeps the account's presence and status in step with what the
//! application sets, with the semantics of the IPWorks XMPP `Presence` / `Status`
//! properties and `ChangePresence` method:
//!
//! - defaults: [`Presence::Chat`] and an empty status (no `<status/>` element);
//! - values set before [`Client::connect`] or during login go out in exactly one initial
//!   presence, right after the session is established;
//! - online, every change sends one stanza with both values; setting the current value
//!   sends nothing; [`Presence::Offline`] sends `type='unavailable'` and keeps the session;
//! - [`Client::close`] sends unavailable presence, then `</stream:stream>`, and waits
//!   (bounded) for the server's close.
//!
//! ## The `Client` contract
//!
//! [`Client`] methods fall into four groups, as in `quinn-proto`; `client.rs` holds every
//! one of them:
//!
//! - **(A) getters**: [`state`](Client::state), [`is_closed`](Client::is_closed),
//!   [`presence`](Client::presence), [`status`](Client::status),
//!   [`client_active`](Client::client_active),
//!   [`bound_jid`](Client::bound_jid), [`config`](Client::config),
//!   [`scram_cache`](Client::scram_cache), [`feature_cache`](Client::feature_cache),
//!   [`fast_token`](Client::fast_token),
//!   [`roster`](Client::roster), [`blocklist`](Client::blocklist),
//!   [`contact_presences`](Client::contact_presences),
//!   [`best_presence`](Client::best_presence).
//! - **(B) inputs**, each taking `now`: [`handle_input`](Client::handle_input) (any chunk
//!   of the byte stream; chunking never changes the outcome) or, on a WebSocket
//!   ([`Transport::WebSocket`], RFC 7395), [`handle_message`](Client::handle_message) (one
//!   whole message per call), [`handle_eof`](Client::handle_eof), [`handle_timeout`](Client::handle_timeout)
//!   (harmless when early), [`tls_established`](Client::tls_established) and
//!   [`tls_failed`](Client::tls_failed).
//! - **(C) commands**, each taking `now`; misuse returns a [`UsageError`] at once and
//!   changes nothing:
//!   - the session: [`connect`](Client::connect), [`close`](Client::close);
//!   - the account's presence: [`set_presence`](Client::set_presence),
//!     [`set_status`](Client::set_status), [`change_presence`](Client::change_presence),
//!     [`send_directed_presence`](Client::send_directed_presence);
//!   - the client state (XEP-0352, kept like the presence and sent once online when the
//!     server offers CSI): [`set_client_active`](Client::set_client_active);
//!   - stanzas: [`send`](Client::send);
//!   - the roster (online): [`add_contact`](Client::add_contact),
//!     [`update_contact`](Client::update_contact),
//!     [`remove_contact`](Client::remove_contact);
//!   - subscriptions (online): [`subscribe`](Client::subscribe),
//!     [`unsubscribe`](Client::unsubscribe), [`approve`](Client::approve),
//!     [`deny`](Client::deny), [`cancel`](Client::cancel), [`probe`](Client::probe). An
//!     incoming request waits [`Timeouts::subscription_window`] (30 s) for `approve` or
//!     `deny`; then the [`SubscriptionPolicy`] answers;
//!   - blocking (online, XEP-0191): [`request_blocklist`](Client::request_blocklist),
//!     [`block`](Client::block), [`unblock`](Client::unblock).
//! - **(D) outputs**, all `#[must_use]`: [`poll_transmit`](Client::poll_transmit) (bytes
//!   to write) or, on a WebSocket, [`poll_message`](Client::poll_message) (one message per
//!   call, until it returns 0), [`poll_action`](Client::poll_action),
//!   [`poll_event`](Client::poll_event), [`poll_timeout`](Client::poll_timeout).
//!
//! Failures are not `Err` from the inputs: the session ends once, with
//! [`Event::Disconnected`] carrying a [`DisconnectReason`] (a misbehaving server is one
//! [`PeerMisbehaved`] variant, a stream error one [`StreamErrorCondition`]), and stays
//! ended (every later command returns [`UsageError::SessionEnded`]).
//! [`DisconnectReason::should_reconnect`] says whether trying again makes sense (never
//! after an authentication failure).
//!
//! ## Run loop
//!
//! After **every** (B) or (C) call, drain in this order:
//!
//! 1. transmit: write every byte [`poll_transmit`](Client::poll_transmit) gives;
//! 2. actions: [`Action::StartTls`] means "do the TLS handshake now" (the `<starttls/>`
//!    that asked for it is already in the bytes of step 1, and the core emits nothing until
//!    you call [`tls_established`](Client::tls_established)); [`Action::CloseTransport`]
//!    means close the socket;
//! 3. events: hand them to the application;
//! 4. timeout: wait for input until [`poll_timeout`](Client::poll_timeout), then call
//!    [`handle_timeout`](Client::handle_timeout).
//!
//! Plaintext bytes that arrive after `<proceed/>` end the session (STARTTLS injection
//! defence): once you see `StartTls`, feed nothing more until the handshake is done.
//!
//! A blocking loop over a `std::net::TcpStream`, with TLS left out (the
//! `herald-std` adapter does it properly):
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//! use std::time::Instant;
//! use herald_core::{Action, Client, Config, Event, Presence, SeededEntropy, TlsPolicy, Transport};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = Config::new("alice@localhost/desk", "secret")?;
//! config.tls = TlsPolicy::InsecurePlaintext; // loopback experiments only
//! config.presence = Presence::Away;
//! config.status = "lunch".into();
//! // Use real randomness (feature `os-entropy`) outside tests.
//! let mut client = Client::new(config, SeededEntropy::new(1))?;
//! let mut socket = TcpStream::connect("127.0.0.1:5222")?;
//! client.connect(Instant::now(), Transport::Plain)?;
//!
//! let mut out = Vec::new();
//! let mut buf = [0u8; 4096];
//! loop {
//!     // 1. transmit
//!     if client.poll_transmit(&mut out) > 0 {
//!         socket.write_all(&out)?;
//!         out.clear();
//!     }
//!     // 2. actions
//!     while let Some(action) = client.poll_action() {
//!         match action {
//!             Action::CloseTransport => return Ok(()),
//!             Action::StartTls { .. } => unimplemented!("hand the socket to rustls here"),
//!             _ => {}
//!         }
//!     }
//!     // 3. events
//!     while let Some(event) = client.poll_event() {
//!         if let Event::Online { jid } = &event {
//!             println!("online as {jid}");
//!             client.set_presence(Instant::now(), Presence::DoNotDisturb)?;
//!         }
//!         println!("{event:?}");
//!     }
//!     // 4. timeout, then input
//!     let timeout = client.poll_timeout().map(|t| t.saturating_duration_since(Instant::now()));
//!     socket.set_read_timeout(timeout.filter(|d| !d.is_zero()))?;
//!     match socket.read(&mut buf) {
//!         Ok(0) => client.handle_eof(Instant::now()),
//!         Ok(n) => client.handle_input(Instant::now(), &buf[..n]),
//!         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
//!             || e.kind() == std::io::ErrorKind::TimedOut => client.handle_timeout(Instant::now()),
//!         Err(e) => return Err(e.into()),
//!     }
//! }
//! # }
//! ```
//!
//! ## Bad input
//!
//! Server bytes never panic the core and never grow memory without bound: the parser
//! rejects DTDs, entities, processing instructions and comments, and [`Limits`] cap stanza
//! size, depth, attributes and whitespace; each violation is answered with the RFC 6120
//! stream error before the session closes.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::unwrap_used)]

mod client;
mod config;
mod entropy;
mod error;
mod event;
#[cfg(feature = "fuzz")]
pub mod fuzz;
mod jid_util;
mod outbox;
mod sasl;
mod session;
mod stanza;
mod timer;
mod xml;

pub use client::{Client, Transport};
pub use config::{
    Config, IqPolicy, IterationBounds, SoftwareVersion, SubscriptionPolicy, Timeouts, TlsPolicy,
    UserAgent,
};
#[cfg(feature = "os-entropy")]
pub use entropy::OsEntropy;
pub use entropy::{Entropy, SeededEntropy};
pub use error::{
    ConfigError, DisconnectReason, PeerMisbehaved, Step, StreamErrorCondition, UsageError,
    check_text,
};
pub use event::{Action, Event, RosterChange, SessionState};
pub use sasl::{
    ChannelBinding, ChannelBindingType, FastToken, Mechanism, ScramCache, ScramError, Secret,
};
pub use stanza::caps::{Caps, CapsError, DataForm, DiscoInfo, Identity};
pub use stanza::caps_cache::{CapsCache, CapsPolicy};
pub use stanza::features::{FeatureCache, Sasl2Offer};
pub use stanza::message::{CarbonDirection, Delay, IncomingMessage, MessageType};
pub use stanza::presence::{IncomingPresence, InvalidPresence, Presence};
pub use stanza::roster::{Roster, RosterItem, Subscription};
pub use stanza::sm::Resumption;
pub use xml::tree::{ElementRef, NodeRef, Stanza};
pub use xml::{Limit, Limits};

/// The instant every `now` argument takes and [`Client::poll_timeout`] returns:
/// `std::time::Instant` on every target but `wasm32-unknown-unknown`, where std cannot read
/// a clock (`Instant::now` panics there) and `web_time::Instant` (the browser's
/// `performance.now()`, the same API) stands in, as in quinn-proto. Name it as
/// `herald_core::Instant` and one program builds for both.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub use std::time::Instant;
/// The instant every `now` argument takes and [`Client::poll_timeout`] returns:
/// `web_time::Instant` here on `wasm32-unknown-unknown` (std cannot read a clock in a
/// browser), `std::time::Instant` on every other target.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
pub use web_time::Instant;

/// Re-exported so applications use the same `minidom` and `jid` as the core.
pub use {jid, minidom};
