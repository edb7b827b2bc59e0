//! Interpolation between two world views for rendering: a pure function.
//!
//! **What it is:** linear blending of player positions between an older and a newer
//! [`WorldView`]. **What it is not:** prediction or reconciliation of the local player,
//! and not extrapolation past the newer view (`alpha` is clamped to `0..=1`).

use protocol::game::WorldView;

/// A player as drawn at one instant between two snapshots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderPlayer {
    /// Player id.
    pub id: u8,
    /// Interpolated position, millimetres.
    pub x: f32,
    /// Interpolated position, millimetres.
    pub y: f32,
    /// Score and flags are not blended: those of the newer view.
    pub score: u32,
    /// Flags of the newer view.
    pub flags: u8,
}

/// What to draw at one instant between two world views.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderWorld {
    /// The fractional tick drawn (`from.tick + alpha * (to.tick - from.tick)`).
    pub tick: f64,
    /// Players of the newer view, ascending by id; a player new in `to` is drawn where
    /// `to` has it.
    pub players: Vec<RenderPlayer>,
    /// Items as in the newer view (items do not move): `(id, x, y)`.
    pub items: Vec<(u16, i32, i32)>,
}

/// The world drawn a fraction `alpha` (clamped to `0..=1`) of the way from `from` to `to`.
/// Players present only in `from` are left out (they are gone in the newer view).
pub fn interpolate(from: &WorldView, to: &WorldView, alpha: f32) -> RenderWorld {
    let a = if alpha.is_nan() {
        1.0
    } else {
        alpha.clamp(0.0, 1.0)
    };
    let lerp = |p: i32, q: i32| p as f32 + (q as f32 - p as f32) * a;
    let players = to
        .players
        .iter()
        .map(|p| {
            let (x, y) = match from.player(p.id) {
                Some(old) => (lerp(old.x, p.x), lerp(old.y, p.y)),
                None => (p.x as f32, p.y as f32),
            };
            RenderPlayer {
                id: p.id,
                x,
                y,
                score: p.score,
                flags: p.flags,
            }
        })
        .collect();
    let span = f64::from(to.tick) - f64::from(from.tick);
    RenderWorld {
        tick: f64::from(from.tick) + span * f64::from(a),
        players,
        items: to.items.iter().map(|i| (i.id, i.x, i.y)).collect(),
    }
}
