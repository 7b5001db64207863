//! SASL authentication (RFC 6120 section 6): choose a mechanism, run the exchange, verify
//! the server (SCRAM `v=`), then restart the stream.

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use minidom::Element;
use zeroize::Zeroize;

use crate::client::{Client, Farewell};
use crate::error::DisconnectReason;
use crate::sasl::{
    Mechanism, ScramClient, ScramError, ScramHash, plain_initial_response, select_mechanism,
};
use crate::session::stream::{Features, NS_SASL};
use crate::session::{Auth, Phase, State};
use crate::stanza::condition_and_text;

impl Client {
    pub(super) fn start_auth(&mut self, now: Instant, features: &Features) {
        let offered = features.mechanisms.clone().unwrap_or_default();
        let choice = select_mechanism(
            &offered,
            features.channel_bindings.as_deref(),
            self.channel_binding.as_ref(),
            self.transport_tls,
            self.config.allow_plain,
        );
        let Some((mechanism, cbind)) = choice else {
            self.fail(
                now,
                DisconnectReason::NoAcceptableMechanism { offered },
                Farewell::CloseStream,
            );
            return;
        };
        let credentials = &self.credentials;
        let prepared = match mechanism {
            Mechanism::Plain => Ok((plain_initial_response(credentials), None)),
            _ => {
                let hash = match mechanism {
                    Mechanism::ScramSha256Plus | Mechanism::ScramSha256 => ScramHash::Sha256,
                    _ => ScramHash::Sha1,
                };
                let mut raw = [0u8; 24];
                self.entropy.fill(&mut raw);
                let bounds = self.config.scram_iterations;
                ScramClient::new(
                    hash,
                    &credentials.username,
                    &credentials.password,
                    cbind,
                    BASE64.encode(raw),
                    bounds.min,
                    bounds.max,
                )
                .map(|scram| (scram.client_first(), Some(scram)))
            }
        };
        let (mut initial, scram) = match prepared {
            Ok(p) => p,
            Err(error) => {
                let reason = DisconnectReason::Scram { mechanism, error };
                return self.fail(now, reason, Farewell::CloseStream);
            }
        };
        let mut encoded = BASE64.encode(&initial);
        let mut auth = format!(
            "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='{}'>{}</auth>",
            mechanism.as_str(),
            encoded
        );
        self.write_secret(now, auth.as_bytes());
        // PLAIN's initial response is the password itself.
        initial.zeroize();
        encoded.zeroize();
        auth.zeroize();
        self.enter(
            now,
            State::Authenticating(Auth {
                mechanism,
                scram,
                got_server_first: false,
            }),
        );
    }

    pub(super) fn on_sasl_element(&mut self, now: Instant, el: &Element) {
        if !el.has_ns(NS_SASL) {
            return self.fail_unexpected(now, "a SASL element", el);
        }
        match el.name() {
            "challenge" => self.on_challenge(now, el),
            "success" => self.on_success(now, el),
            "failure" => {
                self.settle_scram_key(false);
                let (condition, text) = condition_and_text(el, NS_SASL);
                let condition = condition
                    .map_or("undefined-condition", |c| c.name())
                    .to_string();
                self.fail(
                    now,
                    DisconnectReason::AuthFailed { condition, text },
                    Farewell::CloseStream,
                );
            }
            _ => self.fail_unexpected(now, "a SASL challenge, success or failure", el),
        }
    }

    fn on_challenge(&mut self, now: Instant, el: &Element) {
        let State::Authenticating(auth) = &mut self.state else {
            return;
        };
        let mechanism = auth.mechanism;
        let data = match decode(el) {
            Ok(d) => d,
            Err(e) => return self.fail_scram(now, mechanism, e),
        };
        let Some(scram) = auth.scram.as_mut() else {
            // PLAIN has no challenges.
            return self.fail_scram(now, mechanism, ScramError::UnexpectedMessage);
        };
        let response = if !auth.got_server_first {
            auth.got_server_first = true;
            scram.handle_server_first_cached(&data, &self.scram_cache)
        } else {
            // Some servers send server-final as a challenge and expect an empty response.
            scram.handle_server_final(&data).map(|()| Vec::new())
        };
        match response {
            Ok(bytes) if bytes.is_empty() => {
                self.write_raw(now, b"<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
            }
            Ok(bytes) => {
                let xml = format!(
                    "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</response>",
                    BASE64.encode(bytes)
                );
                self.write_raw(now, xml.as_bytes());
            }
            Err(e) => self.fail_scram(now, mechanism, e),
        }
    }

    fn on_success(&mut self, now: Instant, el: &Element) {
        let State::Authenticating(auth) = &mut self.state else {
            return;
        };
        let mechanism = auth.mechanism;
        if let Some(scram) = auth.scram.as_mut().filter(|s| !s.is_verified()) {
            // Success without v= would skip the server's proof that it knows the password.
            let checked = match decode(el) {
                Ok(data) if data.is_empty() => {
                    Err(ScramError::Malformed("success without server signature"))
                }
                Ok(data) => scram.handle_server_final(&data),
                Err(e) => Err(e),
            };
            if let Err(error) = checked {
                self.settle_scram_key(false);
                // The exchange is over: nothing to abort, just close.
                let reason = DisconnectReason::Scram { mechanism, error };
                return self.fail(now, reason, Farewell::CloseStream);
            }
        }
        self.settle_scram_key(true);
        self.open_stream(now);
        self.enter(now, State::ExpectHeader(Phase::AfterAuth));
    }

    /// At the end of a SCRAM exchange: a key the server verified goes into the cache for
    /// the next connection; the key of a failed exchange leaves it (a stale cached key costs
    /// one failed login, never a lockout).
    fn settle_scram_key(&mut self, success: bool) {
        let State::Authenticating(auth) = &mut self.state else {
            return;
        };
        let Some(scram) = auth.scram.as_mut() else {
            return;
        };
        let verified = scram.is_verified();
        if let Some(key) = scram.take_key() {
            if success && verified {
                self.scram_cache.insert(key);
            } else {
                self.scram_cache.remove(&key);
            }
        }
    }

    fn fail_scram(&mut self, now: Instant, mechanism: Mechanism, error: ScramError) {
        self.settle_scram_key(false);
        // RFC 6120 6.4.5: abort the running exchange, then close.
        self.write_raw(now, b"<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
        self.fail(
            now,
            DisconnectReason::Scram { mechanism, error },
            Farewell::CloseStream,
        );
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
