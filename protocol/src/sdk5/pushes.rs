//! The four pushes (service → process, §5) and the [`Push`] enum.
//!
//! Pushes travel in a [`PushFrame`](super::PushFrame), which always writes
//! `"StatusCode":200` so that no SDK mistakes a push for an error response (§3.2).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Sdk5Error;
use super::action::Action;
use super::envelope::encode_frame;
use super::matchmaker::MatchmakerData;
use super::model::{GameSession, UpdateReason};
use super::serde_util::null_default;

/// `CreateGameSession`: host a new game session. The fields are flat at the top level
/// (no nested `GameSession`), the name is `GameSessionName`, and `FleetId`/`Location` are
/// not sent (SDKs fill in their own fleet id). Every field is always written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateGameSession {
    /// `GameSessionId` (ARN form). Every later session-scoped request uses it.
    #[serde(deserialize_with = "null_default")]
    pub game_session_id: String,
    /// `GameSessionName` (`Name` in [`GameSession`]).
    #[serde(deserialize_with = "null_default")]
    pub game_session_name: String,
    /// `MaximumPlayerSessionCount`.
    #[serde(deserialize_with = "null_default")]
    pub maximum_player_session_count: u32,
    /// `Port`.
    #[serde(deserialize_with = "null_default")]
    pub port: u16,
    /// `IpAddress`.
    #[serde(deserialize_with = "null_default")]
    pub ip_address: String,
    /// `DnsName`.
    #[serde(deserialize_with = "null_default")]
    pub dns_name: String,
    /// `GameSessionData`: opaque, up to 262,144 characters.
    #[serde(deserialize_with = "null_default")]
    pub game_session_data: String,
    /// `MatchmakerData`: JSON in a string (§7), empty when not from FlexMatch.
    #[serde(deserialize_with = "null_default")]
    pub matchmaker_data: String,
    /// `GameProperties`: a JSON object string → string.
    #[serde(deserialize_with = "null_default")]
    pub game_properties: BTreeMap<String, String>,
}

impl CreateGameSession {
    /// The [`GameSession`] an SDK hands to `onStartGameSession`: these fields, `Name` from
    /// `GameSessionName`, and the process's own `fleet_id` (the push does not carry one).
    pub fn to_game_session(&self, fleet_id: impl Into<String>) -> GameSession {
        GameSession {
            game_session_id: self.game_session_id.clone(),
            name: self.game_session_name.clone(),
            fleet_id: fleet_id.into(),
            maximum_player_session_count: self.maximum_player_session_count,
            port: self.port,
            ip_address: self.ip_address.clone(),
            dns_name: self.dns_name.clone(),
            game_session_data: self.game_session_data.clone(),
            matchmaker_data: self.matchmaker_data.clone(),
            game_properties: self.game_properties.clone(),
            ..GameSession::default()
        }
    }

    /// Parses [`matchmaker_data`](Self::matchmaker_data); `Ok(None)` when empty.
    pub fn matchmaker_data(&self) -> Result<Option<MatchmakerData>, Sdk5Error> {
        MatchmakerData::parse_optional(&self.matchmaker_data)
    }
}

impl From<&GameSession> for CreateGameSession {
    /// The push a service sends for a session it placed (drops `FleetId`, `Location`,
    /// `Status` and `StatusReason`, which this push does not carry).
    fn from(session: &GameSession) -> CreateGameSession {
        CreateGameSession {
            game_session_id: session.game_session_id.clone(),
            game_session_name: session.name.clone(),
            maximum_player_session_count: session.maximum_player_session_count,
            port: session.port,
            ip_address: session.ip_address.clone(),
            dns_name: session.dns_name.clone(),
            game_session_data: session.game_session_data.clone(),
            matchmaker_data: session.matchmaker_data.clone(),
            game_properties: session.game_properties.clone(),
        }
    }
}

/// `UpdateGameSession`: the game session changed, typically after a backfill.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateGameSession {
    /// `GameSession`: the whole, updated game session (nested object, `Name` not
    /// `GameSessionName`).
    #[serde(deserialize_with = "null_default")]
    pub game_session: GameSession,
    /// `UpdateReason`; unknown strings read as [`UpdateReason::Unknown`].
    #[serde(deserialize_with = "null_default")]
    pub update_reason: UpdateReason,
    /// `BackfillTicketId` of the ticket this update is about (always written).
    #[serde(deserialize_with = "null_default")]
    pub backfill_ticket_id: String,
}

