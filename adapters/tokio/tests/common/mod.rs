//! For the adapters' own tests (herald-tokio's, and herald-std's through `#[path]`): the
//! scripted sans-IO server on a plain loopback socket
//! (the client is configured with `TlsPolicy::InsecurePlaintext`, SCRAM-SHA-1), with a hook
//! once the client's initial presence arrives; a `tracing` subscriber that counts the
//! driver's waits; the CPU time of the current thread.
#![allow(dead_code, unreachable_pub)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use herald_core::{Config, TlsPolicy};
use herald_io::ConnectOptions;
use herald_io::trace::DRIVER_TARGET;
use herald_tests::{ScriptedServer, ServerProfile, config_for};

/// What the server does once the client's initial presence arrives.
#[derive(Debug, Clone, Copy)]
pub enum AfterOnline {
    /// Goes on as the profile says.
    Nothing,
    /// Writes this many contact presences as fast as the socket takes them.
    Flood(usize),
    /// Cuts the first connection (later ones go on).
    DropFirst,
}

/// A listening server; one thread per connection.
#[derive(Debug)]
pub struct PlainServer {
    pub port: u16,
    /// Connections accepted.
    pub accepted: Arc<AtomicUsize>,
    /// Bytes of the flood written so far.
    pub flooded: Arc<AtomicUsize>,
}

/// The profile: no STARTTLS, SCRAM-SHA-1 only.
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

/// Options for `port` on 127.0.0.1 with short reconnect delays.
pub fn options(port: u16) -> ConnectOptions {
    let mut options = ConnectOptions::default();
    options.server = Some(("127.0.0.1".into(), port));
    options.reconnect_initial = Duration::from_millis(50);
    options.reconnect_max = Duration::from_millis(200);
    options
}

/// One contact presence stanza of the flood.
pub const FLOOD_STANZA: &str =
    "<presence from='bob@localhost/phone'><show>away</show><status>flood</status></presence>";

impl PlainServer {
    pub fn start(profile: ServerProfile, after_online: AfterOnline) -> PlainServer {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let flooded = Arc::new(AtomicUsize::new(0));
        {
            let (accepted, flooded) = (accepted.clone(), flooded.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { return };
                    let index = accepted.fetch_add(1, Ordering::SeqCst);
                    let after_online = match after_online {
                        AfterOnline::DropFirst if index > 0 => AfterOnline::Nothing,
                        other => other,
                    };
                    let (profile, flooded) = (profile.clone(), flooded.clone());
                    std::thread::spawn(move || serve(stream, profile, after_online, flooded));
                }
            });
        }
        PlainServer {
            port,
            accepted,
            flooded,
        }
    }
}

fn serve(
    mut stream: TcpStream,
    profile: ServerProfile,
    after_online: AfterOnline,
    flooded: Arc<AtomicUsize>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
    let mut server = ScriptedServer::new(profile);
    let mut buf = [0u8; 16 * 1024];
    let mut hooked = false;
    // Bounded: a test never needs a connection for more than two minutes.
    for _ in 0..6000 {
        let out = server.take_output();
        if !out.is_empty() && stream.write_all(&out).is_err() {
            return;
        }
        if !hooked && !server.received_named("presence").is_empty() {
            hooked = true;
            match after_online {
                AfterOnline::Flood(count) => flood(&mut stream, count, &flooded),
                AfterOnline::DropFirst => return,
                AfterOnline::Nothing => {}
            }
        }
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => server.handle_input(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// Writes `count` presences in batches of 100, counting the bytes the socket took.
fn flood(stream: &mut TcpStream, count: usize, flooded: &AtomicUsize) {
    let batch = FLOOD_STANZA.repeat(100);
    for _ in 0..count / 100 {
        if stream.write_all(batch.as_bytes()).is_err() {
            return;
        }
        flooded.fetch_add(batch.len(), Ordering::SeqCst);
    }
}

/// A server that answers the stream header with `see-other-host` naming `to`.
pub fn redirector(to: String) -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind loopback");
    let port = listener.local_addr().expect("local addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut seen = Vec::new();
            let mut buf = [0u8; 1024];
            while !String::from_utf8_lossy(&seen).contains("version='1.0'>") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(
                format!(
                    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
                     xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='r' \
                     version='1.0'>{}</stream:stream>",
                    herald_tests::replies::see_other_host(&to)
                )
                .as_bytes(),
            );
        }
    });
    port
}

/// Counts the driver's waits (target [`DRIVER_TARGET`]).
#[derive(Debug, Clone, Default)]
pub struct WaitCounter {
    pub waits: Arc<AtomicUsize>,
}

impl tracing::Subscriber for WaitCounter {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target() == DRIVER_TARGET
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if event.metadata().target() == DRIVER_TARGET {
            self.waits.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// CPU time the calling thread has used (Linux: `/proc/thread-self/schedstat`).
pub fn thread_cpu_time() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    let nanos: u64 = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("schedstat's first field");
    Duration::from_nanos(nanos)
}

/// The resident memory of the process (Linux: `/proc/self/statm`, pages of 4 KiB).
pub fn resident_bytes() -> usize {
    let text = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: usize = text
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("statm's second field");
    pages * 4096
}
