//! The process launcher of `fleet local`: what the GameLift Agent does on a compute.
//!
//! Given a [`RuntimeConfiguration`] (a JSON file, or `--launch-path`, `--parameters` and
//! `--processes`; see [`LauncherArgs`]) and the SDK connection facts ([`SdkEnvironment`]),
//! the [`Launcher`] keeps `ConcurrentExecutions` processes of each entry running:
//!
//! - each launch gets the inherited environment plus exactly the five variables of
//!   gamelift-sdk5.md §2.5: `GAMELIFT_SDK_WEBSOCKET_URL`, `GAMELIFT_SDK_AUTH_TOKEN`,
//!   `GAMELIFT_SDK_FLEET_ID`, `GAMELIFT_SDK_HOST_ID` (the compute name) and
//!   `GAMELIFT_SDK_PROCESS_ID`, a new UUID v4 per launch;
//! - stdout and stderr are appended to `<logs-dir>/<process-id>.log`, kept after exit;
//!   stdin is `/dev/null`; the working directory is the launch path's directory;
//! - a process that exits, with any status, is replaced by a new one with a new process
//!   id, as GameLift does, with a backoff when a slot keeps exiting early ([`policy`]);
//! - lifecycle is reported as [`LauncherEvent`]s, so the fleet core can mark a process that
//!   exited without `ProcessEnding` as crashed, and [`Launcher::snapshot`] lists what runs;
//! - [`Launcher::terminate`] ends one process (SIGTERM, then SIGKILL), as GameLift's
//!   FORCE_TERMINATE does; [`Launcher::shutdown`] stops relaunching, waits a grace period
//!   for processes to exit by themselves, then escalates SIGTERM → SIGKILL.
//!
//! **What it is not.** It does not speak the SDK WebSocket: telling a process to terminate
//! (`TerminateProcess`) and noticing `ProcessEnding` are the fleet core's, which calls
//! `shutdown` *after* pushing `TerminateProcess`. It does not police health or the
//! 5-minute ProcessReady deadline (the core decides and calls `terminate`), does not limit
//! concurrent game-session activations (it only carries those settings in [`LaunchPlan`]),
//! and does not copy logs anywhere. Unix only: it uses process groups and `/bin/kill`.
//!
//! **Structure.** [`policy`] (relaunch backoff) and `supervisor` (slots, termination
//! escalation, shutdown deadline) are sans-IO and driven with `now`; `shell` and
//! `process` are the thin tokio layer that owns the children.

mod args;
mod config;
mod params;
pub mod policy;
mod process;
mod shell;
mod supervisor;

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::{Duration, SystemTime};

use uuid::Uuid;

pub use args::{
    DEFAULT_LOGS_SUBDIR, DEFAULT_PROCESSES, DEFAULT_SIGTERM_TIMEOUT_SECS,
    DEFAULT_TERMINATION_GRACE_SECS, LauncherArgs,
};
pub use config::{
    ACTIVATION_TIMEOUT_RANGE_SECS, ConfigError, DEFAULT_ACTIVATION_TIMEOUT, LaunchEntry,
    LaunchPlan, MAX_SERVER_PROCESSES, MAX_STRING_LEN, RuntimeConfiguration, ServerProcess,
};
pub use params::{SplitError, split_parameters};
pub use policy::BackoffPolicy;
pub use process::{
    ENV_AUTH_TOKEN, ENV_FLEET_ID, ENV_HOST_ID, ENV_PROCESS_ID, ENV_WEBSOCKET_URL, LauncherOptions,
    SdkEnvironment, log_path,
};
pub use shell::{Launcher, StartError, TerminateError};

/// Something that happened to a server process.
#[derive(Debug)]
pub enum LauncherEvent {
    /// A process was started.
    Launched {
        /// Its `GAMELIFT_SDK_PROCESS_ID`, which it will connect with.
        process_id: Uuid,
        /// Its operating-system pid (also its process-group id).
        pid: u32,
        /// The executable.
        launch_path: PathBuf,
    },
    /// A process exited (by itself, or after a signal). Its slot is refilled unless the
    /// launcher is shutting down.
    Exited {
        /// Its `GAMELIFT_SDK_PROCESS_ID`.
        process_id: Uuid,
        /// Its operating-system pid.
        pid: u32,
        /// How it ended; `None` if the status could not be read (waiting failed).
        status: Option<ExitStatus>,
        /// How long it ran.
        uptime: Duration,
    },
    /// A process could not be started at all (the executable vanished, say). Retried
    /// with the crash-loop backoff.
    LaunchFailed {
        /// The executable.
        launch_path: PathBuf,
        /// Why spawning failed.
        error: std::io::Error,
    },
}

/// A running server process, as listed by [`Launcher::snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Its `GAMELIFT_SDK_PROCESS_ID`.
    pub process_id: Uuid,
    /// Its operating-system pid.
    pub pid: u32,
    /// The executable.
    pub launch_path: PathBuf,
    /// Where its stdout and stderr go.
    pub log_path: PathBuf,
    /// When it was launched.
    pub started_at: SystemTime,
    /// Whether it is being terminated (by `terminate` or after the shutdown grace).
    pub terminating: bool,
}
