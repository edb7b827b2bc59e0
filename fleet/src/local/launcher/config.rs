//! The runtime configuration, as GameLift's API spells it, and its validation into a
//! [`LaunchPlan`].
//!
//! [`RuntimeConfiguration`] is the wire and file shape (PascalCase JSON, the same document
//! `aws gamelift create-fleet --runtime-configuration file://…` takes). Validation turns it
//! into a [`LaunchPlan`]: absolute launch paths checked to be executable files, parameters
//! split into arguments, and the limits GameLift enforces.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::params::{SplitError, split_parameters};

/// GameLift's limit on `ServerProcesses` entries and on the sum of their
/// `ConcurrentExecutions` (server processes per instance).
pub const MAX_SERVER_PROCESSES: u32 = 50;
/// Longest `LaunchPath` and `Parameters` string GameLift accepts, in characters.
pub const MAX_STRING_LEN: usize = 1024;
/// Range GameLift accepts for `GameSessionActivationTimeoutSeconds`.
pub const ACTIVATION_TIMEOUT_RANGE_SECS: std::ops::RangeInclusive<u32> = 1..=600;
/// Activation timeout used when the configuration gives none. GameLift's own default is
/// undocumented; the maximum is the safe choice, so a slow-loading session that would
/// live on GameLift is not ended early here.
pub const DEFAULT_ACTIVATION_TIMEOUT: Duration = Duration::from_secs(600);

/// GameLift's `RuntimeConfiguration`: which server processes to run on each compute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RuntimeConfiguration {
    /// The processes to keep running, 1 to 50 entries.
    #[serde(default)]
    pub server_processes: Vec<ServerProcess>,
    /// How many game sessions may be ACTIVATING at once on the compute (none: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrent_game_session_activations: Option<u32>,
    /// Seconds a game session may stay ACTIVATING before it is ended, 1 to 600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_session_activation_timeout_seconds: Option<u32>,
}

/// One `ServerProcesses` entry: an executable, its parameters and how many copies to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ServerProcess {
    /// The executable to run. Relative paths are taken from the current directory.
    pub launch_path: String,
    /// Command-line parameters, one string split as `split_parameters` documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<String>,
    /// How many processes of this entry to keep running, at least 1.
    pub concurrent_executions: u32,
}

/// A validated runtime configuration, ready for the launcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchPlan {
    /// What to launch; empty when the fleet launches nothing (`--processes 0`).
    pub entries: Vec<LaunchEntry>,
    /// `MaxConcurrentGameSessionActivations`, if given.
    pub max_concurrent_game_session_activations: Option<u32>,
    /// `GameSessionActivationTimeoutSeconds`, or [`DEFAULT_ACTIVATION_TIMEOUT`].
    pub game_session_activation_timeout: Duration,
}

/// One validated server-process entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchEntry {
    /// Absolute path of an executable file (symlinks are kept, not resolved).
    pub launch_path: PathBuf,
    /// Arguments after splitting `Parameters`.
    pub args: Vec<String>,
    /// How many processes of this entry to keep running, at least 1.
    pub concurrent_executions: u32,
}

