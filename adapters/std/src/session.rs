//! [`Session`]: the public face of the blocking driver: connect, commands, getters, `pump`.

use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use herald_core::minidom::Element;
use herald_core::{
    Client, Config, ConfigError, DisconnectReason, OsEntropy, Presence, SeededEntropy,
    SessionState, UsageError,
};

use crate::Event;
use herald_io::backoff::Backoff;
use herald_io::target::Target;

use crate::error::Error;
use crate::handle::{Command, CoreCall, Handle};
use crate::options::ConnectOptions;
use crate::tls::TlsConfigs;
use crate::trace::Trace;
use crate::transport::Transport;

/// How long queued [`Handle`] commands may wait while `pump` blocks on the socket.
pub(crate) const COMMAND_POLL: Duration = Duration::from_millis(100);

/// Where the session is, from the driver's point of view.
#[derive(Debug)]
pub(crate) enum Phase {
    /// A core client is driving a connection (or logging in).
    Live,
    /// Waiting until `at` to connect again.
    Backoff { at: Instant },
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
    pub(crate) config: Config,
    pub(crate) options: ConnectOptions,
    pub(crate) tls: TlsConfigs,
    pub(crate) client: Client,
    pub(crate) transport: Option<Transport>,
    pub(crate) entropy: OsEntropy,
    /// The account's presence and status: the next connection's initial presence.
    pub(crate) presence: Presence,
    pub(crate) status: String,
    pub(crate) phase: Phase,
    pub(crate) pending: Vec<Event>,
    pub(crate) close_requested: bool,
    /// Reconnect delays; reset when a session gets online.
    pub(crate) backoff: Backoff,
    /// A `see-other-host` target for the next connection.
    pub(crate) redirect: Option<Target>,
    /// Whether the current connection follows a redirect (which is not followed again).
    pub(crate) redirected: bool,
    pub(crate) trace: Trace,
    pub(crate) read_buf: Vec<u8>,
    handle: Handle,
    commands: Receiver<Command>,
}

impl Session {
    /// Connects: TCP to [`ConnectOptions::server`] (or the JID's domain), the TLS handshake
    /// for [`TlsMode::Direct`](crate::TlsMode::Direct), and the opening of the XMPP stream.
    /// The login goes on in [`pump`](Self::pump).
    ///
    /// Fails with [`Error::Io`] when the server cannot be reached, [`Error::Tls`] when a
    /// direct TLS handshake fails, and [`Error::Config`] for a bad CA file or status text.
    pub fn connect(config: Config, options: ConnectOptions) -> Result<Session, Error> {
        let tls = TlsConfigs::new(options.ca_file.as_deref())?;
        let client = Client::new(config.clone(), OsEntropy).map_err(config_error)?;
        let (tx, commands) = mpsc::channel();
        let mut session = Session {
            presence: config.presence,
            status: config.status.clone(),
            trace: Trace::new(options.trace),
            config,
            options,
            tls,
            client,
            transport: None,
            entropy: OsEntropy,
            phase: Phase::Live,
            pending: Vec::new(),
            close_requested: false,
            backoff: Backoff::default(),
            redirect: None,
            redirected: false,
            read_buf: vec![0; 16 * 1024],
            handle: Handle { tx },
            commands,
        };
        let targets = session.targets();
        session.open_any(targets)?;
        session.drain();
        Ok(session)
    }

