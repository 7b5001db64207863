//! The opaque client: creation from a `herald_config`, freeing, the caller's clock, and
//! the getters.

#![allow(non_camel_case_types)]

use std::ffi::c_void;
use std::time::Duration;

use herald_core::{
    Client, Config, Entropy, Instant, OsEntropy, Presence, SeededEntropy, SessionState,
    SubscriptionPolicy, TlsPolicy,
};

use crate::event::EventStore;
use crate::guard::{Error, Result, run, str_field, with_client, write_out};
use crate::types::*;

/// A client session. Opaque: made by `herald_client_new`, freed by `herald_client_free`.
pub struct herald_client {
    pub(crate) core: Client,
    /// The `Instant` that the caller's millisecond 0 maps to.
    origin: Instant,
    /// Transmit bytes taken from the core and not yet handed out, from `sent` on.
    pub(crate) pending: Vec<u8>,
    pub(crate) sent: usize,
    /// The strings of the last event and action handed out.
    pub(crate) events: EventStore,
    pub(crate) action_name: Vec<u8>,
    /// The strings the getters handed out.
    pub(crate) getter_text: Vec<u8>,
    /// An earlier call panicked: the client's state is unknown.
    pub(crate) poisoned: bool,
}

impl std::fmt::Debug for herald_client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("herald_client")
            .field("core", &self.core)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl herald_client {
    /// The caller's milliseconds as an `Instant`.
    pub(crate) fn instant(&self, now_ms: u64) -> Result<Instant> {
        self.origin
            .checked_add(Duration::from_millis(now_ms))
            .ok_or_else(|| Error::invalid(format!("now_ms {now_ms} is out of range")))
    }

    /// An `Instant` as the caller's milliseconds, rounded up (waiting until then means the
    /// deadline has passed).
    pub(crate) fn millis(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.origin);
        let ms = since.as_millis() + u128::from(since.subsec_nanos() % 1_000_000 != 0);
        u64::try_from(ms).unwrap_or(u64::MAX)
    }

    /// Stores `s` NUL-terminated in `buf` and returns it as a `herald_str`.
    pub(crate) fn hand_out(buf: &mut Vec<u8>, s: &str) -> herald_str {
        buf.clear();
        buf.extend_from_slice(s.as_bytes());
        buf.push(0);
        herald_str {
            ptr: buf.as_ptr().cast(),
            len: s.len(),
        }
    }
}

/// Fills `config` with the defaults: presence chat, empty status, priority 0, TLS
/// required, subscriptions denied after 30 s, operating-system randomness, and empty JID
/// and password (which the caller must set).
#[unsafe(no_mangle)]
pub extern "C" fn herald_config_init(config: *mut herald_config) -> i32 {
    run(|| {
        let defaults = herald_config {
            jid: herald_str::EMPTY,
            password: herald_str::EMPTY,
            presence: HERALD_PRESENCE_CHAT,
            status: herald_str::EMPTY,
            priority: 0,
            tls: HERALD_TLS_REQUIRED,
            subscriptions: HERALD_SUBSCRIPTIONS_DENY,
            subscription_window_ms: 30_000,
            entropy_source: HERALD_ENTROPY_OS,
            entropy: None,
            entropy_ctx: std::ptr::null_mut(),
            seed: 0,
        };
        write_out(config, defaults, "config")?;
        Ok(HERALD_OK)
    })
}

/// The caller's entropy callback.
struct CallbackEntropy {
    fill: extern "C" fn(*mut c_void, *mut u8, usize) -> i32,
    ctx: *mut c_void,
}

// SAFETY: the client (and so this callback) is used by one thread at a time; herald.h
// tells the caller that `entropy_ctx` must be usable from whichever thread calls the client.
unsafe impl Send for CallbackEntropy {}

impl Entropy for CallbackEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        let status = (self.fill)(self.ctx, buf.as_mut_ptr(), buf.len());
        // Without random bytes there is no safe nonce: stop this call (caught at the
        // boundary as HERALD_ERR_PANIC).
        assert!(status == 0, "the entropy callback failed ({status})");
    }
}

pub(crate) fn presence(number: i32) -> Result<Presence> {
    u8::try_from(number)
        .ok()
        .and_then(|n| Presence::try_from(n).ok())
        .ok_or_else(|| Error::invalid(format!("presence {number} is not 0 to 4")))
}

fn config(c: &herald_config) -> Result<(Config, Box<dyn Entropy>)> {
    let jid = str_field(c.jid, "config.jid")?;
    let password = str_field(c.password, "config.password")?;
    let mut config =
        Config::new(jid, password).map_err(|e| Error::new(HERALD_ERR_CONFIG, e.to_string()))?;
    config.presence = presence(c.presence)?;
    config.status = str_field(c.status, "config.status")?.to_owned();
    config.priority = i8::try_from(c.priority)
        .map_err(|_| Error::invalid(format!("priority {} is not -128 to 127", c.priority)))?;
    config.tls = match c.tls {
        HERALD_TLS_REQUIRED => TlsPolicy::Required,
        HERALD_TLS_INSECURE_PLAINTEXT => TlsPolicy::InsecurePlaintext,
        other => return Err(Error::invalid(format!("tls {other} is not 0 or 1"))),
    };
    config.subscription_policy = match c.subscriptions {
        HERALD_SUBSCRIPTIONS_DENY => SubscriptionPolicy::Deny,
        HERALD_SUBSCRIPTIONS_ACCEPT => SubscriptionPolicy::Accept,
        HERALD_SUBSCRIPTIONS_ASK => SubscriptionPolicy::Ask,
        other => {
            return Err(Error::invalid(format!(
                "subscriptions {other} is not 0 to 2"
            )));
        }
    };
    config.timeouts.subscription_window = Duration::from_millis(c.subscription_window_ms);
    let entropy: Box<dyn Entropy> = match (c.entropy_source, c.entropy) {
        (HERALD_ENTROPY_OS, _) => Box::new(OsEntropy),
        (HERALD_ENTROPY_SEED, _) => Box::new(SeededEntropy::new(c.seed)),
        (HERALD_ENTROPY_CALLBACK, Some(fill)) => Box::new(CallbackEntropy {
            fill,
            ctx: c.entropy_ctx,
        }),
        (HERALD_ENTROPY_CALLBACK, None) => return Err(Error::null("config.entropy")),
        (other, _) => {
            return Err(Error::invalid(format!(
                "entropy_source {other} is not 0 to 2"
            )));
        }
    };
    Ok((config, entropy))
}

