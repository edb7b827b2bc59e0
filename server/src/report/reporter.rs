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
#[derive(Debug)]
pub struct Reporter<Q> {
    outbox: Outbox,
    plan: PlanConfig,
    policy: DeliveryPolicy,
    queue: Q,
}

impl<Q: ResultQueue> Reporter<Q> {
    /// Combines the parts. Open the outbox first and log its [`super::OpenReport`].
    pub fn new(outbox: Outbox, plan: PlanConfig, policy: DeliveryPolicy, queue: Q) -> Self {
        Self {
            outbox,
            plan,
            policy,
            queue,
        }
    }

    /// The outbox.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The backoff state.
    pub fn policy(&self) -> &DeliveryPolicy {
        &self.policy
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
        self.attempt(signed, now)
    }

    /// Sends every waiting result, oldest first, if the backoff allows at `now`. Stops at
    /// the first retryable failure (the queue is down; the rest would fail the same way).
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
                Delivery::Sent => pass.sent += 1,
                Delivery::SetAside { .. } => pass.set_aside += 1,
                Delivery::Deferred { .. } => break,
            }
        }
        pass.remaining -= pass.sent + pass.set_aside;
        Ok(pass)
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
            match self.policy.next_attempt_at() {
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
    ) -> Result<Delivery, OutboxError> {
        let match_id = &signed.result.match_id;
        let sent = match self.plan.plan(signed) {
            MessagePlan::Inline(message) => self.queue.send(&message),
            MessagePlan::Stored { upload, message } => self
                .queue
                .put_object(&upload)
                .and_then(|()| self.queue.send(&message)),
        };
        match sent {
            Ok(()) => {
                self.policy.on_success();
                self.outbox.remove(match_id)?;
                tracing::info!(match_id = %match_id, "result delivered");
                Ok(Delivery::Sent)
            }
            Err(e) => match self.policy.on_failure(now, e.kind) {
                Verdict::SetAside => {
                    self.outbox.reject(match_id, &e.detail)?;
                    Ok(Delivery::SetAside { reason: e.detail })
                }
                Verdict::RetryAt(at) => {
                    tracing::warn!(match_id = %match_id, cause = %e,
                        failures = self.policy.failures(), "result send failed; will retry");
                    Ok(Delivery::Deferred { retry_at: Some(at) })
                }
            },
        }
    }
}
