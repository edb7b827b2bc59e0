//! Profiles: the truth about players, and the exactly-once application of match results.
//!
//! **What it is:** one trait, [`ProfileStore`], that keeps three things: players'
//! [`PlayerProfile`]s (each with an optimistic-concurrency `version`), the set of match
//! results already applied, and the [`PlacementRecord`]s the matchmaker writes. Its one
//! write that matters, [`ProfileStore::commit_result`], is all-or-nothing: it records the
//! match as applied and writes every player's new profile, or changes nothing and says
//! why ([`CommitOutcome`]). [`apply_exactly_once`] builds the consumer's loop on it: read
//! the profiles, rate with [`ratings::apply`](crate::ratings::apply), commit with the
//! versions read, and retry with fresh profiles when another result got there first.
//! [`EmbeddedProfiles`] is the in-process implementation (a fsynced log under a data
//! directory); [`DynamoProfiles`] follows the mapping below. One contract suite
//! (`backend/tests/profiles_contract.rs`) runs against every implementation.
//!
//! **What it is not:** no rating rules (those are in [`ratings`](crate::ratings)), no
//! signature checks, no rankings. After an [`ApplyOutcome::Applied`], the caller writes
//! the rankings ([`Applied::rankings`]); after [`ApplyOutcome::AlreadyApplied`] it may
//! rewrite them from the current profiles ([`ranking_updates`]), since a crash may have
//! come between the commit and the rankings write.
//!
//! # The DynamoDB mapping
//!
//! Three tables, each with a string partition key named `pk` and no sort key (names are
//! `{prefix}profiles`, `{prefix}applied-matches`, `{prefix}placements`):
//!
//! | table | `pk` | other attributes |
//! |---|---|---|
//! | profiles | player id | `version` (N), `profile` (S: [`encode_profile`]) |
//! | applied-matches | match id | `players` (SS: the players written) |
//! | placements | match id | `placement` (S: the [`PlacementRecord`] as JSON), `expires_at` (N: epoch seconds, the table's TTL attribute) |
//!
//! Placement records expire [`DEFAULT_PLACEMENT_RETENTION`] (30 days) after they are
//! written ([`DynamoProfiles::with_placement_retention`]); `backend init` enables the
//! table's TTL on [`PLACEMENT_TTL_ATTRIBUTE`]. Applied-match items are kept (they are
//! small; a result for an expired placement is refused anyway). The embedded store
//! keeps every placement.
//!
//! The JSON blob keeps the mapping mechanical; [`encode_profile`] writes floats as their
//! bits, because the workspace's `serde_json` (without `float_roundtrip`) may read a
//! float back one ULP off. `version` is a top-level number so conditions can read it.
//!
//! * [`get_profiles`](ProfileStore::get_profiles): `BatchGetItem` with
//!   `ConsistentRead = true` (a stale read only costs a retry, but costs it every time),
//!   in chunks of 100 keys, re-requesting `UnprocessedKeys`.
//! * [`get_profile`](ProfileStore::get_profile), [`get_placement`](ProfileStore::get_placement),
//!   [`is_applied`](ProfileStore::is_applied): `GetItem`, `ConsistentRead = true`.
//! * [`put_placement`](ProfileStore::put_placement): `PutItem` with
//!   `ConditionExpression = attribute_not_exists(pk)` and
//!   `ReturnValuesOnConditionCheckFailure = ALL_OLD`; on `ConditionalCheckFailedException`
//!   compare the returned record: equal ⇒ `Ok`, different ⇒
//!   [`ProfilesError::PlacementConflict`].
//! * [`commit_result`](ProfileStore::commit_result): one `TransactWriteItems`, items in
//!   this order:
//!   - item 0: `Put` into applied-matches `{pk: match id, players}` with
//!     `ConditionExpression = attribute_not_exists(pk)`;
//!   - items 1 …: one `Put` per new profile into profiles `{pk, version, profile}` with
//!     `ConditionExpression = attribute_not_exists(pk)` when the expected version is 0,
//!     else `version = :expected` (`:expected` the version read), in player-id order.
//!
//!   Success ⇒ [`CommitOutcome::Applied`]. `TransactionCanceledException` carries one
//!   `CancellationReasons` entry per item, in item order:
//!   item 0 `ConditionalCheckFailed` ⇒ [`CommitOutcome::AlreadyApplied`] (whatever the
//!   others say); otherwise items ≥ 1 with `ConditionalCheckFailed` or
//!   `TransactionConflict` (another transaction on the same profile in flight) ⇒
//!   [`CommitOutcome::VersionConflict`] naming those players; any other code
//!   (`ThrottlingError`, `ProvisionedThroughputExceeded`, `ValidationError`, …) ⇒
//!   [`ProfilesError::Backend`] (the message is left for redelivery).
//!   A `ClientRequestToken` derived from the match id **and** the expected versions makes
//!   an SDK retry of the same attempt idempotent without tripping
//!   `IdempotentParameterMismatch` on a retry with fresh versions. Should the response of
//!   a successful commit be lost, the next attempt finds the match record:
//!   `AlreadyApplied`, hence [`ranking_updates`].
//!   Limits: a transaction holds at most 100 items and 4 MB, so a commit holds at most
//!   [`MAX_COMMIT_PLAYERS`] players (more is refused with
//!   [`ProfilesError::InvalidCommit`] before anything is sent).
//! * [`all_profiles`](ProfileStore::all_profiles): `Scan` with `ConsistentRead = true`,
//!   `Limit = limit`, `ExclusiveStartKey = {pk: cursor}`; the next cursor is
//!   `LastEvaluatedKey.pk`. Pages come in no particular order and may be short (even
//!   empty) before the end: only a `None` cursor ends the scan.
//!
//! Applied-match records must never expire (no TTL): a duplicate that arrives after its
//! record is gone would be applied twice.

