//! The one counting helper: round trips up to the initial presence the application saw.

use std::fmt;
use std::time::{Duration, Instant};

use super::FlightProxy;
use super::record::{ConnectionRecord, Direction, Flight};

/// How long [`FlightProxy::login_seen_at`] waits, after `seen + delay`, for the server's
/// answer to the presence before it counts what was recorded (a server that answers the
/// initial presence with nothing at all).
const QUIET_SERVER: Duration = Duration::from_millis(300);

/// One login as the proxy saw it, up to the flight carrying the initial presence.
#[derive(Debug, Clone)]
pub struct Login {
    /// Which proxied connection (0 for the first; a reconnect gets the next).
    pub connection: usize,
    /// The client flights that waited for the server, up to and including the one
    /// carrying the initial presence: the round trips from TCP connect to the presence.
    pub round_trips: usize,
    /// From the proxy's accept of the TCP connection to the presence flight reaching the
    /// proxy: the wall time of the login at this delay.
    pub wall: Duration,
    /// The client flights counted, the first (which did not wait) included.
    pub client_flights: Vec<Flight>,
    /// The delay the proxy added each way.
    pub delay: Duration,
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} round trips, {:.0?} from TCP connect to the initial presence \
             (delay {:?} each way, connection {})",
            self.round_trips, self.wall, self.delay, self.connection
        )
    }
}

impl FlightProxy {
    /// The login whose initial presence the application saw at `seen`: the instant it got
    /// `PresenceSent` (or `Online`) from herald-tokio or herald-std, or read the
    /// `presence_sent` line of the `herald` command. On the connection accepted last before
    /// `seen`, counts the client flights that started before the first server bytes
    /// forwarded at or after `seen + delay`; why those are exactly the flights up to the
    /// presence is in the [module docs](super). Returns once those bytes were forwarded, or
    /// (a server that answers the presence with nothing) a moment after `seen + delay`.
    ///
    /// Panics when no connection was accepted before `seen` or it has no client flight.
    pub fn login_seen_at(&self, seen: Instant) -> Login {
        let horizon = seen + self.delay();
        let give_up = horizon + QUIET_SERVER;
        sleep_until(horizon);
        let (record, counted) = loop {
            let record = self
                .connection_at(seen)
                .unwrap_or_else(|| panic!("no connection through the proxy before {seen:?}"));
            match flights_before_answer(&record, horizon) {
                Some(flights) => break (record, flights),
                None if Instant::now() >= give_up => {
                    let flights = record.client_flights();
                    break (record, flights);
                }
                None => std::thread::sleep(Duration::from_millis(2)),
            }
        };
        let presence = counted.last().unwrap_or_else(|| {
            panic!(
                "connection {} sent nothing before the presence was seen: {:?}",
                record.index,
                record.flights()
            )
        });
        Login {
            connection: record.index,
            round_trips: counted.len() - 1,
            wall: presence.start.saturating_duration_since(record.accepted),
            client_flights: counted.clone(),
            delay: self.delay(),
        }
    }
}

impl FlightProxy {
    /// An exchange the application saw complete at `seen` because an answer arrived (a
    /// resumption's `<resumed/>`): on the connection accepted last before `seen`, the
    /// client flights that started before the last server bytes forwarded at or before
    /// `seen`. The last of them carried the request; whatever the client wrote in answer
    /// to those server bytes (an `<a/>`) starts after them and is not counted. The
    /// returned `round_trips` counts that last wait too: the waits before the request's
    /// flight, plus one for its answer. `wall` runs from the TCP accept to `seen`.
    ///
    /// Panics when no connection was accepted before `seen` or nothing was answered.
    pub fn answered_at(&self, seen: Instant) -> Login {
        let record = self
            .connection_at(seen)
            .unwrap_or_else(|| panic!("no connection through the proxy before {seen:?}"));
        let answer = record
            .chunks
            .iter()
            .filter(|c| c.direction == Direction::ServerToClient)
            .filter(|c| c.forwarded.is_some_and(|at| at <= seen))
            .filter_map(|c| c.forwarded_seq)
            .max()
            .unwrap_or_else(|| panic!("connection {} got no answer", record.index));
        let counted: Vec<Flight> = record
            .client_flights()
            .into_iter()
            .filter(|f| f.start_seq < answer)
            .collect();
        Login {
            connection: record.index,
            round_trips: counted.len(),
            wall: seen.saturating_duration_since(record.accepted),
            client_flights: counted,
            delay: self.delay(),
        }
    }
}

/// The client flights that started before the first server bytes forwarded at or after
/// `horizon`; `None` while no such bytes were forwarded yet.
pub(crate) fn flights_before_answer(
    record: &ConnectionRecord,
    horizon: Instant,
) -> Option<Vec<Flight>> {
    let answer = record
        .chunks
        .iter()
        .filter(|c| c.direction == Direction::ServerToClient)
        .filter(|c| c.forwarded.is_some_and(|at| at >= horizon))
        .filter_map(|c| c.forwarded_seq)
        .min()?;
    Some(
        record
            .client_flights()
            .into_iter()
            .filter(|f| f.start_seq < answer)
            .collect(),
    )
}

fn sleep_until(at: Instant) {
    let now = Instant::now();
    if at > now {
        std::thread::sleep(at - now);
    }
}
