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
use std::time::Duration;

use tokio::sync::mpsc::{self, error::TrySendError};

use crate::EndReason;

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

/// The stream of [`Event`]s: a bounded channel (see *Back-pressure* in the [crate docs](crate)).
#[derive(Debug)]
pub struct Events {
    rx: mpsc::Receiver<Event>,
}

impl Events {
    pub(crate) fn new(rx: mpsc::Receiver<Event>) -> Self {
        Events { rx }
    }

    /// The next event; `None` after [`Event::Ended`].
    pub async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    /// How many events wait to be received (never more than [`bound`](Self::bound)).
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Whether no event waits.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// The most events that can wait: the channel's capacity.
    pub fn bound(&self) -> usize {
        self.rx.max_capacity()
    }
}

/// The task's side: the channel, and the few adapter events that wait for room in it.
#[derive(Debug)]
pub(crate) struct Outbox {
    tx: mpsc::Sender<Event>,
    queue: VecDeque<Event>,
}

impl Outbox {
    pub(crate) fn new(tx: mpsc::Sender<Event>) -> Self {
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
            match self.tx.try_send(event) {
                Ok(()) => {}
                Err(TrySendError::Full(event)) => {
                    self.queue.push_front(event);
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

    /// Delivers everything queued, waiting for room as long as someone listens.
    pub(crate) async fn deliver_all(&mut self) {
        while !self.flush() {
            self.room().await;
        }
    }
}
