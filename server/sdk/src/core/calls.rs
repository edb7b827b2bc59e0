//! The API calls: each checks the process state and its arguments the way the official
//! SDKs do (§4, §6.2 "Ordering rules") and either refuses locally or sends a request.
//!
//! | call | refused locally unless |
//! |---|---|
//! | `process_ready` | connected, not ready yet, not ending; `Port` in 1–60000 |
//! | `activate_game_session`, `update_player_session_creation_policy` | a `CreateGameSession` was received |
//! | `accept_player_session`, `remove_player_session` | same, and `PlayerSessionId` matches `^[a-zA-Z0-9.-]+$` (≤ 256) |
//! | `describe_player_sessions` | ready; exactly one of `GameSessionId` / `PlayerId` / `PlayerSessionId` |
//! | `start_match_backfill`, `stop_match_backfill` | ready; the fields match the Go SDK's patterns |
//! | `get_compute_certificate` | ready |
//! | `get_fleet_role_credentials` | ready; `RoleArn` set; no earlier answer said "no credentials here" |
//! | `process_ending` | connected |
//!
//! "Ready" includes hosting a game session and ending. Every call is refused after
//! `destroy` ([`SdkError::Destroyed`]), before the first connection
//! ([`SdkError::NotInitialized`]) and once the connection is lost for good
//! ([`SdkError::ConnectionClosed`]).

use std::time::Instant;

use protocol::sdk5::{
    AcceptPlayerSession, ActivateGameSession, ActivateServerProcess, DescribePlayerSessions,
    GetComputeCertificate, GetFleetRoleCredentials, GetFleetRoleCredentialsResult,
    PlayerSessionCreationPolicy, RemovePlayerSession, RequestBody, StartMatchBackfill,
    StopMatchBackfill, TerminateServerProcess, UpdatePlayerSessionCreationPolicy,
};
use tracing::info;

use super::{Core, Output, ProcessState, RequestKey};
use crate::error::SdkError;
use crate::url::{SDK_LANGUAGE, SDK_VERSION};
use crate::validate;

/// The message of the local `BadRequest` once the fleet has no role credentials.
pub(crate) const NO_ROLE_CREDENTIALS: &str =
    "GetFleetRoleCredentials: this compute has no fleet role credentials (not a managed fleet)";

/// Credentials are reused until this close to their `Expiration` (15 min).
const ROLE_CREDENTIALS_REFRESH_MS: i64 = 15 * 60 * 1000;

/// The longest `RoleSessionName` (an STS limit).
const MAX_ROLE_SESSION_NAME: usize = 64;

/// What `ProcessReady` tells the service about the process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessParameters {
    /// The port players connect to (1–60000, as the Go SDK checks).
    pub port: u16,
    /// Files or directories GameLift uploads after the process ends.
    pub log_paths: Vec<String>,
}

/// How a call that may be answered from a cache started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallStart<T> {
    /// A request was sent; its result comes as [`Output::Complete`] with this key.
    Sent(RequestKey),
    /// Answered locally.
    Cached(T),
}

impl Core {
    /// `ProcessReady`: sends `ActivateServerProcess` (deadline 6 s). On its 200 response the
    /// process is [`Ready`](ProcessState::Ready) and the first health check is due at once.
    pub fn process_ready(
        &mut self,
        now: Instant,
        params: &ProcessParameters,
    ) -> Result<RequestKey, SdkError> {
        self.check_usable()?;
        if self.state != ProcessState::Connected || self.process_ready_in_flight {
            return Err(SdkError::AlreadyReady);
        }
        if !(1..=60_000).contains(&params.port) {
            return Err(SdkError::invalid(
                "Port",
                format!("{} is not in 1-60000", params.port),
            ));
        }
        let body = ActivateServerProcess {
            sdk_version: SDK_VERSION.to_owned(),
            sdk_language: SDK_LANGUAGE.to_owned(),
            sdk_tool_name: self.config.sdk_tool_name.clone(),
            sdk_tool_version: self.config.sdk_tool_version.clone(),
            port: params.port,
            log_paths: params.log_paths.clone(),
        };
        self.process_ready_in_flight = true;
        Ok(self.user_request(now, &body, None))
    }

    /// `ActivateGameSession` for the game session received with `CreateGameSession`.
    pub fn activate_game_session(&mut self, now: Instant) -> Result<RequestKey, SdkError> {
        let game_session_id = self.require_game_session()?;
        Ok(self.user_request(now, &ActivateGameSession { game_session_id }, None))
    }

