//! The same bytes through the anchors: tokio-xmpp 6's `xmlstream` (its own stream parsing,
//! into `xmpp_parsers` stanzas) and rxml + minidom's own tree builder.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::StreamExt;
use minidom::rxml::{Parse, RawParser};
use minidom::tree_builder::TreeBuilder;
use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};
use tokio_xmpp::xmlstream::{self, ReadError, StreamHeader, Timeouts, XmppStreamElement};

use crate::CHUNK;

/// An in-memory transport: reads `data` at most [`CHUNK`] bytes at a time, swallows writes.
#[derive(Debug)]
pub struct ChunkedReader<'a> {
    data: &'a [u8],
}

impl<'a> ChunkedReader<'a> {
    /// A transport that will deliver `data`, then end of file.
    pub fn new(data: &'a [u8]) -> Self {
        ChunkedReader { data }
    }
}

impl AsyncRead for ChunkedReader<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.data.len().min(CHUNK).min(buf.remaining());
        buf.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for ChunkedReader<'_> {
    fn poll_fill_buf(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        let n = this.data.len().min(CHUNK);
        Poll::Ready(Ok(&this.data[..n]))
    }

    fn consume(mut self: Pin<&mut Self>, amt: usize) {
        self.data = &self.data[amt..];
    }
}

impl AsyncWrite for ChunkedReader<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A runtime for the tokio-xmpp anchor (current thread, timers on: its xmlstream arms
/// read timeouts).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime")
}

/// tokio-xmpp 6: initiates the stream over `stream` (header, features, stanzas, footer),
/// reads every element as an `XmppStreamElement` (stanzas parsed into `xmpp_parsers`
/// types) until the footer. Returns how many elements were read.
pub fn tokio_xmpp(rt: &tokio::runtime::Runtime, stream: &[u8]) -> usize {
    rt.block_on(async {
        let mut xml = tokio_xmpp_open(stream).await;
        let mut n = 0;
        loop {
            match xml.next().await {
                Some(Ok(el)) => {
                    std::hint::black_box(&el);
                    n += 1;
                }
                Some(Err(ReadError::StreamFooterReceived)) | None => return n,
                Some(Err(e)) => panic!("tokio-xmpp: {e}"),
            }
        }
    })
}

/// tokio-xmpp 6's `XmlStream` over `stream`, past the stream header and the features.
async fn tokio_xmpp_open(
    stream: &[u8],
) -> xmlstream::XmlStream<ChunkedReader<'_>, XmppStreamElement> {
    let pending = xmlstream::initiate_stream(
        ChunkedReader::new(stream),
        "jabber:client",
        StreamHeader {
            to: Some("localhost".into()),
            ..StreamHeader::default()
        },
        Timeouts::default(),
    )
    .await
    .expect("stream header");
    let (_features, xml) = pending
        .recv_features::<XmppStreamElement>()
        .await
        .expect("features");
    xml
}

/// rxml + minidom alone: rxml's raw parser and minidom's `TreeBuilder`, taking each
/// complete child of the stream root off the tree, in [`CHUNK`]-byte chunks.
pub fn minidom(stream: &[u8]) -> usize {
    let mut parser = RawParser::new();
    let mut builder = TreeBuilder::new();
    let mut n = 0;
    for chunk in stream.chunks(CHUNK) {
        let mut input = chunk;
        loop {
            match parser.parse(&mut input, false) {
                Ok(Some(event)) => {
                    builder.process_event(event).expect("minidom");
                    if builder.depth() == 1
                        && let Some(el) = builder.unshift_child()
                    {
                        std::hint::black_box(&el);
                        n += 1;
                    }
                }
                Ok(None) => return n,
                Err(minidom::rxml::error::EndOrError::NeedMoreData) => break,
                Err(e) => panic!("rxml: {e:?}"),
            }
        }
    }
    n
}

/// tokio-xmpp 6 idle: the `XmlStream` after the header and features of `stream`, held.
pub fn tokio_xmpp_idle<'a>(
    rt: &tokio::runtime::Runtime,
    stream: &'a [u8],
) -> xmlstream::XmlStream<ChunkedReader<'a>, XmppStreamElement> {
    rt.block_on(tokio_xmpp_open(stream))
}

/// The anchor of a presence change: build the presence with minidom and write it.
pub fn minidom_presence(show: Option<&str>, status: &str, out: &mut Vec<u8>) {
    let mut presence = minidom::Element::builder("presence", "jabber:client");
    if let Some(show) = show {
        presence = presence.append(
            minidom::Element::builder("show", "jabber:client")
                .append(show)
                .build(),
        );
    }
    if !status.is_empty() {
        presence = presence.append(
            minidom::Element::builder("status", "jabber:client")
                .append(status)
                .build(),
        );
    }
    presence.build().write_to(out).expect("writable");
}

/// The ceiling of any consumer of rxml: its namespace-resolving `Parser` (what Herald
/// uses, with Herald's 4 KiB token limit) producing events that are dropped at once.
/// Returns the number of events.
pub fn rxml_events(stream: &[u8]) -> usize {
    use minidom::rxml::{Options, Parser, WithOptions};
    let mut parser = Parser::with_options(Options {
        max_token_length: 4096,
        ..Options::default()
    });
    drain_events(&mut parser, stream)
}

/// rxml's `RawParser` (no namespace resolution), events dropped at once.
pub fn rxml_raw_events(stream: &[u8]) -> usize {
    drain_events(&mut RawParser::new(), stream)
}

fn drain_events<P: Parse>(parser: &mut P, stream: &[u8]) -> usize {
    let mut n = 0;
    for chunk in stream.chunks(CHUNK) {
        let mut input = chunk;
        loop {
            match parser.parse(&mut input, false) {
                Ok(Some(event)) => {
                    std::hint::black_box(&event);
                    n += 1;
                }
                Ok(None) => return n,
                Err(minidom::rxml::error::EndOrError::NeedMoreData) => break,
                Err(e) => panic!("rxml: {e:?}"),
            }
        }
    }
    n
}

/// The login anchor: tokio-xmpp's SCRAM client (the `sasl` crate) computing
/// client-first and client-final for SCRAM-SHA-1 at `iterations`, the bulk of a login's CPU
/// (tokio-xmpp's whole login needs a real server and TLS). Returns the client-final message.
pub fn sasl_scram_sha1(iterations: u32) -> Vec<u8> {
    use sasl::client::Mechanism;
    use sasl::client::mechanisms::Scram;
    use sasl::common::ChannelBinding;
    use sasl::common::scram::Sha1;

    let mut scram =
        Scram::<Sha1>::new("alice", "wonderland", ChannelBinding::None).expect("a nonce");
    let first = scram.initial();
    let first = String::from_utf8(first).expect("ASCII");
    let nonce = first.rsplit("r=").next().expect("a nonce");
    // "prosody-salt-16b" in base64, as the scripted server's salt.
    let server_first =
        format!("r={nonce}prosody3rfcNHYJY1ZVvWVs7j,s=cHJvc29keS1zYWx0LTE2Yg==,i={iterations}");
    scram
        .response(server_first.as_bytes())
        .expect("client-final")
}
