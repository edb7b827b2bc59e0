//! [`EmbeddedQueue`]: the result queue in process, persisted under a data directory.
//!
//! # Persistence
//!
//! The main queue and the DLQ live in memory. Every call that changes what a restart
//! must see is first appended to `queue.log` in the data directory as **one** JSON line,
//! `fsync`ed, then applied in memory; the call returns after that. Records:
//!
//! ```text
//! {"op":"send","id":7,"body":"…","receive_count":0}
//! {"op":"receive","ids":[7,8],"redriven":[3]}
//! {"op":"delete","ids":[7]}
//! {"op":"dead_letter","id":8,"body":"…","reason":"bad_signature","remove":true}
//! {"op":"next_id","id":9}
//! ```
//!
//! `receive` counts one more delivery for each of `ids` and moves `redriven` to the DLQ
//! with [`REDRIVE_REASON`]; so receive counts, and with them the redrive, survive a
//! restart. Visibility is **not** logged: after a restart every message in the main
//! queue is visible again (what was in flight is redelivered, at least once).
//!
//! A call is one line, so it survives a crash whole or not at all: an unterminated last
//! line is a write torn by a crash (its call never returned `Ok`) and is dropped; any
//! other line that does not parse stops the open with [`QueueError::CorruptLog`].
//!
//! **Compaction** happens on open, as for the embedded rankings: the live state is
//! written as `next_id`, one `send` per message (with its receive count) and one
//! `dead_letter` per DLQ entry to `queue.log.tmp`, `fsync`ed, renamed over `queue.log`,
//! and the directory is `fsync`ed. `next_id` keeps ids (and so receipts) from being
//! reused after the newest message was deleted.
//!
//! **One process per directory:** `queue.lock` is locked exclusively for as long as
//! the queue is open.
//!
//! # Receipts and time
//!
//! A receipt is `"{id}:{receive_count}"`: the count is durable and grows with every
//! delivery, so a receipt names exactly one delivery, and a stale one (the message was
//! delivered again since) matches nothing. Visibility deadlines are
//! [`tokio::time::Instant`]s, so tests can pause and advance time. Long polls wait on a
//! [`Notify`] (woken by `send`, by receives and by visibility changes) and on a timer
//! until the wait ends or the next in-flight message becomes visible; they never spin. Receives scan the queue in id (send) order,
//! which is fine for the sizes a local run sees.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{
    BoxFuture, DeadLetter, MAX_BATCH, MAX_BODY_BYTES, MessageId, QueueError, REDRIVE_REASON,
    Receipt, Received, ResultQueue, check_receive, check_visibility,
};

/// The log's file name in the data directory.
const LOG_FILE: &str = "queue.log";
/// Where compaction writes before renaming over [`LOG_FILE`].
const COMPACT_FILE: &str = "queue.log.tmp";
/// The lock held while the queue is open.
const LOCK_FILE: &str = "queue.lock";

/// A result queue kept in process and persisted to a log under a data directory (see
/// the module docs), with its DLQ and a redrive after `max_receives` deliveries. Cheap
/// to clone: clones share the queue.
#[derive(Debug, Clone)]
pub struct EmbeddedQueue {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    /// Woken (all waiters) when a message was sent or a visibility deadline changed,
    /// so waiting polls look again and re-arm their timers.
    notify: Notify,
    /// Deliveries after which a message goes to the DLQ (SQS's `maxReceiveCount`).
    max_receives: u32,
}

#[derive(Debug)]
struct State {
    queues: Queues,
    log: File,
    log_path: PathBuf,
    /// Held for the lock it carries.
    _lock: File,
}

/// What the log describes: both queues and the id counter.
#[derive(Debug, Default)]
struct Queues {
    /// The main queue by id, so in send order.
    main: BTreeMap<u64, Message>,
    /// The DLQ, oldest first.
    dlq: Vec<(u64, String, String)>,
    /// The id the next sent message gets.
    next_id: u64,
}

#[derive(Debug)]
struct Message {
    body: String,
    receive_count: u32,
    /// In flight until then; `None` (or a past instant) is visible. Not persisted.
    visible_at: Option<Instant>,
}

