//! herald-std against the testkit's loopback server: STARTTLS and direct TLS logins, the
//! initial presence, certificate failures, wrong passwords, reconnects and handles.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use herald_core::{Config, DisconnectReason, Event as CoreEvent, Presence, SessionState};
use herald_std::{ConnectOptions, Error, Event, Session, TlsMode};
use herald_testkit::loopback::{ALICE_PLAIN, LoopbackServer, temp_file};

fn config(password: &str) -> Config {
    let mut config = Config::new("alice@localhost/desk", password).unwrap();
    config.presence = Presence::Away;
    config.status = "lunch".into();
    config
}

/// Options for `server`, trusting the test CA or (`trust_ca` false) only the web PKI.
fn options(server: &LoopbackServer, trust_ca: bool) -> ConnectOptions {
    let mut options = ConnectOptions::default();
    options.server = Some(("127.0.0.1".into(), server.port));
    options.ca_file = trust_ca.then(|| server.ca_file().to_path_buf());
    options
}

/// Pumps until an event matches `done`; returns every event seen, in order.
fn pump_until(session: &mut Session, done: impl Fn(&Event) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let events = session.pump(Duration::from_millis(200)).unwrap();
        let finished = events.iter().any(&done);
        seen.extend(events);
        if finished {
            return seen;
        }
    }
    panic!("timed out; events so far: {seen:#?}");
}

fn is_online(e: &Event) -> bool {
    matches!(e, Event::Core(CoreEvent::Online { .. }))
}

fn is_disconnected(e: &Event) -> bool {
    matches!(e, Event::Core(CoreEvent::Disconnected { .. }))
}

