//! Builds the libstrophe anchor's C harness (`c/strophe_harness.c`) and links it against
//! libstrophe's static archive: the connection's stream parser it drives is internal and
//! hidden in the shared library (see the harness's comment).

use std::path::PathBuf;

const MISSING: &str = "herald-bench needs libstrophe (C, expat) for its libstrophe anchor: \
    install the Debian package libstrophe-dev (`bash scripts/install-deps` does)";

fn main() {
    println!("cargo:rerun-if-changed=c/strophe_harness.c");
    for var in [
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let lib = match pkg_config::Config::new()
        .cargo_metadata(false)
        .range_version("0.12".."0.13")
        .probe("libstrophe")
    {
        Ok(lib) => lib,
        Err(e) => panic!("{MISSING}\n(pkg-config: {e})"),
    };
    let libdir = pkg_config::get_variable("libstrophe", "libdir").expect("libstrophe's libdir");
    let archive = PathBuf::from(&libdir).join("libstrophe.a");
    if !archive.exists() {
        panic!("{MISSING}\n({} is missing)", archive.display());
    }

    let mut build = cc::Build::new();
    build
        .file("c/strophe_harness.c")
        .includes(&lib.include_paths)
        .warnings(true);
    for (name, value) in &lib.defines {
        build.define(name, value.as_deref());
    }
    build.compile("herald_strophe_harness");

    // After the harness, so that the linker resolves the harness's references.
    println!("cargo:rustc-link-search=native={libdir}");
    println!("cargo:rustc-link-lib=static:-bundle=strophe");
    // What libstrophe.a needs (`pkg-config --static --libs libstrophe`).
    for dep in ["expat", "ssl", "crypto", "resolv", "m"] {
        println!("cargo:rustc-link-lib=dylib={dep}");
    }
}
