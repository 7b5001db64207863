//! Model-based property tests: random sequences of application commands (`set_presence`,
//! `set_status`, `change_presence`, `close`) and server events (each login step released
//! one at a time: features, STARTTLS, SASL challenge and success or failure, bind, roster;
//! presence errors, stream errors, end of file, timeouts) run against the scripted server,
//! checked step by step against a small reference model of what the client must do.
//!
//! Runs go with and without pipelining (the initial presence leaves with the bind request,
//! right after SASL success), and with stream management (XEP-0198), where a cut while online
//! is followed by a new connection that resumes the session.
//!
//! Invariants:
//! - exactly one initial presence per session, carrying the model's values at that moment:
//!   at `Online` without pipelining, at SASL success with it (then, at `Online`, one more
//!   presence when the values changed since, or when a legacy session was required);
//! - whenever the session is online, the last broadcast presence on the wire is the model's
//!   presence and status; online, a change sends exactly one stanza, no change sends none;
//! - no stanza before binding completes (but the pipelined initial presence);
//! - nothing (bytes, actions, events) after the terminal event, which comes once, with the
//!   reason the model predicts;
//! - no credential in the clear unless the insecure option is on;
//! - chunking never changes the outcome (whole, one byte at a time, random cuts);
//! - a cut while online under a resumable session: the next connection resumes it, with no
//!   initial presence and nothing resent (the server had everything); the presence on the
//!   wire is still the model's. A cut anywhere else ends the session with `Eof`.

use herald_core::minidom::Element;
use herald_core::{
    Action, Config, DisconnectReason, Event, Presence, SessionState, Step, TlsPolicy, UsageError,
};
use herald_testkit::{Chunking, Pair, ServerProfile, SessionFeature, config_for, replies};
use proptest::prelude::*;

/// How the server behaves during login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// Prosody-like, the right password.
    Prosody,
    /// ejabberd-like (SCRAM-SHA-1-PLUS, no echo), the right password.
    Ejabberd,
    /// An old server that requires the RFC 3921 session.
    SessionRequired,
    /// The wrong password: SASL `<failure><not-authorized/>`.
    WrongPassword,
    /// Binding refused with `conflict`.
    BindError,
    /// No STARTTLS offered, TLS required.
    NoStartTls,
    /// No STARTTLS offered, `TlsPolicy::InsecurePlaintext`: SCRAM in the clear is allowed.
    InsecurePlaintext,
    /// Prosody-like with stream management and resumption.
    StreamManagement,
}

