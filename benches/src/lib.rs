//! # herald-bench: how fast Herald turns bytes into events, against the anchors
//!
//! `cargo bench -p herald-bench` runs two targets:
//!
//! - `inbound` (criterion): the inbound stream through an online Herald client, through
//!   tokio-xmpp 6's `xmlstream` and through rxml + minidom, side by side; one presence
//!   change; a full login with and without the SCRAM cache.
//! - `report` (a counting global allocator, no criterion): every figure of `BENCHMARKS.md`
//!   in one run, each Herald figure printed as a ratio to the anchors.
//!
//! ## The stream mix
//!
//! [`stream::generate`] writes the same stream on every run (fixed seed, own generator):
//!
//! - **60 % presence** from 500 contacts with 5 resource names: one in ten
//!   `type='unavailable'`; the others carry `<show>` (two in three: away, xa, dnd or chat),
//!   `<status>` (three in four, short human text with entities and non-ASCII),
//!   `<priority>` (one in two), always an XEP-0115 caps `<c/>` (hash, node, 28-char ver)
//!   and one in two an XEP-0203 `<delay/>`; about 330 bytes each;
//! - **30 % messages**: `type='chat'`, an id, a `<body>` of 3 to 25 words (one in eight
//!   40 to 120 words) with entities, accents and an emoji, a chat state and an XEP-0359
//!   origin id; about 330 bytes on average;
//! - **10 % IQ**: a third each of ping requests, disco#info requests and disco#info
//!   results (an identity and five features); Herald answers the requests, as a client
//!   must;
//! - one in eight stanzas is followed by a newline, as servers do.
//!
//! Herald gets the stanzas on an online client (logged in by replaying a recorded login
//! against the scripted Prosody-like server, [`login::LoginScript`]); the anchors get the
//! same stanzas after a stream header and features, and a footer at the end. Everything is
//! fed in 4 KiB chunks ([`CHUNK`]), and a run counts only when every event was polled.

pub mod anchors;
pub mod libstrophe;
pub mod login;
pub mod stream;

use std::time::Instant;

use herald_core::{Client, Event, Presence};

/// The read size: every consumer gets the stream in chunks of this many bytes.
pub const CHUNK: usize = 4096;

/// How many stanzas the stream has.
pub const STANZAS: usize = 200_000;

/// Feeds `stanzas` to an online `client` in [`CHUNK`]-byte chunks, draining transmit,
/// actions and events after each chunk. Returns how many events came out.
pub fn herald_inbound(client: &mut Client, stanzas: &[u8]) -> usize {
    let now = Instant::now();
    let mut out = Vec::new();
    let mut events = 0;
    for chunk in stanzas.chunks(CHUNK) {
        client.handle_input(now, chunk);
        let _ = client.poll_transmit(&mut out);
        out.clear();
        while client.poll_action().is_some() {}
        while let Some(event) = client.poll_event() {
            if let Event::Disconnected { reason } = &event {
                panic!("the client disconnected: {reason:?}");
            }
            std::hint::black_box(&event);
            events += 1;
        }
    }
    events
}

/// One presence change on an online `client`, measured as a user action: the command, the
/// bytes written out (into `out`, cleared) and the events drained.
pub fn herald_presence_change(
    client: &mut Client,
    presence: Presence,
    status: &str,
    out: &mut Vec<u8>,
) {
    client
        .change_presence(Instant::now(), presence, status)
        .expect("online");
    let _ = client.poll_transmit(out);
    out.clear();
    while client.poll_event().is_some() {}
}
