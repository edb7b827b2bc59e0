//! The world as a client sees it, and applying snapshots to it.
//!
//! [`apply_snapshot`] is pure (baseline + snapshot → world): the session server uses it
//! to know what each client holds, and the client library uses the very same function.
//! It does not decide what goes into a snapshot (the server's snapshot history does).

use super::{ItemState, PhaseState, PlayerState, Snapshot};

/// Everything a snapshot describes, at one tick. Players and items are ascending by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldView {
    /// Tick of this state.
    pub tick: u32,
    /// Phase and when it ends.
    pub phase: PhaseState,
    /// Players, ascending by id.
    pub players: Vec<PlayerState>,
    /// Items, ascending by id.
    pub items: Vec<ItemState>,
}

impl WorldView {
    /// A player's state.
    pub fn player(&self, id: u8) -> Option<&PlayerState> {
        self.players
            .binary_search_by_key(&id, |p| p.id)
            .ok()
            .map(|i| &self.players[i])
    }

    /// This world as one full snapshot, whatever its size (see
    /// the session server's snapshot history for one that fits a datagram).
    pub fn full_snapshot(&self, last_input_seq: u32) -> Snapshot {
        Snapshot {
            tick: self.tick,
            baseline: None,
            last_input_seq,
            phase: self.phase,
            players: self.players.clone(),
            player_deltas: Vec::new(),
            removed_players: Vec::new(),
            items: self.items.clone(),
            removed_items: Vec::new(),
        }
    }
}

/// Why a snapshot could not be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// A delta arrived and no baseline was given.
    #[error("delta against tick {0} but no baseline given")]
    MissingBaseline(u32),
    /// The baseline given is not the tick the delta was built against.
    #[error("delta against tick {wanted} applied to baseline of tick {given}")]
    WrongBaseline {
        /// The delta's baseline tick.
        wanted: u32,
        /// The tick of the baseline given.
        given: u32,
    },
    /// A player delta names a player the baseline does not hold (or the snapshot is full,
    /// where deltas have nothing to apply to).
    #[error("delta for player {0}, which the baseline does not hold")]
    NotInBaseline(u8),
}

/// The world after `snapshot`: a full snapshot replaces everything; a delta starts from
/// `baseline` (which must be the snapshot of its `baseline` tick), drops the removed ids,
/// applies each player delta to that player's state (ticks apart: snapshot tick minus
/// baseline tick, wrapping) and puts in every whole entity. The result is ascending by id.
pub fn apply_snapshot(
    baseline: Option<&WorldView>,
    snapshot: &Snapshot,
) -> Result<WorldView, ApplyError> {
    // Sorted vectors with binary search, not maps: a client applies one snapshot per
    // tick, and this is most of its work (at most 64 players and 128 items).
    let (mut players, mut items) = (Vec::new(), Vec::new());
    if let Some(wanted) = snapshot.baseline {
        let base = baseline.ok_or(ApplyError::MissingBaseline(wanted))?;
        if base.tick != wanted {
            return Err(ApplyError::WrongBaseline {
                wanted,
                given: base.tick,
            });
        }
        players.clone_from(&base.players);
        items.clone_from(&base.items);
        ascending_unique(&mut players, |p| p.id);
        ascending_unique(&mut items, |i| i.id);
        for id in &snapshot.removed_players {
            remove(&mut players, *id, |p| p.id);
        }
        for id in &snapshot.removed_items {
            remove(&mut items, *id, |i| i.id);
        }
        let ticks = snapshot.tick.wrapping_sub(wanted);
        for d in &snapshot.player_deltas {
            let at = players
                .binary_search_by_key(&d.id, |p| p.id)
                .map_err(|_| ApplyError::NotInBaseline(d.id))?;
            players[at] = d.apply(&players[at], ticks);
        }
    } else if let Some(d) = snapshot.player_deltas.first() {
        return Err(ApplyError::NotInBaseline(d.id));
    }
    for p in &snapshot.players {
        upsert(&mut players, *p, |p| p.id);
    }
    for i in &snapshot.items {
        upsert(&mut items, *i, |i| i.id);
    }
    Ok(WorldView {
        tick: snapshot.tick,
        phase: snapshot.phase,
        players,
        items,
    })
}

/// Makes `v` ascending by id with one entry per id, the last one given winning (what
/// inserting them one by one into a map leaves). A no-op on a well-formed world.
fn ascending_unique<T, K: Ord>(v: &mut Vec<T>, id: impl Fn(&T) -> K) {
    if v.windows(2).all(|w| id(&w[0]) < id(&w[1])) {
        return;
    }
    // Reversed, a stable sort puts the last given of each id first; dedup keeps it.
    v.reverse();
    v.sort_by_key(&id);
    v.dedup_by(|a, b| id(a) == id(b));
}

/// Inserts `x` into `v` (ascending, unique ids), replacing the entry with its id.
fn upsert<T, K: Ord>(v: &mut Vec<T>, x: T, id: impl Fn(&T) -> K) {
    match v.binary_search_by(|y| id(y).cmp(&id(&x))) {
        Ok(at) => v[at] = x,
        Err(at) => v.insert(at, x),
    }
}

/// Removes the entry with id `key` from `v` (ascending, unique ids), if any.
fn remove<T, K: Ord>(v: &mut Vec<T>, key: K, id: impl Fn(&T) -> K) {
    if let Ok(at) = v.binary_search_by(|y| id(y).cmp(&key)) {
        v.remove(at);
    }
}
