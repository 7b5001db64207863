//! The [`Client`]: its fields, getters, inputs, outputs, and the transitions shared by every
//! phase (state changes, failures, writing). Each login phase lives in `session/`.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::time::Instant;

use jid::{BareJid, FullJid};
use minidom::Element;
use zeroize::Zeroize;

use crate::config::Config;
use crate::entropy::Entropy;
use crate::error::{ConfigError, DisconnectReason, StreamErrorCondition, UsageError};
use crate::event::{Action, Event, SessionState};
use crate::sasl::{ChannelBinding, Credentials, ScramCache};
use crate::session::{OpenRequests, State};
use crate::stanza::presence::{IncomingPresence, Presence};
use crate::stanza::roster::Roster;
use crate::timer::{Timer, TimerTable};
use crate::xml::{self, StreamReader, XmlError};

/// How the adapter connected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// A plain TCP connection: STARTTLS follows (unless the config says
    /// [`TlsPolicy::InsecurePlaintext`](crate::TlsPolicy::InsecurePlaintext)).
    Plain,
    /// TLS from the first byte (XEP-0368), with the channel-binding data the handshake gave.
    DirectTls(Option<ChannelBinding>),
}

/// How a failure leaves the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Farewell {
    /// Nothing more may be written (TLS handshake in progress, transport gone).
    Silent,
    /// Close our stream with `</stream:stream>`.
    CloseStream,
    /// Send a stream error with this RFC 6120 condition, then close our stream.
    StreamError(StreamErrorCondition),
}

/// A sans-IO XMPP client session. See the [crate docs](crate) for the contract.
///
/// # Methods
///
/// - **(A) getters**: [`state`](Self::state), [`presence`](Self::presence),
///   [`status`](Self::status), [`bound_jid`](Self::bound_jid), [`config`](Self::config).
/// - **(B) inputs**, each taking `now`: [`handle_input`](Self::handle_input),
///   [`handle_eof`](Self::handle_eof), [`handle_timeout`](Self::handle_timeout),
///   [`tls_established`](Self::tls_established), [`tls_failed`](Self::tls_failed).
/// - **(C) commands**, each taking `now`: [`connect`](Self::connect),
///   [`set_presence`](Self::set_presence), [`set_status`](Self::set_status),
///   [`change_presence`](Self::change_presence), [`send`](Self::send),
///   [`close`](Self::close). Misuse returns a [`UsageError`] and changes nothing.
/// - **(D) outputs**: [`poll_transmit`](Self::poll_transmit),
///   [`poll_action`](Self::poll_action), [`poll_event`](Self::poll_event),
///   [`poll_timeout`](Self::poll_timeout).
///
/// After every (B) or (C) call, drain transmit, then actions, then events, then read the
/// timeout.
pub struct Client {
    pub(crate) config: Config,
    /// SASLprepped once, at construction.
    pub(crate) credentials: Credentials,
    /// The config's cache plus the keys this client's logins verified.
    pub(crate) scram_cache: ScramCache,
    pub(crate) entropy: Box<dyn Entropy>,
    pub(crate) state: State,
    pub(crate) reader: StreamReader,
    transmit: Vec<u8>,
    /// The transmit buffer held a credential (PLAIN): wipe it once drained.
    transmit_secret: bool,
    actions: VecDeque<Action>,
    events: VecDeque<Event>,
    pub(crate) timers: TimerTable,
    pub(crate) presence: Presence,
    pub(crate) status: String,
    pub(crate) bound: Option<FullJid>,
    pub(crate) transport_tls: bool,
    pub(crate) channel_binding: Option<ChannelBinding>,
    pub(crate) server: ServerFeatures,
    pub(crate) roster: Roster,
    pub(crate) pending_roster_edits: BTreeMap<String, BareJid>,
    pub(crate) open_requests: OpenRequests,
    pub(crate) contacts: BTreeMap<String, IncomingPresence>,
    id_prefix: String,
    id_counter: u64,
}