impl Message {
    fn visible(&self, now: Instant) -> bool {
        self.visible_at.is_none_or(|at| at <= now)
    }
}

/// One line of the log: one call.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Record {
    Send {
        id: u64,
        body: String,
        #[serde(default)]
        receive_count: u32,
    },
    Receive {
        ids: Vec<u64>,
        #[serde(default)]
        redriven: Vec<u64>,
    },
    Delete {
        ids: Vec<u64>,
    },
    DeadLetter {
        id: u64,
        body: String,
        reason: String,
        remove: bool,
    },
    NextId {
        id: u64,
    },
}

/// What a receive found without taking anything.
enum Peek {
    /// Something can be delivered or redriven now.
    Ready,
    /// Nothing now; the earliest in-flight message becomes visible then, if any.
    Wait(Option<Instant>),
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> QueueError {
    let path = path.to_owned();
    move |source| QueueError::Io {
        action,
        path,
        source,
    }
}

fn receipt(id: u64, receive_count: u32) -> Receipt {
    Receipt(format!("{id}:{receive_count}"))
}

fn parse_receipt(receipt: &Receipt) -> Result<(u64, u32), QueueError> {
    receipt
        .0
        .split_once(':')
        .and_then(|(id, count)| Some((id.parse().ok()?, count.parse().ok()?)))
        .ok_or_else(|| QueueError::InvalidReceipt(receipt.0.clone()))
}

impl EmbeddedQueue {
    /// Opens (creating if needed) the queue in `dir`: replays and compacts its log.
    /// A message delivered `max_receives` times (at least 1) is moved to the DLQ with
    /// [`REDRIVE_REASON`] by the next receive that would deliver it again.
    ///
    /// Blocking file I/O; call it at start-up (or inside `spawn_blocking`).
    ///
    /// # Errors
    ///
    /// [`QueueError::Io`] when the directory or files cannot be used,
    /// [`QueueError::Locked`] when another process has the directory open,
    /// [`QueueError::CorruptLog`] when the log is damaged, and
    /// [`QueueError::InvalidArgument`] when `max_receives` is 0.
    pub fn open(dir: impl AsRef<Path>, max_receives: u32) -> Result<Self, QueueError> {
        if max_receives == 0 {
            return Err(QueueError::InvalidArgument(
                "max_receives must be at least 1".to_owned(),
            ));
        }
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io("open", &lock_path))?;
        if lock.try_lock().is_err() {
            return Err(QueueError::Locked(dir.to_owned()));
        }
        let log_path = dir.join(LOG_FILE);
        let queues = replay(&log_path)?;
        compact(dir, &log_path, &queues)?;
        let log = OpenOptions::new()
            .append(true)
            .open(&log_path)
            .map_err(io("open", &log_path))?;
        Ok(EmbeddedQueue {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queues,
                    log,
                    log_path,
                    _lock: lock,
                }),
                notify: Notify::new(),
                max_receives,
            }),
        })
    }

    /// Every message of the DLQ, oldest first, with its reason.
    pub fn dlq_messages(&self) -> Vec<DeadLetter> {
        self.inner
            .lock()
            .queues
            .dlq
            .iter()
            .map(dead_letter)
            .collect()
    }

    /// How many messages the main queue holds, visible or in flight.
    pub fn len(&self) -> usize {
        self.inner.lock().queues.main.len()
    }

    /// Whether the main queue is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` on the state under the lock, off the async threads (it may log).
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut State, &Inner) -> Result<T, QueueError> + Send + 'static,
    ) -> Result<T, QueueError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut state = inner.lock();
            f(&mut state, &inner)
        })
        .await
        .expect("the queue log writer does not panic")
    }
}

fn dead_letter((id, body, reason): &(u64, String, String)) -> DeadLetter {
    DeadLetter {
        id: MessageId(id.to_string()),
        body: body.clone(),
        reason: reason.clone(),
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Memory is changed only after its record is logged, and by code that does not
        // panic, so a poisoned lock still guards a consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn peek(&self, now: Instant) -> Peek {
        let state = self.lock();
        let mut next = None::<Instant>;
        for message in state.queues.main.values() {
            match message.visible_at {
                Some(at) if at > now => next = Some(next.map_or(at, |n| n.min(at))),
                _ => return Peek::Ready,
            }
        }
        Peek::Wait(next)
    }
}

