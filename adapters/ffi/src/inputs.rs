//! Inputs: what the transport read, its end, the timer, and the TLS handshake's outcome.

use herald_core::{ChannelBinding, Transport};

use crate::client::herald_client;
use crate::guard::{Error, Result, bytes, text, with_client};
use crate::types::*;

/// Passes `len` bytes the transport read (any chunk of the stream) at `now_ms` on the
/// caller's monotonic clock. A zero length is refused with `HERALD_ERR_INVALID_ARGUMENT`:
/// a read of 0 bytes is the end of the stream, which `herald_handle_eof` reports.
#[unsafe(no_mangle)]
pub extern "C" fn herald_handle_input(
    client: *mut herald_client,
    now_ms: u64,
    data: *const u8,
    len: usize,
) -> i32 {
    with_client(client, |c| {
        if len == 0 {
            return Err(Error::invalid(
                "empty input: a read of 0 bytes is the end of the stream (herald_handle_eof)",
            ));
        }
        let data = bytes(data, len, "data")?;
        let now = c.instant(now_ms)?;
        c.core.handle_input(now, data);
        Ok(HERALD_OK)
    })
}

/// The transport reached the end of the stream (a read returned 0).
#[unsafe(no_mangle)]
pub extern "C" fn herald_handle_eof(client: *mut herald_client, now_ms: u64) -> i32 {
    with_client(client, |c| {
        let now = c.instant(now_ms)?;
        c.core.handle_eof(now);
        Ok(HERALD_OK)
    })
}

/// Fires the timers due at `now_ms`. Harmless when called early.
#[unsafe(no_mangle)]
pub extern "C" fn herald_handle_timeout(client: *mut herald_client, now_ms: u64) -> i32 {
    with_client(client, |c| {
        let now = c.instant(now_ms)?;
        c.core.handle_timeout(now);
        Ok(HERALD_OK)
    })
}

/// Reads the caller's channel-binding struct; null means none.
pub(crate) fn channel_binding(cb: *const herald_channel_binding) -> Result<Option<ChannelBinding>> {
    if cb.is_null() {
        return Ok(None);
    }
    // SAFETY: non-null; the caller promises a readable herald_channel_binding.
    let cb = unsafe { &*cb };
    let field = |b: herald_bytes, what: &str| -> Result<Option<Vec<u8>>> {
        let data = bytes(b.ptr, b.len, what)?;
        Ok((!data.is_empty()).then(|| data.to_vec()))
    };
    let binding = ChannelBinding {
        tls_exporter: field(cb.tls_exporter, "channel_binding.tls_exporter")?,
        tls_server_end_point: field(
            cb.tls_server_end_point,
            "channel_binding.tls_server_end_point",
        )?,
        tls_unique: field(cb.tls_unique, "channel_binding.tls_unique")?,
    };
    let any = binding.tls_exporter.is_some()
        || binding.tls_server_end_point.is_some()
        || binding.tls_unique.is_some();
    Ok(any.then_some(binding))
}

/// The TLS handshake that `HERALD_ACTION_START_TLS` asked for is done. `channel_binding`
/// (may be null) carries what SCRAM `-PLUS` needs. `HERALD_ERR_STATE` when no handshake
/// was asked for.
#[unsafe(no_mangle)]
pub extern "C" fn herald_tls_established(
    client: *mut herald_client,
    now_ms: u64,
    channel_binding: *const herald_channel_binding,
) -> i32 {
    with_client(client, |c| {
        let binding = self::channel_binding(channel_binding)?;
        let now = c.instant(now_ms)?;
        c.core.tls_established(now, binding)?;
        Ok(HERALD_OK)
    })
}

/// The TLS handshake failed (for example, the certificate did not verify); `message`
/// (UTF-8, `len` bytes) says why. Ends the session with `HERALD_END_TLS`.
#[unsafe(no_mangle)]
pub extern "C" fn herald_tls_failed(
    client: *mut herald_client,
    now_ms: u64,
    message: *const std::ffi::c_char,
    len: usize,
) -> i32 {
    with_client(client, |c| {
        let message = text(message, len, "message")?;
        let now = c.instant(now_ms)?;
        c.core.tls_failed(now, message)?;
        Ok(HERALD_OK)
    })
}

/// Opens the stream; call once, right after the transport connected. `transport` is
/// `HERALD_TRANSPORT_TCP` (STARTTLS follows) or `HERALD_TRANSPORT_DIRECT_TLS` (with the
/// handshake's `channel_binding`, which may be null).
#[unsafe(no_mangle)]
pub extern "C" fn herald_connect(
    client: *mut herald_client,
    now_ms: u64,
    transport: i32,
    channel_binding: *const herald_channel_binding,
) -> i32 {
    with_client(client, |c| {
        let transport = match transport {
            HERALD_TRANSPORT_TCP => Transport::Plain,
            HERALD_TRANSPORT_DIRECT_TLS => {
                Transport::DirectTls(self::channel_binding(channel_binding)?)
            }
            other => return Err(Error::invalid(format!("transport {other} is not 0 or 1"))),
        };
        let now = c.instant(now_ms)?;
        c.core.connect(now, transport)?;
        Ok(HERALD_OK)
    })
}
