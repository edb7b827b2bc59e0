//! [`EmbeddedRankings`]: the rankings in process, persisted under a data directory.
//!
//! # Persistence
//!
//! The boards live in memory ([`SortedSet`] per board). Every write call is first
//! appended to `rankings.log` in the data directory as **one** JSON line holding absolute
//! values, then `fsync`ed, then applied in memory; the call returns after that. Records:
//!
//! ```text
//! {"op":"set","entries":[[{"season":null,"mode":"duel"},"p-1",8589934591], …]}
//! {"op":"remove","player":"p-1"}
//! {"op":"clear","board":{"season":"s1","mode":null}}
//! {"op":"replace","board":{"season":null,"mode":null},"entries":[["p-1",8589934591], …]}
//! ```
//!
//! Scores are stored as [`Composite`] integers, so a replay is exact. Since a call is
//! one line, it survives a crash whole or not at all: an unterminated last line is a
//! write torn by a crash (its call never returned `Ok`) and is dropped; any other line
//! that does not parse stops the open with [`RankingsError::CorruptLog`].
//!
//! **Compaction** happens on open: after replaying, the live boards are written as one
//! `replace` line each to `rankings.log.tmp`, which is `fsync`ed and renamed over
//! `rankings.log`, and the directory is `fsync`ed; a crash leaves the old log or the new
//! one, both complete. The log grows by one line per write until the next open.
//!
//! **One process per directory:** `rankings.lock` is locked exclusively (an OS file
//! lock, released when the process dies) for as long as the store is open.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use protocol::http::BoardId;
use serde::{Deserialize, Serialize};

use super::sorted_set::SortedSet;
use super::{
    BoxFuture, Composite, PlayerRanking, RankedPage, RankingUpdate, Rankings, RankingsError, Score,
    encode_for_store,
};

/// The log's file name in the data directory.
const LOG_FILE: &str = "rankings.log";
/// Where compaction writes before renaming over [`LOG_FILE`].
const COMPACT_FILE: &str = "rankings.log.tmp";
/// The lock held while the store is open.
const LOCK_FILE: &str = "rankings.lock";

/// Rankings kept in process and persisted to a log under a data directory (see the
/// module docs), for local runs without Redis. Cheap to clone: clones share the store.
#[derive(Debug, Clone)]
pub struct EmbeddedRankings {
    state: Arc<Mutex<State>>,
}

#[derive(Debug)]
struct State {
    boards: BTreeMap<BoardId, SortedSet>,
    log: File,
    log_path: PathBuf,
    /// Held for the lock it carries.
    _lock: File,
}

/// One line of the log: one write call, absolute values.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Record {
    Set {
        entries: Vec<(BoardId, String, u64)>,
    },
    Remove {
        player: String,
    },
    Clear {
        board: BoardId,
    },
    Replace {
        board: BoardId,
        entries: Vec<(String, u64)>,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> RankingsError {
    let path = path.to_owned();
    move |source| RankingsError::Io {
        action,
        path,
        source,
    }
}

impl EmbeddedRankings {
    /// Opens (creating if needed) the store in `dir`: replays and compacts its log.
    ///
    /// Blocking file I/O; call it at start-up (or inside `spawn_blocking`).
    ///
    /// # Errors
    ///
    /// [`RankingsError::Io`] when the directory or files cannot be used,
    /// [`RankingsError::Locked`] when another process has the directory open, and
    /// [`RankingsError::CorruptLog`] when the log is damaged.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, RankingsError> {
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
            return Err(RankingsError::Locked(dir.to_owned()));
        }
        let log_path = dir.join(LOG_FILE);
        let boards = replay(&log_path)?;
        compact(dir, &log_path, &boards)?;
        let log = OpenOptions::new()
            .append(true)
            .open(&log_path)
            .map_err(io("open", &log_path))?;
        Ok(EmbeddedRankings {
            state: Arc::new(Mutex::new(State {
                boards,
                log,
                log_path,
                _lock: lock,
            })),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied record in memory
        // that is not in the log, so the state stays usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads one board under the lock.
    fn read<T>(&self, board: &BoardId, f: impl FnOnce(&SortedSet) -> T) -> T {
        let state = self.lock();
        match state.boards.get(board) {
            Some(set) => f(set),
            None => f(&SortedSet::default()),
        }
    }

    /// Logs a record durably, then applies it, off the async threads.
    fn write(&self, record: Record) -> BoxFuture<'static, Result<(), RankingsError>> {
        let state = Arc::clone(&self.state);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
                let mut line = serde_json::to_vec(&record).expect("records serialize");
                line.push(b'\n');
                let State { log, log_path, .. } = &mut *state;
                log.write_all(&line).map_err(io("append to", log_path))?;
                log.sync_data().map_err(io("fsync", log_path))?;
                apply(&mut state.boards, record).map_err(|reason| RankingsError::CorruptLog {
                    path: state.log_path.clone(),
                    line: 0,
                    reason,
                })
            })
            .await
            .expect("the rankings log writer does not panic")
        })
    }
}

