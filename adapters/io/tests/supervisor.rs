//! The reconnect supervisor's rules, sans-IO: each attempt's client logs in to the scripted
//! server in memory (`herald_tests::Pair`) on a virtual clock; the supervisor is told how
//! each connection ended and says what comes next.

use std::time::{Duration, Instant};

use herald_core::{
    Config, DisconnectReason, Event, Presence, SeededEntropy, SessionState, StreamErrorCondition,
    UsageError,
};
use herald_io::supervisor::{EndReason, Next, Retry, Supervisor};
use herald_io::target::Target;
use herald_io::{Command, ConnectOptions};
use herald_tests::{Pair, ScramTamper, ServerProfile, config_for, replies};

const SECOND: Duration = Duration::from_secs(1);

fn options(initial: Duration, max: Duration) -> ConnectOptions {
    let mut options = ConnectOptions::default();
    options.reconnect_initial = initial;
    options.reconnect_max = max;
    options
}

fn supervisor(config: Config) -> Supervisor {
    Supervisor::new(config, &options(SECOND, 60 * SECOND), SeededEntropy::new(9))
}

fn starttls_target() -> Target {
    Target {
        host: "localhost".into(),
        port: 5222,
        direct_tls: false,
    }
}

/// Starts an attempt: the supervisor's client, connected to `target` and logged in (as far
/// as the server lets it) at `now`. Every event goes through `observe`, as in an adapter.
fn attempt(sup: &mut Supervisor, profile: &ServerProfile, target: &Target, now: Instant) -> Pair {
    let client = sup
        .next_client(SeededEntropy::new(7))
        .expect("valid config");
    let mut pair = Pair::new(profile.clone(), client.config().clone());
    pair.client = client;
    pair.now = now;
    sup.connected(target);
    pair.connect();
    for event in &pair.events {
        sup.observe(event);
    }
    pair
}

/// Ends the attempt (the connection drops unless it has ended already) and asks the
/// supervisor what comes next.
fn finish(sup: &mut Supervisor, pair: &mut Pair) -> (DisconnectReason, Next) {
    let seen = pair.events.len();
    if !pair.client.is_closed() {
        pair.client.handle_eof(pair.now);
        pair.drive();
    }
    for event in &pair.events[seen..] {
        sup.observe(event);
    }
    let reason = pair
        .events
        .iter()
        .find_map(|e| match e {
            Event::Disconnected { reason } => Some(reason.clone()),
            _ => None,
        })
        .expect("the connection ended");
    let next = sup.on_disconnected(&reason, &pair.client, pair.now);
    (reason, next)
}

fn retry(next: Next) -> Retry {
    match next {
        Next::Retry(retry) => retry,
        Next::End(end) => panic!("expected a retry, got the end: {end:?}"),
    }
}

fn end(next: Next) -> EndReason {
    match next {
        Next::End(end) => end,
        Next::Retry(retry) => panic!("expected the end, got a retry: {retry:?}"),
    }
}

#[test]
fn backoff_doubles_to_the_cap_within_its_jitter_and_resets_once_online() {
    let profile = ServerProfile::prosody_like();
    let mut sup = Supervisor::new(
        config_for(&profile),
        &options(SECOND, 8 * SECOND),
        SeededEntropy::new(3),
    );
    let t0 = Instant::now();
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), t0);
    assert_eq!(pair.client.state(), SessionState::Online);
    let mut next = retry(finish(&mut sup, &mut pair).1);
    let mut now = t0;
    for n in 0..8u32 {
        let full = (SECOND * (1 << n)).min(8 * SECOND);
        assert_eq!(next.attempt, n + 1);
        assert!(
            next.delay >= full / 2 && next.delay <= full,
            "attempt {}: {:?} not in [{:?}, {full:?}]",
            n + 1,
            next.delay,
            full / 2
        );
        assert_eq!(next.at, now + next.delay);
        assert_eq!(next.target, None);
        now = next.at;
        let _ = sup.next_client(SeededEntropy::new(1)).unwrap();
        next = retry(sup.on_unreachable("connection refused", now));
    }
    // Online again: the next loss starts from the first delay.
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), now);
    assert_eq!(pair.client.state(), SessionState::Online);
    let next = retry(finish(&mut sup, &mut pair).1);
    assert_eq!(next.attempt, 1);
    assert!(next.delay <= SECOND, "{:?}", next.delay);
}

