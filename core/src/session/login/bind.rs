//! Resource binding (RFC 6120 section 7), the legacy RFC 3921 session when the server
//! requires it, and the roster fetch before the initial presence (RFC 6121 section 2.2).
//!
//! From binding on, the session's data exists (roster, contacts, subscriptions): a stanza
//! that arrives before our IQ's answer is handled as it would be online.

use crate::Instant;

use jid::FullJid;
use minidom::Element;

use crate::error::{DisconnectReason, PeerMisbehaved};
use crate::jid_util::parse_jid;
use crate::session::context::{Context, Failure, Farewell};
use crate::session::online::{self, Initial, Online, ServerFeatures, SessionData, Sm, sm};
use crate::session::state::{Early, Phase, State, Stream};
use crate::stanza::NS_CLIENT;
use crate::stanza::iq::{NS_BIND, bind_request, session_request};
use crate::stanza::presence::{stanza_error, write_own_presence};
use crate::xml::tree::Stanza;

use super::resume;

/// What went out with our header after authentication (pipelining): the bind request, the
/// roster request (before the presence, as RFC 6121 section 2.2 asks) and the initial
/// presence with the values of that moment.
#[derive(Debug)]
pub(crate) struct EarlyBind {
    bind_id: String,
    /// `<enable/>` went out right after the bind request.
    sm: Option<Sm>,
    roster_id: Option<String>,
    initial: Initial,
}

/// After SASL success: a new stream, and (pipelining) without waiting for the features
/// either `<resume/>` (a session to resume, and the server offered stream management
/// last time) or the bind request, `<enable/>` (when offered last time), the roster
/// request and the initial presence, all in the same write.
pub(crate) fn after_auth(secure: bool, cx: &mut Context) -> State {
    cx.open_stream(secure);
    if !cx.config.pipelining {
        return State::ExpectHeader(Stream::new(Phase::AfterAuth, Early::Nothing));
    }
    if cx.resumption.is_some() {
        // Without a cache saying the server resumes, the features decide.
        let early = if cached_sm(cx) && resume::send(cx) {
            Early::Resume
        } else {
            Early::Nothing
        };
        return State::ExpectHeader(Stream::new(Phase::AfterAuth, early));
    }
    let early = early_bind(cx);
    State::ExpectHeader(Stream::new(Phase::AfterAuth, Early::Bind(Box::new(early))))
}

/// Whether the server offered stream management last time (and it is wanted).
fn cached_sm(cx: &Context) -> bool {
    cx.config.stream_management
        && cx
            .feature_cache
            .as_ref()
            .is_some_and(|c| c.stream_management)
}

/// The bind request, `<enable/>` when the server offered stream management last time (so
/// that the roster request and the presence are counted), then [`roster_and_presence`].
pub(crate) fn early_bind(cx: &mut Context) -> EarlyBind {
    let bind_id = cx.out.next_id();
    let resource = cx.config.jid.resource().map(|r| r.as_str().to_string());
    cx.out.write(&bind_request(&bind_id, resource.as_deref()));
    let sm = cached_sm(cx).then(|| sm::enable(cx));
    let (roster_id, initial) = roster_and_presence(cx);
    EarlyBind {
        bind_id,
        sm,
        roster_id,
        initial,
    }
}

/// The roster request (when wanted) and the initial presence with the values of this
/// moment, without waiting for anything: returns the roster request's id.
pub(crate) fn roster_and_presence(cx: &mut Context) -> (Option<String>, Initial) {
    let roster_id = cx.config.fetch_roster.then(|| {
        let id = cx.out.next_id();
        // Before the features say so: the last session's features, or a cached roster
        // whose version only a versioning server could have given.
        let versioning = cx
            .feature_cache
            .as_ref()
            .is_some_and(|c| c.roster_versioning)
            || cx
                .config
                .roster_cache
                .as_ref()
                .is_some_and(|r| r.version.is_some());
        online::request_roster(&id, versioning, cx);
        id
    });
    let (presence, priority) = (cx.presence, cx.config.priority);
    let (status, caps) = (&cx.status, &cx.own_caps);
    cx.out
        .write_with(|out| write_own_presence(presence, status, priority, Some(caps), out));
    let initial = Initial::Sent {
        presence,
        status: cx.status.clone(),
    };
    (roster_id, initial)
}

/// The session data a login that went online early starts with.
pub(crate) fn early_data(server: ServerFeatures, roster_id: Option<String>) -> Box<SessionData> {
    let mut data = SessionData::new(server);
    data.pending_roster = roster_id;
    Box::new(data)
}

impl EarlyBind {
    /// The features after authentication offer binding: our early request is the one to
    /// wait for. Stream management offered and not enabled early: enabled now.
    pub(crate) fn confirm(
        self,
        server: ServerFeatures,
        session_required: bool,
        cx: &mut Context,
    ) -> State {
        let mut data = early_data(server, self.roster_id);
        data.sm = match self.sm {
            Some(sm) => Some(sm),
            None if server.stream_management && cx.config.stream_management => Some(sm::enable(cx)),
            None => None,
        };
        State::ExpectBind(ExpectBind {
            id: self.bind_id,
            session_required,
            data,
            initial: self.initial,
        })
    }
}

/// Our bind request is out.
#[derive(Debug)]
pub(crate) struct ExpectBind {
    id: String,
    session_required: bool,
    pub(crate) data: Box<SessionData>,
    initial: Initial,
}

