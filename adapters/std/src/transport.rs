//! The socket under a session: plain TCP or rustls over TCP, read with a timeout.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use rustls::ClientConnection;

/// How long a write may block before the connection counts as lost.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// What one read produced.
#[derive(Debug)]
pub(crate) enum ReadOutcome {
    /// Bytes for the core.
    Data(usize),
    /// The peer closed the connection.
    Eof,
    /// Nothing arrived before the read timeout.
    TimedOut,
}

/// An open connection.
#[derive(Debug)]
pub(crate) enum Transport {
    Plain(TcpStream),
    Tls {
        conn: Box<ClientConnection>,
        tcp: TcpStream,
    },
}

impl Transport {
    fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(tcp) | Transport::Tls { tcp, .. } => tcp,
        }
    }

    /// Reads what is available, waiting at most `timeout` (at least one millisecond).
    pub(crate) fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<ReadOutcome> {
        self.tcp()
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        let result = match self {
            Transport::Plain(tcp) => tcp.read(buf),
            Transport::Tls { conn, tcp } => read_tls(conn, tcp, buf),
        };
        match result {
            Ok(0) => Ok(ReadOutcome::Eof),
            Ok(n) => Ok(ReadOutcome::Data(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(ReadOutcome::TimedOut)
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(ReadOutcome::Eof),
            Err(e) => Err(e),
        }
    }

    /// Writes all of `data`.
    pub(crate) fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Transport::Plain(tcp) => tcp.write_all(data),
            Transport::Tls { conn, tcp } => {
                conn.writer().write_all(data)?;
                while conn.wants_write() {
                    conn.write_tls(tcp)?;
                }
                Ok(())
            }
        }
    }

    /// Closes the connection (with a TLS `close_notify` first); errors are ignored because
    /// the connection is being thrown away.
    pub(crate) fn shutdown(mut self) {
        if let Transport::Tls { conn, tcp } = &mut self {
            conn.send_close_notify();
            while conn.wants_write() {
                if conn.write_tls(tcp).is_err() {
                    break;
                }
            }
        }
        let _ = self.tcp().shutdown(std::net::Shutdown::Both);
    }
}

/// Reads plaintext from a TLS connection, pulling records from the socket as needed.
fn read_tls(conn: &mut ClientConnection, tcp: &mut TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match conn.reader().read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        if conn.read_tls(tcp)? == 0 {
            // The socket closed without close_notify: the reader reports UnexpectedEof next.
            continue;
        }
        let state = conn
            .process_new_packets()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e));
        // Alerts and post-handshake replies (key updates) go out even when processing failed.
        while conn.wants_write() {
            conn.write_tls(tcp)?;
        }
        state?;
    }
}

/// Connects to `host:port`, trying each resolved address in turn.
pub(crate) fn connect_tcp(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = None;
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(tcp) => {
                tcp.set_nodelay(true)?;
                tcp.set_write_timeout(Some(WRITE_TIMEOUT))?;
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} resolves to no address"),
        )
    }))
}
