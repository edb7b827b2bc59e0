//! The operations: [`Operation`], their inputs and [`Request`].
//!
//! Inputs carry every member the real API accepts, with the model's required members as
//! plain fields (a request without one fails with `InvalidRequestException` before it
//! reaches the fleet core) and the rest as `Option`. Lists that may be omitted read as
//! empty. Member names and types follow the SDK's serializers
//! (`protocol_serde/shape_*_input.rs` in `aws-sdk-gamelift`).

use std::collections::BTreeMap;

use super::builds::{IpPermission, LocationConfiguration, RuntimeConfiguration, S3Location};
use super::error::ApiError;
use super::fleet::{CertificateConfiguration, OperatingSystem};
use super::sessions::ProtectionPolicy;
use super::shapes::{
    DesiredPlayerSession, GameProperty, PlayerLatency, PriorityConfigurationOverride,
    TerminationMode,
};
use super::value::{Members, Value};

/// Defines [`Operation`] with its wire names.
macro_rules! operations {
    ($($(#[$meta:meta])* $name:ident,)+) => {
        /// One of the control-plane operations `fleet local` serves.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation {
            $($(#[$meta])* $name,)+
        }

        impl Operation {
            /// Every operation.
            pub const ALL: &'static [Operation] = &[$(Operation::$name,)+];

            /// The operation's name: the last path segment under RPC v2 CBOR, the part
            /// after `GameLift.` in `X-Amz-Target` under AWS JSON 1.1.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Operation::$name => stringify!($name),)+
                }
            }

            /// The operation with this exact (case-sensitive) name.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|op| op.name() == name)
            }
        }
    };
}

operations! {
    /// `CreateGameSession`.
    CreateGameSession,
    /// `DescribeGameSessions`.
    DescribeGameSessions,
    /// `DescribeGameSessionDetails`.
    DescribeGameSessionDetails,
    /// `SearchGameSessions`.
    SearchGameSessions,
    /// `TerminateGameSession`.
    TerminateGameSession,
    /// `CreatePlayerSession`.
    CreatePlayerSession,
    /// `CreatePlayerSessions`.
    CreatePlayerSessions,
    /// `DescribePlayerSessions`.
    DescribePlayerSessions,
    /// `StartGameSessionPlacement`.
    StartGameSessionPlacement,
    /// `DescribeGameSessionPlacement`.
    DescribeGameSessionPlacement,
    /// `StopGameSessionPlacement`.
    StopGameSessionPlacement,
    /// `DescribeFleetAttributes`.
    DescribeFleetAttributes,
    /// `DescribeFleetCapacity`.
    DescribeFleetCapacity,
    /// `UpdateFleetCapacity`.
    UpdateFleetCapacity,
    /// `CreateBuild`.
    CreateBuild,
    /// `DescribeBuild`.
    DescribeBuild,
    /// `CreateFleet`.
    CreateFleet,
    /// `UpdateRuntimeConfiguration`.
    UpdateRuntimeConfiguration,
    /// `DescribeRuntimeConfiguration`.
    DescribeRuntimeConfiguration,
}

/// `CreateGameSessionInput`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateGameSessionInput {
    /// `FleetId` (this or `AliasId`).
    pub fleet_id: Option<String>,
    /// `AliasId` (this or `FleetId`).
    pub alias_id: Option<String>,
    /// `MaximumPlayerSessionCount` (required).
    pub maximum_player_session_count: i32,
    /// `Name`.
    pub name: Option<String>,
    /// `GameProperties`.
    pub game_properties: Vec<GameProperty>,
    /// `CreatorId`.
    pub creator_id: Option<String>,
    /// `GameSessionId`: a custom id for the end of the game session ARN.
    pub game_session_id: Option<String>,
    /// `IdempotencyToken` (legacy name for the same custom id).
    pub idempotency_token: Option<String>,
    /// `GameSessionData`.
    pub game_session_data: Option<String>,
    /// `Location`.
    pub location: Option<String>,
}

/// `DescribeGameSessionsInput`; `DescribeGameSessionDetailsInput` has the same members.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeGameSessionsInput {
    /// `FleetId`.
    pub fleet_id: Option<String>,
    /// `GameSessionId`.
    pub game_session_id: Option<String>,
    /// `AliasId`.
    pub alias_id: Option<String>,
    /// `Location`.
    pub location: Option<String>,
    /// `StatusFilter` (`ACTIVE`, `TERMINATED`, `ACTIVATING`, `TERMINATING`).
    pub status_filter: Option<String>,
    /// `Limit`.
    pub limit: Option<i32>,
    /// `NextToken`.
    pub next_token: Option<String>,
}

