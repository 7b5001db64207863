//! A client and a scripted server joined in memory, with a virtual clock (quinn's `Pair`,
//! str0m's `progress`): connect, act, drive, assert. Every call to the client goes through
//! the [`Contract`] checker, and every byte that crosses is kept as [`Flight`]s. A
//! connection can be cut and the next one made on the same server profile
//! ([`Pair::cut`], [`Pair::reconnect_with`]).

use std::time::{Duration, Instant};

use herald_core::{
    Action, ChannelBinding, Client, Config, DisconnectReason, Event, SeededEntropy, SessionState,
    Transport, UsageError,
};

use crate::contract::{Contract, Drained};
use crate::profile::{END_POINT, EXPORTER, ServerProfile};
use crate::round_trips::{FlightLog, round_trips_to};
use crate::server::{ScriptedServer, ServerPhase};

pub use crate::round_trips::Flight;

mod cut;
#[cfg(test)]
mod cut_tests;

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
    client: Client,
    contract: Contract,
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
    /// Every byte the server sent that reached the client.
    pub delivered: Vec<u8>,
    /// Hold the server's output back until [`deliver`](Pair::deliver) (model tests use it
    /// to interleave commands with each login step). Default false.
    pub hold: bool,
    rng: u64,
    flight_log: FlightLog,
    /// The connection was cut: nothing crosses any more.
    severed: bool,
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
        Pair::with_client(profile, client)
    }

    /// A pair around a client built elsewhere (say by a reconnect supervisor), not yet
    /// connected.
    pub fn with_client(profile: ServerProfile, client: Client) -> Pair {
        Pair {
            contract: Contract::new(&client),
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
            delivered: Vec::new(),
            hold: false,
            rng: 1,
            flight_log: FlightLog::default(),
            severed: false,
        }
    }

    /// The usual pair: the profile's account with the default configuration.
    pub fn with_profile(profile: ServerProfile) -> Pair {
        let config = config_for(&profile);
        Pair::new(profile, config)
    }

    /// The profile's account with its configuration edited by `edit`, not connected.
    pub fn configured(profile: ServerProfile, edit: impl FnOnce(&mut Config)) -> Pair {
        let mut config = config_for(&profile);
        edit(&mut config);
        Pair::new(profile, config)
    }

    /// [`configured`](Pair::configured), connected and online (panics otherwise), with the
    /// login's events taken.
    pub fn online_with(profile: ServerProfile, edit: impl FnOnce(&mut Config)) -> Pair {
        let mut pair = Pair::configured(profile, edit);
        pair.connect();
        assert_eq!(
            pair.client().state(),
            SessionState::Online,
            "{:#?}",
            pair.events
        );
        pair.take_events();
        pair
    }

    /// Connects over a plain transport and drives until nothing moves.
    pub fn connect(&mut self) -> &mut Self {
        self.start();
        self.drive()
    }

    /// Calls `connect` on the client without driving (to act during the login).
    pub fn start(&mut self) -> &mut Self {
        self.connect_over(Transport::Plain)
            .expect("connect on a fresh client");
        self
    }

    /// The client, for its getters. Inputs and commands go through the pair, so that the
    /// contract checker sees every call.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The checker's view of the client.
    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    /// Whether the client asked to close the transport.
    pub fn transport_closed(&self) -> bool {
        self.contract.transport_closed()
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
        if !batch.is_empty() && !self.transport_closed() {
            moved = true;
            let batch = match self.tamper.as_mut() {
                Some(t) => t(batch),
                None => batch,
            };
            for chunk in self.chunks(&batch) {
                if self.transport_closed() {
                    break;
                }
                self.input_one(&chunk);
            }
        }
        // Only after the whole batch: plaintext that followed <proceed/> in it is an
        // injection attempt the client must have seen as plaintext.
        if self.contract.tls_pending() && !self.transport_closed() && !self.severed {
            self.flight_log.tls_handshake();
            self.server.tls_done();
            self.tls_established(self.channel_binding.clone())
                .expect("a handshake was requested");
            moved = true;
        }
        moved
    }

    /// One read the server's wire gave the client: recorded in `delivered` and in the
    /// flights, then fed.
    fn input_one(&mut self, chunk: &[u8]) {
        self.delivered.extend_from_slice(chunk);
        self.flight_log.server(chunk);
        let drained = self.contract.input(&mut self.client, self.now, chunk);
        self.forward(drained);
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
        for chunk in self.chunks(bytes) {
            if self.transport_closed() {
                break;
            }
            self.input_one(&chunk);
        }
        self.drive()
    }

    /// Feeds `bytes` to the client as one read, straight from the test: not cut, not
    /// tampered with, not recorded in `delivered` nor in the flights, and without driving
    /// (the hostile-input
    /// tests feed megabytes this way). The client's answer goes to the server.
    pub fn feed(&mut self, bytes: &[u8]) -> &mut Self {
        let drained = self.contract.input(&mut self.client, self.now, bytes);
        self.forward(drained);
        self
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

    /// Drains the client (transmit, actions, events); true when anything came out.
    fn pump_client(&mut self) -> bool {
        let drained = self.contract.drain(&mut self.client);
        let moved = !drained.is_empty();
        self.forward(drained);
        moved
    }

    /// What the client said: bytes to the server, the rest kept. Bytes drained together
    /// with `CloseTransport` were written before it (the checker makes sure nothing is
    /// written after it).
    fn forward(&mut self, drained: Drained) {
        if !drained.transmitted.is_empty() && !self.severed {
            self.flight_log.client(&drained.transmitted);
            self.server.handle_input(&drained.transmitted);
        }
        self.actions.extend(drained.actions);
        self.events.extend(drained.events);
    }

    fn chunks(&mut self, batch: &[u8]) -> Vec<Vec<u8>> {
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
        self.timeout_at(self.now + by);
        self.drive()
    }

    /// Jumps to the client's next timeout, fires it, drives. False when none is armed.
    pub fn fire_next_timeout(&mut self) -> bool {
        let Some(at) = self.client.poll_timeout() else {
            return false;
        };
        self.timeout_at(at);
        self.drive();
        true
    }

    /// Moves the clock to `at` (never back) and calls `handle_timeout`, without driving.
    pub fn timeout_at(&mut self, at: Instant) -> &mut Self {
        self.now = self.now.max(at);
        let drained = self.contract.timeout(&mut self.client, self.now);
        self.forward(drained);
        self
    }

    /// The transport reached end of file, without driving.
    pub fn eof(&mut self) -> &mut Self {
        let drained = self.contract.eof(&mut self.client, self.now);
        self.forward(drained);
        self
    }

    /// `connect(transport)` on the client, without driving ([`start`](Pair::start) is
    /// `connect_over(Transport::Plain)`). Over [`Transport::DirectTls`] the (simulated) TLS
    /// handshake comes first: it is a round trip in the flights, and the server starts
    /// inside TLS.
    pub fn connect_over(&mut self, transport: Transport) -> Result<(), UsageError> {
        if matches!(transport, Transport::DirectTls(_)) {
            if self.server.phase == ServerPhase::Plain {
                self.server.tls_done();
            }
            self.flight_log.tls_handshake();
        }
        self.command(|c, now| c.connect(now, transport))
    }

    /// Everything that crossed so far, as flights (see [`round_trips`](crate::round_trips)):
    /// what the client wrote between two server batches, what the client was given between
    /// two client flights, and the simulated TLS handshakes.
    pub fn flights(&self) -> Vec<Flight> {
        self.flight_log.flights()
    }

    /// The client flights that waited for the server, up to and including the one that
    /// carried the client's first `<presence`: the login's round trips. `None` before the
    /// initial presence went out.
    pub fn round_trips_to_presence(&self) -> Option<usize> {
        self.round_trips_to("<presence")
    }

    /// The client flights that waited for the server, up to and including the first one
    /// containing `needle` (say `"<auth "` or `"<bind "`).
    pub fn round_trips_to(&self, needle: &str) -> Option<usize> {
        round_trips_to(&self.flights(), needle)
    }

    /// Runs a command (`|c, now| c.set_presence(now, p)`) under the contract's usage rules;
    /// what the client writes goes to the server, without driving.
    pub fn command<T>(
        &mut self,
        run: impl FnOnce(&mut Client, Instant) -> Result<T, UsageError>,
    ) -> Result<T, UsageError> {
        let (result, drained) = self.contract.command(&mut self.client, self.now, run);
        self.forward(drained);
        result
    }

    /// The TLS handshake finished with `binding` (the pair does this by itself when the
    /// client asks; tests call it to misuse it).
    pub fn tls_established(&mut self, binding: Option<ChannelBinding>) -> Result<(), UsageError> {
        let (result, drained) = self
            .contract
            .tls_established(&mut self.client, self.now, binding);
        self.forward(drained);
        result
    }

    /// The adapter's TLS handshake failed (tests call it to misuse it).
    pub fn tls_failed(&mut self, message: &str) -> Result<(), UsageError> {
        let (result, drained) = self
            .contract
            .tls_failed(&mut self.client, self.now, message);
        self.forward(drained);
        result
    }

    /// The reason of the one `Disconnected` event, after the contract's ending rules.
    pub fn ended(&self) -> DisconnectReason {
        self.contract.ending(&self.client)
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

    /// What the client sent since byte offset `mark` of its output, as text, without the
    /// XEP-0115 `<c/>` every available presence carries (the presence rules' tests compare
    /// the rest; `tests/caps.rs` checks the element, [`client_sent_raw`] keeps it).
    ///
    /// [`client_sent_raw`]: Pair::client_sent_raw
    pub fn client_sent_since(&self, mark: usize) -> String {
        without_caps(&self.client_sent_raw(mark))
    }

    /// What the client sent since byte offset `mark` of its output, as text, untouched.
    pub fn client_sent_raw(&self, mark: usize) -> String {
        String::from_utf8_lossy(&self.server.received_bytes[mark..]).into_owned()
    }

    /// The current length of the client's output (a mark for [`client_sent_since`]).
    ///
    /// [`client_sent_since`]: Pair::client_sent_since
    pub fn mark(&self) -> usize {
        self.server.received_bytes.len()
    }
}

/// `wire` without its XEP-0115 `<c xmlns='http://jabber.org/protocol/caps' .../>` elements; a
/// presence left with nothing inside becomes `<presence .../>` again.
pub fn without_caps(wire: &str) -> String {
    const START: &str = "<c xmlns='http://jabber.org/protocol/caps'";
    let mut out = String::with_capacity(wire.len());
    let mut rest = wire;
    while let Some(at) = rest.find(START) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail.find("/>").map_or(tail.len(), |e| e + 2);
        rest = &tail[end..];
        // `<presence ...>` + `</presence>` around nothing else: the empty form.
        if out.ends_with('>') && rest.starts_with("</presence>") {
            let open = out.rfind("<presence").expect("a presence around the caps");
            if !out[open..].contains("></") && out[open..].matches('>').count() == 1 {
                out.pop();
                out.push_str("/>");
                rest = &rest["</presence>".len()..];
            }
        }
    }
    out.push_str(rest);
    out
}
