//! Reconnect delays: exponential, capped, with jitter, reset after a successful login.

use std::time::Duration;

use herald_core::Entropy;

/// Exponential backoff with "equal jitter": half the delay is fixed, half random, so
/// many clients that lost the same server do not come back in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// Delays start at `initial` and double up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max: max.max(initial),
            attempt: 0,
        }
    }

    /// How many delays were handed out since the last reset.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The next delay.
    pub fn next_delay(&mut self, entropy: &mut dyn Entropy) -> Duration {
        let exp = self.attempt.min(20);
        self.attempt = self.attempt.saturating_add(1);
        let full = self.initial.saturating_mul(1u32 << exp).min(self.max);
        let half = full / 2;
        let mut raw = [0u8; 4];
        entropy.fill(&mut raw);
        let fraction = f64::from(u32::from_le_bytes(raw)) / f64::from(u32::MAX);
        half + half.mul_f64(fraction)
    }

    /// Back to the first delay (after a session got online).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

impl Default for Backoff {
    /// 1 s doubling up to 60 s.
    fn default() -> Self {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::SeededEntropy;

    #[test]
    fn grows_exponentially_within_jitter_and_caps() {
        let mut b = Backoff::default();
        let mut e = SeededEntropy::new(3);
        let mut previous_max = Duration::ZERO;
        for n in 0..10u32 {
            let d = b.next_delay(&mut e);
            let full = Duration::from_secs(1u64 << n).min(Duration::from_secs(60));
            assert!(
                d >= full / 2 && d <= full,
                "attempt {n}: {d:?} not in [{:?}, {full:?}]",
                full / 2
            );
            assert!(full >= previous_max);
            previous_max = full;
        }
        assert_eq!(b.attempt(), 10);
        b.reset();
        assert!(b.next_delay(&mut e) <= Duration::from_secs(1));
    }
}
