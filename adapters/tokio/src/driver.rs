//! The session task: connection attempts and the waits between them. What to do after a
//! connection ends is the supervisor's decision (`herald_io::supervisor`); this file only
//! waits: for DNS, TCP, TLS, the retry time, room in the event channel, and commands.

use std::time::Instant;

use herald_core::{DisconnectReason, OsEntropy};
use herald_io::supervisor::{EndReason, Next, Supervisor};
use herald_io::target::{Target, choose, lookup_srv};
use herald_io::tls::TlsConfigs;
use herald_io::trace::{DRIVER_TARGET, SESSION_TARGET};
use herald_io::{Command, ConnectOptions};
use tokio::sync::mpsc;

use crate::connect::{OpenError, open};
use crate::error::Error;
use crate::events::{Event, Outbox};
use crate::handle::Request;

pub(crate) struct Driver {
    pub(crate) options: ConnectOptions,
    pub(crate) sup: Supervisor,
    pub(crate) requests: mpsc::Receiver<Request>,
    /// False once every handle is gone: `recv` would return `None` at once, for ever. The
    /// session goes on (the application still reads its events).
    pub(crate) requests_open: bool,
    /// True once the application dropped its `Events` and the session was told to close
    /// (the channel's `closed()` is ready for ever after).
    pub(crate) unheard: bool,
    pub(crate) outbox: Outbox,
    /// Built (or shared) by `connect`, used by every attempt.
    tls: TlsConfigs,
}

impl Driver {
    pub(crate) fn new(
        config: herald_core::Config,
        options: ConnectOptions,
        tls: TlsConfigs,
        requests: mpsc::Receiver<Request>,
        events: mpsc::Sender<Box<Event>>,
    ) -> Self {
        Driver {
            tls,
            sup: Supervisor::new(config, &options, OsEntropy),
            options,
            requests,
            requests_open: true,
            unheard: false,
            outbox: Outbox::new(events),
        }
    }

    /// The session task. Not an `async fn`: that would store the driver twice in the
    /// task (its argument and the local moved from it, rust-lang/rust#62958), and the task's
    /// future is what every idle session holds.
    #[allow(clippy::manual_async_fn)] // on purpose: see above
    pub(crate) fn run(mut self) -> impl Future<Output = ()> + Send {
        async move { self.run_here().await }
    }

    async fn run_here(&mut self) {
        let reason = self.attempts().await;
        tracing::info!(target: SESSION_TARGET, "session ended: {reason:?}");
        // No command is taken any more: callers get `Error::Ended` now instead of waiting
        // while the last events wait for room.
        self.requests.close();
        while self.requests.try_recv().is_ok() {}
        self.outbox.push(Event::Ended { reason });
        self.outbox.deliver_all().await;
    }

    async fn attempts(&mut self) -> EndReason {
        let tls = self.tls.clone();
        let mut redirect = None;
        loop {
            if self.outbox.is_unheard() {
                // Nobody reads the events (dropped, or never kept): do not connect.
                return EndReason::Session(DisconnectReason::LocalClose);
            }
            match self.attempt(&tls, redirect.take()).await {
                Next::End(reason) => return reason,
                Next::Retry(retry) => {
                    tracing::info!(target: SESSION_TARGET,
                        "reconnect attempt {} in {:?}", retry.attempt, retry.delay);
                    self.outbox.push(Event::Reconnecting {
                        attempt: retry.attempt,
                        delay: retry.delay,
                    });
                    if let Some(reason) = self.wait_until(retry.at).await {
                        return reason;
                    }
                    redirect = retry.target;
                }
            }
        }
    }

    /// One attempt: a new core client, the targets in order, then the session on the first
    /// that answers.
    async fn attempt(&mut self, tls: &TlsConfigs, redirect: Option<Target>) -> Next {
        // Boxed: moved into the session and the blocking pool by pointer, never copied
        // into the futures that hold it (2.6 KB each).
        let client = match self.sup.next_client(OsEntropy) {
            Ok(client) => Box::new(client),
            Err(e) => return Next::End(EndReason::Config(e.to_string())),
        };
        #[cfg(feature = "websocket")]
        if let Some(raw) = self.options.websocket.clone() {
            return self.attempt_websocket(client, &raw, tls).await;
        }
        let domain = self.sup.domain().to_string();
        let targets = match redirect {
            Some(target) => vec![target],
            None if self.options.server.is_some() => choose(&domain, &self.options, Vec::new()),
            None => choose(&domain, &self.options, lookup_srv(&domain).await),
        };
        let mut last_error = String::from("no server to connect to");
        for target in targets {
            tracing::debug!(target: SESSION_TARGET, "connecting to {}:{} ({})",
                target.host, target.port, if target.direct_tls { "direct TLS" } else { "STARTTLS" });
            self.outbox.push(Event::Connecting {
                host: target.host.clone(),
                port: target.port,
                direct_tls: target.direct_tls,
            });
            // Boxed: TCP and a direct-TLS handshake, live only while connecting.
            match Box::pin(open(&target, &domain, tls, self.sup.step_timeout())).await {
                // Nobody reads the events any more: no login.
                Ok(_) if self.outbox.is_unheard() => {
                    return Next::End(EndReason::Session(DisconnectReason::LocalClose));
                }
                Ok((conn, transport)) => {
                    self.sup.connected(&target);
                    return self.session(client, conn, transport, tls).await;
                }
                Err(OpenError::Tls(message)) => {
                    tracing::debug!(target: SESSION_TARGET, "TLS failed: {message}");
                    return self.sup.on_tls_failed(&message);
                }
                Err(OpenError::Unreachable(error)) => {
                    let label = format!("{}:{}", target.host, target.port);
                    tracing::debug!(target: SESSION_TARGET, "{label}: {error}");
                    last_error = format!("{label}: {error}");
                    self.outbox.push(Event::ConnectFailed {
                        target: label,
                        error,
                    });
                }
            }
        }
        self.sup.on_unreachable(&last_error, Instant::now())
    }

