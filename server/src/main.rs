//! `session-server`: the process a GameLift fleet runs. One game session per process.
//!
//! **What it is.** The GameLift lifecycle around [`server::shell::Shell`]: `InitSDK`,
//! `ProcessReady` with the game port and log directory, `CreateGameSession` → a match
//! built from the game session's properties (`mode`, `teams`, `seed`, `max_players`,
//! `duration_ticks`, `min_players`) → `ActivateGameSession`, a health callback that
//! reports the tick loop's liveness, `AcceptPlayerSession`/`RemovePlayerSession` for
//! players, and at the end (time up, or `TerminateProcess`/SIGTERM cutting it short) the
//! signed result handed to the [`server::report::Reporter`], then `ProcessEnding` and
//! exit 0. Prometheus `/metrics` and `/healthz` on the admin port.
//!
//! **Results.** `--queue sqs --queue-url … [--results-bucket …]` sends through
//! [`server::report::AwsResultQueue`] (SQS, S3 for oversized results; FIFO when the URL
//! ends in `.fifo`); `--queue spool --spool-dir …` drops them into a directory a local
//! backend ingests ([`server::report::SpoolQueue`]); `--queue none` keeps them in the
//! outbox. Whatever a previous process
//! left in the outbox is re-sent at start-up, and before `ProcessEnding` the outbox is
//! drained within the termination window ([`server::report::drain_budget`]).
//!
//! **TLS**, chosen at `CreateGameSession`, first that applies: the fleet's certificate
//! (`GetComputeCertificate` names a path with PEM files); a certificate derived from
//! `--tls-secret` and the game session id ([`protocol::tls`]: the backend derives the
//! same fingerprint for the connection info); else a per-process self-signed one. The
//! SHA-256 fingerprint is printed and logged either way.
//!
//! **What it is not.** A host for several game sessions: GameLift relaunches the process
//! for the next one, as it recommends.

use std::collections::HashMap;
use std::net::{Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, ValueEnum};
use gamelift_server_sdk::sdk5::GameSession;
use gamelift_server_sdk::{GameLiftServer, ProcessHandler, ProcessParameters, SdkError};
use protocol::result::{Keyring, MatchResult, PlayerResult};
use protocol::sdk5::{DescribePlayerSessions, MatchmakerData, ServiceErrorKind};
use server::game::MatchConfig;
use server::metrics::{Liveness, Metrics, admin_router};
use server::net::{NetConfig, TlsIdentity};
use server::report::{
    AwsResultQueue, DeliveryPolicy, FailureKind, Outbox, OutgoingMessage, PlanConfig, QueueError,
    Reporter, ResultQueue, S3Upload, SpoolQueue, SystemClock, sha256_hex,
};
use server::session::{AcceptError, SessionConfig};
use server::shell::{
    DEFAULT_LINGER, DEFAULT_STREAM_BACKLOG, MatchOutcome, PlayerSessions, Shell, ShellConfig,
    TickMode,
};
use tokio::sync::mpsc;

/// Outbox slots under `--outbox-dir`: one per concurrent process on a host (GameLift
/// allows at most 50 per instance).
const OUTBOX_SLOTS: u32 = 64;

/// Where results go after the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum QueueKind {
    /// Outbox only: results wait on disk for a process configured with a queue.
    None,
    /// Amazon SQS (S3 for results over SQS's size limit).
    Sqs,
    /// A spool directory shared with a local backend (`backend consume --spool-dir`).
    Spool,
}

