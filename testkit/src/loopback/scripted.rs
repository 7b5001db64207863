//! A loopback connection played by the [`ScriptedServer`], the same server the in-memory
//! tests use: the login a profile describes, with real STARTTLS.

use std::io::{ErrorKind, Write};
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::conn::{Conn, Socket};
use crate::profile::ServerProfile;
use crate::server::{ScriptedServer, ServerPhase};

/// What a [`Conn::serve_with`] hook tells the serving loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// Go on serving.
    Serve,
    /// Drop the connection at once (no stream close).
    Cut,
}

impl Conn {
    /// Plays `profile` until the client closes its stream, the connection ends or the
    /// server is dropped. The elements the client sends go to the connection's log.
    pub fn serve(&mut self, profile: &ServerProfile) {
        self.serve_with(profile, |_, _| Then::Serve);
    }

    /// [`serve`](Conn::serve), dropping the connection (no stream close) as soon as `cut`
    /// holds for the server, say once the client's initial presence arrived.
    pub fn serve_until(&mut self, profile: &ServerProfile, cut: impl Fn(&ScriptedServer) -> bool) {
        self.serve_with(
            profile,
            |server, _| {
                if cut(server) { Then::Cut } else { Then::Serve }
            },
        );
    }

    /// [`serve`](Conn::serve), calling `hook` after each read with the server and the
    /// connection (to write more, as a flood of presence) and cutting when it says so.
    pub fn serve_with(
        &mut self,
        profile: &ServerProfile,
        mut hook: impl FnMut(&ScriptedServer, &mut Conn) -> Then,
    ) {
        let mut server = ScriptedServer::new(profile.clone());
        let mut buf = [0u8; 16 * 1024];
        self.set_read_timeout(Duration::from_millis(20));
        while !self.stop.load(Ordering::Relaxed) {
            let out = server.take_output();
            if !out.is_empty() && self.write(&out).is_err() {
                break;
            }
            if server.phase == ServerPhase::TlsPending {
                self.set_read_timeout(Duration::from_secs(10));
                if self.start_tls().is_err() {
                    break;
                }
                self.set_read_timeout(Duration::from_millis(20));
                server.tls_done();
            }
            match self.read_raw(&mut buf) {
                Ok(0) => break,
                Ok(n) => server.handle_input(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => break,
            }
            {
                let mut log = self.log.lock().expect("log lock");
                log.received = server.received.clone();
                log.client_closed = server.client_closed;
            }
            // The answers to what was just read go out before the hook looks: a client that
            // pipelines its initial presence with its bind request gets its bind result
            // before a cut "after the initial presence".
            if server.phase != ServerPhase::TlsPending {
                let out = server.take_output();
                if !out.is_empty() && self.write(&out).is_err() {
                    break;
                }
            }
            if hook(&server, self) == Then::Cut {
                break;
            }
            // A server that does not answer the close stays silent, connected, until the
            // client gives up.
            if server.client_closed && server.phase == ServerPhase::Closed && profile.answer_close {
                let out = server.take_output();
                let _ = self.write(&out);
                if let Socket::Tls(s) = &mut self.socket {
                    s.conn.send_close_notify();
                    let _ = s.flush();
                }
                break;
            }
        }
        self.drop_connection();
    }

    fn set_read_timeout(&self, timeout: Duration) {
        let tcp = match &self.socket {
            Socket::Plain(tcp) => tcp,
            Socket::Tls(s) => s.get_ref(),
            Socket::Gone => return,
        };
        let _ = tcp.set_read_timeout(Some(timeout));
    }
}
