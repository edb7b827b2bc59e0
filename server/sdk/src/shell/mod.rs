//! The tokio shell: [`GameLiftServer`], a cloneable handle whose async methods are the
//! SDK's API, backed by one driver task that owns the [sans-IO core](crate::core) and
//! one task per WebSocket connection.

mod api;
mod driver;
mod handler;
mod transport;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::config::{SdkConfig, ServerParameters};
use crate::core::{Core, Jitter, ProcessState, Timing};
use crate::error::SdkError;
use driver::{Command, Snapshot};

pub use handler::ProcessHandler;
pub use transport::default_tls_config;

/// How the shell connects. [`ConnectOptions::default`] is what production wants.
#[derive(Debug)]
pub struct ConnectOptions {
    /// Deadlines, health schedule and backoff ([`Timing::default`] = the official SDKs').
    pub timing: Timing,
    /// Source of the health-check jitter ([`Jitter::random`] by default).
    pub jitter: Jitter,
    /// Limit for one connection attempt: TCP, TLS and upgrade (20 s, as in C++).
    pub connect_timeout: Duration,
    /// TLS client configuration for `wss://`; `None` = rustls on ring with the native
    /// root certificates ([`default_tls_config`]). Tests can trust their own CA here.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for ConnectOptions {
    fn default() -> ConnectOptions {
        ConnectOptions {
            timing: Timing::default(),
            jitter: Jitter::random(),
            connect_timeout: Duration::from_secs(20),
            tls: None,
        }
    }
}

/// A connected GameLift Server SDK: cheap to clone, every clone drives the same
/// connection. Created by [`init_sdk`](Self::init_sdk) (or its variants).
#[derive(Debug, Clone)]
pub struct GameLiftServer {
    commands: mpsc::UnboundedSender<Command>,
    health: mpsc::UnboundedSender<(u64, bool)>,
    shared: Arc<Mutex<Snapshot>>,
}

impl GameLiftServer {
    /// `InitSDK(params)`: merges `params` with the environment (§2.5, environment wins),
    /// validates, connects (retrying 4, 8, 16, 32… s, 8 attempts in all) and returns once
    /// the WebSocket is open.
    pub async fn init_sdk(params: ServerParameters) -> Result<GameLiftServer, SdkError> {
        let config = params.resolve()?;
        GameLiftServer::init_with(config, ConnectOptions::default()).await
    }

    /// `InitSDK()` with no parameters: everything from `GAMELIFT_SDK_*` (managed EC2,
    /// containers, and processes launched by the GameLift Agent or `fleet local`).
    pub async fn init_sdk_from_environment() -> Result<GameLiftServer, SdkError> {
        GameLiftServer::init_sdk(ServerParameters::default()).await
    }

    /// Connects with an already resolved configuration and explicit options.
    pub async fn init_with(
        config: SdkConfig,
        options: ConnectOptions,
    ) -> Result<GameLiftServer, SdkError> {
        let ConnectOptions {
            timing,
            jitter,
            connect_timeout,
            tls,
        } = options;
        let mut core = Core::new(config, timing, jitter);
        core.connect(tokio::time::Instant::now().into_std(), driver::unix_secs());
        let transport = driver::TransportOptions {
            tls,
            connect_timeout,
        };
        let shared = Arc::new(Mutex::new(Snapshot {
            state: ProcessState::NotInitialized,
            game_session_id: None,
            termination_time_ms: None,
        }));
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (health, health_rx) = mpsc::unbounded_channel();
        let (init, init_rx) = oneshot::channel();
        tokio::spawn(driver::run(
            core,
            transport,
            shared.clone(),
            command_rx,
            health_rx,
            init,
        ));
        init_rx.await.map_err(|_| SdkError::Destroyed)??;
        Ok(GameLiftServer {
            commands,
            health,
            shared,
        })
    }
}
