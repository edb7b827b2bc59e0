//! UpdateFleetCapacity on the real `fleet local`, through `aws-sdk-gamelift`: desired 0
//! withdraws capacity (CreateGameSession fails with FleetCapacityExceededException),
//! desired 1 restores it, DescribeFleetCapacity reports what was asked, and bad requests
//! get the real exceptions. Waits are on the fleet's log lines, never on the clock.

use aws_sdk_gamelift::error::ProvideErrorMetadata;
use tests::fleet_local::FleetLocal;

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(tests::unique_name(&format!("fleet-{name}")));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn counts(gl: &aws_sdk_gamelift::Client, fleet: &str) -> (i32, i32, i32, i32) {
    let out = gl
        .describe_fleet_capacity()
        .fleet_ids(fleet)
        .send()
        .await
        .expect("DescribeFleetCapacity");
    let c = out.fleet_capacity()[0].instance_counts().expect("counts");
    (
        c.desired().unwrap(),
        c.minimum().unwrap(),
        c.maximum().unwrap(),
        c.active().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_to_zero_refuses_game_sessions_and_back_to_one_restores() {
    let dir = tempdir("capacity");
    let mut fleet = FleetLocal::start(
        &dir,
        &[
            "--launch-path",
            env!("CARGO_BIN_EXE_lifecycle_server"),
            "--processes",
            "1",
            "--termination-grace",
            "5",
        ],
    )
    .await;
    fleet.wait_for(&["server process ready"]).await;
    let gl = fleet.gamelift().await;
    let id = fleet.fleet_id.clone();
    assert_eq!(counts(&gl, &id).await, (1, 0, 1, 1));

    let out = gl
        .update_fleet_capacity()
        .fleet_id(&id)
        .desired_instances(0)
        .min_size(0)
        .max_size(2)
        .send()
        .await
        .expect("UpdateFleetCapacity to 0");
    assert_eq!(out.fleet_id(), Some(id.as_str()));
    assert_eq!(out.location(), Some("us-east-1"));
    assert_eq!(counts(&gl, &id).await, (0, 0, 2, 0));

    let refused = gl
        .create_game_session()
        .fleet_id(&id)
        .maximum_player_session_count(2)
        .send()
        .await
        .expect_err("no capacity");
    assert_eq!(
        refused.code(),
        Some("FleetCapacityExceededException"),
        "{refused:?}"
    );

    gl.update_fleet_capacity()
        .fleet_id(&id)
        .desired_instances(1)
        .send()
        .await
        .expect("UpdateFleetCapacity to 1");
    assert_eq!(counts(&gl, &id).await, (1, 0, 2, 1));
    let gs = gl
        .create_game_session()
        .fleet_id(&id)
        .maximum_player_session_count(2)
        .send()
        .await
        .expect("CreateGameSession after capacity is back")
        .game_session
        .expect("a game session");
    fleet
        .wait_for(&["game session active", gs.game_session_id().unwrap()])
        .await;

    // Bad input: an unknown fleet, desired outside min..max, a negative count.
    let unknown = gl
        .update_fleet_capacity()
        .fleet_id("fleet-nope")
        .desired_instances(1)
        .send()
        .await
        .expect_err("unknown fleet");
    assert_eq!(unknown.code(), Some("NotFoundException"));
    let outside = gl
        .update_fleet_capacity()
        .fleet_id(&id)
        .desired_instances(3)
        .max_size(2)
        .send()
        .await
        .expect_err("desired above max");
    assert_eq!(outside.code(), Some("InvalidRequestException"));
    assert!(
        outside.message().unwrap_or("").contains("MaxSize (2)"),
        "{outside:?}"
    );
    let negative = gl
        .update_fleet_capacity()
        .fleet_id(&id)
        .min_size(-1)
        .send()
        .await
        .expect_err("negative");
    assert_eq!(negative.code(), Some("InvalidRequestException"));
    assert_eq!(
        counts(&gl, &id).await,
        (1, 0, 2, 1),
        "refused updates change nothing"
    );

    assert!(fleet.terminate().await);
    std::fs::remove_dir_all(&dir).ok();
}
