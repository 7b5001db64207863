//! Building [`ConnectOptions`] in one expression, and checking them before a session starts.
//!
//! `ConnectOptions` is `#[non_exhaustive]` (new options must not break callers), so a struct
//! literal does not compile outside this crate; start from [`ConnectOptions::new`] and chain
//! the setters, or take the default and assign the public fields.

use std::path::PathBuf;
use std::time::Duration;

use crate::options::{ConnectOptions, TlsMode};
use crate::tls::{Roots, TlsConfigs};

/// Options that cannot work, found before anything is connected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// [`ConnectOptions::server`] has an empty host.
    #[error("the server host is empty")]
    EmptyServerHost,
    /// [`ConnectOptions::server`] has port 0.
    #[error("the server port is 0")]
    ServerPortZero,
    /// [`ConnectOptions::reconnect_initial`] is zero: reconnects would follow each other
    /// without a pause.
    #[error("the first reconnect delay is zero")]
    ZeroReconnectDelay,
    /// [`ConnectOptions::reconnect_initial`] is longer than
    /// [`ConnectOptions::reconnect_max`].
    #[error("the first reconnect delay ({initial:?}) is longer than the longest ({max:?})")]
    ReconnectDelays {
        /// The first delay.
        initial: Duration,
        /// The longest delay.
        max: Duration,
    },
    /// [`ConnectOptions::event_capacity`] is zero.
    #[error("the event capacity is zero")]
    ZeroEventCapacity,
    /// [`ConnectOptions::websocket`] is not a usable `ws://` or `wss://` URL.
    #[error("WebSocket URL {0}")]
    WebSocketUrl(String),
}

impl ConnectOptions {
    /// The defaults (the same as [`Default`]), to chain setters on:
    ///
    /// ```
    /// use herald_io::{ConnectOptions, Roots, TlsMode};
    ///
    /// let options = ConnectOptions::new()
    ///     .server("127.0.0.1", 5222)
    ///     .tls(TlsMode::StartTls)
    ///     .roots(Roots::CaFileOnly("tests/ca.pem".into()));
    /// assert_eq!(options.server, Some(("127.0.0.1".to_string(), 5222)));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Connects to `host`:`port` instead of looking up DNS SRV records.
    #[must_use]
    pub fn server(mut self, host: impl Into<String>, port: u16) -> Self {
        self.server = Some((host.into(), port));
        self
    }

    /// STARTTLS, direct TLS, or what SRV says.
    #[must_use]
    pub fn tls(mut self, mode: TlsMode) -> Self {
        self.tls = mode;
        self
    }

    /// A PEM file of CA certificates to trust besides [`roots`](Self::roots).
    #[must_use]
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Which certificate authorities to trust.
    #[must_use]
    pub fn roots(mut self, roots: Roots) -> Self {
        self.roots = roots;
        self
    }

    /// TLS configurations built once and shared by many sessions.
    #[must_use]
    pub fn tls_config(mut self, configs: TlsConfigs) -> Self {
        self.tls_config = Some(configs);
        self
    }

    /// Reconnect after a connection loss, or not.
    #[must_use]
    pub fn reconnect(mut self, reconnect: bool) -> Self {
        self.reconnect = reconnect;
        self
    }

    /// The first and the longest reconnect delay.
    #[must_use]
    pub fn reconnect_delays(mut self, initial: Duration, max: Duration) -> Self {
        self.reconnect_initial = initial;
        self.reconnect_max = max;
        self
    }

    /// The XML both ways as `tracing` events, SASL payloads redacted.
    #[must_use]
    pub fn trace(mut self, trace: bool) -> Self {
        self.trace = trace;
        self
    }

    /// How many events `herald-tokio` buffers before it stops reading the socket.
    #[must_use]
    pub fn event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = capacity;
        self
    }

    /// Connects over XMPP-over-WebSocket (RFC 7395) to this `ws://` or `wss://` URL
    /// instead of TCP (herald-tokio).
    #[must_use]
    pub fn websocket(mut self, url: impl Into<String>) -> Self {
        self.websocket = Some(url.into());
        self
    }

    /// What can be told wrong without connecting (the TLS configuration is checked when it
    /// is built: [`tls_configs`](Self::tls_configs)).
    pub fn check(&self) -> Result<(), OptionsError> {
        if let Some((host, port)) = &self.server {
            if host.trim().is_empty() {
                return Err(OptionsError::EmptyServerHost);
            }
            if *port == 0 {
                return Err(OptionsError::ServerPortZero);
            }
        }
        if self.reconnect_initial.is_zero() {
            return Err(OptionsError::ZeroReconnectDelay);
        }
        if self.reconnect_initial > self.reconnect_max {
            return Err(OptionsError::ReconnectDelays {
                initial: self.reconnect_initial,
                max: self.reconnect_max,
            });
        }
        if self.event_capacity == 0 {
            return Err(OptionsError::ZeroEventCapacity);
        }
        if let Some(url) = &self.websocket {
            crate::WsUrl::parse(url)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_pass() {
        assert_eq!(ConnectOptions::new().check(), Ok(()));
    }

    #[test]
    fn setters_set_what_they_name() {
        let o = ConnectOptions::new()
            .server("::1", 5223)
            .tls(TlsMode::Direct)
            .ca_file("/ca.pem")
            .roots(Roots::Platform)
            .reconnect(false)
            .reconnect_delays(Duration::from_millis(5), Duration::from_secs(1))
            .trace(true)
            .event_capacity(8);
        assert_eq!(o.server, Some(("::1".into(), 5223)));
        assert_eq!(o.tls, TlsMode::Direct);
        assert_eq!(o.ca_file, Some(PathBuf::from("/ca.pem")));
        assert_eq!(o.roots, Roots::Platform);
        assert!(!o.reconnect && o.trace);
        assert_eq!(o.reconnect_initial, Duration::from_millis(5));
        assert_eq!(o.reconnect_max, Duration::from_secs(1));
        assert_eq!(o.event_capacity, 8);
        assert_eq!(o.check(), Ok(()));
    }

    #[test]
    fn check_names_what_cannot_work() {
        let bad = |o: ConnectOptions| o.check().unwrap_err();
        assert_eq!(
            bad(ConnectOptions::new().server(" ", 5222)),
            OptionsError::EmptyServerHost
        );
        assert_eq!(
            bad(ConnectOptions::new().server("h", 0)),
            OptionsError::ServerPortZero
        );
        assert_eq!(
            bad(ConnectOptions::new().reconnect_delays(Duration::ZERO, Duration::from_secs(1))),
            OptionsError::ZeroReconnectDelay
        );
        let (initial, max) = (Duration::from_secs(2), Duration::from_secs(1));
        assert_eq!(
            bad(ConnectOptions::new().reconnect_delays(initial, max)),
            OptionsError::ReconnectDelays { initial, max }
        );
        assert_eq!(
            bad(ConnectOptions::new().event_capacity(0)),
            OptionsError::ZeroEventCapacity
        );
    }
}
