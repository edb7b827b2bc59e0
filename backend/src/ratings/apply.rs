//! [`apply`]: one match result into new profiles, ranking scores and rating changes.

use std::collections::BTreeMap;

use protocol::http::{BoardId, EpochMillis, MatchOutcome, RecentMatch};
use protocol::result::{InvalidResult, MatchResult, PlayerResult};
use skillratings::MultiTeamOutcome;
use skillratings::weng_lin::{WengLinConfig, WengLinRating, weng_lin_multi_team};

use super::profile::{PlayerId, PlayerProfile, displayed_rating};
use crate::rankings::{RankingUpdate, Score, boards_for_match};

/// The Weng-Lin constants every board uses: the crate's defaults (β = 25/6).
pub fn weng_lin_config() -> WengLinConfig {
    WengLinConfig::new()
}

/// What applying one result produces.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// The new profile of every player in the result (and no one else), each one version
    /// higher than the profile passed in (a new player's is version 1).
    pub profiles: BTreeMap<PlayerId, PlayerProfile>,
    /// The absolute score of every player on every board of the match, for
    /// [`Rankings::set_many`](crate::rankings::Rankings::set_many): board by board in
    /// [`boards_for_match`] order, players by id within a board.
    pub rankings: Vec<RankingUpdate>,
    /// Each player's outcome and change of displayed rating on the global board.
    pub changes: BTreeMap<PlayerId, RatingChange>,
}

/// How one match moved one player, on the global board.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatingChange {
    /// Win, loss or draw (see the module's rules).
    pub outcome: MatchOutcome,
    /// The displayed rating before the match.
    pub before: f64,
    /// The displayed rating after the match.
    pub after: f64,
    /// `after − before`.
    pub change: f64,
}

/// Why a result could not be applied. None of these is transient: retrying with the same
/// inputs fails the same way.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    /// The result breaks a rule every genuine result keeps (checked again here, so the
    /// core never rates a result that skipped verification).
    #[error("invalid result: {0}")]
    Invalid(#[from] InvalidResult),
    /// A profile was passed under another player's id.
    #[error("profile for {key} belongs to player {found}")]
    ProfileMismatch {
        /// The map key (a player of the result).
        key: PlayerId,
        /// The profile's own `player_id`.
        found: PlayerId,
    },
    /// A stored rating is not usable: μ or σ is not finite, or σ is negative.
    #[error("player {player} has a corrupt rating on board {board:?}")]
    CorruptRating {
        /// The player.
        player: PlayerId,
        /// The board.
        board: BoardId,
    },
    /// The rating update produced a value that is not finite (only from extreme stored
    /// ratings); nothing is written.
    #[error("rating of player {player} on board {board:?} did not stay finite")]
    NonFinite {
        /// The player.
        player: PlayerId,
        /// The board.
        board: BoardId,
    },
    /// The profile's version is `u64::MAX` and cannot be incremented.
    #[error("profile version of player {0} cannot be incremented")]
    VersionOverflow(PlayerId),
}

/// One side of the match: a team, or a player alone.
struct Side<'a> {
    /// Members, ordered by player id.
    members: Vec<&'a PlayerResult>,
    /// The rank used for rating (see the module's rules).
    rank: usize,
    /// The best placement any member reported (shown in recent matches).
    placement: u32,
}

/// The sides of a match and everyone's outcome, before any rating.
struct Plan<'a> {
    sides: Vec<Side<'a>>,
    /// Whether ratings move at all.
    rated: bool,
    outcomes: BTreeMap<&'a str, MatchOutcome>,
}

impl<'a> Plan<'a> {
    fn new(result: &'a MatchResult) -> Self {
        let last = result.players.len() + 1;
        // Teams before solo players, each ordered by name: a fixed order for the crate.
        let mut grouped: BTreeMap<(bool, &str), Vec<&PlayerResult>> = BTreeMap::new();
        for p in &result.players {
            let key = match &p.team {
                Some(team) => (false, team.as_str()),
                None => (true, p.player_id.as_str()),
            };
            grouped.entry(key).or_default().push(p);
        }
        let sides: Vec<Side<'a>> = grouped
            .into_values()
            .map(|mut members| {
                members.sort_by(|a, b| a.player_id.cmp(&b.player_id));
                let stayed = members.iter().filter(|p| !p.left_early);
                let rank = stayed.map(|p| p.placement as usize).min().unwrap_or(last);
                let placement = members.iter().map(|p| p.placement).min().unwrap_or(0);
                Side {
                    members,
                    rank,
                    placement,
                }
            })
            .collect();
        let contest = sides.len() >= 2;
        let best = sides.iter().map(|s| s.rank).min().unwrap_or(last);
        let at_best = sides.iter().filter(|s| s.rank == best).count();
        let mut outcomes = BTreeMap::new();
        for side in &sides {
            for p in &side.members {
                let outcome = if p.left_early {
                    MatchOutcome::Loss
                } else if !contest || result.cut_short {
                    MatchOutcome::Draw
                } else if side.rank != best {
                    MatchOutcome::Loss
                } else if at_best == 1 {
                    MatchOutcome::Win
                } else {
                    MatchOutcome::Draw
                };
                outcomes.insert(p.player_id.as_str(), outcome);
            }
        }
        Plan {
            sides,
            rated: contest && !result.cut_short,
            outcomes,
        }
    }

