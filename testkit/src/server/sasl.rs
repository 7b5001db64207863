//! SASL mechanisms (PLAIN, SCRAM) as steps both profiles share, and the RFC 6120 framing
//! (`<auth/>`, `<challenge/>`, `<response/>`, `<success/>`, `<failure/>`, then a stream
//! restart).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use minidom::Element;

use super::{ScriptedServer, ServerPhase};
use crate::profile::ScramTamper;
use crate::scram_server::{Hash, StoredCredentials, attributes, verify_client_proof};
use crate::xml_in::ClientStream;

/// What a mechanism says next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// A challenge (raw bytes, framed and encoded by the profile).
    Challenge(String),
    /// Authenticated, with the mechanism's additional data (SCRAM's `v=`, HT's
    /// responder-msg).
    Success(Option<Vec<u8>>),
    /// Refused, with a SASL condition of RFC 6120 section 6.5.
    Failure(&'static str),
}

/// A SCRAM exchange between the client-first and client-final messages.
#[derive(Debug)]
pub(super) struct Exchange {
    creds: StoredCredentials,
    gs2_header: String,
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

/// Decodes SASL data; `=` (RFC 6120's empty response) and bad base64 both give nothing.
pub(super) fn decode(text: &str) -> Vec<u8> {
    BASE64.decode(text.trim()).unwrap_or_default()
}

impl ScriptedServer {
    /// Starts `mechanism` (already checked against the offer) with the client's initial
    /// response.
    pub(super) fn sasl_start(&mut self, mechanism: &str, initial: &[u8]) -> Step {
        self.sasl = None;
        let text = String::from_utf8_lossy(initial).to_string();
        if mechanism == "PLAIN" {
            self.auth_log.push((mechanism.to_string(), String::new()));
            let parts: Vec<&str> = text.split('\0').collect();
            let ok = parts.len() == 3
                && parts[1] == self.profile.username
                && parts[2] == self.profile.password;
            return if ok {
                Step::Success(None)
            } else {
                Step::Failure("not-authorized")
            };
        }
        let Some(hash) = Hash::for_mechanism(mechanism) else {
            return Step::Failure("invalid-mechanism");
        };
        // gs2-header: flag "," authzid ","
        let mut pieces = text.splitn(3, ',');
        let (flag, authzid, bare) = (
            pieces.next().unwrap_or_default(),
            pieces.next().unwrap_or_default(),
            pieces.next().unwrap_or_default(),
        );
        let gs2_header = format!("{flag},{authzid},");
        self.auth_log
            .push((mechanism.to_string(), gs2_header.clone()));
        let offers_plus = self.profile.mechanisms.iter().any(|m| m.ends_with("-PLUS"));
        if flag == "y" && offers_plus {
            // RFC 5802 section 6: the client thinks we lack channel binding, but we offer it.
            return Step::Failure("not-authorized");
        }
        let attrs = attributes(bare);
        let get = |k: char| attrs.iter().find(|(a, _)| *a == k).map(|(_, v)| v.clone());
        let (Some(user), Some(cnonce)) = (get('n'), get('r')) else {
            return Step::Failure("malformed-request");
        };
        let escaped = self
            .profile
            .username
            .replace('=', "=3D")
            .replace(',', "=2C");
        if user != escaped {
            return Step::Failure("not-authorized");
        }
        let nonce = match self.profile.scram_tamper {
            ScramTamper::ForeignNonce => "AAAAthisisnotyournonce".to_string(),
            _ => format!("{cnonce}{}", self.profile.server_nonce_suffix),
        };
        let creds = StoredCredentials::new(
            hash,
            &self.profile.password,
            &self.profile.salt,
            // Counts above 20,000 only test the client's bound: it refuses before proving.
            self.profile.iterations.min(20_000),
        );
        let server_first = format!(
            "r={nonce},s={},i={}",
            BASE64.encode(&self.profile.salt),
            self.profile.iterations
        );
        self.sasl = Some(Exchange {
            creds,
            gs2_header,
            client_first_bare: bare.to_string(),
            server_first: server_first.clone(),
            nonce,
        });
        Step::Challenge(server_first)
    }

