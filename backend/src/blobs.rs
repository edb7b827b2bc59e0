//! Oversized results: fetching the signed result a [`ResultPointer`] names.
//!
//! **What it is:** one trait, [`ResultBlobs`], whose [`fetch`](ResultBlobs::fetch) returns
//! the object's bytes only when they are what the pointer promises: at most
//! [`MAX_RESULT_BYTES`] (never reading more than that), exactly `size` bytes, and the
//! SHA-256 the pointer names. [`S3Blobs`] reads S3 (`GetObject`); [`DirBlobs`] reads a
//! directory (`<root>/<bucket>/<key>`) for local runs and can store objects there too.
//! Failures are typed: a missing object, a wrong size or checksum, an oversized object
//! and an unusable pointer are permanent (the message goes to the DLQ); an unreachable or
//! throttling service is transient ([`BlobError::is_transient`]).
//!
//! **What it is not:** no JSON parsing or signature check (the consumer verifies the
//! bytes as a [`protocol::result::SignedMatchResult`]), no uploads to S3 (the session
//! server's reporter uploads), no deletion.

use std::io::Read;
use std::path::{Path, PathBuf};

use aws_sdk_s3::operation::get_object::GetObjectError;
use protocol::result::{MAX_RESULT_BYTES, ResultPointer};
use sha2::{Digest, Sha256};

pub use crate::rankings::BoxFuture;

/// Why a pointed-to result could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The pointer cannot name a valid object (empty bucket or key, a key that leaves
    /// the directory, a checksum that is not 64 hex digits).
    #[error("invalid result pointer: {0}")]
    InvalidPointer(String),
    /// No such object (or bucket).
    #[error("result object {bucket}/{key} does not exist")]
    Missing {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// The pointer or the object is larger than [`MAX_RESULT_BYTES`]; not read.
    #[error("result object {bucket}/{key} is {size} bytes or more, at most {max} allowed")]
    TooLarge {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The size said or seen (a lower bound when the read stopped at the cap).
        size: u64,
        /// [`MAX_RESULT_BYTES`].
        max: usize,
    },
    /// The object's size differs from the pointer's.
    #[error("result object is {actual} bytes, the pointer says {expected}")]
    SizeMismatch {
        /// The pointer's size.
        expected: u64,
        /// The object's size.
        actual: u64,
    },
    /// The object's SHA-256 differs from the pointer's.
    #[error("result object has SHA-256 {actual}, the pointer says {expected}")]
    ChecksumMismatch {
        /// The pointer's checksum.
        expected: String,
        /// The object's checksum.
        actual: String,
    },
    /// The store refused for good (access denied, a request it does not accept).
    #[error("result store refused: {0}")]
    Refused(String),
    /// The store could not be reached or asked to slow down; try again later.
    #[error("result store unavailable: {0}")]
    Unavailable(String),
    /// A file of the directory store could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl BlobError {
    /// True when fetching again later may succeed (the store was unavailable, or a file
    /// could not be read); every other error is about the pointer or the object.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Io { .. })
    }
}

/// Where oversized results are read from.
pub trait ResultBlobs: Send + Sync {
    /// The bytes of the object `pointer` names, checked against its size and SHA-256.
    fn fetch<'a>(&'a self, pointer: &'a ResultPointer)
    -> BoxFuture<'a, Result<Vec<u8>, BlobError>>;
}

fn too_large(pointer: &ResultPointer, size: u64) -> BlobError {
    BlobError::TooLarge {
        bucket: pointer.s3.bucket.clone(),
        key: pointer.s3.key.clone(),
        size,
        max: MAX_RESULT_BYTES,
    }
}

/// Checks what can be checked before any read.
fn check_pointer(pointer: &ResultPointer) -> Result<(), BlobError> {
    let s3 = &pointer.s3;
    if s3.bucket.is_empty() || s3.key.is_empty() {
        return Err(BlobError::InvalidPointer("empty bucket or key".to_owned()));
    }
    if s3.sha256.len() != 64 || !s3.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(BlobError::InvalidPointer(format!(
            "sha256 {:?} is not 64 hex digits",
            s3.sha256
        )));
    }
    if s3.size > MAX_RESULT_BYTES as u64 {
        return Err(too_large(pointer, s3.size));
    }
    Ok(())
}

/// Checks fetched bytes against the pointer.
fn verify(pointer: &ResultPointer, bytes: &[u8]) -> Result<(), BlobError> {
    let actual = bytes.len() as u64;
    if actual != pointer.s3.size {
        return Err(BlobError::SizeMismatch {
            expected: pointer.s3.size,
            actual,
        });
    }
    let digest = hex::encode(Sha256::digest(bytes));
    if !digest.eq_ignore_ascii_case(&pointer.s3.sha256) {
        return Err(BlobError::ChecksumMismatch {
            expected: pointer.s3.sha256.clone(),
            actual: digest,
        });
    }
    Ok(())
}

