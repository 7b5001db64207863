//! SASL2 (XEP-0388 1.0) with Bind 2 (XEP-0386) inline: `<authenticate/>` with its
//! `<initial-response/>`, `<user-agent/>`, `<bind/>`, `<request-token/>` and `<fast/>`;
//! `<challenge/>` / `<response/>`; `<success/>` with `<additional-data/>`,
//! `<authorization-identifier/>` (the full JID once bound), `<bound/>` and a FAST
//! `<token/>`; `<failure/>` with an RFC 6120 condition. There is no stream restart: with
//! [`features_after_sasl2_success`](crate::ServerProfile::features_after_sasl2_success)
//! (XEP-0388 section 2.6.1, Prosody) `<stream:features>` follow `<success/>` at once, on the
//! same stream.

use minidom::Element;
use sha2::{Digest, Sha256};

use super::sasl::{Step, decode};
use super::sm::{NS_SM, Resumption};
use super::{NS_BIND2, NS_FAST, NS_SASL, NS_SASL2, ScriptedServer, ServerPhase};

/// What an `<authenticate/>` asked for beyond authentication, kept until its outcome.
#[derive(Debug, Clone, Default)]
pub(super) struct Pending {
    /// The mechanism.
    pub(super) mechanism: String,
    /// `<user-agent id='...'>`.
    pub(super) user_agent: Option<String>,
    /// `<bind xmlns='urn:xmpp:bind:0'>`, with its `<tag/>` if any.
    pub(super) bind: Option<Option<String>>,
    /// `<request-token mechanism='...'/>`.
    pub(super) request_token: Option<String>,
    /// `<fast/>`, and whether it says `invalidate='true'`.
    pub(super) fast: Option<bool>,
    /// XEP-0198's `<enable/>` inside `<bind/>`.
    pub(super) sm_enable: Option<Element>,
    /// XEP-0198's `<resume/>` inside `<authenticate/>`.
    pub(super) sm_resume: Option<Element>,
}

impl Pending {
    fn of(el: &Element) -> Pending {
        let truthy = |v: Option<&str>| matches!(v, Some("true") | Some("1"));
        Pending {
            mechanism: el.attr("mechanism").unwrap_or_default().to_string(),
            user_agent: el
                .get_child("user-agent", NS_SASL2)
                .and_then(|ua| ua.attr("id"))
                .map(str::to_string),
            bind: el
                .get_child("bind", NS_BIND2)
                .map(|b| b.get_child("tag", NS_BIND2).map(|t| t.text())),
            request_token: el
                .get_child("request-token", NS_FAST)
                .map(|r| r.attr("mechanism").unwrap_or_default().to_string()),
            fast: el
                .get_child("fast", NS_FAST)
                .map(|f| truthy(f.attr("invalidate"))),
            sm_enable: el
                .get_child("bind", NS_BIND2)
                .and_then(|b| b.get_child("enable", NS_SM))
                .cloned(),
            sm_resume: el.get_child("resume", NS_SM).cloned(),
        }
    }
}

impl ScriptedServer {
    pub(super) fn on_authenticate(&mut self, el: &Element) {
        if self.phase == ServerPhase::Authenticated {
            let why = "<authenticate/> on an authenticated stream".to_string();
            return self.end_stream("policy-violation", why);
        }
        let pending = Pending::of(el);
        let mechanism = pending.mechanism.clone();
        self.mechanism_used = Some(mechanism.clone());
        if self.tls_required_first() {
            return self.sasl2_failure("encryption-required", None);
        }
        let initial = el
            .get_child("initial-response", NS_SASL2)
            .map(|r| decode(&r.text()))
            .unwrap_or_default();
        let fast_mechanism =
            self.fast_offered && self.profile.fast_mechanisms.contains(&mechanism.as_str());
        if fast_mechanism {
            self.auth_log.push((mechanism.clone(), String::new()));
            if pending.fast.is_none() {
                let text = "a token mechanism needs <fast/>";
                return self.sasl2_failure("malformed-request", Some(text));
            }
            let Some(user_agent) = pending.user_agent.clone() else {
                // Prosody: FAST is not available without a client id.
                let text = "FAST needs <user-agent id='...'/>";
                return self.sasl2_failure("malformed-request", Some(text));
            };
            match self.fast_verify(&mechanism, &user_agent, &initial) {
                Ok(responder) => self.sasl2_success(pending, Some(responder)),
                Err(condition) => self.sasl2_failure(condition, None),
            }
        } else if self.profile.mechanisms.contains(&mechanism.as_str()) {
            if pending.fast.is_some() {
                // A token is not a password: Prosody's FAST handler knows no such mechanism.
                return self.sasl2_failure("invalid-mechanism", None);
            }
            let step = self.sasl_start(&mechanism, &initial);
            self.sasl2_step(step, pending);
        } else {
            // XEP-0388 section 2.3: a mechanism not announced MUST fail.
            self.sasl2_failure("invalid-mechanism", None);
        }
    }

