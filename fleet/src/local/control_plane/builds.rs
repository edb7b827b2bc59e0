//! CreateBuild, DescribeBuild, CreateFleet, the runtime-configuration operations and the
//! created fleets' share of DescribeFleetAttributes and DescribeFleetCapacity, on the
//! [`Catalog`] of a [`FleetHandle`], with the build files in S3 ([`BuildStore`]).
//!
//! Differences from GameLift, by design:
//! - CreateBuild's `StorageLocation` is a key in the bucket fleet local was started with
//!   (`--build-bucket`, created if absent), and `UploadCredentials` are fleet local's own
//!   credentials (whatever its AWS configuration resolved), not scoped temporary ones.
//! - DescribeBuild checks S3 on each call while INITIALIZED: the object there → READY if
//!   it starts like a zip (`PK\x03\x04`), FAILED if not. GameLift validates more.
//! - A created fleet launches nothing (see [`catalog`](super::catalog)); its status is
//!   NEW until its build is READY, then ACTIVE.

use std::sync::Arc;

use aws_sdk_s3::error::ProvideErrorMetadata;

use crate::local::api::{
    self, ApiError, BuildStatus, CreateBuildInput, CreateFleetInput, IpProtocol, Response,
    RuntimeConfiguration, Timestamp,
};
use crate::local::runtime::FleetHandle;

use super::catalog::{BuildRecord, Catalog, FleetRecord};

/// What S3 holds at a build's location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upload {
    /// Nothing yet.
    Missing,
    /// A zip of this many bytes.
    Zip(i64),
    /// Something that is not a zip.
    NotZip,
}

/// The S3 side of builds: the bucket new builds go to and the credentials handed out.
#[derive(Debug, Clone)]
pub struct BuildStore {
    s3: aws_sdk_s3::Client,
    bucket: String,
    /// Resolved at CreateBuild, not at start-up: an unconfigured machine's credential
    /// chain may take seconds to give up (instance metadata), and only uploads need it.
    credentials: Option<aws_sdk_s3::config::SharedCredentialsProvider>,
}

fn s3_error(what: &str, e: &impl ProvideErrorMetadata, debug: &dyn std::fmt::Debug) -> ApiError {
    ApiError::internal(format!(
        "{what}: {} {}",
        e.code().unwrap_or("error"),
        e.message()
            .map_or_else(|| format!("{debug:?}"), str::to_owned)
    ))
}

impl BuildStore {
    /// The store for `config`: its S3 (path-style), new builds in `bucket`, and its own
    /// credentials handed out for uploads (dummy ones when none resolve; a local S3 such
    /// as moto accepts any).
    pub fn from_config(config: &aws_config::SdkConfig, bucket: &str) -> Self {
        Self {
            s3: crate::aws::s3(config),
            bucket: bucket.to_owned(),
            credentials: config.credentials_provider(),
        }
    }

    /// The `UploadCredentials` CreateBuild returns.
    async fn upload_credentials(&self) -> api::AwsCredentials {
        use aws_sdk_s3::config::ProvideCredentials;
        let own = match &self.credentials {
            Some(p) => p.provide_credentials().await.ok(),
            None => None,
        };
        match own {
            Some(c) => api::AwsCredentials {
                access_key_id: Some(c.access_key_id().to_owned()),
                secret_access_key: Some(c.secret_access_key().to_owned()),
                session_token: c.session_token().map(str::to_owned),
            },
            None => api::AwsCredentials {
                access_key_id: Some("fleet-local".into()),
                secret_access_key: Some("fleet-local".into()),
                session_token: None,
            },
        }
    }

    /// The bucket new builds go to.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Creates the bucket unless it exists.
    async fn ensure_bucket(&self) -> Result<(), ApiError> {
        if self
            .s3
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        match self.s3.create_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
            Err(e) => Err(s3_error(
                &format!("creating build bucket {}", self.bucket),
                &e,
                &e,
            )),
        }
    }

    /// What is at `bucket`/`key`.
    pub async fn inspect(&self, bucket: &str, key: &str) -> Result<Upload, ApiError> {
        let head = self.s3.head_object().bucket(bucket).key(key).send().await;
        let size = match head {
            Ok(h) => h.content_length().unwrap_or(0),
            Err(e) => {
                let missing = e.as_service_error().is_some_and(|s| s.is_not_found())
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 404);
                if missing {
                    return Ok(Upload::Missing);
                }
                return Err(s3_error(&format!("HeadObject s3://{bucket}/{key}"), &e, &e));
            }
        };
        if size < 4 {
            return Ok(Upload::NotZip);
        }
        let head = self
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .range("bytes=0-3")
            .send()
            .await
            .map_err(|e| s3_error(&format!("GetObject s3://{bucket}/{key}"), &e, &e))?;
        let bytes = head
            .body
            .collect()
            .await
            .map_err(|e| ApiError::internal(format!("reading s3://{bucket}/{key}: {e}")))?
            .into_bytes();
        Ok(if bytes.starts_with(b"PK\x03\x04") {
            Upload::Zip(size)
        } else {
            Upload::NotZip
        })
    }
}

