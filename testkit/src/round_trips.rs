//! What crossed between the client and the scripted server of a [`Pair`](crate::Pair), as
//! flights, so that tests can assert the exact bytes of each flight and count round trips
//! in memory (the count is deterministic; a time would not be).
//!
//! A flight is everything one side wrote while the other side was silent: a client flight
//! is what the client wrote between two server batches it was given, however many drains
//! that took, and a server flight is the bytes the client was given between two client
//! flights, however they were cut ([`Chunking`](crate::Chunking) changes no flight). The
//! simulated TLS handshake is a pair of flights of its own (`tls_handshake`, no bytes): the
//! client's hello, the server's answer, as with TLS 1.3, where the client's first bytes
//! inside TLS go with its `Finished`, after one round trip.
//!
//! A client flight waited when a server flight came since the client's previous one: the
//! first never waits. The
//! round trips to a point of the login are the client flights that waited, up to and
//! including the first one carrying it ([`round_trips_to`]).

/// One flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flight {
    /// Written by the client (else by the server).
    pub from_client: bool,
    /// A flight of the simulated TLS handshake, which carries no XMPP bytes.
    pub tls_handshake: bool,
    /// What was written, as text.
    pub bytes: String,
}

/// The flights recorded so far; bytes kept raw so that a character cut by chunking is
/// whole again in the flight.
#[derive(Debug, Clone, Default)]
pub(crate) struct FlightLog {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    from_client: bool,
    tls_handshake: bool,
    bytes: Vec<u8>,
}

impl FlightLog {
    /// The client wrote `bytes`.
    pub(crate) fn client(&mut self, bytes: &[u8]) {
        self.push(true, bytes);
    }

    /// The client was given `bytes` of the server's.
    pub(crate) fn server(&mut self, bytes: &[u8]) {
        self.push(false, bytes);
    }

    /// A (simulated) TLS handshake: the client's hello and the server's answer.
    pub(crate) fn tls_handshake(&mut self) {
        for from_client in [true, false] {
            self.entries.push(Entry {
                from_client,
                tls_handshake: true,
                bytes: Vec::new(),
            });
        }
    }

    fn push(&mut self, from_client: bool, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        match self.entries.last_mut() {
            Some(last) if last.from_client == from_client && !last.tls_handshake => {
                last.bytes.extend_from_slice(bytes);
            }
            _ => self.entries.push(Entry {
                from_client,
                tls_handshake: false,
                bytes: bytes.to_vec(),
            }),
        }
    }

    /// The flights, in order.
    pub(crate) fn flights(&self) -> Vec<Flight> {
        self.entries
            .iter()
            .map(|e| Flight {
                from_client: e.from_client,
                tls_handshake: e.tls_handshake,
                bytes: String::from_utf8_lossy(&e.bytes).into_owned(),
            })
            .collect()
    }
}

/// The client flights that waited for a server flight, up to and including the first
/// client flight containing `needle`; `None` if no client flight contains it.
pub fn round_trips_to(flights: &[Flight], needle: &str) -> Option<usize> {
    let mut server_spoke = false;
    let mut waited = 0;
    for flight in flights {
        if !flight.from_client {
            server_spoke = true;
            continue;
        }
        if std::mem::take(&mut server_spoke) {
            waited += 1;
        }
        if !flight.tls_handshake && flight.bytes.contains(needle) {
            return Some(waited);
        }
    }
    None
}

#[cfg(test)]
mod tests;
