//! HTTP ticket creation against a trivial axum handler, with `wrk` on loopback:
//! `cargo bench -p backend --bench http`.
//!
//! Two servers run in this process, on one tokio runtime built as `backend serve` builds
//! it (multi-threaded, one worker per core), each on its own loopback port:
//!
//! * **tickets:** the real API router ([`backend::http::app`]) with an [`AppState`] as
//!   `serve` builds it: HMAC (HS256) bearer tokens, the default matchmaking
//!   configuration, the matchmaking driver with its default tick (200 ms) placing
//!   through the [`DevPlacer`], the embedded profile and rankings stores in a temporary
//!   directory, and the per-player rate limit raised to 1,000,000 requests at once and
//!   per second, so that it never refuses a request of the benchmark (each request is a
//!   different player anyway). No tracing subscriber is installed (`serve` logs each
//!   ticket at `info` to stderr; that cost is not measured here).
//! * **trivial:** one axum route, `POST /v1/matchmaking/tickets`, answering `201` with
//!   `{"ok":true}` without reading the body.
//!
//! The bench runs in rounds (`HTTP_BENCH_ROUNDS`, 3): each round starts a fresh API
//! (its own stores, empty pool) and runs `wrk` against the trivial handler, then against
//! the API, with the same threads, connections, duration and Lua script: every request is
//! a `POST` of the same JSON body (a solo `duel` ticket with latencies to two regions)
//! with the next bearer token of a list minted before the clock starts, one token per
//! player, so no player asks twice (a second live ticket for a player is a `409`, which
//! would not measure creation). The ticket run is valid only if every answer is a 2xx
//! (wrk counts statuses ≥ 400; the API sends no 3xx), no socket error occurred, and the
//! tokens did not run out; the binary exits with status 1 otherwise. The trivial server
//! gets the same requests so that wrk does the same work in both runs.
//!
//! The driver keeps ticking during the run: the new players all have the same rating,
//! so duels are proposed on every tick and placed (the placement records of a batch
//! are one fsynced append to the embedded profile store). After each ticket run the
//! bench waits for the placement backlog to drain and prints the pool and placement
//! counts. Each round gives a ratio (ticket rate over the same round's trivial rate:
//! the machine's speed drifts by 10-20% between runs a minute apart, and the two runs
//! of a round are adjacent); the target is judged on the median round.
//!
//! A diagnostic beside the measurement, in the first round between the trivial and the
//! ticket run, repeats the ticket run on a second,
//! identical API whose placer never answers (`ParkedPlacer`): matches are proposed and
//! stay PLACING, so no placement record is written. The difference between the two
//! ticket rows is what placing and recording the matches costs on the same cores.
//!
//! Each row also gives the CPU time per request of this process (the servers; only the
//! one under load is busy) and of wrk, from `/proc/self/stat` (10 ms resolution over the
//! whole run): where the two shared cores went.
//!
//! Target (issue 6): ticket creations per second at least half the trivial handler's
//! requests per second. Both servers and wrk share the machine's cores.
//!
//! Settings (environment): `HTTP_BENCH_SECS` (10), `HTTP_BENCH_CONNECTIONS` (64),
//! `HTTP_BENCH_THREADS` (2), `HTTP_BENCH_TOKENS` (800,000), `HTTP_BENCH_ROUNDS` (3),
//! `WRK` (`wrk` on the `PATH`). With the defaults the whole run takes about a minute and a
//! half; every wait is bounded.

#[path = "common/procfs.rs"]
mod procfs;

use procfs::{CLOCK_TICKS_PER_S, cpu_ticks};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use backend::http::{
    self, ApiConfig, ApiMetrics, AppState, Authenticator, Clock, DriverConfig, MatchmakerHandle,
    RateLimit, RateLimiter,
};
use backend::matchmaking::Matchmaker;
use backend::matchmaking::ProposedMatch;
use backend::placement::{DevPlacer, PlacedMatch, PlacementFailure, Placer};
use backend::profiles::EmbeddedProfiles;
use backend::rankings::BoxFuture;
use backend::rankings::EmbeddedRankings;

const HMAC_KEY: &[u8] = b"http-bench-hmac-key-0123456789abcdef";
const PATH: &str = "/v1/matchmaking/tickets";
/// The rate limit of the benchmark: high enough never to refuse one of its requests.
const RATE_LIMIT: RateLimit = RateLimit {
    burst: 1_000_000,
    per_second: 1_000_000,
};
/// How long wrk may take beyond its duration before it is killed.
const WRK_GRACE: Duration = Duration::from_secs(30);