use std::collections::{BTreeMap, BTreeSet};

use protocol::http::{BoardId, RecentMatch};
use protocol::result::MatchResult;

use crate::rankings::{RankingUpdate, Score};
use crate::ratings::{
    Applied, ApplyError, PlacementMismatch, PlacementRecord, PlayerId, PlayerProfile,
};

mod dynamo;
mod embedded;
mod exact_json;

pub use crate::rankings::BoxFuture;
pub use dynamo::{
    BATCH_GET_KEYS, DEFAULT_PLACEMENT_RETENTION, DynamoProfiles, DynamoTables,
    MAX_BATCH_GET_ROUNDS, PLACEMENT_TTL_ATTRIBUTE,
};
pub use embedded::EmbeddedProfiles;

/// Most players one [`ProfileStore::commit_result`] takes: DynamoDB's 100 items per
/// transaction, less the match record. Equal to the protocol's cap on a result.
pub const MAX_COMMIT_PLAYERS: usize = protocol::result::MAX_RESULT_PLAYERS;

/// How many times [`apply_exactly_once`] commits before giving up on version conflicts.
pub const MAX_APPLY_ATTEMPTS: u32 = 5;

/// What [`ProfileStore::commit_result`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The match record and every profile were written.
    Applied,
    /// The match had already been applied; nothing changed.
    AlreadyApplied,
    /// Some stored profiles are not at the expected version (or exist when expected
    /// absent); nothing changed. Read them again and recompute.
    VersionConflict {
        /// The players whose stored version differs, ordered by id.
        players: Vec<PlayerId>,
    },
}

/// One page of [`ProfileStore::all_profiles`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfilePage {
    /// The profiles of this page, in no promised order.
    pub profiles: Vec<PlayerProfile>,
    /// Where the next page starts (opaque; pass it back), `None` after the last page.
    pub next: Option<String>,
}

/// What a profile store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ProfilesError {
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
    /// The embedded store's log has a line that is not a record (other than a torn last
    /// line, which is dropped).
    #[error("profiles log {path} line {line}: {reason}")]
    CorruptLog {
        /// The log file.
        path: std::path::PathBuf,
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// An earlier append to the embedded store's log failed, so its tail is unknown and
    /// the store takes no more writes; reopening the directory recovers.
    #[error(
        "profiles log {path} failed earlier ({cause}); no more writes until the store is reopened"
    )]
    LogFailed {
        /// The log file.
        path: std::path::PathBuf,
        /// The first failure.
        cause: String,
    },
    /// Another process holds the embedded store's data directory.
    #[error("profiles data directory {0} is in use by another process")]
    Locked(std::path::PathBuf),
    /// A different placement record is already stored for this match.
    #[error("a different placement is already recorded for match {match_id}")]
    PlacementConflict {
        /// The match.
        match_id: String,
    },
    /// The commit's arguments disagree with each other (a caller bug); nothing was
    /// written.
    #[error("invalid commit for match {match_id}: {reason}")]
    InvalidCommit {
        /// The match.
        match_id: String,
        /// What is wrong.
        reason: String,
    },
    /// A stored DynamoDB item is not what the store writes (a missing attribute, a
    /// profile that does not decode, a version that disagrees with its profile).
    #[error("table {table} item {key}: {reason}")]
    CorruptItem {
        /// The table.
        table: String,
        /// The item's `pk`.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The backing service failed (throttling, unreachable, …); transient in general.
    #[error("profile store backend: {0}")]
    Backend(String),
}

