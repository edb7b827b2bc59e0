//! Errors under Smithy RPC v2 CBOR: every GameLift exception arrives in
//! `aws-sdk-gamelift` as its typed error with its message and status, a missing required
//! member or a bad enum value is an `InvalidRequestException`, and malformed requests
//! (not CBOR, wrong types, trailing bytes, deep nesting, oversize, unknown operation,
//! wrong protocol headers) get the protocol's error without reaching the fleet core or
//! taking the server down.

use aws_sdk_gamelift::error::ProvideErrorMetadata;
use aws_sdk_gamelift::operation::RequestId;
use aws_sdk_gamelift::operation::create_game_session::CreateGameSessionError;
use aws_sdk_gamelift::operation::create_player_session::CreatePlayerSessionError;
use aws_sdk_gamelift::operation::describe_game_session_placement::DescribeGameSessionPlacementError;
use aws_sdk_gamelift::operation::terminate_game_session::TerminateGameSessionError;
use aws_sdk_gamelift::types as sdk;
use aws_smithy_cbor::{Decoder, Encoder};
use fleet::local::api::*;

mod api_fixture;
use api_fixture::*;

type Check<E> = fn(&E) -> bool;

#[tokio::test]
async fn every_exception_arrives_as_the_sdks_typed_error() {
    let (fixture, _, client) = start().await;
    use CreateGameSessionError as E;
    let cases: [(ErrorKind, Check<E>); 11] = [
        (ErrorKind::Conflict, |e| {
            matches!(e, E::ConflictException(_))
        }),
        (ErrorKind::FleetCapacityExceeded, |e| {
            matches!(e, E::FleetCapacityExceededException(_))
        }),
        (ErrorKind::IdempotentParameterMismatch, |e| {
            matches!(e, E::IdempotentParameterMismatchException(_))
        }),
        (ErrorKind::InternalService, |e| {
            matches!(e, E::InternalServiceException(_))
        }),
        (ErrorKind::InvalidFleetStatus, |e| {
            matches!(e, E::InvalidFleetStatusException(_))
        }),
        (ErrorKind::InvalidRequest, |e| {
            matches!(e, E::InvalidRequestException(_))
        }),
        (ErrorKind::LimitExceeded, |e| {
            matches!(e, E::LimitExceededException(_))
        }),
        (ErrorKind::NotFound, |e| {
            matches!(e, E::NotFoundException(_))
        }),
        (ErrorKind::TerminalRoutingStrategy, |e| {
            matches!(e, E::TerminalRoutingStrategyException(_))
        }),
        (ErrorKind::Unauthorized, |e| {
            matches!(e, E::UnauthorizedException(_))
        }),
        (ErrorKind::UnsupportedRegion, |e| {
            matches!(e, E::UnsupportedRegionException(_))
        }),
    ];
    for (kind, is_typed) in cases {
        let message = format!("{} from the fleet core", kind.name());
        fixture.fail_next(kind, &message);
        let err = client
            .create_game_session()
            .fleet_id(FLEET)
            .maximum_player_session_count(1)
            .send()
            .await
            .unwrap_err();
        let status = err.raw_response().map(|r| r.status().as_u16());
        assert_eq!(status, Some(kind.status()), "{kind:?}");
        let err = err.into_service_error();
        assert!(is_typed(&err), "{kind:?} arrived as {err:?}");
        assert_eq!(err.code(), Some(kind.name()));
        assert_eq!(err.message(), Some(message.as_str()));
    }

    use CreatePlayerSessionError as P;
    let cases: [(ErrorKind, Check<P>); 2] = [
        (ErrorKind::GameSessionFull, |e| {
            matches!(e, P::GameSessionFullException(_))
        }),
        (ErrorKind::InvalidGameSessionStatus, |e| {
            matches!(e, P::InvalidGameSessionStatusException(_))
        }),
    ];
    for (kind, is_typed) in cases {
        fixture.fail_next(kind, "no");
        let err = client
            .create_player_session()
            .game_session_id(game_session_arn(1))
            .player_id("alice")
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(is_typed(&err), "{kind:?} arrived as {err:?}");
    }

    fixture.fail_next(ErrorKind::NotReady, "not yet");
    let err = client
        .terminate_game_session()
        .game_session_id(game_session_arn(1))
        .termination_mode(sdk::TerminationMode::TriggerOnProcessTerminate)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, TerminateGameSessionError::NotReadyException(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_missing_required_member_is_an_invalid_request() {
    let (fixture, _, client) = start().await;
    let err = client
        .describe_game_session_placement()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(
            err,
            DescribeGameSessionPlacementError::InvalidRequestException(_)
        ),
        "{err:?}"
    );
    assert_eq!(
        err.message(),
        Some(
            "1 validation error detected: Value null at 'placementId' failed to satisfy \
             constraint: Member must not be null"
        )
    );
    assert!(
        fixture.seen.lock().unwrap().is_empty(),
        "the core never saw it"
    );

    let err = client
        .terminate_game_session()
        .game_session_id(game_session_arn(1))
        .termination_mode(sdk::TerminationMode::from("SOMETIMES"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, TerminateGameSessionError::InvalidRequestException(_)),
        "{err:?}"
    );
    assert!(
        err.message()
            .unwrap()
            .contains("Member must satisfy enum value set")
    );
}

#[tokio::test]
async fn a_core_answering_the_wrong_operation_is_an_internal_service_exception() {
    let (_, _, client) = start().await;
    let err = client
        .create_game_session()
        .fleet_id(FLEET)
        .maximum_player_session_count(1)
        .name("wrong-variant")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, CreateGameSessionError::InternalServiceException(_)),
        "{err:?}"
    );
}

