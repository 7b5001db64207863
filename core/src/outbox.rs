//! The outbox: everything a handler produces. Bytes for the transport (wiped once drained
//! when they carried a credential), actions for the transport, events for the application,
//! the timer table and fresh stanza ids. The [`Client`](crate::Client)'s `poll_*` methods
//! drain it; handlers only ever write to it.

use std::collections::VecDeque;

use minidom::Element;
use zeroize::Zeroize;

use crate::event::{Action, Event};
use crate::stanza::sm::Acks;
use crate::timer::TimerTable;
use crate::xml::{self, InvalidXml};

/// Output queues, timers and ids of one client.
#[derive(Debug)]
pub(crate) struct Outbox {
    transmit: Vec<u8>,
    /// The transmit buffer held a credential (PLAIN): wipe it once drained.
    secret: bool,
    actions: VecDeque<Action>,
    events: VecDeque<Event>,
    pub(crate) timers: TimerTable,
    id_prefix: String,
    id_counter: u64,
    /// Bytes were queued since the last [`Outbox::take_wrote`] (re-arms the keepalive).
    wrote: bool,
    /// A new XML stream began (our header went out): the reader must start afresh.
    new_stream: bool,
    /// Stream management's outbound counter, from `<enable/>` on: every stanza written is
    /// counted and kept until acknowledged.
    pub(crate) acks: Option<Box<Acks>>,
    max_unacked: usize,
    /// On a WebSocket transport (RFC 7395): where each message queued in `transmit` ends.
    /// `None` on TCP, where the bytes are one stream.
    messages: Option<VecDeque<usize>>,
}

impl Outbox {
    /// An empty outbox whose stanza ids start with `id_prefix`, keeping at most
    /// `max_unacked` stanzas for stream management.
    pub(crate) fn new(id_prefix: String, max_unacked: usize) -> Outbox {
        Outbox {
            transmit: Vec::new(),
            secret: false,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            timers: TimerTable::default(),
            id_prefix,
            id_counter: 0,
            wrote: false,
            new_stream: false,
            acks: None,
            max_unacked,
            messages: None,
        }
    }

    // ----- what handlers do -----

    /// From now on every write is one WebSocket message (RFC 7395).
    pub(crate) fn use_websocket_framing(&mut self) {
        self.messages = Some(VecDeque::new());
    }

    /// Whether the transport is a WebSocket.
    pub(crate) fn is_websocket(&self) -> bool {
        self.messages.is_some()
    }

    /// Queues raw bytes: one complete element (SASL, stream management...), the stream
    /// header or footer.
    pub(crate) fn write_raw(&mut self, bytes: &[u8]) {
        let start = self.transmit.len();
        self.transmit.extend_from_slice(bytes);
        self.end_message(start);
        self.wrote = true;
    }

    /// On a WebSocket, what was written from `start` on is one message: it gets its own
    /// namespace declaration and its end is noted.
    fn end_message(&mut self, start: usize) {
        if let Some(ends) = self.messages.as_mut() {
            xml::framing::declare_namespace(&mut self.transmit, start);
            ends.push_back(self.transmit.len());
        }
    }

    /// Closes our stream: `</stream:stream>`, or `<close/>` on a WebSocket.
    pub(crate) fn close_stream(&mut self) {
        if self.is_websocket() {
            self.write_raw(xml::framing::CLOSE);
        } else {
            self.write_raw(xml::stream_footer());
        }
    }

    /// Queues bytes that carry a credential; the buffer is wiped once they are drained.
    pub(crate) fn write_secret(&mut self, bytes: &[u8]) {
        self.secret = true;
        self.write_raw(bytes);
    }

    /// Queues an element the core built itself (from checked text only).
    pub(crate) fn write(&mut self, el: &Element) {
        let start = self.transmit.len();
        let result = xml::write_element(el, &mut self.transmit);
        // The core validates every text it puts into its own stanzas before building them.
        debug_assert!(
            result.is_ok(),
            "the core built an unwritable element: {result:?}"
        );
        self.stanza_written(start, el.attr("id"));
    }