    /// Runs the session for at most `max_wait`: reads, timers, TLS, reconnects and queued
    /// [`Handle`] commands. Returns as soon as there are events (an empty list when
    /// `max_wait` passed without any).
    ///
    /// After the final [`Disconnected`](herald_core::Event::Disconnected) event has been
    /// returned, every call returns [`Error::Ended`]. A blocking connect or TLS handshake
    /// during a reconnect may overrun `max_wait` (bounded by the login step timeout).
    pub fn pump(&mut self, max_wait: Duration) -> Result<Vec<Event>, Error> {
        let deadline = Instant::now() + max_wait;
        let mut waited = false;
        loop {
            self.apply_commands();
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

    /// Sets the availability (see [`Client::set_presence`]). While waiting to reconnect,
    /// it becomes the next connection's initial presence.
    pub fn set_presence(&mut self, presence: Presence) -> Result<(), Error> {
        let status = self.status.clone();
        self.change_presence(presence, &status)
    }

    /// Sets the status text (see [`Client::set_status`]).
    pub fn set_status(&mut self, status: &str) -> Result<(), Error> {
        self.change_presence(self.presence, status)
    }

    /// Sets both at once: online, exactly one stanza (see [`Client::change_presence`]).
    pub fn change_presence(&mut self, presence: Presence, status: &str) -> Result<(), Error> {
        self.command(Command::ChangePresence(presence, status.to_string()))
            .map_err(usage_error)
    }

    /// Sends a stanza (message, IQ, directed presence); needs an online session.
    pub fn send(&mut self, stanza: &Element) -> Result<(), Error> {
        self.command(Command::Send(stanza.clone()))
            .map_err(usage_error)
    }

    /// Starts closing: unavailable presence, `</stream:stream>`, a bounded wait for the
    /// server. Keep pumping until `Disconnected { reason: LocalClose }`.
    pub fn close(&mut self) -> Result<(), Error> {
        self.command(Command::Close).map_err(usage_error)
    }

    /// A handle for giving commands from other threads.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Where the session is. While waiting to reconnect: `Disconnected`.
    pub fn state(&self) -> SessionState {
        match &self.phase {
            Phase::Live => self.client.state(),
            Phase::Backoff { .. } => SessionState::Disconnected,
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
        self.presence
    }

    /// The account's current status text.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// Applies one command now; the core's output is drained at once.
    pub(crate) fn command(&mut self, command: Command) -> Result<(), UsageError> {
        let now = Instant::now();
        match (&self.phase, command) {
            (Phase::Ended(reason), _) => return Err(UsageError::SessionEnded(reason.clone())),
            (Phase::Backoff { .. }, Command::Send(_) | Command::Call(_)) => {
                return Err(UsageError::NotOnline);
            }
            (Phase::Backoff { .. }, Command::Close) => {
                self.close_requested = true;
                self.end_unreported(DisconnectReason::LocalClose);
            }
            (Phase::Backoff { .. }, other) => {
                let (presence, status) = self.resolve(other);
                self.check_status(&status)?;
                self.presence = presence;
                self.status = status;
            }
            (Phase::Live, Command::Send(stanza)) => self.client.send(now, &stanza)?,
            (Phase::Live, Command::Call(call)) => self.call_core(now, call)?,
            (Phase::Live, Command::Close) => {
                self.client.close(now)?;
                self.close_requested = true;
            }
            (Phase::Live, other) => {
                let (presence, status) = self.resolve(other);
                self.client.change_presence(now, presence, &status)?;
                self.presence = self.client.presence();
                self.status = self.client.status().to_string();
            }
        }
        self.drain();
        Ok(())
    }

    /// A core call on the live client; refused while waiting to reconnect.
    fn call_core(&mut self, now: Instant, call: CoreCall) -> Result<(), UsageError> {
        call(&mut self.client, now)?;
        self.presence = self.client.presence();
        self.status = self.client.status().to_string();
        Ok(())
    }

    /// The presence and status a presence command asks for.
    fn resolve(&self, command: Command) -> (Presence, String) {
        match command {
            Command::SetPresence(p) => (p, self.status.clone()),
            Command::SetStatus(s) => (self.presence, s),
            Command::ChangePresence(p, s) => (p, s),
            Command::Send(_) | Command::Close | Command::Call(_) => {
                (self.presence, self.status.clone())
            }
        }
    }

    /// Checks status text while no client is live, the way the core would.
    fn check_status(&self, status: &str) -> Result<(), UsageError> {
        let mut probe = self.config.clone();
        probe.status = status.to_string();
        match Client::new(probe, SeededEntropy::new(0)) {
            Err(ConfigError::InvalidStatus { ch }) => Err(UsageError::InvalidText { ch }),
            _ => Ok(()),
        }
    }

    fn apply_commands(&mut self) {
        while let Ok(command) = self.commands.try_recv() {
            if let Err(error) = self.command(command) {
                self.pending.push(Event::CommandFailed { error });
            }
        }
    }

    /// A core client for the next connection, starting from the current presence and status.
    pub(crate) fn new_client(&self) -> Client {
        let mut config = self.config.clone();
        config.presence = self.presence;
        config.status = self.status.clone();
        // SCRAM keys of the last login: a reconnect skips PBKDF2.
        config.scram_cache = self.client.scram_cache().clone();
        // The status was checked when it was set; the original config is known to be good.
        Client::new(config, OsEntropy)
            .or_else(|_| Client::new(self.config.clone(), OsEntropy))
            .unwrap_or_else(|_| unreachable!("the original config was accepted at connect"))
    }
}

fn config_error(e: ConfigError) -> Error {
    Error::Config(e.to_string())
}

pub(crate) fn usage_error(e: UsageError) -> Error {
    match e {
        UsageError::SessionEnded(reason) => Error::Ended(reason),
        other => Error::Usage(other),
    }
}
