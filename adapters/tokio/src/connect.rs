//! Reaching a server: TCP and direct TLS, each bounded by the login step timeout, and the
//! socket before and after TLS. Which targets, and what a failure means, is the
//! supervisor's business (`herald_io::supervisor`).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use herald_core::Transport;
use herald_io::target::Target;
use herald_io::tls::{TlsConfigs, handshake_failure};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

/// Why a target could not be used.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// TCP failed or timed out, or the TLS handshake failed underneath or timed out: try
    /// the next target.
    Unreachable(String),
    /// TLS itself failed (certificate, alert): stop.
    Tls(String),
}

/// TCP to `target` (bounded by `step`), then for direct TLS the handshake for
/// `server_name` (bounded by `step` again). Returns the socket and what to tell the core.
pub(crate) async fn open(
    target: &Target,
    server_name: &str,
    tls: &TlsConfigs,
    step: Duration,
) -> Result<(Conn, Transport), OpenError> {
    let conn = tcp(&target.host, target.port, step).await?;
    if !target.direct_tls {
        return Ok((conn, Transport::Plain));
    }
    let conn = handshake(conn, tls.direct.clone(), server_name, step).await?;
    let binding = conn.channel_binding();
    Ok((conn, Transport::DirectTls(binding)))
}

/// TCP to `host`:`port`, bounded by `step`, Nagle off (a login is a string of small round
/// trips: Nagle would add a delay to each).
pub(crate) async fn tcp(host: &str, port: u16, step: Duration) -> Result<Conn, OpenError> {
    match tokio::time::timeout(step, TcpStream::connect((host, port))).await {
        Ok(Ok(tcp)) => {
            let _ = tcp.set_nodelay(true);
            Ok(Conn::Plain(tcp))
        }
        Ok(Err(e)) => Err(OpenError::Unreachable(e.to_string())),
        Err(_) => Err(OpenError::Unreachable("timed out".into())),
    }
}

/// The TLS handshake on a plain socket, bounded by `step`: a certificate or alert failure is
/// [`OpenError::Tls`] (never retried), anything else network trouble.
pub(crate) async fn handshake(
    conn: Conn,
    config: Arc<ClientConfig>,
    server_name: &str,
    step: Duration,
) -> Result<Conn, OpenError> {
    match tokio::time::timeout(step, conn.upgrade(config, server_name)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(match handshake_failure(&e) {
            Some(message) => OpenError::Tls(message),
            None => OpenError::Unreachable(format!("TLS handshake: {e}")),
        }),
        Err(_) => Err(OpenError::Unreachable("the TLS handshake timed out".into())),
    }
}

/// The socket, before or after TLS.
#[derive(Debug)]
pub(crate) enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// After a failed upgrade or a close.
    Gone,
}

impl Conn {
    /// Runs the TLS handshake on the plain socket.
    pub(crate) async fn upgrade(
        self,
        config: Arc<ClientConfig>,
        server_name: &str,
    ) -> io::Result<Conn> {
        let Conn::Plain(tcp) = self else {
            return Err(io::Error::other(
                "TLS requested on a socket that is not plain TCP",
            ));
        };
        let name = ServerName::try_from(server_name.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let tls = TlsConnector::from(config).connect(name, tcp).await?;
        Ok(Conn::Tls(Box::new(tls)))
    }

    /// A one-line summary of the TLS session, for the log.
    pub(crate) fn describe(&self) -> String {
        match self {
            Conn::Tls(tls) => {
                let conn = tls.get_ref().1;
                format!(
                    "TLS established: {:?} {:?}",
                    conn.protocol_version(),
                    conn.negotiated_cipher_suite().map(|s| s.suite())
                )
            }
            _ => "no TLS".into(),
        }
    }

    /// The channel-binding data, once TLS is up.
    pub(crate) fn channel_binding(&self) -> Option<herald_core::ChannelBinding> {
        match self {
            Conn::Tls(tls) => Some(herald_io::tls::channel_binding(tls.get_ref().1)),
            _ => None,
        }
    }
}

impl Conn {
    /// Waits until the socket has something to read (bytes or an end) without holding a
    /// buffer, so that an idle session costs none. Spurious: the read that follows may
    /// find only part of a TLS record, and return [`Poll::Pending`].
    pub(crate) async fn readable(&self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.readable().await,
            Conn::Tls(s) => s.get_ref().0.readable().await,
            Conn::Gone => std::future::pending().await,
        }
    }

    /// Reads what is there now into a buffer of `chunk` bytes made for it; `None` when
    /// nothing is (the next [`readable`](Conn::readable) waits for more). `Some(Ok(empty))`
    /// is the end of the stream.
    pub(crate) fn read_now(&mut self, chunk: usize) -> Option<io::Result<Vec<u8>>> {
        let mut buf = vec![0u8; chunk];
        let mut read = ReadBuf::new(&mut buf);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match Pin::new(self).poll_read(&mut cx, &mut read) {
            Poll::Pending => None,
            Poll::Ready(Err(e)) => Some(Err(e)),
            Poll::Ready(Ok(())) => {
                let n = read.filled().len();
                buf.truncate(n);
                Some(Ok(buf))
            }
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            // Nothing to read any more: wait for the other branches of the select.
            Conn::Gone => Poll::Pending,
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Conn::Gone => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Conn::Gone => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Conn::Gone => Poll::Ready(Ok(())),
        }
    }
}
