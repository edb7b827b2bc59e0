//! The result consumer against the embedded queue and stores (and Redis where Redis
//! matters): exactly-once under duplicates, every rejection in the DLQ with its reason,
//! transient failures left for redelivery, SIGKILL at each step of the pipeline, and a
//! Redis flush repaired by `backend rebuild-rankings`.
//!
//! The expected state is always computed independently: each distinct result applied
//! once, directly with `apply_exactly_once`, in a separate store. Waits are on output
//! lines or process exit, each with a deadline; nothing sleeps to synchronise.
//!
//! Run through `scripts/test.sh` (Redis tests read `REDIS_URL`).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use backend::consumer::{
    self, BlobError, BoxFuture, ConsumerConfig, CounterSnapshot, Counters, Pipeline, ResultBlobs,
};
use backend::profiles::{
    ApplyOutcome, EmbeddedProfiles, PlacementCheck, ProfileStore, apply_exactly_once,
};
use backend::queue::{EmbeddedQueue, ResultQueue};
use backend::rankings::{EmbeddedRankings, RankedPage, Rankings, RedisRankings};
use backend::ratings::{PlacedPlayer, PlacementRecord, PlayerProfile};
use protocol::http::BoardId;
use protocol::result::{
    Keyring, MatchResult, PlayerResult, ResultMessage, ResultPointer, S3Location,
};

/// How long any wait of these tests may take before it fails.
const DEADLINE: Duration = Duration::from_secs(60);

const ACTIVE: (&str, [u8; 32]) = ("k1", [1; 32]);
const RETIRING: (&str, [u8; 32]) = ("k0", [2; 32]);

/// The consumer's keyring during a rotation: the new key active, the old one verifying.
fn keyring() -> Keyring {
    Keyring::new(ACTIVE.0, &ACTIVE.1)
        .unwrap()
        .with_key(RETIRING.0, &RETIRING.1)
        .unwrap()
}

