//! The reconnect supervisor: what happens between two connections, decided without I/O.
//!
//! A [`herald_core::Client`] lives for one connection. The [`Supervisor`] lives for the
//! whole session: it keeps the configuration template, the account's current presence and
//! status, the SCRAM key cache and the roster, builds each attempt's client, takes the
//! application's [`Command`]s while no client is live, and, when a connection ends, says
//! whether to [`Retry`] (when, and where) or to [`End`](Next::End). It never reads the
//! clock (`now` is an argument) and draws jitter from an injected [`Entropy`], so its
//! rules are tested with a virtual clock. The adapters keep only the waiting: sockets,
//! TLS, DNS and sleeping until [`Retry::at`].
//!
//! ## The rules (both adapters)
//!
//! | when | what happens |
//! |---|---|
//! | the **first** attempt reaches no server (on every target TCP is refused or times out, or a direct TLS handshake times out or breaks) | the session ends: [`EndReason::Unreachable`] (`herald-std`'s `Session::connect` returns the I/O error) |
//! | a later attempt reaches no server | retried with backoff like a lost connection (reconnect on); [`EndReason::Unreachable`] (reconnect off, after a redirect) |
//! | TCP connect, direct TLS handshake | each bounded by [`Timeouts::step`] (30 s by default) |
//! | STARTTLS handshake | bounded by the core's TLS-handshake timer ([`Timeouts::step`] from `<proceed/>`); when it fires the core ends with `Timeout(TlsHandshake)`: network trouble, retried |
//! | TLS fails (certificate, alert), STARTTLS or direct | the session ends: [`EndReason::Tls`]; no retry, no other target (the certificate is checked against the JID's domain everywhere) |
//! | `see-other-host` | followed at once (delay 0; it counts as a backoff attempt), to the named host and port with the **TLS mode of the redirected connection** (default port 5223 for direct TLS, else 5222), even with reconnect off; never from a connection that itself followed a redirect (then the rules below apply) |
//! | [`DisconnectReason::is_auth_failure`], any other reason where [`DisconnectReason::should_reconnect`] is false | the session ends: [`EndReason::Session`] |
//! | a close ([`Command::Close`]) | live: the core's close (unavailable presence, `</stream:stream>`, a bounded wait); between connections: ends at once with `LocalClose`; never a reconnect after it |
//! | any other end, reconnect on | `Reconnecting { attempt, delay }`, a wait, then the usual targets again |
//! | any other end, reconnect off | the session ends: [`EndReason::Session`] |
//! | backoff | [`ConnectOptions::reconnect_initial`] doubling up to [`ConnectOptions::reconnect_max`], each delay in `[d/2, d]` (equal jitter); back to the first delay once a session gets online |
//! | presence and status set while disconnected | checked ([`herald_core::check_text`]) and kept: the next attempt's initial presence carries the latest values |
//! | client state (XEP-0352) | like presence: kept between connections and restored on the next (the core sends `<inactive/>` once online when the server offers CSI) |
//! | presence and status set while connected | applied by the core (sent when online) and kept for the next attempt |
//! | send, roster and subscription commands while disconnected | refused with [`UsageError::NotOnline`]; nothing is kept |
//! | SCRAM keys | the last client's [`Client::scram_cache`] goes into the next attempt's [`Config::scram_cache`]: a reconnect skips PBKDF2 |
//! | FAST token | the last client's [`Client::fast_token`] (issued, rotated, or dropped when refused) goes into the next attempt's [`Config::fast_token`] |
//! | the server's features | the last client's [`Client::feature_cache`] goes into the next attempt's [`Config::feature_cache`]: a reconnect sends its SASL initial response with its stream header, one round trip less |
//! | stream management (XEP-0198) | a connection lost under a resumable session ([`Client::resumption`]) is retried **at once** (delay 0, counted as a backoff attempt) with it in [`Config::resumption`]: no bind, no initial presence, unacknowledged stanzas resent; the server's `location` hint is followed once per resumption (same TLS mode), then the usual targets; a resumed session resets the backoff like one that gets online; a refused resumption goes on as a fresh login |
//! | roster | the roster of the last client that received one (with the pushes since) goes into [`Config::roster_cache`]: with XEP-0237 versioning the server sends only what changed |
//! | events the application does not take | back-pressure, never a growing queue: `herald-tokio`'s channel holds [`ConnectOptions::event_capacity`] events and the task stops reading the socket while it is full (commands and timers still run); `herald-std` reads the socket only inside `pump`, one 16 KiB buffer per call |
//! | logging | `tracing` in both, nothing printed: target `herald::session` for connects, TLS and these decisions; `herald::xml` (TRACE) for the XML both ways, SASL redacted, when [`ConnectOptions::trace`] is set; `herald::driver` (TRACE) once per wait of the run loop |
//!
//! Why the first failure ends the session: nothing has worked with these settings yet, so a
//! wrong host, port, TLS mode or a server that is down is reported at once instead of
//! hiding behind a silent retry loop (a script gets its exit status, an application can
//! retry on its own terms), and `herald-std`'s `Session::connect` has always returned that
//! error. Once a server has been reached, losing it is network trouble and worth retrying.
//!
//! [`Timeouts::step`]: herald_core::Timeouts::step
//! [`Client::scram_cache`]: herald_core::Client::scram_cache
//! [`Config::scram_cache`]: herald_core::Config::scram_cache
//! [`Client::feature_cache`]: herald_core::Client::feature_cache
//! [`Client::fast_token`]: herald_core::Client::fast_token
//! [`Config::fast_token`]: herald_core::Config::fast_token
//! [`Config::feature_cache`]: herald_core::Config::feature_cache
//! [`Client::resumption`]: herald_core::Client::resumption
//! [`Config::resumption`]: herald_core::Config::resumption
//! [`Config::roster_cache`]: herald_core::Config::roster_cache
//! [`ConnectOptions::reconnect_initial`]: crate::options::ConnectOptions::reconnect_initial
//! [`ConnectOptions::reconnect_max`]: crate::options::ConnectOptions::reconnect_max
//! [`ConnectOptions::trace`]: crate::options::ConnectOptions::trace
//! [`ConnectOptions::event_capacity`]: crate::options::ConnectOptions::event_capacity

