//! The control-plane API under AWS JSON 1.1 (what boto3 and older SDKs speak), sent as
//! raw HTTP/1.1 requests on the same port as RPC v2 CBOR: every operation is dispatched
//! on `X-Amz-Target`, its input reaches the fleet core member for member, outputs use the
//! real member names with epoch-second timestamps, and errors carry `__type`, `Message`,
//! `x-amzn-ErrorType` and the right status. Protocol mistakes get
//! `UnknownOperationException` or `SerializationException` without reaching the core.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use fleet::local::api::*;
use serde_json::{Value as Json, json};

mod api_fixture;
use api_fixture::*;

/// Sends one JSON 1.1 request for `target` and returns status, headers and parsed body.
async fn call(addr: SocketAddr, target: &str, body: Json) -> (u16, BTreeMap<String, String>, Json) {
    let headers = [
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target),
        // SigV4 headers as boto3 sends them: accepted and ignored.
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20240101/us-east-1/gamelift/aws4_request, \
             SignedHeaders=host;x-amz-date;x-amz-target, Signature=00",
        ),
        ("x-amz-date", "20240101T000000Z"),
    ];
    let (status, headers, body) = raw(addr, "/", &headers, body.to_string().as_bytes()).await;
    assert_eq!(headers["content-type"], "application/x-amz-json-1.1");
    assert!(headers.contains_key("x-amzn-requestid"));
    (status, headers, serde_json::from_slice(&body).unwrap())
}

async fn ok(addr: SocketAddr, op: &str, body: Json) -> Json {
    let (status, _, body) = call(addr, &format!("GameLift.{op}"), body).await;
    assert_eq!(status, 200, "{op}: {body}");
    body
}

fn game_session_json(n: u32) -> Json {
    let creation = 1_700_000_000.123;
    let termination = 1_700_000_360.007;
    json!({
        "GameSessionId": format!("arn:aws:gamelift:us-east-1::gamesession/{FLEET}/gsess-{n}"),
        "Name": format!("match {n}"),
        "FleetId": FLEET,
        "FleetArn": FLEET_ARN,
        "CreationTime": creation,
        "TerminationTime": termination,
        "CurrentPlayerSessionCount": 3,
        "MaximumPlayerSessionCount": 8,
        "Status": "TERMINATED",
        "StatusReason": "TRIGGERED_ON_PROCESS_TERMINATE",
        "GameProperties": [{"Key": "mode", "Value": "ranked"}, {"Key": "map", "Value": "harbour"}],
        "IpAddress": "127.0.0.1",
        "DnsName": "localhost",
        "Port": 7777,
        "PlayerSessionCreationPolicy": "DENY_ALL",
        "CreatorId": "creator-1",
        "GameSessionData": "{\"seed\":42}",
        "MatchmakerData": "{\"matchId\":\"m-1\"}",
        "Location": "us-east-1",
        "ComputeName": "local-compute",
    })
}