impl State {
    /// Appends a record, `fsync`s it, then applies it.
    fn commit(&mut self, record: Record) -> Result<(), QueueError> {
        let mut line = serde_json::to_vec(&record).expect("records serialize");
        line.push(b'\n');
        self.log
            .write_all(&line)
            .map_err(io("append to", &self.log_path))?;
        self.log.sync_data().map_err(io("fsync", &self.log_path))?;
        self.queues
            .apply(record)
            .map_err(|reason| QueueError::CorruptLog {
                path: self.log_path.clone(),
                line: 0,
                reason,
            })
    }

    /// Takes up to `max` visible messages, redriving those out of receives.
    fn take(
        &mut self,
        now: Instant,
        max: usize,
        visibility: Duration,
        max_receives: u32,
    ) -> Result<Vec<Received>, QueueError> {
        let mut ids = Vec::new();
        let mut redriven = Vec::new();
        for (&id, message) in &self.queues.main {
            if ids.len() == max {
                break;
            }
            if !message.visible(now) {
                continue;
            }
            if message.receive_count >= max_receives {
                redriven.push(id);
            } else {
                ids.push(id);
            }
        }
        if ids.is_empty() && redriven.is_empty() {
            return Ok(Vec::new());
        }
        if !redriven.is_empty() {
            tracing::warn!(ids = ?redriven, max_receives, "queue: redriving to the DLQ");
        }
        self.commit(Record::Receive {
            ids: ids.clone(),
            redriven,
        })?;
        let visible_at = now + visibility;
        Ok(ids
            .into_iter()
            .map(|id| {
                let message = self.queues.main.get_mut(&id).expect("just received");
                message.visible_at = Some(visible_at);
                Received {
                    id: MessageId(id.to_string()),
                    receipt: receipt(id, message.receive_count),
                    body: message.body.clone(),
                    receive_count: message.receive_count,
                }
            })
            .collect())
    }

    /// Whether `(id, count)` is the latest delivery of a message still in the queue.
    fn current(&self, (id, count): (u64, u32)) -> bool {
        self.queues
            .main
            .get(&id)
            .is_some_and(|m| m.receive_count == count && count > 0)
    }
}

impl Queues {
    /// Applies a record.
    fn apply(&mut self, record: Record) -> Result<(), String> {
        match record {
            Record::Send {
                id,
                body,
                receive_count,
            } => {
                let message = Message {
                    body,
                    receive_count,
                    visible_at: None,
                };
                if self.main.insert(id, message).is_some() {
                    return Err(format!("message {id} sent twice"));
                }
                self.next_id = self.next_id.max(id + 1);
            }
            Record::Receive { ids, redriven } => {
                for id in ids {
                    let message = self
                        .main
                        .get_mut(&id)
                        .ok_or_else(|| format!("received unknown message {id}"))?;
                    message.receive_count += 1;
                }
                for id in redriven {
                    let message = self
                        .main
                        .remove(&id)
                        .ok_or_else(|| format!("redrove unknown message {id}"))?;
                    self.dlq.push((id, message.body, REDRIVE_REASON.to_owned()));
                }
            }
            Record::Delete { ids } => {
                for id in ids {
                    self.main.remove(&id);
                }
            }
            Record::DeadLetter {
                id,
                body,
                reason,
                remove,
            } => {
                if remove {
                    self.main.remove(&id);
                }
                self.dlq.push((id, body, reason));
            }
            Record::NextId { id } => self.next_id = self.next_id.max(id),
        }
        Ok(())
    }
}

