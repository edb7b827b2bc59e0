//! The build and fleet-creation shapes: `Build`, `S3Location`, `AwsCredentials`,
//! `RuntimeConfiguration` (with `ServerProcess`), `IpPermission`,
//! `LocationConfiguration` and `LocationState`, member for member as `aws-sdk-gamelift`
//! writes and reads them (`protocol_serde/shape_build.rs`, `shape_s3_location.rs`,
//! `shape_aws_credentials.rs`, `shape_runtime_configuration.rs`, `shape_server_process.rs`,
//! `shape_ip_permission.rs`, `shape_location_configuration.rs`, `shape_location_state.rs`).
//!
//! What it is not: validation beyond the model's types and required members; the fleet
//! core checks values (ports, counts, known builds).

use super::error::ApiError;
use super::fleet::{FleetStatus, OperatingSystem};
use super::shapes::{Timestamp, wire_enum};
use super::value::{FromValue, Members, Obj, ToValue, Value};

wire_enum! {
    /// `BuildStatus`.
    BuildStatus {
        /// `INITIALIZED`: created, files not uploaded yet.
        Initialized = "INITIALIZED",
        /// `READY`: the files are uploaded and valid; fleets may use the build.
        Ready = "READY",
        /// `FAILED`: the upload is not a usable build.
        Failed = "FAILED",
    }
}

wire_enum! {
    /// `IpProtocol` of an inbound permission.
    IpProtocol {
        /// `TCP`.
        Tcp = "TCP",
        /// `UDP`.
        Udp = "UDP",
    }
}

/// `S3Location`: where a build's files are (or go).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Location {
    /// `Bucket`.
    pub bucket: Option<String>,
    /// `Key`.
    pub key: Option<String>,
    /// `RoleArn`.
    pub role_arn: Option<String>,
    /// `ObjectVersion`.
    pub object_version: Option<String>,
}

impl ToValue for S3Location {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt("Bucket", &self.bucket)
            .opt("Key", &self.key)
            .opt("RoleArn", &self.role_arn)
            .opt("ObjectVersion", &self.object_version)
            .build()
    }
}

impl FromValue for S3Location {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        let mut m = Members::new(value, path)?;
        Ok(Self {
            bucket: m.opt("Bucket")?,
            key: m.opt("Key")?,
            role_arn: m.opt("RoleArn")?,
            object_version: m.opt("ObjectVersion")?,
        })
    }
}

/// `AwsCredentials`: temporary credentials for uploading a build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsCredentials {
    /// `AccessKeyId`.
    pub access_key_id: Option<String>,
    /// `SecretAccessKey`.
    pub secret_access_key: Option<String>,
    /// `SessionToken`.
    pub session_token: Option<String>,
}

impl ToValue for AwsCredentials {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt("AccessKeyId", &self.access_key_id)
            .opt("SecretAccessKey", &self.secret_access_key)
            .opt("SessionToken", &self.session_token)
            .build()
    }
}

/// `Build`: a server build's record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Build {
    /// `BuildId` (`build-…`).
    pub build_id: Option<String>,
    /// `BuildArn`.
    pub build_arn: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `Status`.
    pub status: Option<BuildStatus>,
    /// `SizeOnDisk`, in bytes (once READY).
    pub size_on_disk: Option<i64>,
    /// `OperatingSystem`.
    pub operating_system: Option<OperatingSystem>,
    /// `CreationTime`.
    pub creation_time: Option<Timestamp>,
    /// `ServerSdkVersion`.
    pub server_sdk_version: Option<String>,
}

impl ToValue for Build {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt("BuildId", &self.build_id)
            .opt("BuildArn", &self.build_arn)
            .opt("Name", &self.name)
            .opt("Version", &self.version)
            .opt("Status", &self.status)
            .opt("SizeOnDisk", &self.size_on_disk)
            .opt("OperatingSystem", &self.operating_system)
            .opt("CreationTime", &self.creation_time)
            .opt("ServerSdkVersion", &self.server_sdk_version)
            .build()
    }
}

/// `ServerProcess`: one entry of a runtime configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerProcess {
    /// `LaunchPath` (required).
    pub launch_path: String,
    /// `Parameters`.
    pub parameters: Option<String>,
    /// `ConcurrentExecutions` (required).
    pub concurrent_executions: i32,
}

impl ToValue for ServerProcess {
    fn to_value(&self) -> Value {
        Obj::new()
            .field("LaunchPath", &self.launch_path)
            .opt("Parameters", &self.parameters)
            .field("ConcurrentExecutions", &self.concurrent_executions)
            .build()
    }
}

impl FromValue for ServerProcess {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        let mut m = Members::new(value, path)?;
        Ok(Self {
            launch_path: m.req("LaunchPath")?,
            parameters: m.opt("Parameters")?,
            concurrent_executions: m.req("ConcurrentExecutions")?,
        })
    }
}

/// `RuntimeConfiguration`: what to run on each instance of a fleet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfiguration {
    /// `ServerProcesses`.
    pub server_processes: Vec<ServerProcess>,
    /// `MaxConcurrentGameSessionActivations`.
    pub max_concurrent_game_session_activations: Option<i32>,
    /// `GameSessionActivationTimeoutSeconds`.
    pub game_session_activation_timeout_seconds: Option<i32>,
}

impl ToValue for RuntimeConfiguration {
    fn to_value(&self) -> Value {
        Obj::new()
            .field("ServerProcesses", &self.server_processes)
            .opt(
                "MaxConcurrentGameSessionActivations",
                &self.max_concurrent_game_session_activations,
            )
            .opt(
                "GameSessionActivationTimeoutSeconds",
                &self.game_session_activation_timeout_seconds,
            )
            .build()
    }
}

impl FromValue for RuntimeConfiguration {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        let mut m = Members::new(value, path)?;
        Ok(Self {
            server_processes: m.list("ServerProcesses")?,
            max_concurrent_game_session_activations: m
                .opt("MaxConcurrentGameSessionActivations")?,
            game_session_activation_timeout_seconds: m
                .opt("GameSessionActivationTimeoutSeconds")?,
        })
    }
}

/// `IpPermission`: an inbound port range open on a fleet's instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpPermission {
    /// `FromPort` (required).
    pub from_port: i32,
    /// `ToPort` (required).
    pub to_port: i32,
    /// `IpRange` (required), a CIDR block.
    pub ip_range: String,
    /// `Protocol` (required).
    pub protocol: IpProtocol,
}

impl FromValue for IpPermission {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        let mut m = Members::new(value, path)?;
        Ok(Self {
            from_port: m.req("FromPort")?,
            to_port: m.req("ToPort")?,
            ip_range: m.req("IpRange")?,
            protocol: m.req("Protocol")?,
        })
    }
}

/// `LocationConfiguration`: a location to deploy a fleet to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationConfiguration {
    /// `Location` (required).
    pub location: String,
}

impl FromValue for LocationConfiguration {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        let mut m = Members::new(value, path)?;
        Ok(Self {
            location: m.req("Location")?,
        })
    }
}

/// `LocationState`: a fleet's status in one of its locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationState {
    /// `Location`.
    pub location: Option<String>,
    /// `Status`.
    pub status: Option<FleetStatus>,
}

impl ToValue for LocationState {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt("Location", &self.location)
            .opt("Status", &self.status)
            .build()
    }
}