/// A placer that never answers (the diagnostic run).
struct ParkedPlacer;

impl Placer for ParkedPlacer {
    fn place<'a>(
        &'a self,
        _proposed: &'a ProposedMatch,
    ) -> BoxFuture<'a, Result<PlacedMatch, PlacementFailure>> {
        Box::pin(std::future::pending())
    }

    fn release<'a>(&'a self, _placed: &'a PlacedMatch) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

/// The allocator the `backend` binary runs with (see its `main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(run());
    // The placement backlog of the ticket run is not waited for.
    runtime.shutdown_timeout(Duration::from_secs(5));
    match result {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("http bench: {e:#}");
            std::process::exit(2);
        }
    }
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "gamelift-bench-http-{}-{nanos:x}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).context("creating the temporary directory")?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    secs: u64,
    connections: u32,
    threads: u32,
    tokens: usize,
    rounds: usize,
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}={text:?} is not a number")),
        Err(_) => Ok(default),
    }
}

impl Settings {
    fn from_env() -> anyhow::Result<Settings> {
        let settings = Settings {
            secs: env_number("HTTP_BENCH_SECS", 10)?,
            connections: env_number("HTTP_BENCH_CONNECTIONS", 64)?,
            threads: env_number("HTTP_BENCH_THREADS", 2)?,
            tokens: env_number("HTTP_BENCH_TOKENS", 800_000)?,
            rounds: env_number("HTTP_BENCH_ROUNDS", 3)?,
        };
        if !(1..=9).contains(&settings.rounds) {
            bail!("HTTP_BENCH_ROUNDS must be 1 to 9");
        }
        if !(1..=60).contains(&settings.secs) {
            bail!("HTTP_BENCH_SECS must be 1 to 60 (the bench stays under two minutes)");
        }
        if settings.threads == 0 || settings.connections < settings.threads {
            bail!("need at least one wrk thread and one connection per thread");
        }
        if !(1_000..=2_000_000).contains(&settings.tokens) {
            bail!("HTTP_BENCH_TOKENS must be 1,000 to 2,000,000");
        }
        Ok(settings)
    }
}

/// What wrk's `done` hook prints, parsed.
#[derive(Debug, Default, Clone, Copy)]
struct WrkResult {
    requests: u64,
    duration_us: u64,
    status_errors: u64,
    socket_errors: u64,
    p50_us: u64,
    p90_us: u64,
    p99_us: u64,
    max_us: u64,
    tokens_used: u64,
    /// CPU time of this process (both API servers and the trivial one, all idle but the
    /// one under load) over the run, in clock ticks.
    server_ticks: u64,
    /// CPU time of wrk over the run, in clock ticks.
    wrk_ticks: u64,
}

impl WrkResult {
    fn parse(stdout: &str) -> Option<WrkResult> {
        let line = stdout.lines().find_map(|l| l.strip_prefix("WRK_RESULT "))?;
        let mut r = WrkResult::default();
        for field in line.split_whitespace() {
            let (key, value) = field.split_once('=')?;
            let value: u64 = value.parse().ok()?;
            match key {
                "requests" => r.requests = value,
                "duration_us" => r.duration_us = value,
                "status_errors" => r.status_errors = value,
                "socket_errors" => r.socket_errors = value,
                "p50_us" => r.p50_us = value,
                "p90_us" => r.p90_us = value,
                "p99_us" => r.p99_us = value,
                "max_us" => r.max_us = value,
                "tokens_used" => r.tokens_used = value,
                _ => {}
            }
        }
        Some(r)
    }

    fn rate(&self) -> f64 {
        self.requests as f64 / (self.duration_us.max(1) as f64 / 1e6)
    }

    /// CPU µs per request of `ticks` (the kernel's clock ticks, 100 per second).
    fn cpu_us_per_request(&self, ticks: u64) -> f64 {
        ticks as f64 * 1e6 / CLOCK_TICKS_PER_S / self.requests.max(1) as f64
    }
}

