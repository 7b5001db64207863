//! Standard output: one JSON object per line per event, each with an `"event"` key.

use std::io::Write;

use herald_core::{DisconnectReason, Event as CoreEvent, Roster, RosterItem};
use herald_std::Event;
use serde_json::{Value, json};

/// Writes one event line (whole lines only, whatever thread calls).
pub(crate) fn emit(value: &Value) {
    let mut out = std::io::stdout().lock();
    // A closed standard output is not worth dying for: the session still closes cleanly.
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

/// An `error` event.
pub(crate) fn error(message: &str) -> Value {
    json!({ "event": "error", "message": message })
}

/// The JSON for a session event; `None` for events the interface does not show.
pub(crate) fn event(event: &Event) -> Option<Value> {
    Some(match event {
        Event::Core(core) => core_event(core)?,
        Event::Reconnecting { attempt, delay } => json!({
            "event": "reconnecting",
            "attempt": attempt,
            "delay_ms": u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        }),
        Event::CommandFailed { error: e } => error(&e.to_string()),
        _ => return None,
    })
}

fn core_event(event: &CoreEvent) -> Option<Value> {
    Some(match event {
        CoreEvent::StateChanged(state) => json!({ "event": "state", "state": state.name() }),
        CoreEvent::Online { jid } => json!({ "event": "online", "jid": jid.to_string() }),
        CoreEvent::PresenceSent { presence, status } => json!({
            "event": "presence_sent",
            "presence": presence.name(),
            "status": status,
        }),
        CoreEvent::Presence(p) => json!({
            "event": "presence",
            "from": p.from.to_string(),
            "user": p.user(),
            "domain": p.domain(),
            "resource": p.resource(),
            "availability": p.availability.name(),
            "show": p.show,
            "status": p.status,
            "priority": p.priority,
        }),
        CoreEvent::PresenceError {
            from,
            condition,
            text,
        } => json!({
            "event": "presence_error",
            "from": from.as_ref().map(|j| j.to_string()),
            "condition": condition,
            "text": text,
        }),
        CoreEvent::Roster { roster, .. } => self::roster(roster),
        CoreEvent::RosterUnavailable { condition } => json!({
            "event": "roster_unavailable",
            "condition": condition,
        }),
        CoreEvent::RosterPush {
            change,
            item,
            version,
        } => {
            let mut value = item_json(item);
            value["event"] = "roster_push".into();
            value["change"] = change.as_str().into();
            value["version"] = json!(version);
            value
        }
        CoreEvent::RosterEditFailed { jid, condition } => json!({
            "event": "roster_edit_failed",
            "jid": jid.to_string(),
            "condition": condition,
        }),
        CoreEvent::SubscriptionRequest { from } => {
            json!({ "event": "subscription_request", "from": from.to_string() })
        }
        CoreEvent::SubscriptionAnswered { from, approved } => json!({
            "event": "subscription_answered",
            "from": from.to_string(),
            "approved": approved,
        }),
        CoreEvent::SubscriptionLeftPending { from } => {
            json!({ "event": "subscription_left_pending", "from": from.to_string() })
        }
        CoreEvent::FastTokenUpdated => json!({ "event": "fast_token_updated" }),
        CoreEvent::Resumed { resent } => json!({ "event": "resumed", "resent": resent }),
        CoreEvent::StanzasLost { count, ids } => {
            json!({ "event": "stanzas_lost", "count": count, "ids": ids })
        }
        CoreEvent::Subscribed { from } => {
            json!({ "event": "subscribed", "from": from.to_string() })
        }
        CoreEvent::Unsubscribed { from } => {
            json!({ "event": "unsubscribed", "from": from.to_string() })
        }
        CoreEvent::ContactUnsubscribed { from } => {
            json!({ "event": "contact_unsubscribed", "from": from.to_string() })
        }
        CoreEvent::Disconnected { reason } => json!({
            "event": "disconnected",
            "reason": reason.to_string(),
            "code": reason_code(reason),
        }),
        _ => return None,
    })
}

/// A `roster` event: every item, in JID order, and the roster version.
pub(crate) fn roster(roster: &Roster) -> Value {
    json!({
        "event": "roster",
        "items": roster.items.values().map(item_json).collect::<Vec<_>>(),
        "version": roster.version,
    })
}

/// One roster item: `jid`, `name` (null when unnamed), `groups`, `subscription`
/// (none|to|from|both, or remove in a removal push), `pending_out` (our request awaits an
/// answer), `approved` (pre-approved).
fn item_json(item: &RosterItem) -> Value {
    json!({
        "jid": item.jid.to_string(),
        "name": item.name,
        "groups": item.groups,
        "subscription": item.subscription.as_str(),
        "pending_out": item.pending_out,
        "approved": item.approved,
    })
}

/// A stable machine-readable name for the reason.
fn reason_code(reason: &DisconnectReason) -> &'static str {
    match reason {
        DisconnectReason::LocalClose => "local_close",
        DisconnectReason::ServerClosed => "server_closed",
        DisconnectReason::Eof => "eof",
        DisconnectReason::StreamError { .. } => "stream_error",
        DisconnectReason::SeeOtherHost { .. } => "see_other_host",
        DisconnectReason::AuthFailed { .. } => "auth_failed",
        DisconnectReason::Scram { .. } => "scram_failed",
        DisconnectReason::NoAcceptableMechanism { .. } => "no_acceptable_mechanism",
        DisconnectReason::TlsNotOffered => "tls_not_offered",
        DisconnectReason::StartTlsRefused => "starttls_refused",
        DisconnectReason::TlsFailed { .. } => "tls_failed",
        DisconnectReason::TlsInjection => "tls_injection",
        DisconnectReason::MalformedXml { .. } => "malformed_xml",
        DisconnectReason::LimitExceeded(_) => "limit_exceeded",
        DisconnectReason::PeerMisbehaved(_) => "protocol_violation",
        DisconnectReason::BindFailed { .. } => "bind_failed",
        DisconnectReason::SessionFailed { .. } => "session_failed",
        DisconnectReason::Timeout(_) => "timeout",
        DisconnectReason::LinkDead => "link_dead",
        _ => "other",
    }
}

