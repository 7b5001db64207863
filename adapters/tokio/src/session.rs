//! One connection's run loop: the core's drain rule (transmit, actions, events, timeout),
//! then one wait for whichever comes first: input, a command, the core's timer, or room in
//! the event channel.

use std::time::Instant;

use herald_core::{Action, Client, DisconnectReason, Event as CoreEvent, SessionState, Transport};
use herald_io::supervisor::{EndReason, Next};
use herald_io::tls::{TlsConfigs, handshake_failure};
use herald_io::trace::{DRIVER_TARGET, SESSION_TARGET, XmlTrace};
use tokio::io::AsyncWriteExt;

use crate::connect::Conn;
use crate::driver::Driver;
use crate::events::Event;

/// How far the core's events got.
pub(crate) enum Delivery {
    /// All handed on.
    Drained,
    /// The channel is full: stop reading the socket until it has room.
    Blocked,
    /// The connection ended (`Disconnected` is on its way to the application).
    Ended(DisconnectReason),
}

/// The most one read takes from the socket: a TLS record's plaintext.
const READ_CHUNK: usize = 16 * 1024;

/// What ended one wait.
enum Wake {
    Readable(std::io::Result<()>),
    Request(Option<crate::handle::Request>),
    Timer,
    Room,
    /// The application dropped its `Events`.
    Unheard,
}

impl Driver {
    /// Runs one connection over `conn` until the core reports `Disconnected`; returns the
    /// supervisor's decision.
    pub(crate) async fn session(
        &mut self,
        mut client: Box<Client>,
        mut conn: Conn,
        transport: Transport,
        tls: &TlsConfigs,
    ) -> Next {
        if let Err(e) = client.connect(Instant::now(), transport) {
            // A fresh client always accepts connect; say so plainly if that ever changes.
            return Next::End(EndReason::Config(e.to_string()));
        }
        let mut trace = XmlTrace::new(self.options.trace);
        let mut out = Vec::new();
        // No read buffer is kept: one is made when the socket has bytes (an idle session
        // holds none), and after a read the next tries again at once, since TLS may hold
        // decrypted bytes the socket no longer signals.
        let mut more = false;
        let sleep = tokio::time::sleep(std::time::Duration::from_secs(3600));
        tokio::pin!(sleep);
        loop {
            // 1. Transmit.
            if client.poll_transmit(&mut out) > 0 {
                trace.sent(&out);
                let written = conn.write_all(&out).await;
                // No write buffer is kept either: the core swaps its queue with this empty
                // one on the next transmit, so an idle session holds neither (one
                // allocation per write instead of none).
                out = Vec::new();
                if written.is_err() {
                    client.handle_eof(Instant::now());
                }
            }
            // 2. Actions. After a handshake the core has more to say: drain again.
            let mut handshook = false;
            while let Some(action) = client.poll_action() {
                match action {
                    Action::StartTls { server_name } => {
                        self.start_tls(&mut client, &mut conn, &server_name, tls)
                            .await;
                        trace.reset();
                        handshook = true;
                    }
                    Action::CloseTransport => {
                        let _ = conn.shutdown().await;
                        conn = Conn::Gone;
                    }
                    _ => {}
                }
            }
            if handshook {
                continue;
            }
            // 3. Events, as far as the channel has room.
            let blocked = match self.deliver(&mut client) {
                Delivery::Drained => false,
                Delivery::Blocked => true,
                Delivery::Ended(reason) => {
                    let _ = conn.shutdown().await;
                    return self.sup.on_disconnected(&reason, &client, Instant::now());
                }
            };
            // 4. Wait.
            let deadline = client.poll_timeout();
            if let Some(at) = deadline {
                sleep.as_mut().reset(at.into());
            }
            tracing::trace!(target: DRIVER_TARGET, blocked, "waiting");
            let wake = tokio::select! {
                _ = self.outbox.room(), if blocked => Wake::Room,
                ready = async { if more { Ok(()) } else { conn.readable().await } }, if !blocked => {
                    Wake::Readable(ready)
                }
                request = self.requests.recv(), if self.requests_open => Wake::Request(request),
                _ = self.outbox.unheard(), if !self.unheard => Wake::Unheard,
                _ = &mut sleep, if deadline.is_some() => Wake::Timer,
            };
            match wake {
                Wake::Room => {}
                Wake::Readable(Err(_)) => client.handle_eof(Instant::now()),
                Wake::Readable(Ok(())) => match conn.read_now(READ_CHUNK) {
                    None => more = false,
                    Some(Err(_)) => client.handle_eof(Instant::now()),
                    Some(Ok(buf)) if buf.is_empty() => client.handle_eof(Instant::now()),
                    Some(Ok(buf)) => {
                        more = true;
                        trace.received(&buf);
                        client = match feed(client, &buf).await {
                            Some(client) => client,
                            None => {
                                return Next::End(EndReason::Session(DisconnectReason::LocalClose));
                            }
                        };
                    }
                },
                Wake::Request(request) => self.on_request(&mut client, request),
                Wake::Unheard => self.on_unheard(&mut client),
                Wake::Timer => client.handle_timeout(Instant::now()),
            }
        }
    }

