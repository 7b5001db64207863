//! Starts a real XMPP server on loopback for the demo (`scripts/demo`) or by hand, with two
//! accounts subscribed to each other (or, with `--empty-rosters`, strangers: to try adding a
//! contact), prints where it is, and runs until stdin closes or the process is terminated.
//!
//! ```text
//! cargo run -p herald-tests --example demo_server -- \
//!     [prosody|ejabberd] [--websocket] [--empty-rosters] [user:password ...]
//! ```
//!
//! Prints one line `port=PORT ca=CA_PEM dir=DIR` on stdout once the server accepts
//! connections, with ` ws=URL` after it with `--websocket` (Prosody's mod_websocket on a
//! loopback HTTP port, `ws://`, for the browser demo `scripts/demo-web`); the server is
//! stopped when stdin reaches end of file (or on SIGTERM/SIGINT, which stop the whole
//! process group).

use std::io::{BufRead, Write};

use herald_testkit::real::{Ejabberd, Prosody, RealServer};

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    let kind = args.next().unwrap_or_else(|| "prosody".to_string());
    let websocket = args.next_if(|a| a == "--websocket").is_some();
    let subscribed = args.next_if(|a| a == "--empty-rosters").is_none();
    let mut accounts: Vec<(String, String)> = args
        .map(|a| match a.split_once(':') {
            Some((u, p)) => (u.to_string(), p.to_string()),
            None => {
                eprintln!("accounts are user:password, got {a:?}");
                std::process::exit(2);
            }
        })
        .collect();
    if accounts.is_empty() {
        accounts = vec![
            ("alice".into(), "alice-pw".into()),
            ("bob".into(), "bob-pw".into()),
        ];
    }
    let accounts: Vec<(&str, &str)> = accounts
        .iter()
        .map(|(u, p)| (u.as_str(), p.as_str()))
        .collect();
    let mut ws = String::new();
    let server: Box<dyn RealServer> = match kind.as_str() {
        "prosody" if websocket => {
            let server =
                Prosody::start_with_websocket(&accounts, subscribed).unwrap_or_else(|e| fail(&e));
            ws = format!(" ws={}", server.websocket_url(false).unwrap_or_default());
            Box::new(server)
        }
        _ if websocket => fail("--websocket needs prosody"),
        "prosody" => {
            Box::new(Prosody::start_with(&accounts, subscribed).unwrap_or_else(|e| fail(&e)))
        }
        "ejabberd" => {
            Box::new(Ejabberd::start_with(&accounts, subscribed).unwrap_or_else(|e| fail(&e)))
        }
        other => fail(&format!("unknown server {other:?}: prosody or ejabberd")),
    };
    let dir = server
        .ca_pem_path()
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    println!(
        "port={} ca={} dir={dir}{ws}",
        server.port(),
        server.ca_pem_path().display()
    );
    let _ = std::io::stdout().flush();
    // Run until stdin closes.
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        if line.is_err() {
            break;
        }
    }
    drop(server);
}

fn fail(e: &str) -> ! {
    eprintln!("demo_server: {e}");
    std::process::exit(1);
}