/// Reads an RPC v2 CBOR error body the way the SDK's `cbor_errors.rs` does.
fn cbor_error(body: &[u8]) -> (String, String) {
    let mut decoder = Decoder::new(body);
    let n = decoder.map().unwrap().expect("a definite-length map");
    let (mut kind, mut message) = (String::new(), String::new());
    for _ in 0..n {
        match decoder.str().unwrap().as_ref() {
            "__type" => kind = decoder.string().unwrap(),
            "Message" => message = decoder.string().unwrap(),
            other => panic!("unexpected member {other}"),
        }
    }
    (kind, message)
}

const CBOR: [(&str, &str); 3] = [
    ("smithy-protocol", "rpc-v2-cbor"),
    ("content-type", "application/cbor"),
    ("accept", "application/cbor"),
];

/// What is wrong, path, request headers, body, expected status and `__type`.
type BadRequest<'a> = (
    &'a str,
    String,
    Vec<(&'a str, &'a str)>,
    Vec<u8>,
    u16,
    &'a str,
);

#[tokio::test]
async fn malformed_requests_get_the_protocols_errors_and_the_server_survives() {
    let (fixture, addr, client) = start().await;
    let op = |name: &str| format!("/service/GameLift/operation/{name}");

    let mut wrong_type = Encoder::new(Vec::new());
    wrong_type
        .begin_map()
        .str("MaximumPlayerSessionCount")
        .str("eight")
        .end();
    let mut trailing = Encoder::new(Vec::new());
    trailing.map(0).map(0);
    let deep = [vec![0x81u8; 200_000], vec![0xa0]].concat();
    let mut non_string_key = Encoder::new(Vec::new());
    non_string_key.map(1).integer(1).str("x");
    let oversized = vec![0x40u8; 2 * 1024 * 1024];

    let serialization = "com.amazon.coral.service#SerializationException";
    let cases: Vec<BadRequest<'_>> = vec![
        (
            "not CBOR",
            op("CreateGameSession"),
            CBOR.to_vec(),
            vec![0xff, 0x00, 0x13],
            400,
            serialization,
        ),
        (
            "truncated",
            op("CreateGameSession"),
            CBOR.to_vec(),
            vec![0xbf, 0x63, 0x61],
            400,
            serialization,
        ),
        (
            "wrong type",
            op("CreateGameSession"),
            CBOR.to_vec(),
            wrong_type.into_writer(),
            400,
            serialization,
        ),
        (
            "trailing bytes",
            op("DescribeGameSessions"),
            CBOR.to_vec(),
            trailing.into_writer(),
            400,
            serialization,
        ),
        (
            "too deep",
            op("DescribeGameSessions"),
            CBOR.to_vec(),
            deep,
            400,
            serialization,
        ),
        (
            "non-string key",
            op("DescribeGameSessions"),
            CBOR.to_vec(),
            non_string_key.into_writer(),
            400,
            serialization,
        ),
        (
            "not a map",
            op("DescribeGameSessions"),
            CBOR.to_vec(),
            vec![0x01],
            400,
            serialization,
        ),
        (
            "oversized",
            op("DescribeGameSessions"),
            CBOR.to_vec(),
            oversized,
            400,
            serialization,
        ),
        (
            "unknown operation",
            op("DeleteFleet"),
            CBOR.to_vec(),
            vec![0xa0],
            404,
            "com.amazon.coral.service#UnknownOperationException",
        ),
        (
            "unknown service",
            "/service/DynamoDB/operation/DescribeGameSessions".into(),
            CBOR.to_vec(),
            vec![0xa0],
            404,
            "com.amazon.coral.service#UnknownOperationException",
        ),
        (
            "no smithy-protocol",
            op("DescribeGameSessions"),
            vec![("content-type", "application/cbor")],
            vec![0xa0],
            404,
            "com.amazon.coral.service#UnknownOperationException",
        ),
        (
            "X-Amz-Target on CBOR",
            op("DescribeGameSessions"),
            [
                CBOR.as_slice(),
                &[("x-amz-target", "GameLift.DescribeGameSessions")],
            ]
            .concat(),
            vec![0xa0],
            404,
            "com.amazon.coral.service#UnknownOperationException",
        ),
        (
            "JSON body on the CBOR route",
            op("DescribeGameSessions"),
            vec![
                ("smithy-protocol", "rpc-v2-cbor"),
                ("content-type", "application/json"),
            ],
            b"{}".to_vec(),
            415,
            "com.amazon.coral.service#UnsupportedMediaTypeException",
        ),
    ];
    for (what, path, headers, body, want_status, want_type) in cases {
        let (status, response_headers, body) = raw(addr, &path, &headers, &body).await;
        assert_eq!(status, want_status, "{what}");
        assert_eq!(response_headers["smithy-protocol"], "rpc-v2-cbor", "{what}");
        assert_eq!(
            response_headers["content-type"], "application/cbor",
            "{what}"
        );
        let (kind, message) = cbor_error(&body);
        assert_eq!(kind, want_type, "{what}: {message}");
        assert!(!message.is_empty(), "{what}");
    }
    assert!(
        fixture.seen.lock().unwrap().is_empty(),
        "no malformed request reached the core"
    );

    // An empty body is an empty input structure, and the server still serves the SDK.
    let (status, _, _) = raw(addr, &op("DescribeFleetCapacity"), &CBOR, &[]).await;
    assert_eq!(status, 200);
    let out = client.describe_fleet_capacity().send().await.unwrap();
    assert_eq!(out.fleet_capacity().len(), 1);
}

#[tokio::test]
async fn responses_carry_the_protocol_headers_and_a_request_id() {
    let (_, addr, client) = start().await;
    let (status, headers, body) = raw(
        addr,
        "/service/GameLift/operation/DescribeFleetAttributes",
        &CBOR,
        &[0xa0],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["smithy-protocol"], "rpc-v2-cbor");
    assert_eq!(headers["content-type"], "application/cbor");
    assert!(uuid::Uuid::parse_str(&headers["x-amzn-requestid"]).is_ok());
    assert_eq!(
        Decoder::new(&body).map().unwrap(),
        Some(2),
        "FleetAttributes and NextToken"
    );

    // The absolute service shape id is accepted in the path, as the protocol asks.
    let path = "/service/com.amazonaws.gamelift.GameLift/operation/DescribeFleetAttributes";
    assert_eq!(raw(addr, path, &CBOR, &[0xa0]).await.0, 200);

    let out = client.describe_fleet_attributes().send().await.unwrap();
    assert!(uuid::Uuid::parse_str(out.request_id().unwrap()).is_ok());
}