fn presence_sent(events: &[Event]) -> Vec<(Presence, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Core(CoreEvent::PresenceSent { presence, status }) => {
                Some((*presence, status.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn starttls_login_sends_the_initial_presence_and_closes_cleanly() {
    let (tx, rx) = mpsc::channel();
    let server = LoopbackServer::start(move |_, conn| {
        tx.send(conn.login().unwrap()).unwrap();
        conn.expect_presence().unwrap(); // the unavailable presence of the close
        conn.answer_close().unwrap();
    });
    let mut session = Session::connect(config("secret"), options(&server, true)).unwrap();
    let events = pump_until(&mut session, is_online);
    let jid = events.iter().find_map(|e| match e {
        Event::Core(CoreEvent::Online { jid }) => Some(jid.to_string()),
        _ => None,
    });
    assert_eq!(jid.as_deref(), Some("alice@localhost/desk"));
    let presence = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(presence.contains("<show>away</show>"), "{presence}");
    assert!(presence.contains("<status>lunch</status>"), "{presence}");
    assert_eq!(
        presence_sent(&events),
        [(Presence::Away, "lunch".to_string())]
    );
    assert_eq!(session.state(), SessionState::Online);

    session.close().unwrap();
    let events = pump_until(&mut session, is_disconnected);
    assert!(events.contains(&Event::Core(CoreEvent::Disconnected {
        reason: DisconnectReason::LocalClose
    })));
    assert!(matches!(
        session.pump(Duration::from_millis(10)),
        Err(Error::Ended(DisconnectReason::LocalClose))
    ));
    assert!(matches!(
        session.set_presence(Presence::Chat),
        Err(Error::Ended(DisconnectReason::LocalClose))
    ));
    assert!(server.transcript(0).contains(ALICE_PLAIN));
}

#[test]
fn a_certificate_from_an_unknown_ca_fails_before_any_credential() {
    let server = LoopbackServer::start(move |_, conn| {
        assert!(conn.login().is_err());
    });
    // No CA file: the test CA is unknown to the web PKI roots.
    let mut session = Session::connect(config("secret"), options(&server, false)).unwrap();
    let events = pump_until(&mut session, is_disconnected);
    let reason = events.iter().find_map(|e| match e {
        Event::Core(CoreEvent::Disconnected { reason }) => Some(reason.clone()),
        _ => None,
    });
    assert!(
        matches!(&reason, Some(DisconnectReason::TlsFailed { message }) if message.contains("certificate")),
        "{reason:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Reconnecting { .. }))
    );
    assert!(matches!(
        session.pump(Duration::from_millis(10)),
        Err(Error::Ended(DisconnectReason::TlsFailed { .. }))
    ));
    std::thread::sleep(Duration::from_millis(300));
    let sent = server.transcript(0);
    assert!(sent.contains("<starttls"), "{sent}");
    assert!(!sent.contains("<auth"), "{sent}");
    assert_eq!(server.accepted(), 1, "no retry after a certificate failure");
}

#[test]
fn a_wrong_password_fails_once_without_retrying() {
    let server = LoopbackServer::start(move |_, conn| {
        let _ = conn.login();
        let _ = conn.expect("</stream:stream>");
    });
    let mut session = Session::connect(config("wrong"), options(&server, true)).unwrap();
    let events = pump_until(&mut session, is_disconnected);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Core(CoreEvent::Disconnected { reason: DisconnectReason::AuthFailed { condition, .. } })
            if condition == "not-authorized"
    )));
    assert!(matches!(
        session.pump(Duration::from_millis(1500)),
        Err(Error::Ended(DisconnectReason::AuthFailed { .. }))
    ));
    assert_eq!(server.accepted(), 1);
}

#[test]
fn after_the_server_drops_the_connection_the_new_session_sends_the_current_presence() {
    let (tx, rx) = mpsc::channel();
    let server = LoopbackServer::start(move |index, conn| {
        tx.send((index, conn.login().unwrap())).unwrap();
        if index == 0 {
            tx.send((index, conn.expect_presence().unwrap())).unwrap();
            conn.drop_connection();
        } else {
            let _ = conn.expect("</stream:stream>");
        }
    });
    let mut session = Session::connect(config("secret"), options(&server, true)).unwrap();
    pump_until(&mut session, is_online);
    let (_, first) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(first.contains("<show>away</show>"), "{first}");

    session
        .change_presence(Presence::DoNotDisturb, "in a meeting")
        .unwrap();
    let (_, change) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(change.contains("<show>dnd</show>"), "{change}");

    let events = pump_until(&mut session, |e| matches!(e, Event::Reconnecting { .. }));
    assert!(events.contains(&Event::Core(CoreEvent::Disconnected {
        reason: DisconnectReason::Eof
    })));
    let Some(Event::Reconnecting { attempt, delay }) = events.last() else {
        panic!("{events:?}");
    };
    assert_eq!(*attempt, 1);
    assert!(*delay <= Duration::from_secs(1), "{delay:?}");
    assert_eq!(session.state(), SessionState::Disconnected);
    // While waiting, commands shape the next session's initial presence.
    session.set_status("back soon").unwrap();
    assert!(matches!(
        session.set_status("bad \u{7}"),
        Err(Error::Usage(herald_core::UsageError::InvalidText { .. }))
    ));
    let message: herald_core::minidom::Element =
        "<message xmlns='jabber:client' to='bob@localhost'/>"
            .parse()
            .unwrap();
    assert!(matches!(
        session.send(&message),
        Err(Error::Usage(herald_core::UsageError::NotOnline))
    ));

    let events = pump_until(&mut session, is_online);
    assert_eq!(
        presence_sent(&events),
        [(Presence::DoNotDisturb, "back soon".to_string())]
    );
    let (index, again) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(index, 1);
    assert!(again.contains("<show>dnd</show>"), "{again}");
    assert!(again.contains("<status>back soon</status>"), "{again}");
    assert_eq!(session.presence(), Presence::DoNotDisturb);
    assert_eq!(session.status(), "back soon");
}

#[test]
fn direct_tls_logs_in() {
    let (tx, rx) = mpsc::channel();
    let server = LoopbackServer::start(move |_, conn| {
        conn.accept_direct_tls().unwrap();
        tx.send(conn.authenticate_and_bind().unwrap()).unwrap();
        let _ = conn.expect("</stream:stream>");
    });
    let mut options = options(&server, true);
    options.tls = TlsMode::Direct;
    let mut session = Session::connect(config("secret"), options).unwrap();
    pump_until(&mut session, is_online);
    let presence = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(presence.contains("<status>lunch</status>"), "{presence}");
    assert!(!server.transcript(0).contains("<starttls"));
}

#[test]
fn handle_commands_from_another_thread_reach_the_server() {
    let (tx, rx) = mpsc::channel();
    let server = LoopbackServer::start(move |_, conn| {
        tx.send(conn.login().unwrap()).unwrap();
        tx.send(conn.expect_presence().unwrap()).unwrap();
        tx.send(conn.expect("</message>").unwrap()).unwrap();
        conn.expect_presence().unwrap();
        conn.answer_close().unwrap();
    });
    let mut session = Session::connect(config("secret"), options(&server, true)).unwrap();
    pump_until(&mut session, is_online);
    rx.recv_timeout(Duration::from_secs(5)).unwrap();

    let handle = session.handle();
    std::thread::spawn(move || {
        handle.change_presence(Presence::ExtendedAway, "gone").unwrap();
        let message: herald_core::minidom::Element =
            "<message xmlns='jabber:client' to='bob@localhost' type='chat'><body>hi</body></message>"
                .parse()
                .unwrap();
        handle.send(&message).unwrap();
        handle.set_status("bad \u{1} text").unwrap();
        handle.close().unwrap();
    })
    .join()
    .unwrap();

    let events = pump_until(&mut session, is_disconnected);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::CommandFailed {
            error: herald_core::UsageError::InvalidText { .. }
        }
    )));
    let change = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(change.contains("<show>xa</show>") && change.contains("<status>gone</status>"));
    let message = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(message.contains("<body>hi</body>"), "{message}");

    let handle = session.handle();
    drop(session);
    assert!(matches!(handle.close(), Err(Error::Gone)));
}

