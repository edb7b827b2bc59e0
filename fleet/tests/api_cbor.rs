//! The control-plane API under Smithy RPC v2 CBOR, driven by the real `aws-sdk-gamelift`
//! client: every operation's input reaches the fleet core member for member, and every
//! output member (ids, ARNs, timestamps to the millisecond, game properties, enum values,
//! player latencies, `NextToken`) reaches the SDK intact. Errors and malformed requests
//! are in `api_cbor_errors.rs`; the fleet core is the fixed-answer `Fixture` of
//! `api_fixture`.

use std::collections::BTreeMap;

use aws_sdk_gamelift::types as sdk;
use fleet::local::api::*;

mod api_fixture;
use api_fixture::*;

fn millis(time: Option<&aws_smithy_types::DateTime>) -> Option<i64> {
    time.map(|t| t.to_millis().unwrap())
}

fn ours(time: Option<Timestamp>) -> Option<i64> {
    time.map(Timestamp::as_millis)
}

fn props(sdk: &[sdk::GameProperty]) -> Vec<GameProperty> {
    sdk.iter()
        .map(|p| GameProperty {
            key: p.key().unwrap().to_owned(),
            value: p.value().unwrap().to_owned(),
        })
        .collect()
}

fn assert_game_session(got: &sdk::GameSession, want: &GameSession) {
    assert_eq!(got.game_session_id(), want.game_session_id.as_deref());
    assert_eq!(got.name(), want.name.as_deref());
    assert_eq!(got.fleet_id(), want.fleet_id.as_deref());
    assert_eq!(got.fleet_arn(), want.fleet_arn.as_deref());
    assert_eq!(millis(got.creation_time()), ours(want.creation_time));
    assert_eq!(millis(got.termination_time()), ours(want.termination_time));
    assert_eq!(
        got.current_player_session_count(),
        want.current_player_session_count
    );
    assert_eq!(
        got.maximum_player_session_count(),
        want.maximum_player_session_count
    );
    assert_eq!(
        got.status().map(|s| s.as_str()),
        want.status.map(|s| s.as_str())
    );
    assert_eq!(
        got.status_reason().map(|s| s.as_str()),
        want.status_reason.map(|s| s.as_str())
    );
    assert_eq!(props(got.game_properties()), want.game_properties);
    assert_eq!(got.ip_address(), want.ip_address.as_deref());
    assert_eq!(got.dns_name(), want.dns_name.as_deref());
    assert_eq!(got.port(), want.port);
    assert_eq!(
        got.player_session_creation_policy().map(|p| p.as_str()),
        want.player_session_creation_policy.map(|p| p.as_str())
    );
    assert_eq!(got.creator_id(), want.creator_id.as_deref());
    assert_eq!(got.game_session_data(), want.game_session_data.as_deref());
    assert_eq!(got.matchmaker_data(), want.matchmaker_data.as_deref());
    assert_eq!(got.location(), want.location.as_deref());
    assert_eq!(got.compute_name(), want.compute_name.as_deref());
}

fn assert_player_session(got: &sdk::PlayerSession, want: &PlayerSession) {
    assert_eq!(got.player_session_id(), want.player_session_id.as_deref());
    assert_eq!(got.player_id(), want.player_id.as_deref());
    assert_eq!(got.game_session_id(), want.game_session_id.as_deref());
    assert_eq!(got.fleet_id(), want.fleet_id.as_deref());
    assert_eq!(got.fleet_arn(), want.fleet_arn.as_deref());
    assert_eq!(millis(got.creation_time()), ours(want.creation_time));
    assert_eq!(millis(got.termination_time()), ours(want.termination_time));
    assert_eq!(
        got.status().map(|s| s.as_str()),
        want.status.map(|s| s.as_str())
    );
    assert_eq!(got.ip_address(), want.ip_address.as_deref());
    assert_eq!(got.dns_name(), want.dns_name.as_deref());
    assert_eq!(got.port(), want.port);
    assert_eq!(got.player_data(), want.player_data.as_deref());
}

