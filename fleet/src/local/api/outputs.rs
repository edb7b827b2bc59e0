//! The operations' outputs and [`Response`], member for member as the SDK's
//! deserializers read them (`protocol_serde/shape_<operation>.rs` in `aws-sdk-gamelift`).
//! Result lists are always written, empty or not, and `NextToken` only when there is a
//! next page.

use super::builds::{AwsCredentials, Build, LocationState, RuntimeConfiguration, S3Location};
use super::fleet::{FleetAttributes, FleetCapacity};
use super::ops::Operation;
use super::sessions::{GameSession, GameSessionDetail, GameSessionPlacement, PlayerSession};
use super::value::{Obj, Value};

/// `CreateGameSessionOutput`; `TerminateGameSessionOutput` has the same single member.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GameSessionOutput {
    /// `GameSession`.
    pub game_session: GameSession,
}

/// `DescribeGameSessionsOutput`; `SearchGameSessionsOutput` has the same members.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GameSessionsOutput {
    /// `GameSessions`: this page.
    pub game_sessions: Vec<GameSession>,
    /// `NextToken`: where the next page starts, if there is one.
    pub next_token: Option<String>,
}

/// `DescribeGameSessionDetailsOutput`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GameSessionDetailsOutput {
    /// `GameSessionDetails`: this page.
    pub game_session_details: Vec<GameSessionDetail>,
    /// `NextToken`.
    pub next_token: Option<String>,
}

/// `CreatePlayerSessionOutput`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlayerSessionOutput {
    /// `PlayerSession`.
    pub player_session: PlayerSession,
}

/// `CreatePlayerSessionsOutput` (no `NextToken`) and `DescribePlayerSessionsOutput`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlayerSessionsOutput {
    /// `PlayerSessions`.
    pub player_sessions: Vec<PlayerSession>,
    /// `NextToken`; never written for CreatePlayerSessions, whose output has no such member.
    pub next_token: Option<String>,
}

/// `StartGameSessionPlacementOutput`, `DescribeGameSessionPlacementOutput` and
/// `StopGameSessionPlacementOutput`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GameSessionPlacementOutput {
    /// `GameSessionPlacement`.
    pub game_session_placement: GameSessionPlacement,
}

/// `DescribeFleetAttributesOutput`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetAttributesOutput {
    /// `FleetAttributes`: this page.
    pub fleet_attributes: Vec<FleetAttributes>,
    /// `NextToken`.
    pub next_token: Option<String>,
}

/// `DescribeFleetCapacityOutput`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetCapacityOutput {
    /// `FleetCapacity`: this page.
    pub fleet_capacity: Vec<FleetCapacity>,
    /// `NextToken`.
    pub next_token: Option<String>,
}

/// `UpdateFleetCapacityOutput`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateFleetCapacityOutput {
    /// `FleetId`.
    pub fleet_id: Option<String>,
    /// `FleetArn`.
    pub fleet_arn: Option<String>,
    /// `Location`.
    pub location: Option<String>,
}

/// `CreateBuildOutput`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateBuildOutput {
    /// `Build`.
    pub build: Build,
    /// `UploadCredentials`.
    pub upload_credentials: Option<AwsCredentials>,
    /// `StorageLocation`: where to upload the build's zip.
    pub storage_location: Option<S3Location>,
}

/// `DescribeBuildOutput`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BuildOutput {
    /// `Build`.
    pub build: Build,
}

/// `CreateFleetOutput`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateFleetOutput {
    /// `FleetAttributes`.
    pub fleet_attributes: FleetAttributes,
    /// `LocationStates`.
    pub location_states: Vec<LocationState>,
}

/// `UpdateRuntimeConfigurationOutput` and `DescribeRuntimeConfigurationOutput`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfigurationOutput {
    /// `RuntimeConfiguration`.
    pub runtime_configuration: RuntimeConfiguration,
}

/// An operation's result: one variant per operation, holding its output.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// `CreateGameSession`.
    CreateGameSession(GameSessionOutput),
    /// `DescribeGameSessions`.
    DescribeGameSessions(GameSessionsOutput),
    /// `DescribeGameSessionDetails`.
    DescribeGameSessionDetails(GameSessionDetailsOutput),
    /// `SearchGameSessions`.
    SearchGameSessions(GameSessionsOutput),
    /// `TerminateGameSession`.
    TerminateGameSession(GameSessionOutput),
    /// `CreatePlayerSession`.
    CreatePlayerSession(PlayerSessionOutput),
    /// `CreatePlayerSessions`.
    CreatePlayerSessions(PlayerSessionsOutput),
    /// `DescribePlayerSessions`.
    DescribePlayerSessions(PlayerSessionsOutput),
    /// `StartGameSessionPlacement`.
    StartGameSessionPlacement(GameSessionPlacementOutput),
    /// `DescribeGameSessionPlacement`.
    DescribeGameSessionPlacement(GameSessionPlacementOutput),
    /// `StopGameSessionPlacement`.
    StopGameSessionPlacement(GameSessionPlacementOutput),
    /// `DescribeFleetAttributes`.
    DescribeFleetAttributes(FleetAttributesOutput),
    /// `DescribeFleetCapacity`.
    DescribeFleetCapacity(FleetCapacityOutput),
    /// `UpdateFleetCapacity`.
    UpdateFleetCapacity(UpdateFleetCapacityOutput),
    /// `CreateBuild`.
    CreateBuild(CreateBuildOutput),
    /// `DescribeBuild`.
    DescribeBuild(BuildOutput),
    /// `CreateFleet`.
    CreateFleet(CreateFleetOutput),
    /// `UpdateRuntimeConfiguration`.
    UpdateRuntimeConfiguration(RuntimeConfigurationOutput),
    /// `DescribeRuntimeConfiguration`.
    DescribeRuntimeConfiguration(RuntimeConfigurationOutput),
}

