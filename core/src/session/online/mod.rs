//! The online session and the data it owns from binding on: what the server offered, the
//! roster, the contacts' presence and the open subscription requests. Incoming stanzas are
//! routed here; the account's own presence follows the IPWorks `Presence`, `Status` and
//! `ChangePresence` semantics (DESIGN section 5).
//!
//! - `roster`: the roster fetch's result, pushes and edits (RFC 6121 section 2);
//! - `subscriptions`: subscription commands and the answer window of incoming requests
//!   (RFC 6121 section 3);
//! - `sm`: stream management (XEP-0198): counters, acknowledgements, link checks, and what
//!   a lost connection leaves for resumption;
//! - `messages`: messages, receipts and carbons; `discovery`: disco, version and
//!   contacts' capabilities;
//! - `csi`: client state indication (XEP-0352); `blocking`: the block list (XEP-0191).

mod blocking;
mod csi;
mod discovery;
mod messages;
mod roster;
pub(crate) mod sm;
mod subscriptions;

pub(crate) use roster::request_roster;
pub(crate) use sm::Sm;

use crate::Instant;
use std::collections::{BTreeMap, BTreeSet};

use jid::{BareJid, FullJid, Jid};

use crate::config::IqPolicy;
use crate::event::Event;
use crate::stanza::NS_CLIENT;
use crate::stanza::caps::Caps;
use crate::stanza::features::{Features, NS_STREAM};
use crate::stanza::iq::{is_ping, result_for, service_unavailable_for};
use crate::stanza::message::write_carbons_enable;
use crate::stanza::presence::{
    IncomingPresence, Presence, PresenceKind, classify_presence, write_own_presence,
};
use crate::stanza::roster::{NS_ROSTER, Roster};
use crate::stanza::sm::Resumption;
use crate::xml::tree::Stanza;

use super::context::Context;
use blocking::BlockingRequest;
use subscriptions::OpenRequests;

/// What the server offered after authentication that matters later in the session.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ServerFeatures {
    pub(crate) roster_versioning: bool,
    pub(crate) pre_approval: bool,
    pub(crate) stream_management: bool,
    /// XEP-0352 client state indication.
    pub(crate) csi: bool,
}

/// Online: the bound JID and the session's data.
#[derive(Debug)]
pub(crate) struct Online {
    pub(crate) jid: FullJid,
    pub(crate) data: Box<SessionData>,
    /// Where the initial presence is, for [`Online::on_enter`].
    pub(crate) initial: Initial,
}

/// The initial presence, on the way online.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Initial {
    /// Not sent: entering `Online` sends it.
    Due,
    /// Sent early (pipelined, right after authentication) with these values.
    Sent { presence: Presence, status: String },
    /// Sent early, but before a legacy session the server turned out to require: sent
    /// again once the session is established.
    Resend,
    /// The session was resumed: its presence went out in the previous connection with
    /// these values; only a change made since goes out.
    Resumed { presence: Presence, status: String },
}

impl Online {
    /// Entering `Online`: the application learns the bound JID, and the initial presence
    /// goes out with the values current at this moment, unless it went out early; then it
    /// is reported, and a value the application changed since goes out as a change.
    pub(crate) fn on_enter(&mut self, cx: &mut Context) {
        cx.out.push_event(Event::Online {
            jid: self.jid.clone(),
        });
        let resumed = matches!(self.initial, Initial::Resumed { .. });
        if cx.config.carbons && !resumed && self.data.pending_carbons.is_none() {
            // The server keeps a resumed session's carbons: enable them on a new one only.
            let id = cx.out.next_id();
            cx.out.write_with(|out| {
                let _ = write_carbons_enable(&id, out); // our own id: XML carries it
            });
            self.data.pending_carbons = Some(id);
        }
        match std::mem::replace(&mut self.initial, Initial::Due) {
            Initial::Due | Initial::Resend => send_own_presence(cx),
            Initial::Sent { presence, status } => {
                let changed = presence != cx.presence || status != cx.status;
                cx.out.push_event(Event::PresenceSent { presence, status });
                if changed {
                    send_own_presence(cx);
                }
            }
            Initial::Resumed { presence, status } => {
                if presence != cx.presence || status != cx.status {
                    send_own_presence(cx);
                }
            }
        }
        self.data.start_client_state(cx);
    }
}

