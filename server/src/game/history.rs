//! Per-client snapshot history and delta encoding.
//!
//! The server keeps, for each client, the worlds it sent over the last
//! [`DEFAULT_HISTORY_LEN`] ticks. Each new snapshot is a delta against the newest of them
//! the client acknowledged, or a full snapshot when there is none (first snapshot, acks
//! lost for longer than the history, or a bogus ack).
//!
//! **Fitting a datagram.** Every snapshot is kept within
//! [`MAX_DATAGRAM_SIZE`](protocol::game::MAX_DATAGRAM_SIZE). When the whole change does
//! not fit (a full snapshot of 64 players and 64 items does not), entries go in by
//! priority until the datagram is full, skipping any that no longer fit:
//!
//! 1. the viewer's own player (prediction needs it every time);
//! 2. removals (one to three bytes each, and a ghost is worse than a stale position);
//! 3. other players and items, nearest to the viewer first (players before items at equal
//!    distance, then by id).
//!
//! What is left out is not lost: the history records the world *as the client will hold
//! it* (the baseline with only what was sent applied), so the next delta against that
//! tick carries the rest. Far entities can lag a few ticks behind in a crowded match,
//! never drift. When everything fits (the usual case), the recorded world is the shared
//! `Arc` the caller passed in, so a history costs pointers, not copies.
//!
//! **Measured.** Bots that move on every tick, each client acking every snapshot
//! (`tests/game.rs`, `delta_snapshots_are_at_most_40_percent_of_full_in_steady_play` and
//! `delta_snapshots_of_64_players_fit_and_stay_small`): deltas average 15.2% of full
//! snapshots with 16 players (55 of 362 bytes) and 14.7% with 64 (130 of 886 bytes).
//! Changed players go as per-field deltas (`protocol::game::PlayerDelta`): a player
//! moving steadily costs 2 bytes, a turn adds a byte or two; static items cost nothing.
//! Before per-field deltas (protocol version 1) the figure was 47% with 16 players.
//! Late acks make deltas span more ticks: positions drift from the prediction (it
//! assumes the newest velocity throughout) and more items come and go. With acks 4 ticks
//! late and 16 players (`delta_snapshots_stay_small_with_late_acks`): 33.2% (120 bytes).

use std::collections::VecDeque;
use std::sync::Arc;

use protocol::game::{
    EncodeError, MAX_DATAGRAM_SIZE, MAX_PLAYERS, MAX_SNAPSHOT_ITEMS, PlayerDelta, PlayerState,
    ServerMessage, SharedSnapshot, Snapshot, encode,
};

use super::rules::dist2;
use super::snapshot::{
    Diff, WorldView, apply_snapshot, delta_len, diff, encoded_len, item_len, player_len,
};

/// Ticks of sent worlds kept per client (about a second at 30 Hz; acks older than this
/// get a full snapshot).
pub const DEFAULT_HISTORY_LEN: usize = 32;

/// Diffs of one world against the baselines seen so far (by view identity, not value),
/// and the encoded snapshot of each diff that fits one datagram whole (the same for every
/// client on that baseline but for its input sequence number). Holding the views keeps
/// their addresses from being reused while the cache lives.
#[derive(Debug, Default)]
pub struct DiffCache {
    world: Option<Arc<WorldView>>,
    entries: Vec<CacheEntry>,
}

#[derive(Debug)]
struct CacheEntry {
    base: Option<Arc<WorldView>>,
    diff: Diff,
    /// `None` until asked for; then the shared encoding, or `None` inside when the diff
    /// does not fit whole (each client then gets its own packing).
    shared: Option<Option<SharedSnapshot>>,
}