/// Bound; the RFC 3921 session request is out.
#[derive(Debug)]
pub(crate) struct ExpectSession {
    id: String,
    pub(crate) jid: FullJid,
    pub(crate) data: Box<SessionData>,
    initial: Initial,
}

/// Bound; the roster request is out.
#[derive(Debug)]
pub(crate) struct ExpectRoster {
    id: String,
    pub(crate) jid: FullJid,
    pub(crate) data: Box<SessionData>,
}

/// Sends the bind request (with the configured resource, if any), and `<enable/>` in the
/// same write when the server offers stream management.
pub(crate) fn start(server: ServerFeatures, session_required: bool, cx: &mut Context) -> State {
    let id = cx.out.next_id();
    let resource = cx.config.jid.resource().map(|r| r.as_str().to_string());
    cx.out.write(&bind_request(&id, resource.as_deref()));
    let mut data = Box::new(SessionData::new(server));
    if server.stream_management && cx.config.stream_management {
        data.sm = Some(sm::enable(cx));
    }
    State::ExpectBind(ExpectBind {
        id,
        session_required,
        data,
        initial: Initial::Due,
    })
}

/// Whether `stanza` is the result or error of our IQ `id`.
fn answers(stanza: &Stanza, id: &str) -> bool {
    stanza.is("iq", NS_CLIENT)
        && stanza.attr("id") == Some(id)
        && matches!(stanza.attr("type"), Some("result") | Some("error"))
}

impl ExpectBind {
    pub(crate) fn handle(
        mut self,
        now: Instant,
        stanza: Stanza,
        cx: &mut Context,
    ) -> Result<State, Failure> {
        if !answers(&stanza, &self.id) {
            self.data.on_stanza(now, stanza, true, cx);
            return Ok(State::ExpectBind(self));
        }
        let el = stanza.to_element();
        if el.attr("type") == Some("error") {
            let (condition, _) = stanza_error(&el);
            return Err(Failure::new(
                DisconnectReason::BindFailed { condition },
                Farewell::CloseStream,
            ));
        }
        let jid = check_bound(&bound_jid(&el).unwrap_or_default(), cx)?;
        if self.session_required {
            let id = cx.out.next_id();
            cx.out.write(&session_request(&id));
            // A presence sent before a required session may not have counted: again after.
            let initial = match self.initial {
                Initial::Sent { .. } => Initial::Resend,
                other => other,
            };
            return Ok(State::ExpectSession(ExpectSession {
                id,
                jid,
                data: self.data,
                initial,
            }));
        }
        Ok(established(jid, self.data, self.initial, cx))
    }
}

impl ExpectSession {
    pub(crate) fn handle(
        mut self,
        now: Instant,
        stanza: Stanza,
        cx: &mut Context,
    ) -> Result<State, Failure> {
        if !answers(&stanza, &self.id) {
            self.data.on_stanza(now, stanza, true, cx);
            return Ok(State::ExpectSession(self));
        }
        let el = stanza.to_element();
        if el.attr("type") == Some("error") {
            let (condition, _) = stanza_error(&el);
            return Err(Failure::new(
                DisconnectReason::SessionFailed { condition },
                Farewell::CloseStream,
            ));
        }
        Ok(established(self.jid, self.data, self.initial, cx))
    }
}

impl ExpectRoster {
    pub(crate) fn handle(mut self, now: Instant, stanza: Stanza, cx: &mut Context) -> State {
        if !answers(&stanza, &self.id) {
            self.data.on_stanza(now, stanza, true, cx);
            return State::ExpectRoster(self);
        }
        self.data.on_roster_result(&stanza.to_element(), cx);
        State::Online(Online {
            jid: self.jid,
            data: self.data,
            initial: Initial::Due,
        })
    }
}

/// The session is established: fetch the roster first when it was not requested early
/// (and is wanted), else go online.
fn established(jid: FullJid, data: Box<SessionData>, initial: Initial, cx: &mut Context) -> State {
    if matches!(initial, Initial::Due) && cx.config.fetch_roster {
        let id = cx.out.next_id();
        online::request_roster(&id, data.server.roster_versioning, cx);
        return State::ExpectRoster(ExpectRoster { id, jid, data });
    }
    State::Online(Online { jid, data, initial })
}

/// A JID the server bound for us: a full JID of this account.
pub(crate) fn check_bound(jid: &str, cx: &Context) -> Result<FullJid, Failure> {
    let Some(jid) = parse_jid(jid.trim())
        .ok()
        .and_then(|j| j.try_into_full().ok())
    else {
        return Err(Failure::peer(
            PeerMisbehaved::InvalidBindResult,
            Farewell::CloseStream,
        ));
    };
    if !same_account(&jid, &cx.config.jid.to_bare()) {
        // Going online as someone else would misreport who we are to the application.
        return Err(Failure::peer(
            PeerMisbehaved::BoundOtherAccount { jid },
            Farewell::CloseStream,
        ));
    }
    Ok(jid)
}

/// Whether `bound` belongs to `account`: local part and domain compared case-insensitively,
/// as servers normalise them (nodeprep / PRECIS lower-cases; domains are case-insensitive).
fn same_account(bound: &FullJid, account: &jid::BareJid) -> bool {
    let node = |n: Option<&jid::NodeRef>| n.map(|n| n.as_str().to_lowercase());
    node(bound.node()) == node(account.node())
        && bound.domain().as_str().to_lowercase() == account.domain().as_str().to_lowercase()
}

fn bound_jid(iq: &Element) -> Option<String> {
    Some(
        iq.get_child("bind", NS_BIND)?
            .get_child("jid", NS_BIND)?
            .text(),
    )
}
