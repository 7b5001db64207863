//! Stream management against real servers: alice (herald-std or herald-tokio) reaches the
//! server through a [`FlightProxy`] the test blackholes; bob connects directly. Shared by
//! `real_sm_prosody.rs` and `real_sm_ejabberd.rs`.
#![allow(dead_code, unreachable_pub)] // each test binary uses a part

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use herald_core::minidom::Element;
use herald_core::{Config, DisconnectReason, Event as CoreEvent, Presence};
use herald_std::{ConnectOptions, Event};
use herald_testkit::flights::FlightProxy;
use herald_testkit::real::RealServer;

use crate::real_common::{Peer, STEP, Seen, config, options};

/// Each direction's delay through the proxy.
pub const DELAY: Duration = Duration::from_millis(10);
/// alice checks the link after this long without a byte, and gives up after as long again.
pub const LINK_CHECK: Duration = Duration::from_secs(2);

/// The accounts (subscribed to each other).
pub const ACCOUNTS: &[(&str, &str)] = &[("alice", "alice-pw"), ("bob", "bob-pw")];

/// Which adapter runs alice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adapter {
    Std,
    Tokio,
}

/// alice, whichever adapter runs her: her events as a [`Peer`], her commands below.
pub struct Alice {
    pub peer: Peer,
    tokio: Option<(tokio::runtime::Runtime, herald_tokio::Handle)>,
}

impl Alice {
    /// alice@localhost/desk, available with status "here", through `proxy`.
    pub fn start(server: &dyn RealServer, proxy: &FlightProxy, adapter: Adapter) -> Alice {
        let mut config = config("alice@localhost/desk", "alice-pw", Presence::Chat, "here");
        config.timeouts.link_check = Some(LINK_CHECK);
        config.timeouts.link_answer = LINK_CHECK;
        let mut options = options(server, true, true);
        options.server = Some(("127.0.0.1".into(), proxy.port()));
        options.reconnect_initial = Duration::from_millis(200);
        options.reconnect_max = Duration::from_millis(500);
        match adapter {
            Adapter::Std => Alice {
                peer: Peer::start("alice", config, options),
                tokio: None,
            },
            Adapter::Tokio => tokio_alice(config, options),
        }
    }

    pub fn change_presence(&self, presence: Presence, status: &str) {
        let result = match &self.tokio {
            None => self
                .peer
                .handle()
                .change_presence(presence, status)
                .map_err(|e| e.to_string()),
            Some((rt, handle)) => rt
                .block_on(handle.change_presence(presence, status))
                .map_err(|e| e.to_string()),
        };
        result.unwrap_or_else(|e| panic!("alice: change_presence: {e}"));
    }
}

fn tokio_alice(config: Config, options: ConnectOptions) -> Alice {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (handle, mut events) =
        rt.block_on(async { herald_tokio::connect(config, options).expect("connect") });
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let (stop2, rt_handle, close) = (stop.clone(), rt.handle().clone(), handle.clone());
    let join = std::thread::spawn(move || {
        rt_handle.block_on(async move {
            while !stop2.load(Ordering::Relaxed) {
                let Ok(event) =
                    tokio::time::timeout(Duration::from_millis(100), events.recv()).await
                else {
                    continue;
                };
                let seen = match event {
                    Some(herald_tokio::Event::Core(e)) => Seen::Event(Event::Core(e)),
                    Some(herald_tokio::Event::Reconnecting { attempt, delay }) => {
                        Seen::Event(Event::Reconnecting { attempt, delay })
                    }
                    Some(herald_tokio::Event::Ended { reason }) => {
                        let _ = tx.send(Seen::Failed(format!("ended: {reason:?}")));
                        return;
                    }
                    Some(_) => continue,
                    None => return,
                };
                if tx.send(seen).is_err() {
                    return;
                }
            }
            let _ = tokio::time::timeout(Duration::from_secs(3), close.close()).await;
        });
    });
    Alice {
        peer: Peer::from_thread("alice", rx, stop, join),
        tokio: Some((rt, handle)),
    }
}

/// bob@localhost/watch, available, straight to the server.
pub fn bob(server: &dyn RealServer) -> Peer {
    let mut bob = Peer::start(
        "bob",
        config("bob@localhost/watch", "bob-pw", Presence::Chat, ""),
        options(server, true, true),
    );
    bob.wait_online();
    bob
}

