//! Configuration: [`ServerParameters`] as the game passes them to `InitSDK`, merged with
//! the `GAMELIFT_*` environment (§2.5, environment wins) and validated into an
//! [`SdkConfig`] before any socket is opened.

use std::fmt;

use crate::validate;

/// `GAMELIFT_SDK_WEBSOCKET_URL` → [`ServerParameters::web_socket_url`].
pub const ENV_WEBSOCKET_URL: &str = "GAMELIFT_SDK_WEBSOCKET_URL";
/// `GAMELIFT_SDK_PROCESS_ID` → [`ServerParameters::process_id`].
pub const ENV_PROCESS_ID: &str = "GAMELIFT_SDK_PROCESS_ID";
/// `GAMELIFT_SDK_HOST_ID` → [`ServerParameters::host_id`].
pub const ENV_HOST_ID: &str = "GAMELIFT_SDK_HOST_ID";
/// `GAMELIFT_SDK_FLEET_ID` → [`ServerParameters::fleet_id`].
pub const ENV_FLEET_ID: &str = "GAMELIFT_SDK_FLEET_ID";
/// `GAMELIFT_SDK_AUTH_TOKEN` → [`ServerParameters::auth_token`].
pub const ENV_AUTH_TOKEN: &str = "GAMELIFT_SDK_AUTH_TOKEN";
/// `GAMELIFT_REGION` → [`ServerParameters::aws_region`].
pub const ENV_REGION: &str = "GAMELIFT_REGION";
/// `GAMELIFT_ACCESS_KEY` → [`ServerParameters::access_key`].
pub const ENV_ACCESS_KEY: &str = "GAMELIFT_ACCESS_KEY";
/// `GAMELIFT_SECRET_KEY` → [`ServerParameters::secret_key`].
pub const ENV_SECRET_KEY: &str = "GAMELIFT_SECRET_KEY";
/// `GAMELIFT_SESSION_TOKEN` → [`ServerParameters::session_token`].
pub const ENV_SESSION_TOKEN: &str = "GAMELIFT_SESSION_TOKEN";
/// `GAMELIFT_COMPUTE_TYPE`: `CONTAINER` selects the container flow (§2.4).
pub const ENV_COMPUTE_TYPE: &str = "GAMELIFT_COMPUTE_TYPE";
/// `GAMELIFT_SDK_TOOL_NAME`, copied into `ActivateServerProcess.SdkToolName`.
pub const ENV_TOOL_NAME: &str = "GAMELIFT_SDK_TOOL_NAME";
/// `GAMELIFT_SDK_TOOL_VERSION`, copied into `ActivateServerProcess.SdkToolVersion`.
pub const ENV_TOOL_VERSION: &str = "GAMELIFT_SDK_TOOL_VERSION";
/// The process id value that asks the SDK to generate a random UUID instead (§2.4).
pub const MANAGED_RESOURCE: &str = "ManagedResource";

/// What the game passes to `InitSDK` (Go `server.ServerParameters`). Every field may be
/// left empty; the matching environment variable fills it, and a **non-empty** environment
/// value always replaces the parameter (Go's rule; for the region and keys this is also
/// C++'s "parameter only if the variable is unset or empty").
///
/// Managed EC2 and container fleets set everything through the environment, so
/// `ServerParameters::default()` (see [`init_sdk_from_environment`](crate::GameLiftServer::init_sdk_from_environment))
/// is the usual call there; on Anywhere the game passes the endpoint, ids and token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ServerParameters {
    /// `WebSocketURL`: the service SDK endpoint, `wss://…` (or `ws://` for a local fleet).
    pub web_socket_url: String,
    /// `ProcessID`: unique per process; `ManagedResource` means "generate a UUID".
    pub process_id: String,
    /// `HostID`: the compute name (`ComputeId` on the wire).
    pub host_id: String,
    /// `FleetID`.
    pub fleet_id: String,
    /// `AuthToken` from `GetComputeAuthToken`. When present, SigV4 is not used.
    pub auth_token: String,
    /// `AwsRegion` for SigV4.
    pub aws_region: String,
    /// `AccessKey` for SigV4.
    pub access_key: String,
    /// `SecretKey` for SigV4.
    pub secret_key: String,
    /// `SessionToken` for SigV4 (optional; sent as `X-Amz-Security-Token`).
    pub session_token: String,
}