#[test]
fn the_jitter_differs_between_clients() {
    let delays: Vec<Duration> = (0..8)
        .map(|seed| {
            let mut sup = Supervisor::new(
                config_for(&ServerProfile::prosody_like()),
                &options(SECOND, 60 * SECOND),
                SeededEntropy::new(seed),
            );
            let client = sup.next_client(SeededEntropy::new(1)).unwrap();
            retry(sup.on_disconnected(&DisconnectReason::Eof, &client, Instant::now())).delay
        })
        .collect();
    assert!(delays.iter().all(|d| *d >= SECOND / 2 && *d <= SECOND));
    assert!(delays.windows(2).any(|w| w[0] != w[1]), "{delays:?}");
}

#[test]
fn no_retry_after_an_authentication_failure() {
    let profile = ServerProfile::prosody_like();
    let mut config = config_for(&profile);
    config.password = "not the password".into();
    let mut sup = supervisor(config);
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    let (reason, next) = finish(&mut sup, &mut pair);
    assert!(reason.is_auth_failure(), "{reason:?}");
    assert_eq!(end(next), EndReason::Session(reason));
}

#[test]
fn no_retry_when_the_server_cannot_prove_it_knows_the_password() {
    let mut profile = ServerProfile::prosody_like();
    profile.scram_tamper = ScramTamper::WrongSignature;
    let mut sup = supervisor(config_for(&profile));
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    let (reason, next) = finish(&mut sup, &mut pair);
    assert!(
        matches!(reason, DisconnectReason::Scram { .. }),
        "{reason:?}"
    );
    assert_eq!(end(next), EndReason::Session(reason));
}

#[test]
fn no_retry_after_a_tls_or_certificate_failure() {
    let profile = ServerProfile::prosody_like();
    let mut sup = supervisor(config_for(&profile));
    let mut client = sup.next_client(SeededEntropy::new(1)).unwrap();
    let now = Instant::now();
    client
        .connect(now, herald_core::Transport::Plain)
        .expect("fresh client");
    let reason = DisconnectReason::TlsFailed {
        message: "invalid peer certificate: UnknownIssuer".into(),
    };
    assert_eq!(
        end(sup.on_disconnected(&reason, &client, now)),
        EndReason::Tls("invalid peer certificate: UnknownIssuer".into())
    );
    // Direct TLS fails before the core runs: the same end.
    let mut sup = supervisor(config_for(&profile));
    let _ = sup.next_client(SeededEntropy::new(1)).unwrap();
    assert_eq!(
        end(sup.on_tls_failed("invalid peer certificate: Expired")),
        EndReason::Tls("invalid peer certificate: Expired".into())
    );
}

#[test]
fn reasons_that_would_repeat_end_the_session_and_the_rest_retry() {
    let profile = ServerProfile::prosody_like();
    let conflict = DisconnectReason::StreamError {
        condition: StreamErrorCondition::Conflict,
        text: None,
    };
    for (reason, retried) in [
        (conflict, false),
        (DisconnectReason::TlsNotOffered, false),
        (DisconnectReason::StartTlsRefused, false),
        (
            DisconnectReason::BindFailed {
                condition: "not-allowed".into(),
            },
            false,
        ),
        (DisconnectReason::Eof, true),
        (DisconnectReason::ServerClosed, true),
        (
            DisconnectReason::Timeout(herald_core::Step::TlsHandshake),
            true,
        ),
    ] {
        let mut sup = supervisor(config_for(&profile));
        let client = sup.next_client(SeededEntropy::new(1)).unwrap();
        match sup.on_disconnected(&reason, &client, Instant::now()) {
            Next::Retry(_) => assert!(retried, "{reason:?} was retried"),
            Next::End(end) => {
                assert!(!retried, "{reason:?} ended the session");
                assert_eq!(end, EndReason::Session(reason));
            }
        }
    }
}

#[test]
fn with_reconnect_off_a_lost_connection_ends_the_session() {
    let profile = ServerProfile::prosody_like();
    let mut options = ConnectOptions::default();
    options.reconnect = false;
    let mut sup = Supervisor::new(config_for(&profile), &options, SeededEntropy::new(1));
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    let (reason, next) = finish(&mut sup, &mut pair);
    assert_eq!(end(next), EndReason::Session(reason));
}

