//! The builds and fleets created through the API (CreateBuild, CreateFleet), and the
//! runtime configuration of each fleet: records only, no I/O.
//!
//! What it is not: a deployment. A created fleet is recorded and describable, its status
//! follows its build (NEW while the build is INITIALIZED, ACTIVE once it is READY, ERROR
//! if it FAILED), but fleet local does not launch processes for it: the processes that
//! run stay those of the fleet started on the command line.

use std::collections::BTreeMap;

use crate::local::api::{
    self, ApiError, BuildStatus, CertificateConfiguration, IpPermission, OperatingSystem,
    RuntimeConfiguration, S3Location, Timestamp,
};

/// One build.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildRecord {
    /// `build-<uuid>`.
    pub id: String,
    /// Its ARN.
    pub arn: String,
    /// `Name`.
    pub name: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `OperatingSystem`.
    pub operating_system: Option<OperatingSystem>,
    /// `ServerSdkVersion`.
    pub server_sdk_version: Option<String>,
    /// When it was created.
    pub created: Timestamp,
    /// Where its zip is (or goes).
    pub bucket: String,
    /// Its zip's key.
    pub key: String,
    /// INITIALIZED until the zip is found, then READY or FAILED.
    pub status: BuildStatus,
    /// The zip's size once found.
    pub size: Option<i64>,
}

impl BuildRecord {
    /// The record as `Build`.
    pub fn to_api(&self) -> api::Build {
        api::Build {
            build_id: Some(self.id.clone()),
            build_arn: Some(self.arn.clone()),
            name: self.name.clone(),
            version: self.version.clone(),
            status: Some(self.status),
            size_on_disk: self.size,
            operating_system: self.operating_system,
            creation_time: Some(self.created),
            server_sdk_version: self.server_sdk_version.clone(),
        }
    }

    /// Where the zip is, as `S3Location`.
    pub fn location(&self) -> S3Location {
        S3Location {
            bucket: Some(self.bucket.clone()),
            key: Some(self.key.clone()),
            ..S3Location::default()
        }
    }
}

/// One fleet created with CreateFleet.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetRecord {
    /// `fleet-<uuid>`.
    pub id: String,
    /// Its ARN.
    pub arn: String,
    /// `Name`.
    pub name: String,
    /// `Description`.
    pub description: Option<String>,
    /// `BuildId`.
    pub build_id: String,
    /// `EC2InstanceType`.
    pub instance_type: Option<String>,
    /// `EC2InboundPermissions`.
    pub inbound: Vec<IpPermission>,
    /// `NewGameSessionProtectionPolicy`.
    pub protection: api::ProtectionPolicy,
    /// `CertificateConfiguration`.
    pub certificate: CertificateConfiguration,
    /// `Locations`: the home Region first.
    pub locations: Vec<String>,
    /// When it was created.
    pub created: Timestamp,
}

/// Everything created through the API.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Builds by id.
    pub builds: BTreeMap<String, BuildRecord>,
    /// Created fleets by id.
    pub fleets: BTreeMap<String, FleetRecord>,
    /// Runtime configurations by fleet id, the command-line fleet's included.
    pub runtime: BTreeMap<String, RuntimeConfiguration>,
}

impl Catalog {
    /// The build `id_or_arn` names, or `NotFoundException`.
    pub fn build(&self, id_or_arn: &str) -> Result<&BuildRecord, ApiError> {
        let id = id_or_arn.rsplit('/').next().unwrap_or(id_or_arn);
        self.builds
            .get(id)
            .ok_or_else(|| ApiError::not_found(format!("Build {id_or_arn} not found")))
    }

    /// The created fleet `id_or_arn` names, if any.
    pub fn fleet(&self, id_or_arn: &str) -> Option<&FleetRecord> {
        let id = id_or_arn.rsplit('/').next().unwrap_or(id_or_arn);
        self.fleets.get(id)
    }

    /// A created fleet's status: it follows its build.
    pub fn fleet_status(&self, fleet: &FleetRecord) -> api::FleetStatus {
        match self.builds.get(&fleet.build_id).map(|b| b.status) {
            Some(BuildStatus::Ready) => api::FleetStatus::Active,
            Some(BuildStatus::Failed) | None => api::FleetStatus::Error,
            Some(BuildStatus::Initialized) => api::FleetStatus::New,
        }
    }

    /// A created fleet as `FleetAttributes`.
    pub fn fleet_attributes(&self, fleet: &FleetRecord) -> api::FleetAttributes {
        let build = self.builds.get(&fleet.build_id);
        api::FleetAttributes {
            fleet_id: Some(fleet.id.clone()),
            fleet_arn: Some(fleet.arn.clone()),
            fleet_type: Some(api::FleetType::OnDemand),
            instance_type: fleet.instance_type.clone(),
            description: fleet.description.clone(),
            name: Some(fleet.name.clone()),
            creation_time: Some(fleet.created),
            status: Some(self.fleet_status(fleet)),
            build_id: Some(fleet.build_id.clone()),
            build_arn: build.map(|b| b.arn.clone()),
            new_game_session_protection_policy: Some(fleet.protection),
            operating_system: build.and_then(|b| b.operating_system),
            metric_groups: vec!["default".into()],
            certificate_configuration: Some(fleet.certificate.clone()),
            compute_type: Some(api::ComputeType::Ec2),
            ..api::FleetAttributes::default()
        }
    }
}