/// Results in S3, in one bucket: a pointer naming any other bucket is
/// [`BlobError::InvalidPointer`], so a forged message cannot make the consumer read
/// whatever else its role may read.
#[derive(Debug, Clone)]
pub struct S3Blobs {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Blobs {
    /// Reads `bucket` through `client` (build it with [`crate::aws::s3_client`]).
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
}

impl ResultBlobs for S3Blobs {
    fn fetch<'a>(
        &'a self,
        pointer: &'a ResultPointer,
    ) -> BoxFuture<'a, Result<Vec<u8>, BlobError>> {
        Box::pin(async move {
            check_pointer(pointer)?;
            let s3 = &pointer.s3;
            if s3.bucket != self.bucket {
                return Err(BlobError::InvalidPointer(format!(
                    "bucket {:?} is not the results bucket {:?}",
                    s3.bucket, self.bucket
                )));
            }
            let got = self
                .client
                .get_object()
                .bucket(&s3.bucket)
                .key(&s3.key)
                .send()
                .await;
            let mut out = match got {
                Ok(out) => out,
                Err(e) => {
                    let missing =
                        matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_)))
                            || crate::aws::error_code(&e) == Some("NoSuchBucket");
                    if missing {
                        return Err(BlobError::Missing {
                            bucket: s3.bucket.clone(),
                            key: s3.key.clone(),
                        });
                    }
                    let failure = crate::aws::classify(&e);
                    let detail = format!("GetObject {}/{}: {}", s3.bucket, s3.key, failure.detail);
                    return Err(if failure.transient {
                        BlobError::Unavailable(detail)
                    } else {
                        BlobError::Refused(detail)
                    });
                }
            };
            if let Some(length) = out.content_length().and_then(|l| u64::try_from(l).ok())
                && length > MAX_RESULT_BYTES as u64
            {
                return Err(too_large(pointer, length));
            }
            let mut bytes = Vec::with_capacity(s3.size as usize);
            while let Some(chunk) = out.body.next().await {
                let chunk = chunk.map_err(|e| {
                    BlobError::Unavailable(format!("reading {}/{}: {e}", s3.bucket, s3.key))
                })?;
                if bytes.len() + chunk.len() > MAX_RESULT_BYTES {
                    return Err(too_large(pointer, (bytes.len() + chunk.len()) as u64));
                }
                bytes.extend_from_slice(&chunk);
            }
            verify(pointer, &bytes)?;
            Ok(bytes)
        })
    }
}

/// Results in a directory: the object `bucket`/`key` is the file `<root>/<bucket>/<key>`.
#[derive(Debug, Clone)]
pub struct DirBlobs {
    root: PathBuf,
}

/// True for a path segment that stays inside its directory.
fn plain_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && !segment.contains(['\\', '\0'])
        && !segment.starts_with(".tmp-")
}

impl DirBlobs {
    /// A store under `root` (created when the first object is stored).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The file of `bucket`/`key`, or why there can be none: the bucket is one plain
    /// path segment, the key one or more separated by `/`.
    pub fn path_of(&self, bucket: &str, key: &str) -> Result<PathBuf, BlobError> {
        if !plain_segment(bucket) || bucket.contains('/') {
            return Err(BlobError::InvalidPointer(format!("bucket {bucket:?}")));
        }
        if !key.split('/').all(plain_segment) {
            return Err(BlobError::InvalidPointer(format!("key {key:?}")));
        }
        let mut path = self.root.join(bucket);
        path.extend(key.split('/'));
        Ok(path)
    }

    /// Stores an object (temp file, `fsync`, rename), replacing any with the same key.
    ///
    /// # Errors
    ///
    /// [`BlobError::InvalidPointer`] for an unusable name, [`BlobError::Io`] otherwise.
    pub fn put(&self, bucket: &str, key: &str, bytes: &[u8]) -> Result<(), BlobError> {
        let path = self.path_of(bucket, key)?;
        let io = |action, path: &Path| {
            let path = path.to_owned();
            move |source| BlobError::Io {
                action,
                path,
                source,
            }
        };
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("object");
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".tmp-{name}-{}-{seq}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&tmp)?;
            std::io::Write::write_all(&mut file, bytes)?;
            file.sync_all()
        };
        write().map_err(io("write", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(io("rename", &path))
    }

    fn read(&self, pointer: &ResultPointer) -> Result<Vec<u8>, BlobError> {
        check_pointer(pointer)?;
        let path = self.path_of(&pointer.s3.bucket, &pointer.s3.key)?;
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BlobError::Missing {
                    bucket: pointer.s3.bucket.clone(),
                    key: pointer.s3.key.clone(),
                });
            }
            Err(source) => {
                return Err(BlobError::Io {
                    action: "open",
                    path,
                    source,
                });
            }
        };
        let mut bytes = Vec::new();
        file.take(MAX_RESULT_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| BlobError::Io {
                action: "read",
                path: path.clone(),
                source,
            })?;
        if bytes.len() > MAX_RESULT_BYTES {
            return Err(too_large(pointer, bytes.len() as u64));
        }
        verify(pointer, &bytes)?;
        Ok(bytes)
    }
}

impl ResultBlobs for DirBlobs {
    fn fetch<'a>(
        &'a self,
        pointer: &'a ResultPointer,
    ) -> BoxFuture<'a, Result<Vec<u8>, BlobError>> {
        Box::pin(async move {
            let this = self.clone();
            let pointer = pointer.clone();
            tokio::task::spawn_blocking(move || this.read(&pointer))
                .await
                .map_err(|e| BlobError::Unavailable(format!("reading task failed: {e}")))?
        })
    }
}
