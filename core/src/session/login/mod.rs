//! The login steps, rustls style: each state is a value whose handler consumes it and
//! returns the next state, or a [`Failure`](super::context::Failure) that ends the session.
//!
//! - `stream`: the server's stream header and features (RFC 6120 sections 4.2, 4.3), and
//!   the choice of the next step;
//! - `tls`: STARTTLS (RFC 6120 section 5);
//! - `auth`: SASL (RFC 6120 section 6), with SCRAM's server verification and key cache;
//! - `sasl2`: SASL2 (XEP-0388) with Bind2 (XEP-0386) and FAST (XEP-0484) inline;
//! - `resume`: resuming a stream management session (XEP-0198) instead of binding;
//! - `bind`: resource binding, the legacy RFC 3921 session, the roster fetch (RFC 6121
//!   section 2.2), then online.

mod auth;
mod bind;
mod resume;
mod sasl2;
mod stream;
mod tls;

pub(crate) use auth::Authenticating;
pub(crate) use bind::{EarlyBind, ExpectBind, ExpectRoster, ExpectSession};
pub(crate) use resume::ExpectResumed;
pub(crate) use stream::{expect_features, expect_header, read_stream_error};
pub(crate) use tls::{expect_proceed, open_first_stream, tls_established};
