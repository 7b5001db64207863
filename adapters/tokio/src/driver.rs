//! The session task: owns the core and the socket, follows the drain rule, reconnects.

use std::time::{Duration, Instant};

use herald_core::{
    Action, Client, Config, DisconnectReason, Event as CoreEvent, OsEntropy, Presence, ScramCache,
    Transport, UsageError,
};
use herald_io::backoff::Backoff;
use herald_io::target::{Target, parse_host_port};
use herald_io::trace::Redactor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::connect::{Conn, targets};
use crate::handle::{Command, EndReason, Event};
use crate::options::{ConnectOptions, Error};

/// How one connection ended.
enum Outcome {
    /// Stop for good.
    End(EndReason),
    /// Try again after a backoff delay.
    Retry,
    /// Try again at once (a `see-other-host` redirect).
    RetryNow,
}

pub(crate) struct Driver {
    config: Config,
    options: ConnectOptions,
    commands: mpsc::Receiver<Command>,
    events: mpsc::UnboundedSender<Event>,
    presence: Presence,
    status: String,
    backoff: Backoff,
    entropy: OsEntropy,
    redirect: Option<Target>,
    redirected: bool,
    closing: bool,
    scram_cache: ScramCache,
}

impl Driver {
    pub(crate) fn new(
        config: Config,
        options: ConnectOptions,
        commands: mpsc::Receiver<Command>,
        events: mpsc::UnboundedSender<Event>,
    ) -> Self {
        Driver {
            presence: config.presence,
            status: config.status.clone(),
            backoff: Backoff::new(options.reconnect_initial, options.reconnect_max),
            config,
            options,
            commands,
            events,
            entropy: OsEntropy,
            redirect: None,
            redirected: false,
            closing: false,
            scram_cache: ScramCache::default(),
        }
    }

    fn emit(&self, event: Event) {
        // A dropped receiver only means nobody listens; the session goes on.
        let _ = self.events.send(event);
    }

    pub(crate) async fn run(mut self) {
        let reason = loop {
            match self.one_connection().await {
                Outcome::End(reason) => break reason,
                Outcome::RetryNow => continue,
                Outcome::Retry if !self.options.reconnect => {
                    break EndReason::Unreachable("the session ended and reconnect is off".into());
                }
                Outcome::Retry => {
                    let delay = self.backoff.next_delay(&mut self.entropy);
                    self.emit(Event::Reconnecting {
                        attempt: self.backoff.attempt(),
                        delay,
                    });
                    if let Some(reason) = self.wait_between_connections(delay).await {
                        break reason;
                    }
                }
            }
        };
        self.emit(Event::Ended { reason });
    }