fn assert_placement(got: &sdk::GameSessionPlacement, want: &GameSessionPlacement) {
    assert_eq!(got.placement_id(), want.placement_id.as_deref());
    assert_eq!(
        got.game_session_queue_name(),
        want.game_session_queue_name.as_deref()
    );
    assert_eq!(
        got.status().map(|s| s.as_str()),
        want.status.map(|s| s.as_str())
    );
    assert_eq!(props(got.game_properties()), want.game_properties);
    assert_eq!(
        got.maximum_player_session_count(),
        want.maximum_player_session_count
    );
    assert_eq!(got.game_session_name(), want.game_session_name.as_deref());
    assert_eq!(got.game_session_id(), want.game_session_id.as_deref());
    assert_eq!(got.game_session_arn(), want.game_session_arn.as_deref());
    assert_eq!(
        got.game_session_region(),
        want.game_session_region.as_deref()
    );
    let latencies: Vec<PlayerLatency> = got
        .player_latencies()
        .iter()
        .map(|l| PlayerLatency {
            player_id: l.player_id().map(str::to_owned),
            region_identifier: l.region_identifier().map(str::to_owned),
            latency_in_milliseconds: l.latency_in_milliseconds(),
        })
        .collect();
    assert_eq!(latencies, want.player_latencies);
    assert_eq!(millis(got.start_time()), ours(want.start_time));
    assert_eq!(millis(got.end_time()), ours(want.end_time));
    assert_eq!(got.ip_address(), want.ip_address.as_deref());
    assert_eq!(got.dns_name(), want.dns_name.as_deref());
    assert_eq!(got.port(), want.port);
    let placed: Vec<PlacedPlayerSession> = got
        .placed_player_sessions()
        .iter()
        .map(|p| PlacedPlayerSession {
            player_id: p.player_id().map(str::to_owned),
            player_session_id: p.player_session_id().map(str::to_owned),
        })
        .collect();
    assert_eq!(placed, want.placed_player_sessions);
    assert_eq!(got.game_session_data(), want.game_session_data.as_deref());
    assert_eq!(got.matchmaker_data(), want.matchmaker_data.as_deref());
    let priority = got.priority_configuration_override().unwrap();
    let want_priority = want.priority_configuration_override.as_ref().unwrap();
    assert_eq!(
        priority.placement_fallback_strategy().map(|s| s.as_str()),
        want_priority
            .placement_fallback_strategy
            .map(|s| s.as_str())
    );
    assert_eq!(
        priority.location_order(),
        want_priority.location_order.as_slice()
    );
}

#[tokio::test]
async fn create_game_session_round_trips_every_member() {
    let (fixture, _, client) = start().await;
    let out = client
        .create_game_session()
        .fleet_id(FLEET)
        .alias_id("alias-1")
        .maximum_player_session_count(8)
        .name("match 1")
        .game_properties(
            sdk::GameProperty::builder()
                .key("mode")
                .value("ranked")
                .build(),
        )
        .game_properties(
            sdk::GameProperty::builder()
                .key("map")
                .value("harbour")
                .build(),
        )
        .creator_id("creator-1")
        .game_session_id("custom-id")
        .idempotency_token("token-1")
        .game_session_data("{\"seed\":42}")
        .location("us-east-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        fixture.last(),
        Request::CreateGameSession(CreateGameSessionInput {
            fleet_id: Some(FLEET.into()),
            alias_id: Some("alias-1".into()),
            maximum_player_session_count: 8,
            name: Some("match 1".into()),
            game_properties: game_session(1).game_properties,
            creator_id: Some("creator-1".into()),
            game_session_id: Some("custom-id".into()),
            idempotency_token: Some("token-1".into()),
            game_session_data: Some("{\"seed\":42}".into()),
            location: Some("us-east-1".into()),
        })
    );
    assert_game_session(out.game_session().unwrap(), &game_session(1));
}

