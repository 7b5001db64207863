//! Subscriptions (RFC 6121 section 3): the commands, the contacts' subscription presence, and
//! the answer window of incoming requests.
//!
//! An incoming `subscribe` opens a request for [`Timeouts::subscription_window`]. Within it
//! the application answers with `approve` or `deny`. When it closes, or at `close` if that
//! comes first, the [`SubscriptionPolicy`] answers: `Deny` sends `unsubscribed`, `Accept`
//! `subscribed`, `Ask` sends nothing (the server keeps the request and delivers it again at
//! the next login, RFC 6121 section 3.1.3). Exactly one answer goes out per request: a
//! request repeated while open is the same request, and a contact's `unsubscribe` withdraws
//! it. When the session ends without `close`, open requests stay pending at the server
//! (they die with the session's data).
//!
//! [`Timeouts::subscription_window`]: crate::Timeouts::subscription_window

use crate::Instant;
use std::collections::VecDeque;

use jid::{BareJid, Jid};

use crate::config::SubscriptionPolicy;
use crate::error::UsageError;
use crate::event::Event;
use crate::session::context::Context;
use crate::stanza::roster::presence_to;
use crate::timer::Timer;
use crate::xml::tree::Stanza;

use super::SessionData;

/// Incoming requests not answered yet, oldest first. One window length for all, so the
/// deadlines are in order too.
#[derive(Debug, Default)]
pub(crate) struct OpenRequests {
    queue: VecDeque<OpenRequest>,
}

#[derive(Debug)]
struct OpenRequest {
    from: BareJid,
    /// When the policy answers; `None` once `Ask` left it pending (still answerable).
    due: Option<Instant>,
}

impl OpenRequests {
    fn position(&self, jid: &BareJid) -> Option<usize> {
        self.queue.iter().position(|r| r.from == *jid)
    }

    fn contains(&self, jid: &BareJid) -> bool {
        self.position(jid).is_some()
    }

    /// Opens `from`'s request until `due`; false when it is already open (a request left
    /// pending by `Ask` opens again). Past `cap` the oldest are returned, to be answered
    /// now: those still waiting for an answer.
    fn open(&mut self, from: BareJid, due: Instant, cap: usize) -> (bool, Vec<BareJid>) {
        if let Some(i) = self.position(&from) {
            if self.queue[i].due.is_some() {
                return (false, Vec::new());
            }
            self.queue.remove(i);
        }
        self.queue.push_back(OpenRequest {
            from,
            due: Some(due),
        });
        let mut evicted = Vec::new();
        while self.queue.len() > cap {
            match self.queue.pop_front() {
                Some(OpenRequest { from, due: Some(_) }) => evicted.push(from),
                Some(_) => {}
                None => break,
            }
        }
        (true, evicted)
    }

    /// Closes `jid`'s request; whether there was one.
    fn take(&mut self, jid: &BareJid) -> bool {
        match self.position(jid) {
            Some(i) => self.queue.remove(i).is_some(),
            None => false,
        }
    }

    /// The requests whose window closed by `now`: removed, or kept as left pending.
    fn expire(&mut self, now: Instant, keep: bool) -> Vec<BareJid> {
        let mut expired = Vec::new();
        for request in &mut self.queue {
            if request.due.is_some_and(|at| at <= now) {
                expired.push(request.from.clone());
                request.due = None;
            }
        }
        if !keep {
            self.queue.retain(|r| r.due.is_some());
        }
        expired
    }

    /// Every request still waiting for an answer; the table is emptied.
    fn drain_waiting(&mut self) -> Vec<BareJid> {
        self.queue
            .drain(..)
            .filter(|r| r.due.is_some())
            .map(|r| r.from)
            .collect()
    }

    fn next_due(&self) -> Option<Instant> {
        self.queue.iter().find_map(|r| r.due)
    }
}

impl SessionData {
    /// Sends a subscription presence of `kind` (`subscribe`, `unsubscribe`, `probe`...) to
    /// `jid`.
    pub(crate) fn send_subscription(&mut self, kind: &str, jid: &str, cx: &mut Context) {
        cx.out.write(&presence_to(kind, jid));
    }

    /// Lets `jid` see our presence (`subscribed`): answers its request, or pre-approves it
    /// when the server supports pre-approval (RFC 6121 section 3.4).
    pub(crate) fn approve(&mut self, jid: &BareJid, cx: &mut Context) -> Result<(), UsageError> {
        if !self.open_requests.contains(jid) && !self.server.pre_approval {
            return Err(UsageError::NoPendingRequest);
        }
        self.send_subscription("subscribed", jid.as_str(), cx);
        self.close_request(jid, cx);
        Ok(())
    }

    /// Refuses `jid`'s subscription request, or takes back its permission (`unsubscribed`).
    pub(crate) fn deny(&mut self, jid: &BareJid, cx: &mut Context) {
        self.send_subscription("unsubscribed", jid.as_str(), cx);
        self.close_request(jid, cx);
    }

    fn close_request(&mut self, jid: &BareJid, cx: &mut Context) {
        if self.open_requests.take(jid) {
            self.arm_subscription_window(cx);
        }
    }

    fn arm_subscription_window(&self, cx: &mut Context) {
        let due = self.open_requests.next_due();
        cx.out.timers.set_or_stop(Timer::SubscriptionWindow, due);
    }