#[derive(Debug, Parser)]
#[command(
    name = "session-server",
    about = "GameLift session server (QUIC, one game session)"
)]
struct Cli {
    /// UDP port players connect to (reported in ProcessReady); 0 picks a free one, for
    /// several processes per host (`fleet local`).
    #[arg(long, env = "GLS_PORT", default_value_t = 7777)]
    port: u16,
    /// Match length in seconds when the game session does not set `duration_ticks`.
    #[arg(long, env = "GLS_MATCH_SECS", default_value_t = 180, value_parser = clap::value_parser!(u32).range(5..=7200))]
    match_secs: u32,
    /// Simulation and snapshot rate, Hz (a game property `tick_rate` overrides it).
    #[arg(long, env = "GLS_TICK_RATE", default_value_t = 30)]
    tick_rate: u16,
    /// The UDP socket's receive buffer in bytes (`SO_RCVBUF`; capped by the kernel's
    /// `net.core.rmem_max`); the OS default when unset. Raise it for hundreds of players
    /// per process.
    #[arg(long, env = "GLS_UDP_RECV_BUFFER", value_parser = clap::value_parser!(u64).range(65_536..=(1 << 30)))]
    udp_recv_buffer: Option<u64>,
    /// Admin HTTP port for /metrics and /healthz on loopback (0 = off).
    #[arg(long, env = "GLS_ADMIN_PORT", default_value_t = 0)]
    admin_port: u16,
    /// Directory of the durable result outbox: each process on the host takes a free
    /// `slot-<n>` in it (and with it whatever a dead process left there).
    #[arg(long, env = "GLS_OUTBOX_DIR", default_value = "outbox")]
    outbox_dir: PathBuf,
    /// Signing keys, `id:hexsecret[,…]` (first is active).
    #[arg(
        long,
        env = "GLS_RESULT_KEYS",
        hide_env_values = true,
        conflicts_with = "keyring_file"
    )]
    keyring: Option<String>,
    /// A file holding the signing keys in the same format.
    #[arg(long, env = "GLS_RESULT_KEYS_FILE")]
    keyring_file: Option<PathBuf>,
    /// Log directory GameLift uploads (reported in ProcessReady).
    #[arg(long, env = "GLS_LOG_DIR")]
    log_dir: Option<PathBuf>,
    /// Result queue after the outbox.
    #[arg(long, env = "GLS_QUEUE", value_enum, default_value_t = QueueKind::None)]
    queue: QueueKind,
    /// SQS queue URL for `--queue sqs` (FIFO when it ends in `.fifo`).
    #[arg(long, env = "GLS_QUEUE_URL", required_if_eq("queue", "sqs"))]
    queue_url: Option<String>,
    /// Spool directory for `--queue spool`.
    #[arg(long, env = "GLS_SPOOL_DIR", required_if_eq("queue", "spool"))]
    spool_dir: Option<PathBuf>,
    /// S3 bucket for results over SQS's size limit (`--queue sqs`; with `--queue spool`
    /// the folder under `<spool>/blobs`, default `results`).
    #[arg(long, env = "GLS_RESULTS_BUCKET", default_value = "")]
    results_bucket: String,
    /// Secret shared with the backend from which each game session's TLS certificate is
    /// derived (unless the fleet provides one); without it, a random self-signed one.
    #[arg(long, env = "GLS_TLS_SECRET", hide_env_values = true)]
    tls_secret: Option<String>,
}

/// `AcceptPlayerSession`/`RemovePlayerSession` over the SDK.
#[derive(Clone)]
struct SdkPlayerSessions(GameLiftServer);

impl PlayerSessions for SdkPlayerSessions {
    fn accept(&self, id: String) -> impl Future<Output = Result<(), AcceptError>> + Send {
        let server = self.0.clone();
        async move {
            server
                .accept_player_session(id)
                .await
                .map_err(|e| classify_accept(&e))
        }
    }

    fn remove(&self, id: String) -> impl Future<Output = ()> + Send {
        let server = self.0.clone();
        async move {
            if let Err(error) = server.remove_player_session(id.clone()).await {
                tracing::warn!(player_session_id = %id, %error, "RemovePlayerSession failed");
            }
        }
    }

    fn player_id(&self, id: String) -> impl Future<Output = Option<String>> + Send {
        let server = self.0.clone();
        async move {
            let request = DescribePlayerSessions {
                player_session_id: Some(id.clone()),
                ..DescribePlayerSessions::default()
            };
            match server.describe_player_sessions(request).await {
                Ok(page) => page.player_sessions.into_iter().next().map(|p| p.player_id),
                Err(error) => {
                    tracing::warn!(player_session_id = %id, %error,
                        "DescribePlayerSessions failed; the player joins the smallest team");
                    None
                }
            }
        }
    }
}