    /// The client's answer to a challenge.
    pub(super) fn sasl_continue(&mut self, data: &[u8]) -> Step {
        let Some(ex) = self.sasl.take() else {
            return Step::Failure("malformed-request");
        };
        let text = String::from_utf8_lossy(data).to_string();
        let attrs = attributes(&text);
        let get = |k: char| attrs.iter().find(|(a, _)| *a == k).map(|(_, v)| v.clone());
        let (Some(c), Some(r), Some(p)) = (get('c'), get('r'), get('p')) else {
            return Step::Failure("malformed-request");
        };
        let mut cbind_input = ex.gs2_header.as_bytes().to_vec();
        if let Some(kind) = ex
            .gs2_header
            .strip_prefix("p=")
            .and_then(|s| s.split(',').next())
        {
            match self.profile.channel_binding_data(kind) {
                Some(data) => cbind_input.extend_from_slice(&data),
                None => return Step::Failure("not-authorized"),
            }
        }
        if BASE64.decode(&c).ok() != Some(cbind_input) || r != ex.nonce {
            return Step::Failure("not-authorized");
        }
        let without_proof = text.rsplit_once(",p=").map(|(a, _)| a).unwrap_or_default();
        let auth_message = format!(
            "{},{},{}",
            ex.client_first_bare, ex.server_first, without_proof
        );
        let Some(mut signature) = verify_client_proof(&ex.creds, &auth_message, &p) else {
            return Step::Failure("not-authorized");
        };
        if self.profile.scram_tamper == ScramTamper::WrongSignature {
            signature[0] ^= 0xff;
        }
        Step::Success(Some(format!("v={}", BASE64.encode(signature)).into_bytes()))
    }

    /// The additional data `<success/>` carries, base64, after the profile's tampering
    /// (SCRAM's signature is bent before it is formatted; FAST's responder-msg here).
    pub(super) fn success_data(&self, additional: Option<Vec<u8>>, fast: bool) -> Option<String> {
        match (additional, self.profile.scram_tamper) {
            (Some(_), ScramTamper::OmitServerFinal) => None,
            (Some(mut data), ScramTamper::WrongSignature) if fast => {
                data[0] ^= 0xff;
                Some(BASE64.encode(data))
            }
            (data, _) => data.map(|d| BASE64.encode(d)),
        }
    }

    // ----- RFC 6120 framing -----

    pub(super) fn on_auth(&mut self, el: &Element) {
        let mechanism = el.attr("mechanism").unwrap_or_default().to_string();
        self.mechanism_used = Some(mechanism.clone());
        if self.tls_required_first() {
            return self.sasl_failure("encryption-required");
        }
        if !self.profile.mechanisms.iter().any(|m| *m == mechanism) {
            return self.sasl_failure("invalid-mechanism");
        }
        let step = self.sasl_start(&mechanism, &decode(&el.text()));
        self.rfc6120_step(step);
    }

    pub(super) fn on_response(&mut self, el: &Element) {
        let step = self.sasl_continue(&decode(&el.text()));
        self.rfc6120_step(step);
    }

    fn rfc6120_step(&mut self, step: Step) {
        match step {
            Step::Challenge(data) => self.send_raw(format!(
                "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
                BASE64.encode(data)
            )),
            Step::Success(additional) => {
                let payload = self.success_data(additional, false).unwrap_or_default();
                self.send_raw(format!(
                    "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{payload}</success>"
                ));
                self.phase = ServerPhase::Authenticated;
                // RFC 6120 section 6.4.6: both sides restart the stream.
                self.stream = ClientStream::new();
                self.restarted = true;
            }
            Step::Failure(condition) => self.sasl_failure(condition),
        }
    }

    pub(super) fn sasl_failure(&mut self, condition: &str) {
        self.send_raw(format!(
            "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><{condition}/></failure>"
        ));
        self.sasl = None;
    }
}