#[tokio::test]
async fn game_session_operations_round_trip() {
    let (fixture, addr, _) = start().await;
    let out = ok(
        addr,
        "CreateGameSession",
        json!({
            "FleetId": FLEET,
            "MaximumPlayerSessionCount": 8,
            "Name": "match 1",
            "GameProperties": [{"Key": "mode", "Value": "ranked"}],
            "IdempotencyToken": "token-1",
            "SomeFutureMember": {"ignored": true},
        }),
    )
    .await;
    assert_eq!(
        fixture.last(),
        Request::CreateGameSession(CreateGameSessionInput {
            fleet_id: Some(FLEET.into()),
            maximum_player_session_count: 8,
            name: Some("match 1".into()),
            game_properties: vec![GameProperty {
                key: "mode".into(),
                value: "ranked".into()
            }],
            idempotency_token: Some("token-1".into()),
            ..Default::default()
        })
    );
    assert_eq!(out, json!({"GameSession": game_session_json(1)}));

    let query = json!({"FleetId": FLEET, "StatusFilter": "ACTIVE", "Limit": 2, "NextToken": "p1"});
    let out = ok(addr, "DescribeGameSessions", query.clone()).await;
    let want = DescribeGameSessionsInput {
        fleet_id: Some(FLEET.into()),
        status_filter: Some("ACTIVE".into()),
        limit: Some(2),
        next_token: Some("p1".into()),
        ..Default::default()
    };
    assert_eq!(fixture.last(), Request::DescribeGameSessions(want.clone()));
    assert_eq!(
        out,
        json!({
            "GameSessions": [game_session_json(1), game_session_json(2)],
            "NextToken": "next-page-token",
        })
    );

    let out = ok(addr, "DescribeGameSessionDetails", query).await;
    assert_eq!(fixture.last(), Request::DescribeGameSessionDetails(want));
    assert_eq!(
        out,
        json!({
            "GameSessionDetails": [
                {"GameSession": game_session_json(1), "ProtectionPolicy": "NoProtection"}
            ],
            "NextToken": "next-page-token",
        })
    );

    let out = ok(
        addr,
        "SearchGameSessions",
        json!({"AliasId": "alias-1", "FilterExpression": "playerSessionCount>0"}),
    )
    .await;
    assert_eq!(
        fixture.last(),
        Request::SearchGameSessions(SearchGameSessionsInput {
            alias_id: Some("alias-1".into()),
            filter_expression: Some("playerSessionCount>0".into()),
            ..Default::default()
        })
    );
    assert_eq!(
        out,
        json!({"GameSessions": [game_session_json(3)]}),
        "no NextToken"
    );

    let out = ok(
        addr,
        "TerminateGameSession",
        json!({"GameSessionId": "gs-1", "TerminationMode": "TRIGGER_ON_PROCESS_TERMINATE"}),
    )
    .await;
    assert_eq!(
        fixture.last(),
        Request::TerminateGameSession(TerminateGameSessionInput {
            game_session_id: "gs-1".into(),
            termination_mode: TerminationMode::TriggerOnProcessTerminate,
        })
    );
    assert_eq!(out["GameSession"], game_session_json(1));
}

