//! The `fleet` command: GameLift fleet tooling. Today: `fleet local`.

use clap::{Parser, Subcommand};

/// GameLift fleet tooling.
#[derive(Debug, Parser)]
#[command(name = "fleet", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a GameLift-compatible fleet on this machine.
    Local(Box<fleet::local::cli::LocalArgs>),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Local(args) => fleet::local::cli::run(*args).await,
    }
}
