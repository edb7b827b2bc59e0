//! The durable outbox: one file per signed result, written before any send.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use protocol::result::{MAX_RESULT_BYTES, SignedMatchResult};

use super::names::stem_for;

const JSON: &str = ".json";
const TMP: &str = ".tmp";
const LOCK: &str = ".lock";

/// A directory of results waiting for the queue to accept them.
///
/// Blocking `std::fs` calls throughout: the async shell calls it from `spawn_blocking`.
/// One process owns a directory at a time (an exclusive lock on `.lock`, held until the
/// outbox is dropped); a replacement process for the same launch slot reopens it and
/// re-sends what [`pending`](Self::pending) lists.
#[derive(Debug)]
pub struct Outbox {
    dir: PathBuf,
    /// Held for the lock; never read.
    _lock: File,
    /// Makes temp names unique within this process (the pid makes them unique across).
    tmp_seq: AtomicU64,
}

/// What [`Outbox::open`] found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Temp files left by a crash mid-write, deleted (their result was never acknowledged
    /// to anyone: `put` had not returned).
    pub temp_removed: usize,
    /// Files that did not hold a valid result, renamed to `*.corrupt*` (kept for a human).
    pub set_aside: Vec<PathBuf>,
    /// Results waiting to be sent.
    pub pending: usize,
}

/// What [`Outbox::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The result is now durably on disk.
    Written,
    /// The identical result was already there; nothing changed.
    AlreadyPresent,
}

/// An outbox operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// A file-system call failed.
    #[error("outbox {op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// Another live process holds this outbox directory.
    #[error("outbox {} is in use by another process", .0.display())]
    Locked(PathBuf),
    /// A different result for the same match is already waiting: a match has exactly one
    /// result, so the second is refused (the first stays).
    #[error("a different result for match {0} is already in the outbox")]
    Conflict(String),
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> OutboxError + 'a {
    move |source| OutboxError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

/// Makes renames and removals in `dir` durable. Directories cannot be opened as files on
/// Windows; there NTFS journals metadata and this is a no-op.
fn sync_dir(dir: &Path) -> Result<(), OutboxError> {
    if cfg!(unix) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("sync directory", dir))?;
    }
    Ok(())
}

/// Reads a result file; `Ok(None)` when it is missing, `Err(())` when it is not a whole
/// valid signed result.
fn read_result(path: &Path) -> Result<Option<SignedMatchResult>, ()> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(_) => return Err(()),
    };
    let mut buf = Vec::new();
    let cap = (MAX_RESULT_BYTES + 1) as u64;
    if file.take(cap).read_to_end(&mut buf).is_err() || buf.len() > MAX_RESULT_BYTES {
        return Err(());
    }
    serde_json::from_slice(&buf).map(Some).map_err(|_| ())
}

