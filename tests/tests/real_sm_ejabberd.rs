//! Stream management (XEP-0198) against the Debian ejabberd 23.01 (`mod_stream_mgmt`): a
//! network cut the test makes with a blackholing proxy costs no stanza and no offline blip,
//! with herald-std and herald-tokio; a cut longer than the resumption window ends in a fresh
//! session with the loss reported. A missing ejabberd fails the tests; nothing skips.

mod real_common;
mod real_sm_common;

use std::time::Duration;

use herald_testkit::real::Ejabberd;
use real_sm_common::{ACCOUNTS, Adapter, cut_and_resume, cut_past_the_window};

/// What `mod_stream_mgmt` logs (at info level) when a session is resumed.
const RESUMED: &str = "Resumed session for alice@localhost/desk";

fn ejabberd(window: Duration) -> Ejabberd {
    Ejabberd::start_with_stream_mgmt(ACCOUNTS, window)
        .unwrap_or_else(|e| panic!("ejabberd is required: {e}"))
}

#[test]
fn a_cut_resumes_with_herald_std() {
    cut_and_resume(&ejabberd(Duration::from_secs(60)), Adapter::Std, RESUMED);
}

#[test]
fn a_cut_resumes_with_herald_tokio() {
    cut_and_resume(&ejabberd(Duration::from_secs(60)), Adapter::Tokio, RESUMED);
}

#[test]
fn a_cut_past_the_window_logs_in_afresh_and_reports_the_loss() {
    let window = Duration::from_secs(3);
    cut_past_the_window(&ejabberd(window), Adapter::Std, window);
}
