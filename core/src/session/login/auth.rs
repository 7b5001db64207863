//! SASL authentication: choose a mechanism, run the exchange, verify the server (SCRAM
//! `v=`, the FAST token's HMAC). With RFC 6120's profile (section 6) the stream restarts
//! after success; with SASL2 (XEP-0388, preferred when offered, `sasl2`) it does not.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use minidom::Element;
use zeroize::{Zeroize, Zeroizing};

use crate::error::DisconnectReason;
use crate::event::Event;
use crate::sasl::{
    CbindFlag, HT_SHA_256_NONE, Mechanism, ScramClient, ScramError, ScramHash, ht_initial_response,
    ht_verify, plain_initial_response, select_mechanism,
};
use crate::session::context::{Context, Failure, Farewell, Link};
use crate::session::state::{Early, State};
use crate::stanza::condition_and_text;
use crate::stanza::features::{Features, NS_SASL, NS_SASL2, Sasl2Offer};

use super::bind;
use super::sasl2::{self, Inline};

/// A SASL exchange in progress.
#[derive(Debug)]
pub(crate) struct Authenticating {
    pub(crate) mechanism: Mechanism,
    exchange: Exchange,
    /// Whether the server-first message was handled already.
    got_server_first: bool,
    /// RFC 6120 (`None`) or SASL2, with what went inline.
    sasl2: Option<Inline>,
    /// The GS2 flag sent, to tell whether the features still lead to the same choice.
    cbind: CbindKind,
    /// The transport is TLS: the stream after success names the account.
    tls: bool,
    /// Where to start again when the server refuses a choice that can be taken back (an
    /// early one the features no longer lead to, or a FAST token), and whether it can.
    restart: Option<(Link, Features)>,
    recoverable: bool,
    /// The stream's features lead to this choice. An early choice they no longer lead to
    /// is refused as a mechanism not offered, without being judged: a token refused that
    /// way is still good.
    offered: bool,
}

/// The mechanism's own state.
#[derive(Debug)]
enum Exchange {
    Plain,
    Scram(Box<ScramClient>),
    /// The FAST token, to check the server's proof.
    Token(Zeroizing<String>),
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

/// What the features and the link lead to.
struct Choice<'f> {
    mechanism: Mechanism,
    cbind: CbindFlag,
    /// SASL2, with what it offers inline.
    sasl2: Option<&'f Sasl2Offer>,
}

fn choose<'f>(link: &Link, features: &'f Features, cx: &Context) -> Option<Choice<'f>> {
    let select = |offered: &[String]| {
        select_mechanism(
            offered,
            features.channel_bindings.as_deref(),
            link.binding.as_ref(),
            link.tls,
            cx.config.allow_plain,
        )
    };
    if cx.config.sasl2
        && let Some(offer) = &features.sasl2
    {
        let token = cx
            .fast_token
            .as_ref()
            .filter(|t| t.mechanism == HT_SHA_256_NONE && cx.config.user_agent.is_some());
        if token.is_some() && offer.fast.iter().any(|m| m == HT_SHA_256_NONE) && link.tls {
            return Some(Choice {
                mechanism: Mechanism::HtSha256None,
                cbind: CbindFlag::NotSupported,
                sasl2: Some(offer),
            });
        }
        if let Some((mechanism, cbind)) = select(&offer.mechanisms) {
            return Some(Choice {
                mechanism,
                cbind,
                sasl2: Some(offer),
            });
        }
    }
    let (mechanism, cbind) = select(features.mechanisms.as_deref().unwrap_or_default())?;
    Some(Choice {
        mechanism,
        cbind,
        sasl2: None,
    })
}

/// Picks the mechanism for these features and sends the initial response.
pub(crate) fn start(link: Link, features: &Features, cx: &mut Context) -> Result<State, Failure> {
    let Some(choice) = choose(&link, features, cx) else {
        let mut offered = features.mechanisms.clone().unwrap_or_default();
        if let Some(offer) = &features.sasl2 {
            offered.extend(offer.mechanisms.iter().cloned());
        }
        return Err(Failure::new(
            DisconnectReason::NoAcceptableMechanism { offered },
            Farewell::CloseStream,
        ));
    };
    let mut auth = send(choice, link.tls, cx)?;
    auth.restart = Some((link, features.clone()));
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
        Some(choice) => match send(choice, link.tls, cx) {
            Ok(auth) => Early::Auth(auth),
            Err(_) => Early::Nothing,
        },
        None => Early::Nothing,
    }
}

