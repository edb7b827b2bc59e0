//! The harness for cross-process tests: how tests reach the real servers that the test
//! script (`scripts/test.sh`) starts, and (as the system grows) builders that start the
//! project's own processes.
//!
//! **What it is not:** a mock of anything. Tests that need SQS, DynamoDB, S3 or Redis
//! talk to moto's server and redis-server through the environment the script exports;
//! when those variables are missing a test fails with a message saying how to run it.
//!
//! # The environment
//!
//! `scripts/test.sh` starts redis-server, a three-node Redis Cluster (masters only) and
//! moto's server on free loopback ports and exports, for every test process:
//!
//! | variable | value |
//! |---|---|
//! | `REDIS_URL` | `redis://127.0.0.1:PORT` |
//! | `REDIS_CLUSTER_URLS` | `redis://127.0.0.1:P1,redis://127.0.0.1:P2,redis://127.0.0.1:P3`, the cluster's nodes |
//! | `AWS_ENDPOINT_URL` | `http://127.0.0.1:PORT`, moto's server (SQS, DynamoDB, S3, …) |
//! | `MOTO_URL` | the same server, for moto's own API (`POST /moto-api/reset`) |
//! | `AWS_REGION`, `AWS_DEFAULT_REGION` | `us-east-1` |
//! | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` | `testing` |
//!
//! It also clears `AWS_PROFILE`, `AWS_SESSION_TOKEN` and every `AWS_ENDPOINT_URL_*`,
//! points the shared AWS config and credentials files at an empty file and disables
//! instance metadata, so nothing from a developer's own AWS setup leaks in.
//!
//! The servers are shared by every test of a run, and tests run in parallel: give every
//! queue, table, bucket and key a name from [`unique_name`] instead of resetting moto.
//!
//! # Example
//!
//! ```no_run
//! # async fn example() {
//! let sqs = aws_sdk_sqs::Client::new(&tests::aws_config().await);
//! let queue = tests::unique_name("results");
//! sqs.create_queue().queue_name(&queue).send().await.unwrap();
//! # }
//! ```

use std::env::VarError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;

/// The script that starts the servers and exports the environment tests read.
pub const TEST_SCRIPT: &str = "scripts/test.sh";

/// The variables [`aws_config`] insists on, so that a test run outside the test bed
/// fails instead of reaching a real AWS account.
const AWS_VARIABLES: [&str; 4] = [
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
];

/// Reads an environment variable that `scripts/test.sh` exports.
///
/// # Panics
///
/// When the variable is missing, empty or not UTF-8, with a message saying to run the
/// suite through `scripts/test.sh`.
#[track_caller]
pub fn require_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value,
        Ok(_) => panic!("{name} is set but empty; {}", how_to_run()),
        Err(VarError::NotPresent) => panic!("{name} is not set; {}", how_to_run()),
        Err(VarError::NotUnicode(_)) => panic!("{name} is not valid UTF-8; {}", how_to_run()),
    }
}

fn how_to_run() -> String {
    format!(
        "this test needs the redis-server, Redis Cluster and moto server that \
         `{TEST_SCRIPT}` starts. \
         Run the suite with `{TEST_SCRIPT}` (e.g. `{TEST_SCRIPT} --no-lint -p tests`), \
         not with plain `cargo test`"
    )
}

/// `REDIS_URL`: the redis-server of this run, `redis://127.0.0.1:PORT`.
#[track_caller]
pub fn redis_url() -> String {
    require_env("REDIS_URL")
}

/// `REDIS_CLUSTER_URLS`, split at commas: the nodes of this run's Redis Cluster, each
/// `redis://127.0.0.1:PORT` (three masters, no replicas, every slot covered).
///
/// # Panics
///
/// When `REDIS_CLUSTER_URLS` is missing or empty, or names an empty node.
#[track_caller]
pub fn redis_cluster_urls() -> Vec<String> {
    let urls: Vec<String> = require_env("REDIS_CLUSTER_URLS")
        .split(',')
        .map(|url| url.trim().to_owned())
        .collect();
    assert!(
        urls.iter().all(|url| !url.is_empty()),
        "REDIS_CLUSTER_URLS={urls:?} names an empty node; {}",
        how_to_run()
    );
    urls
}

/// `AWS_ENDPOINT_URL`: moto's server, which every AWS SDK client of a test talks to.
#[track_caller]
pub fn aws_endpoint_url() -> String {
    require_env("AWS_ENDPOINT_URL")
}

/// `MOTO_URL`: moto's server, for its own API (`/moto-api/...`).
#[track_caller]
pub fn moto_url() -> String {
    require_env("MOTO_URL")
}

/// `AWS_REGION`: the region the test bed's AWS clients use.
#[track_caller]
pub fn aws_region() -> String {
    require_env("AWS_REGION")
}