    /// Queues bytes the core serialises itself (checked text only), like [`Self::write`].
    pub(crate) fn write_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.transmit.len();
        write(&mut self.transmit);
        self.stanza_written(start, None);
    }

    /// Like [`Self::write_with`] for a stanza with this `id` (reported if it is lost).
    pub(crate) fn write_with_id(&mut self, id: &str, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.transmit.len();
        write(&mut self.transmit);
        self.stanza_written(start, Some(id));
    }

    /// Queues an element from the application, refusing what XML cannot carry (nothing is
    /// queued then).
    pub(crate) fn write_checked(&mut self, el: &Element) -> Result<(), InvalidXml> {
        let start = self.transmit.len();
        xml::write_element(el, &mut self.transmit)?;
        self.stanza_written(start, el.attr("id"));
        Ok(())
    }

    /// A stanza went into the buffer from `start` on: counted for stream management.
    fn stanza_written(&mut self, start: usize, id: Option<&str>) {
        self.end_message(start);
        self.wrote = true;
        if let Some(acks) = self.acks.as_mut() {
            acks.record(id, &self.transmit[start..], self.max_unacked);
        }
    }

    /// Begins a new XML stream: our header goes out and the reader starts afresh (at
    /// connect, after TLS, after SASL).
    pub(crate) fn open_stream(&mut self, domain: &str, from: Option<&str>) {
        if self.is_websocket() {
            self.write_raw(&xml::framing::open(domain, from));
        } else {
            self.write_raw(&xml::stream_header(domain, from));
        }
        self.new_stream = true;
    }

    pub(crate) fn push_event(&mut self, event: Event) {
        self.events.push_back(event);
    }

    pub(crate) fn push_action(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    /// A fresh stanza id: the client's random prefix and a counter.
    pub(crate) fn next_id(&mut self) -> String {
        self.id_counter += 1;
        format!("h{}-{}", self.id_prefix, self.id_counter)
    }

    // ----- what the session checks after each call -----

    /// Whether bytes were queued since the last call.
    pub(crate) fn take_wrote(&mut self) -> bool {
        std::mem::take(&mut self.wrote)
    }

    /// Whether a new stream began since the last call.
    pub(crate) fn take_new_stream(&mut self) -> bool {
        std::mem::take(&mut self.new_stream)
    }

    /// Bytes queued and not drained yet.
    pub(crate) fn pending_bytes(&self) -> usize {
        self.transmit.len()
    }

    // ----- what the client drains -----

    /// The next WebSocket message, appended to `buf`; returns its length, 0 when none is
    /// queued. On TCP, the same as [`poll_transmit`](Self::poll_transmit).
    pub(crate) fn poll_message(&mut self, buf: &mut Vec<u8>) -> usize {
        let Some(ends) = self.messages.as_mut() else {
            return self.poll_transmit_all(buf);
        };
        let Some(end) = ends.pop_front() else {
            return 0;
        };
        if ends.is_empty() {
            // The last one: the whole buffer, handed over as on TCP.
            return self.poll_transmit_all(buf);
        }
        for later in ends.iter_mut() {
            *later -= end;
        }
        buf.extend(self.transmit.drain(..end));
        if self.secret {
            // The bytes left behind were moved down over the message's; wipe the rest.
            let len = self.transmit.len();
            let spare = self.transmit.spare_capacity_mut().len();
            self.transmit.resize(len + spare, 0);
            self.transmit.truncate(len);
        }
        end
    }

    /// Appends the queued bytes to `buf`; returns how many. On a WebSocket, one message
    /// ([`poll_message`](Self::poll_message)).
    pub(crate) fn poll_transmit(&mut self, buf: &mut Vec<u8>) -> usize {
        if self.is_websocket() {
            return self.poll_message(buf);
        }
        self.poll_transmit_all(buf)
    }

    fn poll_transmit_all(&mut self, buf: &mut Vec<u8>) -> usize {
        let n = self.transmit.len();
        if let Some(ends) = self.messages.as_mut() {
            ends.clear();
        }
        if buf.is_empty() {
            // Hand over our buffer instead of copying it (secret bytes included: nothing of
            // them stays here); we keep the caller's empty one, so an idle client holds no
            // capacity of its own.
            std::mem::swap(buf, &mut self.transmit);
            self.secret = false;
            return n;
        }
        buf.append(&mut self.transmit);
        if std::mem::take(&mut self.secret) {
            // `append` copied the bytes out but left them in the spare capacity.
            self.transmit.zeroize();
        }
        n
    }

    pub(crate) fn poll_action(&mut self) -> Option<Action> {
        let action = self.actions.pop_front();
        if action.is_none() && self.actions.capacity() > 0 {
            // Drained: an idle client keeps no queue memory (see `poll_event`).
            self.actions = VecDeque::new();
        }
        action
    }

    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        let event = self.events.pop_front();
        if event.is_none() && self.events.capacity() > 0 {
            // Drained: give the queue's memory back, so that an idle client holds none (an
            // event is 120 bytes; a login leaves room for a dozen). One allocation per
            // drain cycle, not per event.
            self.events = VecDeque::new();
        }
        event
    }
}
