//! One board in memory: the embedded store's sorted set, with Redis's order and queries.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};

use super::{Composite, PlayerRanking, RankedEntry, RankedPage};

/// A sorted set ordered like `ZREVRANGE`: higher composite first, equal composites by
/// player id, highest bytes first.
///
/// Rank lookups walk the ordered set (O(rank)), which is fine for the local runs this
/// serves; Redis does them in O(log N).
#[derive(Debug, Default, Clone)]
pub(crate) struct SortedSet {
    /// Best first.
    order: BTreeSet<(Reverse<Composite>, Reverse<String>)>,
    /// Each member's composite, to find its place in `order`.
    scores: HashMap<String, Composite>,
}

impl SortedSet {
    /// Sets a member's composite (`ZADD`).
    pub(crate) fn insert(&mut self, player: &str, composite: Composite) {
        if let Some(old) = self.scores.insert(player.to_owned(), composite) {
            self.order
                .remove(&(Reverse(old), Reverse(player.to_owned())));
        }
        self.order
            .insert((Reverse(composite), Reverse(player.to_owned())));
    }

    /// Removes a member (`ZREM`); whether it was there.
    pub(crate) fn remove(&mut self, player: &str) -> bool {
        match self.scores.remove(player) {
            Some(old) => self
                .order
                .remove(&(Reverse(old), Reverse(player.to_owned()))),
            None => false,
        }
    }

    /// Members (`ZCARD`).
    pub(crate) fn len(&self) -> u64 {
        self.scores.len() as u64
    }

    /// Every member and composite, best first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, Composite)> {
        self.order
            .iter()
            .map(|(Reverse(c), Reverse(p))| (p.as_str(), *c))
    }

    /// A member's 0-based position (`ZREVRANK`) and composite.
    fn position(&self, player: &str) -> Option<(u64, Composite)> {
        let composite = *self.scores.get(player)?;
        let key = (Reverse(composite), Reverse(player.to_owned()));
        Some((self.order.range(..key).count() as u64, composite))
    }

    /// Rows from 0-based position `start`, at most `count` of them.
    fn rows(&self, start: u64, count: u64) -> Vec<RankedEntry> {
        let (Ok(skip), Ok(take)) = (usize::try_from(start), usize::try_from(count)) else {
            return Vec::new();
        };
        self.iter()
            .skip(skip)
            .take(take)
            .enumerate()
            .map(|(i, (player, composite))| entry(start + i as u64, player, composite))
            .collect()
    }

    /// See [`Rankings::top`](super::Rankings::top).
    pub(crate) fn top(&self, offset: u64, limit: u64) -> RankedPage {
        RankedPage {
            total_players: self.len(),
            entries: self.rows(offset, limit),
        }
    }

    /// See [`Rankings::rank`](super::Rankings::rank).
    pub(crate) fn rank(&self, player: &str) -> PlayerRanking {
        PlayerRanking {
            total_players: self.len(),
            entry: self
                .position(player)
                .map(|(position, composite)| entry(position, player, composite)),
        }
    }

    /// See [`Rankings::around`](super::Rankings::around).
    pub(crate) fn around(&self, player: &str, radius: u64) -> RankedPage {
        let entries = match self.position(player) {
            Some((position, _)) => {
                let start = position.saturating_sub(radius);
                let count = (position - start).saturating_add(radius).saturating_add(1);
                self.rows(start, count)
            }
            None => Vec::new(),
        };
        RankedPage {
            total_players: self.len(),
            entries,
        }
    }

    /// See [`Rankings::friends`](super::Rankings::friends).
    pub(crate) fn friends(&self, players: &[String]) -> RankedPage {
        let mut entries: Vec<RankedEntry> = players
            .iter()
            .filter_map(|player| {
                self.position(player)
                    .map(|(position, composite)| entry(position, player, composite))
            })
            .collect();
        sort_and_dedup(&mut entries);
        RankedPage {
            total_players: self.len(),
            entries,
        }
    }
}

/// A row at 0-based `position`.
pub(crate) fn entry(position: u64, player: &str, composite: Composite) -> RankedEntry {
    RankedEntry {
        rank: position + 1,
        player: player.to_owned(),
        score: composite.decode(),
    }
}

/// Orders rows by rank and drops repeated players (a friends list with duplicates).
pub(crate) fn sort_and_dedup(entries: &mut Vec<RankedEntry>) {
    entries.sort_by_key(|e| e.rank);
    entries.dedup_by_key(|e| e.rank);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rankings::{Score, TIME_EPOCH};

    fn c(rating: f64, t: u64) -> Composite {
        Composite::encode(Score::new(rating, TIME_EPOCH + t)).unwrap()
    }

    #[test]
    fn overwrite_moves_a_member_and_ties_order_by_id_descending() {
        let mut set = SortedSet::default();
        set.insert("a", c(10.0, 0));
        set.insert("b", c(10.0, 0));
        set.insert("c", c(20.0, 5));
        let order: Vec<&str> = set.iter().map(|(p, _)| p).collect();
        assert_eq!(order, ["c", "b", "a"]);
        set.insert("c", c(5.0, 5));
        let order: Vec<&str> = set.iter().map(|(p, _)| p).collect();
        assert_eq!(order, ["b", "a", "c"]);
        assert_eq!(set.len(), 3);
        assert!(set.remove("b"));
        assert!(!set.remove("b"));
        assert_eq!(set.rank("c").entry.unwrap().rank, 2);
    }

    #[test]
    fn around_and_top_clip_at_the_edges() {
        let mut set = SortedSet::default();
        for i in 0..5u64 {
            set.insert(&format!("p{i}"), c(i as f64, 0));
        }
        let ranks = |page: RankedPage| page.entries.iter().map(|e| e.rank).collect::<Vec<_>>();
        assert_eq!(ranks(set.around("p4", 2)), [1, 2, 3]);
        assert_eq!(ranks(set.around("p0", 2)), [3, 4, 5]);
        assert_eq!(ranks(set.around("p2", u64::MAX)), [1, 2, 3, 4, 5]);
        assert_eq!(ranks(set.top(3, u64::MAX)), [4, 5]);
        assert_eq!(ranks(set.top(u64::MAX, 10)), Vec::<u64>::new());
    }
}
