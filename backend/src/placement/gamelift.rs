//! [`GameLiftPlacer`]: places a match on a GameLift fleet (or `fleet local`) with
//! `aws-sdk-gamelift`: CreateGameSession on a fleet or alias in the match's region, wait
//! for the game session to be ACTIVE, then CreatePlayerSessions for every player.
//!
//! The game session carries the mode and team count as game properties (`mode`, `teams`,
//! `max_players`, which the session server reads) and the match in FlexMatch's
//! matchmaker-data format in its game session data, so a server written for FlexMatch
//! finds the teams where it looks; each player's team is also its player data.
//! Throttling is retried with exponential backoff within one placement;
//! `FleetCapacityExceededException` fails the placement with `no_capacity`, which the
//! matchmaking driver retries with backoff before the core returns the tickets to the
//! pool (spending a retry).
//!
//! The certificate fingerprint handed to players ([`Certificates`]) is derived per game
//! session from the secret shared with the session servers (`protocol::tls`, the
//! server's `--tls-secret`), or one configured fingerprint for a fleet whose servers all
//! present the same certificate.
//!
//! **What it is not:** no queue placement (StartGameSessionPlacement with the players'
//! latencies) and no placement events from SNS/SQS.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use aws_sdk_gamelift::error::ProvideErrorMetadata;
use aws_sdk_gamelift::types::{GameProperty, GameSession, GameSessionStatus, TerminationMode};
use protocol::http::{CertificateFingerprint, FailureReason};

use super::{PlacedMatch, PlacementFailure, Placer};
use crate::matchmaking::ProposedMatch;
use crate::rankings::BoxFuture;

/// Where game sessions are created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A fleet id (`fleet-…`).
    Fleet(String),
    /// An alias id (`alias-…`), so fleets can be swapped behind it.
    Alias(String),
}

/// Which certificate fingerprint players pin.
#[derive(Clone)]
pub enum Certificates {
    /// Derived from this secret and the game session id, as the session server derives
    /// its certificate from the same secret (`protocol::tls::derived_fingerprint`).
    Derived(Vec<u8>),
    /// One fingerprint for every game session of the fleet.
    Fixed(CertificateFingerprint),
}

impl std::fmt::Debug for Certificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Certificates::Derived(_) => f.write_str("Derived(..)"),
            Certificates::Fixed(fp) => write!(f, "Fixed({fp})"),
        }
    }
}

impl Certificates {
    /// The fingerprint of `game_session_id`'s server.
    ///
    /// # Errors
    ///
    /// When the secret is empty.
    pub fn fingerprint(&self, game_session_id: &str) -> Result<CertificateFingerprint, String> {
        match self {
            Certificates::Fixed(fp) => Ok(*fp),
            Certificates::Derived(secret) => {
                protocol::tls::derived_fingerprint(secret, game_session_id)
                    .map_err(|e| e.to_string())?
                    .parse()
                    .map_err(|e: protocol::http::FingerprintError| e.to_string())
            }
        }
    }
}

/// GameLift's limit on `GameSessionData`, in characters.
const MAX_GAME_SESSION_DATA: usize = 4096;

/// Attempts of one call when GameLift throttles.
const THROTTLE_ATTEMPTS: u32 = 4;

/// The first backoff after a throttled call; doubled each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// Places matches on GameLift.
#[derive(Debug, Clone)]
pub struct GameLiftPlacer {
    client: aws_sdk_gamelift::Client,
    target: Target,
    certificates: Certificates,
    /// How long a new game session may take to become ACTIVE.
    pub activation_timeout: Duration,
    /// How often its status is polled meanwhile.
    pub poll_interval: Duration,
}

impl GameLiftPlacer {
    /// A placer on `target`, handing players the fingerprints of `certificates`.
    pub fn new(
        client: aws_sdk_gamelift::Client,
        target: Target,
        certificates: Certificates,
    ) -> GameLiftPlacer {
        GameLiftPlacer {
            client,
            target,
            certificates,
            activation_timeout: Duration::from_secs(30),
            poll_interval: Duration::from_millis(250),
        }
    }

