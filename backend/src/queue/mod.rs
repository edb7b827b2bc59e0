//! The match-result queue, consumer side (and a producer for tests and local runs).
//!
//! **What it is:** one trait, [`ResultQueue`], with the operations the result consumer
//! needs from an at-least-once queue with a dead-letter queue: long-polled batch
//! receives with a visibility timeout, batch deletes, visibility extension, moving a
//! message to the DLQ with a reason, and sending. [`EmbeddedQueue`] implements it in
//! process, persisted under a data directory, for local runs without SQS; [`SqsQueue`]
//! follows the mapping documented on each method. One contract suite
//! (`backend/tests/queue_contract.rs`) runs against every implementation.
//!
//! **What it is not:** exactly-once. Every message may be delivered more than once
//! (after a crash, a slow worker, a lost delete); exactly-once comes from applying a
//! result in one DynamoDB transaction keyed by the match id. It does not decode or
//! verify messages either: bodies are opaque strings.
//!
//! # The SQS mapping, in one place
//!
//! | method | SQS call |
//! |---|---|
//! | [`ResultQueue::receive`] | `ReceiveMessage` with `MaxNumberOfMessages = max`, `WaitTimeSeconds = wait`, `VisibilityTimeout = visibility`, `MessageSystemAttributeNames = [ApproximateReceiveCount]` |
//! | [`ResultQueue::delete`] | `DeleteMessageBatch` (entry ids `0..n`), at most [`MAX_BATCH`] per call |
//! | [`ResultQueue::extend_visibility`] | `ChangeMessageVisibility` |
//! | [`ResultQueue::dead_letter`] | `SendMessage` to the DLQ with the string message attribute [`REASON_ATTRIBUTE`], then `DeleteMessage` on the main queue |
//! | [`ResultQueue::send`] | `SendMessage` |
//! | [`ResultQueue::peek_dead_letters`] | `ReceiveMessage` on the DLQ with `VisibilityTimeout = 0`, `MessageAttributeNames = [reason]`; nothing deleted |
//!
//! [`SqsQueue`] also puts the main queue's message id on the DLQ copy (string attribute
//! [`ORIGINAL_ID_ATTRIBUTE`]), so [`DeadLetter::id`] is the id the consumer logged. On a
//! FIFO queue every `SendMessage` carries a `MessageGroupId` and a
//! `MessageDeduplicationId` (see [`SqsQueue`]).
//!
//! SQS takes whole seconds: the SQS implementation rounds durations **up** (a 1.2 s
//! visibility becomes 2 s, so a message is never visible earlier than asked). The
//! automatic move after too many receives is the main queue's redrive policy
//! (`maxReceiveCount`), set up by `backend init`; the embedded queue does the same by
//! itself with [`REDRIVE_REASON`] as the reason.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

mod embedded;
pub mod spool;
mod sqs;

pub use embedded::EmbeddedQueue;
pub use sqs::{ORIGINAL_ID_ATTRIBUTE, SqsQueue, SqsQueueConfig};

/// A boxed future, so that [`ResultQueue`] is dyn-compatible and queues live behind
/// `Arc<dyn ResultQueue>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Most messages one receive returns and one batch delete takes (SQS's limit).
pub const MAX_BATCH: usize = 10;
/// Longest long poll (SQS's `WaitTimeSeconds` limit); the consumer uses it.
pub const MAX_WAIT: Duration = Duration::from_secs(20);
/// Longest visibility timeout (SQS's limit: 12 hours).
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);
/// Largest body, in bytes (SQS's limit: 256 KiB). Bigger results go through S3.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// The name of the DLQ message attribute that carries the reason.
pub const REASON_ATTRIBUTE: &str = "reason";
/// The reason given to messages moved to the DLQ after too many receives.
pub const REDRIVE_REASON: &str = "max_receives_exceeded";

/// A message's id, stable across deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub String);

/// Proof of one delivery, needed to delete the message or change its visibility. Each
/// receive of a message gives a new receipt; only the latest one acts on it (as in SQS).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Receipt(pub String);

/// One delivered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The message's id (the same on every delivery).
    pub id: MessageId,
    /// This delivery's receipt.
    pub receipt: Receipt,
    /// The body as sent.
    pub body: String,
    /// How many times the message has been delivered, this delivery included (1 the
    /// first time); SQS's `ApproximateReceiveCount`.
    pub receive_count: u32,
}

/// A message in the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The id it had in the main queue (SQS gives the DLQ copy a new id).
    pub id: MessageId,
    /// The body as sent.
    pub body: String,
    /// Why it was set aside ([`REDRIVE_REASON`] for the automatic move).
    pub reason: String,
}

/// What a queue can fail with.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// An argument is outside what SQS accepts (batch size, wait, visibility, body
    /// size); nothing was done.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A receipt that no implementation of this queue could have issued.
    #[error("receipt {0:?} is not a receipt of this queue")]
    InvalidReceipt(String),
    /// [`ResultQueue::extend_visibility`] on a message that is no longer in flight
    /// under that receipt: its visibility ran out, it was delivered again, or deleted.
    /// The worker no longer owns it and must expect a redelivery.
    #[error("message of receipt {0:?} is not in flight")]
    NotInFlight(String),
    /// A file of the embedded queue could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The embedded queue's log has a line that is not a record (other than a torn
    /// last line, which is dropped).
    #[error("queue log {path} line {line}: {reason}")]
    CorruptLog {
        /// The log file.
        path: std::path::PathBuf,
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Another process holds the embedded queue's data directory.
    #[error("queue data directory {0} is in use by another process")]
    Locked(std::path::PathBuf),
    /// The queue service could not be reached or asked to slow down (connect error,
    /// timeout, throttling, a 5xx): try again later; nothing is known to have been done.
    #[error("queue service unavailable: {0}")]
    Unavailable(String),
    /// The queue service refused the call for good (access denied, nonexistent queue,
    /// a parameter it does not accept): retrying the same call will not help.
    #[error("queue service refused the call: {0}")]
    Refused(String),
}

