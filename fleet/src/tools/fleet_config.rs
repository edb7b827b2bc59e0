//! `fleet create-fleet --config fleet.toml` and `fleet update-fleet --config fleet.toml`:
//! a fleet described in TOML, created with CreateFleet or brought in line with
//! UpdateRuntimeConfiguration. Both print what will change before changing it.
//!
//! ```toml
//! name = "arena"
//! build_id = "build-1111aaaa-…"
//! instance_type = "c5.large"
//! locations = ["us-east-1"]              # the first is the home Region
//! protection_policy = "NoProtection"      # or "FullProtection"
//! generate_certificate = false            # CertificateConfiguration GENERATED
//! description = "optional"
//!
//! [inbound_udp]                           # EC2InboundPermissions, UDP
//! from = 7000
//! to = 7100
//! cidr = "0.0.0.0/0"                      # optional, this by default
//!
//! [runtime]
//! max_concurrent_activations = 2          # optional
//! activation_timeout_seconds = 300        # optional
//! [[runtime.server_processes]]
//! launch_path = "/local/game/server"
//! parameters = "--port 7000"              # optional
//! concurrent_executions = 1
//! ```
//!
//! What it is not: a full fleet manager. `update-fleet` changes the runtime configuration
//! only; a different build, instance type, certificate setting or location needs a new
//! fleet (GameLift cannot change those either) and is refused; a different name,
//! description, protection policy or port range is reported and left unchanged.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use aws_sdk_gamelift::types::{
    CertificateConfiguration, CertificateType, FleetAttributes, IpPermission, IpProtocol,
    LocationConfiguration, RuntimeConfiguration, ServerProcess,
};
use serde::Deserialize;

/// The TOML description of a fleet.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetToml {
    /// Fleet name.
    pub name: String,
    /// Build the fleet runs.
    pub build_id: String,
    /// EC2 instance type, e.g. `c5.large`.
    pub instance_type: String,
    /// Locations; the first is the home Region.
    #[serde(default)]
    pub locations: Vec<String>,
    /// `NoProtection` or `FullProtection`.
    #[serde(default = "no_protection")]
    pub protection_policy: String,
    /// Whether GameLift generates a TLS certificate for the fleet.
    #[serde(default)]
    pub generate_certificate: bool,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// The UDP port range players reach the servers on.
    pub inbound_udp: Option<PortRange>,
    /// What runs on each instance.
    pub runtime: Runtime,
}

fn no_protection() -> String {
    "NoProtection".into()
}

/// An inbound port range.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortRange {
    /// First port.
    pub from: i32,
    /// Last port.
    pub to: i32,
    /// Who may connect (CIDR).
    #[serde(default = "anywhere")]
    pub cidr: String,
}

fn anywhere() -> String {
    "0.0.0.0/0".into()
}

/// `[runtime]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
    /// `MaxConcurrentGameSessionActivations`.
    pub max_concurrent_activations: Option<i32>,
    /// `GameSessionActivationTimeoutSeconds`.
    pub activation_timeout_seconds: Option<i32>,
    /// `ServerProcesses`.
    pub server_processes: Vec<Process>,
}

/// `[[runtime.server_processes]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Process {
    /// `LaunchPath`.
    pub launch_path: String,
    /// `Parameters`.
    pub parameters: Option<String>,
    /// `ConcurrentExecutions`.
    pub concurrent_executions: i32,
}

