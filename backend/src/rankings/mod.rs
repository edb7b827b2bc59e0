//! Rankings: leaderboards as sorted sets, in Redis or in process.
//!
//! **What it is:** a derived index of players' ratings, one sorted set per board
//! ([`BoardId`]: global, per mode, per season, per season and mode), ordered by a
//! [`Composite`] score (rating, then who reached it first), with the four queries the
//! HTTP leaderboards serve: top N, a player's rank, around a player, and among friends.
//! Two implementations of one trait, [`Rankings`]: [`RedisRankings`] (Redis or Redis
//! Cluster, production) and [`EmbeddedRankings`] (in process, persisted under a data
//! directory, for local runs without Redis). One contract suite
//! (`backend/tests/rankings_contract.rs`) runs against both.
//!
//! **What it is not:** the truth. DynamoDB holds the profiles; after a result is applied
//! there, the consumer copies the new **absolute** ratings here. Every write sets a value
//! (`ZADD`), none increments, so a replayed or duplicated write changes nothing, and a
//! lost board is recreated from DynamoDB with [`Rankings::rebuild`] (used by
//! `backend rebuild-rankings`). It keeps no profile data: the HTTP layer joins a page
//! with the profiles (display names, wins) to make a
//! [`LeaderboardPage`](protocol::http::LeaderboardPage). It does not validate ids or
//! caps either: handlers do that with the protocol's `validate` functions first.
//!
//! **Ordering across writers:** a write is last-writer-wins per (board, player). Writes
//! for one player come from the consumer after its DynamoDB transaction, so two results
//! of the same player applied concurrently could land here in either order; rebuilding
//! (or the player's next result) repairs that.
//!
//! Ranks count from 1 and are unique: equal composites (same rating to 1/100, same
//! second) are ordered by player id, highest bytes first, which is Redis's `ZREVRANGE`
//! order and the embedded store's too, so both give the same pages.

use std::future::Future;
use std::pin::Pin;

use protocol::http::BoardId;

mod composite;
mod embedded;
mod redis_store;
mod sorted_set;

pub use composite::{
    Composite, CompositeError, MAX_COMPOSITE, MAX_QUANTISED_RATING, RATING_MAX, RATING_MIN,
    RATING_STEPS_PER_POINT, Score, TIME_BITS, TIME_EPOCH, TIME_MAX, board_order,
};
pub use embedded::EmbeddedRankings;
pub use redis_store::{DEFAULT_KEY_PREFIX, RedisRankings, board_key};

/// A boxed future, so that [`Rankings`] is dyn-compatible and stores live behind
/// `Arc<dyn Rankings>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One absolute write: `player` has `score` on `board`.
#[derive(Debug, Clone, PartialEq)]
pub struct RankingUpdate {
    /// The board.
    pub board: BoardId,
    /// The player.
    pub player: String,
    /// The player's rating for that board, and when it was reached.
    pub score: Score,
}

/// A ranked row.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedEntry {
    /// Position on the board, 1 for the best.
    pub rank: u64,
    /// The player.
    pub player: String,
    /// The rating (quantised to 1/100) and when it was reached (clamped into the
    /// composite's window).
    pub score: Score,
}

/// Rows of a board, best first, with the board's size.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RankedPage {
    /// How many players the whole board ranks.
    pub total_players: u64,
    /// The rows, best first.
    pub entries: Vec<RankedEntry>,
}

/// A player's row on a board, if ranked, with the board's size.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlayerRanking {
    /// How many players the whole board ranks.
    pub total_players: u64,
    /// The player's row, or `None` when the player is not on the board.
    pub entry: Option<RankedEntry>,
}

/// What a rankings store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RankingsError {
    /// Redis answered with an error or could not be reached; transient in general.
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// A file of the embedded store could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The embedded store's log has a line that is not a record (other than a torn
    /// last line, which is dropped): the file was damaged or written by something else.
    #[error("rankings log {path} line {line}: {reason}")]
    CorruptLog {
        /// The log file.
        path: std::path::PathBuf,
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Another process holds the embedded store's data directory.
    #[error("rankings data directory {0} is in use by another process")]
    Locked(std::path::PathBuf),
    /// A rating was NaN; nothing of the call was written.
    #[error("player {player}: the rating is NaN")]
    NotANumber {
        /// The player whose rating was NaN.
        player: String,
    },
    /// A score stored in Redis is not a composite score (the key holds foreign data).
    #[error("board key {key}: {source}")]
    ForeignScore {
        /// The Redis key.
        key: String,
        /// What is wrong with the score.
        source: CompositeError,
    },
}

