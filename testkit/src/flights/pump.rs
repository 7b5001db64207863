//! Moving one direction of one connection: a reader thread that records each chunk as it
//! arrives, and a writer thread that passes it on `delay` later, in order.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::record::{Chunk, ConnectionRecord, Direction};

/// The proxy's whole log, behind one lock: every arrival and every forward takes the next
/// sequence number under it, so their order is the order they happened in.
#[derive(Debug, Default)]
pub(crate) struct Log {
    seq: u64,
    pub(crate) connections: Vec<ConnectionRecord>,
}

impl Log {
    fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Opens the record of a new connection; returns its index.
    pub(crate) fn accepted(&mut self, at: Instant) -> usize {
        let index = self.connections.len();
        self.connections.push(ConnectionRecord {
            index,
            accepted: at,
            chunks: Vec::new(),
        });
        index
    }

    /// Records a chunk read now; returns its position and its arrival time.
    fn arrived(
        &mut self,
        connection: usize,
        direction: Direction,
        bytes: usize,
    ) -> (usize, Instant) {
        let seq = self.next();
        let arrived = Instant::now();
        let chunks = &mut self.connections[connection].chunks;
        chunks.push(Chunk {
            direction,
            bytes,
            arrived,
            forwarded: None,
            arrived_seq: seq,
            forwarded_seq: None,
        });
        (chunks.len() - 1, arrived)
    }

    /// Records that a chunk's forward starts now (before the write, so that whatever the
    /// other side answers to it is recorded after it).
    fn forwarding(&mut self, connection: usize, chunk: usize) {
        let seq = self.next();
        let c = &mut self.connections[connection].chunks[chunk];
        c.forwarded = Some(Instant::now());
        c.forwarded_seq = Some(seq);
    }
}

enum Pending {
    Bytes {
        chunk: usize,
        due: Instant,
        data: Vec<u8>,
    },
    End {
        due: Instant,
    },
}

/// One direction of one connection: from `from` to `to`, each chunk `delay` after it was
/// read, unless the connection is `blackholed` by then.
pub(crate) struct Pump {
    pub(crate) log: Arc<Mutex<Log>>,
    pub(crate) connection: usize,
    pub(crate) direction: Direction,
    pub(crate) from: TcpStream,
    pub(crate) to: TcpStream,
    pub(crate) delay: Duration,
    /// Once set, what is read is dropped (not recorded), nothing is written, and the end
    /// of `from` is not passed on: the other side sees nothing at all.
    pub(crate) blackholed: Arc<AtomicBool>,
}

/// Starts a pump's reader and writer threads; both end when either socket ends.
pub(crate) fn spawn(pump: Pump) {
    let Pump {
        log,
        connection,
        direction,
        mut from,
        mut to,
        delay,
        blackholed,
    } = pump;
    let reader_blackholed = blackholed.clone();
    let (tx, rx) = mpsc::channel::<Pending>();
    let reader_log = log.clone();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(Pending::End {
                        due: Instant::now() + delay,
                    });
                    return;
                }
                Ok(_) if reader_blackholed.load(Ordering::SeqCst) => {}
                Ok(n) => {
                    let (chunk, arrived) = reader_log
                        .lock()
                        .expect("flight log lock")
                        .arrived(connection, direction, n);
                    let pending = Pending::Bytes {
                        chunk,
                        due: arrived + delay,
                        data: buf[..n].to_vec(),
                    };
                    if tx.send(pending).is_err() {
                        return;
                    }
                }
            }
        }
    });
    std::thread::spawn(move || {
        for pending in rx {
            match pending {
                Pending::Bytes { chunk, due, data } => {
                    sleep_until(due);
                    if blackholed.load(Ordering::SeqCst) {
                        continue;
                    }
                    log.lock()
                        .expect("flight log lock")
                        .forwarding(connection, chunk);
                    if to.write_all(&data).is_err() {
                        let _ = to.shutdown(Shutdown::Both);
                        return;
                    }
                }
                Pending::End { due } => {
                    sleep_until(due);
                    if blackholed.load(Ordering::SeqCst) {
                        return;
                    }
                    let _ = to.shutdown(Shutdown::Write);
                    return;
                }
            }
        }
    });
}

fn sleep_until(due: Instant) {
    let now = Instant::now();
    if due > now {
        std::thread::sleep(due - now);
    }
}
