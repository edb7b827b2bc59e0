//! [`EmbeddedProfiles`]: the profile store in process, persisted under a data directory.
//!
//! # Persistence
//!
//! Profiles, applied match ids and placements live in memory. Every write is first
//! appended to `profiles.log` in the data directory as **one** JSON line (together with
//! the other writes of its batch, see group commit below), then `fsync`ed, then applied
//! in memory; the call returns after that. Records (floats written as their bits,
//! `{"f64bits":…}`, see [`encode_profile`](super::encode_profile)):
//!
//! ```text
//! {"op":"commit","match_id":"m-1","profiles":[{"player_id":"p-1","version":3,…},…]}
//! {"op":"placement","record":{"match_id":"m-1","players":[…]}}
//! {"op":"applied","match_ids":["m-1",…]}          (written by compaction only)
//! {"op":"profile","profile":{…}}                  (written by compaction only)
//! ```
//!
//! A commit is one line, so it survives a crash whole or not at all: an unterminated
//! last line is a write torn by a crash (its call never returned) and is dropped; any
//! other line that does not parse stops the open with [`ProfilesError::CorruptLog`].
//! Lines are replayed without checks: conditions are checked before a line is written.
//! A crash during a batch's append may leave any prefix of its lines; each was decided
//! against the lines before it, so every prefix replays to a consistent state (and no
//! caller of the batch had an answer yet).
//!
//! **Group commit.** A write queues its request and waits for its answer. Whoever finds
//! no writer running becomes the leader: a blocking task (tokio's `spawn_blocking`, no
//! thread of its own beyond that) that takes the log's lock and the whole queue, and
//! decides every request of that batch in queue order against the applied data **plus**
//! the records decided earlier in the same batch (so a placement put twice in one batch
//! is written once and the second put is `Ok`, or a `PlacementConflict` if it differs; a
//! second commit of a match is `AlreadyApplied`; version checks see the batch's new
//! versions). It then appends every line of the batch with one `write`, `fsync`s once,
//! applies the records in memory, and only then answers every request of the batch,
//! including those that wrote nothing (their answer may rest on a record of the batch).
//! It repeats while requests are queued; on an empty queue it stops leading, letting go
//! of the store before it sends the last batch's answers, so that once every write call
//! has returned, dropping the last clone closes the store (and releases its lock file)
//! at once. Readers take only the read lock of the in-memory data, which they share with
//! the leader's decisions and which is held exclusively only while a durable batch is
//! applied (never across a write or an fsync); they see a record once it is durable and
//! applied.
//!
//! **A failed append or fsync** fails every request of its batch with
//! [`ProfilesError::Io`], and the store refuses every later write with
//! [`ProfilesError::LogFailed`]: the log's tail is unknown (the lines may be on disk,
//! partly or whole), so nothing more may be appended after it. Such an answer means the
//! outcome is unknown; memory keeps the state before the batch. Reopening the directory
//! replays the log as it is (dropping a torn last line) and compacts it.
//!
//! **Compaction** happens on open, as in the embedded rankings: the live state is written
//! to `profiles.log.tmp` (one `applied` line, one `placement` line per placement, one
//! `profile` line per player), `fsync`ed, renamed over `profiles.log`, and the directory
//! is `fsync`ed. That also drops a torn last line from the file before anything is
//! appended after it.
//!
//! **One process per directory:** `profiles.lock` is locked exclusively for as long as
//! the store is open.

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::{
    BoxFuture, CommitOutcome, ProfilePage, ProfileStore, ProfilesError, exact_json, validate_commit,
};
use crate::matchmaking::KeyMap;
use crate::ratings::{PlacementRecord, PlayerId, PlayerProfile};

/// The log's file name in the data directory.
const LOG_FILE: &str = "profiles.log";
/// Where compaction writes before renaming over [`LOG_FILE`].
const COMPACT_FILE: &str = "profiles.log.tmp";
/// The lock held while the store is open.
const LOCK_FILE: &str = "profiles.lock";

/// The profile store kept in process and persisted to a log under a data directory (see
/// the module docs), for local runs without DynamoDB. Cheap to clone: clones share the
/// store.
#[derive(Debug, Clone)]
pub struct EmbeddedProfiles {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The live state (durable and applied records only). Readers share it with each
    /// other and with the leader deciding a batch (the only writer, so what it reads
    /// cannot change under it); only applying a durable batch takes it exclusively.
    data: RwLock<Data>,
    /// The writes waiting for a leader.
    queue: Mutex<Queue>,
    /// The log; held by the leader for a whole batch (there is one leader at a time, so
    /// it is never waited for outside the tests, which hold it to form a batch).
    log: Mutex<Log>,
}