#[tokio::test]
async fn describe_and_search_game_sessions_carry_filters_and_pages() {
    let (fixture, _, client) = start().await;
    let out = client
        .describe_game_sessions()
        .fleet_id(FLEET)
        .game_session_id(game_session_arn(1))
        .alias_id("alias-1")
        .location("us-east-1")
        .status_filter("ACTIVE")
        .limit(2)
        .next_token("page-1")
        .send()
        .await
        .unwrap();
    let query = DescribeGameSessionsInput {
        fleet_id: Some(FLEET.into()),
        game_session_id: Some(game_session_arn(1)),
        alias_id: Some("alias-1".into()),
        location: Some("us-east-1".into()),
        status_filter: Some("ACTIVE".into()),
        limit: Some(2),
        next_token: Some("page-1".into()),
    };
    assert_eq!(fixture.last(), Request::DescribeGameSessions(query.clone()));
    assert_eq!(out.game_sessions().len(), 2);
    assert_game_session(&out.game_sessions()[0], &game_session(1));
    assert_game_session(&out.game_sessions()[1], &game_session(2));
    assert_eq!(out.next_token(), Some("next-page-token"));

    let out = client
        .describe_game_session_details()
        .fleet_id(FLEET)
        .game_session_id(game_session_arn(1))
        .alias_id("alias-1")
        .location("us-east-1")
        .status_filter("ACTIVE")
        .limit(2)
        .next_token("page-1")
        .send()
        .await
        .unwrap();
    assert_eq!(fixture.last(), Request::DescribeGameSessionDetails(query));
    let detail = &out.game_session_details()[0];
    assert_game_session(detail.game_session().unwrap(), &game_session(1));
    assert_eq!(
        detail.protection_policy().map(|p| p.as_str()),
        Some("NoProtection")
    );
    assert_eq!(out.next_token(), Some("next-page-token"));

    let out = client
        .search_game_sessions()
        .fleet_id(FLEET)
        .alias_id("alias-1")
        .location("us-east-1")
        .filter_expression("hasAvailablePlayerSessions=true")
        .sort_expression("creationTimeMillis ASC")
        .limit(10)
        .next_token("page-3")
        .send()
        .await
        .unwrap();
    assert_eq!(
        fixture.last(),
        Request::SearchGameSessions(SearchGameSessionsInput {
            fleet_id: Some(FLEET.into()),
            alias_id: Some("alias-1".into()),
            location: Some("us-east-1".into()),
            filter_expression: Some("hasAvailablePlayerSessions=true".into()),
            sort_expression: Some("creationTimeMillis ASC".into()),
            limit: Some(10),
            next_token: Some("page-3".into()),
        })
    );
    assert_game_session(&out.game_sessions()[0], &game_session(3));
    assert_eq!(out.next_token(), None, "the last page has no NextToken");
}

#[tokio::test]
async fn terminate_game_session_sends_its_mode() {
    let (fixture, _, client) = start().await;
    let out = client
        .terminate_game_session()
        .game_session_id(game_session_arn(1))
        .termination_mode(sdk::TerminationMode::ForceTerminate)
        .send()
        .await
        .unwrap();
    assert_eq!(
        fixture.last(),
        Request::TerminateGameSession(TerminateGameSessionInput {
            game_session_id: game_session_arn(1),
            termination_mode: TerminationMode::ForceTerminate,
        })
    );
    assert_game_session(out.game_session().unwrap(), &game_session(1));
}

