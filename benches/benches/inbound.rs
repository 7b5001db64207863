//! Criterion: the inbound mix through Herald and the anchors side by side, one presence
//! change, and a login with and without the SCRAM cache. `report` prints the same figures
//! as ratios, with allocation counts; this target gives criterion's statistics.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use herald_bench::login::LoginScript;
use herald_bench::{anchors, herald_inbound, libstrophe, stream};
use herald_core::Presence;

/// Fewer stanzas than `report` (criterion repeats each run many times).
const STANZAS: usize = 20_000;

fn inbound(c: &mut Criterion) {
    let mix = stream::generate(1, STANZAS);
    let full = mix.full_stream();
    let script = LoginScript::record();
    let rt = anchors::runtime();
    let mut group = c.benchmark_group("inbound");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(mix.bytes.len() as u64));
    group.bench_function("herald", |b| {
        b.iter_batched(
            || script.login(),
            |mut client| herald_inbound(&mut client, &mix.bytes),
            BatchSize::LargeInput,
        )
    });
    group.throughput(Throughput::Bytes(full.len() as u64));
    group.bench_function("tokio-xmpp", |b| b.iter(|| anchors::tokio_xmpp(&rt, &full)));
    group.bench_function("rxml+minidom", |b| b.iter(|| anchors::minidom(&full)));
    assert_eq!(libstrophe::libstrophe(&full), mix.stanzas);
    group.bench_function("libstrophe", |b| b.iter(|| libstrophe::libstrophe(&full)));
    group.bench_function("rxml-events", |b| b.iter(|| anchors::rxml_events(&full)));
    group.finish();
}

fn commands(c: &mut Criterion) {
    let script = LoginScript::record();
    let mut client = script.login();
    let mut out = Vec::new();
    let mut away = false;
    c.bench_function("presence_change", |b| {
        b.iter(|| {
            away = !away;
            let (p, s) = if away {
                (Presence::Away, "Lunch")
            } else {
                (Presence::Chat, "")
            };
            herald_bench::herald_presence_change(&mut client, p, s, &mut out);
        })
    });
    c.bench_function("presence_change/minidom-anchor", |b| {
        b.iter(|| {
            anchors::minidom_presence(Some("away"), "Lunch", &mut out);
            out.clear();
        })
    });

    let mut group = c.benchmark_group("login");
    group.sample_size(20);
    group.bench_function("scram-sha1-10000", |b| b.iter(|| script.login()));
    group.bench_function("scram-sha1-10000/tokio-xmpp-sasl-step", |b| {
        b.iter(|| anchors::sasl_scram_sha1(10_000))
    });
    let mut cached = script.config().clone();
    cached.scram_cache = script.login().scram_cache().clone();
    group.bench_function("scram-sha1-10000/cached", |b| {
        b.iter_batched(
            || cached.clone(),
            |config| script.login_with(config),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, inbound, commands);
criterion_main!(benches);
