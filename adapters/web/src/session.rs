//! The run loop on the browser's event loop: every WebSocket callback, timer and command
//! calls the core, then drains it (messages, actions, events, the next timer), as the
//! crate docs of herald-core say. Events reach the page's callback after the core is let
//! go, in order, so the callback may call the session's methods.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::str::FromStr;

use herald_core::{
    Action, Client, Config, Instant, OsEntropy, Presence, TlsPolicy, Transport, UsageError,
};
use js_sys::{ArrayBuffer, Function, Reflect, Uint8Array};
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, Event as DomEvent, MessageEvent, WebSocket};

use crate::events;
use crate::url::WsTarget;

/// The WebSocket sub-protocol of RFC 7395.
const PROTOCOL: &str = "xmpp";

/// Starts a session: opens the WebSocket to `options.url` and logs in as `options.jid`
/// with `options.password`, then sends `options.presence` (a name: chat, away, xa, dnd,
/// offline, or 0 to 4; default chat) and `options.status` (default none). `on_event`
/// receives every event as an object, the same as the CLI's JSON lines. Throws on bad
/// options; everything after that arrives as events, ending with one `disconnected`.
#[wasm_bindgen]
pub fn connect(options: JsValue, on_event: Function) -> Result<WebSession, JsValue> {
    let url = string(&options, "url")?.ok_or_else(|| missing("url"))?;
    let jid = string(&options, "jid")?.ok_or_else(|| missing("jid"))?;
    let password = string(&options, "password")?.ok_or_else(|| missing("password"))?;
    let target = WsTarget::parse(&url).map_err(|e| fail(&e.to_string()))?;
    let mut config = Config::new(&jid, password).map_err(|e| fail(&e.to_string()))?;
    if let Some(presence) = presence(&Reflect::get(&options, &"presence".into())?)? {
        config.presence = presence;
    }
    if let Some(status) = string(&options, "status")? {
        config.status = status;
    }
    if !target.secure {
        // Loopback only (WsTarget): no STARTTLS exists on a WebSocket.
        config.tls = TlsPolicy::InsecurePlaintext;
    }
    let client = Client::new(config, OsEntropy).map_err(|e| fail(&e.to_string()))?;
    let ws = WebSocket::new_with_str(&url, PROTOCOL)?;
    ws.set_binary_type(BinaryType::Arraybuffer);

    let shared = Rc::new(Shared {
        driver: RefCell::new(Driver {
            client,
            ws: ws.clone(),
            url,
            secure: target.secure,
            connected: false,
            open: false,
            ended: false,
            timer: None,
            pending: Vec::new(),
        }),
        on_event,
        queue: RefCell::new(VecDeque::new()),
        delivering: Cell::new(false),
        handlers: RefCell::new(None),
    });
    let handlers = Handlers::new(&shared);
    ws.set_onopen(Some(handlers.open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(handlers.message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(handlers.close.as_ref().unchecked_ref()));
    *shared.handlers.borrow_mut() = Some(handlers);
    Ok(WebSession { shared })
}

/// A running session, as `connect` returns it.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WebSession {
    shared: Rc<Shared>,
}

#[wasm_bindgen]
impl WebSession {
    /// Changes the account's presence (a name or 0 to 4); throws on an unknown value or
    /// after the session ended.
    #[wasm_bindgen(js_name = setPresence)]
    pub fn set_presence(&self, presence: JsValue) -> Result<(), JsValue> {
        let value = self::presence(&presence)?.ok_or_else(|| missing("presence"))?;
        run(&self.shared, |d, now| d.client.set_presence(now, value)).map_err(usage)
    }

    /// Changes the account's status text; throws after the session ended.
    #[wasm_bindgen(js_name = setStatus)]
    pub fn set_status(&self, status: &str) -> Result<(), JsValue> {
        run(&self.shared, |d, now| d.client.set_status(now, status)).map_err(usage)
    }

    /// Changes presence and status together: one stanza online, as IPWorks'
    /// `ChangePresence`.
    #[wasm_bindgen(js_name = changePresence)]
    pub fn change_presence(&self, presence: JsValue, status: &str) -> Result<(), JsValue> {
        let value = self::presence(&presence)?.ok_or_else(|| missing("presence"))?;
        run(&self.shared, |d, now| {
            d.client.change_presence(now, value, status)
        })
        .map_err(usage)
    }

    /// Goes offline and closes the stream, then the socket; `disconnected` follows. Before
    /// the socket opened it just closes it. Harmless when already closed.
    pub fn close(&self) {
        run(&self.shared, |d, now| {
            if d.ended {
                return;
            }
            if d.connected {
                // SessionEnded only: nothing to close.
                let _ = d.client.close(now);
            } else {
                let _ = d.ws.close();
                d.end(json!({
                    "event": "disconnected",
                    "reason": "closed before the WebSocket opened",
                    "code": "local_close",
                }));
            }
        });
    }
}

/// What the callbacks and the `WebSession` share.
#[derive(Debug)]
struct Shared {
    driver: RefCell<Driver>,
    on_event: Function,
    /// Events not yet handed to the page, in order.
    queue: RefCell<VecDeque<Value>>,
    /// Whether `on_event` is running (a command it calls queues, the outer loop delivers).
    delivering: Cell<bool>,
    /// Alive while the socket may call them; dropped once the session ended.
    handlers: RefCell<Option<Handlers>>,
}

/// The core and its socket.
#[derive(Debug)]
struct Driver {
    client: Client,
    ws: WebSocket,
    url: String,
    secure: bool,
    /// `client.connect` was called (the socket opened with `xmpp`).
    connected: bool,
    /// The socket is open and ours to write.
    open: bool,
    /// The last event (`disconnected`) is out.
    ended: bool,
    /// The pending `setTimeout`.
    timer: Option<i32>,
    /// Events of this step.
    pending: Vec<Value>,
}

/// The JavaScript functions the browser calls.
#[derive(Debug)]
struct Handlers {
    open: Closure<dyn FnMut(DomEvent)>,
    message: Closure<dyn FnMut(MessageEvent)>,
    close: Closure<dyn FnMut(CloseEvent)>,
    timer: Closure<dyn FnMut()>,
}

impl Handlers {
    fn new(shared: &Rc<Shared>) -> Handlers {
        let s = shared.clone();
        let open = Closure::new(move |_: DomEvent| run(&s, Driver::on_open));
        let s = shared.clone();
        let message = Closure::new(move |e: MessageEvent| {
            run(&s, |d, now| d.on_message(now, &e.data()));
        });
        let s = shared.clone();
        let close = Closure::new(move |_: CloseEvent| run(&s, Driver::on_close));
        let s = shared.clone();
        let timer = Closure::new(move || {
            run(&s, |d, now| {
                d.timer = None;
                d.client.handle_timeout(now);
            });
        });
        Handlers {
            open,
            message,
            close,
            timer,
        }
    }
}

/// One step: `f` on the core, then the drain, then the events to the page.
fn run<R>(shared: &Rc<Shared>, f: impl FnOnce(&mut Driver, Instant) -> R) -> R {
    let (result, ended) = {
        let mut d = shared.driver.borrow_mut();
        let now = Instant::now();
        let result = f(&mut d, now);
        d.drain();
        d.rearm(now, shared);
        shared.queue.borrow_mut().extend(d.pending.drain(..));
        (result, d.ended)
    };
    deliver(shared);
    if ended {
        finish(shared);
    }
    result
}

/// Hands queued events to the page, unless an outer call already does.
fn deliver(shared: &Shared) {
    if shared.delivering.replace(true) {
        return;
    }
    loop {
        let next = shared.queue.borrow_mut().pop_front();
        let Some(value) = next else { break };
        let object = js_sys::JSON::parse(&value.to_string()).unwrap_or(JsValue::NULL);
        // A throwing callback is the page's bug; the session goes on.
        let _ = shared.on_event.call1(&JsValue::NULL, &object);
    }
    shared.delivering.set(false);
}

/// After the last event: no more callbacks, and the cycle through the closures is broken.
fn finish(shared: &Shared) {
    let Some(handlers) = shared.handlers.borrow_mut().take() else {
        return;
    };
    {
        let mut d = shared.driver.borrow_mut();
        d.ws.set_onopen(None);
        d.ws.set_onmessage(None);
        d.ws.set_onclose(None);
        if let (Some(id), Some(window)) = (d.timer.take(), web_sys::window()) {
            window.clear_timeout_with_handle(id);
        }
    }
    // One of these closures may be the one running now: drop them on a later turn.
    let later = Closure::once_into_js(move || drop(handlers));
    if let Some(window) = web_sys::window() {
        let _ =
            window.set_timeout_with_callback_and_timeout_and_arguments_0(later.unchecked_ref(), 0);
    }
}

impl Driver {
    fn on_open(&mut self, now: Instant) {
        self.open = true;
        // RFC 7395 section 3.1: a server that did not agree to `xmpp` does not speak it.
        if self.ws.protocol() != PROTOCOL {
            let _ = self.ws.close();
            self.open = false;
            self.unreachable("the server did not accept the xmpp WebSocket sub-protocol");
            return;
        }
        self.connected = true;
        let transport = Transport::WebSocket {
            secure: self.secure,
        };
        if let Err(e) = self.client.connect(now, transport) {
            self.pending.push(events::error(&e.to_string()));
        }
    }

    fn on_message(&mut self, now: Instant, data: &JsValue) {
        if !self.connected || self.ended {
            return;
        }
        let bytes = match data.as_string() {
            Some(text) => text.into_bytes(),
            None => match data.dyn_ref::<ArrayBuffer>() {
                Some(buffer) => Uint8Array::new(buffer).to_vec(),
                None => return,
            },
        };
        // Refused only once the session ended, when nothing is left to do.
        let _ = self.client.handle_message(now, &bytes);
    }

    fn on_close(&mut self, now: Instant) {
        self.open = false;
        if self.ended {
            return;
        }
        if self.connected {
            self.client.handle_eof(now);
        } else {
            let message = format!("could not open the WebSocket to {}", self.url);
            self.unreachable(&message);
        }
    }

    /// The session ends before the core started: an error and a `disconnected`.
    fn unreachable(&mut self, message: &str) {
        self.pending.push(events::error(message));
        self.end(json!({ "event": "disconnected", "reason": message, "code": "unreachable" }));
    }

    fn end(&mut self, disconnected: Value) {
        self.pending.push(disconnected);
        self.ended = true;
    }

    /// Messages, actions, events, in that order, until the core has nothing more.
    fn drain(&mut self) {
        let mut out = Vec::new();
        loop {
            let mut progressed = false;
            while self.client.poll_message(&mut out) > 0 {
                progressed = true;
                let text = String::from_utf8_lossy(&out).into_owned();
                out.clear();
                if self.open && self.ws.send_with_str(&text).is_err() {
                    self.open = false;
                    self.client.handle_eof(Instant::now());
                }
            }
            while let Some(action) = self.client.poll_action() {
                progressed = true;
                // Only the close can come on a WebSocket (no STARTTLS there).
                if matches!(action, Action::CloseTransport) && self.open {
                    let _ = self.ws.close();
                    self.open = false;
                }
            }
            while let Some(event) = self.client.poll_event() {
                progressed = true;
                let last = matches!(event, herald_core::Event::Disconnected { .. });
                if let Some(value) = events::event(&event) {
                    self.pending.push(value);
                }
                if last {
                    self.ended = true;
                    if self.open {
                        let _ = self.ws.close();
                        self.open = false;
                    }
                }
            }
            if !progressed {
                break;
            }
        }
    }

    /// One `setTimeout` for the core's next deadline, replacing the last one.
    fn rearm(&mut self, now: Instant, shared: &Shared) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Some(id) = self.timer.take() {
            window.clear_timeout_with_handle(id);
        }
        if self.ended {
            return;
        }
        let Some(at) = self.client.poll_timeout() else {
            return;
        };
        let handlers = shared.handlers.borrow();
        let Some(handlers) = handlers.as_ref() else {
            return;
        };
        // Rounded up: a timer that fires early finds nothing due and waits again.
        let wait = at.saturating_duration_since(now);
        let ms = i32::try_from(wait.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
        self.timer = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                handlers.timer.as_ref().unchecked_ref(),
                ms,
            )
            .ok();
    }
}

/// `options[key]` as a string; `None` when absent.
fn string(options: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    let value = Reflect::get(options, &key.into())?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| fail(&format!("{key} must be a string")))
}

/// A presence name or number; `None` when absent.
fn presence(value: &JsValue) -> Result<Option<Presence>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let parsed = if let Some(name) = value.as_string() {
        Presence::from_str(&name).map_err(|e| e.to_string())
    } else if let Some(number) = value.as_f64() {
        if number.fract() == 0.0 && (0.0..=4.0).contains(&number) {
            // In 0..=4, so the cast is exact.
            Presence::try_from(number as u8).map_err(|e| e.to_string())
        } else {
            Err(format!("not a presence value: {number}"))
        }
    } else {
        Err("presence must be a name or a number".into())
    };
    parsed.map(Some).map_err(|e| fail(&e))
}

fn fail(message: &str) -> JsValue {
    JsError::new(message).into()
}

fn missing(key: &str) -> JsValue {
    fail(&format!("{key} is required"))
}

fn usage(error: UsageError) -> JsValue {
    fail(&error.to_string())
}
