//! Pieces the Herald I/O adapters (`herald-tokio`, `herald-std`) share, so that both
//! behave the same: rustls client setup and channel-binding data ([`tls`]), the order in
//! which to try servers ([`target`]), reconnect delays ([`backoff`]) and the redaction of
//! SASL payloads in protocol traces ([`trace`]). No sockets here either: the adapters own
//! them.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod backoff;
pub mod target;
pub mod tls;
pub mod trace;