/// `TerminateProcess`: shut down (call `ProcessEnding`) by `TerminationTime`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TerminateProcess {
    /// `TerminationTime`, epoch **milliseconds** (0 if absent).
    #[serde(deserialize_with = "null_default")]
    pub termination_time: i64,
}

impl TerminateProcess {
    /// `TerminationTime` in whole epoch seconds, as Go's `GetTerminationTime()` returns it.
    pub const fn termination_time_secs(&self) -> i64 {
        self.termination_time / 1000
    }
}

/// `RefreshConnection`: open a new connection to `RefreshConnectionEndpoint` in token
/// mode with `AuthToken`, move traffic there, close the old one. The agent's variant
/// also carries `ExpirationTime`; SDKs ignore it and so does this type (unknown fields
/// are ignored on input and not written on output).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RefreshConnection {
    /// `RefreshConnectionEndpoint`: the new base WebSocket URL.
    #[serde(deserialize_with = "null_default")]
    pub refresh_connection_endpoint: String,
    /// `AuthToken`: the new token (query parameter `Authorization`).
    #[serde(deserialize_with = "null_default")]
    pub auth_token: String,
}

/// A push of any of the four actions, as the client side receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Push {
    /// `CreateGameSession`.
    CreateGameSession(CreateGameSession),
    /// `UpdateGameSession`.
    UpdateGameSession(UpdateGameSession),
    /// `TerminateProcess`.
    TerminateProcess(TerminateProcess),
    /// `RefreshConnection`.
    RefreshConnection(RefreshConnection),
}

impl Push {
    /// The `Action` of this push.
    pub const fn action(&self) -> Action {
        match self {
            Push::CreateGameSession(_) => Action::CreateGameSession,
            Push::UpdateGameSession(_) => Action::UpdateGameSession,
            Push::TerminateProcess(_) => Action::TerminateProcess,
            Push::RefreshConnection(_) => Action::RefreshConnection,
        }
    }

    /// Decodes a body whose action is known; `None` if `action` is not a push.
    pub(crate) fn decode(action: Action, object: Value) -> Option<Result<Push, serde_json::Error>> {
        let push = match action {
            Action::CreateGameSession => {
                serde_json::from_value(object).map(Push::CreateGameSession)
            }
            Action::UpdateGameSession => {
                serde_json::from_value(object).map(Push::UpdateGameSession)
            }
            Action::TerminateProcess => serde_json::from_value(object).map(Push::TerminateProcess),
            Action::RefreshConnection => {
                serde_json::from_value(object).map(Push::RefreshConnection)
            }
            _ => return None,
        };
        Some(push)
    }

    /// Encodes a whole push frame: `Action`, the optional `RequestId`, `"StatusCode":200`
    /// and the body fields.
    pub(crate) fn encode(&self, request_id: Option<&str>) -> String {
        let action = self.action().as_str();
        let status = Some(200);
        match self {
            Push::CreateGameSession(body) => encode_frame(action, request_id, status, None, body),
            Push::UpdateGameSession(body) => encode_frame(action, request_id, status, None, body),
            Push::TerminateProcess(body) => encode_frame(action, request_id, status, None, body),
            Push::RefreshConnection(body) => encode_frame(action, request_id, status, None, body),
        }
    }
}

impl From<CreateGameSession> for Push {
    fn from(body: CreateGameSession) -> Push {
        Push::CreateGameSession(body)
    }
}

impl From<UpdateGameSession> for Push {
    fn from(body: UpdateGameSession) -> Push {
        Push::UpdateGameSession(body)
    }
}

impl From<TerminateProcess> for Push {
    fn from(body: TerminateProcess) -> Push {
        Push::TerminateProcess(body)
    }
}

impl From<RefreshConnection> for Push {
    fn from(body: RefreshConnection) -> Push {
        Push::RefreshConnection(body)
    }
}
