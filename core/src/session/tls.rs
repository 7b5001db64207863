//! STARTTLS (RFC 6120 section 5): `<starttls/>`, `<proceed/>`, then the adapter's handshake.
//!
//! After `<proceed/>` the core emits nothing until [`Client::tls_established`]; any
//! plaintext byte that arrives meanwhile ends the session (STARTTLS injection defence, see
//! [`Client::handle_input`]).

use std::time::Instant;

use minidom::Element;

use crate::client::{Client, Farewell};
use crate::error::{DisconnectReason, UsageError};
use crate::event::Action;
use crate::sasl::ChannelBinding;
use crate::session::stream::NS_TLS;
use crate::session::{Phase, State};

impl Client {
    pub(super) fn start_tls(&mut self, now: Instant) {
        self.write_raw(now, b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        self.enter(now, State::ExpectProceed);
    }

    pub(super) fn on_starttls_answer(&mut self, now: Instant, el: &Element) {
        if el.is("proceed", NS_TLS) {
            self.push_action(Action::StartTls {
                server_name: self.config.jid.domain().as_str().to_string(),
            });
            self.enter(now, State::TlsHandshake);
        } else if el.is("failure", NS_TLS) {
            // RFC 6120 5.4.2.2: the server closes the stream after <failure/>.
            self.fail(
                now,
                DisconnectReason::StartTlsRefused,
                Farewell::CloseStream,
            );
        } else {
            self.fail_unexpected(now, "<proceed/>", el);
        }
    }

    /// The adapter finished the TLS handshake that [`Action::StartTls`] asked for.
    ///
    /// `channel_binding` carries the data SCRAM `-PLUS` needs (`tls-exporter` on TLS 1.3,
    /// `tls-server-end-point` from the certificate); `None` disables `-PLUS`.
    pub fn tls_established(
        &mut self,
        now: Instant,
        channel_binding: Option<ChannelBinding>,
    ) -> Result<(), UsageError> {
        if let Some(e) = self.ended() {
            return Err(e);
        }
        if !matches!(self.state, State::TlsHandshake) {
            return Err(UsageError::NoTlsHandshake);
        }
        self.transport_tls = true;
        self.channel_binding = channel_binding;
        self.open_stream(now);
        self.enter(now, State::ExpectHeader(Phase::AfterTls));
        Ok(())
    }

    /// The adapter's TLS handshake failed (for example, the certificate did not verify).
    /// Ends the session; reconnecting will not help.
    pub fn tls_failed(
        &mut self,
        now: Instant,
        message: impl Into<String>,
    ) -> Result<(), UsageError> {
        if let Some(e) = self.ended() {
            return Err(e);
        }
        if !matches!(self.state, State::TlsHandshake) {
            return Err(UsageError::NoTlsHandshake);
        }
        self.fail(
            now,
            DisconnectReason::TlsFailed {
                message: message.into(),
            },
            Farewell::Silent,
        );
        Ok(())
    }
}
