//! What Herald's tests drive the core with: a scripted XMPP server that is itself sans-IO,
//! a [`Pair`] that joins it to a [`herald_core::Client`] in memory with a virtual clock,
//! server profiles modelled on Prosody and ejabberd, a [`Driver`] for a client driven by
//! hand, and the one [`Contract`] checker every driver calls the client through.

pub mod contract;
pub mod driver;
#[cfg(feature = "fuzz")]
pub mod fuzz;
#[cfg(feature = "loopback")]
pub mod loopback;
pub mod pair;
#[cfg(feature = "loopback")]
pub mod pki;
pub mod profile;
pub mod replies;
pub mod scram_server;
pub mod server;
pub mod xml_in;

pub use contract::{Contract, Drained};
pub use driver::Driver;
pub use pair::{Chunking, Pair, Tamper, config_for};
pub use profile::{ScramTamper, ServerProfile, SessionFeature};
pub use server::{ScriptedServer, ServerPhase};
