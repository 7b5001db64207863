//! Reaching a server: targets from options or DNS SRV, TCP with a timeout, TLS with rustls.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use herald_io::target::{Target, fallback, lookup_srv};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::options::{ConnectOptions, TlsMode};

/// The places to try, in order.
pub(crate) async fn targets(domain: &str, options: &ConnectOptions) -> Vec<Target> {
    if let Some((host, port)) = &options.server {
        return vec![Target {
            host: host.clone(),
            port: *port,
            direct_tls: options.tls == Some(TlsMode::Direct),
        }];
    }
    let mut ordered = lookup_srv(domain).await;
    if let Some(mode) = options.tls {
        ordered.retain(|t| t.direct_tls == (mode == TlsMode::Direct));
    }
    if ordered.is_empty() {
        let mut target = fallback(domain);
        if options.tls == Some(TlsMode::Direct) {
            target.direct_tls = true;
            target.port = 5223;
        }
        ordered.push(target);
    }
    ordered
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

    /// The channel-binding data, once TLS is up.
    pub(crate) fn channel_binding(&self) -> Option<herald_core::ChannelBinding> {
        match self {
            Conn::Tls(tls) => Some(herald_io::tls::channel_binding(tls.get_ref().1)),
            _ => None,
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
