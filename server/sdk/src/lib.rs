//! Amazon GameLift Server SDK 5 for Rust: the process side of the SDK 5 WebSocket
//! protocol, for any tokio game server that runs on a GameLift fleet (managed EC2,
//! containers, Anywhere) or on this stack's `fleet local`.
//!
//! The reference is `shared/docs/gamelift-sdk5.md` (§ numbers below point into it); the
//! frames themselves are [`protocol::sdk5`], re-exported as [`sdk5`].
//!
//! **What it is:** `InitSDK` (configuration from parameters and the environment, the
//! connection URL with token or SigV4 auth, TLS), `ProcessReady` with callbacks, the
//! health loop, every request of the official SDKs with their client-side checks,
//! request correlation and deadlines, reconnects, and `RefreshConnection`.
//!
//! **What it is not:** no telemetry (StatsD/crash-reporter side channel), no
//! `ListContainersNetworkInfo`, and no fetching of ECS task credentials for container
//! fleets without an auth token (pass keys or a token instead). It never exits the
//! process for you: if you do not act on `on_process_terminate`, nothing ends.
//!
//! # Example: a minimal game server
//!
//! ```no_run
//! use gamelift_server_sdk::sdk5::GameSession;
//! use gamelift_server_sdk::{GameLiftServer, ProcessHandler, ProcessParameters};
//! use tokio::sync::mpsc;
//!
//! struct Game {
//!     server: GameLiftServer,
//!     terminate: mpsc::UnboundedSender<()>,
//! }
//!
//! impl ProcessHandler for Game {
//!     async fn on_start_game_session(&self, session: GameSession) {
//!         // Load the map for `session`, open the port, then:
//!         let _ = self.server.activate_game_session().await;
//!     }
//!
//!     async fn on_process_terminate(&self, _termination_time_ms: i64) {
//!         let _ = self.terminate.send(());
//!     }
//!
//!     async fn on_health_check(&self) -> bool {
//!         true
//!     }
//! }
//!
//! # async fn run() -> Result<(), gamelift_server_sdk::SdkError> {
//! let server = GameLiftServer::init_sdk_from_environment().await?;
//! let (terminate, mut terminated) = mpsc::unbounded_channel();
//! let game = Game { server: server.clone(), terminate };
//! let params = ProcessParameters { port: 7777, log_paths: vec!["/local/game/logs".into()] };
//! server.process_ready(params, game).await?;
//!
//! // Players: server.accept_player_session(id).await? when one connects,
//! // server.remove_player_session(id).await? when they leave.
//!
//! terminated.recv().await;
//! server.process_ending().await?;
//! server.destroy().await?;
//! std::process::exit(0);
//! # }
//! ```
//!
//! A complete program is `examples/minimal_server.rs`.
//!
//! # Callbacks: a handler trait
//!
//! [`GameLiftServer::process_ready`] takes a [`ProcessHandler`]: one value with async
//! methods for start-game-session, update-game-session, process-terminate and
//! health-check, where the last two have defaults. A trait keeps the four hooks together
//! with the game state they need (usually a clone of the [`GameLiftServer`] and a channel
//! into the game loop), needs no boxing at the call site, and makes the health check's
//! answer a return value instead of a reply channel the game could forget. Each callback
//! runs in its own tokio task, so a long `on_start_game_session` never delays a health
//! report; a health answer slower than 50 s counts as unhealthy.
//!
//! # Configuration and the environment
//!
//! [`ServerParameters`] fields are overridden by their variable whenever the variable is
//! set and non-empty (§2.5; Go's rule, which for the region and keys is also C++'s).
//! `init_sdk_from_environment` uses the variables alone.
//!
//! | variable | parameter | on the wire |
//! |---|---|---|
//! | `GAMELIFT_SDK_WEBSOCKET_URL` | `web_socket_url` | base URL |
//! | `GAMELIFT_SDK_PROCESS_ID` | `process_id` (`ManagedResource` ⇒ random UUID) | `pID` |
//! | `GAMELIFT_SDK_HOST_ID` | `host_id` | `ComputeId` |
//! | `GAMELIFT_SDK_FLEET_ID` | `fleet_id` | `FleetId` |
//! | `GAMELIFT_SDK_AUTH_TOKEN` | `auth_token` (wins over SigV4) | `Authorization` |
//! | `GAMELIFT_REGION` | `aws_region` | SigV4 scope |
//! | `GAMELIFT_ACCESS_KEY`, `GAMELIFT_SECRET_KEY` | `access_key`, `secret_key` | SigV4 signature |
//! | `GAMELIFT_SESSION_TOKEN` | `session_token` | `X-Amz-Security-Token` |
//! | `GAMELIFT_SDK_TOOL_NAME`, `GAMELIFT_SDK_TOOL_VERSION` | — | `ActivateServerProcess.SdkToolName/SdkToolVersion` |
//!
//! The query also carries `sdkVersion` ([`url::SDK_VERSION`]), `sdkLanguage=Rust` and a
//! fresh UUID `IdempotencyToken` per `init_sdk` (reused by automatic reconnects).
//!
//! # Connection behaviour
//!
//! * Requests wait 20 s for their response (6 s for `ActivateServerProcess`); two timeouts
//!   in a row replace the connection; any inbound frame resets that count.
//! * A close with 1000 or 1001 is final; any other close or a dropped socket reconnects to
//!   the same URL at once, then after 4, 8, 16, 32, 32, 32, 32 s (1 + 7 attempts, as the
//!   C++ and C# SDKs), and in-flight requests go out again with the same `RequestId`.
//!   `init_sdk` uses the same schedule before giving up with
//!   [`SdkError::ConnectFailed`].
//! * `RefreshConnection` opens the new endpoint in token mode with a new
//!   `IdempotencyToken`, moves traffic once it is open, and closes the old connection
//!   (1000) 5 s later; if the new endpoint fails, the old connection stays.
//!
//! # Layout
//!
//! [`core`] is the whole protocol as a sans-IO state machine (no socket, no clock: driven
//! with `now` and polled for outputs, tested with virtual time); the private shell runs
//! it on tokio with tokio-tungstenite and rustls (ring, native roots). [`config`],
//! [`url`] and [`sigv4`] are pure functions.

pub mod config;
pub mod core;
pub mod error;
mod shell;
pub mod sigv4;
pub mod url;
mod validate;

pub use config::{Auth, AwsCredentials, ConfigError, SdkConfig, ServerParameters};
pub use core::{Jitter, ProcessParameters, ProcessState, Timing};
pub use error::SdkError;
/// The SDK 5 message types (requests, responses, pushes, game and player sessions).
pub use protocol::sdk5;
pub use shell::{ConnectOptions, GameLiftServer, ProcessHandler, default_tls_config};