/// Team index by player id from the game session's matchmaker data (FlexMatch's format:
/// `teams[i].players[j].playerId`), and the number of teams; empty when there is none.
///
/// FlexMatch fills `MatchmakerData`; a matchmaker that places with CreateGameSession
/// (ours) cannot, and puts the same document in `GameSessionData` instead, which is read
/// when `MatchmakerData` is empty (and ignored if it is some other document).
fn matchmaker_teams(session: &GameSession) -> (HashMap<String, u8>, u8) {
    let data = match session.matchmaker_data() {
        Ok(Some(data)) => data,
        Ok(None) => match MatchmakerData::parse_optional(&session.game_session_data) {
            Ok(Some(data)) if !data.teams.is_empty() => data,
            _ => return (HashMap::new(), 0),
        },
        Err(error) => {
            tracing::warn!(%error, "matchmaker data ignored: not FlexMatch's format");
            return (HashMap::new(), 0);
        }
    };
    let mut teams = HashMap::new();
    let count = u8::try_from(data.teams.len()).unwrap_or(u8::MAX);
    for (index, team) in data.teams.iter().enumerate() {
        let Ok(index) = u8::try_from(index) else {
            break;
        };
        for player in &team.players {
            teams.insert(player.player_id.clone(), index);
        }
    }
    (teams, count)
}

fn classify_accept(error: &SdkError) -> AcceptError {
    match error {
        SdkError::InvalidArgument { .. } => AcceptError::Invalid,
        SdkError::Service(_) => match error.service_kind() {
            Some(ServiceErrorKind::BadRequest | ServiceErrorKind::NotFound) => AcceptError::Invalid,
            Some(ServiceErrorKind::Conflict) => AcceptError::Expired,
            _ => AcceptError::Unavailable,
        },
        _ => AcceptError::Unavailable,
    }
}

/// The SDK's callbacks, forwarded to main.
struct Hooks {
    sessions: mpsc::UnboundedSender<GameSession>,
    /// `TerminateProcess`, with GameLift's termination time (wall clock, if given).
    terminate: mpsc::UnboundedSender<Option<SystemTime>>,
    liveness: Arc<Liveness>,
}

impl ProcessHandler for Hooks {
    async fn on_start_game_session(&self, game_session: GameSession) {
        let _ = self.sessions.send(game_session);
    }

    async fn on_process_terminate(&self, termination_time_ms: i64) {
        tracing::warn!(termination_time_ms, "TerminateProcess");
        let at = u64::try_from(termination_time_ms)
            .ok()
            .filter(|ms| *ms > 0)
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
        let _ = self.terminate.send(at);
    }

    async fn on_health_check(&self) -> bool {
        self.liveness.is_healthy(Instant::now())
    }
}

/// Results wait in the outbox; nothing is sent (the `none` queue).
struct OutboxOnly;

impl ResultQueue for OutboxOnly {
    fn put_object(&mut self, _upload: &S3Upload) -> Result<(), QueueError> {
        Err(no_queue())
    }

    fn send(&mut self, _message: &OutgoingMessage) -> Result<(), QueueError> {
        Err(no_queue())
    }
}

fn no_queue() -> QueueError {
    QueueError {
        kind: FailureKind::Network,
        detail: "no result queue configured (outbox only)".to_owned(),
    }
}

/// The queue chosen at start-up, as one type for the [`Reporter`].
struct DynQueue(Box<dyn ResultQueue + Send>);

impl ResultQueue for DynQueue {
    fn put_object(&mut self, upload: &S3Upload) -> Result<(), QueueError> {
        self.0.put_object(upload)
    }

    fn send(&mut self, message: &OutgoingMessage) -> Result<(), QueueError> {
        self.0.send(message)
    }
}

/// The match from the game session's properties (unknown or bad values fall back to the
/// defaults, with a warning).
fn match_config(
    session: &GameSession,
    tick_rate: u16,
    match_secs: u32,
    matchmaker_team_count: u8,
) -> MatchConfig {
    let props = &session.game_properties;
    let seed = props
        .get("seed")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let mut params = MatchConfig::default_params(&session.game_session_id, seed);
    params.tick_rate_hz = prop(props, "tick_rate").unwrap_or(tick_rate);
    if let Some(mode) = props.get("mode") {
        params.mode = mode.clone();
    }
    // The game property wins; else as many teams as the matchmaker formed (a
    // free-for-all matchmaker forms one team per player: no teams in the game then).
    let from_matchmaker = match matchmaker_team_count {
        n if n > 1 && u32::from(n) < session.maximum_player_session_count => n,
        _ => params.teams,
    };
    params.teams = prop(props, "teams").unwrap_or(from_matchmaker);
    let max = session.maximum_player_session_count.clamp(1, 64) as u8;
    params.max_players = prop(props, "max_players").unwrap_or(max);
    let default_ticks = match_secs.saturating_mul(u32::from(params.tick_rate_hz));
    params.duration_ticks = prop(props, "duration_ticks").unwrap_or(default_ticks);
    params.score_limit = prop(props, "score_limit").unwrap_or(params.score_limit);
    let mut config = MatchConfig::new(params);
    if let Some(min) = prop(props, "min_players") {
        config.min_players = min;
    }
    config
}