/// Why a runtime configuration was rejected. `field` names the offending JSON field
/// (`ServerProcesses[1].LaunchPath`) or command-line flag (`--launch-path`).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read runtime configuration {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The configuration file is not a valid `RuntimeConfiguration` JSON document.
    #[error("invalid runtime configuration {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What serde_json reported (position included).
        source: serde_json::Error,
    },
    /// `ServerProcesses` is empty or has more than [`MAX_SERVER_PROCESSES`] entries.
    #[error("{field}: {count} entries, expected 1 to {MAX_SERVER_PROCESSES}")]
    ServerProcessCount {
        /// Where the list came from.
        field: String,
        /// How many entries it had.
        count: usize,
    },
    /// An entry asks for zero processes.
    #[error("{field}: must be at least 1")]
    ZeroConcurrentExecutions {
        /// Where the value came from.
        field: String,
    },
    /// The entries ask for more than [`MAX_SERVER_PROCESSES`] processes in total.
    #[error("{field}: {total} processes in total, GameLift allows at most {MAX_SERVER_PROCESSES}")]
    TooManyProcesses {
        /// Where the values came from.
        field: String,
        /// Their sum.
        total: u64,
    },
    /// `GameSessionActivationTimeoutSeconds` is outside 1–600.
    #[error("{field}: {seconds} s, expected 1 to 600")]
    ActivationTimeout {
        /// Where the value came from.
        field: String,
        /// The value given.
        seconds: u32,
    },
    /// `MaxConcurrentGameSessionActivations` is zero.
    #[error("{field}: must be at least 1")]
    ZeroConcurrentActivations {
        /// Where the value came from.
        field: String,
    },
    /// A launch path or parameters string is empty or longer than [`MAX_STRING_LEN`].
    #[error("{field}: length {len}, expected 1 to {MAX_STRING_LEN} characters")]
    Length {
        /// Where the value came from.
        field: String,
        /// Its length in characters.
        len: usize,
    },
    /// The launch path does not exist or cannot be inspected.
    #[error("{field}: {path}: {source}")]
    LaunchPathMissing {
        /// Where the value came from.
        field: String,
        /// The path.
        path: PathBuf,
        /// The I/O error from inspecting it.
        source: std::io::Error,
    },
    /// The launch path is not a regular file (a directory, say).
    #[error("{field}: {path} is not a file")]
    LaunchPathNotFile {
        /// Where the value came from.
        field: String,
        /// The path.
        path: PathBuf,
    },
    /// The launch path has no execute permission bit set.
    #[error("{field}: {path} is not executable")]
    LaunchPathNotExecutable {
        /// Where the value came from.
        field: String,
        /// The path.
        path: PathBuf,
    },
    /// The parameters string cannot be split.
    #[error("{field}: {source}")]
    Parameters {
        /// Where the value came from.
        field: String,
        /// Why splitting failed.
        source: SplitError,
    },
    /// Flags ask for processes but give nothing to launch.
    #[error(
        "one of --runtime-config or --launch-path is required (or --processes 0 to launch nothing)"
    )]
    NothingToLaunch,
}

/// How validation names fields in its errors.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Naming {
    /// JSON field paths, for a configuration file.
    File,
    /// Command-line flags, for a configuration built from flags.
    Flags,
}

impl Naming {
    fn entry(self, index: usize, json: &str, flag: &str) -> String {
        match self {
            Naming::File => format!("ServerProcesses[{index}].{json}"),
            Naming::Flags => flag.to_owned(),
        }
    }

    fn top(self, json: &str, flag: &str) -> String {
        match self {
            Naming::File => json.to_owned(),
            Naming::Flags => flag.to_owned(),
        }
    }
}

/// The two shapes a file may have: the bare configuration, or `describe-runtime-configuration`
/// output with it under a `RuntimeConfiguration` key.
#[derive(Deserialize)]
#[serde(untagged)]
enum FileShape {
    Wrapped {
        #[serde(rename = "RuntimeConfiguration")]
        runtime_configuration: RuntimeConfiguration,
    },
    Bare(RuntimeConfiguration),
}