/// What the server offered after authentication that matters later in the session.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ServerFeatures {
    pub(crate) roster_versioning: bool,
    pub(crate) pre_approval: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("jid", &self.config.jid)
            .field("state", &self.state.public())
            .field("presence", &self.presence)
            .field("status", &self.status)
            .field("bound", &self.bound)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `config`, drawing SCRAM nonces and stanza ids from `entropy`.
    ///
    /// Fails when SASLprep refuses the credentials, the status text cannot be carried by
    /// XML, the stanza size limit is above
    /// [`Limits::MAX_STANZA_BYTES`](crate::Limits::MAX_STANZA_BYTES), or a timeout is above
    /// [`Timeouts::MAX`](crate::Timeouts::MAX).
    pub fn new(config: Config, entropy: impl Entropy + 'static) -> Result<Client, ConfigError> {
        let mut entropy: Box<dyn Entropy> = Box::new(entropy);
        if config.limits.max_stanza_bytes > crate::Limits::MAX_STANZA_BYTES {
            return Err(ConfigError::StanzaLimitTooLarge(
                config.limits.max_stanza_bytes,
            ));
        }
        let credentials = config.credentials()?;
        if let Some(name) = config.timeouts.too_long() {
            return Err(ConfigError::TimeoutTooLong(name));
        }
        if let Err(e) = xml::check_text(&config.status) {
            return Err(ConfigError::InvalidStatus {
                ch: invalid_char(&e),
            });
        }
        let mut prefix = [0u8; 4];
        entropy.fill(&mut prefix);
        let id_prefix = prefix.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Client {
            reader: StreamReader::new(config.limits),
            presence: config.presence,
            status: config.status.clone(),
            scram_cache: config.scram_cache.clone(),
            credentials,
            config,
            entropy,
            state: State::Disconnected,
            transmit: Vec::new(),
            transmit_secret: false,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            timers: TimerTable::default(),
            bound: None,
            transport_tls: false,
            channel_binding: None,
            server: ServerFeatures::default(),
            roster: Roster::default(),
            pending_roster_edits: BTreeMap::new(),
            open_requests: OpenRequests::default(),
            contacts: BTreeMap::new(),
            id_prefix,
            id_counter: 0,
        })
    }

    // ----- (A) getters -----

    /// Where the session is.
    pub fn state(&self) -> SessionState {
        self.state.public()
    }

    /// The account's current availability (what was last set, sent or not).
    pub fn presence(&self) -> Presence {
        self.presence
    }

    /// The account's current status text.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The full JID the server bound, once online.
    pub fn bound_jid(&self) -> Option<&FullJid> {
        self.bound.as_ref()
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The SCRAM keys this client's logins verified (and those it was given in
    /// [`Config::scram_cache`]): carry them to the next client's config so that its login
    /// skips PBKDF2.
    pub fn scram_cache(&self) -> &ScramCache {
        &self.scram_cache
    }

    /// The roster as last fetched and pushed.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// The latest available presence of each resource of `contact` (cleared when a
    /// resource goes unavailable and when the session ends).
    pub fn contact_presences(&self, contact: &BareJid) -> Vec<&IncomingPresence> {
        self.contacts
            .values()
            .filter(|p| p.from.to_bare() == *contact)
            .collect()
    }

    /// The resource of `contact` to prefer: highest priority, then most available
    /// (chat, away, extended away, do not disturb).
    pub fn best_presence(&self, contact: &BareJid) -> Option<&IncomingPresence> {
        self.contact_presences(contact)
            .into_iter()
            .max_by_key(|p| (p.priority, availability_rank(p.availability)))
    }

    /// Bytes the client holds because of the peer: the unfinished element the stream
    /// reader is building, plus output not yet drained. For tests that check memory stays
    /// within [`Limits`](crate::Limits); not a stable API.
    #[doc(hidden)]
    pub fn buffered_bytes(&self) -> usize {
        self.reader.buffered_bytes() + self.transmit.len()
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed(_))
    }

    // ----- (B) inputs -----

    /// Feeds bytes read from the transport (any chunk of the stream).
    ///
    /// Input before [`connect`](Self::connect) or after the session ended is ignored.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) {
        let mut rest = data;
        loop {
            match self.state {
                State::Disconnected | State::Closed(_) => return,
                State::TlsHandshake => {
                    if !rest.is_empty() {
                        self.fail(now, DisconnectReason::TlsInjection, Farewell::Silent);
                    }
                    return;
                }
                _ => {}
            }
            match self.reader.next(&mut rest) {
                Ok(Some(event)) => self.on_stream_event(now, event),
                Ok(None) => return,
                Err(e) => {
                    self.fail_xml(now, e);
                    return;
                }
            }
        }
    }

    /// The transport reached end of file.
    pub fn handle_eof(&mut self, now: Instant) {
        match self.state {
            State::Disconnected | State::Closed(_) => {}
            State::Closing => self.finish(now, DisconnectReason::LocalClose),
            _ => self.fail(now, DisconnectReason::Eof, Farewell::Silent),
        }
    }

    /// Fires the timers due at `now`. Harmless when called early.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.timers.take_expired(Timer::SubscriptionWindow, now) {
            self.on_subscription_window(now);
        }
        if self.timers.take_expired(Timer::Step, now) {
            match self.state.step() {
                Some(crate::error::Step::Closing) => self.finish(now, DisconnectReason::LocalClose),
                Some(step) => {
                    let farewell = if matches!(self.state, State::TlsHandshake) {
                        Farewell::Silent
                    } else {
                        Farewell::CloseStream
                    };
                    self.fail(now, DisconnectReason::Timeout(step), farewell)
                }
                None => {}
            }
        }
        if self.timers.take_expired(Timer::Keepalive, now) && matches!(self.state, State::Online) {
            self.write_raw(now, b" ");
        }
    }

    // ----- (D) outputs -----

    /// Appends the bytes to write to `buf`; returns how many were appended.
    #[must_use]
    pub fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        let n = self.transmit.len();
        if buf.is_empty() {
            // Hand over our buffer instead of copying it (secret bytes included: nothing of
            // them stays here); we keep the caller's empty one, so an idle client holds no
            // capacity of its own.
            std::mem::swap(buf, &mut self.transmit);
            self.transmit_secret = false;
            return n;
        }
        buf.append(&mut self.transmit);
        if std::mem::take(&mut self.transmit_secret) {
            // `append` copied the bytes out but left them in the spare capacity.
            self.transmit.zeroize();
        }
        n
    }

    /// The next action for the transport.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        let action = self.actions.pop_front();
        if action.is_none() && self.actions.capacity() > 0 {
            // Drained: an idle client keeps no queue memory (see `poll_event`).
            self.actions = VecDeque::new();
        }
        action
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front();
        if event.is_none() && self.events.capacity() > 0 {
            // Drained: give the queue's memory back, so that an idle client holds none (an
            // event is 120 bytes; a login leaves room for a dozen). One allocation per
            // drain cycle, not per event.
            self.events = VecDeque::new();
        }
        event
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    // ----- shared machinery -----

    pub(crate) fn push_event(&mut self, event: Event) {
        self.events.push_back(event);
    }

    pub(crate) fn push_action(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    /// A fresh stanza id: a random per-client prefix and a counter.
    pub(crate) fn next_id(&mut self) -> String {
        self.id_counter += 1;
        format!("h{}-{}", self.id_prefix, self.id_counter)
    }

    /// Moves to `next`, announcing the public state when it changes and arming the step
    /// timer when a new step begins. A step's deadline runs from its start: moving between
    /// the states of one step (header, then features; restart, then bind) keeps it.
    pub(crate) fn enter(&mut self, now: Instant, next: State) {
        let before = self.state.public();
        let before_step = self.state.step();
        self.state = next;
        match self.state {
            State::Online => {
                self.timers.stop(Timer::Step);
                self.arm_keepalive(now);
            }
            State::Closing => {
                self.timers.stop(Timer::Keepalive);
                self.timers
                    .set(Timer::Step, now + self.config.timeouts.close);
            }
            State::Closed(_) | State::Disconnected => self.timers.stop_all(),
            _ if self.state.step() == before_step => {}
            _ => self
                .timers
                .set(Timer::Step, now + self.config.timeouts.step),
        }
        let after = self.state.public();
        // The end is reported once, by `finish`'s `Disconnected`.
        if after != before && !matches!(self.state, State::Closed(_)) {
            self.push_event(Event::StateChanged(after));
        }
    }

    fn arm_keepalive(&mut self, now: Instant) {
        if let Some(interval) = self.config.timeouts.keepalive {
            self.timers.set(Timer::Keepalive, now + interval);
        }
    }

    /// Queues raw bytes (stream header, footer, keepalive).
    pub(crate) fn write_raw(&mut self, now: Instant, bytes: &[u8]) {
        self.transmit.extend_from_slice(bytes);
        if matches!(self.state, State::Online) {
            self.arm_keepalive(now);
        }
    }

    /// Queues bytes that carry a credential; the buffer is wiped once they are drained.
    pub(crate) fn write_secret(&mut self, now: Instant, bytes: &[u8]) {
        self.transmit_secret = true;
        self.write_raw(now, bytes);
    }

    /// Queues an element the core built itself.
    pub(crate) fn write(&mut self, now: Instant, el: &Element) {
        let result = xml::write_element(el, &mut self.transmit);
        // The core validates every text it puts into its own stanzas before building them.
        debug_assert!(
            result.is_ok(),
            "the core built an unwritable element: {result:?}"
        );
        if matches!(self.state, State::Online) {
            self.arm_keepalive(now);
        }
    }

    /// Queues bytes the core serialises itself (checked text only), like [`Self::write`].
    pub(crate) fn write_with(&mut self, now: Instant, write: impl FnOnce(&mut Vec<u8>)) {
        write(&mut self.transmit);
        if matches!(self.state, State::Online) {
            self.arm_keepalive(now);
        }
    }

    /// Queues an element from the application, refusing what XML cannot carry.
    pub(crate) fn write_checked(&mut self, now: Instant, el: &Element) -> Result<(), UsageError> {
        xml::write_element(el, &mut self.transmit)
            .map_err(|e| UsageError::InvalidElement(e.to_string()))?;
        self.arm_keepalive(now);
        Ok(())
    }

    /// Starts a new XML stream (at connect, after TLS, after SASL): a fresh parser and our
    /// header.
    pub(crate) fn open_stream(&mut self, now: Instant) {
        self.reader = StreamReader::new(self.config.limits);
        let header = xml::stream_header(self.config.jid.domain().as_str());
        self.write_raw(now, &header);
    }

    /// Ends the session for `reason`. Sticky: the state becomes `Closed` for good.
    pub(crate) fn fail(&mut self, now: Instant, reason: DisconnectReason, farewell: Farewell) {
        if matches!(self.state, State::Closed(_)) {
            return;
        }
        // After our `</stream:stream>` nothing more may be written.
        let farewell = if matches!(self.state, State::Closing) {
            Farewell::Silent
        } else {
            farewell
        };
        match farewell {
            Farewell::Silent => {}
            Farewell::CloseStream => self.write_raw(now, xml::stream_footer()),
            Farewell::StreamError(condition) => {
                let error = format!(
                    "<stream:error><{} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
                    condition.as_str()
                );
                self.write_raw(now, error.as_bytes());
                self.write_raw(now, xml::stream_footer());
            }
        }
        self.finish(now, reason);
    }

    /// The terminal transition: close the transport, report the reason once.
    pub(crate) fn finish(&mut self, now: Instant, reason: DisconnectReason) {
        if matches!(self.state, State::Closed(_)) {
            return;
        }
        self.push_action(Action::CloseTransport);
        self.contacts.clear();
        // Unanswered requests stay pending at the server, which delivers them again.
        self.open_requests.clear();
        self.enter(now, State::Closed(reason.clone()));
        self.push_event(Event::Disconnected { reason });
    }

    fn fail_xml(&mut self, now: Instant, error: XmlError) {
        if matches!(self.state, State::Closing) {
            // We already closed our stream; whatever the server sends after it (a TLS
            // record it started before reading our close, garbage) cannot change that.
            return self.finish(now, DisconnectReason::LocalClose);
        }
        let condition = StreamErrorCondition::from_name(error.condition());
        let reason = match error {
            XmlError::LimitExceeded(limit) => DisconnectReason::LimitExceeded(limit),
            other => DisconnectReason::MalformedXml {
                condition: condition.clone(),
                detail: other.to_string(),
            },
        };
        self.fail(now, reason, Farewell::StreamError(condition));
    }

    /// The sticky error for commands after the end.
    pub(crate) fn ended(&self) -> Option<UsageError> {
        match &self.state {
            State::Closed(reason) => Some(UsageError::SessionEnded(reason.clone())),
            _ => None,
        }
    }
}

/// Higher is more available.
fn availability_rank(p: Presence) -> u8 {
    match p {
        Presence::Chat => 4,
        Presence::Away => 3,
        Presence::ExtendedAway => 2,
        Presence::DoNotDisturb => 1,
        Presence::Offline => 0,
    }
}

/// The character a writer error names (for the error types that carry one).
pub(crate) fn invalid_char(e: &xml::InvalidXml) -> char {
    match e {
        xml::InvalidXml::Char { ch } => *ch,
        _ => char::REPLACEMENT_CHARACTER,
    }
}
