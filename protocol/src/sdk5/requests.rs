//! The twelve requests (process → service, §4): one body struct per `Action`, the
//! [`Request`] enum the service side dispatches on, and [`RequestBody`], which ties each
//! body to its action and its typed response body.
//!
//! Bodies hold only the action-specific fields; `Action` and `RequestId` belong to the
//! envelope ([`RequestFrame`](super::RequestFrame), [`encode_request`]).
//!
//! What is written, field by field, follows what the SDKs send (§4): empty optional
//! strings, `Port` 0 and `Limit` 0 are omitted (Go `omitempty`); `LogPaths`,
//! `StartMatchBackfill.TicketId` and `Players` are always written (`LogPaths` as an array,
//! `[]` when empty, never Go's `null`). On input, every field may be missing or `null`.

use serde::de::{DeserializeOwned, IntoDeserializer};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::action::Action;
use super::envelope::encode_request;
use super::model::{Player, PlayerSessionCreationPolicy, PlayerSessionStatus};
use super::responses::{
    DescribePlayerSessionsResult, EmptyBody, GetComputeCertificateResult,
    GetFleetRoleCredentialsResult, StartMatchBackfillResult,
};
use super::sealed::Sealed;
use super::serde_util::{empty_as_none, is_none_or_empty, is_zero_u16, is_zero_u32, null_default};

/// A request body: links the type to its `Action` and to the body of its successful
/// response. Implemented for the twelve request types of this module only (sealed).
pub trait RequestBody: Sealed + Serialize + DeserializeOwned + Into<Request> {
    /// The `Action` this body is sent with.
    const ACTION: Action;
    /// The action-specific fields of a `StatusCode: 200` response
    /// ([`EmptyBody`] for the eight actions whose response has none).
    type Response: Serialize + DeserializeOwned;
}

/// `ActivateServerProcess`, sent by `ProcessReady()`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ActivateServerProcess {
    /// `SdkVersion`, e.g. `5.6.0`.
    #[serde(deserialize_with = "null_default")]
    pub sdk_version: String,
    /// `SdkLanguage`: `Go`, `Cpp`, `CSharp` (or this stack's own name).
    #[serde(deserialize_with = "null_default")]
    pub sdk_language: String,
    /// `SdkToolName` (from `GAMELIFT_SDK_TOOL_NAME`); omitted when `None` or empty.
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "is_none_or_empty"
    )]
    pub sdk_tool_name: Option<String>,
    /// `SdkToolVersion` (from `GAMELIFT_SDK_TOOL_VERSION`); omitted when `None` or empty.
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "is_none_or_empty"
    )]
    pub sdk_tool_version: Option<String>,
    /// `Port` players connect to; `0` means "not sent" (omitted, as in Go and C++).
    #[serde(deserialize_with = "null_default", skip_serializing_if = "is_zero_u16")]
    pub port: u16,
    /// `LogPaths`: absolute paths uploaded after the process ends. Read from an array,
    /// `null` (Go when empty) or absence (C++ when empty); always written as an array.
    #[serde(deserialize_with = "null_default")]
    pub log_paths: Vec<String>,
}

/// `HeartbeatServerProcess`, sent by the health loop.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HeartbeatServerProcess {
    /// `HealthStatus`, always written. Missing or `null` reads as `false`.
    #[serde(deserialize_with = "null_default")]
    pub health_status: bool,
}

/// `ActivateGameSession`, sent once the game session is loaded.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ActivateGameSession {
    /// `GameSessionId` from the `CreateGameSession` push.
    #[serde(deserialize_with = "null_default")]
    pub game_session_id: String,
}

/// `UpdatePlayerSessionCreationPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdatePlayerSessionCreationPolicy {
    /// `GameSessionId`.
    #[serde(deserialize_with = "null_default")]
    pub game_session_id: String,
    /// `PlayerSessionPolicy`: `ACCEPT_ALL` or `DENY_ALL`.
    #[serde(deserialize_with = "null_default")]
    pub player_session_policy: PlayerSessionCreationPolicy,
}