/// Reads the log (absent: empty), dropping a torn last line.
fn replay(path: &Path) -> Result<Queues, QueueError> {
    let mut queues = Queues::default();
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(queues),
        Err(e) => return Err(io("read", path)(e)),
    };
    let mut lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
    // The piece after the last newline is empty, or a write torn by a crash.
    if let Some(torn) = lines.pop().filter(|piece| !piece.is_empty()) {
        tracing::warn!(path = %path.display(), bytes = torn.len(),
            "queue log: dropping a torn last line");
    }
    for (index, line) in lines.into_iter().enumerate() {
        let corrupt = |reason: String| QueueError::CorruptLog {
            path: path.to_owned(),
            line: index + 1,
            reason,
        };
        let record: Record = serde_json::from_slice(line).map_err(|e| corrupt(e.to_string()))?;
        queues.apply(record).map_err(corrupt)?;
    }
    Ok(queues)
}

/// Rewrites the log as the live state, atomically (module docs).
fn compact(dir: &Path, log_path: &Path, queues: &Queues) -> Result<(), QueueError> {
    let mut records = vec![Record::NextId { id: queues.next_id }];
    records.extend(queues.main.iter().map(|(&id, m)| Record::Send {
        id,
        body: m.body.clone(),
        receive_count: m.receive_count,
    }));
    records.extend(
        queues
            .dlq
            .iter()
            .map(|(id, body, reason)| Record::DeadLetter {
                id: *id,
                body: body.clone(),
                reason: reason.clone(),
                remove: false,
            }),
    );
    let mut out = Vec::new();
    for record in &records {
        serde_json::to_writer(&mut out, record).expect("records serialize");
        out.push(b'\n');
    }
    let tmp = dir.join(COMPACT_FILE);
    let mut file = File::create(&tmp).map_err(io("create", &tmp))?;
    file.write_all(&out).map_err(io("write", &tmp))?;
    file.sync_all().map_err(io("fsync", &tmp))?;
    drop(file);
    std::fs::rename(&tmp, log_path).map_err(io("rename", &tmp))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("fsync", dir))
}

