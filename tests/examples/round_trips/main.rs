//! Round trips and wall time of herald's login, per path (issue 12, "Fast login"). Starts
//! real Prosody 0.12 (as shipped, and with SASL2 + Bind2) and ejabberd 23.01 on loopback,
//! logs alice in through the delaying proxy (`herald_testkit::flights::FlightProxy`) with
//! herald-tokio and herald-std over STARTTLS and direct TLS, and a direct TLS reconnect
//! after the proxy cuts the connection, and with `--herald PATH` the `herald` command too.
//! Prints, per path, the count of round trips from TCP connect to the initial presence on
//! the wire next to the wall time over the same span (for a resumption, with stream
//! management on: to `<resumed/>` back, and the wall time to `Resumed`), at the delay given (each way; the
//! round-trip time is twice it). The count does not depend on the delay; the time does.
//!
//! ```text
//! cargo run -p herald-tests --example round_trips -- \
//!     [DELAY_MS (default 25)] [--only prosody|prosody-sasl2|ejabberd] [--herald PATH] [--flights]
//! bash scripts/round-trips [DELAY_MS]     # the same, the herald command included
//! ```
//!
//! `--flights` prints every flight of each login (both ways, from the TCP accept).

#[path = "../../tests/round_trips_common/mod.rs"]
mod round_trips_common;

mod cli;

use std::path::PathBuf;
use std::time::Duration;

use herald_testkit::flights::expected::{
    DIRECT_TLS_FIRST_LOGIN, DIRECT_TLS_RECONNECT, DIRECT_TLS_RESUME, Expected,
    SASL2_STARTTLS_FIRST_LOGIN, STARTTLS_FIRST_LOGIN, STARTTLS_RESUME,
};
use herald_testkit::flights::{Direction, FlightProxy, Login};
use herald_testkit::real::{Ejabberd, Prosody, RealServer};
use round_trips_common::{
    ACCOUNTS, Tls, alice, proxy, std_login, tokio_login, tokio_login_and_reconnect,
    tokio_login_and_resume,
};

struct Args {
    delay: Duration,
    only: Option<String>,
    herald: Option<PathBuf>,
    flights: bool,
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "{problem}\nusage: round_trips [DELAY_MS] [--only prosody|prosody-sasl2|ejabberd] \
         [--herald PATH] [--flights]"
    );
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut args = Args {
        delay: Duration::from_millis(25),
        only: None,
        herald: None,
        flights: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--only" => args.only = Some(it.next().unwrap_or_else(|| usage("--only needs a name"))),
            "--herald" => {
                args.herald = Some(
                    it.next()
                        .unwrap_or_else(|| usage("--herald needs a path"))
                        .into(),
                )
            }
            "--flights" => args.flights = true,
            ms => match ms.parse::<u64>() {
                Ok(ms) if ms > 0 => args.delay = Duration::from_millis(ms),
                _ => usage(&format!("not a delay in milliseconds (> 0): {ms:?}")),
            },
        }
    }
    args
}

/// One server to measure, started when its turn comes.
struct Target {
    name: &'static str,
    start: fn() -> Result<Box<dyn RealServer>, String>,
    starttls: Expected,
}

const TARGETS: &[Target] = &[
    Target {
        name: "prosody",
        start: || Prosody::start(ACCOUNTS).map(|s| Box::new(s) as Box<dyn RealServer>),
        starttls: STARTTLS_FIRST_LOGIN,
    },
    Target {
        name: "prosody-sasl2",
        start: || {
            Prosody::start_with_sasl2(ACCOUNTS, true).map(|s| Box::new(s) as Box<dyn RealServer>)
        },
        starttls: SASL2_STARTTLS_FIRST_LOGIN,
    },
    Target {
        name: "ejabberd",
        start: || Ejabberd::start(ACCOUNTS).map(|s| Box::new(s) as Box<dyn RealServer>),
        starttls: STARTTLS_FIRST_LOGIN,
    },
];