/// An attempt the server redirects to `host` right after its stream header, before any
/// login step.
fn redirected_at_once(sup: &mut Supervisor, target: &Target, host: &str, now: Instant) -> Next {
    let client = sup
        .next_client(SeededEntropy::new(7))
        .expect("valid config");
    let mut pair = Pair::new(ServerProfile::prosody_like(), client.config().clone());
    pair.client = client;
    pair.now = now;
    pair.hold = true;
    sup.connected(target);
    pair.start();
    pair.inject(
        format!(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='r' \
             version='1.0'>{}",
            replies::see_other_host(host)
        )
        .as_bytes(),
    );
    finish(sup, &mut pair).1
}

#[test]
fn see_other_host_is_followed_once_with_the_same_tls_mode() {
    let profile = ServerProfile::prosody_like();
    for direct_tls in [true, false] {
        let mut sup = supervisor(config_for(&profile));
        let first = Target {
            host: "xmpp.localhost".into(),
            port: if direct_tls { 5223 } else { 5222 },
            direct_tls,
        };
        let now = Instant::now();
        let next = retry(redirected_at_once(&mut sup, &first, "other.localhost", now));
        assert_eq!(
            (next.at, next.delay, next.attempt),
            (now, Duration::ZERO, 1)
        );
        assert_eq!(
            next.target,
            Some(Target {
                host: "other.localhost".into(),
                port: first.port,
                direct_tls,
            })
        );
        // The redirected connection is redirected again: not followed; the usual targets
        // after the second backoff delay (the redirect counted as the first).
        let second = next.target.unwrap();
        let next = retry(redirected_at_once(&mut sup, &second, "third:5999", now));
        assert_eq!((next.target, next.attempt), (None, 2));
        assert!(
            next.delay >= SECOND && next.delay <= 2 * SECOND,
            "{:?}",
            next.delay
        );
        // A later connection gets online, then is redirected: followed (once) again.
        let mut pair = attempt(&mut sup, &profile, &first, next.at);
        assert_eq!(pair.client.state(), SessionState::Online);
        pair.server_says(&replies::see_other_host("[::1]:5999"));
        let (reason, next) = finish(&mut sup, &mut pair);
        assert!(matches!(reason, DisconnectReason::SeeOtherHost { .. }));
        let next = retry(next);
        assert_eq!((next.delay, next.attempt), (Duration::ZERO, 1));
        assert_eq!(
            next.target,
            Some(Target {
                host: "::1".into(),
                port: 5999,
                direct_tls
            })
        );
    }
}

#[test]
fn a_redirect_is_followed_even_with_reconnect_off() {
    let profile = ServerProfile::prosody_like();
    let mut options = ConnectOptions::default();
    options.reconnect = false;
    let mut sup = Supervisor::new(config_for(&profile), &options, SeededEntropy::new(1));
    let now = Instant::now();
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), now);
    pair.server_says(&replies::see_other_host("other.localhost:6222"));
    let next = retry(finish(&mut sup, &mut pair).1);
    assert_eq!(next.target.as_ref().map(|t| t.port), Some(6222));
    let _ = sup.next_client(SeededEntropy::new(1)).unwrap();
    assert_eq!(
        end(sup.on_unreachable("connection refused", now)),
        EndReason::Unreachable("connection refused".into())
    );
}

#[test]
fn the_first_attempt_that_reaches_no_server_ends_the_session_and_later_ones_retry() {
    let profile = ServerProfile::prosody_like();
    let mut sup = supervisor(config_for(&profile));
    let _ = sup.next_client(SeededEntropy::new(1)).unwrap();
    let now = Instant::now();
    assert_eq!(
        end(sup.on_unreachable("127.0.0.1:5222: connection refused", now)),
        EndReason::Unreachable("127.0.0.1:5222: connection refused".into())
    );

    let mut sup = supervisor(config_for(&profile));
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), now);
    let next = retry(finish(&mut sup, &mut pair).1);
    let _ = sup.next_client(SeededEntropy::new(1)).unwrap();
    let again = retry(sup.on_unreachable("connection refused", next.at));
    assert_eq!(again.attempt, 2);
}

