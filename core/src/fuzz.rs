//! Fuzz entry points (feature `fuzz`). The cargo-fuzz targets in `fuzz/` are one-line
//! wrappers around these functions, so the bodies live here and are type-checked (and run
//! on their seed corpora) by the ordinary test suite.
//!
//! Each function takes the fuzzer's bytes and panics when an invariant breaks; peer input
//! itself must never make the core panic.
//!
//! - [`raw_bytes`]: server bytes into a fresh client, whole and in chunks (the outcome must
//!   not depend on the chunking).
//! - [`online_bytes`]: server bytes into a client a scripted login has brought online.
//! - [`command_sequence`]: an `arbitrary`-derived sequence of inputs, canned server
//!   messages, timeouts, TLS events and commands, with the contract checked after each step.
//! - [`xml_stream`]: the stream reader alone, whole against chunked.
//!
//! The SCRAM nonce comes from [`SeededEntropy::new`]`(`[`SEED`]`)`, so a recorded login
//! transcript replays exactly (the server nonce extends ours, and `v=` verifies when the
//! transcript was recorded with [`PASSWORD`] and without channel binding).

use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use minidom::Element;

use crate::client::{Client, Transport};
use crate::config::{Config, TlsPolicy};
use crate::entropy::SeededEntropy;
use crate::error::{DisconnectReason, UsageError};
use crate::event::{Action, Event, SessionState};
use crate::sasl::ChannelBinding;
use crate::sasl::ScramCache;
use crate::stanza::presence::Presence;
use crate::xml::{Limits, StreamEvent, StreamReader, XmlError};

/// The account every fuzzed client logs in as.
pub const JID: &str = "alice@localhost/fuzz";
/// Its password (the seed transcripts were recorded with it).
pub const PASSWORD: &str = "fuzz-password-1";
/// The entropy seed of every fuzzed client: nonces and stanza ids are deterministic.
pub const SEED: u64 = 42;

const HEADER: &str = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
    xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='fuzz' \
    version='1.0' xml:lang='en'>";
const FEATURES_STARTTLS: &str = "<stream:features><starttls \
    xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>";
const PROCEED: &str = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
const FEATURES_PLAIN: &str = "<stream:features><mechanisms \
    xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms>\
    </stream:features>";
const FEATURES_SCRAM: &str = "<stream:features><mechanisms \
    xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism>\
    <mechanism>SCRAM-SHA-256</mechanism></mechanisms></stream:features>";
const SUCCESS: &str = "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>";
const FEATURES_BIND: &str = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>\
    <session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session>\
    </stream:features>";

/// The configuration of every fuzzed client (with `tls` as given).
pub fn config(tls: TlsPolicy) -> Config {
    // The constants are a valid account JID.
    let mut config = Config::new(JID, PASSWORD).expect("valid fuzz JID");
    config.tls = tls;
    config
}

/// Everything observable from the client, to compare two runs.
#[derive(Debug, Default, PartialEq)]
struct Transcript {
    transmitted: Vec<u8>,
    actions: Vec<Action>,
    events: Vec<Event>,
}

/// A client with the contract checked after every call (the drain rule of the crate docs).
struct Harness {
    client: Client,
    now: Instant,
    seen: Transcript,
    /// Where the current pump's output started in `seen.transmitted`.
    last_output: usize,
    closed_transport: bool,
    tls_pending: bool,
    disconnected: Option<DisconnectReason>,
    last_state: SessionState,
}

impl Harness {
    fn new(config: Config) -> Harness {
        // The fuzz configs have a valid status.
        let client = Client::new(config, SeededEntropy::new(SEED)).expect("valid fuzz config");
        // The harness's virtual clock needs one starting point; the core itself still never
        // reads the clock (this module is test code, compiled only with `fuzz`).
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        Harness {
            client,
            now,
            seen: Transcript::default(),
            last_output: 0,
            closed_transport: false,
            tls_pending: false,
            disconnected: None,
            last_state: SessionState::Disconnected,
        }
    }

