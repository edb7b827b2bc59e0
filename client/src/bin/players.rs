//! `players`: a crowd of bot players that go through matchmaking and play, again and
//! again: each takes a token from `--tokens`, asks the backend for a match over HTTP,
//! waits for its ticket to complete, connects to the game server it was given over QUIC
//! (pinning the certificate from the ticket), plays with the built-in bot policy, and
//! queues again. A summary line every few seconds shows what they and the backend see.
//!
//! For the one-command local run and for demos; `loadgen` is the tool that measures a
//! server. Stops on Ctrl-C or SIGTERM (bots in a match leave it), or after `--games`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use client::{ClientOptions, Matchmaking, MatchmakingError, bot, connect};
use protocol::http::{CreateTicketRequest, MatchmakingStats};
use rand::Rng;

#[derive(Debug, Parser)]
#[command(
    name = "players",
    about = "Bot players that queue through matchmaking and play"
)]
struct Args {
    /// The backend's API (`http://127.0.0.1:8080`).
    #[arg(long, env = "BACKEND_URL")]
    backend: String,
    /// A file of `player_id token` lines (`backend dev-token --count N` writes one); one
    /// bot per line.
    #[arg(long)]
    tokens: PathBuf,
    /// Modes to queue for, with weights: `duel=3,squads=1`.
    #[arg(long, default_value = "duel=3,squads=1")]
    modes: String,
    /// The region the bots are close to (the fleet's), and its latency range in ms.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Games per bot before it stops (0: until stopped).
    #[arg(long, default_value_t = 0)]
    games: u64,
    /// Seconds between summary lines (0: none).
    #[arg(long, default_value_t = 2)]
    summary_secs: u64,
    /// The backend's Prometheus endpoint (`http://127.0.0.1:9090/metrics`), for the
    /// game sessions it placed and the results it applied.
    #[arg(long)]
    backend_metrics: Option<String>,
    /// Server processes of the fleet, shown in the summary (the run command knows it).
    #[arg(long)]
    fleet_processes: Option<u32>,
}

/// The value of `name` in a Prometheus text exposition.
fn metric(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// What the backend reports: game sessions placed and results applied.
#[derive(Debug, Default, Clone, Copy)]
struct BackendCounts {
    placed: Option<u64>,
    applied: Option<u64>,
}

#[derive(Default)]
struct Counts {
    searching: AtomicU64,
    playing: AtomicU64,
    games: AtomicU64,
    no_match: AtomicU64,
    errors: AtomicU64,
}

fn parse_modes(spec: &str) -> anyhow::Result<Vec<(String, u32)>> {
    let mut modes = Vec::new();
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        let (name, weight) = part.split_once('=').unwrap_or((part, "1"));
        let weight: u32 = weight
            .parse()
            .with_context(|| format!("--modes: weight of {name} is not a number"))?;
        modes.push((name.to_owned(), weight.max(1)));
    }
    anyhow::ensure!(!modes.is_empty(), "--modes names no mode");
    Ok(modes)
}

fn pick_mode(modes: &[(String, u32)]) -> String {
    let total: u32 = modes.iter().map(|(_, w)| w).sum();
    let mut roll = rand::rng().random_range(0..total);
    for (name, weight) in modes {
        if roll < *weight {
            return name.clone();
        }
        roll -= weight;
    }
    modes[0].0.clone()
}

