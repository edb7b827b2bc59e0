//! The `fleet` command: GameLift fleet tooling: `fleet local`, `package`, `upload`,
//! `create-fleet`, `update-fleet` and `status` (see the library's `tools` module).

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
    /// Package a built server binary as a GameLift build zip; prints its SHA-256.
    Package(fleet::tools::package::PackageArgs),
    /// Create a build and upload a build zip to it, then wait until it is READY.
    Upload(fleet::tools::upload::UploadArgs),
    /// Create a fleet from a TOML description (prints the plan first).
    CreateFleet(fleet::tools::fleet_config::FleetConfigArgs),
    /// Bring a fleet's runtime configuration in line with a TOML description.
    UpdateFleet(fleet::tools::fleet_config::UpdateFleetArgs),
    /// Show a fleet, its capacity and its game sessions.
    Status(fleet::tools::status::StatusArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colours only on a terminal: logs piped to files (GameLift uploads them) stay plain.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Local(args) => fleet::local::cli::run(*args).await,
        Command::Package(args) => fleet::tools::package::run(&args),
        Command::Upload(args) => fleet::tools::upload::run(&args).await,
        Command::CreateFleet(args) => fleet::tools::fleet_config::create(&args).await,
        Command::UpdateFleet(args) => fleet::tools::fleet_config::update(&args).await,
        Command::Status(args) => fleet::tools::status::run(&args).await,
    }
}
