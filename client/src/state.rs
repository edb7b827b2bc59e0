//! The client's protocol state, sans I/O: the input redundancy window, the history of
//! world views by tick, which baseline a delta snapshot needs, and which tick to ack.
//!
//! **What it is:** plain data and pure transitions, driven by the connection task and
//! unit-tested without sockets. **What it is not:** it does no I/O, keeps no clock and
//! does not know about QUIC; the caller sends what it returns.

use std::collections::VecDeque;

use protocol::game::{
    InputFrame, Inputs, MAX_INPUT_FRAMES, Snapshot, SnapshotAck, WorldView, apply_snapshot,
};

/// World views kept by default, newest last: enough for the server's deltas against an
/// ack that is a few round trips old (at 30 Hz, 32 ticks is about a second).
pub const DEFAULT_HISTORY: usize = 32;

/// Input frames repeated in each `Inputs` datagram by default (the newest plus three).
pub const DEFAULT_REDUNDANCY: usize = 4;

/// What became of one received snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotOutcome {
    /// Applied: the world is now at `tick`; send `ack`.
    Applied {
        /// The tick now newest.
        tick: u32,
        /// The ack to send (the newest tick).
        ack: SnapshotAck,
    },
    /// Not newer than the newest applied tick (late or duplicated datagram); ignored.
    /// `ack` repeats the newest tick, if any.
    Stale {
        /// The ack to send again, if a snapshot was ever applied.
        ack: Option<SnapshotAck>,
    },
    /// A delta against a tick this client does not hold; ignored. `ack` repeats the
    /// newest tick so the server moves its baseline forward (or falls back to a full one).
    MissingBaseline {
        /// The baseline the delta named.
        baseline: u32,
        /// The ack to send again, if a snapshot was ever applied.
        ack: Option<SnapshotAck>,
    },
}

impl SnapshotOutcome {
    /// The ack to send for this outcome, if any.
    pub fn ack(&self) -> Option<SnapshotAck> {
        match self {
            Self::Applied { ack, .. } => Some(*ack),
            Self::Stale { ack } | Self::MissingBaseline { ack, .. } => *ack,
        }
    }
}

/// Counters over the life of a [`ClientState`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SnapshotCounters {
    /// Snapshots applied.
    pub applied: u64,
    /// Snapshots ignored as late or duplicated.
    pub stale: u64,
    /// Deltas ignored because their baseline was not held.
    pub missing_baseline: u64,
    /// Ticks skipped between consecutive applied snapshots (a snapshot per tick is
    /// expected, so this counts lost or unusable snapshots).
    pub gap_ticks: u64,
}

/// The sans-IO protocol state of one client connection.
#[derive(Debug, Clone)]
pub struct ClientState {
    redundancy: usize,
    history_len: usize,
    /// Newest input first, at most `redundancy` frames.
    recent_inputs: VecDeque<InputFrame>,
    /// Sequence number of `recent_inputs[0]`; 0 before the first input.
    newest_seq: u32,
    /// Applied world views, ascending by tick, at most `history_len`.
    history: VecDeque<WorldView>,
    /// From the newest applied snapshot: the newest of our inputs the server applied.
    last_input_seq: u32,
    counters: SnapshotCounters,
}

impl Default for ClientState {
    fn default() -> Self {
        Self::new(DEFAULT_REDUNDANCY, DEFAULT_HISTORY)
    }
}

impl ClientState {
    /// A fresh state repeating `redundancy` input frames per datagram (clamped to
    /// `1..=MAX_INPUT_FRAMES`) and keeping `history` world views (at least 2, so there is
    /// always a pair to interpolate).
    pub fn new(redundancy: usize, history: usize) -> Self {
        Self {
            redundancy: redundancy.clamp(1, MAX_INPUT_FRAMES),
            history_len: history.max(2),
            recent_inputs: VecDeque::new(),
            newest_seq: 0,
            history: VecDeque::new(),
            last_input_seq: 0,
            counters: SnapshotCounters::default(),
        }
    }