#[derive(Debug, Default)]
struct Data {
    profiles: BTreeMap<PlayerId, PlayerProfile>,
    /// Hashed, not ordered: looked up per write (the keys, game session ARNs, share long
    /// prefixes); compaction sorts them. ARNs come from GameLift (through a signed
    /// result, for `applied`), so foldhash rather than SipHash.
    applied: HashSet<String, foldhash::fast::RandomState>,
    placements: KeyMap<String, PlacementRecord>,
}

#[derive(Debug, Default)]
struct Queue {
    requests: Vec<Request>,
    /// A leader is running (it will take every request queued before it stops).
    leading: bool,
}

#[derive(Debug)]
struct Log {
    file: File,
    path: PathBuf,
    /// Set by a failed append or fsync: the log's tail is unknown, no more writes.
    failed: Option<String>,
    /// Held for the lock it carries.
    _lock: File,
}

/// One queued write and where its answer goes.
#[derive(Debug)]
enum Request {
    Placement {
        record: PlacementRecord,
        reply: oneshot::Sender<Result<(), ProfilesError>>,
    },
    Commit {
        match_id: String,
        profiles: Vec<PlayerProfile>,
        expected_versions: BTreeMap<PlayerId, u64>,
        reply: oneshot::Sender<Result<CommitOutcome, ProfilesError>>,
    },
}

/// A decided request's answer, sent once its batch is durable and applied.
enum Answer {
    Placement(
        oneshot::Sender<Result<(), ProfilesError>>,
        Result<(), ProfilesError>,
    ),
    Commit(
        oneshot::Sender<Result<CommitOutcome, ProfilesError>>,
        Result<CommitOutcome, ProfilesError>,
    ),
}

impl Answer {
    fn send(self) {
        // A caller that stopped waiting (its future dropped) does not need the answer.
        match self {
            Answer::Placement(reply, answer) => drop(reply.send(answer)),
            Answer::Commit(reply, answer) => drop(reply.send(answer)),
        }
    }

    /// The same answer replaced by `error` (the batch failed).
    fn fail(self, error: ProfilesError) -> Answer {
        match self {
            Answer::Placement(reply, _) => Answer::Placement(reply, Err(error)),
            Answer::Commit(reply, _) => Answer::Commit(reply, Err(error)),
        }
    }
}

impl Request {
    /// The request answered with `error` without being decided.
    fn refuse(self, error: ProfilesError) -> Answer {
        match self {
            Request::Placement { reply, .. } => Answer::Placement(reply, Err(error)),
            Request::Commit { reply, .. } => Answer::Commit(reply, Err(error)),
        }
    }
}

