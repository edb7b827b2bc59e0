//! The launcher's command-line flags for `fleet local`, and their resolution into a
//! [`LaunchPlan`] and [`LauncherOptions`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::config::{ConfigError, LaunchPlan, Naming, RuntimeConfiguration, ServerProcess};
use super::policy::BackoffPolicy;
use super::process::LauncherOptions;

/// Default for `--processes` when `--launch-path` is given.
pub const DEFAULT_PROCESSES: u32 = 1;
/// Default for `--termination-grace`, in seconds.
pub const DEFAULT_TERMINATION_GRACE_SECS: u64 = 10;
/// Default for `--sigterm-timeout`, in seconds.
pub const DEFAULT_SIGTERM_TIMEOUT_SECS: u64 = 5;
/// Where logs go under the data directory when `--logs-dir` is not given.
pub const DEFAULT_LOGS_SUBDIR: &str = "logs";

/// Flags of `fleet local`'s process launcher: what to launch (a runtime configuration file,
/// or one launch path with flags), where process logs go, and how long shutdown waits.
#[derive(Debug, Clone, clap::Args)]
pub struct LauncherArgs {
    /// GameLift RuntimeConfiguration JSON file: {"ServerProcesses": [{"LaunchPath",
    /// "Parameters", "ConcurrentExecutions"}], "MaxConcurrentGameSessionActivations",
    /// "GameSessionActivationTimeoutSeconds"} (the output of describe-runtime-configuration
    /// is accepted too). Replaces --launch-path, --parameters, --processes and the
    /// activation flags.
    #[arg(
        long,
        env = "FLEET_LOCAL_RUNTIME_CONFIG",
        value_name = "FILE",
        conflicts_with_all = [
            "launch_path", "parameters", "processes", "max_concurrent_activations",
            "activation_timeout",
        ]
    )]
    pub runtime_config: Option<PathBuf>,

    /// Game server executable to launch (working directory: its directory). Required unless
    /// --runtime-config is given or --processes is 0.
    #[arg(long, env = "FLEET_LOCAL_LAUNCH_PATH", value_name = "PATH")]
    pub launch_path: Option<PathBuf>,

    /// Parameters for --launch-path, one string: split at whitespace, with double-quoted
    /// segments kept whole and the quotes removed (--name="Big Map" is one argument);
    /// no escapes, single quotes or variable expansion.
    #[arg(
        long,
        env = "FLEET_LOCAL_PARAMETERS",
        value_name = "STRING",
        requires = "launch_path",
        allow_hyphen_values = true
    )]
    pub parameters: Option<String>,

    /// How many processes of --launch-path to keep running (1 to 50; default 1). 0 launches
    /// nothing, so that a process started by hand can connect, as on an Anywhere fleet.
    #[arg(long, env = "FLEET_LOCAL_PROCESSES", value_name = "N")]
    pub processes: Option<u32>,

    /// MaxConcurrentGameSessionActivations: how many game sessions may be activating at
    /// once (default: no limit).
    #[arg(long, env = "FLEET_LOCAL_MAX_CONCURRENT_ACTIVATIONS", value_name = "N")]
    pub max_concurrent_activations: Option<u32>,

    /// GameSessionActivationTimeoutSeconds: how long a game session may take to activate,
    /// 1 to 600 (default 600).
    #[arg(long, env = "FLEET_LOCAL_ACTIVATION_TIMEOUT", value_name = "SECS")]
    pub activation_timeout: Option<u32>,

    /// Directory for process logs: stdout and stderr of each process are appended to
    /// DIR/PROCESS_ID.log and kept after it exits (default: DATA_DIR/logs).
    #[arg(long, env = "FLEET_LOCAL_LOGS_DIR", value_name = "DIR")]
    pub logs_dir: Option<PathBuf>,

    /// On shutdown, seconds processes get to exit by themselves after being told to
    /// terminate, before they are sent SIGTERM.
    #[arg(
        long,
        env = "FLEET_LOCAL_TERMINATION_GRACE",
        value_name = "SECS",
        default_value_t = DEFAULT_TERMINATION_GRACE_SECS
    )]
    pub termination_grace: u64,

    /// Seconds a process gets to exit after SIGTERM before it is sent SIGKILL (on shutdown
    /// and when a single process is terminated).
    #[arg(
        long,
        env = "FLEET_LOCAL_SIGTERM_TIMEOUT",
        value_name = "SECS",
        default_value_t = DEFAULT_SIGTERM_TIMEOUT_SECS
    )]
    pub sigterm_timeout: u64,
}

impl LauncherArgs {
    /// Builds the runtime configuration the flags describe, loading `--runtime-config` if
    /// given. `Ok(None)` means launch nothing (`--processes 0`).
    pub fn runtime_configuration(&self) -> Result<Option<RuntimeConfiguration>, ConfigError> {
        if let Some(path) = &self.runtime_config {
            return RuntimeConfiguration::load(path).map(Some);
        }
        let processes = self.processes.unwrap_or(DEFAULT_PROCESSES);
        if processes == 0 {
            return Ok(None);
        }
        let launch_path = self
            .launch_path
            .as_ref()
            .ok_or(ConfigError::NothingToLaunch)?;
        Ok(Some(RuntimeConfiguration {
            server_processes: vec![ServerProcess {
                launch_path: launch_path.to_string_lossy().into_owned(),
                parameters: self.parameters.clone().filter(|p| !p.is_empty()),
                concurrent_executions: processes,
            }],
            max_concurrent_game_session_activations: self.max_concurrent_activations,
            game_session_activation_timeout_seconds: self.activation_timeout,
        }))
    }

    /// Loads and validates what to launch. Errors name the JSON field for a file and the
    /// flag otherwise.
    pub fn launch_plan(&self) -> Result<LaunchPlan, ConfigError> {
        let naming = if self.runtime_config.is_some() {
            Naming::File
        } else {
            Naming::Flags
        };
        match self.runtime_configuration()? {
            Some(config) => config.validate_named(naming),
            None => RuntimeConfiguration {
                server_processes: Vec::new(),
                max_concurrent_game_session_activations: self.max_concurrent_activations,
                game_session_activation_timeout_seconds: self.activation_timeout,
            }
            .validate_session_limits(naming),
        }
    }

    /// `--logs-dir`, or `<data_dir>/logs`.
    pub fn logs_dir(&self, data_dir: &Path) -> PathBuf {
        self.logs_dir
            .clone()
            .unwrap_or_else(|| data_dir.join(DEFAULT_LOGS_SUBDIR))
    }

    /// `--termination-grace` as a duration: what the core passes to
    /// [`Launcher::shutdown`](super::Launcher::shutdown).
    pub fn termination_grace(&self) -> Duration {
        Duration::from_secs(self.termination_grace)
    }

    /// The launcher's options from these flags, with the default crash-loop backoff.
    pub fn options(&self, data_dir: &Path) -> LauncherOptions {
        LauncherOptions {
            logs_dir: self.logs_dir(data_dir),
            sigterm_timeout: Duration::from_secs(self.sigterm_timeout),
            backoff: BackoffPolicy::default(),
        }
    }
}
