//! The run loop behind [`Session::pump`]: connect, drain the core after every input and
//! command (transmit, then actions, then events), wait for input until the core's next
//! timeout, the STARTTLS handshake, and reconnects.

use std::time::{Duration, Instant};

use herald_core::{Action, DisconnectReason, Event as CoreEvent};
use herald_io::target::{Target, parse_host_port};
use herald_io::tls::channel_binding;

use crate::Event;
use crate::error::Error;
use crate::options::TlsMode;
use crate::session::{Phase, Session};
use crate::tls::{self, HandshakeError};
use crate::transport::{ReadOutcome, Transport};

impl Session {
    /// One wait of the loop, until `until` at the latest.
    pub(crate) fn step(&mut self, until: Instant) {
        match self.phase {
            Phase::Live => self.wait_for_input(until),
            Phase::Backoff { at } => {
                let now = Instant::now();
                if now >= at {
                    self.reconnect();
                } else {
                    std::thread::sleep(at.min(until).saturating_duration_since(now));
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
                self.trace.note("the server closed the connection");
                self.drop_transport();
                self.client.handle_eof(now);
            }
            Err(e) => {
                self.trace.note(&format!("read failed: {e}"));
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
                    self.trace.note(&format!("write failed: {e}"));
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

    /// The STARTTLS handshake on the plain socket, bounded by the core's step timeout.
    fn start_tls(&mut self, server_name: &str) {
        let now = Instant::now();
        let Some(Transport::Plain(mut tcp)) = self.transport.take() else {
            let _ = self.client.tls_failed(
                now,
                "STARTTLS requested on a connection that is not plain TCP",
            );
            return;
        };
        let budget = self
            .client
            .poll_timeout()
            .map_or(self.config.timeouts.step, |t| {
                t.saturating_duration_since(now)
            })
            .max(Duration::from_millis(1));
        if let Err(e) = tcp.set_read_timeout(Some(budget)) {
            self.trace
                .note(&format!("cannot set the handshake timeout: {e}"));
        }
        match tls::handshake(self.tls.starttls.clone(), server_name, &mut tcp) {
            Ok(conn) => {
                self.trace.note(&tls::describe(&conn));
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
                self.trace.note(&format!("TLS failed: {message}"));
                let _ = self.client.tls_failed(Instant::now(), message);
            }
            Err(HandshakeError::TimedOut) => {
                let now = Instant::now();
                self.client.handle_timeout(now);
                if !self.client.is_closed() {
                    let _ = self.client.tls_failed(now, "the TLS handshake timed out");
                }
            }
            Err(HandshakeError::Io(e)) => {
                self.trace.note(&format!("TLS handshake: {e}"));
                self.client.handle_eof(Instant::now());
            }
        }
    }

    fn on_core_event(&mut self, event: CoreEvent) {
        match &event {
            CoreEvent::Online { .. } => self.backoff.reset(),
            CoreEvent::Disconnected { reason } => {
                let reason = reason.clone();
                self.drop_transport();
                self.pending.push(Event::Core(event));
                self.after_disconnect(reason);
                return;
            }
            _ => {}
        }
        self.pending.push(Event::Core(event));
    }

    /// Reconnect, or end for good.
    fn after_disconnect(&mut self, reason: DisconnectReason) {
        if self.close_requested || !self.options.reconnect || !reason.should_reconnect() {
            self.end(reason);
            return;
        }
        if let DisconnectReason::SeeOtherHost { host } = &reason
            && !self.redirected
        {
            let direct_tls = self.options.tls == TlsMode::Direct;
            self.redirect = parse_host_port(host, direct_tls).map(|(host, port)| Target {
                host,
                port,
                direct_tls,
            });
        }
        self.schedule_reconnect();
    }

    fn schedule_reconnect(&mut self) {
        // The backoff counts every attempt since the last login, redirects included, so a
        // server that keeps redirecting still gets slower retries.
        let backoff_delay = self.backoff.next_delay(&mut self.entropy);
        let delay = if self.redirect.is_some() {
            Duration::ZERO
        } else {
            backoff_delay
        };
        let attempt = self.backoff.attempt();
        self.trace
            .note(&format!("reconnect attempt {attempt} in {delay:?}"));
        self.phase = Phase::Backoff {
            at: Instant::now() + delay,
        };
        self.pending.push(Event::Reconnecting { attempt, delay });
    }

    /// Ends the session for good, after the core reported why.
    fn end(&mut self, reason: DisconnectReason) {
        self.phase = Phase::Ended(reason);
    }

    /// Ends the session for good when no live core client can report it: the event is
    /// made here, in the core's form.
    pub(crate) fn end_unreported(&mut self, reason: DisconnectReason) {
        self.pending.push(Event::Core(CoreEvent::Disconnected {
            reason: reason.clone(),
        }));
        self.phase = Phase::Ended(reason);
    }

    /// A new core client (with the current presence and status) and a new connection.
    fn reconnect(&mut self) {
        let redirect = self.redirect.take();
        self.redirected = redirect.is_some();
        let targets = match redirect {
            Some(target) => vec![target],
            None => self.targets(),
        };
        self.client = self.new_client();
        self.phase = Phase::Live;
        match self.open_any(targets) {
            Ok(()) => self.drain(),
            Err(Error::Tls(message)) => {
                self.end_unreported(DisconnectReason::TlsFailed { message });
            }
            Err(e) => {
                self.trace.note(&format!("connect failed: {e}"));
                self.drop_transport();
                self.schedule_reconnect();
            }
        }
    }
}
