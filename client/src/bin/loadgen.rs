//! `loadgen`: runs N bots against one session server for a bounded time and reports
//! connects, RTT percentiles, snapshot rate and loss, and bytes per client per second,
//! as a table on stdout followed by one JSON line. Not a matchmaking load test: the
//! player sessions must exist already.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use client::cli::{ServerArgs, SessionEntry, read_sessions_file};
use client::{ClientOptions, bot, connect};
use hdrhistogram::Histogram;
use protocol::http::ConnectionInfo;

/// Most bots one run may start.
const MAX_BOTS: usize = 2_000;
/// Longest run.
const MAX_DURATION_SECS: u64 = 3_600;

/// Runs bots against a session server and reports transport figures.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
    /// Player session ids, comma separated.
    #[arg(long, value_delimiter = ',', required_unless_present = "sessions_file")]
    sessions: Vec<String>,
    /// JSON array of player session ids or of full connection infos.
    #[arg(long)]
    sessions_file: Option<std::path::PathBuf>,
    /// Run at most this many bots (the first N sessions).
    #[arg(long)]
    count: Option<usize>,
    /// Stop every bot after this many seconds (bots also stop when their match ends).
    #[arg(long, default_value_t = 30)]
    duration_secs: u64,
    /// Inputs per second per bot.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=240))]
    input_hz: u32,
    /// Give up on a connect (handshake plus Welcome) after this many seconds.
    #[arg(long, default_value_t = 10)]
    connect_timeout_secs: u64,
    /// Spread the connects over this many milliseconds.
    #[arg(long, default_value_t = 0)]
    ramp_ms: u64,
}

/// What one bot measured.
struct BotReport {
    connected: bool,
    error: Option<String>,
    rtt_us: Vec<u64>,
    seconds: f64,
    snapshots: u64,
    gap_ticks: u64,
    bytes_in: u64,
    bytes_out: u64,
    close: String,
}

async fn run_bot(
    info: ConnectionInfo,
    opts: ClientOptions,
    delay: Duration,
    args: &Args,
) -> BotReport {
    let failed = |e: String| BotReport {
        connected: false,
        error: Some(e),
        rtt_us: Vec::new(),
        seconds: 0.0,
        snapshots: 0,
        gap_ticks: 0,
        bytes_in: 0,
        bytes_out: 0,
        close: String::new(),
    };
    // Ramp-up pacing, not synchronisation.
    tokio::time::sleep(delay).await;
    let session = match connect(&info, &opts).await {
        Ok(s) => s,
        Err(e) => return failed(e.to_string()),
    };
    let started = Instant::now();
    let conn = session.connection().clone();
    let limit = Duration::from_secs(args.duration_secs).saturating_sub(delay);
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        let mut every = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                _ = every.tick() => {
                    let rtt = conn.rtt().as_micros();
                    samples.push(u64::try_from(rtt).unwrap_or(u64::MAX));
                }
                _ = conn.closed() => break samples,
            }
        }
    });
    let interval = Duration::from_secs(1) / args.input_hz;
    let outcome = bot::play(session, interval, limit).await;
    let seconds = started.elapsed().as_secs_f64();
    let rtt_us = sampler.await.unwrap_or_default();
    BotReport {
        connected: true,
        error: None,
        rtt_us,
        seconds,
        snapshots: outcome.stats.snapshots.applied,
        gap_ticks: outcome.stats.snapshots.gap_ticks,
        bytes_in: outcome.stats.quic.udp_rx.bytes,
        bytes_out: outcome.stats.quic.udp_tx.bytes,
        close: format!("{:?}", outcome.close),
    }
}

