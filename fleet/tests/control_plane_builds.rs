//! Builds and created fleets on a real `FleetHandle` behind `api::router`, with build
//! files in moto's S3 (the test bed's `AWS_ENDPOINT_URL`; run through `scripts/test.sh`):
//! CreateBuild hands out an S3 location in the configured bucket, DescribeBuild turns
//! READY once a zip is there (FAILED for anything else), CreateFleet records a fleet
//! whose status follows its build, and bad requests get the real exceptions.

use std::sync::Arc;

use aws_sdk_gamelift::error::ProvideErrorMetadata;
use aws_sdk_gamelift::types as sdk;
use fleet::local::api;
use fleet::local::control_plane::builds::BuildStore;
use fleet::local::engine::FleetConfig;
use fleet::local::runtime::FleetHandle;

const FLEET: &str = "fleet-cmdline";

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}-{}-{:x}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff
    )
}

struct Local {
    client: aws_sdk_gamelift::Client,
    s3: aws_sdk_s3::Client,
    bucket: String,
}

async fn start() -> Local {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "needs moto's S3: run through scripts/test.sh (e.g. `scripts/test.sh --no-lint -p fleet`)"
    );
    let config = fleet::aws::sdk_config().await;
    let bucket = unique("builds");
    let fleet = FleetHandle::new(FleetConfig::local(FLEET));
    fleet.set_build_store(BuildStore::from_config(&config, &bucket));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = api::router(Arc::new(fleet));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let conf = aws_sdk_gamelift::config::Builder::from(&config)
        .endpoint_url(format!("http://{addr}"))
        .build();
    Local {
        client: aws_sdk_gamelift::Client::from_conf(conf),
        s3: fleet::aws::s3(&config),
        bucket,
    }
}

fn runtime() -> sdk::RuntimeConfiguration {
    sdk::RuntimeConfiguration::builder()
        .server_processes(
            sdk::ServerProcess::builder()
                .launch_path("/local/game/server")
                .concurrent_executions(1)
                .build(),
        )
        .build()
}

async fn build_status(l: &Local, id: &str) -> sdk::BuildStatus {
    l.client
        .describe_build()
        .build_id(id)
        .send()
        .await
        .unwrap()
        .build_value()
        .unwrap()
        .status()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_build_turns_ready_when_its_zip_is_in_s3_and_its_fleet_active() {
    let l = start().await;
    let created = l
        .client
        .create_build()
        .name("arena")
        .version("1")
        .operating_system(sdk::OperatingSystem::AmazonLinux2023)
        .server_sdk_version("5.4.0")
        .send()
        .await
        .unwrap();
    let build = created.build_value().unwrap();
    let id = build.build_id().unwrap().to_owned();
    assert!(id.starts_with("build-"), "{id}");
    assert_eq!(build.status(), Some(&sdk::BuildStatus::Initialized));
    let loc = created.storage_location().unwrap();
    assert_eq!(loc.bucket(), Some(l.bucket.as_str()));
    let key = loc.key().unwrap().to_owned();
    assert!(
        created
            .upload_credentials()
            .unwrap()
            .access_key_id()
            .is_some()
    );
    // The bucket was created for us.
    l.s3.head_bucket().bucket(&l.bucket).send().await.unwrap();
    assert_eq!(build_status(&l, &id).await, sdk::BuildStatus::Initialized);

    let fleet = l
        .client
        .create_fleet()
        .name("arena-fleet")
        .build_id(&id)
        .ec2_instance_type(sdk::Ec2InstanceType::C5Large)
        .runtime_configuration(runtime())
        .send()
        .await
        .unwrap();
    let attrs = fleet.fleet_attributes().unwrap();
    let fleet_id = attrs.fleet_id().unwrap().to_owned();
    assert_eq!(attrs.status(), Some(&sdk::FleetStatus::New));
    assert_eq!(attrs.build_id(), Some(id.as_str()));

    l.s3.put_object()
        .bucket(&l.bucket)
        .key(&key)
        .body(b"PK\x03\x04 rest of a zip".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(build_status(&l, &id).await, sdk::BuildStatus::Ready);
    let all = l.client.describe_fleet_attributes().send().await.unwrap();
    let ids: Vec<_> = all
        .fleet_attributes()
        .iter()
        .filter_map(|a| a.fleet_id())
        .collect();
    assert_eq!(
        ids,
        [FLEET, fleet_id.as_str()],
        "the command-line fleet, then created ones"
    );
    let created_attrs = &all.fleet_attributes()[1];
    assert_eq!(created_attrs.status(), Some(&sdk::FleetStatus::Active));
    assert_eq!(created_attrs.name(), Some("arena-fleet"));

    let rc = l
        .client
        .describe_runtime_configuration()
        .fleet_id(&fleet_id)
        .send()
        .await
        .unwrap();
    assert_eq!(rc.runtime_configuration(), Some(&runtime()));
    let two = sdk::RuntimeConfiguration::builder()
        .server_processes(
            sdk::ServerProcess::builder()
                .launch_path("/local/game/server")
                .concurrent_executions(2)
                .build(),
        )
        .build();
    l.client
        .update_runtime_configuration()
        .fleet_id(&fleet_id)
        .runtime_configuration(two.clone())
        .send()
        .await
        .unwrap();
    let rc = l
        .client
        .describe_runtime_configuration()
        .fleet_id(&fleet_id)
        .send()
        .await
        .unwrap();
    assert_eq!(rc.runtime_configuration(), Some(&two));
}

#[tokio::test]
async fn a_build_that_is_not_a_zip_fails() {
    let l = start().await;
    let created = l.client.create_build().name("junk").send().await.unwrap();
    let id = created
        .build_value()
        .unwrap()
        .build_id()
        .unwrap()
        .to_owned();
    let key = created
        .storage_location()
        .unwrap()
        .key()
        .unwrap()
        .to_owned();
    l.s3.put_object()
        .bucket(&l.bucket)
        .key(&key)
        .body(b"not a zip".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(build_status(&l, &id).await, sdk::BuildStatus::Failed);
}

#[tokio::test]
async fn bad_build_and_fleet_requests_get_the_real_exceptions() {
    let l = start().await;
    let code = |e: &dyn ProvideErrorMetadata| e.code().unwrap_or("").to_owned();

    let e = l
        .client
        .describe_build()
        .build_id("build-nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NotFoundException", "{e:?}");

    let e = l
        .client
        .create_fleet()
        .name("x")
        .build_id("build-nope")
        .runtime_configuration(runtime())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NotFoundException", "{e:?}");

    let build = l.client.create_build().name("b").send().await.unwrap();
    let id = build.build_value().unwrap().build_id().unwrap();
    let e = l
        .client
        .create_fleet()
        .name("x")
        .build_id(id)
        .runtime_configuration(sdk::RuntimeConfiguration::builder().build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException", "{e:?}");
    assert!(e.message().unwrap().contains("ServerProcesses"), "{e:?}");

    let e = l
        .client
        .describe_runtime_configuration()
        .fleet_id("fleet-nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NotFoundException", "{e:?}");
    let e = l
        .client
        .update_runtime_configuration()
        .fleet_id(FLEET)
        .runtime_configuration(runtime())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRequestException", "{e:?}");
    assert!(e.message().unwrap().contains("command line"), "{e:?}");
}