/// One bot's life: queue, play, repeat.
async fn run_bot(
    player: String,
    mm: Matchmaking,
    modes: Arc<Vec<(String, u32)>>,
    region: String,
    games: u64,
    counts: Arc<Counts>,
) {
    let mut played = 0;
    while games == 0 || played < games {
        let latency = rand::rng().random_range(15..60);
        let request = CreateTicketRequest {
            mode: pick_mode(&modes),
            party: Vec::new(),
            latencies_ms: BTreeMap::from([(region.clone(), latency)]),
            attributes: BTreeMap::new(),
        };
        counts.searching.fetch_add(1, Ordering::Relaxed);
        let connection = match mm.create_ticket(&request).await {
            Ok(ticket) => {
                mm.wait_for_match(&ticket.id, Duration::from_secs(300))
                    .await
            }
            Err(e) => Err(e),
        };
        counts.searching.fetch_sub(1, Ordering::Relaxed);
        let info = match connection {
            Ok(info) => info,
            Err(MatchmakingError::NoMatch { state, .. }) => {
                tracing::info!(%player, ?state, "no match this time");
                counts.no_match.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            Err(error) => {
                tracing::warn!(%player, %error, "matchmaking failed");
                counts.errors.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        let options = ClientOptions {
            name: player.chars().take(16).collect(),
            ..ClientOptions::default()
        };
        match connect(&info, &options).await {
            Ok(session) => {
                counts.playing.fetch_add(1, Ordering::Relaxed);
                let outcome =
                    bot::play(session, Duration::from_millis(33), Duration::from_secs(900)).await;
                counts.playing.fetch_sub(1, Ordering::Relaxed);
                counts.games.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%player, score = outcome.score, close = ?outcome.close, "game over");
                played += 1;
            }
            Err(error) => {
                tracing::warn!(%player, %error, "could not join the game server");
                counts.errors.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

fn summary(
    counts: &Counts,
    bots: usize,
    stats: Option<&MatchmakingStats>,
    backend: BackendCounts,
    processes: Option<u32>,
) -> String {
    let mut line = String::new();
    if let Some(n) = processes {
        line.push_str(&format!("fleet: {n} processes | "));
    }
    if let Some(n) = backend.placed {
        line.push_str(&format!("game sessions placed {n} | "));
    }
    line.push_str(&format!(
        "players {bots}: searching {} | in a match {} | games finished {} | no match {} | errors {}",
        counts.searching.load(Ordering::Relaxed),
        counts.playing.load(Ordering::Relaxed),
        counts.games.load(Ordering::Relaxed),
        counts.no_match.load(Ordering::Relaxed),
        counts.errors.load(Ordering::Relaxed),
    ));
    if let Some(applied) = backend.applied {
        line.push_str(&format!(" | results applied {applied}"));
    }
    if let Some(stats) = stats {
        for m in &stats.modes {
            line.push_str(&format!(
                " | {}: {} searching, median wait {}",
                m.mode,
                m.players_searching,
                m.median_wait_ms.map_or_else(
                    || "-".to_owned(),
                    |ms| format!("{:.1}s", ms as f64 / 1000.0)
                )
            ));
        }
    }
    line
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    let modes = Arc::new(parse_modes(&args.modes)?);
    let text = std::fs::read_to_string(&args.tokens)
        .with_context(|| format!("reading {}", args.tokens.display()))?;
    let mut bots = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (player, token) = line.split_once(' ').with_context(|| {
            format!(
                "{} line {}: not `player token`",
                args.tokens.display(),
                n + 1
            )
        })?;
        bots.push((
            player.to_owned(),
            Matchmaking::new(&args.backend, token.trim())?,
        ));
    }
    anyhow::ensure!(
        !bots.is_empty(),
        "{} holds no tokens",
        args.tokens.display()
    );
    let counts = Arc::new(Counts::default());
    let observer = bots[0].1.clone();
    let n = bots.len();
    let mut tasks = tokio::task::JoinSet::new();
    for (player, mm) in bots {
        tasks.spawn(run_bot(
            player,
            mm,
            Arc::clone(&modes),
            args.region.clone(),
            args.games,
            Arc::clone(&counts),
        ));
    }
    let mut every = tokio::time::interval(Duration::from_secs(args.summary_secs.max(1)));
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            _ = every.tick(), if args.summary_secs > 0 => {
                let stats = observer.stats().await.ok();
                let mut backend = BackendCounts::default();
                if let Some(url) = &args.backend_metrics
                    && let Ok(text) = observer.get_text(url).await
                {
                    backend.applied = metric(&text, "backend_results_applied_total");
                    backend.placed =
                        metric(&text, "backend_placements_total{outcome=\"succeeded\"}");
                }
                println!(
                    "{}",
                    summary(&counts, n, stats.as_ref(), backend, args.fleet_processes)
                );
            }
            done = tasks.join_next() => if done.is_none() { break },
            _ = tokio::signal::ctrl_c() => break,
            _ = sigterm.recv() => break,
        }
    }
    tasks.shutdown().await;
    println!(
        "{}",
        summary(
            &counts,
            n,
            None,
            BackendCounts::default(),
            args.fleet_processes
        )
    );
    Ok(())
}
