//! The SCRAM key cache: the salted password of earlier logins, so that a reconnect does not
//! redo PBKDF2 (thousands of HMAC rounds, the bulk of a login's CPU).

use core::fmt;

use zeroize::Zeroizing;

use super::mechanism::ScramHash;

/// How many keys a cache keeps (one account rarely needs more than one or two: a salt per
/// server and mechanism). The oldest goes first.
const MAX_ENTRIES: usize = 4;

/// Salted passwords (`Hi(password, salt, i)` of RFC 5802) from SCRAM exchanges the server
/// verified, keyed by mechanism hash, salt, iteration count, username and password.
///
/// The core is sans-IO and a new [`Client`](crate::Client) is made for every connection, so
/// the cache is a value the adapter carries: take [`Client::scram_cache`] from the old
/// client and put it in [`Config::scram_cache`] of the next one. A key is only used when
/// everything it was computed from matches; it only enters the cache once the server has
/// proved (`v=`) that it derived the same key, and an exchange that fails drops it.
///
/// It holds secrets (each salted password lets anyone log in to that server as the user,
/// and the password itself, to check it is unchanged): its `Debug` output shows only how
/// many keys it holds, and everything is wiped on drop.
///
/// [`Client::scram_cache`]: crate::Client::scram_cache
/// [`Config::scram_cache`]: crate::Config::scram_cache
#[derive(Clone, Default)]
pub struct ScramCache {
    entries: Vec<CachedKey>,
}

/// One salted password and what it was computed from.
#[derive(Clone)]
pub(crate) struct CachedKey {
    pub(crate) hash: ScramHash,
    /// SASLprepped and escaped, as sent in `n=`.
    pub(crate) username: String,
    /// SASLprepped.
    pub(crate) password: Zeroizing<String>,
    pub(crate) salt: Vec<u8>,
    pub(crate) iterations: u32,
    pub(crate) salted: Zeroizing<Vec<u8>>,
}

impl CachedKey {
    fn matches(
        &self,
        hash: ScramHash,
        username: &str,
        password: &str,
        salt: &[u8],
        i: u32,
    ) -> bool {
        self.hash == hash
            && self.iterations == i
            && self.salt == salt
            && self.username == username
            && ct_eq(self.password.as_bytes(), password.as_bytes())
    }
}

/// Constant-time comparison (for equal lengths; the length is not secret).
pub(super) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut acc = 0u8;
    for (x, y) in a.iter().zip(b) {
        acc |= x ^ y;
    }
    core::hint::black_box(acc) == 0
}

impl fmt::Debug for ScramCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramCache")
            .field("keys", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl ScramCache {
    /// An empty cache.
    pub fn new() -> Self {
        ScramCache::default()
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets every key (for example when the password changed on another client).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The salted password for these inputs, if cached.
    pub(crate) fn get(
        &self,
        hash: ScramHash,
        username: &str,
        password: &str,
        salt: &[u8],
        iterations: u32,
    ) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|e| e.matches(hash, username, password, salt, iterations))
            .map(|e| e.salted.as_slice())
    }

    /// Keeps `key`, replacing one for the same inputs and evicting the oldest when full.
    pub(crate) fn insert(&mut self, key: CachedKey) {
        self.remove(&key);
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.remove(0);
        }
        // Usually one key for the life of the program: no room for four.
        self.entries.reserve_exact(1);
        self.entries.push(key);
    }

    /// Drops the key for the inputs of `key`.
    pub(crate) fn remove(&mut self, key: &CachedKey) {
        self.entries.retain(|e| {
            !e.matches(
                key.hash,
                &key.username,
                &key.password,
                &key.salt,
                key.iterations,
            )
        });
    }
}