/// `DescribeGameSessionDetailsInput`: the same members as `DescribeGameSessionsInput`.
pub type DescribeGameSessionDetailsInput = DescribeGameSessionsInput;

/// `SearchGameSessionsInput`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchGameSessionsInput {
    /// `FleetId`.
    pub fleet_id: Option<String>,
    /// `AliasId`.
    pub alias_id: Option<String>,
    /// `Location`.
    pub location: Option<String>,
    /// `FilterExpression`, unparsed.
    pub filter_expression: Option<String>,
    /// `SortExpression`, unparsed.
    pub sort_expression: Option<String>,
    /// `Limit`.
    pub limit: Option<i32>,
    /// `NextToken`.
    pub next_token: Option<String>,
}

/// `TerminateGameSessionInput`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminateGameSessionInput {
    /// `GameSessionId` (required).
    pub game_session_id: String,
    /// `TerminationMode` (required).
    pub termination_mode: TerminationMode,
}

/// `CreatePlayerSessionInput`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatePlayerSessionInput {
    /// `GameSessionId` (required).
    pub game_session_id: String,
    /// `PlayerId` (required).
    pub player_id: String,
    /// `PlayerData`.
    pub player_data: Option<String>,
}

/// `CreatePlayerSessionsInput`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatePlayerSessionsInput {
    /// `GameSessionId` (required).
    pub game_session_id: String,
    /// `PlayerIds` (required).
    pub player_ids: Vec<String>,
    /// `PlayerDataMap`: player id to player data.
    pub player_data_map: BTreeMap<String, String>,
}

/// `DescribePlayerSessionsInput`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribePlayerSessionsInput {
    /// `GameSessionId`.
    pub game_session_id: Option<String>,
    /// `PlayerId`.
    pub player_id: Option<String>,
    /// `PlayerSessionId`.
    pub player_session_id: Option<String>,
    /// `PlayerSessionStatusFilter` (`RESERVED`, `ACTIVE`, `COMPLETED`, `TIMEDOUT`).
    pub player_session_status_filter: Option<String>,
    /// `Limit`.
    pub limit: Option<i32>,
    /// `NextToken`.
    pub next_token: Option<String>,
}

/// `StartGameSessionPlacementInput`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StartGameSessionPlacementInput {
    /// `PlacementId` (required).
    pub placement_id: String,
    /// `GameSessionQueueName` (required).
    pub game_session_queue_name: String,
    /// `GameProperties`.
    pub game_properties: Vec<GameProperty>,
    /// `MaximumPlayerSessionCount` (required).
    pub maximum_player_session_count: i32,
    /// `GameSessionName`.
    pub game_session_name: Option<String>,
    /// `PlayerLatencies`.
    pub player_latencies: Vec<PlayerLatency>,
    /// `DesiredPlayerSessions`.
    pub desired_player_sessions: Vec<DesiredPlayerSession>,
    /// `GameSessionData`.
    pub game_session_data: Option<String>,
    /// `PriorityConfigurationOverride`.
    pub priority_configuration_override: Option<PriorityConfigurationOverride>,
}

/// `DescribeGameSessionPlacementInput`; `StopGameSessionPlacementInput` has the same
/// single member.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlacementIdInput {
    /// `PlacementId` (required).
    pub placement_id: String,
}

/// `DescribeFleetAttributesInput`; `DescribeFleetCapacityInput` has the same members.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeFleetsInput {
    /// `FleetIds`: ids or ARNs; empty means every fleet.
    pub fleet_ids: Vec<String>,
    /// `Limit`.
    pub limit: Option<i32>,
    /// `NextToken`.
    pub next_token: Option<String>,
}

/// `UpdateFleetCapacityInput`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateFleetCapacityInput {
    /// `FleetId` (required): id or ARN.
    pub fleet_id: String,
    /// `DesiredInstances`.
    pub desired_instances: Option<i32>,
    /// `MinSize`.
    pub min_size: Option<i32>,
    /// `MaxSize`.
    pub max_size: Option<i32>,
    /// `Location`.
    pub location: Option<String>,
}