    /// An incoming `subscribe`, `subscribed`, `unsubscribe` or `unsubscribed`; false for
    /// other presence types. `can_reply` is false while closing: no answer can go out.
    pub(super) fn on_subscription_presence(
        &mut self,
        now: Instant,
        el: &Stanza,
        can_reply: bool,
        cx: &mut Context,
    ) -> bool {
        // The type first: most presence is availability, and parsing a JID is not free.
        let kind = match el.attr("type") {
            Some(kind @ ("subscribe" | "subscribed" | "unsubscribed" | "unsubscribe")) => kind,
            _ => return false,
        };
        let Some(from) = el
            .attr("from")
            .and_then(|f| crate::jid_util::parse_jid(f).ok())
            .map(Jid::into_bare)
        else {
            return false;
        };
        match kind {
            "subscribe" if !can_reply => {
                cx.out
                    .push_event(Event::SubscriptionRequest { from: from.clone() });
                cx.out.push_event(Event::SubscriptionLeftPending { from });
            }
            "subscribe" => {
                let due = now + cx.config.timeouts.subscription_window;
                let cap = cx.config.max_open_subscription_requests;
                let (opened, evicted) = self.open_requests.open(from.clone(), due, cap);
                for jid in evicted {
                    answer_by_policy(jid, cx);
                }
                self.arm_subscription_window(cx);
                if opened {
                    cx.out.push_event(Event::SubscriptionRequest { from });
                }
            }
            "subscribed" => cx.out.push_event(Event::Subscribed { from }),
            "unsubscribed" => cx.out.push_event(Event::Unsubscribed { from }),
            _ => {
                // The contact withdrew its request (if any) along with its subscription.
                self.close_request(&from, cx);
                cx.out.push_event(Event::ContactUnsubscribed { from });
            }
        }
        true
    }

    /// The subscription window timer (online): the policy answers the requests whose
    /// window closed.
    pub(crate) fn on_subscription_window(&mut self, now: Instant, cx: &mut Context) {
        let keep = cx.config.subscription_policy == SubscriptionPolicy::Ask;
        for jid in self.open_requests.expire(now, keep) {
            answer_by_policy(jid, cx);
        }
        self.arm_subscription_window(cx);
    }

    /// At `close`, before our unavailable presence: the policy answers every request still
    /// waiting, whatever time is left in its window.
    pub(crate) fn answer_open_requests(&mut self, cx: &mut Context) {
        for jid in self.open_requests.drain_waiting() {
            answer_by_policy(jid, cx);
        }
        cx.out.timers.stop(Timer::SubscriptionWindow);
    }
}

/// The policy's answer to `from`'s request: exactly one, reported.
fn answer_by_policy(from: BareJid, cx: &mut Context) {
    let approved = match cx.config.subscription_policy {
        SubscriptionPolicy::Deny => false,
        SubscriptionPolicy::Accept => true,
        SubscriptionPolicy::Ask => {
            return cx.out.push_event(Event::SubscriptionLeftPending { from });
        }
    };
    let kind = if approved {
        "subscribed"
    } else {
        "unsubscribed"
    };
    cx.out.write(&presence_to(kind, from.as_str()));
    cx.out
        .push_event(Event::SubscriptionAnswered { from, approved });
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    /// Any instant: the table only compares them.
    #[allow(clippy::disallowed_methods)]
    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn requests_expire_in_order_and_repeats_are_one_request() {
        let t0 = t0();
        let s = Duration::from_secs(1);
        let mut open = OpenRequests::default();
        assert_eq!(open.open(jid("a@x"), t0 + s, 10), (true, vec![]));
        assert_eq!(open.open(jid("b@x"), t0 + 2 * s, 10), (true, vec![]));
        assert_eq!(open.open(jid("a@x"), t0 + 3 * s, 10), (false, vec![]));
        assert_eq!(open.next_due(), Some(t0 + s));
        assert_eq!(open.expire(t0, false), Vec::<BareJid>::new());
        assert_eq!(open.expire(t0 + s, false), vec![jid("a@x")]);
        assert!(!open.contains(&jid("a@x")));
        assert_eq!(open.next_due(), Some(t0 + 2 * s));
        // Ask keeps it, answerable, without a deadline; a repeat opens it again.
        assert_eq!(open.expire(t0 + 2 * s, true), vec![jid("b@x")]);
        assert!(open.contains(&jid("b@x")));
        assert_eq!(open.next_due(), None);
        assert_eq!(open.open(jid("b@x"), t0 + 5 * s, 10), (true, vec![]));
        assert_eq!(open.next_due(), Some(t0 + 5 * s));
        assert!(open.take(&jid("b@x")));
        assert!(!open.take(&jid("b@x")));
    }

    #[test]
    fn the_table_is_bounded_and_close_drains_only_waiting_requests() {
        let t0 = t0();
        let mut open = OpenRequests::default();
        open.open(jid("a@x"), t0, 2);
        open.expire(t0, true); // a: left pending
        open.open(jid("b@x"), t0, 2);
        // Past the cap the oldest go: a (already reported) silently, b to be answered.
        assert_eq!(open.open(jid("c@x"), t0, 1), (true, vec![jid("b@x")]));
        assert_eq!(open.queue.len(), 1);
        open.open(jid("d@x"), t0, 2);
        open.expire(t0, true); // c and d: left pending
        open.open(jid("e@x"), t0, 3);
        assert_eq!(open.drain_waiting(), vec![jid("e@x")]);
        assert_eq!(open.queue.len(), 0);
        assert_eq!(open.open(jid("f@x"), t0, 0), (true, vec![jid("f@x")]));
    }
}