impl Outbox {
    /// Opens (creating if needed) and locks `dir`, deletes leftover `*.tmp` files, and
    /// sets aside any `*.json` that is not a valid result stored under its own name.
    pub fn open(dir: impl Into<PathBuf>) -> Result<(Self, OpenReport), OutboxError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
        let lock_path = dir.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err("open lock", &lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(OutboxError::Locked(dir)),
            Err(TryLockError::Error(e)) => return Err(io_err("lock", &lock_path)(e)),
        }
        let outbox = Self {
            dir,
            _lock: lock,
            tmp_seq: AtomicU64::new(0),
        };
        let mut report = OpenReport::default();
        for (name, path) in outbox.entries()? {
            if name.ends_with(TMP) {
                fs::remove_file(&path).map_err(io_err("remove temp", &path))?;
                report.temp_removed += 1;
            }
        }
        if report.temp_removed > 0 {
            sync_dir(&outbox.dir)?;
        }
        let scan = outbox.scan()?;
        report.pending = scan.0.len();
        report.set_aside = scan.1;
        Ok((outbox, report))
    }

    /// Opens the first free slot `root/slot-<n>`, `n` in `0..slots`: several server
    /// processes on one host (GameLift runs many per instance, with the same parameters)
    /// each hold one slot, and a process started after one died takes over its slot and
    /// re-sends what it left there. Returns the slot number with the outbox.
    ///
    /// # Errors
    ///
    /// [`OutboxError::Locked`] with `root` when every slot is held; any other error of
    /// [`Outbox::open`] as it comes.
    pub fn open_slot(
        root: impl Into<PathBuf>,
        slots: u32,
    ) -> Result<(Self, OpenReport, u32), OutboxError> {
        let root = root.into();
        for n in 0..slots {
            match Self::open(root.join(format!("slot-{n}"))) {
                Ok((outbox, report)) => return Ok((outbox, report, n)),
                Err(OutboxError::Locked(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(OutboxError::Locked(root))
    }

    /// The directory this outbox lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path a match's result is stored at.
    pub fn path_for(&self, match_id: &str) -> PathBuf {
        self.dir.join(stem_for(match_id) + JSON)
    }

    fn entries(&self) -> Result<Vec<(String, PathBuf)>, OutboxError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err("list", &self.dir))? {
            let entry = entry.map_err(io_err("list", &self.dir))?;
            if let Ok(name) = entry.file_name().into_string() {
                out.push((name, entry.path()));
            }
        }
        Ok(out)
    }

    /// Writes `signed` durably: temp file in the same directory, `fsync`, rename over the
    /// final name, `fsync` the directory. Returns only once the result survives a crash.
    /// Idempotent by match id: the identical result again is [`PutOutcome::AlreadyPresent`];
    /// a different one is [`OutboxError::Conflict`].
    pub fn put(&self, signed: &SignedMatchResult) -> Result<PutOutcome, OutboxError> {
        let match_id = &signed.result.match_id;
        let path = self.path_for(match_id);
        match read_result(&path) {
            Ok(Some(existing)) if existing == *signed => return Ok(PutOutcome::AlreadyPresent),
            Ok(Some(_)) => return Err(OutboxError::Conflict(match_id.clone())),
            Ok(None) => {}
            Err(()) => {
                self.set_aside_corrupt(&path)?;
            }
        }
        // Plain structs of strings, integers and string-keyed maps always serialise.
        let bytes = serde_json::to_vec(signed).unwrap_or_default();
        let seq = self.tmp_seq.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join(format!(
            "{}.{}-{seq}{TMP}",
            stem_for(match_id),
            std::process::id()
        ));
        let written = (|| {
            let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()
        })();
        if let Err(e) = written.and_then(|()| fs::rename(&tmp, &path)) {
            let _ = fs::remove_file(&tmp);
            return Err(io_err("write", &path)(e));
        }
        sync_dir(&self.dir)?;
        Ok(PutOutcome::Written)
    }

    /// Every waiting result, oldest first (by the time its file was written, then by
    /// name). Files that are not valid results are set aside here too, with a warning.
    pub fn pending(&self) -> Result<Vec<SignedMatchResult>, OutboxError> {
        Ok(self.scan()?.0)
    }

    fn scan(&self) -> Result<(Vec<SignedMatchResult>, Vec<PathBuf>), OutboxError> {
        let mut found = Vec::new();
        let mut set_aside = Vec::new();
        for (name, path) in self.entries()? {
            let Some(stem) = name.strip_suffix(JSON) else {
                continue;
            };
            match read_result(&path) {
                Ok(Some(s)) if stem_for(&s.result.match_id) == stem => {
                    let mtime = fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .unwrap_or(SystemTime::UNIX_EPOCH);
                    found.push((mtime, name, s));
                }
                Ok(None) => {} // removed meanwhile
                Ok(Some(_)) | Err(()) => set_aside.push(self.set_aside_corrupt(&path)?),
            }
        }
        found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        Ok((found.into_iter().map(|f| f.2).collect(), set_aside))
    }

    /// Renames a bad file to `<name>.corrupt` (or `.corrupt.N` if taken): never deleted.
    fn set_aside_corrupt(&self, path: &Path) -> Result<PathBuf, OutboxError> {
        let to = self.rename_aside(path, "corrupt")?;
        tracing::warn!(file = %path.display(), moved_to = %to.display(),
            "outbox file is not a valid signed result; set aside");
        Ok(to)
    }

    fn rename_aside(&self, path: &Path, tag: &str) -> Result<PathBuf, OutboxError> {
        let base = path.file_name().unwrap_or_default().to_string_lossy();
        let mut to = self.dir.join(format!("{base}.{tag}"));
        let mut n = 1;
        while to.exists() {
            to = self.dir.join(format!("{base}.{tag}.{n}"));
            n += 1;
        }
        fs::rename(path, &to).map_err(io_err("set aside", path))?;
        sync_dir(&self.dir)?;
        Ok(to)
    }

    /// Deletes a match's result once the queue accepted it, durably (`fsync` of the
    /// directory). `false` if it was not there.
    pub fn remove(&self, match_id: &str) -> Result<bool, OutboxError> {
        let path = self.path_for(match_id);
        match fs::remove_file(&path) {
            Ok(()) => {
                sync_dir(&self.dir)?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err("remove", &path)(e)),
        }
    }

    /// Moves a result the queue refused for good to `<name>.rejected` (kept for a human,
    /// never listed as pending again). `None` if it was not there.
    pub fn reject(&self, match_id: &str, reason: &str) -> Result<Option<PathBuf>, OutboxError> {
        let path = self.path_for(match_id);
        if !path.exists() {
            return Ok(None);
        }
        let to = self.rename_aside(&path, "rejected")?;
        tracing::error!(match_id, reason, moved_to = %to.display(),
            "queue refused the result permanently; set aside");
        Ok(Some(to))
    }
}