fn keyring_spec() -> String {
    format!(
        "{}:{},{}:{}",
        ACTIVE.0,
        hex(&ACTIVE.1),
        RETIRING.0,
        hex(&RETIRING.1)
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(tests::unique_name(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Match `n` between `players` (placement in the order given).
fn result(n: usize, players: &[String]) -> MatchResult {
    let started = 1_700_000_000_000 + n as u64 * 60_000;
    MatchResult {
        match_id: format!("m-{n}"),
        mode: if n.is_multiple_of(2) { "duel" } else { "arena" }.to_owned(),
        region: "us-east-1".to_owned(),
        fleet_id: "fleet-1".to_owned(),
        started_at_ms: started,
        ended_at_ms: started + 30_000,
        cut_short: false,
        players: players
            .iter()
            .enumerate()
            .map(|(i, p)| PlayerResult {
                player_id: p.clone(),
                player_session_id: format!("ps-{n}-{p}"),
                team: None,
                placement: i as u32 + 1,
                score: 10 - i as i64,
                stats: BTreeMap::new(),
                left_early: false,
            })
            .collect(),
    }
}

fn placement(r: &MatchResult) -> PlacementRecord {
    PlacementRecord {
        match_id: r.match_id.clone(),
        players: r
            .players
            .iter()
            .map(|p| PlacedPlayer {
                player_id: p.player_id.clone(),
                player_session_id: p.player_session_id.clone(),
                team: p.team.clone(),
            })
            .collect(),
    }
}

fn body(ring: &Keyring, r: &MatchResult) -> String {
    ResultMessage::Inline(ring.sign(r.clone()).unwrap()).to_json()
}

/// `count` matches over a pool of 6 players (so order matters for the ratings).
fn overlapping(count: usize) -> Vec<MatchResult> {
    (0..count)
        .map(|n| {
            let a = format!("p{}", n % 6);
            let b = format!("p{}", (n * 5 + 1) % 6);
            let b = if a == b {
                format!("p{}", (n + 3) % 6)
            } else {
                b
            };
            result(n, &[a, b])
        })
        .collect()
}

/// What the stores hold: every profile, every board's full page.
#[derive(Debug, PartialEq)]
struct State {
    profiles: Vec<PlayerProfile>,
    boards: BTreeMap<BoardId, RankedPage>,
}

async fn state(profiles: &dyn ProfileStore, rankings: &dyn Rankings) -> State {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = profiles.all_profiles(cursor.as_deref(), 7).await.unwrap();
        all.extend(page.profiles);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    all.sort_by(|a, b| a.player_id.cmp(&b.player_id));
    let mut boards = BTreeMap::new();
    for board in rankings.boards().await.unwrap() {
        let page = rankings.top(&board, 0, 100_000).await.unwrap();
        boards.insert(board, page);
    }
    State {
        profiles: all,
        boards,
    }
}

/// Each result applied once, in order, directly, in a store of its own.
async fn expected(results: &[MatchResult]) -> State {
    let dir = temp_dir("expected");
    let profiles = EmbeddedProfiles::open(dir.join("profiles")).unwrap();
    let rankings = EmbeddedRankings::open(dir.join("rankings")).unwrap();
    for r in results {
        match apply_exactly_once(&profiles, r, None, PlacementCheck::Skip)
            .await
            .unwrap()
        {
            ApplyOutcome::Applied { applied, .. } => {
                rankings.set_many(&applied.rankings).await.unwrap();
            }
            ApplyOutcome::AlreadyApplied { .. } => panic!("{} listed twice", r.match_id),
        }
    }
    state(&profiles, &rankings).await
}

/// The embedded stores of one consumer, under one data directory (the binary's layout).
struct Stores {
    queue: EmbeddedQueue,
    profiles: EmbeddedProfiles,
    rankings: EmbeddedRankings,
}

impl Stores {
    fn open(dir: &Path) -> Self {
        Stores {
            queue: EmbeddedQueue::open(dir.join("queue"), 5).unwrap(),
            profiles: EmbeddedProfiles::open(dir.join("profiles")).unwrap(),
            rankings: EmbeddedRankings::open(dir.join("rankings")).unwrap(),
        }
    }

    async fn place(&self, results: &[MatchResult]) {
        for r in results {
            self.profiles.put_placement(&placement(r)).await.unwrap();
        }
    }

    fn pipeline(&self, rankings: Arc<dyn Rankings>) -> Arc<Pipeline> {
        Arc::new(Pipeline {
            keyring: keyring(),
            profiles: Arc::new(self.profiles.clone()),
            rankings,
            blobs: None,
            season: None,
            hook: None,
        })
    }

    async fn drain(&self, pipeline: Arc<Pipeline>, workers: usize) -> CounterSnapshot {
        drain_with(&self.queue, pipeline, workers, Duration::from_secs(30)).await
    }
}

/// Runs the loop until every worker sees an empty receive, within [`DEADLINE`].
async fn drain_with(
    queue: &EmbeddedQueue,
    pipeline: Arc<Pipeline>,
    workers: usize,
    visibility: Duration,
) -> CounterSnapshot {
    let counters = Arc::new(Counters::default());
    let config = ConsumerConfig {
        workers,
        wait: Duration::from_millis(200),
        visibility,
        stop_when_empty: true,
        ..ConsumerConfig::default()
    };
    let run = consumer::run(
        Arc::new(queue.clone()),
        pipeline,
        config,
        Arc::clone(&counters),
        std::future::pending(),
    );
    tokio::time::timeout(DEADLINE, run)
        .await
        .expect("the consumer drains the queue in time")
        .unwrap();
    counters.snapshot()
}

/// The same result delivered twice is applied once; the second delivery is counted as
/// a duplicate and deleted.
#[tokio::test]
async fn a_result_delivered_twice_is_applied_once() {
    let dir = temp_dir("twice");
    let stores = Stores::open(&dir);
    let results = overlapping(3);
    stores.place(&results).await;
    let ring = keyring();
    for r in [&results[0], &results[1], &results[0], &results[2]] {
        stores.queue.send(&body(&ring, r)).await.unwrap();
    }
    let counters = stores
        .drain(stores.pipeline(Arc::new(stores.rankings.clone())), 1)
        .await;
    assert_eq!((counters.applied, counters.duplicates), (3, 1));
    assert!(counters.dead_lettered.is_empty(), "{counters:?}");
    assert!(stores.queue.is_empty());
    assert_eq!(
        state(&stores.profiles, &stores.rankings).await,
        expected(&results).await
    );
}

/// 100 results, 10 of them sent twice, four workers (so a duplicate may run
/// concurrently with its original): profiles and ranks equal one application each.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_results_with_ten_percent_duplicates() {
    let dir = temp_dir("hundred");
    let stores = Stores::open(&dir);
    // Disjoint players, so the order the workers happen to take does not matter.
    let results: Vec<MatchResult> = (0..100)
        .map(|n| result(n, &[format!("a{n}"), format!("b{n}")]))
        .collect();
    stores.place(&results).await;
    let ring = keyring();
    for (n, r) in results.iter().enumerate() {
        stores.queue.send(&body(&ring, r)).await.unwrap();
        if n % 10 == 3 {
            // Re-sent a few messages later, as a reporter retrying after a lost reply.
            stores.queue.send(&body(&ring, r)).await.unwrap();
        }
    }
    let counters = stores
        .drain(stores.pipeline(Arc::new(stores.rankings.clone())), 4)
        .await;
    assert_eq!((counters.applied, counters.duplicates), (100, 10));
    assert_eq!(counters.received, 110);
    assert!(stores.queue.is_empty());
    assert_eq!(
        state(&stores.profiles, &stores.rankings).await,
        expected(&results).await
    );
}

/// Forged, unknown key, unknown match, wrong players, malformed JSON and a wrong schema
/// each land in the DLQ with their reason; valid results around them (one signed with
/// the retiring key of a rotation) are applied.
#[tokio::test]
async fn every_bad_message_lands_in_the_dlq_with_its_reason() {
    let dir = temp_dir("rejects");
    let stores = Stores::open(&dir);
    let results = overlapping(4);
    stores.place(&results).await;
    let ring = keyring();
    let forger = Keyring::new(ACTIVE.0, &[9; 32]).unwrap();
    let stranger = Keyring::new("k9", &[3; 32]).unwrap();
    let retiring = Keyring::new(RETIRING.0, &RETIRING.1).unwrap();

    let unknown_match = result(90, &["p1".to_owned(), "p2".to_owned()]);
    let mut wrong_players = result(91, &["p1".to_owned(), "p2".to_owned()]);
    stores
        .profiles
        .put_placement(&placement(&wrong_players))
        .await
        .unwrap();
    wrong_players.players[1].player_id = "p9".to_owned();
    let mut schema: serde_json::Value = serde_json::from_str(&body(&ring, &results[3])).unwrap();
    schema["schema"] = 2.into();

    let bad = [
        (body(&forger, &results[3]), "bad_signature"),
        (body(&stranger, &results[3]), "unknown_key_id"),
        (body(&ring, &unknown_match), "unknown_match"),
        (body(&ring, &wrong_players), "players_mismatch"),
        ("{\"schema\":1,".to_owned(), "malformed_json"),
        (schema.to_string(), "unsupported_schema_version"),
        (
            "{\"schema\":1,\"key_id\":\"k1\"}".to_owned(),
            "malformed_result",
        ),
    ];
    stores.queue.send(&body(&ring, &results[0])).await.unwrap();
    for (b, _) in &bad {
        stores.queue.send(b).await.unwrap();
    }
    stores
        .queue
        .send(&body(&retiring, &results[1]))
        .await
        .unwrap();
    stores.queue.send(&body(&ring, &results[2])).await.unwrap();
    stores.queue.send(&body(&ring, &results[3])).await.unwrap();

    let counters = stores
        .drain(stores.pipeline(Arc::new(stores.rankings.clone())), 1)
        .await;
    let dlq: Vec<(String, String)> = stores
        .queue
        .dlq_messages()
        .into_iter()
        .map(|d| (d.body, d.reason))
        .collect();
    let wanted: Vec<(String, String)> = bad
        .iter()
        .map(|(b, r)| (b.clone(), (*r).to_owned()))
        .collect();
    assert_eq!(dlq, wanted);
    let by_reason: BTreeMap<String, u64> = bad.iter().map(|(_, r)| ((*r).to_owned(), 1)).collect();
    assert_eq!(counters.dead_lettered, by_reason);
    assert_eq!(counters.applied, 4);
    assert!(stores.queue.is_empty());
    assert_eq!(
        state(&stores.profiles, &stores.rankings).await,
        expected(&results).await
    );
}

/// Blobs kept in memory by (bucket, key): the consumer's side of a pointer, with no S3.
#[derive(Default)]
struct MemoryBlobs {
    objects: Mutex<HashMap<(String, String), Vec<u8>>>,
    fail: Mutex<bool>,
}

impl ResultBlobs for MemoryBlobs {
    fn fetch<'a>(
        &'a self,
        pointer: &'a ResultPointer,
    ) -> BoxFuture<'a, Result<Vec<u8>, BlobError>> {
        let (bucket, key) = (&pointer.s3.bucket, &pointer.s3.key);
        let answer = if *self.fail.lock().unwrap() {
            Err(BlobError::Unavailable("unreachable".to_owned()))
        } else {
            self.objects
                .lock()
                .unwrap()
                .get(&(bucket.to_owned(), key.to_owned()))
                .cloned()
                .ok_or_else(|| BlobError::Missing {
                    bucket: bucket.clone(),
                    key: key.clone(),
                })
        };
        Box::pin(async move { answer })
    }
}

fn pointer(match_id: &str, bytes: &[u8], key: &str) -> String {
    use sha2::Digest;
    ResultMessage::Stored(ResultPointer {
        schema: 1,
        match_id: match_id.to_owned(),
        s3: S3Location {
            bucket: "results".to_owned(),
            key: key.to_owned(),
            size: bytes.len() as u64,
            sha256: hex(&sha2::Sha256::digest(bytes)),
        },
    })
    .to_json()
}

/// A pointer is applied from its blob; a store outage leaves the message in the queue
/// (no delete, no DLQ); a missing object is retried until its third delivery, then
/// dead-lettered as `blob_missing`.
#[tokio::test]
async fn pointers_transient_failures_and_missing_blobs() {
    let dir = temp_dir("blobs");
    let stores = Stores::open(&dir);
    let results = overlapping(2);
    stores.place(&results).await;
    let ring = keyring();
    let blobs = Arc::new(MemoryBlobs::default());
    let stored = body(&ring, &results[0]).into_bytes();
    blobs
        .objects
        .lock()
        .unwrap()
        .insert(("results".to_owned(), "m-0".to_owned()), stored.clone());
    let pipeline = |blobs: Arc<MemoryBlobs>| {
        Arc::new(Pipeline {
            keyring: keyring(),
            profiles: Arc::new(stores.profiles.clone()),
            rankings: Arc::new(stores.rankings.clone()),
            blobs: Some(blobs),
            season: None,
            hook: None,
        })
    };

    // Outage: received, left in place.
    stores
        .queue
        .send(&pointer("m-0", &stored, "m-0"))
        .await
        .unwrap();
    *blobs.fail.lock().unwrap() = true;
    let counters = drain_with(&stores.queue, pipeline(Arc::clone(&blobs)), 1, DEADLINE).await;
    assert_eq!((counters.received, counters.transient_failures), (1, 1));
    assert_eq!(stores.queue.len(), 1);
    assert!(stores.queue.dlq_messages().is_empty());
    assert!(!stores.profiles.is_applied("m-0").await.unwrap());
    drop(stores);

    // After a restart (visibility is not persisted) the blob store is back.
    let stores = Stores::open(&dir);
    *blobs.fail.lock().unwrap() = false;
    let missing = body(&ring, &results[1]).into_bytes();
    stores
        .queue
        .send(&pointer("m-1", &missing, "gone"))
        .await
        .unwrap();
    let pipeline = Arc::new(Pipeline {
        keyring: keyring(),
        profiles: Arc::new(stores.profiles.clone()),
        rankings: Arc::new(stores.rankings.clone()),
        blobs: Some(blobs),
        season: None,
        hook: None,
    });
    let counters = drain_with(&stores.queue, pipeline, 1, Duration::from_millis(50)).await;
    assert_eq!(counters.applied, 1);
    assert_eq!(counters.transient_failures, 2, "{counters:?}");
    let dlq = stores.queue.dlq_messages();
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].reason, "blob_missing");
    assert!(stores.queue.is_empty());
    assert_eq!(
        state(&stores.profiles, &stores.rankings).await,
        expected(&results[..1]).await
    );
}

