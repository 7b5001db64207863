//! `--trace` logging: the XML both ways on standard error, with SASL payloads redacted.
//!
//! The text of `<auth>`, `<response>`, `<challenge>` and `<success>` (SCRAM messages, the
//! PLAIN password) is replaced by `[redacted]`. Chunks may split tags and characters
//! anywhere; the redactor carries its state from one chunk to the next.

use std::io::Write;

use herald_io::trace::Redactor;

/// The trace for both directions.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    enabled: bool,
    sent: Redactor,
    received: Redactor,
}

impl Trace {
    pub(crate) fn new(enabled: bool) -> Trace {
        Trace {
            enabled,
            ..Trace::default()
        }
    }

    /// Logs bytes written to the server.
    pub(crate) fn sent(&mut self, bytes: &[u8]) {
        if self.enabled {
            let text = self.sent.feed(bytes);
            emit("C", &text);
        }
    }

    /// Logs bytes read from the server.
    pub(crate) fn received(&mut self, bytes: &[u8]) {
        if self.enabled {
            let text = self.received.feed(bytes);
            emit("S", &text);
        }
    }

    /// Logs a transport event (connect, TLS, close).
    pub(crate) fn note(&mut self, text: &str) {
        if self.enabled {
            emit("*", text);
        }
    }

    /// Starts afresh for a new connection (or a new TLS layer).
    pub(crate) fn reset(&mut self) {
        self.sent = Redactor::default();
        self.received = Redactor::default();
    }
}

fn emit(prefix: &str, text: &str) {
    if text.is_empty() {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{prefix}: {text}");
}
