//! Match results applied per second through the consumer's pipeline:
//! `cargo bench -p backend --bench results`.
//!
//! Every result has 16 players (two teams of 8, drawn from a pool of 20,000 so that
//! some players are new and some have a profile already), one mode and a season, so it
//! counts for 4 boards: 64 (player, board) scores per result. Each result is signed and
//! has its placement record stored before the clock starts; the timed part is
//! [`Pipeline::process`] on the message body, the code the consumer's workers run:
//! decode, verify the signature, check the placement record, apply exactly once to the
//! profiles, write the absolute scores to the rankings. [`DEFAULT_WORKERS`] tasks share
//! the results, as the consumer's workers do. No queue is involved (moto's SQS is a
//! functional stand-in, never a throughput figure; the queue is not what is measured).
//!
//! * **(a) embedded:** `EmbeddedProfiles` and `EmbeddedRankings` in a temporary data
//!   directory (each commit and each rankings write is one fsynced log line).
//! * **(b) embedded profiles, Redis rankings:** the same results into fresh embedded
//!   profiles and `RedisRankings` on a redis-server this binary starts (loopback, free
//!   port, no persistence) whose 4 boards hold 1,000,000 members each beforehand.
//!   Reported: Redis requests started per result (a pipeline counts once, counted by a
//!   wrapper around the connection) and commands per result (redis-server's
//!   `total_commands_processed`).
//! * **Redis side alone:** `RedisRankings::set_many` with the 64 scores of each result
//!   (each pass over the results shifts every rating so that every `ZADD` moves a
//!   member, as a real result does), from 1, 4 ([`DEFAULT_WORKERS`]), 16 and 64
//!   concurrent tasks on one connection, for a few seconds each. With 1 task, the most
//!   requests in flight at once (the connection wrapper counts them) tells the round
//!   trips of latency per result: requests per result divided by it.
//! * **(c) redis-benchmark:** `redis-benchmark -P 16 -r 1000000 zadd …` on a sorted set
//!   pre-filled with 1,000,000 members, in the same run against the same redis-server.
//!
//! The target (issue 5): the Redis side reaches at least half of redis-benchmark's
//! pipelined `ZADD` rate in player updates per second, where one player update is one
//! (player, board) score written, as one redis-benchmark `ZADD` writes one member. The
//! rate of whole players (16 per result) is printed too.
//!
//! `REDIS_SERVER` and `REDIS_BENCHMARK` override `/usr/bin/redis-server` and
//! `/usr/bin/redis-benchmark` (installed by `scripts/test.sh`). The run takes about a
//! minute on 2 cores; every wait is bounded.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use backend::consumer::{DEFAULT_WORKERS, Outcome, Pipeline};
use backend::profiles::{EmbeddedProfiles, ProfileStore, ranking_updates};
use backend::rankings::{
    EmbeddedRankings, MAX_COMPOSITE, RankingUpdate, Rankings, RedisRankings, board_key,
    boards_for_match,
};
use backend::ratings::{PlacedPlayer, PlacementRecord};
use protocol::http::BoardId;
use protocol::result::{Keyring, MatchResult, PlayerResult, ResultMessage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redis::aio::{ConnectionLike, ConnectionManager};

/// Results per pipeline phase.
const RESULTS: usize = 2_000;
/// Players per result: two teams of 8.
const PLAYERS: usize = 16;
/// Players results are drawn from.
const PLAYER_POOL: usize = 20_000;
const MODE: &str = "squads8";
const SEASON: &str = "bench-season";
/// Members of each board, and of redis-benchmark's set, before anything is measured.
const FILL: usize = 1_000_000;
/// Members per `ZADD` while filling.
const FILL_CHUNK: usize = 1_000;
/// How long each concurrency of the Redis-side phase runs.
const REDIS_SIDE_TIME: Duration = Duration::from_secs(3);
/// Concurrent `set_many` callers in the Redis-side phase.
const REDIS_SIDE_TASKS: [usize; 4] = [1, DEFAULT_WORKERS, 16, 64];
/// `ZADD`s redis-benchmark sends.
const BENCHMARK_REQUESTS: usize = 2_000_000;
/// redis-benchmark's pipeline depth.
const BENCHMARK_PIPELINE: usize = 16;
const BENCHMARK_KEY: &str = "bench:zadd";
/// Longest wait for redis-server to answer, and for redis-benchmark to finish.
const SERVER_START: Duration = Duration::from_secs(10);
const BENCHMARK_TIMEOUT: Duration = Duration::from_secs(120);

/// The allocator the `backend` binary runs with (see its `main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run());
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "gamelift-bench-results-{}-{nanos:x}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create the temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A redis-server child on a loopback port, killed on drop.
struct RedisServer {
    child: Child,
    port: u16,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tool(env: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(env).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.exists(),
        "{} not found: run scripts/test.sh once (it installs redis-server), \
         `apt-get install -y redis-server`, or set {env}",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Starts redis-server without persistence and waits until it answers `PING`.
async fn start_redis(dir: &Path) -> (RedisServer, redis::Client) {
    let binary = tool("REDIS_SERVER", "/usr/bin/redis-server");
    // The port is free when chosen; another process could take it before redis-server
    // binds, so a failed start is retried on a new port.
    for _ in 0..3 {
        let port = free_port();
        let child = Command::new(&binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let mut server = RedisServer { child, port };
        let client =
            redis::Client::open(format!("redis://127.0.0.1:{port}/")).expect("a valid Redis URL");
        let deadline = Instant::now() + SERVER_START;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = server.child.try_wait() {
                break;
            }
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .is_ok()
            {
                return (server, client);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = server.child.kill();
    }
    panic!("redis-server did not answer within {SERVER_START:?} (three ports tried)");
}

/// The connection the rankings use, counting the requests started on it (one per
/// command sent alone, one per pipeline) and the most in flight at once.
#[derive(Clone)]
struct Counted {
    inner: ConnectionManager,
    requests: Arc<AtomicU64>,
    in_flight: Arc<AtomicU64>,
    max_in_flight: Arc<AtomicU64>,
}

impl Counted {
    /// Counts a request started on `inner` (split from `self` so both can be borrowed).
    fn track<'a, T: Send + 'a>(
        requests: &AtomicU64,
        in_flight: &Arc<AtomicU64>,
        max_in_flight: &AtomicU64,
        request: redis::RedisFuture<'a, T>,
    ) -> redis::RedisFuture<'a, T> {
        requests.fetch_add(1, Ordering::Relaxed);
        let now = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        max_in_flight.fetch_max(now, Ordering::Relaxed);
        let in_flight = Arc::clone(in_flight);
        Box::pin(async move {
            let reply = request.await;
            in_flight.fetch_sub(1, Ordering::Relaxed);
            reply
        })
    }
}

impl ConnectionLike for Counted {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        let Counted {
            inner,
            requests,
            in_flight,
            max_in_flight,
        } = self;
        Counted::track(
            requests,
            in_flight,
            max_in_flight,
            inner.req_packed_command(cmd),
        )
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        let Counted {
            inner,
            requests,
            in_flight,
            max_in_flight,
        } = self;
        Counted::track(
            requests,
            in_flight,
            max_in_flight,
            inner.req_packed_commands(pipeline, offset, count),
        )
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}

/// The results of a run, their signed bodies and placement records.
struct Workload {
    bodies: Vec<String>,
    placements: Vec<PlacementRecord>,
    players: Vec<Vec<String>>,
}

fn workload(keyring: &Keyring) -> Workload {
    let mut rng = StdRng::seed_from_u64(5);
    let mut bodies = Vec::with_capacity(RESULTS);
    let mut placements = Vec::with_capacity(RESULTS);
    let mut players = Vec::with_capacity(RESULTS);
    for n in 0..RESULTS {
        let started = 1_760_000_000_000 + n as u64 * 1_000;
        let ids: Vec<String> = rand::seq::index::sample(&mut rng, PLAYER_POOL, PLAYERS)
            .into_iter()
            .map(|i| format!("player-{i:05}"))
            .collect();
        let winner = rng.random_range(0..2usize);
        let result = MatchResult {
            match_id: format!("arn:aws:gamelift:us-east-1::gamesession/fleet-1/bench-{n}"),
            mode: MODE.to_owned(),
            region: "us-east-1".to_owned(),
            fleet_id: "fleet-1".to_owned(),
            started_at_ms: started,
            ended_at_ms: started + 600_000,
            cut_short: false,
            players: ids
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    let team = i % 2;
                    PlayerResult {
                        player_id: id.clone(),
                        player_session_id: format!("psess-{n}-{i}"),
                        team: Some(if team == 0 { "red" } else { "blue" }.to_owned()),
                        placement: if team == winner { 1 } else { 2 },
                        score: rng.random_range(0..5_000),
                        stats: BTreeMap::from([
                            ("deaths".to_owned(), rng.random_range(0..20)),
                            ("kills".to_owned(), rng.random_range(0..20)),
                        ]),
                        left_early: false,
                    }
                })
                .collect(),
        };
        placements.push(PlacementRecord {
            match_id: result.match_id.clone(),
            players: result
                .players
                .iter()
                .map(|p| PlacedPlayer {
                    player_id: p.player_id.clone(),
                    player_session_id: p.player_session_id.clone(),
                    team: p.team.clone(),
                })
                .collect(),
        });
        let signed = keyring.sign(result).expect("a valid result");
        bodies.push(ResultMessage::Inline(signed).to_json());
        players.push(ids);
    }
    Workload {
        bodies,
        placements,
        players,
    }
}

/// Fresh embedded profiles holding every placement record (not timed).
async fn profiles_with_placements(dir: &Path, work: &Workload) -> Arc<EmbeddedProfiles> {
    let profiles = EmbeddedProfiles::open(dir).expect("open the embedded profiles");
    for record in &work.placements {
        profiles
            .put_placement(record)
            .await
            .expect("store a placement");
    }
    Arc::new(profiles)
}

/// Runs every body through the pipeline from [`DEFAULT_WORKERS`] tasks; the wall time.
async fn apply_all(pipeline: Arc<Pipeline>, bodies: Arc<Vec<String>>) -> Duration {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..DEFAULT_WORKERS {
        let (pipeline, bodies, next) = (
            Arc::clone(&pipeline),
            Arc::clone(&bodies),
            Arc::clone(&next),
        );
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                match pipeline.process(body, 1).await {
                    Outcome::Applied { .. } => {}
                    other => panic!("result {i} was not applied: {other:?}"),
                }
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("a pipeline task");
    }
    start.elapsed()
}

fn pipeline(
    keyring: &Keyring,
    profiles: Arc<EmbeddedProfiles>,
    rankings: Arc<dyn Rankings>,
) -> Arc<Pipeline> {
    Arc::new(Pipeline {
        keyring: keyring.clone(),
        profiles,
        rankings,
        blobs: None,
        season: Some(SEASON.to_owned()),
        hook: None,
    })
}

async fn commands_processed(conn: &mut ConnectionManager) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(conn)
        .await
        .expect("INFO stats");
    info.lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("total_commands_processed in INFO stats")
}

/// Fills `key` with `count` members named `name(i)`, random composite scores.
async fn fill(conn: &mut ConnectionManager, key: &str, count: usize, name: fn(usize) -> String) {
    let mut rng = StdRng::seed_from_u64(count as u64);
    for start in (0..count).step_by(FILL_CHUNK * 10) {
        let mut pipe = redis::pipe();
        for chunk in (start..(start + FILL_CHUNK * 10).min(count)).step_by(FILL_CHUNK) {
            let members: Vec<(u64, String)> = (chunk..(chunk + FILL_CHUNK).min(count))
                .map(|i| (rng.random_range(0..=MAX_COMPOSITE), name(i)))
                .collect();
            pipe.cmd("ZADD").arg(key).arg(members).ignore();
        }
        pipe.query_async::<()>(conn)
            .await
            .expect("fill a sorted set");
    }
}

/// The scores each result writes, as the pipeline wrote them (from the final profiles).
async fn result_updates(
    profiles: &EmbeddedProfiles,
    work: &Workload,
    boards: &[BoardId],
) -> Vec<Vec<RankingUpdate>> {
    let mut all = Vec::with_capacity(work.players.len());
    for players in &work.players {
        let current = profiles.get_profiles(players).await.expect("read profiles");
        let updates = ranking_updates(current.values(), boards);
        assert_eq!(updates.len(), PLAYERS * boards.len());
        all.push(updates);
    }
    all
}

struct RedisSide {
    tasks: usize,
    results: u64,
    elapsed: Duration,
}

/// `set_many` from `tasks` concurrent callers for [`REDIS_SIDE_TIME`]; pass `p` over the
/// results adds `p` points to every rating, so each write moves its members.
async fn redis_side(
    rankings: &RedisRankings<Counted>,
    updates: &Arc<Vec<Vec<RankingUpdate>>>,
    tasks: usize,
) -> RedisSide {
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + REDIS_SIDE_TIME;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let (rankings, updates, next, done) = (
            rankings.clone(),
            Arc::clone(updates),
            Arc::clone(&next),
            Arc::clone(&done),
        );
        set.spawn(async move {
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let shift = (i / updates.len() + 1) as f64;
                let batch: Vec<RankingUpdate> = updates[i % updates.len()]
                    .iter()
                    .map(|u| {
                        let mut u = u.clone();
                        u.score.rating += shift;
                        u
                    })
                    .collect();
                rankings.set_many(&batch).await.expect("set_many");
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while let Some(joined) = set.join_next().await {
        joined.expect("a set_many task");
    }
    RedisSide {
        tasks,
        results: done.load(Ordering::Relaxed),
        elapsed: start.elapsed(),
    }
}

/// Mean latency of a `PING` on `conn`, one at a time.
async fn ping_latency(conn: &mut ConnectionManager) -> Duration {
    const PINGS: u32 = 2_000;
    let start = Instant::now();
    for _ in 0..PINGS {
        redis::cmd("PING")
            .query_async::<String>(conn)
            .await
            .expect("PING");
    }
    start.elapsed() / PINGS
}

/// Runs redis-benchmark's pipelined `ZADD`, its output going to a file in `dir` (no pipe
/// to fill while waiting); its requests per second.
fn redis_benchmark(port: u16, dir: &Path) -> (String, f64) {
    let binary = tool("REDIS_BENCHMARK", "/usr/bin/redis-benchmark");
    let args: Vec<String> = [
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-P",
        &BENCHMARK_PIPELINE.to_string(),
        "-n",
        &BENCHMARK_REQUESTS.to_string(),
        "-r",
        &FILL.to_string(),
        "--csv",
        "zadd",
        BENCHMARK_KEY,
        "__rand_int__",
        "member:__rand_int__",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let shown = format!("redis-benchmark {}", args.join(" "));
    let out_path = dir.join("redis-benchmark.out");
    let out = std::fs::File::create(&out_path).expect("create redis-benchmark's output file");
    let err = out.try_clone().expect("clone the output file");
    let mut child = Command::new(&binary)
        .args(&args)
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("start redis-benchmark");
    let deadline = Instant::now() + BENCHMARK_TIMEOUT;
    loop {
        if child
            .try_wait()
            .expect("wait for redis-benchmark")
            .is_some()
        {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("redis-benchmark ran longer than {BENCHMARK_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = std::fs::read_to_string(&out_path).expect("read redis-benchmark's output");
    // --csv: a header line, then `"<test>","<rps>",…`.
    let rps = output
        .lines()
        .filter(|l| !l.starts_with("\"test\""))
        .find_map(|l| l.split(',').nth(1)?.trim_matches('"').parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no rate in redis-benchmark's output: {output}"));
    (shown, rps)
}

fn per_second(count: f64, elapsed: Duration) -> f64 {
    count / elapsed.as_secs_f64()
}

/// `1234567.8` → `1,234,568`.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

async fn run() {
    let keyring = Keyring::new("bench", &[7; 32]).expect("a key");
    let work = workload(&keyring);
    let bodies = Arc::new(work.bodies.clone());
    let boards = boards_for_match(Some(SEASON), MODE);
    let updates_per_result = PLAYERS * boards.len();
    let dir = TempDir::new();
    println!(
        "match results: {RESULTS} results of {PLAYERS} players ({} boards each: {updates_per_result} \
         scores), {DEFAULT_WORKERS} pipeline tasks",
        boards.len()
    );

    // (a) embedded profiles and rankings.
    let profiles = profiles_with_placements(&dir.0.join("a/profiles"), &work).await;
    let rankings =
        EmbeddedRankings::open(dir.0.join("a/rankings")).expect("open the embedded rankings");
    let embedded = apply_all(
        pipeline(&keyring, profiles, Arc::new(rankings)),
        Arc::clone(&bodies),
    )
    .await;
    println!("(a) embedded: {embedded:.2?}");

    // (b) embedded profiles, Redis rankings on boards of 1M members.
    let (server, client) = start_redis(&dir.0).await;
    let mut admin = client
        .get_connection_manager()
        .await
        .expect("a Redis connection");
    let fill_start = Instant::now();
    for board in &boards {
        let key = board_key(backend::rankings::DEFAULT_KEY_PREFIX, board);
        fill(&mut admin, &key, FILL, |i| format!("fill-{i:07}")).await;
    }
    fill(&mut admin, BENCHMARK_KEY, FILL, |i| {
        format!("member:{i:012}")
    })
    .await;
    println!(
        "filled {} sorted sets of {FILL} members in {:.1?}",
        boards.len() + 1,
        fill_start.elapsed()
    );
    let requests = Arc::new(AtomicU64::new(0));
    let counted = Counted {
        inner: client
            .get_connection_manager()
            .await
            .expect("a Redis connection"),
        requests: Arc::clone(&requests),
        in_flight: Arc::new(AtomicU64::new(0)),
        max_in_flight: Arc::new(AtomicU64::new(0)),
    };
    let redis_rankings = RedisRankings::new(counted.clone(), backend::rankings::DEFAULT_KEY_PREFIX);
    let profiles = profiles_with_placements(&dir.0.join("b/profiles"), &work).await;
    let commands_before = commands_processed(&mut admin).await;
    let with_redis = apply_all(
        pipeline(
            &keyring,
            Arc::clone(&profiles),
            Arc::new(redis_rankings.clone()),
        ),
        Arc::clone(&bodies),
    )
    .await;
    // Less the INFO call itself.
    let commands = commands_processed(&mut admin).await - commands_before - 1;
    let requests_b = requests.swap(0, Ordering::Relaxed);
    let global: u64 = redis::cmd("ZCARD")
        .arg(board_key(
            backend::rankings::DEFAULT_KEY_PREFIX,
            &BoardId::GLOBAL,
        ))
        .query_async(&mut admin)
        .await
        .expect("ZCARD");
    println!("(b) embedded profiles + Redis rankings: {with_redis:.2?}, global board {global}");

    // The Redis side alone.
    let updates = Arc::new(result_updates(&profiles, &work, &boards).await);
    let ping = ping_latency(&mut admin).await;
    let mut sides = Vec::new();
    for tasks in REDIS_SIDE_TASKS {
        let before = commands_processed(&mut admin).await;
        requests.store(0, Ordering::Relaxed);
        counted.max_in_flight.store(0, Ordering::Relaxed);
        let side = redis_side(&redis_rankings, &updates, tasks).await;
        let max_in_flight = counted.max_in_flight.load(Ordering::Relaxed);
        let commands = commands_processed(&mut admin).await - before - 1;
        let requests = requests.load(Ordering::Relaxed);
        println!(
            "redis side, {tasks} tasks: {} results in {:.2?}, {:.2} requests and {:.2} commands per result, \
             at most {max_in_flight} requests in flight",
            side.results,
            side.elapsed,
            requests as f64 / side.results as f64,
            commands as f64 / side.results as f64,
        );
        sides.push((side, requests, max_in_flight));
    }

    // (c) redis-benchmark on the same server.
    let port = server.port;
    let out_dir = dir.0.clone();
    let (command, zadd_rate) = tokio::task::spawn_blocking(move || redis_benchmark(port, &out_dir))
        .await
        .expect("redis-benchmark thread");
    let bench_card: u64 = redis::cmd("ZCARD")
        .arg(BENCHMARK_KEY)
        .query_async(&mut admin)
        .await
        .expect("ZCARD");
    drop(admin);
    drop(server);

    let results = RESULTS as f64;
    let players = results * PLAYERS as f64;
    println!();
    println!("| phase | results/s | players/s | player updates/s (player × board) | per result |");
    println!("|---|---:|---:|---:|---|");
    println!(
        "| (a) embedded profiles + embedded rankings, {DEFAULT_WORKERS} tasks | {} | {} | {} | 2 fsynced log lines |",
        thousands(per_second(results, embedded)),
        thousands(per_second(players, embedded)),
        thousands(per_second(results * updates_per_result as f64, embedded)),
    );
    println!(
        "| (b) embedded profiles + Redis rankings, {DEFAULT_WORKERS} tasks | {} | {} | {} | {:.2} Redis requests, {:.2} commands |",
        thousands(per_second(results, with_redis)),
        thousands(per_second(players, with_redis)),
        thousands(per_second(results * updates_per_result as f64, with_redis)),
        requests_b as f64 / results,
        commands as f64 / results,
    );
    let mut best = 0.0f64;
    for (side, requests, max_in_flight) in &sides {
        let n = side.results as f64;
        let updates_rate = per_second(n * updates_per_result as f64, side.elapsed);
        best = best.max(updates_rate);
        let latency = side.elapsed.mul_f64(side.tasks as f64 / n.max(1.0));
        let extra = if side.tasks == 1 {
            format!(
                "; {latency:.0?} per set_many (PING {ping:.0?}); {:.2} requests, at most \
                 {max_in_flight} in flight: {:.2} round trips",
                *requests as f64 / n,
                *requests as f64 / n / (*max_in_flight).max(1) as f64
            )
        } else {
            String::new()
        };
        println!(
            "| Redis side: `set_many`, {} task{} | {} | {} | {} | {updates_per_result} scores{extra} |",
            side.tasks,
            if side.tasks == 1 { "" } else { "s" },
            thousands(per_second(n, side.elapsed)),
            thousands(per_second(n * PLAYERS as f64, side.elapsed)),
            thousands(updates_rate),
        );
    }
    println!(
        "| (c) redis-benchmark, `ZADD` pipelined ×{BENCHMARK_PIPELINE}, 50 clients, set of {} | — | — | {} | one member per `ZADD` |",
        thousands(bench_card as f64),
        thousands(zadd_rate),
    );
    println!();
    println!("(c) command: {command}");
    let ratio = best / zadd_rate;
    println!(
        "Redis side at its best: {} player updates/s = {:.2} × redis-benchmark's ZADD rate \
         (target ≥ 0.50: {})",
        thousands(best),
        ratio,
        if ratio >= 0.5 { "met" } else { "missed" }
    );
    let at_workers = sides
        .iter()
        .map(|(s, _, _)| s)
        .find(|s| s.tasks == DEFAULT_WORKERS)
        .map_or(0.0, |s| {
            per_second(s.results as f64 * updates_per_result as f64, s.elapsed)
        });
    println!(
        "Redis side with the consumer's {DEFAULT_WORKERS} workers: {:.2} × redis-benchmark's rate",
        at_workers / zadd_rate
    );
}
