//! Stream management (XEP-0198): its elements, and [`Resumption`], what a cut session leaves
//! for the next connection to resume it with.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use jid::{FullJid, Jid};

use crate::stanza::presence::{IncomingPresence, Presence};
use crate::stanza::roster::Roster;

/// The stream management namespace.
pub(crate) const NS_SM: &str = "urn:xmpp:sm:3";

/// `<enable resume='true'/>`.
pub(crate) const ENABLE: &[u8] = b"<enable xmlns='urn:xmpp:sm:3' resume='true'/>";
/// `<r/>`: the client asks for an acknowledgement.
pub(crate) const REQUEST: &[u8] = b"<r xmlns='urn:xmpp:sm:3'/>";

/// `<a h='h'/>`: the stanzas the client handled.
pub(crate) fn answer(h: u32) -> Vec<u8> {
    format!("<a xmlns='urn:xmpp:sm:3' h='{h}'/>").into_bytes()
}

/// `<resume h='h' previd='id'/>` (`id` as the server gave it: attribute-escaped).
pub(crate) fn resume(h: u32, id: &str) -> Vec<u8> {
    let mut out = format!("<resume xmlns='urn:xmpp:sm:3' h='{h}' previd='").into_bytes();
    crate::xml::escape_attr(id, &mut out);
    out.extend_from_slice(b"'/>");
    out
}

/// Whether a top-level element counts as a stanza for XEP-0198's counters.
pub(crate) fn is_counted(name: &str, ns: &str) -> bool {
    ns == crate::stanza::NS_CLIENT && matches!(name, "message" | "presence" | "iq")
}

/// `<handled-count-too-high/>`, the application condition of the stream error that answers
/// an `<a/>` acknowledging more than was sent.
pub(crate) fn handled_count_too_high(h: u32, sent: u32) -> String {
    format!("<handled-count-too-high xmlns='urn:xmpp:sm:3' h='{h}' send-count='{sent}'/>")
}

/// The `h` attribute of `<a/>`, `<resumed/>` or `<failed/>`: a 32-bit unsigned count.
pub(crate) fn parse_h(value: Option<&str>) -> Option<u32> {
    value?.trim().parse().ok()
}

/// A stanza sent and not yet acknowledged: its bytes, to send again, and its id, to report
/// it lost.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Unacked {
    pub(crate) id: Option<String>,
    pub(crate) bytes: Vec<u8>,
}

/// The outbound half of stream management: stanzas counted since `<enable/>` went out,
/// the server's last acknowledgement, and the stanzas it has not acknowledged yet
/// (bounded: past the bound the oldest are handed to [`Acks::take_lost`], never kept).
#[derive(Clone, Default)]
pub(crate) struct Acks {
    /// Stanzas sent since `<enable/>`, modulo 2^32.
    pub(crate) sent: u32,
    /// The server's last `h`.
    pub(crate) acked: u32,
    /// The newest unacknowledged stanzas, oldest first: the last `unacked.len()` sent.
    pub(crate) unacked: VecDeque<Unacked>,
    /// Stanzas pushed out by the bound since the last [`Acks::take_lost`]: how many, and
    /// the ids of those that had one.
    lost: (usize, Vec<String>),
    /// Stanzas sent since the last `<r/>`.
    pub(crate) since_request: u32,
}

impl Acks {
    /// Counts a stanza just written, keeping its bytes until the server acknowledges it.
    pub(crate) fn record(&mut self, id: Option<&str>, bytes: &[u8], max: usize) {
        self.sent = self.sent.wrapping_add(1);
        self.since_request = self.since_request.saturating_add(1);
        self.unacked.push_back(Unacked {
            id: id.map(str::to_string),
            bytes: bytes.to_vec(),
        });
        while self.unacked.len() > max {
            if let Some(old) = self.unacked.pop_front() {
                self.lose(old);
            }
        }
    }

    fn lose(&mut self, stanza: Unacked) {
        self.lost.0 += 1;
        if let Some(id) = stanza.id {
            self.lost.1.push(id);
        }
    }

    /// Stanzas sent and not acknowledged, those dropped by the bound included.
    pub(crate) fn outstanding(&self) -> u32 {
        self.sent.wrapping_sub(self.acked)
    }

    /// Applies the server's `h`, counting modulo 2^32. An `h` beyond what was sent is
    /// refused (and changes nothing).
    pub(crate) fn acknowledge(&mut self, h: u32) -> Result<(), u32> {
        let newly = h.wrapping_sub(self.acked);
        let outstanding = self.outstanding();
        if newly > outstanding {
            return Err(self.sent);
        }
        self.acked = h;
        // The queue holds the newest `len` of the outstanding stanzas; the older ones were
        // dropped by the bound (and reported).
        let dropped = outstanding as usize - self.unacked.len().min(outstanding as usize);
        let from_queue = (newly as usize).saturating_sub(dropped);
        self.unacked.drain(..from_queue.min(self.unacked.len()));
        Ok(())
    }

    /// Everything still unacknowledged counts as lost (resumption refused); what the bound
    /// dropped was reported already.
    pub(crate) fn lose_all(&mut self) {
        while let Some(old) = self.unacked.pop_front() {
            self.lose(old);
        }
        self.acked = self.sent;
    }

