//! When a failed delivery is tried again, and when it is given up (docs/EMAIL.md, "Records").

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How often to look for due rows when nobody wakes the worker.
    pub poll: Duration,
    /// How long a claim lasts; must exceed the SMTP timeout by a margin.
    pub lease: Duration,
    /// First retry delay; doubles per attempt up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// After this many failed attempts a row is marked failed (`latchkey outbox retry`).
    pub max_attempts: i64,
    /// Up to this share (0.0 to 1.0) of each delay is taken off at random, so rows that
    /// failed together (a relay outage) do not all come back in the same instant.
    pub jitter: f64,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(2),
            lease: Duration::from_secs(120),
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(30 * 60),
            max_attempts: 25,
            jitter: 0.2,
        }
    }
}

impl WorkerOptions {
    /// After `attempts` failed attempts (this one included): how long to wait before the
    /// next one, or `None` to give up. `unit` is a random number in `[0, 1)` for the jitter.
    pub fn retry_delay(&self, attempts: i64, unit: f64) -> Option<Duration> {
        (attempts < self.max_attempts).then(|| self.backoff(attempts).mul_f64(1.0 - self.jitter_share(unit)))
    }

    /// `retry_base * 2^(attempts-1)`, capped at `retry_max` (before jitter).
    pub fn backoff(&self, attempts: i64) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1)).unwrap_or(u32::MAX).min(20);
        self.retry_base.saturating_mul(1 << exponent).min(self.retry_max)
    }

    /// Jitter only shortens: a retry never comes later than the documented schedule.
    fn jitter_share(&self, unit: f64) -> f64 {
        self.jitter.clamp(0.0, 1.0) * unit.clamp(0.0, 1.0)
    }
}

/// A random number in `[0, 1)` from the OS RNG (0.5 if it cannot be read: jitter is a
/// spreading aid, not a security property).
pub(crate) fn random_unit() -> f64 {
    getrandom::u64().map_or(0.5, |n| (n >> 11) as f64 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> WorkerOptions {
        WorkerOptions { retry_base: Duration::from_secs(5), retry_max: Duration::from_secs(60), ..Default::default() }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let o = options();
        let secs: Vec<u64> = (1..=6).map(|n| o.backoff(n).as_secs()).collect();
        assert_eq!(secs, vec![5, 10, 20, 40, 60, 60]);
    }

    #[test]
    fn the_documented_defaults() {
        let o = WorkerOptions::default();
        assert_eq!(o.backoff(1), Duration::from_secs(5));
        assert_eq!(o.backoff(9), Duration::from_secs(1280));
        assert_eq!(o.backoff(10), Duration::from_secs(30 * 60), "capped at 30 minutes");
        assert_eq!(o.backoff(i64::MAX), Duration::from_secs(30 * 60));
        assert!(o.retry_delay(24, 0.0).is_some());
        assert_eq!(o.retry_delay(25, 0.0), None, "25 attempts, then failed");
    }

    #[test]
    fn jitter_only_shortens_and_by_at_most_its_share() {
        let o = options();
        assert_eq!(o.retry_delay(2, 0.0), Some(Duration::from_secs(10)));
        let shortest = o.retry_delay(2, 0.999_999).unwrap();
        assert!(shortest >= Duration::from_secs(8) && shortest < Duration::from_secs(10), "{shortest:?}");
        for _ in 0..100 {
            let d = o.retry_delay(3, random_unit()).unwrap();
            assert!(d > Duration::from_secs(16) && d <= Duration::from_secs(20), "{d:?}");
        }
        let none = WorkerOptions { jitter: 0.0, ..options() };
        assert_eq!(none.retry_delay(3, 0.9), Some(Duration::from_secs(20)));
    }
}
