//! Scenarios run against real servers with the blocking adapter (`herald-std`), shared by
//! `real_prosody.rs` and `real_ejabberd.rs`. Each account's session runs on its own thread,
//! pumping and forwarding every event; the test waits for events with deadlines, so a hang
//! fails with the history of what was seen instead of blocking CI.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use herald_core::{
    Config, DisconnectReason, Event as CoreEvent, IncomingPresence, Presence, SessionState,
};
use herald_std::{ConnectOptions, Event, Handle, Session, TlsMode};
use herald_testkit::real::RealServer;

/// How long any single expected thing may take.
pub const STEP: Duration = Duration::from_secs(20);

/// What a session thread reports.
#[derive(Debug, Clone)]
pub enum Seen {
    Event(Event),
    /// `Session::connect` or `pump` failed; the thread has stopped.
    Failed(String),
    /// `pump` returned `Error::Ended` with this reason; the thread has stopped.
    Ended(DisconnectReason),
}

/// One account's session, pumped on its own thread.
pub struct Peer {
    pub name: String,
    pub handle: Option<Handle>,
    rx: Receiver<Seen>,
    pub history: Vec<Seen>,
    /// Index into `history` up to which `wait_for` has consumed.
    cursor: usize,
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
}

/// Connect options for a test server: its loopback port, STARTTLS, its test CA.
pub fn options(server: &dyn RealServer, trust_ca: bool, reconnect: bool) -> ConnectOptions {
    let mut o = ConnectOptions::default();
    o.server = Some(("127.0.0.1".to_string(), server.port()));
    o.tls = TlsMode::StartTls;
    o.ca_file = trust_ca.then(|| server.ca_pem_path().to_path_buf());
    o.reconnect = reconnect;
    o.trace = std::env::var_os("HERALD_TEST_TRACE").is_some();
    o
}

/// A config for `jid` with an initial presence.
pub fn config(jid: &str, password: &str, presence: Presence, status: &str) -> Config {
    let mut c = Config::new(jid, password.to_string()).expect("valid config");
    c.presence = presence;
    c.status = status.to_string();
    c
}

