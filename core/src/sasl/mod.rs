//! SASL mechanisms: SCRAM (with and without channel binding) and PLAIN.

mod cache;
mod credentials;
mod ht;
mod mechanism;
mod plain;
mod scram;

pub use cache::ScramCache;
pub(crate) use credentials::Credentials;
pub use credentials::Secret;
pub use ht::FastToken;
pub(crate) use ht::{HT_SHA_256_NONE, ht_initial_response, ht_verify};
pub(crate) use mechanism::select_mechanism;
pub(crate) use mechanism::{CbindFlag, ScramHash};
pub use mechanism::{ChannelBinding, ChannelBindingType, Mechanism};
pub(crate) use plain::plain_initial_response;
pub(crate) use scram::ScramClient;
pub use scram::ScramError;