    /// `UpdatePlayerSessionCreationPolicy`.
    pub fn update_player_session_creation_policy(
        &mut self,
        now: Instant,
        policy: PlayerSessionCreationPolicy,
    ) -> Result<RequestKey, SdkError> {
        let game_session_id = self.require_game_session()?;
        if policy == PlayerSessionCreationPolicy::NotSet {
            return Err(SdkError::invalid(
                "PlayerSessionPolicy",
                "must be ACCEPT_ALL or DENY_ALL",
            ));
        }
        let body = UpdatePlayerSessionCreationPolicy {
            game_session_id,
            player_session_policy: policy,
        };
        Ok(self.user_request(now, &body, None))
    }

    /// `AcceptPlayerSession`: a player connected with this player-session id.
    pub fn accept_player_session(
        &mut self,
        now: Instant,
        player_session_id: &str,
    ) -> Result<RequestKey, SdkError> {
        let game_session_id = self.require_game_session()?;
        check_player_session_id(player_session_id)?;
        let body = AcceptPlayerSession {
            game_session_id,
            player_session_id: player_session_id.to_owned(),
        };
        Ok(self.user_request(now, &body, None))
    }

    /// `RemovePlayerSession`: a player left.
    pub fn remove_player_session(
        &mut self,
        now: Instant,
        player_session_id: &str,
    ) -> Result<RequestKey, SdkError> {
        let game_session_id = self.require_game_session()?;
        check_player_session_id(player_session_id)?;
        let body = RemovePlayerSession {
            game_session_id,
            player_session_id: player_session_id.to_owned(),
        };
        Ok(self.user_request(now, &body, None))
    }

    /// `DescribePlayerSessions`.
    pub fn describe_player_sessions(
        &mut self,
        now: Instant,
        request: &DescribePlayerSessions,
    ) -> Result<RequestKey, SdkError> {
        self.require_ready()?;
        if request.query().is_none() {
            return Err(SdkError::invalid(
                "GameSessionId/PlayerId/PlayerSessionId",
                "exactly one must be set",
            ));
        }
        if let Some(id) = &request.player_session_id {
            check_player_session_id(id)?;
        }
        Ok(self.user_request(now, request, None))
    }

    /// `StartMatchBackfill`, validated as the Go SDK does.
    pub fn start_match_backfill(
        &mut self,
        now: Instant,
        request: &StartMatchBackfill,
    ) -> Result<RequestKey, SdkError> {
        self.require_ready()?;
        check_backfill(
            &request.game_session_arn,
            &request.matchmaking_configuration_arn,
            &request.ticket_id,
        )?;
        if request.players.is_empty() {
            return Err(SdkError::invalid(
                "Players",
                "at least one player is required",
            ));
        }
        Ok(self.user_request(now, request, None))
    }

    /// `StopMatchBackfill`: all three fields are required.
    pub fn stop_match_backfill(
        &mut self,
        now: Instant,
        request: &StopMatchBackfill,
    ) -> Result<RequestKey, SdkError> {
        self.require_ready()?;
        if request.ticket_id.is_empty() {
            return Err(SdkError::invalid("TicketId", "is required"));
        }
        check_backfill(
            &request.game_session_arn,
            &request.matchmaking_configuration_arn,
            &request.ticket_id,
        )?;
        Ok(self.user_request(now, request, None))
    }

    /// `GetComputeCertificate`.
    pub fn get_compute_certificate(&mut self, now: Instant) -> Result<RequestKey, SdkError> {
        self.require_ready()?;
        Ok(self.user_request(now, &GetComputeCertificate {}, None))
    }

    /// `GetFleetRoleCredentials`, answered from the cache while the cached credentials for
    /// the same `RoleArn` have more than 15 minutes left at `epoch_ms` (wall clock, ms).
    /// An empty `RoleSessionName` becomes `<fleetId>-<hostId>` cut to 64 characters.
    ///
    /// Once a response had an empty `AccessKeyId` (not a managed fleet), this and every
    /// later call fails locally with `BadRequest`.
    pub fn get_fleet_role_credentials(
        &mut self,
        now: Instant,
        epoch_ms: i64,
        request: &GetFleetRoleCredentials,
    ) -> Result<CallStart<GetFleetRoleCredentialsResult>, SdkError> {
        self.require_ready()?;
        if self.role_credentials_unavailable {
            return Err(SdkError::local_bad_request(NO_ROLE_CREDENTIALS));
        }
        if request.role_arn.is_empty() {
            return Err(SdkError::invalid("RoleArn", "is required"));
        }
        if let Some(cached) = self.role_credentials.get(&request.role_arn)
            && cached.expiration - epoch_ms > ROLE_CREDENTIALS_REFRESH_MS
        {
            return Ok(CallStart::Cached(cached.clone()));
        }
        let mut body = request.clone();
        if body.role_session_name.is_empty() {
            let name = format!("{}-{}", self.config.fleet_id, self.config.host_id);
            body.role_session_name = name.chars().take(MAX_ROLE_SESSION_NAME).collect();
        }
        let key = self.user_request(now, &body, Some(request.role_arn.clone()));
        Ok(CallStart::Sent(key))
    }