/// One line of the log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Record {
    Commit {
        match_id: String,
        profiles: Vec<PlayerProfile>,
    },
    Placement {
        record: PlacementRecord,
    },
    Applied {
        match_ids: Vec<String>,
    },
    Profile {
        profile: PlayerProfile,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ProfilesError {
    let path = path.to_owned();
    move |source| ProfilesError::Io {
        action,
        path,
        source,
    }
}

impl Data {
    fn apply(&mut self, record: Record) {
        match record {
            Record::Commit { match_id, profiles } => {
                self.applied.insert(match_id);
                for p in profiles {
                    self.profiles.insert(p.player_id.clone(), p);
                }
            }
            Record::Placement { record } => {
                self.placements.insert(record.match_id.clone(), record);
            }
            Record::Applied { match_ids } => self.applied.extend(match_ids),
            Record::Profile { profile } => {
                self.profiles.insert(profile.player_id.clone(), profile);
            }
        }
    }

    /// Applies the records of a batch, gathered in `pending` (later records of the
    /// batch already replaced earlier ones there).
    fn merge(&mut self, pending: Data) {
        self.profiles.extend(pending.profiles);
        self.applied.extend(pending.applied);
        self.placements.extend(pending.placements);
    }
}

impl EmbeddedProfiles {
    /// Opens (creating if needed) the store in `dir`: replays and compacts its log.
    ///
    /// Blocking file I/O; call it at start-up (or inside `spawn_blocking`).
    ///
    /// # Errors
    ///
    /// [`ProfilesError::Io`] when the directory or files cannot be used,
    /// [`ProfilesError::Locked`] when another process (or another open store) has the
    /// directory, and [`ProfilesError::CorruptLog`] when the log is damaged.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, ProfilesError> {
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
            return Err(ProfilesError::Locked(dir.to_owned()));
        }
        let log_path = dir.join(LOG_FILE);
        let data = replay(&log_path)?;
        compact(dir, &log_path, &data)?;
        let log = OpenOptions::new()
            .append(true)
            .open(&log_path)
            .map_err(io("open", &log_path))?;
        Ok(EmbeddedProfiles {
            inner: Arc::new(Inner {
                data: RwLock::new(data),
                queue: Mutex::default(),
                log: Mutex::new(Log {
                    file: log,
                    path: log_path,
                    failed: None,
                    _lock: lock,
                }),
            }),
        })
    }

    fn data(&self) -> RwLockReadGuard<'_, Data> {
        read(&self.inner.data)
    }

    /// Queues `request` (when first polled), starting a leader if none runs, and waits
    /// for the `answer` its batch sends (module docs).
    fn submit<T: Send + 'static>(
        &self,
        request: Request,
        answer: oneshot::Receiver<Result<T, ProfilesError>>,
    ) -> BoxFuture<'static, Result<T, ProfilesError>> {
        let queued = self.enqueue([request]);
        Box::pin(async move {
            queued.await;
            answer
                .await
                .expect("the profiles log writer does not panic")
        })
    }

    /// Queues `requests` together when first polled, starting a leader if none runs.
    fn enqueue(
        &self,
        requests: impl IntoIterator<Item = Request> + Send + 'static,
    ) -> impl Future<Output = ()> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        async move {
            let start_leader = {
                let mut queue = lock(&inner.queue);
                queue.requests.extend(requests);
                !std::mem::replace(&mut queue.leading, true)
            };
            if start_leader {
                tokio::task::spawn_blocking(move || lead(inner));
            }
            // Waiting holds no reference to the store (`inner` is moved or dropped here).
        }
    }
}

/// Memory is changed only after the log lines are durable, and by infallible inserts, so
/// a poisoned lock still guards a consistent state (the queue and the log likewise:
/// their changes are single assignments). Also for the data's read lock, [`read`].
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn read(data: &RwLock<Data>) -> RwLockReadGuard<'_, Data> {
    data.read().unwrap_or_else(|e| e.into_inner())
}

/// The leader (module docs): runs batches until the queue is empty. The last batch's
/// answers go out after the leader has let go of the store, so a caller that has its
/// answer knows this leader no longer keeps the store (and its lock file) open.
fn lead(inner: Arc<Inner>) {
    let answers = loop {
        let answers = {
            let mut log = lock(&inner.log);
            let batch = std::mem::take(&mut lock(&inner.queue).requests);
            run_batch(&inner.data, &mut log, batch)
        };
        {
            let mut queue = lock(&inner.queue);
            if queue.requests.is_empty() {
                queue.leading = false;
                break answers;
            }
        }
        answers.into_iter().for_each(Answer::send);
    };
    drop(inner);
    answers.into_iter().for_each(Answer::send);
}

/// Decides `batch` in order against `data` plus the batch's own earlier records, makes
/// the records durable with one append and one fsync, applies them, and returns the
/// answers (not sent yet).
fn run_batch(data: &RwLock<Data>, log: &mut Log, batch: Vec<Request>) -> Vec<Answer> {
    if let Some(cause) = &log.failed {
        return batch
            .into_iter()
            .map(|r| {
                r.refuse(ProfilesError::LogFailed {
                    path: log.path.clone(),
                    cause: cause.clone(),
                })
            })
            .collect();
    }
    let mut pending = Data::default();
    let mut records = Vec::new();
    let mut answers = Vec::with_capacity(batch.len());
    {
        let data = read(data);
        for request in batch {
            let record = match request {
                Request::Placement { record, reply } => {
                    let (answer, record) = decide_placement(&data, &pending, record);
                    answers.push(Answer::Placement(reply, answer));
                    record
                }
                Request::Commit {
                    match_id,
                    profiles,
                    expected_versions,
                    reply,
                } => {
                    let (answer, record) =
                        decide_commit(&data, &pending, match_id, profiles, &expected_versions);
                    answers.push(Answer::Commit(reply, answer));
                    record
                }
            };
            if let Some(record) = record {
                pending.apply(record.clone());
                records.push(record);
            }
        }
    }
    if records.is_empty() {
        return answers;
    }
    let mut lines = Vec::new();
    for record in &records {
        line(&mut lines, record);
    }
    let Log { file, path, .. } = log;
    let durable = file
        .write_all(&lines)
        .map_err(io("append to", path))
        .and_then(|()| file.sync_data().map_err(io("fsync", path)));
    if let Err(e) = durable {
        tracing::error!(cause = %e, records = records.len(),
            "profiles log: a write failed; refusing every later write until reopened");
        log.failed = Some(e.to_string());
        return answers
            .into_iter()
            .map(|a| a.fail(copy_io_error(&e)))
            .collect();
    }
    data.write()
        .unwrap_or_else(|e| e.into_inner())
        .merge(pending);
    answers
}