#[tokio::test]
async fn player_session_and_placement_operations_round_trip() {
    let (fixture, addr, _) = start().await;
    let gs = format!("arn:aws:gamelift:us-east-1::gamesession/{FLEET}/gsess-1");
    let alice = json!({
        "PlayerSessionId": "psess-alice",
        "PlayerId": "alice",
        "GameSessionId": gs,
        "FleetId": FLEET,
        "FleetArn": FLEET_ARN,
        "CreationTime": 1_700_000_001.999,
        "TerminationTime": 1_700_000_061.001,
        "Status": "TIMEDOUT",
        "IpAddress": "127.0.0.1",
        "DnsName": "localhost",
        "Port": 7777,
        "PlayerData": "a",
    });
    let out = ok(
        addr,
        "CreatePlayerSession",
        json!({"GameSessionId": gs, "PlayerId": "alice", "PlayerData": "a"}),
    )
    .await;
    assert_eq!(out, json!({"PlayerSession": alice}));

    let out = ok(
        addr,
        "CreatePlayerSessions",
        json!({
            "GameSessionId": gs,
            "PlayerIds": ["alice", "bob"],
            "PlayerDataMap": {"alice": "a"},
        }),
    )
    .await;
    assert_eq!(
        fixture.last(),
        Request::CreatePlayerSessions(CreatePlayerSessionsInput {
            game_session_id: gs.clone(),
            player_ids: vec!["alice".into(), "bob".into()],
            player_data_map: BTreeMap::from([("alice".into(), "a".into())]),
        })
    );
    assert_eq!(out["PlayerSessions"][0], alice);
    assert_eq!(out["PlayerSessions"][1]["PlayerId"], "bob");
    assert!(
        out.get("NextToken").is_none(),
        "CreatePlayerSessions has no NextToken"
    );

    let out = ok(
        addr,
        "DescribePlayerSessions",
        json!({"PlayerSessionId": "psess-alice"}),
    )
    .await;
    assert_eq!(out["PlayerSessions"][0], alice);
    assert_eq!(out["NextToken"], "next-page-token");

    let start = json!({
        "PlacementId": "placement-1",
        "GameSessionQueueName": "default",
        "MaximumPlayerSessionCount": 2,
        "PlayerLatencies": [
            {"PlayerId": "alice", "RegionIdentifier": "us-east-1", "LatencyInMilliseconds": 12.3}
        ],
        "DesiredPlayerSessions": [{"PlayerId": "alice", "PlayerData": "a"}],
        "PriorityConfigurationOverride": {"LocationOrder": ["us-east-1"]},
    });
    let out = ok(addr, "StartGameSessionPlacement", start).await;
    let Request::StartGameSessionPlacement(input) = fixture.last() else {
        panic!()
    };
    assert_eq!(input.player_latencies, placement().player_latencies);
    assert_eq!(
        input.desired_player_sessions[0].player_data.as_deref(),
        Some("a")
    );
    assert_eq!(
        input
            .priority_configuration_override
            .unwrap()
            .location_order,
        ["us-east-1"]
    );
    assert_eq!(out["GameSessionPlacement"]["Status"], "PENDING");

    let out = ok(
        addr,
        "DescribeGameSessionPlacement",
        json!({"PlacementId": "placement-1"}),
    )
    .await;
    assert_eq!(
        out,
        json!({"GameSessionPlacement": {
            "PlacementId": "placement-1",
            "GameSessionQueueName": "default",
            "Status": "FULFILLED",
            "GameProperties": [{"Key": "mode", "Value": "duel"}],
            "MaximumPlayerSessionCount": 2,
            "GameSessionName": "duel",
            "GameSessionId": "gsess-9",
            "GameSessionArn": format!("arn:aws:gamelift:us-east-1::gamesession/{FLEET}/gsess-9"),
            "GameSessionRegion": "us-east-1",
            // The float's shortest form, not 12.300000190734863.
            "PlayerLatencies": [
                {
                    "PlayerId": "alice",
                    "RegionIdentifier": "us-east-1",
                    "LatencyInMilliseconds": 12.3,
                }
            ],
            "StartTime": 1_700_000_000.001,
            "EndTime": 1_700_000_002.502,
            "IpAddress": "127.0.0.1",
            "DnsName": "localhost",
            "Port": 7778,
            "PlacedPlayerSessions": [{"PlayerId": "alice", "PlayerSessionId": "psess-alice"}],
            "GameSessionData": "data",
            "MatchmakerData": "mm",
            "PriorityConfigurationOverride": {
                "PlacementFallbackStrategy": "NONE",
                "LocationOrder": ["us-east-1", "local"],
            },
        }})
    );

    let out = ok(
        addr,
        "StopGameSessionPlacement",
        json!({"PlacementId": "placement-1"}),
    )
    .await;
    let stopped = PlacementIdInput {
        placement_id: "placement-1".into(),
    };
    assert_eq!(fixture.last(), Request::StopGameSessionPlacement(stopped));
    assert_eq!(out["GameSessionPlacement"]["Status"], "CANCELLED");
}

#[tokio::test]
async fn fleet_operations_round_trip() {
    let (fixture, addr, _) = start().await;
    let out = ok(
        addr,
        "DescribeFleetAttributes",
        json!({"FleetIds": [FLEET]}),
    )
    .await;
    assert_eq!(
        fixture.last(),
        Request::DescribeFleetAttributes(DescribeFleetsInput {
            fleet_ids: vec![FLEET.into()],
            ..Default::default()
        })
    );
    let attributes = &out["FleetAttributes"][0];
    assert_eq!(attributes["FleetType"], "ON_DEMAND");
    assert_eq!(attributes["CreationTime"], json!(1_699_999_999.999));
    assert!(
        attributes.get("TerminationTime").is_none(),
        "absent members are omitted"
    );
    assert_eq!(
        attributes["ResourceCreationLimitPolicy"]["PolicyPeriodInMinutes"],
        15
    );
    assert_eq!(
        attributes["CertificateConfiguration"]["CertificateType"],
        "GENERATED"
    );
    assert_eq!(attributes["AnywhereConfiguration"]["Cost"], "0.0");
    assert_eq!(attributes["LogPaths"], json!(["/local/game/logs"]));
    assert_eq!(out["NextToken"], "next-page-token");

    let out = ok(addr, "DescribeFleetCapacity", json!({})).await;
    assert_eq!(
        fixture.last(),
        Request::DescribeFleetCapacity(DescribeFleetsInput::default())
    );
    assert_eq!(
        out["FleetCapacity"][0],
        json!({
            "FleetId": FLEET,
            "FleetArn": FLEET_ARN,
            "InstanceType": "c5.large",
            "InstanceCounts": {
                "DESIRED": 1, "MINIMUM": 0, "MAXIMUM": 2, "PENDING": 3,
                "ACTIVE": 4, "IDLE": 5, "TERMINATING": 6,
            },
            "Location": "us-east-1",
        })
    );
}

