//! The inbound path alone, for `valgrind --tool=callgrind`: log in, feed the mix, drain.
//!
//! `cargo build --release -p herald-bench --example profile && valgrind --tool=callgrind
//! target/release/examples/profile 20000`

fn main() {
    let stanzas = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let mix = herald_bench::stream::generate(1, stanzas);
    let script = herald_bench::login::LoginScript::record();
    let mut client = script.login();
    let events = herald_bench::herald_inbound(&mut client, &mix.bytes);
    println!("{events} events from {} bytes", mix.bytes.len());
}
