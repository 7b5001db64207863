//! A client and a scripted server joined in memory, with a virtual clock (quinn's `Pair`,
//! str0m's `progress`): connect, act, drive, assert.

use std::time::{Duration, Instant};

use herald_core::{
    Action, ChannelBinding, Client, Config, DisconnectReason, Event, SeededEntropy, SessionState,
    Transport,
};

use crate::profile::{END_POINT, EXPORTER, ServerProfile};
use crate::server::ScriptedServer;

/// How server bytes are cut before they reach the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunking {
    /// Each batch whole.
    Whole,
    /// One byte at a time.
    ByteAtATime,
    /// At pseudo-random points (seeded).
    Random(u64),
}

/// Alters server bytes in flight (rustls-test's `transfer_altered`).
pub type Tamper = Box<dyn FnMut(Vec<u8>) -> Vec<u8>>;

/// The client, the server and the wire between them.
pub struct Pair {
    /// The client under test.
    pub client: Client,
    /// The scripted server.
    pub server: ScriptedServer,
    /// Virtual time.
    pub now: Instant,
    /// Every event the client produced, in order.
    pub events: Vec<Event>,
    /// Every action the client produced, in order.
    pub actions: Vec<Action>,
    /// How server bytes are cut.
    pub chunking: Chunking,
    /// What the simulated TLS layer hands the client.
    pub channel_binding: Option<ChannelBinding>,
    /// Alters server-to-client bytes.
    pub tamper: Option<Tamper>,
    /// The client asked to close the transport.
    pub transport_closed: bool,
    /// Every byte the server sent that reached the client.
    pub delivered: Vec<u8>,
    /// Hold the server's output back until [`deliver`](Pair::deliver) (model tests use it
    /// to interleave commands with each login step). Default false.
    pub hold: bool,
    handshakes: usize,
    rng: u64,
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pair")
            .field("client", &self.client)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// The client configuration matching a profile's account.
pub fn config_for(profile: &ServerProfile) -> Config {
    Config::new(
        &format!("{}@{}/desk", profile.username, profile.domain),
        profile.password.as_str(),
    )
    .expect("valid test JID")
}

impl Pair {
    /// A pair with `config` against a server playing `profile`, not yet connected.
    pub fn new(profile: ServerProfile, config: Config) -> Pair {
        let client = Client::new(config, SeededEntropy::new(42)).expect("valid config");
        Pair {
            client,
            server: ScriptedServer::new(profile),
            now: Instant::now(),
            events: Vec::new(),
            actions: Vec::new(),
            chunking: Chunking::Whole,
            channel_binding: Some(ChannelBinding {
                tls_exporter: Some(EXPORTER.to_vec()),
                tls_server_end_point: Some(END_POINT.to_vec()),
                ..ChannelBinding::default()
            }),
            tamper: None,
            transport_closed: false,
            delivered: Vec::new(),
            hold: false,
            handshakes: 0,
            rng: 1,
        }
    }

    /// The usual pair: the profile's account with the default configuration.
    pub fn with_profile(profile: ServerProfile) -> Pair {
        let config = config_for(&profile);
        Pair::new(profile, config)
    }

    /// Connects over a plain transport and drives until nothing moves.
    pub fn connect(&mut self) -> &mut Self {
        self.start();
        self.drive()
    }

    /// Calls `connect` on the client without driving (to act during the login).
    pub fn start(&mut self) -> &mut Self {
        self.client
            .connect(self.now, Transport::Plain)
            .expect("connect on a fresh client");
        self
    }

    /// Moves bytes both ways, runs the simulated TLS handshake when asked, and collects
    /// events and actions until nothing moves (bounded).
    pub fn drive(&mut self) -> &mut Self {
        for _ in 0..1000 {
            if !self.step() {
                return self;
            }
        }
        panic!("the pair did not settle in 1000 rounds");
    }

    /// One round: the client's output to the server, one batch of the server's output to
    /// the client (cut by [`Chunking`]), then a pending TLS handshake. False when nothing
    /// moved.
    pub fn step(&mut self) -> bool {
        let mut moved = self.pump_client();
        let batch = if self.hold {
            Vec::new()
        } else {
            self.server.take_output()
        };
        if !batch.is_empty() && !self.transport_closed {
            moved = true;
            let batch = match self.tamper.as_mut() {
                Some(t) => t(batch),
                None => batch,
            };
            for chunk in self.cut(&batch) {
                if self.transport_closed {
                    break;
                }
                self.delivered.extend_from_slice(&chunk);
                self.client.handle_input(self.now, &chunk);
                self.pump_client();
            }
        }
        // Only after the whole batch: plaintext that followed <proceed/> in it is an
        // injection attempt the client must have seen as plaintext.
        if self.pending_start_tls() && !self.transport_closed {
            self.server.tls_done();
            self.client
                .tls_established(self.now, self.channel_binding.clone())
                .expect("a handshake was requested");
            moved = true;
        }
        moved
    }

    /// With [`hold`](Pair::hold) on: releases what the server has said so far as one batch
    /// (cut by [`Chunking`]), then drives (the server's answers are held again). False when
    /// the server had nothing to say.
    pub fn deliver(&mut self) -> bool {
        let hold = std::mem::replace(&mut self.hold, false);
        let had_output = !self.server.pending_output().is_empty();
        self.step();
        self.hold = hold;
        self.drive();
        had_output
    }