/// Collects a child's stdout lines on a thread, so waits can have deadlines.
fn lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The first line starting with `prefix`, within [`DEADLINE`]; `None` if stdout closed.
fn wait_line(rx: &mpsc::Receiver<String>, prefix: &str) -> Option<String> {
    let end = Instant::now() + DEADLINE;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.starts_with(prefix) => return Some(line),
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("no line {prefix:?} within {DEADLINE:?}")
            }
        }
    }
}

fn consume(dir: &Path, keys: &Path, pause_at: Option<&str>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backend"));
    cmd.args([
        "consume",
        "--workers",
        "1",
        "--wait-secs",
        "1",
        "--stop-when-empty",
    ])
    .arg("--data-dir")
    .arg(dir)
    .arg("--keyring-file")
    .arg(keys)
    .env_remove("RESULT_KEYRING")
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    if let Some(step) = pause_at {
        cmd.args(["--pause-at", step]);
    }
    cmd.spawn().expect("the backend binary starts")
}

/// Waits for the child to exit within [`DEADLINE`] (its stdout closing, then `wait`).
fn wait_exit(mut child: Child, rx: &mpsc::Receiver<String>) -> String {
    let stopped = wait_line(rx, "stopped ").expect("the consumer prints its counters");
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    stopped
}

/// The consumer killed with SIGKILL at each step of the pipeline, then restarted:
/// nothing is lost and the final state equals one application of each result.
#[tokio::test]
async fn sigkill_at_every_step_loses_nothing_and_applies_once() {
    // The first match (where the consumer pauses) has players of its own, so only the
    // rewrite after a duplicate can put them on the boards.
    let mut results = vec![result(100, &["solo-a".to_owned(), "solo-b".to_owned()])];
    results.extend(overlapping(8));
    let truth = expected(&results).await;
    for step in ["after-receive", "after-commit", "after-rankings"] {
        let dir = temp_dir("crash");
        let keys = dir.join("keys");
        std::fs::write(&keys, keyring_spec()).unwrap();
        {
            let stores = Stores::open(&dir);
            stores.place(&results).await;
            let ring = keyring();
            for (n, r) in results.iter().enumerate() {
                stores.queue.send(&body(&ring, r)).await.unwrap();
                if n == 2 {
                    stores.queue.send(&body(&ring, &results[0])).await.unwrap();
                }
            }
        }
        let mut child = consume(&dir, &keys, Some(step));
        let rx = lines(&mut child);
        let paused = wait_line(&rx, "paused at ").expect("the consumer pauses");
        assert_eq!(paused, format!("paused at {step} match=m-100"));
        child.kill().unwrap();
        child.wait().unwrap();

        // Where exactly it stopped: the commit happened or not, the ranks were written or not.
        {
            let stores = Stores::open(&dir);
            let committed = stores.profiles.is_applied("m-100").await.unwrap();
            assert_eq!(committed, step != "after-receive", "{step}");
            let ranked = !stores.rankings.boards().await.unwrap().is_empty();
            assert_eq!(ranked, step == "after-rankings", "{step}");
            assert_eq!(
                stores.queue.len(),
                results.len() + 1,
                "{step}: nothing deleted"
            );
        }

        let mut child = consume(&dir, &keys, None);
        let rx = lines(&mut child);
        let stopped = wait_exit(child, &rx);
        let counters: serde_json::Value =
            serde_json::from_str(stopped.trim_start_matches("stopped ")).unwrap();
        let replayed = u64::from(step != "after-receive");
        assert_eq!(counters["applied"], 9 - replayed, "{step}: {stopped}");
        assert_eq!(counters["duplicates"], 1 + replayed, "{step}: {stopped}");

        let stores = Stores::open(&dir);
        assert!(stores.queue.is_empty(), "{step}");
        assert!(stores.queue.dlq_messages().is_empty(), "{step}");
        assert_eq!(
            state(&stores.profiles, &stores.rankings).await,
            truth,
            "{step}"
        );
    }
}