/// Applies a record to the boards.
fn apply(boards: &mut BTreeMap<BoardId, SortedSet>, record: Record) -> Result<(), String> {
    let composite = |value: u64| {
        Composite::from_u64(value).ok_or_else(|| format!("{value} is not a composite score"))
    };
    match record {
        Record::Set { entries } => {
            for (board, player, value) in entries {
                let value = composite(value)?;
                boards.entry(board).or_default().insert(&player, value);
            }
        }
        Record::Remove { player } => {
            for set in boards.values_mut() {
                set.remove(&player);
            }
        }
        Record::Clear { board } => {
            boards.remove(&board);
        }
        Record::Replace { board, entries } => {
            let mut set = SortedSet::default();
            for (player, value) in entries {
                set.insert(&player, composite(value)?);
            }
            boards.insert(board, set);
        }
    }
    Ok(())
}

/// Reads the log (absent: empty), dropping a torn last line.
fn replay(path: &Path) -> Result<BTreeMap<BoardId, SortedSet>, RankingsError> {
    let mut boards = BTreeMap::new();
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(boards),
        Err(e) => return Err(io("read", path)(e)),
    };
    let mut lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
    // The piece after the last newline is empty, or a write torn by a crash.
    if let Some(torn) = lines.pop().filter(|piece| !piece.is_empty()) {
        tracing::warn!(path = %path.display(), bytes = torn.len(),
            "rankings log: dropping a torn last line");
    }
    for (index, line) in lines.into_iter().enumerate() {
        let corrupt = |reason: String| RankingsError::CorruptLog {
            path: path.to_owned(),
            line: index + 1,
            reason,
        };
        let record: Record = serde_json::from_slice(line).map_err(|e| corrupt(e.to_string()))?;
        apply(&mut boards, record).map_err(corrupt)?;
    }
    Ok(boards)
}

/// Rewrites the log as one `replace` line per board, atomically (module docs).
fn compact(
    dir: &Path,
    log_path: &Path,
    boards: &BTreeMap<BoardId, SortedSet>,
) -> Result<(), RankingsError> {
    let tmp = dir.join(COMPACT_FILE);
    let mut out = Vec::new();
    for (board, set) in boards {
        let record = Record::Replace {
            board: board.clone(),
            entries: set.iter().map(|(p, c)| (p.to_owned(), c.get())).collect(),
        };
        serde_json::to_writer(&mut out, &record).expect("records serialize");
        out.push(b'\n');
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

impl Rankings for EmbeddedRankings {
    fn set_many<'a>(
        &'a self,
        updates: &'a [RankingUpdate],
    ) -> BoxFuture<'a, Result<(), RankingsError>> {
        let entries: Result<Vec<_>, _> = updates
            .iter()
            .map(|u| {
                encode_for_store(&u.player, u.score)
                    .map(|c| (u.board.clone(), u.player.clone(), c.get()))
            })
            .collect();
        match entries {
            Ok(entries) if entries.is_empty() => Box::pin(async { Ok(()) }),
            Ok(entries) => self.write(Record::Set { entries }),
            Err(e) => Box::pin(async { Err(e) }),
        }
    }

    fn top<'a>(
        &'a self,
        board: &'a BoardId,
        offset: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<RankedPage, RankingsError>> {
        let page = self.read(board, |set| set.top(offset, limit));
        Box::pin(async { Ok(page) })
    }

    fn rank<'a>(
        &'a self,
        board: &'a BoardId,
        player: &'a str,
    ) -> BoxFuture<'a, Result<PlayerRanking, RankingsError>> {
        let ranking = self.read(board, |set| set.rank(player));
        Box::pin(async { Ok(ranking) })
    }

    fn around<'a>(
        &'a self,
        board: &'a BoardId,
        player: &'a str,
        radius: u64,
    ) -> BoxFuture<'a, Result<RankedPage, RankingsError>> {
        let page = self.read(board, |set| set.around(player, radius));
        Box::pin(async { Ok(page) })
    }

    fn friends<'a>(
        &'a self,
        board: &'a BoardId,
        players: &'a [String],
    ) -> BoxFuture<'a, Result<RankedPage, RankingsError>> {
        let page = self.read(board, |set| set.friends(players));
        Box::pin(async { Ok(page) })
    }

    fn remove<'a>(&'a self, player: &'a str) -> BoxFuture<'a, Result<(), RankingsError>> {
        self.write(Record::Remove {
            player: player.to_owned(),
        })
    }

    fn clear_board<'a>(&'a self, board: &'a BoardId) -> BoxFuture<'a, Result<(), RankingsError>> {
        self.write(Record::Clear {
            board: board.clone(),
        })
    }

    fn rebuild<'a>(
        &'a self,
        board: &'a BoardId,
        entries: &'a [(String, Score)],
    ) -> BoxFuture<'a, Result<(), RankingsError>> {
        let entries: Result<Vec<_>, _> = entries
            .iter()
            .map(|(player, score)| {
                encode_for_store(player, *score).map(|c| (player.clone(), c.get()))
            })
            .collect();
        match entries {
            Ok(entries) => self.write(Record::Replace {
                board: board.clone(),
                entries,
            }),
            Err(e) => Box::pin(async { Err(e) }),
        }
    }

    fn boards(&self) -> BoxFuture<'_, Result<Vec<BoardId>, RankingsError>> {
        let boards = self.lock().boards.keys().cloned().collect();
        Box::pin(async { Ok(boards) })
    }
}