/// AWS configuration for moto's server, loaded the way the project's binaries load
/// theirs (`aws_config::defaults`, standard environment variables), with the one HTTPS
/// client of the workspace: aws-smithy-http-client on rustls with ring. The SDKs'
/// default client is disabled workspace-wide, so every SDK client needs this one.
///
/// Timeouts are bounded (5 s to connect, 30 s per operation) so a stuck server fails a
/// test instead of hanging it.
///
/// # Panics
///
/// When `AWS_ENDPOINT_URL`, `AWS_REGION` or the credentials are not set (the test is not
/// running under `scripts/test.sh`), so that no test ever reaches a real AWS account.
pub async fn aws_config() -> SdkConfig {
    for name in AWS_VARIABLES {
        require_env(name);
    }
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(30))
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(timeouts)
        .load()
        .await
}

/// A name no other test of this run (or of an earlier run) uses: `PREFIX-PID-TIME-N`,
/// at most 63 characters of lowercase letters, digits and `-`, so it is valid as an SQS
/// queue name (append `.fifo` for a FIFO queue), a DynamoDB table name, an S3 bucket
/// name and a Redis key.
///
/// # Panics
///
/// When `prefix` is empty, longer than 24 characters, does not start with a lowercase
/// letter, or holds anything but lowercase letters, digits and `-`.
#[track_caller]
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    assert!(
        (1..=24).contains(&prefix.len())
            && prefix.starts_with(|c: char| c.is_ascii_lowercase())
            && prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "unique_name prefix {prefix:?}: use 1 to 24 lowercase letters, digits or '-', \
         starting with a letter"
    );
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // The low 48 bits of the clock in nanoseconds tell runs apart (a pid can be reused);
    // the pid tells apart test processes of one run (nextest runs each test in its own);
    // the counter tells apart calls within one process.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let time = (nanos & 0xffff_ffff_ffff) as u64;
    format!("{prefix}-{:x}-{time:x}-{n:x}", std::process::id())
}

/// A client for this run's redis-server (`REDIS_URL`).
///
/// # Panics
///
/// When `REDIS_URL` is missing or is not a valid Redis URL.
#[track_caller]
pub fn redis_client() -> redis::Client {
    let url = redis_url();
    redis::Client::open(url.as_str())
        .unwrap_or_else(|error| panic!("REDIS_URL={url:?} is not a valid Redis URL: {error}"))
}

/// A connected, reconnecting async connection to this run's redis-server, with bounded
/// timeouts (5 s to connect, 10 s per response).
///
/// # Panics
///
/// When `REDIS_URL` is missing or invalid (see [`redis_client`]).
///
/// # Errors
///
/// When redis-server cannot be reached.
pub async fn redis_connection() -> redis::RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(10)));
    ConnectionManager::new_with_config(redis_client(), config).await
}

/// A client for this run's Redis Cluster (`REDIS_CLUSTER_URLS`), with bounded timeouts
/// (5 s to connect, 10 s per response).
///
/// # Panics
///
/// When `REDIS_CLUSTER_URLS` is missing or one of its URLs is not a valid Redis URL.
#[track_caller]
pub fn redis_cluster_client() -> ClusterClient {
    let urls = redis_cluster_urls();
    ClusterClient::builder(urls.iter().map(String::as_str))
        .connection_timeout(Duration::from_secs(5))
        .response_timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_else(|error| {
            panic!("REDIS_CLUSTER_URLS={urls:?} is not a list of valid Redis URLs: {error}")
        })
}

/// A connected async connection to this run's Redis Cluster: it routes each command to
/// the node holding its key's slot, follows `MOVED`/`ASK` and reconnects. Cheap to clone.
///
/// # Panics
///
/// When `REDIS_CLUSTER_URLS` is missing or invalid (see [`redis_cluster_client`]).
///
/// # Errors
///
/// When the cluster cannot be reached or its slot map cannot be read.
pub async fn redis_cluster_connection() -> redis::RedisResult<ClusterConnection> {
    redis_cluster_client().get_async_connection().await
}

#[cfg(test)]
mod unit_tests {
    use super::unique_name;

    #[test]
    fn unique_names_differ_and_fit_every_service() {
        let a = unique_name("queue");
        let b = unique_name("queue");
        assert_ne!(a, b);
        for name in [a, b, unique_name("abcdefghijklmnopqrstuvwx")] {
            assert!(name.len() <= 63, "{name} is too long");
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "unique_name prefix")]
    fn unique_name_rejects_a_prefix_no_service_accepts() {
        unique_name("Has_Upper");
    }
}

/// A binary of another workspace package, from the same target directory as the running
/// test (cargo builds every package's binaries when it builds its integration tests, so
/// `cargo nextest run --workspace` has them).
///
/// # Panics
///
/// When the binary is missing, saying how to build it.
pub fn workspace_bin(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("test binaries live in target/<profile>/deps");
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build --workspace --bins` (or run `{TEST_SCRIPT}`)",
        bin.display()
    );
    bin
}

pub mod fleet_local;