impl FleetToml {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading fleet config {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("fleet config {}", path.display()))
    }

    /// Parses and checks a TOML text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let f: Self = toml::from_str(text)?;
        f.check()?;
        Ok(f)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.name.trim().is_empty() {
            bail!("name is empty");
        }
        if !self.build_id.starts_with("build-") {
            bail!("build_id {:?} is not a build id (build-…)", self.build_id);
        }
        if !["NoProtection", "FullProtection"].contains(&self.protection_policy.as_str()) {
            bail!(
                "protection_policy {:?} must be NoProtection or FullProtection",
                self.protection_policy
            );
        }
        if let Some(p) = &self.inbound_udp
            && !(1 <= p.from && p.from <= p.to && p.to <= 60000)
        {
            bail!(
                "inbound_udp: ports must be 1 to 60000 with from <= to (got {}..{})",
                p.from,
                p.to
            );
        }
        let procs = &self.runtime.server_processes;
        if procs.is_empty() || procs.len() > 50 {
            bail!("runtime.server_processes must list 1 to 50 processes");
        }
        for (i, p) in procs.iter().enumerate() {
            if p.launch_path.trim().is_empty() {
                bail!("runtime.server_processes[{i}].launch_path is empty");
            }
            if !(1..=50).contains(&p.concurrent_executions) {
                bail!("runtime.server_processes[{i}].concurrent_executions must be 1 to 50");
            }
        }
        if let Some(t) = self.runtime.activation_timeout_seconds
            && !(1..=600).contains(&t)
        {
            bail!("runtime.activation_timeout_seconds must be 1 to 600");
        }
        if let Some(n) = self.runtime.max_concurrent_activations
            && n < 1
        {
            bail!("runtime.max_concurrent_activations must be at least 1");
        }
        Ok(())
    }

    /// The runtime configuration as the SDK's type.
    pub fn runtime_configuration(&self) -> anyhow::Result<RuntimeConfiguration> {
        let mut processes = Vec::new();
        for p in &self.runtime.server_processes {
            processes.push(
                ServerProcess::builder()
                    .launch_path(&p.launch_path)
                    .set_parameters(p.parameters.clone())
                    .concurrent_executions(p.concurrent_executions)
                    .build(),
            );
        }
        Ok(RuntimeConfiguration::builder()
            .set_server_processes(Some(processes))
            .set_max_concurrent_game_session_activations(self.runtime.max_concurrent_activations)
            .set_game_session_activation_timeout_seconds(self.runtime.activation_timeout_seconds)
            .build())
    }
}

/// One line of a runtime configuration, for plans and status.
pub fn describe_runtime(rc: &RuntimeConfiguration) -> String {
    let procs: Vec<String> = rc
        .server_processes()
        .iter()
        .map(|p| {
            format!(
                "{}{} x{}",
                p.launch_path().unwrap_or("-"),
                p.parameters().map(|a| format!(" {a}")).unwrap_or_default(),
                p.concurrent_executions().unwrap_or(0)
            )
        })
        .collect();
    format!(
        "[{}] activations={} activation-timeout={}",
        procs.join("; "),
        rc.max_concurrent_game_session_activations()
            .map_or("-".into(), |n| n.to_string()),
        rc.game_session_activation_timeout_seconds()
            .map_or("-".into(), |n| format!("{n}s"))
    )
}

/// `fleet create-fleet` / `fleet update-fleet` flags.
#[derive(Debug, clap::Args)]
pub struct FleetConfigArgs {
    /// The fleet's TOML description.
    #[arg(long)]
    pub config: PathBuf,
    /// Print what would change and stop.
    #[arg(long)]
    pub dry_run: bool,
}

/// `fleet update-fleet` flags.
#[derive(Debug, clap::Args)]
pub struct UpdateFleetArgs {
    /// The TOML description and `--dry-run`.
    #[command(flatten)]
    pub common: FleetConfigArgs,
    /// The fleet to update; by default the one whose name is the config's `name`.
    #[arg(long)]
    pub fleet_id: Option<String>,
}

