//! The scripted server on a real loopback socket with real TLS (rustls, a CA made at test
//! time), for adapter tests: the same [`ScriptedServer`] the in-memory tests use, one
//! thread per connection.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use minidom::Element;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::real::TestCerts;
use herald_testkit::ServerProfile;
use herald_testkit::server::{ScriptedServer, ServerPhase};

/// What one client connection did, as the server saw it.
#[derive(Debug, Clone, Default)]
pub struct ConnectionLog {
    /// Every top-level element the client sent.
    pub received: Vec<Element>,
    /// Every byte the client sent before TLS (plaintext).
    pub plaintext: Vec<u8>,
    /// The client closed its stream.
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
}

/// A listening scripted server.
#[derive(Debug)]
pub struct LoopbackServer {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The test CA and the server's certificate.
    pub certs: TestCerts,
    /// One log per accepted connection, in order.
    pub connections: Arc<Mutex<Vec<ConnectionLog>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl LoopbackServer {
    /// Starts listening. With `drop_first_after_presence`, the first connection is cut as
    /// soon as the client's initial presence arrives (to test reconnects).
    pub fn start(profile: ServerProfile, drop_first_after_presence: bool) -> LoopbackServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let certs = TestCerts::generate(dir.path()).expect("test certificates");
        let tls = Arc::new(server_config(&certs));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let connections = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (connections, stop) = (connections.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut index = 0;
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            connections
                                .lock()
                                .expect("log lock")
                                .push(ConnectionLog::default());
                            let cut = drop_first_after_presence && index == 0;
                            let (profile, tls, log, stop) = (
                                profile.clone(),
                                tls.clone(),
                                connections.clone(),
                                stop.clone(),
                            );
                            std::thread::spawn(move || {
                                serve(stream, profile, tls, log, index, cut, stop)
                            });
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
            certs,
            connections,
            stop,
            accept: Some(accept),
            _dir: dir,
        }
    }

    /// A copy of connection `index`'s log (empty when it does not exist).
    pub fn connection(&self, index: usize) -> ConnectionLog {
        self.connections
            .lock()
            .expect("log lock")
            .get(index)
            .cloned()
            .unwrap_or_default()
    }

    /// Connection `index`'s log once `ready` holds for it; panics after 10 s. The client
    /// reports being online when it has *written* its initial presence: the server thread
    /// may not have read it yet.
    pub fn connection_when(
        &self,
        index: usize,
        ready: impl Fn(&ConnectionLog) -> bool,
    ) -> ConnectionLog {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.connection(index);
            if ready(&log) {
                return log;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "connection {index} never got there: {:?}",
                log.received
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// How many connections were accepted.
    pub fn connection_count(&self) -> usize {
        self.connections.lock().expect("log lock").len()
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

fn server_config(certs: &TestCerts) -> ServerConfig {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&certs.cert_pem)
        .expect("leaf pem")
        .collect::<Result<_, _>>()
        .expect("leaf cert");
    let key = PrivateKeyDer::from_pem_file(&certs.key_pem).expect("leaf key");
    ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server certificate")
}

enum Socket {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
    Gone,
}

impl Socket {
    fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Socket::Plain(s) => Some(s),
            Socket::Tls(s) => Some(&s.sock),
            Socket::Gone => None,
        }
    }
}

fn serve(
    stream: TcpStream,
    profile: ServerProfile,
    tls: Arc<ServerConfig>,
    log: Arc<Mutex<Vec<ConnectionLog>>>,
    index: usize,
    cut_after_presence: bool,
    stop: Arc<AtomicBool>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
    let _ = stream.set_nodelay(true);
    let mut server = ScriptedServer::new(profile);
    let mut socket = Socket::Plain(stream);
    let mut buf = [0u8; 16 * 1024];
    while !stop.load(Ordering::Relaxed) {
        let out = server.take_output();
        if !out.is_empty() {
            let written = match &mut socket {
                Socket::Plain(s) => s.write_all(&out),
                Socket::Tls(s) => s.write_all(&out).and_then(|()| s.flush()),
                Socket::Gone => return,
            };
            if written.is_err() {
                break;
            }
        }
        if server.phase == ServerPhase::TlsPending {
            let Socket::Plain(tcp) = std::mem::replace(&mut socket, Socket::Gone) else {
                break;
            };
            let Ok(conn) = ServerConnection::new(tls.clone()) else {
                break;
            };
            socket = Socket::Tls(Box::new(StreamOwned::new(conn, tcp)));
            server.tls_done();
        }
        let read = match &mut socket {
            Socket::Plain(s) => s.read(&mut buf),
            Socket::Tls(s) => s.read(&mut buf),
            Socket::Gone => break,
        };
        match read {
            Ok(0) => break,
            Ok(n) => {
                if matches!(socket, Socket::Plain(_)) {
                    log.lock().expect("log lock")[index]
                        .plaintext
                        .extend_from_slice(&buf[..n]);
                }
                server.handle_input(&buf[..n]);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
        {
            let mut logs = log.lock().expect("log lock");
            logs[index].received = server.received.clone();
            logs[index].client_closed = server.client_closed;
        }
        if cut_after_presence && server.received.iter().any(|e| e.name() == "presence") {
            break;
        }
        if server.client_closed && server.phase == ServerPhase::Closed {
            let out = server.take_output();
            if let Socket::Tls(s) = &mut socket {
                let _ = s.write_all(&out);
                let _ = s.flush();
                s.conn.send_close_notify();
                let _ = s.flush();
            }
            break;
        }
    }
    if let Some(tcp) = socket.tcp() {
        let _ = tcp.shutdown(Shutdown::Both);
    }
}
