//! Starting `fleet local` as a real process for a test: its startup lines give the
//! endpoints, its log (stderr) is read line by line so tests wait for events instead of
//! sleeping, and it is stopped with SIGTERM, also when a test drops it (say on a panic).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// How long any one wait for the fleet may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);

/// A running `fleet local`.
#[derive(Debug)]
pub struct FleetLocal {
    child: Child,
    log: mpsc::UnboundedReceiver<String>,
    /// Every log line read so far, for failure messages.
    pub seen: Vec<String>,
    /// The SDK WebSocket URL.
    pub sdk_url: String,
    /// The auth token processes use.
    pub auth_token: String,
    /// The control-plane endpoint URL.
    pub api_url: String,
    /// The fleet id.
    pub fleet_id: String,
    /// The fleet's data folder (logs under `logs/`).
    pub data_dir: PathBuf,
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|w| w.strip_prefix('=')))
}

impl FleetLocal {
    /// Starts `fleet local` on free loopback ports with `extra` flags (for example
    /// `--launch-path …`), in `data_dir`, and reads its two startup lines.
    pub async fn start(data_dir: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(crate::workspace_bin("fleet"))
            .args([
                "local",
                "--sdk-listen",
                "127.0.0.1:0",
                "--api-listen",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("fleet local starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        let (tx, log) = mpsc::unbounded_channel();
        let mut stderr = BufReader::new(child.stderr.take().expect("piped")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut next = async || {
            tokio::time::timeout(WAIT, stdout.next_line())
                .await
                .expect("fleet local prints its endpoints in time")
                .expect("stdout readable")
                .expect("a startup line")
        };
        let sdk = next().await;
        let api = next().await;
        assert!(sdk.starts_with("fleet-local sdk-websocket "), "{sdk}");
        assert!(api.starts_with("fleet-local api-endpoint "), "{api}");
        let url = |l: &str| l.split_whitespace().nth(2).expect("a URL").to_owned();
        Self {
            child,
            log,
            seen: Vec::new(),
            sdk_url: url(&sdk),
            auth_token: field(&sdk, "auth-token").expect("auth-token").to_owned(),
            api_url: url(&api),
            fleet_id: field(&api, "fleet-id").expect("fleet-id").to_owned(),
            data_dir: data_dir.to_owned(),
        }
    }

    /// Waits for a log line containing every one of `needles`, and returns it.
    ///
    /// # Panics
    ///
    /// After [`WAIT`], or when the fleet's log ends, with the lines seen.
    pub async fn wait_for(&mut self, needles: &[&str]) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let line = tokio::time::timeout_at(deadline, self.log.recv()).await;
            match line {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if needles.iter().all(|n| line.contains(n)) {
                        return line;
                    }
                }
                Ok(None) => panic!(
                    "fleet log ended before {needles:?}:\n{}",
                    self.seen.join("\n")
                ),
                Err(_) => panic!(
                    "no log line with {needles:?} within {WAIT:?}:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// A GameLift client pointed at this fleet.
    pub async fn gamelift(&self) -> aws_sdk_gamelift::Client {
        let sdk = crate::aws_config().await;
        let conf = aws_sdk_gamelift::config::Builder::from(&sdk)
            .endpoint_url(&self.api_url)
            .build();
        aws_sdk_gamelift::Client::from_conf(conf)
    }

    /// Sends SIGTERM and waits for the fleet to exit; returns whether it exited 0.
    pub async fn terminate(mut self) -> bool {
        let pid = self.child.id().expect("still running");
        let status = std::process::Command::new("/bin/kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("fleet local exits after SIGTERM")
            .expect("wait works");
        exit.success()
    }
}

/// A test that panics drops its fleet: SIGTERM (not SIGKILL) lets `fleet local` terminate
/// its server processes before it exits, so none outlives the test.
impl Drop for FleetLocal {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("/bin/kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }
}
