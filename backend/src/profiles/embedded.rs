//! [`EmbeddedProfiles`]: the profile store in process, persisted under a data directory.
//!
//! # Persistence
//!
//! Profiles, applied match ids and placements live in memory. Every write is first
//! appended to `profiles.log` in the data directory as **one** JSON line, then
//! `fsync`ed, then applied in memory; the call returns after that. Records (floats
//! written as their bits, `{"f64bits":…}`, see [`encode_profile`](super::encode_profile)):
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
//! Conditions (match not applied, versions as expected) are checked under the writers'
//! lock before the line is written, and lines are replayed without checks. Writers hold
//! that lock until their record is applied, so they run one at a time; readers take only
//! the lock of the in-memory data, never held across an fsync, and see a write once it
//! is durable and applied.
//!
//! **Compaction** happens on open, as in the embedded rankings: the live state is written
//! to `profiles.log.tmp` (one `applied` line, one `placement` line per placement, one
//! `profile` line per player), `fsync`ed, renamed over `profiles.log`, and the directory
//! is `fsync`ed. That also drops a torn last line from the file before anything is
//! appended after it.
//!
//! **One process per directory:** `profiles.lock` is locked exclusively for as long as
//! the store is open.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use super::{
    BoxFuture, CommitOutcome, ProfilePage, ProfileStore, ProfilesError, exact_json, validate_commit,
};
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
    /// The live state; readers hold this lock only to copy what they read out.
    data: Arc<Mutex<Data>>,
    /// The log; writers hold this lock from their decision until the record is applied,
    /// so they are serialised, while the fsync itself runs without `data`'s lock.
    log: Arc<Mutex<Log>>,
}

#[derive(Debug, Default)]
struct Data {
    profiles: BTreeMap<PlayerId, PlayerProfile>,
    applied: BTreeSet<String>,
    placements: BTreeMap<String, PlacementRecord>,
}

#[derive(Debug)]
struct Log {
    file: File,
    path: PathBuf,
    /// Held for the lock it carries.
    _lock: File,
}

/// One line of the log.
#[derive(Debug, Serialize, Deserialize)]
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
            data: Arc::new(Mutex::new(data)),
            log: Arc::new(Mutex::new(Log {
                file: log,
                path: log_path,
                _lock: lock,
            })),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Data> {
        lock_data(&self.data)
    }

    /// Under the log's lock and off the async threads: `decide` looks at the data and
    /// returns the answer and, when something is to be written, the record; the record
    /// is logged durably, then applied. Only one writer runs at a time, so the data
    /// `decide` saw is still the data when the record is applied; readers are not held
    /// up by the fsync (they see the state before the record until it is applied, and
    /// the write has not returned before then).
    fn write<T: Send + 'static>(
        &self,
        decide: impl FnOnce(&Data) -> Result<(T, Option<Record>), ProfilesError> + Send + 'static,
    ) -> BoxFuture<'static, Result<T, ProfilesError>> {
        let (data, log) = (Arc::clone(&self.data), Arc::clone(&self.log));
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                // A writer that panicked left the log at a line boundary or with a torn
                // line the next open drops; its record was not applied.
                let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                let (answer, record) = decide(&lock_data(&data))?;
                if let Some(record) = record {
                    let mut line = exact_json::to_vec(&record).expect("records serialize");
                    line.push(b'\n');
                    let Log { file, path, .. } = &mut *log;
                    file.write_all(&line).map_err(io("append to", path))?;
                    file.sync_data().map_err(io("fsync", path))?;
                    lock_data(&data).apply(record);
                }
                Ok(answer)
            })
            .await
            .expect("the profiles log writer does not panic")
        })
    }
}

/// Memory is changed only after the log line is durable, and by infallible inserts, so a
/// poisoned lock still guards a consistent state.
fn lock_data(data: &Mutex<Data>) -> MutexGuard<'_, Data> {
    data.lock().unwrap_or_else(|e| e.into_inner())
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
    let mut push = |record: &Record| {
        out.extend(exact_json::to_vec(record).expect("records serialize"));
        out.push(b'\n');
    };
    if !data.applied.is_empty() {
        push(&Record::Applied {
            match_ids: data.applied.iter().cloned().collect(),
        });
    }
    for record in data.placements.values() {
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
        let state = self.lock();
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
        let record = record.clone();
        self.write(move |data| match data.placements.get(&record.match_id) {
            Some(stored) if *stored == record => Ok(((), None)),
            Some(_) => Err(ProfilesError::PlacementConflict {
                match_id: record.match_id,
            }),
            None => Ok(((), Some(Record::Placement { record }))),
        })
    }

    fn get_placement<'a>(
        &'a self,
        match_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<PlacementRecord>, ProfilesError>> {
        let found = self.lock().placements.get(match_id).cloned();
        Box::pin(async { Ok(found) })
    }

    fn is_applied<'a>(&'a self, match_id: &'a str) -> BoxFuture<'a, Result<bool, ProfilesError>> {
        let applied = self.lock().applied.contains(match_id);
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
        let match_id = match_id.to_owned();
        let new_profiles = new_profiles.to_vec();
        let expected_versions = expected_versions.clone();
        self.write(move |data| {
            if data.applied.contains(&match_id) {
                return Ok((CommitOutcome::AlreadyApplied, None));
            }
            let players: Vec<PlayerId> = expected_versions
                .iter()
                .filter(|(p, expected)| {
                    data.profiles.get(*p).map_or(0, |stored| stored.version) != **expected
                })
                .map(|(p, _)| p.clone())
                .collect();
            if !players.is_empty() {
                return Ok((CommitOutcome::VersionConflict { players }, None));
            }
            let record = Record::Commit {
                match_id,
                profiles: new_profiles,
            };
            Ok((CommitOutcome::Applied, Some(record)))
        })
    }

    fn all_profiles<'a>(
        &'a self,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<ProfilePage, ProfilesError>> {
        let state = self.lock();
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
