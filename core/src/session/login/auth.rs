//! SASL authentication (RFC 6120 section 6): choose a mechanism, run the exchange, verify
//! the server (SCRAM `v=`), then restart the stream.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use minidom::Element;
use zeroize::Zeroize;

use crate::error::DisconnectReason;
use crate::sasl::{
    Mechanism, ScramClient, ScramError, ScramHash, plain_initial_response, select_mechanism,
};
use crate::session::context::{Context, Failure, Farewell, Link};
use crate::session::state::{Phase, State};
use crate::stanza::condition_and_text;

use super::stream::{Features, NS_SASL};

/// A SASL exchange in progress.
#[derive(Debug)]
pub(crate) struct Authenticating {
    pub(crate) mechanism: Mechanism,
    /// `None` for PLAIN.
    scram: Option<ScramClient>,
    /// Whether the server-first message was handled already.
    got_server_first: bool,
}

/// Picks the mechanism for these features and sends `<auth/>` with the initial response.
pub(crate) fn start(link: Link, features: &Features, cx: &mut Context) -> Result<State, Failure> {
    let offered = features.mechanisms.clone().unwrap_or_default();
    let choice = select_mechanism(
        &offered,
        features.channel_bindings.as_deref(),
        link.binding.as_ref(),
        link.tls,
        cx.config.allow_plain,
    );
    let Some((mechanism, cbind)) = choice else {
        return Err(Failure::new(
            DisconnectReason::NoAcceptableMechanism { offered },
            Farewell::CloseStream,
        ));
    };
    let credentials = &cx.credentials;
    let (mut initial, scram) = match mechanism {
        Mechanism::Plain => (plain_initial_response(credentials), None),
        _ => {
            let hash = match mechanism {
                Mechanism::ScramSha256Plus | Mechanism::ScramSha256 => ScramHash::Sha256,
                _ => ScramHash::Sha1,
            };
            let mut raw = [0u8; 24];
            cx.entropy.fill(&mut raw);
            let bounds = cx.config.scram_iterations;
            let scram = ScramClient::new(
                hash,
                &credentials.username,
                &credentials.password,
                cbind,
                BASE64.encode(raw),
                bounds.min,
                bounds.max,
            )
            .map_err(|error| {
                Failure::new(
                    DisconnectReason::Scram { mechanism, error },
                    Farewell::CloseStream,
                )
            })?;
            (scram.client_first(), Some(scram))
        }
    };
    let mut encoded = BASE64.encode(&initial);
    let mut auth = format!(
        "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{}'>{}</auth>",
        mechanism.as_str(),
        encoded
    );
    cx.out.write_secret(auth.as_bytes());
    // PLAIN's initial response is the password itself.
    initial.zeroize();
    encoded.zeroize();
    auth.zeroize();
    Ok(State::Authenticating(Box::new(Authenticating {
        mechanism,
        scram,
        got_server_first: false,
    })))
}

impl Authenticating {
    /// A SASL element: a challenge (stay), success (restart the stream, `Binding`) or
    /// failure.
    pub(crate) fn handle(
        mut self: Box<Self>,
        el: &Element,
        cx: &mut Context,
    ) -> Result<State, Failure> {
        if !el.has_ns(NS_SASL) {
            return Err(Failure::unexpected("a SASL element", el.name()));
        }
        match el.name() {
            "challenge" => match self.on_challenge(el, cx) {
                Ok(()) => Ok(State::Authenticating(self)),
                Err(error) => Err(self.fail_scram(error, cx)),
            },
            "success" => self.on_success(el, cx),
            "failure" => {
                self.settle_scram_key(false, cx);
                let (condition, text) = condition_and_text(el, NS_SASL);
                let condition = condition
                    .map_or("undefined-condition", |c| c.name())
                    .to_string();
                Err(Failure::new(
                    DisconnectReason::AuthFailed { condition, text },
                    Farewell::CloseStream,
                ))
            }
            _ => Err(Failure::unexpected(
                "a SASL challenge, success or failure",
                el.name(),
            )),
        }
    }

    fn on_challenge(&mut self, el: &Element, cx: &mut Context) -> Result<(), ScramError> {
        let data = decode(el)?;
        // PLAIN has no challenges.
        let scram = self.scram.as_mut().ok_or(ScramError::UnexpectedMessage)?;
        let response = if !self.got_server_first {
            self.got_server_first = true;
            scram.handle_server_first_cached(&data, &cx.scram_cache)?
        } else {
            // Some servers send server-final as a challenge and expect an empty response.
            scram.handle_server_final(&data)?;
            Vec::new()
        };
        if response.is_empty() {
            cx.out
                .write_raw(b"<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        } else {
            let xml = format!(
                "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</response>",
                BASE64.encode(response)
            );
            cx.out.write_raw(xml.as_bytes());
        }
        Ok(())
    }

    fn on_success(mut self: Box<Self>, el: &Element, cx: &mut Context) -> Result<State, Failure> {
        let mechanism = self.mechanism;
        if let Some(scram) = self.scram.as_mut().filter(|s| !s.is_verified()) {
            // Success without v= would skip the server's proof that it knows the password.
            let checked = match decode(el) {
                Ok(data) if data.is_empty() => {
                    Err(ScramError::Malformed("success without server signature"))
                }
                Ok(data) => scram.handle_server_final(&data),
                Err(e) => Err(e),
            };
            if let Err(error) = checked {
                self.settle_scram_key(false, cx);
                // The exchange is over: nothing to abort, just close.
                return Err(Failure::new(
                    DisconnectReason::Scram { mechanism, error },
                    Farewell::CloseStream,
                ));
            }
        }
        self.settle_scram_key(true, cx);
        cx.out.open_stream(cx.config.jid.domain().as_str());
        Ok(State::ExpectHeader(Phase::AfterAuth))
    }

    /// At the end of a SCRAM exchange: a key the server verified goes into the cache for
    /// the next connection; the key of a failed exchange leaves it (a stale cached key costs
    /// one failed login, never a lockout).
    fn settle_scram_key(&mut self, success: bool, cx: &mut Context) {
        let Some(scram) = self.scram.as_mut() else {
            return;
        };
        let verified = scram.is_verified();
        if let Some(key) = scram.take_key() {
            if success && verified {
                cx.scram_cache.insert(key);
            } else {
                cx.scram_cache.remove(&key);
            }
        }
    }

    /// A SCRAM step failed on our side: abort the exchange (RFC 6120 6.4.5), then close.
    fn fail_scram(mut self: Box<Self>, error: ScramError, cx: &mut Context) -> Failure {
        self.settle_scram_key(false, cx);
        cx.out
            .write_raw(b"<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        Failure::new(
            DisconnectReason::Scram {
                mechanism: self.mechanism,
                error,
            },
            Farewell::CloseStream,
        )
    }
}

/// The base64 payload of a SASL element; `=` (or nothing) is empty.
fn decode(el: &Element) -> Result<Vec<u8>, ScramError> {
    let text = el.text();
    let text = text.trim();
    if text.is_empty() || text == "=" {
        return Ok(Vec::new());
    }
    BASE64
        .decode(text)
        .map_err(|_| ScramError::Malformed("SASL payload is not base64"))
}
