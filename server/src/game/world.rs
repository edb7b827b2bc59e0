//! The match's entities: players (with their timers and input) and items.

use protocol::game::{ItemState, LeaveReason, PlayerState, player_flags};

use super::inputs::InputBuffer;
use super::rng::{Rng, mix};

/// Distance kept between spawn points and the map's edge, in millimetres.
pub(crate) const SPAWN_MARGIN_MM: i32 = 500;

/// Whether a player is in the match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    /// Connected and playing.
    Connected,
    /// Connection lost; the slot is held until tick `until` (exclusive).
    Dropped {
        /// First tick at which the player times out.
        until: u32,
    },
    /// Left, timed out or kicked; the slot is never reused in this match.
    Gone(LeaveReason),
}

/// One player slot, simulation state included.
#[derive(Debug, Clone)]
pub(crate) struct Player {
    pub(crate) id: u8,
    pub(crate) name: String,
    pub(crate) team: Option<u8>,
    pub(crate) x: i32,
    pub(crate) y: i32,
    /// Displacement over the last tick (what snapshots report as velocity).
    pub(crate) vx: i16,
    pub(crate) vy: i16,
    pub(crate) score: u32,
    pub(crate) presence: Presence,
    pub(crate) input: InputBuffer,
    /// Stunned while `tick < stun_until`.
    pub(crate) stun_until: u32,
    /// May tag again from this tick.
    pub(crate) tag_ready_at: u32,
    /// Dashing while `tick < dash_until`.
    pub(crate) dash_until: u32,
    /// May dash again from this tick.
    pub(crate) dash_ready_at: u32,
}

impl Player {
    pub(crate) fn new(id: u8, name: String, team: Option<u8>, spawn: (i32, i32)) -> Self {
        Self {
            id,
            name,
            team,
            x: spawn.0,
            y: spawn.1,
            vx: 0,
            vy: 0,
            score: 0,
            presence: Presence::Connected,
            input: InputBuffer::new(),
            stun_until: 0,
            tag_ready_at: 0,
            dash_until: 0,
            dash_ready_at: 0,
        }
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.presence == Presence::Connected
    }

    /// Connected or within the reconnect grace: still part of the world.
    pub(crate) fn is_present(&self) -> bool {
        !matches!(self.presence, Presence::Gone(_))
    }

    pub(crate) fn is_stunned(&self, tick: u32) -> bool {
        tick < self.stun_until
    }

    pub(crate) fn is_dashing(&self, tick: u32) -> bool {
        tick < self.dash_until
    }

    /// The player as snapshots show it at `tick`.
    pub(crate) fn state(&self, tick: u32) -> PlayerState {
        let mut flags = 0;
        if self.is_connected() {
            flags |= player_flags::CONNECTED;
        }
        if self.is_stunned(tick) {
            flags |= player_flags::STUNNED;
        }
        if self.is_dashing(tick) {
            flags |= player_flags::DASHING;
        }
        PlayerState {
            id: self.id,
            x: self.x,
            y: self.y,
            vx: self.vx,
            vy: self.vy,
            score: self.score,
            flags,
        }
    }
}

/// The map's extent in millimetres, clamped into `i32` (the wire's position type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub(crate) width: i32,
    pub(crate) height: i32,
}

impl Bounds {
    pub(crate) fn new(width: u32, height: u32) -> Self {
        Self {
            width: i32::try_from(width).unwrap_or(i32::MAX),
            height: i32::try_from(height).unwrap_or(i32::MAX),
        }
    }

    pub(crate) fn clamp(self, x: i64, y: i64) -> (i32, i32) {
        // Clamped into 0..=width, which fits i32.
        (
            x.clamp(0, i64::from(self.width)) as i32,
            y.clamp(0, i64::from(self.height)) as i32,
        )
    }

    /// A point at least [`SPAWN_MARGIN_MM`] from the edges (or the centre of a tiny map),
    /// from 64 random bits.
    pub(crate) fn point_from(self, bits_x: u64, bits_y: u64) -> (i32, i32) {
        (
            Self::coord(self.width, bits_x),
            Self::coord(self.height, bits_y),
        )
    }

    fn coord(extent: i32, bits: u64) -> i32 {
        let span = extent - 2 * SPAWN_MARGIN_MM;
        if span <= 0 {
            return extent / 2;
        }
        let mut rng = Rng::new(bits);
        // below(span) < span ≤ i32::MAX.
        SPAWN_MARGIN_MM + rng.below(span as u64) as i32
    }
}

/// Where player `slot` spawns: a hash of the seed and the slot, so it depends on neither
/// join order nor anything else that happened in the match.
pub(crate) fn spawn_point(bounds: Bounds, seed: u64, slot: u8) -> (i32, i32) {
    let h = mix(seed ^ 0x5350_4157_4E00_0000 ^ u64::from(slot));
    bounds.point_from(h, mix(h))
}

/// The items on the map and the deterministic stream that places new ones.
#[derive(Debug, Clone)]
pub(crate) struct Items {
    /// Alive items, ascending by id.
    pub(crate) alive: Vec<ItemState>,
    /// Ticks at which a collected item's replacement appears, in order.
    pub(crate) respawns: std::collections::VecDeque<u32>,
    next_id: u16,
    rng: Rng,
}

/// Highest item value; values are drawn uniformly from `1..=MAX_ITEM_VALUE`.
pub(crate) const MAX_ITEM_VALUE: u16 = 3;

impl Items {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            alive: Vec::new(),
            respawns: std::collections::VecDeque::new(),
            next_id: 0,
            rng: Rng::new(seed ^ 0x4954_454D_0000_0000),
        }
    }

    /// Places one new item. Ids increase (wrapping after 65,535 items, by which time the
    /// old ids are long gone from every client's baseline).
    pub(crate) fn spawn(&mut self, bounds: Bounds) {
        let (bx, by) = (self.rng.next_u64(), self.rng.next_u64());
        let (x, y) = bounds.point_from(bx, by);
        // below(3) < 3.
        let value = 1 + self.rng.below(u64::from(MAX_ITEM_VALUE)) as u16;
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let item = ItemState { id, x, y, value };
        match self.alive.binary_search_by_key(&id, |i| i.id) {
            Ok(pos) => self.alive[pos] = item,
            Err(pos) => self.alive.insert(pos, item),
        }
    }
}