fn percentiles(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99), v.iter().sum::<f64>() / v.len() as f64)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        // Colours only on a terminal: logs piped to files (GameLift uploads them) stay plain.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    anyhow::ensure!(
        args.duration_secs > 0 && args.duration_secs <= MAX_DURATION_SECS,
        "--duration-secs must be 1..={MAX_DURATION_SECS}"
    );
    let mut entries: Vec<SessionEntry> = args
        .sessions
        .iter()
        .cloned()
        .map(SessionEntry::Id)
        .collect();
    if let Some(path) = &args.sessions_file {
        entries.extend(
            read_sessions_file(path).with_context(|| format!("reading {}", path.display()))?,
        );
    }
    let count = args.count.unwrap_or(entries.len()).min(entries.len());
    anyhow::ensure!(count > 0, "no player sessions given");
    anyhow::ensure!(count <= MAX_BOTS, "at most {MAX_BOTS} bots per run");
    entries.truncate(count);
    let mut infos = Vec::with_capacity(count);
    for e in entries {
        infos.push(match e {
            SessionEntry::Id(id) => args.server.connection_info(&id).await?,
            SessionEntry::Info(info) => info,
        });
    }

    let args = std::sync::Arc::new(args);
    let wall = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for (i, info) in infos.into_iter().enumerate() {
        let opts = ClientOptions {
            name: format!("load{i}"),
            connect_timeout: Duration::from_secs(args.connect_timeout_secs.max(1)),
            ..ClientOptions::default()
        };
        let delay = Duration::from_millis(args.ramp_ms * i as u64 / count as u64);
        let args = args.clone();
        tasks.push(tokio::spawn(async move {
            run_bot(info, opts, delay, &args).await
        }));
    }
    // Bounded: every bot leaves by the deadline; this guards against a stuck task.
    let hard_stop = Duration::from_secs(
        args.duration_secs + args.connect_timeout_secs + args.ramp_ms / 1000 + 10,
    );
    let mut reports = Vec::with_capacity(count);
    for t in tasks {
        match tokio::time::timeout(hard_stop.saturating_sub(wall.elapsed()), t).await {
            Ok(Ok(r)) => reports.push(r),
            Ok(Err(e)) => anyhow::bail!("a bot task failed: {e}"),
            Err(_) => anyhow::bail!("bots still running {hard_stop:?} after the start"),
        }
    }

    let ok: Vec<&BotReport> = reports.iter().filter(|r| r.connected).collect();
    let failed = reports.len() - ok.len();
    let mut rtt = Histogram::<u64>::new(3).context("histogram")?;
    for r in &ok {
        for &us in &r.rtt_us {
            rtt.record(us.max(1)).context("recording an RTT")?;
        }
    }
    let per_sec = |f: fn(&BotReport) -> u64| {
        percentiles(
            ok.iter()
                .filter(|r| r.seconds > 0.0)
                .map(|r| f(r) as f64 / r.seconds),
        )
    };
    let snaps = per_sec(|r| r.snapshots);
    let bin = per_sec(|r| r.bytes_in);
    let bout = per_sec(|r| r.bytes_out);
    let (applied, gaps) = ok
        .iter()
        .fold((0u64, 0u64), |(a, g), r| (a + r.snapshots, g + r.gap_ticks));
    let loss = if applied + gaps == 0 {
        0.0
    } else {
        gaps as f64 / (applied + gaps) as f64
    };
    let ms = |us: u64| us as f64 / 1000.0;
    let (p50, p99) = if rtt.is_empty() {
        (0.0, 0.0)
    } else {
        (
            ms(rtt.value_at_quantile(0.5)),
            ms(rtt.value_at_quantile(0.99)),
        )
    };

    println!("bots                 {count}");
    println!("connects ok/failed   {}/{failed}", ok.len());
    println!("wall time            {:.1} s", wall.elapsed().as_secs_f64());
    println!(
        "rtt p50 / p99        {p50:.2} / {p99:.2} ms ({} samples)",
        rtt.len()
    );
    println!(
        "snapshots/s/client   p50 {:.1}  p99 {:.1}  mean {:.1}",
        snaps.0, snaps.1, snaps.2
    );
    println!(
        "snapshot loss        {:.3}% ({gaps} tick gaps / {applied} applied)",
        loss * 100.0
    );
    println!(
        "bytes in/s/client    p50 {:.0}  p99 {:.0}  mean {:.0}",
        bin.0, bin.1, bin.2
    );
    println!(
        "bytes out/s/client   p50 {:.0}  p99 {:.0}  mean {:.0}",
        bout.0, bout.1, bout.2
    );
    let mut errors: Vec<&str> = reports.iter().filter_map(|r| r.error.as_deref()).collect();
    errors.sort_unstable();
    errors.dedup();
    for e in &errors {
        println!("connect error        {e}");
    }
    let mut closes: Vec<&str> = ok.iter().map(|r| r.close.as_str()).collect();
    closes.sort_unstable();
    closes.dedup();
    let json = serde_json::json!({
        "bots": count,
        "connects_ok": ok.len(),
        "connects_failed": failed,
        "rtt_ms": {"p50": p50, "p99": p99, "samples": rtt.len()},
        "snapshots_per_s_per_client": {"p50": snaps.0, "p99": snaps.1, "mean": snaps.2},
        "snapshot_loss": loss,
        "snapshot_gap_ticks": gaps,
        "snapshots_applied": applied,
        "bytes_in_per_s_per_client": {"p50": bin.0, "p99": bin.1, "mean": bin.2},
        "bytes_out_per_s_per_client": {"p50": bout.0, "p99": bout.1, "mean": bout.2},
        "connect_errors": errors,
        "close_reasons": closes,
        "wall_s": wall.elapsed().as_secs_f64(),
    });
    println!("{json}");
    Ok(())
}
