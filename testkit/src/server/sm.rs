//! XEP-0198 (Stream Management 1.6.3, `urn:xmpp:sm:3`) on the server side, written from the
//! XEP and not from the client:
//!
//! - `<sm/>` is offered after authentication (section 2), until SM is on for the stream;
//! - `<enable/>` needs a bound resource (section 3: `<failed>` with `unexpected-request`
//!   before binding, and for a second `<enable/>`, as the section's examples; both are
//!   violations); it is answered with `<enabled/>` (an SM-ID, `resume`, `max` and `location`
//!   when resumption is allowed) or with `<failed/>`;
//! - counting (section 4): the server's `h` counts top-level `iq`, `message` and `presence`
//!   of the client from the element after `<enable/>`, its send count the stanzas it sends
//!   after `<enabled/>`; both wrap at 2^32; `<a/>`, `<r/>` and the other nonzas do not count;
//! - `<r/>` is answered with `<a h/>` as [`sm_r_reply`](crate::ServerProfile::sm_r_reply)
//!   says; the client's `<a h/>` drops the stanzas it acknowledges, and one acknowledging
//!   more than was sent ends the stream with `undefined-condition` and
//!   `<handled-count-too-high/>` (section 6);
//! - a connection lost without `</stream:stream>` leaves a resumable session in the
//!   profile's [`SmStore`](crate::sm_store::SmStore) for its window; a clean close, or a
//!   stream error, ends it (section 7);
//! - `<resume h previd/>` (section 5), after authentication and instead of binding:
//!   `<resumed h previd/>`, the client's `h` taken as an `<a/>`, then every stanza the client
//!   has not acknowledged, resent in order; the bound JID and the presence are the session's
//!   (a bind after it is a violation). Or `<failed/>`: `feature-not-implemented` without
//!   resumption, `item-not-found` for an unknown, closed, timed out or refused session (with
//!   the server's `h` when it knew the session); binding is still allowed after it;
//! - inline with SASL2 and Bind 2 (section 9): `<enable/>` inside `<bind/>` answered inside
//!   `<bound/>`; `<resume/>` inside `<authenticate/>` answered inside `<success/>`, no
//!   features after a resumed success, and the bind ignored.

use minidom::Element;

use super::{NS_STREAMS, ScriptedServer, ServerPhase};
use crate::profile::{Reply, SM_DEFAULT_WINDOW};
use crate::sm_store::SmSession;

pub(super) const NS_SM: &str = "urn:xmpp:sm:3";
const NS_STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";

/// An answer the profile told the server to hold back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Held {
    /// `<a h/>` for an `<r/>` (with the `h` of the moment it is released).
    Ack,
    /// The result of the ping with this id.
    Pong(String),
}

/// How a `<resume/>` went.
pub(super) enum Resumption {
    /// `<resumed/>`, to send (at top level or inside `<success/>`), then the resend.
    Resumed(String),
    /// `<failed/>`, to send.
    Failed(String),
    /// The client's `h` was too high: the stream is over.
    Broken,
}

fn truthy(value: Option<&str>) -> bool {
    matches!(value, Some("true") | Some("1"))
}

fn failed(condition: &str, h: Option<u32>) -> String {
    let h = h.map(|h| format!(" h='{h}'")).unwrap_or_default();
    format!("<failed xmlns='{NS_SM}'{h}><{condition} xmlns='{NS_STANZAS}'/></failed>")
}

impl ScriptedServer {
    /// The SM-ID of the session this stream serves, once SM is enabled or resumed.
    pub fn sm_id(&self) -> Option<&str> {
        self.sm.as_deref()
    }

    /// The session this stream serves (in the profile's store).
    pub fn sm_session(&self) -> Option<&SmSession> {
        self.profile.sm_store.get(self.sm.as_deref()?)
    }

    fn sm_session_mut(&mut self) -> Option<&mut SmSession> {
        self.profile.sm_store.sessions.get_mut(self.sm.as_deref()?)
    }

