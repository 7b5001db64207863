//! The client contract of `herald-core` (its crate docs), checked on every call a test or a
//! fuzz body makes. Every driver ([`Pair`](crate::Pair), [`Driver`](crate::Driver), the fuzz
//! bodies) calls the client through a [`Contract`], which makes the call, drains the
//! client in the documented order and panics on the first broken rule:
//!
//! - after every input or command: transmit, then actions, then events;
//! - no byte after [`Action::CloseTransport`], and none during the TLS handshake (between
//!   [`Action::StartTls`] and a successful `tls_established`); no action after
//!   `CloseTransport`, and no second `StartTls` before the handshake;
//! - [`Event::Disconnected`] exactly once, last, after `CloseTransport`; the end is that one
//!   event (never a `StateChanged(Closed)` as well);
//! - [`Client::state`] agrees with the last `StateChanged`, or is `Closed { reason }` after
//!   `Disconnected`; `Closed` is sticky and leaves no timer;
//! - right after `handle_timeout(now)` no timer is due at or before `now`;
//! - the server never changes the account's presence or status;
//! - a refused command (or a refused `tls_established` / `tls_failed`) changes nothing,
//!   sends nothing, makes no action or event; after the end every one fails with
//!   [`UsageError::SessionEnded`] carrying the reason the session ended with.

use std::time::Instant;

use herald_core::{
    Action, ChannelBinding, Client, DisconnectReason, Event, Presence, Roster, SessionState,
    UsageError,
};

/// What one drain of the client gave, in the order it was drained.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Drained {
    /// Bytes to write (on a WebSocket, the messages one after the other).
    pub transmitted: Vec<u8>,
    /// On a WebSocket, how many messages `transmitted` holds.
    pub messages: usize,
    /// Actions for the transport.
    pub actions: Vec<Action>,
    /// Events for the application.
    pub events: Vec<Event>,
}

impl Drained {
    /// Nothing came out.
    pub fn is_empty(&self) -> bool {
        self.transmitted.is_empty() && self.actions.is_empty() && self.events.is_empty()
    }
}

/// The checker: what it has seen of one client so far.
#[derive(Debug, Clone)]
pub struct Contract {
    transport_closed: bool,
    tls_pending: bool,
    ended: Option<DisconnectReason>,
    last_state: SessionState,
}

/// What a refused command must leave as it was.
#[derive(Debug, PartialEq)]
struct Snapshot {
    state: SessionState,
    presence: Presence,
    status: String,
    roster: Roster,
    timeout: Option<Instant>,
}

/// What the checker looks at in the client after a drain.
#[derive(Debug, Clone)]
struct Observed {
    state: SessionState,
    closed: bool,
    timeout: Option<Instant>,
}

impl Observed {
    fn of(client: &Client) -> Observed {
        Observed {
            state: client.state(),
            closed: client.is_closed(),
            timeout: client.poll_timeout(),
        }
    }
}

impl Snapshot {
    fn of(client: &Client) -> Snapshot {
        Snapshot {
            state: client.state(),
            presence: client.presence(),
            status: client.status().to_string(),
            roster: client.roster().clone(),
            timeout: client.poll_timeout(),
        }
    }
}

impl Contract {
    /// A checker for `client`, which nothing has been asked of yet.
    pub fn new(client: &Client) -> Contract {
        Contract {
            transport_closed: false,
            tls_pending: false,
            ended: None,
            last_state: client.state(),
        }
    }

    /// Whether the client asked to close the transport.
    pub fn transport_closed(&self) -> bool {
        self.transport_closed
    }

    /// Whether the client asked for a TLS handshake that has not finished.
    pub fn tls_pending(&self) -> bool {
        self.tls_pending
    }

    /// The reason of the `Disconnected` seen, if the session ended.
    pub fn end(&self) -> Option<&DisconnectReason> {
        self.ended.as_ref()
    }

    /// `handle_input(now, bytes)`, then a drain.
    pub fn input(&mut self, client: &mut Client, now: Instant, bytes: &[u8]) -> Drained {
        let values = (client.presence(), client.status().to_string());
        client.handle_input(now, bytes);
        let drained = self.drain(client);
        let after = (client.presence(), client.status().to_string());
        assert_eq!(values, after, "the server changed our presence or status");
        drained
    }

    /// `handle_eof(now)`, then a drain.
    pub fn eof(&mut self, client: &mut Client, now: Instant) -> Drained {
        client.handle_eof(now);
        self.drain(client)
    }

    /// `handle_timeout(now)`, then a drain; no timer may still be due.
    pub fn timeout(&mut self, client: &mut Client, now: Instant) -> Drained {
        client.handle_timeout(now);
        let drained = self.drain(client);
        if let Some(next) = client.poll_timeout() {
            assert!(next > now, "a timer still due after handle_timeout");
        }
        drained
    }

    /// `tls_established(now, binding)`, then a drain, with the usage rules of
    /// [`command`](Contract::command).
    pub fn tls_established(
        &mut self,
        client: &mut Client,
        now: Instant,
        binding: Option<ChannelBinding>,
    ) -> (Result<(), UsageError>, Drained) {
        self.checked(client, now, true, |c, now| c.tls_established(now, binding))
    }

    /// `tls_failed(now, message)`, then a drain, with the usage rules of
    /// [`command`](Contract::command).
    pub fn tls_failed(
        &mut self,
        client: &mut Client,
        now: Instant,
        message: &str,
    ) -> (Result<(), UsageError>, Drained) {
        self.checked(client, now, true, |c, now| c.tls_failed(now, message))
    }

