//! The one error response: every 4xx and 5xx the API sends is an
//! [`protocol::http::ErrorBody`], including axum's own rejections (bad JSON,
//! wrong content type, oversized body, bad path or query) and unknown routes.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::http::{ApiError, ErrorBody, ErrorCode, ValidationError};

/// An error a handler answers with: a code, a message for humans, and for `429` the
/// seconds after which to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    /// The code and message sent.
    pub error: ApiError,
    /// `Retry-After`, in whole seconds, when set.
    pub retry_after_secs: Option<u64>,
}

impl HttpError {
    /// An error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> HttpError {
        HttpError {
            error: ApiError::new(code, message),
            retry_after_secs: None,
        }
    }

    /// `400 invalid_request`.
    pub fn invalid(message: impl Into<String>) -> HttpError {
        HttpError::new(ErrorCode::InvalidRequest, message)
    }

    /// `404 not_found`.
    pub fn not_found(message: impl Into<String>) -> HttpError {
        HttpError::new(ErrorCode::NotFound, message)
    }

    /// `500 internal`, logging the cause; the client sees no detail.
    pub fn internal(cause: &dyn std::fmt::Display) -> HttpError {
        tracing::error!(cause = %cause, "http: internal error");
        HttpError::new(ErrorCode::Internal, "internal error")
    }

    /// `503 unavailable`, logging the cause (a store or GameLift failed).
    pub fn unavailable(cause: &dyn std::fmt::Display) -> HttpError {
        tracing::warn!(cause = %cause, "http: dependency unavailable");
        HttpError::new(
            ErrorCode::Unavailable,
            "a backing service is unavailable; retry later",
        )
    }

    /// `429 rate_limited` with `Retry-After`.
    pub fn rate_limited(retry_after_secs: u64) -> HttpError {
        HttpError {
            error: ApiError::new(
                ErrorCode::RateLimited,
                format!("too many requests; retry after {retry_after_secs} s"),
            ),
            retry_after_secs: Some(retry_after_secs),
        }
    }
}

impl From<ValidationError> for HttpError {
    fn from(err: ValidationError) -> HttpError {
        HttpError {
            error: err.into(),
            retry_after_secs: None,
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(ErrorBody { error: self.error })).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<JsonRejection> for HttpError {
    fn from(rejection: JsonRejection) -> HttpError {
        let code = match &rejection {
            JsonRejection::MissingJsonContentType(_) => ErrorCode::UnsupportedMediaType,
            JsonRejection::BytesRejection(_)
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                ErrorCode::PayloadTooLarge
            }
            _ if rejection.status().is_server_error() => ErrorCode::Internal,
            _ => ErrorCode::InvalidRequest,
        };
        HttpError::new(code, rejection.body_text())
    }
}

impl From<QueryRejection> for HttpError {
    fn from(rejection: QueryRejection) -> HttpError {
        HttpError::invalid(rejection.body_text())
    }
}

impl From<PathRejection> for HttpError {
    fn from(rejection: PathRejection) -> HttpError {
        if rejection.status().is_server_error() {
            return HttpError::internal(&rejection.body_text());
        }
        HttpError::invalid(rejection.body_text())
    }
}

/// The fallback of the router: any path that is not a route.
pub(crate) async fn unknown_route() -> HttpError {
    HttpError::not_found("no such route")
}

/// The fallback for a known path with a method it does not have.
pub(crate) async fn method_not_allowed() -> HttpError {
    HttpError::new(
        ErrorCode::MethodNotAllowed,
        "this path does not take that method",
    )
}
