//! An XMPP server on a real loopback socket with real TLS (feature `loopback`), for the
//! adapter and CLI tests. Each accepted connection runs on a thread of its own and is
//! played either by a test script, step by step ([`Conn::expect`], [`Conn::send`],
//! [`Conn::login`]...), or by the same [`ScriptedServer`](crate::ScriptedServer) the
//! in-memory tests use ([`Conn::serve`], [`LoopbackServer::scripted`]). The certificate is
//! the process's test [`Pki`]; [`LoopbackServer::ca_file`] is what a client trusts.

mod conn;
mod plain;
mod scripted;

pub use conn::{ALICE_PLAIN, Conn, attr};
pub use plain::{AfterOnline, FLOOD_STANZA, PlainServer, plain_config, plain_profile, redirector};
pub use scripted::Then;

use std::io::ErrorKind;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use minidom::Element;

use crate::pki::Pki;
use crate::profile::ServerProfile;

/// What one client connection did, as the server saw it.
#[derive(Debug, Clone, Default)]
pub struct ConnectionLog {
    /// Every byte the client sent (after TLS, decrypted), in order.
    pub sent: Vec<u8>,
    /// The bytes the client sent before TLS, in the clear.
    pub plaintext: Vec<u8>,
    /// Every top-level element the client sent, when the scripted server played the
    /// connection ([`Conn::serve`]).
    pub received: Vec<Element>,
    /// The client closed its stream (scripted server only).
    pub client_closed: bool,
}

impl ConnectionLog {
    /// The presence stanzas received.
    pub fn presences(&self) -> Vec<&Element> {
        self.received
            .iter()
            .filter(|e| e.name() == "presence")
            .collect()
    }

    /// What the client sent, as text.
    pub fn sent_text(&self) -> String {
        String::from_utf8_lossy(&self.sent).into_owned()
    }
}

type Script = dyn Fn(usize, &mut Conn) + Send + Sync;

/// A listening server on 127.0.0.1. Dropping it stops accepting and ends the scripted
/// connections; a test script still running ends when its client goes away.
#[derive(Debug)]
pub struct LoopbackServer {
    /// The port on 127.0.0.1.
    pub port: u16,
    pki: Arc<Pki>,
    ca_file: PathBuf,
    connections: Arc<Mutex<Vec<Arc<Mutex<ConnectionLog>>>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl LoopbackServer {
    /// Starts listening; `script(index, conn)` plays each accepted connection (the first is
    /// index 0) on a thread of its own, with a 10 s read timeout.
    pub fn start(script: impl Fn(usize, &mut Conn) + Send + Sync + 'static) -> LoopbackServer {
        let script: Arc<Script> = Arc::new(script);
        let pki = Pki::shared();
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, &pki.ca_pem).expect("write the CA file");
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        // Non-blocking, so that the accept loop sees `stop`.
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let connections = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (connections, stop, pki) = (connections.clone(), stop.clone(), pki.clone());
            std::thread::spawn(move || {
                let mut index = 0;
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((tcp, _)) => {
                            let _ = tcp.set_nonblocking(false);
                            let _ = tcp.set_nodelay(true);
                            let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                            let log = Arc::new(Mutex::new(ConnectionLog::default()));
                            connections.lock().expect("log lock").push(log.clone());
                            let mut conn = Conn::new(tcp, log, pki.clone(), stop.clone());
                            let (script, i) = (script.clone(), index);
                            std::thread::spawn(move || script(i, &mut conn));
                            index += 1;
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(10))
                        }
                        Err(_) => break,
                    }
                }
            })
        };
        LoopbackServer {
            port,
            pki,
            ca_file,
            connections,
            stop,
            accept: Some(accept),
            _dir: dir,
        }
    }

    /// Every connection played by the scripted server with `profile`. With
    /// `drop_first_after_presence`, the first connection is cut (no stream close) as soon as
    /// the client's initial presence arrives, to test reconnects.
    pub fn scripted(profile: ServerProfile, drop_first_after_presence: bool) -> LoopbackServer {
        LoopbackServer::start(move |index, conn| {
            if drop_first_after_presence && index == 0 {
                conn.serve_until(&profile, |s| !s.received_named("presence").is_empty());
            } else {
                conn.serve(&profile);
            }
        })
    }

    /// The PEM file of the CA that issued the server's certificate.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The test PKI the server presents.
    pub fn pki(&self) -> &Pki {
        &self.pki
    }

    /// How many connections were accepted.
    pub fn accepted(&self) -> usize {
        self.connections.lock().expect("log lock").len()
    }

    /// A copy of connection `index`'s log (empty when it does not exist).
    pub fn connection(&self, index: usize) -> ConnectionLog {
        let log = self
            .connections
            .lock()
            .expect("log lock")
            .get(index)
            .cloned();
        log.map(|l| l.lock().expect("log lock").clone())
            .unwrap_or_default()
    }

    /// What the client sent on connection `index` so far, as text.
    pub fn transcript(&self, index: usize) -> String {
        self.connection(index).sent_text()
    }

    /// Connection `index`'s log once `ready` holds for it; panics after 10 s. A client
    /// reports being online when it has *written* its initial presence: the server thread
    /// may not have read it yet.
    pub fn connection_when(
        &self,
        index: usize,
        ready: impl Fn(&ConnectionLog) -> bool,
    ) -> ConnectionLog {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.connection(index);
            if ready(&log) {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "connection {index} never got there: {:?}",
                log.sent_text()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Writes `contents` to a fresh file under the temp dir and returns its path (a password
/// file, a CA file that is not one...). The file outlives the test.
pub fn temp_file(name: &str, contents: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "herald-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("temp file");
    path
}
