//! [`SpoolQueue`]: the reporter's queue for a local run without SQS. A "send" is a file
//! dropped into a spool directory that the backend's embedded queue ingests
//! (`backend consume --spool-dir`); an "upload" is a file under `blobs/`, in the layout
//! the backend's directory blob store reads (`blobs/<bucket>/<key>`).
//!
//! **What it is:** durable and multi-producer: every file is written to a temp name,
//! `fsync`ed, then renamed into place, so the backend never sees half a message, and any
//! number of server processes on the host share one spool. Message files are named by
//! the SHA-256 of their body, so re-sending the same result replaces its own file.
//!
//! **What it is not:** a network queue. Server and backend must share a file system:
//! it is for `fleet local` and the one-command local run, where GameLift's real fleets
//! use [`super::AwsResultQueue`].
//!
//! Layout ([`protocol::result::spool`]): `<dir>/messages/<sha256 of body>.msg` and
//! `<dir>/blobs/<bucket>/<key>`; temp files start with `.tmp-` and readers skip them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::plan::{OutgoingMessage, S3Upload, sha256_hex};
use super::policy::FailureKind;
use super::reporter::{QueueError, ResultQueue};

use protocol::result::spool::TEMP_PREFIX;
pub use protocol::result::spool::{
    BLOBS_DIR as SPOOL_BLOBS, MESSAGE_EXTENSION as SPOOL_EXTENSION, MESSAGES_DIR as SPOOL_MESSAGES,
};

/// The reporter's queue over a spool directory. See the module docs.
#[derive(Debug, Clone)]
pub struct SpoolQueue {
    dir: PathBuf,
}

impl SpoolQueue {
    /// A queue writing under `dir` (folders are created on first use).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// A path segment that stays inside its folder.
fn plain(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && !segment.starts_with(TEMP_PREFIX)
        && !segment.contains(['\\', '\0'])
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!("{TEMP_PREFIX}{name}-{}-{seq}", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    // The rename is durable once the directory is.
    std::fs::File::open(dir)?.sync_all()
}

fn io_failure(what: &str, path: &Path, error: &std::io::Error) -> QueueError {
    QueueError {
        // A full disk or a permission problem may be fixed while the result waits.
        kind: FailureKind::Network,
        detail: format!("{what} {}: {error}", path.display()),
    }
}

impl ResultQueue for SpoolQueue {
    fn put_object(&mut self, upload: &S3Upload) -> Result<(), QueueError> {
        if !plain(&upload.bucket)
            || upload.bucket.contains('/')
            || !upload.key.split('/').all(plain)
        {
            return Err(QueueError {
                kind: FailureKind::Invalid,
                detail: format!("unusable object name {}/{}", upload.bucket, upload.key),
            });
        }
        let mut path = self.dir.join(SPOOL_BLOBS).join(&upload.bucket);
        path.extend(upload.key.split('/'));
        write_atomically(&path, &upload.body).map_err(|e| io_failure("writing", &path, &e))
    }

    fn send(&mut self, message: &OutgoingMessage) -> Result<(), QueueError> {
        let name = format!("{}.{SPOOL_EXTENSION}", sha256_hex(message.body.as_bytes()));
        let path = self.dir.join(SPOOL_MESSAGES).join(name);
        write_atomically(&path, message.body.as_bytes())
            .map_err(|e| io_failure("writing", &path, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir() -> PathBuf {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        std::env::temp_dir().join(format!(
            "spool-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ))
    }

    fn message(body: &str) -> OutgoingMessage {
        OutgoingMessage {
            body: body.to_owned(),
            fifo: None,
        }
    }

    #[test]
    fn a_message_is_one_complete_file_named_by_its_body() {
        let dir = tempdir();
        let mut q = SpoolQueue::new(&dir);
        q.send(&message("{\"a\":1}")).expect("send");
        q.send(&message("{\"a\":1}")).expect("the same again");
        q.send(&message("{\"b\":2}")).expect("another");
        let mut names: Vec<String> = std::fs::read_dir(dir.join(SPOOL_MESSAGES))
            .expect("messages")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names.len(),
            2,
            "the same body replaces its own file: {names:?}"
        );
        assert!(
            names
                .iter()
                .all(|n| n.ends_with(".msg") && !n.starts_with(".tmp-"))
        );
        let first = dir
            .join(SPOOL_MESSAGES)
            .join(format!("{}.msg", sha256_hex(b"{\"a\":1}")));
        assert_eq!(std::fs::read_to_string(first).expect("read"), "{\"a\":1}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn uploads_land_where_the_backend_reads_them_and_bad_names_are_refused() {
        let dir = tempdir();
        let mut q = SpoolQueue::new(&dir);
        let upload = |bucket: &str, key: &str| S3Upload {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            body: b"{}".to_vec(),
        };
        q.put_object(&upload("results", "results/m-1.json"))
            .expect("upload");
        assert_eq!(
            std::fs::read(dir.join("blobs/results/results/m-1.json")).expect("read"),
            b"{}"
        );
        for (bucket, key) in [("..", "k"), ("b", "../k"), ("b/c", "k"), ("b", "")] {
            let refused = q.put_object(&upload(bucket, key)).expect_err("refused");
            assert_eq!(refused.kind, FailureKind::Invalid, "{bucket}/{key}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
