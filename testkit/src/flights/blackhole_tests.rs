//! Blackholes: a cut no side is told about, refused reconnections, and the server's side
//! let go.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use super::FlightProxy;

const DELAY: Duration = Duration::from_millis(5);

/// An upstream that answers each byte with the same byte and reports on `ended` when its
/// client's side ends (read 0 or an error).
fn echo_server() -> (u16, mpsc::Receiver<()>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, ended) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 256];
                loop {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => {
                            let _ = tx.send(());
                            return;
                        }
                        Ok(n) => {
                            if conn.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    (port, ended)
}

fn client(proxy: &FlightProxy) -> TcpStream {
    let s = TcpStream::connect((Ipv4Addr::LOCALHOST, proxy.port())).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    s
}

fn echoes(s: &mut TcpStream) -> std::io::Result<usize> {
    s.write_all(b"x")?;
    let mut buf = [0u8; 1];
    s.read(&mut buf)
}

#[test]
fn a_blackholed_connection_passes_nothing_and_ends_nothing() {
    let (port, ended) = echo_server();
    let proxy = FlightProxy::start(port, DELAY).expect("proxy");
    let mut s = client(&proxy);
    assert_eq!(echoes(&mut s).expect("echo"), 1);
    assert_eq!(proxy.blackhole(), 1);
    let silent = echoes(&mut s).expect_err("no answer, no end");
    assert!(
        matches!(silent.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{silent:?}"
    );
    assert!(
        ended.recv_timeout(Duration::from_millis(200)).is_err(),
        "the server was told nothing"
    );
    // A new connection passes as before.
    let mut again = client(&proxy);
    assert_eq!(echoes(&mut again).expect("echo"), 1);
}

#[test]
fn a_refusing_proxy_closes_new_connections_until_told_otherwise() {
    let (port, _ended) = echo_server();
    let proxy = FlightProxy::start(port, DELAY).expect("proxy");
    proxy.set_refusing(true);
    let mut refused = client(&proxy);
    let mut buf = [0u8; 1];
    assert_eq!(refused.read(&mut buf).expect("an end, not a wait"), 0);
    proxy.set_refusing(false);
    let mut s = client(&proxy);
    assert_eq!(echoes(&mut s).expect("echo"), 1);
}

#[test]
fn releasing_the_upstream_tells_the_server_only() {
    let (port, ended) = echo_server();
    let proxy = FlightProxy::start(port, DELAY).expect("proxy");
    let mut s = client(&proxy);
    assert_eq!(echoes(&mut s).expect("echo"), 1);
    proxy.blackhole();
    proxy.release_upstream();
    ended
        .recv_timeout(Duration::from_secs(5))
        .expect("the server sees its connection end");
    let mut buf = [0u8; 1];
    let silent = s.read(&mut buf).expect_err("the client is told nothing");
    assert!(
        matches!(silent.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{silent:?}"
    );
}
