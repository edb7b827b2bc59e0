//! When to try the queue again: sans-IO backoff, failure classes, the shutdown budget.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant, SystemTime};

/// First retry delay after a failure.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(200);
/// Longest delay between attempts: an outage is noticed within this of SQS returning.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);
/// Time kept back from GameLift's termination time for `ProcessEnding`, `Destroy`, log
/// flushing and exit (GameLift wants exit within ~30 s of `ProcessEnding`, and its agent
/// already leaves 30 s of leeway before the instance goes).
pub const DRAIN_SAFETY_MARGIN: Duration = Duration::from_secs(10);
/// Drain budget when no termination time is known (SIGTERM, a normal end of the
/// process): short, because nothing forces an exit and the outbox keeps what is left.
pub const DEFAULT_DRAIN_BUDGET: Duration = Duration::from_secs(20);
/// Upper bound of any drain: GameLift waits ~5 min after `onProcessTerminate`.
pub const MAX_DRAIN_BUDGET: Duration = Duration::from_secs(5 * 60);

/// Why a send failed, as the queue client classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Throttled (`ThrottlingException`, `RequestThrottled`, S3 `SlowDown`): retry.
    Throttled,
    /// Connect, TLS, DNS or timeout error: retry.
    Network,
    /// A 5xx from the service: retry.
    Server,
    /// Credentials, permissions or configuration (expired role credentials refresh; a
    /// missing queue or bucket may be created): retry, loudly. Nothing is wrong with the
    /// message, so it is not set aside.
    Denied,
    /// The service refused this message for good (invalid body, too large, bad
    /// attribute): set it aside, never retry.
    Invalid,
}

impl FailureKind {
    /// True for every kind except [`Invalid`](Self::Invalid): an outage or a
    /// misconfiguration may end; a bad message never gets better.
    pub const fn is_retryable(self) -> bool {
        !matches!(self, Self::Invalid)
    }
}

/// A source of jitter: values in `[0, 1)`. Injected so tests fix the schedule.
pub trait Jitter: Send {
    /// The next value in `[0, 1)`.
    fn unit(&mut self) -> f64;
}

impl<F: FnMut() -> f64 + Send> Jitter for F {
    fn unit(&mut self) -> f64 {
        self()
    }
}

/// Jitter from `std`'s randomly keyed hasher (no `rand` dependency): good enough to
/// spread many servers' retries, not for anything secret.
#[derive(Debug)]
pub struct StdJitter {
    state: RandomState,
    counter: u64,
}

impl Default for StdJitter {
    fn default() -> Self {
        Self {
            state: RandomState::new(),
            counter: 0,
        }
    }
}

impl Jitter for StdJitter {
    fn unit(&mut self) -> f64 {
        self.counter += 1;
        let mut h = self.state.build_hasher();
        h.write_u64(self.counter);
        (h.finish() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Try again at this time (and send nothing before it).
    RetryAt(Instant),
    /// Set this message aside; the queue itself is fine, carry on with the next.
    SetAside,
}

/// Backoff for one queue, shared by all its messages (an outage affects them all).
///
/// Sans-IO: it never sleeps or reads a clock; the caller passes `now`. After `n`
/// consecutive retryable failures the delay is `d = min(max, base·2^(n-1))`, and the next
/// attempt is at `now + d/2 + jitter·d/2` ("equal jitter": spread out, never zero).
pub struct DeliveryPolicy {
    base: Duration,
    max: Duration,
    jitter: Box<dyn Jitter>,
    failures: u32,
    next_at: Option<Instant>,
}

impl std::fmt::Debug for DeliveryPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryPolicy")
            .field("base", &self.base)
            .field("max", &self.max)
            .field("failures", &self.failures)
            .field("next_at", &self.next_at)
            .finish_non_exhaustive()
    }
}

impl DeliveryPolicy {
    /// A policy with the given delays and jitter source.
    pub fn new(base: Duration, max: Duration, jitter: impl Jitter + 'static) -> Self {
        Self {
            base,
            max: max.max(base),
            jitter: Box::new(jitter),
            failures: 0,
            next_at: None,
        }
    }

    /// A policy with this one's delays, no failures yet, and [`StdJitter`]: the backoff
    /// of a second service (S3 beside SQS) configured like the first.
    pub fn sibling(&self) -> Self {
        Self::new(self.base, self.max, StdJitter::default())
    }

    /// [`DEFAULT_BASE_DELAY`], [`DEFAULT_MAX_DELAY`] and [`StdJitter`].
    pub fn with_defaults() -> Self {
        Self::new(DEFAULT_BASE_DELAY, DEFAULT_MAX_DELAY, StdJitter::default())
    }

    /// When the next attempt may be made; `None` means now.
    pub fn next_attempt_at(&self) -> Option<Instant> {
        self.next_at
    }

    /// True if an attempt may be made at `now`.
    pub fn ready(&self, now: Instant) -> bool {
        self.next_at.is_none_or(|t| now >= t)
    }

    /// Consecutive retryable failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The queue accepted a message: back to full speed.
    pub fn on_success(&mut self) {
        self.failures = 0;
        self.next_at = None;
    }

    /// An attempt at `now` failed with `kind`.
    pub fn on_failure(&mut self, now: Instant, kind: FailureKind) -> Verdict {
        if !kind.is_retryable() {
            return Verdict::SetAside;
        }
        self.failures = self.failures.saturating_add(1);
        let exp = self.failures.saturating_sub(1).min(30);
        let d = self.base.saturating_mul(1 << exp).min(self.max);
        let j = self.jitter.unit().clamp(0.0, 1.0);
        let at = now + d / 2 + (d / 2).mul_f64(j);
        self.next_at = Some(at);
        Verdict::RetryAt(at)
    }
}

/// How long the server may keep draining before it must call `ProcessEnding` anyway.
///
/// With GameLift's `TerminationTime` (wall clock): the time left until it, less
/// [`DRAIN_SAFETY_MARGIN`], at most [`MAX_DRAIN_BUDGET`], zero if already past. Without
/// one: [`DEFAULT_DRAIN_BUDGET`]. Whatever is left in the outbox is sent on the next start
/// on this instance's slot (or stays on disk for a human if the instance goes away).
pub fn drain_budget(termination: Option<SystemTime>, now: SystemTime) -> Duration {
    match termination {
        None => DEFAULT_DRAIN_BUDGET,
        Some(t) => t
            .duration_since(now)
            .unwrap_or_default()
            .saturating_sub(DRAIN_SAFETY_MARGIN)
            .min(MAX_DRAIN_BUDGET),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_numbers() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let in_secs = |s| Some(now + Duration::from_secs(s));
        assert_eq!(drain_budget(in_secs(120), now), Duration::from_secs(110));
        assert_eq!(drain_budget(in_secs(5), now), Duration::ZERO);
        assert_eq!(
            drain_budget(Some(now - Duration::from_secs(1)), now),
            Duration::ZERO
        );
        assert_eq!(drain_budget(in_secs(3600), now), MAX_DRAIN_BUDGET);
        assert_eq!(drain_budget(None, now), DEFAULT_DRAIN_BUDGET);
    }

    #[test]
    fn std_jitter_stays_in_range() {
        let mut j = StdJitter::default();
        assert!((0..1000).map(|_| j.unit()).all(|u| (0.0..1.0).contains(&u)));
    }
}
