//! The whole system on real parts (issue 7): `backend init` provisions SQS, DynamoDB and
//! S3 on moto; `fleet local` runs session servers that report to that SQS queue; `backend
//! serve --consume` matches players over HTTP, places them on the fleet through
//! aws-sdk-gamelift, and applies results to DynamoDB profiles and Redis rankings; bots go
//! through matchmaking and play real QUIC matches. At the end the leaderboard the API
//! serves (from Redis) equals the profiles in DynamoDB, the truth it is derived from, and
//! every match was applied once; after Redis loses its data, `backend rebuild-rankings`
//! brings the same leaderboard back.
//!
//! Waits are on log lines, on the bots finishing, and on the backend's own counters
//! polled with a deadline; never on the clock alone.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use backend::profiles::{DynamoProfiles, DynamoTables, ProfileStore};
use client::{ClientOptions, Matchmaking};
use protocol::http::{BoardId, CreateTicketRequest, LeaderboardPage};
use tests::fleet_local::{FleetLocal, WAIT};
use tokio::io::{AsyncBufReadExt, BufReader};

const KEYRING: &str = "sys-1:612033322d62797465206b657920666f72207468652065326520746573747321";
const TLS_SECRET: &str = "system e2e tls secret";
const JWT_KEY: &str = "system-e2e-jwt-key-0123456789abcdef-0123";
const BOTS: usize = 8;

/// Runs a workspace binary to completion and returns its stdout.
async fn run(bin: &str, args: &[&str]) -> String {
    let out = tokio::process::Command::new(tests::workspace_bin(bin))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("runs");
    assert!(
        out.status.success(),
        "{bin} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn field<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("{key}= in {text}"))
}

/// The value of `name` in a Prometheus exposition.
fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0)
}

/// Provisioned queues and tables, and `fleet local` with four session servers reporting
/// to SQS.
struct System {
    dir: std::path::PathBuf,
    prefix: String,
    bucket: String,
    queue_url: String,
    dlq_url: String,
    redis_prefix: String,
    fleet: FleetLocal,
}

/// A running `backend serve --consume`.
struct Backend {
    child: tokio::process::Child,
    base: String,
    admin: String,
}

impl System {
    async fn start(name: &str) -> Self {
        let dir = std::env::temp_dir().join(tests::unique_name(name));
        std::fs::create_dir_all(&dir).unwrap();
        let prefix = format!("{}-", tests::unique_name("sys"));
        let bucket = tests::unique_name("sys-results");
        let init = run(
            "backend",
            &["init", "--prefix", &prefix, "--bucket", &bucket],
        )
        .await;
        let (queue_url, dlq_url) = (field(&init, "queue-url"), field(&init, "dlq-url"));
        let parameters = format!(
            "--port 0 --outbox-dir {} --keyring {KEYRING} --queue sqs --queue-url {queue_url} \
             --results-bucket {bucket} --tls-secret \"{TLS_SECRET}\" --match-secs 5",
            dir.join("outbox").display()
        );
        let mut fleet = FleetLocal::start(
            &dir,
            &[
                "--launch-path",
                &tests::workspace_bin("session-server").display().to_string(),
                "--parameters",
                &parameters,
                "--processes",
                "4",
            ],
        )
        .await;
        for _ in 0..4 {
            fleet.wait_for(&["server process ready"]).await;
        }
        Self {
            dir,
            prefix,
            bucket,
            queue_url: queue_url.to_owned(),
            dlq_url: dlq_url.to_owned(),
            redis_prefix: tests::unique_name("sysboards"),
            fleet,
        }
    }

