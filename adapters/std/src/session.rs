//! [`Session`]: the public face of the blocking driver: connect, commands, getters, `pump`.

use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use herald_core::minidom::Element;
use herald_core::{
    Client, Config, DisconnectReason, OsEntropy, Presence, Roster, SessionState, UsageError,
};
use herald_io::supervisor::{Next, Retry, Supervisor};
use herald_io::tls::{TlsConfigs, TlsSetupError};
use herald_io::trace::XmlTrace;
use herald_io::{Command, ConnectOptions};

use crate::Event;
use crate::error::Error;
use crate::handle::Handle;
use crate::transport::Transport;

/// How long queued [`Handle`] commands may wait while `pump` blocks on the socket.
pub(crate) const COMMAND_POLL: Duration = Duration::from_millis(100);

/// Where the session is, from the driver's point of view.
#[derive(Debug)]
pub(crate) enum Phase {
    /// A core client is driving a connection (or logging in).
    Live,
    /// Waiting to connect again, as the supervisor said.
    Waiting(Retry),
    /// Over for good.
    Ended(DisconnectReason),
}

/// A blocking XMPP session over `std::net::TcpStream` and rustls.
///
/// [`connect`](Self::connect) opens the connection; [`pump`](Self::pump) does everything
/// else (login, TLS, timers, reconnects) and returns the events. Commands can be given
/// directly or, from other threads, through a [`Handle`]. See the [crate docs](crate).
#[derive(Debug)]
pub struct Session {
    pub(crate) options: ConnectOptions,
    pub(crate) tls: TlsConfigs,
    /// Presence, status, caches and the reconnect rules, across connections.
    pub(crate) sup: Supervisor,
    /// The live core client, or the last one while waiting to reconnect.
    pub(crate) client: Client,
    pub(crate) transport: Option<Transport>,
    pub(crate) phase: Phase,
    pub(crate) pending: Vec<Event>,
    /// Why the last connection ended, as the core said.
    pub(crate) last_reason: Option<DisconnectReason>,
    pub(crate) trace: XmlTrace,
    pub(crate) read_buf: Vec<u8>,
    pub(crate) empty_roster: Roster,
    handle: Handle,
    commands: Receiver<Command>,
}

impl Session {
    /// Connects: TCP to [`ConnectOptions::server`] (or the targets of the JID's domain), the
    /// TLS handshake for [`TlsMode::Direct`](crate::TlsMode::Direct), and the opening of the
    /// XMPP stream. The login goes on in [`pump`](Self::pump).
    ///
    /// Fails with [`Error::Io`] when no server can be reached (the supervisor's rule for a
    /// first attempt), [`Error::Tls`] when a direct TLS handshake fails, and
    /// [`Error::Config`] for a bad CA file or configuration.
    pub fn connect(config: Config, options: ConnectOptions) -> Result<Session, Error> {
        options.check().map_err(|e| Error::Config(e.to_string()))?;
        if options.websocket.is_some() {
            return Err(Error::Config(
                "XMPP over WebSocket needs herald-tokio; herald-std speaks TCP only".into(),
            ));
        }
        let tls = options.tls_configs().map_err(|e| match e {
            TlsSetupError::CaFile { .. } | TlsSetupError::Platform(_) => {
                Error::Config(e.to_string())
            }
            other => Error::Tls(other.to_string()),
        })?;
        let mut sup = Supervisor::new(config, &options, OsEntropy);
        let client = sup
            .next_client(OsEntropy)
            .map_err(|e| Error::Config(e.to_string()))?;
        let (tx, commands) = mpsc::channel();
        let mut session = Session {
            trace: XmlTrace::new(options.trace),
            options,
            tls,
            sup,
            client,
            transport: None,
            phase: Phase::Live,
            pending: Vec::new(),
            last_reason: None,
            read_buf: vec![0; 16 * 1024],
            empty_roster: Roster::default(),
            handle: Handle { tx },
            commands,
        };
        let targets = session.targets(None);
        match session.open_any(targets) {
            Ok(()) => session.drain(),
            Err(failure) => match session.on_open_failure(&failure) {
                Next::End(_) => return Err(failure.into()),
                retry @ Next::Retry(_) => session.follow(retry, false),
            },
        }
        Ok(session)
    }