fn store(fleet: &FleetHandle) -> Result<Arc<BuildStore>, ApiError> {
    fleet.build_store().ok_or_else(|| {
        ApiError::invalid_request("this fleet local has no build store (S3 bucket) configured")
    })
}

/// CreateBuild: a new INITIALIZED build, with where and how to upload its zip.
pub async fn create_build(fleet: &FleetHandle, r: CreateBuildInput) -> Result<Response, ApiError> {
    let store = store(fleet)?;
    let id = format!("build-{}", uuid::Uuid::new_v4());
    let (bucket, key) = match r.storage_location {
        Some(l) => match (l.bucket, l.key) {
            (Some(b), Some(k)) => (b, k),
            _ => {
                return Err(ApiError::invalid_request(
                    "StorageLocation needs both Bucket and Key",
                ));
            }
        },
        None => {
            store.ensure_bucket().await?;
            (store.bucket().to_owned(), format!("{id}/build.zip"))
        }
    };
    let build = fleet.with_catalog(|c| {
        let (region, account) =
            fleet.with_engine(|e, _| (e.config().region.clone(), e.config().account_id.clone()));
        let record = BuildRecord {
            arn: format!("arn:aws:gamelift:{region}:{account}:build/{id}"),
            id: id.clone(),
            name: r.name,
            version: r.version,
            operating_system: r.operating_system,
            server_sdk_version: r.server_sdk_version,
            created: Timestamp::now(),
            bucket,
            key,
            status: BuildStatus::Initialized,
            size: None,
        };
        c.builds.insert(id.clone(), record.clone());
        record
    });
    Ok(Response::CreateBuild(api::CreateBuildOutput {
        build: build.to_api(),
        upload_credentials: Some(store.upload_credentials().await),
        storage_location: Some(build.location()),
    }))
}

/// Checks S3 for every INITIALIZED build among `ids` (all when `None`) and records what
/// it finds.
async fn refresh(fleet: &FleetHandle, ids: Option<&[String]>) -> Result<(), ApiError> {
    let Some(store) = fleet.build_store() else {
        return Ok(());
    };
    let pending: Vec<(String, String, String)> = fleet.with_catalog(|c| {
        c.builds
            .values()
            .filter(|b| b.status == BuildStatus::Initialized)
            .filter(|b| ids.is_none_or(|ids| ids.contains(&b.id)))
            .map(|b| (b.id.clone(), b.bucket.clone(), b.key.clone()))
            .collect()
    });
    for (id, bucket, key) in pending {
        let found = store.inspect(&bucket, &key).await?;
        fleet.with_catalog(|c| {
            if let Some(b) = c.builds.get_mut(&id) {
                match found {
                    Upload::Missing => {}
                    Upload::Zip(size) => {
                        b.status = BuildStatus::Ready;
                        b.size = Some(size);
                    }
                    Upload::NotZip => b.status = BuildStatus::Failed,
                }
            }
        });
    }
    Ok(())
}

/// DescribeBuild: the build, its status brought up to date with S3.
pub async fn describe_build(fleet: &FleetHandle, build_id: &str) -> Result<Response, ApiError> {
    let id = fleet.with_catalog(|c| c.build(build_id).map(|b| b.id.clone()))?;
    refresh(fleet, Some(std::slice::from_ref(&id))).await?;
    let build = fleet.with_catalog(|c| c.build(&id).map(BuildRecord::to_api))?;
    Ok(Response::DescribeBuild(api::BuildOutput { build }))
}

/// Brings the builds of created fleets up to date, so their status is current.
pub async fn refresh_fleet_builds(fleet: &FleetHandle) -> Result<(), ApiError> {
    let ids: Vec<String> =
        fleet.with_catalog(|c| c.fleets.values().map(|f| f.build_id.clone()).collect());
    if ids.is_empty() {
        return Ok(());
    }
    refresh(fleet, Some(&ids)).await
}

