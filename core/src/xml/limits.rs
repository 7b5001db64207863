//! Limits on what the server may send, so that hostile bytes cannot grow memory unbounded.

/// Caps on peer input. Each violation ends the session with a `policy-violation` stream error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest top-level element (stanza, features, SASL element) in bytes, counted on the
    /// wire. Default 256 KiB, as Prosody.
    pub max_stanza_bytes: usize,
    /// Deepest nesting, counting the `<stream:stream>` root as depth 1. Default 32.
    pub max_depth: usize,
    /// Most attributes on one element. Default 64.
    pub max_attributes: usize,
    /// Longest run of whitespace between two top-level elements, in bytes. Default 64 KiB:
    /// a server's keepalives stay far below it between two stanzas.
    pub max_whitespace_run: usize,
    /// Most stanzas kept for resending until the server acknowledges them (XEP-0198 stream
    /// management). Past it the oldest are reported lost
    /// ([`Event::StanzasLost`](crate::Event::StanzasLost)), never kept. Default 1,000.
    pub max_unacked_stanzas: usize,
}

impl Limits {
    /// The largest [`max_stanza_bytes`](Limits::max_stanza_bytes) a client accepts (1 GiB):
    /// a received [`Stanza`](crate::Stanza) indexes its text with 32-bit offsets.
    pub const MAX_STANZA_BYTES: usize = 1 << 30;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_stanza_bytes: 256 * 1024,
            max_depth: 32,
            max_attributes: 64,
            max_whitespace_run: 64 * 1024,
            max_unacked_stanzas: 1_000,
        }
    }
}

/// Which limit the server broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// [`Limits::max_stanza_bytes`].
    StanzaSize,
    /// [`Limits::max_depth`].
    Depth,
    /// [`Limits::max_attributes`].
    Attributes,
    /// [`Limits::max_whitespace_run`].
    WhitespaceRun,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Limit::StanzaSize => "stanza size",
            Limit::Depth => "nesting depth",
            Limit::Attributes => "attributes per element",
            Limit::WhitespaceRun => "whitespace between stanzas",
        })
    }
}