    /// Sends a stanza to the client: counted and kept until acknowledged once SM is on
    /// (unlike [`send_raw`](Self::send_raw)), followed by `<r/>` when
    /// [`sm_ack_every`](crate::ServerProfile::sm_ack_every) says so. After
    /// [`connection_lost`](Self::connection_lost) it is only queued in the cut session, for
    /// a resume to deliver.
    pub fn send_stanza(&mut self, xml: impl Into<String>) {
        let xml = xml.into();
        if let Some(session) = self.sm_session_mut() {
            session.sent = session.sent.wrapping_add(1);
            session.unacked.push_back((session.sent, xml.clone()));
        }
        if self.connection_lost {
            return;
        }
        self.send_raw(&xml);
        self.sm_count_toward_request();
    }

    /// Sends `<r/>` (once SM is on).
    pub fn sm_request_ack(&mut self) {
        if self.sm.is_some() {
            self.sm_since_request = 0;
            self.send_raw(format!("<r xmlns='{NS_SM}'/>"));
        }
    }

    /// Sends `<a h/>` with the server's count (once SM is on), asked or not.
    pub fn sm_send_ack(&mut self) {
        let Some(handled) = self.sm_session().map(|s| s.handled) else {
            return;
        };
        let h = handled.wrapping_add(self.profile.sm_h_too_high.unwrap_or(0));
        self.send_raw(format!("<a xmlns='{NS_SM}' h='{h}'/>"));
    }

    /// Sends the answers held back by [`Reply::Held`], in order.
    pub fn release_held(&mut self) {
        for held in std::mem::take(&mut self.held) {
            match held {
                Held::Ack => self.sm_send_ack(),
                Held::Pong(id) => self.send_stanza(format!(
                    "<iq type='result' id='{id}' from='{}'/>",
                    self.profile.domain
                )),
            }
        }
    }

    /// The connection broke without a close either way: what the server had not delivered
    /// is lost, later input is ignored, and a resumable SM session is cut (it waits in the
    /// profile's store for a resume, its window counted from the profile's clock now); one
    /// that is not resumable ends.
    pub fn connection_lost(&mut self) {
        if self.connection_lost {
            return;
        }
        self.connection_lost = true;
        self.phase = ServerPhase::Closed;
        self.out.clear();
        self.held.clear();
        let clock = self.profile.clock;
        let Some(session) = self.sm_session_mut() else {
            return;
        };
        if session.resumable {
            session.detached_at = Some(clock);
        } else {
            self.sm_end_session();
        }
    }

    /// The SM session ends (a clean close, a stream error): it cannot be resumed.
    pub(super) fn sm_end_session(&mut self) {
        if let Some(id) = self.sm.take() {
            self.profile.sm_store.sessions.remove(&id);
        }
    }

    /// A top-level element in the SM namespace, on a server that offers SM.
    pub(super) fn on_sm(&mut self, el: &Element) {
        match el.name() {
            "enable" => self.on_enable(el),
            "resume" => self.on_resume(el),
            "r" => self.on_request(),
            "a" => self.on_ack(el),
            other => self.violation(format!("<{other} xmlns='{NS_SM}'/>: not a client element")),
        }
    }

    /// Counts a client stanza, once SM is on, and keeps the client's broadcast presence;
    /// logs it in the store when the profile offers SM.
    pub(super) fn sm_count_inbound(&mut self, el: &Element) {
        if self.profile.sm {
            let entry = (self.sm.clone(), el.clone());
            self.profile.sm_store.from_client.push(entry);
        }
        let Some(session) = self.sm_session_mut() else {
            return;
        };
        session.handled = session.handled.wrapping_add(1);
        if el.name() == "presence" && el.attr("to").is_none() {
            session.presence = Some(el.clone());
        }
    }

