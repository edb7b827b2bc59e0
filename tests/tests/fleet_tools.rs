//! The fleet tooling end to end, as a developer would use it against `fleet local` and
//! moto's S3 (the test bed's `AWS_ENDPOINT_URL`): `fleet package` a real server binary,
//! `fleet upload` it (CreateBuild, multipart upload with progress, DescribeBuild until
//! READY), `fleet create-fleet` and `fleet update-fleet` from a TOML file, and
//! `fleet status`; then the same commands with bad input fail with a clear message.
//! Every GameLift call goes to the real `fleet` binary; nothing is mocked.

use std::path::{Path, PathBuf};
use std::process::Output;

use aws_sdk_gamelift::types::{BuildStatus, FleetStatus};
use tests::fleet_local::{FleetLocal, WAIT};

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(tests::unique_name(&format!("fleet-{name}")));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `fleet ARGS` with GameLift pointed at `fleet local` (S3 stays on moto through
/// `AWS_ENDPOINT_URL`), bounded by [`WAIT`].
async fn fleet_cmd(fleet: &FleetLocal, args: &[&str]) -> Output {
    let run = tokio::process::Command::new(tests::workspace_bin("fleet"))
        .args(args)
        .env("AWS_ENDPOINT_URL_GAMELIFT", &fleet.api_url)
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(WAIT * 2, run)
        .await
        .expect("the fleet command finishes in time")
        .expect("the fleet command runs")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[track_caller]
fn ok(out: &Output) -> (String, String) {
    let (stdout, stderr) = text(out);
    assert!(out.status.success(), "failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

#[track_caller]
fn fails_with(out: &Output, needle: &str) {
    let (stdout, stderr) = text(out);
    assert!(!out.status.success(), "succeeded:\n{stdout}\n{stderr}");
    assert!(stderr.contains(needle), "{needle:?} not in:\n{stderr}");
}

fn field<'a>(stdout: &'a str, prefix: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{stdout}"))
}

fn fleet_toml(dir: &Path, build_id: &str, executions: u32) -> PathBuf {
    let path = dir.join(format!("fleet-{executions}.toml"));
    std::fs::write(
        &path,
        format!(
            r#"name = "arena"
build_id = "{build_id}"
instance_type = "c5.large"
locations = ["us-east-1"]
protection_policy = "FullProtection"
generate_certificate = true

[inbound_udp]
from = 7000
to = 7100

[runtime]
activation_timeout_seconds = 120
[[runtime.server_processes]]
launch_path = "/local/game/server"
parameters = "--port 7000"
concurrent_executions = {executions}
"#
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn package_upload_create_and_inspect_a_fleet() {
    let dir = tempdir("tools");
    let bucket = tests::unique_name("builds");
    let fleet = FleetLocal::start(&dir, &["--processes", "0", "--build-bucket", &bucket]).await;
    let gl = fleet.gamelift().await;

    // package: the real lifecycle server (tens of MiB in a debug build) plus a config.
    let binary = env!("CARGO_BIN_EXE_lifecycle_server");
    let config = dir.join("server.toml");
    std::fs::write(&config, "port = 7000\n").unwrap();
    let zip = dir.join("build.zip");
    let zip_s = zip.to_str().unwrap();
    let out = fleet_cmd(
        &fleet,
        &[
            "package",
            "--binary",
            binary,
            "--config",
            config.to_str().unwrap(),
            "--out",
            zip_s,
        ],
    )
    .await;
    let (stdout, _) = ok(&out);
    let sha = field(&stdout, "sha256 ");
    let sum = std::process::Command::new("sha256sum")
        .arg(binary)
        .output()
        .unwrap();
    let expected = String::from_utf8(sum.stdout).unwrap();
    assert_eq!(sha, expected.split_whitespace().next().unwrap());
    // An independent zip reader (Python's zipfile) checks every CRC and lists the files.
    let check = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n\
             print(' '.join(z.namelist()))\nprint(oct(z.getinfo('server').external_attr >> 16))",
            zip_s,
        ])
        .output()
        .unwrap();
    let (listing, err) = text(&check);
    assert!(check.status.success(), "{err}");
    assert_eq!(
        listing.lines().collect::<Vec<_>>(),
        ["server install.sh build-info.json server.toml", "0o100755"]
    );
    let zip_len = std::fs::metadata(&zip).unwrap().len();
    assert!(
        zip_len > 5 * 1024 * 1024,
        "a multipart-sized build: {zip_len}"
    );

    // upload: multipart in 5 MiB parts, progress on stderr, READY at the end.
    let out = fleet_cmd(
        &fleet,
        &[
            "upload",
            "--zip",
            zip_s,
            "--name",
            "arena",
            "--build-version",
            "1.0.0",
            "--part-size-mib",
            "5",
        ],
    )
    .await;
    let (stdout, stderr) = ok(&out);
    let build_id = field(&stdout, "build-id ").to_owned();
    assert!(
        stdout.contains(&format!("build {build_id} READY")),
        "{stdout}"
    );
    let progress: Vec<_> = stderr
        .lines()
        .filter(|l| l.starts_with("upload: "))
        .collect();
    assert!(progress.len() >= 3, "0%, parts, 100%: {stderr}");
    assert!(progress[0].starts_with("upload:   0%"), "{stderr}");
    assert!(
        progress.last().unwrap().starts_with("upload: 100%"),
        "{stderr}"
    );
    let build = gl
        .describe_build()
        .build_id(&build_id)
        .send()
        .await
        .unwrap();
    let build = build.build_value().unwrap();
    assert_eq!(build.status(), Some(&BuildStatus::Ready));
    assert_eq!(build.size_on_disk(), Some(i64::try_from(zip_len).unwrap()));
    assert_eq!(build.server_sdk_version(), Some("5.4.0"));

    // create-fleet: the plan first, then the fleet, ACTIVE since its build is READY.
    let toml = fleet_toml(&dir, &build_id, 1);
    let out = fleet_cmd(
        &fleet,
        &["create-fleet", "--config", toml.to_str().unwrap()],
    )
    .await;
    let (stdout, _) = ok(&out);
    assert!(
        stdout.starts_with("will create fleet \"arena\":"),
        "{stdout}"
    );
    assert!(
        stdout.contains("inbound: UDP 7000-7100 from 0.0.0.0/0"),
        "{stdout}"
    );
    assert!(stdout.contains("certificate: GENERATED"), "{stdout}");
    let fleet_id = field(&stdout, "fleet-id ").to_owned();
    assert!(
        stdout.contains(&format!("fleet-id {fleet_id} status ACTIVE")),
        "{stdout}"
    );
    let attrs = gl
        .describe_fleet_attributes()
        .fleet_ids(&fleet_id)
        .send()
        .await
        .unwrap();
    let attrs = &attrs.fleet_attributes()[0];
    assert_eq!(attrs.status(), Some(&FleetStatus::Active));
    assert_eq!(attrs.build_id(), Some(build_id.as_str()));
    assert_eq!(attrs.name(), Some("arena"));

    // status: the created fleet at a glance.
    let out = fleet_cmd(&fleet, &["status", "--fleet-id", &fleet_id]).await;
    let (stdout, _) = ok(&out);
    assert!(
        stdout.contains(&format!(
            "fleet {fleet_id} name=arena status=ACTIVE build={build_id} instance=c5.large"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("runtime [/local/game/server --port 7000 x1]"),
        "{stdout}"
    );
    assert!(stdout.contains("game-sessions 0"), "{stdout}");

    // update-fleet: the runtime change is printed, then applied.
    let toml2 = fleet_toml(&dir, &build_id, 2);
    let out = fleet_cmd(
        &fleet,
        &["update-fleet", "--config", toml2.to_str().unwrap()],
    )
    .await;
    let (stdout, _) = ok(&out);
    assert!(
        stdout.contains("-> [/local/game/server --port 7000 x2]"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("updated fleet {fleet_id}")),
        "{stdout}"
    );
    let rc = gl
        .describe_runtime_configuration()
        .fleet_id(&fleet_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        rc.runtime_configuration().unwrap().server_processes()[0].concurrent_executions(),
        Some(2)
    );
    let out = fleet_cmd(
        &fleet,
        &["update-fleet", "--config", toml2.to_str().unwrap()],
    )
    .await;
    assert!(ok(&out).0.contains("runtime configuration: no change"));

    // status of the command-line fleet shows its capacity.
    let out = fleet_cmd(&fleet, &["status", "--fleet-id", &fleet.fleet_id]).await;
    let (stdout, _) = ok(&out);
    assert!(
        stdout.contains("capacity us-east-1 desired=1 min=0 max=1"),
        "{stdout}"
    );

    // Bad input: clear errors, non-zero exits.
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "name = \"arena\"\nbuild_id = 7\n").unwrap();
    let out = fleet_cmd(&fleet, &["create-fleet", "--config", bad.to_str().unwrap()]).await;
    fails_with(&out, "bad.toml");
    let missing = fleet_toml(&dir, "build-00000000-0000-0000-0000-000000000000", 3);
    let out = fleet_cmd(
        &fleet,
        &["create-fleet", "--config", missing.to_str().unwrap()],
    )
    .await;
    fails_with(&out, "CreateFleet: NotFoundException: Build build-00000000");
    let out = fleet_cmd(
        &fleet,
        &["update-fleet", "--config", missing.to_str().unwrap()],
    )
    .await;
    fails_with(
        &out,
        "cannot change on an existing fleet, create a new one: build_id",
    );
    let out = fleet_cmd(&fleet, &["status", "--fleet-id", "fleet-nope"]).await;
    fails_with(&out, "fleet fleet-nope not found");
    let out = fleet_cmd(
        &fleet,
        &[
            "upload",
            "--zip",
            config.to_str().unwrap(),
            "--name",
            "x",
            "--build-version",
            "1",
        ],
    )
    .await;
    fails_with(&out, "is not a zip");
    let out = fleet_cmd(
        &fleet,
        &[
            "package",
            "--binary",
            config.to_str().unwrap(),
            "--out",
            zip_s,
        ],
    )
    .await;
    fails_with(&out, "is not an ELF binary");

    assert!(fleet.terminate().await);
    std::fs::remove_dir_all(&dir).ok();
}