/// `CreateBuildInput`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateBuildInput {
    /// `Name`.
    pub name: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `StorageLocation`: where the files already are, if they were uploaded beforehand.
    pub storage_location: Option<S3Location>,
    /// `OperatingSystem`.
    pub operating_system: Option<OperatingSystem>,
    /// `ServerSdkVersion`.
    pub server_sdk_version: Option<String>,
}

/// `DescribeBuildInput`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeBuildInput {
    /// `BuildId` (required): id or ARN.
    pub build_id: String,
}

/// `CreateFleetInput`: the members fleet local records. Others (VPC peering, tags,
/// Anywhere, container and player-gateway settings) are accepted and ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateFleetInput {
    /// `Name` (required).
    pub name: String,
    /// `Description`.
    pub description: Option<String>,
    /// `BuildId`.
    pub build_id: Option<String>,
    /// `ScriptId` (Realtime fleets; refused here).
    pub script_id: Option<String>,
    /// `EC2InstanceType`.
    pub ec2_instance_type: Option<String>,
    /// `EC2InboundPermissions`.
    pub ec2_inbound_permissions: Vec<IpPermission>,
    /// `NewGameSessionProtectionPolicy`.
    pub new_game_session_protection_policy: Option<ProtectionPolicy>,
    /// `RuntimeConfiguration`.
    pub runtime_configuration: Option<RuntimeConfiguration>,
    /// `CertificateConfiguration`.
    pub certificate_configuration: Option<CertificateConfiguration>,
    /// `Locations`.
    pub locations: Vec<LocationConfiguration>,
    /// `FleetType` (`ON_DEMAND` or `SPOT`), unparsed.
    pub fleet_type: Option<String>,
    /// `ComputeType` (`EC2` or `ANYWHERE`), unparsed.
    pub compute_type: Option<String>,
}

/// `UpdateRuntimeConfigurationInput`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateRuntimeConfigurationInput {
    /// `FleetId` (required).
    pub fleet_id: String,
    /// `RuntimeConfiguration` (required).
    pub runtime_configuration: RuntimeConfiguration,
}

/// `DescribeRuntimeConfigurationInput`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetIdInput {
    /// `FleetId` (required).
    pub fleet_id: String,
}

/// A decoded request: one variant per operation, holding its input.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `CreateGameSession`.
    CreateGameSession(CreateGameSessionInput),
    /// `DescribeGameSessions`.
    DescribeGameSessions(DescribeGameSessionsInput),
    /// `DescribeGameSessionDetails`.
    DescribeGameSessionDetails(DescribeGameSessionDetailsInput),
    /// `SearchGameSessions`.
    SearchGameSessions(SearchGameSessionsInput),
    /// `TerminateGameSession`.
    TerminateGameSession(TerminateGameSessionInput),
    /// `CreatePlayerSession`.
    CreatePlayerSession(CreatePlayerSessionInput),
    /// `CreatePlayerSessions`.
    CreatePlayerSessions(CreatePlayerSessionsInput),
    /// `DescribePlayerSessions`.
    DescribePlayerSessions(DescribePlayerSessionsInput),
    /// `StartGameSessionPlacement`.
    StartGameSessionPlacement(StartGameSessionPlacementInput),
    /// `DescribeGameSessionPlacement`.
    DescribeGameSessionPlacement(PlacementIdInput),
    /// `StopGameSessionPlacement`.
    StopGameSessionPlacement(PlacementIdInput),
    /// `DescribeFleetAttributes`.
    DescribeFleetAttributes(DescribeFleetsInput),
    /// `DescribeFleetCapacity`.
    DescribeFleetCapacity(DescribeFleetsInput),
    /// `UpdateFleetCapacity`.
    UpdateFleetCapacity(UpdateFleetCapacityInput),
    /// `CreateBuild`.
    CreateBuild(CreateBuildInput),
    /// `DescribeBuild`.
    DescribeBuild(DescribeBuildInput),
    /// `CreateFleet`.
    CreateFleet(Box<CreateFleetInput>),
    /// `UpdateRuntimeConfiguration`.
    UpdateRuntimeConfiguration(UpdateRuntimeConfigurationInput),
    /// `DescribeRuntimeConfiguration`.
    DescribeRuntimeConfiguration(FleetIdInput),
}

