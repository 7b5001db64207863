//! Stream management (XEP-0198) once bound: `<enable/>`, counting what comes in, answering
//! `<r/>`, applying `<a/>`, asking for acknowledgements, checking a silent link, and what a
//! lost connection leaves for resumption. The outbound counter lives in the outbox
//! ([`Acks`]): every stanza written goes through it.

use crate::Instant;

use jid::FullJid;

use crate::error::{PeerMisbehaved, StreamErrorCondition};
use crate::event::Event;
use crate::stanza::iq::ping_request;
use crate::stanza::sm::{self, Acks, NS_SM, Resumption};
use crate::timer::Timer;
use crate::xml::tree::Stanza;

use super::SessionData;
use crate::session::context::{Context, Failure, Farewell};

/// Stanzas sent before an `<r/>` goes out at once rather than after
/// [`Timeouts::ack_delay`](crate::Timeouts::ack_delay).
const ACK_EVERY: u32 = 5;

/// The inbound half of stream management, and what identifies the session for resumption.
#[derive(Debug, Default, Clone)]
pub(crate) struct Sm {
    /// `<enabled/>` arrived: inbound stanzas are counted and acknowledgements flow.
    pub(crate) enabled: bool,
    /// Stanzas handled since `<enabled/>`, modulo 2^32 (our `h`).
    pub(crate) handled: u32,
    /// The id to resume with, when the server allows resumption.
    pub(crate) resume_id: Option<String>,
    /// Where the server wants the resumption to connect, if it said.
    pub(crate) location: Option<String>,
    /// Our `<r/>` awaits its `<a/>`.
    request_pending: bool,
}

impl Sm {
    /// The state of a session just resumed.
    pub(crate) fn resumed(resumption: &Resumption) -> Sm {
        Sm {
            enabled: true,
            handled: resumption.handled,
            resume_id: Some(resumption.id.clone()),
            location: resumption.location.clone(),
            request_pending: false,
        }
    }

    /// Reads `<enabled/>` (on its own, or inside Bind2's `<bound/>`).
    pub(crate) fn on_enabled(&mut self, resume: Option<&str>, id: Option<&str>, at: Option<&str>) {
        self.enabled = true;
        if matches!(resume, Some("true") | Some("1")) {
            self.resume_id = id.map(str::to_string);
        }
        self.location = at.map(str::to_string);
    }
}

/// Sends `<enable resume='true'/>`: from here on every stanza written is counted.
pub(crate) fn enable(cx: &mut Context) -> Sm {
    cx.out.write_raw(sm::ENABLE);
    start_counting(cx);
    Sm::default()
}

/// Counting of what we send starts (after `<enable/>`, or at a SASL2 success that enabled
/// stream management inline).
pub(crate) fn start_counting(cx: &mut Context) {
    cx.out.acks = Some(Box::default());
}

/// The stream error that answers an `<a/>` acknowledging more than was sent.
pub(crate) fn too_high(h: u32, sent: u32) -> Failure {
    Failure::peer(
        PeerMisbehaved::HandledCountTooHigh { h, sent },
        Farewell::StreamErrorDetail(
            StreamErrorCondition::UndefinedCondition,
            sm::handled_count_too_high(h, sent),
        ),
    )
}

impl SessionData {
    /// A stanza arrived (message, presence or IQ): our `h` counts it.
    pub(crate) fn count_inbound(&mut self) {
        if let Some(sm) = self.sm.as_mut().filter(|sm| sm.enabled) {
            sm.handled = sm.handled.wrapping_add(1);
        }
    }

    /// A stream management element (`can_reply` is false while closing).
    pub(crate) fn on_sm(
        &mut self,
        el: &Stanza,
        can_reply: bool,
        cx: &mut Context,
    ) -> Result<(), Failure> {
        let Some(state) = self.sm.as_mut() else {
            // We never asked for stream management: nothing of it concerns us.
            return Ok(());
        };
        match el.name() {
            "r" if state.enabled && can_reply => cx.out.write_raw(&sm::answer(state.handled)),
            "a" if state.enabled => {
                let Some(h) = sm::parse_h(el.attr("h")) else {
                    return Err(Failure::unexpected("<a/> with a count", "a"));
                };
                state.request_pending = false;
                if let Some(acks) = cx.out.acks.as_mut() {
                    acks.acknowledge(h).map_err(|sent| too_high(h, sent))?;
                }
            }
            "enabled" => state.on_enabled(el.attr("resume"), el.attr("id"), el.attr("location")),
            "failed" => {
                // Enabling was refused: the session goes on without it.
                self.sm = None;
                cx.out.acks = None;
            }
            _ => {}
        }
        Ok(())
    }

