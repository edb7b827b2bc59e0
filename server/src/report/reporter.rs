//! The reporter: outbox + plan + policy around a [`ResultQueue`].

use std::time::Instant;

use protocol::result::SignedMatchResult;

use super::outbox::{Outbox, OutboxError, PutOutcome};
use super::plan::{MessagePlan, OutgoingMessage, PlanConfig, S3Upload};
use super::policy::{DeliveryPolicy, FailureKind, Verdict};

/// A refused or failed queue (or bucket) call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {detail}")]
pub struct QueueError {
    /// How to react.
    pub kind: FailureKind,
    /// The service's message, for the log.
    pub detail: String,
}

/// The SQS and S3 calls the reporter needs. [`AwsResultQueue`](super::AwsResultQueue)
/// implements it over the AWS SDKs; unit tests implement it in memory.
///
/// **Blocking by design:** `server` has no async runtime yet, and the outbox is blocking
/// `std::fs` anyway, so the shell drives the whole [`Reporter`] inside
/// `tokio::task::spawn_blocking` (an AWS-SDK implementation calls `Handle::block_on`
/// there). Each call returns only once the service answered: `Ok` means SQS (or S3)
/// durably accepted it.
pub trait ResultQueue {
    /// `PutObject`: stores an oversized result. Overwriting the same key with the same
    /// bytes (a retry) must succeed.
    fn put_object(&mut self, upload: &S3Upload) -> Result<(), QueueError>;
    /// `SendMessage`.
    fn send(&mut self, message: &OutgoingMessage) -> Result<(), QueueError>;
}

/// A clock the reporter can wait on while draining; tests advance virtual time.
pub trait Clock {
    /// The current time.
    fn now(&mut self) -> Instant;
    /// Blocks until `at` (returns at once if it has passed).
    fn sleep_until(&mut self, at: Instant);
}

/// The real clock: `Instant::now` and `std::thread::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&mut self) -> Instant {
        Instant::now()
    }
    fn sleep_until(&mut self, at: Instant) {
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
    }
}

/// What happened to one result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The queue accepted it; it has left the outbox.
    Sent,
    /// Not sent yet (the queue is failing or backing off); it waits in the outbox.
    Deferred {
        /// When the next attempt may be made.
        retry_at: Option<Instant>,
    },
    /// Refused for good; moved out of the outbox to `*.rejected`.
    SetAside {
        /// The service's reason.
        reason: String,
    },
}

/// The outcome of a pass over the outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pass {
    /// Results accepted by the queue in this pass.
    pub sent: usize,
    /// Results set aside in this pass.
    pub set_aside: usize,
    /// Results still waiting.
    pub remaining: usize,
}

/// Durable, retried delivery of match results.
///
/// `report` writes the result to the outbox before any network call and removes it only
/// after the queue accepted it; `retry_pending` re-sends whatever waits (including what a
/// previous process left); `drain` keeps retrying until the outbox is empty or a deadline.
///
/// Two backoffs: one for SQS, which every result needs (while it backs off, nothing is
/// sent), and one for the S3 uploads of oversized results (while it backs off, only
/// those wait; inline results still go).
#[derive(Debug)]
pub struct Reporter<Q> {
    outbox: Outbox,
    plan: PlanConfig,
    policy: DeliveryPolicy,
    uploads: DeliveryPolicy,
    queue: Q,
}

/// What held a result back in an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// Nothing: sent or set aside.
    No,
    /// SQS failed or backs off: every other result would wait the same way.
    ByQueue,
    /// The S3 upload failed or backs off: only oversized results wait.
    ByUploads,
}

impl<Q: ResultQueue> Reporter<Q> {
    /// Combines the parts. Open the outbox first and log its [`super::OpenReport`].
    /// `policy` is SQS's backoff; S3 uploads back off on a [`DeliveryPolicy::sibling`]
    /// of it (see [`Reporter::with_upload_policy`]).
    pub fn new(outbox: Outbox, plan: PlanConfig, policy: DeliveryPolicy, queue: Q) -> Self {
        Self {
            outbox,
            plan,
            uploads: policy.sibling(),
            policy,
            queue,
        }
    }

    /// Replaces the backoff of S3 uploads (tests fix its jitter).
    pub fn with_upload_policy(mut self, uploads: DeliveryPolicy) -> Self {
        self.uploads = uploads;
        self
    }

    /// The outbox.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The backoff state of SQS.
    pub fn policy(&self) -> &DeliveryPolicy {
        &self.policy
    }

    /// The backoff state of S3 uploads.
    pub fn upload_policy(&self) -> &DeliveryPolicy {
        &self.uploads
    }

    /// The queue client.
    pub fn queue(&self) -> &Q {
        &self.queue
    }

    /// Takes the parts back (the outbox releases its directory lock when dropped).
    pub fn into_parts(self) -> (Outbox, DeliveryPolicy, Q) {
        (self.outbox, self.policy, self.queue)
    }

