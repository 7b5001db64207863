//! The supervisor's retry rules, sans-IO on a virtual clock: backoff growth, cap, jitter
//! and reset; no retry after authentication or TLS failures or reasons that would repeat;
//! see-other-host followed once with the same TLS mode; the first unreachable attempt.

mod supervisor_common;

use std::time::{Duration, Instant};

use herald_core::{DisconnectReason, SeededEntropy, SessionState, StreamErrorCondition};
use herald_io::ConnectOptions;
use herald_io::supervisor::{EndReason, Next, Supervisor};
use herald_io::target::Target;
use herald_testkit::{ScramTamper, ServerProfile, config_for, replies};
use supervisor_common::*;

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
    assert_eq!(pair.client().state(), SessionState::Online);
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
    assert_eq!(pair.client().state(), SessionState::Online);
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
        assert_eq!(pair.client().state(), SessionState::Online);
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
