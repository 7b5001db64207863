//! Outputs: bytes to write (into the caller's buffer), actions, events, and the next
//! deadline. Each poll checks its out-pointers before taking anything from the core, so a
//! refused call loses nothing.

use herald_core::Action;

use crate::client::herald_client;
use crate::event::herald_event;
use crate::guard::{Error, with_client, write_out};
use crate::types::*;

/// Bytes the transport must write, at most `capacity` per call, copied to `buf`;
/// `*written` says how many. Returns `HERALD_READY` when it wrote some (write them and call
/// again), `HERALD_OK` with `*written == 0` when nothing waits. A buffer smaller than what
/// waits is fine: the rest comes with the next call. `HERALD_ERR_BUFFER_TOO_SMALL` when
/// `capacity` is 0 and bytes wait (they stay).
#[unsafe(no_mangle)]
pub extern "C" fn herald_poll_transmit(
    client: *mut herald_client,
    buf: *mut u8,
    capacity: usize,
    written: *mut usize,
) -> i32 {
    with_client(client, |c| {
        write_out(written, 0, "written")?;
        if buf.is_null() && capacity > 0 {
            return Err(Error::null("buf"));
        }
        if c.sent == c.pending.len() {
            c.pending.clear();
            c.sent = 0;
            // Keep no large buffer while idle.
            if c.pending.capacity() > 64 * 1024 {
                c.pending = Vec::new();
            }
            let _ = c.core.poll_transmit(&mut c.pending);
        }
        let waiting = &c.pending[c.sent..];
        if waiting.is_empty() {
            return Ok(HERALD_OK);
        }
        if capacity == 0 {
            return Err(Error::new(
                HERALD_ERR_BUFFER_TOO_SMALL,
                format!(
                    "{} bytes wait but the buffer has room for none",
                    waiting.len()
                ),
            ));
        }
        let n = waiting.len().min(capacity);
        // SAFETY: `buf` is non-null (capacity > 0 was checked above) and the caller
        // promises `capacity` writable bytes there; `waiting` is our own memory, so the
        // two cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(waiting.as_ptr(), buf, n) };
        c.sent += n;
        write_out(written, n, "written")?;
        Ok(HERALD_READY)
    })
}

/// The next action for the transport into `*action`: `HERALD_READY` when there was one,
/// `HERALD_OK` when none. Its string is valid until the next `herald_poll_action`.
#[unsafe(no_mangle)]
pub extern "C" fn herald_poll_action(
    client: *mut herald_client,
    action: *mut herald_action,
) -> i32 {
    with_client(client, |c| {
        if action.is_null() {
            return Err(Error::null("action"));
        }
        let Some(next) = c.core.poll_action() else {
            return Ok(HERALD_OK);
        };
        let out = match next {
            Action::StartTls { server_name } => herald_action {
                kind: HERALD_ACTION_START_TLS,
                server_name: herald_client::hand_out(&mut c.action_name, &server_name),
            },
            _ => herald_action {
                kind: HERALD_ACTION_CLOSE_TRANSPORT,
                server_name: herald_str::EMPTY,
            },
        };
        write_out(action, out, "action")?;
        Ok(HERALD_READY)
    })
}

/// The next event into `*event`: `HERALD_READY` when there was one, `HERALD_OK` when none.
/// Its strings are valid until the next `herald_poll_event` on this client.
#[unsafe(no_mangle)]
pub extern "C" fn herald_poll_event(client: *mut herald_client, event: *mut herald_event) -> i32 {
    with_client(client, |c| {
        if event.is_null() {
            return Err(Error::null("event"));
        }
        let Some(next) = c.core.poll_event() else {
            return Ok(HERALD_OK);
        };
        let out = c.events.convert(&next);
        write_out(event, out, "event")?;
        Ok(HERALD_READY)
    })
}

/// When `herald_handle_timeout` is next due, in the caller's milliseconds, into
/// `*deadline_ms`: `HERALD_READY` when a timer is set, `HERALD_OK` (and 0) when none is
/// (wait for input only).
#[unsafe(no_mangle)]
pub extern "C" fn herald_poll_timeout(client: *mut herald_client, deadline_ms: *mut u64) -> i32 {
    with_client(client, |c| {
        write_out(deadline_ms, 0, "deadline_ms")?;
        match c.core.poll_timeout() {
            Some(at) => {
                write_out(deadline_ms, c.millis(at), "deadline_ms")?;
                Ok(HERALD_READY)
            }
            None => Ok(HERALD_OK),
        }
    })
}
