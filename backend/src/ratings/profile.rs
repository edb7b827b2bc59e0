//! The stored player profile: what the profile store keeps per player, and how one
//! match's outcome is written into it.

use protocol::http::{BoardId, BoardStats, EpochMillis, MatchOutcome, Profile, RecentMatch, Stats};
use serde::{Deserialize, Serialize};
use skillratings::weng_lin::WengLinRating;

/// A player id, as in [`PlayerResult::player_id`](protocol::result::PlayerResult).
pub type PlayerId = String;

/// How many recent matches a profile keeps, newest first (the HTTP API's default page).
pub const RECENT_MATCHES_KEPT: usize = protocol::http::DEFAULT_RECENT_MATCHES as usize;

/// How many standard deviations the displayed rating sits below μ.
pub const CONSERVATIVE_SIGMAS: f64 = 3.0;

/// The displayed (conservative) rating: `μ − 3σ`, in Weng-Lin's own units.
///
/// Weng-Lin starts a player at μ = 25, σ = 25/3, so a new player shows 0 and a settled
/// strong player shows around 30 to 40. With 99.7 % confidence the player's skill is at
/// least this value, so a lucky newcomer with one win does not top a board over players
/// with hundreds of games. The value is not rescaled: the rankings' composite score keeps
/// 1/100 of a point, which is fine enough for this scale.
pub fn displayed_rating(mu: f64, sigma: f64) -> f64 {
    mu - CONSERVATIVE_SIGMAS * sigma
}

/// A player's record on one board: the Weng-Lin rating and the win/loss bookkeeping.
///
/// Every board rates on its own (a season board starts from Weng-Lin's defaults), so
/// a player's season rating reflects that season only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingStats {
    /// Weng-Lin's μ: the central estimate of skill (25 for a new player).
    pub mu: f64,
    /// Weng-Lin's σ: the uncertainty of μ (25/3 for a new player), shrinking with games.
    pub sigma: f64,
    /// The displayed rating, [`displayed_rating`]`(mu, sigma)`; the value boards rank by.
    pub rating: f64,
    /// When the displayed rating took its current value (a match's end); the rankings'
    /// tie-break ("who got there first"), and what `rebuild-rankings` reads back. `None`
    /// before the first match.
    pub rating_since: Option<EpochMillis>,
    /// Matches played (cut-short ones included).
    pub games: u32,
    /// Matches won.
    pub wins: u32,
    /// Matches lost (leaving early included).
    pub losses: u32,
    /// Matches drawn.
    pub draws: u32,
    /// `+n` after n wins in a row, `-n` after n losses in a row, 0 after a draw or before
    /// the first match.
    pub streak: i32,
    /// The latest end time of a match counted here; `None` before the first. A result
    /// delivered late never moves it backwards.
    pub last_match_at: Option<EpochMillis>,
}

impl Default for RatingStats {
    fn default() -> Self {
        Self::from_weng_lin(WengLinRating::new())
    }
}

impl RatingStats {
    /// The record of a player who has not played on the board: Weng-Lin's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    fn from_weng_lin(r: WengLinRating) -> Self {
        RatingStats {
            mu: r.rating,
            sigma: r.uncertainty,
            rating: displayed_rating(r.rating, r.uncertainty),
            rating_since: None,
            games: 0,
            wins: 0,
            losses: 0,
            draws: 0,
            streak: 0,
            last_match_at: None,
        }
    }

    /// μ and σ as the rating crate takes them.
    pub fn weng_lin(&self) -> WengLinRating {
        WengLinRating {
            rating: self.mu,
            uncertainty: self.sigma,
        }
    }

    /// Writes one match: the new rating, the outcome, the time.
    pub(crate) fn record(&mut self, new: WengLinRating, outcome: MatchOutcome, at: EpochMillis) {
        let rating = displayed_rating(new.rating, new.uncertainty);
        if self.rating_since.is_none() || rating.to_bits() != self.rating.to_bits() {
            self.rating_since = Some(at);
        }
        self.mu = new.rating;
        self.sigma = new.uncertainty;
        self.rating = rating;
        self.games = self.games.saturating_add(1);
        match outcome {
            MatchOutcome::Win => {
                self.wins = self.wins.saturating_add(1);
                self.streak = self.streak.max(0).saturating_add(1);
            }
            MatchOutcome::Loss => {
                self.losses = self.losses.saturating_add(1);
                self.streak = self.streak.min(0).saturating_sub(1);
            }
            MatchOutcome::Draw => {
                self.draws = self.draws.saturating_add(1);
                self.streak = 0;
            }
        }
        self.last_match_at = Some(self.last_match_at.map_or(at, |t| t.max(at)));
    }

    /// The HTTP view of this record.
    pub fn to_http(&self) -> Stats {
        Stats {
            rating: self.mu,
            rating_deviation: self.sigma,
            games: self.games,
            wins: self.wins,
            losses: self.losses,
            draws: self.draws,
            streak: self.streak,
        }
    }
}

