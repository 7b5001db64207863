//! Reconnect policy: exponential backoff with jitter, and `see-other-host` targets.

use std::time::Duration;

use herald_core::Entropy;

/// The first delay.
const INITIAL: Duration = Duration::from_secs(1);
/// The longest delay.
const CAP: Duration = Duration::from_secs(60);

/// The delay before reconnect attempt `attempt` (1-based): 1 s doubling up to 60 s, plus up
/// to a quarter more of random jitter (still capped), so that many clients dropped by one
/// server restart do not come back in lockstep.
pub(crate) fn backoff_delay(attempt: u32, entropy: &mut dyn Entropy) -> Duration {
    let doublings = attempt.saturating_sub(1).min(16);
    let base = INITIAL.saturating_mul(1 << doublings).min(CAP);
    let mut bytes = [0u8; 4];
    entropy.fill(&mut bytes);
    let fraction = f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX);
    (base + base.mul_f64(0.25 * fraction)).min(CAP)
}

/// Splits a `see-other-host` value into host and port (`host`, `host:port`, `[v6]:port`,
/// or a bare IPv6 address); the port defaults to `default_port`.
pub(crate) fn parse_host(value: &str, default_port: u16) -> Option<(String, u16)> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Some(rest) = value.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => default_port,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    match value.split_once(':') {
        // More than one colon: a bare IPv6 address.
        Some((_, rest)) if rest.contains(':') => Some((value.to_string(), default_port)),
        Some((host, port)) => Some((host.to_string(), port.parse().ok()?)),
        None => Some((value.to_string(), default_port)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_core::SeededEntropy;

    #[test]
    fn delays_double_from_one_second_up_to_a_minute() {
        let mut entropy = SeededEntropy::new(3);
        let mut last = Duration::ZERO;
        for attempt in 1..=40 {
            let delay = backoff_delay(attempt, &mut entropy);
            let base = Duration::from_secs(1 << (attempt - 1).min(6)).min(CAP);
            assert!(
                delay >= base && delay <= (base + base / 4).min(CAP),
                "{attempt}: {delay:?}"
            );
            assert!(delay + Duration::from_millis(500) >= last || delay == CAP);
            last = delay;
        }
        assert_eq!(backoff_delay(u32::MAX, &mut entropy), CAP);
    }

    #[test]
    fn see_other_host_values() {
        let p = |s| parse_host(s, 5222);
        assert_eq!(
            p("xmpp.example.net"),
            Some(("xmpp.example.net".into(), 5222))
        );
        assert_eq!(
            p("xmpp.example.net:5999"),
            Some(("xmpp.example.net".into(), 5999))
        );
        assert_eq!(p("[2001:db8::1]:5999"), Some(("2001:db8::1".into(), 5999)));
        assert_eq!(p("[2001:db8::1]"), Some(("2001:db8::1".into(), 5222)));
        assert_eq!(p("2001:db8::1"), Some(("2001:db8::1".into(), 5222)));
        assert_eq!(p("host:notaport"), None);
        assert_eq!(p(""), None);
    }
}