/// Redis loses the boards mid-run; the consumer goes on writing only what it applies,
/// so the ranks drift from the truth; `backend rebuild-rankings` makes them equal to
/// the profile store again.
#[tokio::test]
async fn redis_flushed_mid_run_is_repaired_by_rebuild_rankings() {
    let dir = temp_dir("rebuild");
    let results = overlapping(10);
    let conn = tests::redis_connection()
        .await
        .expect("redis-server answers");
    let prefix = tests::unique_name("rk");
    let redis = RedisRankings::new(conn.clone(), prefix.clone());
    {
        let stores = Stores::open(&dir);
        stores.place(&results).await;
        let ring = keyring();
        for r in &results[..5] {
            stores.queue.send(&body(&ring, r)).await.unwrap();
        }
        let pipeline = stores.pipeline(Arc::new(redis.clone()));
        stores.drain(Arc::clone(&pipeline), 1).await;

        let mut conn = conn.clone();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}:*"))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(!keys.is_empty());
        let _: () = redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .unwrap();

        for r in &results[5..] {
            stores.queue.send(&body(&ring, r)).await.unwrap();
        }
        stores.drain(pipeline, 1).await;
        let truth = state(&stores.profiles, &stores.rankings_of_truth().await).await;
        assert_ne!(
            state(&stores.profiles, &redis).await,
            truth,
            "the flush lost ranks"
        );
        assert_eq!(truth, expected(&results).await);
    }

    let out = Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(["rebuild-rankings", "--rankings", "redis"])
        .arg("--data-dir")
        .arg(&dir)
        .args([
            "--redis-url",
            &tests::redis_url(),
            "--redis-prefix",
            &prefix,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("rebuilt boards="));
    let profiles = EmbeddedProfiles::open(dir.join("profiles")).unwrap();
    assert_eq!(state(&profiles, &redis).await, expected(&results).await);
}

