//! One server process: how it is spawned (environment, log file, working directory,
//! process group) and the task that owns its [`Child`], waits for it and signals it.
//!
//! **Signals.** The crate has no libc or nix and forbids `unsafe`, and tokio only offers
//! SIGKILL (`Child::start_kill`). SIGTERM is sent by running `/bin/kill -TERM -- -<pid>`
//! (procps or util-linux on Linux, also present on macOS); SIGKILL goes the same way, with
//! `start_kill` as the fallback if `/bin/kill` cannot be run. Each process is the leader of
//! its own process group, and signals go to the group: a launch path that is a wrapper
//! script takes its children with it, and a Ctrl-C in the terminal reaches only `fleet
//! local`, which then shuts its processes down in order instead of them all dying at once.
//!
//! **No pid reuse.** Only the task that owns the `Child` reaps it, and it signals only
//! after `try_wait` has said the child is still unreaped; until then its pid, which is also
//! its process-group id, cannot be given to another process.

use std::fs::OpenOptions;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::config::LaunchEntry;
use super::policy::BackoffPolicy;
use super::supervisor::Signal;

/// `GAMELIFT_SDK_WEBSOCKET_URL`: where the SDK connects.
pub const ENV_WEBSOCKET_URL: &str = "GAMELIFT_SDK_WEBSOCKET_URL";
/// `GAMELIFT_SDK_AUTH_TOKEN`: the token the SDK authenticates with.
pub const ENV_AUTH_TOKEN: &str = "GAMELIFT_SDK_AUTH_TOKEN";
/// `GAMELIFT_SDK_FLEET_ID`: the fleet the process belongs to.
pub const ENV_FLEET_ID: &str = "GAMELIFT_SDK_FLEET_ID";
/// `GAMELIFT_SDK_HOST_ID`: the compute name.
pub const ENV_HOST_ID: &str = "GAMELIFT_SDK_HOST_ID";
/// `GAMELIFT_SDK_PROCESS_ID`: a UUID generated for each launch.
pub const ENV_PROCESS_ID: &str = "GAMELIFT_SDK_PROCESS_ID";

/// The SDK connection facts every launched process is given, as the GameLift Agent does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkEnvironment {
    /// The SDK WebSocket URL of `fleet local`.
    pub websocket_url: String,
    /// The auth token processes connect with.
    pub auth_token: String,
    /// The fleet id.
    pub fleet_id: String,
    /// The compute name (`GAMELIFT_SDK_HOST_ID`).
    pub host_id: String,
}

impl SdkEnvironment {
    /// The five `GAMELIFT_SDK_*` variables for the process `process_id`, the only ones the
    /// launcher adds to the inherited environment (gamelift-sdk5.md §2.5).
    pub fn variables(&self, process_id: Uuid) -> [(&'static str, String); 5] {
        [
            (ENV_WEBSOCKET_URL, self.websocket_url.clone()),
            (ENV_AUTH_TOKEN, self.auth_token.clone()),
            (ENV_FLEET_ID, self.fleet_id.clone()),
            (ENV_HOST_ID, self.host_id.clone()),
            (ENV_PROCESS_ID, process_id.to_string()),
        ]
    }
}

/// How the launcher runs its processes, apart from what to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LauncherOptions {
    /// Where `<process-id>.log` files go; created if missing.
    pub logs_dir: PathBuf,
    /// How long a process gets between SIGTERM and SIGKILL.
    pub sigterm_timeout: Duration,
    /// When processes that exited are relaunched.
    pub backoff: BackoffPolicy,
}

/// The log file of process `process_id`: `<logs_dir>/<process_id>.log`.
pub fn log_path(logs_dir: &Path, process_id: Uuid) -> PathBuf {
    logs_dir.join(format!("{process_id}.log"))
}

/// Spawns `entry` as process `process_id`: inherited environment plus the five SDK
/// variables, stdout and stderr appended to its log file, stdin from /dev/null, working
/// directory the launch path's directory, in a new process group.
pub(crate) fn spawn(
    entry: &LaunchEntry,
    sdk: &SdkEnvironment,
    logs_dir: &Path,
    process_id: Uuid,
) -> io::Result<Child> {
    let log_path = log_path(logs_dir, process_id);
    let stdout = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)?;
    let stderr = stdout.try_clone()?;
    let working_dir = entry.launch_path.parent().unwrap_or(Path::new("/"));
    let spawned = Command::new(&entry.launch_path)
        .args(&entry.args)
        .envs(sdk.variables(process_id))
        .current_dir(working_dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        // A safety net only: if the launcher is dropped without shutting down (a panic, a
        // test that ends early), the process does not outlive it.
        .kill_on_drop(true)
        .spawn();
    if spawned.is_err() {
        // Nothing was written to it; do not leave an empty log per failed attempt.
        let _ = std::fs::remove_file(&log_path);
    }
    spawned
}

/// A process's exit, as its task reports it to the launcher.
#[derive(Debug)]
pub(crate) struct ExitReport {
    pub(crate) process_id: Uuid,
    /// `None` if waiting for the child failed (not seen in practice).
    pub(crate) status: Option<ExitStatus>,
    pub(crate) at: Instant,
}

/// Owns `child` until it exits: sends it the signals asked for on `signals`, then reports
/// the exit on `exits`.
pub(crate) async fn watch(
    mut child: Child,
    process_id: Uuid,
    mut signals: mpsc::UnboundedReceiver<Signal>,
    exits: mpsc::UnboundedSender<ExitReport>,
) {
    let pid = child.id();
    let status = loop {
        tokio::select! {
            // `Child::wait` is cancel safe.
            status = child.wait() => break status,
            Some(signal) = signals.recv() => {
                if let Some(pid) = pid {
                    send_signal(&mut child, pid, signal).await;
                }
            }
        }
    };
    let status = status
        .inspect_err(|error| tracing::error!(%process_id, %error, "cannot wait for process"))
        .ok();
    let _ = exits.send(ExitReport {
        process_id,
        status,
        at: Instant::now(),
    });
}

/// Signals the process group of `child` if the child has not been reaped.
async fn send_signal(child: &mut Child, pid: u32, signal: Signal) {
    if !matches!(child.try_wait(), Ok(None)) {
        return; // Exited: the next `wait` returns at once.
    }
    let flag = match signal {
        Signal::Term => "-TERM",
        Signal::Kill => "-KILL",
    };
    tracing::debug!(pid, signal = flag, "signalling process group");
    let result = Command::new("/bin/kill")
        .args([flag, "--", &format!("-{pid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    let failure = match result {
        Ok(status) if status.success() => return,
        Ok(status) => format!("/bin/kill exited with {status}"),
        Err(error) => format!("cannot run /bin/kill: {error}"),
    };
    tracing::warn!(pid, signal = flag, %failure, "signalling process group failed");
    if signal == Signal::Kill {
        // The group could not be killed; at least kill the process itself.
        let _ = child.start_kill();
    }
}