impl QueueError {
    /// True when the same call may succeed later ([`QueueError::Unavailable`], or a
    /// file error of the embedded queue, say a full disk); the
    /// consumer then leaves the message for redelivery instead of setting it aside.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Io { .. })
    }
}

/// An at-least-once queue of match results with a dead-letter queue.
///
/// Methods return [`BoxFuture`]s so the trait is dyn-compatible (`Arc<dyn ResultQueue>`).
pub trait ResultQueue: Send + Sync {
    /// Receives up to `max` (1..=[`MAX_BATCH`]) visible messages, waiting up to `wait`
    /// (at most [`MAX_WAIT`]) for the first one: returns as soon as any is available,
    /// or empty once `wait` has passed. Each message returned is invisible to other
    /// receives for `visibility` (at most [`MAX_VISIBILITY`]), then delivered again with
    /// `receive_count + 1` unless deleted first. A message already delivered as many
    /// times as the redrive policy allows is moved to the DLQ instead of delivered.
    ///
    /// SQS: `ReceiveMessage` (`MaxNumberOfMessages`, `WaitTimeSeconds`,
    /// `VisibilityTimeout`; `ApproximateReceiveCount` for the count). SQS may return
    /// fewer messages than are available; callers loop.
    fn receive(
        &self,
        max: usize,
        wait: Duration,
        visibility: Duration,
    ) -> BoxFuture<'_, Result<Vec<Received>, QueueError>>;

    /// Deletes the messages of these receipts (at most [`MAX_BATCH`]). A receipt that
    /// is not the message's latest (it was delivered again since) or whose message is
    /// gone deletes nothing and is not an error, so a slow worker can never delete a
    /// message another worker now holds.
    ///
    /// SQS: `DeleteMessageBatch`; per-entry `ReceiptHandleIsInvalid` failures are
    /// ignored the same way, other per-entry failures are errors.
    fn delete<'a>(&'a self, receipts: &'a [Receipt]) -> BoxFuture<'a, Result<(), QueueError>>;

    /// Makes an in-flight message invisible for `visibility` from now (at most
    /// [`MAX_VISIBILITY`]); a worker whose batch is slow calls it before the timeout
    /// runs out. [`QueueError::NotInFlight`] when the receipt no longer holds it.
    ///
    /// SQS: `ChangeMessageVisibility` (`MessageNotInflight` maps to `NotInFlight`).
    fn extend_visibility<'a>(
        &'a self,
        receipt: &'a Receipt,
        visibility: Duration,
    ) -> BoxFuture<'a, Result<(), QueueError>>;

    /// Sets a delivered message aside: puts its body in the DLQ with `reason`, then
    /// deletes it from the main queue (with [`ResultQueue::delete`]'s rules: a stale
    /// receipt leaves the main queue's message in place, so it may end up in the DLQ
    /// twice, never lost).
    ///
    /// SQS: `SendMessage` to the DLQ with the string attribute [`REASON_ATTRIBUTE`],
    /// then `DeleteMessage` on the main queue.
    fn dead_letter<'a>(
        &'a self,
        received: &'a Received,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), QueueError>>;

    /// Sends a message (the producer side; the game servers' reporter has its own
    /// outbox and client). Bodies over [`MAX_BODY_BYTES`] are refused.
    ///
    /// SQS: `SendMessage`.
    fn send<'a>(&'a self, body: &'a str) -> BoxFuture<'a, Result<MessageId, QueueError>>;

    /// Up to `max` messages of the DLQ, oldest first where the queue knows the order,
    /// without removing them; for tests and tooling.
    ///
    /// SQS: `ReceiveMessage` on the DLQ with `VisibilityTimeout = 0` and the reason
    /// attribute; a sample (SQS does not promise to return every message).
    fn peek_dead_letters(&self, max: usize) -> BoxFuture<'_, Result<Vec<DeadLetter>, QueueError>>;
}

/// Checks `receive`'s arguments against SQS's limits.
fn check_receive(max: usize, wait: Duration, visibility: Duration) -> Result<(), QueueError> {
    if !(1..=MAX_BATCH).contains(&max) {
        return Err(QueueError::InvalidArgument(format!(
            "max is {max}, must be 1..={MAX_BATCH}"
        )));
    }
    if wait > MAX_WAIT {
        return Err(QueueError::InvalidArgument(format!(
            "wait is {wait:?}, must be at most {MAX_WAIT:?}"
        )));
    }
    check_visibility(visibility)
}

/// Checks a visibility timeout against SQS's limit.
fn check_visibility(visibility: Duration) -> Result<(), QueueError> {
    if visibility > MAX_VISIBILITY {
        return Err(QueueError::InvalidArgument(format!(
            "visibility is {visibility:?}, must be at most {MAX_VISIBILITY:?}"
        )));
    }
    Ok(())
}
