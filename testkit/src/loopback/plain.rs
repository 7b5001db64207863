//! The scripted server on a plain loopback socket (no STARTTLS, SCRAM-SHA-1: the client is
//! configured with `TlsPolicy::InsecurePlaintext`), with what the adapters' own tests need:
//! a flood of presence once the client is online, a cut after the first login, and a
//! server that only redirects (`see-other-host`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use herald_core::{Config, TlsPolicy};

use super::{Conn, LoopbackServer, Then};
use crate::pair::config_for;
use crate::profile::ServerProfile;
use crate::replies;

/// One contact presence stanza of a flood.
pub const FLOOD_STANZA: &str =
    "<presence from='bob@localhost/phone'><show>away</show><status>flood</status></presence>";

/// The Prosody-like profile without STARTTLS, SCRAM-SHA-1 only.
pub fn plain_profile() -> ServerProfile {
    let mut profile = ServerProfile::prosody_like();
    profile.starttls = false;
    profile.mechanisms = vec!["SCRAM-SHA-1"];
    profile
}

/// The account's configuration for `profile`, without TLS (loopback only).
pub fn plain_config(profile: &ServerProfile) -> Config {
    let mut config = config_for(profile);
    config.tls = TlsPolicy::InsecurePlaintext;
    config
}

/// What the server does once a client's initial presence arrives.
#[derive(Debug, Clone, Copy)]
pub enum AfterOnline {
    /// Goes on as the profile says.
    Nothing,
    /// Writes this many [`FLOOD_STANZA`]s as fast as the socket takes them.
    Flood(usize),
    /// Cuts the first connection (later ones go on).
    DropFirst,
}

/// A [`LoopbackServer`] whose connections the scripted server plays, and how many bytes
/// of flood the sockets took so far.
#[derive(Debug)]
pub struct PlainServer {
    /// The server.
    pub server: LoopbackServer,
    /// The port on 127.0.0.1.
    pub port: u16,
    /// Bytes of the flood written so far.
    pub flooded: Arc<AtomicUsize>,
}

impl PlainServer {
    /// Every connection played by the scripted server with `profile`, then `after_online`.
    pub fn start(profile: ServerProfile, after_online: AfterOnline) -> PlainServer {
        let flooded = Arc::new(AtomicUsize::new(0));
        let written = flooded.clone();
        let server = LoopbackServer::start(move |index, conn| {
            let mut hooked = false;
            conn.serve_with(&profile, |scripted, conn| {
                if hooked || scripted.received_named("presence").is_empty() {
                    return Then::Serve;
                }
                hooked = true;
                match after_online {
                    AfterOnline::Flood(count) => flood(conn, count, &written),
                    AfterOnline::DropFirst if index == 0 => return Then::Cut,
                    _ => {}
                }
                Then::Serve
            });
        });
        PlainServer {
            port: server.port,
            server,
            flooded,
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.server.accepted()
    }
}

/// Writes `count` presences in batches of 100, counting the bytes the socket took.
fn flood(conn: &mut Conn, count: usize, flooded: &AtomicUsize) {
    let batch = FLOOD_STANZA.repeat(100);
    for _ in 0..count / 100 {
        if conn.send(&batch).is_err() {
            return;
        }
        flooded.fetch_add(batch.len(), Ordering::SeqCst);
    }
}

/// A server that answers every stream header with `see-other-host` naming `to`.
pub fn redirector(to: String) -> LoopbackServer {
    LoopbackServer::start(move |_, conn| {
        if conn.expect("version='1.0'>").is_ok() {
            let _ = conn.send(&format!(
                "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
                 xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='r' \
                 version='1.0'>{}</stream:stream>",
                replies::see_other_host(&to)
            ));
        }
    })
}