fn prop<T: std::str::FromStr>(
    props: &std::collections::BTreeMap<String, String>,
    key: &str,
) -> Option<T> {
    let raw = props.get(key)?;
    let parsed = raw.parse().ok();
    if parsed.is_none() {
        tracing::warn!(key, raw, "game property ignored: not a valid value");
    }
    parsed
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// GameLift's player id of every player session of the game session: the ids a result
/// names players by (the name a client sends in `Hello` is only for display).
async fn player_ids(
    sdk: &GameLiftServer,
    game_session_id: &str,
) -> Result<HashMap<String, String>, SdkError> {
    let mut ids = HashMap::new();
    let mut next_token = None;
    loop {
        let page = sdk
            .describe_player_sessions(DescribePlayerSessions {
                game_session_id: Some(game_session_id.to_owned()),
                next_token: next_token.take(),
                limit: 50,
                ..DescribePlayerSessions::default()
            })
            .await?;
        for ps in page.player_sessions {
            ids.insert(ps.player_session_id, ps.player_id);
        }
        match page.next_token {
            Some(token) => next_token = Some(token),
            None => return Ok(ids),
        }
    }
}

/// Where the match ran: the game session's location (GameLift sets it; `fleet local`
/// too), else `AWS_REGION`, else `local` (a result must name a region).
fn match_region(session: &GameSession) -> String {
    [
        session.location.clone(),
        std::env::var("AWS_REGION").unwrap_or_default(),
    ]
    .into_iter()
    .find(|r| !r.is_empty() && r.len() <= 64)
    .unwrap_or_else(|| "local".to_owned())
}

fn build_result(
    outcome: &MatchOutcome,
    started_at_ms: u64,
    fleet_id: &str,
    region: &str,
    player_ids: &HashMap<String, String>,
) -> Option<MatchResult> {
    let results = outcome.results.as_ref()?;
    let players = results
        .players
        .iter()
        .map(|p| {
            let psess = outcome
                .seats
                .iter()
                .find(|s| s.player == p.player)
                .map(|s| s.player_session_id.clone())
                .unwrap_or_default();
            // A seat always has a player session GameLift knows; were the id missing, the
            // player session id keeps the result valid and the backend sets it aside
            // (it matches no placement) instead of it being lost here.
            let player_id = player_ids
                .get(&psess)
                .cloned()
                .unwrap_or_else(|| psess.clone());
            PlayerResult {
                player_id,
                player_session_id: psess,
                team: p.team.map(|t| t.to_string()),
                placement: u32::from(p.placement),
                score: i64::from(p.score),
                stats: Default::default(),
                left_early: p.left_early,
            }
        })
        .collect();
    Some(MatchResult {
        match_id: outcome.params.game_session_id.clone(),
        mode: outcome.params.mode.clone(),
        region: region.to_owned(),
        fleet_id: fleet_id.to_owned(),
        started_at_ms,
        ended_at_ms: unix_ms(),
        cut_short: results.cut_short,
        players,
    })
}

fn keyring(cli: &Cli) -> anyhow::Result<Keyring> {
    let spec = match (&cli.keyring, &cli.keyring_file) {
        (Some(spec), _) => spec.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)?,
        (None, None) => anyhow::bail!("no signing keys: set --keyring or --keyring-file"),
    };
    Ok(Keyring::parse(spec.trim())?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        // Colours only on a terminal: logs piped to files (GameLift uploads them) stay plain.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("session-server: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let keys = keyring(&cli)?;
    let (outbox, opened, slot) = Outbox::open_slot(&cli.outbox_dir, OUTBOX_SLOTS)?;
    tracing::info!(?opened, dir = %outbox.dir().display(), slot, "outbox open");
    // The AWS clients run on a runtime of their own: the reporter blocks on them from a
    // blocking thread, and the game's current-thread runtime must never wait on that.
    // Only the SQS queue needs it: no thread is started for the spool or the outbox alone.
    let aws_runtime = BackgroundRuntime(match cli.queue {
        QueueKind::Sqs => Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("aws")
                .enable_all()
                .build()?,
        ),
        QueueKind::None | QueueKind::Spool => None,
    });
    let (queue, fifo) = match cli.queue {
        QueueKind::None => (DynQueue(Box::new(OutboxOnly)), false),
        QueueKind::Sqs => {
            let url = cli.queue_url.clone().unwrap_or_default();
            let handle = aws_runtime.handle();
            let config = std::thread::scope(|s| {
                s.spawn(|| handle.block_on(server::report::load_sdk_config()))
                    .join()
                    .expect("AWS config thread")
            })?;
            let fifo = url.ends_with(".fifo");
            tracing::info!(queue_url = %url, fifo, bucket = %cli.results_bucket, "result queue: SQS");
            let queue = AwsResultQueue::from_config(handle, &config, url);
            (DynQueue(Box::new(queue)), fifo)
        }
        QueueKind::Spool => {
            let dir = cli.spool_dir.clone().unwrap_or_default();
            tracing::info!(dir = %dir.display(), "result queue: spool directory");
            (DynQueue(Box::new(SpoolQueue::new(dir))), false)
        }
    };
    let bucket = match (cli.queue, cli.results_bucket.is_empty()) {
        (QueueKind::Spool, true) => "results".to_owned(),
        _ => cli.results_bucket.clone(),
    };
    let plan = PlanConfig {
        bucket,
        fifo,
        sha256_hex,
    };
    let reporter = Arc::new(std::sync::Mutex::new(Reporter::new(
        outbox,
        plan,
        DeliveryPolicy::with_defaults(),
        queue,
    )));
    if opened.pending > 0 {
        // A previous process on this slot died with results undelivered: send them now,
        // in the background, while this one waits for its game session.
        let reporter = reporter.clone();
        tokio::task::spawn_blocking(move || {
            let pass = lock(&reporter).retry_pending(Instant::now());
            tracing::info!(?pass, "outbox left by a previous process");
        });
    }
    tracing::info!(port = cli.port, "session server starting");

    let metrics = Metrics::new();
    let tick_rate = cli.tick_rate.max(1);
    // A stalled loop: no tick for 30 ticks, at least one second.
    let max_gap = (Duration::from_secs(30) / u32::from(tick_rate)).max(Duration::from_secs(1));
    let liveness = Arc::new(Liveness::new(max_gap));
    if cli.admin_port != 0 {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", cli.admin_port)).await?;
        let router = admin_router(metrics.clone(), liveness.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "admin server failed");
            }
        });
    }

    let port = match cli.port {
        // Probe a free port now, because ProcessReady needs it before the endpoint is
        // bound (at CreateGameSession). Another process could take it in between; the
        // bind then fails loudly rather than serving on the wrong port.
        0 => server::net::bind_udp(SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)))?
            .local_addr()?
            .port(),
        port => port,
    };
    let sdk = GameLiftServer::init_sdk_from_environment().await?;
    let (session_tx, mut session_rx) = mpsc::unbounded_channel();
    let (terminate_tx, mut terminate_rx) = mpsc::unbounded_channel();
    let hooks = Hooks {
        sessions: session_tx,
        terminate: terminate_tx,
        liveness: liveness.clone(),
    };
    let log_paths = cli
        .log_dir
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    sdk.process_ready(ProcessParameters { port, log_paths }, hooks)
        .await?;
    tracing::info!(port, "ProcessReady");

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut termination_time = None;
    let game_session = tokio::select! {
        s = session_rx.recv() => s,
        at = terminate_rx.recv() => { termination_time = at.flatten(); None }
        _ = sigterm.recv() => None,
    };
    let Some(game_session) = game_session else {
        tracing::info!("terminated before a game session");
        drain(&reporter, termination_time).await?;
        return finish(&sdk).await;
    };
    let (identity, source) = tls_identity(&sdk, &cli, &game_session.game_session_id).await?;
    let (teams, team_count) = matchmaker_teams(&game_session);
    let fingerprint = identity.fingerprint();
    println!("session-server: certificate sha256 {fingerprint}");
    let config = ShellConfig {
        net: NetConfig {
            bind: SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)),
            udp_recv_buffer: cli.udp_recv_buffer.map(|b| b as usize),
            ..NetConfig::default()
        },
        session: SessionConfig::default(),
        game: match_config(&game_session, tick_rate, cli.match_secs, team_count),
        tick: TickMode::Realtime,
        linger: DEFAULT_LINGER,
        teams,
        stream_backlog: DEFAULT_STREAM_BACKLOG,
    };
    tracing::info!(
        game_session_id = %game_session.game_session_id,
        mode = %config.game.params.mode,
        teams = config.game.params.teams,
        seed = config.game.params.seed,
        %fingerprint,
        certificate = source,
        "CreateGameSession"
    );
    let (shell, handle) = Shell::bind(
        config,
        &identity,
        SdkPlayerSessions(sdk.clone()),
        metrics,
        liveness,
    )?;
    let started_at_ms = unix_ms();
    sdk.activate_game_session().await?;
    let mut shell_task = tokio::spawn(shell.run());
    let outcome = loop {
        tokio::select! {
            done = &mut shell_task => break done?,
            at = terminate_rx.recv() => {
                termination_time = at.flatten();
                handle.shutdown();
            }
            _ = sigterm.recv() => handle.shutdown(),
        }
    };
    // Whatever goes wrong with the result, the process still drains and ends properly:
    // GameLift must hear ProcessEnding.
    if let Err(error) = report(
        &sdk,
        &keys,
        &reporter,
        &outcome,
        &game_session,
        started_at_ms,
    )
    .await
    {
        tracing::error!(error = %format!("{error:#}"), "the match result was not stored");
    }
    if let Err(error) = drain(&reporter, termination_time).await {
        tracing::error!(error = %format!("{error:#}"), "draining the outbox failed");
    }
    finish(&sdk).await
}

