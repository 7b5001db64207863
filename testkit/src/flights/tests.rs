//! The proxy against a toy upstream that answers each `ping` line with `pong`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::login::flights_before_answer;
use super::record::{Chunk, ConnectionRecord};
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

/// A record from `(direction, arrival ms, forward ms)` chunks, sequenced by time as the
/// proxy's lock would, with `late` ms added to the arrival of the chunk at `late_index`
/// (after its sequence was taken: a proxy thread that ran late).
fn record(
    chunks: &[(Direction, u64, u64)],
    late: Option<(usize, u64)>,
) -> (ConnectionRecord, Instant) {
    let t0 = Instant::now();
    let ms = |m: u64| t0 + Duration::from_millis(m);
    let mut events: Vec<(u64, usize, bool)> = Vec::new();
    for (i, &(_, arrived, forwarded)) in chunks.iter().enumerate() {
        events.push((arrived, i, false));
        events.push((forwarded, i, true));
    }
    events.sort();
    let mut seqs = vec![(0, 0); chunks.len()];
    for (seq, &(_, i, forward)) in events.iter().enumerate() {
        if forward {
            seqs[i].1 = seq as u64;
        } else {
            seqs[i].0 = seq as u64;
        }
    }
    let chunks = chunks
        .iter()
        .enumerate()
        .map(|(i, &(direction, arrived, forwarded))| {
            let extra = late.filter(|(at, _)| *at == i).map_or(0, |(_, by)| by);
            Chunk {
                direction,
                bytes: 10,
                arrived: ms(arrived + extra),
                forwarded: Some(ms(forwarded)),
                arrived_seq: seqs[i].0,
                forwarded_seq: Some(seqs[i].1),
            }
        })
        .collect();
    let record = ConnectionRecord {
        index: 0,
        accepted: t0,
        chunks,
    };
    (record, t0)
}

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

/// Three client flights, 10 ms each way; the third (the "presence", written at 40 ms) is
/// answered at 70 ms, and the client writes again at 80 ms.
const LOGIN: &[(Direction, u64, u64)] = &[
    (C, 0, 10),
    (S, 10, 20),
    (C, 20, 30),
    (S, 30, 40),
    (C, 40, 50),
    (S, 60, 70),
    (C, 80, 90),
];

#[test]
fn the_flights_before_the_answer_to_the_presence_are_counted() {
    let (record, t0) = record(LOGIN, None);
    // Seen 1 ms after the write; horizon one delay later.
    let flights = flights_before_answer(&record, t0 + Duration::from_millis(51)).expect("answered");
    assert_eq!(flights.len(), 3, "{flights:#?}");
}

#[test]
fn a_presence_the_proxy_recorded_late_is_still_counted() {
    // The proxy's reader ran 25 ms late: the presence's arrival instant is past the
    // horizon, but it was still recorded before the answer it provoked.
    let (record, t0) = record(LOGIN, Some((4, 25)));
    let flights = flights_before_answer(&record, t0 + Duration::from_millis(51)).expect("answered");
    assert_eq!(flights.len(), 3, "{flights:#?}");
    assert!(
        record.waits_until(t0 + Duration::from_millis(51)) < 2,
        "a time cut would miss it"
    );
}

#[test]
fn nothing_is_counted_before_the_server_answers() {
    let (record, t0) = record(&LOGIN[..5], None);
    assert!(flights_before_answer(&record, t0 + Duration::from_millis(51)).is_none());
}