/// A chat message from bob to alice's resource, with `id`.
pub fn message_to_alice(id: &str) -> Element {
    format!(
        "<message xmlns='jabber:client' to='alice@localhost/desk' type='chat' id='{id}'>\
         <body>sent during the cut</body></message>"
    )
    .parse()
    .expect("a message element")
}

/// The messages with `id` that `peer` received: parsed ([`CoreEvent::Message`], the usual
/// case: a body) or as a raw stanza.
pub fn messages_with_id(peer: &Peer, id: &str) -> usize {
    peer.history
        .iter()
        .filter(|s| match s {
            Seen::Event(Event::Core(CoreEvent::Message(m))) => m.id.as_deref() == Some(id),
            Seen::Event(Event::Core(CoreEvent::Stanza(st))) => {
                st.name() == "message" && st.attr("id") == Some(id)
            }
            _ => false,
        })
        .count()
}

/// The presences `peer` received from `user` after its first `start` events, as
/// (resource, availability, status).
fn presences_since(peer: &Peer, start: usize, user: &str) -> Vec<(String, Presence, String)> {
    peer.history[start..]
        .iter()
        .filter_map(|s| match s {
            Seen::Event(Event::Core(CoreEvent::Presence(p))) if p.user() == Some(user) => Some((
                p.resource().unwrap_or("").to_string(),
                p.availability,
                p.status.clone(),
            )),
            _ => None,
        })
        .collect()
}

/// Waits until the link check declares the link dead; returns when it was seen.
pub fn wait_link_dead(alice: &mut Peer) -> Instant {
    alice.wait_for("the link declared dead", STEP, |s| {
        matches!(
            s,
            Seen::Event(Event::Core(CoreEvent::Disconnected {
                reason: DisconnectReason::LinkDead
            }))
        )
    });
    Instant::now()
}

/// Waits for `Resumed`; returns how many stanzas were resent and when it was seen.
pub fn wait_resumed(alice: &mut Peer) -> (usize, Instant) {
    match alice.wait_for("Resumed", STEP, |s| {
        matches!(s, Seen::Event(Event::Core(CoreEvent::Resumed { .. })))
    }) {
        Seen::Event(Event::Core(CoreEvent::Resumed { resent })) => (resent, Instant::now()),
        _ => unreachable!(),
    }
}

/// Both online and seeing each other; stream management given time to be enabled.
pub fn both_online(
    server: &dyn RealServer,
    proxy: &FlightProxy,
    adapter: Adapter,
) -> (Alice, Peer) {
    let mut bob = bob(server);
    let mut alice = Alice::start(server, proxy, adapter);
    alice.peer.wait_online();
    bob.wait_presence("alice available", "alice", Some("desk"), |p| {
        p.availability == Presence::Chat && p.status == "here"
    });
    alice
        .peer
        .wait_presence("bob available", "bob", Some("watch"), |p| {
            p.availability == Presence::Chat
        });
    // The <enabled/> answers the write after the bind: let it arrive.
    std::thread::sleep(Duration::from_millis(300));
    alice.peer.mark();
    bob.mark();
    (alice, bob)
}