    /// Runs the session for at most `max_wait`: reads, timers, TLS, reconnects and queued
    /// [`Handle`] commands. Returns as soon as there are events (an empty list when
    /// `max_wait` passed without any).
    ///
    /// The socket is read only in here, one buffer (16 KiB) at a time, and `pump` returns
    /// the events that buffer produced: an application that stops pumping stops the
    /// reading, and TCP holds the server back. That is this adapter's back-pressure.
    ///
    /// After the final [`Disconnected`](herald_core::Event::Disconnected) event has been
    /// returned, every call returns [`Error::Ended`]. A blocking connect or TLS handshake
    /// during a reconnect may overrun `max_wait` (bounded by the login step timeout).
    pub fn pump(&mut self, max_wait: Duration) -> Result<Vec<Event>, Error> {
        let deadline = Instant::now() + max_wait;
        let mut waited = false;
        loop {
            self.apply_queued_commands();
            if !self.pending.is_empty() {
                return Ok(std::mem::take(&mut self.pending));
            }
            if let Phase::Ended(reason) = &self.phase {
                return Err(Error::Ended(reason.clone()));
            }
            let now = Instant::now();
            if waited && now >= deadline {
                return Ok(Vec::new());
            }
            waited = true;
            self.step(deadline.min(now + COMMAND_POLL).max(now));
        }
    }

    /// Pumps until the session ends, handing every event to `on_event`. Returns `Ok` after
    /// a [`close`](Self::close) (from here or a [`Handle`]) completed, else
    /// [`Error::Ended`] with the reason.
    pub fn run(&mut self, mut on_event: impl FnMut(Event)) -> Result<(), Error> {
        loop {
            match self.pump(Duration::from_secs(1)) {
                Ok(events) => events.into_iter().for_each(&mut on_event),
                Err(Error::Ended(DisconnectReason::LocalClose)) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Applies `command` now (the named methods are shorthands for it); the core's output
    /// is drained at once. While waiting to reconnect, presence and status become the next
    /// connection's initial presence and the rest is refused with
    /// [`UsageError::NotOnline`].
    pub fn command(&mut self, command: Command) -> Result<(), Error> {
        self.apply(command).map_err(usage_error)
    }

    /// Sets the availability (see [`Client::set_presence`]).
    pub fn set_presence(&mut self, presence: Presence) -> Result<(), Error> {
        self.command(Command::set_presence(presence))
    }

    /// Sets the status text (see [`Client::set_status`]).
    pub fn set_status(&mut self, status: &str) -> Result<(), Error> {
        self.command(Command::set_status(status))
    }

    /// Sets both at once: online, exactly one stanza (see [`Client::change_presence`]).
    pub fn change_presence(&mut self, presence: Presence, status: &str) -> Result<(), Error> {
        self.command(Command::change_presence(presence, status))
    }

    /// Sends a stanza (message, IQ, directed presence); needs an online session.
    pub fn send(&mut self, stanza: &Element) -> Result<(), Error> {
        self.command(Command::Send(Box::new(stanza.clone())))
    }

    /// Starts closing: unavailable presence, `</stream:stream>`, a bounded wait for the
    /// server. Keep pumping until `Disconnected { reason: LocalClose }`.
    pub fn close(&mut self) -> Result<(), Error> {
        self.command(Command::Close)
    }

    /// A handle for giving commands from other threads.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Where the session is. While waiting to reconnect: `Disconnected`.
    pub fn state(&self) -> SessionState {
        match &self.phase {
            Phase::Live => self.client.state(),
            Phase::Waiting(_) => SessionState::Disconnected,
            Phase::Ended(reason) => SessionState::Closed {
                reason: reason.clone(),
            },
        }
    }

    /// Whether the session is over for good (no reconnect will follow).
    pub fn is_ended(&self) -> bool {
        matches!(self.phase, Phase::Ended(_))
    }

    /// The account's current availability.
    pub fn presence(&self) -> Presence {
        self.sup.presence()
    }

    /// The account's current status text.
    pub fn status(&self) -> &str {
        self.sup.status()
    }

    /// Applies one command now: to the live client, or by the supervisor's rules while
    /// waiting to reconnect.
    pub(crate) fn apply(&mut self, command: Command) -> Result<(), UsageError> {
        match &self.phase {
            Phase::Ended(reason) => return Err(UsageError::SessionEnded(reason.clone())),
            Phase::Waiting(_) => {
                if let Some(end) = self.sup.apply_between(command)? {
                    self.finish(end, false);
                }
            }
            Phase::Live => {
                self.sup
                    .apply_live(&mut self.client, Instant::now(), command)?;
                self.drain();
            }
        }
        Ok(())
    }

    fn apply_queued_commands(&mut self) {
        while let Ok(command) = self.commands.try_recv() {
            if let Err(error) = self.apply(command) {
                self.pending.push(Event::CommandFailed { error });
            }
        }
    }
}

pub(crate) fn usage_error(e: UsageError) -> Error {
    match e {
        UsageError::SessionEnded(reason) => Error::Ended(reason),
        other => Error::Usage(other),
    }
}