impl DiffCache {
    /// The entry of the changes from `base` (none: from nothing) to `world`.
    fn entry(&mut self, base: Option<&Arc<WorldView>>, world: &Arc<WorldView>) -> &mut CacheEntry {
        if !self.world.as_ref().is_some_and(|w| Arc::ptr_eq(w, world)) {
            self.world = Some(Arc::clone(world));
            self.entries.clear();
        }
        let same = |b: &Option<Arc<WorldView>>| match (b, base) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        let at = match self.entries.iter().position(|e| same(&e.base)) {
            Some(at) => at,
            None => {
                let empty = WorldView {
                    tick: 0,
                    phase: world.phase,
                    players: Vec::new(),
                    items: Vec::new(),
                };
                let changes = diff(base.map_or(&empty, |b| b.as_ref()), world);
                self.entries.push(CacheEntry {
                    base: base.cloned(),
                    diff: changes,
                    shared: None,
                });
                self.entries.len() - 1
            }
        };
        &mut self.entries[at]
    }

    /// The changes from `base` (none: from nothing) to `world`.
    fn diff(&mut self, base: Option<&Arc<WorldView>>, world: &Arc<WorldView>) -> Diff {
        self.entry(base, world).diff.clone()
    }
}

/// The snapshots sent to one client and the newest one it acknowledged.
#[derive(Debug, Clone)]
pub struct SnapshotHistory {
    capacity: usize,
    /// (tick, world as the client holds it after that snapshot), ascending by tick,
    /// nothing older than the acked tick.
    sent: VecDeque<(u32, Arc<WorldView>)>,
    /// Newest acknowledged tick that is still in `sent`.
    acked: Option<u32>,
    /// Tick of the newest snapshot built, to catch a second build for the same tick.
    last_built: Option<u32>,
}

impl Default for SnapshotHistory {
    fn default() -> Self {
        Self::new()
    }
}

