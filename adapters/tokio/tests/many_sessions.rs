//! `Events` is a `Stream`: many sessions merged with `select_all` and driven from one task,
//! sharing one TLS configuration, as `examples/many_sessions.rs` does.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{AfterOnline, PlainServer, plain_config, plain_profile};
use futures_util::stream::{StreamExt, select_all};
use herald_tokio::{CoreEvent, Event, Roots, TlsConfigs};

const SESSIONS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_merged_into_one_stream_all_get_online_and_end() {
    let profile = plain_profile();
    let server = PlainServer::start(profile.clone(), AfterOnline::Nothing);
    let shared = TlsConfigs::new(&Roots::WebPki, None).expect("TLS configuration");
    let mut handles = Vec::new();
    let mut streams = Vec::new();
    for i in 0..SESSIONS {
        let options = common::options(server.port).tls_config(shared.clone());
        let (handle, events) =
            herald_tokio::connect(plain_config(&profile), options).expect("connect");
        handles.push(handle);
        streams.push(events.map(move |event| (i, event)));
    }
    let mut all = select_all(streams);
    let mut online = HashMap::new();
    let mut ended = HashMap::new();
    let run = async {
        while let Some((i, event)) = all.next().await {
            match event {
                Event::Core(CoreEvent::Online { .. }) => {
                    *online.entry(i).or_insert(0) += 1;
                    // Everyone online: close them all, from this same task.
                    if online.len() == SESSIONS {
                        for handle in &handles {
                            handle.close().await.expect("close");
                        }
                    }
                }
                Event::Ended { reason } => {
                    ended.insert(i, reason);
                }
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("in time");
    // The merged stream ends when every session's does, each after its own `Ended`.
    assert_eq!(online.len(), SESSIONS, "{online:?}");
    assert!(online.values().all(|&n| n == 1), "{online:?}");
    assert_eq!(ended.len(), SESSIONS, "{ended:?}");
    assert_eq!(server.server.accepted(), SESSIONS);
}