use std::time::{Duration, Instant};

use herald_core::{
    Client, Config, ConfigError, DisconnectReason, Entropy, Event, FastToken, FeatureCache,
    Presence, Resumption, Roster, ScramCache, UsageError,
};

use crate::backoff::Backoff;
use crate::command::Command;
use crate::options::ConnectOptions;
use crate::target::{Target, redirect};

/// Why a session stopped for good. Its `Display` is a sentence for a person:
/// `authentication failed: not-authorized`, `no server could be reached: ...`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndReason {
    /// The last connection ended for this reason and trying again would not help (or
    /// reconnect is off, or the application closed).
    #[error("{0}")]
    Session(DisconnectReason),
    /// No server could be reached on the first attempt (or on a redirect with reconnect
    /// off).
    #[error("no server could be reached: {0}")]
    Unreachable(String),
    /// TLS failed (for example the certificate did not verify): never retried.
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The configuration cannot be used (for example a bad CA file).
    #[error("the configuration cannot be used: {0}")]
    Config(String),
}

/// The next connection attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// Connect at this time.
    pub at: Instant,
    /// `at - now`, for the `Reconnecting` event.
    pub delay: Duration,
    /// Attempts since the session was last online (1 for the first retry).
    pub attempt: u32,
    /// A `see-other-host` target to use alone, or `None` for the usual targets.
    pub target: Option<Target>,
}

/// What to do after a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Connect again.
    Retry(Retry),
    /// Stop for good.
    End(EndReason),
}

/// The session's memory across connections and its reconnect rules (see the
/// [module docs](self) for the table).
pub struct Supervisor {
    template: Config,
    reconnect: bool,
    backoff: Backoff,
    entropy: Box<dyn Entropy>,
    presence: Presence,
    /// The application's client state (XEP-0352), carried like presence.
    client_active: bool,
    status: String,
    scram_cache: ScramCache,
    /// What the server offered, for the next login's pipelined SASL initial response.
    feature_cache: Option<Box<FeatureCache>>,
    /// The FAST token to log in with next (XEP-0484).
    fast_token: Option<FastToken>,
    roster: Option<Roster>,
    /// The session to resume (XEP-0198), left by the last lost connection.
    /// Boxed, as the feature cache: most sessions hold none, and the supervisor lives in
    /// every session's task.
    resumption: Option<Box<Resumption>>,
    /// The resumption's `location` hint was followed (it is followed once).
    location_followed: bool,
    /// Attempts started (by [`Supervisor::next_client`]).
    attempts: u32,
    /// Where the current attempt is connected.
    target: Option<Target>,
    /// The current attempt follows a redirect.
    redirected: bool,
    /// The next attempt follows a redirect.
    redirect_next: bool,
    /// The current attempt's client received a roster.
    got_roster: bool,
    closing: bool,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("jid", &self.template.jid)
            .field("presence", &self.presence)
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("backoff", &self.backoff)
            .field("closing", &self.closing)
            .finish_non_exhaustive()
    }
}

