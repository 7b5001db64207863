//! What a page's WebSocket URL allows: TLS (`wss:`) anywhere, plaintext (`ws:`) only on
//! loopback, where nothing crosses a network.

use std::fmt;

/// Whether the WebSocket is `wss:` and, when not, that its host is loopback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsTarget {
    /// `wss:`: the browser's TLS protects the stream.
    pub secure: bool,
}

/// A URL the browser client will not use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UrlError {}

impl WsTarget {
    /// Reads `url`: `wss://…` is secure, `ws://` is allowed to `localhost`, `127.x.y.z`
    /// and `[::1]` only.
    pub fn parse(url: &str) -> Result<WsTarget, UrlError> {
        let lower = url.trim().to_ascii_lowercase();
        if lower.starts_with("wss://") {
            return Ok(WsTarget { secure: true });
        }
        let Some(rest) = lower.strip_prefix("ws://") else {
            return Err(UrlError(format!("not a ws:// or wss:// URL: {url}")));
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host_port = authority.rsplit('@').next().unwrap_or("");
        let host = if let Some(v6) = host_port.strip_prefix('[') {
            v6.split(']').next().unwrap_or("")
        } else {
            host_port.split(':').next().unwrap_or("")
        };
        let loopback = host == "localhost"
            || host == "::1"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback());
        if loopback {
            Ok(WsTarget { secure: false })
        } else {
            Err(UrlError(format!(
                "ws:// (no TLS) only to a loopback host; use wss:// for {host}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_only_on_loopback() {
        let secure = Ok(WsTarget { secure: true });
        let plain = Ok(WsTarget { secure: false });
        assert_eq!(WsTarget::parse("wss://example.org/xmpp-websocket"), secure);
        assert_eq!(WsTarget::parse("ws://127.0.0.1:5280/xmpp-websocket"), plain);
        assert_eq!(WsTarget::parse("WS://localhost/x"), plain);
        assert_eq!(WsTarget::parse("ws://[::1]:5280/"), plain);
        assert!(WsTarget::parse("ws://example.org/xmpp-websocket").is_err());
        assert!(WsTarget::parse("ws://127.0.0.1.example.org/").is_err());
        assert!(WsTarget::parse("http://127.0.0.1/").is_err());
    }
}
