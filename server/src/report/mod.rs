//! Match-result reporting: the durable outbox and the delivery policy (architecture hop 4).
//!
//! **What it is.** When a match ends, the shell hands the signed result to
//! [`Reporter::report`]. The result is first written to the [`Outbox`] (a directory, one
//! file per match: temp file, `fsync`, rename, `fsync` of the directory), and only then
//! sent; it is removed only after the queue accepted it. So a crash or an SQS outage
//! delays a result but never loses it:
//!
//! | crash or outage … | what survives | what happens next |
//! |---|---|---|
//! | before `put`'s rename | a `*.tmp` at most | `put` had not returned, nobody relied on it; `open` deletes the temp |
//! | after `put`, before or during the send | `<id>.json` | `retry_pending` on the next start re-sends it |
//! | after SQS accepted, before `remove` | `<id>.json` | re-sent: a duplicate the consumer drops (FIFO: SQS drops it within 5 min) |
//! | after `remove` | nothing | delivered |
//! | SQS down | `<id>.json` | retried with backoff ([`DeliveryPolicy`]); `drain` before `ProcessEnding` |
//!
//! [`PlanConfig::plan`] decides per result: inline in the SQS body when it fits in
//! [`INLINE_LIMIT_BYTES`], else upload to S3 at `results/<stem>.json` and send a
//! `ResultPointer`; for FIFO queues, group and deduplication ids from the match id.
//! A message the queue refuses for good is moved to `*.rejected`, never retried in a loop;
//! a file that is not a valid result is moved to `*.corrupt*`; neither is deleted.
//!
//! [`AwsResultQueue`] is the [`ResultQueue`] over SQS and S3 ([`load_sdk_config`] builds
//! its configuration); [`SpoolQueue`] is the one over a shared directory, for local runs.
//!
//! **What it is not.** No async: every call blocks on `std::fs` and on the queue, and
//! the tokio shell runs the reporter inside `spawn_blocking`. It does not sign results ([`protocol::result`]
//! does) and it does not deduplicate beyond one file per match id (the consumer does).
//!
//! **SHA-256.** The pointer's checksum and over-long FIFO ids use [`sha256_hex`], passed
//! as [`PlanConfig::sha256_hex`].

mod aws;
mod names;
mod outbox;
mod plan;
mod policy;
mod reporter;
mod spool;

pub use aws::{
    AWS_ATTEMPT_TIMEOUT, AWS_CONNECT_TIMEOUT, AWS_OPERATION_TIMEOUT, AwsConfigError,
    AwsResultQueue, failure_kind, load_sdk_config, s3_client,
};
pub use names::{MAX_STEM_BYTES, decode_stem, encode_id, stem_for};
pub use outbox::{OpenReport, Outbox, OutboxError, PutOutcome};
pub use plan::{
    ATTRIBUTE_MARGIN_BYTES, FIFO_ID_MAX_CHARS, FifoIds, INLINE_LIMIT_BYTES, MessagePlan,
    OutgoingMessage, PlanConfig, S3_KEY_PREFIX, S3Upload, Sha256Hex, fifo_id, sha256_hex, sqs_safe,
};
pub use policy::{
    DEFAULT_BASE_DELAY, DEFAULT_DRAIN_BUDGET, DEFAULT_MAX_DELAY, DRAIN_SAFETY_MARGIN,
    DeliveryPolicy, FailureKind, Jitter, MAX_DRAIN_BUDGET, StdJitter, Verdict, drain_budget,
};
pub use reporter::{Clock, Delivery, Pass, QueueError, Reporter, ResultQueue, SystemClock};
pub use spool::{SPOOL_BLOBS, SPOOL_EXTENSION, SPOOL_MESSAGES, SpoolQueue};
