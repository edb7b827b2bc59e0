//! Per-field player deltas: a changed player in a delta snapshot, as a change mask and
//! only the fields that differ from a prediction made from the baseline.
//!
//! **What it is.** [`PlayerDelta::between`] describes one player's state relative to its
//! state in the baseline snapshot, `ticks` ticks earlier; [`PlayerDelta::apply`] undoes
//! it. Both are integer-only and wrapping, so `apply(base, between(base, target))` is
//! `target` bit for bit for *every* pair of states, however far apart (proptested in
//! `protocol/tests/game_wire.rs`). Velocities and scores are differences from the
//! baseline; positions are differences from `baseline position + new velocity × ticks`,
//! which is exact for a player that moved at its new velocity (the session server's
//! movement sets the velocity to the displacement of the tick), so a moving player costs
//! nothing for its position. Flags are sent as they are. A field equal to its prediction
//! is left out. On the wire: `id: u8`, `mask: u8`, then the present fields in mask-bit
//! order (`protocol/docs/wire-format.md` §4).
//!
//! **What it is not.** No choice of whether a delta beats a whole [`PlayerState`]: the
//! server picks whichever encodes shorter. Items are never delta-encoded (they do not
//! move; they appear and disappear whole).

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};

use super::PlayerState;

/// Bits of a [`PlayerDelta`]'s change mask on the wire: which fields follow, in this order.
pub mod delta_fields {
    /// `x` residual follows (`i32`, zig-zag varint).
    pub const X: u8 = 1 << 0;
    /// `y` residual follows (`i32`, zig-zag varint).
    pub const Y: u8 = 1 << 1;
    /// `vx` difference follows (`i16`, zig-zag varint).
    pub const VX: u8 = 1 << 2;
    /// `vy` difference follows (`i16`, zig-zag varint).
    pub const VY: u8 = 1 << 3;
    /// `score` difference follows (`u32`, varint).
    pub const SCORE: u8 = 1 << 4;
    /// New `flags` follow (`u8`, one byte).
    pub const FLAGS: u8 = 1 << 5;
    /// Every defined bit; a mask with any other bit set is malformed.
    pub const ALL: u8 = X | Y | VX | VY | SCORE | FLAGS;
}

/// One changed player in a delta snapshot, relative to its state in the baseline.
/// `None` means "as predicted" (see the module docs); all arithmetic wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlayerDelta {
    /// Player id; the baseline must hold this player.
    pub id: u8,
    /// `x − (baseline x + new vx × ticks)`, wrapping.
    pub x: Option<i32>,
    /// `y − (baseline y + new vy × ticks)`, wrapping.
    pub y: Option<i32>,
    /// `vx − baseline vx`, wrapping.
    pub vx: Option<i16>,
    /// `vy − baseline vy`, wrapping.
    pub vy: Option<i16>,
    /// `score − baseline score`, wrapping.
    pub score: Option<u32>,
    /// The new flags.
    pub flags: Option<u8>,
}

/// Where a player at `pos` with velocity `v` is `ticks` ticks later (wrapping).
fn predict(pos: i32, v: i16, ticks: u32) -> i32 {
    // Reinterpreting the tick distance as i32 is part of the wrapping arithmetic: both
    // sides compute the same bits, so any distance stays exact.
    pos.wrapping_add(i32::from(v).wrapping_mul(ticks as i32))
}

fn nonzero<T: Default + PartialEq>(v: T) -> Option<T> {
    (v != T::default()).then_some(v)
}

impl PlayerDelta {
    /// The delta that turns `base` (the player in the baseline) into `target`, `ticks`
    /// ticks later (the snapshot's tick minus its baseline tick). Fields that match the
    /// prediction are `None`. The id is `target`'s.
    pub fn between(base: &PlayerState, target: &PlayerState, ticks: u32) -> Self {
        Self {
            id: target.id,
            x: nonzero(target.x.wrapping_sub(predict(base.x, target.vx, ticks))),
            y: nonzero(target.y.wrapping_sub(predict(base.y, target.vy, ticks))),
            vx: nonzero(target.vx.wrapping_sub(base.vx)),
            vy: nonzero(target.vy.wrapping_sub(base.vy)),
            score: nonzero(target.score.wrapping_sub(base.score)),
            flags: (target.flags != base.flags).then_some(target.flags),
        }
    }