impl Stores {
    /// The rankings the profile store implies, built in a fresh embedded store.
    async fn rankings_of_truth(&self) -> EmbeddedRankings {
        let rankings = EmbeddedRankings::open(temp_dir("truth")).unwrap();
        consumer::rebuild_rankings(&self.profiles, &rankings, 3)
            .await
            .unwrap();
        rankings
    }
}

/// `send-result` signs a result file with the active key and queues it; `consume`
/// applies it. Bad command lines stop with a message naming the problem, and touch
/// nothing.
#[tokio::test]
async fn send_result_then_consume_and_bad_command_lines() {
    let dir = temp_dir("cli");
    let keys = dir.join("keys");
    std::fs::write(&keys, keyring_spec()).unwrap();
    let r = result(7, &["p1".to_owned(), "p2".to_owned()]);
    {
        let stores = Stores::open(&dir);
        stores.place(std::slice::from_ref(&r)).await;
    }
    let file = dir.join("result.json");
    std::fs::write(&file, serde_json::to_string(&r).unwrap()).unwrap();
    let backend = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_backend"))
            .args(args)
            .arg("--data-dir")
            .arg(&dir)
            .env_remove("RESULT_KEYRING")
            .env_remove("RESULT_KEYRING_FILE")
            .env_remove("TABLE_PREFIX")
            .output()
            .unwrap()
    };
    let keys_arg = keys.to_str().unwrap();
    let out = backend(&[
        "send-result",
        "--keyring-file",
        keys_arg,
        "--file",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("sent id="));

    let refused = [
        (
            vec![
                "consume",
                "--keyring-file",
                keys_arg,
                "--queue",
                "sqs",
                "--queue-url",
                "http://q",
            ],
            "--dlq-url",
        ),
        (
            vec![
                "consume",
                "--keyring-file",
                keys_arg,
                "--profiles",
                "dynamodb",
            ],
            "--table-prefix",
        ),
        (
            vec!["consume", "--keyring-file", keys_arg, "--queue", "sqs"],
            "--queue-url",
        ),
        (vec!["consume"], "no keys"),
        (vec!["consume", "--keyring", "k1:zz"], "parsing the keyring"),
        (
            vec![
                "consume",
                "--keyring-file",
                keys_arg,
                "--rankings",
                "redis",
                "--redis-url",
                "nope",
            ],
            "not a Redis URL",
        ),
        (
            vec![
                "send-result",
                "--keyring-file",
                keys_arg,
                "--file",
                keys_arg,
            ],
            "is not a MatchResult",
        ),
    ];
    for (args, message) in refused {
        let out = backend(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }

    let out = Command::new(env!("CARGO_BIN_EXE_backend"))
        .args([
            "consume",
            "--stop-when-empty",
            "--wait-secs",
            "0",
            "--keyring-file",
            keys_arg,
        ])
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"applied\":1"), "{stdout}");
    let stores = Stores::open(&dir);
    assert!(stores.queue.is_empty());
    assert_eq!(
        state(&stores.profiles, &stores.rankings).await,
        expected(std::slice::from_ref(&r)).await
    );
}

