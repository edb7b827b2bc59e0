//! The `backend` binary: the match-result consumer and its tools.
//!
//! **What it is:** a clap CLI over the library. `init` creates the DynamoDB tables, the
//! SQS queues (with DLQ and redrive policy) and the S3 bucket, idempotently;
//! `consume` runs the result consumer ([`backend::consumer::run`]) on the chosen stores
//! (embedded, or SQS + DynamoDB + S3, with embedded or Redis rankings);
//! `rebuild-rankings` recreates every leaderboard from the profile store; `send-result`
//! signs a result file and sends it to the queue (a development and test helper);
//! `serve` runs the HTTP API with the matchmaking driver ([`backend::http`]);
//! `dev-token` mints a bearer token for local use.
//! AWS clients come from `aws-config`, so `AWS_ENDPOINT_URL*` point them elsewhere.
//!
//! `serve` also serves the web page (`backend/web/`, see [`backend::http::web`]) at `/`.
//!
//! **What it is not (yet):** queue placement (StartGameSessionPlacement).
//!
//! With the embedded stores, `--data-dir D` holds `D/queue`, `D/profiles` and
//! `D/rankings`; each is locked by the process that opens it, so `send-result` cannot
//! write to an embedded queue while `consume` runs on it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use backend::blobs::{DirBlobs, ResultBlobs, S3Blobs};
use backend::consumer::{self, ConsumerConfig, Counters, Pipeline, Step, StepHook};
use backend::profiles::{DynamoProfiles, DynamoTables, EmbeddedProfiles, ProfileStore};
use backend::provision::{self, ProvisionConfig};
use backend::queue::{
    EmbeddedQueue, MAX_BATCH, MAX_WAIT, ResultQueue, SqsQueue, SqsQueueConfig, spool,
};
use backend::rankings::{DEFAULT_KEY_PREFIX, EmbeddedRankings, Rankings, RedisRankings};
use clap::{Args, Parser, Subcommand, ValueEnum};
use protocol::result::{Keyring, MatchResult, ResultMessage};

/// mimalloc, not glibc's malloc: creating tickets, glibc spent a fifth of the server's
/// CPU searching and consolidating its bins (`docs/benchmarks.md`, "HTTP ticket
/// creation"). The benches that run the backend in-process use it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Deliveries after which the embedded queue moves a message to its DLQ, by default.
const DEFAULT_MAX_RECEIVES: u32 = 5;