    /// The new rating of every player on one board, from their ratings before.
    fn rate(
        &self,
        before: &BTreeMap<&'a str, WengLinRating>,
        config: &WengLinConfig,
    ) -> BTreeMap<&'a str, WengLinRating> {
        if !self.rated {
            return before.clone();
        }
        let teams: Vec<Vec<WengLinRating>> = self
            .sides
            .iter()
            .map(|s| {
                s.members
                    .iter()
                    .map(|p| before[p.player_id.as_str()])
                    .collect()
            })
            .collect();
        let ranked: Vec<(&[WengLinRating], MultiTeamOutcome)> = teams
            .iter()
            .zip(&self.sides)
            .map(|(team, side)| (team.as_slice(), MultiTeamOutcome::new(side.rank)))
            .collect();
        let rated = weng_lin_multi_team(&ranked, config);
        let mut after = BTreeMap::new();
        for (side, new_team) in self.sides.iter().zip(rated) {
            for (p, new) in side.members.iter().zip(new_team) {
                let id = p.player_id.as_str();
                let new = if p.left_early {
                    no_gain(before[id], new)
                } else {
                    new
                };
                after.insert(id, new);
            }
        }
        after
    }
}

/// A leaver's rating: μ never above the old one, and the old σ kept when the new one
/// would lift the displayed rating.
fn no_gain(old: WengLinRating, new: WengLinRating) -> WengLinRating {
    let mu = new.rating.min(old.rating);
    let shown_before = displayed_rating(old.rating, old.uncertainty);
    let uncertainty = if displayed_rating(mu, new.uncertainty) > shown_before {
        old.uncertainty
    } else {
        new.uncertainty
    };
    WengLinRating {
        rating: mu,
        uncertainty,
    }
}

fn usable(r: &WengLinRating) -> bool {
    r.rating.is_finite() && r.uncertainty.is_finite() && r.uncertainty >= 0.0
}

/// Applies one verified result: the players' new profiles, their absolute scores on
/// every board of the match, and their rating changes. `season` is the season the match
/// counts for (by its end time; the caller's calendar), `None` outside any season.
/// `current` holds the stored profiles of the result's players; a player without one
/// starts from [`PlayerProfile::new`]; profiles of other players are ignored.
///
/// Pure: the same inputs give the same outputs, bit for bit. See the module docs for
/// every rule.
pub fn apply(
    result: &MatchResult,
    season: Option<&str>,
    current: &BTreeMap<PlayerId, PlayerProfile>,
) -> Result<Applied, ApplyError> {
    result.validate()?;
    let mut profiles: BTreeMap<PlayerId, PlayerProfile> = BTreeMap::new();
    for p in &result.players {
        let profile = match current.get(&p.player_id) {
            Some(found) if found.player_id != p.player_id => {
                return Err(ApplyError::ProfileMismatch {
                    key: p.player_id.clone(),
                    found: found.player_id.clone(),
                });
            }
            Some(found) => found.clone(),
            None => PlayerProfile::new(&p.player_id),
        };
        profiles.insert(p.player_id.clone(), profile);
    }

    let plan = Plan::new(result);
    let config = weng_lin_config();
    let ended_at: EpochMillis = result.ended_at_ms;
    let mut rankings = Vec::new();
    let mut before_global = BTreeMap::new();
    for board in boards_for_match(season, &result.mode) {
        let mut before = BTreeMap::new();
        for p in &result.players {
            let id = p.player_id.as_str();
            let rating = profiles[id]
                .stats(&board)
                .map(|s| s.weng_lin())
                .unwrap_or_default();
            if !usable(&rating) {
                return Err(ApplyError::CorruptRating {
                    player: id.to_owned(),
                    board,
                });
            }
            before.insert(id, rating);
        }
        let after = plan.rate(&before, &config);
        for (id, new) in &after {
            if !usable(new) {
                return Err(ApplyError::NonFinite {
                    player: (*id).to_owned(),
                    board,
                });
            }
        }
        for (id, profile) in profiles.iter_mut() {
            let stats = profile.stats_mut(&board);
            if board == BoardId::GLOBAL {
                before_global.insert(id.clone(), stats.rating);
            }
            let outcome = plan.outcomes[id.as_str()];
            stats.record(after[id.as_str()], outcome, ended_at);
            let reached_at = stats.rating_since.unwrap_or(ended_at) / 1000;
            rankings.push(RankingUpdate {
                board: board.clone(),
                player: id.clone(),
                score: Score::new(stats.rating, reached_at),
            });
        }
    }

    let mut changes = BTreeMap::new();
    for side in &plan.sides {
        for p in &side.members {
            let id = p.player_id.as_str();
            let profile = profiles.get_mut(id).expect("every player has a profile");
            let outcome = plan.outcomes[id];
            let before = before_global[id];
            let after = profile.overall.rating;
            profile.push_recent(RecentMatch {
                match_id: result.match_id.clone(),
                mode: result.mode.clone(),
                season: season.map(str::to_owned),
                ended_at,
                outcome,
                placement: side.placement,
                team: p.team.clone(),
                score: Some(p.score),
                rating_change: after - before,
                rating_after: after,
                left_early: p.left_early,
            });
            profile.version = profile
                .version
                .checked_add(1)
                .ok_or_else(|| ApplyError::VersionOverflow(id.to_owned()))?;
            let change = RatingChange {
                outcome,
                before,
                after,
                change: after - before,
            };
            changes.insert(id.to_owned(), change);
        }
    }
    Ok(Applied {
        profiles,
        rankings,
        changes,
    })
}

/// [`no_gain`], for the unit tests.
#[cfg(test)]
pub(super) fn no_gain_for_tests(old: WengLinRating, new: WengLinRating) -> WengLinRating {
    no_gain(old, new)
}
