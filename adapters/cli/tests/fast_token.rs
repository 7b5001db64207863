//! `--fast-token-file` end to end: the `herald` binary run again and again against the
//! scripted server on loopback, direct TLS, SASL2 + Bind2 + FAST offered. The first run
//! makes the file (an installation id, then the token the server issues); the next logs in
//! with the token alone (HT-SHA-256-NONE, no SCRAM); a token the server refuses costs a
//! SCRAM login, which leaves a new one in the file.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_testkit::ServerProfile;
use herald_testkit::loopback::{LoopbackServer, Then, temp_file};

mod running;

use running::{Running, herald};

/// The scripted server's first token, expiring 21 days after its clock starts.
const EXPIRY: &str = "2026-01-22T00:00:00Z";

/// The scripted server, TLS from the first byte, with one token store for all
/// connections (as a real server's outlives a connection), and what the token file held
/// when each connection's stream header arrived.
struct TokenServer {
    loopback: LoopbackServer,
    store: Arc<Mutex<ServerProfile>>,
    file_at_header: Receiver<String>,
}

impl TokenServer {
    fn start(file: &Path) -> TokenServer {
        let profile = ServerProfile {
            starttls: false,
            ..ServerProfile::fast_login()
        };
        let store = Arc::new(Mutex::new(profile));
        let (tx, file_at_header) = mpsc::channel();
        let (shared, file) = (store.clone(), file.to_path_buf());
        let loopback = LoopbackServer::start(move |_, conn| {
            if conn.accept_direct_tls().is_err() {
                return;
            }
            let played = shared.lock().expect("store").clone();
            let mut header_seen = false;
            conn.serve_with(&played, |scripted, _| {
                if scripted.headers > 0 && !std::mem::replace(&mut header_seen, true) {
                    let text = std::fs::read_to_string(&file).unwrap_or_default();
                    let _ = tx.send(text);
                }
                *shared.lock().expect("store") = scripted.profile.clone();
                Then::Serve
            });
        });
        TokenServer {
            loopback,
            store,
            file_at_header,
        }
    }

    /// The server's tokens for the user agent `id`: (current, new).
    fn tokens_of(&self, id: &str) -> (Option<String>, Option<String>) {
        let store = self.store.lock().expect("store");
        let slots = &store.fast_tokens[id];
        let secret =
            |t: &Option<herald_testkit::profile::FastToken>| t.as_ref().map(|t| t.secret.clone());
        (secret(&slots.current), secret(&slots.new))
    }

    /// What the client sent on connection `index`, once its initial presence arrived.
    fn transcript(&self, index: usize) -> String {
        let log = self
            .loopback
            .connection_when(index, |log| !log.presences().is_empty());
        log.sent_text()
    }

    /// `herald` logged in as the profile's alice with `--fast-token-file file`, online;
    /// with the JID Bind2 bound (the resource `desk/` and the server's suffix for the user
    /// agent).
    fn log_in(&self, file: &Path) -> (Running, String) {
        let mut cli = Running::start(
            herald()
                .args(["--jid", "alice@localhost/desk", "--tls", "direct"])
                .args(["--server", &format!("127.0.0.1:{}", self.loopback.port)])
                .arg("--ca-file")
                .arg(self.loopback.ca_file())
                .arg("--fast-token-file")
                .arg(file)
                .env("HERALD_PASSWORD", "wonderland"),
        );
        let jid = cli.expect("online")["jid"].as_str().unwrap().to_string();
        assert!(jid.starts_with("alice@localhost/desk/"), "{jid}");
        cli.expect("presence_sent");
        (cli, jid)
    }

    /// The token file as the connection that just began found it.
    fn file_at_header(&self) -> String {
        self.file_at_header
            .recv_timeout(Duration::from_secs(15))
            .expect("a connection")
    }
}

/// Quits, and returns how many `fast_token_updated` lines the run printed.
fn quit(mut cli: Running) -> usize {
    cli.say("quit");
    assert_eq!(cli.expect("disconnected")["code"], "local_close");
    let updates = cli
        .skipped
        .iter()
        .filter(|v| v["event"] == "fast_token_updated")
        .count();
    assert_eq!(cli.wait(), 0);
    updates
}