/// The Lua script: each wrk thread takes every `threads`-th token of the file and sends
/// them in order, starting again after the last one (the trivial handler does not care;
/// for the API that is a second ticket for a player, and the run is invalid).
fn lua_script(tokens: &Path, body: &str, threads: u32) -> String {
    format!(
        r#"-- written by backend/benches/http.rs
local threads = {{}}
local count = 0
function setup(thread)
  thread:set("tid", count)
  count = count + 1
  table.insert(threads, thread)
end

local tokens = {{}}
local n = 0
-- a global, so that `done` can read it with thread:get
used = 0
local body = [[{body}]]

function init(args)
  local line_no = 0
  for line in io.lines("{path}") do
    if line_no % {threads} == tid then
      n = n + 1
      tokens[n] = line
    end
    line_no = line_no + 1
  end
end

function request()
  -- past the last token, start again (same request size): the API answers 409 then,
  -- and `used` past the count marks the run invalid
  local token = tokens[(used % n) + 1]
  used = used + 1
  return wrk.format("POST", nil, {{
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }}, body)
end

function done(summary, latency, requests)
  local used_total = 0
  for _, thread in ipairs(threads) do
    used_total = used_total + thread:get("used")
  end
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d status_errors=%d socket_errors=%d " ..
    "p50_us=%d p90_us=%d p99_us=%d max_us=%d tokens_used=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    used_total))
end
"#,
        path = tokens.display(),
    )
}

/// Mints one token per player (`bench-000000` …), in parallel, one per line.
fn mint_tokens(count: usize) -> anyhow::Result<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = count.div_ceil(workers);
    let parts = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || -> Result<String, String> {
                    let mut out = String::with_capacity(chunk * 200);
                    for i in (w * chunk)..((w + 1) * chunk).min(count) {
                        let player = format!("bench-{i:07}");
                        let token = backend::http::auth::mint_dev_token(
                            HMAC_KEY,
                            &player,
                            now,
                            Duration::from_secs(3600),
                            None,
                            None,
                        )?;
                        out.push_str(&token);
                        out.push('\n');
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("minting does not panic"))
            .collect::<Result<Vec<_>, _>>()
    });
    Ok(parts.map_err(|e| anyhow::anyhow!(e))?.concat())
}