#[tokio::test]
async fn player_sessions_round_trip() {
    let (fixture, _, client) = start().await;
    let out = client
        .create_player_session()
        .game_session_id(game_session_arn(1))
        .player_id("alice")
        .player_data("alice-data")
        .send()
        .await
        .unwrap();
    assert_eq!(
        fixture.last(),
        Request::CreatePlayerSession(CreatePlayerSessionInput {
            game_session_id: game_session_arn(1),
            player_id: "alice".into(),
            player_data: Some("alice-data".into()),
        })
    );
    assert_player_session(
        out.player_session().unwrap(),
        &player_session("alice", Some("alice-data")),
    );

    let out = client
        .create_player_sessions()
        .game_session_id(game_session_arn(1))
        .player_ids("alice")
        .player_ids("bob")
        .player_data_map("bob", "bob-data")
        .send()
        .await
        .unwrap();
    assert_eq!(
        fixture.last(),
        Request::CreatePlayerSessions(CreatePlayerSessionsInput {
            game_session_id: game_session_arn(1),
            player_ids: vec!["alice".into(), "bob".into()],
            player_data_map: BTreeMap::from([("bob".into(), "bob-data".into())]),
        })
    );
    assert_eq!(out.player_sessions().len(), 2);
    assert_player_session(&out.player_sessions()[0], &player_session("alice", None));
    assert_player_session(
        &out.player_sessions()[1],
        &player_session("bob", Some("bob-data")),
    );

    let out = client
        .describe_player_sessions()
        .game_session_id(game_session_arn(1))
        .player_id("alice")
        .player_session_id("psess-alice")
        .player_session_status_filter("TIMEDOUT")
        .limit(2)
        .next_token("page-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        fixture.last(),
        Request::DescribePlayerSessions(DescribePlayerSessionsInput {
            game_session_id: Some(game_session_arn(1)),
            player_id: Some("alice".into()),
            player_session_id: Some("psess-alice".into()),
            player_session_status_filter: Some("TIMEDOUT".into()),
            limit: Some(2),
            next_token: Some("page-1".into()),
        })
    );
    assert_player_session(
        &out.player_sessions()[0],
        &player_session("alice", Some("a")),
    );
    assert_player_session(&out.player_sessions()[1], &player_session("bob", None));
    assert_eq!(out.next_token(), Some("next-page-token"));
}

