//! Every duration the client works with, as one value the tests can shrink, plus the
//! health-check jitter source.

use std::fmt;
use std::time::Duration;

/// Deadlines, schedules and backoff. [`Timing::default`] holds the official SDKs' values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// How long a request waits for its response (Go `SERVICE_CALL_TIMEOUT`: 20 s).
    pub request_timeout: Duration,
    /// How long `ActivateServerProcess` waits (6 s in Go and C#).
    pub activate_timeout: Duration,
    /// After this many timeouts in a row the connection is presumed half-open and
    /// replaced (Go: 2). Any inbound frame resets the count.
    pub timeouts_before_reconnect: u32,
    /// Health-check period (60 s).
    pub health_interval: Duration,
    /// The period varies uniformly by up to this much either way (10 s ⇒ 50–70 s).
    pub health_max_jitter: Duration,
    /// Time budget of the game's health callback; no answer in time reports `false`
    /// (50 s = interval − max jitter).
    pub health_budget: Duration,
    /// Waits between connection attempts after a failed one. Its length is the number
    /// of *retries*: 1 + 7 attempts with waits 4, 8, 16, 32, 32, 32, 32 s, as the C++
    /// (`GeometricBackoffRetryStrategy`) and C# SDKs do.
    pub reconnect_backoff: Vec<Duration>,
    /// After traffic moved to a new connection, the old one stays open this long so that
    /// responses already on their way still arrive (Go `DISCONNECT_WEBSOCKET_TIMEOUT`: 5 s).
    pub drain: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            request_timeout: Duration::from_secs(20),
            activate_timeout: Duration::from_secs(6),
            timeouts_before_reconnect: 2,
            health_interval: Duration::from_secs(60),
            health_max_jitter: Duration::from_secs(10),
            health_budget: Duration::from_secs(50),
            reconnect_backoff: [4, 8, 16, 32, 32, 32, 32].map(Duration::from_secs).to_vec(),
            drain: Duration::from_secs(5),
        }
    }
}

impl Timing {
    /// The wait before retry number `retry` (1-based), or `None` when the attempts are
    /// used up.
    pub fn backoff(&self, retry: u32) -> Option<Duration> {
        let index = usize::try_from(retry.checked_sub(1)?).ok()?;
        self.reconnect_backoff.get(index).copied()
    }

    /// The health period for a jitter sample `unit` in `[0, 1)`:
    /// `interval − max_jitter + 2·max_jitter·unit`.
    pub fn health_period(&self, unit: f64) -> Duration {
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let low = self.health_interval.saturating_sub(self.health_max_jitter);
        low + self.health_max_jitter.mul_f64(2.0 * unit)
    }
}

/// A source of uniform samples in `[0, 1)` for the health jitter. Injected so that tests
/// can pin the schedule.
pub struct Jitter(Box<dyn FnMut() -> f64 + Send>);

impl Jitter {
    /// Uniform random jitter from the thread RNG.
    pub fn random() -> Jitter {
        Jitter(Box::new(rand::random::<f64>))
    }

    /// A fixed sample (`0.5` means no jitter, `0.0` the shortest period).
    pub fn fixed(unit: f64) -> Jitter {
        Jitter(Box::new(move || unit))
    }

    /// Samples from a closure.
    pub fn from_fn(f: impl FnMut() -> f64 + Send + 'static) -> Jitter {
        Jitter(Box::new(f))
    }

    /// The next sample.
    pub(crate) fn sample(&mut self) -> f64 {
        (self.0)()
    }
}

impl fmt::Debug for Jitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Jitter")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_4_8_16_then_32_for_seven_retries() {
        let timing = Timing::default();
        let waits: Vec<u64> = (1..=8)
            .map_while(|retry| timing.backoff(retry))
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(waits, [4, 8, 16, 32, 32, 32, 32]);
        assert_eq!(timing.backoff(0), None);
        assert_eq!(timing.backoff(8), None);
    }

    #[test]
    fn health_period_spans_50_to_70_seconds() {
        let timing = Timing::default();
        assert_eq!(timing.health_period(0.0), Duration::from_secs(50));
        assert_eq!(timing.health_period(0.5), Duration::from_secs(60));
        assert_eq!(timing.health_period(0.75), Duration::from_secs(65));
        assert_eq!(timing.health_period(f64::NAN), Duration::from_secs(60));
        assert!(timing.health_period(0.999_999) < Duration::from_secs(70));
    }
}
