//! What the adapter reports, and the bounded channel that carries it.
//!
//! Back-pressure: the channel holds at most
//! [`ConnectOptions::event_capacity`](crate::ConnectOptions::event_capacity) events. When it
//! is full the session task stops reading the socket (TCP flow control then slows the
//! server down); timers and commands still run, and what they produce waits in the core.
//! A few adapter events (`Connecting`, `ConnectFailed`, `Reconnecting`, `Ended`: a handful
//! per attempt) wait in a small queue of the task, and no new attempt starts before that
//! queue is delivered.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use herald_core::jid::FullJid;
use tokio::sync::mpsc::{self, error::TrySendError};

use crate::EndReason;
use crate::error::Error;

/// What the adapter reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// An event of the current connection's core.
    Core(herald_core::Event),
    /// Trying a server.
    Connecting {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// Direct TLS (else STARTTLS).
        direct_tls: bool,
    },
    /// A server could not be reached.
    ConnectFailed {
        /// Host and port.
        target: String,
        /// Why.
        error: String,
    },
    /// Waiting before the next connection attempt.
    Reconnecting {
        /// 1 for the first retry since the session was last online.
        attempt: u32,
        /// The wait (zero to follow a `see-other-host`).
        delay: Duration,
    },
    /// The task stopped; no more events follow.
    Ended {
        /// Why.
        reason: EndReason,
    },
}

/// The session's [`Event`]s: a bounded channel (see *Back-pressure* in the [crate docs](crate)),
/// read with [`recv`](Self::recv) or as a [`Stream`](futures_core::Stream).
///
/// Dropping it closes the session (unavailable presence, stream close), as
/// [`Handle::close`](crate::Handle::close) would: nobody would see what happens next.
/// Dropping every [`Handle`](crate::Handle) does not.
#[derive(Debug)]
pub struct Events {
    /// Boxed in the channel: tokio allocates its first block of 32 slots when the channel
    /// is made, so 8-byte slots instead of 120-byte events save 3.6 KB per session (one
    /// allocation per event instead).
    rx: mpsc::Receiver<Box<Event>>,
    /// What [`wait_online`](Self::wait_online) read past, handed out first.
    held: VecDeque<Event>,
}

impl Events {
    pub(crate) fn new(rx: mpsc::Receiver<Box<Event>>) -> Self {
        Events {
            rx,
            held: VecDeque::new(),
        }
    }

    /// The next event; `None` after [`Event::Ended`].
    pub async fn recv(&mut self) -> Option<Event> {
        if let Some(event) = self.held.pop_front() {
            return Some(event);
        }
        self.rx.recv().await.map(|event| *event)
    }

    /// The next event, for a hand-written future or poll loop; `Ready(None)` after
    /// [`Event::Ended`].
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        if let Some(event) = self.held.pop_front() {
            return Poll::Ready(Some(event));
        }
        self.rx.poll_recv(cx).map(|event| event.map(|event| *event))
    }

    /// Waits until the session is online and returns the bound JID; the events read on the
    /// way (state changes, the roster...) are kept and come out of the next
    /// [`recv`](Self::recv)s, in order, with the `Online` event itself. Fails with
    /// [`Error::EndedWith`] when the session ends first (wrong password, unreachable
    /// server, certificate...).
    ///
    /// Only the login's events are read past (contacts' presence comes after `Online`), so
    /// what is kept is a handful. Call it again after a reconnect to wait for the next
    /// `Online`.
    pub async fn wait_online(&mut self) -> Result<FullJid, Error> {
        loop {
            let Some(event) = self.rx.recv().await.map(|event| *event) else {
                return Err(Error::Ended);
            };
            let online = match &event {
                Event::Core(herald_core::Event::Online { jid }) => Some(jid.clone()),
                Event::Ended { reason } => {
                    let reason = reason.clone();
                    self.held.push_back(event);
                    return Err(Error::EndedWith(reason));
                }
                _ => None,
            };
            self.held.push_back(event);
            if let Some(jid) = online {
                return Ok(jid);
            }
        }
    }

    /// How many events wait to be received (at most [`bound`](Self::bound), plus what
    /// [`wait_online`](Self::wait_online) kept).
    pub fn len(&self) -> usize {
        self.rx.len() + self.held.len()
    }

    /// Whether no event waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most events that can wait in the channel: its capacity.
    pub fn bound(&self) -> usize {
        self.rx.max_capacity()
    }
}

impl futures_core::Stream for Events {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.get_mut().poll_recv(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), None)
    }
}

/// The task's side: the channel, and the few adapter events that wait for room in it.
#[derive(Debug)]
pub(crate) struct Outbox {
    tx: mpsc::Sender<Box<Event>>,
    queue: VecDeque<Event>,
}

impl Outbox {
    pub(crate) fn new(tx: mpsc::Sender<Box<Event>>) -> Self {
        Outbox {
            tx,
            queue: VecDeque::new(),
        }
    }

    /// Queues an adapter event behind those waiting.
    pub(crate) fn push(&mut self, event: Event) {
        self.queue.push_back(event);
    }

    /// Moves queued events into the channel while it has room; true when none is left.
    /// Nobody listening is not an error: the events are dropped and the session goes on.
    pub(crate) fn flush(&mut self) -> bool {
        while let Some(event) = self.queue.pop_front() {
            match self.tx.try_send(Box::new(event)) {
                Ok(()) => {}
                Err(TrySendError::Full(event)) => {
                    self.queue.push_front(*event);
                    return false;
                }
                Err(TrySendError::Closed(_)) => self.queue.clear(),
            }
        }
        // The few events of a connection attempt leave no buffer to an idle session.
        if self.queue.capacity() > 0 {
            self.queue = VecDeque::new();
        }
        true
    }

    /// Whether the channel has room for one more event (or nobody listens).
    pub(crate) fn has_room(&self) -> bool {
        self.tx.capacity() > 0 || self.tx.is_closed()
    }

    /// Waits until the channel has room (or nobody listens).
    pub(crate) async fn room(&self) {
        // The permit is given back at once: the loop that waited sends next.
        let _ = self.tx.reserve().await;
    }

    /// Waits until the application has dropped its [`Events`].
    pub(crate) async fn unheard(&self) {
        self.tx.closed().await
    }

    /// Whether the application has dropped its [`Events`].
    pub(crate) fn is_unheard(&self) -> bool {
        self.tx.is_closed()
    }

    /// Delivers everything queued, waiting for room as long as someone listens.
    pub(crate) async fn deliver_all(&mut self) {
        while !self.flush() {
            self.room().await;
        }
    }
}
