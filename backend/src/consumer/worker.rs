//! [`run`]: the worker loop around the [`Pipeline`]: long-polled batches, several
//! workers, a visibility extender per batch, batch deletes, graceful shutdown, and the
//! [`Counters`] it keeps.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tracing::Instrument;

use super::{Outcome, Pipeline};
use crate::queue::{MAX_BATCH, MAX_WAIT, QueueError, Receipt, Received, ResultQueue};

/// Workers when none is configured.
pub const DEFAULT_WORKERS: usize = 4;
/// Visibility timeout of a received batch when none is configured; the extender renews
/// it every third of that while the batch is being processed.
pub const DEFAULT_VISIBILITY: Duration = Duration::from_secs(60);

/// How the loop runs.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// Concurrent workers, each receiving and processing its own batches (at least 1).
    pub workers: usize,
    /// Messages per receive (1..=[`MAX_BATCH`]).
    pub batch: usize,
    /// Long-poll wait per receive (at most [`MAX_WAIT`]).
    pub wait: Duration,
    /// Visibility timeout of a batch; renewed every third of it while processing.
    pub visibility: Duration,
    /// Return once a receive comes back empty (drain the queue, then stop): for batch
    /// jobs and tests. Each worker stops at its first empty receive.
    pub stop_when_empty: bool,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            workers: DEFAULT_WORKERS,
            batch: MAX_BATCH,
            wait: MAX_WAIT,
            visibility: DEFAULT_VISIBILITY,
            stop_when_empty: false,
        }
    }
}

/// What the loop has done so far (shared with whoever exports metrics).
#[derive(Debug, Default)]
pub struct Counters {
    received: AtomicU64,
    applied: AtomicU64,
    duplicates: AtomicU64,
    transient_failures: AtomicU64,
    dead_lettered: Mutex<BTreeMap<String, u64>>,
}

/// A copy of the [`Counters`] at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CounterSnapshot {
    /// Deliveries received (a redelivered message counts again).
    pub received: u64,
    /// Results applied by this consumer.
    pub applied: u64,
    /// Deliveries of results applied before (rankings rewritten, message deleted).
    pub duplicates: u64,
    /// Messages moved to the DLQ, by reason.
    pub dead_lettered: BTreeMap<String, u64>,
    /// Deliveries left for redelivery after a transient failure (store, network, a
    /// failed delete or DLQ move).
    pub transient_failures: u64,
}

impl Counters {
    /// The current values.
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            received: self.received.load(Ordering::Relaxed),
            applied: self.applied.load(Ordering::Relaxed),
            duplicates: self.duplicates.load(Ordering::Relaxed),
            dead_lettered: self
                .dead_lettered
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
            transient_failures: self.transient_failures.load(Ordering::Relaxed),
        }
    }

    fn dead_letter(&self, reason: &str) {
        *self
            .dead_lettered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(reason.to_owned())
            .or_default() += 1;
    }
}

/// Runs `config.workers` workers until `shutdown` completes (or, with
/// [`ConsumerConfig::stop_when_empty`], until each has seen an empty receive). On
/// shutdown, workers stop receiving, finish the batch in hand (process, delete) and
/// return; then `run` returns.
///
/// # Errors
///
/// A receive that fails with [`QueueError::InvalidArgument`] (a bad config) stops the
/// loop; other receive errors are logged and retried after a pause.
pub async fn run(
    queue: Arc<dyn ResultQueue>,
    pipeline: Arc<Pipeline>,
    config: ConsumerConfig,
    counters: Arc<Counters>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), QueueError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopper = tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..config.workers.max(1) {
        let worker = Worker {
            id: worker,
            queue: Arc::clone(&queue),
            pipeline: Arc::clone(&pipeline),
            config: config.clone(),
            counters: Arc::clone(&counters),
        };
        workers.spawn(worker.run(stop_rx.clone()));
    }
    let mut result = Ok(());
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(e),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    stopper.abort();
    result
}

struct Worker {
    id: usize,
    queue: Arc<dyn ResultQueue>,
    pipeline: Arc<Pipeline>,
    config: ConsumerConfig,
    counters: Arc<Counters>,
}