/// A player's record on one board other than the global one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardRecord {
    /// The board (a mode, a season, or a season and mode; never [`BoardId::GLOBAL`]).
    pub board: BoardId,
    /// The record there.
    pub stats: RatingStats,
}

/// The stored profile of one player: the profile store's record, the truth that the
/// rankings are derived from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlayerProfile {
    /// The player.
    pub player_id: PlayerId,
    /// The name to show; `None` until the player sets one. Applying a result keeps it.
    pub display_name: Option<String>,
    /// Optimistic-concurrency version: 0 for a profile never stored, and one more after
    /// each applied result. The store writes a profile only if the stored version is
    /// still the one the profile was read at (`version − 1`, or absent for 1).
    pub version: u64,
    /// The record on the global board (all time, all modes).
    pub overall: RatingStats,
    /// The records on the other boards the player has played on, ordered by board.
    pub boards: Vec<BoardRecord>,
    /// The last [`RECENT_MATCHES_KEPT`] matches, newest first (by end time, then match id).
    pub recent: Vec<RecentMatch>,
}

impl PlayerProfile {
    /// The profile of a player never seen before: Weng-Lin's defaults, no games, version 0.
    pub fn new(player_id: &str) -> Self {
        PlayerProfile {
            player_id: player_id.to_owned(),
            display_name: None,
            version: 0,
            overall: RatingStats::new(),
            boards: Vec::new(),
            recent: Vec::new(),
        }
    }

    /// The record on `board` ([`BoardId::GLOBAL`] is [`overall`](Self::overall)), if the
    /// player has one.
    pub fn stats(&self, board: &BoardId) -> Option<&RatingStats> {
        if *board == BoardId::GLOBAL {
            return Some(&self.overall);
        }
        self.boards
            .binary_search_by(|r| r.board.cmp(board))
            .ok()
            .map(|i| &self.boards[i].stats)
    }

    /// The record on `board`, created with defaults (keeping the boards ordered) if absent.
    pub(crate) fn stats_mut(&mut self, board: &BoardId) -> &mut RatingStats {
        if *board == BoardId::GLOBAL {
            return &mut self.overall;
        }
        let i = match self.boards.binary_search_by(|r| r.board.cmp(board)) {
            Ok(i) => i,
            Err(i) => {
                let record = BoardRecord {
                    board: board.clone(),
                    stats: RatingStats::new(),
                };
                self.boards.insert(i, record);
                i
            }
        };
        &mut self.boards[i].stats
    }

    /// Adds a match to the recent list at its place (newest first), keeping at most
    /// [`RECENT_MATCHES_KEPT`]; a late result older than every kept one falls off.
    pub(crate) fn push_recent(&mut self, m: RecentMatch) {
        let newer = |a: &RecentMatch| (a.ended_at, &a.match_id) > (m.ended_at, &m.match_id);
        let at = self.recent.iter().take_while(|r| newer(r)).count();
        self.recent.insert(at, m);
        self.recent.truncate(RECENT_MATCHES_KEPT);
    }

    /// The HTTP view of this profile; `updated_at` is the store's write time.
    pub fn to_http(&self, updated_at: EpochMillis) -> Profile {
        Profile {
            player_id: self.player_id.clone(),
            display_name: self.display_name.clone(),
            overall: self.overall.to_http(),
            boards: self
                .boards
                .iter()
                .map(|r| BoardStats {
                    board: r.board.clone(),
                    stats: r.stats.to_http(),
                })
                .collect(),
            last_match_at: self.overall.last_match_at,
            updated_at,
        }
    }
}