/// A path for the token file that does not exist yet.
fn new_file() -> PathBuf {
    let path = temp_file("fast-token", "");
    std::fs::remove_file(&path).expect("remove");
    path
}

/// The file's `key=value` lines.
fn value(text: &str, key: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

fn read(file: &Path) -> String {
    std::fs::read_to_string(file).expect("the token file")
}

#[cfg(unix)]
fn assert_private(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", file.display());
}

#[cfg(not(unix))]
fn assert_private(_: &Path) {}

/// The first run: the file with the id alone while connecting, then the token the server
/// issued to that id. Returns the id, the token and the JID bound.
fn first_run(server: &TokenServer, file: &Path) -> (String, String, String) {
    let (cli, jid) = server.log_in(file);
    let before = server.file_at_header();
    let id = value(&before, "user-agent-id").expect(&before);
    assert_eq!(id.len(), 32, "{before}");
    assert_eq!(value(&before, "token"), None, "{before}");
    assert_eq!(quit(cli), 1, "the issued token is reported");

    let text = read(file);
    assert_private(file);
    assert_eq!(value(&text, "user-agent-id"), Some(id.clone()), "{text}");
    assert_eq!(
        value(&text, "mechanism").as_deref(),
        Some("HT-SHA-256-NONE")
    );
    assert_eq!(value(&text, "expiry").as_deref(), Some(EXPIRY));
    let token = value(&text, "token").expect(&text);
    let first = server.transcript(0);
    assert!(first.contains("mechanism='SCRAM-SHA-256'"), "{first}");
    assert!(
        first.contains(&format!("<user-agent id='{id}'>")),
        "{first}"
    );
    assert_eq!(server.tokens_of(&id), (None, Some(token.clone())));
    (id, token, jid)
}

#[test]
fn the_token_file_is_made_on_the_first_run_and_logs_in_without_scram_on_the_next() {
    let file = new_file();
    let server = TokenServer::start(&file);
    let (id, token, jid) = first_run(&server, &file);

    let (cli, again) = server.log_in(&file);
    assert_eq!(again, jid, "the same installation, the same resource");
    assert_eq!(
        value(&server.file_at_header(), "token"),
        Some(token.clone())
    );
    assert_eq!(quit(cli), 0, "the server did not rotate it");
    let second = server.transcript(1);
    assert!(second.contains("mechanism='HT-SHA-256-NONE'"), "{second}");
    assert!(!second.contains("SCRAM"), "{second}");
    assert_eq!(value(&read(&file), "token"), Some(token.clone()));
    assert_eq!(server.tokens_of(&id), (Some(token), None), "used");
}

#[test]
fn a_refused_token_ends_online_with_scram_and_a_new_token_in_the_file() {
    let file = new_file();
    let server = TokenServer::start(&file);
    let (id, token, _) = first_run(&server, &file);
    let edited = read(&file).replace(&token, "secret-token:forged");
    std::fs::write(&file, edited).expect("edit the token line");

    let (cli, _) = server.log_in(&file);
    server.file_at_header();
    assert_eq!(quit(cli), 2, "dropped, then a new one");
    let refused = server.transcript(1);
    assert!(refused.contains("mechanism='HT-SHA-256-NONE'"), "{refused}");
    assert!(refused.contains("mechanism='SCRAM-SHA-256'"), "{refused}");
    let text = read(&file);
    assert_private(&file);
    assert_eq!(value(&text, "user-agent-id"), Some(id.clone()));
    let fresh = value(&text, "token").expect(&text);
    assert!(fresh != token && fresh != "secret-token:forged", "{text}");
    assert_eq!(server.tokens_of(&id).1, Some(fresh), "{text}");

    // The new one logs in.
    let (cli, _) = server.log_in(&file);
    server.file_at_header();
    assert_eq!(quit(cli), 0);
    let third = server.transcript(2);
    assert!(third.contains("mechanism='HT-SHA-256-NONE'"), "{third}");
    assert!(!third.contains("SCRAM"), "{third}");
}
