//! The control-plane wire layer of `fleet local`: the subset of the GameLift API a
//! matchmaking backend uses, served in both protocols the real service accepts, so that
//! any AWS SDK works against it by endpoint URL.
//!
//! - **Smithy RPC v2 CBOR** ([`cbor`]), what `aws-sdk-gamelift` 1.13x speaks:
//!   `POST /service/GameLift/operation/<Op>`, `smithy-protocol: rpc-v2-cbor`, CBOR bodies
//!   encoded and decoded with the SDK's own `aws-smithy-cbor`.
//! - **AWS JSON 1.1** ([`json`]), what boto3 and older SDKs speak: `POST /`,
//!   `X-Amz-Target: GameLift.<Op>`, `Content-Type: application/x-amz-json-1.1`.
//!
//! Both are served by one [`router`] on one port. The operations ([`Operation`]) are
//! CreateGameSession, DescribeGameSessions, DescribeGameSessionDetails,
//! SearchGameSessions, TerminateGameSession, CreatePlayerSession, CreatePlayerSessions,
//! DescribePlayerSessions, StartGameSessionPlacement, DescribeGameSessionPlacement,
//! StopGameSessionPlacement, DescribeFleetAttributes, DescribeFleetCapacity,
//! UpdateFleetCapacity, CreateBuild, DescribeBuild, CreateFleet,
//! UpdateRuntimeConfiguration and DescribeRuntimeConfiguration; their
//! inputs and outputs ([`Request`], [`Response`]) and errors ([`ApiError`]) carry the real
//! API's member names, types, enum values and exception names, so a client cannot tell
//! this from GameLift.
//!
//! **Identity is not checked.** Like other local emulators, it accepts any credentials:
//! the SigV4 headers (`Authorization`, `X-Amz-Date`, `X-Amz-Security-Token`,
//! `X-Amz-Content-Sha256`) are accepted and ignored, so clients use dummy static
//! credentials and any Region.
//!
//! **What it is not:** game-session logic. It decodes a request, hands it to a
//! [`ControlPlane`] (the fleet core, which owns game sessions, player sessions, placements
//! and the processes that host them) and encodes whatever that returns. It does not
//! page, filter, validate ids or apply GameLift's rules beyond the model's types and
//! required members; those answers, including `NextToken`, come from the core.
//!
//! # Example
//!
//! ```no_run
//! use std::sync::Arc;
//! use fleet::local::api::{self, ApiError, ControlPlane, Request, Response};
//!
//! struct Core;
//!
//! impl ControlPlane for Core {
//!     async fn call(&self, request: Request) -> Result<Response, ApiError> {
//!         Err(ApiError::not_found(format!("nothing here for {:?}", request.operation())))
//!     }
//! }
//!
//! # async fn serve() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, api::router(Arc::new(Core))).await
//! # }
//! ```

use std::future::Future;

mod builds;
pub mod cbor;
mod error;
mod fleet;
mod http;
pub mod json;
mod ops;
mod outputs;
mod sessions;
mod shapes;
mod value;

pub use builds::{
    AwsCredentials, Build, BuildStatus, IpPermission, IpProtocol, LocationConfiguration,
    LocationState, RuntimeConfiguration, S3Location, ServerProcess,
};
pub use error::{ApiError, ErrorKind, GAMELIFT_NAMESPACE, PROTOCOL_NAMESPACE};
pub use fleet::{
    AnywhereConfiguration, CertificateConfiguration, CertificateType, ComputeType,
    Ec2InstanceCounts, FleetAttributes, FleetCapacity, FleetStatus, FleetType, OperatingSystem,
    ResourceCreationLimitPolicy,
};
pub use http::router;
pub use ops::{
    CreateBuildInput, CreateFleetInput, CreateGameSessionInput, CreatePlayerSessionInput,
    CreatePlayerSessionsInput, DescribeBuildInput, DescribeFleetsInput,
    DescribeGameSessionDetailsInput, DescribeGameSessionsInput, DescribePlayerSessionsInput,
    FleetIdInput, Operation, PlacementIdInput, Request, SearchGameSessionsInput,
    StartGameSessionPlacementInput, TerminateGameSessionInput, UpdateFleetCapacityInput,
    UpdateRuntimeConfigurationInput,
};
pub use outputs::{
    BuildOutput, CreateBuildOutput, CreateFleetOutput, FleetAttributesOutput, FleetCapacityOutput,
    GameSessionDetailsOutput, GameSessionOutput, GameSessionPlacementOutput, GameSessionsOutput,
    PlayerSessionOutput, PlayerSessionsOutput, Response, RuntimeConfigurationOutput,
    UpdateFleetCapacityOutput,
};
pub use sessions::{
    GameSession, GameSessionDetail, GameSessionPlacement, PlacedPlayerSession, PlayerSession,
    ProtectionPolicy,
};
pub use shapes::{
    DesiredPlayerSession, GameProperty, GameSessionPlacementState, GameSessionStatus,
    GameSessionStatusReason, PlacementFallbackStrategy, PlayerLatency, PlayerSessionCreationPolicy,
    PlayerSessionStatus, PriorityConfigurationOverride, TerminationMode, Timestamp,
};

/// The largest request body accepted (1 MiB); a larger one is a `SerializationException`.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The fleet core as the API sees it: one call per decoded request.
///
/// Implementations answer with the [`Response`] variant of the request's operation (any
/// other variant is reported to the client as `InternalServiceException`) or with an
/// [`ApiError`] naming the exception GameLift would raise.
pub trait ControlPlane: Send + Sync + 'static {
    /// Handles one request.
    fn call(&self, request: Request) -> impl Future<Output = Result<Response, ApiError>> + Send;
}
