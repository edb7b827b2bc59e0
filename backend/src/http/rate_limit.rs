//! A per-key token bucket: the per-player rate limit of the API, sans-IO.
//!
//! **What it is:** [`RateLimiter::check`] takes a key (the player id) and `now` in
//! milliseconds and either takes one token from the key's bucket or says how long until
//! one is there (`429` with `Retry-After`). Buckets refill continuously at
//! `per_second` up to `burst`; a bucket that has refilled completely is the same as no
//! bucket, so [`RateLimiter::sweep`] drops those, and memory stays proportional to the
//! players active within the last `burst / per_second` seconds.
//!
//! **What it is not:** no clock, no locking (the caller holds it behind a mutex), and
//! not shared between backend instances: with N instances behind a load balancer a
//! player gets up to N times the rate.

use crate::matchmaking::KeyMap;

/// The limit: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Bucket size: requests a player may make at once after a quiet period.
    pub burst: u32,
    /// Sustained rate, requests per second (whole: the bucket counts in thousandths of
    /// a token and refills `per_second` of them per millisecond, so all arithmetic is
    /// exact).
    pub per_second: u32,
}

/// Thousandths of a token in one token.
const MILLI: u64 = 1000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Thousandths of a token.
    milli_tokens: u64,
    at_ms: u64,
}

/// Buckets by key.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    /// By player id (a verified token's subject).
    buckets: KeyMap<String, Bucket>,
    /// `buckets.len()` after the last sweep; the next sweep runs when it has doubled.
    swept_len: usize,
}

/// Buckets kept before the first automatic sweep.
const SWEEP_FLOOR: usize = 1024;

impl RateLimiter {
    /// A limiter; `burst` is at least 1 and `per_second` positive (else every request
    /// after the first burst is refused forever, which is never what is meant).
    pub fn new(limit: RateLimit) -> RateLimiter {
        assert!(limit.burst >= 1 && limit.per_second >= 1, "bad rate limit");
        RateLimiter {
            limit,
            buckets: KeyMap::default(),
            swept_len: 0,
        }
    }

    /// Takes a token for `key` at `now_ms`: `Ok`, or `Err(ms)` until one is available.
    /// A refused request takes nothing.
    pub fn check(&mut self, key: &str, now_ms: u64) -> Result<(), u64> {
        if self.buckets.len() >= SWEEP_FLOOR.max(2 * self.swept_len) {
            self.sweep(now_ms);
        }
        let full = u64::from(self.limit.burst) * MILLI;
        let rate = u64::from(self.limit.per_second);
        let bucket = match self.buckets.get_mut(key) {
            Some(b) => b,
            None => self.buckets.entry(key.to_owned()).or_insert(Bucket {
                milli_tokens: full,
                at_ms: now_ms,
            }),
        };
        let elapsed = now_ms.saturating_sub(bucket.at_ms);
        bucket.milli_tokens = bucket
            .milli_tokens
            .saturating_add(elapsed.saturating_mul(rate))
            .min(full);
        bucket.at_ms = bucket.at_ms.max(now_ms);
        if bucket.milli_tokens >= MILLI {
            bucket.milli_tokens -= MILLI;
            Ok(())
        } else {
            Err((MILLI - bucket.milli_tokens).div_ceil(rate))
        }
    }

    /// Drops the buckets that are full again at `now_ms` (indistinguishable from none).
    pub fn sweep(&mut self, now_ms: u64) {
        let full = u64::from(self.limit.burst) * MILLI;
        let rate = u64::from(self.limit.per_second);
        self.buckets.retain(|_, b| {
            let elapsed = now_ms.saturating_sub(b.at_ms);
            b.milli_tokens.saturating_add(elapsed.saturating_mul(rate)) < full
        });
        self.swept_len = self.buckets.len();
    }

    /// Keys with a bucket.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether no key has a bucket.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(burst: u32, per_second: u32) -> RateLimiter {
        RateLimiter::new(RateLimit { burst, per_second })
    }

    /// A burst passes, the next request waits exactly one refill interval.
    #[test]
    fn burst_then_refill() {
        let mut l = limiter(3, 2);
        for _ in 0..3 {
            assert_eq!(l.check("a", 1_000), Ok(()));
        }
        assert_eq!(l.check("a", 1_000), Err(500));
        assert_eq!(l.check("a", 1_250), Err(250));
        assert_eq!(l.check("a", 1_500), Ok(()));
        assert_eq!(l.check("a", 1_500), Err(500));
    }

    /// Keys are independent.
    #[test]
    fn keys_are_independent() {
        let mut l = limiter(1, 1);
        assert_eq!(l.check("a", 0), Ok(()));
        assert!(l.check("a", 0).is_err());
        assert_eq!(l.check("b", 0), Ok(()));
    }

    /// Refill stops at the burst: a long quiet period does not bank more.
    #[test]
    fn refill_is_capped() {
        let mut l = limiter(2, 10);
        assert_eq!(l.check("a", 0), Ok(()));
        for _ in 0..2 {
            assert_eq!(l.check("a", 1_000_000), Ok(()));
        }
        assert!(l.check("a", 1_000_000).is_err());
    }

    /// A clock that goes backwards does not add tokens.
    #[test]
    fn time_going_backwards_adds_nothing() {
        let mut l = limiter(1, 1);
        assert_eq!(l.check("a", 10_000), Ok(()));
        assert!(l.check("a", 5_000).is_err());
        assert!(l.check("a", 10_500).is_err());
        assert_eq!(l.check("a", 11_000), Ok(()));
    }

    /// Full buckets are swept; busy ones stay; memory stays bounded under many keys.
    #[test]
    fn sweep_drops_full_buckets() {
        let mut l = limiter(2, 1);
        l.check("busy", 0).unwrap();
        l.check("idle", 0).unwrap();
        l.check("busy", 1_500).unwrap();
        l.sweep(1_500);
        assert_eq!(l.len(), 1);
        for i in 0..10_000u64 {
            l.check(&format!("p{i}"), i * 10_000).unwrap();
        }
        assert!(l.len() <= 2 * SWEEP_FLOOR, "{}", l.len());
    }
}