impl Request {
    /// The operation this request is for.
    pub fn operation(&self) -> Operation {
        match self {
            Request::CreateGameSession(_) => Operation::CreateGameSession,
            Request::DescribeGameSessions(_) => Operation::DescribeGameSessions,
            Request::DescribeGameSessionDetails(_) => Operation::DescribeGameSessionDetails,
            Request::SearchGameSessions(_) => Operation::SearchGameSessions,
            Request::TerminateGameSession(_) => Operation::TerminateGameSession,
            Request::CreatePlayerSession(_) => Operation::CreatePlayerSession,
            Request::CreatePlayerSessions(_) => Operation::CreatePlayerSessions,
            Request::DescribePlayerSessions(_) => Operation::DescribePlayerSessions,
            Request::StartGameSessionPlacement(_) => Operation::StartGameSessionPlacement,
            Request::DescribeGameSessionPlacement(_) => Operation::DescribeGameSessionPlacement,
            Request::StopGameSessionPlacement(_) => Operation::StopGameSessionPlacement,
            Request::DescribeFleetAttributes(_) => Operation::DescribeFleetAttributes,
            Request::DescribeFleetCapacity(_) => Operation::DescribeFleetCapacity,
            Request::UpdateFleetCapacity(_) => Operation::UpdateFleetCapacity,
            Request::CreateBuild(_) => Operation::CreateBuild,
            Request::DescribeBuild(_) => Operation::DescribeBuild,
            Request::CreateFleet(_) => Operation::CreateFleet,
            Request::UpdateRuntimeConfiguration(_) => Operation::UpdateRuntimeConfiguration,
            Request::DescribeRuntimeConfiguration(_) => Operation::DescribeRuntimeConfiguration,
        }
    }

