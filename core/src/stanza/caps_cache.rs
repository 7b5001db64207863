//! What the core remembers of other entities' capabilities (XEP-0115): the features of each
//! verified `ver`, bounded, and the policy for asking.

use std::collections::{BTreeMap, VecDeque};

/// When the core asks a contact for the features its capabilities (`ver`) stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CapsPolicy {
    /// Never: [`Client::supports`](crate::Client::supports) answers only from the cache.
    Off,
    /// Only when the application calls [`Client::query_caps`](crate::Client::query_caps).
    OnDemand,
    /// As soon as a presence announces a `ver` the cache does not hold (the default): one
    /// query per `ver`, whoever announces it.
    #[default]
    Automatic,
}

/// Verified capabilities by `ver`: the features each stands for. A `ver` enters only after
/// its disco#info answer hashed to it (XEP-0115 section 5.4), so one entity cannot poison
/// what others announce. Bounded: past [`CapsCache::DEFAULT_MAX`] entries (or the limit
/// given) the oldest goes. Persist it (its [`entries`](Self::entries)) and pass it back in
/// [`Config::caps_cache`](crate::Config::caps_cache) to skip the queries next time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapsCache {
    features: BTreeMap<String, Vec<String>>,
    order: VecDeque<String>,
    max: usize,
}

impl Default for CapsCache {
    fn default() -> Self {
        CapsCache::with_limit(CapsCache::DEFAULT_MAX)
    }
}

impl CapsCache {
    /// How many `ver`s a cache keeps by default.
    pub const DEFAULT_MAX: usize = 1_000;

    /// An empty cache of at most [`DEFAULT_MAX`](Self::DEFAULT_MAX) entries.
    pub fn new() -> CapsCache {
        CapsCache::default()
    }

    /// An empty cache of at most `max` entries.
    pub fn with_limit(max: usize) -> CapsCache {
        CapsCache {
            features: BTreeMap::new(),
            order: VecDeque::new(),
            max,
        }
    }

    /// Adds (or replaces) what `ver` stands for; the oldest entry goes when full. Only
    /// put here what was verified, or read back from storage that held verified entries.
    pub fn insert(&mut self, ver: impl Into<String>, mut features: Vec<String>) {
        if self.max == 0 {
            return;
        }
        let ver = ver.into();
        features.sort();
        features.dedup();
        if self.features.insert(ver.clone(), features).is_none() {
            self.order.push_back(ver);
            while self.order.len() > self.max {
                if let Some(old) = self.order.pop_front() {
                    self.features.remove(&old);
                }
            }
        }
    }

    /// The features `ver` stands for, sorted; `None` when unknown.
    pub fn get(&self, ver: &str) -> Option<&[String]> {
        self.features.get(ver).map(Vec::as_slice)
    }

    /// Whether `ver` is known.
    pub fn contains(&self, ver: &str) -> bool {
        self.features.contains_key(ver)
    }

    /// How many `ver`s are known.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Every entry, oldest first: `(ver, features)`, to persist.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.order
            .iter()
            .filter_map(|ver| Some((ver.as_str(), self.get(ver)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_oldest_first() {
        let mut cache = CapsCache::with_limit(2);
        cache.insert("a", vec!["x".into(), "w".into(), "x".into()]);
        cache.insert("b", vec![]);
        cache.insert("a", vec!["y".into()]);
        assert_eq!(cache.get("a"), Some(&["y".to_string()][..]));
        cache.insert("c", vec![]);
        assert!(!cache.contains("a") && cache.contains("b") && cache.contains("c"));
        assert_eq!(
            cache.entries().map(|(v, _)| v).collect::<Vec<_>>(),
            ["b", "c"]
        );
        let mut none = CapsCache::with_limit(0);
        none.insert("a", vec![]);
        assert!(none.is_empty());
    }
}
