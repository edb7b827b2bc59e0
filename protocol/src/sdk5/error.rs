//! Codec errors ([`Sdk5Error`]) and the service error classes of §3.1
//! ([`ServiceErrorKind`], [`ServiceError`]).

use super::action::Action;
use super::envelope::ResponseFrame;

/// Why a frame (or a `MatchmakerData` string) could not be decoded.
///
/// Variants that arise after the envelope was read carry the `Action` name and the
/// `RequestId` when the frame had them, so that a service can still answer the request
/// with a 400 ([`error_response`](Self::error_response)).
#[derive(Debug, thiserror::Error)]
pub enum Sdk5Error {
    /// The text is not valid JSON (or nests deeper than serde_json's limit of 128).
    #[error("frame is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),

    /// The text is valid JSON but not an object; every frame is one JSON object.
    #[error("frame is not a JSON object")]
    NotAnObject,

    /// An envelope field has the wrong JSON type: `Action`, `RequestId` or `ErrorMessage`
    /// not a string, or `StatusCode` not an integer that fits in an `i64`. (`null` is
    /// accepted everywhere and means "absent".)
    #[error("envelope field {field} is not {expected}")]
    BadEnvelope {
        /// The field name, e.g. `StatusCode`.
        field: &'static str,
        /// What it should have been, e.g. `an integer`.
        expected: &'static str,
    },

    /// The frame has no `Action` (or it is `null` or empty).
    #[error("frame has no Action")]
    MissingAction {
        /// The frame's `RequestId`, if it had one.
        request_id: Option<String>,
    },

    /// `Action` is not one of the sixteen names of the protocol.
    #[error("unknown Action {action:?}")]
    UnknownAction {
        /// The `Action` as received.
        action: String,
        /// The frame's `RequestId`, if it had one.
        request_id: Option<String>,
    },

    /// `Action` is a known name but travels the other way: a push action in a frame
    /// given to [`RequestFrame::parse`](super::RequestFrame::parse).
    #[error("Action {action} is not a request")]
    UnexpectedAction {
        /// The action received.
        action: Action,
        /// The frame's `RequestId`, if it had one.
        request_id: Option<String>,
    },

    /// A request without a `RequestId` (or with an empty one): it could never be answered.
    #[error("{action} request has no RequestId")]
    MissingRequestId {
        /// The request's action.
        action: Action,
    },

    /// An action-specific field has the wrong JSON type or is out of range (e.g. `Port`
    /// a string or above 65535, `GameProperties` with a non-string value).
    #[error("bad field in {action} frame: {source}")]
    BadField {
        /// The frame's `Action` (may be empty for a response that did not echo it).
        action: String,
        /// The frame's `RequestId`, if it had one.
        request_id: Option<String>,
        /// serde_json's description of the bad value (e.g. `invalid type: string "7777",
        /// expected u16`). It does not name the field: serde reports no path.
        source: serde_json::Error,
    },

    /// A `MatchmakerData` string is not a valid matchmaker document.
    #[error("MatchmakerData is not valid: {0}")]
    MatchmakerData(#[source] serde_json::Error),
}

impl Sdk5Error {
    /// The `RequestId` of the offending frame, when it was readable and non-empty.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Sdk5Error::MissingAction { request_id }
            | Sdk5Error::UnknownAction { request_id, .. }
            | Sdk5Error::UnexpectedAction { request_id, .. }
            | Sdk5Error::BadField { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The `Action` of the offending frame as received, when it was readable.
    pub fn action_name(&self) -> Option<&str> {
        match self {
            Sdk5Error::UnknownAction { action, .. } | Sdk5Error::BadField { action, .. } => {
                Some(action)
            }
            Sdk5Error::UnexpectedAction { action, .. } | Sdk5Error::MissingRequestId { action } => {
                Some(action.as_str())
            }
            _ => None,
        }
    }

    /// For a service: the 400 response to send back for a request that failed to decode,
    /// echoing its `Action` and `RequestId`, with this error as `ErrorMessage`. `None`
    /// when the frame had no `RequestId` (no SDK could match an answer to it).
    pub fn error_response(&self) -> Option<ResponseFrame> {
        let request_id = self.request_id()?;
        Some(ResponseFrame::error(
            self.action_name().unwrap_or_default(),
            request_id,
            ServiceErrorKind::BadRequest,
            self.to_string(),
        ))
    }
}

/// The error classes every SDK maps a non-200 `StatusCode` to (§3.1; identical in Go,
/// C++ and C#).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceErrorKind {
    /// 400, and every other 4xx not listed below.
    BadRequest,
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 409.
    Conflict,
    /// 429.
    TooManyRequests,
    /// Anything else: 5xx, a missing `StatusCode` (Go reads 0, C++ −1), or nonsense.
    InternalService,
}

impl ServiceErrorKind {
    /// The SDKs' mapping from a status code. It is only applied to frames whose status is
    /// not 200 (see [`ResponseFrame::error_kind`]); 200 itself falls in the "anything
    /// else" arm like every other non-4xx code.
    pub const fn from_status_code(status_code: i64) -> ServiceErrorKind {
        match status_code {
            400 => ServiceErrorKind::BadRequest,
            401 => ServiceErrorKind::Unauthorized,
            403 => ServiceErrorKind::Forbidden,
            404 => ServiceErrorKind::NotFound,
            409 => ServiceErrorKind::Conflict,
            429 => ServiceErrorKind::TooManyRequests,
            402..=499 => ServiceErrorKind::BadRequest,
            _ => ServiceErrorKind::InternalService,
        }
    }

    /// The status code a service sends for this class (500 for `InternalService`).
    pub const fn status_code(self) -> u16 {
        match self {
            ServiceErrorKind::BadRequest => 400,
            ServiceErrorKind::Unauthorized => 401,
            ServiceErrorKind::Forbidden => 403,
            ServiceErrorKind::NotFound => 404,
            ServiceErrorKind::Conflict => 409,
            ServiceErrorKind::TooManyRequests => 429,
            ServiceErrorKind::InternalService => 500,
        }
    }

    /// The SDKs' exception name, e.g. `BadRequestException`.
    pub const fn exception_name(self) -> &'static str {
        match self {
            ServiceErrorKind::BadRequest => "BadRequestException",
            ServiceErrorKind::Unauthorized => "UnauthorizedException",
            ServiceErrorKind::Forbidden => "ForbiddenException",
            ServiceErrorKind::NotFound => "NotFoundException",
            ServiceErrorKind::Conflict => "ConflictException",
            ServiceErrorKind::TooManyRequests => "TooManyRequestsException",
            ServiceErrorKind::InternalService => "InternalServiceException",
        }
    }
}

/// An error response from the service, as a client surfaces it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} (StatusCode {}): {message}", kind.exception_name(), display_status(*status_code))]
pub struct ServiceError {
    /// The class, from [`ServiceErrorKind::from_status_code`].
    pub kind: ServiceErrorKind,
    /// The `StatusCode` as received (`None` if the frame had none).
    pub status_code: Option<i64>,
    /// The `ErrorMessage`, empty if the frame had none.
    pub message: String,
}

/// Renders an optional status code for [`ServiceError`]'s message.
fn display_status(status_code: Option<i64>) -> String {
    status_code.map_or_else(|| "missing".to_owned(), |code| code.to_string())
}
