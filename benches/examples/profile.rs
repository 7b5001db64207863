//! One consumer of the inbound mix, for `valgrind --tool=callgrind` (instruction counts are
//! repeatable where wall-clock time is not): log in (Herald only), feed the mix, drain.
//!
//! ```text
//! cargo build --release -p herald-bench --example profile
//! valgrind --tool=callgrind --toggle-collect='herald_bench::*' \
//!     target/release/examples/profile herald 20000
//! ```
//!
//! The consumer is `herald`, `tokio-xmpp`, `minidom`, `rxml` (namespace-resolving parser,
//! events dropped), `rxml-raw`, `libstrophe` or `libstrophe-parser` (its C harness:
//! toggle-collect `herald_strophe_feed`).

fn main() {
    let mut args = std::env::args().skip(1);
    let consumer = args.next().unwrap_or_else(|| "herald".into());
    let stanzas = args.next().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let mix = herald_bench::stream::generate(1, stanzas);
    let full = mix.full_stream();
    let n = match consumer.as_str() {
        "herald" => {
            let script = herald_bench::login::LoginScript::record();
            let mut client = script.login();
            herald_bench::herald_inbound(&mut client, &mix.bytes)
        }
        "tokio-xmpp" => {
            let rt = herald_bench::anchors::runtime();
            herald_bench::anchors::tokio_xmpp(&rt, &full)
        }
        "minidom" => herald_bench::anchors::minidom(&full),
        "rxml" => herald_bench::anchors::rxml_events(&full),
        "rxml-raw" => herald_bench::anchors::rxml_raw_events(&full),
        "libstrophe" => herald_bench::libstrophe::libstrophe(&full),
        "libstrophe-parser" => herald_bench::libstrophe::libstrophe_parser(&full),
        other => panic!("unknown consumer {other}"),
    };
    println!("{consumer}: {n} from {} stanza bytes", mix.bytes.len());
}