impl RuntimeConfiguration {
    /// Parses a JSON document: the bare configuration, or an object holding it under
    /// `RuntimeConfiguration` (what `aws gamelift describe-runtime-configuration` prints).
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        // Try the bare shape first so its error (the common case) is the one reported.
        match serde_json::from_str::<RuntimeConfiguration>(json) {
            Ok(config) => Ok(config),
            Err(bare_error) => match serde_json::from_str::<FileShape>(json) {
                Ok(FileShape::Wrapped {
                    runtime_configuration,
                }) => Ok(runtime_configuration),
                Ok(FileShape::Bare(config)) => Ok(config),
                Err(_) => Err(bare_error),
            },
        }
    }

    /// Reads and parses a JSON file (see [`RuntimeConfiguration::from_json`]).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let json = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&json).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Checks GameLift's limits and the launch paths, and splits the parameters.
    pub fn validate(&self) -> Result<LaunchPlan, ConfigError> {
        self.validate_named(Naming::File)
    }

    pub(crate) fn validate_named(&self, naming: Naming) -> Result<LaunchPlan, ConfigError> {
        let count = self.server_processes.len();
        if count == 0 || count > MAX_SERVER_PROCESSES as usize {
            let field = naming.top("ServerProcesses", "--processes");
            return Err(ConfigError::ServerProcessCount { field, count });
        }
        let mut entries = Vec::with_capacity(count);
        for (index, process) in self.server_processes.iter().enumerate() {
            entries.push(process.validate(index, naming)?);
        }
        let total: u64 = entries
            .iter()
            .map(|e| u64::from(e.concurrent_executions))
            .sum();
        if total > u64::from(MAX_SERVER_PROCESSES) {
            let field = naming.top("ServerProcesses[*].ConcurrentExecutions", "--processes");
            return Err(ConfigError::TooManyProcesses { field, total });
        }
        let mut plan = self.validate_session_limits(naming)?;
        plan.entries = entries;
        Ok(plan)
    }

    /// Validates only the game-session fields, giving a plan with no entries.
    pub(crate) fn validate_session_limits(
        &self,
        naming: Naming,
    ) -> Result<LaunchPlan, ConfigError> {
        if self.max_concurrent_game_session_activations == Some(0) {
            let field = naming.top(
                "MaxConcurrentGameSessionActivations",
                "--max-concurrent-activations",
            );
            return Err(ConfigError::ZeroConcurrentActivations { field });
        }
        let timeout = match self.game_session_activation_timeout_seconds {
            None => DEFAULT_ACTIVATION_TIMEOUT,
            Some(seconds) if ACTIVATION_TIMEOUT_RANGE_SECS.contains(&seconds) => {
                Duration::from_secs(seconds.into())
            }
            Some(seconds) => {
                let field = naming.top(
                    "GameSessionActivationTimeoutSeconds",
                    "--activation-timeout",
                );
                return Err(ConfigError::ActivationTimeout { field, seconds });
            }
        };
        Ok(LaunchPlan {
            entries: Vec::new(),
            max_concurrent_game_session_activations: self.max_concurrent_game_session_activations,
            game_session_activation_timeout: timeout,
        })
    }
}

impl ServerProcess {
    fn validate(&self, index: usize, naming: Naming) -> Result<LaunchEntry, ConfigError> {
        let path_field = naming.entry(index, "LaunchPath", "--launch-path");
        let len = self.launch_path.chars().count();
        if len == 0 || len > MAX_STRING_LEN {
            return Err(ConfigError::Length {
                field: path_field,
                len,
            });
        }
        let launch_path = check_executable(Path::new(&self.launch_path), &path_field)?;

        let params_field = naming.entry(index, "Parameters", "--parameters");
        let parameters = self.parameters.as_deref().unwrap_or("");
        let len = parameters.chars().count();
        if self.parameters.is_some() && (len == 0 || len > MAX_STRING_LEN) {
            return Err(ConfigError::Length {
                field: params_field,
                len,
            });
        }
        let args = split_parameters(parameters).map_err(|source| ConfigError::Parameters {
            field: params_field,
            source,
        })?;

        if self.concurrent_executions == 0 {
            let field = naming.entry(index, "ConcurrentExecutions", "--processes");
            return Err(ConfigError::ZeroConcurrentExecutions { field });
        }
        Ok(LaunchEntry {
            launch_path,
            args,
            concurrent_executions: self.concurrent_executions,
        })
    }
}

/// Makes `path` absolute (without resolving symlinks, so the working directory is the
/// directory the path names) and checks it is an executable regular file.
fn check_executable(path: &Path, field: &str) -> Result<PathBuf, ConfigError> {
    use std::os::unix::fs::PermissionsExt as _;

    let missing = |source| ConfigError::LaunchPathMissing {
        field: field.to_owned(),
        path: path.to_owned(),
        source,
    };
    let absolute = std::path::absolute(path).map_err(missing)?;
    let metadata = std::fs::metadata(&absolute).map_err(missing)?;
    if !metadata.is_file() {
        return Err(ConfigError::LaunchPathNotFile {
            field: field.to_owned(),
            path: absolute,
        });
    }
    if metadata.permissions().mode() & 0o111 == 0 {
        let path = absolute;
        return Err(ConfigError::LaunchPathNotExecutable {
            field: field.to_owned(),
            path,
        });
    }
    Ok(absolute)
}

impl LaunchPlan {
    /// A plan that launches nothing, with default game-session limits.
    pub fn empty() -> Self {
        LaunchPlan {
            entries: Vec::new(),
            max_concurrent_game_session_activations: None,
            game_session_activation_timeout: DEFAULT_ACTIVATION_TIMEOUT,
        }
    }

    /// Total number of processes the plan keeps running.
    pub fn total_processes(&self) -> u32 {
        self.entries.iter().map(|e| e.concurrent_executions).sum()
    }
}
