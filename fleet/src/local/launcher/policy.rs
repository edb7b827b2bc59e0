//! The relaunch policy: how long to wait before replacing a process that exited.
//!
//! GameLift replaces every process that exits, whatever its status. A process that keeps
//! dying right after launch (a missing library, a bad flag) would then be relaunched in a
//! tight loop, flooding the logs directory, so the launcher backs off:
//!
//! - an exit after less than [`BackoffPolicy::stable_uptime`] (10 s) of uptime is an
//!   *early* exit; an exit after longer resets the count, and launch failures (the
//!   executable could not be started at all) count as early exits;
//! - the first [`BackoffPolicy::crash_loop_exits`]` - 1` (2) consecutive early exits are
//!   relaunched at once, so a process that ends its game session quickly, or a one-off
//!   crash, costs nothing;
//! - from the 3rd consecutive early exit on, the relaunch waits
//!   [`BackoffPolicy::initial_delay`] (1 s), doubling each time: 1, 2, 4, 8, 16, then
//!   [`BackoffPolicy::max_delay`] (30 s) for as long as the loop lasts.
//!
//! The count is kept per *slot* (one of an entry's `ConcurrentExecutions`), so one
//! crashing slot does not slow its healthy siblings. We count consecutive short-lived
//! processes rather than "N exits in a sliding window of M seconds" because a window is
//! emptied by the backoff itself: with delays longer than the window the loop would look
//! healthy again and restart at full speed.

use std::time::Duration;

/// When the launcher relaunches a process that exited; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The consecutive early exit at which backoff starts (3: the first two relaunch at
    /// once).
    pub crash_loop_exits: u32,
    /// A process that ran at least this long before exiting was not crash-looping.
    pub stable_uptime: Duration,
    /// The first backoff delay.
    pub initial_delay: Duration,
    /// The longest backoff delay.
    pub max_delay: Duration,
}

impl Default for BackoffPolicy {
    fn default() -> Self {
        BackoffPolicy {
            crash_loop_exits: 3,
            stable_uptime: Duration::from_secs(10),
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl BackoffPolicy {
    /// Relaunch delay after `early_exits` consecutive early exits (counting the last one).
    pub fn delay_after(&self, early_exits: u32) -> Duration {
        let threshold = self.crash_loop_exits.max(1);
        if early_exits < threshold {
            return Duration::ZERO;
        }
        // Doubling past 2^31 overflows long before anything sensible; the cap applies.
        let doublings = (early_exits - threshold).min(31);
        self.initial_delay
            .saturating_mul(1 << doublings)
            .min(self.max_delay)
    }
}

/// The crash-loop state of one slot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SlotBackoff {
    /// Consecutive exits after less than `stable_uptime`.
    early_exits: u32,
}

impl SlotBackoff {
    /// Records an exit after `uptime` and returns how long to wait before relaunching.
    pub(crate) fn on_exit(&mut self, policy: &BackoffPolicy, uptime: Duration) -> Duration {
        if uptime >= policy.stable_uptime {
            self.early_exits = 0;
            return Duration::ZERO;
        }
        self.early_exits = self.early_exits.saturating_add(1);
        policy.delay_after(self.early_exits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn default_sequence_for_a_crash_loop() {
        let policy = BackoffPolicy::default();
        let mut slot = SlotBackoff::default();
        let delays: Vec<u64> = (0..10)
            .map(|_| slot.on_exit(&policy, Duration::ZERO).as_secs())
            .collect();
        assert_eq!(delays, [0, 0, 1, 2, 4, 8, 16, 30, 30, 30]);
    }

    #[test]
    fn a_stable_run_resets_the_count() {
        let policy = BackoffPolicy::default();
        let mut slot = SlotBackoff::default();
        for _ in 0..5 {
            slot.on_exit(&policy, S);
        }
        assert_eq!(slot.on_exit(&policy, 10 * S), Duration::ZERO);
        assert_eq!(slot.on_exit(&policy, S), Duration::ZERO);
        assert_eq!(slot.on_exit(&policy, S), Duration::ZERO);
        assert_eq!(slot.on_exit(&policy, S), S);
    }

    #[test]
    fn long_lived_processes_never_back_off() {
        let policy = BackoffPolicy::default();
        let mut slot = SlotBackoff::default();
        for _ in 0..100 {
            assert_eq!(
                slot.on_exit(&policy, Duration::from_secs(300)),
                Duration::ZERO
            );
        }
    }

    #[test]
    fn huge_counts_saturate_at_the_cap() {
        let policy = BackoffPolicy::default();
        assert_eq!(policy.delay_after(u32::MAX), 30 * S);
        let mut slot = SlotBackoff {
            early_exits: u32::MAX,
        };
        assert_eq!(slot.on_exit(&policy, Duration::ZERO), 30 * S);
    }

    #[test]
    fn threshold_one_backs_off_from_the_first_exit() {
        let policy = BackoffPolicy {
            crash_loop_exits: 1,
            ..BackoffPolicy::default()
        };
        assert_eq!(policy.delay_after(1), S);
        assert_eq!(policy.delay_after(2), 2 * S);
    }
}