/// Pause after a failed receive before the next one.
const RECEIVE_ERROR_PAUSE: Duration = Duration::from_secs(1);

impl Worker {
    async fn run(self, mut stop: watch::Receiver<bool>) -> Result<(), QueueError> {
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            let received = tokio::select! {
                biased;
                _ = stop.changed() => return Ok(()),
                r = self.queue.receive(self.config.batch, self.config.wait, self.config.visibility) => r,
            };
            let batch = match received {
                Ok(batch) => batch,
                Err(e @ QueueError::InvalidArgument(_)) => return Err(e),
                Err(e) => {
                    tracing::warn!(worker = self.id, cause = %e, "consumer: receive failed");
                    tokio::select! {
                        _ = stop.changed() => return Ok(()),
                        () = tokio::time::sleep(RECEIVE_ERROR_PAUSE) => continue,
                    }
                }
            };
            if batch.is_empty() {
                if self.config.stop_when_empty {
                    return Ok(());
                }
                continue;
            }
            // Not cancelled by shutdown: a batch in hand is finished.
            self.batch(batch).await;
        }
    }

    async fn batch(&self, batch: Vec<Received>) {
        self.counters
            .received
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let extender = tokio::spawn(extend(
            Arc::clone(&self.queue),
            batch.iter().map(|m| m.receipt.clone()).collect(),
            self.config.visibility,
        ));
        let mut done: Vec<Receipt> = Vec::new();
        for message in &batch {
            let span = tracing::info_span!("message", id = %message.id.0,
                receive_count = message.receive_count);
            let outcome = self
                .pipeline
                .process(&message.body, message.receive_count)
                .instrument(span)
                .await;
            match outcome {
                Outcome::Applied { match_id } => {
                    tracing::info!(%match_id, "consumer: applied");
                    self.counters.applied.fetch_add(1, Ordering::Relaxed);
                    done.push(message.receipt.clone());
                }
                Outcome::Duplicate { match_id } => {
                    tracing::info!(%match_id, "consumer: already applied; rankings rewritten");
                    self.counters.duplicates.fetch_add(1, Ordering::Relaxed);
                    done.push(message.receipt.clone());
                }
                Outcome::Reject(rejection) => {
                    tracing::warn!(id = %message.id.0, reason = rejection.reason,
                        detail = %rejection.detail, "consumer: dead-lettering");
                    match self.queue.dead_letter(message, rejection.reason).await {
                        Ok(()) => self.counters.dead_letter(rejection.reason),
                        Err(e) => {
                            tracing::warn!(id = %message.id.0, cause = %e,
                                "consumer: DLQ move failed; left for redelivery");
                            self.counters
                                .transient_failures
                                .fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Outcome::Retry { match_id, cause } => {
                    tracing::warn!(id = %message.id.0, ?match_id, %cause,
                        "consumer: transient failure; left for redelivery");
                    self.counters
                        .transient_failures
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        extender.abort();
        if !done.is_empty()
            && let Err(e) = self.queue.delete(&done).await
        {
            // Applied and ranked already: a redelivery finds them applied.
            tracing::warn!(cause = %e, count = done.len(),
                "consumer: batch delete failed; messages will be redelivered");
            self.counters
                .transient_failures
                .fetch_add(done.len() as u64, Ordering::Relaxed);
        }
    }
}

/// Renews the visibility of `receipts` every third of `visibility` until aborted; a
/// receipt that is no longer in flight (dead-lettered, or lost to a redelivery) is
/// dropped from the set.
async fn extend(queue: Arc<dyn ResultQueue>, mut receipts: Vec<Receipt>, visibility: Duration) {
    let period = (visibility / 3).max(Duration::from_millis(100));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tick.tick().await;
        let mut kept = Vec::with_capacity(receipts.len());
        for receipt in receipts {
            match queue.extend_visibility(&receipt, visibility).await {
                Ok(()) => kept.push(receipt),
                Err(QueueError::NotInFlight(_)) => {}
                Err(e) => {
                    tracing::warn!(cause = %e, "consumer: visibility extension failed");
                    kept.push(receipt);
                }
            }
        }
        receipts = kept;
        if receipts.is_empty() {
            return;
        }
    }
}