/// The session's data, from binding until the end.
#[derive(Debug, Default)]
pub(crate) struct SessionData {
    pub(crate) server: ServerFeatures,
    pub(crate) roster: Roster,
    /// The id of our roster request, when it went out early and its answer is still due.
    pub(crate) pending_roster: Option<String>,
    /// Our roster sets awaiting an answer, by IQ id.
    pending_roster_edits: BTreeMap<String, BareJid>,
    open_requests: OpenRequests,
    /// The latest available presence of each contact resource, by full JID.
    contacts: BTreeMap<String, IncomingPresence>,
    /// Stream management, once `<enable/>` went out.
    pub(crate) sm: Option<Sm>,
    /// The id of our link-check ping, while its answer is due.
    pending_ping: Option<String>,
    /// Our capability queries awaiting an answer, by IQ id: whom we asked, for what.
    caps_queries: BTreeMap<String, (Jid, Caps)>,
    /// The id of our request for carbons (XEP-0280), while its answer is due.
    pending_carbons: Option<String>,
    /// The client state the server was last told (XEP-0352, true: active), once online:
    /// `None` before, when none may go out. A new session starts active; a resumed one as
    /// the previous connection left it.
    csi_state: Option<bool>,
    /// The block list (XEP-0191) as the server last said it: `None` until the answer to
    /// our request for it. Bounded by [`Config::max_blocklist`](crate::Config::max_blocklist).
    pub(crate) blocklist: Option<BTreeSet<Jid>>,
    /// Our blocking requests awaiting an answer, by IQ id.
    pending_blocking: BTreeMap<String, BlockingRequest>,
}

impl SessionData {
    pub(crate) fn new(server: ServerFeatures) -> SessionData {
        SessionData {
            server,
            ..SessionData::default()
        }
    }

    /// The data of a resumed session: what the previous connection knew.
    pub(crate) fn resumed(resumption: &mut Resumption) -> SessionData {
        SessionData {
            server: ServerFeatures {
                roster_versioning: resumption.roster_versioning,
                pre_approval: resumption.pre_approval,
                stream_management: true,
                csi: resumption.csi,
            },
            roster: std::mem::take(&mut resumption.roster),
            contacts: std::mem::take(&mut resumption.contacts),
            sm: Some(Sm::resumed(resumption)),
            csi_state: Some(resumption.client_active),
            blocklist: resumption.blocklist.take(),
            ..SessionData::default()
        }
    }

    /// The latest available presence of each resource of `contact`.
    pub(crate) fn contact_presences(&self, contact: &BareJid) -> Vec<&IncomingPresence> {
        self.contacts
            .values()
            .filter(|p| p.from.to_bare() == *contact)
            .collect()
    }