/// The exit status for a session that ended for `reason`.
pub(crate) fn exit_code(reason: &DisconnectReason) -> u8 {
    match reason {
        DisconnectReason::LocalClose => 0,
        r if r.is_auth_failure() => 1,
        DisconnectReason::TlsFailed { .. }
        | DisconnectReason::TlsInjection
        | DisconnectReason::TlsNotOffered
        | DisconnectReason::StartTlsRefused => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::jid::BareJid;
    use herald_core::{RosterChange, Subscription};

    fn jid(s: &str) -> BareJid {
        BareJid::new(s).unwrap()
    }

    fn bob() -> RosterItem {
        let mut item = RosterItem::new(jid("bob@localhost"));
        item.name = Some("Bob".into());
        item.groups = vec!["Friends".into(), "Work".into()];
        item.subscription = Subscription::Both;
        item
    }

    #[test]
    fn roster_json() {
        let carol = RosterItem::new(jid("carol@localhost"));
        let roster = Roster::from_items(Some("v7".into()), [carol, bob()]);
        assert_eq!(
            self::roster(&roster),
            json!({
                "event": "roster",
                "items": [
                    { "jid": "bob@localhost", "name": "Bob", "groups": ["Friends", "Work"],
                      "subscription": "both", "pending_out": false, "approved": false },
                    { "jid": "carol@localhost", "name": null, "groups": [],
                      "subscription": "none", "pending_out": false, "approved": false },
                ],
                "version": "v7",
            })
        );
        assert_eq!(
            self::roster(&Roster::default()),
            json!({ "event": "roster", "items": [], "version": null })
        );
    }

    fn core(event: CoreEvent) -> Value {
        self::event(&Event::Core(event)).unwrap()
    }

    #[test]
    fn roster_and_subscription_events() {
        let mut pushed = bob();
        pushed.subscription = Subscription::To;
        pushed.pending_out = true;
        assert_eq!(
            core(CoreEvent::RosterPush {
                change: RosterChange::Added,
                item: pushed,
                version: None
            }),
            json!({
                "event": "roster_push", "change": "added", "jid": "bob@localhost",
                "name": "Bob", "groups": ["Friends", "Work"], "subscription": "to",
                "pending_out": true, "approved": false, "version": null,
            })
        );
        assert_eq!(
            core(CoreEvent::RosterPush {
                change: RosterChange::Updated,
                item: bob(),
                version: Some("v2".into())
            })["change"],
            "updated"
        );
        let mut removed = bob();
        removed.subscription = Subscription::Remove;
        assert_eq!(
            core(CoreEvent::RosterPush {
                change: RosterChange::Removed,
                item: removed,
                version: Some("v3".into())
            }),
            json!({
                "event": "roster_push", "change": "removed", "jid": "bob@localhost",
                "name": "Bob", "groups": ["Friends", "Work"], "subscription": "remove",
                "pending_out": false, "approved": false, "version": "v3",
            })
        );
        let from = jid("dave@localhost");
        assert_eq!(
            core(CoreEvent::SubscriptionRequest { from: from.clone() }),
            json!({ "event": "subscription_request", "from": "dave@localhost" })
        );
        assert_eq!(
            core(CoreEvent::SubscriptionAnswered {
                from: from.clone(),
                approved: false
            }),
            json!({ "event": "subscription_answered", "from": "dave@localhost",
                    "approved": false })
        );
        assert_eq!(
            core(CoreEvent::SubscriptionLeftPending { from: from.clone() }),
            json!({ "event": "subscription_left_pending", "from": "dave@localhost" })
        );
        assert_eq!(
            core(CoreEvent::Resumed { resent: 2 }),
            json!({ "event": "resumed", "resent": 2 })
        );
        assert_eq!(
            core(CoreEvent::StanzasLost {
                count: 3,
                ids: vec!["m1".into(), "m2".into()]
            }),
            json!({ "event": "stanzas_lost", "count": 3, "ids": ["m1", "m2"] })
        );
        assert_eq!(
            core(CoreEvent::Subscribed { from: from.clone() }),
            json!({ "event": "subscribed", "from": "dave@localhost" })
        );
        assert_eq!(
            core(CoreEvent::Unsubscribed { from: from.clone() }),
            json!({ "event": "unsubscribed", "from": "dave@localhost" })
        );
        assert_eq!(
            core(CoreEvent::ContactUnsubscribed { from: from.clone() }),
            json!({ "event": "contact_unsubscribed", "from": "dave@localhost" })
        );
        assert_eq!(
            core(CoreEvent::RosterEditFailed {
                jid: from,
                condition: "not-allowed".into()
            }),
            json!({ "event": "roster_edit_failed", "jid": "dave@localhost",
                    "condition": "not-allowed" })
        );
        assert_eq!(
            core(CoreEvent::RosterUnavailable {
                condition: "service-unavailable".into()
            }),
            json!({ "event": "roster_unavailable", "condition": "service-unavailable" })
        );
        assert_eq!(
            core(CoreEvent::Roster {
                roster: Roster::default(),
                from_cache: false
            })["event"],
            "roster"
        );
    }
}
