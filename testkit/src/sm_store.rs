//! The scripted server's XEP-0198 sessions, kept in the [`ServerProfile`](crate::ServerProfile)
//! so that they outlive a connection, as the FAST tokens do: a test carries them to the next
//! connection by cloning the profile ([`Pair::reconnect_with`](crate::Pair::reconnect_with)
//! does it). A session lives here from `<enabled/>` on; a live one is updated as stanzas
//! cross, a cut one waits for a `<resume/>` until its window ([`SmSession::window`] seconds
//! of [`ServerProfile::clock`](crate::ServerProfile::clock) after the cut) has passed.

use std::collections::{BTreeMap, VecDeque};

use minidom::Element;

/// One stream management session of the account.
#[derive(Debug, Clone, PartialEq)]
pub struct SmSession {
    /// The SM-ID (`<enabled id='...'/>`).
    pub id: String,
    /// Whether the server allowed resumption (`<enabled resume='true'/>`). Only a resumable
    /// session is kept after a cut.
    pub resumable: bool,
    /// The full JID bound to the session, restored by a resume.
    pub jid: String,
    /// The client's last broadcast presence (one without `to`), which a resume keeps: the
    /// client need not send it again.
    pub presence: Option<Element>,
    /// The server's `h`: client stanzas handled, wrapping at 2^32.
    pub handled: u32,
    /// The server's send count: stanzas sent (or queued) to the client, wrapping at 2^32.
    pub sent: u32,
    /// The last `h` the client acknowledged (`<a/>`, or `<resume h/>`).
    pub acked: u32,
    /// The stanzas the server sent that the client has not acknowledged, each with its
    /// sequence number (the send count just after it): a resume resends them, in order.
    pub unacked: VecDeque<(u32, String)>,
    /// How long a cut session may wait for a resume, in seconds.
    pub window: u64,
    /// When the connection was lost ([`ServerProfile::clock`](crate::ServerProfile::clock)
    /// seconds); `None` while a connection serves the session.
    pub detached_at: Option<u64>,
    /// How many times the session was resumed.
    pub resumptions: u32,
}

impl SmSession {
    /// Whether the session can no longer be resumed at `clock`: it was cut `window` seconds
    /// ago or more.
    pub fn expired_at(&self, clock: u64) -> bool {
        self.detached_at
            .is_some_and(|cut| clock >= cut.saturating_add(self.window))
    }
}

/// The account's stream management sessions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SmStore {
    /// Live and cut sessions, by SM-ID.
    pub sessions: BTreeMap<String, SmSession>,
    /// Sessions that timed out or whose resumption was refused, with the server's `h` at
    /// that point: a later `<resume/>` naming one gets `<failed h='...'/>` (XEP-0198 section
    /// 5 lets the server say how many stanzas it had).
    pub ended: BTreeMap<String, u32>,
    /// How many SM-IDs were issued (each is derived from this count).
    pub issued: u64,
    /// Every stanza the client sent after authentication, on every connection to a server
    /// with [`sm`](crate::ServerProfile::sm) on, in order, with the SM-ID of the session
    /// that counted it (`None`: SM was not on for that stream yet). Kept when sessions end,
    /// so that a test can assert that a message was handled exactly once across a cut,
    /// resumed or not: a stanza the client resent although the server had it shows twice.
    pub from_client: Vec<(Option<String>, Element)>,
}

impl SmStore {
    /// The session issued last, if it is still kept.
    pub fn latest(&self) -> Option<&SmSession> {
        self.sessions.values().max_by_key(|s| order_of(&s.id))
    }

    /// The session with this SM-ID.
    pub fn get(&self, id: &str) -> Option<&SmSession> {
        self.sessions.get(id)
    }

    /// A stanza for the account while its connection is cut (bob's message during the
    /// outage): it is counted and kept unacknowledged in the cut session issued last, so
    /// that a resume delivers it. Returns its sequence number.
    ///
    /// # Panics
    /// When no cut session is kept (none was enabled with resumption, it was closed, or
    /// the connection is still up: then use
    /// [`ScriptedServer::send_stanza`](crate::ScriptedServer::send_stanza)).
    pub fn queue(&mut self, stanza: impl Into<String>) -> u32 {
        let id = self
            .sessions
            .values()
            .filter(|s| s.detached_at.is_some())
            .max_by_key(|s| order_of(&s.id))
            .map(|s| s.id.clone())
            .expect("a cut session to queue for: cut the connection first");
        self.queue_to(&id, stanza)
            .expect("the session was just found")
    }

    /// Like [`queue`](Self::queue), to the session `id`; `None` if it is not kept.
    pub fn queue_to(&mut self, id: &str, stanza: impl Into<String>) -> Option<u32> {
        let session = self.sessions.get_mut(id)?;
        session.sent = session.sent.wrapping_add(1);
        session.unacked.push_back((session.sent, stanza.into()));
        Some(session.sent)
    }

    /// The client's stanzas with this `id` attribute, over all connections (see
    /// [`from_client`](Self::from_client)).
    pub fn from_client_with_id(&self, id: &str) -> Vec<&Element> {
        self.from_client
            .iter()
            .map(|(_, el)| el)
            .filter(|el| el.attr("id") == Some(id))
            .collect()
    }

    /// A new SM-ID: opaque to the client, never reused (XEP-0198 section 5).
    pub(crate) fn issue_id(&mut self, account: &str) -> String {
        use base64::Engine;
        use sha2::{Digest, Sha256};
        self.issued += 1;
        let seed = format!("{account}\0sm\0{}", self.issued);
        let digest = Sha256::digest(seed.as_bytes());
        let tail = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..12]);
        format!("sm{}-{tail}", self.issued)
    }
}

/// The issue count an SM-ID carries (`sm{n}-...`), to order sessions.
fn order_of(id: &str) -> u64 {
    id.strip_prefix("sm")
        .and_then(|rest| rest.split('-').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
