//! `herald`: an XMPP presence client for scripts. Options on the command line, commands on
//! standard input, events as JSON lines on standard output. Run `herald --help`.

#![forbid(unsafe_code)]

mod args;
mod fast;
mod input;
mod log;
mod output;

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use clap::Parser;
use herald_core::{Config, TlsPolicy};
use herald_std::{ConnectOptions, Error, Roots, Session, TlsMode};

use args::{Args, RootsArg, TlsArg};

const EXIT_USAGE: u8 = 2;
const EXIT_TLS: u8 = 3;
const EXIT_OTHER: u8 = 4;

fn main() -> ExitCode {
    // clap exits with status 2 on bad usage.
    let args = Args::parse();
    log::install(args.trace);
    ExitCode::from(run(args))
}

/// Prints a usage error on standard error and returns its exit status.
fn usage(message: &str) -> u8 {
    eprintln!("herald: {message}");
    EXIT_USAGE
}

fn password(args: &Args) -> Result<String, String> {
    if let Some(path) = &args.password_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
        let line = text.lines().next().unwrap_or_default();
        return Ok(line.to_string());
    }
    std::env::var("HERALD_PASSWORD")
        .map_err(|_| "no password: set HERALD_PASSWORD or use --password-file FILE".to_string())
}

fn options(args: &Args) -> Result<ConnectOptions, String> {
    let mut options = ConnectOptions::default();
    options.tls = match args.tls {
        Some(TlsArg::Starttls) => TlsMode::StartTls,
        Some(TlsArg::Direct) => TlsMode::Direct,
        // SRV decides; with --server (or without records) this is STARTTLS.
        None if args.insecure_plaintext => TlsMode::StartTls,
        None => TlsMode::Auto,
    };
    if let Some(server) = &args.server {
        let target = herald_io::target::parse_host_port(server, options.tls == TlsMode::Direct)
            .ok_or_else(|| format!("--server {server:?}: expected HOST or HOST:PORT"))?;
        options.server = Some(target);
    }
    match (args.roots, &args.ca_file) {
        (RootsArg::Webpki, file) => {
            options.roots = Roots::WebPki;
            options.ca_file = file.clone();
        }
        (RootsArg::Platform, file) => {
            options.roots = Roots::Platform;
            options.ca_file = file.clone();
        }
        (RootsArg::None, Some(file)) => options.roots = Roots::CaFileOnly(file.clone()),
        (RootsArg::None, None) => return Err("--roots none needs --ca-file".into()),
    }
    options.trace = args.trace;
    Ok(options)
}

fn run(args: Args) -> u8 {
    let password = match password(&args) {
        Ok(p) => p,
        Err(message) => return usage(&message),
    };
    let mut config = match Config::new(&args.jid, password) {
        Ok(config) => config,
        Err(e) => return usage(&format!("--jid {:?}: {e}", args.jid)),
    };
    config.presence = args.presence;
    config.status = args.status.clone();
    config.priority = args.priority;
    config.identity = herald_core::Identity::new("client", args.client_type.clone())
        .with_name(args.client_name.clone());
    config.subscription_policy = args.subscriptions.into();
    config.timeouts.subscription_window = args.subscription_window;
    if args.link_check.is_zero() {
        config.timeouts.link_check = None;
    } else {
        config.timeouts.link_check = Some(args.link_check);
        config.timeouts.link_answer = config.timeouts.link_answer.min(args.link_check);
    }
    let fast_file = args.fast_token_file.clone();
    if let Some(path) = &fast_file {
        match fast::load(path) {
            Ok(stored) => {
                config.user_agent = Some(stored.user_agent);
                config.fast_token = stored.token;
            }
            Err(message) => return usage(&format!("--fast-token-file: {message}")),
        }
    }
    let user_agent = config.user_agent.clone();
    if args.insecure_plaintext {
        if args.tls == Some(TlsArg::Direct) {
            return usage("--insecure-plaintext and --tls direct contradict each other");
        }
        eprintln!(
            "herald: WARNING: --insecure-plaintext: no TLS; the password and everything else \
             cross the network in the clear. Use it only for loopback experiments."
        );
        config.tls = TlsPolicy::InsecurePlaintext;
    }
    let options = match options(&args) {
        Ok(options) => options,
        Err(message) => return usage(&message),
    };

    let mut session = match Session::connect(config, options) {
        Ok(session) => session,
        Err(e) => {
            output::emit(&output::error(&e.to_string()));
            return match e {
                Error::Config(_) => EXIT_USAGE,
                Error::Tls(_) => EXIT_TLS,
                _ => EXIT_OTHER,
            };
        }
    };
    let handle = session.handle();
    let (roster_tx, roster_requests) = mpsc::channel();
    std::thread::spawn(move || input::read_commands(handle, roster_tx));

    loop {
        // Short pumps, so a `roster` command is answered within that time.
        match session.pump(Duration::from_millis(100)) {
            Ok(events) => {
                for event in &events {
                    if let Some(line) = output::event(event) {
                        output::emit(&line);
                    }
                    if let (
                        herald_std::Event::Core(herald_core::Event::FastTokenUpdated),
                        Some(path),
                        Some(agent),
                    ) = (event, &fast_file, &user_agent)
                        && let Err(message) = fast::save(path, agent, session.fast_token())
                    {
                        output::emit(&output::error(&message));
                    }
                }
                // The roster as the current (or, while reconnecting, the last) connection
                // knows it.
                while roster_requests.try_recv().is_ok() {
                    output::emit(&output::roster(session.roster()));
                }
            }
            Err(Error::Ended(reason)) => return output::exit_code(&reason),
            Err(e) => {
                output::emit(&output::error(&e.to_string()));
                return EXIT_OTHER;
            }
        }
    }
}