impl fmt::Debug for ServerParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerParameters")
            .field("web_socket_url", &self.web_socket_url)
            .field("process_id", &self.process_id)
            .field("host_id", &self.host_id)
            .field("fleet_id", &self.fleet_id)
            .field("auth_token", &redacted(&self.auth_token))
            .field("aws_region", &self.aws_region)
            .field("access_key", &self.access_key)
            .field("secret_key", &redacted(&self.secret_key))
            .field("session_token", &redacted(&self.session_token))
            .finish()
    }
}

/// How the connection authenticates (§2.2, §2.3).
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization=<token>` in the query.
    Token(String),
    /// SigV4 query signing with these credentials.
    SigV4(AwsCredentials),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Token(_) => f.write_str("Token(<redacted>)"),
            Auth::SigV4(credentials) => f.debug_tuple("SigV4").field(credentials).finish(),
        }
    }
}

/// AWS credentials for the SigV4 query signature.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    /// Region of the signing scope, e.g. `us-west-2`.
    pub region: String,
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
    /// Session token, when the credentials are temporary.
    pub session_token: Option<String>,
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The validated configuration a connection is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkConfig {
    /// Base WebSocket URL (`ws://` or `wss://`).
    pub web_socket_url: String,
    /// `pID` (already replaced by a UUID if it was `ManagedResource`).
    pub process_id: String,
    /// `ComputeId`.
    pub host_id: String,
    /// `FleetId`.
    pub fleet_id: String,
    /// Token or SigV4.
    pub auth: Auth,
    /// `SdkToolName` for `ActivateServerProcess`, from `GAMELIFT_SDK_TOOL_NAME`.
    pub sdk_tool_name: Option<String>,
    /// `SdkToolVersion` for `ActivateServerProcess`, from `GAMELIFT_SDK_TOOL_VERSION`.
    pub sdk_tool_version: Option<String>,
}

/// Why the configuration was refused before connecting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Neither `WebSocketURL` nor `GAMELIFT_SDK_WEBSOCKET_URL` is set.
    #[error("WebSocketURL is required (parameter or GAMELIFT_SDK_WEBSOCKET_URL)")]
    MissingWebSocketUrl,
    /// The URL is not `ws://host…` or `wss://host…`.
    #[error("WebSocketURL {0:?} is not a ws:// or wss:// URL with a host")]
    InvalidWebSocketUrl(String),
    /// Neither `ProcessID` nor `GAMELIFT_SDK_PROCESS_ID` is set.
    #[error("ProcessID is required (parameter or GAMELIFT_SDK_PROCESS_ID)")]
    MissingProcessId,
    /// `FleetID` does not match `^[a-zA-Z0-9.-]+$` (≤ 256).
    #[error("FleetID {0:?} must match ^[a-zA-Z0-9.-]+$ and be at most 256 characters")]
    InvalidFleetId(String),
    /// `HostID` does not match `^[a-zA-Z0-9\-]+(\/[a-zA-Z0-9\-]+)?$` (≤ 256).
    #[error(
        "HostID {0:?} must match ^[a-zA-Z0-9-]+(/[a-zA-Z0-9-]+)?$ and be at most 256 characters"
    )]
    InvalidHostId(String),
    /// No auth token and not all of region, access key and secret key.
    #[error(
        "no authentication: set AuthToken, or AwsRegion + AccessKey + SecretKey (missing {missing})"
    )]
    NoAuthStrategy {
        /// The first missing SigV4 field, e.g. `AccessKey`.
        missing: &'static str,
    },
    /// `GAMELIFT_COMPUTE_TYPE=CONTAINER` without a token or explicit keys: the container
    /// credential and metadata endpoints (§2.4) are not implemented by this crate.
    #[error(
        "container fleets without an auth token need GAMELIFT_ACCESS_KEY/GAMELIFT_SECRET_KEY; fetching ECS task credentials is not supported"
    )]
    ContainerCredentialsUnsupported,
}

