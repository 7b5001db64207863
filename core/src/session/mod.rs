//! The session state machine. Everything that decides a transition lives in this folder;
//! this file routes each input to the current state's handler and applies what it returns.
//!
//! ```text
//! state              on                                    next
//! -----------------  ------------------------------------  ------------------------------------
//! Disconnected       connect                               ExpectHeader(Initial)
//! ExpectHeader(p)    the server's header, version 1.x      ExpectFeatures(p)
//! ExpectFeatures     Initial, plain transport, TLS needed  ExpectProceed (<starttls/> sent)
//!                    Initial on TLS, or AfterTls           Authenticating (<auth/> sent)
//!                    AfterAuth, bind offered               ExpectBind (bind request sent)
//! ExpectProceed      <proceed/>                            TlsHandshake (Action::StartTls)
//! TlsHandshake       tls_established                       ExpectHeader(AfterTls) (new stream)
//! Authenticating     <challenge/>                          Authenticating (<response/> sent)
//!                    <success/>, server verified           ExpectHeader(AfterAuth) (new stream)
//! ExpectBind         our JID bound                         ExpectSession (if required),
//!                                                          ExpectRoster, or Online
//! ExpectSession      result                                ExpectRoster, or Online
//! ExpectRoster       result or error                       Online (initial presence sent)
//! Online             stanzas, commands                     Online
//! any live state     close                                 Closing (</stream:stream> sent; from
//!                                                          Online, unavailable presence first)
//! Closing            the server's close, EOF, close timer  Closed(LocalClose)
//! any live state     stream error, EOF, server close, bad  Closed(reason), after the farewell
//!                    XML, limits, step timeout, refusals   the failure names
//! ```
//!
//! A handler either returns the next state or a [`Failure`](context::Failure); the one `Err`
//! arm in [`Session::advance`] ends the session, and `Closed` is never left. `StateChanged`
//! announces every transition but the end, which `Disconnected` reports once.
//!
//! Files: `state` (the enum, each variant owning its phase's data), `context` (what handlers
//! share, and failures), `login/` (header and features, STARTTLS, SASL, binding and the
//! roster fetch), `online/` (stanzas, roster, subscriptions).

mod context;
mod login;
mod online;
mod state;

use crate::Instant;

use jid::{BareJid, FullJid, Jid};
use minidom::Element;

use crate::error::{DisconnectReason, Step, StreamErrorCondition, UsageError};
use crate::event::{Action, Event, SessionState};
use crate::stanza::NS_CLIENT;
use crate::stanza::attr_name;
use crate::stanza::features::NS_STREAM;
use crate::stanza::presence::{IncomingPresence, Presence, build_own_presence, write_own_presence};
use crate::stanza::roster::Roster;
use crate::stanza::sm::{self, Resumption};
use crate::timer::Timer;
use crate::xml::{self, StreamEvent, StreamReader, XmlError};

pub(crate) use context::{Context, Link};
use context::{Failure, Farewell};
pub(crate) use online::SessionData;
use state::{Closed, Closing, State};

/// The roster before the session has one.
static NO_ROSTER: Roster = Roster {
    version: None,
    items: std::collections::BTreeMap::new(),
};

/// The state and the reader of the current XML stream.
#[derive(Debug)]
pub(crate) struct Session {
    state: State,
    reader: StreamReader,
}

impl Session {
    pub(crate) fn new(limits: crate::Limits) -> Session {
        Session {
            state: State::Disconnected,
            reader: StreamReader::new(limits),
        }
    }

    // ----- getters -----

    pub(crate) fn public(&self) -> SessionState {
        self.state.public()
    }