#[test]
fn connect_errors_are_reported_at_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut options = ConnectOptions::default();
    options.server = Some(("127.0.0.1".into(), port));
    assert!(matches!(
        Session::connect(config("secret"), options.clone()),
        Err(Error::Io(_))
    ));
    options.ca_file = Some(temp_file("empty.pem", "not a certificate"));
    assert!(matches!(
        Session::connect(config("secret"), options.clone()),
        Err(Error::Config(_))
    ));
    options.ca_file = Some("/nonexistent/ca.pem".into());
    assert!(matches!(
        Session::connect(config("secret"), options),
        Err(Error::Config(_))
    ));
}

#[test]
fn see_other_host_is_followed_at_once() {
    let (tx, rx) = mpsc::channel();
    let target = LoopbackServer::start(move |_, conn| {
        tx.send(conn.login().unwrap()).unwrap();
        let _ = conn.expect("</stream:stream>");
    });
    let redirect_to = format!("127.0.0.1:{}", target.port);
    let first = LoopbackServer::start(move |_, conn| {
        conn.expect("version='1.0'>").unwrap();
        conn.send(&format!(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='r' version='1.0'>\
             <stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>{redirect_to}\
             </see-other-host></stream:error></stream:stream>"
        ))
        .unwrap();
        let _ = conn.expect("</stream:stream>");
    });
    let mut session = Session::connect(config("secret"), options(&first, true)).unwrap();
    let events = pump_until(&mut session, is_online);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Core(CoreEvent::Disconnected {
            reason: DisconnectReason::SeeOtherHost { .. }
        })
    )));
    assert!(events.contains(&Event::Reconnecting {
        attempt: 1,
        delay: Duration::ZERO
    }));
    let presence = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(presence.contains("<status>lunch</status>"));
    assert_eq!((first.accepted(), target.accepted()), (1, 1));
}

#[test]
fn run_returns_ok_after_a_close_from_a_handle() {
    let server = LoopbackServer::start(move |_, conn| {
        conn.login().unwrap();
        conn.expect_presence().unwrap();
        conn.answer_close().unwrap();
    });
    let mut session = Session::connect(config("secret"), options(&server, true)).unwrap();
    let handle = session.handle();
    let mut seen = Vec::new();
    session
        .run(|event| {
            if is_online(&event) {
                handle.close().unwrap();
            }
            seen.push(event);
        })
        .unwrap();
    assert!(seen.iter().any(is_online));
    assert!(session.is_ended());
}

#[test]
fn roster_commands_reach_the_server() {
    let (tx, rx) = mpsc::channel();
    let server = LoopbackServer::start(move |_, conn| {
        conn.login().unwrap();
        tx.send(conn.expect("</iq>").unwrap()).unwrap();
        tx.send(conn.expect_presence().unwrap()).unwrap();
        let _ = conn.expect("</stream:stream>");
    });
    let mut session = Session::connect(config("secret"), options(&server, true)).unwrap();
    pump_until(&mut session, is_online);
    assert!(session.roster().items.is_empty());
    let bob: herald_core::jid::BareJid = "bob@localhost".parse().unwrap();
    session
        .add_contact(&bob, Some("Bob"), &["Friends".to_string()])
        .unwrap();
    let set = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        set.contains("type='set'") && set.contains("bob@localhost"),
        "{set}"
    );
    assert!(set.contains("<group>Friends</group>"), "{set}");
    let subscribe = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(subscribe.contains("subscribe"), "{subscribe}");
}

#[test]
fn direct_tls_with_an_unknown_ca_fails_at_connect() {
    let server = LoopbackServer::start(move |_, conn| {
        let _ = conn.accept_direct_tls();
    });
    let mut options = options(&server, false);
    options.tls = TlsMode::Direct;
    match Session::connect(config("secret"), options) {
        Err(Error::Tls(message)) => assert!(message.contains("certificate"), "{message}"),
        other => panic!("{other:?}"),
    }
}