/// A batch slower than its visibility timeout keeps its message: the extender renews
/// the visibility, so a concurrent receive over three timeouts finds nothing, and the
/// message is applied and deleted once the batch finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_batch_keeps_its_messages_invisible() {
    let dir = temp_dir("slow");
    let stores = Stores::open(&dir);
    let results = overlapping(1);
    stores.place(&results).await;
    stores
        .queue
        .send(&body(&keyring(), &results[0]))
        .await
        .unwrap();
    let reached = Arc::new(tokio::sync::Notify::new());
    let release = Arc::new(tokio::sync::Notify::new());
    let (hook_reached, hook_release) = (Arc::clone(&reached), Arc::clone(&release));
    let hook: consumer::StepHook = Arc::new(move |step, _| {
        if step != consumer::Step::AfterReceive {
            return Box::pin(async {});
        }
        hook_reached.notify_one();
        let release = Arc::clone(&hook_release);
        Box::pin(async move { release.notified().await })
    });
    let pipeline = Arc::new(Pipeline {
        hook: Some(hook),
        ..Arc::into_inner(stores.pipeline(Arc::new(stores.rankings.clone()))).unwrap()
    });
    let queue = stores.queue.clone();
    let run =
        tokio::spawn(
            async move { drain_with(&queue, pipeline, 1, Duration::from_millis(300)).await },
        );
    tokio::time::timeout(DEADLINE, reached.notified())
        .await
        .expect("the worker reaches the hook");
    let stolen = stores
        .queue
        .receive(1, Duration::from_millis(900), Duration::from_secs(30))
        .await
        .unwrap();
    assert!(
        stolen.is_empty(),
        "the slow batch's message was delivered again"
    );
    release.notify_one();
    let counters = run.await.unwrap();
    assert_eq!((counters.received, counters.applied), (1, 1));
    assert!(stores.queue.is_empty());
}

