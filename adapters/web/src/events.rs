//! The JSON of each event: the same objects the CLI prints one per line (herald-json), so one
//! consumer reads both.

pub use herald_json::{error, event};
