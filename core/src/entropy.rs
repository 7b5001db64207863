//! Randomness, injected: SCRAM nonces and stanza ids come from here, so tests are
//! reproducible and the core never reaches for the operating system itself.

use std::fmt;

/// A source of random bytes.
///
/// Real sessions need unpredictable bytes (SCRAM nonces): use `OsEntropy` (feature
/// `os-entropy`) or your platform's CSPRNG. [`SeededEntropy`] is for tests.
pub trait Entropy: Send {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);
}

impl<E: Entropy + ?Sized> Entropy for Box<E> {
    fn fill(&mut self, buf: &mut [u8]) {
        (**self).fill(buf)
    }
}

/// Deterministic bytes from a seed (SplitMix64). Predictable by design: tests and fuzzing
/// only, never for real logins.
#[derive(Clone)]
pub struct SeededEntropy {
    state: u64,
}

impl SeededEntropy {
    /// A generator that yields the same bytes for the same seed.
    pub fn new(seed: u64) -> Self {
        SeededEntropy { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl fmt::Debug for SeededEntropy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SeededEntropy")
    }
}

impl Entropy for SeededEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// The operating system's random number generator (through `getrandom`).
#[cfg(feature = "os-entropy")]
#[derive(Debug, Clone, Copy, Default)]
pub struct OsEntropy;

#[cfg(feature = "os-entropy")]
impl Entropy for OsEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        // Without OS randomness there is no safe nonce; stopping is the only honest answer.
        getrandom::fill(buf).expect("the operating system's random source failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes() {
        let (mut a, mut b, mut c) = (
            SeededEntropy::new(7),
            SeededEntropy::new(7),
            SeededEntropy::new(8),
        );
        let (mut x, mut y, mut z) = ([0u8; 13], [0u8; 13], [0u8; 13]);
        a.fill(&mut x);
        b.fill(&mut y);
        c.fill(&mut z);
        assert_eq!(x, y);
        assert_ne!(x, z);
    }
}