    /// Sleeps `delay` while still taking commands; a close ends the task.
    async fn wait_between_connections(&mut self, delay: Duration) -> Option<EndReason> {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return None,
                command = self.commands.recv() => match command {
                    None => return Some(EndReason::Session(DisconnectReason::LocalClose)),
                    Some(Command::Close { reply }) => {
                        let _ = reply.send(Ok(()));
                        return Some(EndReason::Session(DisconnectReason::LocalClose));
                    }
                    Some(Command::ChangePresence { presence, status, reply }) => {
                        let result = self.store_presence(presence, status);
                        let _ = reply.send(result);
                    }
                    Some(Command::Send { reply, .. }) | Some(Command::Call { reply, .. }) => {
                        let _ = reply.send(Err(Error::NotConnected));
                    }
                },
            }
        }
    }

    fn store_presence(
        &mut self,
        presence: Option<Presence>,
        status: Option<String>,
    ) -> Result<(), Error> {
        if let Some(status) = &status {
            herald_core::check_text(status)?;
        }
        if let Some(p) = presence {
            self.presence = p;
        }
        if let Some(s) = status {
            self.status = s;
        }
        Ok(())
    }

    async fn one_connection(&mut self) -> Outcome {
        let domain = self.config.jid.domain().as_str().to_string();
        let candidates = match self.redirect.take() {
            Some(target) => vec![target],
            None => targets(&domain, &self.options).await,
        };
        let needs_alpn = candidates.iter().any(|t| t.direct_tls);
        let tls_config =
            match herald_io::tls::client_config(self.options.ca_file.as_deref(), needs_alpn) {
                Ok(c) => c,
                Err(e) => return Outcome::End(EndReason::Config(e.to_string())),
            };
        let plain_config =
            match herald_io::tls::client_config(self.options.ca_file.as_deref(), false) {
                Ok(c) => c,
                Err(e) => return Outcome::End(EndReason::Config(e.to_string())),
            };
        for target in candidates {
            self.emit(Event::Connecting {
                host: target.host.clone(),
                port: target.port,
                direct_tls: target.direct_tls,
            });
            let label = format!("{}:{}", target.host, target.port);
            let connect = TcpStream::connect((target.host.as_str(), target.port));
            let tcp = match tokio::time::timeout(self.options.connect_timeout, connect).await {
                Ok(Ok(tcp)) => tcp,
                Ok(Err(e)) => {
                    self.emit(Event::ConnectFailed {
                        target: label,
                        error: e.to_string(),
                    });
                    continue;
                }
                Err(_) => {
                    self.emit(Event::ConnectFailed {
                        target: label,
                        error: "timed out".into(),
                    });
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let mut conn = Conn::Plain(tcp);
            let mut transport = Transport::Plain;
            if target.direct_tls {
                let handshake = conn.upgrade(tls_config.clone(), &domain);
                conn = match tokio::time::timeout(self.options.connect_timeout, handshake).await {
                    Ok(Ok(conn)) => conn,
                    Ok(Err(e)) => return Outcome::End(EndReason::Tls(e.to_string())),
                    Err(_) => {
                        self.emit(Event::ConnectFailed {
                            target: label,
                            error: "TLS handshake timed out".into(),
                        });
                        continue;
                    }
                };
                transport = Transport::DirectTls(conn.channel_binding());
            }
            return self.session(conn, transport, plain_config).await;
        }
        Outcome::Retry
    }

    /// Runs one session over `conn` until the core reports `Disconnected`.
    async fn session(
        &mut self,
        mut conn: Conn,
        transport: Transport,
        tls_config: std::sync::Arc<tokio_rustls::rustls::ClientConfig>,
    ) -> Outcome {
        let mut config = self.config.clone();
        config.presence = self.presence;
        config.status = self.status.clone();
        // SCRAM keys of the last login: a reconnect skips PBKDF2.
        config.scram_cache = self.scram_cache.clone();
        let mut client = match Client::new(config, OsEntropy) {
            Ok(c) => c,
            Err(e) => return Outcome::End(EndReason::Config(e.to_string())),
        };
        if let Err(e) = client.connect(Instant::now(), transport) {
            return Outcome::End(EndReason::Config(e.to_string()));
        }
        if self.closing {
            let _ = client.close(Instant::now());
        }
        let mut out = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        let tracing_xml = tracing::enabled!(target: "herald::xml", tracing::Level::TRACE);
        let (mut sent_trace, mut received_trace) = (Redactor::default(), Redactor::default());
        let sleep = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(sleep);
        loop {
            // Drain: transmit, then actions, then events (the core's drain rule).
            if client.poll_transmit(&mut out) > 0 {
                if tracing_xml {
                    tracing::trace!(target: "herald::xml", "SEND {}", sent_trace.feed(&out));
                }
                let written = conn.write_all(&out).await;
                out.clear();
                if written.is_err() {
                    client.handle_eof(Instant::now());
                }
            }
            let mut again = false;
            while let Some(action) = client.poll_action() {
                match action {
                    Action::StartTls { server_name } => {
                        let plain = std::mem::replace(&mut conn, Conn::Gone);
                        let handshake = plain.upgrade(tls_config.clone(), &server_name);
                        match tokio::time::timeout(self.options.connect_timeout, handshake).await {
                            Ok(Ok(upgraded)) => {
                                conn = upgraded;
                                let _ =
                                    client.tls_established(Instant::now(), conn.channel_binding());
                            }
                            Ok(Err(e)) => {
                                let _ = client.tls_failed(Instant::now(), e.to_string());
                            }
                            Err(_) => {
                                let _ =
                                    client.tls_failed(Instant::now(), "TLS handshake timed out");
                            }
                        }
                        again = true;
                    }
                    Action::CloseTransport => {
                        let _ = conn.shutdown().await;
                        conn = Conn::Gone;
                    }
                    _ => {}
                }
            }
            while let Some(event) = client.poll_event() {
                if let CoreEvent::Online { .. } = &event {
                    self.backoff.reset();
                }
                let end = match &event {
                    CoreEvent::Disconnected { reason } => Some(reason.clone()),
                    _ => None,
                };
                self.emit(Event::Core(event));
                if let Some(reason) = end {
                    self.presence = client.presence();
                    self.status = client.status().to_string();
                    self.scram_cache = client.scram_cache().clone();
                    return self.after_disconnect(reason);
                }
            }
            if again {
                continue;
            }
            let deadline = client.poll_timeout();
            if let Some(at) = deadline {
                sleep.as_mut().reset(tokio::time::Instant::from_std(at));
            }
            tokio::select! {
                read = conn.read(&mut buf) => match read {
                    Ok(0) | Err(_) => client.handle_eof(Instant::now()),
                    Ok(n) => {
                        if tracing_xml {
                            tracing::trace!(target: "herald::xml", "RECV {}", received_trace.feed(&buf[..n]));
                        }
                        client.handle_input(Instant::now(), &buf[..n]);
                    }
                },
                command = self.commands.recv() => self.apply(&mut client, command),
                _ = &mut sleep, if deadline.is_some() => client.handle_timeout(Instant::now()),
            }
        }
    }

    fn apply(&mut self, client: &mut Client, command: Option<Command>) {
        let now = Instant::now();
        match command {
            // Every handle is gone: nobody can close later, so close now.
            None => {
                self.closing = true;
                let _ = client.close(now);
            }
            Some(Command::Close { reply }) => {
                self.closing = true;
                let result = match client.close(now) {
                    Ok(()) | Err(UsageError::AlreadyClosing) => Ok(()),
                    Err(e) => Err(Error::Usage(e)),
                };
                let _ = reply.send(result);
            }
            Some(Command::ChangePresence {
                presence,
                status,
                reply,
            }) => {
                let presence = presence.unwrap_or(client.presence());
                let status = status.unwrap_or_else(|| client.status().to_string());
                let result = client
                    .change_presence(now, presence, &status)
                    .map_err(Error::from);
                if result.is_ok() {
                    self.presence = presence;
                    self.status = status;
                }
                let _ = reply.send(result);
            }
            Some(Command::Send { stanza, reply }) => {
                let _ = reply.send(client.send(now, &stanza).map_err(Error::from));
            }
            Some(Command::Call { call, reply }) => {
                let _ = reply.send(call(client, now).map_err(Error::from));
            }
        }
    }

    fn after_disconnect(&mut self, reason: DisconnectReason) -> Outcome {
        if self.closing || reason == DisconnectReason::LocalClose {
            return Outcome::End(EndReason::Session(reason));
        }
        if let DisconnectReason::SeeOtherHost { host } = &reason
            && !self.redirected
            && let Some((host, port)) = parse_host_port(host, false)
        {
            self.redirected = true;
            self.redirect = Some(Target {
                host,
                port,
                direct_tls: false,
            });
            return Outcome::RetryNow;
        }
        if let DisconnectReason::TlsFailed { message } = &reason {
            return Outcome::End(EndReason::Tls(message.clone()));
        }
        if reason.should_reconnect() && self.options.reconnect {
            Outcome::Retry
        } else {
            Outcome::End(EndReason::Session(reason))
        }
    }
}
