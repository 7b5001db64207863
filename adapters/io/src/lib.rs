//! Pieces the Herald I/O adapters (`herald-tokio`, `herald-std`) share, so that both
//! behave the same: the options ([`options`]), the command type ([`command`]), the sans-IO
//! reconnect supervisor and its rules table ([`supervisor`]), rustls client setup and
//! channel-binding data ([`tls`]), the order in which to try servers ([`target`]),
//! reconnect delays ([`backoff`]) and the protocol trace with SASL payloads redacted
//! ([`trace`]). No sockets and no clock here: the adapters own them and keep only their
//! waiting code.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod backoff;
pub mod command;
pub mod options;
mod options_builder;
pub mod supervisor;
pub mod target;
pub mod tls;
mod tls_config;
pub mod trace;
mod websocket_url;

pub use command::Command;
pub use options::{ConnectOptions, TlsMode};
pub use options_builder::OptionsError;
pub use supervisor::{EndReason, Next, Retry, Supervisor};
pub use tls::{Roots, TlsConfigs};
pub use websocket_url::WsUrl;
