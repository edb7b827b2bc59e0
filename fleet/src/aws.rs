//! AWS clients for the fleet tooling and for `fleet local`'s build store: configuration
//! from `aws-config` (environment, profiles, `AWS_ENDPOINT_URL` and the per-service
//! `AWS_ENDPOINT_URL_GAMELIFT` / `AWS_ENDPOINT_URL_S3`), the workspace's one HTTPS client
//! (aws-smithy-http-client on rustls with ring), and bounded timeouts.
//!
//! What it is not: credential management. Whatever `aws-config`'s default chain finds is
//! used; nothing is stored.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls;

/// Connect timeout of every AWS client here.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Per-attempt timeout of every AWS call (a multipart part of 8 MiB fits easily).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(120);

/// The SDK configuration from the environment, with the workspace's HTTPS client.
pub async fn sdk_config() -> SdkConfig {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(timeouts)
        .load()
        .await
}

/// An S3 client for `config`. Path-style addressing (`http://host/bucket/key`), which
/// moto and other local S3s need and real S3 accepts.
pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// An S3 client that signs with `credentials` instead of the configured ones (the
/// `UploadCredentials` CreateBuild returns).
pub fn s3_with(
    config: &SdkConfig,
    credentials: aws_sdk_s3::config::Credentials,
) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(true)
        .credentials_provider(credentials)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// A GameLift client for `config` (`AWS_ENDPOINT_URL_GAMELIFT` points it at `fleet local`).
pub fn gamelift(config: &SdkConfig) -> aws_sdk_gamelift::Client {
    aws_sdk_gamelift::Client::new(config)
}
