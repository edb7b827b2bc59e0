//! AWS plumbing shared by the backend's SQS, DynamoDB and S3 stores.
//!
//! **What it is:** [`load_sdk_config`], the one way the backend builds its
//! [`SdkConfig`]: `aws_config::defaults` (so `AWS_REGION`, `AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_SQS`, profiles, role credentials … all work) with the workspace's
//! one HTTPS client (aws-smithy-http-client, rustls on ring; the SDKs are built without
//! their default client, so it must be passed) and bounded timeouts; [`s3_client`], which
//! switches to path-style addressing when an endpoint URL is configured (moto, MinIO);
//! and [`classify`], which sorts an SDK error into transient (retry later) or permanent.
//!
//! **What it is not:** no credentials of its own, no retries beyond the SDK's standard
//! retry policy, no service calls.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls;

/// Time allowed to open a connection (TCP and TLS).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for one attempt of an operation. Longer than SQS's longest long poll
/// (20 s) with room for an 8 MiB S3 download.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(40);
/// Time allowed for an operation, its retries included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(120);

/// What [`load_sdk_config`] can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No region from the environment, the profile or instance metadata.
    #[error("no AWS region configured: set AWS_REGION (or a profile's region)")]
    NoRegion,
}

/// The HTTPS client every AWS SDK client of the backend uses: aws-smithy-http-client
/// with rustls on ring.
pub fn http_client() -> aws_sdk_sqs::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The timeouts of [`load_sdk_config`].
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// Loads the AWS configuration from the standard sources (environment, shared config,
/// container or instance credentials) with [`http_client`] and [`timeouts`].
/// `AWS_ENDPOINT_URL` and the per-service `AWS_ENDPOINT_URL_<SERVICE>` variables are
/// honoured by the SDK clients built from it.
///
/// # Errors
///
/// [`ConfigError::NoRegion`] when no region is configured (a client without one fails
/// every call; better to say so at start-up).
pub async fn load_sdk_config() -> Result<SdkConfig, ConfigError> {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(timeouts())
        .load()
        .await;
    if config.region().is_none() {
        return Err(ConfigError::NoRegion);
    }
    Ok(config)
}

/// True when S3 requests go to a configured endpoint (`AWS_ENDPOINT_URL` or
/// `AWS_ENDPOINT_URL_S3`) rather than to AWS's own.
pub fn s3_endpoint_configured(config: &SdkConfig) -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let ignored = std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    config.endpoint_url().is_some() || (!ignored && set("AWS_ENDPOINT_URL_S3"))
}

/// An S3 client for `config`, with path-style addressing (`http://host/bucket/key`)
/// whenever an endpoint URL is configured: moto and other local S3s do not resolve
/// `bucket.host` names.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let builder =
        aws_sdk_s3::config::Builder::from(config).force_path_style(s3_endpoint_configured(config));
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// An SDK failure, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFailure {
    /// True when trying again later may succeed: no answer (connect, timeout, a
    /// garbled response), throttling, a 5xx, expired credentials.
    pub transient: bool,
    /// The service's error code, when it answered with one.
    pub code: Option<String>,
    /// Code, message and cause, for the log and the error value.
    pub detail: String,
}

/// Error codes that mean "slow down" or "try again" whatever the HTTP status.
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "SlowDown",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
    "RequestTimeout",
    "RequestTimeoutException",
    "TransactionInProgressException",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "KMS.ThrottlingException",
];

/// Sorts an SDK error (of any AWS service) into transient or permanent; see
/// [`ServiceFailure::transient`]. Everything else the service refused (validation,
/// access denied, a missing queue, table or bucket) is permanent for this call.
pub fn classify<E>(err: &SdkError<E>) -> ServiceFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = aws_sdk_sqs::error::DisplayErrorContext(err).to_string();
    match err {
        SdkError::ConstructionFailure(_) => ServiceFailure {
            transient: false,
            code: None,
            detail,
        },
        SdkError::DispatchFailure(failure) => ServiceFailure {
            transient: !failure.is_user(),
            code: None,
            detail,
        },
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => ServiceFailure {
            transient: true,
            code: None,
            detail,
        },
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let code = ctx.err().code().map(str::to_owned);
            let transient = status >= 500
                || status == 429
                || code
                    .as_deref()
                    .is_some_and(|c| TRANSIENT_CODES.contains(&c));
            ServiceFailure {
                transient,
                code,
                detail,
            }
        }
        // `SdkError` is non-exhaustive: an unknown kind is taken as transient.
        _ => ServiceFailure {
            transient: true,
            code: err.code().map(str::to_owned),
            detail,
        },
    }
}

/// The service's error code of an SDK error, if it answered with one.
pub fn error_code<E: ProvideErrorMetadata>(err: &SdkError<E>) -> Option<&str> {
    match err {
        SdkError::ServiceError(ctx) => ctx.err().code(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An attempt outlives SQS's longest long poll, and the operation its attempt.
    #[test]
    fn timeouts_are_bounded() {
        let t = timeouts();
        assert_eq!(t.connect_timeout(), Some(CONNECT_TIMEOUT));
        assert!(t.operation_attempt_timeout().unwrap() > crate::queue::MAX_WAIT);
        assert!(t.operation_timeout().unwrap() >= t.operation_attempt_timeout().unwrap());
    }
}
