//! Standard output: one JSON object per line per event, each with an `"event"` key.

use std::io::Write;

use herald_core::{DisconnectReason, Event as CoreEvent};
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
        CoreEvent::Disconnected { reason } => json!({
            "event": "disconnected",
            "reason": reason.to_string(),
            "code": reason_code(reason),
        }),
        _ => return None,
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
        DisconnectReason::InvalidCredentials => "invalid_credentials",
        DisconnectReason::NoAcceptableMechanism { .. } => "no_acceptable_mechanism",
        DisconnectReason::TlsNotOffered => "tls_not_offered",
        DisconnectReason::StartTlsRefused => "starttls_refused",
        DisconnectReason::TlsFailed { .. } => "tls_failed",
        DisconnectReason::TlsInjection => "tls_injection",
        DisconnectReason::MalformedXml { .. } => "malformed_xml",
        DisconnectReason::LimitExceeded(_) => "limit_exceeded",
        DisconnectReason::ProtocolViolation(_) => "protocol_violation",
        DisconnectReason::BindFailed { .. } => "bind_failed",
        DisconnectReason::SessionFailed { .. } => "session_failed",
        DisconnectReason::Timeout(_) => "timeout",
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