    async fn create_game_session(
        &self,
        proposed: &ProposedMatch,
        token: &str,
    ) -> Result<GameSession, PlacementFailure> {
        let players: usize = proposed.teams.iter().map(Vec::len).sum();
        let property = |k: &str, v: String| GameProperty::builder().key(k).value(v).build();
        let data = matchmaker_data(proposed, token);
        let mut attempt = 0;
        loop {
            let mut call = self
                .client
                .create_game_session()
                .maximum_player_session_count(i32::try_from(players).unwrap_or(i32::MAX))
                .name(format!("{}-{}", proposed.mode, proposed.match_id.0))
                .location(&proposed.region)
                .idempotency_token(token)
                .game_properties(property("mode", proposed.mode.clone()))
                .game_properties(property("teams", proposed.teams.len().to_string()))
                .game_properties(property("max_players", players.to_string()));
            call = match &self.target {
                Target::Fleet(id) => call.fleet_id(id),
                Target::Alias(id) => call.alias_id(id),
            };
            if let Some(data) = &data {
                call = call.game_session_data(data);
            }
            match call.send().await {
                Ok(out) => {
                    return out.game_session.ok_or_else(|| {
                        failure(FailureReason::PlacementFailed, "no game session returned")
                    });
                }
                Err(e) => {
                    let code = e.code().unwrap_or_default().to_owned();
                    attempt += 1;
                    if is_throttle(&code) && attempt < THROTTLE_ATTEMPTS {
                        tokio::time::sleep(FIRST_BACKOFF * 2u32.pow(attempt - 1)).await;
                        continue;
                    }
                    let reason = match code.as_str() {
                        "FleetCapacityExceededException" => FailureReason::NoCapacity,
                        _ => FailureReason::PlacementFailed,
                    };
                    let message = e.message().unwrap_or("no message").to_owned();
                    return Err(failure(
                        reason,
                        format!("CreateGameSession: {code}: {message}"),
                    ));
                }
            }
        }
    }

    async fn wait_active(&self, id: &str) -> Result<GameSession, PlacementFailure> {
        let deadline = tokio::time::Instant::now() + self.activation_timeout;
        loop {
            let described = self
                .client
                .describe_game_sessions()
                .game_session_id(id)
                .send()
                .await;
            match described {
                Ok(out) => {
                    let session = out.game_sessions.unwrap_or_default().into_iter().next();
                    match session.as_ref().and_then(|s| s.status()) {
                        Some(GameSessionStatus::Active) => return Ok(session.expect("some")),
                        Some(GameSessionStatus::Activating) | None => {}
                        Some(other) => {
                            return Err(failure(
                                FailureReason::PlacementFailed,
                                format!("game session went {other} before it was active"),
                            ));
                        }
                    }
                }
                Err(e) if is_throttle(e.code().unwrap_or_default()) => {}
                Err(e) => {
                    return Err(failure(
                        FailureReason::PlacementFailed,
                        format!("DescribeGameSessions: {}", e.code().unwrap_or("error")),
                    ));
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(failure(
                    FailureReason::PlacementTimedOut,
                    "the game session did not become active in time",
                ));
            }
            tokio::time::sleep(self.poll_interval).await;
        }
    }

    async fn create_player_sessions(
        &self,
        proposed: &ProposedMatch,
        game_session_id: &str,
    ) -> Result<BTreeMap<String, String>, PlacementFailure> {
        let mut call = self
            .client
            .create_player_sessions()
            .game_session_id(game_session_id);
        for (i, team) in proposed.teams.iter().enumerate() {
            for p in team {
                call = call
                    .player_ids(&p.player_id)
                    .player_data_map(&p.player_id, format!("team-{i}"));
            }
        }
        let out = call.send().await.map_err(|e| {
            failure(
                FailureReason::PlayerSessionFailed,
                format!("CreatePlayerSessions: {}", e.code().unwrap_or("error")),
            )
        })?;
        Ok(out
            .player_sessions
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| Some((s.player_id?, s.player_session_id?)))
            .collect())
    }

