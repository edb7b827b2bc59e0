//! [`ApiError`]: what an operation fails with, named as GameLift names its exceptions.
//!
//! The fleet core returns the modeled exceptions; the codecs produce the protocol ones
//! (`UnknownOperation`, `Serialization`, `UnsupportedMediaType`). Each codec turns an
//! error into the protocol's error body (`__type` with the absolute shape id, plus
//! `Message`) and status code; see `cbor.rs` and `json.rs`.

/// The namespace of GameLift's modeled exceptions.
pub const GAMELIFT_NAMESPACE: &str = "com.amazonaws.gamelift";

/// The namespace AWS services use for protocol-level errors that are not in a model.
pub const PROTOCOL_NAMESPACE: &str = "com.amazon.coral.service";

/// Which exception an operation failed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `InvalidRequestException`: a parameter is invalid, including a missing required
    /// member or a value outside the model's constraints.
    InvalidRequest,
    /// `NotFoundException`: the fleet, game session, player session or placement does not
    /// exist.
    NotFound,
    /// `FleetCapacityExceededException`: no server process can host a new game session.
    FleetCapacityExceeded,
    /// `GameSessionFullException`: the game session has no free player slots.
    GameSessionFull,
    /// `InvalidGameSessionStatusException`: the game session is not in a status that
    /// allows the request (for example not `ACTIVE` for a player session).
    InvalidGameSessionStatus,
    /// `InvalidFleetStatusException`: the fleet is not `ACTIVE`.
    InvalidFleetStatus,
    /// `ConflictException`: the resource is being changed by another request.
    Conflict,
    /// `IdempotentParameterMismatchException`: an idempotency token or id was reused with
    /// different parameters.
    IdempotentParameterMismatch,
    /// `LimitExceededException`: a service limit or creation policy was hit.
    LimitExceeded,
    /// `TerminalRoutingStrategyException`: the alias routes to a terminal message.
    TerminalRoutingStrategy,
    /// `UnauthorizedException`: the caller may not make this request.
    Unauthorized,
    /// `UnsupportedRegionException`: the request names a Region or location that is not
    /// supported.
    UnsupportedRegion,
    /// `NotReadyException`: the game session is not ready yet (TerminateGameSession).
    NotReady,
    /// `InternalServiceException`: the service failed; the only 500.
    InternalService,
    /// `UnknownOperationException`: no such operation, or the request's protocol headers
    /// do not name one.
    UnknownOperation,
    /// `SerializationException`: the body is not valid CBOR/JSON, a member has the wrong
    /// type, or the body is too large.
    Serialization,
    /// `UnsupportedMediaTypeException`: an RPC v2 CBOR request whose `Content-Type` is not
    /// `application/cbor`.
    UnsupportedMediaType,
}

impl ErrorKind {
    /// Every kind, for tests and tables.
    pub const ALL: [ErrorKind; 17] = [
        ErrorKind::InvalidRequest,
        ErrorKind::NotFound,
        ErrorKind::FleetCapacityExceeded,
        ErrorKind::GameSessionFull,
        ErrorKind::InvalidGameSessionStatus,
        ErrorKind::InvalidFleetStatus,
        ErrorKind::Conflict,
        ErrorKind::IdempotentParameterMismatch,
        ErrorKind::LimitExceeded,
        ErrorKind::TerminalRoutingStrategy,
        ErrorKind::Unauthorized,
        ErrorKind::UnsupportedRegion,
        ErrorKind::NotReady,
        ErrorKind::InternalService,
        ErrorKind::UnknownOperation,
        ErrorKind::Serialization,
        ErrorKind::UnsupportedMediaType,
    ];

    /// The exception's shape name, as clients match it (`NotFoundException`).
    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "InvalidRequestException",
            ErrorKind::NotFound => "NotFoundException",
            ErrorKind::FleetCapacityExceeded => "FleetCapacityExceededException",
            ErrorKind::GameSessionFull => "GameSessionFullException",
            ErrorKind::InvalidGameSessionStatus => "InvalidGameSessionStatusException",
            ErrorKind::InvalidFleetStatus => "InvalidFleetStatusException",
            ErrorKind::Conflict => "ConflictException",
            ErrorKind::IdempotentParameterMismatch => "IdempotentParameterMismatchException",
            ErrorKind::LimitExceeded => "LimitExceededException",
            ErrorKind::TerminalRoutingStrategy => "TerminalRoutingStrategyException",
            ErrorKind::Unauthorized => "UnauthorizedException",
            ErrorKind::UnsupportedRegion => "UnsupportedRegionException",
            ErrorKind::NotReady => "NotReadyException",
            ErrorKind::InternalService => "InternalServiceException",
            ErrorKind::UnknownOperation => "UnknownOperationException",
            ErrorKind::Serialization => "SerializationException",
            ErrorKind::UnsupportedMediaType => "UnsupportedMediaTypeException",
        }
    }

    /// Whether the error comes from the protocol layer rather than from GameLift's model.
    pub const fn is_protocol_error(self) -> bool {
        matches!(
            self,
            ErrorKind::UnknownOperation
                | ErrorKind::Serialization
                | ErrorKind::UnsupportedMediaType
        )
    }

    /// The absolute shape id that goes into `__type`
    /// (`com.amazonaws.gamelift#NotFoundException`).
    pub fn shape_id(self) -> String {
        let namespace = if self.is_protocol_error() {
            PROTOCOL_NAMESPACE
        } else {
            GAMELIFT_NAMESPACE
        };
        format!("{namespace}#{}", self.name())
    }

    /// The HTTP status under RPC v2 CBOR: every modeled GameLift exception is a client
    /// error (400) except `InternalServiceException` (500); an unknown operation is 404
    /// and a wrong media type 415, as smithy-rs servers answer. AWS JSON 1.1 differs only
    /// for `UnknownOperationException` (400); see `json::status`.
    pub const fn status(self) -> u16 {
        match self {
            ErrorKind::InternalService => 500,
            ErrorKind::UnknownOperation => 404,
            ErrorKind::UnsupportedMediaType => 415,
            _ => 400,
        }
    }
}

/// An operation's failure: which exception, and the message the client sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", kind.name())]
pub struct ApiError {
    /// Which exception.
    pub kind: ErrorKind,
    /// The human-readable `Message`.
    pub message: String,
}

impl ApiError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// An `InvalidRequestException`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    /// A `NotFoundException`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    /// An `InternalServiceException`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InternalService, message)
    }
}
