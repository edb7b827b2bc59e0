//! The build, fleet-creation and capacity operations on the wire, in both protocols:
//! `aws-sdk-gamelift` (Smithy RPC v2 CBOR) and raw AWS JSON 1.1 requests reach the fleet
//! core with every member decoded, and the outputs come back member for member.

use aws_sdk_gamelift::types as sdk;
use fleet::local::api::*;
use serde_json::{Value as Json, json};

mod api_fixture;
use api_fixture::*;

async fn json_ok(addr: std::net::SocketAddr, op: &str, body: Json) -> Json {
    let target = format!("GameLift.{op}");
    let headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target.as_str()),
    ];
    let (status, _, body) = raw(addr, "/", &headers, body.to_string().as_bytes()).await;
    let body: Json = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200, "{op}: {body}");
    body
}

#[tokio::test]
async fn build_and_fleet_operations_over_cbor() {
    let (fixture, _, client) = start().await;

    let out = client
        .update_fleet_capacity()
        .fleet_id(FLEET)
        .desired_instances(0)
        .min_size(0)
        .max_size(4)
        .location("us-east-1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.fleet_id(), Some(FLEET));
    assert_eq!(out.fleet_arn(), Some(FLEET_ARN));
    assert_eq!(
        fixture.last(),
        Request::UpdateFleetCapacity(UpdateFleetCapacityInput {
            fleet_id: FLEET.into(),
            desired_instances: Some(0),
            min_size: Some(0),
            max_size: Some(4),
            location: Some("us-east-1".into()),
        })
    );

    let out = client
        .create_build()
        .name("arena")
        .version("1.2.3")
        .operating_system(sdk::OperatingSystem::AmazonLinux2023)
        .server_sdk_version("5.4.0")
        .send()
        .await
        .unwrap();
    let b = out.build_value().unwrap();
    assert_eq!(b.build_id(), Some("build-1"));
    assert_eq!(b.status(), Some(&sdk::BuildStatus::Initialized));
    assert_eq!(b.size_on_disk(), Some(5_000_000_000));
    assert_eq!(
        b.operating_system(),
        Some(&sdk::OperatingSystem::AmazonLinux2023)
    );
    assert_eq!(
        b.creation_time().unwrap().to_millis().unwrap(),
        1_700_000_000_123
    );
    let creds = out.upload_credentials().unwrap();
    assert_eq!(creds.access_key_id(), Some("AKIDUPLOAD"));
    assert_eq!(creds.session_token(), Some("upload-token"));
    assert_eq!(
        out.storage_location().unwrap().key(),
        Some("build-1/build.zip")
    );
    assert_eq!(
        fixture.last(),
        Request::CreateBuild(CreateBuildInput {
            name: Some("arena".into()),
            version: Some("1.2.3".into()),
            storage_location: None,
            operating_system: Some(OperatingSystem::AmazonLinux2023),
            server_sdk_version: Some("5.4.0".into()),
        })
    );

    let out = client
        .describe_build()
        .build_id("build-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.build_value().unwrap().status(),
        Some(&sdk::BuildStatus::Ready)
    );

    let rc = sdk::RuntimeConfiguration::builder()
        .server_processes(
            sdk::ServerProcess::builder()
                .launch_path("/local/game/server")
                .parameters("--port 7000")
                .concurrent_executions(2)
                .build(),
        )
        .max_concurrent_game_session_activations(3)
        .game_session_activation_timeout_seconds(300)
        .build();
    let out = client
        .create_fleet()
        .name("arena")
        .build_id("build-1")
        .ec2_instance_type(sdk::Ec2InstanceType::C5Large)
        .runtime_configuration(rc.clone())
        .ec2_inbound_permissions(
            sdk::IpPermission::builder()
                .from_port(7000)
                .to_port(7100)
                .ip_range("0.0.0.0/0")
                .protocol(sdk::IpProtocol::Udp)
                .build(),
        )
        .certificate_configuration(
            sdk::CertificateConfiguration::builder()
                .certificate_type(sdk::CertificateType::Generated)
                .build(),
        )
        .new_game_session_protection_policy(sdk::ProtectionPolicy::FullProtection)
        .locations(
            sdk::LocationConfiguration::builder()
                .location("us-west-2")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.fleet_attributes().unwrap().status(),
        Some(&sdk::FleetStatus::New)
    );
    assert_eq!(out.location_states()[0].location(), Some("us-east-1"));
    let Request::CreateFleet(input) = fixture.last() else {
        panic!("not CreateFleet")
    };
    assert_eq!(input.name, "arena");
    assert_eq!(input.build_id.as_deref(), Some("build-1"));
    assert_eq!(input.ec2_instance_type.as_deref(), Some("c5.large"));
    assert_eq!(
        input.ec2_inbound_permissions,
        vec![IpPermission {
            from_port: 7000,
            to_port: 7100,
            ip_range: "0.0.0.0/0".into(),
            protocol: IpProtocol::Udp,
        }]
    );
    assert_eq!(
        input.certificate_configuration.unwrap().certificate_type,
        CertificateType::Generated
    );
    assert_eq!(
        input.new_game_session_protection_policy,
        Some(ProtectionPolicy::FullProtection)
    );
    assert_eq!(input.locations[0].location, "us-west-2");
    let expected_rc = RuntimeConfiguration {
        server_processes: vec![ServerProcess {
            launch_path: "/local/game/server".into(),
            parameters: Some("--port 7000".into()),
            concurrent_executions: 2,
        }],
        max_concurrent_game_session_activations: Some(3),
        game_session_activation_timeout_seconds: Some(300),
    };
    assert_eq!(input.runtime_configuration.as_ref(), Some(&expected_rc));

    let out = client
        .update_runtime_configuration()
        .fleet_id(FLEET)
        .runtime_configuration(rc.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(out.runtime_configuration(), Some(&rc));
    let out = client
        .describe_runtime_configuration()
        .fleet_id(FLEET)
        .send()
        .await
        .unwrap();
    assert_eq!(out.runtime_configuration(), Some(&rc));
}

#[tokio::test]
async fn build_and_fleet_operations_over_json() {
    let (fixture, addr, _) = start().await;
    let out = json_ok(
        addr,
        "UpdateFleetCapacity",
        json!({"FleetId": FLEET, "DesiredInstances": 1, "MinSize": 0, "MaxSize": 1}),
    )
    .await;
    assert_eq!(
        out,
        json!({"FleetId": FLEET, "FleetArn": FLEET_ARN, "Location": "us-east-1"})
    );

    let out = json_ok(
        addr,
        "CreateBuild",
        json!({"Name": "arena", "OperatingSystem": "AMAZON_LINUX_2023",
               "StorageLocation": {"Bucket": "mine", "Key": "k.zip"}}),
    )
    .await;
    assert_eq!(out["Build"]["Status"], "INITIALIZED");
    assert_eq!(out["Build"]["SizeOnDisk"], 5_000_000_000_i64);
    assert_eq!(out["Build"]["CreationTime"], 1_700_000_000.123);
    assert_eq!(out["UploadCredentials"]["SecretAccessKey"], "upload-secret");
    assert_eq!(out["StorageLocation"]["Bucket"], "builds");
    let Request::CreateBuild(input) = fixture.last() else {
        panic!("not CreateBuild")
    };
    assert_eq!(
        input.storage_location.unwrap().key.as_deref(),
        Some("k.zip")
    );

    let out = json_ok(
        addr,
        "CreateFleet",
        json!({
            "Name": "arena", "BuildId": "build-1", "EC2InstanceType": "c5.large",
            "RuntimeConfiguration": {"ServerProcesses": [
                {"LaunchPath": "/local/game/server", "ConcurrentExecutions": 1}]},
            "EC2InboundPermissions": [
                {"FromPort": 7000, "ToPort": 7001, "IpRange": "10.0.0.0/8", "Protocol": "UDP"}],
            "NewGameSessionProtectionPolicy": "NoProtection",
        }),
    )
    .await;
    assert_eq!(out["FleetAttributes"]["Status"], "NEW");
    assert_eq!(out["LocationStates"][0]["Status"], "NEW");
    let Request::CreateFleet(input) = fixture.last() else {
        panic!("not CreateFleet")
    };
    assert_eq!(input.ec2_inbound_permissions[0].ip_range, "10.0.0.0/8");
    assert_eq!(
        input.runtime_configuration.unwrap().server_processes[0].concurrent_executions,
        1
    );

    let out = json_ok(
        addr,
        "DescribeRuntimeConfiguration",
        json!({"FleetId": FLEET}),
    )
    .await;
    assert_eq!(
        out["RuntimeConfiguration"]["ServerProcesses"][0],
        json!({"LaunchPath": "/local/game/server", "Parameters": "--port 7000", "ConcurrentExecutions": 2})
    );
    assert_eq!(
        out["RuntimeConfiguration"]["GameSessionActivationTimeoutSeconds"],
        300
    );

    // A missing required member never reaches the core.
    let headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", "GameLift.UpdateRuntimeConfiguration"),
    ];
    let before = fixture.seen.lock().unwrap().len();
    let (status, _, body) = raw(addr, "/", &headers, br#"{"FleetId":"fleet-1"}"#).await;
    assert_eq!(status, 400);
    let body: Json = serde_json::from_slice(&body).unwrap();
    assert!(
        body["__type"]
            .as_str()
            .unwrap()
            .ends_with("InvalidRequestException"),
        "{body}"
    );
    assert_eq!(fixture.seen.lock().unwrap().len(), before);
}