/// The profile store: profiles, applied matches and placements. Every method is one
/// consistent read or one all-or-nothing write.
///
/// Methods return [`BoxFuture`]s so the trait is dyn-compatible (`Arc<dyn ProfileStore>`).
pub trait ProfileStore: Send + Sync {
    /// The stored profiles of `players`; players without one are absent (duplicates in
    /// `players` are fine).
    fn get_profiles<'a>(
        &'a self,
        players: &'a [PlayerId],
    ) -> BoxFuture<'a, Result<BTreeMap<PlayerId, PlayerProfile>, ProfilesError>>;

    /// One player's stored profile, if any.
    fn get_profile<'a>(
        &'a self,
        player: &'a str,
    ) -> BoxFuture<'a, Result<Option<PlayerProfile>, ProfilesError>> {
        Box::pin(async move {
            let players = [player.to_owned()];
            Ok(self.get_profiles(&players).await?.remove(player))
        })
    }

    /// Stores the matchmaker's placement record. Storing an identical record again is
    /// `Ok` and changes nothing; a different one for the same match is
    /// [`ProfilesError::PlacementConflict`].
    fn put_placement<'a>(
        &'a self,
        record: &'a PlacementRecord,
    ) -> BoxFuture<'a, Result<(), ProfilesError>>;

    /// Stores several placement records, each as [`put_placement`](Self::put_placement)
    /// would; the answers are in the order of `records`. The default stores them
    /// concurrently, one call each; a store that can make them durable together overrides
    /// it.
    fn put_placements<'a>(
        &'a self,
        records: Vec<PlacementRecord>,
    ) -> BoxFuture<'a, Vec<Result<(), ProfilesError>>> {
        Box::pin(async move {
            futures_util::future::join_all(records.iter().map(|r| self.put_placement(r))).await
        })
    }

    /// The placement record of a match, if stored.
    fn get_placement<'a>(
        &'a self,
        match_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<PlacementRecord>, ProfilesError>>;

    /// Whether a result for `match_id` has been committed.
    fn is_applied<'a>(&'a self, match_id: &'a str) -> BoxFuture<'a, Result<bool, ProfilesError>>;

    /// Commits one match result, atomically: when the match is already recorded ⇒
    /// [`CommitOutcome::AlreadyApplied`]; else when any stored profile's version differs
    /// from `expected_versions` (0: must not exist) ⇒ [`CommitOutcome::VersionConflict`];
    /// else records the match and writes every profile ⇒ [`CommitOutcome::Applied`].
    /// Only `Applied` changes anything.
    ///
    /// `expected_versions` must name exactly the players of `new_profiles`, each new
    /// profile one version above its expected one with finite ratings, player ids unique, at most
    /// [`MAX_COMMIT_PLAYERS`]; otherwise [`ProfilesError::InvalidCommit`] and nothing is
    /// written.
    fn commit_result<'a>(
        &'a self,
        match_id: &'a str,
        new_profiles: &'a [PlayerProfile],
        expected_versions: &'a BTreeMap<PlayerId, u64>,
    ) -> BoxFuture<'a, Result<CommitOutcome, ProfilesError>>;

    /// One page of every stored profile, for `rebuild-rankings`: start with `None`, pass
    /// each page's [`next`](ProfilePage::next) back, stop when it is `None`. At most
    /// `limit` profiles per page (0 is taken as 1; a page may hold fewer before the end).
    fn all_profiles<'a>(
        &'a self,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<ProfilePage, ProfilesError>>;
}

/// A profile as stored JSON, every float kept bit for bit (`{"f64bits":<u64>}`), for a
/// store's string attribute or file.
pub fn encode_profile(profile: &PlayerProfile) -> String {
    let bytes = exact_json::to_vec(profile).expect("profiles serialize");
    String::from_utf8(bytes).expect("JSON is UTF-8")
}

/// Reads a profile written by [`encode_profile`].
///
/// # Errors
///
/// What is wrong with the text, when it is not such a profile.
pub fn decode_profile(text: &str) -> Result<PlayerProfile, String> {
    exact_json::from_slice(text.as_bytes())
}

fn finite(profile: &PlayerProfile) -> bool {
    let stats = std::iter::once(&profile.overall).chain(profile.boards.iter().map(|b| &b.stats));
    stats
        .flat_map(|s| [s.mu, s.sigma, s.rating])
        .chain(
            profile
                .recent
                .iter()
                .flat_map(|m| [m.rating_change, m.rating_after]),
        )
        .all(f64::is_finite)
}