    /// After every input and command: report what the bound pushed out, and ask for an
    /// acknowledgement when enough went out, or arm the timer that asks once a burst is
    /// over.
    pub(crate) fn settle_acks(&mut self, now: Instant, can_write: bool, cx: &mut Context) {
        let Some(acks) = cx.out.acks.as_mut() else {
            return;
        };
        if let Some((count, ids)) = acks.take_lost() {
            cx.out.push_event(Event::StanzasLost { count, ids });
        }
        let Some(state) = self.sm.as_mut().filter(|sm| sm.enabled) else {
            return;
        };
        let Some(acks) = cx.out.acks.as_mut() else {
            return;
        };
        if !can_write || state.request_pending || acks.since_request == 0 {
            return;
        }
        if acks.since_request >= ACK_EVERY {
            request_ack(state, cx);
        } else if !cx.out.timers.is_set(Timer::AckRequest) {
            let at = now + cx.config.timeouts.ack_delay;
            cx.out.timers.set(Timer::AckRequest, at);
        }
    }

    /// The ack timer fired: ask for what is still unacknowledged.
    pub(crate) fn on_ack_timer(&mut self, cx: &mut Context) {
        let unacked = cx.out.acks.as_ref().is_some_and(|a| a.since_request > 0);
        if let Some(state) = self.sm.as_mut().filter(|sm| sm.enabled)
            && !state.request_pending
            && unacked
        {
            request_ack(state, cx);
        }
    }

    /// Nothing came from the server for a while: ask it for something back, an `<a/>` with
    /// stream management, a ping result without.
    pub(crate) fn check_link(&mut self, cx: &mut Context) {
        match self.sm.as_mut().filter(|sm| sm.enabled) {
            Some(state) => request_ack(state, cx),
            None => {
                let id = cx.out.next_id();
                let domain = cx.domain().to_string();
                cx.out.write(&ping_request(&id, &domain));
                self.pending_ping = Some(id);
            }
        }
    }

    /// What the next connection needs to resume this session, when the server allowed
    /// resumption.
    pub(crate) fn resumption(&mut self, jid: &FullJid, cx: &mut Context) -> Option<Resumption> {
        let state = self.sm.as_ref().filter(|sm| sm.enabled)?;
        let id = state.resume_id.clone()?;
        let acks = cx.out.acks.take()?;
        Some(Resumption {
            id,
            location: state.location.clone(),
            handled: state.handled,
            acks: *acks,
            jid: jid.clone(),
            roster: self.roster.clone(),
            contacts: std::mem::take(&mut self.contacts),
            roster_versioning: self.server.roster_versioning,
            pre_approval: self.server.pre_approval,
            csi: self.server.csi,
            client_active: self.csi_state.unwrap_or(true),
            blocklist: self.blocklist.take(),
            presence: (cx.presence, cx.status.clone()),
        })
    }
}

/// Sends `<r/>`.
fn request_ack(state: &mut Sm, cx: &mut Context) {
    cx.out.write_raw(sm::REQUEST);
    state.request_pending = true;
    if let Some(acks) = cx.out.acks.as_mut() {
        acks.since_request = 0;
    }
    cx.out.timers.stop(Timer::AckRequest);
}

/// The acknowledgements a resumed session starts from: the server's `h` applied, the rest
/// written again (they keep their numbers: the server counts them anew from its `h`).
pub(crate) fn resend(mut acks: Acks, h: u32, cx: &mut Context) -> Result<usize, Failure> {
    if let Err(sent) = acks.acknowledge(h) {
        // The session ends here: what was waiting will not be resent.
        report_lost(acks, None, cx);
        return Err(too_high(h, sent));
    }
    for stanza in &acks.unacked {
        cx.out.write_raw(&stanza.bytes);
    }
    let resent = acks.unacked.len();
    acks.since_request = u32::try_from(resent).unwrap_or(u32::MAX);
    cx.out.acks = Some(Box::new(acks));
    Ok(resent)
}

/// Resumption was refused or is impossible: what was unacknowledged may be lost.
pub(crate) fn report_lost(mut acks: Acks, h: Option<u32>, cx: &mut Context) {
    if let Some(h) = h {
        // An `h` beyond what was sent on a refusal changes nothing: all is reported.
        let _ = acks.acknowledge(h);
    }
    acks.lose_all();
    if let Some((count, ids)) = acks.take_lost() {
        cx.out.push_event(Event::StanzasLost { count, ids });
    }
}

/// Whether `el` is a stream management element.
pub(crate) fn is_sm(el: &Stanza) -> bool {
    el.ns() == NS_SM
}