    fn on_enable(&mut self, el: &Element) {
        let refusal = if self.phase != ServerPhase::Authenticated {
            Some("<enable/> before authentication")
        } else if self.sm.is_some() {
            Some("a second <enable/> (or one after <resumed/>)")
        } else if self.bound.is_none() {
            Some("<enable/> before a resource is bound")
        } else {
            None
        };
        if let Some(why) = refusal {
            self.violation(why.to_string());
            return self.send_raw(failed("unexpected-request", None));
        }
        let answer = self.sm_enable(el);
        self.send_raw(answer);
    }

    /// Enables SM for the bound resource of this stream; `<enabled/>` or `<failed/>`.
    pub(super) fn sm_enable(&mut self, enable: &Element) -> String {
        if let Some(condition) = &self.profile.sm_enable_error {
            return failed(condition, None);
        }
        let p = &self.profile;
        let resumable = p.sm_resume && truthy(enable.attr("resume"));
        let asked: Option<u64> = enable.attr("max").and_then(|m| m.parse().ok());
        let offered = p.sm_max.map(u64::from).unwrap_or(SM_DEFAULT_WINDOW);
        let window = asked.map_or(offered, |a| a.min(offered));
        let start = p.sm_counter_start;
        let account = self.bare_jid();
        let id = self.profile.sm_store.issue_id(&account);
        let session = SmSession {
            id: id.clone(),
            resumable,
            jid: self.bound.clone().unwrap_or(account),
            presence: None,
            handled: start,
            sent: start,
            acked: start,
            unacked: Default::default(),
            window,
            detached_at: None,
            resumptions: 0,
        };
        self.profile.sm_store.sessions.insert(id.clone(), session);
        self.sm = Some(id.clone());
        self.sm_since_request = 0;
        if !resumable {
            return format!("<enabled xmlns='{NS_SM}'/>");
        }
        let max = match self.profile.sm_max {
            Some(_) => format!(" max='{window}'"),
            None => String::new(),
        };
        let location = self
            .profile
            .sm_location
            .as_ref()
            .map(|l| format!(" location='{l}'"))
            .unwrap_or_default();
        format!("<enabled xmlns='{NS_SM}' id='{id}' resume='true'{max}{location}/>")
    }

    fn on_request(&mut self) {
        if self.sm.is_none() {
            return self.violation("<r/> before SM is enabled: ignored".to_string());
        }
        match self.profile.sm_r_reply {
            Reply::Prompt => self.sm_send_ack(),
            Reply::Held => self.held.push(Held::Ack),
            Reply::Never => {}
        }
    }

    fn on_ack(&mut self, el: &Element) {
        if self.sm.is_none() {
            return self.violation("<a/> before SM is enabled: ignored".to_string());
        }
        match el.attr("h").and_then(|h| h.parse::<u32>().ok()) {
            Some(h) => {
                self.sm_take_ack(h);
            }
            None => self.violation("<a/> without a numeric 'h': ignored".to_string()),
        }
    }

    /// The client handled the server's stanzas up to `h`: they are dropped from the
    /// unacknowledged queue. An `h` above the send count (modulo 2^32, counted from the
    /// last acknowledgement) ends the stream; false then.
    fn sm_take_ack(&mut self, h: u32) -> bool {
        let Some(session) = self.sm_session_mut() else {
            return true;
        };
        let acknowledged = h.wrapping_sub(session.acked);
        let outstanding = session.sent.wrapping_sub(session.acked);
        if acknowledged > outstanding {
            let sent = session.sent;
            self.handled_count_too_high(h, sent);
            return false;
        }
        for _ in 0..acknowledged {
            session.unacked.pop_front();
        }
        session.acked = h;
        true
    }

    fn handled_count_too_high(&mut self, h: u32, sent: u32) {
        let extra = format!(
            "<handled-count-too-high xmlns='{NS_SM}' h='{h}' send-count='{sent}'/>\
             <text xml:lang='en' xmlns='{NS_STREAMS}'>You acknowledged {h} stanzas, but I \
             only sent you {sent} so far.</text>"
        );
        let why = format!("the client acknowledged {h} stanzas, {sent} were sent");
        self.end_stream_with("undefined-condition", &extra, why);
    }