/// Checks [`ProfileStore::commit_result`]'s arguments (see there); every implementation
/// calls it before writing.
pub fn validate_commit(
    match_id: &str,
    new_profiles: &[PlayerProfile],
    expected_versions: &BTreeMap<PlayerId, u64>,
) -> Result<(), ProfilesError> {
    let invalid = |reason: String| ProfilesError::InvalidCommit {
        match_id: match_id.to_owned(),
        reason,
    };
    if new_profiles.len() > MAX_COMMIT_PLAYERS {
        return Err(invalid(format!(
            "{} players, at most {MAX_COMMIT_PLAYERS} per commit",
            new_profiles.len()
        )));
    }
    let mut seen = BTreeSet::new();
    for p in new_profiles {
        if !seen.insert(p.player_id.as_str()) {
            return Err(invalid(format!("player {} appears twice", p.player_id)));
        }
        if !finite(p) {
            return Err(invalid(format!(
                "player {} has a non-finite rating",
                p.player_id
            )));
        }
        let Some(&expected) = expected_versions.get(&p.player_id) else {
            return Err(invalid(format!("no expected version for {}", p.player_id)));
        };
        if expected.checked_add(1) != Some(p.version) {
            return Err(invalid(format!(
                "player {} has version {}, expected {} + 1",
                p.player_id, p.version, expected
            )));
        }
    }
    if expected_versions.len() != seen.len() {
        return Err(invalid(
            "expected versions name players without a new profile".to_owned(),
        ));
    }
    Ok(())
}

/// The recent matches of a player, newest first, at most `limit` (the profile keeps
/// [`RECENT_MATCHES_KEPT`](crate::ratings::RECENT_MATCHES_KEPT)); empty for an unknown
/// player. The profiles API's `GET /v1/players/{id}/matches`.
pub async fn recent_matches(
    store: &dyn ProfileStore,
    player: &str,
    limit: usize,
) -> Result<Vec<RecentMatch>, ProfilesError> {
    Ok(store
        .get_profile(player)
        .await?
        .map(|mut p| {
            p.recent.truncate(limit);
            p.recent
        })
        .unwrap_or_default())
}

/// The absolute ranking scores of `profiles` on `boards` (players without a rating
/// there yet are skipped): what [`apply`](crate::ratings::apply) produced for them when
/// their last result was applied. Used after [`ApplyOutcome::AlreadyApplied`] (the
/// rankings write may have been lost in a crash) and by `rebuild-rankings`.
pub fn ranking_updates<'a>(
    profiles: impl IntoIterator<Item = &'a PlayerProfile>,
    boards: &[BoardId],
) -> Vec<RankingUpdate> {
    let profiles: Vec<&PlayerProfile> = profiles.into_iter().collect();
    let mut updates = Vec::new();
    for board in boards {
        for p in &profiles {
            let Some(stats) = p.stats(board) else {
                continue;
            };
            let Some(since) = stats.rating_since else {
                continue;
            };
            updates.push(RankingUpdate {
                board: board.clone(),
                player: p.player_id.clone(),
                score: Score::new(stats.rating, since / 1000),
            });
        }
    }
    updates
}

/// Whether [`apply_exactly_once`] checks the result against its placement record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacementCheck {
    /// The placement record must exist and name the result's players
    /// ([`check_against_placement`](crate::ratings::check_against_placement)).
    Required,
    /// No check (the caller checked already, or the mode has no matchmaker).
    Skip,
}

/// What [`apply_exactly_once`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyOutcome {
    /// This call applied the result; write `applied.rankings` next.
    Applied {
        /// The new profiles, ranking scores and rating changes.
        applied: Applied,
        /// Commits it took (1 without conflicts).
        attempts: u32,
    },
    /// The result had been applied before; nothing changed. `profiles` are the players'
    /// current profiles (those stored; [`ranking_updates`] turns them into scores).
    AlreadyApplied {
        /// The current stored profiles of the result's players.
        profiles: BTreeMap<PlayerId, PlayerProfile>,
    },
}