async fn run_wrk(
    wrk: &str,
    settings: Settings,
    script: &Path,
    addr: SocketAddr,
) -> anyhow::Result<WrkResult> {
    let mut command = tokio::process::Command::new(wrk);
    command
        .arg(format!("-t{}", settings.threads))
        .arg(format!("-c{}", settings.connections))
        .arg(format!("-d{}s", settings.secs))
        .arg("--timeout")
        .arg("5s")
        .arg("-s")
        .arg(script)
        .arg(format!("http://{addr}{PATH}"))
        .kill_on_drop(true);
    let limit = Duration::from_secs(settings.secs) + WRK_GRACE;
    let before = cpu_ticks().unwrap_or_default();
    let output = tokio::time::timeout(limit, command.output())
        .await
        .with_context(|| format!("wrk did not finish within {limit:?}"))?
        .with_context(|| format!("running {wrk}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let after = cpu_ticks().unwrap_or_default();
    let mut result = WrkResult::parse(&stdout)
        .with_context(|| format!("no WRK_RESULT line in wrk's output:\n{stdout}"))?;
    result.server_ticks = after.0.saturating_sub(before.0);
    result.wrk_ticks = after.1.saturating_sub(before.1);
    Ok(result)
}

/// The API as `backend serve` builds it (see the module docs for what differs).
/// An API started by [`start_api`].
struct RunningApi {
    addr: SocketAddr,
    handle: MatchmakerHandle,
    metrics: ApiMetrics,
    stop: tokio::sync::oneshot::Sender<()>,
    driver: tokio::task::JoinHandle<()>,
}

impl RunningApi {
    /// Stops serving and waits (up to a minute) until the driver has stopped and freed
    /// its pools and records, so that no later run shares the cores with the freeing
    /// (hundreds of thousands of tickets take a good part of a second).
    async fn shut_down(self) {
        let RunningApi {
            handle,
            stop,
            driver,
            ..
        } = self;
        drop(stop);
        drop(handle);
        if tokio::time::timeout(Duration::from_secs(60), driver)
            .await
            .is_err()
        {
            println!("(an API's driver did not stop within a minute)");
        }
    }
}

async fn start_api(data_dir: &Path, placer: Arc<dyn Placer>) -> anyhow::Result<RunningApi> {
    let auth = Authenticator::hmac(HMAC_KEY, None, None).map_err(|e| anyhow::anyhow!(e))?;
    let mm_config = http::modes::default_config();
    let modes = mm_config.modes.iter().map(|m| m.name.clone()).collect();
    let matchmaker = Matchmaker::new(mm_config).context("the default matchmaking config")?;
    let profiles: Arc<dyn backend::profiles::ProfileStore> =
        Arc::new(EmbeddedProfiles::open(data_dir.join("profiles")).context("profiles")?);
    let rankings: Arc<dyn backend::rankings::Rankings> =
        Arc::new(EmbeddedRankings::open(data_dir.join("rankings")).context("rankings")?);
    let clock = Clock::system();
    let metrics = ApiMetrics::new();
    let (handle, driver) = http::spawn_matchmaker(
        matchmaker,
        placer,
        Arc::clone(&profiles),
        clock,
        DriverConfig::default(),
        metrics.clone(),
        std::future::pending(),
    );
    let state = AppState {
        auth: Arc::new(auth),
        matchmaker: handle.clone(),
        profiles,
        rankings,
        parties: Arc::default(),
        rate_limiter: Arc::new(std::sync::Mutex::new(RateLimiter::new(RATE_LIMIT))),
        modes: Arc::new(modes),
        clock,
        metrics: metrics.clone(),
    };
    let api = http::app(state, &ApiConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, api)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    Ok(RunningApi {
        addr,
        handle,
        metrics,
        stop,
        driver,
    })
}

async fn start_trivial() -> anyhow::Result<SocketAddr> {
    let router = Router::new().route(
        PATH,
        post(|| async { (StatusCode::CREATED, Json(serde_json::json!({"ok": true}))) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(addr)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The driver's numbers once a round's placement backlog is placed.
struct RoundEnd {
    searching: u32,
    placed: u64,
    placing: i64,
}

/// Waits (up to a minute) until the driver has no match left placing, so that the next
/// round does not share the cores with this one's backlog.
async fn drain_placements(
    handle: &MatchmakerHandle,
    metrics: &ApiMetrics,
) -> anyhow::Result<RoundEnd> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // The gauge is refreshed at the driver's tick (200 ms).
        tokio::time::sleep(Duration::from_millis(250)).await;
        let placing = metrics.matches_placing.get();
        if placing == 0 || Instant::now() >= deadline {
            let stats = handle
                .stats()
                .await
                .map_err(|_| anyhow::anyhow!("the matchmaking driver does not answer"))?;
            return Ok(RoundEnd {
                searching: stats.modes.iter().map(|m| m.tickets_searching).sum(),
                placed: placements_succeeded(metrics),
                placing,
            });
        }
    }
}

/// `backend_placements_total{outcome="succeeded"}` from the metrics text.
fn placements_succeeded(metrics: &ApiMetrics) -> u64 {
    metrics
        .encode()
        .lines()
        .find(|l| l.starts_with("backend_placements_total") && l.contains("succeeded"))
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
        .unwrap_or(0)
}

fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

async fn run() -> anyhow::Result<bool> {
    let settings = Settings::from_env()?;
    let wrk = std::env::var("WRK").unwrap_or_else(|_| "wrk".to_owned());
    if std::process::Command::new(&wrk)
        .arg("--version")
        .output()
        .is_err()
    {
        bail!(
            "`{wrk}` is not installed (or WRK points nowhere): install it with \
             `apt-get install -y wrk` (Debian package wrk) and run the bench again"
        );
    }
    let dir = TempDir::new()?;

    let started = Instant::now();
    let tokens = mint_tokens(settings.tokens)?;
    let token_file = dir.0.join("tokens.txt");
    std::fs::write(&token_file, tokens).context("writing the token file")?;
    println!(
        "minted {} tokens (one player each) in {:.1} s",
        settings.tokens,
        started.elapsed().as_secs_f64()
    );
    let body = serde_json::json!({
        "mode": "duel",
        "latencies_ms": {"us-east-1": 30, "eu-west-1": 90},
    })
    .to_string();
    let script = dir.0.join("tickets.lua");
    std::fs::write(&script, lua_script(&token_file, &body, settings.threads))
        .context("writing the Lua script")?;

    let mut parked_api = Some(start_api(&dir.0.join("data-parked"), Arc::new(ParkedPlacer)).await?);
    let trivial_addr = start_trivial().await?;
    let machine = format!(
        "nproc {}, CPU \"{}\"",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    println!("machine: {machine}; both servers and wrk share these cores");
    println!(
        "wrk: {} threads, {} connections, {} s per run, {} rounds; body {body}",
        settings.threads, settings.connections, settings.secs, settings.rounds
    );
    println!(
        "API: HMAC tokens, default matchmaking config, DevPlacer, embedded stores in {}, \
         rate limit burst {} / {} per s (never limits this run)",
        dir.0.display(),
        RATE_LIMIT.burst,
        RATE_LIMIT.per_second
    );
    println!("load average before: {}", load_average());

    let mut rounds = Vec::new();
    let mut parked = None;
    for round in 1..=settings.rounds {
        // A fresh API each round (the same tokens are new players to it), so no round
        // inherits another's pool, records or placement backlog.
        let api = start_api(
            &dir.0.join(format!("data-{round}")),
            Arc::new(DevPlacer::default()),
        )
        .await?;
        let trivial = run_wrk(&wrk, settings, &script, trivial_addr).await?;
        println!("round {round}: trivial handler done: {trivial:?}");
        if let Some(parked_api) = parked_api.take() {
            // The diagnostic before the first real ticket run: a ticket run leaves a
            // backlog of placements that keeps the disk and the cores busy for a while.
            let run = run_wrk(&wrk, settings, &script, parked_api.addr).await?;
            println!("ticket creation, placements parked, done: {run:?}");
            parked = Some((
                run,
                trivial,
                parked_api.metrics.tickets_created.get(),
                parked_api.metrics.matches_placing.get(),
            ));
            // Its quarter of a million parked matches are not kept through the rounds.
            parked_api.shut_down().await;
        }
        let tickets = run_wrk(&wrk, settings, &script, api.addr).await?;
        println!("round {round}: ticket creation done: {tickets:?}");
        let end = drain_placements(&api.handle, &api.metrics).await?;
        println!(
            "round {round}: server side: {} tickets created; after the run {} searching in \
             the pool, {} matches placed ({} players), {} still placing",
            api.metrics.tickets_created.get(),
            end.searching,
            end.placed,
            end.placed * 2,
            end.placing
        );
        rounds.push((trivial, tickets));
        // Shut this round's API down, so the next round runs beside no leftover state.
        api.shut_down().await;
    }
    let (parked, parked_trivial, parked_created, parked_placing) =
        parked.context("at least one round")?;
    println!("load average after: {}", load_average());

    let mut ratios: Vec<f64> = rounds.iter().map(|(t, k)| k.rate() / t.rate()).collect();
    let shown = ratios
        .iter()
        .map(|r| format!("{r:.2}"))
        .collect::<Vec<_>>()
        .join(", ");
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios[ratios.len() / 2];
    let mut table = String::new();
    writeln!(
        table,
        "| server | requests/s | p50 | p90 | p99 | max | requests | non-2xx | socket errors \
         | server CPU / request | wrk CPU / request |"
    )?;
    writeln!(
        table,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    let mut rows: Vec<(String, WrkResult)> = Vec::new();
    for (i, (trivial, tickets)) in rounds.iter().enumerate() {
        let round = i + 1;
        rows.push((format!("round {round}: trivial axum handler"), *trivial));
        rows.push((
            format!("round {round}: ticket creation (`POST /v1/matchmaking/tickets`)"),
            *tickets,
        ));
    }
    rows.push((
        "diagnostic: ticket creation, placements parked".to_owned(),
        parked,
    ));
    for (name, r) in &rows {
        writeln!(
            table,
            "| {name} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {:.1} µs | {:.1} µs |",
            r.rate(),
            ms(r.p50_us),
            ms(r.p90_us),
            ms(r.p99_us),
            ms(r.max_us),
            r.requests,
            r.status_errors,
            r.socket_errors,
            r.cpu_us_per_request(r.server_ticks),
            r.cpu_us_per_request(r.wrk_ticks),
        )?;
    }
    println!();
    print!("{table}");
    println!();
    println!(
        "ratio (ticket creation / trivial of the same round): {shown}; median {ratio:.2} \
         (target: at least 0.50)"
    );
    println!(
        "diagnostic run: {} tickets created, {} matches left placing (never recorded); \
         ratio to round 1's trivial {:.2}",
        parked_created,
        parked_placing,
        parked.rate() / parked_trivial.rate()
    );

    let mut valid = true;
    let checked = rounds
        .iter()
        .map(|(_, tickets)| ("ticket", *tickets))
        .chain([("diagnostic", parked)]);
    for (name, r) in checked {
        if r.status_errors > 0 || r.socket_errors > 0 {
            println!(
                "INVALID: the {name} run had {} non-2xx answers and {} socket errors",
                r.status_errors, r.socket_errors
            );
            valid = false;
        }
        if r.tokens_used > settings.tokens as u64 {
            println!(
                "INVALID: the {name} run used every token (raise HTTP_BENCH_TOKENS above {})",
                settings.tokens
            );
            valid = false;
        }
    }
    if valid {
        println!(
            "valid run; target {}",
            if ratio >= 0.5 { "MET" } else { "MISSED" }
        );
    }
    Ok(valid)
}
