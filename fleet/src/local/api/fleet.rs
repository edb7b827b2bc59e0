//! The fleet output shapes: `FleetAttributes` and `FleetCapacity` (with
//! `EC2InstanceCounts`), member for member as `aws-sdk-gamelift` reads them
//! (`protocol_serde/shape_fleet_attributes.rs`, `shape_fleet_capacity.rs`,
//! `shape_ec2_instance_counts.rs`).
//!
//! `InstanceType` is kept as a string (the model's `EC2InstanceType` enum has hundreds of
//! values and a local fleet has no instance type of its own). Left out, because a local
//! fleet has nothing to put in them: `StoppedActions`, `InstanceRoleCredentialsProvider`,
//! `PlayerGatewayMode` and `PlayerGatewayConfiguration` on `FleetAttributes`, and
//! `GameServerContainerGroupCounts` and `ManagedCapacityConfiguration` on `FleetCapacity`.

use super::error::ApiError;
use super::sessions::ProtectionPolicy;
use super::shapes::{Timestamp, wire_enum};
use super::value::{FromValue, Members, Obj, ToValue, Value};

wire_enum! {
    /// `FleetStatus`.
    FleetStatus {
        /// `NEW`.
        New = "NEW",
        /// `DOWNLOADING`.
        Downloading = "DOWNLOADING",
        /// `VALIDATING`.
        Validating = "VALIDATING",
        /// `BUILDING`.
        Building = "BUILDING",
        /// `ACTIVATING`.
        Activating = "ACTIVATING",
        /// `ACTIVE`: can host game sessions.
        Active = "ACTIVE",
        /// `DELETING`.
        Deleting = "DELETING",
        /// `ERROR`.
        Error = "ERROR",
        /// `TERMINATED`.
        Terminated = "TERMINATED",
        /// `NOT_FOUND`.
        NotFound = "NOT_FOUND",
        /// `EXPIRED`.
        Expired = "EXPIRED",
    }
}

wire_enum! {
    /// `FleetType`.
    FleetType {
        /// `ON_DEMAND`.
        OnDemand = "ON_DEMAND",
        /// `SPOT`.
        Spot = "SPOT",
    }
}

wire_enum! {
    /// `ComputeType` of a fleet.
    ComputeType {
        /// `EC2`: managed instances.
        Ec2 = "EC2",
        /// `ANYWHERE`: registered computes, which is what a local fleet is closest to.
        Anywhere = "ANYWHERE",
    }
}

wire_enum! {
    /// `OperatingSystem` of a fleet's build.
    OperatingSystem {
        /// `WINDOWS_2012`.
        Windows2012 = "WINDOWS_2012",
        /// `AMAZON_LINUX`.
        AmazonLinux = "AMAZON_LINUX",
        /// `AMAZON_LINUX_2`.
        AmazonLinux2 = "AMAZON_LINUX_2",
        /// `WINDOWS_2016`.
        Windows2016 = "WINDOWS_2016",
        /// `AMAZON_LINUX_2023`.
        AmazonLinux2023 = "AMAZON_LINUX_2023",
        /// `WINDOWS_2022`.
        Windows2022 = "WINDOWS_2022",
    }
}

wire_enum! {
    /// `CertificateType` of a fleet's TLS certificate configuration.
    CertificateType {
        /// `DISABLED`.
        Disabled = "DISABLED",
        /// `GENERATED`.
        Generated = "GENERATED",
    }
}

/// `ResourceCreationLimitPolicy`: how many game sessions one creator may start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceCreationLimitPolicy {
    /// `NewGameSessionsPerCreator`.
    pub new_game_sessions_per_creator: Option<i32>,
    /// `PolicyPeriodInMinutes`.
    pub policy_period_in_minutes: Option<i32>,
}

impl ToValue for ResourceCreationLimitPolicy {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt(
                "NewGameSessionsPerCreator",
                &self.new_game_sessions_per_creator,
            )
            .opt("PolicyPeriodInMinutes", &self.policy_period_in_minutes)
            .build()
    }
}

/// `CertificateConfiguration`: whether the fleet generates a TLS certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateConfiguration {
    /// `CertificateType` (required).
    pub certificate_type: CertificateType,
}

impl ToValue for CertificateConfiguration {
    fn to_value(&self) -> Value {
        Obj::new()
            .field("CertificateType", &self.certificate_type)
            .build()
    }
}

impl FromValue for CertificateConfiguration {
    fn from_value(value: Value, path: &str) -> Result<Self, ApiError> {
        let mut m = Members::new(value, path)?;
        Ok(Self {
            certificate_type: m.req("CertificateType")?,
        })
    }
}

/// `AnywhereConfiguration` of an Anywhere fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnywhereConfiguration {
    /// `Cost` (required): the cost of one compute, as a decimal string.
    pub cost: String,
}

impl ToValue for AnywhereConfiguration {
    fn to_value(&self) -> Value {
        Obj::new().field("Cost", &self.cost).build()
    }
}

