//! The reporter's AWS client: [`AwsResultQueue`] implements the blocking [`ResultQueue`]
//! over aws-sdk-sqs and aws-sdk-s3, and [`load_sdk_config`] is the server's one way to
//! build its AWS configuration.
//!
//! **What it is:** each call is one SDK request run to completion with
//! [`Handle::block_on`], then its error sorted into a [`FailureKind`] by
//! [`failure_kind`]: no answer, throttling and 5xx are retried; credentials, permissions
//! and a missing queue or bucket are [`FailureKind::Denied`] (a misconfiguration, which
//! may be fixed while the result waits in the outbox, so retried loudly rather than set
//! aside); only a refusal of the message itself (too long, bad characters or attributes)
//! is [`FailureKind::Invalid`]. [`load_sdk_config`] uses `aws_config::defaults` (so
//! `AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_SQS`, … work) with the
//! workspace's one HTTPS client (rustls on ring) and bounded timeouts.
//!
//! **What it is not:** async, or callable from a runtime worker thread: `block_on`
//! panics there, so the shell runs the [`Reporter`](super::Reporter) in
//! `tokio::task::spawn_blocking` (or on a thread of its own). No retries beyond the
//! SDK's standard ones: the reporter's [`DeliveryPolicy`](super::DeliveryPolicy) owns
//! backoff. It creates no queues or buckets (`backend init` does).

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls;
use tokio::runtime::Handle;

use super::plan::{OutgoingMessage, S3Upload};
use super::policy::FailureKind;
use super::reporter::{QueueError, ResultQueue};

/// Time allowed to open a connection (TCP and TLS).
pub const AWS_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for one attempt (an upload of a result of up to 8 MiB included).
pub const AWS_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// Time allowed for a call, the SDK's retries included.
pub const AWS_OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

/// What [`load_sdk_config`] can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AwsConfigError {
    /// No region from the environment, the profile or instance metadata.
    #[error("no AWS region configured: set AWS_REGION (or a profile's region)")]
    NoRegion,
}

/// Loads the AWS configuration from the standard sources with the workspace's HTTPS
/// client (aws-smithy-http-client, rustls on ring; the SDKs are built without a default
/// client) and the timeouts above.
///
/// # Errors
///
/// [`AwsConfigError::NoRegion`] when no region is configured.
pub async fn load_sdk_config() -> Result<SdkConfig, AwsConfigError> {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(AWS_CONNECT_TIMEOUT)
        .operation_attempt_timeout(AWS_ATTEMPT_TIMEOUT)
        .operation_timeout(AWS_OPERATION_TIMEOUT)
        .build();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(timeouts)
        .load()
        .await;
    if config.region().is_none() {
        return Err(AwsConfigError::NoRegion);
    }
    Ok(config)
}

/// An S3 client for `config`, path-style (`http://host/bucket/key`) whenever an endpoint
/// URL is configured (`AWS_ENDPOINT_URL` or `AWS_ENDPOINT_URL_S3`): moto and other
/// local S3s do not resolve `bucket.host` names.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let ignored = std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    let custom = config.endpoint_url().is_some() || (!ignored && set("AWS_ENDPOINT_URL_S3"));
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(custom)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

/// Codes that mean "slow down".
const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "SlowDown",
    "RequestLimitExceeded",
    "KMS.ThrottlingException",
];

/// Codes of credentials, permissions and configuration problems: nothing wrong with the
/// message, something to fix (or to wait out, for expiring credentials).
const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "InvalidSecurity",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "MissingAuthenticationToken",
    "IncompleteSignature",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "KMS.AccessDeniedException",
    "KMS.DisabledException",
    "KMS.NotFoundException",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
    "NoSuchBucket",
    "PermanentRedirect",
    "AuthorizationHeaderMalformed",
];

/// Sorts an SDK error into the reporter's [`FailureKind`] (see the module documentation).
pub fn failure_kind<E>(err: &SdkError<E>) -> FailureKind
where
    E: ProvideErrorMetadata,
{
    match err {
        // The request could not even be built from this message.
        SdkError::ConstructionFailure(_) => FailureKind::Invalid,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => FailureKind::Network,
        SdkError::ResponseError(_) => FailureKind::Server,
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status().as_u16();
            let code = ctx.err().code().unwrap_or_default();
            if THROTTLED.contains(&code) || status == 429 {
                FailureKind::Throttled
            } else if DENIED.contains(&code) || status == 401 || status == 403 || status == 404 {
                FailureKind::Denied
            } else if status >= 500 {
                FailureKind::Server
            } else {
                FailureKind::Invalid
            }
        }
        // `SdkError` is non-exhaustive; an unknown kind is not the message's fault.
        _ => FailureKind::Network,
    }
}

fn queue_error<E>(what: &str, err: &SdkError<E>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    QueueError {
        kind: failure_kind(err),
        detail: format!("{what}: {}", aws_sdk_sqs::error::DisplayErrorContext(err)),
    }
}

/// The reporter's queue over SQS (and S3 for oversized results).
#[derive(Debug, Clone)]
pub struct AwsResultQueue {
    handle: Handle,
    sqs: aws_sdk_sqs::Client,
    s3: aws_sdk_s3::Client,
    queue_url: String,
}

impl AwsResultQueue {
    /// A queue sending to `queue_url` through `sqs` and uploading through `s3`, running
    /// each request on `handle`'s runtime (a multi-thread runtime: a current-thread
    /// runtime drives no I/O while its own thread is blocked elsewhere).
    pub fn new(
        handle: Handle,
        sqs: aws_sdk_sqs::Client,
        s3: aws_sdk_s3::Client,
        queue_url: impl Into<String>,
    ) -> Self {
        Self {
            handle,
            sqs,
            s3,
            queue_url: queue_url.into(),
        }
    }

    /// [`AwsResultQueue::new`] with clients built from `config` ([`s3_client`] for S3).
    pub fn from_config(handle: Handle, config: &SdkConfig, queue_url: impl Into<String>) -> Self {
        Self::new(
            handle,
            aws_sdk_sqs::Client::new(config),
            s3_client(config),
            queue_url,
        )
    }

    /// The queue's URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }
}

impl ResultQueue for AwsResultQueue {
    fn put_object(&mut self, upload: &S3Upload) -> Result<(), QueueError> {
        let request = self
            .s3
            .put_object()
            .bucket(&upload.bucket)
            .key(&upload.key)
            .content_type("application/json")
            .body(upload.body.clone().into());
        self.handle
            .block_on(request.send())
            .map(|_| ())
            .map_err(|e| queue_error("PutObject", &e))
    }

    fn send(&mut self, message: &OutgoingMessage) -> Result<(), QueueError> {
        let mut request = self
            .sqs
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(&message.body);
        if let Some(fifo) = &message.fifo {
            request = request
                .message_group_id(&fifo.group_id)
                .message_deduplication_id(&fifo.dedup_id);
        }
        self.handle
            .block_on(request.send())
            .map(|_| ())
            .map_err(|e| queue_error("SendMessage", &e))
    }
}