/// Runs `fleet create-fleet`.
pub async fn create(args: &FleetConfigArgs) -> anyhow::Result<()> {
    let f = FleetToml::load(&args.config)?;
    let runtime = f.runtime_configuration()?;
    println!("will create fleet {:?}:", f.name);
    println!("  build: {}", f.build_id);
    println!("  instance type: {}", f.instance_type);
    println!(
        "  locations: {}",
        if f.locations.is_empty() {
            "(home Region)".into()
        } else {
            f.locations.join(", ")
        }
    );
    println!("  protection: {}", f.protection_policy);
    println!(
        "  certificate: {}",
        if f.generate_certificate {
            "GENERATED"
        } else {
            "DISABLED"
        }
    );
    if let Some(p) = &f.inbound_udp {
        println!("  inbound: UDP {}-{} from {}", p.from, p.to, p.cidr);
    }
    println!("  runtime: {}", describe_runtime(&runtime));
    if args.dry_run {
        println!("dry run: nothing created");
        return Ok(());
    }
    let gl = crate::aws::gamelift(&crate::aws::sdk_config().await);
    let mut req = gl
        .create_fleet()
        .name(&f.name)
        .build_id(&f.build_id)
        .ec2_instance_type(f.instance_type.as_str().into())
        .runtime_configuration(runtime)
        .new_game_session_protection_policy(f.protection_policy.as_str().into())
        .certificate_configuration(
            CertificateConfiguration::builder()
                .certificate_type(if f.generate_certificate {
                    CertificateType::Generated
                } else {
                    CertificateType::Disabled
                })
                .build(),
        )
        .set_description(f.description.clone());
    if let Some(p) = &f.inbound_udp {
        req = req.ec2_inbound_permissions(
            IpPermission::builder()
                .from_port(p.from)
                .to_port(p.to)
                .ip_range(&p.cidr)
                .protocol(IpProtocol::Udp)
                .build(),
        );
    }
    for l in &f.locations {
        req = req.locations(LocationConfiguration::builder().location(l).build());
    }
    let out = req.send().await.map_err(|e| sdk_error("CreateFleet", e))?;
    let attrs = out
        .fleet_attributes()
        .context("CreateFleet returned no fleet")?;
    println!(
        "fleet-id {} status {}",
        attrs.fleet_id().unwrap_or("?"),
        attrs.status().map_or("?", |s| s.as_str())
    );
    Ok(())
}

/// An SDK error with its service code and message, e.g. `CreateFleet:
/// NotFoundException: Build build-x not found`.
pub fn sdk_error<E, R>(op: &str, e: aws_sdk_gamelift::error::SdkError<E, R>) -> anyhow::Error
where
    E: aws_sdk_gamelift::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    use aws_sdk_gamelift::error::ProvideErrorMetadata;
    match (e.code(), e.message()) {
        (Some(code), Some(msg)) => anyhow::anyhow!("{op}: {code}: {msg}"),
        (Some(code), None) => anyhow::anyhow!("{op}: {code}"),
        _ => anyhow::anyhow!("{op}: {}", aws_sdk_gamelift::error::DisplayErrorContext(e)),
    }
}

/// The fleet `update-fleet` means: `--fleet-id`, or the only fleet named `name`.
async fn find_fleet(
    gl: &aws_sdk_gamelift::Client,
    fleet_id: Option<&str>,
    name: &str,
) -> anyhow::Result<FleetAttributes> {
    let mut req = gl.describe_fleet_attributes();
    if let Some(id) = fleet_id {
        req = req.fleet_ids(id);
    }
    let all = req
        .send()
        .await
        .map_err(|e| sdk_error("DescribeFleetAttributes", e))?
        .fleet_attributes
        .unwrap_or_default();
    if let Some(id) = fleet_id {
        return all
            .into_iter()
            .next()
            .with_context(|| format!("fleet {id} not found"));
    }
    let mut named: Vec<_> = all.into_iter().filter(|a| a.name() == Some(name)).collect();
    match named.len() {
        0 => bail!("no fleet is named {name:?}; create it with `fleet create-fleet`"),
        1 => Ok(named.remove(0)),
        n => bail!("{n} fleets are named {name:?}; say which with --fleet-id"),
    }
}

