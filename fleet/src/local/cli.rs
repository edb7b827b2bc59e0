//! `fleet local`'s command line and its run loop: typed flags parsed before anything
//! binds, the two listeners, the launcher, the startup lines, and a clean shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use super::api;
use super::control_plane::builds::BuildStore;
use super::engine::FleetConfig;
use super::launcher::{Launcher, LauncherArgs, LauncherEvent, SdkEnvironment};
use super::runtime::{FleetHandle, Killer};
use super::sdk_ws;

/// Run a GameLift-compatible fleet on this machine: server processes connect to its SDK5
/// WebSocket, backends call its GameLift API (Smithy RPC v2 CBOR and AWS JSON 1.1).
#[derive(Debug, clap::Args)]
pub struct LocalArgs {
    /// Address of the SDK5 WebSocket that server processes connect to (port 0 picks one).
    #[arg(long, env = "FLEET_LOCAL_SDK_LISTEN", default_value = "127.0.0.1:5757")]
    pub sdk_listen: SocketAddr,
    /// Address of the GameLift control-plane API (set `AWS_ENDPOINT_URL_GAMELIFT` to it).
    #[arg(long, env = "FLEET_LOCAL_API_LISTEN", default_value = "127.0.0.1:5758")]
    pub api_listen: SocketAddr,
    /// Fleet id the fleet answers to.
    #[arg(long, env = "FLEET_LOCAL_FLEET_ID", default_value = "fleet-local")]
    pub fleet_id: String,
    /// AWS region the fleet claims to be in (its home location).
    #[arg(long, env = "FLEET_LOCAL_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Compute name given to processes as GAMELIFT_SDK_HOST_ID.
    #[arg(
        long,
        env = "FLEET_LOCAL_COMPUTE_NAME",
        default_value = "local-compute"
    )]
    pub compute_name: String,
    /// IP address players are told to connect to.
    #[arg(long, env = "FLEET_LOCAL_IP_ADDRESS", default_value = "127.0.0.1")]
    pub ip_address: String,
    /// DNS name players are told to connect to.
    #[arg(long, env = "FLEET_LOCAL_DNS_NAME", default_value = "localhost")]
    pub dns_name: String,
    /// Auth token processes must present (GAMELIFT_SDK_AUTH_TOKEN); random when unset.
    #[arg(long, env = "FLEET_LOCAL_AUTH_TOKEN")]
    pub auth_token: Option<String>,
    /// Folder for the fleet's files (process logs go to DATA_DIR/logs).
    #[arg(long, env = "FLEET_LOCAL_DATA_DIR", default_value = ".local/fleet")]
    pub data_dir: PathBuf,
    /// Seconds without a healthy report before a process is taken out of placement and
    /// terminated (GameLift: 180).
    #[arg(long, env = "FLEET_LOCAL_HEALTH_TIMEOUT", default_value_t = 180)]
    pub health_timeout: u64,
    /// Seconds a reserved player session waits to be accepted before TIMEDOUT (GameLift: 60).
    #[arg(long, env = "FLEET_LOCAL_RESERVATION_TIMEOUT", default_value_t = 60)]
    pub reservation_timeout: u64,
    /// Seconds a process may take to exit after ProcessEnding before it is killed (30).
    #[arg(long, env = "FLEET_LOCAL_EXIT_TIMEOUT", default_value_t = 30)]
    pub exit_timeout: u64,
    /// Seconds a process may take to call ProcessEnding after a TerminateProcess push
    /// (when unhealthy or on TerminateGameSession) before it is killed (GameLift: 300).
    #[arg(long, env = "FLEET_LOCAL_TERMINATE_TIMEOUT", default_value_t = 300)]
    pub terminate_timeout: u64,
    /// Seconds a game-session placement may stay PENDING (a queue's TimeoutInSeconds).
    #[arg(long, env = "FLEET_LOCAL_PLACEMENT_TIMEOUT", default_value_t = 600)]
    pub placement_timeout: u64,
    /// S3 bucket CreateBuild puts build zips in (created if absent). S3 is reached through
    /// the AWS configuration of this process (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`
    /// for a local S3 such as moto).
    #[arg(
        long,
        env = "FLEET_LOCAL_BUILD_BUCKET",
        default_value = "fleet-local-builds"
    )]
    pub build_bucket: String,
    /// The runtime configuration: what to launch.
    #[command(flatten)]
    pub launcher: LauncherArgs,
}

impl LocalArgs {
    fn fleet_config(&self, activation: Duration, max_activations: Option<u32>) -> FleetConfig {
        let ms = |s: u64| i64::try_from(s.saturating_mul(1000)).unwrap_or(i64::MAX);
        let mut cfg = FleetConfig::local(&self.fleet_id);
        cfg.region.clone_from(&self.region);
        cfg.compute_name.clone_from(&self.compute_name);
        cfg.ip_address.clone_from(&self.ip_address);
        cfg.dns_name.clone_from(&self.dns_name);
        cfg.health_timeout_ms = ms(self.health_timeout);
        cfg.reservation_timeout_ms = ms(self.reservation_timeout);
        cfg.exit_timeout_ms = ms(self.exit_timeout);
        cfg.terminate_grace_ms = ms(self.terminate_timeout);
        cfg.placement_timeout_ms = ms(self.placement_timeout);
        cfg.activation_timeout_ms = i64::try_from(activation.as_millis()).unwrap_or(i64::MAX);
        if let Some(n) = max_activations {
            cfg.max_concurrent_activations = n;
        }
        cfg
    }
}

