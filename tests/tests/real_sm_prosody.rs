//! Stream management (XEP-0198) against the Debian Prosody 0.12 (`mod_smacks`): a network
//! cut the test makes with a blackholing proxy costs no stanza and no offline blip, with
//! herald-std and herald-tokio; a cut longer than the resumption window ends in a fresh
//! session with the loss reported. A missing Prosody fails the tests; nothing skips.

mod real_common;
mod real_sm_common;

use std::time::Duration;

use herald_testkit::real::Prosody;
use real_sm_common::{ACCOUNTS, Adapter, cut_and_resume, cut_past_the_window};

/// What `mod_smacks` logs (at debug level) when a session is resumed.
const RESUMED: &str = "mod_smacks resuming existing session";

fn prosody(window: Duration) -> Prosody {
    Prosody::start_with_smacks(ACCOUNTS, window, false)
        .unwrap_or_else(|e| panic!("Prosody is required: {e}"))
}

#[test]
fn a_cut_resumes_with_herald_std() {
    cut_and_resume(&prosody(Duration::from_secs(60)), Adapter::Std, RESUMED);
}

#[test]
fn a_cut_resumes_with_herald_tokio() {
    cut_and_resume(&prosody(Duration::from_secs(60)), Adapter::Tokio, RESUMED);
}

#[test]
fn a_cut_past_the_window_logs_in_afresh_and_reports_the_loss() {
    let window = Duration::from_secs(3);
    cut_past_the_window(&prosody(window), Adapter::Std, window);
}
