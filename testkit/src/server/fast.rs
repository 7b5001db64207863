//! FAST (XEP-0484 0.2) on the server side, with the HT mechanisms of
//! draft-schmaus-kitten-sasl-ht, written from the documents and not from the client:
//!
//! - the initial response is `authcid NUL initiator-hashed-token`, where
//!   `initiator-hashed-token = HMAC-SHA-256(token, "Initiator" || cb-data)`; `cb-data` is
//!   empty for `-NONE`, the `tls-server-end-point` data for `-ENDP`, the `tls-exporter`
//!   data for `-EXPR` (`-UNIQ` is refused: the simulated TLS has no `tls-unique`);
//! - the success carries `additional-data = HMAC-SHA-256(token, "Responder" || cb-data)`;
//! - tokens are kept per `<user-agent id>` in two slots (XEP-0484 section 6.1): a token is
//!   tried in `new`, then in `current`; using the `new` one makes it `current`;
//! - a token is bound to the mechanism it was requested for; an unknown token, a wrong
//!   HMAC, another mechanism or another account fail with `not-authorized`; an expired
//!   token fails with `credentials-expired` (XEP-0484 section 5.2, as Prosody) and is
//!   dropped;
//! - `<fast invalidate='true'/>` drops the client's tokens after the success, and no new
//!   one comes unless `<request-token/>` asks;
//! - rotation: [`FastRotation`]; a new token goes to the `new` slot, replacing one never
//!   used, and the one just used stays valid until the new one is used.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::sasl2::Pending;
use super::{NS_FAST, ScriptedServer};
use crate::profile::{FastRotation, FastToken};

/// HMAC-SHA-256(token, label || cb-data), keyed with the token's UTF-8 bytes.
fn ht_mac(token: &str, label: &[u8], cb_data: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(token.as_bytes()).expect("any key length");
    mac.update(label);
    mac.update(cb_data);
    mac
}

impl ScriptedServer {
    /// The channel-binding data an HT mechanism binds to; `None` when it cannot be had.
    fn ht_cb_data(&self, mechanism: &str) -> Option<Vec<u8>> {
        let cb_type = mechanism.strip_prefix("HT-SHA-256-")?;
        match cb_type {
            "NONE" => Some(Vec::new()),
            "ENDP" => self.profile.channel_binding_data("tls-server-end-point"),
            "EXPR" => self.profile.channel_binding_data("tls-exporter"),
            _ => None,
        }
    }

    /// Checks an HT initial response against the tokens of `user_agent`; the
    /// responder-msg, or the SASL condition to fail with.
    pub(super) fn fast_verify(
        &mut self,
        mechanism: &str,
        user_agent: &str,
        message: &[u8],
    ) -> Result<Vec<u8>, &'static str> {
        let Some(nul) = message.iter().position(|b| *b == 0) else {
            return Err("malformed-request");
        };
        let (authcid, hashed) = (&message[..nul], &message[nul + 1..]);
        if authcid.is_empty() || hashed.is_empty() {
            return Err("malformed-request");
        }
        if authcid != self.profile.username.as_bytes() {
            return Err("not-authorized");
        }
        let Some(cb_data) = self.ht_cb_data(mechanism) else {
            return Err("not-authorized");
        };
        let clock = self.profile.clock;
        let Some(slots) = self.profile.fast_tokens.get_mut(user_agent) else {
            return Err("not-authorized");
        };
        for from_new in [true, false] {
            let slot = if from_new {
                &mut slots.new
            } else {
                &mut slots.current
            };
            let Some(token) = slot.as_ref() else { continue };
            let verified = token.mechanism == mechanism
                && ht_mac(&token.secret, b"Initiator", &cb_data)
                    .verify_slice(hashed)
                    .is_ok();
            if !verified {
                continue;
            }
            if clock >= token.expires_at {
                *slot = None;
                return Err("credentials-expired");
            }
            let responder = ht_mac(&token.secret, b"Responder", &cb_data)
                .finalize()
                .into_bytes()
                .to_vec();
            if from_new {
                slots.current = slots.new.take();
            }
            return Ok(responder);
        }
        Err("not-authorized")
    }

    /// After a SASL2 success: invalidation, rotation and requested tokens. Returns the
    /// `<token/>` for `<success/>`, if one was issued.
    pub(super) fn fast_after_success(&mut self, pending: &Pending) -> String {
        if !(self.profile.sasl2 && self.profile.fast) {
            // A server without FAST does not know these elements: it ignores them.
            return String::new();
        }
        let user_agent = pending.user_agent.clone();
        let mut issue: Option<String> = None;
        if let (Some(invalidate), Some(ua)) = (pending.fast, &user_agent) {
            if invalidate {
                self.profile.fast_tokens.remove(ua);
            } else if self.rotation_due(ua) {
                issue = Some(pending.mechanism.clone());
            }
        }
        if let Some(requested) = &pending.request_token {
            if !self.profile.fast_mechanisms.contains(&requested.as_str()) {
                let why = format!("<request-token mechanism='{requested}'/> not offered");
                self.violation(why);
            } else if user_agent.is_none() {
                self.violation("<request-token/> without <user-agent id>".to_string());
            } else {
                issue = Some(requested.clone());
            }
        }
        let (Some(mechanism), Some(ua)) = (issue, user_agent) else {
            return String::new();
        };
        let token = self.issue_fast_token(&ua, &mechanism);
        format!(
            "<token xmlns='{NS_FAST}' expiry='{}' token='{}'/>",
            datetime(token.expires_at),
            token.secret
        )
    }

    /// Whether the token `user_agent` just used is due for replacement.
    fn rotation_due(&self, user_agent: &str) -> bool {
        let Some(used) = self
            .profile
            .fast_tokens
            .get(user_agent)
            .and_then(|s| s.current.as_ref())
        else {
            return false;
        };
        match self.profile.fast_rotation {
            FastRotation::Never => false,
            FastRotation::EveryLogin => true,
            FastRotation::OlderThan(age) => self.profile.clock >= used.issued_at + age,
        }
    }

    /// A new token for `user_agent` in its `new` slot (replacing one never used). The
    /// secret is derived from the account, the user agent and a count, so that runs repeat.
    fn issue_fast_token(&mut self, user_agent: &str, mechanism: &str) -> FastToken {
        let p = &mut self.profile;
        p.fast_tokens_issued += 1;
        let seed = format!(
            "{}@{}\0{user_agent}\0{}",
            p.username, p.domain, p.fast_tokens_issued
        );
        let secret = format!(
            "secret-token:fast-{}",
            URL_SAFE_NO_PAD.encode(&Sha256::digest(seed.as_bytes())[..18])
        );
        let token = FastToken {
            secret,
            mechanism: mechanism.to_string(),
            issued_at: p.clock,
            expires_at: p.clock + p.fast_token_ttl,
        };
        p.fast_tokens.entry(user_agent.to_string()).or_default().new = Some(token.clone());
        token
    }
}

/// Seconds since 1970 as an XEP-0082 DateTime (`2026-01-22T00:00:00Z`), by the civil
/// calendar algorithm of Howard Hinnant's "chrono-Compatible Low-Level Date Algorithms".
pub fn datetime(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