    /// A stanza once bound (`can_reply` is false while closing: after our
    /// `</stream:stream>` nothing may be written).
    pub(crate) fn on_stanza(
        &mut self,
        now: Instant,
        el: Stanza,
        can_reply: bool,
        cx: &mut Context,
    ) {
        if el.is("features", NS_STREAM) {
            // After SASL2 success, with no restart, the server may say what it offers now.
            let features = Features::read(&el.to_element());
            self.server.roster_versioning |= features.roster_versioning;
            self.server.pre_approval |= features.pre_approval;
            self.server.stream_management |= features.stream_management;
            self.server.csi |= features.csi;
            if let Some(cache) = cx.feature_cache.as_mut() {
                cache.roster_versioning |= features.roster_versioning;
                cache.stream_management |= features.stream_management;
            }
            // Bind2 bound us without enabling stream management inline: enable it now.
            if features.stream_management
                && self.sm.is_none()
                && cx.config.stream_management
                && can_reply
            {
                self.sm = Some(sm::enable(cx));
            }
            if can_reply {
                // Online already (SASL2): the client state goes out now that CSI is known.
                self.sync_client_state(cx);
            }
            return;
        }
        if el.is("presence", NS_CLIENT) {
            if self.on_subscription_presence(now, &el, can_reply, cx) {
                return;
            }
            match classify_presence(&el, cx.config.jid.domain().as_str()) {
                PresenceKind::Availability(p) => {
                    self.track_contact(&p, cx.config.max_tracked_presences);
                    if let Some(caps) = p.caps.as_ref().filter(|_| p.availability.is_available()) {
                        self.on_caps_announced(&p.from, caps, can_reply, cx);
                    }
                    cx.out.push_event(Event::Presence(p))
                }
                PresenceKind::Error {
                    from, condition, ..
                } if self.is_block_bounce(from.as_ref(), &condition) => {}
                PresenceKind::Error {
                    from,
                    condition,
                    text,
                } => cx.out.push_event(Event::PresenceError {
                    from,
                    condition,
                    text,
                }),
                PresenceKind::Other => cx.out.push_event(Event::Stanza(el)),
            }
            return;
        }
        if el.is("message", NS_CLIENT) {
            return self.on_message(el, can_reply, cx);
        }
        if self.on_caps_answer(&el, cx) {
            return;
        }
        if el.is("iq", NS_CLIENT)
            && matches!(el.attr("type"), Some("result") | Some("error"))
            && self.pending_carbons.is_some()
            && el.attr("id") == self.pending_carbons.as_deref()
        {
            // Best effort: a server without carbons refuses; messages come as before.
            self.pending_carbons = None;
            return;
        }
        if self.answer_discovery(&el, can_reply, cx) {
            return;
        }
        if el.is("iq", NS_CLIENT)
            && matches!(el.attr("type"), Some("result") | Some("error"))
            && self.pending_ping.is_some()
            && el.attr("id") == self.pending_ping.as_deref()
        {
            // The link check's answer (an error proves the link as well as a result).
            self.pending_ping = None;
            return;
        }
        if el.is("iq", NS_CLIENT)
            && matches!(el.attr("type"), Some("result") | Some("error"))
            && self.pending_roster.is_some()
            && el.attr("id") == self.pending_roster.as_deref()
        {
            self.pending_roster = None;
            return self.on_roster_result(&el.to_element(), cx);
        }
        if el.is("iq", NS_CLIENT)
            && matches!(el.attr("type"), Some("result") | Some("error"))
            && let Some(jid) = el
                .attr("id")
                .and_then(|id| self.pending_roster_edits.remove(id))
        {
            return self.on_roster_edit_answer(&el.to_element(), jid, cx);
        }
        if self.on_blocking(&el, can_reply, cx) {
            return;
        }
        if el.is("iq", NS_CLIENT)
            && el.attr("type") == Some("set")
            && el.has_child("query", NS_ROSTER)
        {
            return self.on_roster_push(&el.to_element(), can_reply, cx);
        }
        if el.is("iq", NS_CLIENT) && matches!(el.attr("type"), Some("get") | Some("set")) {
            if is_ping(&el) {
                if can_reply {
                    cx.out.write(&result_for(&el));
                }
                return;
            }
            if can_reply && cx.config.iq_policy == IqPolicy::ServiceUnavailable {
                cx.out.write(&service_unavailable_for(&el));
            }
        }
        cx.out.push_event(Event::Stanza(el));
    }

    /// Remembers the latest presence of each full JID; unavailable forgets it (all
    /// resources when it comes from a bare JID). Bounded by `max`.
    fn track_contact(&mut self, p: &IncomingPresence, max: usize) {
        if p.availability == Presence::Offline {
            if p.from.resource().is_some() {
                self.contacts.remove(p.from.as_str());
            } else {
                let bare = p.from.to_bare();
                self.contacts.retain(|_, c| c.from.to_bare() != bare);
            }
            return;
        }
        let key = p.from.as_str();
        if let Some(known) = self.contacts.get_mut(key) {
            // Most presence comes from a resource already known: no new key, and the
            // stored strings' buffers are reused (the key is the sender, so `from` is equal).
            let IncomingPresence {
                from: _,
                availability,
                show,
                status,
                priority,
                caps,
            } = p;
            known.availability = *availability;
            known.show.clone_from(show);
            known.status.clone_from(status);
            known.priority = *priority;
            known.caps.clone_from(caps);
        } else if self.contacts.len() < max {
            self.contacts.insert(key.to_string(), p.clone());
        }
    }
}

/// Sends the account's broadcast presence with the current values.
pub(crate) fn send_own_presence(cx: &mut Context) {
    let (presence, priority) = (cx.presence, cx.config.priority);
    let (status, caps) = (&cx.status, &cx.own_caps);
    cx.out
        .write_with(|out| write_own_presence(presence, status, priority, Some(caps), out));
    cx.out.push_event(Event::PresenceSent {
        presence,
        status: cx.status.clone(),
    });
}