#[tokio::test]
async fn errors_carry_type_message_header_and_status() {
    let (fixture, addr, _) = start().await;
    for kind in ErrorKind::ALL
        .into_iter()
        .filter(|k| !k.is_protocol_error())
    {
        fixture.fail_next(kind, "from the core");
        let (status, headers, body) = call(addr, "GameLift.DescribeFleetCapacity", json!({})).await;
        let want_status = if kind == ErrorKind::InternalService {
            500
        } else {
            400
        };
        assert_eq!(status, want_status, "{kind:?}");
        assert_eq!(headers["x-amzn-errortype"], kind.name());
        assert_eq!(
            body,
            json!({
                "__type": format!("com.amazonaws.gamelift#{}", kind.name()),
                "Message": "from the core",
            })
        );
    }
}

/// What is wrong, request headers, body, expected status and `__type`.
type BadRequest<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [u8], u16, &'a str);

#[tokio::test]
async fn protocol_mistakes_get_the_protocols_errors() {
    let (fixture, addr, _) = start().await;
    let unknown = "com.amazon.coral.service#UnknownOperationException";
    let serialization = "com.amazon.coral.service#SerializationException";
    let json11 = ("content-type", "application/x-amz-json-1.1");
    let cases: Vec<BadRequest<'_>> = vec![
        ("no target", vec![json11], b"{}", 400, unknown),
        (
            "foreign target",
            vec![json11, ("x-amz-target", "DynamoDB_20120810.ListTables")],
            b"{}",
            400,
            unknown,
        ),
        (
            "unknown operation",
            vec![json11, ("x-amz-target", "GameLift.DeleteFleet")],
            b"{}",
            400,
            unknown,
        ),
        (
            "CBOR content type",
            vec![
                ("content-type", "application/cbor"),
                ("x-amz-target", "GameLift.DescribeFleetCapacity"),
            ],
            b"{}",
            400,
            unknown,
        ),
        (
            "not JSON",
            vec![json11, ("x-amz-target", "GameLift.DescribeFleetCapacity")],
            b"{\"Fleet",
            400,
            serialization,
        ),
        (
            "not an object",
            vec![json11, ("x-amz-target", "GameLift.DescribeFleetCapacity")],
            b"[1]",
            400,
            serialization,
        ),
        (
            "wrong member type",
            vec![json11, ("x-amz-target", "GameLift.DescribeFleetCapacity")],
            b"{\"Limit\": \"ten\"}",
            400,
            serialization,
        ),
        (
            "integer out of range",
            vec![json11, ("x-amz-target", "GameLift.DescribeFleetCapacity")],
            b"{\"Limit\": 4294967296}",
            400,
            serialization,
        ),
        (
            "missing required member",
            vec![json11, ("x-amz-target", "GameLift.CreatePlayerSession")],
            b"{\"GameSessionId\": \"gs\"}",
            400,
            "com.amazonaws.gamelift#InvalidRequestException",
        ),
        (
            "null list element",
            vec![json11, ("x-amz-target", "GameLift.CreatePlayerSessions")],
            b"{\"GameSessionId\": \"gs\", \"PlayerIds\": [null]}",
            400,
            serialization,
        ),
    ];
    for (what, headers, body, want_status, want_type) in cases {
        let (status, response_headers, body) = raw(addr, "/", &headers, body).await;
        assert_eq!(status, want_status, "{what}");
        let body: Json = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["__type"], want_type, "{what}: {body}");
        assert!(
            body["Message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}"
        );
        assert_eq!(
            response_headers["x-amzn-errortype"],
            want_type.split('#').nth(1).unwrap()
        );
    }
    assert!(
        fixture.seen.lock().unwrap().is_empty(),
        "no bad request reached the core"
    );

    // JSON 1.0's content type and an empty body are accepted, as on the real endpoint.
    let headers = [
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "GameLift.DescribeFleetAttributes"),
    ];
    let (status, _, _) = raw(addr, "/", &headers, b"").await;
    assert_eq!(status, 200);
}