    /// The player's state: `base` (its state in the baseline) with this delta applied,
    /// `ticks` ticks later. The id is the delta's.
    pub fn apply(&self, base: &PlayerState, ticks: u32) -> PlayerState {
        let vx = base.vx.wrapping_add(self.vx.unwrap_or(0));
        let vy = base.vy.wrapping_add(self.vy.unwrap_or(0));
        PlayerState {
            id: self.id,
            x: predict(base.x, vx, ticks).wrapping_add(self.x.unwrap_or(0)),
            y: predict(base.y, vy, ticks).wrapping_add(self.y.unwrap_or(0)),
            vx,
            vy,
            score: base.score.wrapping_add(self.score.unwrap_or(0)),
            flags: self.flags.unwrap_or(base.flags),
        }
    }

    /// The change mask written on the wire (bits of [`delta_fields`]).
    pub fn mask(&self) -> u8 {
        use delta_fields::*;
        let bit = |present: bool, b: u8| if present { b } else { 0 };
        bit(self.x.is_some(), X)
            | bit(self.y.is_some(), Y)
            | bit(self.vx.is_some(), VX)
            | bit(self.vy.is_some(), VY)
            | bit(self.score.is_some(), SCORE)
            | bit(self.flags.is_some(), FLAGS)
    }
}

/// `id`, `mask`, then the present fields: a tuple whose length depends on the mask
/// (bincode writes tuples without a length).
impl Serialize for PlayerDelta {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mask = self.mask();
        let mut t = s.serialize_tuple(2 + mask.count_ones() as usize)?;
        t.serialize_element(&self.id)?;
        t.serialize_element(&mask)?;
        if let Some(v) = &self.x {
            t.serialize_element(v)?;
        }
        if let Some(v) = &self.y {
            t.serialize_element(v)?;
        }
        if let Some(v) = &self.vx {
            t.serialize_element(v)?;
        }
        if let Some(v) = &self.vy {
            t.serialize_element(v)?;
        }
        if let Some(v) = &self.score {
            t.serialize_element(v)?;
        }
        if let Some(v) = &self.flags {
            t.serialize_element(v)?;
        }
        t.end()
    }
}

/// Reads `id` and `mask`, refuses unknown mask bits, then reads exactly the fields the
/// mask announces. Allocates nothing.
impl<'de> Deserialize<'de> for PlayerDelta {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct DeltaVisitor;

        impl<'de> Visitor<'de> for DeltaVisitor {
            type Value = PlayerDelta;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a player delta: id, change mask, changed fields")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PlayerDelta, A::Error> {
                let id: u8 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let mask: u8 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if mask & !delta_fields::ALL != 0 {
                    return Err(de::Error::invalid_value(
                        de::Unexpected::Unsigned(u64::from(mask)),
                        &"a change mask with only bits 0 to 5",
                    ));
                }
                fn field<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(
                    seq: &mut A,
                    mask: u8,
                    bit: u8,
                ) -> Result<Option<T>, A::Error> {
                    if mask & bit == 0 {
                        return Ok(None);
                    }
                    seq.next_element()?
                        .map(Some)
                        .ok_or_else(|| de::Error::custom("player delta ends before its fields"))
                }
                use delta_fields::*;
                Ok(PlayerDelta {
                    id,
                    x: field(&mut seq, mask, X)?,
                    y: field(&mut seq, mask, Y)?,
                    vx: field(&mut seq, mask, VX)?,
                    vy: field(&mut seq, mask, VY)?,
                    score: field(&mut seq, mask, SCORE)?,
                    flags: field(&mut seq, mask, FLAGS)?,
                })
            }
        }

        // At most id, mask and six fields; the visitor reads only those the mask sets.
        d.deserialize_tuple(8, DeltaVisitor)
    }
}
