//! The match-result consumer: SQS (or the embedded queue) → profiles → rankings.
//!
//! **What it is:** the per-message pipeline ([`Pipeline::process`]: a function of one
//! message body and its receive count, plus the stores) and the worker loop around it
//! ([`run`]: long polls, concurrent workers, visibility extension, batch deletes,
//! graceful shutdown, [`Counters`]). The decision for one message is split into pure
//! steps ([`decode`], [`open_blob`], [`check_placement`]) so that every rejection can be
//! tested without I/O; the pipeline only adds the store calls between them. It also
//! holds [`rebuild_rankings`], which recreates every board from the profile store.
//!
//! **What it is not:** no queue, store or S3 implementation (those are
//! [`queue`](crate::queue), [`profiles`](crate::profiles), [`rankings`](crate::rankings)
//! and [`blobs`](crate::blobs), whose [`ResultBlobs`] reads pointed-to results); no rating rules ([`ratings`](crate::ratings));
//! no exactly-once by itself: that comes from
//! [`apply_exactly_once`](crate::profiles::apply_exactly_once)'s one conditional commit
//! per match id, which makes redelivery harmless.
//!
//! # Decision table
//!
//! Steps run in this order; the first that decides ends the message.
//!
//! | step | condition | outcome | reason |
//! |---|---|---|---|
//! | decode | body larger than [`MAX_RESULT_BYTES`](protocol::result::MAX_RESULT_BYTES) | DLQ | `too_large` |
//! | decode | not JSON | DLQ | `malformed_json` |
//! | decode | `schema` missing or not [`RESULT_SCHEMA_VERSION`](protocol::result::RESULT_SCHEMA_VERSION) | DLQ | `unsupported_schema_version` |
//! | decode | JSON of the wrong shape (missing or unknown fields, wrong types) | DLQ | `malformed_result` |
//! | fetch (pointer only) | no [`ResultBlobs`] configured | leave (redelivered; the redrive policy dead-letters it eventually) | — |
//! | fetch | store or network error, or the store refuses access (an operator's fix) | leave | — |
//! | fetch | the pointer cannot name an object (empty bucket or key, bad checksum form) | DLQ | `invalid_pointer` |
//! | fetch | object not found, receive count < [`BLOB_MISSING_RECEIVES`] | leave (the upload may still be landing) | — |
//! | fetch | object not found, receive count ≥ [`BLOB_MISSING_RECEIVES`] | DLQ | `blob_missing` |
//! | fetch | size or SHA-256 differs from the pointer, or the object is too large | DLQ | `blob_mismatch` |
//! | fetch | the object is itself a pointer, or names another match | DLQ | `pointer_mismatch` |
//! | verify | key id not in the [`Keyring`] | DLQ | `unknown_key_id` |
//! | verify | signature does not verify | DLQ | `bad_signature` |
//! | verify | more than [`MAX_RESULT_PLAYERS`](protocol::result::MAX_RESULT_PLAYERS) players | DLQ | `too_many_players` |
//! | verify | any other broken result rule | DLQ | `invalid_result` |
//! | placement | store error reading it | leave | — |
//! | placement | no placement record for the match | DLQ | `unknown_match` |
//! | placement | players, sessions or teams differ from the record | DLQ | `players_mismatch` |
//! | apply | store error, or version conflicts on every attempt | leave | — |
//! | apply | the result cannot be rated (corrupt stored rating, …) | DLQ | `unratable` |
//! | apply | committed now | write the new absolute scores, then delete | — |
//! | apply | already committed before | rewrite scores from the current profiles ([`ranking_updates`](crate::profiles::ranking_updates)), then delete | — |
//! | rankings | store error | leave (the redelivery finds it applied and rewrites) | — |
//!
//! "Leave" means no delete: the message becomes visible again when its visibility runs
//! out, and the queue's redrive policy (`maxReceiveCount`) moves a message that keeps
//! failing to the DLQ with `max_receives_exceeded`. A DLQ move is
//! [`ResultQueue::dead_letter`](crate::queue::ResultQueue::dead_letter), which deletes
//! from the main queue; if it fails, the message is left like any transient failure.
//! Nothing is ever dropped without being in the DLQ or applied.

use protocol::result::{
    InvalidResult, Keyring, MatchResult, ResultMessage, ResultPointer, VerifyError,
};
use sha2::{Digest, Sha256};

use crate::ratings::{PlacementRecord, check_against_placement};

mod pipeline;
mod rebuild;
mod worker;

pub use pipeline::{Outcome, Pipeline, Step, StepHook};
pub use rebuild::{REBUILD_PAGE, RebuildError, RebuildReport, rebuild_rankings};
pub use worker::{
    ConsumerConfig, CounterSnapshot, Counters, DEFAULT_VISIBILITY, DEFAULT_WORKERS, run,
};

pub use crate::queue::BoxFuture;