impl Supervisor {
    /// A supervisor for `config` (the template of every attempt's configuration), with the
    /// reconnect settings of `options`; `entropy` draws the backoff jitter.
    pub fn new(config: Config, options: &ConnectOptions, entropy: impl Entropy + 'static) -> Self {
        Supervisor {
            presence: config.presence,
            client_active: config.client_active,
            status: config.status.clone(),
            scram_cache: config.scram_cache.clone(),
            feature_cache: config.feature_cache.clone().map(Box::new),
            fast_token: config.fast_token.clone(),
            roster: config.roster_cache.clone(),
            resumption: config.resumption.clone().map(Box::new),
            location_followed: false,
            template: config,
            reconnect: options.reconnect,
            backoff: Backoff::new(options.reconnect_initial, options.reconnect_max),
            entropy: Box::new(entropy),
            attempts: 0,
            target: None,
            redirected: false,
            redirect_next: false,
            got_roster: false,
            closing: false,
        }
    }

    /// The account's current availability (the next attempt's initial presence).
    pub fn presence(&self) -> Presence {
        self.presence
    }

    /// The account's current status text.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The last roster a connection received, if any.
    pub fn roster(&self) -> Option<&Roster> {
        self.roster.as_ref()
    }

    /// The roster to show the application: the live client's once it received one, else
    /// the last one a connection received, if any.
    pub fn roster_for<'a>(&'a self, live: Option<&'a Client>) -> Option<&'a Roster> {
        match live {
            Some(client) if self.got_roster => Some(client.roster()),
            _ => self.roster.as_ref(),
        }
    }

    /// The FAST token to persist: the live client's, else the last connection's.
    pub fn fast_token_for<'a>(&'a self, live: Option<&'a Client>) -> Option<&'a FastToken> {
        match live {
            Some(client) => client.fast_token(),
            None => self.fast_token.as_ref(),
        }
    }

    /// The JID's domain: the TLS server name and the SRV name.
    pub fn domain(&self) -> &str {
        self.template.jid.domain().as_str()
    }

    /// How long a TCP connect or a direct TLS handshake may take: [`Timeouts::step`].
    ///
    /// [`Timeouts::step`]: herald_core::Timeouts::step
    pub fn step_timeout(&self) -> Duration {
        self.template.timeouts.step
    }

    /// When a STARTTLS handshake that starts `now` must be done: the core's TLS-handshake
    /// timer, armed at `<proceed/>` with [`Timeouts::step`](herald_core::Timeouts::step).
    /// At that time call [`Client::handle_timeout`]: the core ends with a timeout.
    pub fn starttls_deadline(&self, client: &Client, now: Instant) -> Instant {
        client
            .poll_timeout()
            .unwrap_or_else(|| now + self.step_timeout())
    }

    /// Attempts started so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the application asked to close.
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    /// The session the next attempt resumes, if the last connection left one.
    pub fn resumption(&self) -> Option<&Resumption> {
        self.resumption.as_deref()
    }

    /// The configuration of the next attempt: the template with the current presence and
    /// status, the SCRAM key cache, the server's features, the last roster and the session
    /// to resume.
    pub fn next_config(&self) -> Config {
        let mut config = self.template.clone();
        config.presence = self.presence;
        config.client_active = self.client_active;
        config.status = self.status.clone();
        config.scram_cache = self.scram_cache.clone();
        config.feature_cache = self.feature_cache.as_deref().cloned();
        config.fast_token = self.fast_token.clone();
        if self.roster.is_some() {
            config.roster_cache = self.roster.clone();
        }
        config.resumption = self.resumption.as_deref().cloned();
        config
    }

    /// Starts an attempt: its core client, from [`next_config`](Self::next_config). Fails
    /// only when the template itself is unusable (status and presence are checked when
    /// set), so the first call is where a bad configuration shows.
    pub fn next_client(&mut self, entropy: impl Entropy + 'static) -> Result<Client, ConfigError> {
        self.attempts = self.attempts.saturating_add(1);
        self.redirected = std::mem::take(&mut self.redirect_next);
        self.target = None;
        self.got_roster = false;
        Client::new(self.next_config(), entropy)
    }

    /// The current attempt's transport is up, on `target`.
    pub fn connected(&mut self, target: &Target) {
        self.target = Some(target.clone());
    }

    /// Watches the live client's events on their way to the application.
    pub fn observe(&mut self, event: &Event) {
        match event {
            Event::Online { .. } => {
                // A session online (fresh or resumed) leaves a new resumption behind.
                self.backoff.reset();
                self.location_followed = false;
            }
            // The resumed client holds the roster as the lost one knew it.
            Event::Roster { .. } | Event::Resumed { .. } => self.got_roster = true,
            _ => {}
        }
    }

