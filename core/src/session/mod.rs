//! The login and session state machine. Everything that decides a transition lives in this
//! folder: `stream` (headers and features), `tls` (STARTTLS), `auth` (SASL), `bind`
//! (resource binding, legacy session, going online), `roster` (fetch, pushes, edits),
//! `online` (stanzas and presence commands), `subscriptions` (commands and the answer
//! window of incoming requests). This file holds the state enum, the dispatch of stream
//! events, `connect` and `close`.

mod auth;
mod bind;
mod online;
mod roster;
mod stream;
mod subscriptions;
mod tls;

use std::time::Instant;

use minidom::Element;

use crate::client::{Client, Farewell, Transport};
use crate::error::{DisconnectReason, PeerMisbehaved, Step, StreamErrorCondition, UsageError};
use crate::event::SessionState;
use crate::sasl::{Mechanism, ScramClient};
use crate::stanza::presence::write_own_presence;
use crate::xml::{self, StreamEvent};

pub(crate) use stream::NS_STREAM;
pub(crate) use subscriptions::OpenRequests;

/// Which stream of the login we are on: each restart begins a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The first stream, on a plain or direct-TLS transport.
    Initial,
    /// After STARTTLS.
    AfterTls,
    /// After SASL success.
    AfterAuth,
}

/// A SASL exchange in progress.
#[derive(Debug)]
pub(crate) struct Auth {
    pub(crate) mechanism: Mechanism,
    /// `None` for PLAIN.
    pub(crate) scram: Option<ScramClient>,
    /// Whether the server-first message was handled already.
    pub(crate) got_server_first: bool,
}

/// The private state. Each variant holds only its phase's data.
#[derive(Debug)]
pub(crate) enum State {
    Disconnected,
    ExpectHeader(Phase),
    ExpectFeatures(Phase),
    ExpectProceed,
    TlsHandshake,
    Authenticating(Auth),
    ExpectBindResult { id: String, session_required: bool },
    ExpectSessionResult { id: String },
    ExpectRoster { id: String },
    Online,
    Closing,
    Closed(DisconnectReason),
}

impl State {
    pub(crate) fn public(&self) -> SessionState {
        match self {
            State::Disconnected => SessionState::Disconnected,
            State::ExpectHeader(Phase::AfterAuth) | State::ExpectFeatures(Phase::AfterAuth) => {
                SessionState::Binding
            }
            State::ExpectHeader(_) | State::ExpectFeatures(_) => SessionState::Connecting,
            State::ExpectProceed => SessionState::StartingTls,
            State::TlsHandshake => SessionState::TlsHandshake,
            State::Authenticating(auth) => SessionState::Authenticating {
                mechanism: auth.mechanism,
            },
            State::ExpectBindResult { .. } => SessionState::Binding,
            State::ExpectSessionResult { .. } => SessionState::Session,
            State::ExpectRoster { .. } => SessionState::Roster,
            State::Online => SessionState::Online,
            State::Closing => SessionState::Closing,
            State::Closed(reason) => SessionState::Closed {
                reason: reason.clone(),
            },
        }
    }

    /// The step the step timer guards in this state.
    pub(crate) fn step(&self) -> Option<Step> {
        match self {
            State::ExpectHeader(Phase::AfterAuth) | State::ExpectFeatures(Phase::AfterAuth) => {
                Some(Step::Binding)
            }
            State::ExpectHeader(_) | State::ExpectFeatures(_) => Some(Step::StreamFeatures),
            State::ExpectProceed => Some(Step::StartTls),
            State::TlsHandshake => Some(Step::TlsHandshake),
            State::Authenticating(_) => Some(Step::Authentication),
            State::ExpectBindResult { .. } => Some(Step::Binding),
            State::ExpectSessionResult { .. } => Some(Step::Session),
            State::ExpectRoster { .. } => Some(Step::Roster),
            State::Closing => Some(Step::Closing),
            State::Disconnected | State::Online | State::Closed(_) => None,
        }
    }
}