/// `AcceptPlayerSession`: a player connected with this player-session id.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AcceptPlayerSession {
    /// `GameSessionId`.
    #[serde(deserialize_with = "null_default")]
    pub game_session_id: String,
    /// `PlayerSessionId` (`^[a-zA-Z0-9.-]+$`, ≤ 256, checked by the SDKs).
    #[serde(deserialize_with = "null_default")]
    pub player_session_id: String,
}

/// `RemovePlayerSession`: a player left.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RemovePlayerSession {
    /// `GameSessionId`.
    #[serde(deserialize_with = "null_default")]
    pub game_session_id: String,
    /// `PlayerSessionId`.
    #[serde(deserialize_with = "null_default")]
    pub player_session_id: String,
}

/// `DescribePlayerSessions`. Exactly one of the three ids must be set
/// ([`query`](Self::query) checks that); each optional field is omitted when `None`/empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribePlayerSessions {
    /// `GameSessionId`: all player sessions of a game session.
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "is_none_or_empty"
    )]
    pub game_session_id: Option<String>,
    /// `PlayerId`: all player sessions of a player.
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "is_none_or_empty"
    )]
    pub player_id: Option<String>,
    /// `PlayerSessionId`: one player session.
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "is_none_or_empty"
    )]
    pub player_session_id: Option<String>,
    /// `PlayerSessionStatusFilter`. Absent, `null` and `""` read as `None`; an
    /// unrecognised string reads as `Some(NotSet)` so that a service can reject it.
    #[serde(
        deserialize_with = "status_filter",
        skip_serializing_if = "Option::is_none"
    )]
    pub player_session_status_filter: Option<PlayerSessionStatus>,
    /// `NextToken` from a previous page.
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "is_none_or_empty"
    )]
    pub next_token: Option<String>,
    /// `Limit` (≥ 1); `0` means "not sent" (omitted).
    #[serde(deserialize_with = "null_default", skip_serializing_if = "is_zero_u32")]
    pub limit: u32,
}

/// Which player sessions a [`DescribePlayerSessions`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayerSessionQuery<'a> {
    /// By `GameSessionId`.
    GameSession(&'a str),
    /// By `PlayerId`.
    Player(&'a str),
    /// By `PlayerSessionId`.
    PlayerSession(&'a str),
}

impl DescribePlayerSessions {
    /// The selector, or `None` unless exactly one of the three ids is set.
    pub fn query(&self) -> Option<PlayerSessionQuery<'_>> {
        match (
            self.game_session_id.as_deref(),
            self.player_id.as_deref(),
            self.player_session_id.as_deref(),
        ) {
            (Some(id), None, None) => Some(PlayerSessionQuery::GameSession(id)),
            (None, Some(id), None) => Some(PlayerSessionQuery::Player(id)),
            (None, None, Some(id)) => Some(PlayerSessionQuery::PlayerSession(id)),
            _ => None,
        }
    }
}

/// Reads `PlayerSessionStatusFilter` (see the field's doc).
fn status_filter<'de, D>(deserializer: D) -> Result<Option<PlayerSessionStatus>, D::Error>
where
    D: Deserializer<'de>,
{
    empty_as_none(deserializer)?
        .map(|name| PlayerSessionStatus::deserialize(name.into_deserializer()))
        .transpose()
}

/// `StartMatchBackfill`. All four fields are always written; an empty `TicketId` asks the
/// service to generate one. [`MatchmakerData::backfill_request`](super::MatchmakerData::backfill_request)
/// builds one from a session's matchmaker data.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct StartMatchBackfill {
    /// `GameSessionArn`: the game session id.
    #[serde(deserialize_with = "null_default")]
    pub game_session_arn: String,
    /// `MatchmakingConfigurationArn`.
    #[serde(deserialize_with = "null_default")]
    pub matchmaking_configuration_arn: String,
    /// `TicketId`, possibly empty.
    #[serde(deserialize_with = "null_default")]
    pub ticket_id: String,
    /// `Players` currently in the game session.
    #[serde(deserialize_with = "null_default")]
    pub players: Vec<Player>,
}