/// Sends `<auth/>` (or SASL2's `<authenticate/>`) with the initial response.
fn send(choice: Choice<'_>, tls: bool, cx: &mut Context) -> Result<Box<Authenticating>, Failure> {
    let Choice {
        mechanism,
        cbind,
        sasl2: offer,
    } = choice;
    let kind = CbindKind::of(&cbind);
    let credentials = &cx.credentials;
    let (mut initial, exchange) = match mechanism {
        Mechanism::Plain => (plain_initial_response(credentials), Exchange::Plain),
        Mechanism::HtSha256None => {
            let token = cx
                .fast_token
                .as_ref()
                .map(|t| t.token.expose())
                .unwrap_or("");
            let response = ht_initial_response(&credentials.username, token);
            (response, Exchange::Token(Zeroizing::new(token.to_string())))
        }
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
            (scram.client_first(), Exchange::Scram(Box::new(scram)))
        }
    };
    let mut encoded = BASE64.encode(&initial);
    let (mut xml, sasl2) = match offer {
        Some(offer) => {
            let (xml, inline) = sasl2::authenticate(mechanism, &encoded, offer, cx);
            (xml, Some(inline))
        }
        None => {
            let xml = format!(
                "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{}'>{}</auth>",
                mechanism.as_str(),
                encoded
            );
            (xml.into_bytes(), None)
        }
    };
    cx.out.write_secret(&xml);
    // PLAIN's initial response is the password itself.
    initial.zeroize();
    encoded.zeroize();
    xml.zeroize();
    Ok(Box::new(Authenticating {
        mechanism,
        exchange,
        got_server_first: false,
        sasl2,
        cbind: kind,
        tls,
        restart: None,
        // A refused token is not a refused password: SCRAM can still log in.
        recoverable: mechanism == Mechanism::HtSha256None,
        // Until `confirm` says otherwise for an early choice.
        offered: true,
    }))
}

impl Authenticating {
    /// The features of the stream our early initial response went out on: when they lead
    /// to the same choice, the exchange goes on; when not, the server will refuse it, and
    /// the login then starts again from them.
    pub(crate) fn confirm(
        mut self: Box<Self>,
        link: Link,
        features: &Features,
        cx: &mut Context,
    ) -> Result<State, Failure> {
        let same = choose(&link, features, cx).is_some_and(|c| {
            c.mechanism == self.mechanism
                && CbindKind::of(&c.cbind) == self.cbind
                && c.sasl2.is_some() == self.sasl2.is_some()
        });
        self.recoverable |= !same;
        self.offered = same;
        self.restart = Some((link, features.clone()));
        Ok(State::Authenticating(self))
    }

