//! The proxy against a toy upstream that answers each `ping` line with `pong`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::{Direction, FlightProxy};

const DELAY: Duration = Duration::from_millis(10);

/// A server answering every `ping\n` with `pong\n`, until the client goes.
fn pong_server() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            std::thread::spawn(move || {
                let mut writer = conn.try_clone().expect("clone");
                for line in BufReader::new(conn).lines() {
                    let Ok(line) = line else { return };
                    if line == "ping" && writer.write_all(b"pong\n").is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

fn connect(proxy: &FlightProxy) -> TcpStream {
    let s = TcpStream::connect((Ipv4Addr::LOCALHOST, proxy.port())).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.set_nodelay(true).expect("nodelay");
    s
}

fn read_pongs(s: &mut TcpStream, count: usize) {
    let want = b"pong\n".repeat(count);
    let mut got = vec![0u8; want.len()];
    s.read_exact(&mut got).expect("pongs");
    assert_eq!(got, want);
}

/// `exchanges` pings, each waiting for its pong.
fn ping_pong(s: &mut TcpStream, exchanges: usize) {
    for _ in 0..exchanges {
        s.write_all(b"ping\n").expect("ping");
        read_pongs(s, 1);
    }
}

#[test]
fn each_ping_that_waits_for_a_pong_is_a_round_trip() {
    let proxy = FlightProxy::start(pong_server(), DELAY).expect("proxy");
    let mut s = connect(&proxy);
    let began = Instant::now();
    ping_pong(&mut s, 4);
    let took = began.elapsed();
    let seen = Instant::now();
    assert!(
        took >= DELAY * 8,
        "4 round trips at 2 x {DELAY:?} took {took:?}"
    );
    let login = proxy.login_seen_at(seen);
    assert_eq!(login.round_trips, 3, "{login:#?}");
    assert_eq!(proxy.waits_until(seen), 3);
    let flights = proxy.flights();
    let pongs = flights
        .iter()
        .filter(|f| f.direction == Direction::ServerToClient)
        .count();
    assert_eq!((flights.len(), pongs), (8, 4), "{flights:#?}");
}

#[test]
fn writes_that_do_not_wait_are_one_flight_however_many_reads() {
    let proxy = FlightProxy::start(pong_server(), DELAY).expect("proxy");
    let mut s = connect(&proxy);
    for _ in 0..3 {
        s.write_all(b"ping\n").expect("ping");
        std::thread::sleep(Duration::from_millis(1));
    }
    read_pongs(&mut s, 3);
    let login = proxy.login_seen_at(Instant::now());
    assert_eq!(login.round_trips, 0, "{login:#?}");
    assert_eq!(login.client_flights[0].bytes, 15);
    // Then one that waited for those three pongs.
    ping_pong(&mut s, 1);
    assert_eq!(proxy.login_seen_at(Instant::now()).round_trips, 1);
}

#[test]
fn the_count_stops_at_the_instant_given() {
    let proxy = FlightProxy::start(pong_server(), DELAY).expect("proxy");
    let mut s = connect(&proxy);
    ping_pong(&mut s, 1);
    // The "presence": written, then seen, as the adapters do; later flights must wait for
    // its answer first.
    s.write_all(b"ping\n").expect("ping");
    let seen = Instant::now();
    read_pongs(&mut s, 1);
    ping_pong(&mut s, 3);
    let login = proxy.login_seen_at(seen);
    assert_eq!(login.round_trips, 1, "{login:#?}");
    assert!(login.wall >= DELAY * 2, "{login}");
}

#[test]
fn a_reconnect_is_counted_on_its_own_connection() {
    let proxy = FlightProxy::start(pong_server(), DELAY).expect("proxy");
    let mut first = connect(&proxy);
    ping_pong(&mut first, 3);
    let first_seen = Instant::now();
    proxy.cut();
    let mut buf = [0u8; 1];
    assert!(
        matches!(first.read(&mut buf), Ok(0) | Err(_)),
        "the cut connection still reads"
    );
    let mut second = connect(&proxy);
    ping_pong(&mut second, 2);
    let second_seen = Instant::now();
    let (a, b) = (
        proxy.login_seen_at(first_seen),
        proxy.login_seen_at(second_seen),
    );
    assert_eq!((a.connection, a.round_trips), (0, 2), "{a:#?}");
    assert_eq!((b.connection, b.round_trips), (1, 1), "{b:#?}");
    assert_eq!(proxy.connections().len(), 2);
}

#[test]
fn bytes_keep_their_order_and_each_waits_the_delay() {
    let proxy = FlightProxy::start(pong_server(), DELAY).expect("proxy");
    let mut s = connect(&proxy);
    ping_pong(&mut s, 1);
    s.write_all(&b"ping\n".repeat(200)).expect("pings");
    read_pongs(&mut s, 200);
    let record = &proxy.connections()[0];
    let total: usize = record
        .chunks
        .iter()
        .filter(|c| c.direction == Direction::ClientToServer)
        .map(|c| c.bytes)
        .sum();
    assert_eq!(total, 201 * 5);
    for chunk in &record.chunks {
        let forwarded = chunk.forwarded.expect("forwarded");
        assert!(forwarded >= chunk.arrived + DELAY, "{chunk:?}");
    }
}
