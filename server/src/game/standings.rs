//! Final standings and the results view the reporter uses.
//!
//! Free-for-all: players rank by score. Teams: a team's score is the sum of its members'
//! scores (players who left keep counting), teams rank by that, and each player takes
//! their team's placement. Ties share a placement and the next placement skips
//! (competition ranking: 1, 1, 3). Within a placement, players are listed by score, then
//! by id, so the order is deterministic.

use protocol::game::{EndReason, Standing};

/// One player's line in the results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerResult {
    /// Player id.
    pub player: u8,
    /// Display name.
    pub name: String,
    /// Team index, when the mode has teams.
    pub team: Option<u8>,
    /// 1 is best; ties share a placement.
    pub placement: u8,
    /// Final score.
    pub score: u32,
    /// Left, timed out or was kicked before the end. A player still within the reconnect
    /// grace when the match ends is not counted as having left.
    pub left_early: bool,
}

/// A finished match's outcome, as the results reporter needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchResults {
    /// Why the match ended.
    pub reason: EndReason,
    /// True when the server cut the match short (shutdown).
    pub cut_short: bool,
    /// Tick the match ended on.
    pub ended_at_tick: u32,
    /// Every player who joined, best first.
    pub players: Vec<PlayerResult>,
    /// Team scores by team index (empty in free-for-all).
    pub team_scores: Vec<u32>,
}

impl MatchResults {
    /// The standings as the `MatchEnded` event carries them.
    pub fn standings(&self) -> Vec<Standing> {
        self.players
            .iter()
            .map(|p| Standing {
                player: p.player,
                team: p.team,
                placement: p.placement,
                score: p.score,
                left_early: p.left_early,
            })
            .collect()
    }
}

/// Team totals by team index for `teams` teams (empty when `teams` is 0).
pub(crate) fn team_scores(entries: &[PlayerResult], teams: u8) -> Vec<u32> {
    let mut scores = vec![0u32; usize::from(teams)];
    for p in entries {
        if let Some(s) = p.team.and_then(|t| scores.get_mut(usize::from(t))) {
            *s = s.saturating_add(p.score);
        }
    }
    scores
}

/// Ranks `entries` (placements are overwritten) and returns them best first.
pub(crate) fn rank(mut entries: Vec<PlayerResult>, teams: u8) -> Vec<PlayerResult> {
    if teams == 0 {
        entries.sort_by(|a, b| b.score.cmp(&a.score).then(a.player.cmp(&b.player)));
        let scores: Vec<u32> = entries.iter().map(|p| p.score).collect();
        let places = competition_ranks(&scores);
        for (p, place) in entries.iter_mut().zip(places) {
            p.placement = place;
        }
        return entries;
    }
    let totals = team_scores(&entries, teams);
    // Only teams with members are ranked.
    let mut ranked: Vec<(u32, u8)> = (0..teams)
        .filter(|t| entries.iter().any(|p| p.team == Some(*t)))
        .map(|t| (totals[usize::from(t)], t))
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let scores: Vec<u32> = ranked.iter().map(|r| r.0).collect();
    let places = competition_ranks(&scores);
    for p in &mut entries {
        p.placement = ranked
            .iter()
            .zip(&places)
            .find(|((_, t), _)| Some(*t) == p.team)
            .map_or(u8::MAX, |(_, place)| *place);
    }
    entries.sort_by(|a, b| {
        a.placement
            .cmp(&b.placement)
            .then(a.team.cmp(&b.team))
            .then(b.score.cmp(&a.score))
            .then(a.player.cmp(&b.player))
    });
    entries
}

/// Competition ranks for scores sorted best first: equal scores share a rank.
fn competition_ranks(sorted_desc: &[u32]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(sorted_desc.len());
    for (i, s) in sorted_desc.iter().enumerate() {
        let place = match (i, out.last()) {
            (0, _) | (_, None) => 1,
            (_, Some(&prev)) if sorted_desc[i - 1] == *s => prev,
            _ => u8::try_from(i + 1).unwrap_or(u8::MAX),
        };
        out.push(place);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(player: u8, team: Option<u8>, score: u32) -> PlayerResult {
        PlayerResult {
            player,
            name: format!("p{player}"),
            team,
            placement: 0,
            score,
            left_early: false,
        }
    }

    fn places(r: &[PlayerResult]) -> Vec<(u8, u8)> {
        r.iter().map(|p| (p.player, p.placement)).collect()
    }

    #[test]
    fn ffa_ties_share_a_placement_and_skip_the_next() {
        let r = rank(
            vec![
                entry(0, None, 5),
                entry(1, None, 9),
                entry(2, None, 5),
                entry(3, None, 1),
            ],
            0,
        );
        assert_eq!(places(&r), [(1, 1), (0, 2), (2, 2), (3, 4)]);
    }

    #[test]
    fn teams_aggregate_and_players_take_the_team_placement() {
        let entries = vec![
            entry(0, Some(0), 10),
            entry(1, Some(1), 4),
            entry(2, Some(0), 0),
            entry(3, Some(1), 7),
        ];
        assert_eq!(team_scores(&entries, 2), [10, 11]);
        let r = rank(entries, 2);
        assert_eq!(places(&r), [(3, 1), (1, 1), (0, 2), (2, 2)]);
    }

    #[test]
    fn tied_teams_share_first() {
        let r = rank(vec![entry(0, Some(0), 3), entry(1, Some(1), 3)], 2);
        assert_eq!(places(&r), [(0, 1), (1, 1)]);
    }
}
