//! The output shapes about sessions: `GameSession`, `GameSessionDetail`, `PlayerSession`,
//! `GameSessionPlacement` and `PlacedPlayerSession`, member for member as
//! `aws-sdk-gamelift` reads them (`protocol_serde/shape_game_session.rs` and siblings).
//!
//! Every member is optional, as in the model, except lists, which are always written
//! (GameLift returns `[]` rather than omitting them). Left out, because nothing a local
//! fleet sets: `PlayerGatewayStatus` on `GameSession` and `GameSessionPlacement`.

use super::shapes::{
    GameProperty, GameSessionPlacementState, GameSessionStatus, GameSessionStatusReason,
    PlayerLatency, PlayerSessionCreationPolicy, PlayerSessionStatus, PriorityConfigurationOverride,
    Timestamp, wire_enum,
};
use super::value::{Obj, ToValue, Value};

/// `GameSession`: one game session and the process that hosts it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GameSession {
    /// `GameSessionId`: the game session's ARN
    /// (`arn:aws:gamelift:<region>::gamesession/<fleet-id>/<id>`).
    pub game_session_id: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// `FleetId`.
    pub fleet_id: Option<String>,
    /// `FleetArn`.
    pub fleet_arn: Option<String>,
    /// `CreationTime`.
    pub creation_time: Option<Timestamp>,
    /// `TerminationTime`.
    pub termination_time: Option<Timestamp>,
    /// `CurrentPlayerSessionCount`.
    pub current_player_session_count: Option<i32>,
    /// `MaximumPlayerSessionCount`.
    pub maximum_player_session_count: Option<i32>,
    /// `Status`.
    pub status: Option<GameSessionStatus>,
    /// `StatusReason`.
    pub status_reason: Option<GameSessionStatusReason>,
    /// `GameProperties`.
    pub game_properties: Vec<GameProperty>,
    /// `IpAddress` of the hosting process.
    pub ip_address: Option<String>,
    /// `DnsName` of the hosting process.
    pub dns_name: Option<String>,
    /// `Port` the hosting process listens on.
    pub port: Option<i32>,
    /// `PlayerSessionCreationPolicy`.
    pub player_session_creation_policy: Option<PlayerSessionCreationPolicy>,
    /// `CreatorId`.
    pub creator_id: Option<String>,
    /// `GameSessionData`.
    pub game_session_data: Option<String>,
    /// `MatchmakerData`.
    pub matchmaker_data: Option<String>,
    /// `Location`.
    pub location: Option<String>,
    /// `ComputeName` of the hosting compute.
    pub compute_name: Option<String>,
}

impl ToValue for GameSession {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt("GameSessionId", &self.game_session_id)
            .opt("Name", &self.name)
            .opt("FleetId", &self.fleet_id)
            .opt("FleetArn", &self.fleet_arn)
            .opt("CreationTime", &self.creation_time)
            .opt("TerminationTime", &self.termination_time)
            .opt(
                "CurrentPlayerSessionCount",
                &self.current_player_session_count,
            )
            .opt(
                "MaximumPlayerSessionCount",
                &self.maximum_player_session_count,
            )
            .opt("Status", &self.status)
            .opt("StatusReason", &self.status_reason)
            .field("GameProperties", &self.game_properties)
            .opt("IpAddress", &self.ip_address)
            .opt("DnsName", &self.dns_name)
            .opt("Port", &self.port)
            .opt(
                "PlayerSessionCreationPolicy",
                &self.player_session_creation_policy,
            )
            .opt("CreatorId", &self.creator_id)
            .opt("GameSessionData", &self.game_session_data)
            .opt("MatchmakerData", &self.matchmaker_data)
            .opt("Location", &self.location)
            .opt("ComputeName", &self.compute_name)
            .build()
    }
}

wire_enum! {
    /// `ProtectionPolicy` of a game session (scale-in protection).
    ProtectionPolicy {
        /// `NoProtection`.
        NoProtection = "NoProtection",
        /// `FullProtection`.
        FullProtection = "FullProtection",
    }
}

/// `GameSessionDetail`: a game session with its protection policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GameSessionDetail {
    /// `GameSession`.
    pub game_session: Option<GameSession>,
    /// `ProtectionPolicy`.
    pub protection_policy: Option<ProtectionPolicy>,
}

impl ToValue for GameSessionDetail {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt("GameSession", &self.game_session)
            .opt("ProtectionPolicy", &self.protection_policy)
            .build()
    }
}

