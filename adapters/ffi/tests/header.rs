//! `include/herald.h` is what cbindgen makes of the sources: this test fails when they
//! drifted apart. `HERALD_BLESS=1` (or `bash scripts/ffi-header`) rewrites the header.

use std::path::Path;

#[test]
fn header_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen could not read the sources")
        .write(&mut generated);
    let path = dir.join("include/herald.h");
    if std::env::var_os("HERALD_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write include/herald.h");
        return;
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "adapters/ffi/include/herald.h is out of date: run `bash scripts/ffi-header` and commit it"
    );
}