impl Response {
    /// The operation this response answers.
    pub fn operation(&self) -> Operation {
        match self {
            Response::CreateGameSession(_) => Operation::CreateGameSession,
            Response::DescribeGameSessions(_) => Operation::DescribeGameSessions,
            Response::DescribeGameSessionDetails(_) => Operation::DescribeGameSessionDetails,
            Response::SearchGameSessions(_) => Operation::SearchGameSessions,
            Response::TerminateGameSession(_) => Operation::TerminateGameSession,
            Response::CreatePlayerSession(_) => Operation::CreatePlayerSession,
            Response::CreatePlayerSessions(_) => Operation::CreatePlayerSessions,
            Response::DescribePlayerSessions(_) => Operation::DescribePlayerSessions,
            Response::StartGameSessionPlacement(_) => Operation::StartGameSessionPlacement,
            Response::DescribeGameSessionPlacement(_) => Operation::DescribeGameSessionPlacement,
            Response::StopGameSessionPlacement(_) => Operation::StopGameSessionPlacement,
            Response::DescribeFleetAttributes(_) => Operation::DescribeFleetAttributes,
            Response::DescribeFleetCapacity(_) => Operation::DescribeFleetCapacity,
            Response::UpdateFleetCapacity(_) => Operation::UpdateFleetCapacity,
            Response::CreateBuild(_) => Operation::CreateBuild,
            Response::DescribeBuild(_) => Operation::DescribeBuild,
            Response::CreateFleet(_) => Operation::CreateFleet,
            Response::UpdateRuntimeConfiguration(_) => Operation::UpdateRuntimeConfiguration,
            Response::DescribeRuntimeConfiguration(_) => Operation::DescribeRuntimeConfiguration,
        }
    }

    /// The output structure as both codecs write it.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Response::CreateGameSession(out) | Response::TerminateGameSession(out) => {
                Obj::new().field("GameSession", &out.game_session).build()
            }
            Response::DescribeGameSessions(out) | Response::SearchGameSessions(out) => Obj::new()
                .field("GameSessions", &out.game_sessions)
                .opt("NextToken", &out.next_token)
                .build(),
            Response::DescribeGameSessionDetails(out) => Obj::new()
                .field("GameSessionDetails", &out.game_session_details)
                .opt("NextToken", &out.next_token)
                .build(),
            Response::CreatePlayerSession(out) => Obj::new()
                .field("PlayerSession", &out.player_session)
                .build(),
            Response::CreatePlayerSessions(out) => Obj::new()
                .field("PlayerSessions", &out.player_sessions)
                .build(),
            Response::DescribePlayerSessions(out) => Obj::new()
                .field("PlayerSessions", &out.player_sessions)
                .opt("NextToken", &out.next_token)
                .build(),
            Response::StartGameSessionPlacement(out)
            | Response::DescribeGameSessionPlacement(out)
            | Response::StopGameSessionPlacement(out) => Obj::new()
                .field("GameSessionPlacement", &out.game_session_placement)
                .build(),
            Response::DescribeFleetAttributes(out) => Obj::new()
                .field("FleetAttributes", &out.fleet_attributes)
                .opt("NextToken", &out.next_token)
                .build(),
            Response::DescribeFleetCapacity(out) => Obj::new()
                .field("FleetCapacity", &out.fleet_capacity)
                .opt("NextToken", &out.next_token)
                .build(),
            Response::UpdateFleetCapacity(out) => Obj::new()
                .opt("FleetId", &out.fleet_id)
                .opt("FleetArn", &out.fleet_arn)
                .opt("Location", &out.location)
                .build(),
            Response::CreateBuild(out) => Obj::new()
                .field("Build", &out.build)
                .opt("UploadCredentials", &out.upload_credentials)
                .opt("StorageLocation", &out.storage_location)
                .build(),
            Response::DescribeBuild(out) => Obj::new().field("Build", &out.build).build(),
            Response::CreateFleet(out) => Obj::new()
                .field("FleetAttributes", &out.fleet_attributes)
                .field("LocationStates", &out.location_states)
                .build(),
            Response::UpdateRuntimeConfiguration(out)
            | Response::DescribeRuntimeConfiguration(out) => Obj::new()
                .field("RuntimeConfiguration", &out.runtime_configuration)
                .build(),
        }
    }
}
