//! Writes the fuzz seeds recorded against the scripted server (SASL2, Bind2, FAST logins)
//! to `fuzz/corpus-seeds/<target>/` (or OUT_DIR). Deterministic and in memory: no server to
//! install. See `herald_testkit::fuzz::scripted_seeds`.
//!
//! ```text
//! cargo run -p herald-tests --example record_scripted_seeds -- [OUT_DIR]
//! ```

use std::path::{Path, PathBuf};

use herald_testkit::fuzz::scripted_seeds;

fn main() {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus-seeds"));
    for seed in scripted_seeds::seeds() {
        let dir = out.join(seed.target);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(seed.name), &seed.data).expect("write seed");
        eprintln!("{}/{}: {} bytes", seed.target, seed.name, seed.data.len());
    }
}