    async fn terminate(&self, game_session_id: &str) {
        let result = self
            .client
            .terminate_game_session()
            .game_session_id(game_session_id)
            .termination_mode(TerminationMode::TriggerOnProcessTerminate)
            .send()
            .await;
        if let Err(e) = result {
            tracing::warn!(game_session = %game_session_id, code = e.code().unwrap_or("error"),
                "gamelift: terminating an unused game session failed");
        }
    }
}

impl Placer for GameLiftPlacer {
    fn place<'a>(
        &'a self,
        proposed: &'a ProposedMatch,
    ) -> BoxFuture<'a, Result<PlacedMatch, PlacementFailure>> {
        Box::pin(async move {
            // One token per placement attempt: an SDK retry of the same call cannot
            // create a second game session.
            let token = uuid::Uuid::new_v4().to_string();
            let created = self.create_game_session(proposed, &token).await?;
            let id = created
                .game_session_id()
                .ok_or_else(|| failure(FailureReason::PlacementFailed, "no game session id"))?
                .to_owned();
            let result = async {
                let session = self.wait_active(&id).await?;
                let ip_address: IpAddr = session
                    .ip_address()
                    .and_then(|ip| ip.parse().ok())
                    .ok_or_else(|| failure(FailureReason::PlacementFailed, "no server address"))?;
                let port = session
                    .port()
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| failure(FailureReason::PlacementFailed, "no server port"))?;
                let certificate_sha256 = self
                    .certificates
                    .fingerprint(&id)
                    .map_err(|e| failure(FailureReason::Internal, e))?;
                let player_sessions = self.create_player_sessions(proposed, &id).await?;
                Ok(PlacedMatch {
                    game_session_id: id.clone(),
                    ip_address,
                    dns_name: session
                        .dns_name()
                        .filter(|d| !d.is_empty())
                        .map(str::to_owned),
                    port,
                    certificate_sha256,
                    player_sessions,
                })
            }
            .await;
            if result.is_err() {
                self.terminate(&id).await;
            }
            result
        })
    }

    fn release<'a>(&'a self, placed: &'a PlacedMatch) -> BoxFuture<'a, ()> {
        Box::pin(self.terminate(&placed.game_session_id))
    }
}

fn failure(reason: FailureReason, message: impl Into<String>) -> PlacementFailure {
    PlacementFailure {
        reason,
        message: message.into(),
    }
}

fn is_throttle(code: &str) -> bool {
    matches!(
        code,
        "ThrottlingException" | "Throttling" | "TooManyRequestsException"
    )
}

/// The match in FlexMatch's matchmaker-data format (`matchId`, `teams[].players[]` with
/// attributes), or `None` when it would not fit GameLift's game session data limit.
pub fn matchmaker_data(proposed: &ProposedMatch, match_token: &str) -> Option<String> {
    let teams: Vec<serde_json::Value> = proposed
        .teams
        .iter()
        .enumerate()
        .map(|(i, team)| {
            let players: Vec<serde_json::Value> = team
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "playerId": p.player_id,
                        "attributes": {
                            "rating": {"attributeType": "DOUBLE", "valueAttribute": p.rating}
                        }
                    })
                })
                .collect();
            serde_json::json!({"name": format!("team-{i}"), "players": players})
        })
        .collect();
    let data = serde_json::json!({
        "matchId": match_token,
        "matchmakingConfigurationArn": format!("backend:matchmaking/{}", proposed.mode),
        "teams": teams,
        "autoBackfillMode": null,
    })
    .to_string();
    if data.len() > MAX_GAME_SESSION_DATA {
        tracing::warn!(
            len = data.len(),
            "matchmaker data too large for game session data; left out"
        );
        return None;
    }
    Some(data)
}
