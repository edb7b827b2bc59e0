//! Ingesting the spool ([`protocol::result::spool`]): session servers on this host drop
//! result messages into a directory (`session-server --queue spool`), and the backend
//! moves each into its result queue, then deletes the file.
//!
//! **What it is:** at-least-once, like SQS: a crash between the queue's `send` and the
//! file's removal sends the message again on the next pass, and the consumer's
//! exactly-once apply (the match record) makes that harmless. A file that can never be
//! a message (over the size limit, not UTF-8) is renamed to `*.rejected` and logged,
//! never retried in a loop and never deleted.
//!
//! **What it is not:** a network transport: servers and backend share a file system.
//! For `fleet local` and the one-command local run; GameLift fleets use SQS.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use protocol::result::spool::{MESSAGE_EXTENSION, MESSAGES_DIR, TEMP_PREFIX};

use super::{MAX_BODY_BYTES, QueueError, ResultQueue};

/// How often [`run`] looks for new files.
pub const INGEST_INTERVAL: Duration = Duration::from_millis(200);

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestPass {
    /// Messages moved into the queue (and their files removed).
    pub sent: usize,
    /// Files renamed to `*.rejected`.
    pub rejected: usize,
    /// Files left for the next pass (the queue failed).
    pub left: usize,
}

/// Why a pass stopped early.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The spool directory could not be listed, or a file moved.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> IngestError + 'a {
    move |source| IngestError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// The complete message files under `spool`, oldest first (by modification time, then
/// name).
fn message_files(spool: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let dir = spool.join(MESSAGES_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("listing", &dir)(e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io("listing", &dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        if name.starts_with(TEMP_PREFIX) || path.extension().is_none_or(|x| x != MESSAGE_EXTENSION)
        {
            continue;
        }
        let modified = entry
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        files.push((modified, path));
    }
    files.sort();
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

fn reject(path: &Path, why: &str) -> Result<(), IngestError> {
    let target = path.with_extension("rejected");
    tracing::error!(file = %path.display(), why, "spool file set aside");
    std::fs::rename(path, &target).map_err(io("setting aside", path))
}

/// One pass over the spool: every complete message file is sent to `queue`, then
/// removed. A queue failure leaves the file (and the rest) for the next pass.
///
/// # Errors
///
/// The directory cannot be listed, or a file cannot be removed or renamed.
pub async fn ingest_once(spool: &Path, queue: &dyn ResultQueue) -> Result<IngestPass, IngestError> {
    let files = message_files(spool)?;
    let mut pass = IngestPass::default();
    for (i, path) in files.iter().enumerate() {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            // Taken by another backend reading the same spool.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io("reading", path)(e)),
        };
        if bytes.len() > MAX_BODY_BYTES {
            reject(path, "larger than a queue message may be")?;
            pass.rejected += 1;
            continue;
        }
        let Ok(body) = String::from_utf8(bytes) else {
            reject(path, "not UTF-8")?;
            pass.rejected += 1;
            continue;
        };
        match queue.send(&body).await {
            Ok(id) => {
                tracing::debug!(file = %path.display(), id = %id.0, "spooled result queued");
                match std::fs::remove_file(path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io("removing", path)(e)),
                }
                pass.sent += 1;
            }
            Err(QueueError::InvalidArgument(why)) => {
                reject(path, &why)?;
                pass.rejected += 1;
            }
            Err(error) => {
                tracing::warn!(%error, "queue refused a spooled result; retrying later");
                pass.left = files.len() - i;
                break;
            }
        }
    }
    Ok(pass)
}

/// Ingests every [`INGEST_INTERVAL`] until `stop` turns true (checked between passes).
pub async fn run(
    spool: PathBuf,
    queue: Arc<dyn ResultQueue>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    tracing::info!(dir = %spool.display(), "ingesting the result spool");
    loop {
        match ingest_once(&spool, &*queue).await {
            Ok(pass) if pass != IngestPass::default() => tracing::info!(?pass, "spool pass"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "spool pass failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(INGEST_INTERVAL) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::EmbeddedQueue;

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "spool-ingest-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(dir.join(MESSAGES_DIR)).unwrap();
        dir
    }

    #[tokio::test]
    async fn complete_files_are_queued_once_and_the_rest_left_or_set_aside() {
        let spool = tempdir("pass");
        let queue = EmbeddedQueue::open(spool.join("queue"), 5).expect("queue");
        let messages = spool.join(MESSAGES_DIR);
        std::fs::write(messages.join("a.msg"), "{\"a\":1}").unwrap();
        std::fs::write(messages.join("b.msg"), "{\"b\":2}").unwrap();
        std::fs::write(messages.join(".tmp-c.msg-1-0"), "{\"c\"").unwrap();
        std::fs::write(messages.join("notes.txt"), "not a message").unwrap();
        std::fs::write(messages.join("big.msg"), vec![b'x'; MAX_BODY_BYTES + 1]).unwrap();
        std::fs::write(messages.join("bin.msg"), [0xff, 0xfe, 0x00]).unwrap();

        let pass = ingest_once(&spool, &queue).await.expect("pass");
        assert_eq!(
            pass,
            IngestPass {
                sent: 2,
                rejected: 2,
                left: 0
            }
        );
        assert_eq!(queue.len(), 2);
        let mut left: Vec<String> = std::fs::read_dir(&messages)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                ".tmp-c.msg-1-0",
                "big.rejected",
                "bin.rejected",
                "notes.txt"
            ],
            "a half-written file is left for its writer; bad ones set aside, not deleted"
        );
        let again = ingest_once(&spool, &queue).await.expect("second pass");
        assert_eq!(again, IngestPass::default(), "nothing is sent twice");
        assert_eq!(queue.len(), 2);
        std::fs::remove_dir_all(&spool).ok();
    }

    #[tokio::test]
    async fn a_missing_spool_is_an_empty_one() {
        let spool = std::env::temp_dir().join("spool-ingest-never-created-xyz");
        let queue_dir = tempdir("missing");
        let queue = EmbeddedQueue::open(queue_dir.join("queue"), 5).expect("queue");
        assert_eq!(
            ingest_once(&spool, &queue).await.expect("pass"),
            IngestPass::default()
        );
        std::fs::remove_dir_all(&queue_dir).ok();
    }
}
