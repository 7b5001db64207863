//! The core's timers: a tiny table keyed by [`Timer`]. `handle_timeout` fires what is due.

use crate::Instant;

/// What a timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The current login step (or the close handshake) must finish by then.
    Step,
    /// Send a whitespace keepalive if nothing went out since.
    Keepalive,
    /// The earliest open subscription request's answer window closes.
    SubscriptionWindow,
    /// Ask the server to acknowledge what it has not yet (XEP-0198 `<r/>`).
    AckRequest,
    /// Nothing came from the server for a while: check the link.
    LinkCheck,
    /// The link check went unanswered: the link is dead.
    LinkDeadline,
}

const COUNT: usize = 6;

/// Deadlines per [`Timer`].
#[derive(Debug, Default, Clone)]
pub(crate) struct TimerTable {
    deadlines: [Option<Instant>; COUNT],
}

impl TimerTable {
    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer as usize] = Some(at);
    }

    /// Arms `timer` for `at`, or stops it for `None`.
    pub(crate) fn set_or_stop(&mut self, timer: Timer, at: Option<Instant>) {
        self.deadlines[timer as usize] = at;
    }

    pub(crate) fn is_set(&self, timer: Timer) -> bool {
        self.deadlines[timer as usize].is_some()
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        self.deadlines[timer as usize] = None;
    }

    pub(crate) fn stop_all(&mut self) {
        self.deadlines = [None; COUNT];
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Whether `timer` is due at `now`; a due timer is cleared.
    pub(crate) fn take_expired(&mut self, timer: Timer, now: Instant) -> bool {
        match self.deadlines[timer as usize] {
            Some(at) if at <= now => {
                self.deadlines[timer as usize] = None;
                true
            }
            _ => false,
        }
    }
}