    /// `ProcessEnding`: sends `TerminateServerProcess`, stops the health checks and moves to
    /// [`Ending`](ProcessState::Ending).
    pub fn process_ending(&mut self, now: Instant) -> Result<RequestKey, SdkError> {
        self.check_usable()?;
        self.state = ProcessState::Ending;
        self.next_health = None;
        self.health_in_flight = None;
        Ok(self.user_request(now, &TerminateServerProcess {}, None))
    }

    /// `Destroy`: closes every connection with 1000, disables reconnects and fails every
    /// pending call with [`SdkError::Destroyed`]. Nothing is sent to the service.
    pub fn destroy(&mut self, now: Instant) {
        let _ = now;
        if self.state == ProcessState::Destroyed {
            return;
        }
        info!("destroying the SDK");
        self.state = ProcessState::Destroyed;
        self.attempt = None;
        self.next_health = None;
        self.health_in_flight = None;
        self.outbox.clear();
        let conns = self
            .active
            .take()
            .into_iter()
            .chain(self.draining.drain(..).map(|(c, _)| c));
        let closes: Vec<_> = conns
            .map(|conn| Output::Close { conn, code: 1000 })
            .collect();
        self.outputs.extend(closes);
        self.fail_all(|| SdkError::Destroyed);
    }

    /// Sends a request on behalf of a caller.
    fn user_request<R: RequestBody>(
        &mut self,
        now: Instant,
        body: &R,
        role_arn: Option<String>,
    ) -> RequestKey {
        let key = RequestKey(self.fresh_id());
        self.send_request(now, body, Some(key), role_arn);
        key
    }

    /// Refuses calls when nothing can be sent.
    fn check_usable(&self) -> Result<(), SdkError> {
        match self.state {
            ProcessState::Destroyed => Err(SdkError::Destroyed),
            ProcessState::NotInitialized => Err(SdkError::NotInitialized),
            _ if self.closed_for_good => Err(SdkError::ConnectionClosed),
            _ => Ok(()),
        }
    }

    /// Usable and `ProcessReady` acknowledged.
    fn require_ready(&self) -> Result<(), SdkError> {
        self.check_usable()?;
        match self.state {
            ProcessState::Ready | ProcessState::HostingGameSession | ProcessState::Ending => Ok(()),
            _ => Err(SdkError::ProcessNotReady),
        }
    }

    /// Usable and a game session received; returns its id.
    fn require_game_session(&self) -> Result<String, SdkError> {
        self.check_usable()?;
        self.game_session_id
            .clone()
            .ok_or(SdkError::GameSessionIdNotSet)
    }
}

/// `^[a-zA-Z0-9.-]+$`, ≤ 256.
fn check_player_session_id(id: &str) -> Result<(), SdkError> {
    if validate::is_player_session_id(id) {
        Ok(())
    } else {
        Err(SdkError::invalid(
            "PlayerSessionId",
            format!("{id:?} must match ^[a-zA-Z0-9.-]+$ and be at most 256 characters"),
        ))
    }
}

/// The Go SDK's backfill field patterns (§4).
fn check_backfill(
    game_session_arn: &str,
    config_arn: &str,
    ticket_id: &str,
) -> Result<(), SdkError> {
    if !validate::is_game_session_arn(game_session_arn) {
        return Err(SdkError::invalid(
            "GameSessionArn",
            "must match ^[a-zA-Z0-9:/-]+$ and be at most 256 characters",
        ));
    }
    if !validate::is_matchmaking_configuration_arn(config_arn) {
        return Err(SdkError::invalid(
            "MatchmakingConfigurationArn",
            "must be arn:aws:gamelift:<region>:<account>:<type>/<name>",
        ));
    }
    if !validate::is_ticket_id(ticket_id) {
        return Err(SdkError::invalid(
            "TicketId",
            "must match ^[a-zA-Z0-9-.]*$ and be at most 128 characters",
        ));
    }
    Ok(())
}