    fn on_resume(&mut self, el: &Element) {
        let refusal = if self.phase != ServerPhase::Authenticated {
            Some("<resume/> before authentication")
        } else if self.sm.is_some() || self.bound.is_some() {
            Some("<resume/> on a stream that is bound already")
        } else {
            None
        };
        if let Some(why) = refusal {
            self.violation(why.to_string());
            return self.send_raw(failed("unexpected-request", None));
        }
        match self.sm_resumption(el) {
            Resumption::Resumed(xml) => {
                self.send_raw(xml);
                self.sm_resend();
            }
            Resumption::Failed(xml) => self.send_raw(xml),
            Resumption::Broken => {}
        }
    }

    /// Whether SASL2 offers `<resume/>` inline.
    pub(super) fn sm_inline_resume_offered(&self) -> bool {
        let p = &self.profile;
        p.sm && p.sm_resume && p.sm_inline_resume
    }

    /// Whether Bind 2 offers `<enable/>` inline.
    pub(super) fn sm_inline_enable_offered(&self) -> bool {
        let p = &self.profile;
        p.sm && p.sm_inline_bind2
    }

    /// Resumes the session `<resume/>` names onto this (authenticated) stream, or says why
    /// not. Sends nothing but a stream error.
    pub(super) fn sm_resumption(&mut self, resume: &Element) -> Resumption {
        if !self.profile.sm_resume {
            return Resumption::Failed(failed("feature-not-implemented", None));
        }
        let previd = resume.attr("previd").unwrap_or_default().to_string();
        let Some(h) = resume.attr("h").and_then(|h| h.parse::<u32>().ok()) else {
            self.violation("<resume/> without a numeric 'h' (XEP-0198: MUST)".to_string());
            return Resumption::Failed(failed("bad-request", None));
        };
        let clock = self.profile.clock;
        let refuse = self.profile.sm_refuse_resume;
        let store = &mut self.profile.sm_store;
        let known = store.sessions.get(&previd).filter(|s| s.resumable);
        match known {
            None => {
                let h = store.ended.get(&previd).copied();
                return Resumption::Failed(failed("item-not-found", h));
            }
            Some(session) if refuse || session.expired_at(clock) => {
                let handled = session.handled;
                store.sessions.remove(&previd);
                store.ended.insert(previd, handled);
                return Resumption::Failed(failed("item-not-found", Some(handled)));
            }
            Some(_) => {}
        }
        self.sm = Some(previd.clone());
        if !self.sm_take_ack(h) {
            return Resumption::Broken;
        }
        let too_high = self.profile.sm_h_too_high.unwrap_or(0);
        let session = self.sm_session_mut().expect("attached just now");
        session.detached_at = None;
        session.resumptions += 1;
        let (jid, handled) = (session.jid.clone(), session.handled);
        self.bound = Some(jid);
        self.session_established = true;
        self.resumed = true;
        self.sm_since_request = 0;
        let h = handled.wrapping_add(too_high);
        Resumption::Resumed(format!(
            "<resumed xmlns='{NS_SM}' h='{h}' previd='{previd}'/>"
        ))
    }

    /// After `<resumed/>`: every stanza the client has not acknowledged, in order (they
    /// keep their sequence numbers), recorded in [`sm_resent`](Self::sm_resent).
    pub(super) fn sm_resend(&mut self) {
        let pending: Vec<String> = match self.sm_session() {
            Some(session) => session.unacked.iter().map(|(_, x)| x.clone()).collect(),
            None => return,
        };
        for xml in pending {
            self.send_raw(&xml);
            self.sm_resent.push(xml);
            self.sm_count_toward_request();
        }
    }

    fn sm_count_toward_request(&mut self) {
        let Some(every) = self.profile.sm_ack_every else {
            return;
        };
        if self.sm.is_none() {
            return;
        }
        self.sm_since_request += 1;
        if self.sm_since_request >= every {
            self.sm_request_ack();
        }
    }
}
