//! A recorded login: the scripted server's bytes for one login, replayed into a fresh client
//! so that the benchmarks measure the client alone (the server's PBKDF2 is not in the figure).

use std::time::Instant;

use herald_core::{Action, ChannelBinding, Client, Config, SeededEntropy, SessionState, Transport};
use herald_testkit::{ScriptedServer, ServerProfile, config_for};

/// One thing the adapter does to the client during the login.
#[derive(Debug, Clone)]
enum Step {
    /// Server bytes.
    Input(Vec<u8>),
    /// The TLS handshake finished (simulated, with the test channel binding).
    TlsEstablished(Option<ChannelBinding>),
}

/// The server's side of a login, recorded once against the scripted Prosody-like server
/// (STARTTLS, SCRAM-SHA-1 at 10,000 iterations, bind, roster, initial presence).
#[derive(Debug, Clone)]
pub struct LoginScript {
    config: Config,
    steps: Vec<Step>,
}

/// The entropy seed of every benchmarked client (the script depends on the SCRAM nonce).
const SEED: u64 = 42;

fn drain(client: &mut Client, out: &mut Vec<u8>) -> bool {
    let mut start_tls = false;
    let _ = client.poll_transmit(out);
    while let Some(action) = client.poll_action() {
        start_tls |= matches!(action, Action::StartTls { .. });
    }
    while client.poll_event().is_some() {}
    start_tls
}

impl LoginScript {
    /// Records a login with `config` adjusted by `adjust`.
    pub fn record_with(adjust: impl FnOnce(&mut Config)) -> LoginScript {
        let profile = ServerProfile::prosody_like();
        let mut config = config_for(&profile);
        adjust(&mut config);
        let mut server = ScriptedServer::new(profile);
        let mut client = Client::new(config.clone(), SeededEntropy::new(SEED)).expect("config");
        let now = Instant::now();
        let mut steps = Vec::new();
        client.connect(now, Transport::Plain).expect("connect");
        let mut out = Vec::new();
        for _ in 0..100 {
            let start_tls = drain(&mut client, &mut out);
            server.handle_input(&out);
            out.clear();
            if start_tls {
                server.tls_done();
                steps.push(Step::TlsEstablished(None));
                client
                    .tls_established(now, None)
                    .expect("handshake requested");
                continue;
            }
            if client.state() == SessionState::Online {
                return LoginScript { config, steps };
            }
            let batch = server.take_output();
            assert!(
                !batch.is_empty(),
                "the login stalled in {:?}",
                client.state()
            );
            client.handle_input(now, &batch);
            steps.push(Step::Input(batch));
        }
        panic!("the login did not finish");
    }

    /// Records the default login.
    pub fn record() -> LoginScript {
        LoginScript::record_with(|_| {})
    }

    /// The client configuration the script was recorded with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Logs a fresh client in by replaying the script, with `config` (which must lead to
    /// the same bytes, e.g. the recorded one plus a SCRAM cache).
    pub fn login_with(&self, config: Config) -> Client {
        let now = Instant::now();
        let mut client = Client::new(config, SeededEntropy::new(SEED)).expect("config");
        client.connect(now, Transport::Plain).expect("connect");
        let mut out = Vec::new();
        for step in &self.steps {
            drain(&mut client, &mut out);
            out.clear();
            match step {
                Step::Input(bytes) => client.handle_input(now, bytes),
                Step::TlsEstablished(cb) => client
                    .tls_established(now, cb.clone())
                    .expect("handshake requested"),
            }
        }
        drain(&mut client, &mut out);
        assert_eq!(client.state(), SessionState::Online, "replayed login");
        client
    }

    /// Logs a fresh client in with the recorded configuration.
    pub fn login(&self) -> Client {
        self.login_with(self.config.clone())
    }
}

/// Times logins that reuse the SCRAM salted password of an earlier one (the adapter carries
/// [`Client::scram_cache`] into the next [`Config`]), calling `print` with a label, the best
/// and the median.
pub fn report_cached(
    script: &LoginScript,
    runs: usize,
    mut print: impl FnMut(&str, std::time::Duration, std::time::Duration),
) {
    let mut config = script.config().clone();
    config.scram_cache = script.login().scram_cache().clone();
    assert_eq!(config.scram_cache.len(), 1, "the login cached its key");
    let mut times: Vec<std::time::Duration> = (0..runs)
        .map(|_| {
            let config = config.clone();
            let start = Instant::now();
            std::hint::black_box(script.login_with(config));
            start.elapsed()
        })
        .collect();
    times.sort();
    print("herald, SCRAM cache", times[0], times[runs / 2]);
}
