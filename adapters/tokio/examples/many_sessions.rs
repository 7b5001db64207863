//! Many sessions driven from one task: every account's `Events` merged into one stream,
//! one shared TLS configuration, each session set to `away` once it is online, all closed
//! at Ctrl-C.
//!
//! ```text
//! HERALD_PASSWORD=secret cargo run -p herald-tokio --example many_sessions -- \
//!     127.0.0.1:5222 ca.pem alice@localhost/a bob@localhost/b
//! ```
//!
//! Every account uses the one password in `HERALD_PASSWORD`; the CA file is trusted besides
//! the web PKI roots (`-` for none).

use futures_util::stream::{StreamExt, select_all};
use herald_tokio::{Config, ConnectOptions, CoreEvent, Event, Presence, Roots, TlsConfigs};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: many_sessions HOST:PORT CA_FILE|- JID...";
    let server = args.next().ok_or(usage)?;
    let ca_file = args.next().ok_or(usage)?;
    let jids: Vec<String> = args.collect();
    let (host, port) = server.rsplit_once(':').ok_or(usage)?;
    let password = std::env::var("HERALD_PASSWORD").map_err(|_| "set HERALD_PASSWORD")?;

    // One rustls configuration for every session (built here, once).
    let ca = (ca_file != "-").then(|| std::path::PathBuf::from(&ca_file));
    let tls = TlsConfigs::new(&Roots::WebPki, ca.as_deref())?;
    let mut handles = Vec::new();
    let mut streams = Vec::new();
    for (i, jid) in jids.iter().enumerate() {
        let config = Config::new(jid, password.clone())?;
        let options = ConnectOptions::new()
            .server(host, port.parse()?)
            .tls_config(tls.clone());
        let (handle, events) = herald_tokio::connect(config, options)?;
        handles.push(handle);
        streams.push(events.map(move |event| (i, event)));
    }

    let mut events = select_all(streams);
    let mut closing = false;
    loop {
        tokio::select! {
            next = events.next() => match next {
                None => break, // every session has ended
                Some((i, Event::Core(CoreEvent::Online { jid }))) => {
                    println!("{jid} online");
                    handles[i].change_presence(Presence::Away, "driven from one task").await?;
                }
                Some((i, Event::Core(CoreEvent::Presence(p)))) => {
                    println!("{}: {} is {}", jids[i], p.from, p.availability);
                }
                Some((i, Event::Ended { reason })) => println!("{}: ended: {reason}", jids[i]),
                Some(_) => {}
            },
            _ = tokio::signal::ctrl_c(), if !closing => {
                closing = true;
                for handle in &handles {
                    let _ = handle.close().await;
                }
            }
        }
    }
    Ok(())
}
