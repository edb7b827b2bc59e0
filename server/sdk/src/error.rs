//! [`SdkError`]: every way an SDK call can fail, local refusals and service errors alike.

use protocol::sdk5::{Action, Sdk5Error, ServiceError, ServiceErrorKind};

use crate::config::ConfigError;

/// Why an SDK call failed.
///
/// Local refusals (the call was never sent) mirror the official SDKs' ordering rules
/// (§4, §6.2); [`Service`](Self::Service) carries the service's error response (§3.1).
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The configuration was refused before connecting.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The first connection could not be opened after every attempt (§2.6).
    #[error("could not connect to the GameLift endpoint: {0}")]
    ConnectFailed(String),
    /// No connection was ever established (the core was not started with `connect`).
    #[error("the SDK is not initialised")]
    NotInitialized,
    /// The connection was closed for good (the service closed with 1000/1001, or
    /// reconnecting failed every attempt); no further call can be sent.
    #[error("the connection to GameLift is closed")]
    ConnectionClosed,
    /// `destroy` was called.
    #[error("the SDK was destroyed")]
    Destroyed,
    /// `process_ready` was already called successfully (or is in flight), or the process
    /// is ending.
    #[error("ProcessReady was already called")]
    AlreadyReady,
    /// The call needs a ready process (`process_ready` succeeded): Go's `ProcessNotReady`.
    #[error("the process is not ready: call process_ready first")]
    ProcessNotReady,
    /// The call needs a game session, and no `CreateGameSession` has been received:
    /// Go's `GamesessionIDNotSet`.
    #[error("no game session: wait for on_start_game_session")]
    GameSessionIdNotSet,
    /// An argument failed the SDKs' client-side validation.
    #[error("invalid {field}: {reason}")]
    InvalidArgument {
        /// The wire name of the field, e.g. `PlayerSessionId`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The service answered with a non-200 `StatusCode` (or, for
    /// `get_fleet_role_credentials` on a compute without role credentials, the SDK
    /// answers `BadRequest` locally, as every official SDK does).
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// No response within the deadline (20 s, 6 s for `ActivateServerProcess`).
    #[error("{action} got no response in time")]
    Timeout {
        /// The request's action.
        action: Action,
    },
    /// A 200 response whose body did not decode.
    #[error("malformed {action} response: {source}")]
    BadResponse {
        /// The request's action.
        action: Action,
        /// The decoding error.
        source: Sdk5Error,
    },
}

impl SdkError {
    /// The service error class, for [`Service`](Self::Service) errors.
    pub fn service_kind(&self) -> Option<ServiceErrorKind> {
        match self {
            SdkError::Service(error) => Some(error.kind),
            _ => None,
        }
    }

    /// A `BadRequest` produced locally (no `StatusCode` was received).
    pub(crate) fn local_bad_request(message: impl Into<String>) -> SdkError {
        SdkError::Service(ServiceError {
            kind: ServiceErrorKind::BadRequest,
            status_code: None,
            message: message.into(),
        })
    }

    /// An [`InvalidArgument`](Self::InvalidArgument).
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> SdkError {
        SdkError::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }
}