/// The matchmaking and rankings backend.
#[derive(Debug, Parser)]
#[command(name = "backend", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the tables, queues and bucket the backend needs (idempotent).
    Init(InitArgs),
    /// Consume match results: verify, apply to profiles exactly once, publish rankings.
    Consume(ConsumeArgs),
    /// Recreate every leaderboard from the profile store (after Redis lost data).
    RebuildRankings {
        #[command(flatten)]
        stores: StoreArgs,
    },
    /// Serve the HTTP API (matchmaking, parties, leaderboards, profiles) and the admin port.
    Serve(Box<ServeArgs>),
    /// Print an HS256 bearer token for a player, signed with the API's HMAC key.
    DevToken(DevTokenArgs),
    /// Sign a match-result JSON file with the active key and send it to the queue.
    SendResult {
        /// The `MatchResult` JSON file.
        #[arg(long)]
        file: PathBuf,
        #[command(flatten)]
        keys: KeyArgs,
        #[command(flatten)]
        stores: StoreArgs,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum QueueKind {
    /// The embedded queue under `--data-dir`.
    Embedded,
    /// Amazon SQS (`--queue-url`).
    Sqs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PlacerKind {
    /// Every match "placed" at once on `--dev-server` (no GameLift).
    Dev,
    /// CreateGameSession and CreatePlayerSessions on `--fleet-id` or `--alias-id`.
    Gamelift,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ProfilesKind {
    /// The embedded profile store under `--data-dir`.
    Embedded,
    /// Amazon DynamoDB (`--table-prefix`).
    Dynamodb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RankingsKind {
    /// The embedded rankings under `--data-dir`.
    Embedded,
    /// Redis (`--redis-url`).
    Redis,
}

// The names are the flag's values (`after-receive`, …), hence the common prefix.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PauseAt {
    /// After a message is received and decoded.
    AfterReceive,
    /// After the profile commit, before the rankings write.
    AfterCommit,
    /// After the rankings write, before the delete.
    AfterRankings,
}

impl PauseAt {
    fn step(self) -> Step {
        match self {
            PauseAt::AfterReceive => Step::AfterReceive,
            PauseAt::AfterCommit => Step::AfterCommit,
            PauseAt::AfterRankings => Step::AfterRankings,
        }
    }
}

/// Which stores to use, and where.
#[derive(Debug, Args)]
struct StoreArgs {
    /// Directory of the embedded stores (`queue/`, `profiles/`, `rankings/` inside).
    #[arg(long, env = "BACKEND_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// The result queue.
    #[arg(long, value_enum, default_value = "embedded")]
    queue: QueueKind,
    /// The SQS queue URL (with `--queue sqs`).
    #[arg(long, env = "RESULT_QUEUE_URL")]
    queue_url: Option<String>,
    /// The SQS dead-letter queue URL (with `--queue sqs`).
    #[arg(long, env = "RESULT_DLQ_URL")]
    dlq_url: Option<String>,
    /// The SQS queues are FIFO queues.
    #[arg(long)]
    fifo: bool,
    /// The S3 bucket of oversized results (read with `--queue sqs`; without it, pointer
    /// messages wait for the redrive policy).
    #[arg(long, env = "RESULTS_BUCKET")]
    results_bucket: Option<String>,
    /// Deliveries before the embedded queue dead-letters a message
    /// (`max_receives_exceeded`); SQS uses its redrive policy instead.
    #[arg(long, default_value_t = DEFAULT_MAX_RECEIVES)]
    max_receives: u32,
    /// The profile store.
    #[arg(long, value_enum, default_value = "embedded")]
    profiles: ProfilesKind,
    /// DynamoDB table name prefix (with `--profiles dynamodb`).
    #[arg(long, env = "TABLE_PREFIX")]
    table_prefix: Option<String>,
    /// The rankings store.
    #[arg(long, value_enum, default_value = "embedded")]
    rankings: RankingsKind,
    /// Redis URL (with `--rankings redis`), e.g. `redis://127.0.0.1:6379`.
    #[arg(long, env = "REDIS_URL")]
    redis_url: Option<String>,
    /// Prefix of the rankings' Redis keys.
    #[arg(long, default_value = DEFAULT_KEY_PREFIX)]
    redis_prefix: String,
    /// A result spool shared with local session servers (`session-server --queue
    /// spool`): its messages are moved into the result queue, and pointer messages are
    /// read from its `blobs/` folder.
    #[arg(long, env = "RESULT_SPOOL_DIR")]
    spool_dir: Option<PathBuf>,
}

/// Where the result keys come from: `id:hexsecret[,id:hexsecret…]`, the first active.
#[derive(Debug, Args)]
struct KeyArgs {
    /// The keyring itself.
    #[arg(long, env = "RESULT_KEYRING", hide_env_values = true)]
    keyring: Option<String>,
    /// A file holding the keyring (preferred over `--keyring`'s command line).
    #[arg(long, env = "RESULT_KEYRING_FILE", conflicts_with = "keyring")]
    keyring_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct InitArgs {
    /// Prefix of every table and queue name (say `prod-`).
    #[arg(long, env = "TABLE_PREFIX", default_value = "")]
    prefix: String,
    /// The S3 bucket for oversized results (globally unique).
    #[arg(long, env = "RESULTS_BUCKET")]
    bucket: String,
    /// FIFO queues instead of standard ones.
    #[arg(long)]
    fifo: bool,
    /// Receives of one message before SQS moves it to the DLQ.
    #[arg(long, default_value_t = provision::DEFAULT_MAX_RECEIVE_COUNT)]
    max_receive_count: u32,
}

#[derive(Debug, Args)]
struct ConsumeArgs {
    #[command(flatten)]
    stores: StoreArgs,
    #[command(flatten)]
    keys: KeyArgs,
    /// Concurrent workers.
    #[arg(long, default_value_t = consumer::DEFAULT_WORKERS as u16, value_parser = clap::value_parser!(u16).range(1..=256))]
    workers: u16,
    /// Long-poll wait per receive, in seconds (at most 20).
    #[arg(long, default_value_t = MAX_WAIT.as_secs(), value_parser = clap::value_parser!(u64).range(0..=20))]
    wait_secs: u64,
    /// Visibility timeout of a received batch, in seconds (renewed while processing).
    #[arg(long, default_value_t = consumer::DEFAULT_VISIBILITY.as_secs(), value_parser = clap::value_parser!(u64).range(1..=43_200))]
    visibility_secs: u64,
    /// The season results count for (adds the season boards).
    #[arg(long, env = "SEASON")]
    season: Option<String>,
    /// Exit once the queue is empty (drain, then stop) instead of waiting for more.
    #[arg(long)]
    stop_when_empty: bool,
    /// Test-only fault hook: print `paused at <step> match=<id>` and block forever there.
    #[arg(long, value_enum, hide = true)]
    pause_at: Option<PauseAt>,
}

/// Where bearer tokens' keys come from.
#[derive(Debug, Args)]
struct JwtArgs {
    /// The HMAC key (HS256) tokens are signed with, as text (at least 32 bytes).
    #[arg(long, env = "JWT_HMAC_KEY", hide_env_values = true)]
    jwt_hmac_key: Option<String>,
    /// A file holding the HMAC key (preferred over `--jwt-hmac-key`'s command line).
    #[arg(long, env = "JWT_HMAC_KEY_FILE", conflicts_with = "jwt_hmac_key")]
    jwt_hmac_key_file: Option<PathBuf>,
    /// Issuer (`iss`) tokens must carry, when set.
    #[arg(long, env = "JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// Audience (`aud`) tokens must carry, when set.
    #[arg(long, env = "JWT_AUDIENCE")]
    jwt_audience: Option<String>,
}

impl JwtArgs {
    fn hmac_key(&self) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(match (&self.jwt_hmac_key, &self.jwt_hmac_key_file) {
            (_, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading --jwt-hmac-key-file {}", path.display()))?
                    .trim()
                    .as_bytes()
                    .to_vec(),
            ),
            (Some(key), None) => Some(key.as_bytes().to_vec()),
            (None, None) => None,
        })
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address of the API.
    #[arg(long, env = "LISTEN", default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Address of the admin port (`/metrics`, `/healthz`, `/readyz`).
    #[arg(long, env = "ADMIN_LISTEN", default_value = "127.0.0.1:9090")]
    admin_listen: std::net::SocketAddr,
    #[command(flatten)]
    jwt: JwtArgs,
    /// Verify RS256 tokens against this JWKS (a Cognito user pool's
    /// `https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json`)
    /// instead of an HMAC key.
    #[arg(long, env = "JWKS_URL", conflicts_with_all = ["jwt_hmac_key", "jwt_hmac_key_file"])]
    jwks_url: Option<String>,
    /// The web page's origin, allowed by CORS (`https://example.com`).
    #[arg(long, env = "CORS_ORIGIN")]
    cors_origin: Option<String>,
    /// The matchmaking configuration (TOML); the built-in modes without it.
    #[arg(long, env = "MATCHMAKING_CONFIG")]
    matchmaking_config: Option<PathBuf>,
    /// Requests a player may make at once.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    rate_burst: u32,
    /// Requests a player may make per second, sustained.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    rate_per_second: u32,
    /// Interval of the matchmaking pass, in milliseconds.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..=10_000))]
    tick_ms: u64,
    /// How matches are placed.
    #[arg(long, value_enum, default_value = "dev")]
    placer: PlacerKind,
    /// The game server address the dev placer hands out.
    #[arg(long, default_value = "127.0.0.1:7777")]
    dev_server: std::net::SocketAddr,
    /// The GameLift fleet to place on (with `--placer gamelift`).
    #[arg(long, env = "GAMELIFT_FLEET_ID", conflicts_with = "alias_id")]
    fleet_id: Option<String>,
    /// The GameLift alias to place on (with `--placer gamelift`).
    #[arg(long, env = "GAMELIFT_ALIAS_ID")]
    alias_id: Option<String>,
    /// The secret the session servers derive their TLS certificates from (their
    /// `--tls-secret`); players get each game session's derived fingerprint to pin
    /// (with `--placer gamelift`).
    #[arg(long, env = "GLS_TLS_SECRET", hide_env_values = true)]
    tls_secret: Option<String>,
    /// Instead of `--tls-secret`: SHA-256 (64 hex digits) of the one certificate every
    /// game server of the fleet presents.
    #[arg(long, env = "FLEET_CERTIFICATE_SHA256", conflicts_with = "tls_secret")]
    fleet_certificate_sha256: Option<protocol::http::CertificateFingerprint>,
    /// Also consume match results in this process, sharing its stores (the embedded
    /// stores take one process); with `--spool-dir`, from local session servers. Needs
    /// the result keys (`--keyring`).
    #[arg(long)]
    consume: bool,
    /// The season results count for (with `--consume`).
    #[arg(long, env = "SEASON")]
    season: Option<String>,
    #[command(flatten)]
    keys: KeyArgs,
    #[command(flatten)]
    stores: StoreArgs,
}

#[derive(Debug, Args)]
struct DevTokenArgs {
    /// The player id (the token's `sub`).
    #[arg(long)]
    player: String,
    /// Validity, in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl_secs: u64,
    /// Mint tokens for `<player>-000` … `<player>-<count - 1>` instead, one
    /// `player_id token` line each (what the `players` bots read).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    count: Option<u32>,
    #[command(flatten)]
    jwt: JwtArgs,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colours only on a terminal: logs piped to files (GameLift uploads them) stay plain.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async {
        match cli.command {
            Command::Init(args) => init(args).await,
            Command::Serve(args) => serve(*args).await,
            Command::DevToken(args) => dev_token(&args),
            Command::Consume(args) => consume(args).await,
            Command::RebuildRankings { stores } => rebuild(&stores).await,
            Command::SendResult { file, keys, stores } => send_result(&file, &keys, &stores).await,
        }
    })
}

fn keyring(keys: &KeyArgs) -> anyhow::Result<Keyring> {
    let spec = match (&keys.keyring, &keys.keyring_file) {
        (_, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("reading --keyring-file {}", path.display()))?,
        (Some(spec), None) => spec.clone(),
        (None, None) => bail!("no keys: pass --keyring-file or --keyring (RESULT_KEYRING)"),
    };
    Keyring::parse(spec.trim()).context("parsing the keyring")
}

async fn sdk_config() -> anyhow::Result<aws_config::SdkConfig> {
    backend::aws::load_sdk_config()
        .await
        .context("loading the AWS configuration")
}

async fn init(args: InitArgs) -> anyhow::Result<()> {
    let config = ProvisionConfig {
        fifo: args.fifo,
        max_receive_count: args.max_receive_count,
        ..ProvisionConfig::new(&args.prefix, &args.bucket)
    };
    let sdk = sdk_config().await?;
    let made = provision::init(&sdk, &config)
        .await
        .context("creating the backend's AWS resources")?;
    println!("table-prefix={}", args.prefix);
    for table in made.tables.all() {
        println!("table={table}");
    }
    println!("queue-url={}", made.queue.queue_url);
    println!("dlq-url={}", made.queue.dlq_url);
    println!("dlq-arn={}", made.dlq_arn);
    println!("bucket={}", made.bucket);
    Ok(())
}

async fn open_queue(stores: &StoreArgs) -> anyhow::Result<Arc<dyn ResultQueue>> {
    match stores.queue {
        QueueKind::Embedded => {
            let dir = stores.data_dir.join("queue");
            let queue = EmbeddedQueue::open(&dir, stores.max_receives)
                .with_context(|| format!("opening the embedded queue in {}", dir.display()))?;
            Ok(Arc::new(queue))
        }
        QueueKind::Sqs => {
            let (Some(queue_url), Some(dlq_url)) = (&stores.queue_url, &stores.dlq_url) else {
                bail!("--queue sqs needs --queue-url and --dlq-url");
            };
            let sdk = sdk_config().await?;
            Ok(Arc::new(SqsQueue::new(
                aws_sdk_sqs::Client::new(&sdk),
                SqsQueueConfig {
                    queue_url: queue_url.clone(),
                    dlq_url: dlq_url.clone(),
                    fifo: stores.fifo,
                },
            )))
        }
    }
}

async fn open_profiles(stores: &StoreArgs) -> anyhow::Result<Arc<dyn ProfileStore>> {
    match stores.profiles {
        ProfilesKind::Embedded => {
            let dir = stores.data_dir.join("profiles");
            let profiles = EmbeddedProfiles::open(&dir)
                .with_context(|| format!("opening the embedded profiles in {}", dir.display()))?;
            Ok(Arc::new(profiles))
        }
        ProfilesKind::Dynamodb => {
            let Some(prefix) = &stores.table_prefix else {
                bail!("--profiles dynamodb needs --table-prefix (TABLE_PREFIX)");
            };
            let sdk = sdk_config().await?;
            Ok(Arc::new(DynamoProfiles::new(
                aws_sdk_dynamodb::Client::new(&sdk),
                DynamoTables::with_prefix(prefix),
            )))
        }
    }
}

/// Where pointer messages' results are read: the results bucket with SQS, else
/// `--data-dir`/`blobs` (what a local reporter writes in place of S3).
async fn open_blobs(stores: &StoreArgs) -> anyhow::Result<Option<Arc<dyn ResultBlobs>>> {
    match (&stores.results_bucket, stores.queue) {
        (Some(bucket), _) => {
            let sdk = sdk_config().await?;
            Ok(Some(Arc::new(S3Blobs::new(
                backend::aws::s3_client(&sdk),
                bucket.clone(),
            ))))
        }
        (None, QueueKind::Embedded) => {
            let root = match &stores.spool_dir {
                Some(spool) => spool.join(protocol::result::spool::BLOBS_DIR),
                None => stores.data_dir.join("blobs"),
            };
            Ok(Some(Arc::new(DirBlobs::new(root))))
        }
        (None, QueueKind::Sqs) => Ok(None),
    }
}

async fn open_rankings(stores: &StoreArgs) -> anyhow::Result<Arc<dyn Rankings>> {
    match stores.rankings {
        RankingsKind::Embedded => {
            let dir = stores.data_dir.join("rankings");
            let rankings = EmbeddedRankings::open(&dir)
                .with_context(|| format!("opening the embedded rankings in {}", dir.display()))?;
            Ok(Arc::new(rankings))
        }
        RankingsKind::Redis => {
            let Some(url) = &stores.redis_url else {
                bail!("--rankings redis needs --redis-url (REDIS_URL)");
            };
            if stores.redis_prefix.is_empty() || stores.redis_prefix.contains(['{', '}']) {
                bail!("--redis-prefix must be non-empty and free of braces");
            }
            let client = redis::Client::open(url.as_str())
                .with_context(|| format!("--redis-url {url:?} is not a Redis URL"))?;
            let conn = client
                .get_connection_manager()
                .await
                .with_context(|| format!("connecting to Redis at {url}"))?;
            Ok(Arc::new(RedisRankings::new(
                conn,
                stores.redis_prefix.clone(),
            )))
        }
    }
}

/// The `--pause-at` hook: announce the pause on stdout, then never return.
fn pause_hook(at: Step) -> StepHook {
    Arc::new(move |step, match_id| {
        if step != at {
            return Box::pin(async {});
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "paused at {} match={match_id}", step.name());
        let _ = out.flush();
        Box::pin(std::future::pending())
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!("shutting down (finishing work in hand)");
}

async fn consume(args: ConsumeArgs) -> anyhow::Result<()> {
    // Everything is parsed and opened before the first receive.
    let keyring = keyring(&args.keys)?;
    let queue = open_queue(&args.stores).await?;
    let profiles = open_profiles(&args.stores).await?;
    let rankings = open_rankings(&args.stores).await?;
    let blobs = open_blobs(&args.stores).await?;
    let pipeline = Arc::new(Pipeline {
        keyring,
        profiles,
        rankings,
        blobs,
        season: args.season,
        hook: args.pause_at.map(|at| pause_hook(at.step())),
    });
    let config = ConsumerConfig {
        workers: usize::from(args.workers),
        batch: MAX_BATCH,
        wait: Duration::from_secs(args.wait_secs),
        visibility: Duration::from_secs(args.visibility_secs),
        stop_when_empty: args.stop_when_empty,
    };
    let counters = Arc::new(Counters::default());
    if let Some(dir) = &args.stores.spool_dir {
        // One pass before the first receive: what waits in the spool is queued first.
        let pass = spool::ingest_once(dir, &*queue)
            .await
            .with_context(|| format!("ingesting the spool {}", dir.display()))?;
        tracing::info!(?pass, "spool ingested at start");
    }
    let (stop_spool, stopped) = tokio::sync::watch::channel(false);
    let spool = args
        .stores
        .spool_dir
        .clone()
        .map(|dir| tokio::spawn(spool::run(dir, Arc::clone(&queue), stopped)));
    let result = consumer::run(
        queue,
        pipeline,
        config,
        Arc::clone(&counters),
        shutdown_signal(),
    )
    .await;
    let _ = stop_spool.send(true);
    if let Some(spool) = spool {
        let _ = spool.await;
    }
    result.context("consumer loop")?;
    let snapshot = serde_json::to_string(&counters.snapshot()).context("counters")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "stopped {snapshot}")?;
    out.flush()?;
    Ok(())
}

async fn rebuild(stores: &StoreArgs) -> anyhow::Result<()> {
    let profiles = open_profiles(stores).await?;
    let rankings = open_rankings(stores).await?;
    let report = consumer::rebuild_rankings(&*profiles, &*rankings, consumer::REBUILD_PAGE)
        .await
        .context("rebuilding the rankings")?;
    println!(
        "rebuilt boards={} entries={} profiles={}",
        report.boards, report.entries, report.profiles
    );
    Ok(())
}

async fn send_result(file: &Path, keys: &KeyArgs, stores: &StoreArgs) -> anyhow::Result<()> {
    let keyring = keyring(keys)?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let result: MatchResult = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a MatchResult", file.display()))?;
    let signed = keyring
        .sign(result)
        .with_context(|| format!("{} breaks a result rule", file.display()))?;
    let queue = open_queue(stores).await?;
    let id = queue
        .send(&ResultMessage::Inline(signed).to_json())
        .await
        .context("sending the result")?;
    println!("sent id={}", id.0);
    Ok(())
}

fn dev_token(args: &DevTokenArgs) -> anyhow::Result<()> {
    protocol::http::validate_player_id(&args.player).context("--player")?;
    let Some(key) = args.jwt.hmac_key()? else {
        bail!("no key: pass --jwt-hmac-key-file or --jwt-hmac-key (JWT_HMAC_KEY)");
    };
    if key.len() < backend::http::auth::MIN_HMAC_KEY_BYTES {
        bail!(
            "the HMAC key must be at least {} bytes",
            backend::http::auth::MIN_HMAC_KEY_BYTES
        );
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    let mint = |player: &str| {
        backend::http::auth::mint_dev_token(
            &key,
            player,
            now,
            Duration::from_secs(args.ttl_secs),
            args.jwt.jwt_issuer.as_deref(),
            args.jwt.jwt_audience.as_deref(),
        )
        .map_err(|e| anyhow::anyhow!(e))
    };
    match args.count {
        None => println!("{}", mint(&args.player)?),
        Some(count) => {
            let mut out = std::io::stdout().lock();
            for i in 0..count {
                let player = format!("{}-{i:03}", args.player);
                protocol::http::validate_player_id(&player).context("--player with --count")?;
                writeln!(out, "{player} {}", mint(&player)?)?;
            }
        }
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    use backend::http::{self, ApiConfig, ApiMetrics, AppState, Authenticator, Clock};
    use backend::matchmaking::Matchmaker;
    use backend::placement::DevPlacer;

    // Everything is parsed and opened before a port is bound.
    let issuer = args.jwt.jwt_issuer.as_deref();
    let audience = args.jwt.jwt_audience.as_deref();
    let auth = match (&args.jwks_url, args.jwt.hmac_key()?) {
        (Some(url), _) => {
            let source = http::auth::HttpJwks::new(url)
                .map_err(|e| anyhow::anyhow!(e))
                .context("--jwks-url")?;
            Authenticator::jwks(Arc::new(source), issuer, audience)
        }
        (None, Some(key)) => Authenticator::hmac(&key, issuer, audience)
            .map_err(|e| anyhow::anyhow!(e))
            .context("--jwt-hmac-key")?,
        (None, None) => bail!("no token keys: pass --jwks-url or --jwt-hmac-key(-file)"),
    };
    let mm_config = match &args.matchmaking_config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading --matchmaking-config {}", path.display()))?;
            http::modes::parse_config(&text)
                .map_err(|e| anyhow::anyhow!(e))
                .with_context(|| format!("--matchmaking-config {}", path.display()))?
        }
        None => http::modes::default_config(),
    };
    let cors_origin = match &args.cors_origin {
        Some(origin) => Some(
            origin
                .parse::<axum::http::HeaderValue>()
                .with_context(|| format!("--cors-origin {origin:?}"))?,
        ),
        None => None,
    };
    let modes = mm_config.modes.iter().map(|m| m.name.clone()).collect();
    let matchmaker = Matchmaker::new(mm_config).context("the matchmaking configuration")?;
    let profiles = open_profiles(&args.stores).await?;
    let rankings = open_rankings(&args.stores).await?;
    let placer: Arc<dyn backend::placement::Placer> = match args.placer {
        PlacerKind::Dev => Arc::new(DevPlacer {
            ip_address: args.dev_server.ip(),
            port: args.dev_server.port(),
            ..DevPlacer::default()
        }),
        PlacerKind::Gamelift => {
            use backend::placement::{Certificates, GameLiftPlacer, Target};
            let target = match (&args.fleet_id, &args.alias_id) {
                (Some(fleet), _) => Target::Fleet(fleet.clone()),
                (None, Some(alias)) => Target::Alias(alias.clone()),
                (None, None) => bail!("--placer gamelift needs --fleet-id or --alias-id"),
            };
            let certificates = match (&args.tls_secret, args.fleet_certificate_sha256) {
                (Some(secret), _) if !secret.is_empty() => {
                    Certificates::Derived(secret.as_bytes().to_vec())
                }
                (_, Some(fingerprint)) => Certificates::Fixed(fingerprint),
                _ => bail!("--placer gamelift needs --tls-secret or --fleet-certificate-sha256"),
            };
            let sdk = sdk_config().await?;
            Arc::new(GameLiftPlacer::new(
                aws_sdk_gamelift::Client::new(&sdk),
                target,
                certificates,
            ))
        }
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding --listen {}", args.listen))?;
    let admin_listener = tokio::net::TcpListener::bind(args.admin_listen)
        .await
        .with_context(|| format!("binding --admin-listen {}", args.admin_listen))?;

    let clock = Clock::system();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    // The consumer, in this process when asked: it shares the stores the API reads.
    let mut consumer_tasks = tokio::task::JoinSet::new();
    let metrics = if args.consume {
        let counters = Arc::new(Counters::default());
        let queue = open_queue(&args.stores).await?;
        if let Some(dir) = &args.stores.spool_dir {
            let pass = spool::ingest_once(dir, &*queue)
                .await
                .with_context(|| format!("ingesting the spool {}", dir.display()))?;
            tracing::info!(?pass, "spool ingested at start");
            consumer_tasks.spawn(spool::run(dir.clone(), Arc::clone(&queue), stop_rx.clone()));
        }
        let pipeline = Arc::new(Pipeline {
            keyring: keyring(&args.keys)?,
            profiles: Arc::clone(&profiles),
            rankings: Arc::clone(&rankings),
            blobs: open_blobs(&args.stores).await?,
            season: args.season.clone(),
            hook: None,
        });
        let loop_counters = Arc::clone(&counters);
        let until = stopped(stop_rx.clone());
        consumer_tasks.spawn(async move {
            if let Err(error) = consumer::run(
                queue,
                pipeline,
                ConsumerConfig::default(),
                loop_counters,
                until,
            )
            .await
            {
                tracing::error!(%error, "the result consumer stopped");
            }
        });
        ApiMetrics::with_consumer(counters)
    } else {
        ApiMetrics::new()
    };
    let (handle, driver) = http::spawn_matchmaker(
        matchmaker,
        placer,
        Arc::clone(&profiles),
        clock,
        http::DriverConfig {
            tick: Duration::from_millis(args.tick_ms),
            ..http::DriverConfig::default()
        },
        metrics.clone(),
        stopped(stop_rx.clone()),
    );
    let state = AppState {
        auth: Arc::new(auth),
        matchmaker: handle.clone(),
        profiles,
        rankings,
        parties: Arc::default(),
        rate_limiter: Arc::new(std::sync::Mutex::new(http::RateLimiter::new(
            http::RateLimit {
                burst: args.rate_burst,
                per_second: args.rate_per_second,
            },
        ))),
        modes: Arc::new(modes),
        clock,
        metrics: metrics.clone(),
    };
    let api = http::app(
        state,
        &ApiConfig {
            cors_origin,
            body_limit: 0,
        },
    );
    let admin = http::admin_router(metrics, handle);
    let api_addr = listener.local_addr()?;
    let admin_addr = admin_listener.local_addr()?;
    tracing::info!(%api_addr, %admin_addr, "serving");
    println!("listening api={api_addr} admin={admin_addr}");
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    };
    http::serve(listener, api, admin_listener, admin, shutdown)
        .await
        .context("serving HTTP")?;
    let _ = driver.await;
    // The consumer finishes the batches in hand; the spool stops between passes.
    while consumer_tasks.join_next().await.is_some() {}
    Ok(())
}