impl SnapshotHistory {
    /// A history of [`DEFAULT_HISTORY_LEN`] ticks.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_HISTORY_LEN)
    }

    /// A history of `capacity` ticks (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            sent: VecDeque::with_capacity(capacity),
            acked: None,
            last_built: None,
        }
    }

    /// The client acknowledged the snapshot of `tick`. Acks for ticks never sent, no
    /// longer kept, or not newer than the current ack are ignored (returns false), so a
    /// client can never pick a baseline the server did not send it.
    pub fn ack(&mut self, tick: u32) -> bool {
        if self.acked.is_some_and(|a| tick <= a) || self.view_of(tick).is_none() {
            return false;
        }
        self.acked = Some(tick);
        while self.sent.front().is_some_and(|(t, _)| *t < tick) {
            self.sent.pop_front();
        }
        true
    }

    /// The tick the next delta will be built against, if any.
    pub fn acked(&self) -> Option<u32> {
        self.acked
    }

    /// The world the client holds after applying the snapshot of `tick`, if still kept.
    pub fn view_of(&self, tick: u32) -> Option<&WorldView> {
        self.sent
            .iter()
            .find(|(t, _)| *t == tick)
            .map(|(_, v)| v.as_ref())
    }

    /// Forgets everything: the next snapshot is full (for a reconnecting client).
    pub fn reset(&mut self) {
        self.sent.clear();
        self.acked = None;
        self.last_built = None;
    }

    /// The snapshot of `world` for this client: `viewer` is its player (for priority),
    /// `last_input_seq` its newest applied input. Call once per tick per client; the
    /// result encodes to at most `MAX_DATAGRAM_SIZE` bytes.
    pub fn build(
        &mut self,
        world: &Arc<WorldView>,
        viewer: Option<u8>,
        last_input_seq: u32,
    ) -> Snapshot {
        self.build_shared(world, viewer, last_input_seq, &mut DiffCache::default())
    }

    /// [`build`](Self::build), reusing the diffs in `cache`: clients whose baseline is the
    /// same view (most of them ack the same recent tick, whose view they share) get the
    /// same changes, computed once per tick. Use one cache per world.
    pub fn build_shared(
        &mut self,
        world: &Arc<WorldView>,
        viewer: Option<u8>,
        last_input_seq: u32,
        cache: &mut DiffCache,
    ) -> Snapshot {
        let base = self.baseline();
        let changes = cache.diff(base.as_ref(), world);
        let mut snap = header(world, base.as_deref(), last_input_seq);
        let view = if fits_whole(&snap, &changes) {
            fill_whole(&mut snap, changes);
            Arc::clone(world)
        } else {
            pack(&mut snap, changes, world, viewer);
            // The baseline is the one the delta names, so this cannot fail.
            let held = apply_snapshot(base.as_deref(), &snap).unwrap_or_else(|_| (**world).clone());
            Arc::new(held)
        };
        self.record(world.tick, view);
        snap
    }

    /// [`build_shared`](Self::build_shared)'s snapshot, encoded as a datagram: when the
    /// changes since this client's baseline fit whole (the usual case), the encoding is
    /// made once per baseline (in `cache`) and only this client's input sequence number
    /// is written per client; otherwise the client's own packing is encoded.
    ///
    /// # Errors
    /// As [`encode`]; a snapshot built here always fits, so only a bug makes one.
    pub fn build_encoded(
        &mut self,
        world: &Arc<WorldView>,
        viewer: Option<u8>,
        last_input_seq: u32,
        cache: &mut DiffCache,
    ) -> Result<Vec<u8>, EncodeError> {
        let base = self.baseline();
        let entry = cache.entry(base.as_ref(), world);
        let shared = entry.shared.get_or_insert_with(|| {
            // Whole for every client of this baseline: measured with the longest
            // sequence number a client can have.
            let mut snap = header(world, base.as_deref(), u32::MAX);
            fits_whole(&snap, &entry.diff)
                .then(|| {
                    fill_whole(&mut snap, entry.diff.clone());
                    SharedSnapshot::new(snap)
                })?
                .ok()
        });
        if let Some(shared) = shared {
            let bytes = shared.encode_for(last_input_seq);
            self.record(world.tick, Arc::clone(world));
            return bytes;
        }
        let snap = self.build_shared(world, viewer, last_input_seq, cache);
        encode(&ServerMessage::Snapshot(snap))
    }

    /// The world this client acknowledged, if it is still held.
    fn baseline(&self) -> Option<Arc<WorldView>> {
        self.acked
            .and_then(|t| self.sent.iter().find(|(tick, _)| *tick == t))
            .map(|(_, v)| Arc::clone(v))
    }

    fn record(&mut self, tick: u32, view: Arc<WorldView>) {
        if self.last_built.is_some_and(|t| tick <= t) {
            // Two different snapshots for one tick: the client may hold either, so that
            // tick can never be a baseline.
            self.sent.retain(|(t, _)| *t != tick);
            if self.acked == Some(tick) {
                self.acked = None;
            }
            return;
        }
        self.last_built = Some(tick);
        self.sent.push_back((tick, view));
        while self.sent.len() > self.capacity {
            self.sent.pop_front();
        }
        if self
            .acked
            .is_some_and(|a| self.sent.front().is_none_or(|(t, _)| *t > a))
        {
            self.acked = None;
        }
    }
}

/// A snapshot of `world` against `base` with nothing in it yet.
fn header(world: &WorldView, base: Option<&WorldView>, last_input_seq: u32) -> Snapshot {
    Snapshot {
        tick: world.tick,
        baseline: base.map(|b| b.tick),
        last_input_seq,
        phase: world.phase,
        players: Vec::new(),
        player_deltas: Vec::new(),
        removed_players: Vec::new(),
        items: Vec::new(),
        removed_items: Vec::new(),
    }
}

/// Puts all of `changes` in `snap` (which fits them: [`fits_whole`]).
fn fill_whole(snap: &mut Snapshot, changes: Diff) {
    for (p, delta) in changes.players {
        match delta {
            Some(d) => snap.player_deltas.push(d),
            None => snap.players.push(p),
        }
    }
    snap.removed_players = changes.removed_players;
    snap.items = changes.items;
    snap.removed_items = changes.removed_items;
}

