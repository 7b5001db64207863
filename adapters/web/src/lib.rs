//! # herald-web: Herald in the browser
//!
//! The sans-IO core compiled to `wasm32-unknown-unknown` and driven by the browser's
//! `WebSocket` (RFC 7395, sub-protocol `xmpp`): one core message per WebSocket text message
//! both ways, timers from `setTimeout` at the core's [`poll_timeout`], time from
//! `performance.now()` ([`herald_core::Instant`] is web-time's there) and randomness from
//! `crypto.getRandomValues` (getrandom's `wasm_js` backend). `scripts/wasm-build` builds it
//! and writes the JavaScript module to `adapters/web/pkg/`:
//!
//! ```js
//! import init, { connect } from "./pkg/herald_web.js";
//! await init();
//! const session = connect(
//!   { url: "ws://127.0.0.1:5280/xmpp-websocket", jid: "alice@localhost",
//!     password: "secret", presence: "away", status: "in the browser" },
//!   (event) => console.log(event), // { event: "online", jid: "alice@localhost/…" }, …
//! );
//! session.setPresence("dnd");
//! session.setStatus("busy");
//! session.close();
//! ```
//!
//! The events are the objects the CLI prints, one per line ([`events`]). A `ws:` URL (no
//! TLS) is accepted only to a loopback host; anywhere else use `wss:`.
//!
//! Off `wasm32` the crate is only the event mapping, so the native workspace builds, tests
//! and documents it.
//!
//! [`poll_timeout`]: herald_core::Client::poll_timeout

pub mod events;
#[cfg(target_arch = "wasm32")]
mod session;
mod url;

#[cfg(target_arch = "wasm32")]
pub use session::{WebSession, connect};
pub use url::{UrlError, WsTarget};
