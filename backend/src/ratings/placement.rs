//! The placement record and the check that a result is about the players who were placed.
//!
//! The matchmaker writes a [`PlacementRecord`] when GameLift places a match: who was put
//! in the game session, with which player-session id, on which team. A signed result
//! proves a server wrote it; this check proves it names the match's real players, so a
//! compromised or buggy server cannot rate players who were not there.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use protocol::result::MatchResult;
use serde::{Deserialize, Serialize};

use super::PlayerId;

/// What the matchmaker recorded when a match was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementRecord {
    /// The GameLift game-session id (the result's `match_id`).
    pub match_id: String,
    /// Every player placed into the session.
    pub players: Vec<PlacedPlayer>,
}

/// One placed player.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedPlayer {
    /// The player.
    pub player_id: PlayerId,
    /// The GameLift player-session id created for them.
    pub player_session_id: String,
    /// The team the matchmaker put them on; `None` in free-for-all modes.
    pub team: Option<String>,
}

/// One way a result disagrees with its placement record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    /// The record is for another match (the caller fetched the wrong record).
    #[error("placement is for match {expected:?}, result for {found:?}")]
    WrongMatch {
        /// The record's match id.
        expected: String,
        /// The result's match id.
        found: String,
    },
    /// The result names a different number of players than were placed.
    #[error("{expected} players were placed, the result names {found}")]
    PlayerCount {
        /// Players placed.
        expected: usize,
        /// Players in the result.
        found: usize,
    },
    /// The result names a player who was not placed in the match.
    #[error("player {0} was not placed in this match")]
    UnknownPlayer(PlayerId),
    /// A placed player is absent from the result.
    #[error("placed player {0} is missing from the result")]
    MissingPlayer(PlayerId),
    /// The result names the same player more than once.
    #[error("player {0} appears more than once in the result")]
    DuplicatePlayer(PlayerId),
    /// The player's session id is not the one GameLift created for them.
    #[error("player {player} has session {found:?}, placed with {expected:?}")]
    SessionMismatch {
        /// The player.
        player: PlayerId,
        /// The placed player-session id.
        expected: String,
        /// The result's player-session id.
        found: String,
    },
    /// The result's teams do not group players as the placement did: a placed team
    /// must map to exactly one result team, and no two placed teams to the same one
    /// (team names may differ; the grouping may not).
    #[error("player {player} is on team {found:?}, placed on team {expected:?}")]
    TeamMismatch {
        /// The player.
        player: PlayerId,
        /// The placed team.
        expected: Option<String>,
        /// The result's team.
        found: Option<String>,
    },
}

/// Every way a result disagrees with its placement record, in a stable order: the match
/// id, the player count, then each result player in the result's order (unknown,
/// duplicate, session, team), then the missing players by id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PlacementMismatch {
    /// The mismatches, at least one.
    pub errors: Vec<PlacementError>,
}

impl PlacementMismatch {
    /// A short, stable code for a dead-letter message attribute.
    pub const fn reason(&self) -> &'static str {
        "wrong_players"
    }
}

impl fmt::Display for PlacementMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("result does not match its placement: ")?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Checks that `result` names exactly the placed players, with their player-session
/// ids, grouped into teams as placed (when the placement had teams; a placed player
/// without a team may be on any team in the result). Reports every mismatch, not just
/// the first. A result for an unknown match (no record) is the caller's concern.
pub fn check_against_placement(
    result: &MatchResult,
    placement: &PlacementRecord,
) -> Result<(), PlacementMismatch> {
    let mut errors = Vec::new();
    if result.match_id != placement.match_id {
        errors.push(PlacementError::WrongMatch {
            expected: placement.match_id.clone(),
            found: result.match_id.clone(),
        });
    }
    if result.players.len() != placement.players.len() {
        errors.push(PlacementError::PlayerCount {
            expected: placement.players.len(),
            found: result.players.len(),
        });
    }
    let placed: BTreeMap<&str, &PlacedPlayer> = placement
        .players
        .iter()
        .map(|p| (p.player_id.as_str(), p))
        .collect();
    let mut seen = BTreeSet::new();
    // Placed team → result team, and back: the grouping must be a bijection.
    let mut forward: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    let mut backward: BTreeMap<Option<&str>, &str> = BTreeMap::new();
    for p in &result.players {
        let Some(placed) = placed.get(p.player_id.as_str()) else {
            errors.push(PlacementError::UnknownPlayer(p.player_id.clone()));
            continue;
        };
        if !seen.insert(p.player_id.as_str()) {
            errors.push(PlacementError::DuplicatePlayer(p.player_id.clone()));
            continue;
        }
        if placed.player_session_id != p.player_session_id {
            errors.push(PlacementError::SessionMismatch {
                player: p.player_id.clone(),
                expected: placed.player_session_id.clone(),
                found: p.player_session_id.clone(),
            });
        }
        if let Some(team) = placed.team.as_deref() {
            let found = p.team.as_deref();
            let fwd = *forward.entry(team).or_insert(found);
            let back = *backward.entry(found).or_insert(team);
            if found.is_none() || fwd != found || back != team {
                errors.push(PlacementError::TeamMismatch {
                    player: p.player_id.clone(),
                    expected: placed.team.clone(),
                    found: p.team.clone(),
                });
            }
        }
    }
    for id in placed.keys().filter(|id| !seen.contains(*id)) {
        errors.push(PlacementError::MissingPlayer((*id).to_owned()));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(PlacementMismatch { errors })
    }
}
