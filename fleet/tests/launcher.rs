//! The process launcher of `fleet local` against real processes: small `/bin/sh` scripts
//! written to a temporary directory as the launch path. Every wait is on the launcher's
//! event channel, or on a FIFO the scripts write `ready` to once their signal traps are
//! set, always with a bounded timeout; nothing sleeps to synchronise. Linux only: the FIFO
//! is opened read-write so it never reports end-of-file (tokio offers that on Linux).
#![cfg(target_os = "linux")]

use std::collections::{HashMap, HashSet};
use std::os::unix::process::ExitStatusExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use fleet::local::launcher::{
    BackoffPolicy, ConfigError, LaunchPlan, Launcher, LauncherArgs, LauncherEvent, LauncherOptions,
    RuntimeConfiguration, SdkEnvironment, ServerProcess, TerminateError,
};
use tokio::io::AsyncReadExt as _;
use tokio::net::unix::pipe;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::timeout;
use uuid::Uuid;

/// Longest any single wait for an event may take before the test fails.
const EVENT_TIMEOUT: Duration = Duration::from_secs(5);
const SIGTERM_TIMEOUT: Duration = Duration::from_millis(500);

/// Waits for a file, then exits 0: a process that ends by itself.
const POLITE: &str = r#"while [ ! -e "$STOP" ]; do sleep 0.02; done"#;
/// Exits 42 on SIGTERM: proves a SIGTERM arrived. Says `ready` once the trap is set.
const TERM_TRAPPER: &str =
    "trap 'exit 42' TERM\necho ready > \"$READY\"\nwhile :; do sleep 0.02; done";
