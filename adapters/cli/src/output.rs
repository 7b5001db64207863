//! Standard output: one JSON object per line per event, each with an `"event"` key.

use std::io::Write;

use herald_std::Event;
use serde_json::{Value, json};

/// Writes one event line (whole lines only, whatever thread calls).
pub(crate) fn emit(value: &Value) {
    let mut out = std::io::stdout().lock();
    // A closed standard output is not worth dying for: the session still closes cleanly.
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

pub(crate) use herald_json::{error, roster};

/// The JSON for a session event; `None` for events the interface does not show.
pub(crate) fn event(event: &Event) -> Option<Value> {
    Some(match event {
        Event::Core(core) => herald_json::event(core)?,
        Event::Reconnecting { attempt, delay } => json!({
            "event": "reconnecting",
            "attempt": attempt,
            "delay_ms": u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        }),
        Event::CommandFailed { error: e } => error(&e.to_string()),
        _ => return None,
    })
}

pub(crate) use herald_json::exit_status as exit_code;

/// A `message_sent` event: the message to `to` went to the session with this `id` (its
/// receipt or error names it).
pub(crate) fn message_sent(to: &herald_core::jid::Jid, id: &str) -> Value {
    json!({ "event": "message_sent", "to": to.to_string(), "id": id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::jid::BareJid;
    use herald_core::{Event as CoreEvent, Roster, RosterChange, RosterItem, Subscription};

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