    /// Records the input of the next client tick and returns the message to send: this
    /// input (sequence number one above the previous) and the previous ones within the
    /// redundancy window, newest first, with the ack of the newest snapshot applied.
    pub fn next_inputs(&mut self, frame: InputFrame) -> Inputs {
        self.newest_seq = self.newest_seq.wrapping_add(1);
        self.recent_inputs.push_front(frame);
        self.recent_inputs.truncate(self.redundancy);
        Inputs {
            newest_seq: self.newest_seq,
            frames: self.recent_inputs.iter().copied().collect(),
            ack: self.ack().map(|a| a.tick),
        }
    }

    /// Sequence number of the newest input recorded (0 before any).
    pub fn newest_input_seq(&self) -> u32 {
        self.newest_seq
    }

    /// The newest input sequence number the server reported as applied.
    pub fn last_input_seq(&self) -> u32 {
        self.last_input_seq
    }

    /// Handles one received snapshot: applies it against the baseline it names when that
    /// is held and the snapshot is newer than everything applied, and says what to ack.
    pub fn on_snapshot(&mut self, snapshot: &Snapshot) -> SnapshotOutcome {
        let newest = self.newest_tick();
        if newest.is_some_and(|t| snapshot.tick <= t) {
            self.counters.stale += 1;
            return SnapshotOutcome::Stale { ack: self.ack() };
        }
        let base = match snapshot.baseline {
            None => None,
            Some(b) => match self.view(b) {
                Some(v) => Some(v),
                None => {
                    self.counters.missing_baseline += 1;
                    return SnapshotOutcome::MissingBaseline {
                        baseline: b,
                        ack: self.ack(),
                    };
                }
            },
        };
        let Ok(world) = apply_snapshot(base, snapshot) else {
            // Unreachable: the baseline was looked up by the tick the delta names.
            self.counters.missing_baseline += 1;
            return SnapshotOutcome::MissingBaseline {
                baseline: snapshot.baseline.unwrap_or_default(),
                ack: self.ack(),
            };
        };
        if let Some(t) = newest {
            self.counters.gap_ticks += u64::from(snapshot.tick - t - 1);
        }
        self.counters.applied += 1;
        self.last_input_seq = snapshot.last_input_seq;
        if snapshot.last_input_seq > self.newest_seq {
            // A resumed session: the server already applied inputs up to this number
            // from the previous connection, and would drop lower ones as old.
            self.newest_seq = snapshot.last_input_seq;
            self.recent_inputs.clear();
        }
        self.history.push_back(world);
        while self.history.len() > self.history_len {
            self.history.pop_front();
        }
        SnapshotOutcome::Applied {
            tick: snapshot.tick,
            ack: SnapshotAck {
                tick: snapshot.tick,
            },
        }
    }

    /// The ack for the newest applied tick, if any.
    pub fn ack(&self) -> Option<SnapshotAck> {
        self.newest_tick().map(|tick| SnapshotAck { tick })
    }

    /// The newest applied tick.
    pub fn newest_tick(&self) -> Option<u32> {
        self.history.back().map(|w| w.tick)
    }

    /// The held world view of `tick`.
    pub fn view(&self, tick: u32) -> Option<&WorldView> {
        let i = self.history.binary_search_by_key(&tick, |w| w.tick).ok()?;
        self.history.get(i)
    }

    /// The newest world view.
    pub fn latest(&self) -> Option<&WorldView> {
        self.history.back()
    }

    /// The two newest world views, older first, for interpolation.
    pub fn latest_pair(&self) -> Option<(&WorldView, &WorldView)> {
        let n = self.history.len();
        (n >= 2).then(|| (&self.history[n - 2], &self.history[n - 1]))
    }

    /// Ticks of the held world views, ascending.
    pub fn held_ticks(&self) -> Vec<u32> {
        self.history.iter().map(|w| w.tick).collect()
    }

    /// Snapshot counters so far.
    pub fn counters(&self) -> SnapshotCounters {
        self.counters
    }
}