impl Client {
    /// Opens the stream. Call once, right after the transport is connected.
    pub fn connect(&mut self, now: Instant, transport: Transport) -> Result<(), UsageError> {
        if let Some(e) = self.ended() {
            return Err(e);
        }
        if !matches!(self.state, State::Disconnected) {
            return Err(UsageError::AlreadyConnected);
        }
        if let Transport::DirectTls(binding) = transport {
            self.transport_tls = true;
            self.channel_binding = binding;
        }
        self.open_stream(now);
        self.enter(now, State::ExpectHeader(Phase::Initial));
        Ok(())
    }

    /// Closes the session: unavailable presence (when online), `</stream:stream>`, then a
    /// bounded wait for the server's close (see [`Timeouts::close`](crate::Timeouts::close)).
    pub fn close(&mut self, now: Instant) -> Result<(), UsageError> {
        match self.state {
            State::Closed(_) => return Err(self.ended().unwrap_or(UsageError::AlreadyClosing)),
            State::Closing => return Err(UsageError::AlreadyClosing),
            State::Disconnected => return Err(UsageError::NotConnected),
            // Nothing may be written while the adapter does the TLS handshake.
            State::TlsHandshake => {
                self.finish(now, DisconnectReason::LocalClose);
                return Ok(());
            }
            State::Online => {
                self.answer_open_requests(now);
                let priority = self.config.priority;
                self.write_with(now, |out| {
                    write_own_presence(crate::Presence::Offline, "", priority, out)
                });
            }
            _ => {}
        }
        self.write_raw(now, xml::stream_footer());
        self.enter(now, State::Closing);
        Ok(())
    }

    /// Routes one stream event to the handler of the current state.
    pub(crate) fn on_stream_event(&mut self, now: Instant, event: StreamEvent) {
        match event {
            StreamEvent::Header(header) => self.on_header(now, header),
            StreamEvent::Close => self.on_server_close(now),
            StreamEvent::Element(stanza) => {
                if stanza.is("error", NS_STREAM) {
                    self.on_stream_error(now, &stanza.to_element());
                    return;
                }
                // Login elements are few: the login handlers read them as minidom elements.
                match self.state {
                    State::ExpectHeader(_) => self.fail(
                        now,
                        DisconnectReason::PeerMisbehaved(PeerMisbehaved::ElementBeforeHeader),
                        Farewell::StreamError(StreamErrorCondition::BadFormat),
                    ),
                    State::ExpectFeatures(phase) => {
                        self.on_features(now, phase, &stanza.to_element())
                    }
                    State::ExpectProceed => self.on_starttls_answer(now, &stanza.to_element()),
                    State::Authenticating(_) => self.on_sasl_element(now, &stanza.to_element()),
                    State::ExpectBindResult { .. }
                    | State::ExpectSessionResult { .. }
                    | State::ExpectRoster { .. } => self.on_binding_element(now, stanza),
                    State::Online => self.on_stanza(now, stanza, true),
                    // After our `</stream:stream>` nothing may be written; still report.
                    State::Closing => self.on_stanza(now, stanza, false),
                    State::Disconnected | State::TlsHandshake | State::Closed(_) => {}
                }
            }
        }
    }

    /// The server sent `el` where the protocol expects `expected`.
    pub(crate) fn fail_unexpected(&mut self, now: Instant, expected: &'static str, el: &Element) {
        let reason = DisconnectReason::PeerMisbehaved(PeerMisbehaved::UnexpectedElement {
            expected,
            got: el.name().to_string(),
        });
        self.fail(
            now,
            reason,
            Farewell::StreamError(StreamErrorCondition::UnsupportedStanzaType),
        );
    }

    fn on_server_close(&mut self, now: Instant) {
        match self.state {
            State::Closing => self.finish(now, DisconnectReason::LocalClose),
            _ => self.fail(now, DisconnectReason::ServerClosed, Farewell::CloseStream),
        }
    }

    fn on_stream_error(&mut self, now: Instant, el: &Element) {
        let reason = stream::read_stream_error(el);
        // A stream error is answered by closing our stream, never by an error of our own.
        let farewell = if matches!(self.state, State::Closing) {
            Farewell::Silent
        } else {
            Farewell::CloseStream
        };
        self.fail(now, reason, farewell);
    }
}
