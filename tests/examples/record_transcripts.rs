//! Records what herald-core is fed during a real login against Prosody and ejabberd, as seed
//! corpora for the fuzz targets (`fuzz/corpus-seeds/<target>/`).
//!
//! ```text
//! cargo run -p herald-tests --example record_transcripts -- [OUT_DIR]
//! ```
//!
//! The client is the core itself over a TCP socket and rustls, configured exactly as the
//! fuzz harness configures it (`herald_testkit::fuzz::{JID, PASSWORD, SEED}`, no channel
//! binding), so its SCRAM nonce is the one the fuzz targets use and a recorded transcript
//! replays through a whole login, server signature included. What is recorded is the
//! plaintext the core was fed (the TLS layer removed), which is what a fuzz target feeds.
//!
//! Files written, for each server:
//! - `raw_server_bytes/<server>-login`: mode byte 0 (plain transport, STARTTLS, one byte at a
//!   time), then every byte fed, from the first stream header to the server's close;
//! - `online_bytes/<server>-online`: mode byte 7 (whole), then what came once online;
//! - `xml_stream/<server>-stream-<n>`: mode byte 0, then each of the server's streams.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_core::{Action, Client, Event, Presence, SeededEntropy, TlsPolicy, Transport};
use herald_testkit::fuzz;
use herald_testkit::real::{Ejabberd, Prosody, RealServer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// The login as the core saw it.
struct Recording {
    fed: Vec<u8>,
    /// Offset in `fed` when the client went online.
    online_at: Option<usize>,
}

enum Socket {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Socket {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Socket::Plain(s) => s.write_all(bytes),
            Socket::Tls(s) => s.write_all(bytes).and_then(|()| s.flush()),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Socket::Plain(s) => s.read(buf),
            Socket::Tls(s) => s.read(buf),
        }
    }
}

fn tls_config(ca: &Path) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("CA pem") {
        roots.add(cert.expect("CA cert")).expect("add CA");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

fn record(server: &dyn RealServer) -> Recording {
    let tcp = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("read timeout");
    let mut socket = Socket::Plain(tcp);
    let mut client = Client::new(
        fuzz::config(TlsPolicy::Required),
        SeededEntropy::new(fuzz::SEED),
    )
    .expect("config");
    let mut rec = Recording {
        fed: Vec::new(),
        online_at: None,
    };
    client
        .connect(Instant::now(), Transport::Plain)
        .expect("connect");
    let started = Instant::now();
    let mut closed_at: Option<Instant> = None;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "recording hung"
        );
        let mut out = Vec::new();
        if client.poll_transmit(&mut out) > 0 {
            socket.write_all(&out).expect("write");
        }
        while let Some(action) = client.poll_action() {
            match action {
                Action::StartTls { server_name } => {
                    let Socket::Plain(tcp) = socket else {
                        panic!("StartTls twice")
                    };
                    let name = ServerName::try_from(server_name).expect("server name");
                    let mut conn =
                        ClientConnection::new(tls_config(server.ca_pem_path()), name).expect("tls");
                    let mut tcp = tcp;
                    tcp.set_read_timeout(Some(Duration::from_secs(10)))
                        .expect("read timeout");
                    while conn.is_handshaking() {
                        conn.complete_io(&mut tcp).expect("TLS handshake");
                    }
                    tcp.set_read_timeout(Some(Duration::from_millis(100)))
                        .expect("read timeout");
                    socket = Socket::Tls(Box::new(StreamOwned::new(conn, tcp)));
                    // No channel binding: the fuzz harness replays without it.
                    client
                        .tls_established(Instant::now(), None)
                        .expect("tls_established");
                }
                Action::CloseTransport => return rec,
                _ => {}
            }
        }
        while let Some(event) = client.poll_event() {
            eprintln!("{}: {event:?}", server.name());
            if let Event::Online { .. } = event {
                rec.online_at = Some(rec.fed.len());
            }
        }
        if rec.online_at.is_some() && closed_at.is_none() {
            let now = Instant::now();
            client
                .change_presence(now, Presence::Away, "recording seeds")
                .expect("presence");
            closed_at = Some(now);
        }
        if closed_at.is_some_and(|t| t.elapsed() > Duration::from_secs(1))
            && client.state() == herald_core::SessionState::Online
        {
            client.close(Instant::now()).expect("close");
            continue;
        }
        match socket.read(&mut buf) {
            Ok(0) => client.handle_eof(Instant::now()),
            Ok(n) => {
                rec.fed.extend_from_slice(&buf[..n]);
                client.handle_input(Instant::now(), &buf[..n]);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                client.handle_timeout(Instant::now())
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => client.handle_eof(Instant::now()),
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn write(dir: &Path, target: &str, name: &str, mode: u8, bytes: &[u8]) {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut data = vec![mode];
    data.extend_from_slice(bytes);
    std::fs::write(dir.join(name), data).expect("write seed");
}

fn save(dir: &Path, name: &str, rec: &Recording) {
    assert!(
        rec.online_at.is_some(),
        "{name}: the login did not complete"
    );
    write(
        dir,
        "raw_server_bytes",
        &format!("{name}-login"),
        0,
        &rec.fed,
    );
    let online = &rec.fed[rec.online_at.unwrap_or_default()..];
    write(dir, "online_bytes", &format!("{name}-online"), 7, online);
    // Each server stream starts with its header (the XML declaration when there is one).
    let starts = |needle: &[u8]| -> Vec<usize> {
        (0..rec.fed.len())
            .filter(|&i| rec.fed[i..].starts_with(needle))
            .collect()
    };
    let mut streams = starts(b"<?xml");
    if streams.len() < 3 {
        streams = starts(b"<stream:stream");
    }
    let ends = streams.iter().skip(1).copied().chain([rec.fed.len()]);
    for (i, (start, end)) in streams.iter().copied().zip(ends).enumerate() {
        let stream = &rec.fed[start..end];
        write(dir, "xml_stream", &format!("{name}-stream-{i}"), 0, stream);
    }
    eprintln!("{name}: {} bytes fed", rec.fed.len());
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus-seeds"));
    let accounts = [("alice", fuzz::PASSWORD), ("bob", "bob-password")];

    let prosody = Prosody::start(&accounts).unwrap_or_else(|e| panic!("prosody: {e}"));
    save(&out, "prosody", &record(&prosody));
    drop(prosody);

    let ejabberd = Ejabberd::start(&accounts).unwrap_or_else(|e| panic!("ejabberd: {e}"));
    save(&out, "ejabberd", &record(&ejabberd));
}
