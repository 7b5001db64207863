//! The `ws://` / `wss://` URL of an XMPP-over-WebSocket endpoint (RFC 7395), taken apart
//! for the TCP connection, the TLS server name and the HTTP request.

use crate::options_builder::OptionsError;

/// A WebSocket endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    /// `wss:` (TLS, the certificate checked for `host`) or `ws:`.
    pub secure: bool,
    /// The host name or address (without the brackets of an IPv6 literal).
    pub host: String,
    /// The port (443 for `wss:`, 80 for `ws:` when none is given).
    pub port: u16,
    /// The path and query, at least `/`.
    pub path: String,
}

impl WsUrl {
    /// Takes `url` apart; refuses anything but `ws://HOST[:PORT][/PATH]` and `wss://...`
    /// (no user information, no fragment).
    pub fn parse(url: &str) -> Result<WsUrl, OptionsError> {
        let bad = |why: &str| OptionsError::WebSocketUrl(format!("{url:?}: {why}"));
        let (secure, rest) = if let Some(rest) = url.strip_prefix("wss://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("ws://") {
            (false, rest)
        } else {
            return Err(bad("not a ws:// or wss:// URL"));
        };
        if rest.contains('#') {
            return Err(bad("a WebSocket URL has no fragment"));
        }
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        if authority.contains('@') {
            return Err(bad("user information in the URL"));
        }
        let default_port = if secure { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(bad("junk after the IPv6 address")),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            Some(p) => match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(bad("bad port")),
                Ok(p) => p,
            },
            None => default_port,
        };
        Ok(WsUrl {
            secure,
            host: host.to_string(),
            port,
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_come_apart() {
        let u = WsUrl::parse("wss://example.org/xmpp-websocket").unwrap();
        assert_eq!(
            u,
            WsUrl {
                secure: true,
                host: "example.org".into(),
                port: 443,
                path: "/xmpp-websocket".into()
            }
        );
        let u = WsUrl::parse("ws://127.0.0.1:5280").unwrap();
        assert_eq!((u.secure, u.port, u.path.as_str()), (false, 5280, "/"));
        let u = WsUrl::parse("ws://[::1]:5280/ws?x=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 5280, "/ws?x=1")
        );
    }

    #[test]
    fn what_is_not_a_websocket_url_is_refused() {
        for url in [
            "http://example.org/",
            "wss://",
            "wss://:443/",
            "ws://h:0/",
            "ws://h:99999/",
            "ws://u@h/",
            "ws://h/#f",
            "ws://[::1/",
        ] {
            assert!(
                matches!(WsUrl::parse(url), Err(OptionsError::WebSocketUrl(_))),
                "{url}"
            );
        }
    }
}
