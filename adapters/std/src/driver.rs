//! The run loop behind [`Session::pump`]: drain the core after every input and command
//! (transmit, then actions, then events), wait for input until the core's next timeout,
//! the STARTTLS handshake, and the waits between connections. What happens between
//! connections is the supervisor's decision (`herald_io::supervisor`).

use std::time::{Duration, Instant};

use herald_core::{Action, DisconnectReason, Event as CoreEvent, OsEntropy};
use herald_io::supervisor::{EndReason, Next};
use herald_io::target::Target;
use herald_io::tls::channel_binding;
use herald_io::trace::{DRIVER_TARGET, SESSION_TARGET};

use crate::Event;
use crate::session::{Phase, Session};
use crate::tls::{self, HandshakeError};
use crate::transport::{ReadOutcome, Transport};

impl Session {
    /// One wait of the loop, until `until` at the latest.
    pub(crate) fn step(&mut self, until: Instant) {
        tracing::trace!(target: DRIVER_TARGET, "waiting");
        match &self.phase {
            Phase::Live => self.wait_for_input(until),
            Phase::Waiting(retry) => {
                let now = Instant::now();
                if now >= retry.at {
                    let target = retry.target.clone();
                    self.reconnect(target);
                } else {
                    std::thread::sleep(retry.at.min(until).saturating_duration_since(now));
                }
            }
            Phase::Ended(_) => {}
        }
    }