impl ResultQueue for EmbeddedQueue {
    fn receive(
        &self,
        max: usize,
        wait: Duration,
        visibility: Duration,
    ) -> BoxFuture<'_, Result<Vec<Received>, QueueError>> {
        Box::pin(async move {
            check_receive(max, wait, visibility)?;
            let deadline = Instant::now() + wait;
            loop {
                // Registered before looking, so a send between the look and the wait
                // still wakes this poll.
                let notified = self.inner.notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let now = Instant::now();
                let next_visible = match self.inner.peek(now) {
                    Peek::Ready => {
                        let taken = self
                            .blocking(move |state, inner| {
                                state.take(now, max, visibility, inner.max_receives)
                            })
                            .await?;
                        if !taken.is_empty() {
                            // Other polls recompute when the next in-flight message
                            // becomes visible, now including these.
                            self.inner.notify.notify_waiters();
                            return Ok(taken);
                        }
                        // Another receive took them, or they were all redriven.
                        continue;
                    }
                    Peek::Wait(next_visible) => next_visible,
                };
                if now >= deadline {
                    return Ok(Vec::new());
                }
                let wake = next_visible.map_or(deadline, |at| at.min(deadline));
                tokio::select! {
                    () = &mut notified => {}
                    () = tokio::time::sleep_until(wake) => {}
                }
            }
        })
    }

    fn delete<'a>(&'a self, receipts: &'a [Receipt]) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            if receipts.len() > MAX_BATCH {
                return Err(QueueError::InvalidArgument(format!(
                    "{} receipts, at most {MAX_BATCH} per delete",
                    receipts.len()
                )));
            }
            let parsed = receipts
                .iter()
                .map(parse_receipt)
                .collect::<Result<Vec<_>, _>>()?;
            self.blocking(move |state, _| {
                let mut ids: Vec<u64> = parsed
                    .into_iter()
                    .filter(|&r| state.current(r))
                    .map(|(id, _)| id)
                    .collect();
                ids.dedup();
                if ids.is_empty() {
                    return Ok(());
                }
                state.commit(Record::Delete { ids })
            })
            .await
        })
    }

    fn extend_visibility<'a>(
        &'a self,
        receipt: &'a Receipt,
        visibility: Duration,
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            check_visibility(visibility)?;
            let (id, count) = parse_receipt(receipt)?;
            let now = Instant::now();
            {
                let mut state = self.inner.lock();
                let message = state
                    .queues
                    .main
                    .get_mut(&id)
                    .filter(|m| m.receive_count == count && !m.visible(now))
                    .ok_or_else(|| QueueError::NotInFlight(receipt.0.clone()))?;
                message.visible_at = Some(now + visibility);
            }
            // Waiting polls recompute their timers (the message may be visible now).
            self.inner.notify.notify_waiters();
            Ok(())
        })
    }

    fn dead_letter<'a>(
        &'a self,
        received: &'a Received,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            let parsed = parse_receipt(&received.receipt)?;
            let body = received.body.clone();
            let reason = reason.to_owned();
            self.blocking(move |state, _| {
                let remove = state.current(parsed);
                state.commit(Record::DeadLetter {
                    id: parsed.0,
                    body,
                    reason,
                    remove,
                })
            })
            .await
        })
    }

    fn send<'a>(&'a self, body: &'a str) -> BoxFuture<'a, Result<MessageId, QueueError>> {
        Box::pin(async move {
            if body.len() > MAX_BODY_BYTES {
                return Err(QueueError::InvalidArgument(format!(
                    "body is {} bytes, at most {MAX_BODY_BYTES}",
                    body.len()
                )));
            }
            let body = body.to_owned();
            let id = self
                .blocking(move |state, _| {
                    let id = state.queues.next_id;
                    state.commit(Record::Send {
                        id,
                        body,
                        receive_count: 0,
                    })?;
                    Ok(id)
                })
                .await?;
            self.inner.notify.notify_waiters();
            Ok(MessageId(id.to_string()))
        })
    }

    fn peek_dead_letters(&self, max: usize) -> BoxFuture<'_, Result<Vec<DeadLetter>, QueueError>> {
        let letters = self
            .inner
            .lock()
            .queues
            .dlq
            .iter()
            .take(max)
            .map(dead_letter)
            .collect();
        Box::pin(async { Ok(letters) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "queue-unit-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn receipts_round_trip_and_reject_foreign_ones() {
        assert_eq!(parse_receipt(&receipt(7, 3)).unwrap(), (7, 3));
        for bad in ["", "7", "x:1", "7:y", "7:1:2"] {
            assert!(matches!(
                parse_receipt(&Receipt(bad.to_owned())),
                Err(QueueError::InvalidReceipt(_))
            ));
        }
    }

    #[test]
    fn replay_drops_a_torn_last_line_and_refuses_a_corrupt_one() {
        let dir = temp_dir("torn");
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join(LOG_FILE);
        std::fs::write(
            &log,
            "{\"op\":\"send\",\"id\":4,\"body\":\"a\"}\n{\"op\":\"receive\",\"ids\":[4]}\n{\"op\":\"se",
        )
        .unwrap();
        let queues = replay(&log).unwrap();
        assert_eq!(queues.main[&4].receive_count, 1);
        assert_eq!(queues.next_id, 5);

        std::fs::write(
            &log,
            "{\"op\":\"send\",\"id\":4,\"body\":\"a\"}\nnot json\n",
        )
        .unwrap();
        assert!(matches!(
            replay(&log),
            Err(QueueError::CorruptLog { line: 2, .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn compaction_keeps_the_id_counter_past_deleted_messages() {
        let dir = temp_dir("next-id");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(LOG_FILE),
            "{\"op\":\"send\",\"id\":0,\"body\":\"a\"}\n\
             {\"op\":\"send\",\"id\":1,\"body\":\"b\"}\n\
             {\"op\":\"delete\",\"ids\":[1]}\n",
        )
        .unwrap();
        drop(EmbeddedQueue::open(&dir, 3).unwrap());
        let queue = EmbeddedQueue::open(&dir, 3).unwrap();
        assert_eq!(queue.inner.lock().queues.next_id, 2);
        assert_eq!(queue.len(), 1);
        drop(queue);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_second_open_of_the_same_directory_is_refused() {
        let dir = temp_dir("lock");
        let queue = EmbeddedQueue::open(&dir, 3).unwrap();
        assert!(matches!(
            EmbeddedQueue::open(&dir, 3),
            Err(QueueError::Locked(_))
        ));
        drop(queue);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
