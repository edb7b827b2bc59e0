//! Per-player input buffering with redundancy.
//!
//! Every `Inputs` datagram repeats up to [`MAX_INPUT_FRAMES`] recent frames, newest first.
//! The buffer keeps only frames newer than the last one the simulation applied, at most
//! [`MAX_BUFFERED_INPUTS`] of them (the newest win), so a lost datagram is recovered from
//! the next one, duplicates and stale frames cost nothing, and a client that sends inputs
//! far faster than the tick can neither make one call do more than
//! O([`MAX_INPUT_FRAMES`] × [`MAX_BUFFERED_INPUTS`]) work nor grow the buffer.

use protocol::game::{InputFrame, Inputs, MAX_INPUT_FRAMES};

/// Most future frames held per player. Four ticks (133 ms at 30 Hz) absorbs jitter and a
/// burst of recovered frames after a loss without adding much latency.
pub const MAX_BUFFERED_INPUTS: usize = 4;

/// What one [`InputBuffer::offer`] did with the frames it was given (for metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InputOutcome {
    /// Frames newly buffered.
    pub accepted: u32,
    /// Frames at or before the last applied sequence number.
    pub stale: u32,
    /// Frames already buffered.
    pub duplicate: u32,
    /// Frames dropped because the buffer was full of newer ones (a client running ahead).
    pub dropped: u32,
    /// Frames past [`MAX_INPUT_FRAMES`] or below sequence number 0, never looked at.
    pub ignored: u32,
}

/// One player's pending inputs and the input in force.
#[derive(Debug, Clone, Default)]
pub struct InputBuffer {
    /// Sequence number of the frame in force; `None` before the first one (or after a
    /// reset on reconnect, so a new connection may restart its numbering).
    last_applied: Option<u32>,
    /// Frames newer than `last_applied`, ascending by sequence number, at most
    /// [`MAX_BUFFERED_INPUTS`].
    pending: Vec<(u32, InputFrame)>,
    /// The input in force: the last applied frame, held while no newer one arrives.
    current: InputFrame,
}

impl InputBuffer {
    /// An empty buffer with a neutral input in force.
    pub fn new() -> Self {
        Self {
            last_applied: None,
            pending: Vec::with_capacity(MAX_BUFFERED_INPUTS),
            current: InputFrame::default(),
        }
    }

    /// Takes the frames of one `Inputs` message that are new, ignoring the rest.
    pub fn offer(&mut self, inputs: &Inputs) -> InputOutcome {
        let mut out = InputOutcome::default();
        let extra = inputs.frames.len().saturating_sub(MAX_INPUT_FRAMES);
        out.ignored = u32::try_from(extra).unwrap_or(u32::MAX);
        for (i, frame) in inputs.frames.iter().take(MAX_INPUT_FRAMES).enumerate() {
            // i < MAX_INPUT_FRAMES, so the cast is lossless.
            let Some(seq) = inputs.newest_seq.checked_sub(i as u32) else {
                out.ignored += 1;
                continue;
            };
            if self.last_applied.is_some_and(|last| seq <= last) {
                out.stale += 1;
                continue;
            }
            match self.pending.binary_search_by_key(&seq, |&(s, _)| s) {
                Ok(_) => out.duplicate += 1,
                Err(pos) if self.pending.len() < MAX_BUFFERED_INPUTS => {
                    self.pending.insert(pos, (seq, *frame));
                    out.accepted += 1;
                }
                // Full, and older than everything buffered: the newer frames win.
                Err(0) => out.dropped += 1,
                Err(pos) => {
                    self.pending.remove(0);
                    self.pending.insert(pos - 1, (seq, *frame));
                    out.accepted += 1;
                    out.dropped += 1;
                }
            }
        }
        out
    }

    /// Advances one tick: the oldest buffered frame comes into force, or the current one
    /// is held when none arrived. Returns the input in force.
    pub fn next_tick(&mut self) -> InputFrame {
        if !self.pending.is_empty() {
            let (seq, frame) = self.pending.remove(0);
            self.last_applied = Some(seq);
            self.current = normalise(frame);
        }
        self.current
    }

    /// The input in force.
    pub fn current(&self) -> InputFrame {
        self.current
    }

    /// Sequence number of the input in force, 0 before any (as snapshots carry it).
    pub fn last_applied_seq(&self) -> u32 {
        self.last_applied.unwrap_or(0)
    }

    /// How many frames wait to be applied.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Forgets everything (a dropped player's neutral input; a reconnect may restart its
    /// sequence numbers).
    pub fn reset(&mut self) {
        self.last_applied = None;
        self.pending.clear();
        self.current = InputFrame::default();
    }
}

/// −128 is treated as −127, so the stick is symmetric.
fn normalise(mut frame: InputFrame) -> InputFrame {
    frame.move_x = frame.move_x.max(-127);
    frame.move_y = frame.move_y.max(-127);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(x: i8) -> InputFrame {
        InputFrame {
            move_x: x,
            move_y: 0,
            buttons: 0,
        }
    }

    /// `Inputs` for `newest` with `count` frames whose move_x is their sequence number.
    fn msg(newest: u32, count: u32) -> Inputs {
        Inputs {
            newest_seq: newest,
            frames: (0..count).map(|i| frame((newest - i) as i8)).collect(),
            ack: None,
        }
    }

    #[test]
    fn lost_datagram_is_recovered_from_the_next() {
        let mut buf = InputBuffer::new();
        buf.offer(&msg(1, 1));
        assert_eq!(buf.next_tick().move_x, 1);
        // Datagram with seq 2 is lost; seq 3 carries 3, 2, 1.
        let out = buf.offer(&msg(3, 3));
        assert_eq!((out.accepted, out.stale), (2, 1));
        assert_eq!(buf.next_tick().move_x, 2);
        assert_eq!(buf.next_tick().move_x, 3);
        assert_eq!(buf.last_applied_seq(), 3);
    }

    #[test]
    fn stale_and_duplicate_frames_are_ignored() {
        let mut buf = InputBuffer::new();
        buf.offer(&msg(5, 2));
        let out = buf.offer(&msg(5, 2));
        assert_eq!(out.duplicate, 2);
        buf.next_tick();
        buf.next_tick();
        let out = buf.offer(&msg(5, 5));
        assert_eq!((out.stale, out.accepted), (5, 0));
        // Held: no new frame, the last one stays in force.
        assert_eq!(buf.next_tick().move_x, 5);
        assert_eq!(buf.last_applied_seq(), 5);
    }

    #[test]
    fn flood_keeps_the_buffer_bounded_and_newest() {
        let mut buf = InputBuffer::new();
        for newest in (8..10_000).step_by(8) {
            let out = buf.offer(&msg(newest, 8));
            assert!(buf.pending_len() <= MAX_BUFFERED_INPUTS);
            assert_eq!((out.accepted, out.stale), (4, 0));
        }
        // The newest frames survive.
        let applied = buf.next_tick();
        assert_eq!(buf.last_applied_seq(), 9_989);
        assert_eq!(applied.move_x, 9_989u32 as i8);
    }

    #[test]
    fn minus_128_is_minus_127_and_reset_restarts_numbering() {
        let mut buf = InputBuffer::new();
        buf.offer(&Inputs {
            newest_seq: 100,
            frames: vec![InputFrame {
                move_x: -128,
                move_y: -128,
                buttons: 0,
            }],
            ack: None,
        });
        let f = buf.next_tick();
        assert_eq!((f.move_x, f.move_y), (-127, -127));
        buf.reset();
        buf.offer(&msg(1, 1));
        assert_eq!(buf.next_tick().move_x, 1);
    }
}