    /// Runs a command (`connect`, `set_presence`, `close`, `send`, a roster command...),
    /// then a drain. Refused, it must change nothing and make no output; after the end, it
    /// must be refused with the reason the session ended with.
    pub fn command<T>(
        &mut self,
        client: &mut Client,
        now: Instant,
        run: impl FnOnce(&mut Client, Instant) -> Result<T, UsageError>,
    ) -> (Result<T, UsageError>, Drained) {
        self.checked(client, now, false, run)
    }

    fn checked<T>(
        &mut self,
        client: &mut Client,
        now: Instant,
        ends_handshake: bool,
        run: impl FnOnce(&mut Client, Instant) -> Result<T, UsageError>,
    ) -> (Result<T, UsageError>, Drained) {
        let before = Snapshot::of(client);
        let ended_before = self.ended.is_some();
        let result = run(client, now);
        if result.is_ok() && ends_handshake {
            // The stream header of the TLS stream may follow at once.
            self.tls_pending = false;
        }
        let drained = self.drain(client);
        match &result {
            Err(error) => {
                assert_eq!(
                    before,
                    Snapshot::of(client),
                    "a refused command changed the client"
                );
                assert!(drained.is_empty(), "a refused command made {drained:?}");
                if let Some(reason) = &self.ended {
                    assert_eq!(error, &UsageError::SessionEnded(reason.clone()));
                }
            }
            Ok(_) => assert!(!ended_before, "a command succeeded after the end"),
        }
        (result, drained)
    }

    /// Drains transmit, then actions, then events, checking each against what came before.
    /// Inputs and commands already drain; call this after a call made some other way.
    pub fn drain(&mut self, client: &mut Client) -> Drained {
        let mut drained = Drained::default();
        if client.is_websocket() {
            // One message per call, until none is left; never an empty one.
            let mut message = Vec::new();
            loop {
                let n = client.poll_message(&mut message);
                assert_eq!(n, message.len(), "poll_message's count vs its message");
                if n == 0 {
                    break;
                }
                drained.messages += 1;
                drained.transmitted.append(&mut message);
            }
        } else {
            let n = client.poll_transmit(&mut drained.transmitted);
            assert_eq!(
                n,
                drained.transmitted.len(),
                "poll_transmit's count vs the bytes it appended"
            );
        }
        drained
            .actions
            .extend(std::iter::from_fn(|| client.poll_action()));
        drained
            .events
            .extend(std::iter::from_fn(|| client.poll_event()));
        self.check(&drained, &Observed::of(client));
        drained
    }

    /// The rules on one drain, in the order it was drained, then on the client after it.
    fn check(&mut self, drained: &Drained, after: &Observed) {
        let out = &drained.transmitted;
        assert!(
            out.is_empty() || !self.transport_closed,
            "bytes after CloseTransport: {:?}",
            String::from_utf8_lossy(out)
        );
        assert!(
            out.is_empty() || !self.tls_pending,
            "bytes during the TLS handshake: {:?}",
            String::from_utf8_lossy(out)
        );
        for action in &drained.actions {
            self.check_action(action);
        }
        for event in &drained.events {
            self.check_event(event);
        }
        self.check_state(after);
    }

    fn check_action(&mut self, action: &Action) {
        assert!(!self.transport_closed, "{action:?} after CloseTransport");
        match action {
            Action::CloseTransport => self.transport_closed = true,
            Action::StartTls { .. } => {
                assert!(!self.tls_pending, "two StartTls without a handshake");
                self.tls_pending = true;
            }
            // A new action must be added to the contract before tests can drive it.
            other => panic!("an action the contract does not know: {other:?}"),
        }
    }

    fn check_event(&mut self, event: &Event) {
        assert!(self.ended.is_none(), "{event:?} after Disconnected");
        match event {
            Event::Disconnected { reason } => {
                assert!(self.transport_closed, "Disconnected without CloseTransport");
                self.ended = Some(reason.clone());
                self.last_state = SessionState::Closed {
                    reason: reason.clone(),
                };
            }
            Event::StateChanged(state) => {
                assert!(
                    !matches!(state, SessionState::Closed { .. }),
                    "the end reported as a StateChanged too"
                );
                self.last_state = state.clone();
            }
            _ => {}
        }
    }

    fn check_state(&self, client: &Observed) {
        assert_eq!(client.state, self.last_state, "state() vs StateChanged");
        if self.ended.is_some() {
            assert!(client.closed, "Closed is sticky");
            assert_eq!(client.timeout, None, "a timer after the end");
        } else {
            assert!(!client.closed, "closed without Disconnected");
        }
    }

    /// The rules every ending obeys, once the driver is done: exactly one `Disconnected`
    /// (the last event) after exactly one `CloseTransport` (the last action), the state
    /// `Closed` with the same reason, no timer left. Returns the reason.
    pub fn ending(&self, client: &Client) -> DisconnectReason {
        let reason = self
            .ended
            .clone()
            .unwrap_or_else(|| panic!("the session has not ended: {:?}", client.state()));
        assert!(self.transport_closed);
        let closed = SessionState::Closed {
            reason: reason.clone(),
        };
        assert_eq!(client.state(), closed);
        assert!(client.is_closed());
        assert_eq!(client.poll_timeout(), None, "no timer after the end");
        reason
    }
}

#[cfg(test)]
mod tests;
