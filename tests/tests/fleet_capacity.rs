//! UpdateFleetCapacity on the real `fleet local`, through `aws-sdk-gamelift`: desired 0
//! withdraws capacity (CreateGameSession fails with FleetCapacityExceededException),
//! desired 1 restores it, DescribeFleetCapacity reports what was asked, and bad requests
//! get the real exceptions. Waits are on the fleet's log lines, never on the clock.

use aws_sdk_gamelift::error::ProvideErrorMetadata;
use aws_sdk_gamelift::types::GameSessionPlacementState;
use tests::fleet_local::{FleetLocal, WAIT};

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
            "2",
            "--termination-grace",
            "5",
        ],
    )
    .await;
    let first = fleet.wait_for(&["server process ready"]).await;
    let second = fleet.wait_for(&["server process ready"]).await;
    assert_ne!(first, second);
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
    // A placement started now waits (PENDING) instead of failing.
    let placement = gl
        .start_game_session_placement()
        .placement_id("while-withdrawn")
        .game_session_queue_name("default")
        .maximum_player_session_count(2)
        .send()
        .await
        .expect("StartGameSessionPlacement")
        .game_session_placement
        .expect("a placement");
    assert_eq!(
        placement.status(),
        Some(&GameSessionPlacementState::Pending)
    );

    gl.update_fleet_capacity()
        .fleet_id(&id)
        .desired_instances(1)
        .send()
        .await
        .expect("UpdateFleetCapacity to 1");
    assert_eq!(counts(&gl, &id).await, (1, 0, 2, 1));
    // The waiting placement goes ahead once capacity is back: poll with a deadline.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let p = gl
            .describe_game_session_placement()
            .placement_id("while-withdrawn")
            .send()
            .await
            .expect("DescribeGameSessionPlacement")
            .game_session_placement
            .expect("the placement");
        match p.status() {
            Some(GameSessionPlacementState::Fulfilled) => break,
            Some(GameSessionPlacementState::Pending) => {}
            other => panic!("placement ended {other:?}"),
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "placement still PENDING after {WAIT:?}"
        );
        // The fleet's log says when the placed game session activates; wait on it
        // rather than on the clock.
        fleet.wait_for(&["game session active"]).await;
    }
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
