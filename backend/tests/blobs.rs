//! `ResultBlobs`: the S3 implementation on the test bed's moto server and the directory
//! one in a temporary directory, through the same checks: the right bytes come back;
//! a wrong checksum, a wrong size, an oversized object and a missing one are permanent
//! typed errors; an unreachable S3 is transient.

use std::path::PathBuf;

use backend::blobs::{BlobError, DirBlobs, ResultBlobs, S3Blobs};
use protocol::result::{MAX_RESULT_BYTES, RESULT_SCHEMA_VERSION, ResultPointer, S3Location};
use sha2::{Digest, Sha256};

fn pointer(bucket: &str, key: &str, bytes: &[u8]) -> ResultPointer {
    ResultPointer {
        schema: RESULT_SCHEMA_VERSION,
        match_id: "m1".into(),
        s3: S3Location {
            bucket: bucket.into(),
            key: key.into(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        },
    }
}

/// The checks every implementation makes; `put` stores an object.
async fn suite(blobs: &dyn ResultBlobs, bucket: &str, put: impl Fn(&str, &[u8])) {
    let body = br#"{"schema":1,"result":"big"}"#;
    put("results/good.json", body);
    let good = pointer(bucket, "results/good.json", body);
    assert_eq!(blobs.fetch(&good).await.unwrap(), body);

    let mut wrong_sum = good.clone();
    wrong_sum.s3.sha256 = hex::encode(Sha256::digest(b"something else"));
    let err = blobs.fetch(&wrong_sum).await.unwrap_err();
    assert!(matches!(err, BlobError::ChecksumMismatch { .. }), "{err}");
    assert!(!err.is_transient());

    let mut wrong_size = good.clone();
    wrong_size.s3.size -= 1;
    let err = blobs.fetch(&wrong_size).await.unwrap_err();
    assert!(matches!(err, BlobError::SizeMismatch { .. }), "{err}");

    let mut not_hex = good.clone();
    not_hex.s3.sha256 = "zz".into();
    let err = blobs.fetch(&not_hex).await.unwrap_err();
    assert!(matches!(err, BlobError::InvalidPointer(_)), "{err}");

    let missing = pointer(bucket, "results/none.json", body);
    let err = blobs.fetch(&missing).await.unwrap_err();
    assert!(matches!(err, BlobError::Missing { .. }), "{err}");
    assert!(!err.is_transient());

    // An object one byte over the cap, whatever the pointer claims.
    let huge = vec![b'x'; MAX_RESULT_BYTES + 1];
    put("results/huge.json", &huge);
    let mut claims_small = pointer(bucket, "results/huge.json", &huge);
    claims_small.s3.size = 10;
    let err = blobs.fetch(&claims_small).await.unwrap_err();
    assert!(matches!(err, BlobError::TooLarge { .. }), "{err}");
    // A pointer that says so is refused without a read.
    let err = blobs
        .fetch(&pointer(bucket, "results/huge.json", &huge))
        .await
        .unwrap_err();
    assert!(matches!(err, BlobError::TooLarge { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_blobs() {
    let sdk = tests::aws_config().await;
    let s3 = backend::aws::s3_client(&sdk);
    let bucket = tests::unique_name("blobs");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let blobs = S3Blobs::new(s3.clone(), &bucket);
    let handle = tokio::runtime::Handle::current();
    let put = |key: &str, bytes: &[u8]| {
        let (s3, bucket, key, bytes) = (s3.clone(), bucket.clone(), key.to_owned(), bytes.to_vec());
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                s3.put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(bytes.into())
                    .send()
                    .await
                    .unwrap();
            });
        });
    };
    suite(&blobs, &bucket, put).await;

    // Another bucket is never read, whether it exists or not.
    let other = tests::unique_name("other");
    s3.create_bucket().bucket(&other).send().await.unwrap();
    s3.put_object()
        .bucket(&other)
        .key("results/good.json")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    let err = blobs
        .fetch(&pointer(&other, "results/good.json", b"x"))
        .await
        .unwrap_err();
    assert!(matches!(err, BlobError::InvalidPointer(_)), "{err}");
    // The results bucket itself gone: missing, permanent.
    let gone = tests::unique_name("gone");
    let err = S3Blobs::new(s3.clone(), &gone)
        .fetch(&pointer(&gone, "results/x.json", b"x"))
        .await
        .unwrap_err();
    assert!(matches!(err, BlobError::Missing { .. }), "{err}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let unreachable = aws_sdk_s3::config::Builder::from(&sdk)
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .force_path_style(true)
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::standard().with_max_attempts(1))
        .build();
    let down = S3Blobs::new(aws_sdk_s3::Client::from_conf(unreachable), &bucket);
    let err = down
        .fetch(&pointer(&bucket, "results/good.json", b"x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, BlobError::Unavailable(_)) && err.is_transient(),
        "{err}"
    );
}

/// A directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dir_blobs() {
    let dir = TempDir(std::env::temp_dir().join(tests::unique_name("blobs")));
    let blobs = DirBlobs::new(&dir.0);
    suite(&blobs, "bucket", |key, bytes| {
        blobs.put("bucket", key, bytes).unwrap()
    })
    .await;
    for (bucket, key) in [
        ("bucket", "../escape"),
        ("..", "k"),
        ("b/c", "k"),
        ("bucket", "a//b"),
    ] {
        let err = blobs.fetch(&pointer(bucket, key, b"x")).await.unwrap_err();
        assert!(
            matches!(err, BlobError::InvalidPointer(_)),
            "{bucket}/{key}: {err}"
        );
        assert!(blobs.put(bucket, key, b"x").is_err());
    }
}
