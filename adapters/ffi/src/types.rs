//! The plain C types of the ABI: result codes, strings, the configuration, channel binding,
//! actions and the numbers that name presences, states and event kinds.

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void};

// ----- result codes -----

/// Success; for a poll: nothing (more) to hand out.
pub const HERALD_OK: i32 = 0;
/// A poll wrote something: use it and call the same poll again.
pub const HERALD_READY: i32 = 1;
/// A required pointer was null (or a string pointer was null with a non-zero length).
pub const HERALD_ERR_NULL: i32 = -1;
/// A string was not UTF-8.
pub const HERALD_ERR_UTF8: i32 = -2;
/// An argument was out of range or malformed: a JID, a presence number, a transport, a
/// time too far in the future, text XML cannot carry, or an empty input chunk (use
/// `herald_handle_eof` for the end of the stream).
pub const HERALD_ERR_INVALID_ARGUMENT: i32 = -3;
/// `herald_poll_transmit` was given no room (capacity 0) while bytes wait. Nothing was
/// lost: call again with a buffer.
pub const HERALD_ERR_BUFFER_TOO_SMALL: i32 = -4;
/// `herald_client_new` refused the configuration (`herald_last_error` says why).
pub const HERALD_ERR_CONFIG: i32 = -5;
/// The command does not fit the session's state: not connected yet, connected already,
/// not online, already closing, no TLS handshake to finish, no subscription request to
/// answer. Nothing changed.
pub const HERALD_ERR_STATE: i32 = -6;
/// The session has ended (after `HERALD_EVENT_DISCONNECTED`); only getters, polls and
/// `herald_client_free` still work.
pub const HERALD_ERR_SESSION_ENDED: i32 = -7;
/// The library panicked (a bug, or a failing entropy callback). The client refuses every
/// later call with this code; free it.
pub const HERALD_ERR_PANIC: i32 = -8;

// ----- presence (the IPWorks `XmppPresences` numbers) -----

/// Offline: `type='unavailable'`; the session stays.
pub const HERALD_PRESENCE_OFFLINE: i32 = 0;
/// Available (the default), sent without `<show/>`.
pub const HERALD_PRESENCE_CHAT: i32 = 1;
/// `<show>away</show>`.
pub const HERALD_PRESENCE_AWAY: i32 = 2;
/// `<show>xa</show>`: away for a long time.
pub const HERALD_PRESENCE_XA: i32 = 3;
/// `<show>dnd</show>`: do not disturb.
pub const HERALD_PRESENCE_DND: i32 = 4;

// ----- configuration -----

/// TLS is mandatory (the default): STARTTLS, or direct TLS, before any credential.
pub const HERALD_TLS_REQUIRED: i32 = 0;
/// No TLS at all, credentials in the clear: loopback experiments only.
pub const HERALD_TLS_INSECURE_PLAINTEXT: i32 = 1;

/// A subscription request nobody answered in time is refused (the default, as IPWorks).
pub const HERALD_SUBSCRIPTIONS_DENY: i32 = 0;
/// ... is accepted.
pub const HERALD_SUBSCRIPTIONS_ACCEPT: i32 = 1;
/// ... is left pending at the server.
pub const HERALD_SUBSCRIPTIONS_ASK: i32 = 2;

/// Random bytes (SCRAM nonces, stanza ids) from the operating system (the default).
pub const HERALD_ENTROPY_OS: i32 = 0;
/// Random bytes from `herald_config.entropy`.
pub const HERALD_ENTROPY_CALLBACK: i32 = 1;
/// Predictable bytes from `herald_config.seed`: tests only, never for a real login.
pub const HERALD_ENTROPY_SEED: i32 = 2;

/// Fills `len` bytes at `buf` with random bytes; returns 0 on success. Any other value
/// makes the call that needed them fail with `HERALD_ERR_PANIC` (no safe nonce exists).
pub type herald_entropy_fn =
    Option<extern "C" fn(ctx: *mut c_void, buf: *mut u8, len: usize) -> i32>;

/// A UTF-8 string with its length in bytes. In arguments, `ptr` may be null only when
/// `len` is 0. Handed out by the library, it is also NUL-terminated (`len` leaves the NUL
/// out) and stays valid for as long as the function that gave it says.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct herald_str {
    /// The first byte.
    pub ptr: *const c_char,
    /// The length in bytes, without any NUL.
    pub len: usize,
}

impl herald_str {
    pub(crate) const EMPTY: herald_str = herald_str {
        ptr: c"".as_ptr(),
        len: 0,
    };
}

/// Bytes with their length; `ptr` null and `len` 0 mean "none".
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct herald_bytes {
    /// The first byte.
    pub ptr: *const u8,
    /// The number of bytes.
    pub len: usize,
}