    /// Stores `signed` durably, then sends it unless the queue is backing off. An `Err`
    /// means the result is **not** safe (disk failure, or a conflicting result for the
    /// match); any queue failure is an `Ok` (it waits in the outbox).
    pub fn report(
        &mut self,
        signed: &SignedMatchResult,
        now: Instant,
    ) -> Result<Delivery, OutboxError> {
        if self.outbox.put(signed)? == PutOutcome::AlreadyPresent {
            tracing::debug!(match_id = %signed.result.match_id, "result already in outbox");
        }
        if !self.policy.ready(now) {
            return Ok(Delivery::Deferred {
                retry_at: self.policy.next_attempt_at(),
            });
        }
        Ok(self.attempt(signed, now)?.0)
    }

    /// Sends every waiting result, oldest first, if the backoff allows at `now`. Stops at
    /// the first retryable failure of SQS (the queue is down; the rest would fail the
    /// same way). A failed S3 upload holds back only the oversized results, which wait
    /// for the uploads' backoff: the inline results behind them are still sent.
    pub fn retry_pending(&mut self, now: Instant) -> Result<Pass, OutboxError> {
        let pending = self.outbox.pending()?;
        let mut pass = Pass {
            remaining: pending.len(),
            ..Pass::default()
        };
        for signed in &pending {
            if !self.policy.ready(now) {
                break;
            }
            match self.attempt(signed, now)? {
                (Delivery::Sent, _) => pass.sent += 1,
                (Delivery::SetAside { .. }, _) => pass.set_aside += 1,
                (Delivery::Deferred { .. }, Held::ByUploads) => {}
                (Delivery::Deferred { .. }, _) => break,
            }
        }
        pass.remaining -= pass.sent + pass.set_aside;
        Ok(pass)
    }

    /// When a pass after one at `now` could send something: when SQS's backoff ends if
    /// it is still running, else when the uploads' backoff ends (only oversized results
    /// can be left then); `None` when neither backs off past `now`.
    fn next_useful_attempt(&self, now: Instant) -> Option<Instant> {
        match self.policy.next_attempt_at() {
            Some(at) if at > now => Some(at),
            _ => self.uploads.next_attempt_at().filter(|at| *at > now),
        }
    }

    /// Retries until the outbox is empty or the next attempt would fall at or after
    /// `deadline`, sleeping on `clock` between attempts. Returns the last pass; the shell
    /// then calls `ProcessEnding` whatever is left (see [`super::drain_budget`]).
    pub fn drain(
        &mut self,
        deadline: Instant,
        clock: &mut impl Clock,
    ) -> Result<Pass, OutboxError> {
        loop {
            let now = clock.now();
            let pass = self.retry_pending(now)?;
            if pass.remaining == 0 {
                return Ok(pass);
            }
            match self.next_useful_attempt(now) {
                Some(at) if at < deadline => clock.sleep_until(at),
                // Backing off past the deadline, or (never expected) ready yet unsent.
                _ => return Ok(pass),
            }
        }
    }

    fn attempt(
        &mut self,
        signed: &SignedMatchResult,
        now: Instant,
    ) -> Result<(Delivery, Held), OutboxError> {
        let match_id = &signed.result.match_id;
        let message = match self.plan.plan(signed) {
            MessagePlan::Inline(message) => message,
            MessagePlan::Stored { upload, message } => {
                if !self.uploads.ready(now) {
                    let retry_at = self.uploads.next_attempt_at();
                    return Ok((Delivery::Deferred { retry_at }, Held::ByUploads));
                }
                match self.queue.put_object(&upload) {
                    Ok(()) => self.uploads.on_success(),
                    Err(e) => {
                        let verdict = self.uploads.on_failure(now, e.kind);
                        let failures = self.uploads.failures();
                        return self.failed(match_id, &e, verdict, failures, Held::ByUploads);
                    }
                }
                message
            }
        };
        match self.queue.send(&message) {
            Ok(()) => {
                self.policy.on_success();
                self.outbox.remove(match_id)?;
                tracing::info!(match_id = %match_id, "result delivered");
                Ok((Delivery::Sent, Held::No))
            }
            Err(e) => {
                let verdict = self.policy.on_failure(now, e.kind);
                let failures = self.policy.failures();
                self.failed(match_id, &e, verdict, failures, Held::ByQueue)
            }
        }
    }

    /// Acts on a failed upload or send: sets the result aside, or leaves it for later.
    fn failed(
        &mut self,
        match_id: &str,
        e: &QueueError,
        verdict: Verdict,
        failures: u32,
        held: Held,
    ) -> Result<(Delivery, Held), OutboxError> {
        match verdict {
            Verdict::SetAside => {
                self.outbox.reject(match_id, &e.detail)?;
                Ok((
                    Delivery::SetAside {
                        reason: e.detail.clone(),
                    },
                    Held::No,
                ))
            }
            Verdict::RetryAt(at) => {
                tracing::warn!(match_id = %match_id, cause = %e, failures,
                    upload = held == Held::ByUploads, "result send failed; will retry");
                Ok((Delivery::Deferred { retry_at: Some(at) }, held))
            }
        }
    }
}
