//! The launcher's core without I/O or a clock: which slot to launch, when, and which
//! process to signal, driven with `now` in the style of quinn-proto.
//!
//! Inputs are `handle_*(…, now)`, `terminate` and `shutdown`; outputs are polled with
//! [`Supervisor::poll_action`] and [`Supervisor::poll_timeout`]. The tokio shell
//! (`process.rs`) spawns and signals real processes and feeds their fate back in.
//!
//! A *slot* is one of an entry's `ConcurrentExecutions`: it holds at most one process at a
//! time and is refilled when its process exits, after the [`BackoffPolicy`] delay.
//! Termination of a process escalates SIGTERM, then SIGKILL after `sigterm_timeout`.
//! Shutdown stops refilling slots, waits for processes until the grace deadline, then
//! terminates the rest.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::policy::{BackoffPolicy, SlotBackoff};

/// Index of a slot, in entry order.
pub(crate) type SlotId = usize;

/// The signals the launcher sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// SIGTERM: asks the process to exit.
    Term,
    /// SIGKILL: ends it.
    Kill,
}

/// What the shell must do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Launch a process for this slot, then call `handle_launched` or `handle_launch_failed`.
    Launch {
        /// The slot to fill.
        slot: SlotId,
        /// Index of the slot's runtime-configuration entry.
        entry: usize,
    },
    /// Send a signal to a running process.
    Signal(Uuid, Signal),
}

#[derive(Debug)]
enum SlotState {
    /// Empty; launch at `until` (unless shutting down).
    Waiting { until: Instant },
    /// A `Launch` action was handed out; waiting for the shell's answer.
    Starting,
    /// Holds a process (the one in `running` whose `slot` is this).
    Running,
    /// Empty for good: shutting down.
    Stopped,
}

#[derive(Debug)]
struct Slot {
    entry: usize,
    backoff: SlotBackoff,
    state: SlotState,
}

#[derive(Debug)]
struct Running {
    slot: SlotId,
    started_at: Instant,
    termination: Option<Termination>,
}

/// Progress of one process's TERM → KILL escalation.
#[derive(Debug, Clone, Copy)]
struct Termination {
    term_sent: bool,
    kill_at: Instant,
    kill_sent: bool,
}

/// What became of a process that exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExitOutcome {
    /// How long it ran.
    pub(crate) uptime: Duration,
    /// When its slot will be refilled; `None` when shutting down.
    pub(crate) relaunch_in: Option<Duration>,
}

/// The sans-IO launcher core; see the module documentation.
#[derive(Debug)]
pub(crate) struct Supervisor {
    policy: BackoffPolicy,
    sigterm_timeout: Duration,
    slots: Vec<Slot>,
    running: BTreeMap<Uuid, Running>,
    /// Set once shutdown starts: when processes still running get terminated.
    shutdown_deadline: Option<Instant>,
}

impl Supervisor {
    /// A core with `counts[i]` slots for entry `i`, all due for launch at `now`.
    pub(crate) fn new(
        counts: &[u32],
        policy: BackoffPolicy,
        sigterm_timeout: Duration,
        now: Instant,
    ) -> Self {
        let slots = counts
            .iter()
            .enumerate()
            .flat_map(|(entry, &count)| (0..count).map(move |_| entry))
            .map(|entry| Slot {
                entry,
                backoff: SlotBackoff::default(),
                state: SlotState::Waiting { until: now },
            })
            .collect();
        Supervisor {
            policy,
            sigterm_timeout,
            slots,
            running: BTreeMap::new(),
            shutdown_deadline: None,
        }
    }

    /// The next thing to do at `now`, if any. Call until it returns `None`.
    pub(crate) fn poll_action(&mut self, now: Instant) -> Option<Action> {
        if self
            .shutdown_deadline
            .is_some_and(|deadline| now >= deadline)
        {
            let (sigterm_timeout, term_now) = (self.sigterm_timeout, now);
            for process in self.running.values_mut() {
                process.termination.get_or_insert_with(|| Termination {
                    term_sent: false,
                    kill_at: term_now + sigterm_timeout,
                    kill_sent: false,
                });
            }
        }
        for (&id, process) in &mut self.running {
            let Some(termination) = &mut process.termination else {
                continue;
            };
            if !termination.term_sent {
                termination.term_sent = true;
                return Some(Action::Signal(id, Signal::Term));
            }
            if !termination.kill_sent && now >= termination.kill_at {
                termination.kill_sent = true;
                return Some(Action::Signal(id, Signal::Kill));
            }
        }
        if self.shutdown_deadline.is_some() {
            return None;
        }
        for (slot, state) in self.slots.iter_mut().enumerate() {
            if let SlotState::Waiting { until } = state.state
                && now >= until
            {
                state.state = SlotState::Starting;
                return Some(Action::Launch {
                    slot,
                    entry: state.entry,
                });
            }
        }
        None
    }