/// `FleetAttributes`: a fleet's configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetAttributes {
    /// `FleetId` (`fleet-…`).
    pub fleet_id: Option<String>,
    /// `FleetArn`.
    pub fleet_arn: Option<String>,
    /// `FleetType`.
    pub fleet_type: Option<FleetType>,
    /// `InstanceType` (`EC2InstanceType` wire value, e.g. `c5.large`).
    pub instance_type: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `Name`.
    pub name: Option<String>,
    /// `CreationTime`.
    pub creation_time: Option<Timestamp>,
    /// `TerminationTime`.
    pub termination_time: Option<Timestamp>,
    /// `Status`.
    pub status: Option<FleetStatus>,
    /// `BuildId`.
    pub build_id: Option<String>,
    /// `BuildArn`.
    pub build_arn: Option<String>,
    /// `ScriptId`.
    pub script_id: Option<String>,
    /// `ScriptArn`.
    pub script_arn: Option<String>,
    /// `ServerLaunchPath` (legacy; see the runtime configuration).
    pub server_launch_path: Option<String>,
    /// `ServerLaunchParameters` (legacy).
    pub server_launch_parameters: Option<String>,
    /// `LogPaths`.
    pub log_paths: Vec<String>,
    /// `NewGameSessionProtectionPolicy`.
    pub new_game_session_protection_policy: Option<ProtectionPolicy>,
    /// `OperatingSystem`.
    pub operating_system: Option<OperatingSystem>,
    /// `ResourceCreationLimitPolicy`.
    pub resource_creation_limit_policy: Option<ResourceCreationLimitPolicy>,
    /// `MetricGroups`.
    pub metric_groups: Vec<String>,
    /// `InstanceRoleArn`.
    pub instance_role_arn: Option<String>,
    /// `CertificateConfiguration`.
    pub certificate_configuration: Option<CertificateConfiguration>,
    /// `ComputeType`.
    pub compute_type: Option<ComputeType>,
    /// `AnywhereConfiguration`.
    pub anywhere_configuration: Option<AnywhereConfiguration>,
}

impl ToValue for FleetAttributes {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt("FleetId", &self.fleet_id)
            .opt("FleetArn", &self.fleet_arn)
            .opt("FleetType", &self.fleet_type)
            .opt("InstanceType", &self.instance_type)
            .opt("Description", &self.description)
            .opt("Name", &self.name)
            .opt("CreationTime", &self.creation_time)
            .opt("TerminationTime", &self.termination_time)
            .opt("Status", &self.status)
            .opt("BuildId", &self.build_id)
            .opt("BuildArn", &self.build_arn)
            .opt("ScriptId", &self.script_id)
            .opt("ScriptArn", &self.script_arn)
            .opt("ServerLaunchPath", &self.server_launch_path)
            .opt("ServerLaunchParameters", &self.server_launch_parameters)
            .field("LogPaths", &self.log_paths)
            .opt(
                "NewGameSessionProtectionPolicy",
                &self.new_game_session_protection_policy,
            )
            .opt("OperatingSystem", &self.operating_system)
            .opt(
                "ResourceCreationLimitPolicy",
                &self.resource_creation_limit_policy,
            )
            .field("MetricGroups", &self.metric_groups)
            .opt("InstanceRoleArn", &self.instance_role_arn)
            .opt("CertificateConfiguration", &self.certificate_configuration)
            .opt("ComputeType", &self.compute_type)
            .opt("AnywhereConfiguration", &self.anywhere_configuration)
            .build()
    }
}

/// `EC2InstanceCounts`: a fleet's instances by state. The member names are upper case on
/// the wire (`DESIRED`, `ACTIVE`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ec2InstanceCounts {
    /// `DESIRED`.
    pub desired: Option<i32>,
    /// `MINIMUM`.
    pub minimum: Option<i32>,
    /// `MAXIMUM`.
    pub maximum: Option<i32>,
    /// `PENDING`.
    pub pending: Option<i32>,
    /// `ACTIVE`.
    pub active: Option<i32>,
    /// `IDLE`.
    pub idle: Option<i32>,
    /// `TERMINATING`.
    pub terminating: Option<i32>,
}

impl ToValue for Ec2InstanceCounts {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt("DESIRED", &self.desired)
            .opt("MINIMUM", &self.minimum)
            .opt("MAXIMUM", &self.maximum)
            .opt("PENDING", &self.pending)
            .opt("ACTIVE", &self.active)
            .opt("IDLE", &self.idle)
            .opt("TERMINATING", &self.terminating)
            .build()
    }
}

/// `FleetCapacity`: a fleet's instance counts in one location.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetCapacity {
    /// `FleetId`.
    pub fleet_id: Option<String>,
    /// `FleetArn`.
    pub fleet_arn: Option<String>,
    /// `InstanceType` (`EC2InstanceType` wire value).
    pub instance_type: Option<String>,
    /// `InstanceCounts`.
    pub instance_counts: Option<Ec2InstanceCounts>,
    /// `Location`.
    pub location: Option<String>,
}

impl ToValue for FleetCapacity {
    fn to_value(&self) -> Value {
        Obj::new()
            .opt("FleetId", &self.fleet_id)
            .opt("FleetArn", &self.fleet_arn)
            .opt("InstanceType", &self.instance_type)
            .opt("InstanceCounts", &self.instance_counts)
            .opt("Location", &self.location)
            .build()
    }
}
