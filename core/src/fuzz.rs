//! The stream reader's fuzz entry point (feature `fuzz`): it needs the reader, which is
//! private. The cargo-fuzz target `xml_stream` in `fuzz/` is a one-line wrapper around
//! [`xml_stream`], so the body is type-checked (and run on its seed corpus) by the
//! ordinary test suite. The fuzz bodies that drive a whole client (`raw_server_bytes`,
//! `online_bytes`, `command_sequence`) use only the public API and live in
//! `herald-testkit`, with the contract checker the tests use.
//!
//! [`xml_stream`] takes the fuzzer's bytes and panics when an invariant breaks; peer input
//! itself must never make the core panic.

use crate::xml::{Limits, StreamEvent, StreamReader, XmlError};

/// The stream reader alone. The first byte picks the limits (default or tight) and a chunk
/// size; the bytes are read whole and chunked, and with the reader's fast path on and off:
/// all must give the same events and the same error. An error poisons the reader;
/// `Ok(None)` means all input was taken.
pub fn xml_stream(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let limits = if mode & 1 == 0 {
        Limits::default()
    } else {
        Limits {
            max_stanza_bytes: 200,
            max_depth: 5,
            max_attributes: 4,
            max_whitespace_run: 16,
            ..Limits::default()
        }
    };
    let chunk = 1 + usize::from(mode >> 1);
    let whole = read_stream(StreamReader::new(limits), &[rest]);
    let pieces: Vec<&[u8]> = rest.chunks(chunk).collect();
    let chunked = read_stream(StreamReader::new(limits), &pieces);
    assert_eq!(whole, chunked, "chunking changed the outcome");
    // The reader's fast path must never change what rxml alone would say.
    let rxml_only = read_stream(StreamReader::without_fast_path(limits), &[rest]);
    assert_eq!(whole, rxml_only, "the fast path changed the outcome");
}

fn read_stream(mut reader: StreamReader, chunks: &[&[u8]]) -> (Vec<StreamEvent>, Option<XmlError>) {
    let mut events = Vec::new();
    for chunk in chunks {
        let mut input = *chunk;
        loop {
            // No check that an event consumed bytes: `<stream:stream/>` yields the header
            // and the close from the same `/>`.
            match reader.next(&mut input) {
                Ok(Some(event)) => events.push(event),
                Ok(None) => break,
                Err(e) => {
                    assert_eq!(reader.next(&mut &b"<a/>"[..]), Err(e.clone()), "poisoned");
                    return (events, Some(e));
                }
            }
        }
        let closed = matches!(events.last(), Some(StreamEvent::Close));
        assert!(closed || input.is_empty(), "Ok(None) left input behind");
    }
    (events, None)
}