    pub(super) fn on_sasl2_response(&mut self, el: &Element) {
        let Some(pending) = self.sasl2.take() else {
            return self.sasl2_failure("malformed-request", None);
        };
        let step = self.sasl_continue(&decode(&el.text()));
        self.sasl2_step(step, pending);
    }

    fn sasl2_step(&mut self, step: Step, pending: Pending) {
        match step {
            Step::Challenge(data) => {
                use base64::Engine;
                let data = base64::engine::general_purpose::STANDARD.encode(data);
                self.send_raw(format!("<challenge xmlns='{NS_SASL2}'>{data}</challenge>"));
                self.sasl2 = Some(pending);
            }
            Step::Success(additional) => self.sasl2_success(pending, additional),
            Step::Failure(condition) => self.sasl2_failure(condition, None),
        }
    }

    /// `<failure/>`: the condition in the RFC 6120 SASL namespace, as XEP-0388's example
    /// has it (or in SASL2's, as Prosody). Inline requests are dropped with the exchange.
    pub(super) fn sasl2_failure(&mut self, condition: &str, text: Option<&str>) {
        let text = text
            .map(|t| format!("<text>{t}</text>"))
            .unwrap_or_default();
        let condition = if self.profile.sasl2_failure_like_prosody {
            format!("<{condition}/>")
        } else {
            format!("<{condition} xmlns='{NS_SASL}'/>")
        };
        let xml = format!("<failure xmlns='{NS_SASL2}'>{condition}{text}</failure>");
        self.sasl2_outcomes.push(xml.clone());
        self.send_raw(xml);
        self.sasl = None;
        self.sasl2 = None;
    }

    /// `<success/>`, after an inline resume or binding (XEP-0386 section 3.2: before the
    /// success is sent) with an inline `<enable/>`, and the FAST bookkeeping, then the
    /// features of the authenticated stream; after a resume, the resend instead of the
    /// features (XEP-0198 section 9.2).
    fn sasl2_success(&mut self, pending: Pending, additional: Option<Vec<u8>>) {
        self.phase = ServerPhase::Authenticated;
        self.sasl = None;
        self.sasl2 = None;
        let mut body = String::new();
        if let Some(data) = self.success_data(additional, pending.fast.is_some()) {
            body.push_str(&format!("<additional-data>{data}</additional-data>"));
        }
        let mut inline = String::new();
        let mut resumed = false;
        if let Some(resume) = &pending.sm_resume {
            if self.sm_inline_resume_offered() {
                match self.sm_resumption(resume) {
                    Resumption::Resumed(xml) => {
                        inline = xml;
                        resumed = true;
                    }
                    Resumption::Failed(xml) => inline = xml,
                    Resumption::Broken => return,
                }
            } else {
                self.violation("<resume/> inside <authenticate/>, not offered".to_string());
            }
        }
        if !resumed
            && self.profile.bind2
            && let Some(tag) = &pending.bind
        {
            let resource = bind2_resource(tag.as_deref(), pending.user_agent.as_deref());
            self.bound = Some(format!("{}/{resource}", self.bare_jid()));
            self.session_established = true;
            let enabled = match &pending.sm_enable {
                Some(enable) if self.sm_inline_enable_offered() => self.sm_enable(enable),
                Some(_) => {
                    self.violation("<enable/> inside <bind/>, not offered".to_string());
                    String::new()
                }
                None => String::new(),
            };
            inline.push_str(&if enabled.is_empty() {
                format!("<bound xmlns='{NS_BIND2}'/>")
            } else {
                format!("<bound xmlns='{NS_BIND2}'>{enabled}</bound>")
            });
        }
        let identifier = self.bound.clone().unwrap_or_else(|| self.bare_jid());
        body.push_str(&format!(
            "<authorization-identifier>{identifier}</authorization-identifier>{inline}"
        ));
        body.push_str(&self.fast_after_success(&pending));
        let xml = format!("<success xmlns='{NS_SASL2}'>{body}</success>");
        self.sasl2_outcomes.push(xml.clone());
        self.send_raw(xml);
        if resumed {
            self.sm_resend();
        } else if self.profile.features_after_sasl2_success {
            let features = self.session_features();
            self.send_raw(format!("<stream:features>{features}</stream:features>"));
        }
    }
}

/// XEP-0386 section 3.2.1: the client's tag, a slash, then an identifier the server makes
/// up, stable for the same user agent and tag (and not revealing the user agent's id).
pub fn bind2_resource(tag: Option<&str>, user_agent: Option<&str>) -> String {
    let seed = format!(
        "{}\0{}",
        user_agent.unwrap_or_default(),
        tag.unwrap_or_default()
    );
    let digest = Sha256::digest(seed.as_bytes());
    let id: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    match tag {
        Some(tag) if !tag.is_empty() => format!("{tag}/{id}"),
        _ => id,
    }
}