    /// A SASL (or SASL2) element: a challenge (stay), success, or failure.
    pub(crate) fn handle(
        mut self: Box<Self>,
        el: &Element,
        cx: &mut Context,
    ) -> Result<State, Failure> {
        let ns = if self.sasl2.is_some() {
            NS_SASL2
        } else {
            NS_SASL
        };
        if !el.has_ns(ns) {
            return Err(Failure::unexpected("a SASL element", el.name()));
        }
        match el.name() {
            "challenge" => {
                // The server took our choice: a refusal now is a refusal.
                self.recoverable = false;
                match self.on_challenge(el, cx) {
                    Ok(()) => Ok(State::Authenticating(self)),
                    Err(error) => Err(self.fail_scram(error, cx)),
                }
            }
            "success" => self.on_success(el, cx),
            "failure" => self.on_failure(el, cx),
            "continue" => {
                // Tasks (a second factor, a password change) are not Herald's to do.
                self.settle_scram_key(false, cx);
                let text = el.get_child("text", NS_SASL2).map(Element::text);
                Err(Failure::new(
                    DisconnectReason::AuthFailed {
                        condition: "continue".into(),
                        text,
                    },
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
        let data = decode(&el.text())?;
        // PLAIN and tokens have no challenges.
        let Exchange::Scram(scram) = &mut self.exchange else {
            return Err(ScramError::UnexpectedMessage);
        };
        let response = if !self.got_server_first {
            self.got_server_first = true;
            scram.handle_server_first_cached(&data, &cx.scram_cache)?
        } else {
            // Some servers send server-final as a challenge and expect an empty response.
            scram.handle_server_final(&data)?;
            Vec::new()
        };
        let ns = if self.sasl2.is_some() {
            "urn:xmpp:sasl:2"
        } else {
            "urn:ietf:params:xml:ns:xmpp-sasl"
        };
        let xml = if response.is_empty() && self.sasl2.is_none() {
            format!("<response xmlns='{ns}'/>")
        } else {
            format!(
                "<response xmlns='{ns}'>{}</response>",
                BASE64.encode(response)
            )
        };
        cx.out.write_raw(xml.as_bytes());
        Ok(())
    }

    fn on_success(mut self: Box<Self>, el: &Element, cx: &mut Context) -> Result<State, Failure> {
        let mechanism = self.mechanism;
        // RFC 6120 carries the server's final data as the text; SASL2 in <additional-data/>.
        let data = match self.sasl2 {
            Some(_) => sasl2::additional_data(el).unwrap_or_default(),
            None => el.text(),
        };
        if let Err(error) = self.verify_server(&data) {
            self.settle_scram_key(false, cx);
            // The exchange is over: nothing to abort, just close.
            return Err(Failure::new(
                DisconnectReason::Scram { mechanism, error },
                Farewell::CloseStream,
            ));
        }
        self.settle_scram_key(true, cx);
        match self.sasl2 {
            Some(inline) => sasl2::after_success(el, inline, cx),
            None => Ok(bind::after_auth(self.tls, cx)),
        }
    }

    /// The server proved it knows the password (SCRAM `v=`) or holds the token (HT).
    fn verify_server(&mut self, data: &str) -> Result<(), ScramError> {
        match &mut self.exchange {
            Exchange::Plain => Ok(()),
            Exchange::Scram(scram) if scram.is_verified() => Ok(()),
            Exchange::Scram(scram) => {
                // Success without v= would skip the server's proof.
                let data = decode(data)?;
                if data.is_empty() {
                    return Err(ScramError::Malformed("success without server signature"));
                }
                scram.handle_server_final(&data)
            }
            Exchange::Token(token) => {
                let data = decode(data)?;
                if ht_verify(token, &data) {
                    Ok(())
                } else {
                    Err(ScramError::SignatureMismatch)
                }
            }
        }
    }

    fn on_failure(mut self: Box<Self>, el: &Element, cx: &mut Context) -> Result<State, Failure> {
        self.settle_scram_key(false, cx);
        if self.mechanism == Mechanism::HtSha256None && self.offered {
            // The token is refused (expired, revoked): forget it; SCRAM asks for a new one.
            cx.fast_token = None;
            cx.out.push_event(Event::FastTokenUpdated);
        }
        if self.recoverable
            && let Some((link, features)) = self.restart.take()
        {
            // The slow way, from the features.
            return start(link, &features, cx);
        }
        let (condition, text) = condition_and_text(el, NS_SASL);
        let text = text.or_else(|| el.get_child("text", NS_SASL2).map(Element::text));
        let condition = condition
            .map_or("undefined-condition", |c| c.name())
            .to_string();
        Err(Failure::new(
            DisconnectReason::AuthFailed { condition, text },
            Farewell::CloseStream,
        ))
    }

    /// At the end of a SCRAM exchange: a key the server verified goes into the cache for
    /// the next connection; the key of a failed exchange leaves it (a stale cached key costs
    /// one failed login, never a lockout).
    fn settle_scram_key(&mut self, success: bool, cx: &mut Context) {
        let Exchange::Scram(scram) = &mut self.exchange else {
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
        let abort: &[u8] = if self.sasl2.is_some() {
            b"<abort xmlns='urn:xmpp:sasl:2'/>"
        } else {
            b"<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
        };
        cx.out.write_raw(abort);
        Failure::new(
            DisconnectReason::Scram {
                mechanism: self.mechanism,
                error,
            },
            Farewell::CloseStream,
        )
    }
}

/// A base64 SASL payload; `=` (or nothing) is empty.
fn decode(text: &str) -> Result<Vec<u8>, ScramError> {
    let text = text.trim();
    if text.is_empty() || text == "=" {
        return Ok(Vec::new());
    }
    BASE64
        .decode(text)
        .map_err(|_| ScramError::Malformed("SASL payload is not base64"))
}
