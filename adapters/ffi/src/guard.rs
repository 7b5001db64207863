//! The boundary's safety net: every exported function runs its body through [`run`] or
//! [`with_client`], which catch panics and turn errors into codes plus a thread-local
//! message; and the readers of caller memory check pointers, lengths and UTF-8.

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};

use herald_core::UsageError;

use crate::client::herald_client;
use crate::types::*;

/// An error code with its message.
#[derive(Debug)]
pub(crate) struct Error {
    pub(crate) code: i32,
    pub(crate) message: String,
}

impl Error {
    pub(crate) fn new(code: i32, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn null(what: &str) -> Error {
        Error::new(HERALD_ERR_NULL, format!("{what} is a null pointer"))
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::new(HERALD_ERR_INVALID_ARGUMENT, message)
    }
}

impl From<UsageError> for Error {
    fn from(e: UsageError) -> Error {
        let code = match e {
            UsageError::SessionEnded(_) => HERALD_ERR_SESSION_ENDED,
            UsageError::InvalidText { .. } | UsageError::InvalidElement(_) => {
                HERALD_ERR_INVALID_ARGUMENT
            }
            _ => HERALD_ERR_STATE,
        };
        Error::new(code, e.to_string())
    }
}

pub(crate) type Result<T> = std::result::Result<T, Error>;

thread_local! {
    static LAST_ERROR: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn set_last_error(message: &str) {
    LAST_ERROR.with(|last| {
        let mut last = last.borrow_mut();
        last.clear();
        // A NUL inside would cut the C string short; messages never hold one, but make sure.
        last.extend(message.bytes().map(|b| if b == 0 { b'?' } else { b }));
        last.push(0);
    });
}

/// The message of the last error returned on this thread, NUL-terminated; empty when none
/// has happened yet. Valid until the next call into the library on this thread.
#[unsafe(no_mangle)]
pub extern "C" fn herald_last_error() -> herald_str {
    LAST_ERROR.with(|last| {
        let last = last.borrow();
        match last.len() {
            0 => herald_str::EMPTY,
            n => herald_str {
                ptr: last.as_ptr().cast(),
                len: n - 1,
            },
        }
    })
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("unknown");
    format!("internal error (panic: {what}); this client can no longer be used")
}

/// Runs `body`, turning its error or panic into a code and the thread's last error.
pub(crate) fn run(body: impl FnOnce() -> Result<i32>) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            set_last_error(&e.message);
            e.code
        }
        Err(payload) => {
            set_last_error(&panic_message(payload.as_ref()));
            HERALD_ERR_PANIC
        }
    }
}

/// Runs `body` on the client behind `client`: null and poisoned clients are refused, and a
/// panic poisons the client.
pub(crate) fn with_client(
    client: *mut herald_client,
    body: impl FnOnce(&mut herald_client) -> Result<i32>,
) -> i32 {
    if client.is_null() {
        set_last_error("client is a null pointer");
        return HERALD_ERR_NULL;
    }
    // SAFETY: non-null, and the caller promises (herald.h) that it came from
    // `herald_client_new`, is not freed, and is not used by another thread at once.
    let client = unsafe { &mut *client };
    if client.poisoned {
        set_last_error("an earlier call panicked; this client can no longer be used");
        return HERALD_ERR_PANIC;
    }
    let code = run(|| body(client));
    if code == HERALD_ERR_PANIC {
        client.poisoned = true;
    }
    code
}

/// Bytes the caller passed as `ptr` and `len`; null is accepted only with length 0.
pub(crate) fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Error::null(what));
    }
    if len > isize::MAX as usize {
        return Err(Error::invalid(format!("{what}: length {len} is too large")));
    }
    // SAFETY: non-null, length within isize::MAX; the caller promises `len` readable bytes
    // at `ptr` that stay unchanged during the call (herald.h).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A UTF-8 string the caller passed as `ptr` and `len`.
pub(crate) fn text<'a>(ptr: *const c_char, len: usize, what: &str) -> Result<&'a str> {
    let bytes = bytes(ptr.cast(), len, what)?;
    std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            HERALD_ERR_UTF8,
            format!("{what} is not UTF-8 (at byte {})", e.valid_up_to()),
        )
    })
}

/// A [`herald_str`] field of a caller's struct.
pub(crate) fn str_field<'a>(s: herald_str, what: &str) -> Result<&'a str> {
    text(s.ptr, s.len, what)
}

/// Writes `value` through the caller's out-pointer.
pub(crate) fn write_out<T>(out: *mut T, value: T, what: &str) -> Result<()> {
    if out.is_null() {
        return Err(Error::null(what));
    }
    // SAFETY: non-null; the caller promises it points to writable memory for a `T`.
    unsafe { out.write(value) };
    Ok(())
}
