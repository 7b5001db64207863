//! herald-std against a real Prosody (Debian package) on loopback: STARTTLS + SCRAM login,
//! initial presence and each change seen by a subscribed contact, offline and back, a wrong
//! password, an unknown CA, a server restart under live sessions, and two resources.
//! A missing server binary fails these tests; they never skip.

mod real_common;

use herald_testkit::real::Prosody;
use real_common::*;

fn server() -> Prosody {
    Prosody::start(ACCOUNTS).unwrap_or_else(|e| panic!("starting prosody: {e}"))
}

#[test]
fn login_over_starttls_with_scram_and_initial_presence() {
    login_over_starttls_with_scram(&server());
}

#[test]
fn presence_changes_in_order_then_offline_and_back() {
    changes_in_order_then_offline_and_back(&server());
}

#[test]
fn wrong_password_fails_once_without_retry() {
    wrong_password_fails_once(&server());
}

#[test]
fn unknown_ca_fails_before_any_credential() {
    unknown_ca_fails_before_credentials(&server());
}

#[test]
fn reconnects_after_restart_and_contact_sees_presence_again() {
    reconnects_after_server_restart(&mut server());
}

#[test]
fn two_resources_of_one_account_are_both_seen() {
    two_resources_of_one_account(&server());
}
