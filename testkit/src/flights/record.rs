//! What the proxy recorded, and how chunks group into flights: pure data, no sockets.

use std::time::Instant;

/// Which way a chunk went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client to the server.
    ClientToServer,
    /// From the server to the client.
    ServerToClient,
}

impl Direction {
    fn other(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }
}

/// One `read` the proxy did, and when it passed the bytes on.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Which way.
    pub direction: Direction,
    /// How many bytes.
    pub bytes: usize,
    /// When the proxy read them.
    pub arrived: Instant,
    /// When the proxy started writing them to the other side (`arrived` + the delay), or
    /// `None` while they wait (or when the connection was cut first).
    pub forwarded: Option<Instant>,
    /// Positions in the proxy's one log of arrivals and forwards, taken under the same lock
    /// as the instants: what orders a forward against an arrival, exactly.
    pub(crate) arrived_seq: u64,
    pub(crate) forwarded_seq: Option<u64>,
}

/// A run of chunks one way that did not wait for the other side: the next flight that way
/// starts with the first chunk that arrives after the other side's bytes were forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flight {
    /// The proxied connection it belongs to (0 for the first accepted).
    pub connection: usize,
    /// Which way.
    pub direction: Direction,
    /// When its first chunk reached the proxy.
    pub start: Instant,
    /// Its bytes, all chunks together.
    pub bytes: usize,
    /// How many reads it took.
    pub chunks: usize,
    /// Its first chunk's place in the proxy's log (see [`Chunk`]).
    pub(crate) start_seq: u64,
}

/// One proxied connection: when it was accepted and every chunk both ways, in arrival
/// order.
#[derive(Debug, Clone)]
pub struct ConnectionRecord {
    /// 0 for the first connection the proxy accepted, then 1...
    pub index: usize,
    /// When the proxy accepted the client's TCP connection.
    pub accepted: Instant,
    /// Every chunk, both ways, in the order the proxy read them.
    pub chunks: Vec<Chunk>,
}

impl ConnectionRecord {
    /// The flights both ways, by start. A chunk starts a new flight its way when it is the
    /// first that way, or when bytes the other way were forwarded since the previous chunk
    /// its way arrived: it may have waited for them. Bytes written back to back, with no
    /// forward in between, stay one flight however many reads they took.
    pub fn flights(&self) -> Vec<Flight> {
        let mut flights: Vec<Flight> = [Direction::ClientToServer, Direction::ServerToClient]
            .into_iter()
            .flat_map(|d| self.flights_one_way(d))
            .collect();
        flights.sort_by_key(|f| f.start);
        flights
    }

    /// The client's flights, in order.
    pub fn client_flights(&self) -> Vec<Flight> {
        self.flights_one_way(Direction::ClientToServer)
    }

    /// The number of client flights after the first that started at or before `t`: the
    /// round trips the client had waited for by then.
    pub fn waits_until(&self, t: Instant) -> usize {
        let started = self
            .client_flights()
            .iter()
            .filter(|f| f.start <= t)
            .count();
        started.saturating_sub(1)
    }

    fn flights_one_way(&self, direction: Direction) -> Vec<Flight> {
        let forwards: Vec<u64> = self
            .chunks
            .iter()
            .filter(|c| c.direction == direction.other())
            .filter_map(|c| c.forwarded_seq)
            .collect();
        let mut flights: Vec<Flight> = Vec::new();
        let mut previous: Option<u64> = None;
        for chunk in self.chunks.iter().filter(|c| c.direction == direction) {
            let waited = match previous {
                None => true,
                Some(prev) => forwards.iter().any(|&f| prev < f && f < chunk.arrived_seq),
            };
            match flights.last_mut() {
                Some(flight) if !waited => {
                    flight.bytes += chunk.bytes;
                    flight.chunks += 1;
                }
                _ => flights.push(Flight {
                    connection: self.index,
                    direction,
                    start: chunk.arrived,
                    bytes: chunk.bytes,
                    chunks: 1,
                    start_seq: chunk.arrived_seq,
                }),
            }
            previous = Some(chunk.arrived_seq);
        }
        flights
    }
}
