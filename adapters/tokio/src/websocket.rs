//! XMPP over WebSocket (RFC 7395): TCP, TLS for `wss:` (the same rustls configuration and
//! failure rules as a TCP connection), the HTTP upgrade asking for the `xmpp`
//! sub-protocol, then one run loop where every core message is one WebSocket text message
//! and every received message goes to the core whole.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use herald_core::{Action, Client, DisconnectReason, Transport};
use herald_io::WsUrl;
use herald_io::supervisor::{EndReason, Next};
use herald_io::tls::TlsConfigs;
use herald_io::trace::{DRIVER_TARGET, SESSION_TARGET, XmlTrace};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::connect::{Conn, OpenError, handshake, tcp};
use crate::driver::Driver;
use crate::session::{Delivery, feed};

/// The WebSocket sub-protocol of RFC 7395.
const PROTOCOL: &str = "xmpp";

pub(crate) type Ws = WebSocketStream<Conn>;

/// TCP to the URL's host (bounded by `step`), TLS for `wss:` (bounded by `step`), the
/// upgrade (bounded by `step`). Returns the socket and what to tell the core.
pub(crate) async fn open(
    raw: &str,
    url: &WsUrl,
    tls: &TlsConfigs,
    step: Duration,
) -> Result<(Ws, Transport), OpenError> {
    let mut conn = tcp(&url.host, url.port, step).await?;
    if url.secure {
        conn = handshake(conn, tls.starttls.clone(), &url.host, step).await?;
    }
    let mut request = raw
        .into_client_request()
        .map_err(|e| OpenError::Unreachable(format!("WebSocket request: {e}")))?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(PROTOCOL));
    let handshake = tokio_tungstenite::client_async(request, conn);
    let (ws, response) = match tokio::time::timeout(step, handshake).await {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => return Err(OpenError::Unreachable(format!("WebSocket upgrade: {e}"))),
        Err(_) => {
            return Err(OpenError::Unreachable(
                "the WebSocket upgrade timed out".into(),
            ));
        }
    };
    // RFC 7395 section 3.1: a server that did not agree to `xmpp` does not speak it.
    let agreed = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(PROTOCOL.as_bytes()));
    if !agreed {
        return Err(OpenError::Unreachable(
            "the server did not accept the xmpp WebSocket sub-protocol".into(),
        ));
    }
    Ok((ws, Transport::WebSocket { secure: url.secure }))
}

/// What ended one wait.
enum Wake {
    Message(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
    Request(Option<crate::handle::Request>),
    Timer,
    Room,
    Unheard,
}

impl Driver {
    /// Runs one WebSocket connection until the core reports `Disconnected`; returns the
    /// supervisor's decision. The same drain rule and waits as the TCP loop.
    pub(crate) async fn ws_session(
        &mut self,
        mut client: Box<Client>,
        mut ws: Ws,
        transport: Transport,
    ) -> Next {
        if let Err(e) = client.connect(Instant::now(), transport) {
            return Next::End(EndReason::Config(e.to_string()));
        }
        let mut trace = XmlTrace::new(self.options.trace);
        let mut open = true;
        let mut out = Vec::new();
        let sleep = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(sleep);
        loop {
            // 1. Transmit: one message per core message.
            let mut wrote = false;
            while client.poll_message(&mut out) > 0 {
                trace.sent(&out);
                let text = String::from_utf8_lossy(&out).into_owned();
                out.clear();
                if open && ws.feed(Message::text(text)).await.is_err() {
                    open = false;
                    client.handle_eof(Instant::now());
                }
                wrote = true;
            }
            if wrote && open && ws.flush().await.is_err() {
                open = false;
                client.handle_eof(Instant::now());
            }
            // 2. Actions: only the close can come on a WebSocket.
            while let Some(action) = client.poll_action() {
                if matches!(action, Action::CloseTransport) && open {
                    let _ = ws.close(None).await;
                    open = false;
                }
            }
            // 3. Events.
            let blocked = match self.deliver(&mut client) {
                Delivery::Drained => false,
                Delivery::Blocked => true,
                Delivery::Ended(reason) => {
                    if open {
                        let _ = ws.close(None).await;
                    }
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
                message = ws.next(), if open && !blocked => Wake::Message(message),
                request = self.requests.recv(), if self.requests_open => Wake::Request(request),
                _ = self.outbox.unheard(), if !self.unheard => Wake::Unheard,
                _ = &mut sleep, if deadline.is_some() => Wake::Timer,
            };
            match wake {
                Wake::Room => {}
                Wake::Message(Some(Ok(message))) => {
                    let data = match message {
                        Message::Text(text) => text.as_bytes().to_vec(),
                        Message::Binary(bytes) => bytes.to_vec(),
                        Message::Close(_) => {
                            open = false;
                            client.handle_eof(Instant::now());
                            continue;
                        }
                        // Pings are answered by tungstenite; nothing else reaches the core.
                        _ => continue,
                    };
                    trace.received(&data);
                    client = match feed(client, &data).await {
                        Some(client) => client,
                        None => return Next::End(EndReason::Session(DisconnectReason::LocalClose)),
                    };
                }
                Wake::Message(Some(Err(e))) => {
                    tracing::debug!(target: SESSION_TARGET, "WebSocket: {e}");
                    open = false;
                    client.handle_eof(Instant::now());
                }
                Wake::Message(None) => {
                    open = false;
                    client.handle_eof(Instant::now());
                }
                Wake::Request(request) => self.on_request(&mut client, request),
                Wake::Unheard => self.on_unheard(&mut client),
                Wake::Timer => client.handle_timeout(Instant::now()),
            }
        }
    }
}