/// Checks a runtime configuration as GameLift does: 1–50 server processes, each with a
/// launch path and 1–50 concurrent executions; activations 1–2147483647; activation
/// timeout 1–600 s.
pub fn check_runtime(rc: &RuntimeConfiguration) -> Result<(), ApiError> {
    if rc.server_processes.is_empty() || rc.server_processes.len() > 50 {
        return Err(ApiError::invalid_request(
            "RuntimeConfiguration.ServerProcesses must list 1 to 50 server processes",
        ));
    }
    for (i, p) in rc.server_processes.iter().enumerate() {
        if p.launch_path.trim().is_empty() {
            return Err(ApiError::invalid_request(format!(
                "RuntimeConfiguration.ServerProcesses[{i}].LaunchPath is empty"
            )));
        }
        if !(1..=50).contains(&p.concurrent_executions) {
            return Err(ApiError::invalid_request(format!(
                "RuntimeConfiguration.ServerProcesses[{i}].ConcurrentExecutions must be 1 to 50"
            )));
        }
    }
    if rc
        .max_concurrent_game_session_activations
        .is_some_and(|n| n < 1)
    {
        return Err(ApiError::invalid_request(
            "MaxConcurrentGameSessionActivations must be at least 1",
        ));
    }
    if rc
        .game_session_activation_timeout_seconds
        .is_some_and(|n| !(1..=600).contains(&n))
    {
        return Err(ApiError::invalid_request(
            "GameSessionActivationTimeoutSeconds must be 1 to 600",
        ));
    }
    Ok(())
}

/// CreateFleet: records the fleet (see the module doc: it launches nothing).
pub async fn create_fleet(fleet: &FleetHandle, r: CreateFleetInput) -> Result<Response, ApiError> {
    if r.script_id.is_some() {
        return Err(ApiError::invalid_request(
            "fleet local has no Realtime scripts; create the fleet with a BuildId",
        ));
    }
    if r.compute_type.as_deref().is_some_and(|t| t != "EC2") {
        return Err(ApiError::invalid_request(
            "fleet local records EC2 fleets only (ComputeType EC2)",
        ));
    }
    let build_id = r
        .build_id
        .ok_or_else(|| ApiError::invalid_request("CreateFleet needs a BuildId"))?;
    let runtime = r.runtime_configuration.ok_or_else(|| {
        ApiError::invalid_request("CreateFleet needs a RuntimeConfiguration with ServerProcesses")
    })?;
    check_runtime(&runtime)?;
    for (i, p) in r.ec2_inbound_permissions.iter().enumerate() {
        let ok = (1..=60000).contains(&p.from_port)
            && (1..=60000).contains(&p.to_port)
            && p.from_port <= p.to_port;
        if !ok {
            return Err(ApiError::invalid_request(format!(
                "EC2InboundPermissions[{i}]: ports must be 1 to 60000 with FromPort <= ToPort"
            )));
        }
        let _: IpProtocol = p.protocol;
    }
    let build_id = fleet.with_catalog(|c| c.build(&build_id).map(|b| b.id.clone()))?;
    refresh(fleet, Some(std::slice::from_ref(&build_id))).await?;
    let (region, account) =
        fleet.with_engine(|e, _| (e.config().region.clone(), e.config().account_id.clone()));
    let mut locations = vec![region.clone()];
    for l in r.locations {
        if !locations.contains(&l.location) {
            locations.push(l.location);
        }
    }
    let id = format!("fleet-{}", uuid::Uuid::new_v4());
    let record = FleetRecord {
        arn: format!("arn:aws:gamelift:{region}:{account}:fleet/{id}"),
        id: id.clone(),
        name: r.name,
        description: r.description,
        build_id,
        instance_type: r.ec2_instance_type,
        inbound: r.ec2_inbound_permissions,
        protection: r
            .new_game_session_protection_policy
            .unwrap_or(api::ProtectionPolicy::NoProtection),
        certificate: r
            .certificate_configuration
            .unwrap_or(api::CertificateConfiguration {
                certificate_type: api::CertificateType::Disabled,
            }),
        locations,
        created: Timestamp::now(),
    };
    let (attributes, states) = fleet.with_catalog(|c| {
        c.runtime.insert(id.clone(), runtime);
        c.fleets.insert(id.clone(), record.clone());
        let status = c.fleet_status(&record);
        let states = record
            .locations
            .iter()
            .map(|l| api::LocationState {
                location: Some(l.clone()),
                status: Some(status),
            })
            .collect();
        (c.fleet_attributes(&record), states)
    });
    Ok(Response::CreateFleet(api::CreateFleetOutput {
        fleet_attributes: attributes,
        location_states: states,
    }))
}

/// The fleet id a runtime-configuration request names, if fleet local knows it: the
/// command-line fleet (`this`) or a created one.
pub fn known_fleet(c: &Catalog, this: (&str, &str), fleet_id: &str) -> Result<String, ApiError> {
    if fleet_id == this.0 || fleet_id == this.1 {
        return Ok(this.0.to_owned());
    }
    c.fleet(fleet_id)
        .map(|f| f.id.clone())
        .ok_or_else(|| ApiError::not_found(format!("Fleet {fleet_id} not found")))
}