/// Builds, signs and stores the match result (then sends it if the queue allows).
async fn report(
    sdk: &GameLiftServer,
    keys: &Keyring,
    reporter: &Arc<std::sync::Mutex<Reporter<DynQueue>>>,
    outcome: &MatchOutcome,
    game_session: &GameSession,
    started_at_ms: u64,
) -> anyhow::Result<()> {
    if outcome.results.is_none() {
        return Ok(());
    }
    let ids = player_ids(sdk, &game_session.game_session_id).await?;
    let region = match_region(game_session);
    let Some(result) = build_result(
        outcome,
        started_at_ms,
        &game_session.fleet_id,
        &region,
        &ids,
    ) else {
        return Ok(());
    };
    let signed = keys.sign(result)?;
    let reporter = reporter.clone();
    let delivery =
        tokio::task::spawn_blocking(move || lock(&reporter).report(&signed, Instant::now()))
            .await??;
    tracing::info!(?delivery, "match result handed to the reporter");
    Ok(())
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A runtime that shuts down without blocking when dropped (dropping a runtime inside
/// another one's async context would panic).
struct BackgroundRuntime(Option<tokio::runtime::Runtime>);

impl BackgroundRuntime {
    fn handle(&self) -> tokio::runtime::Handle {
        self.0
            .as_ref()
            .expect("runtime until drop")
            .handle()
            .clone()
    }
}

impl Drop for BackgroundRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Retries whatever waits in the outbox until it is empty or the termination window
/// (less a margin) runs out; what is left is re-sent by the next process on this host.
async fn drain(
    reporter: &Arc<std::sync::Mutex<Reporter<DynQueue>>>,
    termination_time: Option<SystemTime>,
) -> anyhow::Result<()> {
    let budget = server::report::drain_budget(termination_time, SystemTime::now());
    let reporter = reporter.clone();
    let pass = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + budget;
        lock(&reporter).drain(deadline, &mut SystemClock)
    })
    .await??;
    if pass.remaining == 0 {
        tracing::info!(?pass, "outbox drained");
    } else {
        tracing::warn!(
            ?pass,
            ?budget,
            "outbox not drained in time; the next process re-sends"
        );
    }
    Ok(())
}