fn main() {
    let args = parse_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!(
        "delay {:?} each way (round-trip time {:?}); round trips and wall time from TCP \
         connect to the initial presence on the wire",
        args.delay,
        args.delay * 2
    );
    println!(
        "{:<14} {:<26} {:<13} {:>11} {:>9}   today / target",
        "server", "path", "client", "round trips", "wall"
    );
    for target in TARGETS {
        if args.only.as_deref().is_some_and(|only| only != target.name) {
            continue;
        }
        let server = (target.start)().unwrap_or_else(|e| panic!("starting {}: {e}", target.name));
        let server = server.as_ref();
        for (tls, expected) in [
            (Tls::StartTls, target.starttls),
            (Tls::Direct, DIRECT_TLS_FIRST_LOGIN),
        ] {
            let p = proxy(server, tls, args.delay);
            let login = runtime.block_on(tokio_login(server, &p, tls));
            report(&args, target.name, expected, "herald-tokio", &p, &login);
            let p = proxy(server, tls, args.delay);
            let login = std_login(server, &p, tls);
            report(&args, target.name, expected, "herald-std", &p, &login);
            if let Some(herald) = &args.herald {
                let p = proxy(server, tls, args.delay);
                let login = cli::login(herald, server, &p, tls);
                report(&args, target.name, expected, "herald (CLI)", &p, &login);
            }
        }
        let p = proxy(server, Tls::Direct, args.delay);
        let (_, again) = runtime.block_on(tokio_login_and_reconnect(server, &p, Tls::Direct));
        report(
            &args,
            target.name,
            DIRECT_TLS_RECONNECT,
            "herald-tokio",
            &p,
            &again,
        );
    }
    resumptions(&args, &runtime);
}

/// The same servers with stream management (XEP-0198): a session cut by a blackhole is
/// found dead by the link check and resumed; counted from the new connection's TCP accept
/// to `<resumed/>` back, wall time to `Resumed`.
fn resumptions(args: &Args, runtime: &tokio::runtime::Runtime) {
    let targets: [(&str, ResumeStart); 3] = [
        ("prosody", || {
            Prosody::start_with_smacks(ACCOUNTS, Duration::from_secs(60), false)
                .map(|s| Box::new(s) as Box<dyn RealServer>)
        }),
        ("prosody-sasl2", || {
            Prosody::start_with_smacks(ACCOUNTS, Duration::from_secs(60), true)
                .map(|s| Box::new(s) as Box<dyn RealServer>)
        }),
        ("ejabberd", || {
            Ejabberd::start_with_stream_mgmt(ACCOUNTS, Duration::from_secs(60))
                .map(|s| Box::new(s) as Box<dyn RealServer>)
        }),
    ];
    for (name, start) in targets {
        if args.only.as_deref().is_some_and(|only| only != name) {
            continue;
        }
        let server = start().unwrap_or_else(|e| panic!("starting {name} with SM: {e}"));
        let server = server.as_ref();
        for (tls, expected) in [
            (Tls::StartTls, STARTTLS_RESUME),
            (Tls::Direct, DIRECT_TLS_RESUME),
        ] {
            let p = proxy(server, tls, args.delay);
            let (_, resume) = runtime.block_on(tokio_login_and_resume(
                server,
                &p,
                tls,
                alice(),
                Duration::from_secs(1),
            ));
            report(args, name, expected, "herald-tokio", &p, &resume);
        }
    }
}

type ResumeStart = fn() -> Result<Box<dyn RealServer>, String>;

fn report(
    args: &Args,
    server: &str,
    expected: Expected,
    client: &str,
    p: &FlightProxy,
    login: &Login,
) {
    println!(
        "{server:<14} {:<26} {client:<13} {:>11} {:>9.1?}   {} / {}",
        expected.path.replace(", SASL2 + Bind2 offered", ""),
        login.round_trips,
        login.wall,
        expected.today,
        expected.target
    );
    if !args.flights {
        return;
    }
    let record = &p.connections()[login.connection];
    let end = login.client_flights.last().map(|f| f.start);
    for flight in record
        .flights()
        .iter()
        .filter(|f| end.is_some_and(|e| f.start <= e))
    {
        let (who, arrow) = match flight.direction {
            Direction::ClientToServer => ("client", "->"),
            Direction::ServerToClient => ("server", "<-"),
        };
        println!(
            "    +{:>8.1?}  {who} {arrow} {:>6} bytes in {} read(s)",
            flight.start.saturating_duration_since(record.accepted),
            flight.bytes,
            flight.chunks
        );
    }
}