/// `PlayerSession`: one player's reserved or used slot in a game session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlayerSession {
    /// `PlayerSessionId` (`psess-…`).
    pub player_session_id: Option<String>,
    /// `PlayerId`.
    pub player_id: Option<String>,
    /// `GameSessionId`: the game session's ARN.
    pub game_session_id: Option<String>,
    /// `FleetId`.
    pub fleet_id: Option<String>,
    /// `FleetArn`.
    pub fleet_arn: Option<String>,
    /// `CreationTime`.
    pub creation_time: Option<Timestamp>,
    /// `TerminationTime`.
    pub termination_time: Option<Timestamp>,
    /// `Status`.
    pub status: Option<PlayerSessionStatus>,
    /// `IpAddress` to connect to.
    pub ip_address: Option<String>,
    /// `DnsName` to connect to.
    pub dns_name: Option<String>,
    /// `Port` to connect to.
    pub port: Option<i32>,
    /// `PlayerData`.
    pub player_data: Option<String>,
}

impl ToValue for PlayerSession {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt("PlayerSessionId", &self.player_session_id)
            .opt("PlayerId", &self.player_id)
            .opt("GameSessionId", &self.game_session_id)
            .opt("FleetId", &self.fleet_id)
            .opt("FleetArn", &self.fleet_arn)
            .opt("CreationTime", &self.creation_time)
            .opt("TerminationTime", &self.termination_time)
            .opt("Status", &self.status)
            .opt("IpAddress", &self.ip_address)
            .opt("DnsName", &self.dns_name)
            .opt("Port", &self.port)
            .opt("PlayerData", &self.player_data)
            .build()
    }
}

/// `PlacedPlayerSession`: a player session created by a fulfilled placement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlacedPlayerSession {
    /// `PlayerId`.
    pub player_id: Option<String>,
    /// `PlayerSessionId`.
    pub player_session_id: Option<String>,
}

impl ToValue for PlacedPlayerSession {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt("PlayerId", &self.player_id)
            .opt("PlayerSessionId", &self.player_session_id)
            .build()
    }
}

/// `GameSessionPlacement`: a request to place a game session through a queue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GameSessionPlacement {
    /// `PlacementId`.
    pub placement_id: Option<String>,
    /// `GameSessionQueueName`.
    pub game_session_queue_name: Option<String>,
    /// `Status`.
    pub status: Option<GameSessionPlacementState>,
    /// `GameProperties`.
    pub game_properties: Vec<GameProperty>,
    /// `MaximumPlayerSessionCount`.
    pub maximum_player_session_count: Option<i32>,
    /// `GameSessionName`.
    pub game_session_name: Option<String>,
    /// `GameSessionId`: the placed game session's id.
    pub game_session_id: Option<String>,
    /// `GameSessionArn`: the placed game session's ARN.
    pub game_session_arn: Option<String>,
    /// `GameSessionRegion`.
    pub game_session_region: Option<String>,
    /// `PlayerLatencies`.
    pub player_latencies: Vec<PlayerLatency>,
    /// `StartTime`.
    pub start_time: Option<Timestamp>,
    /// `EndTime`.
    pub end_time: Option<Timestamp>,
    /// `IpAddress` of the placed game session.
    pub ip_address: Option<String>,
    /// `DnsName` of the placed game session.
    pub dns_name: Option<String>,
    /// `Port` of the placed game session.
    pub port: Option<i32>,
    /// `PlacedPlayerSessions`.
    pub placed_player_sessions: Vec<PlacedPlayerSession>,
    /// `GameSessionData`.
    pub game_session_data: Option<String>,
    /// `MatchmakerData`.
    pub matchmaker_data: Option<String>,
    /// `PriorityConfigurationOverride`.
    pub priority_configuration_override: Option<PriorityConfigurationOverride>,
}

impl ToValue for GameSessionPlacement {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt("PlacementId", &self.placement_id)
            .opt("GameSessionQueueName", &self.game_session_queue_name)
            .opt("Status", &self.status)
            .field("GameProperties", &self.game_properties)
            .opt(
                "MaximumPlayerSessionCount",
                &self.maximum_player_session_count,
            )
            .opt("GameSessionName", &self.game_session_name)
            .opt("GameSessionId", &self.game_session_id)
            .opt("GameSessionArn", &self.game_session_arn)
            .opt("GameSessionRegion", &self.game_session_region)
            .field("PlayerLatencies", &self.player_latencies)
            .opt("StartTime", &self.start_time)
            .opt("EndTime", &self.end_time)
            .opt("IpAddress", &self.ip_address)
            .opt("DnsName", &self.dns_name)
            .opt("Port", &self.port)
            .field("PlacedPlayerSessions", &self.placed_player_sessions)
            .opt("GameSessionData", &self.game_session_data)
            .opt("MatchmakerData", &self.matchmaker_data)
            .opt(
                "PriorityConfigurationOverride",
                &self.priority_configuration_override,
            )
            .build()
    }
}