/// The main scenario: the proxy blackholes alice's connection; during the cut bob sends
/// her a message and goes away, and she goes dnd; she notices the dead link and resumes.
/// Exactly once both ways, no offline blip for bob, and `resumed_marker` in the server's
/// log.
pub fn cut_and_resume(server: &dyn RealServer, adapter: Adapter, resumed_marker: &str) {
    let what = format!("{} {adapter:?}", server.name());
    let proxy = FlightProxy::start(server.port(), DELAY).expect("flight proxy");
    let (mut alice, mut bob) = both_online(server, &proxy, adapter);
    let (alice_before, bob_before) = (alice.peer.history.len(), bob.history.len());
    assert_eq!(proxy.blackhole(), 1, "{what}: alice's one connection cut");
    bob.handle()
        .send(&message_to_alice("cut-1"))
        .expect("bob sends");
    bob.handle()
        .change_presence(Presence::Away, "on the move")
        .expect("bob changes presence");
    alice.change_presence(Presence::DoNotDisturb, "in a tunnel");
    wait_link_dead(&mut alice.peer);
    let (resent, _) = wait_resumed(&mut alice.peer);
    assert!(resent >= 1, "{what}: alice's presence change was resent");
    // What the server resends arrives right after <resumed/>; anything doubled would too.
    bob.wait_presence("alice dnd", "alice", Some("desk"), |p| {
        p.availability == Presence::DoNotDisturb && p.status == "in a tunnel"
    });
    alice
        .peer
        .wait_presence("bob away", "bob", Some("watch"), |p| {
            p.availability == Presence::Away
        });
    alice.peer.collect_for(Duration::from_secs(2));
    bob.collect_for(Duration::from_millis(500));
    assert_eq!(
        messages_with_id(&alice.peer, "cut-1"),
        1,
        "{what}: bob's message exactly once:\n{}",
        alice.peer.dump()
    );
    let from_bob = presences_since(&alice.peer, alice_before, "bob");
    let away = from_bob
        .iter()
        .filter(|(_, p, _)| *p == Presence::Away)
        .count();
    assert_eq!(away, 1, "{what}: bob's away exactly once: {from_bob:?}");
    let from_alice = presences_since(&bob, bob_before, "alice");
    let dnd = from_alice
        .iter()
        .filter(|(_, p, s)| *p == Presence::DoNotDisturb && s == "in a tunnel")
        .count();
    assert_eq!(dnd, 1, "{what}: alice's dnd exactly once: {from_alice:?}");
    assert!(
        from_alice.iter().all(|(_, p, _)| *p != Presence::Offline),
        "{what}: bob never saw alice offline: {from_alice:?}"
    );
    // Online again right after Resumed, and no initial presence: the same session.
    let after_cut = &alice.peer.history[alice_before..];
    let online: Vec<usize> = (0..after_cut.len())
        .filter(|&i| {
            matches!(
                after_cut[i],
                Seen::Event(Event::Core(CoreEvent::Online { .. }))
            )
        })
        .collect();
    let resumed_at = after_cut
        .iter()
        .position(|s| matches!(s, Seen::Event(Event::Core(CoreEvent::Resumed { .. }))));
    assert!(
        online.len() == 1 && resumed_at.is_some_and(|r| r + 2 == online[0]),
        "{what}: one Online, right after Resumed and its state change:\n{}",
        alice.peer.dump()
    );
    let presence_sent = after_cut
        .iter()
        .filter(|s| matches!(s, Seen::Event(Event::Core(CoreEvent::PresenceSent { .. }))))
        .count();
    assert_eq!(
        presence_sent,
        1,
        "{what}: only the change made during the cut went out:\n{}",
        alice.peer.dump()
    );
    let log = server.log_text();
    assert!(
        log.contains(resumed_marker),
        "{what}: the server's log shows no {resumed_marker:?}:\n{}",
        server.log_tail()
    );
}

/// A cut longer than the server's resumption window (`window`): alice's retries are
/// refused until the server has dropped the session; then a fresh session, presence
/// restored, and the stanzas that may not have arrived reported.
pub fn cut_past_the_window(server: &dyn RealServer, adapter: Adapter, window: Duration) {
    let what = format!("{} {adapter:?} long cut", server.name());
    let proxy = FlightProxy::start(server.port(), DELAY).expect("flight proxy");
    let (mut alice, mut bob) = both_online(server, &proxy, adapter);
    proxy.set_refusing(true);
    assert_eq!(proxy.blackhole(), 1, "{what}: alice's one connection cut");
    alice.change_presence(Presence::DoNotDisturb, "in a tunnel");
    wait_link_dead(&mut alice.peer);
    // The server notices (its TCP would, in the end) and keeps the session for `window`.
    proxy.release_upstream();
    std::thread::sleep(window + Duration::from_secs(2));
    proxy.set_refusing(false);
    let lost = match alice.peer.wait_for("StanzasLost", STEP, |s| {
        matches!(s, Seen::Event(Event::Core(CoreEvent::StanzasLost { .. })))
    }) {
        Seen::Event(Event::Core(CoreEvent::StanzasLost { count, ids })) => (count, ids),
        _ => unreachable!(),
    };
    assert!(
        lost.0 >= 1,
        "{what}: the presence change reported: {lost:?}"
    );
    alice.peer.wait_online();
    bob.wait_presence("alice dnd again", "alice", Some("desk"), |p| {
        p.availability == Presence::DoNotDisturb && p.status == "in a tunnel"
    });
    let resumed = alice
        .peer
        .history
        .iter()
        .any(|s| matches!(s, Seen::Event(Event::Core(CoreEvent::Resumed { .. }))));
    assert!(
        !resumed,
        "{what}: nothing left to resume:\n{}",
        alice.peer.dump()
    );
}