/// Runs `fleet update-fleet`.
pub async fn update(args: &UpdateFleetArgs) -> anyhow::Result<()> {
    let f = FleetToml::load(&args.common.config)?;
    let wanted = f.runtime_configuration()?;
    let gl = crate::aws::gamelift(&crate::aws::sdk_config().await);
    let fleet = find_fleet(&gl, args.fleet_id.as_deref(), &f.name).await?;
    let id = fleet
        .fleet_id()
        .context("a fleet without an id")?
        .to_owned();
    let current = gl
        .describe_runtime_configuration()
        .fleet_id(&id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeRuntimeConfiguration", e))?
        .runtime_configuration
        .unwrap_or_else(|| RuntimeConfiguration::builder().build());

    let mut immutable = Vec::new();
    if fleet.build_id() != Some(f.build_id.as_str()) {
        immutable.push(format!(
            "build_id {} -> {}",
            fleet.build_id().unwrap_or("-"),
            f.build_id
        ));
    }
    if fleet.instance_type().map(|t| t.as_str()) != Some(f.instance_type.as_str()) {
        immutable.push(format!(
            "instance_type {} -> {}",
            fleet.instance_type().map_or("-", |t| t.as_str()),
            f.instance_type
        ));
    }
    let generated = fleet
        .certificate_configuration()
        .and_then(|c| c.certificate_type())
        .is_some_and(|t| t == &CertificateType::Generated);
    if generated != f.generate_certificate {
        immutable.push(format!(
            "generate_certificate {generated} -> {}",
            f.generate_certificate
        ));
    }
    if !immutable.is_empty() {
        bail!(
            "fleet {id}: these cannot change on an existing fleet, create a new one: {}",
            immutable.join("; ")
        );
    }
    println!("fleet {id} ({}):", fleet.name().unwrap_or("-"));
    let mut unchanged_notes = Vec::new();
    if fleet.name() != Some(f.name.as_str()) {
        unchanged_notes.push(format!(
            "name {:?} -> {:?}",
            fleet.name().unwrap_or(""),
            f.name
        ));
    }
    if fleet.description() != f.description.as_deref() {
        unchanged_notes.push("description".to_owned());
    }
    let protection = fleet
        .new_game_session_protection_policy()
        .map_or("NoProtection", |p| p.as_str());
    if protection != f.protection_policy {
        unchanged_notes.push(format!(
            "protection_policy {protection} -> {}",
            f.protection_policy
        ));
    }
    for n in &unchanged_notes {
        println!("  not applied (update-fleet changes the runtime configuration only): {n}");
    }
    if current == wanted {
        println!("  runtime configuration: no change");
        return Ok(());
    }
    println!("  runtime configuration: {}", describe_runtime(&current));
    println!("                      -> {}", describe_runtime(&wanted));
    if args.common.dry_run {
        println!("dry run: nothing changed");
        return Ok(());
    }
    gl.update_runtime_configuration()
        .fleet_id(&id)
        .runtime_configuration(wanted)
        .send()
        .await
        .map_err(|e| sdk_error("UpdateRuntimeConfiguration", e))?;
    println!("updated fleet {id}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "arena"
build_id = "build-1"
instance_type = "c5.large"
locations = ["us-east-1"]
[inbound_udp]
from = 7000
to = 7100
[runtime]
[[runtime.server_processes]]
launch_path = "/local/game/server"
concurrent_executions = 2
"#;

    #[test]
    fn a_good_config_parses_with_defaults() {
        let f = FleetToml::parse(GOOD).unwrap();
        assert_eq!(f.protection_policy, "NoProtection");
        assert_eq!(f.inbound_udp.unwrap().cidr, "0.0.0.0/0");
        assert!(!f.generate_certificate);
        assert_eq!(f.runtime.server_processes[0].concurrent_executions, 2);
    }

    #[test]
    fn bad_configs_say_what_is_wrong() {
        let cases = [
            ("name = \"a\"\n", "missing field"),
            (&GOOD.replace("build-1", "b1"), "is not a build id"),
            (&GOOD.replace("to = 7100", "to = 6000"), "from <= to"),
            (
                &GOOD.replace("concurrent_executions = 2", "concurrent_executions = 0"),
                "concurrent_executions must be 1 to 50",
            ),
            (
                &GOOD.replace("instance_type", "instance_typo"),
                "unknown field `instance_typo`",
            ),
            (
                &GOOD.replace(
                    "name = \"arena\"",
                    "name = \"arena\"\nprotection_policy = \"Maybe\"",
                ),
                "must be NoProtection or FullProtection",
            ),
            ("name = ", "string"),
        ];
        for (text, needle) in cases {
            let err = format!("{:#}", FleetToml::parse(text).unwrap_err());
            assert!(err.contains(needle), "{needle:?} not in {err:?}");
        }
    }
}