/// `StopMatchBackfill`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct StopMatchBackfill {
    /// `GameSessionArn`.
    #[serde(deserialize_with = "null_default")]
    pub game_session_arn: String,
    /// `MatchmakingConfigurationArn`.
    #[serde(deserialize_with = "null_default")]
    pub matchmaking_configuration_arn: String,
    /// `TicketId` of the ticket to stop.
    #[serde(deserialize_with = "null_default")]
    pub ticket_id: String,
}

/// `GetComputeCertificate` (no fields).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetComputeCertificate {}

/// `GetFleetRoleCredentials`. Both fields are omitted when empty (Go `omitempty`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GetFleetRoleCredentials {
    /// `RoleArn` of the role to assume.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub role_arn: String,
    /// `RoleSessionName` (the SDKs default it to `<fleetId>-<hostId>`, cut to 64).
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub role_session_name: String,
}

/// `TerminateServerProcess`, sent by `ProcessEnding()` (no fields).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TerminateServerProcess {}

/// Declares [`Request`] and the per-body trait impls from one list, so that the action
/// name, the variant, the body type and the response type cannot drift apart.
macro_rules! requests {
    ($($(#[doc = $doc:literal])* $name:ident => $response:ty;)*) => {
        /// A request of any action, as the service side receives it (inside a
        /// [`RequestFrame`](super::RequestFrame)). Each variant is named after its `Action`.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Request {
            $($(#[doc = $doc])* $name($name),)*
        }

        impl Request {
            /// The `Action` of this request.
            pub const fn action(&self) -> Action {
                match self {
                    $(Request::$name(_) => Action::$name,)*
                }
            }

            /// Decodes a body whose action is known; `None` if `action` is a push.
            pub(crate) fn decode(
                action: Action,
                object: Value,
            ) -> Option<Result<Request, serde_json::Error>> {
                match action {
                    $(Action::$name => Some(serde_json::from_value(object).map(Request::$name)),)*
                    _ => None,
                }
            }

            /// Encodes a whole request frame with this `RequestId`.
            pub(crate) fn encode(&self, request_id: &str) -> String {
                match self {
                    $(Request::$name(body) => encode_request(request_id, body),)*
                }
            }
        }

        $(
            impl Sealed for $name {}

            impl RequestBody for $name {
                const ACTION: Action = Action::$name;
                type Response = $response;
            }

            impl From<$name> for Request {
                fn from(body: $name) -> Request {
                    Request::$name(body)
                }
            }
        )*
    };
}

requests! {
    /// `ActivateServerProcess`.
    ActivateServerProcess => EmptyBody;
    /// `HeartbeatServerProcess`.
    HeartbeatServerProcess => EmptyBody;
    /// `ActivateGameSession`.
    ActivateGameSession => EmptyBody;
    /// `UpdatePlayerSessionCreationPolicy`.
    UpdatePlayerSessionCreationPolicy => EmptyBody;
    /// `AcceptPlayerSession`.
    AcceptPlayerSession => EmptyBody;
    /// `RemovePlayerSession`.
    RemovePlayerSession => EmptyBody;
    /// `DescribePlayerSessions`.
    DescribePlayerSessions => DescribePlayerSessionsResult;
    /// `StartMatchBackfill`.
    StartMatchBackfill => StartMatchBackfillResult;
    /// `StopMatchBackfill`.
    StopMatchBackfill => EmptyBody;
    /// `GetComputeCertificate`.
    GetComputeCertificate => GetComputeCertificateResult;
    /// `GetFleetRoleCredentials`.
    GetFleetRoleCredentials => GetFleetRoleCredentialsResult;
    /// `TerminateServerProcess`.
    TerminateServerProcess => EmptyBody;
}
