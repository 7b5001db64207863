//! The JSON of Herald's core events: one object per event, each with an `"event"` key. The
//! `herald` command prints them one per line; the browser client (herald-web) hands them to
//! its JavaScript callback; one consumer reads both.

#![forbid(unsafe_code)]

use herald_core::{CarbonDirection, DisconnectReason, Event, Roster, RosterItem};
use serde_json::{Value, json};

/// An `error` event: something the session could not do.
pub fn error(message: &str) -> Value {
    json!({ "event": "error", "message": message })
}

/// The JSON for a core event; `None` for events the interface does not show.
pub fn event(event: &Event) -> Option<Value> {
    Some(match event {
        Event::StateChanged(state) => json!({ "event": "state", "state": state.name() }),
        Event::Online { jid } => json!({ "event": "online", "jid": jid.to_string() }),
        Event::PresenceSent { presence, status } => json!({
            "event": "presence_sent",
            "presence": presence.name(),
            "status": status,
        }),
        Event::Presence(p) => json!({
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
        Event::PresenceError {
            from,
            condition,
            text,
        } => json!({
            "event": "presence_error",
            "from": from.as_ref().map(|j| j.to_string()),
            "condition": condition,
            "text": text,
        }),
        Event::Roster { roster, .. } => self::roster(roster),
        Event::RosterUnavailable { condition } => json!({
            "event": "roster_unavailable",
            "condition": condition,
        }),
        Event::RosterPush {
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
        Event::RosterEditFailed { jid, condition } => json!({
            "event": "roster_edit_failed",
            "jid": jid.to_string(),
            "condition": condition,
        }),
        Event::SubscriptionRequest { from } => {
            json!({ "event": "subscription_request", "from": from.to_string() })
        }
        Event::SubscriptionAnswered { from, approved } => json!({
            "event": "subscription_answered",
            "from": from.to_string(),
            "approved": approved,
        }),
        Event::SubscriptionLeftPending { from } => {
            json!({ "event": "subscription_left_pending", "from": from.to_string() })
        }
        Event::FastTokenUpdated => json!({ "event": "fast_token_updated" }),
        Event::Resumed { resent } => json!({ "event": "resumed", "resent": resent }),
        Event::StanzasLost { count, ids } => {
            json!({ "event": "stanzas_lost", "count": count, "ids": ids })
        }
        Event::Subscribed { from } => {
            json!({ "event": "subscribed", "from": from.to_string() })
        }
        Event::Unsubscribed { from } => {
            json!({ "event": "unsubscribed", "from": from.to_string() })
        }
        Event::ContactUnsubscribed { from } => {
            json!({ "event": "contact_unsubscribed", "from": from.to_string() })
        }
        Event::Message(m) => json!({
            "event": "message",
            "from": m.from.to_string(),
            "to": m.to.as_ref().map(|j| j.to_string()),
            "type": m.kind.as_str(),
            "body": m.body,
            "id": m.id,
            "thread": m.thread,
            "delay": m.delay.as_ref().map(|d| d.stamp.clone()),
            "carbon": m.carbon.map(|c| match c {
                CarbonDirection::Sent => "sent",
                _ => "received",
            }),
        }),
        Event::MessageError {
            from,
            id,
            condition,
            text,
        } => json!({
            "event": "message_error",
            "from": from.as_ref().map(|j| j.to_string()),
            "id": id,
            "condition": condition,
            "text": text,
        }),
        Event::Receipt { from, id } => {
            json!({ "event": "receipt", "from": from.to_string(), "id": id })
        }
        Event::CapsVerified { from, ver } => {
            json!({ "event": "caps_verified", "from": from.to_string(), "ver": ver })
        }
        Event::Blocklist { jids } => json!({ "event": "blocklist", "jids": jid_strings(jids) }),
        Event::Blocked { jids } => json!({ "event": "blocked", "jids": jid_strings(jids) }),
        Event::Unblocked { jids } => json!({ "event": "unblocked", "jids": jid_strings(jids) }),
        Event::BlockingFailed { condition } => {
            json!({ "event": "blocking_failed", "condition": condition })
        }
        Event::CapsInvalid { from, ver, reason } => json!({
            "event": "caps_invalid",
            "from": from.to_string(),
            "ver": ver,
            "reason": reason,
        }),
        Event::Disconnected { reason } => json!({
            "event": "disconnected",
            "reason": reason.to_string(),
            "code": reason_code(reason),
        }),
        _ => return None,
    })
}

fn jid_strings(jids: &[herald_core::jid::Jid]) -> Vec<String> {
    jids.iter().map(|j| j.to_string()).collect()
}

/// A `roster` event: every item, in JID order, and the roster version.
pub fn roster(roster: &Roster) -> Value {
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

/// The `herald` CLI's exit status for a session that ended for `reason`: 0 closed by us,
/// 1 authentication failed, 3 TLS (or the certificate) failed, 4 anything else.
pub fn exit_status(reason: &DisconnectReason) -> u8 {
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

/// A stable machine-readable name for the reason.
pub fn reason_code(reason: &DisconnectReason) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::jid::BareJid;
    use herald_core::{Presence, SessionState};

    #[test]
    fn the_events_a_page_needs_are_the_clis() {
        assert_eq!(
            event(&Event::StateChanged(SessionState::Online)),
            Some(json!({ "event": "state", "state": SessionState::Online.name() }))
        );
        assert_eq!(
            event(&Event::PresenceSent {
                presence: Presence::Away,
                status: "in the browser".into()
            }),
            Some(json!({ "event": "presence_sent", "presence": "away",
                         "status": "in the browser" }))
        );
        assert_eq!(
            event(&Event::Subscribed {
                from: BareJid::new("bob@localhost").unwrap()
            }),
            Some(json!({ "event": "subscribed", "from": "bob@localhost" }))
        );
        assert_eq!(
            event(&Event::Disconnected {
                reason: DisconnectReason::LocalClose
            })
            .unwrap()["code"],
            "local_close"
        );
    }
}