    /// Starts the backend on the system's stores; returns once it listens.
    async fn backend(&self) -> Backend {
        let mut child = tokio::process::Command::new(tests::workspace_bin("backend"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(["--admin-listen", "127.0.0.1:0"])
            .args(["--jwt-hmac-key", JWT_KEY, "--placer", "gamelift"])
            .args([
                "--fleet-id",
                &self.fleet.fleet_id,
                "--tls-secret",
                TLS_SECRET,
            ])
            .args(["--consume", "--keyring", KEYRING, "--queue", "sqs"])
            .args(["--queue-url", &self.queue_url, "--dlq-url", &self.dlq_url])
            .args(["--results-bucket", &self.bucket])
            .args(["--profiles", "dynamodb", "--table-prefix", &self.prefix])
            .args(["--rankings", "redis", "--redis-prefix", &self.redis_prefix])
            .args(["--redis-url", &tests::redis_url()])
            .arg("--data-dir")
            .arg(self.dir.join("backend"))
            .env("AWS_ENDPOINT_URL_GAMELIFT", &self.fleet.api_url)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("backend serve starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let listening = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("the backend says where it listens")
            .unwrap()
            .expect("a line");
        let addr = |key: &str| {
            listening
                .split_whitespace()
                .find_map(|w| w.strip_prefix(key))
                .unwrap_or_else(|| panic!("{key} in {listening}"))
                .to_owned()
        };
        Backend {
            child,
            base: format!("http://{}", addr("api=")),
            admin: addr("admin="),
        }
    }

    /// The duel records of `players` in DynamoDB.
    async fn duel_records(
        &self,
        players: &[String],
    ) -> BTreeMap<String, backend::ratings::PlayerProfile> {
        let sdk = tests::aws_config().await;
        DynamoProfiles::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            DynamoTables::with_prefix(&self.prefix),
        )
        .get_profiles(players)
        .await
        .unwrap()
    }

    async fn finish(self, mut backend: Backend) {
        let _ = backend.child.start_kill();
        assert!(self.fleet.terminate().await);
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

impl Backend {
    /// Results this backend applied (its Prometheus counter).
    async fn applied(&self) -> u64 {
        let text = Matchmaking::new(&self.base, "unused")
            .unwrap()
            .get_text(&format!("http://{}/metrics", self.admin))
            .await
            .unwrap_or_default();
        metric(&text, "backend_results_applied_total")
    }

    /// Waits (polling its counter, with a deadline) until this backend applied `n`.
    async fn wait_applied(&self, n: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while self.applied().await < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "applied {} of {n}",
                self.applied().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(self.applied().await, n, "nothing applied twice");
    }
}

fn players(tag: &str) -> Vec<String> {
    (0..BOTS).map(|i| format!("{tag}-bot-{i}")).collect()
}

/// Each player queues for a duel, is matched and placed, and plays it over QUIC; once all
/// are in their game, `matched` is told.
async fn play_duels(
    base: &str,
    players: &[String],
    matched: Option<tokio::sync::oneshot::Sender<()>>,
) -> Vec<client::bot::BotOutcome> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let barrier = Arc::new(tokio::sync::Barrier::new(players.len() + 1));
    let mut bots = tokio::task::JoinSet::new();
    for (i, player) in players.iter().enumerate() {
        let token = backend::http::auth::mint_dev_token(
            JWT_KEY.as_bytes(),
            player,
            now,
            Duration::from_secs(600),
            None,
            None,
        )
        .unwrap();
        let mm = Matchmaking::new(base, &token).unwrap();
        let barrier = Arc::clone(&barrier);
        bots.spawn(async move {
            let ticket = mm
                .create_ticket(&CreateTicketRequest {
                    mode: "duel".to_owned(),
                    party: Vec::new(),
                    latencies_ms: BTreeMap::from([("us-east-1".to_owned(), 20 + i as u32)]),
                    attributes: BTreeMap::new(),
                })
                .await
                .expect("ticket");
            let info = mm
                .wait_for_match(&ticket.id, Duration::from_secs(60))
                .await
                .expect("matched and placed");
            let session = client::connect(&info, &ClientOptions::default())
                .await
                .expect("joins its game server, pinning the derived certificate");
            barrier.wait().await;
            client::bot::play(session, Duration::from_millis(33), Duration::from_secs(60)).await
        });
    }
    barrier.wait().await;
    if let Some(matched) = matched {
        let _ = matched.send(());
    }
    let mut outcomes = Vec::new();
    while let Some(outcome) = bots.join_next().await {
        let outcome = outcome.expect("bot");
        assert!(outcome.standings.is_some(), "{outcome:?}");
        outcomes.push(outcome);
    }
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_matchmake_play_and_the_leaderboard_equals_dynamodb() {
    let system = System::start("system").await;
    let backend = system.backend().await;
    let players = players("sys");
    play_duels(&backend.base, &players, None).await;
    // Every match's result is applied once: BOTS / 2 duels.
    backend.wait_applied((BOTS / 2) as u64).await;
    let observer = Matchmaking::new(&backend.base, "unused").unwrap();
    let base = backend.base.clone();
    let prefix = system.prefix.clone();
    let redis_prefix = system.redis_prefix.clone();
    // The leaderboard the API serves (Redis) equals DynamoDB's profiles.
    let top = format!("{base}/v1/leaderboards/top?mode=duel&limit=50");
    let page: LeaderboardPage =
        serde_json::from_str(&observer.get_text(&top).await.expect("leaderboard"))
            .expect("a leaderboard page");
    let profiles = system.duel_records(&players).await;
    let board = BoardId {
        season: None,
        mode: Some("duel".to_owned()),
    };
    assert_eq!(page.entries.len(), BOTS, "{page:?}");
    for (i, entry) in page.entries.iter().enumerate() {
        assert_eq!(entry.rank as usize, i + 1);
        let stats = profiles[&entry.player_id]
            .stats(&board)
            .expect("a duel record");
        // Boards keep ratings on a grid of 1/RATING_STEPS_PER_POINT (the composite score
        // that breaks ties by time must stay exact in a double).
        let quantum = 1.0 / backend::rankings::RATING_STEPS_PER_POINT;
        assert!(
            (entry.rating - stats.rating).abs() <= quantum,
            "{}: {} on the board, {} in DynamoDB",
            entry.player_id,
            entry.rating,
            stats.rating
        );
        assert_eq!(stats.games, 1);
        if i > 0 {
            assert!(
                page.entries[i - 1].rating >= entry.rating,
                "ordered by rating"
            );
        }
    }

    // Redis loses everything (a restart without persistence): the boards are empty, and
    // `backend rebuild-rankings` recreates them from DynamoDB, equal to before.
    let mut redis = tests::redis_connection().await.expect("redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{redis_prefix}:*"))
        .query_async(&mut redis)
        .await
        .expect("KEYS");
    assert!(!keys.is_empty());
    let _: () = redis::cmd("DEL")
        .arg(&keys)
        .query_async(&mut redis)
        .await
        .expect("DEL");
    let emptied: LeaderboardPage =
        serde_json::from_str(&observer.get_text(&top).await.expect("leaderboard")).expect("a page");
    assert!(emptied.entries.is_empty(), "{emptied:?}");
    let redis_url = tests::redis_url();
    let rebuilt = run(
        "backend",
        &[
            "rebuild-rankings",
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
        ],
    )
    .await;
    assert!(rebuilt.contains("rebuilt"), "{rebuilt}");
    let again: LeaderboardPage =
        serde_json::from_str(&observer.get_text(&top).await.expect("leaderboard")).expect("a page");
    assert_eq!(
        again.entries, page.entries,
        "rebuilt from DynamoDB, ranks as before"
    );

    system.finish(backend).await;
}

/// The backend killed (SIGKILL) while the matches are played: results wait in SQS (or in
/// the dead consumer's hands until their visibility runs out), a new backend applies the
/// rest, and every player's record in DynamoDB counts exactly one game: nothing lost,
/// nothing doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backend_killed_during_the_matches_loses_and_doubles_nothing() {
    let system = System::start("system-kill").await;
    let mut first = system.backend().await;
    let players = players("kill");
    let (matched, all_in) = tokio::sync::oneshot::channel();
    let base = first.base.clone();
    let crowd = {
        let players = players.clone();
        tokio::spawn(async move { play_duels(&base, &players, Some(matched)).await })
    };
    all_in.await.expect("every bot is in its match");
    first.child.start_kill().expect("SIGKILL");
    let _ = first.child.wait().await;
    let outcomes = crowd.await.expect("the bots");
    assert_eq!(outcomes.len(), BOTS, "the matches end without the backend");

    // The first backend may have applied the matches that ended before it died; the
    // second applies the rest, including any the first held in flight (redelivered after
    // the visibility timeout). DynamoDB, the truth, is polled with a deadline.
    let second = system.backend().await;
    let board = BoardId {
        season: None,
        mode: Some("duel".to_owned()),
    };
    let games = |records: &BTreeMap<String, backend::ratings::PlayerProfile>| {
        players
            .iter()
            .map(|p| {
                records
                    .get(p)
                    .and_then(|r| r.stats(&board))
                    .map_or(0, |s| s.games)
            })
            .collect::<Vec<u32>>()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let counts = games(&system.duel_records(&players).await);
        assert!(
            counts.iter().all(|g| *g <= 1),
            "a match counted twice: {counts:?}"
        );
        if counts.iter().all(|g| *g == 1) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "results lost: games per player {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    system.finish(second).await;
}