    /// Applies `command` to the live client, keeping presence and status for the next
    /// attempt. A close makes the end of this connection the end of the session.
    pub fn apply_live(
        &mut self,
        client: &mut Client,
        now: Instant,
        command: Command,
    ) -> Result<(), UsageError> {
        if matches!(command, Command::Close) {
            self.closing = true;
        }
        let result = command.apply(client, now);
        self.presence = client.presence();
        self.client_active = client.client_active();
        self.status = client.status().to_string();
        result
    }

    /// Applies `command` while no client is live. `Ok(Some(end))`: the session ends now
    /// (a close).
    pub fn apply_between(&mut self, command: Command) -> Result<Option<EndReason>, UsageError> {
        match command {
            Command::Close => {
                self.closing = true;
                Ok(Some(EndReason::Session(DisconnectReason::LocalClose)))
            }
            Command::ChangePresence { presence, status } => {
                if let Some(status) = &status {
                    herald_core::check_text(status)?;
                }
                if let Some(presence) = presence {
                    self.presence = presence;
                }
                if let Some(status) = status {
                    self.status = status;
                }
                Ok(None)
            }
            Command::SetClientActive(active) => {
                self.client_active = active;
                Ok(None)
            }
            _ => Err(UsageError::NotOnline),
        }
    }

    /// The current attempt's connection ended with `reason` (the core's `Disconnected`);
    /// `last` is its client, whose presence, status, SCRAM keys and roster are kept.
    pub fn on_disconnected(
        &mut self,
        reason: &DisconnectReason,
        last: &Client,
        now: Instant,
    ) -> Next {
        self.presence = last.presence();
        self.client_active = last.client_active();
        self.status = last.status().to_string();
        self.scram_cache = last.scram_cache().clone();
        if let Some(features) = last.feature_cache() {
            self.feature_cache = Some(Box::new(features.clone()));
        }
        self.fast_token = last.fast_token().cloned();
        if self.got_roster {
            self.roster = Some(last.roster().clone());
        }
        self.resumption = last.resumption().cloned().map(Box::new);
        if self.closing || *reason == DisconnectReason::LocalClose {
            self.resumption = None;
            return Next::End(EndReason::Session(reason.clone()));
        }
        if let DisconnectReason::TlsFailed { message } = reason {
            return Next::End(EndReason::Tls(message.clone()));
        }
        if let DisconnectReason::SeeOtherHost { host } = reason
            && !self.redirected
        {
            let direct_tls = self.target.as_ref().is_some_and(|t| t.direct_tls);
            if let Some(target) = redirect(host, direct_tls) {
                // Counted, so that a server that keeps redirecting gets slower retries.
                let _ = self.backoff.next_delay(self.entropy.as_mut());
                self.redirect_next = true;
                return Next::Retry(Retry {
                    at: now,
                    delay: Duration::ZERO,
                    attempt: self.backoff.attempt(),
                    target: Some(target),
                });
            }
        }
        if !reason.should_reconnect() || !self.reconnect {
            self.resumption = None;
            return Next::End(EndReason::Session(reason.clone()));
        }
        if self.resumption.is_some() && self.backoff.attempt() == 0 {
            // The server keeps the session for a while only: resume at once.
            let _ = self.backoff.next_delay(self.entropy.as_mut());
            let direct_tls = self.target.as_ref().is_some_and(|t| t.direct_tls);
            let target = self
                .resumption
                .as_deref()
                .and_then(Resumption::location)
                .filter(|_| !self.location_followed)
                .and_then(|location| redirect(location, direct_tls));
            self.location_followed |= target.is_some();
            return Next::Retry(Retry {
                at: now,
                delay: Duration::ZERO,
                attempt: self.backoff.attempt(),
                target,
            });
        }
        self.retry(now)
    }

    /// The current attempt reached no server: `error` says why (the last target's error).
    pub fn on_unreachable(&mut self, error: &str, now: Instant) -> Next {
        if self.closing {
            return Next::End(EndReason::Session(DisconnectReason::LocalClose));
        }
        if self.attempts <= 1 || !self.reconnect {
            return Next::End(EndReason::Unreachable(error.to_string()));
        }
        self.retry(now)
    }

    /// A direct TLS handshake failed (not timed out): the session ends.
    pub fn on_tls_failed(&mut self, message: &str) -> Next {
        Next::End(EndReason::Tls(message.to_string()))
    }

    fn retry(&mut self, now: Instant) -> Next {
        let delay = self.backoff.next_delay(self.entropy.as_mut());
        Next::Retry(Retry {
            at: now + delay,
            delay,
            attempt: self.backoff.attempt(),
            target: None,
        })
    }
}
