//! Builders for the server replies tests inject with
//! [`Pair::server_says`](crate::Pair::server_says): each returns the XML a server would send.

const NS_STANZAS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
const NS_STREAMS: &str = "urn:ietf:params:xml:ns:xmpp-streams";

/// `<presence type='error'>` with a stanza error `condition` (and optional text).
pub fn presence_error(from: &str, error_type: &str, condition: &str, text: Option<&str>) -> String {
    let text = text
        .map(|t| format!("<text xmlns='{NS_STANZAS}'>{t}</text>"))
        .unwrap_or_default();
    format!(
        "<presence type='error' from='{from}'><error type='{error_type}'>\
         <{condition} xmlns='{NS_STANZAS}'/>{text}</error></presence>"
    )
}

/// A stream error with `condition` and optional text (`see-other-host` carries the host
/// as its text content instead: use [`see_other_host`]).
pub fn stream_error(condition: &str, text: Option<&str>) -> String {
    let text = text
        .map(|t| format!("<text xmlns='{NS_STREAMS}'>{t}</text>"))
        .unwrap_or_default();
    format!("<stream:error><{condition} xmlns='{NS_STREAMS}'/>{text}</stream:error>")
}

/// `see-other-host` naming `host`.
pub fn see_other_host(host: &str) -> String {
    format!(
        "<stream:error><see-other-host xmlns='{NS_STREAMS}'>{host}</see-other-host></stream:error>"
    )
}

/// A contact's presence; `None` leaves an element out.
pub fn contact_presence(
    from: &str,
    show: Option<&str>,
    status: Option<&str>,
    priority: Option<&str>,
) -> String {
    let mut body = String::new();
    if let Some(s) = show {
        body.push_str(&format!("<show>{s}</show>"));
    }
    if let Some(s) = status {
        body.push_str(&format!("<status>{s}</status>"));
    }
    if let Some(p) = priority {
        body.push_str(&format!("<priority>{p}</priority>"));
    }
    format!("<presence from='{from}'>{body}</presence>")
}

/// An XEP-0199 ping from `from`.
pub fn ping(id: &str, from: &str) -> String {
    format!("<iq type='get' id='{id}' from='{from}'><ping xmlns='urn:xmpp:ping'/></iq>")
}