/// Shutdown while a batch is in hand: the batch is finished (applied, deleted), no
/// further receive happens, and `run` returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_batch_in_hand_and_receives_no_more() {
    let dir = temp_dir("shutdown");
    let stores = Stores::open(&dir);
    let results = overlapping(2);
    stores.place(&results).await;
    let ring = keyring();
    stores.queue.send(&body(&ring, &results[0])).await.unwrap();
    let reached = Arc::new(tokio::sync::Notify::new());
    let release = Arc::new(tokio::sync::Notify::new());
    let (hook_reached, hook_release) = (Arc::clone(&reached), Arc::clone(&release));
    let hook: consumer::StepHook = Arc::new(move |step, _| {
        if step != consumer::Step::AfterReceive {
            return Box::pin(async {});
        }
        hook_reached.notify_one();
        let release = Arc::clone(&hook_release);
        Box::pin(async move { release.notified().await })
    });
    let pipeline = Arc::new(Pipeline {
        hook: Some(hook),
        ..Arc::into_inner(stores.pipeline(Arc::new(stores.rankings.clone()))).unwrap()
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let counters = Arc::new(Counters::default());
    let run = tokio::spawn(consumer::run(
        Arc::new(stores.queue.clone()),
        pipeline,
        // One worker: it holds the batch, so no idle worker polls while the shutdown
        // signal travels from the stopper task.
        ConsumerConfig {
            workers: 1,
            ..ConsumerConfig::default()
        },
        Arc::clone(&counters),
        async move {
            let _ = stopped.await;
        },
    ));
    tokio::time::timeout(DEADLINE, reached.notified())
        .await
        .expect("a worker reaches the hook");
    stop.send(()).unwrap();
    // Sent after the shutdown: nobody may receive it.
    stores.queue.send(&body(&ring, &results[1])).await.unwrap();
    release.notify_one();
    tokio::time::timeout(DEADLINE, run)
        .await
        .expect("run returns after shutdown")
        .unwrap()
        .unwrap();
    let counters = counters.snapshot();
    assert_eq!((counters.received, counters.applied), (1, 1));
    assert!(
        stores
            .profiles
            .is_applied(&results[0].match_id)
            .await
            .unwrap()
    );
    assert_eq!(stores.queue.len(), 1, "the later message stays queued");
    let left = stores
        .queue
        .receive(1, Duration::ZERO, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(left[0].receive_count, 1, "never delivered before");
}

/// The production path through the binary, on moto's SQS, DynamoDB and S3 and the test
/// bed's Redis: `init` twice (idempotent), a placement written, `send-result` to SQS, a
/// duplicate and a forged message behind it, then `consume --stop-when-empty`: the
/// result is applied once in DynamoDB and ranked in Redis, the forgery is in the DLQ.
#[tokio::test]
async fn init_then_consume_on_sqs_dynamodb_and_redis() {
    let sdk = tests::aws_config().await;
    let redis_url = tests::require_env("REDIS_URL");
    let prefix = format!("{}-", tests::unique_name("cons"));
    let bucket = tests::unique_name("results");
    let dir = temp_dir("aws-cli");
    let keys = dir.join("keys");
    std::fs::write(&keys, keyring_spec()).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_backend"))
            .args(args)
            .env_remove("RESULT_KEYRING")
            .env_remove("TABLE_PREFIX")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let init = [
        "init",
        "--prefix",
        prefix.as_str(),
        "--bucket",
        bucket.as_str(),
    ];
    let first = run(&init);
    assert_eq!(run(&init), first, "a second init changes nothing");
    let field = |name: &str| {
        first
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name}= in {first}"))
            .to_owned()
    };
    let (queue_url, dlq_url) = (field("queue-url"), field("dlq-url"));

    let r = result(41, &["aws-a".to_owned(), "aws-b".to_owned()]);
    let profiles = backend::profiles::DynamoProfiles::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        backend::profiles::DynamoTables::with_prefix(&prefix),
    );
    profiles.put_placement(&placement(&r)).await.unwrap();
    let file = dir.join("result.json");
    std::fs::write(&file, serde_json::to_string(&r).unwrap()).unwrap();
    let redis_prefix = tests::unique_name("lb");
    let stores: Vec<&str> = vec![
        "--queue",
        "sqs",
        "--queue-url",
        &queue_url,
        "--dlq-url",
        &dlq_url,
        "--profiles",
        "dynamodb",
        "--table-prefix",
        &prefix,
        "--rankings",
        "redis",
        "--redis-url",
        &redis_url,
        "--redis-prefix",
        &redis_prefix,
        "--results-bucket",
        &bucket,
    ];
    let keys_arg = keys.to_str().unwrap();
    let with = |head: &[&'static str]| {
        let mut v: Vec<&str> = head.to_vec();
        v.extend(["--keyring-file", keys_arg]);
        v.extend(stores.iter().copied());
        v
    };
    let mut send = with(&["send-result"]);
    send.extend(["--file", file.to_str().unwrap()]);
    assert!(run(&send).starts_with("sent id="));
    assert!(run(&send).starts_with("sent id="), "a duplicate delivery");
    let forged = {
        let signed = Keyring::new(ACTIVE.0, &[9; 32])
            .unwrap()
            .sign(r.clone())
            .unwrap();
        ResultMessage::Inline(signed).to_json()
    };
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    sqs.send_message()
        .queue_url(&queue_url)
        .message_body(forged)
        .send()
        .await
        .unwrap();

    let mut consume = with(&["consume", "--stop-when-empty", "--wait-secs", "1"]);
    consume.extend(["--visibility-secs", "30"]);
    let out = run(&consume);
    let counters: CounterSnapshot = serde_json::from_str(
        out.lines()
            .find_map(|l| l.strip_prefix("stopped "))
            .unwrap_or_else(|| panic!("no stopped line in {out}")),
    )
    .unwrap();
    assert_eq!(counters.applied, 1, "{counters:?}");
    assert_eq!(counters.duplicates, 1, "{counters:?}");
    assert_eq!(
        counters.dead_lettered.get("bad_signature"),
        Some(&1),
        "{counters:?}"
    );

    // The truth: one application, computed independently.
    let conn = tests::redis_connection().await.unwrap();
    let rankings = RedisRankings::new(conn, redis_prefix.clone());
    assert_eq!(
        state(&profiles, &rankings).await,
        expected(std::slice::from_ref(&r)).await
    );
}
