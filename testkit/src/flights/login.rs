//! The one counting helper: round trips up to the initial presence the application saw.

use std::fmt;
use std::time::{Duration, Instant};

use super::FlightProxy;
use super::record::Flight;

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
    /// `presence_sent` line of the `herald` command. Why the flights that started by
    /// `seen + delay` are exactly those up to the presence is in the [module
    /// docs](super). Waits until `seen + delay` first, so that the proxy has recorded them.
    ///
    /// Panics when no connection was accepted before `seen` or it has no client flight.
    pub fn login_seen_at(&self, seen: Instant) -> Login {
        let slack = self.delay();
        let settled = seen + slack;
        let now = Instant::now();
        if settled > now {
            std::thread::sleep(settled - now);
        }
        let record = self
            .connection_at(seen)
            .unwrap_or_else(|| panic!("no connection through the proxy before {seen:?}"));
        let client_flights: Vec<Flight> = record
            .client_flights()
            .into_iter()
            .filter(|f| f.start <= settled)
            .collect();
        let presence = client_flights.last().unwrap_or_else(|| {
            panic!(
                "connection {} sent nothing before the presence was seen: {:?}",
                record.index,
                record.flights()
            )
        });
        Login {
            connection: record.index,
            round_trips: client_flights.len() - 1,
            wall: presence.start.saturating_duration_since(record.accepted),
            client_flights: client_flights.clone(),
            delay: self.delay(),
        }
    }
}