    /// The stanzas lost since the last call: how many, and their ids.
    pub(crate) fn take_lost(&mut self) -> Option<(usize, Vec<String>)> {
        (self.lost.0 > 0).then(|| std::mem::take(&mut self.lost))
    }
}

impl fmt::Debug for Acks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Unacknowledged stanzas carry message bodies: counts only.
        f.debug_struct("Acks")
            .field("sent", &self.sent)
            .field("acked", &self.acked)
            .field("unacked", &self.unacked.len())
            .finish_non_exhaustive()
    }
}

/// What a session with stream management leaves behind when its connection is cut: the
/// next connection resumes it (XEP-0198) instead of logging in afresh. Take it from
/// [`Client::resumption`](crate::Client::resumption) once the session ended and give it to
/// the next client in [`Config::resumption`](crate::Config::resumption); the adapters do.
///
/// It holds what the session knew (roster, contacts' presence), the counters, and the
/// stanzas the server had not acknowledged (message bodies among them: keep it in memory).
#[derive(Clone)]
pub struct Resumption {
    pub(crate) id: String,
    pub(crate) location: Option<String>,
    /// Stanzas this client handled (its `h`).
    pub(crate) handled: u32,
    /// What this client sent and the server had not acknowledged.
    pub(crate) acks: Acks,
    pub(crate) jid: FullJid,
    pub(crate) roster: Roster,
    pub(crate) contacts: BTreeMap<String, IncomingPresence>,
    pub(crate) roster_versioning: bool,
    pub(crate) pre_approval: bool,
    /// The server offered client state indication (XEP-0352).
    pub(crate) csi: bool,
    /// The client state the server was last told (XEP-0352; active when never told).
    pub(crate) client_active: bool,
    /// The block list (XEP-0191), when the session had received it.
    pub(crate) blocklist: Option<BTreeSet<Jid>>,
    /// The account's broadcast presence as last sent.
    pub(crate) presence: (Presence, String),
}

impl Resumption {
    /// Where the server asked to be reconnected to for resuming (`host` or `host:port`),
    /// if it did: the adapters follow it once.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    /// The bound JID of the session to resume.
    pub fn jid(&self) -> &FullJid {
        &self.jid
    }

    /// How many stanzas wait to be acknowledged (or sent again).
    pub fn unacknowledged(&self) -> usize {
        self.acks.unacked.len()
    }
}

impl fmt::Debug for Resumption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resumption")
            .field("jid", &self.jid)
            .field("location", &self.location)
            .field("handled", &self.handled)
            .field("acks", &self.acks)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::Acks;

    fn sent_from(start: u32, n: usize) -> Acks {
        let mut acks = Acks {
            sent: start,
            acked: start,
            ..Acks::default()
        };
        for i in 0..n {
            acks.record(Some(&format!("m{i}")), b"<message/>", 100);
        }
        acks
    }

    /// The counts wrap at 2^32 (XEP-0198 section 4): an `h` past the wrap acknowledges what
    /// was sent across it, and one beyond what was sent is still refused.
    #[test]
    fn acknowledgements_count_across_the_wrap() {
        let mut acks = sent_from(u32::MAX - 1, 4);
        assert_eq!(acks.sent, 2);
        assert_eq!(acks.outstanding(), 4);
        assert_eq!(acks.acknowledge(u32::MAX), Ok(()));
        assert_eq!(acks.unacked.len(), 3);
        assert_eq!(acks.acknowledge(1), Ok(()));
        let left: Vec<_> = acks.unacked.iter().map(|u| u.id.as_deref()).collect();
        assert_eq!(left, [Some("m3")]);
        assert_eq!(acks.acknowledge(3), Err(2));
        assert_eq!(acks.acknowledge(2), Ok(()));
        assert!(acks.unacked.is_empty());
        assert_eq!(acks.take_lost(), None);
    }

    /// An `h` just below the last one (a server counting backwards) is far too high modulo
    /// 2^32, and refused.
    #[test]
    fn an_h_behind_the_last_acknowledgement_is_refused() {
        let mut acks = sent_from(5, 3);
        assert_eq!(acks.acknowledge(7), Ok(()));
        assert_eq!(acks.acknowledge(6), Err(8));
        assert_eq!(acks.unacked.len(), 1);
    }

    /// Past the bound the oldest go, across the wrap as anywhere, and an acknowledgement
    /// that covers them as well counts them right.
    #[test]
    fn the_bound_and_the_wrap_together() {
        let mut acks = Acks {
            sent: u32::MAX,
            acked: u32::MAX,
            ..Acks::default()
        };
        for i in 0..5 {
            acks.record(Some(&format!("m{i}")), b"<message/>", 2);
        }
        assert_eq!(
            acks.take_lost(),
            Some((3, vec!["m0".into(), "m1".into(), "m2".into()]))
        );
        // h=3 covers m0..m3: of the queue, only m3 goes.
        assert_eq!(acks.acknowledge(3), Ok(()));
        let left: Vec<_> = acks.unacked.iter().map(|u| u.id.as_deref()).collect();
        assert_eq!(left, [Some("m4")]);
    }
}