/// One step of a run.
#[derive(Debug, Clone)]
enum Op {
    /// The server says what it has to say so far (the next login step, or its close).
    Deliver,
    SetPresence(Presence),
    SetStatus(&'static str),
    ChangePresence(Presence, &'static str),
    Close,
    /// `<presence type='error'>` from the server (sent only while online).
    PresenceError,
    /// A stream error with this condition.
    StreamError(&'static str),
    Eof,
    /// The client's next timer fires.
    Timeout,
    /// The connection is cut (the client sees end of file). Online under a resumable
    /// session, the next connection resumes it at once, and the run goes on there.
    CutAndResume,
}

const STATUSES: &[&str] = &["", "lunch", "caf\u{e9} & <cr\u{e8}me>", "bad\u{1}text"];

fn presence_strategy() -> impl Strategy<Value = Presence> {
    prop::sample::select(vec![
        Presence::Offline,
        Presence::Chat,
        Presence::Away,
        Presence::ExtendedAway,
        Presence::DoNotDisturb,
    ])
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let status = prop::sample::select(STATUSES.to_vec());
    prop_oneof![
        8 => Just(Op::Deliver),
        2 => presence_strategy().prop_map(Op::SetPresence),
        2 => status.clone().prop_map(Op::SetStatus),
        2 => (presence_strategy(), status).prop_map(|(p, s)| Op::ChangePresence(p, s)),
        1 => Just(Op::Close),
        1 => Just(Op::PresenceError),
        1 => prop::sample::select(vec!["system-shutdown", "conflict"]).prop_map(Op::StreamError),
        1 => Just(Op::Eof),
        1 => Just(Op::Timeout),
        1 => Just(Op::CutAndResume),
    ]
}

/// Steps that cannot end a session by themselves (the login goes on).
fn safe_op_strategy() -> impl Strategy<Value = Op> {
    let status = prop::sample::select(STATUSES.to_vec());
    prop_oneof![
        8 => Just(Op::Deliver),
        2 => presence_strategy().prop_map(Op::SetPresence),
        2 => status.clone().prop_map(Op::SetStatus),
        2 => (presence_strategy(), status).prop_map(|(p, s)| Op::ChangePresence(p, s)),
        1 => Just(Op::PresenceError),
    ]
}

/// A run: a stretch of safe steps (usually long enough to log in, with commands at every
/// login step), then anything.
fn ops_strategy() -> impl Strategy<Value = Vec<Op>> {
    (
        prop::collection::vec(safe_op_strategy(), 0..30),
        prop::collection::vec(op_strategy(), 0..16),
    )
        .prop_map(|(mut safe, rest)| {
            safe.extend(rest);
            safe
        })
}

fn setup_strategy() -> impl Strategy<Value = Setup> {
    prop::sample::select(vec![
        Setup::Prosody,
        Setup::Prosody,
        Setup::Ejabberd,
        Setup::Ejabberd,
        Setup::SessionRequired,
        Setup::WrongPassword,
        Setup::BindError,
        Setup::NoStartTls,
        Setup::InsecurePlaintext,
        Setup::StreamManagement,
        Setup::StreamManagement,
    ])
}

fn pair_for(
    setup: Setup,
    pipelining: bool,
    presence: Presence,
    status: &str,
    chunking: Chunking,
) -> Pair {
    let base = match setup {
        Setup::Ejabberd => ServerProfile::ejabberd_like(),
        Setup::StreamManagement => ServerProfile::stream_management(),
        _ => ServerProfile::prosody_like(),
    };
    let profile = ServerProfile {
        iterations: 4096,
        starttls: !matches!(setup, Setup::NoStartTls | Setup::InsecurePlaintext),
        session: if setup == Setup::SessionRequired {
            SessionFeature::Required
        } else {
            base.session
        },
        bind_error: (setup == Setup::BindError).then(|| "conflict".to_string()),
        ..base
    };
    let mut config: Config = config_for(&profile);
    if setup == Setup::WrongPassword {
        config.password = "not the password".into();
    }
    if setup == Setup::InsecurePlaintext {
        config.tls = TlsPolicy::InsecurePlaintext;
    }
    config.presence = presence;
    config.status = status.to_string();
    config.pipelining = pipelining;
    let mut pair = Pair::new(profile, config);
    pair.chunking = chunking;
    pair.hold = true;
    pair
}

/// The account's own broadcast presence, as (availability, status).
fn own_presence(el: &Element) -> Option<(Presence, String)> {
    if el.name() != "presence" || el.attr("to").is_some() {
        return None;
    }
    let status = el
        .get_child("status", "jabber:client")
        .map(|s| s.text())
        .unwrap_or_default();
    if el.attr("type") == Some("unavailable") {
        return Some((Presence::Offline, status));
    }
    let show = el.get_child("show", "jabber:client").map(|s| s.text());
    let presence = match show.as_deref() {
        Some("away") => Presence::Away,
        Some("xa") => Presence::ExtendedAway,
        Some("dnd") => Presence::DoNotDisturb,
        _ => Presence::Chat,
    };
    Some((presence, status))
}

fn timeout_step(state: &SessionState) -> Option<Step> {
    match state {
        SessionState::Connecting => Some(Step::StreamFeatures),
        SessionState::StartingTls => Some(Step::StartTls),
        SessionState::TlsHandshake => Some(Step::TlsHandshake),
        SessionState::Authenticating { .. } => Some(Step::Authentication),
        SessionState::Binding => Some(Step::Binding),
        SessionState::Session => Some(Step::Session),
        SessionState::Roster => Some(Step::Roster),
        _ => None,
    }
}

/// What the reference model knows.
#[derive(Debug)]
struct Model {
    presence: Presence,
    status: String,
    online_seen: bool,
    /// The pipelined initial presence, as sent at SASL success.
    early: Option<(Presence, String)>,
    ended: Option<DisconnectReason>,
}

/// Everything observable, to compare chunkings.
#[derive(Debug, PartialEq)]
struct Transcript {
    client_bytes: Vec<u8>,
    events: Vec<Event>,
    actions: Vec<Action>,
}

/// Runs `ops` and checks every invariant after every step.
fn run(
    setup: Setup,
    pipelining: bool,
    presence: Presence,
    status: &'static str,
    ops: &[Op],
    chunking: Chunking,
) -> Transcript {
    let mut pair = pair_for(setup, pipelining, presence, status, chunking);
    let mut model = Model {
        presence,
        status: status.to_string(),
        online_seen: false,
        early: None,
        ended: None,
    };
    pair.start();
    pair.drive();
    // The connections a cut left behind, oldest first.
    let mut earlier: Vec<Transcript> = Vec::new();
    // The account's last broadcast presence on the wire, across connections.
    let mut on_wire: Option<(Presence, String)> = None;
    for op in ops {
        let before_state = pair.client().state();
        let direct = header_delivered(&pair);
        let (elements, bytes, events, actions) = (
            pair.server.received.len(),
            pair.server.received_bytes.len(),
            pair.events.len(),
            pair.actions.len(),
        );
        let (result, resumed) = match op {
            Op::CutAndResume => cut_and_resume(&mut pair, pipelining),
            _ => (apply(&mut pair, op), None),
        };
        let resumed = match resumed {
            Some(cut) => {
                earlier.push(cut);
                true
            }
            None => false,
        };
        let (elements, bytes, events, actions) = if resumed {
            (0, 0, 0, 0)
        } else {
            (elements, bytes, events, actions)
        };

        let new_events = pair.events[events..].to_vec();
        let new_own: Vec<(Presence, String)> = pair.server.received[elements..]
            .iter()
            .filter_map(own_presence)
            .collect();
        let sent_now = String::from_utf8_lossy(&pair.server.received_bytes[bytes..]).into_owned();
        let context = format!("{op:?} in {before_state:?}: sent {sent_now:?}, {new_events:#?}");
        if let Some(last) = new_own.last() {
            on_wire = Some(last.clone());
        }

        // Nothing after the terminal event.
        if let Some(reason) = &model.ended {
            assert!(new_events.is_empty(), "events after the end: {context}");
            assert!(sent_now.is_empty(), "bytes after the end: {context}");
            assert_eq!(
                pair.actions.len(),
                actions,
                "actions after the end: {context}"
            );
            if let Err(e) = &result {
                assert_eq!(e, &UsageError::SessionEnded(reason.clone()), "{context}");
            }
            continue;
        }

        // Commands: the model's values change exactly when the client accepts them.
        let accepted = result.is_ok();
        let mut expected_change = false;
        match op {
            Op::SetPresence(p) => expected_change = update(&mut model, accepted, *p, None),
            Op::SetStatus(s) => {
                let p = model.presence;
                expected_change = update(&mut model, accepted, p, Some(s));
            }
            Op::ChangePresence(p, s) => expected_change = update(&mut model, accepted, *p, Some(s)),
            _ => {}
        }
        let bad_text =
            matches!(op, Op::SetStatus(s) | Op::ChangePresence(_, s) if s.contains('\u{1}'));
        if bad_text && before_state != SessionState::Closing {
            assert!(
                matches!(result, Err(UsageError::InvalidText { .. })),
                "{context}"
            );
        }
        if before_state == SessionState::Closing
            && matches!(
                op,
                Op::SetPresence(_) | Op::SetStatus(_) | Op::ChangePresence(..)
            )
        {
            assert_eq!(result, Err(UsageError::AlreadyClosing), "{context}");
        }
        assert_eq!(pair.client().presence(), model.presence, "{context}");
        assert_eq!(pair.client().status(), model.status, "{context}");

        if resumed {
            // Online again without a login's presence: contacts saw nothing.
            let resent: Vec<usize> = new_events
                .iter()
                .filter_map(|e| match e {
                    Event::Resumed { resent } => Some(*resent),
                    _ => None,
                })
                .collect();
            assert_eq!(resent, [0], "resumed, nothing to resend: {context}");
            assert!(new_own.is_empty(), "no presence on resumption: {context}");
            assert_eq!(pair.client().state(), SessionState::Online, "{context}");
            let model_values = (model.presence, model.status.clone());
            assert_eq!(on_wire, Some(model_values), "{context}");
            continue;
        }

        // Presence on the wire.
        let went_online = new_events.iter().any(|e| matches!(e, Event::Online { .. }));
        let entered_binding = new_events.contains(&Event::StateChanged(SessionState::Binding));
        let mut early_now = Vec::new();
        if pipelining && entered_binding && !model.online_seen {
            let early = (model.presence, model.status.clone());
            early_now.push(early.clone());
            model.early = Some(early);
        }
        if went_online {
            assert!(!model.online_seen, "online twice: {context}");
            model.online_seen = true;
            let current = (model.presence, model.status.clone());
            let mut expected = early_now;
            match model.early.take() {
                None => expected.push(current),
                Some(_) if setup == Setup::SessionRequired => expected.push(current),
                Some(early) if early != current => expected.push(current),
                Some(_) => {}
            }
            assert_eq!(new_own, expected, "one initial presence: {context}");
        } else if !model.online_seen {
            assert_eq!(new_own, early_now, "presence before binding: {context}");
            let stanzas = pair.server.received[elements..]
                .iter()
                .filter(|el| matches!(el.name(), "presence" | "message"))
                .count();
            assert_eq!(
                stanzas,
                early_now.len(),
                "a stanza before binding: {context}"
            );
        } else if before_state == SessionState::Online {
            match op {
                Op::SetPresence(_) | Op::SetStatus(_) | Op::ChangePresence(..) => {
                    let want = usize::from(expected_change);
                    assert_eq!(new_own.len(), want, "{context}");
                }
                Op::Close => {
                    let goodbye = (Presence::Offline, String::new());
                    assert_eq!(new_own, vec![goodbye], "{context}");
                }
                _ => assert!(new_own.is_empty(), "{context}"),
            }
        } else {
            assert!(new_own.is_empty(), "{context}");
        }
        if pair.client().state() == SessionState::Online {
            let model_values = (model.presence, model.status.clone());
            assert_eq!(
                on_wire,
                Some(model_values),
                "the wire matches the model: {context}"
            );
        }

        // The end: once, last, with the reason the model predicts.
        let ends: Vec<DisconnectReason> = new_events
            .iter()
            .filter_map(|e| match e {
                Event::Disconnected { reason } => Some(reason.clone()),
                _ => None,
            })
            .collect();
        assert!(ends.len() <= 1, "{context}");
        if let Some(reason) = ends.first() {
            assert!(
                matches!(new_events.last(), Some(Event::Disconnected { .. })),
                "Disconnected is last: {context}"
            );
            assert_eq!(
                pair.actions.last(),
                Some(&Action::CloseTransport),
                "{context}"
            );
            let closed = SessionState::Closed {
                reason: reason.clone(),
            };
            assert_eq!(pair.client().state(), closed, "{context}");
            let mut expected = predicted(setup, op, &before_state);
            if matches!(op, Op::StreamError(_)) && !direct {
                expected.extend(predicted(setup, &Op::Deliver, &before_state));
                // With our <starttls/> pipelined, what the server held may end with its
                // <proceed/>: the error then arrives in the clear during the handshake.
                if pipelining && before_state == SessionState::Connecting {
                    expected.push(DisconnectReason::TlsInjection);
                }
            }
            assert!(
                expected.contains(reason),
                "reason {reason:?}, model expects one of {expected:?}: {context}"
            );
            model.ended = Some(reason.clone());
        } else {
            assert!(!pair.client().is_closed(), "{context}");
            assert!(
                !matches!(op, Op::StreamError(_) | Op::Eof | Op::CutAndResume),
                "a terminal server event did not end the session: {context}"
            );
        }
    }

    // No credential in the clear unless the insecure option is on.
    let wire = String::from_utf8_lossy(&pair.server.received_bytes).into_owned();
    if let Some(auth) = wire.find("<auth") {
        let tls = wire.find("<starttls");
        match setup {
            Setup::InsecurePlaintext => {
                assert!(
                    !wire.contains("mechanism='PLAIN'"),
                    "PLAIN without TLS: {wire}"
                )
            }
            _ => assert!(tls.is_some_and(|t| t < auth), "auth before TLS: {wire}"),
        }
    }
    earlier.push(Transcript {
        client_bytes: pair.server.received_bytes.clone(),
        events: pair.events.clone(),
        actions: pair.actions.clone(),
    });
    Transcript {
        client_bytes: earlier
            .iter()
            .flat_map(|t| t.client_bytes.clone())
            .collect(),
        events: earlier.iter().flat_map(|t| t.events.clone()).collect(),
        actions: earlier.iter().flat_map(|t| t.actions.clone()).collect(),
    }
}

/// Cuts the connection. When that leaves a session to resume (online under stream
/// management), the next connection resumes it, logged in whole, and replaces the pair;
/// the cut one's transcript is returned.
fn cut_and_resume(
    pair: &mut Pair,
    pipelining: bool,
) -> (Result<(), UsageError>, Option<Transcript>) {
    let ended_before = pair.client().is_closed();
    pair.cut();
    pair.drive();
    if ended_before {
        return (Ok(()), None);
    }
    let Some(resumption) = pair.client().resumption().cloned() else {
        return (Ok(()), None);
    };
    let last = pair.client();
    let mut config = config_for(&pair.server.profile);
    config.presence = last.presence();
    config.status = last.status().to_string();
    config.scram_cache = last.scram_cache().clone();
    config.feature_cache = last.feature_cache().cloned();
    config.pipelining = pipelining;
    config.resumption = Some(resumption);
    let mut next = pair.reconnect_with(config);
    next.connect();
    next.hold = true;
    let cut = std::mem::replace(pair, next);
    let transcript = Transcript {
        client_bytes: cut.server.received_bytes.clone(),
        events: cut.events.clone(),
        actions: cut.actions.clone(),
    };
    (Ok(()), Some(transcript))
}

/// Applies an accepted presence command to the model; true when the values changed.
fn update(model: &mut Model, accepted: bool, presence: Presence, status: Option<&str>) -> bool {
    if !accepted {
        return false;
    }
    let status = status.unwrap_or(&model.status).to_string();
    let changed = presence != model.presence || status != model.status;
    model.presence = presence;
    model.status = status;
    changed
}

/// The reasons the model accepts for a session that ended during `op` in `state`.
fn predicted(setup: Setup, op: &Op, state: &SessionState) -> Vec<DisconnectReason> {
    let closing = *state == SessionState::Closing;
    match op {
        Op::StreamError(condition) => vec![DisconnectReason::StreamError {
            condition: (*condition).into(),
            text: None,
        }],
        Op::Eof | Op::CutAndResume if closing => vec![DisconnectReason::LocalClose],
        Op::Eof | Op::CutAndResume => vec![DisconnectReason::Eof],
        Op::Timeout if closing => vec![DisconnectReason::LocalClose],
        // Online, the timer may be the deadline of a link check the server (holding what
        // it has) did not answer.
        Op::Timeout if *state == SessionState::Online => vec![DisconnectReason::LinkDead],
        Op::Timeout => timeout_step(state)
            .map(DisconnectReason::Timeout)
            .into_iter()
            .collect(),
        Op::Deliver if closing => vec![DisconnectReason::LocalClose],
        Op::Deliver => match setup {
            Setup::WrongPassword => vec![DisconnectReason::AuthFailed {
                condition: "not-authorized".into(),
                text: None,
            }],
            Setup::BindError => vec![DisconnectReason::BindFailed {
                condition: "conflict".into(),
            }],
            Setup::NoStartTls => vec![DisconnectReason::TlsNotOffered],
            _ => vec![],
        },
        _ => vec![],
    }
}

fn count(haystack: &[u8], needle: &str) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle.as_bytes())
        .count()
}

/// Whether the server's header of the client's current stream has reached the client.
fn header_delivered(pair: &Pair) -> bool {
    count(&pair.delivered, "<stream:stream") == count(&pair.server.received_bytes, "<stream:stream")
}

fn apply(pair: &mut Pair, op: &Op) -> Result<(), UsageError> {
    let result = match op {
        Op::Deliver => {
            pair.deliver();
            Ok(())
        }
        Op::SetPresence(p) => pair.command(|c, now| c.set_presence(now, *p)),
        Op::SetStatus(s) => pair.command(|c, now| c.set_status(now, s)),
        Op::ChangePresence(p, s) => pair.command(|c, now| c.change_presence(now, *p, s)),
        Op::Close => pair.command(|c, now| c.close(now)),
        Op::PresenceError => {
            if pair.client().state() == SessionState::Online {
                let error = replies::presence_error("localhost", "modify", "not-acceptable", None);
                if pair.server.sm_id().is_some() {
                    // Counted by the server's stream management, as the client counts it.
                    pair.server.send_stanza(error);
                    pair.deliver();
                } else {
                    pair.inject(error.as_bytes());
                }
            }
            Ok(())
        }
        Op::StreamError(condition) => {
            let error = replies::stream_error(condition, None);
            if header_delivered(pair) {
                pair.inject(error.as_bytes());
            } else {
                // Before the server's header a stream error is not XML yet: it follows
                // what the server holds (its header among it).
                pair.server.send_raw(error);
                pair.deliver();
            }
            Ok(())
        }
        Op::Eof => {
            pair.eof();
            Ok(())
        }
        Op::CutAndResume => unreachable!("run cuts and resumes itself"),
        Op::Timeout => {
            pair.fire_next_timeout();
            Ok(())
        }
    };
    pair.drive();
    result
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn the_client_follows_the_model_whatever_the_chunking(
        setup in setup_strategy(),
        pipelining in any::<bool>(),
        presence in presence_strategy(),
        status in prop::sample::select(&STATUSES[..3]),
        ops in ops_strategy(),
        seed in any::<u64>(),
    ) {
        let whole = run(setup, pipelining, presence, status, &ops, Chunking::Whole);
        let random = run(setup, pipelining, presence, status, &ops, Chunking::Random(seed));
        prop_assert_eq!(&whole, &random);
        let bytes = run(setup, pipelining, presence, status, &ops, Chunking::ByteAtATime);
        prop_assert_eq!(&whole, &bytes);
    }
}

/// The op sequences the strategy should reach do reach their goal: a full login, changes
/// online, a close answered by the server.
#[test]
fn a_scripted_run_goes_online_changes_and_closes() {
    let mut ops = vec![Op::SetStatus("lunch")];
    ops.extend(std::iter::repeat_n(Op::Deliver, 10));
    ops.extend([
        Op::SetPresence(Presence::Away),
        Op::SetPresence(Presence::Away),
        Op::PresenceError,
        Op::ChangePresence(Presence::Offline, ""),
        Op::Timeout,
        Op::Close,
        Op::Deliver,
    ]);
    for (setup, pipelining) in [Setup::Prosody, Setup::Ejabberd, Setup::SessionRequired]
        .into_iter()
        .flat_map(|s| [(s, false), (s, true)])
    {
        let t = run(
            setup,
            pipelining,
            Presence::DoNotDisturb,
            "",
            &ops,
            Chunking::Whole,
        );
        assert!(
            t.events.iter().any(|e| matches!(e, Event::Online { .. })),
            "{setup:?}"
        );
        let reason = DisconnectReason::LocalClose;
        assert_eq!(
            t.events.last(),
            Some(&Event::Disconnected { reason }),
            "{setup:?}"
        );
    }
}

/// With stream management a cut online is followed by a resumption, twice, and the
/// presence changed between them is on the wire once; the close still ends it all.
#[test]
fn a_scripted_run_cuts_and_resumes() {
    let mut ops = vec![Op::SetStatus("lunch")];
    ops.extend(std::iter::repeat_n(Op::Deliver, 10));
    ops.extend([
        Op::SetPresence(Presence::Away),
        Op::CutAndResume,
        Op::SetStatus("back"),
        Op::Deliver,
        Op::CutAndResume,
        Op::Timeout,
        Op::Close,
        Op::Deliver,
    ]);
    for pipelining in [false, true] {
        let t = run(
            Setup::StreamManagement,
            pipelining,
            Presence::Chat,
            "",
            &ops,
            Chunking::Whole,
        );
        let resumed = t
            .events
            .iter()
            .filter(|e| matches!(e, Event::Resumed { .. }))
            .count();
        assert_eq!(resumed, 2, "{:#?}", t.events);
        let wire = String::from_utf8_lossy(&t.client_bytes);
        assert_eq!(wire.matches("<status>back</status>").count(), 1, "{wire}");
        let reason = DisconnectReason::LocalClose;
        assert_eq!(t.events.last(), Some(&Event::Disconnected { reason }));
    }
}

/// The generator reaches deep states often enough for the property to mean something: a
/// good share of the random runs go online and then change presence while online.
#[test]
fn random_runs_often_go_online_and_act_there() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = (setup_strategy(), any::<bool>(), ops_strategy());
    let (mut online, mut acted, mut resumed) = (0, 0, 0);
    let runs = 200;
    for _ in 0..runs {
        let (setup, pipelining, ops) = strategy.new_tree(&mut runner).expect("tree").current();
        let t = run(setup, pipelining, Presence::Chat, "", &ops, Chunking::Whole);
        let Some(at) = t
            .events
            .iter()
            .position(|e| matches!(e, Event::Online { .. }))
        else {
            continue;
        };
        online += 1;
        resumed += usize::from(t.events.iter().any(|e| matches!(e, Event::Resumed { .. })));
        let sent = t.events[at..]
            .iter()
            .filter(|e| matches!(e, Event::PresenceSent { .. }))
            .count();
        acted += usize::from(sent > 1);
    }
    eprintln!("{online}/{runs} online, {acted} changed presence online, {resumed} resumed");
    assert!(resumed > 0, "no random run resumed a session");
    assert!(online * 4 >= runs, "only {online}/{runs} runs went online");
    assert!(acted * 8 >= runs, "only {acted}/{runs} runs acted online");
}