/// Everything a client needs to log in. Fill it with `herald_config_init` first (a zeroed
/// struct would mean presence offline), then set the fields.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct herald_config {
    /// The account, `user@domain` or `user@domain/resource`.
    pub jid: herald_str,
    /// The password. The library keeps its own copy (wiped on free) and never logs it.
    pub password: herald_str,
    /// The initial presence, `HERALD_PRESENCE_*`. Default `HERALD_PRESENCE_CHAT`.
    pub presence: i32,
    /// The initial status text. Default empty (no `<status/>`).
    pub status: herald_str,
    /// The priority sent with every available presence, -128 to 127. Default 0.
    pub priority: i32,
    /// `HERALD_TLS_REQUIRED` (default) or `HERALD_TLS_INSECURE_PLAINTEXT`.
    pub tls: i32,
    /// Who answers a subscription request the application left unanswered for
    /// `subscription_window_ms`: `HERALD_SUBSCRIPTIONS_*`. Default deny.
    pub subscriptions: i32,
    /// How long an incoming subscription request waits for `herald_approve` or
    /// `herald_deny`, in milliseconds. Default 30,000.
    pub subscription_window_ms: u64,
    /// Where random bytes come from: `HERALD_ENTROPY_*`. Default the operating system.
    pub entropy_source: i32,
    /// The callback for `HERALD_ENTROPY_CALLBACK`, called on the thread that calls the
    /// client; `entropy_ctx` is passed through.
    pub entropy: herald_entropy_fn,
    /// Passed to `entropy`.
    pub entropy_ctx: *mut c_void,
    /// The seed for `HERALD_ENTROPY_SEED`.
    pub seed: u64,
}

/// How the transport was connected, for `herald_connect`.
/// A plain TCP connection: STARTTLS follows (unless `HERALD_TLS_INSECURE_PLAINTEXT`).
pub const HERALD_TRANSPORT_TCP: i32 = 0;
/// TLS from the first byte (XEP-0368), handshake already done.
pub const HERALD_TRANSPORT_DIRECT_TLS: i32 = 1;

/// Channel-binding data from the TLS handshake, for SCRAM `-PLUS`. Each field may be
/// empty; with all empty (or a null pointer instead of this struct) `-PLUS` is not used.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct herald_channel_binding {
    /// `tls-exporter` (RFC 9266, TLS 1.3): 32 bytes exported with the label
    /// `"EXPORTER-Channel-Binding"` and no context (OpenSSL:
    /// `SSL_export_keying_material`).
    pub tls_exporter: herald_bytes,
    /// `tls-server-end-point` (RFC 5929): the hash of the server's certificate.
    pub tls_server_end_point: herald_bytes,
    /// `tls-unique` (RFC 5929, TLS 1.2 and earlier): the first Finished message.
    pub tls_unique: herald_bytes,
}

// ----- actions -----

/// Do the TLS handshake now for `server_name`, then call `herald_tls_established` or
/// `herald_tls_failed`. Feed no input before that.
pub const HERALD_ACTION_START_TLS: i32 = 1;
/// Close the connection; nothing more will be sent.
pub const HERALD_ACTION_CLOSE_TRANSPORT: i32 = 2;

/// Work for the transport, from `herald_poll_action`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct herald_action {
    /// `HERALD_ACTION_*`.
    pub kind: i32,
    /// For `HERALD_ACTION_START_TLS`: the name to verify the certificate against (the
    /// JID's domain). Valid until the next `herald_poll_action` on this client.
    pub server_name: herald_str,
}

// ----- session states -----

/// Not connected yet.
pub const HERALD_STATE_DISCONNECTED: i32 = 0;
/// Stream opened; waiting for the server's header and features.
pub const HERALD_STATE_CONNECTING: i32 = 1;
/// `<starttls/>` sent; waiting for `<proceed/>`.
pub const HERALD_STATE_STARTING_TLS: i32 = 2;
/// The caller is doing the TLS handshake.
pub const HERALD_STATE_TLS_HANDSHAKE: i32 = 3;
/// SASL exchange in progress.
pub const HERALD_STATE_AUTHENTICATING: i32 = 4;
/// Binding a resource.
pub const HERALD_STATE_BINDING: i32 = 5;
/// Resuming an earlier session (XEP-0198).
pub const HERALD_STATE_RESUMING: i32 = 6;
/// Establishing the RFC 3921 session.
pub const HERALD_STATE_SESSION: i32 = 7;
/// Fetching the roster.
pub const HERALD_STATE_ROSTER: i32 = 8;
/// Logged in, initial presence sent.
pub const HERALD_STATE_ONLINE: i32 = 9;
/// `</stream:stream>` sent; waiting for the server's.
pub const HERALD_STATE_CLOSING: i32 = 10;
/// Ended; sticky.
pub const HERALD_STATE_CLOSED: i32 = 11;

// ----- how a session ended (the `herald` CLI's exit statuses) -----

/// `herald_close` closed it.
pub const HERALD_END_LOCAL_CLOSE: i32 = 0;
/// Authentication failed (wrong password, no usable mechanism, SCRAM check failed).
pub const HERALD_END_AUTH: i32 = 1;
/// TLS failed, was refused or not offered, or the certificate did not verify.
pub const HERALD_END_TLS: i32 = 3;
/// Anything else: the network, the server closing, a stream error, bad server input.
pub const HERALD_END_OTHER: i32 = 4;