    /// The earliest time `poll_action` may have something new without other input.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let kills = self
            .running
            .values()
            .filter_map(|p| p.termination.filter(|t| !t.kill_sent).map(|t| t.kill_at));
        let Some(deadline) = self.shutdown_deadline else {
            let launches = self.slots.iter().filter_map(|slot| match slot.state {
                SlotState::Waiting { until } => Some(until),
                _ => None,
            });
            return kills.chain(launches).min();
        };
        let unterminated = self.running.values().any(|p| p.termination.is_none());
        kills.chain(unterminated.then_some(deadline)).min()
    }

    /// The shell launched `process` for `slot` (after `Action::Launch`).
    pub(crate) fn handle_launched(&mut self, slot: SlotId, process: Uuid, now: Instant) {
        self.slots[slot].state = SlotState::Running;
        self.running.insert(
            process,
            Running {
                slot,
                started_at: now,
                termination: None,
            },
        );
    }

    /// The shell could not launch a process for `slot`: counts as an immediate exit.
    pub(crate) fn handle_launch_failed(&mut self, slot: SlotId, now: Instant) -> Option<Duration> {
        self.refill(slot, Duration::ZERO, now)
    }

    /// A process exited. `None` if it is not one of ours (or was already reported).
    pub(crate) fn handle_exit(&mut self, process: Uuid, now: Instant) -> Option<ExitOutcome> {
        let running = self.running.remove(&process)?;
        let uptime = now.saturating_duration_since(running.started_at);
        let relaunch_in = self.refill(running.slot, uptime, now);
        Some(ExitOutcome {
            uptime,
            relaunch_in,
        })
    }

    fn refill(&mut self, slot: SlotId, uptime: Duration, now: Instant) -> Option<Duration> {
        let slot = &mut self.slots[slot];
        if self.shutdown_deadline.is_some() {
            slot.state = SlotState::Stopped;
            return None;
        }
        let delay = slot.backoff.on_exit(&self.policy, uptime);
        slot.state = SlotState::Waiting { until: now + delay };
        Some(delay)
    }

    /// Starts terminating one process now: SIGTERM, then SIGKILL after `sigterm_timeout`.
    /// Its slot is refilled when it exits. `false` if no such process is running.
    pub(crate) fn terminate(&mut self, process: Uuid, now: Instant) -> bool {
        let Some(running) = self.running.get_mut(&process) else {
            return false;
        };
        running.termination.get_or_insert(Termination {
            term_sent: false,
            kill_at: now + self.sigterm_timeout,
            kill_sent: false,
        });
        true
    }

    /// Stops refilling slots; processes still running at `now + grace` get terminated. A
    /// second call can only bring the deadline forward (a second signal skips the grace).
    pub(crate) fn shutdown(&mut self, now: Instant, grace: Duration) {
        let deadline = now + grace;
        self.shutdown_deadline = Some(
            self.shutdown_deadline
                .map_or(deadline, |old| old.min(deadline)),
        );
        for slot in &mut self.slots {
            if let SlotState::Waiting { .. } = slot.state {
                slot.state = SlotState::Stopped;
            }
        }
    }

    /// Shutdown has started and every process has exited.
    pub(crate) fn is_finished(&self) -> bool {
        self.shutdown_deadline.is_some()
            && self.running.is_empty()
            && !self
                .slots
                .iter()
                .any(|s| matches!(s.state, SlotState::Starting))
    }

    /// Whether `process` is being terminated.
    pub(crate) fn is_terminating(&self, process: Uuid) -> bool {
        self.running
            .get(&process)
            .is_some_and(|p| p.termination.is_some())
    }
}

#[cfg(test)]
#[path = "supervisor_tests.rs"]
mod tests;