    /// One attempt over a WebSocket: the URL is the only target (a `see-other-host` names
    /// a TCP host, so a redirect is retried on the URL).
    #[cfg(feature = "websocket")]
    async fn attempt_websocket(
        &mut self,
        client: Box<herald_core::Client>,
        raw: &str,
        tls: &TlsConfigs,
    ) -> Next {
        let url = match herald_io::WsUrl::parse(raw) {
            Ok(url) => url,
            Err(e) => return Next::End(EndReason::Config(e.to_string())),
        };
        tracing::debug!(target: SESSION_TARGET, "connecting to {raw}");
        self.outbox.push(Event::Connecting {
            host: url.host.clone(),
            port: url.port,
            direct_tls: url.secure,
        });
        let target = Target {
            host: url.host.clone(),
            port: url.port,
            direct_tls: url.secure,
        };
        // Boxed: TCP, TLS and the upgrade, live only while connecting.
        match Box::pin(crate::websocket::open(
            raw,
            &url,
            tls,
            self.sup.step_timeout(),
        ))
        .await
        {
            Ok(_) if self.outbox.is_unheard() => {
                Next::End(EndReason::Session(DisconnectReason::LocalClose))
            }
            Ok((ws, transport)) => {
                self.sup.connected(&target);
                Box::pin(self.ws_session(client, ws, transport)).await
            }
            Err(OpenError::Tls(message)) => self.sup.on_tls_failed(&message),
            Err(OpenError::Unreachable(error)) => {
                let label = format!("{}:{}", url.host, url.port);
                tracing::debug!(target: SESSION_TARGET, "{raw}: {error}");
                self.outbox.push(Event::ConnectFailed {
                    target: label.clone(),
                    error: error.clone(),
                });
                self.sup
                    .on_unreachable(&format!("{label}: {error}"), Instant::now())
            }
        }
    }

    /// Waits until `at` and until the queued events are delivered, taking commands (the
    /// supervisor's between-connections rules). `Some` when the session ends meanwhile.
    async fn wait_until(&mut self, at: Instant) -> Option<EndReason> {
        let sleep = tokio::time::sleep_until(at.into());
        tokio::pin!(sleep);
        let mut slept = false;
        loop {
            let flushed = self.outbox.flush();
            if slept && flushed {
                return None;
            }
            tracing::trace!(target: DRIVER_TARGET, "waiting to reconnect");
            tokio::select! {
                _ = &mut sleep, if !slept => slept = true,
                _ = self.outbox.room(), if !flushed => {}
                // Nobody reads the events any more: the session closes.
                _ = self.outbox.unheard() => {
                    self.unheard = true;
                    return Some(EndReason::Session(DisconnectReason::LocalClose));
                }
                request = self.requests.recv(), if self.requests_open => match request {
                    // Every handle is gone: the session goes on, its events still read.
                    None => self.requests_open = false,
                    Some(Request::Command { command, reply }) => {
                        match self.sup.apply_between(*command) {
                            Ok(end) => {
                                let _ = reply.send(Ok(()));
                                if end.is_some() {
                                    return end;
                                }
                            }
                            Err(e) => {
                                let _ = reply.send(Err(Error::Usage(e)));
                            }
                        }
                    }
                    Some(Request::Roster { reply }) => {
                        let _ = reply.send(self.sup.roster_for(None).cloned().unwrap_or_default());
                    }
                    Some(Request::FastToken { reply }) => {
                        let _ = reply.send(self.sup.fast_token_for(None).cloned());
                    }
                },
            }
        }
    }

    /// The application dropped its `Events`: the live session closes, once.
    pub(crate) fn on_unheard(&mut self, client: &mut herald_core::Client) {
        self.unheard = true;
        tracing::debug!(target: SESSION_TARGET, "the events receiver was dropped: closing");
        let _ = self.sup.apply_live(client, Instant::now(), Command::Close);
    }

    /// A request during a connection: applied to the live client.
    pub(crate) fn on_request(
        &mut self,
        client: &mut herald_core::Client,
        request: Option<Request>,
    ) {
        let now = Instant::now();
        match request {
            // Every handle is gone: the session goes on, its events still read.
            None => self.requests_open = false,
            Some(Request::Command { command, reply }) => {
                let result = self.sup.apply_live(client, now, *command);
                let _ = reply.send(result.map_err(Error::Usage));
            }
            Some(Request::Roster { reply }) => {
                let roster = self.sup.roster_for(Some(client)).cloned();
                let _ = reply.send(roster.unwrap_or_default());
            }
            Some(Request::FastToken { reply }) => {
                let _ = reply.send(self.sup.fast_token_for(Some(client)).cloned());
            }
        }
    }
}
