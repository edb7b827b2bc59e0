//! The arena game: a small, real, deterministic game in a sans-IO core.
//!
//! **What it is.** Players move on a 2D map (millimetres), collect items for points and
//! tag each other (the tagger scores, the target is stunned), free-for-all or in teams,
//! through the phases waiting → countdown → play → ended. [`Match`] is the
//! authoritative simulation: one [`Match::step`] is one tick; joins, leaves, drops,
//! returns and [`Inputs`](protocol::game::Inputs) go in between steps; ordered events
//! come out of [`Match::poll_event`]; [`SnapshotHistory`] turns [`Match::world_view`] into
//! per-client delta snapshots that fit a datagram, and [`apply_snapshot`] is the client's
//! side of that. The same seed and the same inputs at the same ticks give the same
//! states and events, bit for bit (integer maths only, and a PRNG written out here).
//!
//! **What it is not.** No sockets, no clock, no GameLift, no tokio: the session shell
//! calls `step` at the tick rate, moves messages to and from QUIC, and maps players to
//! connections. The wire types are [`protocol::game`]'s; this module defines none.
//!
//! Files: `world` (entities), `rules` (movement, items, tags and their constants),
//! `inputs` (redundant input buffering), `phases` (the phase machine), `sim` ([`Match`]),
//! `snapshot` and `history` (world views, deltas), `standings` (results).

mod history;
mod inputs;
mod phases;
mod rng;
mod rules;
mod sim;
mod snapshot;
mod standings;
mod world;

#[cfg(test)]
mod tests;

pub use history::{DEFAULT_HISTORY_LEN, DiffCache, SnapshotHistory};
pub use inputs::{InputBuffer, InputOutcome, MAX_BUFFERED_INPUTS};
pub use rules::{
    COUNTDOWN_MS, DASH_COOLDOWN_MS, DASH_MS, DASH_MULTIPLIER, ITEM_RESPAWN_MS, ITEMS_PER_SLOT,
    MAX_ITEMS, MIN_ITEMS, PICKUP_RADIUS_MM, RECONNECT_GRACE_MS, Rules, SPEED_MM_PER_S, STUN_MS,
    TAG_COOLDOWN_MS, TAG_POINTS, TAG_REACH_MM, WAIT_TIMEOUT_MS,
};
pub use sim::{
    ConfigError, DEFAULT_DURATION_TICKS, DEFAULT_MAP_SIZE_MM, DEFAULT_MAX_PLAYERS,
    DEFAULT_MIN_PLAYERS, DEFAULT_TICK_RATE_HZ, JoinError, Match, MatchConfig, PlayerError,
};
pub use snapshot::{ApplyError, WorldView, apply_snapshot, encoded_len};
pub use standings::{MatchResults, PlayerResult};
