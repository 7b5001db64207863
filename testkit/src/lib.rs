//! What Herald's tests and fuzz bodies drive the core with.
//!
//! In memory, always: a scripted XMPP server that is itself sans-IO ([`ScriptedServer`],
//! playing a [`ServerProfile`] modelled on Prosody or ejabberd, or one with SASL2, Bind 2
//! and FAST, or XEP-0198 stream management with its sessions kept in an [`SmStore`] across
//! connections, with [`replies`] to inject and an independent SCRAM server), a [`Pair`]
//! that joins it to a
//! [`herald_core::Client`] with a virtual clock and a record of the [`round_trips`]
//! (what crossed, flight by flight), and that can be cut and reconnected on the same
//! profile ([`Pair::cut`], [`Pair::reconnect_with`]), a [`Driver`] for a client driven by
//! hand, and the one [`Contract`] checker every driver calls the client through.
//!
//! Behind features:
//! - `fuzz`: the client's fuzz bodies (`fuzz`), which the cargo-fuzz targets in `fuzz/` wrap;
//! - `loopback`: the same scripted server, or a test script, on a real loopback socket with
//!   real TLS (`loopback::LoopbackServer`), and the test PKI (`pki`);
//! - `real`: launchers for the Debian packages of Prosody and ejabberd (`real`), each with a
//!   STARTTLS and a direct TLS port, Prosody optionally with SASL2 and Bind2;
//! - `flights`: a loopback proxy that delays both directions and counts the round trips a
//!   login waited for (`flights`).

pub mod contract;
pub mod driver;
#[cfg(feature = "flights")]
pub mod flights;
#[cfg(feature = "fuzz")]
pub mod fuzz;
#[cfg(feature = "loopback")]
pub mod loopback;
pub mod pair;
#[cfg(feature = "loopback")]
pub mod pki;
pub mod profile;
#[cfg(feature = "real")]
pub mod real;
pub mod replies;
pub mod round_trips;
pub mod scram_server;
pub mod server;
pub mod sm_store;
pub mod websocket;
pub mod xml_in;

pub use contract::{Contract, Drained};
pub use driver::Driver;
pub use pair::{Chunking, Pair, Tamper, config_for, without_caps};
pub use profile::{Reply, ScramTamper, ServerProfile, SessionFeature};
pub use server::{ScriptedServer, ServerPhase};
pub use sm_store::{SmSession, SmStore};