#[test]
fn presence_and_status_set_while_disconnected_become_the_next_initial_presence() {
    let profile = ServerProfile::prosody_like();
    let mut sup = supervisor(config_for(&profile));
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    let _ = retry(finish(&mut sup, &mut pair).1);

    assert_eq!(
        sup.apply_between(Command::set_presence(Presence::Away)),
        Ok(None)
    );
    assert_eq!(sup.apply_between(Command::set_status("lunch")), Ok(None));
    assert!(matches!(
        sup.apply_between(Command::set_status("bad \u{7}")),
        Err(UsageError::InvalidText { ch: '\u{7}' })
    ));
    let message: herald_core::minidom::Element =
        "<message xmlns='jabber:client' to='bob@localhost'/>"
            .parse()
            .unwrap();
    assert_eq!(
        sup.apply_between(Command::Send(Box::new(message))),
        Err(UsageError::NotOnline)
    );
    let bob: herald_core::jid::BareJid = "bob@localhost".parse().unwrap();
    assert_eq!(
        sup.apply_between(Command::Subscribe(bob)),
        Err(UsageError::NotOnline)
    );
    assert_eq!((sup.presence(), sup.status()), (Presence::Away, "lunch"));

    let pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    let sent = pair.server.received_named("presence");
    assert_eq!(sent.len(), 1, "exactly one initial presence");
    let xml = String::from(sent[0]);
    assert!(
        xml.contains("<show>away</show><status>lunch</status>"),
        "{xml}"
    );
}

#[test]
fn presence_set_while_connected_is_kept_for_the_next_attempt() {
    let profile = ServerProfile::prosody_like();
    let mut sup = supervisor(config_for(&profile));
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    let now = pair.now;
    sup.apply_live(
        &mut pair.client,
        now,
        Command::change_presence(Presence::DoNotDisturb, "meeting"),
    )
    .unwrap();
    pair.drive();
    let _ = retry(finish(&mut sup, &mut pair).1);
    let config = sup.next_config();
    assert_eq!(
        (config.presence, config.status.as_str()),
        (Presence::DoNotDisturb, "meeting")
    );
}

#[test]
fn scram_keys_and_the_roster_are_carried_into_the_next_attempt() {
    let profile = ServerProfile::prosody_like();
    let mut sup = supervisor(config_for(&profile));
    assert!(sup.next_config().scram_cache.is_empty());
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    assert_eq!(pair.server.roster_gets, [Some(String::new())]);
    let _ = retry(finish(&mut sup, &mut pair).1);

    let config = sup.next_config();
    assert_eq!(config.scram_cache.len(), 1);
    let roster = config.roster_cache.expect("the roster is carried");
    assert_eq!(roster.version.as_deref(), Some("v1"));
    assert!(roster.items.keys().any(|j| j.as_str() == "bob@localhost"));

    let pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    assert_eq!(pair.client.state(), SessionState::Online);
    // XEP-0237: the next login asks only for what changed since v1.
    assert_eq!(pair.server.roster_gets, [Some("v1".to_string())]);
    assert_eq!(pair.client.scram_cache().len(), 1);
}

#[test]
fn an_attempt_that_never_got_a_roster_keeps_the_last_one() {
    let profile = ServerProfile::prosody_like();
    let mut sup = supervisor(config_for(&profile));
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    let _ = retry(finish(&mut sup, &mut pair).1);
    // The next connection drops during login.
    let client = sup.next_client(SeededEntropy::new(1)).unwrap();
    let _ = retry(sup.on_disconnected(&DisconnectReason::Eof, &client, Instant::now()));
    let roster = sup.next_config().roster_cache.expect("still cached");
    assert_eq!(roster.version.as_deref(), Some("v1"));
}

#[test]
fn a_close_ends_the_session_live_or_between_connections() {
    let profile = ServerProfile::prosody_like();
    let mut sup = supervisor(config_for(&profile));
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), Instant::now());
    let now = pair.now;
    sup.apply_live(&mut pair.client, now, Command::Close)
        .unwrap();
    // Closing twice is harmless.
    sup.apply_live(&mut pair.client, now, Command::Close)
        .unwrap();
    pair.drive();
    let (reason, next) = finish(&mut sup, &mut pair);
    assert_eq!(reason, DisconnectReason::LocalClose);
    assert_eq!(end(next), EndReason::Session(DisconnectReason::LocalClose));

    let mut sup = supervisor(config_for(&profile));
    let mut pair = attempt(&mut sup, &profile, &starttls_target(), now);
    let _ = retry(finish(&mut sup, &mut pair).1);
    assert_eq!(
        sup.apply_between(Command::Close),
        Ok(Some(EndReason::Session(DisconnectReason::LocalClose)))
    );
    assert!(sup.is_closing());
}