/// Whether all of `changes` fits in one datagram and within the list caps.
fn fits_whole(header: &Snapshot, c: &Diff) -> bool {
    let within_caps = c.players.len() <= MAX_PLAYERS
        && c.removed_players.len() <= MAX_PLAYERS
        && c.items.len() <= MAX_SNAPSHOT_ITEMS
        && c.removed_items.len() <= MAX_SNAPSHOT_ITEMS;
    let size = encoded_len(header)
        + c.players.iter().map(player_change_len).sum::<usize>()
        + c.removed_players.len()
        + c.items.iter().map(item_len).sum::<usize>()
        + c.removed_items
            .iter()
            .map(|&id| removed_item_len(id))
            .sum::<usize>();
    within_caps && size <= MAX_DATAGRAM_SIZE
}

/// Size of one changed player as it will be sent: its delta if it has one, else whole.
fn player_change_len((p, delta): &(PlayerState, Option<PlayerDelta>)) -> usize {
    delta.as_ref().map_or_else(|| player_len(p), delta_len)
}

fn removed_item_len(id: u16) -> usize {
    if id <= 250 { 1 } else { 3 }
}

/// One thing a snapshot may carry.
enum Entry {
    Player(PlayerState),
    PlayerDelta(PlayerDelta),
    RemovedPlayer(u8),
    Item(protocol::game::ItemState),
    RemovedItem(u16),
}

/// Fills `snap` with `changes` by priority (module docs) until the datagram is full.
/// List counts stay ≤ 250, so each count is one byte and `encoded_len` of the empty
/// snapshot already includes them.
fn pack(snap: &mut Snapshot, changes: Diff, world: &WorldView, viewer: Option<u8>) {
    let origin = viewer.and_then(|v| world.player(v)).map(|p| (p.x, p.y));
    let distance = |x: i32, y: i32| origin.map_or(0, |(ox, oy)| dist2(ox, oy, x, y));
    // (class, distance, kind, id, entry): sorted, this is the priority order.
    let mut entries: Vec<(u8, i64, u8, u16, Entry)> = Vec::new();
    for (p, delta) in changes.players {
        let class = if Some(p.id) == viewer { 0 } else { 2 };
        let entry = delta.map_or(Entry::Player(p), Entry::PlayerDelta);
        entries.push((class, distance(p.x, p.y), 0, u16::from(p.id), entry));
    }
    for id in changes.removed_players {
        entries.push((1, 0, 0, u16::from(id), Entry::RemovedPlayer(id)));
    }
    for id in changes.removed_items {
        entries.push((1, 0, 1, id, Entry::RemovedItem(id)));
    }
    for i in changes.items {
        entries.push((2, distance(i.x, i.y), 1, i.id, Entry::Item(i)));
    }
    entries.sort_by_key(|e| (e.0, e.1, e.2, e.3));
    let mut size = encoded_len(snap);
    for (_, _, _, _, entry) in entries {
        let (cost, room) = match &entry {
            Entry::Player(p) => (player_len(p), snap.players.len() < MAX_PLAYERS),
            Entry::PlayerDelta(d) => (delta_len(d), snap.player_deltas.len() < MAX_PLAYERS),
            Entry::RemovedPlayer(_) => (1, snap.removed_players.len() < MAX_PLAYERS),
            Entry::Item(i) => (item_len(i), snap.items.len() < MAX_SNAPSHOT_ITEMS),
            Entry::RemovedItem(id) => (
                removed_item_len(*id),
                snap.removed_items.len() < MAX_SNAPSHOT_ITEMS,
            ),
        };
        if !room || size + cost > MAX_DATAGRAM_SIZE {
            continue;
        }
        size += cost;
        match entry {
            Entry::Player(p) => snap.players.push(p),
            Entry::PlayerDelta(d) => snap.player_deltas.push(d),
            Entry::RemovedPlayer(id) => snap.removed_players.push(id),
            Entry::Item(i) => snap.items.push(i),
            Entry::RemovedItem(id) => snap.removed_items.push(id),
        }
    }
}