/// A leaderboard store. Every method is one consistent read or one all-or-nothing write
/// per board (see each implementation for how).
///
/// Methods return [`BoxFuture`]s so the trait is dyn-compatible (`Arc<dyn Rankings>`).
pub trait Rankings: Send + Sync {
    /// Writes absolute scores: each player's score on each board replaces any earlier
    /// one. Applying the same updates twice changes nothing. Out-of-range scores are
    /// clamped (see [`Composite`]) with a warning; a NaN rating fails the whole call
    /// before anything is written. Meant to be called once per match result.
    fn set_many<'a>(
        &'a self,
        updates: &'a [RankingUpdate],
    ) -> BoxFuture<'a, Result<(), RankingsError>>;

    /// Rows `offset + 1 ..= offset + limit` of a board (ranks from 1); empty past the end.
    fn top<'a>(
        &'a self,
        board: &'a BoardId,
        offset: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<RankedPage, RankingsError>>;

    /// A player's rank and score on a board.
    fn rank<'a>(
        &'a self,
        board: &'a BoardId,
        player: &'a str,
    ) -> BoxFuture<'a, Result<PlayerRanking, RankingsError>>;

    /// Up to `radius` rows above the player, the player, and up to `radius` below
    /// (consecutive ranks); no rows when the player is not on the board.
    fn around<'a>(
        &'a self,
        board: &'a BoardId,
        player: &'a str,
        radius: u64,
    ) -> BoxFuture<'a, Result<RankedPage, RankingsError>>;

    /// The ranked players among `players`, best first, each with the rank on the whole
    /// board (the same rank [`Rankings::rank`] gives, so not consecutive); players not on
    /// the board are left out, duplicates appear once.
    fn friends<'a>(
        &'a self,
        board: &'a BoardId,
        players: &'a [String],
    ) -> BoxFuture<'a, Result<RankedPage, RankingsError>>;

    /// Takes a player off every board (account deletion).
    fn remove<'a>(&'a self, player: &'a str) -> BoxFuture<'a, Result<(), RankingsError>>;

    /// Deletes a board.
    fn clear_board<'a>(&'a self, board: &'a BoardId) -> BoxFuture<'a, Result<(), RankingsError>>;

    /// Replaces a board with exactly `entries`, atomically: readers see the old board
    /// or the new one, never a mix. Writes made to the board while it is rebuilt are
    /// lost, so `rebuild-rankings` reads the truth after pausing writers (or re-applies).
    fn rebuild<'a>(
        &'a self,
        board: &'a BoardId,
        entries: &'a [(String, Score)],
    ) -> BoxFuture<'a, Result<(), RankingsError>>;

    /// The boards that have been written to and not cleared, in [`BoardId`] order.
    fn boards(&self) -> BoxFuture<'_, Result<Vec<BoardId>, RankingsError>>;

    /// Writes one player's score to several boards (see [`Rankings::set_many`]).
    fn set<'a>(
        &'a self,
        player: &'a str,
        boards: &'a [BoardId],
        score: Score,
    ) -> BoxFuture<'a, Result<(), RankingsError>> {
        Box::pin(async move {
            let updates: Vec<RankingUpdate> = boards
                .iter()
                .map(|board| RankingUpdate {
                    board: board.clone(),
                    player: player.to_owned(),
                    score,
                })
                .collect();
            self.set_many(&updates).await
        })
    }
}

/// The boards a match counts for: global and its mode, plus its season and its season
/// and mode when it has a season.
pub fn boards_for_match(season: Option<&str>, mode: &str) -> Vec<BoardId> {
    let mut boards = vec![
        BoardId::GLOBAL,
        BoardId {
            season: None,
            mode: Some(mode.to_owned()),
        },
    ];
    if let Some(season) = season {
        boards.push(BoardId {
            season: Some(season.to_owned()),
            mode: None,
        });
        boards.push(BoardId {
            season: Some(season.to_owned()),
            mode: Some(mode.to_owned()),
        });
    }
    boards
}

/// Encodes a score for storage, clamping with a warning; `Err` for NaN.
fn encode_for_store(player: &str, score: Score) -> Result<Composite, RankingsError> {
    match Composite::encode(score) {
        Ok(composite) => Ok(composite),
        Err(CompositeError::OutOfRange { clamped, .. }) => {
            tracing::warn!(
                player,
                rating = score.rating,
                reached_at = score.reached_at,
                "rankings: score out of the composite's range; clamped"
            );
            Ok(clamped)
        }
        Err(_) => Err(RankingsError::NotANumber {
            player: player.to_owned(),
        }),
    }
}
