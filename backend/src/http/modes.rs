//! The matchmaking configuration file of `backend serve` (TOML), and the built-in
//! configuration used without one.
//!
//! ```toml
//! regions = ["us-east-1", "eu-west-1"]
//! recheck_interval_ms = 1000
//! stats_window_ms = 300000
//! candidate_window = 64
//!
//! [[modes]]
//! name = "duel"
//! teams = 2
//! team_max = 1
//! team_min = { initial = 1 }
//! skill_cap = { initial = 5.0, steps = [[10000, 10.0], [30000, 40.0]] }
//! latency_cap_ms = { initial = 100, steps = [[15000, 200]] }
//! ticket_timeout_ms = 120000
//! placement_retries = 2
//! ```
//!
//! Each field is the [`MatchmakerConfig`] / [`ModeRules`] field of the same name; a
//! relaxing value is `{ initial, steps = [[after_ms, value], …] }`.

use serde::Deserialize;

use crate::matchmaking::{MatchmakerConfig, ModeRules, Relaxing};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RelaxingSpec<T> {
    initial: T,
    #[serde(default)]
    steps: Vec<(u64, T)>,
}

impl<T> From<RelaxingSpec<T>> for Relaxing<T> {
    fn from(spec: RelaxingSpec<T>) -> Self {
        Relaxing {
            initial: spec.initial,
            steps: spec.steps,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModeSpec {
    name: String,
    teams: u16,
    team_max: u16,
    team_min: RelaxingSpec<u16>,
    skill_cap: RelaxingSpec<f64>,
    latency_cap_ms: RelaxingSpec<u32>,
    ticket_timeout_ms: u64,
    #[serde(default)]
    placement_retries: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    regions: Vec<String>,
    #[serde(default = "default_recheck")]
    recheck_interval_ms: u64,
    #[serde(default = "default_window")]
    stats_window_ms: u64,
    #[serde(default = "default_candidates")]
    candidate_window: usize,
    modes: Vec<ModeSpec>,
}

fn default_recheck() -> u64 {
    1_000
}
fn default_window() -> u64 {
    300_000
}
fn default_candidates() -> usize {
    64
}

/// Reads a configuration from TOML text; mode and region names are checked against the
/// API's formats, the rest by [`MatchmakerConfig::validate`].
///
/// # Errors
///
/// What is wrong, for the operator.
pub fn parse_config(text: &str) -> Result<MatchmakerConfig, String> {
    let spec: FileSpec = toml::from_str(text).map_err(|e| e.to_string())?;
    let config = MatchmakerConfig {
        regions: spec.regions,
        recheck_interval_ms: spec.recheck_interval_ms,
        stats_window_ms: spec.stats_window_ms,
        candidate_window: spec.candidate_window,
        modes: spec
            .modes
            .into_iter()
            .map(|m| ModeRules {
                name: m.name,
                teams: m.teams,
                team_max: m.team_max,
                team_min: m.team_min.into(),
                skill_cap: m.skill_cap.into(),
                latency_cap_ms: m.latency_cap_ms.into(),
                ticket_timeout_ms: m.ticket_timeout_ms,
                placement_retries: m.placement_retries,
            })
            .collect(),
    };
    check(&config)?;
    Ok(config)
}

fn check(config: &MatchmakerConfig) -> Result<(), String> {
    for m in &config.modes {
        protocol::http::validate_mode(&m.name).map_err(|e| format!("mode {:?}: {e}", m.name))?;
    }
    for r in &config.regions {
        protocol::http::validate_region(r).map_err(|e| e.to_string())?;
    }
    config.validate().map_err(|e| e.to_string())
}

/// The configuration without a file: `duel` (1 v 1) and `squads` (3 v 3, 2 v 2 after
/// 30 s) in a few AWS Regions and `custom-local` (an Anywhere location for `fleet local`),
/// with skill caps in displayed-rating units (μ − 3σ, 0 for a new player).
pub fn default_config() -> MatchmakerConfig {
    let mode = |name: &str, team_max: u16| ModeRules {
        name: name.to_owned(),
        teams: 2,
        team_max,
        team_min: Relaxing::fixed(team_max),
        skill_cap: Relaxing {
            initial: 5.0,
            steps: vec![(10_000, 10.0), (30_000, 40.0)],
        },
        latency_cap_ms: Relaxing {
            initial: 100,
            steps: vec![(15_000, 200)],
        },
        ticket_timeout_ms: 120_000,
        placement_retries: 2,
    };
    let mut squads = mode("squads", 3);
    squads.team_min.steps = vec![(30_000, 2)];
    MatchmakerConfig {
        modes: vec![mode("duel", 1), squads],
        regions: ["us-east-1", "us-west-2", "eu-west-1", "custom-local"]
            .map(str::to_owned)
            .to_vec(),
        recheck_interval_ms: default_recheck(),
        stats_window_ms: default_window(),
        candidate_window: default_candidates(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented example parses, and the built-in configuration is valid.
    #[test]
    fn example_and_default_are_valid() {
        let doc = include_str!("modes.rs");
        let example: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| format!("{}\n", l.trim_start_matches("//!").trim_start()))
            .collect();
        let config = parse_config(&example).unwrap();
        assert_eq!(config.modes[0].name, "duel");
        assert_eq!(
            config.modes[0].skill_cap.steps,
            vec![(10_000, 10.0), (30_000, 40.0)]
        );
        check(&default_config()).unwrap();
    }

    /// A mode name the API could never send is refused at start-up.
    #[test]
    fn bad_names_are_refused() {
        let text = "regions = [\"us-east-1\"]\n[[modes]]\nname = \"Duel\"\nteams = 2\nteam_max = 1\nteam_min = { initial = 1 }\nskill_cap = { initial = 1.0 }\nlatency_cap_ms = { initial = 100 }\nticket_timeout_ms = 1000\n";
        assert!(parse_config(text).unwrap_err().contains("Duel"));
    }
}
