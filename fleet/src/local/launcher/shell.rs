//! The tokio shell around the [`Supervisor`] core: one task that executes the core's
//! actions, owns the per-process tasks' signal channels, publishes snapshots and events,
//! and the [`Launcher`] handle that talks to it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use super::config::LaunchPlan;
use super::process::{self, ExitReport, LauncherOptions, SdkEnvironment};
use super::supervisor::{Action, Signal, Supervisor};
use super::{LauncherEvent, ProcessInfo};

/// Why the launcher could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The logs directory could not be created.
    #[error("cannot create logs directory {path}: {source}")]
    LogsDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Why [`Launcher::terminate`] did nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TerminateError {
    /// No running process has this id (it may have exited already).
    #[error("no running server process {0}")]
    UnknownProcess(Uuid),
    /// The launcher has shut down.
    #[error("the launcher has shut down")]
    Stopped,
}

enum Command {
    Terminate {
        process_id: Uuid,
        reply: oneshot::Sender<bool>,
    },
    Shutdown {
        grace: Duration,
    },
}

/// Handle to a running launcher. Dropping it shuts the launcher down without a grace
/// period (SIGTERM, then SIGKILL); call [`Launcher::shutdown`] for an orderly stop.
#[derive(Debug)]
pub struct Launcher {
    commands: mpsc::UnboundedSender<Command>,
    snapshot: watch::Receiver<Vec<ProcessInfo>>,
    finished: watch::Receiver<bool>,
    logs_dir: PathBuf,
}

impl Launcher {
    /// Creates the logs directory and starts launching `plan`'s processes. Must be called
    /// within a Tokio runtime. Events arrive on the returned receiver; it is unbounded, and
    /// its volume is bounded by the relaunch backoff.
    pub fn start(
        plan: LaunchPlan,
        sdk: SdkEnvironment,
        options: LauncherOptions,
    ) -> Result<(Launcher, mpsc::UnboundedReceiver<LauncherEvent>), StartError> {
        let logs_dir = options.logs_dir.clone();
        std::fs::create_dir_all(&logs_dir).map_err(|source| StartError::LogsDir {
            path: logs_dir.clone(),
            source,
        })?;
        let counts: Vec<u32> = plan
            .entries
            .iter()
            .map(|e| e.concurrent_executions)
            .collect();
        let core = Supervisor::new(
            &counts,
            options.backoff,
            options.sigterm_timeout,
            Instant::now(),
        );

        let (commands_tx, commands) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let (exits_tx, exits) = mpsc::unbounded_channel();
        let (snapshot_tx, snapshot) = watch::channel(Vec::new());
        let (finished_tx, finished) = watch::channel(false);
        let actor = Actor {
            core,
            plan,
            sdk,
            logs_dir: logs_dir.clone(),
            processes: BTreeMap::new(),
            commands,
            commands_open: true,
            exits,
            exits_tx,
            events,
            snapshot: snapshot_tx,
        };
        tokio::spawn(async move {
            actor.run().await;
            let _ = finished_tx.send(true);
        });
        let launcher = Launcher {
            commands: commands_tx,
            snapshot,
            finished,
            logs_dir,
        };
        Ok((launcher, events_rx))
    }

    /// The processes running now, in process-id order.
    pub fn snapshot(&self) -> Vec<ProcessInfo> {
        self.snapshot.borrow().clone()
    }

    /// The log file of a process, running or not.
    pub fn log_path(&self, process_id: Uuid) -> PathBuf {
        process::log_path(&self.logs_dir, process_id)
    }

    /// Terminates one process now, as GameLift's FORCE_TERMINATE does: SIGTERM, then
    /// SIGKILL after the SIGTERM timeout. Returns once the signal is under way; the exit
    /// arrives as [`LauncherEvent::Exited`] and the process is then replaced as usual.
    pub async fn terminate(&self, process_id: Uuid) -> Result<(), TerminateError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Terminate { process_id, reply })
            .map_err(|_| TerminateError::Stopped)?;
        match answer.await {
            Ok(true) => Ok(()),
            Ok(false) => Err(TerminateError::UnknownProcess(process_id)),
            Err(_) => Err(TerminateError::Stopped),
        }
    }

    /// Stops relaunching, gives running processes `grace` to exit by themselves (the fleet
    /// core has told them to with `TerminateProcess`), then sends SIGTERM and, after the
    /// SIGTERM timeout, SIGKILL. Returns when every process has exited. Calling it again
    /// with a shorter grace (a second signal) brings the deadline forward.
    pub async fn shutdown(&self, grace: Duration) {
        let _ = self.commands.send(Command::Shutdown { grace });
        let mut finished = self.finished.clone();
        // An error means the launcher task is gone, which also means it has finished.
        let _ = finished.wait_for(|done| *done).await;
    }
}

/// A running process as the shell knows it.
struct Handle {
    info: ProcessInfo,
    signals: mpsc::UnboundedSender<Signal>,
}

