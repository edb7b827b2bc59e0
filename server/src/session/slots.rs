//! Player slots: which player session holds which player id, on which connection, and
//! which player sessions are used up.

use std::collections::HashSet;
use std::time::Instant;

use protocol::game::MAX_PLAYERS;

use super::output::{ConnId, PlayerId};

/// One held player slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Slot {
    /// The GameLift player session that owns it.
    pub(super) player_session_id: String,
    /// The live connection, or `None` while the player is dropped.
    pub(super) conn: Option<ConnId>,
    /// While dropped: when the reconnect grace runs out.
    pub(super) grace_until: Option<Instant>,
}

/// The match's slots, at most `max_players` held at once.
#[derive(Debug)]
pub(super) struct Slots {
    slots: Vec<Option<Slot>>,
    max_players: usize,
    /// Bit `i` set once player id `i` was ever handed out.
    ever_used: u64,
    /// Player sessions that were in the match and were removed: GameLift would refuse them,
    /// and the core answers `ExpiredPlayerSession` without asking.
    removed: HashSet<String>,
}

impl Slots {
    pub(super) fn new(max_players: usize) -> Self {
        Self {
            slots: vec![None; MAX_PLAYERS],
            max_players: max_players.min(MAX_PLAYERS),
            ever_used: 0,
            removed: HashSet::new(),
        }
    }

    pub(super) fn max_players(&self) -> usize {
        self.max_players
    }

    /// Slots held, by connected and dropped players alike.
    pub(super) fn held(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    pub(super) fn find(&self, player_session_id: &str) -> Option<PlayerId> {
        self.iter()
            .find(|(_, s)| s.player_session_id == player_session_id)
            .map(|(p, _)| p)
    }

    pub(super) fn get_mut(&mut self, player: PlayerId) -> Option<&mut Slot> {
        self.slots.get_mut(usize::from(player))?.as_mut()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (PlayerId, &Slot)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((PlayerId::try_from(i).ok()?, s.as_ref()?)))
    }

    pub(super) fn is_removed(&self, player_session_id: &str) -> bool {
        self.removed.contains(player_session_id)
    }

    /// Marks a player session as used up without it ever holding a slot (accepted by
    /// GameLift, but its connection was gone by then).
    pub(super) fn mark_removed(&mut self, player_session_id: &str) {
        self.removed.insert(player_session_id.to_owned());
    }

    /// Gives `player_session_id` a slot on `conn`. Ids never handed out come first, so a
    /// player id is reused only after all 64 were used in this match; `None` when full.
    pub(super) fn allocate(&mut self, player_session_id: String, conn: ConnId) -> Option<PlayerId> {
        if self.held() >= self.max_players {
            return None;
        }
        let free = |i: &usize| self.slots[*i].is_none();
        let index = (0..MAX_PLAYERS)
            .filter(free)
            .find(|i| self.ever_used & (1 << i) == 0)
            .or_else(|| (0..MAX_PLAYERS).find(free))?;
        self.ever_used |= 1 << index;
        self.slots[index] = Some(Slot {
            player_session_id,
            conn: Some(conn),
            grace_until: None,
        });
        PlayerId::try_from(index).ok()
    }

    /// Frees a slot for good and marks its player session as used up.
    pub(super) fn release(&mut self, player: PlayerId) -> Option<Slot> {
        let slot = self.slots.get_mut(usize::from(player))?.take()?;
        self.removed.insert(slot.player_session_id.clone());
        Some(slot)
    }

    /// Dropped players whose grace ended at or before `now`.
    pub(super) fn expired(&self, now: Instant) -> Vec<PlayerId> {
        self.iter()
            .filter(|(_, s)| s.grace_until.is_some_and(|t| t <= now))
            .map(|(p, _)| p)
            .collect()
    }

    /// The earliest grace deadline.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.iter().filter_map(|(_, s)| s.grace_until).min()
    }
}
