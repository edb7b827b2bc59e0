//! `bot`: connects one bot to a session server and plays until the match ends, then
//! prints its final score. Not a load generator (see `loadgen`).

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use client::cli::ServerArgs;
use client::{ClientOptions, bot, connect};
use protocol::http::ConnectionInfo;

/// Plays one match with the built-in bot policy.
#[derive(Debug, Parser)]
struct Args {
    #[command(flatten)]
    server: Option<ServerArgs>,
    /// The GameLift player session id to join as (with --host/--port/--fingerprint).
    #[arg(long, required_unless_present = "connection")]
    player_session_id: Option<String>,
    /// A JSON file holding the connection info of a completed matchmaking ticket,
    /// instead of --host/--port/--fingerprint/--player-session-id.
    #[arg(long, conflicts_with_all = ["player_session_id", "host", "port", "fingerprint"])]
    connection: Option<std::path::PathBuf>,
    /// Display name.
    #[arg(long, default_value = "bot")]
    name: String,
    /// Inputs sent per second.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=240))]
    input_hz: u32,
    /// Leave after this many seconds even if the match has not ended.
    #[arg(long, default_value_t = 900)]
    max_secs: u64,
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
    let info: ConnectionInfo = match (&args.connection, &args.server, &args.player_session_id) {
        (Some(path), _, _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text).context("parsing the connection info")?
        }
        (None, Some(server), Some(id)) => server.connection_info(id).await?,
        _ => anyhow::bail!("give --connection, or --port, --fingerprint and --player-session-id"),
    };
    let opts = ClientOptions {
        name: args.name.clone(),
        ..ClientOptions::default()
    };
    let session = connect(&info, &opts).await.context("connecting")?;
    eprintln!(
        "connected as player {} to {} (mode {}, {} Hz)",
        session.player(),
        session.connection().remote_address(),
        session.welcome().params.mode,
        session.welcome().params.tick_rate_hz
    );
    let interval = Duration::from_secs(1) / args.input_hz;
    let outcome = bot::play(session, interval, Duration::from_secs(args.max_secs)).await;
    match &outcome.standings {
        Some(standings) => {
            let place = standings
                .iter()
                .find(|s| s.player == outcome.player)
                .map(|s| s.placement);
            println!(
                "player {} final score {} placement {} ({:?})",
                outcome.player,
                outcome.score,
                place.map_or_else(|| "?".to_owned(), |p| p.to_string()),
                outcome.close
            );
        }
        None => println!(
            "player {} score {} (no final standings; {:?})",
            outcome.player, outcome.score, outcome.close
        ),
    }
    Ok(())
}
