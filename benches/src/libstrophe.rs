//! The libstrophe anchor (C, expat): the same bytes through libstrophe 0.12's own stream
//! parser into `xmpp_stanza_t` stanzas, each delivered to a stanza handler.
//!
//! libstrophe has no public call that takes received bytes, so the C harness
//! (`benches/c/strophe_harness.c`, built by `build.rs` against libstrophe-dev's static
//! archive) drives a connection's own pieces as `conn.c` does once a stream is open:
//! `parser_new` with the connection's callbacks, `parser_feed` for every [`CHUNK`]-byte
//! read, and for every stanza `xmpp_stanza_to_text` (conn.c's debug line, built whether
//! or not a logger is set) then `handler_fire_stanza` to a handler that counts. No socket,
//! no event loop, no TLS: the same in-memory setting as the other anchors.
//!
//! Allocations are counted by `xmpp_mem_t` hooks on the harness's one libstrophe context;
//! expat's allocations go through the same hooks (libstrophe hands them to
//! `XML_ParserCreate_MM`). The Rust global allocator does not see them.

use crate::CHUNK;

/// What one run through libstrophe saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Presence, message and IQ stanzas delivered to the handler.
    pub stanzas: [usize; 3],
    /// Other top-level elements delivered (the stream features).
    pub other: usize,
}

impl Counts {
    /// Presence, message and IQ stanzas together.
    pub fn total(&self) -> usize {
        self.stanzas.iter().sum()
    }
}

/// libstrophe as a connection does it: parse, serialize each stanza for the debug line,
/// fire the handlers. Returns the number of presence, message and IQ stanzas.
pub fn libstrophe(stream: &[u8]) -> usize {
    libstrophe_counts(stream, true).total()
}

/// libstrophe without conn.c's per-stanza serialization: parser and handler dispatch only,
/// its ceiling. Returns the number of presence, message and IQ stanzas.
pub fn libstrophe_parser(stream: &[u8]) -> usize {
    libstrophe_counts(stream, false).total()
}

/// One run over `stream` (a whole stream: header, features, stanzas, footer), with or
/// without conn.c's debug serialization. Panics if libstrophe fails or the stream does
/// not open and close.
pub fn libstrophe_counts(stream: &[u8], with_debug_text: bool) -> Counts {
    let mut counts = [0usize; 4];
    let rc = ffi::feed(stream, CHUNK, with_debug_text, &mut counts);
    assert_eq!(rc, 0, "libstrophe harness failed ({rc})");
    Counts {
        stanzas: [counts[0], counts[1], counts[2]],
        other: counts[3],
    }
}

/// The allocations (`alloc` and `realloc` calls through the context's `xmpp_mem_t`
/// hooks, libstrophe's and expat's) and the bytes they asked for since the last call;
/// resets both.
pub fn take_allocations() -> (usize, usize) {
    ffi::take_allocs()
}

// The only `unsafe` of the bench crate besides the report's counting allocator: two calls
// into the C harness, with plain pointers and lengths.
#[allow(unsafe_code)]
mod ffi {
    use std::os::raw::c_int;

    unsafe extern "C" {
        fn herald_strophe_feed(
            data: *const u8,
            len: usize,
            chunk: usize,
            with_debug_text: c_int,
            counts: *mut usize,
        ) -> c_int;
        fn herald_strophe_take_allocs(count: *mut usize, bytes: *mut usize);
    }

    pub(super) fn feed(
        data: &[u8],
        chunk: usize,
        with_debug_text: bool,
        counts: &mut [usize; 4],
    ) -> i32 {
        // SAFETY: `data` is valid for `len` bytes and only read; `counts` is valid for the
        // 4 writes the harness does. The harness keeps process-wide state (one context,
        // counters) and is not thread-safe; the benches call it from one thread.
        unsafe {
            herald_strophe_feed(
                data.as_ptr(),
                data.len(),
                chunk,
                c_int::from(with_debug_text),
                counts.as_mut_ptr(),
            )
        }
    }

    pub(super) fn take_allocs() -> (usize, usize) {
        let (mut count, mut bytes) = (0, 0);
        // SAFETY: two valid out-pointers.
        unsafe { herald_strophe_take_allocs(&mut count, &mut bytes) };
        (count, bytes)
    }
}
