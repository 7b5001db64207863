//! Many idle sessions in one process (issue 14): starts a loopback Prosody with N accounts,
//! brings N sessions online over STARTTLS from this process (herald-tokio, or tokio-xmpp 6
//! the same way), waits until each sent its initial presence, and reports per idle session
//! the live heap (a counting allocator) and the RSS growth (`VmRSS`), logins per second and
//! client CPU per login.
//!
//! ```text
//! bash scripts/scale [N (default 1000)] [herald|tokio-xmpp|both]
//! ```
//!
//! Every session's events are drained by a task of its own, for both clients.
//!
//! `SCALE_EXIT_AT_IDLE=1` exits at the idle point with every session live (for
//! `heaptrack`: its leak report is then the idle sessions' heap by allocation site).
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use futures::StreamExt;
use herald_testkit::real::{Prosody, RealServer};
use tokio::sync::Semaphore;

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` with the same arguments; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, Relaxed);
        LIVE.fetch_sub(l.size(), Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Logins in flight at once.
const IN_FLIGHT: usize = 64;
const PREFIX: &str = "u";

/// `VmRSS` of this process, in KiB.
fn rss_kib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// User + system CPU of this process so far.
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // Fields 14 and 15 (utime, stime), counted from after the command name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

struct Measure {
    client: &'static str,
    n: usize,
    heap: usize,
    rss_kib: usize,
    wall: Duration,
    cpu: Duration,
}

impl Measure {
    fn print(&self) {
        let n = self.n.max(1);
        println!(
            "{:<12} N={:<6} heap/session {:>7.1} KiB  RSS/session {:>6.1} KiB  \
             {:>7.0} logins/s  CPU/login {:>6.2} ms",
            self.client,
            self.n,
            self.heap as f64 / n as f64 / 1024.0,
            self.rss_kib as f64 / n as f64,
            n as f64 / self.wall.as_secs_f64(),
            self.cpu.as_secs_f64() * 1000.0 / n as f64,
        );
    }
}

async fn herald_sessions(server: &Prosody, n: usize) -> (Measure, Vec<herald_tokio::Handle>) {
    let mut options = herald_tokio::ConnectOptions::default();
    options.server = Some(("127.0.0.1".into(), server.port()));
    options.tls = herald_tokio::TlsMode::StartTls;
    options.reconnect = false;
    options.tls_config = Some(
        herald_tokio::TlsConfigs::new(
            &herald_tokio::Roots::CaFileOnly(server.ca_pem_path().to_path_buf()),
            None,
        )
        .expect("TLS configuration"),
    );
    let (heap0, rss0, cpu0, t0) = (LIVE.load(Relaxed), rss_kib(), cpu(), Instant::now());
    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut logins = Vec::new();
    for i in 1..=n {
        let permit = gate.clone().acquire_owned().await.expect("semaphore");
        let mut config = herald_core::Config::new(
            &format!("{PREFIX}{i}@localhost/scale"),
            format!("{PREFIX}-pw"),
        )
        .expect("config");
        config.fetch_roster = false;
        let (handle, mut events) = herald_tokio::connect(config, options.clone()).expect("connect");
        logins.push(tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Some(herald_tokio::Event::Core(herald_core::Event::PresenceSent {
                        ..
                    })) => {
                        break;
                    }
                    Some(herald_tokio::Event::Ended { reason }) => {
                        panic!("session {i}: {reason:?}")
                    }
                    None => panic!("session {i}: events ended"),
                    Some(_) => {}
                }
            }
            drop(permit);
            // Drained from now on, as an application would.
            tokio::spawn(async move { while events.recv().await.is_some() {} });
            handle
        }));
    }
    let mut handles = Vec::with_capacity(n);
    for login in logins {
        handles.push(login.await.expect("login task"));
    }
    let (wall, cpu1) = (t0.elapsed(), cpu());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let measure = Measure {
        client: "herald-tokio",
        n,
        heap: LIVE.load(Relaxed).saturating_sub(heap0),
        rss_kib: rss_kib().saturating_sub(rss0),
        wall,
        cpu: cpu1.saturating_sub(cpu0),
    };
    (measure, handles)
}

async fn tokio_xmpp_sessions(server: &Prosody, n: usize) -> (Measure, Vec<tokio_xmpp::Client>) {
    use tokio_xmpp::connect::DnsConfig;
    use tokio_xmpp::parsers::presence::Presence;
    let (heap0, rss0, cpu0, t0) = (LIVE.load(Relaxed), rss_kib(), cpu(), Instant::now());
    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut logins = Vec::new();
    let addr = format!("127.0.0.1:{}", server.port());
    for i in 1..=n {
        let permit = gate.clone().acquire_owned().await.expect("semaphore");
        let jid = tokio_xmpp::jid::Jid::new(&format!("{PREFIX}{i}@localhost/scale")).expect("jid");
        let mut client = tokio_xmpp::Client::new_starttls(
            jid,
            format!("{PREFIX}-pw"),
            DnsConfig::addr(&addr),
            tokio_xmpp::xmlstream::Timeouts::default(),
        );
        logins.push(tokio::spawn(async move {
            loop {
                match client.next().await {
                    Some(tokio_xmpp::Event::Online { .. }) => break,
                    Some(tokio_xmpp::Event::Disconnected(e)) => panic!("session {i}: {e}"),
                    None => panic!("session {i}: ended"),
                    Some(_) => {}
                }
            }
            client
                .send_stanza(Presence::available().into())
                .await
                .expect("presence");
            drop(permit);
            client
        }));
    }
    let mut clients = Vec::with_capacity(n);
    for login in logins {
        clients.push(login.await.expect("login task"));
    }
    let (wall, cpu1) = (t0.elapsed(), cpu());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let measure = Measure {
        client: "tokio-xmpp 6",
        n,
        heap: LIVE.load(Relaxed).saturating_sub(heap0),
        rss_kib: rss_kib().saturating_sub(rss0),
        wall,
        cpu: cpu1.saturating_sub(cpu0),
    };
    (measure, clients)
}

/// With `SCALE_EXIT_AT_IDLE` set, the process exits at once at the idle point, every
/// session still live, so that a heap profiler's "leaked" report (`heaptrack`) is the idle
/// sessions' heap by allocation site. Prosody is stopped a second later by a detached shell.
fn exit_at_idle(server: &Prosody) {
    if std::env::var_os("SCALE_EXIT_AT_IDLE").is_none() {
        return;
    }
    if let Some(pid) = server.pid() {
        let _ = std::process::Command::new("sh")
            .args(["-c", "(sleep 1; kill -s KILL -- \"-$0\") >/dev/null 2>&1 &"])
            .arg(pid.to_string())
            .status();
    }
    std::process::exit(0);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(1000, |a| a.parse().expect("N, a number"));
    let which = args.next().unwrap_or_else(|| "both".into());
    let started = Instant::now();
    let server = Prosody::start_with_many(PREFIX, n).expect("Prosody");
    // tokio-xmpp trusts the platform's roots (rustls-native-certs), which read this file.
    // SAFETY: no other thread of this process reads or writes the environment yet (the
    // runtime starts below; Prosody is another process).
    unsafe { std::env::set_var("SSL_CERT_FILE", server.ca_pem_path()) };
    println!(
        "Prosody with {n} accounts up in {:.1?}; {IN_FLIGHT} logins in flight",
        started.elapsed()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        if which == "herald" || which == "both" {
            let (measure, handles) = herald_sessions(&server, n).await;
            measure.print();
            exit_at_idle(&server);
            for handle in &handles {
                let _ = handle.close().await;
            }
            drop(handles);
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        if which == "tokio-xmpp" || which == "both" {
            let (measure, clients) = tokio_xmpp_sessions(&server, n).await;
            measure.print();
            exit_at_idle(&server);
            drop(clients);
        }
    });
}