/// The TLS identity for this game session: the fleet's certificate, else one derived
/// from the shared secret, else a per-process self-signed one.
async fn tls_identity(
    sdk: &GameLiftServer,
    cli: &Cli,
    game_session_id: &str,
) -> anyhow::Result<(TlsIdentity, &'static str)> {
    match sdk.get_compute_certificate().await {
        Ok(cert) if !cert.certificate_path.is_empty() => {
            let path = PathBuf::from(&cert.certificate_path);
            match TlsIdentity::from_pem_path(&path) {
                Ok(identity) => return Ok((identity, "fleet")),
                Err(error) => tracing::warn!(
                    path = %path.display(), %error,
                    "the fleet's certificate is unusable; falling back"
                ),
            }
        }
        Ok(_) => {}
        Err(error) => tracing::debug!(%error, "no fleet certificate"),
    }
    if let Some(secret) = &cli.tls_secret {
        return Ok((
            TlsIdentity::derived(secret.as_bytes(), game_session_id)?,
            "derived",
        ));
    }
    Ok((
        TlsIdentity::self_signed(&["localhost".to_owned()])?,
        "self-signed",
    ))
}

async fn finish(sdk: &GameLiftServer) -> anyhow::Result<()> {
    sdk.process_ending().await?;
    let _ = sdk.destroy().await;
    tracing::info!("ProcessEnding sent; exiting");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(matchmaker_data: &str, max: u32) -> GameSession {
        GameSession {
            game_session_id: "gsess-1".to_owned(),
            maximum_player_session_count: max,
            matchmaker_data: matchmaker_data.to_owned(),
            ..GameSession::default()
        }
    }

    /// FlexMatch's matchmaker data as GameLift sends it: teams in order, players by id.
    const TWO_TEAMS: &str = r#"{"matchId":"m-1","matchmakingConfigurationArn":"arn:x",
        "teams":[{"name":"red","players":[{"playerId":"alice","attributes":{}},
                                           {"playerId":"bob","attributes":{}}]},
                 {"name":"blue","players":[{"playerId":"carol","attributes":{}},
                                            {"playerId":"dave","attributes":{}}]}],
        "autoBackfillMode":"AUTOMATIC"}"#;

    #[test]
    fn flexmatch_teams_place_players_and_set_the_team_count() {
        let gs = session(TWO_TEAMS, 4);
        let (teams, count) = matchmaker_teams(&gs);
        assert_eq!(count, 2);
        assert_eq!(teams["alice"], 0);
        assert_eq!(teams["bob"], 0);
        assert_eq!(teams["carol"], 1);
        assert_eq!(teams["dave"], 1);
        assert_eq!(match_config(&gs, 30, 180, count).params.teams, 2);
    }

    #[test]
    fn a_teams_property_wins_and_ffa_matchmaking_means_no_teams() {
        let mut gs = session(TWO_TEAMS, 4);
        gs.game_properties
            .insert("teams".to_owned(), "0".to_owned());
        assert_eq!(match_config(&gs, 30, 180, 2).params.teams, 0);
        // One team holding everyone (a free-for-all rule set), or one team per player.
        assert_eq!(match_config(&session("", 4), 30, 180, 1).params.teams, 0);
        assert_eq!(match_config(&session("", 2), 30, 180, 2).params.teams, 0);
    }

    #[test]
    fn without_matchmaker_data_the_game_session_data_is_read() {
        let mut gs = session("", 4);
        gs.game_session_data = TWO_TEAMS.to_owned();
        let (teams, count) = matchmaker_teams(&gs);
        assert_eq!((teams["bob"], teams["dave"], count), (0, 1, 2));
        gs.game_session_data = "{\"map\":\"harbor\"}".to_owned();
        assert_eq!(matchmaker_teams(&gs).1, 0, "another document places nobody");
    }

    #[test]
    fn the_region_is_the_game_sessions_location() {
        let mut gs = session("", 2);
        gs.location = "eu-west-1".to_owned();
        assert_eq!(match_region(&gs), "eu-west-1");
        gs.location.clear();
        let region = match_region(&gs);
        assert!(!region.is_empty(), "a result always names a region");
    }

    #[test]
    fn bad_or_missing_matchmaker_data_places_nobody() {
        assert_eq!(matchmaker_teams(&session("", 4)).1, 0);
        let (teams, count) = matchmaker_teams(&session("{not json", 4));
        assert!(teams.is_empty());
        assert_eq!(count, 0);
    }
}
