//! Every figure of `BENCHMARKS.md` in one run: throughput, allocations, idle heap, login and
//! presence change, each Herald figure printed with its ratio to the anchors.
//!
//! A counting global allocator wraps the system one; timings are the best of several runs
//! (the machine is shared and noisy; the best run is the least disturbed one).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use herald_bench::anchors;
use herald_bench::libstrophe;
use herald_bench::login::LoginScript;
use herald_bench::stream::{self, Mix};
use herald_bench::{STANZAS, herald_inbound};
use herald_core::{Client, Presence};

/// Counts allocations and live bytes; everything else is the system allocator's.
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static ALLOC_BYTES: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);

#[allow(unsafe_code)]
// SAFETY: every call is forwarded unchanged to `System`; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(layout.size(), Relaxed);
        LIVE.fetch_add(layout.size(), Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        ALLOC_BYTES.fetch_add(new_size, Relaxed);
        LIVE.fetch_add(new_size, Relaxed);
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations, bytes allocated, and the change in live bytes, of `f`.
fn counted<T>(f: impl FnOnce() -> T) -> (T, usize, usize, isize) {
    let (a, b, l) = (
        ALLOCS.load(Relaxed),
        ALLOC_BYTES.load(Relaxed),
        LIVE.load(Relaxed),
    );
    let t = f();
    let live = LIVE.load(Relaxed) as isize - l as isize;
    (
        t,
        ALLOCS.load(Relaxed) - a,
        ALLOC_BYTES.load(Relaxed) - b,
        live,
    )
}

/// The best and the median of `runs` timings of `f` (with a fresh `setup` each).
fn timed<S, T>(
    runs: usize,
    mut setup: impl FnMut() -> S,
    mut f: impl FnMut(S) -> T,
) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = setup();
            let start = Instant::now();
            std::hint::black_box(f(s));
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[0], times[runs / 2])
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects nothing here.
    let runs: usize = std::env::var("HERALD_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let stanzas: usize = std::env::var("HERALD_BENCH_STANZAS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(STANZAS);
    let mix: Mix = stream::generate(1, stanzas);
    let full = mix.full_stream();
    let script = LoginScript::record();
    let rt = anchors::runtime();
    println!(
        "stream: {} stanzas ({} presence, {} message, {} iq), {} bytes, {}-byte chunks, best of {runs}",
        mix.stanzas,
        mix.counts[0],
        mix.counts[1],
        mix.counts[2],
        mix.bytes.len(),
        herald_bench::CHUNK
    );

    // Correctness first: every consumer sees every stanza.
    let mut client = script.login();
    let events = herald_inbound(&mut client, &mix.bytes);
    // Pings (a third of the IQs) are answered by the core and produce no event.
    assert!(
        events >= mix.stanzas - mix.counts[2] / 3 - 100,
        "herald: {events} events for {} stanzas",
        mix.stanzas
    );
    assert_eq!(anchors::tokio_xmpp(&rt, &full), mix.stanzas);
    assert_eq!(
        anchors::minidom(&full),
        mix.stanzas + 1,
        "the stanzas and the features"
    );
    for with_debug_text in [true, false] {
        let seen = libstrophe::libstrophe_counts(&full, with_debug_text);
        assert_eq!(
            seen.stanzas, mix.counts,
            "libstrophe: presence, message, iq"
        );
        assert_eq!(seen.other, 1, "libstrophe: the features");
    }
    drop(client);

    // Throughput, in rounds: each round runs every consumer once, so that a burst of load
    // on this shared machine hits them alike; best and median over the rounds.
    let mut rounds: [Vec<Duration>; 7] = Default::default();
    for _ in 0..runs {
        let client = script.login();
        let consumers: [&dyn Fn() -> usize; 7] = [
            &|| 0,
            &|| anchors::tokio_xmpp(&rt, &full),
            &|| anchors::minidom(&full),
            &|| libstrophe::libstrophe(&full),
            &|| libstrophe::libstrophe_parser(&full),
            &|| anchors::rxml_raw_events(&full),
            &|| anchors::rxml_events(&full),
        ];
        let mut client = Some(client);
        for (i, consumer) in consumers.iter().enumerate() {
            let start = Instant::now();
            match client.take().filter(|_| i == 0) {
                Some(mut c) => std::hint::black_box(herald_inbound(&mut c, &mix.bytes)),
                None => std::hint::black_box(consumer()),
            };
            rounds[i].push(start.elapsed());
        }
    }
    let [
        herald_t,
        txmpp_t,
        mini_t,
        strophe_t,
        strophe_parser_t,
        raw_t,
        ns_t,
    ] = rounds.map(|mut t| {
        t.sort();
        (t[0], t[t.len() / 2])
    });
    let ((herald_best, herald_med), (txmpp_best, txmpp_med), (mini_best, mini_med)) =
        (herald_t, txmpp_t, mini_t);
    let ((raw_best, _), (ns_best, _)) = (raw_t, ns_t);
    let ((strophe_best, strophe_med), (strophe_parser_best, strophe_parser_med)) =
        (strophe_t, strophe_parser_t);
    let bytes = mix.bytes.len();
    let h = mb_per_s(bytes, herald_best);
    let t = mb_per_s(full.len(), txmpp_best);
    let m = mb_per_s(full.len(), mini_best);
    let s = mb_per_s(full.len(), strophe_best);
    let sp = mb_per_s(full.len(), strophe_parser_best);
    let rate = |d: Duration| mix.stanzas as f64 / d.as_secs_f64() / 1e3;
    println!("\n== inbound throughput (best; median in brackets)");
    println!(
        "herald      {h:7.1} MB/s [{:5.1}] {:7.0}k stanzas/s  {:.2}x tokio-xmpp  {:.2}x rxml+minidom  \
         {:.2}x libstrophe",
        mb_per_s(bytes, herald_med),
        rate(herald_best),
        h / t,
        h / m,
        h / s
    );
    println!(
        "tokio-xmpp  {t:7.1} MB/s [{:5.1}] {:7.0}k stanzas/s",
        mb_per_s(full.len(), txmpp_med),
        rate(txmpp_best)
    );
    println!(
        "rxml+minidom{m:7.1} MB/s [{:5.1}] {:7.0}k stanzas/s",
        mb_per_s(full.len(), mini_med),
        rate(mini_best)
    );
    println!(
        "libstrophe  {s:7.1} MB/s [{:5.1}] {:7.0}k stanzas/s  (C, expat; parser, conn.c's \
         per-stanza debug serialization, handler dispatch)",
        mb_per_s(full.len(), strophe_med),
        rate(strophe_best)
    );
    println!(
        "libstrophe without the debug serialization {sp:.1} MB/s [{:.1}], {:.0}k stanzas/s; \
         herald {:.2}x it",
        mb_per_s(full.len(), strophe_parser_med),
        rate(strophe_parser_best),
        h / sp
    );
    let (raw, ns) = (
        mb_per_s(full.len(), raw_best),
        mb_per_s(full.len(), ns_best),
    );
    println!(
        "ceilings: rxml RawParser events alone {raw:.1} MB/s, rxml Parser (namespaces, \
         what Herald uses) events alone {ns:.1} MB/s = {:.2}x tokio-xmpp; herald runs at \
         {:.0}% of it",
        ns / t,
        100.0 * h / ns
    );

    // Allocations per stanza.
    let mut client = script.login();
    let (_, h_allocs, h_bytes, _) = counted(|| herald_inbound(&mut client, &mix.bytes));
    drop(client);
    let (_, t_allocs, t_bytes, _) = counted(|| anchors::tokio_xmpp(&rt, &full));
    let (_, m_allocs, m_bytes, _) = counted(|| anchors::minidom(&full));
    // libstrophe's (and expat's) allocations go through its xmpp_mem_t hooks, not ours.
    let _ = libstrophe::take_allocations();
    libstrophe::libstrophe(&full);
    let (s_allocs, s_bytes) = libstrophe::take_allocations();
    libstrophe::libstrophe_parser(&full);
    let (sp_allocs, sp_bytes) = libstrophe::take_allocations();
    let per = |n: usize| n as f64 / mix.stanzas as f64;
    println!("\n== allocations per stanza (count, bytes)");
    println!(
        "herald       {:6.1} {:8.0} B   {:.2}x / {:.2}x tokio-xmpp, {:.2}x / {:.2}x rxml+minidom, \
         {:.2}x / {:.2}x libstrophe",
        per(h_allocs),
        per(h_bytes),
        per(h_allocs) / per(t_allocs),
        per(h_bytes) / per(t_bytes),
        per(h_allocs) / per(m_allocs),
        per(h_bytes) / per(m_bytes),
        per(h_allocs) / per(s_allocs),
        per(h_bytes) / per(s_bytes)
    );
    println!("tokio-xmpp   {:6.1} {:8.0} B", per(t_allocs), per(t_bytes));
    println!("rxml+minidom {:6.1} {:8.0} B", per(m_allocs), per(m_bytes));
    println!(
        "libstrophe   {:6.1} {:8.0} B   (its xmpp_mem_t hooks: libstrophe and expat, \
         alloc and realloc calls)",
        per(s_allocs),
        per(s_bytes)
    );
    println!(
        "libstrophe without the debug serialization {:.1}, {:.0} B",
        per(sp_allocs),
        per(sp_bytes)
    );

    // Heap held by an idle online client (the script is recorded already).
    let (client, _, _, h_live) = counted(|| script.login());
    let idle_bytes = [stream::HEADER.as_bytes(), stream::FEATURES.as_bytes()].concat();
    let (stream_held, _, _, t_live) = counted(|| anchors::tokio_xmpp_idle(&rt, &idle_bytes));
    println!("\n== heap held by an idle online client");
    println!(
        "herald       {h_live:6} B   {:.2}x tokio-xmpp's XmlStream after features ({t_live} B)",
        h_live as f64 / t_live as f64
    );
    drop(stream_held);

    // One presence change on the online client, and the anchor: building and writing the
    // same presence with minidom.
    let mut client: Client = client;
    let mut out = Vec::new();
    let values = [
        (Presence::Away, "Lunch"),
        (Presence::Chat, "Working from home"),
    ];
    let n = 20_000;
    let start = Instant::now();
    let ((), p_allocs, _, _) = counted(|| {
        for i in 0..n {
            let (p, s) = values[i % 2];
            herald_bench::herald_presence_change(&mut client, p, s, &mut out);
        }
    });
    let herald_change = start.elapsed() / n as u32;
    let start = Instant::now();
    let ((), m_allocs, _, _) = counted(|| {
        for i in 0..n {
            let (p, s) = values[i % 2];
            anchors::minidom_presence(p.show(), s, &mut out);
            out.clear();
        }
    });
    let mini_change = start.elapsed() / n as u32;
    println!("\n== one presence change (command to bytes out, events drained)");
    println!(
        "herald       {:6.0} ns {:5.1} allocs   {:.2}x the time of minidom building and writing it ({:.0} ns, {:.1} allocs)",
        herald_change.as_nanos(),
        p_allocs as f64 / n as f64,
        herald_change.as_secs_f64() / mini_change.as_secs_f64(),
        mini_change.as_nanos(),
        m_allocs as f64 / n as f64
    );
    drop(client);

    // A full login, replayed: client CPU only.
    let login_runs = 3 * runs;
    let (cold_best, cold_med) = timed(login_runs, || (), |()| script.login());
    println!(
        "\n== full scripted login (STARTTLS, SCRAM-SHA-1 at 10,000 iterations, bind, roster, presence)"
    );
    println!(
        "herald, no cache   {:7.2} ms [{:.2}]",
        cold_best.as_secs_f64() * 1e3,
        cold_med.as_secs_f64() * 1e3
    );
    let (sasl_best, sasl_med) = timed(login_runs, || (), |()| anchors::sasl_scram_sha1(10_000));
    println!(
        "tokio-xmpp's SCRAM step alone (sasl crate, client-first + client-final) {:7.2} ms [{:.2}]; \
         herald's whole login / it: {:.2}x",
        sasl_best.as_secs_f64() * 1e3,
        sasl_med.as_secs_f64() * 1e3,
        cold_best.as_secs_f64() / sasl_best.as_secs_f64()
    );
    herald_bench::login::report_cached(&script, login_runs, |label, best, med| {
        println!(
            "{label} {:7.2} ms [{:.2}]  {:.3}x the login without cache, {:.3}x tokio-xmpp's SCRAM step",
            best.as_secs_f64() * 1e3,
            med.as_secs_f64() * 1e3,
            best.as_secs_f64() / cold_best.as_secs_f64(),
            best.as_secs_f64() / sasl_best.as_secs_f64()
        );
    });
}
