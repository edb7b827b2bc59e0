//! Player profiles and their recent matches.
//!
//! A profile is what the result consumer keeps per player in DynamoDB (the source of
//! truth), shown read-only: nothing here lets a client write a rating or a record.

use serde::{Deserialize, Serialize};

use super::EpochMillis;
use super::leaderboard::BoardId;
use super::validate::{
    DEFAULT_RECENT_MATCHES, MAX_RECENT_MATCHES, ValidationError, validate_limit,
};

/// A player's record on one board (overall, or one season and/or mode).
///
/// Wins, losses and draws are as the mode's result rules define them (in free-for-all
/// modes, first place is a win); a match left early counts as a loss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    /// The rating's central estimate (the rating system's μ, or Glicko's r).
    pub rating: f64,
    /// The rating's uncertainty (σ, or Glicko's RD): large for new players, shrinking
    /// with games. Pages may show `rating - 3 * rating_deviation` as a conservative value.
    pub rating_deviation: f64,
    /// Matches played.
    pub games: u32,
    /// Matches won.
    pub wins: u32,
    /// Matches lost.
    pub losses: u32,
    /// Matches drawn.
    pub draws: u32,
    /// The current streak: `+n` after n wins in a row, `-n` after n losses in a row, 0
    /// before the first match or after a draw.
    pub streak: i32,
}

/// A player's record on one board other than the global one, such as a season.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardStats {
    /// The board (never the global board, which is [`Profile::overall`]).
    pub board: BoardId,
    /// The record there.
    pub stats: Stats,
}

/// Body of `GET /v1/players/{player_id}/profile`.
///
/// ```json
/// {"player_id": "p-1", "display_name": "Ann",
///  "overall": {"rating": 27.5, "rating_deviation": 4.1, "games": 40, "wins": 24,
///              "losses": 15, "draws": 1, "streak": 3},
///  "boards": [{"board": {"season": "2025-spring", "mode": null}, "stats": {"…": 0}}],
///  "last_match_at": 1700000000000, "updated_at": 1700000000500}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    /// The player.
    pub player_id: String,
    /// The name to show, or `null` when the player has not set one.
    pub display_name: Option<String>,
    /// The record on the global board (all time, all modes).
    pub overall: Stats,
    /// The record on every other board the player has played on: per season (the season
    /// stats), per mode, and per season and mode. Ordered by board (season, then mode,
    /// `null` first).
    pub boards: Vec<BoardStats>,
    /// When the player's last counted match ended; `null` before the first.
    pub last_match_at: Option<EpochMillis>,
    /// When the profile last changed.
    pub updated_at: EpochMillis,
}

/// How a match went for the player.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MatchOutcome {
    /// The player (or their team) won.
    Win,
    /// The player (or their team) lost, or left early.
    Loss,
    /// A draw.
    Draw,
}

/// One of a player's recent matches, from the player's point of view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecentMatch {
    /// The match id (the GameLift game session id).
    pub match_id: String,
    /// The mode played.
    pub mode: String,
    /// The season the match counted for; `null` if it ended outside any season.
    pub season: Option<String>,
    /// When the match ended.
    pub ended_at: EpochMillis,
    /// Win, loss or draw.
    pub outcome: MatchOutcome,
    /// Final placement of the player's team (or of the player, in free-for-all), 1 for the
    /// best; tied teams share a placement.
    pub placement: u32,
    /// The player's team name; `null` in free-for-all modes.
    pub team: Option<String>,
    /// The player's score, in the mode's own unit; `null` when the mode keeps none.
    /// Stays within ±2^53 so JavaScript reads it exactly.
    pub score: Option<i64>,
    /// How much the match moved the player's rating (negative for a drop).
    pub rating_change: f64,
    /// The rating after the match.
    pub rating_after: f64,
    /// Whether the player left before the end (counted as a loss).
    pub left_early: bool,
}

/// Query string of `GET /v1/players/{player_id}/matches`: `?limit=20`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct RecentMatchesQuery {
    /// How many matches, 1..=[`MAX_RECENT_MATCHES`]; [`DEFAULT_RECENT_MATCHES`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl RecentMatchesQuery {
    /// The limit, with the default applied.
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_RECENT_MATCHES)
    }

    /// Checks the limit.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_limit(self.limit, MAX_RECENT_MATCHES)
    }
}

/// Body of `GET /v1/players/{player_id}/matches`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecentMatches {
    /// The player.
    pub player_id: String,
    /// The matches, newest first; fewer than asked when the player has played fewer (or
    /// the profile keeps fewer).
    pub matches: Vec<RecentMatch>,
}