    pub(crate) fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed(_))
    }

    pub(crate) fn bound_jid(&self) -> Option<&FullJid> {
        self.state.bound().0
    }

    pub(crate) fn roster(&self) -> &Roster {
        match (&self.state, self.state.bound().1) {
            (State::Closed(closed), _) => &closed.roster,
            (_, Some(data)) => &data.roster,
            _ => &NO_ROSTER,
        }
    }

    pub(crate) fn contact_presences(&self, contact: &BareJid) -> Vec<&IncomingPresence> {
        self.state
            .bound()
            .1
            .map(|data| data.contact_presences(contact))
            .unwrap_or_default()
    }

    /// The session's data, once bound.
    pub(crate) fn data(&self) -> Option<&SessionData> {
        self.state.bound().1
    }

    pub(crate) fn resumption(&self) -> Option<&Resumption> {
        match &self.state {
            State::Closed(closed) => closed.resumption.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn buffered_bytes(&self) -> usize {
        self.reader.buffered_bytes()
    }

    // ----- inputs -----

    /// Bytes from the transport (any chunk of the stream).
    pub(crate) fn handle_input(&mut self, now: Instant, data: &[u8], cx: &mut Context) {
        if !data.is_empty() && matches!(self.state, State::Online(_)) {
            // Any byte proves the link alive.
            arm_link_check(now, cx);
        }
        let mut rest = data;
        loop {
            match self.state {
                State::Disconnected | State::Closed(_) => return,
                State::TlsHandshake => {
                    if !rest.is_empty() {
                        let injection = DisconnectReason::TlsInjection;
                        self.fail(now, Failure::new(injection, Farewell::Silent), cx);
                    }
                    return;
                }
                _ => {}
            }
            match self.reader.next(&mut rest) {
                Ok(Some(event)) => {
                    self.on_stream_event(now, event, cx);
                    // After <proceed/> or <success/> the rest belongs to a new stream.
                    if cx.out.take_new_stream() {
                        self.reader = fresh_reader(cx);
                    }
                }
                Ok(None) => return,
                Err(e) => return self.fail_xml(now, e, cx),
            }
        }
    }

    /// One WebSocket message (RFC 7395): exactly one complete element, read like a
    /// top-level element of a TCP stream (`<open/>` as the header, `<close/>` as the close).
    /// Anything else ends the session with a `bad-format` stream error.
    pub(crate) fn handle_message(&mut self, now: Instant, message: &[u8], cx: &mut Context) {
        if !message.is_empty() && matches!(self.state, State::Online(_)) {
            arm_link_check(now, cx);
        }
        let mut rest = message;
        let mut elements = 0;
        loop {
            if matches!(self.state, State::Disconnected | State::Closed(_)) {
                return;
            }
            let event = match self.reader.next(&mut rest) {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(e) => return self.fail_xml(now, e, cx),
            };
            elements += 1;
            let event = match xml::framing::unframe(event) {
                Ok(event) if elements == 1 => event,
                Ok(_) => {
                    let e = XmlError::BadFormat("a WebSocket message holds more than one element");
                    self.reader = fresh_reader(cx);
                    return self.fail_xml(now, e, cx);
                }
                Err(e) => return self.fail_xml(now, e, cx),
            };
            self.on_stream_event(now, event, cx);
            if cx.out.take_new_stream() {
                self.reader = fresh_reader(cx);
            }
        }
        if !self.reader.between_elements()
            && !matches!(self.state, State::Disconnected | State::Closed(_))
        {
            let e = XmlError::BadFormat("a WebSocket message ended inside an element");
            // Nothing of the broken message is kept.
            self.reader = fresh_reader(cx);
            self.fail_xml(now, e, cx);
        }
    }

    pub(crate) fn handle_eof(&mut self, now: Instant, cx: &mut Context) {
        match self.state {
            State::Disconnected | State::Closed(_) => {}
            State::Closing(_) => self.finish(now, DisconnectReason::LocalClose, cx),
            _ => self.fail(
                now,
                Failure::new(DisconnectReason::Eof, Farewell::Silent),
                cx,
            ),
        }
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant, cx: &mut Context) {
        if cx.out.timers.take_expired(Timer::SubscriptionWindow, now)
            && let State::Online(online) = &mut self.state
        {
            online.data.on_subscription_window(now, cx);
        }
        if cx.out.timers.take_expired(Timer::Step, now) {
            match self.state.step() {
                Some(Step::Closing) => self.finish(now, DisconnectReason::LocalClose, cx),
                Some(step) => {
                    let farewell = if matches!(self.state, State::TlsHandshake) {
                        Farewell::Silent
                    } else {
                        Farewell::CloseStream
                    };
                    let timeout = DisconnectReason::Timeout(step);
                    self.fail(now, Failure::new(timeout, farewell), cx);
                }
                None => {}
            }
        }
        if cx.out.timers.take_expired(Timer::LinkCheck, now)
            && let State::Online(online) = &mut self.state
        {
            online.data.check_link(cx);
            let at = now + cx.config.timeouts.link_answer;
            cx.out.timers.set(Timer::LinkDeadline, at);
            // The check went out: no whitespace keepalive is needed now.
            arm_keepalive(now, cx);
        }
        // RFC 7395 has no whitespace keepalive: over a WebSocket the link check (and the
        // adapter's WebSocket pings) keep the path alive.
        if cx.out.timers.take_expired(Timer::Keepalive, now)
            && matches!(self.state, State::Online(_))
            && !cx.out.is_websocket()
        {
            cx.out.write_raw(b" ");
        }
        if cx.out.timers.take_expired(Timer::AckRequest, now)
            && let State::Online(online) = &mut self.state
        {
            online.data.on_ack_timer(cx);
        }
        if cx.out.timers.take_expired(Timer::LinkDeadline, now)
            && matches!(self.state, State::Online(_))
        {
            let dead = Failure::new(DisconnectReason::LinkDead, Farewell::Silent);
            self.fail(now, dead, cx);
        }
    }

    pub(crate) fn tls_established(
        &mut self,
        now: Instant,
        binding: Option<crate::ChannelBinding>,
        cx: &mut Context,
    ) -> Result<(), UsageError> {
        self.expect_tls_handshake()?;
        self.advance(now, cx, |_, cx| Ok(login::tls_established(binding, cx)));
        Ok(())
    }

    pub(crate) fn tls_failed(
        &mut self,
        now: Instant,
        message: String,
        cx: &mut Context,
    ) -> Result<(), UsageError> {
        self.expect_tls_handshake()?;
        let failed = DisconnectReason::TlsFailed { message };
        self.fail(now, Failure::new(failed, Farewell::Silent), cx);
        Ok(())
    }

    fn expect_tls_handshake(&self) -> Result<(), UsageError> {
        if let Some(e) = self.ended() {
            return Err(e);
        }
        match self.state {
            State::TlsHandshake => Ok(()),
            _ => Err(UsageError::NoTlsHandshake),
        }
    }

    /// After every input and command: a new stream gets a fresh reader, and anything
    /// written while online re-arms the keepalive.
    pub(crate) fn settle(&mut self, now: Instant, cx: &mut Context) {
        if cx.out.take_new_stream() {
            self.reader = fresh_reader(cx);
        }
        let can_write = !matches!(self.state, State::Closing(_));
        if let Some(data) = self.state.data_mut() {
            data.settle_acks(now, can_write, cx);
        }
        if cx.out.take_wrote() && matches!(self.state, State::Online(_)) {
            arm_keepalive(now, cx);
        }
    }

    // ----- commands -----

    pub(crate) fn connect(
        &mut self,
        now: Instant,
        link: Link,
        cx: &mut Context,
    ) -> Result<(), UsageError> {
        if let Some(e) = self.ended() {
            return Err(e);
        }
        if !matches!(self.state, State::Disconnected) {
            return Err(UsageError::AlreadyConnected);
        }
        self.advance(now, cx, |_, cx| Ok(login::open_first_stream(link, cx)));
        Ok(())
    }

    /// Unavailable presence when online (after the policy answered open subscription
    /// requests), `</stream:stream>`, then `Closing`.
    pub(crate) fn close(&mut self, now: Instant, cx: &mut Context) -> Result<(), UsageError> {
        if let Some(e) = self.ended() {
            return Err(e);
        }
        match self.state {
            State::Closing(_) => return Err(UsageError::AlreadyClosing),
            State::Disconnected => return Err(UsageError::NotConnected),
            // Nothing may be written while the adapter does the TLS handshake.
            State::TlsHandshake => {
                self.finish(now, DisconnectReason::LocalClose, cx);
                return Ok(());
            }
            _ => {}
        }
        if let State::Online(online) = &mut self.state {
            online.data.answer_open_requests(cx);
            let priority = cx.config.priority;
            cx.out
                .write_with(|out| write_own_presence(Presence::Offline, "", priority, None, out));
        }
        cx.out.close_stream();
        self.advance(now, cx, |state, _| {
            let (jid, data) = match state {
                State::Online(s) => (Some(s.jid), s.data),
                State::ExpectSession(s) => (Some(s.jid), s.data),
                State::ExpectRoster(s) => (Some(s.jid), s.data),
                State::ExpectBind(s) => (None, s.data),
                _ => (None, Box::default()),
            };
            Ok(State::Closing(Closing { jid, data }))
        });
        Ok(())
    }

    /// Refuses a setting once the session is closing or closed (with the reason it ended).
    fn still_open(&self) -> Result<(), UsageError> {
        match self.state {
            State::Closed(_) => Err(self.ended().unwrap_or(UsageError::AlreadyClosing)),
            State::Closing(_) => Err(UsageError::AlreadyClosing),
            _ => Ok(()),
        }
    }

    /// Sets availability and status; online, one stanza goes out (none when both equal the
    /// current values).
    pub(crate) fn change_presence(
        &mut self,
        presence: Presence,
        status: &str,
        cx: &mut Context,
    ) -> Result<(), UsageError> {
        self.still_open()?;
        crate::error::check_text(status)?;
        if presence == cx.presence && status == cx.status {
            return Ok(());
        }
        cx.presence = presence;
        cx.status = status.to_string();
        if matches!(self.state, State::Online(_)) {
            online::send_own_presence(cx);
        }
        Ok(())
    }

    /// Sets the client state (XEP-0352); online, a server that offers CSI is told at once
    /// (nothing goes out when the value is the current one).
    pub(crate) fn set_client_active(
        &mut self,
        active: bool,
        cx: &mut Context,
    ) -> Result<(), UsageError> {
        self.still_open()?;
        cx.client_active = active;
        if let State::Online(online) = &mut self.state {
            online.data.sync_client_state(cx);
        }
        Ok(())
    }

    /// Replaces the application's extra features (XEP-0030/0115): the caps are
    /// recomputed and, online and available, announced with the current presence.
    pub(crate) fn set_extra_features(
        &mut self,
        features: Vec<String>,
        cx: &mut Context,
    ) -> Result<(), UsageError> {
        self.still_open()?;
        let old = std::mem::replace(&mut cx.config.extra_features, features);
        if let Err(e) = cx.config.check_disco() {
            cx.config.extra_features = old;
            return Err(UsageError::InvalidElement(e.to_string()));
        }
        let caps = cx.config.caps();
        if caps == cx.own_caps {
            return Ok(());
        }
        cx.caps_cache
            .insert(caps.ver.clone(), cx.config.disco_info().features);
        cx.own_caps = caps;
        if matches!(self.state, State::Online(_)) && cx.presence.is_available() {
            online::send_own_presence(cx);
        }
        Ok(())
    }

    /// A stanza from the application; broadcast presence must go through the presence
    /// commands.
    pub(crate) fn send(&mut self, stanza: &Element, cx: &mut Context) -> Result<(), UsageError> {
        self.expect_online_to_send()?;
        if stanza.is("presence", NS_CLIENT) && stanza.attr("to").is_none() {
            return Err(UsageError::UsePresenceApi);
        }
        cx.out
            .write_checked(stanza)
            .map_err(|e| UsageError::InvalidElement(e.to_string()))
    }

    /// The account's current presence, to one JID.
    pub(crate) fn send_directed_presence(
        &mut self,
        to: &Jid,
        cx: &mut Context,
    ) -> Result<(), UsageError> {
        self.expect_online_to_send()?;
        let mut stanza = build_own_presence(cx.presence, &cx.status, cx.config.priority);
        stanza.set_attr(minidom::rxml::Namespace::NONE, attr_name("to"), to.as_str());
        cx.out.write(&stanza);
        Ok(())
    }

    fn expect_online_to_send(&self) -> Result<(), UsageError> {
        if let Some(e) = self.ended() {
            return Err(e);
        }
        match self.state {
            State::Online(_) => Ok(()),
            _ => Err(UsageError::NotOnline),
        }
    }

    /// The session's data, for the roster and subscription commands: they need an online
    /// session.
    pub(crate) fn online(&mut self) -> Result<&mut SessionData, UsageError> {
        if let Some(e) = self.ended() {
            return Err(e);
        }
        match &mut self.state {
            State::Online(online) => Ok(&mut online.data),
            State::Disconnected => Err(UsageError::NotConnected),
            State::Closing(_) => Err(UsageError::AlreadyClosing),
            _ => Err(UsageError::NotOnline),
        }
    }

    /// The sticky error for commands after the end.
    fn ended(&self) -> Option<UsageError> {
        match &self.state {
            State::Closed(closed) => Some(UsageError::SessionEnded(closed.reason.clone())),
            _ => None,
        }
    }

    // ----- transitions -----

    /// Routes one stream event to the handler of the current state.
    fn on_stream_event(&mut self, now: Instant, event: StreamEvent, cx: &mut Context) {
        let stanza = match event {
            StreamEvent::Header(header) => {
                if matches!(self.state, State::ExpectHeader(_)) {
                    self.advance(now, cx, |state, _| match state {
                        State::ExpectHeader(phase) => login::expect_header(phase, header),
                        other => Ok(other),
                    });
                }
                // The reader yields one header per stream; any other state cannot see one.
                return;
            }
            StreamEvent::Close => return self.on_server_close(now, cx),
            StreamEvent::Element(stanza) => stanza,
        };
        if stanza.is("error", NS_STREAM) {
            let reason = login::read_stream_error(&stanza.to_element());
            // A stream error is answered by closing our stream, never by an error of our own.
            return self.fail(now, Failure::new(reason, Farewell::CloseStream), cx);
        }
        if sm::is_counted(stanza.name(), stanza.ns())
            && let Some(data) = self.state.data_mut()
        {
            data.count_inbound();
        }
        if online::sm::is_sm(&stanza) && !matches!(self.state, State::ExpectResumed(_)) {
            let can_reply = !matches!(self.state, State::Closing(_));
            if let Some(data) = self.state.data_mut() {
                if let Err(failure) = data.on_sm(&stanza, can_reply, cx) {
                    self.fail(now, failure, cx);
                }
                return;
            }
        }
        match &mut self.state {
            State::Online(online) => return online.data.on_stanza(now, stanza, true, cx),
            // After our `</stream:stream>` nothing may be written; still report.
            State::Closing(closing) => return closing.data.on_stanza(now, stanza, false, cx),
            State::Disconnected | State::TlsHandshake | State::Closed(_) => return,
            _ => {}
        }
        // Login elements are few: the login handlers read them as minidom elements.
        self.advance(now, cx, |state, cx| match state {
            State::ExpectHeader(_) => Err(Failure::peer(
                crate::PeerMisbehaved::ElementBeforeHeader,
                Farewell::StreamError(StreamErrorCondition::BadFormat),
            )),
            State::ExpectFeatures(phase) => login::expect_features(phase, &stanza.to_element(), cx),
            State::ExpectProceed => login::expect_proceed(&stanza.to_element(), cx),
            State::Authenticating(auth) => auth.handle(&stanza.to_element(), cx),
            State::ExpectBind(s) => s.handle(now, stanza, cx),
            State::ExpectResumed(s) => s.handle(&stanza, cx),
            State::ExpectSession(s) => s.handle(now, stanza, cx),
            State::ExpectRoster(s) => Ok(s.handle(now, stanza, cx)),
            other => Ok(other),
        });
    }

    fn on_server_close(&mut self, now: Instant, cx: &mut Context) {
        match self.state {
            State::Closing(_) => self.finish(now, DisconnectReason::LocalClose, cx),
            _ => self.fail(
                now,
                Failure::new(DisconnectReason::ServerClosed, Farewell::CloseStream),
                cx,
            ),
        }
    }

    fn fail_xml(&mut self, now: Instant, error: XmlError, cx: &mut Context) {
        if matches!(self.state, State::Closing(_)) {
            // We already closed our stream; whatever the server sends after it (a TLS
            // record it started before reading our close, garbage) cannot change that.
            return self.finish(now, DisconnectReason::LocalClose, cx);
        }
        let condition = StreamErrorCondition::from_name(error.condition());
        let reason = match error {
            XmlError::LimitExceeded(limit) => DisconnectReason::LimitExceeded(limit),
            other => DisconnectReason::MalformedXml {
                condition: condition.clone(),
                detail: other.to_string(),
            },
        };
        self.fail(
            now,
            Failure::new(reason, Farewell::StreamError(condition)),
            cx,
        );
    }

    /// Runs a handler that consumes the current state: its next state is entered, its
    /// failure ends the session (the one place where an error becomes the end).
    fn advance(
        &mut self,
        now: Instant,
        cx: &mut Context,
        handler: impl FnOnce(State, &mut Context) -> Result<State, Failure>,
    ) {
        let before = self.state.public();
        let before_step = self.state.step();
        let state = std::mem::replace(&mut self.state, State::Disconnected);
        match handler(state, cx) {
            Ok(next) => self.enter(now, next, before, before_step, cx),
            Err(failure) => self.fail(now, failure, cx),
        }
    }

    /// Moves to `next`, announcing the public state when it changes and arming the step
    /// timer when a new step begins. A step's deadline runs from its start: moving between
    /// the states of one step (header, then features; restart, then bind) keeps it.
    fn enter(
        &mut self,
        now: Instant,
        next: State,
        before: SessionState,
        before_step: Option<Step>,
        cx: &mut Context,
    ) {
        self.state = next;
        match self.state {
            State::Online(_) => {
                cx.out.timers.stop(Timer::Step);
                arm_keepalive(now, cx);
                arm_link_check(now, cx);
            }
            State::Closing(_) => {
                for timer in [
                    Timer::Keepalive,
                    Timer::AckRequest,
                    Timer::LinkCheck,
                    Timer::LinkDeadline,
                ] {
                    cx.out.timers.stop(timer);
                }
                let at = now + cx.config.timeouts.close;
                cx.out.timers.set(Timer::Step, at);
            }
            State::Closed(_) | State::Disconnected => cx.out.timers.stop_all(),
            _ if self.state.step() == before_step => {}
            _ => {
                let at = now + cx.config.timeouts.step;
                cx.out.timers.set(Timer::Step, at);
            }
        }
        let after = self.state.public();
        if after == before {
            return;
        }
        cx.out.push_event(Event::StateChanged(after));
        if let State::Online(online) = &mut self.state {
            online.on_enter(cx);
        }
    }

    /// Ends the session for `failure`, after its farewell. Sticky.
    fn fail(&mut self, now: Instant, failure: Failure, cx: &mut Context) {
        if matches!(self.state, State::Closed(_)) {
            return;
        }
        // After our `</stream:stream>` nothing more may be written.
        let farewell = if matches!(self.state, State::Closing(_)) {
            Farewell::Silent
        } else {
            failure.farewell
        };
        match farewell {
            Farewell::Silent => {}
            Farewell::CloseStream => cx.out.close_stream(),
            Farewell::StreamError(condition) => {
                write_stream_error(&condition, "", cx);
            }
            Farewell::StreamErrorDetail(condition, detail) => {
                write_stream_error(&condition, &detail, cx);
            }
        }
        self.finish(now, failure.reason, cx);
    }

    /// The terminal transition: close the transport, report the reason once.
    fn finish(&mut self, _now: Instant, reason: DisconnectReason, cx: &mut Context) {
        if matches!(self.state, State::Closed(_)) {
            return;
        }
        cx.out.push_action(Action::CloseTransport);
        // A lost connection leaves the session resumable: its own, or the one this client
        // was given and had not resumed yet.
        let lost = matches!(reason, DisconnectReason::Eof | DisconnectReason::LinkDead);
        let resumption = match &mut self.state {
            State::Online(online) if lost => online.data.resumption(&online.jid, cx),
            _ => None,
        }
        .or_else(|| match cx.resumption.take() {
            Some(given) if lost => Some(*given),
            Some(given) => {
                // Ended for good before the resumption was settled: what it had not seen
                // acknowledged may be lost, and the application hears so.
                online::sm::report_lost(given.acks, None, cx);
                None
            }
            None => None,
        })
        .map(Box::new);
        // What the application sent on this session and nobody will resend may not have
        // arrived (a stream error, a cut with no resumption allowed). Not after a clean
        // close: the server read everything before our `</stream:stream>`; nor during the
        // login: its own requests and presence are sent again by the next one.
        let was_online = matches!(self.state, State::Online(_) | State::Closing(_));
        if let Some(acks) = cx.out.acks.take()
            && was_online
            && reason != DisconnectReason::LocalClose
        {
            online::sm::report_lost(*acks, None, cx);
        }
        let roster = match self.state.data_mut() {
            Some(data) => std::mem::take(&mut data.roster),
            None => Roster::default(),
        };
        self.state = State::Closed(Closed {
            reason: reason.clone(),
            roster,
            resumption,
        });
        cx.out.timers.stop_all();
        cx.out.push_event(Event::Disconnected { reason });
    }
}

/// A reader for the stream that begins: the server's bytes, or its WebSocket messages.
fn fresh_reader(cx: &Context) -> StreamReader {
    if cx.out.is_websocket() {
        StreamReader::for_websocket(cx.config.limits)
    } else {
        StreamReader::new(cx.config.limits)
    }
}

/// `<stream:error/>` with `condition` and an application condition (`detail`, serialised),
/// then our `</stream:stream>`.
fn write_stream_error(condition: &StreamErrorCondition, detail: &str, cx: &mut Context) {
    let error = format!(
        "<stream:error><{} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>{detail}</stream:error>",
        condition.as_str()
    );
    cx.out.write_raw(error.as_bytes());
    cx.out.close_stream();
}

/// Nothing came from the server for [`Timeouts::link_check`](crate::Timeouts::link_check):
/// check the link then.
fn arm_link_check(now: Instant, cx: &mut Context) {
    cx.out.timers.stop(Timer::LinkDeadline);
    let at = cx.config.timeouts.link_check.map(|d| now + d);
    cx.out.timers.set_or_stop(Timer::LinkCheck, at);
}

fn arm_keepalive(now: Instant, cx: &mut Context) {
    if let Some(interval) = cx.config.timeouts.keepalive {
        cx.out.timers.set(Timer::Keepalive, now + interval);
    }
}