    /// Feeds `bytes` to the client as if the server sent them ahead of anything it holds,
    /// cut by [`Chunking`], then drives.
    pub fn inject(&mut self, bytes: &[u8]) -> &mut Self {
        for chunk in self.cut(bytes) {
            if self.transport_closed {
                break;
            }
            self.delivered.extend_from_slice(&chunk);
            self.client.handle_input(self.now, &chunk);
            self.pump_client();
        }
        self.drive()
    }

    /// Steps until `done` holds for the client (bounded); false if it never did.
    pub fn step_until(&mut self, mut done: impl FnMut(&Client) -> bool) -> bool {
        for _ in 0..1000 {
            if done(&self.client) {
                return true;
            }
            if !self.step() {
                return done(&self.client);
            }
        }
        false
    }

    /// Whether the client asked for a handshake the pair has not run yet.
    fn pending_start_tls(&mut self) -> bool {
        let requested = self
            .actions
            .iter()
            .filter(|a| matches!(a, Action::StartTls { .. }))
            .count();
        if requested > self.handshakes {
            self.handshakes = requested;
            true
        } else {
            false
        }
    }

    /// Drains the client (transmit, actions, events); true when anything came out.
    fn pump_client(&mut self) -> bool {
        let mut out = Vec::new();
        let mut moved = self.client.poll_transmit(&mut out) > 0;
        if !out.is_empty() && !self.transport_closed {
            self.server.handle_input(&out);
        }
        while let Some(action) = self.client.poll_action() {
            moved = true;
            if action == Action::CloseTransport {
                self.transport_closed = true;
            }
            self.actions.push(action);
        }
        while let Some(event) = self.client.poll_event() {
            moved = true;
            self.events.push(event);
        }
        moved
    }

    fn cut(&mut self, batch: &[u8]) -> Vec<Vec<u8>> {
        match self.chunking {
            Chunking::Whole => vec![batch.to_vec()],
            Chunking::ByteAtATime => batch.iter().map(|b| vec![*b]).collect(),
            Chunking::Random(seed) => {
                let mut chunks = Vec::new();
                let mut rest = batch;
                while !rest.is_empty() {
                    self.rng = self
                        .rng
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(seed | 1);
                    let n = 1 + (self.rng >> 33) as usize % rest.len().min(64);
                    chunks.push(rest[..n].to_vec());
                    rest = &rest[n..];
                }
                chunks
            }
        }
    }

    /// Advances the virtual clock by `by`, fires due timers, drives.
    pub fn advance(&mut self, by: Duration) -> &mut Self {
        self.now += by;
        self.client.handle_timeout(self.now);
        self.drive()
    }

    /// Jumps to the client's next timeout, fires it, drives. False when none is armed.
    pub fn fire_next_timeout(&mut self) -> bool {
        let Some(at) = self.client.poll_timeout() else {
            return false;
        };
        self.now = self.now.max(at);
        self.client.handle_timeout(self.now);
        self.drive();
        true
    }

    /// The reason of the one `Disconnected` event, after [`check_ending`] and checking the
    /// pair saw the transport closed.
    pub fn ended(&self) -> DisconnectReason {
        let reason = check_ending(&self.client, &self.events, &self.actions);
        assert!(self.transport_closed);
        reason
    }

    /// Takes the events collected so far.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Server-to-client injection: the server says `xml`, then the pair drives.
    pub fn server_says(&mut self, xml: &str) -> &mut Self {
        self.server.send_raw(xml);
        self.drive()
    }

    /// What the client sent since byte offset `mark` of its output, as text.
    pub fn client_sent_since(&self, mark: usize) -> String {
        String::from_utf8_lossy(&self.server.received_bytes[mark..]).into_owned()
    }

    /// The current length of the client's output (a mark for [`client_sent_since`]).
    ///
    /// [`client_sent_since`]: Pair::client_sent_since
    pub fn mark(&self) -> usize {
        self.server.received_bytes.len()
    }
}

/// The rules every ending obeys, for any driver of a client: exactly one `Disconnected`,
/// the last event; exactly one `CloseTransport`, the last action; the state is `Closed` with
/// the same reason, and no timer is left. Returns the reason.
pub fn check_ending(client: &Client, events: &[Event], actions: &[Action]) -> DisconnectReason {
    let reasons: Vec<&DisconnectReason> = events
        .iter()
        .filter_map(|e| match e {
            Event::Disconnected { reason } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(reasons.len(), 1, "one Disconnected in {events:#?}");
    let reason = reasons[0].clone();
    assert_eq!(
        events.last(),
        Some(&Event::Disconnected {
            reason: reason.clone()
        }),
        "Disconnected is the last event"
    );
    let closes = actions
        .iter()
        .filter(|a| **a == Action::CloseTransport)
        .count();
    assert_eq!(closes, 1, "one CloseTransport in {actions:?}");
    assert_eq!(actions.last(), Some(&Action::CloseTransport));
    assert_eq!(
        client.state(),
        SessionState::Closed {
            reason: reason.clone()
        }
    );
    assert!(client.is_closed());
    assert_eq!(client.poll_timeout(), None, "no timer after the end");
    reason
}