    /// Moves the core's events to the application while the channel has room.
    pub(crate) fn deliver(&mut self, client: &mut Client) -> Delivery {
        loop {
            if !self.outbox.flush() || !self.outbox.has_room() {
                return Delivery::Blocked;
            }
            let Some(event) = client.poll_event() else {
                return Delivery::Drained;
            };
            self.sup.observe(&event);
            let end = match &event {
                CoreEvent::Disconnected { reason } => Some(reason.clone()),
                _ => None,
            };
            // There is room (checked above, and only this task sends): this goes out now.
            self.outbox.push(Event::Core(event));
            self.outbox.flush();
            if let Some(reason) = end {
                return Delivery::Ended(reason);
            }
        }
    }

    /// The STARTTLS handshake, bounded by the core's TLS-handshake timer.
    async fn start_tls(
        &mut self,
        client: &mut Client,
        conn: &mut Conn,
        server_name: &str,
        tls: &TlsConfigs,
    ) {
        let deadline = self.sup.starttls_deadline(client, Instant::now());
        let plain = std::mem::replace(conn, Conn::Gone);
        // Boxed: the handshake's state (a rustls connection inline) lives only while it
        // runs, instead of widening every idle session's task by its size.
        let handshake = Box::pin(plain.upgrade(tls.starttls.clone(), server_name));
        match tokio::time::timeout_at(deadline.into(), handshake).await {
            Ok(Ok(upgraded)) => {
                *conn = upgraded;
                tracing::debug!(target: SESSION_TARGET, "{}", conn.describe());
                // The core asked for this handshake, so it waits for exactly this call.
                let _ = client.tls_established(Instant::now(), conn.channel_binding());
            }
            Ok(Err(e)) => match handshake_failure(&e) {
                Some(message) => {
                    tracing::debug!(target: SESSION_TARGET, "TLS failed: {message}");
                    let _ = client.tls_failed(Instant::now(), message);
                }
                None => {
                    tracing::debug!(target: SESSION_TARGET, "TLS handshake: {e}");
                    client.handle_eof(Instant::now());
                }
            },
            Err(_) => {
                // The core's own timer is due: it ends the session with a timeout.
                client.handle_timeout(Instant::now().max(deadline));
                if !client.is_closed() {
                    let _ = client.tls_failed(Instant::now(), "the TLS handshake timed out");
                }
            }
        }
    }
}

/// Hands `data` to the core. While it authenticates, the input may make it derive the
/// SCRAM key (PBKDF2, up to `Config::scram_iterations.max` rounds): that runs on tokio's
/// blocking pool, the client moved there and back, so no runtime worker stalls.
/// `spawn_blocking` rather than `block_in_place`, which panics on a current-thread
/// runtime. `None` when the runtime is shutting down.
pub(crate) async fn feed(mut client: Box<Client>, data: &[u8]) -> Option<Box<Client>> {
    if !matches!(client.state(), SessionState::Authenticating { .. }) {
        client.handle_input(Instant::now(), data);
        return Some(client);
    }
    let data = data.to_vec();
    let work = tokio::task::spawn_blocking(move || {
        tracing::trace!(name: "authenticating_off_the_runtime", target: DRIVER_TARGET, "input");
        client.handle_input(Instant::now(), &data);
        client
    });
    match work.await {
        Ok(client) => Some(client),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => None,
    }
}