    /// Reads until `until` or the core's next timeout, feeds the core, drains it.
    fn wait_for_input(&mut self, until: Instant) {
        let until = self.client.poll_timeout().map_or(until, |t| t.min(until));
        let timeout = until.saturating_duration_since(Instant::now());
        let outcome = match &mut self.transport {
            Some(transport) => transport.read(&mut self.read_buf, timeout),
            None => {
                std::thread::sleep(timeout);
                Ok(ReadOutcome::TimedOut)
            }
        };
        let now = Instant::now();
        match outcome {
            Ok(ReadOutcome::Data(n)) => {
                self.trace.received(&self.read_buf[..n]);
                self.client.handle_input(now, &self.read_buf[..n]);
            }
            Ok(ReadOutcome::TimedOut) => {}
            Ok(ReadOutcome::Eof) => {
                tracing::debug!(target: SESSION_TARGET, "the server closed the connection");
                self.drop_transport();
                self.client.handle_eof(now);
            }
            Err(e) => {
                tracing::debug!(target: SESSION_TARGET, "read failed: {e}");
                self.drop_transport();
                self.client.handle_eof(now);
            }
        }
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_timeout(now);
        }
        self.drain();
    }

    /// Drains the core: transmit, then actions, then events, until it has nothing more.
    pub(crate) fn drain(&mut self) {
        let mut out = Vec::new();
        loop {
            if self.client.poll_transmit(&mut out) > 0 {
                self.trace.sent(&out);
                let written = match &mut self.transport {
                    Some(transport) => transport.write_all(&out),
                    None => Ok(()),
                };
                out.clear();
                if let Err(e) = written {
                    tracing::debug!(target: SESSION_TARGET, "write failed: {e}");
                    self.drop_transport();
                    self.client.handle_eof(Instant::now());
                    continue;
                }
            }
            if let Some(action) = self.client.poll_action() {
                match action {
                    Action::StartTls { server_name } => self.start_tls(&server_name),
                    Action::CloseTransport => self.drop_transport(),
                    _ => {}
                }
                continue;
            }
            while let Some(event) = self.client.poll_event() {
                self.on_core_event(event);
            }
            return;
        }
    }

    fn drop_transport(&mut self) {
        if let Some(transport) = self.transport.take() {
            transport.shutdown();
        }
    }

    /// The STARTTLS handshake on the plain socket, bounded by the core's TLS-handshake
    /// timer (the supervisor's rule, as in `herald-tokio`).
    fn start_tls(&mut self, server_name: &str) {
        let now = Instant::now();
        let Some(Transport::Plain(mut tcp)) = self.transport.take() else {
            let _ = self.client.tls_failed(
                now,
                "STARTTLS requested on a connection that is not plain TCP",
            );
            return;
        };
        let deadline = self.sup.starttls_deadline(&self.client, now);
        let budget = deadline
            .saturating_duration_since(now)
            .max(Duration::from_millis(1));
        if let Err(e) = tcp.set_read_timeout(Some(budget)) {
            tracing::warn!(target: SESSION_TARGET, "cannot bound the TLS handshake: {e}");
        }
        match tls::handshake(self.tls.starttls.clone(), server_name, &mut tcp) {
            Ok(conn) => {
                tracing::debug!(target: SESSION_TARGET, "{}", tls::describe(&conn));
                self.trace.reset();
                let binding = channel_binding(&conn);
                self.transport = Some(Transport::Tls {
                    conn: Box::new(conn),
                    tcp,
                });
                // The core asked for this handshake, so it is waiting for exactly this call.
                let _ = self.client.tls_established(Instant::now(), Some(binding));
            }
            Err(HandshakeError::Tls(message)) => {
                tracing::debug!(target: SESSION_TARGET, "TLS failed: {message}");
                let _ = self.client.tls_failed(Instant::now(), message);
            }
            Err(HandshakeError::TimedOut) => {
                // The core's own timer is due: it ends the session with a timeout.
                self.client.handle_timeout(Instant::now().max(deadline));
                if !self.client.is_closed() {
                    let _ = self
                        .client
                        .tls_failed(Instant::now(), "the TLS handshake timed out");
                }
            }
            Err(HandshakeError::Io(e)) => {
                tracing::debug!(target: SESSION_TARGET, "TLS handshake: {e}");
                self.client.handle_eof(Instant::now());
            }
        }
    }

    fn on_core_event(&mut self, event: CoreEvent) {
        self.sup.observe(&event);
        let CoreEvent::Disconnected { reason } = &event else {
            self.pending.push(Event::Core(event));
            return;
        };
        let reason = reason.clone();
        self.drop_transport();
        self.pending.push(Event::Core(event));
        let next = self
            .sup
            .on_disconnected(&reason, &self.client, Instant::now());
        self.last_reason = Some(reason);
        self.follow(next, true);
    }

    /// Carries out the supervisor's decision. `reported`: the core's `Disconnected` has
    /// already told the application why the last connection ended.
    pub(crate) fn follow(&mut self, next: Next, reported: bool) {
        match next {
            Next::Retry(retry) => {
                tracing::info!(target: SESSION_TARGET,
                    "reconnect attempt {} in {:?}", retry.attempt, retry.delay);
                self.pending.push(Event::Reconnecting {
                    attempt: retry.attempt,
                    delay: retry.delay,
                });
                self.phase = Phase::Waiting(retry);
            }
            Next::End(end) => self.finish(end, reported),
        }
    }

    /// Ends the session for good. Unless the core reported it, the final `Disconnected` is
    /// made here, in the core's form.
    pub(crate) fn finish(&mut self, end: EndReason, reported: bool) {
        tracing::info!(target: SESSION_TARGET, "session ended: {end:?}");
        let reason = match end {
            EndReason::Session(reason) => reason,
            EndReason::Tls(message) => DisconnectReason::TlsFailed { message },
            // After a retry only (a first attempt fails in `Session::connect`): the end of
            // the connection that led to the retry is the end of the session.
            other => {
                tracing::warn!(target: SESSION_TARGET, "cannot connect again: {other:?}");
                self.last_reason.clone().unwrap_or(DisconnectReason::Eof)
            }
        };
        if !reported {
            self.pending.push(Event::Core(CoreEvent::Disconnected {
                reason: reason.clone(),
            }));
        }
        self.phase = Phase::Ended(reason);
    }

    /// A new core client (from the supervisor: current presence and status, caches) and a
    /// new connection.
    fn reconnect(&mut self, redirect: Option<Target>) {
        self.drop_transport();
        match self.sup.next_client(OsEntropy) {
            Ok(client) => self.client = client,
            Err(e) => return self.finish(EndReason::Config(e.to_string()), false),
        }
        self.phase = Phase::Live;
        let targets = self.targets(redirect);
        match self.open_any(targets) {
            Ok(()) => self.drain(),
            Err(failure) => {
                self.drop_transport();
                let next = self.on_open_failure(&failure);
                self.follow(next, false);
            }
        }
    }
}
