//! Extractors that answer with the API's error shape: the authenticated caller (with the
//! per-player rate limit), and JSON, query and path extractors whose rejections become
//! [`HttpError`]s.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use protocol::http::{ErrorCode, validate_player_id};
use serde::de::DeserializeOwned;

use super::AppState;
use super::auth::AuthError;
use super::error::HttpError;

/// The caller's player id: the verified bearer token's `sub`. Extracting it also takes a
/// token from the caller's rate-limit bucket (`429` when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, HttpError> {
        let unauthorized = |e: AuthError| {
            tracing::debug!(cause = %e, "http: token refused");
            state.metrics.auth_failure(e.label());
            let message = match e {
                AuthError::Missing => "a bearer token is required",
                AuthError::KeySetUnavailable(_) => "the token's signing keys cannot be fetched",
                _ => "the bearer token is not valid",
            };
            HttpError::new(ErrorCode::Unauthorized, message)
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)
            .map_err(unauthorized)?;
        let claims = state.auth.verify(token).await.map_err(unauthorized)?;
        if validate_player_id(&claims.sub).is_err() {
            return Err(unauthorized(AuthError::Invalid(
                "the subject is not a valid player id".to_owned(),
            )));
        }
        let now = state.clock.now_ms();
        let verdict = state
            .rate_limiter
            .lock()
            .expect("rate limiter lock")
            .check(&claims.sub, now);
        if let Err(wait_ms) = verdict {
            state.metrics.rate_limited.inc();
            return Err(HttpError::rate_limited(wait_ms.div_ceil(1000).max(1)));
        }
        Ok(Caller(claims.sub))
    }
}

/// A JSON body; rejections (not JSON, bad JSON, too large) in the API's error shape.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, HttpError> {
        if !plain_json(req.headers()) {
            // Anything else (no content type, another one, a `+json` suffix) gets axum's
            // own checks and rejections.
            let Json(value) = Json::<T>::from_request(req, state).await?;
            return Ok(ApiJson(value));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(JsonRejection::from)?;
        // A plain parse first: axum's `Json` tracks the path of every field (allocating
        // each key) to name the one that failed, which only a failure needs.
        match serde_json::from_slice(&bytes) {
            Ok(value) => Ok(ApiJson(value)),
            Err(_) => {
                let Json(value) = Json::<T>::from_bytes(&bytes)?;
                Ok(ApiJson(value))
            }
        }
    }
}

/// Whether the content type is `application/json`, with parameters or not.
fn plain_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// A query string.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(value))
    }
}

/// A path parameter.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(ApiPath(value))
    }
}
