//! `fleet status`: one fleet at a glance — its attributes, runtime configuration,
//! capacity per location and game sessions (counts by status, and the live ones).
//!
//! What it is not: a monitor. One snapshot, read with DescribeFleetAttributes,
//! DescribeRuntimeConfiguration, DescribeFleetCapacity and DescribeGameSessions (first
//! page of up to 50 game sessions).

use std::collections::BTreeMap;

use anyhow::Context;

use super::fleet_config::{describe_runtime, sdk_error};

/// `fleet status` flags.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The fleet (id or ARN).
    #[arg(long)]
    pub fleet_id: String,
}

/// Runs `fleet status`.
pub async fn run(args: &StatusArgs) -> anyhow::Result<()> {
    let gl = crate::aws::gamelift(&crate::aws::sdk_config().await);
    let id = &args.fleet_id;
    let attrs = gl
        .describe_fleet_attributes()
        .fleet_ids(id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeFleetAttributes", e))?
        .fleet_attributes
        .unwrap_or_default()
        .into_iter()
        .next()
        .with_context(|| format!("fleet {id} not found"))?;
    println!(
        "fleet {} name={} status={} build={} instance={}",
        attrs.fleet_id().unwrap_or(id),
        attrs.name().unwrap_or("-"),
        attrs.status().map_or("-", |s| s.as_str()),
        attrs.build_id().unwrap_or("-"),
        attrs.instance_type().map_or("-", |t| t.as_str()),
    );
    let runtime = gl
        .describe_runtime_configuration()
        .fleet_id(id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeRuntimeConfiguration", e))?;
    if let Some(rc) = runtime.runtime_configuration() {
        println!("runtime {}", describe_runtime(rc));
    }
    let capacity = gl
        .describe_fleet_capacity()
        .fleet_ids(id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeFleetCapacity", e))?;
    for c in capacity.fleet_capacity() {
        let n = c.instance_counts();
        let v = |f: fn(&aws_sdk_gamelift::types::Ec2InstanceCounts) -> Option<i32>| {
            n.and_then(f).unwrap_or(0)
        };
        println!(
            "capacity {} desired={} min={} max={} active={} idle={} pending={} terminating={}",
            c.location().unwrap_or("-"),
            v(|n| n.desired()),
            v(|n| n.minimum()),
            v(|n| n.maximum()),
            v(|n| n.active()),
            v(|n| n.idle()),
            v(|n| n.pending()),
            v(|n| n.terminating()),
        );
    }
    let sessions = gl
        .describe_game_sessions()
        .fleet_id(id)
        .limit(50)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeGameSessions", e))?
        .game_sessions
        .unwrap_or_default();
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for g in &sessions {
        *by_status
            .entry(g.status().map_or("-", |s| s.as_str()))
            .or_default() += 1;
    }
    let summary: Vec<String> = by_status.iter().map(|(s, n)| format!("{s}={n}")).collect();
    println!("game-sessions {} {}", sessions.len(), summary.join(" "));
    for g in sessions.iter().filter(|g| {
        matches!(
            g.status().map(|s| s.as_str()),
            Some("ACTIVE" | "ACTIVATING")
        )
    }) {
        println!(
            "  {} {} players={}/{} at {}:{}",
            g.game_session_id().unwrap_or("-"),
            g.status().map_or("-", |s| s.as_str()),
            g.current_player_session_count().unwrap_or(0),
            g.maximum_player_session_count().unwrap_or(0),
            g.ip_address().unwrap_or("-"),
            g.port().unwrap_or(0),
        );
    }
    Ok(())
}