struct Actor {
    core: Supervisor,
    plan: LaunchPlan,
    sdk: SdkEnvironment,
    logs_dir: PathBuf,
    processes: BTreeMap<Uuid, Handle>,
    commands: mpsc::UnboundedReceiver<Command>,
    /// False once every `Launcher` handle is gone: the channel then yields `None` forever.
    commands_open: bool,
    exits: mpsc::UnboundedReceiver<ExitReport>,
    /// Cloned into each process's task.
    exits_tx: mpsc::UnboundedSender<ExitReport>,
    /// Send errors are ignored: nobody listening is not the launcher's problem.
    events: mpsc::UnboundedSender<LauncherEvent>,
    snapshot: watch::Sender<Vec<ProcessInfo>>,
}

impl Actor {
    async fn run(mut self) {
        loop {
            let now = Instant::now();
            while let Some(action) = self.core.poll_action(now) {
                self.execute(action, now);
            }
            self.publish();
            if self.core.is_finished() {
                return;
            }
            let timeout = self.core.poll_timeout();
            let wake = async {
                match timeout {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                Some(exit) = self.exits.recv() => self.on_exit(exit),
                command = self.commands.recv(), if self.commands_open => match command {
                    Some(command) => self.on_command(command),
                    None => {
                        self.commands_open = false;
                        self.core.shutdown(Instant::now(), Duration::ZERO);
                    }
                },
                () = wake => {}
            }
        }
    }

    fn execute(&mut self, action: Action, now: Instant) {
        match action {
            Action::Launch { slot, entry } => self.launch(slot, entry, now),
            Action::Signal(process_id, signal) => {
                if let Some(handle) = self.processes.get(&process_id) {
                    let _ = handle.signals.send(signal);
                }
            }
        }
    }

    fn launch(&mut self, slot: usize, entry: usize, now: Instant) {
        let entry = &self.plan.entries[entry];
        let launch_path = entry.launch_path.clone();
        let process_id = Uuid::new_v4();
        let child = match process::spawn(entry, &self.sdk, &self.logs_dir, process_id) {
            Ok(child) => child,
            Err(error) => {
                let retry_in = self.core.handle_launch_failed(slot, now);
                tracing::error!(launch_path = %launch_path.display(), %error, ?retry_in,
                    "cannot launch server process");
                let _ = self
                    .events
                    .send(LauncherEvent::LaunchFailed { launch_path, error });
                return;
            }
        };
        // `id()` is `None` only once the child has been waited for, which it has not.
        let pid = child.id().unwrap_or_default();
        self.core.handle_launched(slot, process_id, now);
        let (signals, signals_rx) = mpsc::unbounded_channel();
        tokio::spawn(process::watch(
            child,
            process_id,
            signals_rx,
            self.exits_tx.clone(),
        ));
        tracing::info!(%process_id, pid, launch_path = %launch_path.display(),
            "launched server process");
        let info = ProcessInfo {
            process_id,
            pid,
            launch_path: launch_path.clone(),
            log_path: process::log_path(&self.logs_dir, process_id),
            started_at: SystemTime::now(),
            terminating: false,
        };
        self.processes.insert(process_id, Handle { info, signals });
        let _ = self.events.send(LauncherEvent::Launched {
            process_id,
            pid,
            launch_path,
        });
    }

    fn on_exit(&mut self, exit: ExitReport) {
        let ExitReport {
            process_id,
            status,
            at,
        } = exit;
        let Some(handle) = self.processes.remove(&process_id) else {
            return;
        };
        let Some(outcome) = self.core.handle_exit(process_id, at) else {
            return;
        };
        let pid = handle.info.pid;
        let uptime = outcome.uptime;
        match status {
            Some(status) if status.success() => {
                tracing::info!(%process_id, pid, ?uptime, relaunch_in = ?outcome.relaunch_in,
                    "server process exited")
            }
            _ => tracing::warn!(%process_id, pid, ?status, ?uptime,
                relaunch_in = ?outcome.relaunch_in, "server process exited abnormally"),
        }
        let _ = self.events.send(LauncherEvent::Exited {
            process_id,
            pid,
            status,
            uptime,
        });
    }

    fn on_command(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Terminate { process_id, reply } => {
                let known = self.core.terminate(process_id, now);
                if known {
                    tracing::info!(%process_id, "terminating server process");
                }
                let _ = reply.send(known);
            }
            Command::Shutdown { grace } => {
                tracing::info!(
                    ?grace,
                    running = self.processes.len(),
                    "launcher shutting down"
                );
                self.core.shutdown(now, grace);
            }
        }
    }

    fn publish(&mut self) {
        let core = &self.core;
        let current: Vec<ProcessInfo> = self
            .processes
            .values_mut()
            .map(|handle| {
                handle.info.terminating = core.is_terminating(handle.info.process_id);
                handle.info.clone()
            })
            .collect();
        self.snapshot.send_if_modified(|old| {
            let changed = *old != current;
            if changed {
                *old = current;
            }
            changed
        });
    }
}