/// Why [`apply_exactly_once`] did not apply a result.
#[derive(Debug, thiserror::Error)]
pub enum ApplyExactlyOnceError {
    /// The store failed; transient in general (leave the message for redelivery).
    #[error(transparent)]
    Store(#[from] ProfilesError),
    /// The result cannot be rated (not transient).
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// No placement record for the match (with [`PlacementCheck::Required`]).
    #[error("no placement recorded for match {0}")]
    UnknownMatch(String),
    /// The result disagrees with its placement record.
    #[error(transparent)]
    WrongPlayers(#[from] PlacementMismatch),
    /// Every attempt met a version conflict (heavy contention on a player); transient.
    #[error("match {match_id}: version conflicts on {attempts} attempts (last: {players:?})")]
    TooManyConflicts {
        /// The match.
        match_id: String,
        /// Commits tried.
        attempts: u32,
        /// The players of the last conflict.
        players: Vec<PlayerId>,
    },
}

/// Applies a verified result exactly once: checks the placement (if asked), then loops
/// read profiles → [`ratings::apply`](crate::ratings::apply) → [`ProfileStore::commit_result`]
/// with the versions read, retrying with fresh profiles on a version conflict, up to
/// [`MAX_APPLY_ATTEMPTS`] commits. `season` is the season the match counts for.
///
/// However often it is called for one result, concurrently or not, the profiles change
/// once.
pub async fn apply_exactly_once(
    store: &dyn ProfileStore,
    result: &MatchResult,
    season: Option<&str>,
    placement_check: PlacementCheck,
) -> Result<ApplyOutcome, ApplyExactlyOnceError> {
    if placement_check == PlacementCheck::Required {
        let placement = store
            .get_placement(&result.match_id)
            .await?
            .ok_or_else(|| ApplyExactlyOnceError::UnknownMatch(result.match_id.clone()))?;
        crate::ratings::check_against_placement(result, &placement)?;
    }
    let players: Vec<PlayerId> = result.players.iter().map(|p| p.player_id.clone()).collect();
    let mut last_conflict = Vec::new();
    for attempt in 1..=MAX_APPLY_ATTEMPTS {
        let current = store.get_profiles(&players).await?;
        let expected: BTreeMap<PlayerId, u64> = players
            .iter()
            .map(|p| (p.clone(), current.get(p).map_or(0, |c| c.version)))
            .collect();
        let applied = crate::ratings::apply(result, season, &current)?;
        let new_profiles: Vec<PlayerProfile> = applied.profiles.values().cloned().collect();
        match store
            .commit_result(&result.match_id, &new_profiles, &expected)
            .await?
        {
            CommitOutcome::Applied => {
                return Ok(ApplyOutcome::Applied {
                    applied,
                    attempts: attempt,
                });
            }
            CommitOutcome::AlreadyApplied => {
                let profiles = store.get_profiles(&players).await?;
                return Ok(ApplyOutcome::AlreadyApplied { profiles });
            }
            CommitOutcome::VersionConflict { players } => {
                tracing::debug!(match_id = %result.match_id, attempt, ?players,
                    "profiles: version conflict; retrying with fresh profiles");
                last_conflict = players;
            }
        }
    }
    Err(ApplyExactlyOnceError::TooManyConflicts {
        match_id: result.match_id.clone(),
        attempts: MAX_APPLY_ATTEMPTS,
        players: last_conflict,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile with an awkward float reads back bit for bit through the stored form.
    #[test]
    fn encoded_profiles_read_back_exactly() {
        let mut p = PlayerProfile::new("p-1");
        p.overall.mu = 22.061347176569598;
        p.version = 3;
        let back = decode_profile(&encode_profile(&p)).unwrap();
        assert_eq!(back.overall.mu.to_bits(), p.overall.mu.to_bits());
        assert_eq!(back, p);
    }

    /// A non-finite rating is refused before anything is written (JSON cannot hold it).
    #[test]
    fn non_finite_profiles_are_refused() {
        let mut p = PlayerProfile::new("p-1");
        p.version = 1;
        let expected = BTreeMap::from([("p-1".to_owned(), 0)]);
        assert!(validate_commit("m", std::slice::from_ref(&p), &expected).is_ok());
        p.overall.sigma = f64::INFINITY;
        let err = validate_commit("m", &[p], &expected).unwrap_err();
        assert!(matches!(err, ProfilesError::InvalidCommit { .. }), "{err}");
    }

    /// More players than one DynamoDB transaction holds are refused.
    #[test]
    fn too_many_players_are_refused() {
        let profiles: Vec<PlayerProfile> = (0..=MAX_COMMIT_PLAYERS)
            .map(|i| {
                let mut p = PlayerProfile::new(&format!("p{i}"));
                p.version = 1;
                p
            })
            .collect();
        let expected = profiles.iter().map(|p| (p.player_id.clone(), 0)).collect();
        assert!(validate_commit("m", &profiles, &expected).is_err());
        assert!(validate_commit("m", &profiles[1..], &expected).is_err());
        let fewer: BTreeMap<_, _> = profiles[1..]
            .iter()
            .map(|p| (p.player_id.clone(), 0))
            .collect();
        assert!(validate_commit("m", &profiles[1..], &fewer).is_ok());
    }
}
