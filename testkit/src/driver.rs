//! A client driven by hand, without a server: the test (or the fuzzer) plays the server,
//! and every call goes through the [`Contract`] checker.

use std::time::{Duration, Instant};

use herald_core::{
    Action, ChannelBinding, Client, Config, DisconnectReason, Event, SeededEntropy, Transport,
    UsageError,
};

use crate::contract::{Contract, Drained};

/// A client, the virtual clock, and everything the client said, in order.
#[derive(Debug)]
pub struct Driver {
    client: Client,
    contract: Contract,
    /// Virtual time: what every call is given as `now`.
    pub now: Instant,
    /// Every byte the client wrote.
    pub wire: Vec<u8>,
    /// Every action the client produced.
    pub actions: Vec<Action>,
    /// Every event the client produced.
    pub events: Vec<Event>,
}

impl Driver {
    /// A client with `config` and `SeededEntropy::new(seed)`, not yet connected.
    pub fn new(config: Config, seed: u64) -> Driver {
        let client = Client::new(config, SeededEntropy::new(seed)).expect("valid config");
        Driver {
            contract: Contract::new(&client),
            client,
            now: Instant::now(),
            wire: Vec::new(),
            actions: Vec::new(),
            events: Vec::new(),
        }
    }

    /// A driver that has called `connect(transport)` on a client with `config`.
    pub fn connected(config: Config, seed: u64, transport: Transport) -> Driver {
        let mut driver = Driver::new(config, seed);
        driver
            .connect(transport)
            .expect("connect on a fresh client");
        driver
    }

    /// The client, for its getters. Inputs and commands go through the driver.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The checker's view: whether a handshake is pending, the transport closed, the end.
    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    /// What the client wrote, as text.
    pub fn wire_text(&self) -> String {
        String::from_utf8_lossy(&self.wire).into_owned()
    }

    fn keep(&mut self, drained: Drained) -> usize {
        self.wire.extend_from_slice(&drained.transmitted);
        self.actions.extend(drained.actions);
        self.events.extend(drained.events);
        drained.transmitted.len()
    }

    /// `connect(transport)`.
    pub fn connect(&mut self, transport: Transport) -> Result<(), UsageError> {
        self.command(|c, now| c.connect(now, transport))
    }

    /// The server says `bytes`, as one read; returns how many bytes the client wrote.
    pub fn input(&mut self, bytes: &[u8]) -> usize {
        let drained = self.contract.input(&mut self.client, self.now, bytes);
        self.keep(drained)
    }

    /// The server says `xml`, as one read.
    pub fn feed(&mut self, xml: &str) {
        self.input(xml.as_bytes());
    }

    /// The transport reached end of file.
    pub fn eof(&mut self) {
        let drained = self.contract.eof(&mut self.client, self.now);
        self.keep(drained);
    }

    /// Moves the clock to `at` (never back) and calls `handle_timeout`.
    pub fn timeout_at(&mut self, at: Instant) {
        self.now = self.now.max(at);
        let drained = self.contract.timeout(&mut self.client, self.now);
        self.keep(drained);
    }

    /// Advances the clock by `by` and calls `handle_timeout`.
    pub fn advance(&mut self, by: Duration) {
        self.timeout_at(self.now + by);
    }

    /// Jumps to the client's next timeout and fires it. False when none is armed.
    pub fn fire_next_timeout(&mut self) -> bool {
        let Some(at) = self.client.poll_timeout() else {
            return false;
        };
        self.timeout_at(at);
        true
    }

    /// The adapter finished the TLS handshake.
    pub fn tls_established(&mut self, binding: Option<ChannelBinding>) -> Result<(), UsageError> {
        let (result, drained) = self
            .contract
            .tls_established(&mut self.client, self.now, binding);
        self.keep(drained);
        result
    }

    /// The adapter's TLS handshake failed.
    pub fn tls_failed(&mut self, message: &str) -> Result<(), UsageError> {
        let (result, drained) = self
            .contract
            .tls_failed(&mut self.client, self.now, message);
        self.keep(drained);
        result
    }

    /// Runs a command (`|c, now| c.set_presence(now, p)`) under the contract's usage rules.
    pub fn command(
        &mut self,
        run: impl FnOnce(&mut Client, Instant) -> Result<(), UsageError>,
    ) -> Result<(), UsageError> {
        let (result, drained) = self.contract.command(&mut self.client, self.now, run);
        self.keep(drained);
        result
    }

    /// The reason the session ended with, after the contract's ending rules.
    pub fn ended(&self) -> DisconnectReason {
        self.contract.ending(&self.client)
    }
}
