//! SASL authentication (RFC 6120 section 6): choose a mechanism, run the exchange, verify
//! the server (SCRAM `v=`), then restart the stream.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use minidom::Element;
use zeroize::Zeroize;

use crate::error::DisconnectReason;
use crate::sasl::{
    CbindFlag, Mechanism, ScramClient, ScramError, ScramHash, plain_initial_response,
    select_mechanism,
};
use crate::session::context::{Context, Failure, Farewell, Link};
use crate::session::state::{Early, State};
use crate::stanza::condition_and_text;
use crate::stanza::features::{Features, NS_SASL};

use super::bind;

/// A SASL exchange in progress.
#[derive(Debug)]
pub(crate) struct Authenticating {
    pub(crate) mechanism: Mechanism,
    /// `None` for PLAIN.
    scram: Option<ScramClient>,
    /// Whether the server-first message was handled already.
    got_server_first: bool,
    /// The GS2 flag sent, to tell whether the features still lead to the same choice.
    cbind: CbindKind,
    /// Sent early, from a cached offer the server's features no longer lead to: if the
    /// server refuses it, the login starts again from these features (once).
    retry: Option<(Link, Features)>,
}

/// Which GS2 channel-binding flag went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CbindKind {
    No,
    Yes,
    Used,
}

impl CbindKind {
    fn of(flag: &CbindFlag) -> CbindKind {
        match flag {
            CbindFlag::NotSupported => CbindKind::No,
            CbindFlag::SupportedNotUsed => CbindKind::Yes,
            CbindFlag::Used { .. } => CbindKind::Used,
        }
    }
}

/// The mechanism these features and this link lead to.
fn choose(link: &Link, features: &Features, cx: &Context) -> Option<(Mechanism, CbindFlag)> {
    let offered = features.mechanisms.as_deref().unwrap_or_default();
    select_mechanism(
        offered,
        features.channel_bindings.as_deref(),
        link.binding.as_ref(),
        link.tls,
        cx.config.allow_plain,
    )
}

/// Picks the mechanism for these features and sends `<auth/>` with the initial response.
pub(crate) fn start(link: Link, features: &Features, cx: &mut Context) -> Result<State, Failure> {
    let Some((mechanism, cbind)) = choose(&link, features, cx) else {
        let offered = features.mechanisms.clone().unwrap_or_default();
        return Err(Failure::new(
            DisconnectReason::NoAcceptableMechanism { offered },
            Farewell::CloseStream,
        ));
    };
    let auth = send_auth(mechanism, cbind, cx)?;
    Ok(State::Authenticating(auth))
}

/// With the stream header on a secure stream: the initial response the cached features
/// lead to, sent now (pipelining), or nothing when there is no cache or no choice.
pub(crate) fn early(link: &Link, cx: &mut Context) -> Early {
    if !cx.config.pipelining || !link.tls {
        return Early::Nothing;
    }
    let Some(features) = cx.feature_cache.as_ref().map(|c| c.to_features()) else {
        return Early::Nothing;
    };
    match choose(link, &features, cx) {
        Some((mechanism, cbind)) => match send_auth(mechanism, cbind, cx) {
            Ok(auth) => Early::Auth(auth),
            Err(_) => Early::Nothing,
        },
        None => Early::Nothing,
    }
}

/// Sends `<auth/>` for `mechanism`.
fn send_auth(
    mechanism: Mechanism,
    cbind: CbindFlag,
    cx: &mut Context,
) -> Result<Box<Authenticating>, Failure> {
    let kind = CbindKind::of(&cbind);
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
    Ok(Box::new(Authenticating {
        mechanism,
        scram,
        got_server_first: false,
        cbind: kind,
        retry: None,
    }))
}

impl Authenticating {
    /// The features of the stream our early `<auth/>` went out on: when they lead to the
    /// same choice, the exchange goes on; when not, the server will refuse it, and the
    /// login then starts again from them.
    pub(crate) fn confirm(
        mut self: Box<Self>,
        link: Link,
        features: &Features,
        cx: &mut Context,
    ) -> Result<State, Failure> {
        let same = choose(&link, features, cx)
            .is_some_and(|(m, flag)| m == self.mechanism && CbindKind::of(&flag) == self.cbind);
        if !same {
            self.retry = Some((link, features.clone()));
        }
        Ok(State::Authenticating(self))
    }

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
            "challenge" => {
                // The server took our early choice after all.
                self.retry = None;
                match self.on_challenge(el, cx) {
                    Ok(()) => Ok(State::Authenticating(self)),
                    Err(error) => Err(self.fail_scram(error, cx)),
                }
            }
            "success" => self.on_success(el, cx),
            "failure" => {
                self.settle_scram_key(false, cx);
                if let Some((link, features)) = self.retry.take() {
                    // The refusal of a stale early choice: the slow way, from the features.
                    return start(link, &features, cx);
                }
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
        Ok(bind::after_auth(cx))
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