/// Appends `record` as one line. A placement holds no float (`PlacementRecord` is `Eq`),
/// so its plain JSON is its exact JSON, written without the detour through
/// `serde_json::Value`.
fn line(out: &mut Vec<u8>, record: &Record) {
    match record {
        Record::Placement { .. } => serde_json::to_writer(&mut *out, record),
        _ => {
            out.extend(exact_json::to_vec(record).expect("records serialize"));
            Ok(())
        }
    }
    .expect("records serialize");
    out.push(b'\n');
}

/// The same error again, for each request of a failed batch.
fn copy_io_error(e: &ProfilesError) -> ProfilesError {
    match e {
        ProfilesError::Io {
            action,
            path,
            source,
        } => ProfilesError::Io {
            action,
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        other => ProfilesError::Backend(other.to_string()),
    }
}

/// The placement stored or decided earlier in the batch for `match_id`, if any.
fn placement_of<'a>(
    data: &'a Data,
    pending: &'a Data,
    match_id: &str,
) -> Option<&'a PlacementRecord> {
    pending
        .placements
        .get(match_id)
        .or_else(|| data.placements.get(match_id))
}

fn decide_placement(
    data: &Data,
    pending: &Data,
    record: PlacementRecord,
) -> (Result<(), ProfilesError>, Option<Record>) {
    match placement_of(data, pending, &record.match_id) {
        Some(stored) if *stored == record => (Ok(()), None),
        Some(_) => (
            Err(ProfilesError::PlacementConflict {
                match_id: record.match_id,
            }),
            None,
        ),
        None => (Ok(()), Some(Record::Placement { record })),
    }
}

fn decide_commit(
    data: &Data,
    pending: &Data,
    match_id: String,
    profiles: Vec<PlayerProfile>,
    expected_versions: &BTreeMap<PlayerId, u64>,
) -> (Result<CommitOutcome, ProfilesError>, Option<Record>) {
    if pending.applied.contains(&match_id) || data.applied.contains(&match_id) {
        return (Ok(CommitOutcome::AlreadyApplied), None);
    }
    let version = |p: &PlayerId| {
        pending
            .profiles
            .get(p)
            .or_else(|| data.profiles.get(p))
            .map_or(0, |stored| stored.version)
    };
    let players: Vec<PlayerId> = expected_versions
        .iter()
        .filter(|(p, expected)| version(p) != **expected)
        .map(|(p, _)| p.clone())
        .collect();
    if !players.is_empty() {
        return (Ok(CommitOutcome::VersionConflict { players }), None);
    }
    let record = Record::Commit { match_id, profiles };
    (Ok(CommitOutcome::Applied), Some(record))
}

/// Reads the log (absent: empty), dropping a torn last line.
fn replay(path: &Path) -> Result<Data, ProfilesError> {
    let mut data = Data::default();
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(data),
        Err(e) => return Err(io("read", path)(e)),
    };
    let mut lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
    // The piece after the last newline is empty, or a write torn by a crash.
    if let Some(torn) = lines.pop().filter(|piece| !piece.is_empty()) {
        tracing::warn!(path = %path.display(), bytes = torn.len(),
            "profiles log: dropping a torn last line");
    }
    for (index, line) in lines.into_iter().enumerate() {
        let record: Record =
            exact_json::from_slice(line).map_err(|reason| ProfilesError::CorruptLog {
                path: path.to_owned(),
                line: index + 1,
                reason,
            })?;
        data.apply(record);
    }
    Ok(data)
}

