//! Round trips as a count (feature `flights`): a TCP proxy on 127.0.0.1 that delays each
//! direction and groups what it carries into flights.
//!
//! [`FlightProxy::start`] listens on a free loopback port and connects each client it
//! accepts to an upstream port (a real server, the loopback server). Each chunk it reads is
//! written to the other side `delay` after it was read, in order both ways, so a loopback
//! round trip costs at least `2 x delay`, as on a slow link. Every chunk is recorded with
//! its direction, arrival and forward instants ([`ConnectionRecord`]).
//!
//! # Flights
//!
//! A client flight is what the client wrote without waiting for the server: the first client
//! bytes start one, and client bytes start the next one when server bytes were forwarded to
//! the client since the previous client bytes arrived. A flight after the first is a round
//! trip the client waited for; counting them is deterministic where a time is not (the
//! server's own pauses, Nagle, the machine's load change the time, never the count).
//! Arrivals and forwards are ordered by one sequence under one lock, and a forward is
//! recorded before its bytes are written, so bytes the client sends in answer are always
//! recorded after what they answer.
//!
//! # The flight carrying the initial presence
//!
//! The proxy sees TLS ciphertext, so it cannot find the `<presence/>`. It finds it with one
//! fact about the adapters and one about the delay:
//!
//! 1. herald-tokio, herald-std (and so the `herald` command) write the bytes the core gave
//!    them before they hand the core's events on (the drain rule: transmit, actions, events).
//!    So when the application sees `PresenceSent` (or `Online`, `presence_sent` in the
//!    command's output) at instant `seen`, the flight carrying the presence was written
//!    before `seen`.
//! 2. Any later client flight waits for server bytes that answer the presence flight or a
//!    later one (the login is request and answer: nothing the server sent before the
//!    presence makes the client write again). Those bytes reach the client no sooner than
//!    `2 x delay` after the presence was written: one `delay` to the server, one back.
//!
//! [`FlightProxy::login_seen_at`] therefore counts, on the connection accepted last before
//! `seen`, the waiting client flights that started (in the log's order) before the first
//! server bytes forwarded at or after `seen + delay`. By 2, every later flight starts
//! after those bytes, as long as the application saw the event less than one `delay` after
//! the write. And the presence flight starts before them however late the proxy's own
//! reader ran: the server cannot answer bytes the proxy has not read yet. When the server
//! answers the presence with nothing at all, every flight recorded a moment after
//! `seen + delay` is counted. Use a delay of 10 ms or more; the count does not depend on
//! it, the wall time does. Each connection is counted on its own, so a reconnect through
//! the same proxy ([`FlightProxy::cut`]) gets its own count.
//!
//! # Blackholes
//!
//! [`FlightProxy::blackhole`] models a network cut as a phone meets it: from then on the
//! connections carried so far pass nothing either way, and neither side sees a FIN or a
//! reset (the sockets stay open); only a link check can tell. While the proxy is
//! [`refusing`](FlightProxy::set_refusing), new connections are closed as soon as they are
//! accepted. [`FlightProxy::release_upstream`] then lets the server notice (a FIN on its
//! side only), as its own TCP would in the end.
//!
//! [`expected`] holds the counts per login path: what the client takes today and what
//! issue 12 aims for.

#[cfg(test)]
mod blackhole_tests;
pub mod expected;
mod login;
mod pump;
mod record;
#[cfg(test)]
mod tests;

pub use login::Login;
pub use record::{Chunk, ConnectionRecord, Direction, Flight};

use std::io;
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pump::Log;

/// A delaying, recording TCP proxy on 127.0.0.1 (see the [module docs](self)). Dropping it
/// stops accepting and cuts the connections it carries.
#[derive(Debug)]
pub struct FlightProxy {
    port: u16,
    upstream_port: u16,
    delay: Duration,
    log: Arc<Mutex<Log>>,
    /// Both sockets of every connection, to cut them, and whether it is blackholed.
    sockets: Arc<Mutex<Vec<Carried>>>,
    /// New connections are closed at once.
    refusing: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FlightProxy {
    /// Listens on a free loopback port; each accepted client is connected to
    /// `127.0.0.1:upstream_port` and each direction delayed by `delay`.
    pub fn start(upstream_port: u16, delay: Duration) -> io::Result<FlightProxy> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        let log = Arc::new(Mutex::new(Log::default()));
        let sockets = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let refusing = Arc::new(AtomicBool::new(false));
        let accept = {
            let shared = Shared {
                log: log.clone(),
                sockets: sockets.clone(),
                stop: stop.clone(),
                refusing: refusing.clone(),
            };
            std::thread::spawn(move || accept_loop(listener, upstream_port, delay, shared))
        };
        Ok(FlightProxy {
            port,
            upstream_port,
            delay,
            log,
            sockets,
            refusing,
            stop,
            accept: Some(accept),
        })
    }