/// Makes a client from `config` (which the library copies: it may be freed after) and
/// stores it in `*out`. Free it with `herald_client_free`.
///
/// Returns `HERALD_ERR_CONFIG` when the JID, password or status is refused (SASLprep, XML
/// characters, a JID without a local part), `HERALD_ERR_INVALID_ARGUMENT` for a number
/// out of range, `HERALD_ERR_NULL`/`HERALD_ERR_UTF8` for bad strings.
#[unsafe(no_mangle)]
pub extern "C" fn herald_client_new(
    config: *const herald_config,
    out: *mut *mut herald_client,
) -> i32 {
    run(|| {
        if out.is_null() {
            return Err(Error::null("out"));
        }
        if config.is_null() {
            return Err(Error::null("config"));
        }
        // SAFETY: non-null; the caller promises a readable, initialised herald_config.
        let c = unsafe { &*config };
        let (config, entropy) = self::config(c)?;
        let core = Client::new(config, entropy)
            .map_err(|e| Error::new(HERALD_ERR_CONFIG, e.to_string()))?;
        let client = Box::new(herald_client {
            core,
            // The one reading of a clock in this library: only to anchor the caller's.
            origin: Instant::now(),
            pending: Vec::new(),
            sent: 0,
            events: EventStore::default(),
            action_name: Vec::new(),
            getter_text: Vec::new(),
            poisoned: false,
        });
        write_out(out, Box::into_raw(client), "out")?;
        Ok(HERALD_OK)
    })
}

/// Frees a client and everything it handed out (the password copy is wiped). Null is
/// accepted and does nothing. Using the pointer afterwards is undefined behaviour.
#[unsafe(no_mangle)]
pub extern "C" fn herald_client_free(client: *mut herald_client) {
    if client.is_null() {
        return;
    }
    let _ = run(|| {
        // SAFETY: non-null and made by herald_client_new (Box::into_raw); the caller
        // promises it was not freed before and is not used again.
        drop(unsafe { Box::from_raw(client) });
        Ok(HERALD_OK)
    });
}

// ----- getters -----

pub(crate) fn state_number(state: &SessionState) -> i32 {
    match state {
        SessionState::Disconnected => HERALD_STATE_DISCONNECTED,
        SessionState::Connecting => HERALD_STATE_CONNECTING,
        SessionState::StartingTls => HERALD_STATE_STARTING_TLS,
        SessionState::TlsHandshake => HERALD_STATE_TLS_HANDSHAKE,
        SessionState::Authenticating { .. } => HERALD_STATE_AUTHENTICATING,
        SessionState::Binding => HERALD_STATE_BINDING,
        SessionState::Resuming => HERALD_STATE_RESUMING,
        SessionState::Session => HERALD_STATE_SESSION,
        SessionState::Roster => HERALD_STATE_ROSTER,
        SessionState::Online => HERALD_STATE_ONLINE,
        SessionState::Closing => HERALD_STATE_CLOSING,
        _ => HERALD_STATE_CLOSED,
    }
}

/// Stores the session's state, `HERALD_STATE_*`, in `*state`.
#[unsafe(no_mangle)]
pub extern "C" fn herald_get_state(client: *mut herald_client, state: *mut i32) -> i32 {
    with_client(client, |c| {
        write_out(state, state_number(&c.core.state()), "state")?;
        Ok(HERALD_OK)
    })
}

/// Stores the account's presence as set (sent or to be sent), `HERALD_PRESENCE_*`.
#[unsafe(no_mangle)]
pub extern "C" fn herald_get_presence(client: *mut herald_client, presence: *mut i32) -> i32 {
    with_client(client, |c| {
        write_out(
            presence,
            i32::from(c.core.presence().as_number()),
            "presence",
        )?;
        Ok(HERALD_OK)
    })
}

/// Stores the account's status text as set. Valid until the next getter call on this
/// client.
#[unsafe(no_mangle)]
pub extern "C" fn herald_get_status(client: *mut herald_client, status: *mut herald_str) -> i32 {
    with_client(client, |c| {
        if status.is_null() {
            return Err(Error::null("status"));
        }
        let s = herald_client::hand_out(&mut c.getter_text, c.core.status());
        write_out(status, s, "status")?;
        Ok(HERALD_OK)
    })
}

/// Stores the bound full JID and returns `HERALD_READY`, or stores an empty string and
/// returns `HERALD_OK` before binding. Valid until the next getter call on this client.
#[unsafe(no_mangle)]
pub extern "C" fn herald_get_bound_jid(client: *mut herald_client, jid: *mut herald_str) -> i32 {
    with_client(client, |c| {
        if jid.is_null() {
            return Err(Error::null("jid"));
        }
        let bound = c.core.bound_jid().map(|j| j.to_string());
        let s = herald_client::hand_out(&mut c.getter_text, bound.as_deref().unwrap_or(""));
        write_out(jid, s, "jid")?;
        Ok(if bound.is_some() {
            HERALD_READY
        } else {
            HERALD_OK
        })
    })
}
