//! The Core Client profile (capabilities, disco, messages with receipts, carbons, blocking)
//! against real Prosody and ejabberd on loopback, with herald-std on both sides. A missing
//! server fails these tests; they never skip.

mod real_common;
mod real_core_client_common;

use herald_testkit::real::{Ejabberd, Prosody};
use real_common::ACCOUNTS;
use real_core_client_common::*;

fn prosody() -> Prosody {
    Prosody::start(ACCOUNTS).unwrap_or_else(|e| panic!("starting prosody: {e}"))
}

fn ejabberd() -> Ejabberd {
    Ejabberd::start(ACCOUNTS).unwrap_or_else(|e| panic!("starting ejabberd: {e}"))
}

#[test]
fn prosody_caps_then_messages_with_receipts() {
    caps_then_messages_with_receipts(&prosody());
}

#[test]
fn ejabberd_caps_then_messages_with_receipts() {
    caps_then_messages_with_receipts(&ejabberd());
}

#[test]
fn prosody_carbons_reach_the_second_resource() {
    carbons_reach_the_second_resource(&prosody());
}

#[test]
fn ejabberd_carbons_reach_the_second_resource() {
    carbons_reach_the_second_resource(&ejabberd());
}

#[test]
fn prosody_a_blocked_contact_stops_seeing_presence() {
    a_blocked_contact_stops_seeing_presence(&prosody());
}

#[test]
fn ejabberd_a_blocked_contact_stops_seeing_presence() {
    a_blocked_contact_stops_seeing_presence(&ejabberd());
}