    /// The port on 127.0.0.1 to connect to instead of the upstream.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port the proxy connects its clients to.
    pub fn upstream_port(&self) -> u16 {
        self.upstream_port
    }

    /// The delay each direction adds.
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// A copy of every connection's record so far, in the order they were accepted.
    pub fn connections(&self) -> Vec<ConnectionRecord> {
        self.log
            .lock()
            .expect("flight log lock")
            .connections
            .clone()
    }

    /// Every flight of every connection so far, by connection, then by start.
    pub fn flights(&self) -> Vec<Flight> {
        self.connections()
            .iter()
            .flat_map(ConnectionRecord::flights)
            .collect()
    }

    /// The client flights after the first that started at or before `t`, on the connection
    /// accepted last at or before `t` (0 when there is none). No slack: for the count up
    /// to an event the application saw, use [`login_seen_at`](FlightProxy::login_seen_at).
    pub fn waits_until(&self, t: Instant) -> usize {
        self.connection_at(t).map_or(0, |c| c.waits_until(t))
    }

    /// The connection accepted last at or before `t`.
    pub(crate) fn connection_at(&self, t: Instant) -> Option<ConnectionRecord> {
        self.connections()
            .into_iter()
            .rev()
            .find(|c| c.accepted <= t)
    }

    /// Cuts every connection carried so far, both ways, as a network failure would (no
    /// stream close, no TLS close); bytes still delayed are lost. New connections are
    /// accepted as before.
    pub fn cut(&self) {
        for carried in self.sockets.lock().expect("sockets lock").drain(..) {
            let _ = carried.client.shutdown(Shutdown::Both);
            let _ = carried.upstream.shutdown(Shutdown::Both);
        }
    }

    /// Blackholes every connection carried so far (see the [module docs](self#blackholes)):
    /// nothing more passes either way, bytes still delayed are dropped, and no side sees
    /// its connection end. Returns how many connections it caught.
    pub fn blackhole(&self) -> usize {
        let sockets = self.sockets.lock().expect("sockets lock");
        for carried in sockets.iter() {
            carried.blackholed.store(true, Ordering::SeqCst);
        }
        sockets.len()
    }

    /// While `refusing`, each new connection is closed as soon as it is accepted, as when
    /// the network is still down (the client sees its connection end before any byte).
    pub fn set_refusing(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    /// Ends the server's side of every blackholed connection (a FIN to the server only):
    /// the server notices the cut, as its own TCP would after a while, and starts its
    /// resumption window.
    pub fn release_upstream(&self) {
        for carried in self.sockets.lock().expect("sockets lock").iter() {
            if carried.blackholed.load(Ordering::SeqCst) {
                let _ = carried.upstream.shutdown(Shutdown::Both);
            }
        }
    }
}

/// One connection the proxy carries.
#[derive(Debug)]
struct Carried {
    client: TcpStream,
    upstream: TcpStream,
    /// Nothing passes any more (both pumps drop what they read).
    blackholed: Arc<AtomicBool>,
}

/// What the accept loop shares with the proxy.
struct Shared {
    log: Arc<Mutex<Log>>,
    sockets: Arc<Mutex<Vec<Carried>>>,
    stop: Arc<AtomicBool>,
    refusing: Arc<AtomicBool>,
}

impl Drop for FlightProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(
            &SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)),
            Duration::from_secs(1),
        );
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        self.cut();
    }
}

fn accept_loop(listener: TcpListener, upstream_port: u16, delay: Duration, shared: Shared) {
    let Shared {
        log,
        sockets,
        stop,
        refusing,
    } = shared;
    for client in listener.incoming() {
        let accepted = Instant::now();
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        if refusing.load(Ordering::SeqCst) {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(upstream) = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream_port)) else {
            // Nothing upstream: the client sees its connection closed at once.
            continue;
        };
        // The proxy adds the delay, and nothing else of its own.
        let _ = client.set_nodelay(true);
        let _ = upstream.set_nodelay(true);
        let clones = (|| {
            Ok::<_, io::Error>([
                client.try_clone()?,
                upstream.try_clone()?,
                client.try_clone()?,
                upstream.try_clone()?,
            ])
        })();
        let Ok([client_reader, upstream_writer, client_kept, upstream_kept]) = clones else {
            continue;
        };
        let index = log.lock().expect("flight log lock").accepted(accepted);
        let blackholed = Arc::new(AtomicBool::new(false));
        sockets.lock().expect("sockets lock").push(Carried {
            client: client_kept,
            upstream: upstream_kept,
            blackholed: blackholed.clone(),
        });
        use record::Direction::{ClientToServer, ServerToClient};
        let pump = |direction, from, to| pump::Pump {
            log: log.clone(),
            connection: index,
            direction,
            from,
            to,
            delay,
            blackholed: blackholed.clone(),
        };
        pump::spawn(pump(ClientToServer, client_reader, upstream_writer));
        pump::spawn(pump(ServerToClient, upstream, client));
    }
}
