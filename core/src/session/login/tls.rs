//! STARTTLS (RFC 6120 section 5): `<starttls/>`, `<proceed/>`, then the adapter's handshake.
//!
//! After `<proceed/>` the core emits nothing until `tls_established`; any plaintext byte
//! that arrives meanwhile ends the session (STARTTLS injection defence, in the session's
//! input handling).

use minidom::Element;

use crate::config::TlsPolicy;
use crate::error::DisconnectReason;
use crate::event::Action;
use crate::sasl::ChannelBinding;
use crate::session::context::{Context, Failure, Farewell, Link};
use crate::session::state::{Early, Phase, State, Stream};
use crate::stanza::features::NS_TLS;

use super::auth;

/// Asks for TLS: `ExpectProceed` next.
pub(crate) fn start(cx: &mut Context) -> State {
    cx.out
        .write_raw(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    State::ExpectProceed
}

/// `ExpectProceed`: `<proceed/>` hands the transport to the adapter's TLS handshake.
pub(crate) fn expect_proceed(el: &Element, cx: &mut Context) -> Result<State, Failure> {
    if el.is("proceed", NS_TLS) {
        cx.out.push_action(Action::StartTls {
            server_name: cx.domain().to_string(),
        });
        Ok(State::TlsHandshake)
    } else if el.is("failure", NS_TLS) {
        // RFC 6120 5.4.2.2: the server closes the stream after <failure/>.
        Err(Failure::new(
            DisconnectReason::StartTlsRefused,
            Farewell::CloseStream,
        ))
    } else {
        Err(Failure::unexpected("<proceed/>", el.name()))
    }
}

/// `TlsHandshake` done: a new stream over TLS, with the handshake's channel-binding data
/// (and, from the cached features, the SASL initial response in the same write).
pub(crate) fn tls_established(binding: Option<ChannelBinding>, cx: &mut Context) -> State {
    cx.open_stream(true);
    let link = Link { tls: true, binding };
    let early = auth::early(&link, cx);
    State::ExpectHeader(Stream::new(Phase::AfterTls(link), early))
}

/// The first stream's opening: our header, then `<starttls/>` at once when TLS must be
/// negotiated (pipelining), or the cached SASL initial response on a direct TLS transport.
pub(crate) fn open_first_stream(link: Link, cx: &mut Context) -> State {
    cx.open_stream(link.tls);
    let early = if link.tls {
        auth::early(&link, cx)
    } else if cx.config.tls == TlsPolicy::Required && cx.config.pipelining && !cx.out.is_websocket()
    {
        cx.out
            .write_raw(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        Early::StartTls
    } else {
        Early::Nothing
    };
    State::ExpectHeader(Stream::new(Phase::Initial(link), early))
}
