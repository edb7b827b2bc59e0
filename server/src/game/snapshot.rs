//! The world as a client sees it, applying snapshots to it, and exact encoded sizes.
//!
//! [`apply_snapshot`] is pure (baseline + snapshot → world) so the client library can use
//! the very function the server's tests prove correct.

use std::collections::BTreeMap;

use protocol::game::{ItemState, PhaseState, PlayerState, Snapshot};

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
    /// [`SnapshotHistory`](super::SnapshotHistory) for one that fits a datagram).
    pub fn full_snapshot(&self, last_input_seq: u32) -> Snapshot {
        Snapshot {
            tick: self.tick,
            baseline: None,
            last_input_seq,
            phase: self.phase,
            players: self.players.clone(),
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
}

/// The world after `snapshot`: a full snapshot replaces everything; a delta starts from
/// `baseline` (which must be the snapshot of its `baseline` tick), drops the removed ids
/// and puts in every listed entity whole. The result is ascending by id.
pub fn apply_snapshot(
    baseline: Option<&WorldView>,
    snapshot: &Snapshot,
) -> Result<WorldView, ApplyError> {
    let (mut players, mut items) = (BTreeMap::new(), BTreeMap::new());
    if let Some(wanted) = snapshot.baseline {
        let base = baseline.ok_or(ApplyError::MissingBaseline(wanted))?;
        if base.tick != wanted {
            return Err(ApplyError::WrongBaseline {
                wanted,
                given: base.tick,
            });
        }
        players.extend(base.players.iter().map(|p| (p.id, *p)));
        items.extend(base.items.iter().map(|i| (i.id, *i)));
        for id in &snapshot.removed_players {
            players.remove(id);
        }
        for id in &snapshot.removed_items {
            items.remove(id);
        }
    }
    players.extend(snapshot.players.iter().map(|p| (p.id, *p)));
    items.extend(snapshot.items.iter().map(|i| (i.id, *i)));
    Ok(WorldView {
        tick: snapshot.tick,
        phase: snapshot.phase,
        players: players.into_values().collect(),
        items: items.into_values().collect(),
    })
}

/// What changed from `base` to `current`: new or changed players and items, and the ids
/// gone. Both worlds must be ascending by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Diff {
    pub(crate) players: Vec<PlayerState>,
    pub(crate) removed_players: Vec<u8>,
    pub(crate) items: Vec<ItemState>,
    pub(crate) removed_items: Vec<u16>,
}

pub(crate) fn diff(base: &WorldView, current: &WorldView) -> Diff {
    let (players, removed_players) = merge_diff(&base.players, &current.players, |p| p.id);
    let (items, removed_items) = merge_diff(&base.items, &current.items, |i| i.id);
    Diff {
        players,
        removed_players,
        items,
        removed_items,
    }
}

/// One pass over two id-sorted lists: (new or changed in `cur`, ids only in `base`).
fn merge_diff<T: Copy + PartialEq, K: Ord + Copy>(
    base: &[T],
    cur: &[T],
    id: impl Fn(&T) -> K,
) -> (Vec<T>, Vec<K>) {
    let (mut changed, mut removed) = (Vec::new(), Vec::new());
    let (mut b, mut c) = (base.iter().peekable(), cur.iter().peekable());
    loop {
        match (b.peek(), c.peek()) {
            (None, None) => break,
            (Some(x), None) => {
                removed.push(id(x));
                b.next();
            }
            (None, Some(y)) => {
                changed.push(**y);
                c.next();
            }
            (Some(x), Some(y)) => match id(x).cmp(&id(y)) {
                std::cmp::Ordering::Less => {
                    removed.push(id(x));
                    b.next();
                }
                std::cmp::Ordering::Greater => {
                    changed.push(**y);
                    c.next();
                }
                std::cmp::Ordering::Equal => {
                    if x != y {
                        changed.push(**y);
                    }
                    b.next();
                    c.next();
                }
            },
        }
    }
    (changed, removed)
}

// ---------------------------------------------------------------------------------------
// Exact encoded sizes (wire-format.md §2), so packing a datagram needs no trial encodes.
// ---------------------------------------------------------------------------------------

pub(crate) const fn varint_len(v: u64) -> usize {
    if v <= 250 {
        1
    } else if v <= 0xFFFF {
        3
    } else if v <= 0xFFFF_FFFF {
        5
    } else {
        9
    }
}

const fn zigzag_len(v: i64) -> usize {
    varint_len(((v << 1) ^ (v >> 63)) as u64)
}

pub(crate) const fn player_len(p: &PlayerState) -> usize {
    1 + zigzag_len(p.x as i64)
        + zigzag_len(p.y as i64)
        + zigzag_len(p.vx as i64)
        + zigzag_len(p.vy as i64)
        + varint_len(p.score as u64)
        + 1
}

pub(crate) const fn item_len(i: &ItemState) -> usize {
    varint_len(i.id as u64)
        + zigzag_len(i.x as i64)
        + zigzag_len(i.y as i64)
        + varint_len(i.value as u64)
}

/// Size of `ServerMessage::Snapshot(snapshot)` encoded for a datagram, computed from the
/// wire rules without encoding (equal to `protocol::game::encode(..).len()`, tested).
pub fn encoded_len(s: &Snapshot) -> usize {
    let header = 1 // ServerMessage tag
        + varint_len(s.tick as u64)
        + s.baseline.map_or(1, |b| 1 + varint_len(u64::from(b)))
        + varint_len(u64::from(s.last_input_seq))
        + 1 // Phase tag
        + varint_len(u64::from(s.phase.ends_at_tick));
    let lists = varint_len(s.players.len() as u64)
        + s.players.iter().map(player_len).sum::<usize>()
        + varint_len(s.removed_players.len() as u64)
        + s.removed_players.len()
        + varint_len(s.items.len() as u64)
        + s.items.iter().map(item_len).sum::<usize>()
        + varint_len(s.removed_items.len() as u64)
        + s.removed_items
            .iter()
            .map(|&id| varint_len(u64::from(id)))
            .sum::<usize>();
    header + lists
}
