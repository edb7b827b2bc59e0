//! [`Pipeline`]: one message through decode, fetch, verify, placement check, the
//! exactly-once commit and the rankings write (the module's decision table), ending in
//! an [`Outcome`] the worker acts on (delete, dead-letter or leave).

use std::sync::Arc;

use protocol::result::{Keyring, MatchResult};

use super::{BlobError, BoxFuture, Decoded, Rejection, ResultBlobs, check_placement, decode};
use crate::profiles::{
    ApplyExactlyOnceError, ApplyOutcome, PlacementCheck, ProfileStore, apply_exactly_once,
    ranking_updates,
};
use crate::rankings::{Rankings, boards_for_match};

/// Points of the pipeline where a [`StepHook`] runs (a test's fault injection: the
/// `backend consume --pause-at` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The message was received and decoded; nothing written yet.
    AfterReceive,
    /// The profiles were committed; the rankings not yet written.
    AfterCommit,
    /// The rankings were written; the message not yet deleted.
    AfterRankings,
}

impl Step {
    /// The step's name on the command line and in the pause line.
    pub const fn name(self) -> &'static str {
        match self {
            Step::AfterReceive => "after-receive",
            Step::AfterCommit => "after-commit",
            Step::AfterRankings => "after-rankings",
        }
    }
}

/// Called at each [`Step`] with the match id; the pipeline awaits the future it returns.
pub type StepHook = Arc<dyn Fn(Step, &str) -> BoxFuture<'static, ()> + Send + Sync>;

/// What to do with a message after [`Pipeline::process`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied by this delivery, rankings written: delete it.
    Applied {
        /// The match.
        match_id: String,
    },
    /// Applied before (a duplicate or a redelivery), rankings rewritten: delete it.
    Duplicate {
        /// The match.
        match_id: String,
    },
    /// Set it aside in the DLQ with this reason.
    Reject(Rejection),
    /// A transient failure: leave it for redelivery.
    Retry {
        /// The match, when the body named one.
        match_id: Option<String>,
        /// What failed.
        cause: String,
    },
}

/// The stores and keys one message needs. Cheap to share behind an `Arc`.
pub struct Pipeline {
    /// Verification keys (all ids accepted during a rotation).
    pub keyring: Keyring,
    /// The truth: profiles, applied matches, placements.
    pub profiles: Arc<dyn ProfileStore>,
    /// The derived leaderboards.
    pub rankings: Arc<dyn Rankings>,
    /// Where pointer bodies are fetched; `None` leaves pointer messages for redelivery.
    pub blobs: Option<Arc<dyn ResultBlobs>>,
    /// The season results count for, if any.
    pub season: Option<String>,
    /// Test hook at each [`Step`]; `None` in production.
    pub hook: Option<StepHook>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("keyring", &self.keyring)
            .field("blobs", &self.blobs.is_some())
            .field("season", &self.season)
            .field("hook", &self.hook.is_some())
            .finish_non_exhaustive()
    }
}

fn retry(match_id: &str, cause: impl std::fmt::Display) -> Outcome {
    Outcome::Retry {
        match_id: Some(match_id.to_owned()),
        cause: cause.to_string(),
    }
}

impl Pipeline {
    async fn hook(&self, step: Step, match_id: &str) {
        if let Some(hook) = &self.hook {
            hook(step, match_id).await;
        }
    }

    /// Runs one message through the decision table (module docs). `receive_count` is
    /// the delivery's count (1 the first time).
    pub async fn process(&self, body: &str, receive_count: u32) -> Outcome {
        let decoded = match decode(body.as_bytes(), &self.keyring) {
            Ok(d) => d,
            Err(rejection) => {
                self.hook(Step::AfterReceive, "-").await;
                return Outcome::Reject(rejection);
            }
        };
        let match_id = decoded.match_id().to_owned();
        self.hook(Step::AfterReceive, &match_id).await;
        let result = match decoded {
            Decoded::Verified(result) => result,
            Decoded::Pointer(pointer) => match self.fetch(&pointer, receive_count).await {
                Ok(result) => result,
                Err(outcome) => return outcome,
            },
        };
        let placement = match self.profiles.get_placement(&match_id).await {
            Ok(p) => p,
            Err(e) => return retry(&match_id, e),
        };
        if let Err(rejection) = check_placement(&result, placement.as_ref()) {
            return Outcome::Reject(rejection);
        }
        self.apply(&result).await
    }

    async fn fetch(
        &self,
        pointer: &protocol::result::ResultPointer,
        receive_count: u32,
    ) -> Result<MatchResult, Outcome> {
        let match_id = &pointer.match_id;
        let Some(blobs) = &self.blobs else {
            return Err(retry(match_id, "a pointer message, and no blob source"));
        };
        match blobs.fetch(pointer).await {
            Ok(bytes) => super::open_blob(&bytes, pointer, &self.keyring).map_err(Outcome::Reject),
            Err(e @ BlobError::Missing { .. }) if receive_count >= super::BLOB_MISSING_RECEIVES => {
                Err(Outcome::Reject(Rejection::new("blob_missing", e)))
            }
            Err(
                e @ (BlobError::SizeMismatch { .. }
                | BlobError::ChecksumMismatch { .. }
                | BlobError::TooLarge { .. }),
            ) => Err(Outcome::Reject(Rejection::new("blob_mismatch", e))),
            Err(e @ BlobError::InvalidPointer(_)) => {
                Err(Outcome::Reject(Rejection::new("invalid_pointer", e)))
            }
            // Missing (still landing), unavailable, an I/O error, or refused access
            // (an operator's fix): leave it; the redrive policy catches what never heals.
            Err(e) => Err(retry(match_id, e)),
        }
    }

    async fn apply(&self, result: &MatchResult) -> Outcome {
        let match_id = &result.match_id;
        let season = self.season.as_deref();
        // The placement was checked above, from the same store.
        let outcome =
            match apply_exactly_once(&*self.profiles, result, season, PlacementCheck::Skip).await {
                Ok(o) => o,
                Err(ApplyExactlyOnceError::Apply(e)) => {
                    return Outcome::Reject(Rejection::new("unratable", e));
                }
                Err(ApplyExactlyOnceError::UnknownMatch(_)) => {
                    return Outcome::Reject(Rejection::new("unknown_match", match_id));
                }
                Err(ApplyExactlyOnceError::WrongPlayers(e)) => {
                    return Outcome::Reject(Rejection::new("players_mismatch", e));
                }
                Err(
                    e @ (ApplyExactlyOnceError::Store(_)
                    | ApplyExactlyOnceError::TooManyConflicts { .. }),
                ) => {
                    return retry(match_id, e);
                }
            };
        self.hook(Step::AfterCommit, match_id).await;
        let (updates, done) = match outcome {
            ApplyOutcome::Applied { applied, .. } => (
                applied.rankings,
                Outcome::Applied {
                    match_id: match_id.clone(),
                },
            ),
            ApplyOutcome::AlreadyApplied { profiles } => (
                ranking_updates(profiles.values(), &boards_for_match(season, &result.mode)),
                Outcome::Duplicate {
                    match_id: match_id.clone(),
                },
            ),
        };
        if let Err(e) = self.rankings.set_many(&updates).await {
            return retry(match_id, e);
        }
        self.hook(Step::AfterRankings, match_id).await;
        done
    }
}
