//! The one error shape of the API: `{"error": {"code": "...", "message": "..."}}`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::validate::ValidationError;

/// What went wrong, as a stable machine-readable code. Clients branch on this (and on the
/// HTTP status, which [`ErrorCode::status`] fixes per code); the message is for humans.
///
/// Wire form: a `snake_case` string (`"not_found"`). A code this copy of the crate does not
/// know reads as [`ErrorCode::Unknown`], so the backend can add codes within `/v1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body, a query parameter or a path parameter broke a rule (see
    /// [`ValidationError`]), or the JSON did not parse. `400`.
    InvalidRequest,
    /// No bearer token, or one that is malformed, expired or not signed by a trusted key.
    /// `401`.
    Unauthorized,
    /// The token is valid but the caller may not do this (cancelling someone else's
    /// ticket, naming a player in a party they did not join). `403`.
    Forbidden,
    /// The ticket, player or board does not exist (or is not visible to the caller). `404`.
    NotFound,
    /// The path exists but not with this method. `405`.
    MethodNotAllowed,
    /// The request conflicts with current state: the caller or a party member already has
    /// a live ticket, for instance. `409`.
    Conflict,
    /// The body is larger than [`MAX_REQUEST_BODY_BYTES`](super::MAX_REQUEST_BODY_BYTES).
    /// `413`.
    PayloadTooLarge,
    /// The body is not `application/json`. `415`.
    UnsupportedMediaType,
    /// The caller sent too many requests; the response carries `Retry-After`. `429`.
    RateLimited,
    /// A bug or an unexpected failure inside the backend; the message never leaks details.
    /// `500`.
    Internal,
    /// A dependency (GameLift, DynamoDB, Redis) is unreachable or throttling, or the backend
    /// is draining; retrying later may succeed. `503`.
    Unavailable,
    /// A code newer than this copy of the crate. Only ever produced by deserializing; the
    /// backend never sends it. Clients fall back on the HTTP status. Maps to `500`.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// Every code, in declaration order (for tests and for generating documentation).
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::InvalidRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
        ErrorCode::Unknown,
    ];

    /// The HTTP status code the backend answers with for this code.
    pub const fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal | ErrorCode::Unknown => 500,
            ErrorCode::Unavailable => 503,
        }
    }

    /// The code a client should assume when a response has an error status but no
    /// [`ErrorBody`] (a load balancer or proxy answered, or the body did not parse).
    /// The inverse of [`ErrorCode::status`] where one exists; other 4xx statuses read as
    /// [`ErrorCode::InvalidRequest`], `502` and `504` as [`ErrorCode::Unavailable`], other
    /// 5xx as [`ErrorCode::Internal`], and anything else as [`ErrorCode::Unknown`].
    pub const fn from_status(status: u16) -> ErrorCode {
        match status {
            401 => ErrorCode::Unauthorized,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            409 => ErrorCode::Conflict,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            429 => ErrorCode::RateLimited,
            400..=499 => ErrorCode::InvalidRequest,
            502..=504 => ErrorCode::Unavailable,
            500..=599 => ErrorCode::Internal,
            _ => ErrorCode::Unknown,
        }
    }

    /// The wire string (`"not_found"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Unknown => "unknown",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The inside of an error response: a code and a human-readable message.
///
/// Also usable as a Rust error by clients (it implements [`std::error::Error`]).
/// The message is written for a developer reading logs, says which rule or resource is
/// involved, and never carries internals (stack traces, SQL-like details, AWS error text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The machine-readable code; fixes the HTTP status.
    pub code: ErrorCode,
    /// What happened, for a human.
    pub message: String,
}

impl ApiError {
    /// An error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status to answer with ([`ErrorCode::status`] of the code).
    pub const fn status(&self) -> u16 {
        self.code.status()
    }
}

impl From<ValidationError> for ApiError {
    /// Every validation failure is `invalid_request` (400), its message the error's
    /// `Display` text, which names the rule and the limit.
    fn from(err: ValidationError) -> ApiError {
        ApiError::new(ErrorCode::InvalidRequest, err.to_string())
    }
}

/// The body of every error response: `{"error": {"code": "...", "message": "..."}}`.
///
/// Wrapped in an `error` object (rather than the two fields at the top level) so that a
/// client can tell an error body from a success body by one key, whatever the status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
}

impl ErrorBody {
    /// A body with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: ApiError::new(code, message),
        }
    }

    /// The HTTP status to answer with.
    pub const fn status(&self) -> u16 {
        self.error.status()
    }
}

impl From<ApiError> for ErrorBody {
    fn from(error: ApiError) -> ErrorBody {
        ErrorBody { error }
    }
}

impl From<ValidationError> for ErrorBody {
    fn from(err: ValidationError) -> ErrorBody {
        ErrorBody { error: err.into() }
    }
}