/// Rewrites the log as the live state, atomically (module docs).
fn compact(dir: &Path, log_path: &Path, data: &Data) -> Result<(), ProfilesError> {
    let tmp = dir.join(COMPACT_FILE);
    let mut out = Vec::new();
    let mut push = |record: &Record| line(&mut out, record);
    if !data.applied.is_empty() {
        let mut match_ids: Vec<String> = data.applied.iter().cloned().collect();
        match_ids.sort_unstable();
        push(&Record::Applied { match_ids });
    }
    let mut placements: Vec<&PlacementRecord> = data.placements.values().collect();
    placements.sort_unstable_by(|a, b| a.match_id.cmp(&b.match_id));
    for record in placements {
        push(&Record::Placement {
            record: record.clone(),
        });
    }
    for profile in data.profiles.values() {
        push(&Record::Profile {
            profile: profile.clone(),
        });
    }
    let mut file = File::create(&tmp).map_err(io("create", &tmp))?;
    file.write_all(&out).map_err(io("write", &tmp))?;
    file.sync_all().map_err(io("fsync", &tmp))?;
    drop(file);
    std::fs::rename(&tmp, log_path).map_err(io("rename", &tmp))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("fsync", dir))
}

impl ProfileStore for EmbeddedProfiles {
    fn get_profiles<'a>(
        &'a self,
        players: &'a [PlayerId],
    ) -> BoxFuture<'a, Result<BTreeMap<PlayerId, PlayerProfile>, ProfilesError>> {
        let state = self.data();
        let found = players
            .iter()
            .filter_map(|p| state.profiles.get(p).map(|f| (p.clone(), f.clone())))
            .collect();
        Box::pin(async { Ok(found) })
    }

    fn put_placement<'a>(
        &'a self,
        record: &'a PlacementRecord,
    ) -> BoxFuture<'a, Result<(), ProfilesError>> {
        let (reply, answer) = oneshot::channel();
        let record = record.clone();
        self.submit(Request::Placement { record, reply }, answer)
    }

    /// One trip to the log writer for the whole batch: every record joins the same
    /// queue at once, so they are usually made durable by one append and one fsync.
    fn put_placements<'a>(
        &'a self,
        records: Vec<PlacementRecord>,
    ) -> BoxFuture<'a, Vec<Result<(), ProfilesError>>> {
        let (requests, answers): (Vec<_>, Vec<_>) = records
            .into_iter()
            .map(|record| {
                let (reply, answer) = oneshot::channel();
                (Request::Placement { record, reply }, answer)
            })
            .unzip();
        let queued = self.enqueue(requests);
        Box::pin(async move {
            queued.await;
            let mut out = Vec::with_capacity(answers.len());
            for answer in answers {
                out.push(
                    answer
                        .await
                        .expect("the profiles log writer does not panic"),
                );
            }
            out
        })
    }

    fn get_placement<'a>(
        &'a self,
        match_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<PlacementRecord>, ProfilesError>> {
        let found = self.data().placements.get(match_id).cloned();
        Box::pin(async { Ok(found) })
    }

    fn is_applied<'a>(&'a self, match_id: &'a str) -> BoxFuture<'a, Result<bool, ProfilesError>> {
        let applied = self.data().applied.contains(match_id);
        Box::pin(async move { Ok(applied) })
    }

    fn commit_result<'a>(
        &'a self,
        match_id: &'a str,
        new_profiles: &'a [PlayerProfile],
        expected_versions: &'a BTreeMap<PlayerId, u64>,
    ) -> BoxFuture<'a, Result<CommitOutcome, ProfilesError>> {
        if let Err(e) = validate_commit(match_id, new_profiles, expected_versions) {
            return Box::pin(async { Err(e) });
        }
        let (reply, answer) = oneshot::channel();
        let request = Request::Commit {
            match_id: match_id.to_owned(),
            profiles: new_profiles.to_vec(),
            expected_versions: expected_versions.clone(),
            reply,
        };
        self.submit(request, answer)
    }

    fn all_profiles<'a>(
        &'a self,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<ProfilePage, ProfilesError>> {
        let state = self.data();
        let start = match cursor {
            Some(c) => Bound::Excluded(c.to_owned()),
            None => Bound::Unbounded,
        };
        let mut range = state
            .profiles
            .range::<PlayerId, _>((start, Bound::Unbounded));
        let profiles: Vec<PlayerProfile> = range
            .by_ref()
            .take(limit.max(1))
            .map(|(_, p)| p.clone())
            .collect();
        let next = match (range.next(), profiles.last()) {
            (Some(_), Some(last)) => Some(last.player_id.clone()),
            _ => None,
        };
        drop(state);
        Box::pin(async { Ok(ProfilePage { profiles, next }) })
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::task::{Context, Waker};

    use super::*;
    use crate::ratings::PlacedPlayer;

    /// A directory under the system's temporary directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> Self {
            TempDir(std::env::temp_dir().join(::tests::unique_name("profiles-batch")))
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn placement(match_id: &str, session: &str) -> PlacementRecord {
        PlacementRecord {
            match_id: match_id.to_owned(),
            players: vec![PlacedPlayer {
                player_id: "a".to_owned(),
                player_session_id: session.to_owned(),
                team: None,
            }],
        }
    }

    /// Player `a` at `version`, and the expected versions of a commit writing it.
    fn a_at(version: u64) -> (Vec<PlayerProfile>, BTreeMap<PlayerId, u64>) {
        let mut p = PlayerProfile::new("a");
        p.version = version;
        (vec![p], BTreeMap::from([("a".to_owned(), version - 1)]))
    }

    /// Polls `future` once (no waker: the test awaits it later): far enough for a write
    /// to be queued.
    fn poll_once<F: Future + Unpin>(future: &mut F) {
        let mut cx = Context::from_waker(Waker::noop());
        assert!(
            std::pin::Pin::new(future).poll(&mut cx).is_pending(),
            "a write answered while its batch was held"
        );
    }

    /// The output of `future`, which must be ready on its first poll.
    fn at_once<F: Future + Unpin>(mut future: F) -> F::Output {
        let mut cx = Context::from_waker(Waker::noop());
        match std::pin::Pin::new(&mut future).poll(&mut cx) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("a read waited"),
        }
    }

    fn log_lines(dir: &Path) -> usize {
        std::fs::read_to_string(dir.join(LOG_FILE))
            .unwrap()
            .lines()
            .count()
    }

    /// `put_placements` queues its records together (one batch, one line each) and
    /// answers each as `put_placement` would, in order.
    #[tokio::test]
    async fn put_placements_queues_its_records_as_one_batch() {
        let dir = TempDir::new();
        let store = EmbeddedProfiles::open(&dir.0).unwrap();
        let records = vec![
            placement("m1", "ps-1"),
            placement("m1", "ps-1"),
            placement("m1", "ps-other"),
            placement("m2", "ps-2"),
        ];
        let held = lock(&store.inner.log);
        let mut put = store.put_placements(records);
        poll_once(&mut put);
        assert_eq!(lock(&store.inner.queue).requests.len(), 4, "queued at once");
        drop(held);
        let answers = put.await;
        assert_eq!(answers.len(), 4);
        assert!(answers[0].is_ok() && answers[1].is_ok() && answers[3].is_ok());
        assert!(
            matches!(answers[2], Err(ProfilesError::PlacementConflict { .. })),
            "{:?}",
            answers[2]
        );
        assert_eq!(log_lines(&dir.0), 2);
        let stored = at_once(store.get_placement("m2")).unwrap();
        assert_eq!(stored, Some(placement("m2", "ps-2")));
    }

    /// Writes queued while the log is held form one batch; each is decided against the
    /// records of the batch before it (idempotent re-put, placement conflict, second
    /// commit of a match, versions chained through a pending profile), the batch writes
    /// one line per record, readers see nothing until it is durable, and a reopen
    /// replays what the answers said.
    #[tokio::test]
    async fn one_batch_sees_its_own_earlier_records() {
        let dir = TempDir::new();
        let store = EmbeddedProfiles::open(&dir.0).unwrap();
        let (v1, from0) = a_at(1);
        let (v2, from1) = a_at(2);
        let (placed, other) = (placement("m1", "ps-1"), placement("m1", "ps-other"));
        let held = lock(&store.inner.log);
        let mut put = store.put_placement(&placed);
        let mut put_again = store.put_placement(&placed);
        let mut put_other = store.put_placement(&other);
        let mut commit = store.commit_result("m2", &v1, &from0);
        let mut commit_again = store.commit_result("m2", &v1, &from0);
        let mut chained = store.commit_result("m3", &v2, &from1);
        let mut stale = store.commit_result("m4", &v1, &from0);
        poll_once(&mut put);
        poll_once(&mut put_again);
        poll_once(&mut put_other);
        poll_once(&mut commit);
        poll_once(&mut commit_again);
        poll_once(&mut chained);
        poll_once(&mut stale);
        assert_eq!(lock(&store.inner.queue).requests.len(), 7, "one batch");
        // Readers answer at once while the batch waits, and see none of it.
        assert_eq!(at_once(store.get_placement("m1")).unwrap(), None);
        assert!(!at_once(store.is_applied("m2")).unwrap());
        drop(held);

        put.await.unwrap();
        put_again.await.unwrap();
        let err = put_other.await.unwrap_err();
        assert!(
            matches!(err, ProfilesError::PlacementConflict { .. }),
            "{err}"
        );
        assert_eq!(commit.await.unwrap(), CommitOutcome::Applied);
        assert_eq!(commit_again.await.unwrap(), CommitOutcome::AlreadyApplied);
        assert_eq!(chained.await.unwrap(), CommitOutcome::Applied);
        assert_eq!(
            stale.await.unwrap(),
            CommitOutcome::VersionConflict {
                players: vec!["a".to_owned()]
            }
        );
        // placement m1, commit m2, commit m3: nothing for the answers that wrote nothing.
        assert_eq!(log_lines(&dir.0), 3);
        assert_state(&store, &placed, &v2[0]).await;
        drop(store);
        let reopened = EmbeddedProfiles::open(&dir.0).unwrap();
        assert_state(&reopened, &placed, &v2[0]).await;
    }

    async fn assert_state(store: &EmbeddedProfiles, placed: &PlacementRecord, a: &PlayerProfile) {
        assert_eq!(
            store.get_placement("m1").await.unwrap().as_ref(),
            Some(placed)
        );
        for (m, applied) in [("m2", true), ("m3", true), ("m4", false)] {
            assert_eq!(store.is_applied(m).await.unwrap(), applied, "{m}");
        }
        assert_eq!(store.get_profile("a").await.unwrap().as_ref(), Some(a));
    }

    /// A batch whose append fails answers every request of it with the I/O error (even
    /// one that wrote nothing), changes nothing in memory, and every later write is
    /// refused; a reopen recovers with the state before the batch. (`/dev/full` refuses
    /// every write with `ENOSPC`.)
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_failed_append_fails_its_batch_and_every_later_write() {
        let dir = TempDir::new();
        let store = EmbeddedProfiles::open(&dir.0).unwrap();
        let kept = placement("m0", "ps-0");
        store.put_placement(&kept).await.unwrap();
        let (v1, from0) = a_at(1);
        let held = {
            let mut log = lock(&store.inner.log);
            log.file = OpenOptions::new().append(true).open("/dev/full").unwrap();
            log
        };
        let mut put_again = store.put_placement(&kept);
        let new = placement("m1", "ps-1");
        let mut put = store.put_placement(&new);
        let mut commit = store.commit_result("m2", &v1, &from0);
        poll_once(&mut put_again);
        poll_once(&mut put);
        poll_once(&mut commit);
        drop(held);
        for err in [
            put_again.await.unwrap_err(),
            put.await.unwrap_err(),
            commit.await.unwrap_err(),
        ] {
            assert!(
                matches!(&err, ProfilesError::Io { action: "append to", source, .. }
                    if source.kind() == std::io::ErrorKind::StorageFull),
                "{err:?}"
            );
        }
        assert_eq!(store.get_placement("m1").await.unwrap(), None);
        assert!(!store.is_applied("m2").await.unwrap());
        assert_eq!(store.get_profile("a").await.unwrap(), None);
        // Later writes, even one that would write nothing, are refused.
        for err in [
            store.put_placement(&kept).await.unwrap_err(),
            store.commit_result("m3", &v1, &from0).await.unwrap_err(),
        ] {
            assert!(matches!(err, ProfilesError::LogFailed { .. }), "{err:?}");
        }
        drop(store);
        let store = EmbeddedProfiles::open(&dir.0).unwrap();
        assert_eq!(store.get_placement("m0").await.unwrap(), Some(kept));
        assert_eq!(store.get_placement("m1").await.unwrap(), None);
        store.put_placement(&new).await.unwrap();
        assert_eq!(
            store.commit_result("m2", &v1, &from0).await.unwrap(),
            CommitOutcome::Applied
        );
    }
}
