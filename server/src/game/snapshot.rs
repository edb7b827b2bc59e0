//! Diffs between world views (changed players as per-field deltas when shorter), and
//! exact encoded sizes. It does not pack datagrams or keep history (`history` does).
//!
//! The world view and [`apply_snapshot`] live in [`protocol::game`] so that the client
//! library uses the very function the server's tests prove correct.

pub use protocol::game::{ApplyError, WorldView, apply_snapshot};
use protocol::game::{ItemState, PlayerDelta, PlayerState, Snapshot};

/// What changed from `base` to `current`: new or changed players and items, and the ids
/// gone. Both worlds must be ascending by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Diff {
    /// Each new or changed player's current state, with its delta against the baseline
    /// when it has one that encodes shorter than the whole state.
    pub(crate) players: Vec<(PlayerState, Option<PlayerDelta>)>,
    pub(crate) removed_players: Vec<u8>,
    pub(crate) items: Vec<ItemState>,
    pub(crate) removed_items: Vec<u16>,
}

pub(crate) fn diff(base: &WorldView, current: &WorldView) -> Diff {
    let ticks = current.tick.wrapping_sub(base.tick);
    let (players, removed_players) = merge_diff(&base.players, &current.players, |p| p.id);
    let players = players
        .into_iter()
        .map(|(old, new)| {
            let delta = old
                .map(|old| PlayerDelta::between(&old, &new, ticks))
                .filter(|d| delta_len(d) < player_len(&new));
            (new, delta)
        })
        .collect();
    let (items, removed_items) = merge_diff(&base.items, &current.items, |i| i.id);
    Diff {
        players,
        removed_players,
        items: items.into_iter().map(|(_, i)| i).collect(),
        removed_items,
    }
}

/// One pass over two id-sorted lists: (new or changed in `cur` with their state in
/// `base` if any, ids only in `base`).
#[allow(clippy::type_complexity)]
fn merge_diff<T: Copy + PartialEq, K: Ord + Copy>(
    base: &[T],
    cur: &[T],
    id: impl Fn(&T) -> K,
) -> (Vec<(Option<T>, T)>, Vec<K>) {
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
                changed.push((None, **y));
                c.next();
            }
            (Some(x), Some(y)) => match id(x).cmp(&id(y)) {
                std::cmp::Ordering::Less => {
                    removed.push(id(x));
                    b.next();
                }
                std::cmp::Ordering::Greater => {
                    changed.push((None, **y));
                    c.next();
                }
                std::cmp::Ordering::Equal => {
                    if x != y {
                        changed.push((Some(**x), **y));
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

/// Encoded size of a player delta: id, mask, then the present fields.
pub(crate) fn delta_len(d: &PlayerDelta) -> usize {
    2 + d.x.map_or(0, |v| zigzag_len(v.into()))
        + d.y.map_or(0, |v| zigzag_len(v.into()))
        + d.vx.map_or(0, |v| zigzag_len(v.into()))
        + d.vy.map_or(0, |v| zigzag_len(v.into()))
        + d.score.map_or(0, |v| varint_len(v.into()))
        + d.flags.map_or(0, |_| 1)
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
        + varint_len(s.player_deltas.len() as u64)
        + s.player_deltas.iter().map(delta_len).sum::<usize>()
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