/// Deliveries of a pointer whose object is missing before it is dead-lettered: S3 is
/// read-after-write consistent, but the reporter may have sent the pointer before a
/// retried upload finished.
pub const BLOB_MISSING_RECEIVES: u32 = 3;

/// Why a message was set aside: a stable code (the DLQ's `reason` attribute) and a
/// human-readable detail for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct Rejection {
    /// The stable code (see the module's decision table).
    pub reason: &'static str,
    /// What exactly was wrong.
    pub detail: String,
}

impl Rejection {
    fn new(reason: &'static str, detail: impl std::fmt::Display) -> Self {
        Rejection {
            reason,
            detail: detail.to_string(),
        }
    }
}

pub use crate::blobs::{BlobError, ResultBlobs};

/// A decoded message body: a result still to verify, or a pointer to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A signed result, verified: ready for the placement check.
    Verified(MatchResult),
    /// A pointer to the signed result in S3.
    Pointer(ResultPointer),
}

impl Decoded {
    /// The match id the message names.
    pub fn match_id(&self) -> &str {
        match self {
            Decoded::Verified(r) => &r.match_id,
            Decoded::Pointer(p) => &p.match_id,
        }
    }
}

/// Maps the protocol's verification errors to the consumer's reasons.
fn rejection(e: VerifyError) -> Rejection {
    let reason = match &e {
        VerifyError::TooLarge { .. } => "too_large",
        VerifyError::Malformed(_) => "malformed_result",
        VerifyError::UnsupportedSchema { .. } => "unsupported_schema_version",
        VerifyError::UnknownKey(_) => "unknown_key_id",
        VerifyError::BadSignature => "bad_signature",
        VerifyError::Invalid(InvalidResult::PlayerCount(n))
            if *n > protocol::result::MAX_RESULT_PLAYERS =>
        {
            "too_many_players"
        }
        VerifyError::Invalid(_) => "invalid_result",
    };
    Rejection::new(reason, e)
}

/// Decodes one message body and, for an inline result, verifies it (pure).
///
/// # Errors
///
/// The [`Rejection`] of the decode and verify rows of the decision table.
pub fn decode(body: &[u8], keyring: &Keyring) -> Result<Decoded, Rejection> {
    if body.len() > protocol::result::MAX_RESULT_BYTES {
        return Err(rejection(VerifyError::TooLarge {
            size: body.len(),
            limit: protocol::result::MAX_RESULT_BYTES,
        }));
    }
    // Tell "not JSON" from "JSON of the wrong shape": the protocol folds both into one.
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        return Err(Rejection::new("malformed_json", e));
    }
    match ResultMessage::from_json(body).map_err(rejection)? {
        ResultMessage::Inline(signed) => {
            keyring.verify(&signed).map_err(rejection)?;
            Ok(Decoded::Verified(signed.result))
        }
        ResultMessage::Stored(pointer) => Ok(Decoded::Pointer(pointer)),
    }
}

/// Checks a fetched object against its pointer (size, SHA-256, same match, not another
/// pointer) and verifies the signed result in it (pure).
///
/// # Errors
///
/// `blob_mismatch`, `pointer_mismatch`, or any rejection of [`decode`].
pub fn open_blob(
    bytes: &[u8],
    pointer: &ResultPointer,
    keyring: &Keyring,
) -> Result<MatchResult, Rejection> {
    let s3 = &pointer.s3;
    if bytes.len() as u64 != s3.size {
        return Err(Rejection::new(
            "blob_mismatch",
            format!(
                "object is {} bytes, the pointer says {}",
                bytes.len(),
                s3.size
            ),
        ));
    }
    let digest = hex::encode(Sha256::digest(bytes));
    if !digest.eq_ignore_ascii_case(&s3.sha256) {
        return Err(Rejection::new(
            "blob_mismatch",
            format!(
                "object has SHA-256 {digest}, the pointer says {}",
                s3.sha256
            ),
        ));
    }
    match decode(bytes, keyring)? {
        Decoded::Verified(result) if result.match_id == pointer.match_id => Ok(result),
        Decoded::Verified(result) => Err(Rejection::new(
            "pointer_mismatch",
            format!(
                "pointer names match {}, the object holds {}",
                pointer.match_id, result.match_id
            ),
        )),
        Decoded::Pointer(_) => Err(Rejection::new(
            "pointer_mismatch",
            "the object is another pointer",
        )),
    }
}

/// Checks a verified result against the matchmaker's placement record (pure): an
/// unknown match or different players are rejected.
///
/// # Errors
///
/// `unknown_match` when there is no record, `players_mismatch` when it disagrees.
pub fn check_placement(
    result: &MatchResult,
    placement: Option<&PlacementRecord>,
) -> Result<(), Rejection> {
    let placement = placement.ok_or_else(|| {
        Rejection::new(
            "unknown_match",
            format!("no placement recorded for match {}", result.match_id),
        )
    })?;
    check_against_placement(result, placement).map_err(|e| Rejection::new("players_mismatch", e))
}

#[cfg(test)]
mod tests;