struct LauncherKiller(Arc<Launcher>);

impl Killer for LauncherKiller {
    fn kill(&self, process_id: &str) {
        let Ok(id) = process_id.parse() else {
            return; // not one of ours (started by hand): nothing to kill
        };
        let launcher = self.0.clone();
        tokio::spawn(async move {
            let _ = launcher.terminate(id).await;
        });
    }
}

/// Runs `fleet local` until SIGINT or SIGTERM, then shuts down: every process is told to
/// terminate, given the termination grace, then signalled.
pub async fn run(args: LocalArgs) -> anyhow::Result<()> {
    let plan = args
        .launcher
        .launch_plan()
        .context("invalid runtime configuration")?;
    let cfg = args.fleet_config(
        plan.game_session_activation_timeout,
        plan.max_concurrent_game_session_activations,
    );
    let token = args
        .auth_token
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let sdk_listener = TcpListener::bind(args.sdk_listen)
        .await
        .with_context(|| format!("--sdk-listen {}", args.sdk_listen))?;
    let api_listener = TcpListener::bind(args.api_listen)
        .await
        .with_context(|| format!("--api-listen {}", args.api_listen))?;
    let sdk_url = format!("ws://{}", sdk_listener.local_addr()?);
    let api_url = format!("http://{}", api_listener.local_addr()?);

    let fleet = FleetHandle::new(cfg.clone());
    let aws = crate::aws::sdk_config().await;
    fleet.set_build_store(BuildStore::from_config(&aws, &args.build_bucket));
    let runtime = api::RuntimeConfiguration {
        server_processes: plan
            .entries
            .iter()
            .map(|e| api::ServerProcess {
                launch_path: e.launch_path.display().to_string(),
                parameters: (!e.args.is_empty()).then(|| e.args.join(" ")),
                concurrent_executions: i32::try_from(e.concurrent_executions).unwrap_or(i32::MAX),
            })
            .collect(),
        max_concurrent_game_session_activations: plan
            .max_concurrent_game_session_activations
            .map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
        game_session_activation_timeout_seconds: i32::try_from(
            plan.game_session_activation_timeout.as_secs(),
        )
        .ok(),
    };
    fleet.with_catalog(|c| c.runtime.insert(cfg.fleet_id.clone(), runtime));
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };

    let driver = tokio::spawn({
        let fleet = fleet.clone();
        let stop = wait(shutdown_rx.clone());
        async move { fleet.run(stop).await }
    });
    let sdk_server = tokio::spawn(
        axum::serve(sdk_listener, sdk_ws::router(fleet.clone(), token.clone()))
            .with_graceful_shutdown(wait(shutdown_rx.clone()))
            .into_future(),
    );
    let api_server = tokio::spawn(
        axum::serve(api_listener, api::router(Arc::new(fleet.clone())))
            .with_graceful_shutdown(wait(shutdown_rx.clone()))
            .into_future(),
    );

    let (launcher, mut events) = Launcher::start(
        plan,
        SdkEnvironment {
            websocket_url: sdk_url.clone(),
            auth_token: token.clone(),
            fleet_id: cfg.fleet_id.clone(),
            host_id: cfg.compute_name.clone(),
        },
        args.launcher.options(&args.data_dir),
    )
    .context("starting the launcher")?;
    let launcher = Arc::new(launcher);
    fleet.set_killer(Arc::new(LauncherKiller(launcher.clone())));
    let exits = tokio::spawn({
        let fleet = fleet.clone();
        async move {
            while let Some(event) = events.recv().await {
                match event {
                    LauncherEvent::Exited {
                        process_id, status, ..
                    } => {
                        tracing::info!(%process_id, ?status, "server process exited");
                        let id = process_id.to_string();
                        fleet.with_engine(|e, now| e.process_exited(now, &id));
                    }
                    LauncherEvent::Launched {
                        process_id, pid, ..
                    } => {
                        tracing::info!(%process_id, pid, "server process launched");
                    }
                    LauncherEvent::LaunchFailed { launch_path, error } => {
                        tracing::error!(path = %launch_path.display(), %error, "launch failed");
                    }
                }
            }
        }
    });

    // Signal handlers go in before the endpoints are announced: whoever reads them may
    // send SIGTERM at once, and it must stop the fleet cleanly rather than kill it.
    let mut signals = ShutdownSignals::install()?;
    // The startup contract: one line per endpoint, on stdout, then logs on stderr.
    println!(
        "fleet-local sdk-websocket {sdk_url} auth-token={token} fleet-id={} host-id={}",
        cfg.fleet_id, cfg.compute_name
    );
    println!(
        "fleet-local api-endpoint {api_url} fleet-id={} region={}",
        cfg.fleet_id, cfg.region
    );

    signals.recv().await;
    tracing::info!("shutting down: telling server processes to terminate");
    fleet.with_engine(|e, now| e.terminate_all(now));
    tokio::select! {
        () = launcher.shutdown(args.launcher.termination_grace()) => {}
        () = signals.recv() => {
            tracing::warn!("second signal: skipping the grace period");
            launcher.shutdown(Duration::ZERO).await;
        }
    }
    let _ = shutdown_tx.send(true);
    let _ = driver.await;
    let _ = sdk_server.await;
    let _ = api_server.await;
    exits.abort();
    Ok(())
}

/// SIGINT (Ctrl-C) and SIGTERM, registered once up front: a signal that arrives before
/// anyone awaits it is kept, not fatal.
struct ShutdownSignals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
                term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => {}
                _ = self.term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