#[tokio::test]
async fn placements_round_trip() {
    let (fixture, _, client) = start().await;
    let out = client
        .start_game_session_placement()
        .placement_id("placement-1")
        .game_session_queue_name("default")
        .game_properties(
            sdk::GameProperty::builder()
                .key("mode")
                .value("duel")
                .build(),
        )
        .maximum_player_session_count(2)
        .game_session_name("duel")
        .player_latencies(
            sdk::PlayerLatency::builder()
                .player_id("alice")
                .region_identifier("us-east-1")
                .latency_in_milliseconds(12.3)
                .build(),
        )
        .desired_player_sessions(
            sdk::DesiredPlayerSession::builder()
                .player_id("alice")
                .player_data("a")
                .build(),
        )
        .game_session_data("data")
        .priority_configuration_override(
            sdk::PriorityConfigurationOverride::builder()
                .placement_fallback_strategy(sdk::PlacementFallbackStrategy::None)
                .location_order("us-east-1")
                .location_order("local")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let want = placement();
    assert_eq!(
        fixture.last(),
        Request::StartGameSessionPlacement(StartGameSessionPlacementInput {
            placement_id: "placement-1".into(),
            game_session_queue_name: "default".into(),
            game_properties: want.game_properties.clone(),
            maximum_player_session_count: 2,
            game_session_name: Some("duel".into()),
            player_latencies: want.player_latencies.clone(),
            desired_player_sessions: vec![DesiredPlayerSession {
                player_id: Some("alice".into()),
                player_data: Some("a".into()),
            }],
            game_session_data: Some("data".into()),
            priority_configuration_override: want.priority_configuration_override.clone(),
        })
    );
    let pending = GameSessionPlacement {
        status: Some(GameSessionPlacementState::Pending),
        ..placement()
    };
    assert_placement(out.game_session_placement().unwrap(), &pending);

    let out = client
        .describe_game_session_placement()
        .placement_id("placement-1")
        .send()
        .await
        .unwrap();
    let by_id = PlacementIdInput {
        placement_id: "placement-1".into(),
    };
    assert_eq!(
        fixture.last(),
        Request::DescribeGameSessionPlacement(by_id.clone())
    );
    assert_placement(out.game_session_placement().unwrap(), &placement());

    let out = client
        .stop_game_session_placement()
        .placement_id("placement-1")
        .send()
        .await
        .unwrap();
    assert_eq!(fixture.last(), Request::StopGameSessionPlacement(by_id));
    let cancelled = GameSessionPlacement {
        status: Some(GameSessionPlacementState::Cancelled),
        ..placement()
    };
    assert_placement(out.game_session_placement().unwrap(), &cancelled);
}

#[tokio::test]
async fn fleet_attributes_and_capacity_round_trip() {
    let (fixture, _, client) = start().await;
    let out = client
        .describe_fleet_attributes()
        .fleet_ids(FLEET)
        .fleet_ids(FLEET_ARN)
        .limit(1)
        .next_token("page-1")
        .send()
        .await
        .unwrap();
    let query = DescribeFleetsInput {
        fleet_ids: vec![FLEET.into(), FLEET_ARN.into()],
        limit: Some(1),
        next_token: Some("page-1".into()),
    };
    assert_eq!(
        fixture.last(),
        Request::DescribeFleetAttributes(query.clone())
    );
    assert_eq!(out.next_token(), Some("next-page-token"));
    let (got, want) = (&out.fleet_attributes()[0], fleet_attributes());
    assert_eq!(got.fleet_id(), want.fleet_id.as_deref());
    assert_eq!(got.fleet_arn(), want.fleet_arn.as_deref());
    assert_eq!(got.fleet_type().map(|t| t.as_str()), Some("ON_DEMAND"));
    assert_eq!(got.instance_type().map(|t| t.as_str()), Some("c5.large"));
    assert_eq!(got.description(), want.description.as_deref());
    assert_eq!(got.name(), want.name.as_deref());
    assert_eq!(millis(got.creation_time()), ours(want.creation_time));
    assert_eq!(got.termination_time(), None);
    assert_eq!(got.status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(got.build_id(), want.build_id.as_deref());
    assert_eq!(got.build_arn(), want.build_arn.as_deref());
    assert_eq!(got.script_id(), want.script_id.as_deref());
    assert_eq!(got.script_arn(), want.script_arn.as_deref());
    assert_eq!(got.server_launch_path(), want.server_launch_path.as_deref());
    assert_eq!(
        got.server_launch_parameters(),
        want.server_launch_parameters.as_deref()
    );
    assert_eq!(got.log_paths(), want.log_paths.as_slice());
    assert_eq!(
        got.new_game_session_protection_policy().map(|p| p.as_str()),
        Some("FullProtection")
    );
    assert_eq!(
        got.operating_system().map(|o| o.as_str()),
        Some("AMAZON_LINUX_2023")
    );
    let limit = got.resource_creation_limit_policy().unwrap();
    assert_eq!(limit.new_game_sessions_per_creator(), Some(5));
    assert_eq!(limit.policy_period_in_minutes(), Some(15));
    assert_eq!(got.metric_groups(), want.metric_groups.as_slice());
    assert_eq!(got.instance_role_arn(), want.instance_role_arn.as_deref());
    assert_eq!(
        got.certificate_configuration()
            .and_then(|c| c.certificate_type())
            .map(|t| t.as_str()),
        Some("GENERATED")
    );
    assert_eq!(got.compute_type().map(|c| c.as_str()), Some("ANYWHERE"));
    assert_eq!(
        got.anywhere_configuration().and_then(|a| a.cost()),
        Some("0.0")
    );

    let out = client
        .describe_fleet_capacity()
        .fleet_ids(FLEET)
        .fleet_ids(FLEET_ARN)
        .limit(1)
        .next_token("page-1")
        .send()
        .await
        .unwrap();
    assert_eq!(fixture.last(), Request::DescribeFleetCapacity(query));
    assert_eq!(out.next_token(), Some("next-page-token"));
    let got = &out.fleet_capacity()[0];
    assert_eq!(got.fleet_id(), Some(FLEET));
    assert_eq!(got.fleet_arn(), Some(FLEET_ARN));
    assert_eq!(got.instance_type().map(|t| t.as_str()), Some("c5.large"));
    assert_eq!(got.location(), Some("us-east-1"));
    let counts = got.instance_counts().unwrap();
    let all = [
        counts.desired(),
        counts.minimum(),
        counts.maximum(),
        counts.pending(),
        counts.active(),
        counts.idle(),
        counts.terminating(),
    ];
    assert_eq!(all, [1, 0, 2, 3, 4, 5, 6].map(Some));
}