impl ServerParameters {
    /// Merges with the process environment and validates; see [`resolve_with`](Self::resolve_with).
    pub fn resolve(&self) -> Result<SdkConfig, ConfigError> {
        self.resolve_with(|name| std::env::var(name).ok())
    }

    /// Merges with an environment given as a lookup function, then validates (§2.5):
    ///
    /// 1. each field takes the variable's value when that value is non-empty;
    /// 2. a process id of `ManagedResource` becomes a random UUID v4;
    /// 3. a token wins over SigV4 keys (they are then ignored, as in Go);
    /// 4. `WebSocketURL` and `ProcessID` must be set, `FleetID` and `HostID` must match
    ///    their patterns, and exactly one auth strategy must be complete.
    pub fn resolve_with(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<SdkConfig, ConfigError> {
        let pick = |param: &str, name: &str| -> String {
            env(name)
                .filter(|value| !value.is_empty())
                .unwrap_or_else(|| param.to_owned())
        };
        let web_socket_url = pick(&self.web_socket_url, ENV_WEBSOCKET_URL);
        let mut process_id = pick(&self.process_id, ENV_PROCESS_ID);
        let host_id = pick(&self.host_id, ENV_HOST_ID);
        let fleet_id = pick(&self.fleet_id, ENV_FLEET_ID);
        let auth_token = pick(&self.auth_token, ENV_AUTH_TOKEN);
        let region = pick(&self.aws_region, ENV_REGION);
        let access_key = pick(&self.access_key, ENV_ACCESS_KEY);
        let secret_key = pick(&self.secret_key, ENV_SECRET_KEY);
        let session_token = pick(&self.session_token, ENV_SESSION_TOKEN);
        let is_container =
            env(ENV_COMPUTE_TYPE).is_some_and(|v| v.eq_ignore_ascii_case("CONTAINER"));
        let optional = |name: &str| env(name).filter(|value| !value.is_empty());

        if process_id == MANAGED_RESOURCE {
            process_id = uuid::Uuid::new_v4().to_string();
        }
        if web_socket_url.is_empty() {
            return Err(ConfigError::MissingWebSocketUrl);
        }
        if !is_websocket_url(&web_socket_url) {
            return Err(ConfigError::InvalidWebSocketUrl(web_socket_url));
        }
        if process_id.is_empty() {
            return Err(ConfigError::MissingProcessId);
        }
        if !validate::is_fleet_id(&fleet_id) {
            return Err(ConfigError::InvalidFleetId(fleet_id));
        }
        if !validate::is_host_id(&host_id) {
            return Err(ConfigError::InvalidHostId(host_id));
        }
        let auth = if !auth_token.is_empty() {
            Auth::Token(auth_token)
        } else {
            let missing = [
                ("AwsRegion", &region),
                ("AccessKey", &access_key),
                ("SecretKey", &secret_key),
            ]
            .into_iter()
            .find(|(_, value)| value.is_empty())
            .map(|(name, _)| name);
            match missing {
                None => Auth::SigV4(AwsCredentials {
                    region,
                    access_key,
                    secret_key,
                    session_token: Some(session_token).filter(|t| !t.is_empty()),
                }),
                Some(_) if is_container && !region.is_empty() => {
                    return Err(ConfigError::ContainerCredentialsUnsupported);
                }
                Some(missing) => return Err(ConfigError::NoAuthStrategy { missing }),
            }
        };
        Ok(SdkConfig {
            web_socket_url,
            process_id,
            host_id,
            fleet_id,
            auth,
            sdk_tool_name: optional(ENV_TOOL_NAME),
            sdk_tool_version: optional(ENV_TOOL_VERSION),
        })
    }
}

/// `ws://` or `wss://` followed by a non-empty authority, as `http::Uri` parses it.
pub(crate) fn is_websocket_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return false;
    };
    matches!(uri.scheme_str(), Some("ws" | "wss")) && uri.host().is_some_and(|h| !h.is_empty())
}

/// `<redacted>` for a set secret, `""` for an empty one.
fn redacted(secret: &str) -> &'static str {
    if secret.is_empty() { "" } else { "<redacted>" }
}

#[cfg(test)]
mod tests;
