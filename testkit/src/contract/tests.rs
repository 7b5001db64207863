//! The checker against made-up drains: a correct client never breaks a rule, so these
//! show each rule would catch one that did.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::*;

fn starting() -> Contract {
    Contract {
        transport_closed: false,
        tls_pending: false,
        ended: None,
        last_state: SessionState::Disconnected,
    }
}

fn drained(bytes: &str, actions: Vec<Action>, events: Vec<Event>) -> Drained {
    Drained {
        transmitted: bytes.as_bytes().to_vec(),
        messages: 0,
        actions,
        events,
    }
}

fn open(state: SessionState) -> Observed {
    Observed {
        state,
        closed: false,
        timeout: None,
    }
}

fn closed(reason: DisconnectReason) -> Observed {
    Observed {
        state: SessionState::Closed { reason },
        closed: true,
        timeout: None,
    }
}

fn start_tls() -> Action {
    Action::StartTls {
        server_name: "localhost".into(),
    }
}

fn end() -> Event {
    Event::Disconnected {
        reason: DisconnectReason::Eof,
    }
}

/// The message of the first rule `steps` break, if any.
fn broken(steps: &[(Drained, Observed)]) -> Option<String> {
    let mut contract = starting();
    let result = catch_unwind(AssertUnwindSafe(|| {
        for (drained, after) in steps {
            contract.check(drained, after);
        }
    }));
    let panic = result.err()?;
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
    Some(message.unwrap_or_default())
}

fn connecting() -> (Drained, Observed) {
    let changed = Event::StateChanged(SessionState::Connecting);
    (
        drained("<stream:stream>", vec![], vec![changed]),
        open(SessionState::Connecting),
    )
}

#[test]
fn the_bytes_before_an_action_of_the_same_drain_are_legal() {
    let handshake = Event::StateChanged(SessionState::TlsHandshake);
    let steps = [
        connecting(),
        (
            drained("<starttls/>", vec![start_tls()], vec![handshake]),
            open(SessionState::TlsHandshake),
        ),
    ];
    assert_eq!(broken(&steps), None);
    let steps = [
        connecting(),
        (
            drained(
                "</stream:stream>",
                vec![Action::CloseTransport],
                vec![end()],
            ),
            closed(DisconnectReason::Eof),
        ),
    ];
    assert_eq!(broken(&steps), None);
}

#[test]
fn each_rule_catches_a_client_that_breaks_it() {
    let handshake = Event::StateChanged(SessionState::TlsHandshake);
    let at_handshake = (
        drained("<starttls/>", vec![start_tls()], vec![handshake]),
        open(SessionState::TlsHandshake),
    );
    let ended = (
        drained("", vec![Action::CloseTransport], vec![end()]),
        closed(DisconnectReason::Eof),
    );
    let nothing = |after: Observed| (Drained::default(), after);
    let cases: Vec<(&str, Vec<(Drained, Observed)>)> = vec![
        (
            "bytes during the TLS handshake",
            vec![
                connecting(),
                at_handshake.clone(),
                (
                    drained(" ", vec![], vec![]),
                    open(SessionState::TlsHandshake),
                ),
            ],
        ),
        (
            "two StartTls",
            vec![
                connecting(),
                at_handshake.clone(),
                (
                    drained("", vec![start_tls()], vec![]),
                    open(SessionState::TlsHandshake),
                ),
            ],
        ),
        (
            "bytes after CloseTransport",
            vec![
                connecting(),
                ended.clone(),
                (drained(" ", vec![], vec![]), closed(DisconnectReason::Eof)),
            ],
        ),
        (
            "after CloseTransport",
            vec![
                connecting(),
                ended.clone(),
                (
                    drained("", vec![Action::CloseTransport], vec![]),
                    closed(DisconnectReason::Eof),
                ),
            ],
        ),
        (
            "after Disconnected",
            vec![
                connecting(),
                ended.clone(),
                (
                    drained("", vec![], vec![end()]),
                    closed(DisconnectReason::Eof),
                ),
            ],
        ),
        (
            "Disconnected without CloseTransport",
            vec![
                connecting(),
                (
                    drained("", vec![], vec![end()]),
                    closed(DisconnectReason::Eof),
                ),
            ],
        ),
        (
            "the end reported as a StateChanged too",
            vec![
                connecting(),
                (
                    drained(
                        "",
                        vec![Action::CloseTransport],
                        vec![Event::StateChanged(SessionState::Closed {
                            reason: DisconnectReason::Eof,
                        })],
                    ),
                    closed(DisconnectReason::Eof),
                ),
            ],
        ),
        (
            "state() vs StateChanged",
            vec![connecting(), nothing(open(SessionState::StartingTls))],
        ),
        (
            "closed without Disconnected",
            vec![
                connecting(),
                nothing(Observed {
                    closed: true,
                    ..open(SessionState::Connecting)
                }),
            ],
        ),
        (
            "a timer after the end",
            vec![
                connecting(),
                (
                    drained("", vec![Action::CloseTransport], vec![end()]),
                    Observed {
                        timeout: Some(Instant::now()),
                        ..closed(DisconnectReason::Eof)
                    },
                ),
            ],
        ),
    ];
    for (rule, steps) in cases {
        let message = broken(&steps).unwrap_or_else(|| panic!("{rule}: not caught"));
        assert!(message.contains(rule), "{rule}: {message}");
    }
}

/// What a panic in `run` said.
fn panic_message(run: impl FnOnce()) -> String {
    let panic = catch_unwind(AssertUnwindSafe(run)).expect_err("no rule broken");
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn driver() -> crate::Driver {
    let config = herald_core::Config::new("alice@localhost/desk", "pw").expect("config");
    crate::Driver::new(config, 1)
}

#[test]
fn a_refusal_after_a_change_is_caught() {
    let mut d = driver();
    let message = panic_message(|| {
        let _ = d.command(|c, now| {
            c.set_presence(now, Presence::Away)?;
            Err(UsageError::NotOnline)
        });
    });
    assert!(
        message.contains("a refused command changed the client"),
        "{message}"
    );
}

#[test]
fn after_the_end_only_the_end_s_reason_is_a_legal_answer() {
    let mut d = driver();
    d.connect(herald_core::Transport::Plain).expect("connect");
    d.eof();
    assert_eq!(d.ended(), DisconnectReason::Eof);
    let sticky = Err(UsageError::SessionEnded(DisconnectReason::Eof));
    assert_eq!(d.command(|c, now| c.close(now)), sticky);
    let message = panic_message(|| {
        let _ = d.command(|_, _| Ok(()));
    });
    assert!(
        message.contains("a command succeeded after the end"),
        "{message}"
    );
    let message = panic_message(|| {
        let _ = d.command(|_, _| Err(UsageError::NotOnline));
    });
    assert!(message.contains("NotOnline"), "{message}");
}
