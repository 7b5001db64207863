//! `connect` says at once what it can tell is wrong, and `wait_online` either gives the
//! bound JID or says why the session ended, keeping every event it read past.

mod common;

use std::time::Duration;

use common::{AfterOnline, PlainServer, plain_config, plain_profile};
use herald_tokio::{
    ConfigError, ConnectOptions, CoreEvent, DisconnectReason, EndReason, Error, Event,
    OptionsError, TlsSetupError,
};

#[tokio::test]
async fn a_configuration_the_core_would_refuse_fails_at_connect() {
    let mut config = plain_config(&plain_profile());
    config.limits.max_stanza_bytes = herald_tokio::herald_core::Limits::MAX_STANZA_BYTES + 1;
    let err = herald_tokio::connect(config, common::options(5222)).unwrap_err();
    assert!(
        matches!(err, Error::Config(ConfigError::StanzaLimitTooLarge(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn options_that_cannot_work_fail_at_connect() {
    let config = || plain_config(&plain_profile());
    let err =
        herald_tokio::connect(config(), ConnectOptions::new().server("127.0.0.1", 0)).unwrap_err();
    assert_eq!(err, Error::Options(OptionsError::ServerPortZero));
    let err = herald_tokio::connect(config(), ConnectOptions::new().event_capacity(0)).unwrap_err();
    assert_eq!(err, Error::Options(OptionsError::ZeroEventCapacity));
    assert_eq!(
        err.to_string(),
        "connect options: the event capacity is zero"
    );
}

#[tokio::test]
async fn a_missing_ca_file_fails_at_connect_and_names_the_file() {
    let options = common::options(5222).ca_file("/nonexistent/herald-ca.pem");
    let err = herald_tokio::connect(plain_config(&plain_profile()), options).unwrap_err();
    assert!(
        matches!(&err, Error::TlsSetup(TlsSetupError::CaFile { path, .. }) if path.contains("herald-ca.pem")),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("/nonexistent/herald-ca.pem"),
        "{err}"
    );
}

#[test]
fn connect_outside_a_runtime_is_an_error_not_a_panic() {
    let err =
        herald_tokio::connect(plain_config(&plain_profile()), common::options(5222)).unwrap_err();
    assert_eq!(err, Error::NoRuntime);
}

#[test]
fn end_reasons_read_as_sentences() {
    assert_eq!(
        EndReason::Session(DisconnectReason::LocalClose).to_string(),
        "closed by the application"
    );
    assert_eq!(
        EndReason::Unreachable("127.0.0.1:1: refused".into()).to_string(),
        "no server could be reached: 127.0.0.1:1: refused"
    );
    assert_eq!(
        EndReason::Tls("bad certificate".into()).to_string(),
        "TLS failed: bad certificate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_online_returns_the_jid_and_keeps_the_events_it_read() {
    let profile = plain_profile();
    let server = PlainServer::start(profile.clone(), AfterOnline::Nothing);
    let config = plain_config(&profile);
    let bare = config.bare_jid();
    let (handle, mut events) =
        herald_tokio::connect(config, common::options(server.port)).expect("connect");
    let jid = tokio::time::timeout(Duration::from_secs(20), events.wait_online())
        .await
        .expect("in time")
        .expect("online");
    assert_eq!(jid.to_bare(), bare);
    // Everything read on the way comes out again, in order, ending with `Online`.
    let mut kept = Vec::new();
    loop {
        let event = events.recv().await.expect("an event");
        let online = matches!(&event, Event::Core(CoreEvent::Online { jid: j }) if *j == jid);
        kept.push(event);
        if online {
            break;
        }
    }
    assert!(
        matches!(kept.first(), Some(Event::Connecting { .. })),
        "{kept:#?}"
    );
    assert!(kept.len() > 2, "{kept:#?}");
    handle.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_online_says_why_the_session_ended() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let (_handle, mut events) =
        herald_tokio::connect(plain_config(&plain_profile()), common::options(port))
            .expect("connect");
    let err = tokio::time::timeout(Duration::from_secs(20), events.wait_online())
        .await
        .expect("in time")
        .unwrap_err();
    match &err {
        Error::EndedWith(EndReason::Unreachable(m)) => assert!(m.contains(&port.to_string())),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("the session ended: no server could be reached: 127.0.0.1:"),
        "{err}"
    );
    // The `Ended` event itself is still delivered.
    let mut last = None;
    while let Some(event) = events.recv().await {
        last = Some(event);
    }
    assert!(matches!(last, Some(Event::Ended { .. })), "{last:?}");
}