    /// Drains transmit, actions and events, checking the contract.
    fn pump(&mut self) {
        let mut out = Vec::new();
        let _ = self.client.poll_transmit(&mut out);
        assert!(
            out.is_empty() || !self.closed_transport,
            "bytes after CloseTransport: {:?}",
            String::from_utf8_lossy(&out)
        );
        assert!(
            out.is_empty() || !self.tls_pending,
            "bytes during the TLS handshake: {:?}",
            String::from_utf8_lossy(&out)
        );
        self.last_output = self.seen.transmitted.len();
        self.seen.transmitted.extend_from_slice(&out);
        while let Some(action) = self.client.poll_action() {
            assert!(!self.closed_transport, "{action:?} after CloseTransport");
            match &action {
                Action::CloseTransport => self.closed_transport = true,
                Action::StartTls { .. } => {
                    assert!(!self.tls_pending, "two StartTls without a handshake");
                    self.tls_pending = true;
                }
            }
            self.seen.actions.push(action);
        }
        while let Some(event) = self.client.poll_event() {
            assert!(self.disconnected.is_none(), "{event:?} after Disconnected");
            match &event {
                Event::Disconnected { reason } => {
                    assert!(self.closed_transport, "Disconnected without CloseTransport");
                    self.disconnected = Some(reason.clone());
                    // The end is this one event, not a StateChanged too.
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
            self.seen.events.push(event);
        }
        assert_eq!(
            self.client.state(),
            self.last_state,
            "state() vs StateChanged"
        );
        match &self.disconnected {
            Some(reason) => {
                let closed = SessionState::Closed {
                    reason: reason.clone(),
                };
                assert_eq!(self.client.state(), closed, "Closed is sticky");
                assert!(self.client.is_closed());
                assert_eq!(self.client.poll_timeout(), None, "a timer after the end");
            }
            None => assert!(!self.client.is_closed(), "closed without Disconnected"),
        }
    }

    fn connect(&mut self, transport: Transport) -> Result<(), UsageError> {
        let result = self.client.connect(self.now, transport);
        self.pump();
        result
    }

    fn input(&mut self, bytes: &[u8]) {
        let values = (self.client.presence(), self.client.status().to_string());
        self.client.handle_input(self.now, bytes);
        self.pump();
        let after = (self.client.presence(), self.client.status().to_string());
        assert_eq!(values, after, "the server changed our presence or status");
        // Answers (IQ results and errors, stream errors) stay in proportion to the input:
        // a server cannot make the client amplify its traffic.
        let sent = self.seen.transmitted.len() - self.last_output;
        assert!(
            sent <= 2 * bytes.len() + 1024,
            "{sent} bytes sent for {} received",
            bytes.len()
        );
    }

    /// Feeds `bytes` in pieces of `chunk`, finishing a requested TLS handshake after each.
    fn input_chunked(&mut self, bytes: &[u8], chunk: usize) {
        for piece in bytes.chunks(chunk.max(1)) {
            if self.closed_transport {
                return;
            }
            self.input(piece);
            if self.tls_pending {
                let _ = self.tls_established(None);
            }
        }
    }

    fn tls_established(&mut self, binding: Option<ChannelBinding>) -> Result<(), UsageError> {
        let result = self.client.tls_established(self.now, binding);
        if result.is_ok() {
            self.tls_pending = false;
        }
        self.pump();
        result
    }

    fn timeout_at(&mut self, at: Instant) {
        self.now = self.now.max(at);
        self.client.handle_timeout(self.now);
        self.pump();
        if let Some(next) = self.client.poll_timeout() {
            assert!(next > self.now, "a timer still due after handle_timeout");
        }
    }

    fn eof(&mut self) {
        self.client.handle_eof(self.now);
        self.pump();
    }

    /// Runs a command and checks the usage rules: after the end every command fails with
    /// the reason the session ended with; a refused command changes nothing.
    fn command(&mut self, run: impl FnOnce(&mut Client, Instant) -> Result<(), UsageError>) {
        let before = (
            self.client.state(),
            self.client.presence(),
            self.client.status().to_string(),
        );
        let events = self.seen.events.len();
        let ended_before = self.disconnected.is_some();
        let result = run(&mut self.client, self.now);
        self.pump();
        if let Err(error) = &result {
            let after = (
                self.client.state(),
                self.client.presence(),
                self.client.status().to_string(),
            );
            assert_eq!(before, after, "a refused command changed the client");
            assert_eq!(
                self.seen.transmitted.len(),
                self.last_output,
                "a refused command sent bytes"
            );
            assert_eq!(
                self.seen.events.len(),
                events,
                "a refused command made events"
            );
            if let Some(reason) = &self.disconnected {
                assert_eq!(error, &UsageError::SessionEnded(reason.clone()));
            }
        } else {
            assert!(!ended_before, "a command succeeded after the end");
        }
    }

    /// The id of the last IQ the client sent, to answer it.
    fn last_iq_id(&self) -> String {
        let text = String::from_utf8_lossy(&self.seen.transmitted);
        let Some(at) = text.rfind("<iq ") else {
            return "none".into();
        };
        let tail = &text[at..];
        tail.find("id='")
            .map(|i| &tail[i + 4..])
            .and_then(|t| t.split('\'').next())
            .unwrap_or("none")
            .to_string()
    }
}

/// Server bytes into a fresh client. The first byte picks the transport and the chunk size;
/// a requested TLS handshake completes after the chunk that asked for it. Without STARTTLS
/// the same bytes are also fed one at a time, and both runs must agree; when the login
/// verified a SCRAM key, a run with that key cached must agree too.
pub fn raw_bytes(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let chunk = [1, 7, 61, usize::MAX][usize::from(mode >> 2) & 3];
    let run = |chunk: usize, cache: Option<ScramCache>| {
        let (tls, transport) = match mode & 3 {
            0 | 1 => (TlsPolicy::Required, Transport::Plain),
            2 => (TlsPolicy::Required, Transport::DirectTls(None)),
            _ => (TlsPolicy::InsecurePlaintext, Transport::Plain),
        };
        let mut config = config(tls);
        if let Some(cache) = cache {
            config.scram_cache = cache;
        }
        let mut h = Harness::new(config);
        let _ = h.connect(transport);
        h.input_chunked(rest, chunk);
        h.eof();
        (h.seen, h.client.scram_cache().clone())
    };
    let (first, cache) = run(chunk, None);
    let starttls = first
        .actions
        .iter()
        .any(|a| matches!(a, Action::StartTls { .. }));
    if chunk != 1 && !starttls {
        assert_eq!(first, run(1, None).0, "chunking changed the outcome");
    }
    if !cache.is_empty() {
        // The server verified a SCRAM key: the same bytes again, with the key cached, must
        // give the same outcome without PBKDF2.
        let (again, _) = run(chunk, Some(cache));
        assert_eq!(first, again, "the SCRAM key cache changed the outcome");
    }
}

/// Logs a harness in over STARTTLS and PLAIN with the scripted server messages.
fn online_harness(fetch_roster: bool) -> Harness {
    let mut config = config(TlsPolicy::Required);
    config.fetch_roster = fetch_roster;
    let mut h = Harness::new(config);
    let _ = h.connect(Transport::Plain);
    h.input(format!("{HEADER}{FEATURES_STARTTLS}{PROCEED}").as_bytes());
    let _ = h.tls_established(None);
    h.input(format!("{HEADER}{FEATURES_PLAIN}{SUCCESS}").as_bytes());
    h.input(format!("{HEADER}{FEATURES_BIND}").as_bytes());
    let id = h.last_iq_id();
    h.input(bind_result(&id, JID).as_bytes());
    if fetch_roster {
        let id = h.last_iq_id();
        h.input(
            format!("<iq type='result' id='{id}'><query xmlns='jabber:iq:roster'/></iq>")
                .as_bytes(),
        );
    }
    assert_eq!(h.client.state(), SessionState::Online, "the scripted login");
    h
}

fn bind_result(id: &str, jid: &str) -> String {
    format!(
        "<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
         <jid>{jid}</jid></bind></iq>"
    )
}

/// Server bytes into a client that a scripted login brought online. The first byte picks
/// the chunk size; at the end the client closes, then the transport reaches end of file.
pub fn online_bytes(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let chunk = [1, 3, 16, 64, 256, 1024, 4096, usize::MAX][usize::from(mode) & 7];
    let mut h = online_harness(mode & 8 != 0);
    h.input_chunked(rest, chunk);
    if !h.client.is_closed() {
        h.command(|c, now| c.set_presence(now, Presence::Away));
        h.command(|c, now| c.close(now));
    }
    h.eof();
}

/// How the fuzzed client connects.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum Connect {
    Plain,
    DirectTls,
    DirectTlsWithBinding,
}

/// Server messages the fuzzer would take long to find byte by byte.
#[derive(Debug, Clone, Copy, Arbitrary)]
enum Canned {
    Header,
    FeaturesStartTls,
    Proceed,
    StartTlsFailure,
    FeaturesPlain,
    FeaturesScram,
    FeaturesEmpty,
    Success,
    SaslFailure,
    FeaturesBind,
    BindResult,
    BindResultForAnotherAccount,
    BindError,
    IqResult,
    RosterPush,
    PresenceError,
    ContactPresence,
    OwnPresenceEcho,
    Message,
    Ping,
    StreamError,
    StreamClose,
    Whitespace,
}

/// One step of [`command_sequence`].
#[derive(Debug, Clone, Arbitrary)]
enum Op {
    Connect(Connect),
    Input(Vec<u8>),
    Say(Canned),
    Eof,
    /// Advance the clock by this many tenths of a second, then `handle_timeout`.
    Advance(u16),
    /// Jump to `poll_timeout` and fire it.
    FireTimeout,
    TlsEstablished(bool),
    TlsFailed,
    SetPresence(u8),
    SetStatus(String),
    ChangePresence(u8, String),
    Close,
    SendMessage(String),
    SendPresence,
}

fn presence_of(n: u8) -> Presence {
    match n % 5 {
        0 => Presence::Offline,
        1 => Presence::Chat,
        2 => Presence::Away,
        3 => Presence::ExtendedAway,
        _ => Presence::DoNotDisturb,
    }
}

/// An `arbitrary` sequence of inputs, canned server messages, timeouts, TLS events and
/// commands, with the contract checked after each step: no panic; `Disconnected` at most
/// once and last, after `CloseTransport`; nothing written after `CloseTransport` or during
/// the TLS handshake; no timer due right after `handle_timeout`; `Closed` sticky, with
/// every later command failing with the same reason; a refused command changes nothing;
/// a successful presence command leaves the values it set.
pub fn command_sequence(data: &[u8]) {
    let _ = command_sequence_trace(data);
}

/// [`command_sequence`], returning each step it ran and the state after it (to check what a
/// seed does).
pub fn command_sequence_trace(data: &[u8]) -> Vec<String> {
    let mut trace = Vec::new();
    let mut u = Unstructured::new(data);
    let insecure = bool::arbitrary(&mut u).unwrap_or(false);
    let fetch_roster = bool::arbitrary(&mut u).unwrap_or(true);
    let mut config = config(if insecure {
        TlsPolicy::InsecurePlaintext
    } else {
        TlsPolicy::Required
    });
    config.fetch_roster = fetch_roster;
    let mut h = Harness::new(config);
    let Ok(ops) = u.arbitrary_iter::<Op>() else {
        return trace;
    };
    for op in ops.take(256) {
        let Ok(op) = op else { break };
        let shown = format!("{op:?}");
        step(&mut h, op);
        trace.push(format!("{shown} -> {}", h.client.state().name()));
    }
    trace
}

fn step(h: &mut Harness, op: Op) {
    match op {
        Op::Connect(kind) => {
            let transport = match kind {
                Connect::Plain => Transport::Plain,
                Connect::DirectTls => Transport::DirectTls(None),
                Connect::DirectTlsWithBinding => Transport::DirectTls(Some(binding())),
            };
            h.command(|c, now| c.connect(now, transport));
        }
        Op::Input(bytes) => h.input(&bytes),
        Op::Say(canned) => {
            let text = canned_text(h, canned);
            h.input(text.as_bytes());
        }
        Op::Eof => h.eof(),
        Op::Advance(tenths) => {
            let at = h.now + Duration::from_millis(u64::from(tenths) * 100);
            h.timeout_at(at);
        }
        Op::FireTimeout => {
            if let Some(at) = h.client.poll_timeout() {
                h.timeout_at(at);
            }
        }
        Op::TlsEstablished(with_binding) => {
            let result = h.tls_established(with_binding.then(binding));
            if let (Err(e), Some(reason)) = (&result, &h.disconnected) {
                assert_eq!(e, &UsageError::SessionEnded(reason.clone()));
            }
        }
        Op::TlsFailed => {
            let result = h.client.tls_failed(h.now, "fuzz");
            if result.is_ok() {
                h.tls_pending = false;
            }
            h.pump();
        }
        Op::SetPresence(p) => {
            let p = presence_of(p);
            h.command(|c, now| c.set_presence(now, p));
            check_values(h, Some(p), None);
        }
        Op::SetStatus(s) => {
            h.command(|c, now| c.set_status(now, &s));
            check_values(h, None, Some(&s));
        }
        Op::ChangePresence(p, s) => {
            let p = presence_of(p);
            h.command(|c, now| c.change_presence(now, p, &s));
            check_values(h, Some(p), Some(&s));
        }
        Op::Close => h.command(|c, now| c.close(now)),
        Op::SendMessage(body) => {
            let mut message = Element::builder("message", "jabber:client").build();
            message.set_attr(
                minidom::rxml::Namespace::NONE,
                crate::stanza::attr_name("to"),
                "bob@localhost",
            );
            message.append_child(Element::builder("body", "jabber:client").build());
            if let Some(b) = message.children_mut().next() {
                b.append_text(body);
            }
            h.command(|c, now| c.send(now, &message));
        }
        Op::SendPresence => {
            let presence = Element::builder("presence", "jabber:client").build();
            h.command(|c, now| c.send(now, &presence));
        }
    }
}

/// After a presence command: if it was accepted, the getters show what was set.
fn check_values(h: &Harness, presence: Option<Presence>, status: Option<&str>) {
    if h.client.is_closed() || matches!(h.client.state(), SessionState::Closing) {
        return;
    }
    let valid = status.is_none_or(|s| crate::check_text(s).is_ok());
    if valid {
        if let Some(p) = presence {
            assert_eq!(h.client.presence(), p);
        }
        if let Some(s) = status {
            assert_eq!(h.client.status(), s);
        }
    }
}

fn binding() -> ChannelBinding {
    ChannelBinding {
        tls_exporter: Some(b"fuzz exporter".to_vec()),
        tls_server_end_point: Some(b"fuzz end point".to_vec()),
        ..ChannelBinding::default()
    }
}

fn canned_text(h: &Harness, canned: Canned) -> String {
    let stanza_error = "<error type='cancel'><not-allowed \
        xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>";
    match canned {
        Canned::Header => HEADER.into(),
        Canned::FeaturesStartTls => FEATURES_STARTTLS.into(),
        Canned::Proceed => PROCEED.into(),
        Canned::StartTlsFailure => "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>".into(),
        Canned::FeaturesPlain => FEATURES_PLAIN.into(),
        Canned::FeaturesScram => FEATURES_SCRAM.into(),
        Canned::FeaturesEmpty => "<stream:features/>".into(),
        Canned::Success => SUCCESS.into(),
        Canned::SaslFailure => "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
            <not-authorized/></failure>"
            .into(),
        Canned::FeaturesBind => FEATURES_BIND.into(),
        Canned::BindResult => bind_result(&h.last_iq_id(), JID),
        Canned::BindResultForAnotherAccount => {
            bind_result(&h.last_iq_id(), "mallory@localhost/fuzz")
        }
        Canned::BindError => format!(
            "<iq type='error' id='{}'>{stanza_error}</iq>",
            h.last_iq_id()
        ),
        Canned::IqResult => format!(
            "<iq type='result' id='{}'><query xmlns='jabber:iq:roster'/></iq>",
            h.last_iq_id()
        ),
        Canned::RosterPush => "<iq type='set' id='push1'><query xmlns='jabber:iq:roster'>\
            <item jid='bob@localhost' subscription='both'/></query></iq>"
            .into(),
        Canned::PresenceError => {
            format!("<presence type='error' from='localhost'>{stanza_error}</presence>")
        }
        Canned::ContactPresence => "<presence from='bob@localhost/phone'><show>away</show>\
            <status>out</status><priority>5</priority></presence>"
            .into(),
        Canned::OwnPresenceEcho => format!("<presence from='{JID}' type='unavailable'/>"),
        Canned::Message => {
            "<message from='bob@localhost/phone' type='chat'><body>hi</body></message>".into()
        }
        Canned::Ping => "<iq type='get' id='ping1' from='localhost'>\
            <ping xmlns='urn:xmpp:ping'/></iq>"
            .into(),
        Canned::StreamError => "<stream:error><system-shutdown \
            xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
            .into(),
        Canned::StreamClose => "</stream:stream>".into(),
        Canned::Whitespace => "\n  \n".into(),
    }
}

/// The stream reader alone. The first byte picks the limits (default or tight) and a chunk
/// size; the bytes are read whole and chunked, and with the reader's fast path on and off:
/// all must give the same events and the same error. An error poisons the reader;
/// `Ok(None)` means all input was taken.
pub fn xml_stream(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let limits = if mode & 1 == 0 {
        Limits::default()
    } else {
        Limits {
            max_stanza_bytes: 200,
            max_depth: 5,
            max_attributes: 4,
            max_whitespace_run: 16,
        }
    };
    let chunk = 1 + usize::from(mode >> 1);
    let whole = read_stream(StreamReader::new(limits), &[rest]);
    let pieces: Vec<&[u8]> = rest.chunks(chunk).collect();
    let chunked = read_stream(StreamReader::new(limits), &pieces);
    assert_eq!(whole, chunked, "chunking changed the outcome");
    // The reader's fast path must never change what rxml alone would say.
    let rxml_only = read_stream(StreamReader::without_fast_path(limits), &[rest]);
    assert_eq!(whole, rxml_only, "the fast path changed the outcome");
}

fn read_stream(mut reader: StreamReader, chunks: &[&[u8]]) -> (Vec<StreamEvent>, Option<XmlError>) {
    let mut events = Vec::new();
    for chunk in chunks {
        let mut input = *chunk;
        loop {
            // No check that an event consumed bytes: `<stream:stream/>` yields the header
            // and the close from the same `/>`.
            match reader.next(&mut input) {
                Ok(Some(event)) => events.push(event),
                Ok(None) => break,
                Err(e) => {
                    assert_eq!(reader.next(&mut &b"<a/>"[..]), Err(e.clone()), "poisoned");
                    return (events, Some(e));
                }
            }
        }
        let closed = matches!(events.last(), Some(StreamEvent::Close));
        assert!(closed || input.is_empty(), "Ok(None) left input behind");
    }
    (events, None)
}