    /// Reads `operation`'s input structure out of a decoded body.
    pub(crate) fn from_value(operation: Operation, body: Value) -> Result<Self, ApiError> {
        let mut m = Members::new(body, "")?;
        Ok(match operation {
            Operation::CreateGameSession => Request::CreateGameSession(CreateGameSessionInput {
                fleet_id: m.opt("FleetId")?,
                alias_id: m.opt("AliasId")?,
                maximum_player_session_count: m.req("MaximumPlayerSessionCount")?,
                name: m.opt("Name")?,
                game_properties: m.list("GameProperties")?,
                creator_id: m.opt("CreatorId")?,
                game_session_id: m.opt("GameSessionId")?,
                idempotency_token: m.opt("IdempotencyToken")?,
                game_session_data: m.opt("GameSessionData")?,
                location: m.opt("Location")?,
            }),
            Operation::DescribeGameSessions => {
                Request::DescribeGameSessions(describe_game_sessions(&mut m)?)
            }
            Operation::DescribeGameSessionDetails => {
                Request::DescribeGameSessionDetails(describe_game_sessions(&mut m)?)
            }
            Operation::SearchGameSessions => Request::SearchGameSessions(SearchGameSessionsInput {
                fleet_id: m.opt("FleetId")?,
                alias_id: m.opt("AliasId")?,
                location: m.opt("Location")?,
                filter_expression: m.opt("FilterExpression")?,
                sort_expression: m.opt("SortExpression")?,
                limit: m.opt("Limit")?,
                next_token: m.opt("NextToken")?,
            }),
            Operation::TerminateGameSession => {
                Request::TerminateGameSession(TerminateGameSessionInput {
                    game_session_id: m.req("GameSessionId")?,
                    termination_mode: m.req("TerminationMode")?,
                })
            }
            Operation::CreatePlayerSession => {
                Request::CreatePlayerSession(CreatePlayerSessionInput {
                    game_session_id: m.req("GameSessionId")?,
                    player_id: m.req("PlayerId")?,
                    player_data: m.opt("PlayerData")?,
                })
            }
            Operation::CreatePlayerSessions => {
                Request::CreatePlayerSessions(CreatePlayerSessionsInput {
                    game_session_id: m.req("GameSessionId")?,
                    player_ids: m.req("PlayerIds")?,
                    player_data_map: m.opt("PlayerDataMap")?.unwrap_or_default(),
                })
            }
            Operation::DescribePlayerSessions => {
                Request::DescribePlayerSessions(DescribePlayerSessionsInput {
                    game_session_id: m.opt("GameSessionId")?,
                    player_id: m.opt("PlayerId")?,
                    player_session_id: m.opt("PlayerSessionId")?,
                    player_session_status_filter: m.opt("PlayerSessionStatusFilter")?,
                    limit: m.opt("Limit")?,
                    next_token: m.opt("NextToken")?,
                })
            }
            Operation::StartGameSessionPlacement => {
                Request::StartGameSessionPlacement(StartGameSessionPlacementInput {
                    placement_id: m.req("PlacementId")?,
                    game_session_queue_name: m.req("GameSessionQueueName")?,
                    game_properties: m.list("GameProperties")?,
                    maximum_player_session_count: m.req("MaximumPlayerSessionCount")?,
                    game_session_name: m.opt("GameSessionName")?,
                    player_latencies: m.list("PlayerLatencies")?,
                    desired_player_sessions: m.list("DesiredPlayerSessions")?,
                    game_session_data: m.opt("GameSessionData")?,
                    priority_configuration_override: m.opt("PriorityConfigurationOverride")?,
                })
            }
            Operation::DescribeGameSessionPlacement => {
                Request::DescribeGameSessionPlacement(PlacementIdInput {
                    placement_id: m.req("PlacementId")?,
                })
            }
            Operation::StopGameSessionPlacement => {
                Request::StopGameSessionPlacement(PlacementIdInput {
                    placement_id: m.req("PlacementId")?,
                })
            }
            Operation::DescribeFleetAttributes => {
                Request::DescribeFleetAttributes(describe_fleets(&mut m)?)
            }
            Operation::DescribeFleetCapacity => {
                Request::DescribeFleetCapacity(describe_fleets(&mut m)?)
            }
            Operation::UpdateFleetCapacity => {
                Request::UpdateFleetCapacity(UpdateFleetCapacityInput {
                    fleet_id: m.req("FleetId")?,
                    desired_instances: m.opt("DesiredInstances")?,
                    min_size: m.opt("MinSize")?,
                    max_size: m.opt("MaxSize")?,
                    location: m.opt("Location")?,
                })
            }
            Operation::CreateBuild => Request::CreateBuild(CreateBuildInput {
                name: m.opt("Name")?,
                version: m.opt("Version")?,
                storage_location: m.opt("StorageLocation")?,
                operating_system: m.opt("OperatingSystem")?,
                server_sdk_version: m.opt("ServerSdkVersion")?,
            }),
            Operation::DescribeBuild => Request::DescribeBuild(DescribeBuildInput {
                build_id: m.req("BuildId")?,
            }),
            Operation::CreateFleet => Request::CreateFleet(Box::new(CreateFleetInput {
                name: m.req("Name")?,
                description: m.opt("Description")?,
                build_id: m.opt("BuildId")?,
                script_id: m.opt("ScriptId")?,
                ec2_instance_type: m.opt("EC2InstanceType")?,
                ec2_inbound_permissions: m.list("EC2InboundPermissions")?,
                new_game_session_protection_policy: m.opt("NewGameSessionProtectionPolicy")?,
                runtime_configuration: m.opt("RuntimeConfiguration")?,
                certificate_configuration: m.opt("CertificateConfiguration")?,
                locations: m.list("Locations")?,
                fleet_type: m.opt("FleetType")?,
                compute_type: m.opt("ComputeType")?,
            })),
            Operation::UpdateRuntimeConfiguration => {
                Request::UpdateRuntimeConfiguration(UpdateRuntimeConfigurationInput {
                    fleet_id: m.req("FleetId")?,
                    runtime_configuration: m.req("RuntimeConfiguration")?,
                })
            }
            Operation::DescribeRuntimeConfiguration => {
                Request::DescribeRuntimeConfiguration(FleetIdInput {
                    fleet_id: m.req("FleetId")?,
                })
            }
        })
    }
}

fn describe_game_sessions(m: &mut Members) -> Result<DescribeGameSessionsInput, ApiError> {
    Ok(DescribeGameSessionsInput {
        fleet_id: m.opt("FleetId")?,
        game_session_id: m.opt("GameSessionId")?,
        alias_id: m.opt("AliasId")?,
        location: m.opt("Location")?,
        status_filter: m.opt("StatusFilter")?,
        limit: m.opt("Limit")?,
        next_token: m.opt("NextToken")?,
    })
}

fn describe_fleets(m: &mut Members) -> Result<DescribeFleetsInput, ApiError> {
    Ok(DescribeFleetsInput {
        fleet_ids: m.list("FleetIds")?,
        limit: m.opt("Limit")?,
        next_token: m.opt("NextToken")?,
    })
}