/// Ignores SIGTERM (and so do its `sleep` children): only SIGKILL ends it. Says `ready`
/// once the trap is set.
const STUBBORN: &str = "trap '' TERM\necho ready > \"$READY\"\nwhile :; do sleep 0.02; done";

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("fleet-launcher-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&path).unwrap();
        // Canonical, so it compares equal to what `pwd` prints in a process.
        TempDir(path.canonicalize().unwrap())
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn logs(&self) -> PathBuf {
        self.0.join("logs")
    }

    fn stop_file(&self) -> PathBuf {
        self.0.join("stop")
    }

    fn ready_fifo(&self) -> PathBuf {
        self.0.join("ready")
    }

    /// Writes an executable `/bin/sh` script; in `body`, `$STOP` is this dir's stop file
    /// and `$READY` its readiness FIFO.
    fn script(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let path = self.0.join(name);
        let (stop, ready) = (self.stop_file(), self.ready_fifo());
        let header = format!(
            "#!/bin/sh\nSTOP='{}'\nREADY='{}'\n",
            stop.display(),
            ready.display()
        );
        std::fs::write(&path, format!("{header}{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Creates the readiness FIFO and opens it for reading.
    fn ready(&self) -> Ready {
        let path = self.ready_fifo();
        let status = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success(), "mkfifo failed");
        let pipe = pipe::OpenOptions::new()
            .read_write(true)
            .open_receiver(&path)
            .unwrap();
        Ready { pipe, seen: 0 }
    }
}

/// The reading end of the FIFO scripts write `ready` lines to.
struct Ready {
    pipe: pipe::Receiver,
    /// `ready` lines read so far.
    seen: usize,
}

impl Ready {
    /// Waits until `n` more scripts have said `ready`.
    async fn wait(&mut self, n: usize) {
        let target = self.seen + n;
        let mut buf = [0; 64];
        while self.seen < target {
            let read = timeout(EVENT_TIMEOUT, self.pipe.read(&mut buf));
            let len = read.await.expect("no ready line in time").unwrap();
            self.seen += buf[..len].iter().filter(|&&b| b == b'\n').count();
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sdk() -> SdkEnvironment {
    SdkEnvironment {
        websocket_url: "ws://127.0.0.1:5757".into(),
        auth_token: "local-token".into(),
        fleet_id: "fleet-1a2b3c".into(),
        host_id: "compute-1".into(),
    }
}

fn start(dir: &TempDir, plan: LaunchPlan) -> (Launcher, UnboundedReceiver<LauncherEvent>) {
    let options = LauncherOptions {
        logs_dir: dir.logs(),
        sigterm_timeout: SIGTERM_TIMEOUT,
        backoff: BackoffPolicy::default(),
    };
    Launcher::start(plan, sdk(), options).unwrap()
}

fn entry(launch_path: &Path, parameters: Option<&str>, n: u32) -> ServerProcess {
    ServerProcess {
        launch_path: launch_path.to_str().unwrap().into(),
        parameters: parameters.map(Into::into),
        concurrent_executions: n,
    }
}

fn plan(entries: Vec<ServerProcess>) -> LaunchPlan {
    config(entries).validate().unwrap()
}

fn config(entries: Vec<ServerProcess>) -> RuntimeConfiguration {
    RuntimeConfiguration {
        server_processes: entries,
        max_concurrent_game_session_activations: None,
        game_session_activation_timeout_seconds: None,
    }
}

async fn next_event(events: &mut UnboundedReceiver<LauncherEvent>) -> LauncherEvent {
    timeout(EVENT_TIMEOUT, events.recv())
        .await
        .expect("no launcher event in time")
        .expect("launcher stopped")
}

/// Waits for `n` `Launched` events, skipping others; returns their ids.
async fn launched(events: &mut UnboundedReceiver<LauncherEvent>, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    while ids.len() < n {
        if let LauncherEvent::Launched { process_id, .. } = next_event(events).await {
            ids.push(process_id);
        }
    }
    ids
}

/// Waits until all of `ids` have exited, skipping other events; returns their statuses
/// and uptimes in the order of `ids`.
async fn exits_of(
    events: &mut UnboundedReceiver<LauncherEvent>,
    ids: &[Uuid],
) -> Vec<(std::process::ExitStatus, Duration)> {
    let mut exits = HashMap::new();
    while exits.len() < ids.len() {
        if let LauncherEvent::Exited {
            process_id,
            status,
            uptime,
            ..
        } = next_event(events).await
            && ids.contains(&process_id)
        {
            exits.insert(process_id, (status.expect("exit status"), uptime));
        }
    }
    ids.iter().map(|id| exits[id]).collect()
}

/// Waits until `id` exits; returns its status and uptime.
async fn exit_of(
    events: &mut UnboundedReceiver<LauncherEvent>,
    id: Uuid,
) -> (std::process::ExitStatus, Duration) {
    exits_of(events, &[id]).await[0]
}

/// Shuts down without a grace period, bounded.
async fn stop(launcher: &Launcher) {
    timeout(EVENT_TIMEOUT, launcher.shutdown(Duration::ZERO))
        .await
        .expect("shutdown hung");
}

/// N processes run at once, each with exactly the five `GAMELIFT_SDK_*` variables added
/// to the inherited environment, a distinct process id, its parameters split as
/// documented, and the launch path's directory as working directory.
#[tokio::test]
async fn starts_n_processes_with_the_sdk_variables_and_distinct_ids() {
    let dir = TempDir::new();
    let script = dir.script(
        "server.sh",
        &format!(
            "env | grep '^GAMELIFT_' | sort\necho \"PATH_INHERITED=${{PATH:+yes}}\"\n\
             echo \"PWD=$(pwd)\"\nfor a in \"$@\"; do echo \"ARG=$a\"; done\n{POLITE}"
        ),
    );
    let (launcher, mut events) = start(
        &dir,
        plan(vec![entry(
            &script,
            Some(r#"-port 7777 --name="Big Map""#),
            3,
        )]),
    );
    let ids = launched(&mut events, 3).await;

    let snapshot = launcher.snapshot();
    assert_eq!(snapshot.len(), 3, "all three run at once");
    let running: HashSet<Uuid> = snapshot.iter().map(|p| p.process_id).collect();
    assert_eq!(
        running,
        ids.iter().copied().collect(),
        "distinct ids, as launched"
    );
    assert!(
        snapshot
            .iter()
            .all(|p| p.launch_path == script && !p.terminating)
    );

    std::fs::write(dir.stop_file(), "").unwrap();
    for (status, _) in exits_of(&mut events, &ids).await {
        assert_eq!(status.code(), Some(0));
    }
    stop(&launcher).await;

    for id in ids {
        let log = std::fs::read_to_string(launcher.log_path(id)).unwrap();
        let expected = format!(
            "GAMELIFT_SDK_AUTH_TOKEN=local-token\nGAMELIFT_SDK_FLEET_ID=fleet-1a2b3c\n\
             GAMELIFT_SDK_HOST_ID=compute-1\nGAMELIFT_SDK_PROCESS_ID={id}\n\
             GAMELIFT_SDK_WEBSOCKET_URL=ws://127.0.0.1:5757\nPATH_INHERITED=yes\nPWD={}\n\
             ARG=-port\nARG=7777\nARG=--name=Big Map\n",
            dir.path().display()
        );
        assert_eq!(log, expected);
    }
}

/// A process that exits (any status) is replaced by one with a new process id, and the
/// exited one's log stays.
#[tokio::test]
async fn an_exited_process_is_relaunched_with_a_new_id_and_its_log_is_kept() {
    let dir = TempDir::new();
    let script = dir.script("crash.sh", "echo \"id=$GAMELIFT_SDK_PROCESS_ID\"\nexit 3");
    let (launcher, mut events) = start(&dir, plan(vec![entry(&script, None, 1)]));

    let first = launched(&mut events, 1).await[0];
    let (status, _) = exit_of(&mut events, first).await;
    assert_eq!(status.code(), Some(3));
    let second = launched(&mut events, 1).await[0];
    assert_ne!(first, second);
    stop(&launcher).await;

    let log = std::fs::read_to_string(launcher.log_path(first)).unwrap();
    assert_eq!(log, format!("id={first}\n"));
}

/// `--processes 0` (with or without a launch path) launches nothing and stops at once.
#[tokio::test]
async fn processes_zero_launches_nothing() {
    let dir = TempDir::new();
    let script = dir.script("server.sh", POLITE);
    for argv in [
        vec!["fleet", "--processes", "0"],
        vec![
            "fleet",
            "--processes",
            "0",
            "--launch-path",
            script.to_str().unwrap(),
        ],
    ] {
        let plan = Cli::try_parse_from(&argv)
            .unwrap()
            .launcher
            .launch_plan()
            .unwrap();
        assert!(plan.entries.is_empty(), "{argv:?}");
        let (launcher, mut events) = start(&dir, plan);
        let nothing = timeout(Duration::from_millis(300), events.recv()).await;
        assert!(nothing.is_err(), "no event expected, got {nothing:?}");
        assert!(launcher.snapshot().is_empty());
        stop(&launcher).await;
    }
}

/// Shutdown stops relaunching and lets a process that exits by itself within the grace
/// go; after the grace, one that handles SIGTERM exits on it, and one that ignores it is
/// killed after the SIGTERM timeout.
#[tokio::test]
async fn shutdown_waits_for_the_grace_then_escalates_term_to_kill() {
    let dir = TempDir::new();
    let mut ready = dir.ready();
    let polite = dir.script("polite.sh", POLITE);
    let trapper = dir.script("trapper.sh", TERM_TRAPPER);
    let stubborn = dir.script("stubborn.sh", STUBBORN);
    let entries = vec![
        entry(&polite, None, 1),
        entry(&trapper, None, 1),
        entry(&stubborn, None, 1),
    ];
    let (launcher, mut events) = start(&dir, plan(entries));
    // Slots launch in entry order: polite, trapper, stubborn.
    let ids = launched(&mut events, 3).await;
    ready.wait(2).await;

    let grace = Duration::from_secs(1);
    let started = Instant::now();
    let ((), exits) = tokio::join!(launcher.shutdown(grace), async {
        std::fs::write(dir.stop_file(), "").unwrap();
        let mut exits = HashMap::new();
        while exits.len() < 3 {
            match next_event(&mut events).await {
                LauncherEvent::Exited {
                    process_id, status, ..
                } => {
                    exits.insert(process_id, (status.unwrap(), started.elapsed()));
                }
                other => panic!("unexpected event during shutdown: {other:?}"),
            }
        }
        exits
    });
    // The polite one went by itself, before the grace ended.
    let (status, at) = exits[&ids[0]];
    assert_eq!(status.code(), Some(0));
    assert!(at < grace, "exited at {at:?}");
    // The trapper got SIGTERM after the grace.
    let (status, at) = exits[&ids[1]];
    assert_eq!(status.code(), Some(42));
    assert!(at >= grace, "exited at {at:?}");
    // The stubborn one ignored it and was killed after the SIGTERM timeout.
    let (status, at) = exits[&ids[2]];
    assert_eq!(status.signal(), Some(9), "{status:?}");
    assert!(at >= grace + SIGTERM_TIMEOUT, "exited at {at:?}");

    let rest = timeout(EVENT_TIMEOUT, events.recv()).await.unwrap();
    assert!(rest.is_none(), "nothing after shutdown, got {rest:?}");
    assert!(launcher.snapshot().is_empty());
}

/// One process can be terminated by id: SIGTERM, escalated to SIGKILL if ignored. Its
/// sibling keeps running and its slot is refilled with a new process.
#[tokio::test]
async fn terminate_one_process_by_id() {
    let dir = TempDir::new();
    let mut ready = dir.ready();
    let trapper = dir.script("trapper.sh", TERM_TRAPPER);
    let stubborn = dir.script("stubborn.sh", STUBBORN);
    let (launcher, mut events) = start(
        &dir,
        plan(vec![entry(&trapper, None, 2), entry(&stubborn, None, 1)]),
    );
    let ids = launched(&mut events, 3).await;
    let (trapped, sibling, ignorer) = (ids[0], ids[1], ids[2]);
    ready.wait(3).await;

    let unknown = Uuid::new_v4();
    assert_eq!(
        launcher.terminate(unknown).await,
        Err(TerminateError::UnknownProcess(unknown))
    );

    assert_eq!(launcher.snapshot().len(), 3);
    launcher.terminate(trapped).await.unwrap();
    let (status, _) = exit_of(&mut events, trapped).await;
    assert_eq!(status.code(), Some(42), "{status:?}");
    let replacement = launched(&mut events, 1).await[0];
    assert!(![trapped, sibling, ignorer].contains(&replacement));

    let started = Instant::now();
    launcher.terminate(ignorer).await.unwrap();
    assert!(
        launcher
            .snapshot()
            .iter()
            .any(|p| p.process_id == ignorer && p.terminating)
    );
    let (status, _) = exit_of(&mut events, ignorer).await;
    assert_eq!(status.signal(), Some(9), "{status:?}");
    assert!(started.elapsed() >= SIGTERM_TIMEOUT);

    let running: HashSet<Uuid> = launcher.snapshot().iter().map(|p| p.process_id).collect();
    assert!(running.contains(&sibling) && running.contains(&replacement));
    stop(&launcher).await;
    assert_eq!(
        launcher.terminate(sibling).await,
        Err(TerminateError::Stopped)
    );
}

/// Dropping the handle without `shutdown` still stops the processes (SIGTERM at once,
/// no grace) and ends the event stream.
#[tokio::test]
async fn dropping_the_launcher_terminates_its_processes() {
    let dir = TempDir::new();
    let mut ready = dir.ready();
    let trapper = dir.script("trapper.sh", TERM_TRAPPER);
    let (launcher, mut events) = start(&dir, plan(vec![entry(&trapper, None, 1)]));
    let id = launched(&mut events, 1).await[0];
    ready.wait(1).await;
    drop(launcher);
    assert_eq!(exit_of(&mut events, id).await.0.code(), Some(42));
    let rest = timeout(EVENT_TIMEOUT, events.recv()).await.unwrap();
    assert!(rest.is_none(), "no relaunch after drop, got {rest:?}");
}

/// A launch path that disappears after validation is reported, and retried (the backoff
/// that follows is unit-tested with virtual time).
#[tokio::test]
async fn a_launch_failure_is_reported_and_retried() {
    let dir = TempDir::new();
    let script = dir.script("gone.sh", POLITE);
    let plan = plan(vec![entry(&script, None, 1)]);
    std::fs::remove_file(&script).unwrap();
    let (launcher, mut events) = start(&dir, plan);
    for _ in 0..2 {
        match next_event(&mut events).await {
            LauncherEvent::LaunchFailed { launch_path, .. } => assert_eq!(launch_path, script),
            other => panic!("expected LaunchFailed, got {other:?}"),
        }
    }
    stop(&launcher).await;
    assert_eq!(
        std::fs::read_dir(dir.logs()).unwrap().count(),
        0,
        "no empty logs left"
    );
}

/// `fleet local`'s launcher flags, as the binary flattens them.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(flatten)]
    launcher: LauncherArgs,
}

fn parse(argv: &[&str]) -> Result<LaunchPlan, ConfigError> {
    let argv = std::iter::once("fleet").chain(argv.iter().copied());
    Cli::try_parse_from(argv).unwrap().launcher.launch_plan()
}

/// The validation error for `config`, and its message.
fn rejected(config: RuntimeConfiguration) -> (ConfigError, String) {
    let error = config.validate().unwrap_err();
    let message = error.to_string();
    (error, message)
}

/// A file in GameLift's PascalCase shape (bare, or as describe-runtime-configuration
/// prints it) loads and validates, with the parameters split into arguments.
#[test]
fn runtime_configuration_file_loads_in_both_shapes() {
    let dir = TempDir::new();
    let script = dir.script("server.sh", POLITE);
    let bare = format!(
        r#"{{"ServerProcesses": [{{"LaunchPath": "{}", "Parameters": "-port 7777 -name \"A B\"",
            "ConcurrentExecutions": 2}}], "MaxConcurrentGameSessionActivations": 3,
            "GameSessionActivationTimeoutSeconds": 300}}"#,
        script.display()
    );
    let wrapped = format!(r#"{{"RuntimeConfiguration": {bare}}}"#);
    for (name, json) in [("bare.json", &bare), ("wrapped.json", &wrapped)] {
        let file = dir.path().join(name);
        std::fs::write(&file, json).unwrap();
        let plan = parse(&["--runtime-config", file.to_str().unwrap()]).unwrap();
        assert_eq!(plan.entries.len(), 1);
        assert_eq!(plan.entries[0].launch_path, script);
        assert_eq!(plan.entries[0].args, ["-port", "7777", "-name", "A B"]);
        assert_eq!(plan.total_processes(), 2);
        assert_eq!(plan.max_concurrent_game_session_activations, Some(3));
        assert_eq!(
            plan.game_session_activation_timeout,
            Duration::from_secs(300)
        );
    }
}

/// Unreadable, malformed and misspelt files are rejected with the file named.
#[test]
fn bad_files_are_rejected() {
    let dir = TempDir::new();
    let missing = dir.path().join("missing.json");
    assert!(matches!(
        RuntimeConfiguration::load(&missing),
        Err(ConfigError::Read { .. })
    ));
    for (name, json) in [
        ("malformed.json", "{"),
        ("typo.json", r#"{"ServerProcess": []}"#),
        ("camel.json", r#"{"serverProcesses": []}"#),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, json).unwrap();
        let error = RuntimeConfiguration::load(&file).unwrap_err();
        assert!(
            matches!(error, ConfigError::Parse { .. }),
            "{name}: {error:?}"
        );
        assert!(error.to_string().contains(name), "{error}");
    }
}

/// GameLift's limits: 1–50 entries, ConcurrentExecutions ≥ 1 and ≤ 50 in total,
/// activation timeout 1–600 s, at least one concurrent activation, parameters that split.
#[test]
fn limits_are_enforced_with_the_field_named() {
    let dir = TempDir::new();
    let script = dir.script("server.sh", POLITE);
    let one = |n| entry(&script, None, n);

    let (error, _) = rejected(config(vec![]));
    assert!(
        matches!(error, ConfigError::ServerProcessCount { count: 0, .. }),
        "{error:?}"
    );
    let (error, _) = rejected(config((0..51).map(|_| one(1)).collect()));
    assert!(
        matches!(error, ConfigError::ServerProcessCount { count: 51, .. }),
        "{error:?}"
    );
    assert!(config((0..50).map(|_| one(1)).collect()).validate().is_ok());

    let (error, message) = rejected(config(vec![one(1), one(0)]));
    assert!(
        matches!(error, ConfigError::ZeroConcurrentExecutions { .. }),
        "{error:?}"
    );
    assert!(
        message.starts_with("ServerProcesses[1].ConcurrentExecutions"),
        "{message}"
    );
    let (error, _) = rejected(config(vec![one(30), one(21)]));
    assert!(
        matches!(error, ConfigError::TooManyProcesses { total: 51, .. }),
        "{error:?}"
    );
    assert!(config(vec![one(30), one(20)]).validate().is_ok());

    for seconds in [0, 601] {
        let mut c = config(vec![one(1)]);
        c.game_session_activation_timeout_seconds = Some(seconds);
        let (error, message) = rejected(c);
        assert!(
            matches!(error, ConfigError::ActivationTimeout { .. }),
            "{error:?}"
        );
        assert!(
            message.starts_with("GameSessionActivationTimeoutSeconds"),
            "{message}"
        );
    }
    let mut c = config(vec![one(1)]);
    c.max_concurrent_game_session_activations = Some(0);
    assert!(matches!(
        rejected(c).0,
        ConfigError::ZeroConcurrentActivations { .. }
    ));

    let (error, message) = rejected(config(vec![entry(&script, Some(r#"-name "A B"#), 1)]));
    assert!(matches!(error, ConfigError::Parameters { .. }), "{error:?}");
    assert!(
        message.starts_with("ServerProcesses[0].Parameters"),
        "{message}"
    );
    let (error, _) = rejected(config(vec![entry(&script, Some(""), 1)]));
    assert!(
        matches!(error, ConfigError::Length { len: 0, .. }),
        "{error:?}"
    );
}

/// The launch path must exist, be a file and be executable.
#[test]
fn launch_path_must_be_an_executable_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TempDir::new();
    let plain = dir.path().join("plain.sh");
    std::fs::write(&plain, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();

    let missing = rejected(config(vec![entry(&dir.path().join("nope"), None, 1)])).0;
    assert!(
        matches!(missing, ConfigError::LaunchPathMissing { .. }),
        "{missing:?}"
    );
    let directory = rejected(config(vec![entry(dir.path(), None, 1)])).0;
    assert!(
        matches!(directory, ConfigError::LaunchPathNotFile { .. }),
        "{directory:?}"
    );
    let (error, message) = rejected(config(vec![entry(&plain, None, 1)]));
    assert!(
        matches!(error, ConfigError::LaunchPathNotExecutable { .. }),
        "{error:?}"
    );
    assert!(
        message.starts_with("ServerProcesses[0].LaunchPath"),
        "{message}"
    );
}

/// Flags build the same plan as a one-entry file; errors name the flag; contradictory
/// flags are refused by the parser.
#[test]
fn flags_build_a_plan_and_errors_name_the_flag() {
    let dir = TempDir::new();
    let script = dir.script("server.sh", POLITE);
    let path = script.to_str().unwrap();

    let plan = parse(&[
        "--launch-path",
        path,
        "--parameters",
        r#"-a "b c""#,
        "--processes",
        "4",
    ])
    .unwrap();
    assert_eq!(plan.entries[0].args, ["-a", "b c"]);
    assert_eq!(plan.total_processes(), 4);
    assert_eq!(
        parse(&["--launch-path", path]).unwrap().total_processes(),
        1,
        "default 1"
    );

    assert!(matches!(parse(&[]), Err(ConfigError::NothingToLaunch)));
    let error = parse(&["--launch-path", "/nonexistent/server"]).unwrap_err();
    assert!(error.to_string().starts_with("--launch-path"), "{error}");
    let error = parse(&["--launch-path", path, "--processes", "51"]).unwrap_err();
    assert!(error.to_string().starts_with("--processes"), "{error}");
    let error = parse(&["--processes", "0", "--activation-timeout", "0"]).unwrap_err();
    assert!(
        error.to_string().starts_with("--activation-timeout"),
        "{error}"
    );

    for argv in [
        vec!["fleet", "--runtime-config", "x.json", "--launch-path", path],
        vec!["fleet", "--parameters", "-a"],
        vec!["fleet", "--processes", "-1"],
    ] {
        assert!(Cli::try_parse_from(&argv).is_err(), "{argv:?}");
    }

    let cli = Cli::try_parse_from(["fleet", "--termination-grace", "3"]).unwrap();
    assert_eq!(cli.launcher.termination_grace(), Duration::from_secs(3));
    let options = cli.launcher.options(Path::new("/data"));
    assert_eq!(options.logs_dir, Path::new("/data/logs"));
    assert_eq!(options.sigterm_timeout, Duration::from_secs(5));
}