impl Peer {
    /// Connects on a new thread and starts pumping.
    pub fn start(name: &str, config: Config, options: ConnectOptions) -> Peer {
        let (tx, rx) = mpsc::channel();
        let (htx, hrx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let join = std::thread::Builder::new()
            .name(format!("session-{name}"))
            .spawn(move || {
                let mut session = match Session::connect(config, options) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = htx.send(None);
                        let _ = tx.send(Seen::Failed(format!("connect: {e:?} ({e})")));
                        return;
                    }
                };
                let _ = htx.send(Some(session.handle()));
                while !stop2.load(Ordering::Relaxed) {
                    match session.pump(Duration::from_millis(100)) {
                        Ok(events) => {
                            for e in events {
                                if tx.send(Seen::Event(e)).is_err() {
                                    return;
                                }
                            }
                        }
                        Err(herald_std::Error::Ended(reason)) => {
                            let _ = tx.send(Seen::Ended(reason));
                            return;
                        }
                        Err(e) => {
                            let _ = tx.send(Seen::Failed(format!("pump: {e:?} ({e})")));
                            return;
                        }
                    }
                }
                // Asked to stop: close politely, briefly.
                let _ = session.close();
                let deadline = Instant::now() + Duration::from_secs(3);
                while Instant::now() < deadline {
                    if session.pump(Duration::from_millis(100)).is_err() {
                        break;
                    }
                }
            })
            .expect("spawn session thread");
        let handle = hrx.recv_timeout(STEP).ok().flatten();
        Peer {
            name: name.to_string(),
            handle,
            rx,
            history: Vec::new(),
            cursor: 0,
            stop,
            join: Some(join),
        }
    }

    /// A peer whose session runs elsewhere (another adapter) and reports on `rx`; `stop`
    /// asks that thread to end, and dropping the peer waits for `join`.
    pub fn from_thread(
        name: &str,
        rx: Receiver<Seen>,
        stop: Arc<AtomicBool>,
        join: JoinHandle<()>,
    ) -> Peer {
        Peer {
            name: name.to_string(),
            handle: None,
            rx,
            history: Vec::new(),
            cursor: 0,
            stop,
            join: Some(join),
        }
    }

    fn receive(&mut self, until: Instant) -> bool {
        let now = Instant::now();
        if now >= until {
            return false;
        }
        match self.rx.recv_timeout(until - now) {
            Ok(seen) => {
                self.history.push(seen);
                true
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => {
                // The thread stopped; nothing more will come.
                std::thread::sleep(
                    until
                        .saturating_duration_since(Instant::now())
                        .min(Duration::from_millis(50)),
                );
                false
            }
        }
    }

    /// Waits (up to `timeout`) for the next thing matching `pred` after what earlier waits
    /// consumed; panics with the history if it does not come.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        mut pred: impl FnMut(&Seen) -> bool,
    ) -> Seen {
        let deadline = Instant::now() + timeout;
        loop {
            while self.cursor < self.history.len() {
                let i = self.cursor;
                self.cursor += 1;
                if pred(&self.history[i]) {
                    return self.history[i].clone();
                }
            }
            if !self.receive(deadline) && Instant::now() >= deadline {
                panic!(
                    "{}: no {what} within {timeout:?}; seen:\n{}",
                    self.name,
                    self.dump()
                );
            }
        }
    }

    /// Everything that arrives within `window` (without consuming it for `wait_for`).
    pub fn collect_for(&mut self, window: Duration) -> Vec<Seen> {
        let start = self.history.len();
        let deadline = Instant::now() + window;
        while Instant::now() < deadline {
            self.receive(deadline);
        }
        self.history[start..].to_vec()
    }

    /// Skips everything received so far.
    pub fn mark(&mut self) {
        while let Ok(seen) = self.rx.try_recv() {
            self.history.push(seen);
        }
        self.cursor = self.history.len();
    }

    pub fn wait_online(&mut self) -> String {
        match self.wait_for("Online", STEP, |s| {
            matches!(s, Seen::Event(Event::Core(CoreEvent::Online { .. })))
        }) {
            Seen::Event(Event::Core(CoreEvent::Online { jid })) => jid.to_string(),
            _ => unreachable!(),
        }
    }

    /// Waits for a presence from `user` (any resource, or this one) matching `pred`.
    pub fn wait_presence(
        &mut self,
        what: &str,
        user: &str,
        resource: Option<&str>,
        mut pred: impl FnMut(&IncomingPresence) -> bool,
    ) -> IncomingPresence {
        let user = user.to_string();
        let resource = resource.map(str::to_string);
        match self.wait_for(what, STEP, |s| match s {
            Seen::Event(Event::Core(CoreEvent::Presence(p))) => {
                p.user() == Some(user.as_str())
                    && (resource.is_none() || p.resource() == resource.as_deref())
                    && pred(p)
            }
            _ => false,
        }) {
            Seen::Event(Event::Core(CoreEvent::Presence(p))) => p,
            _ => unreachable!(),
        }
    }

    pub fn handle(&self) -> &Handle {
        self.handle
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no session handle; seen:\n{}", self.name, self.dump()))
    }

    pub fn dump(&self) -> String {
        self.history
            .iter()
            .map(|s| format!("  {s:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Presences received from `user`, in order, as (resource, availability, status).
    pub fn presences_from(&self, user: &str) -> Vec<(String, Presence, String)> {
        self.history
            .iter()
            .filter_map(|s| match s {
                Seen::Event(Event::Core(CoreEvent::Presence(p))) if p.user() == Some(user) => {
                    Some((
                        p.resource().unwrap_or("").to_string(),
                        p.availability,
                        p.status.clone(),
                    ))
                }
                _ => None,
            })
            .collect()
    }

    /// After a short wait for stragglers, asserts that `user`'s resource `resource` sent
    /// exactly `expected` (availability, status), in order, nothing doubled.
    pub fn assert_presences_exactly(
        &mut self,
        user: &str,
        resource: &str,
        expected: &[(Presence, &str)],
    ) {
        self.collect_for(Duration::from_millis(300));
        let seen: Vec<(Presence, String)> = self
            .presences_from(user)
            .into_iter()
            .filter(|(r, ..)| r == resource)
            .map(|(_, p, s)| (p, s))
            .collect();
        let expected: Vec<(Presence, String)> =
            expected.iter().map(|(p, s)| (*p, s.to_string())).collect();
        assert_eq!(seen, expected, "{}", self.dump());
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(j) = self.join.take() {
            // The thread notices within one pump (100 ms), then closes for up to 3 s.
            let _ = j.join();
        }
    }
}

fn is_disconnect(s: &Seen) -> Option<&DisconnectReason> {
    match s {
        Seen::Event(Event::Core(CoreEvent::Disconnected { reason })) => Some(reason),
        Seen::Ended(reason) => Some(reason),
        _ => None,
    }
}

fn is_reconnecting(s: &Seen) -> bool {
    matches!(s, Seen::Event(Event::Reconnecting { .. }))
}

pub const ALICE: (&str, &str) = ("alice", "alice-pw");
pub const BOB: (&str, &str) = ("bob", "bob-pw");

/// The accounts every scenario's server is started with.
pub const ACCOUNTS: &[(&str, &str)] = &[ALICE, BOB];

fn jid(user: &str, resource: &str) -> String {
    format!("{user}@localhost/{resource}")
}

/// Bob online first, then Alice logs in (STARTTLS, SCRAM) with `away`/"lunch": Bob sees it.
/// Returns both peers, online.
pub fn bob_then_alice_away_lunch(server: &dyn RealServer, reconnect: bool) -> (Peer, Peer) {
    let mut bob = Peer::start(
        "bob",
        config(&jid("bob", "watch"), BOB.1, Presence::Chat, ""),
        options(server, true, reconnect),
    );
    bob.wait_online();
    let mut alice = Peer::start(
        "alice",
        config(&jid("alice", "desk"), ALICE.1, Presence::Away, "lunch"),
        options(server, true, reconnect),
    );
    let full = alice.wait_online();
    assert_eq!(full, "alice@localhost/desk");
    let p = bob.wait_presence("alice away/lunch", "alice", Some("desk"), |p| {
        p.availability == Presence::Away
    });
    assert_eq!(p.status, "lunch", "{}", bob.dump());
    assert_eq!(p.show.as_deref(), Some("away"));
    assert_eq!(p.domain(), "localhost");
    (alice, bob)
}

/// STARTTLS and a SCRAM mechanism were used on the way to Online, in that order.
pub fn login_over_starttls_with_scram(server: &dyn RealServer) {
    let (alice, _bob) = bob_then_alice_away_lunch(server, false);
    let states: Vec<SessionState> = alice
        .history
        .iter()
        .filter_map(|s| match s {
            Seen::Event(Event::Core(CoreEvent::StateChanged(st))) => Some(st.clone()),
            _ => None,
        })
        .collect();
    let tls = states
        .iter()
        .position(|s| matches!(s, SessionState::StartingTls))
        .unwrap_or_else(|| panic!("no StartingTls: {states:?}"));
    let auth = states
        .iter()
        .position(|s| matches!(s, SessionState::Authenticating { .. }))
        .unwrap_or_else(|| panic!("no Authenticating: {states:?}"));
    let online = states
        .iter()
        .position(|s| matches!(s, SessionState::Online))
        .unwrap_or_else(|| panic!("no Online: {states:?}"));
    assert!(tls < auth && auth < online, "{states:?}");
    let SessionState::Authenticating { mechanism } = &states[auth] else {
        unreachable!()
    };
    assert!(
        mechanism.to_string().starts_with("SCRAM-"),
        "{} logged in with {mechanism}",
        server.name()
    );
    eprintln!("{}: logged in with {mechanism}", server.name());
}

/// Alice's later changes reach Bob, each once and in order, then `offline` and back.
pub fn changes_in_order_then_offline_and_back(server: &dyn RealServer) {
    let (alice, mut bob) = bob_then_alice_away_lunch(server, false);
    bob.mark();
    let start = bob.history.len();
    let h = alice.handle().clone();
    h.change_presence(Presence::DoNotDisturb, "meeting")
        .expect("dnd");
    h.set_status("still in the meeting").expect("status");
    h.set_presence(Presence::ExtendedAway).expect("xa");
    h.change_presence(Presence::Chat, "back").expect("chat");
    let expected = [
        (Presence::DoNotDisturb, "meeting"),
        (Presence::DoNotDisturb, "still in the meeting"),
        (Presence::ExtendedAway, "still in the meeting"),
        (Presence::Chat, "back"),
    ];
    for (availability, status) in expected {
        bob.wait_presence(
            &format!("alice {availability:?}/{status:?}"),
            "alice",
            Some("desk"),
            |p| p.availability == availability && p.status == status,
        );
    }
    let seen: Vec<(Presence, String)> = bob.history[start..]
        .iter()
        .filter_map(|s| match s {
            Seen::Event(Event::Core(CoreEvent::Presence(p))) if p.user() == Some("alice") => {
                Some((p.availability, p.status.clone()))
            }
            _ => None,
        })
        .collect();
    let want: Vec<(Presence, String)> = expected.iter().map(|(a, s)| (*a, s.to_string())).collect();
    assert_eq!(seen, want, "{}", bob.dump());

    // Offline: Bob sees unavailable; then back to chat.
    h.set_presence(Presence::Offline).expect("offline");
    bob.wait_presence("alice offline", "alice", Some("desk"), |p| {
        p.availability == Presence::Offline
    });
    h.change_presence(Presence::Chat, "back again")
        .expect("back");
    let p = bob.wait_presence("alice back", "alice", Some("desk"), |p| {
        p.availability == Presence::Chat
    });
    assert_eq!(p.status, "back again");
    assert_eq!(p.show, None);
    drop(alice);
}

/// A wrong password fails once with `AuthFailed` and is not retried, even with reconnect on.
pub fn wrong_password_fails_once(server: &dyn RealServer) {
    let mut alice = Peer::start(
        "alice",
        config(
            &jid("alice", "desk"),
            "not-the-password",
            Presence::Chat,
            "",
        ),
        options(server, true, true),
    );
    let seen = alice.wait_for("a disconnect", STEP, |s| is_disconnect(s).is_some());
    assert!(
        matches!(
            is_disconnect(&seen),
            Some(DisconnectReason::AuthFailed { .. })
        ),
        "{}",
        alice.dump()
    );
    alice.collect_for(Duration::from_secs(4));
    assert!(
        !alice.history.iter().any(is_reconnecting),
        "retried after an auth failure:\n{}",
        alice.dump()
    );
    let auth_failures = alice
        .history
        .iter()
        .filter(|s| {
            matches!(
                s,
                Seen::Event(Event::Core(CoreEvent::Disconnected {
                    reason: DisconnectReason::AuthFailed { .. }
                }))
            )
        })
        .count();
    assert_eq!(auth_failures, 1, "{}", alice.dump());
    assert!(
        !alice
            .history
            .iter()
            .any(|s| matches!(s, Seen::Event(Event::Core(CoreEvent::Online { .. })))),
        "{}",
        alice.dump()
    );
}

/// Without the test CA the certificate does not verify: a TLS failure, before any SASL
/// step (no credential sent), and no retry.
pub fn unknown_ca_fails_before_credentials(server: &dyn RealServer) {
    let mut alice = Peer::start(
        "alice",
        config(&jid("alice", "desk"), ALICE.1, Presence::Chat, ""),
        options(server, false, true),
    );
    let seen = alice.wait_for("a TLS failure", STEP, |s| {
        is_disconnect(s).is_some() || matches!(s, Seen::Failed(_))
    });
    let tls_failure = match &seen {
        Seen::Failed(e) => e.contains("Tls") || e.contains("TLS"),
        other => matches!(
            is_disconnect(other),
            Some(DisconnectReason::TlsFailed { .. })
        ),
    };
    assert!(tls_failure, "not a TLS failure: {seen:?}\n{}", alice.dump());
    alice.collect_for(Duration::from_secs(3));
    assert!(
        !alice.history.iter().any(|s| matches!(
            s,
            Seen::Event(Event::Core(CoreEvent::StateChanged(
                SessionState::Authenticating { .. }
            )))
        )),
        "SASL started despite the unverified certificate:\n{}",
        alice.dump()
    );
    assert!(
        !alice.history.iter().any(is_reconnecting),
        "retried after a certificate failure:\n{}",
        alice.dump()
    );
}

/// The server restarts under live sessions: both reconnect, and Bob sees Alice's
/// away/"lunch" again.
pub fn reconnects_after_server_restart(server: &mut dyn RealServer) {
    let (mut alice, mut bob) = bob_then_alice_away_lunch(server, true);
    alice.mark();
    bob.mark();
    let began = Instant::now();
    server
        .restart()
        .unwrap_or_else(|e| panic!("restart {}: {e}", server.name()));
    eprintln!("{}: restarted in {:?}", server.name(), began.elapsed());
    alice.wait_for("Reconnecting", STEP, is_reconnecting);
    alice.wait_online();
    bob.wait_for("Reconnecting", STEP, is_reconnecting);
    bob.wait_online();
    let p = bob.wait_presence("alice away/lunch again", "alice", Some("desk"), |p| {
        p.availability == Presence::Away
    });
    assert_eq!(p.status, "lunch", "{}", bob.dump());
    eprintln!(
        "{}: both back online and presence seen {:?} after the restart",
        server.name(),
        began.elapsed()
    );
}

/// Two resources of one account are online at once; Bob sees each with its own presence.
pub fn two_resources_of_one_account(server: &dyn RealServer) {
    let mut bob = Peer::start(
        "bob",
        config(&jid("bob", "watch"), BOB.1, Presence::Chat, ""),
        options(server, true, false),
    );
    bob.wait_online();
    let mut desk = Peer::start(
        "alice/desk",
        config(&jid("alice", "desk"), ALICE.1, Presence::Away, "lunch"),
        options(server, true, false),
    );
    assert_eq!(desk.wait_online(), "alice@localhost/desk");
    let mut phone = Peer::start(
        "alice/phone",
        config(
            &jid("alice", "phone"),
            ALICE.1,
            Presence::DoNotDisturb,
            "driving",
        ),
        options(server, true, false),
    );
    assert_eq!(phone.wait_online(), "alice@localhost/phone");
    let p = bob.wait_presence("alice/phone dnd", "alice", Some("phone"), |p| {
        p.availability == Presence::DoNotDisturb
    });
    assert_eq!(p.status, "driving");
    let seen = bob.presences_from("alice");
    assert!(
        seen.contains(&("desk".to_string(), Presence::Away, "lunch".to_string())),
        "{}",
        bob.dump()
    );
    // The first resource stays online: nothing disconnected it.
    desk.collect_for(Duration::from_millis(500));
    assert!(
        !desk.history.iter().any(|s| is_disconnect(s).is_some()),
        "{}",
        desk.dump()
    );
    // And it is told about its sibling.
    desk.wait_presence("alice/phone (sibling)", "alice", Some("phone"), |p| {
        p.availability == Presence::DoNotDisturb
    });
    drop(phone);
}
