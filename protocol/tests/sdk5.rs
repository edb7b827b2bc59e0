//! `protocol::sdk5` message types: every example frame of `shared/docs/gamelift-sdk5.md`
//! decodes, and every request, response body and push round-trips with the exact JSON
//! field names and omission rules of the spec.
//!
//! Test names all live in `sdk5_*` modules so that `cargo test -p protocol sdk5` runs them.

use std::collections::BTreeMap;
use std::fmt::Debug;

use protocol::sdk5::*;
use serde_json::{Value, json};

/// Parses JSON text produced by the codec.
fn value(text: &str) -> Value {
    serde_json::from_str(text).expect("codec output is JSON")
}

/// Encodes `body` as a request, checks the exact JSON, parses it back on the service side.
fn request_round_trip<R>(body: R, expected: Value)
where
    R: RequestBody + Clone + PartialEq + Debug,
{
    let text = encode_request("req-1", &body);
    assert_eq!(value(&text), expected, "encoded {}", R::ACTION);
    let frame = RequestFrame::parse(&text).expect("own output parses");
    assert_eq!(frame.request_id, "req-1");
    assert_eq!(frame.action(), R::ACTION);
    assert_eq!(frame.request, body.clone().into());
    // The enum path encodes the same bytes as the typed path.
    assert_eq!(frame.to_json(), text);
}

/// Encodes a success response for `R`, checks the exact JSON, classifies it on the
/// client side and decodes the typed body back.
fn response_round_trip<R>(body: R::Response, expected: Value)
where
    R: RequestBody,
    R::Response: PartialEq + Debug,
{
    let text = ResponseFrame::success::<R>("req-9", &body).to_json();
    assert_eq!(value(&text), expected, "response to {}", R::ACTION);
    let Ok(Inbound::Response(frame)) = classify(&text) else {
        panic!("a 200 response is classified as a response: {text}");
    };
    assert_eq!(frame.action, R::ACTION.as_str());
    assert_eq!(frame.request_id, "req-9");
    assert!(frame.is_success());
    assert_eq!(frame.body::<R::Response>().expect("typed body"), body);
}

/// Encodes a push, checks the exact JSON (with `StatusCode: 200`), classifies it back.
fn push_round_trip(push: impl Into<Push>, expected: Value) {
    let frame = PushFrame::new(push);
    let text = frame.to_json();
    assert_eq!(value(&text), expected);
    assert_eq!(classify(&text).expect("classifies"), Inbound::Push(frame));
}

mod sdk5_spec_examples {
    use super::*;

    /// §3.1 request example.
    #[test]
    fn request_accept_player_session() {
        let text = r#"{"Action":"AcceptPlayerSession","RequestId":"5c3b…uuid","GameSessionId":"arn:aws:gamelift:…","PlayerSessionId":"psess-…"}"#;
        let frame = RequestFrame::parse(text).unwrap();
        assert_eq!(frame.request_id, "5c3b…uuid");
        assert_eq!(
            frame.request,
            Request::AcceptPlayerSession(AcceptPlayerSession {
                game_session_id: "arn:aws:gamelift:…".into(),
                player_session_id: "psess-…".into(),
            })
        );
    }

    /// §3.1 success and error response examples.
    #[test]
    fn responses_success_and_error() {
        let ok = r#"{"Action":"AcceptPlayerSession","RequestId":"5c3b…uuid","StatusCode":200}"#;
        let Inbound::Response(frame) = classify(ok).unwrap() else {
            panic!("200 is a response")
        };
        assert_eq!(frame.action, "AcceptPlayerSession");
        assert_eq!(frame.request_id, "5c3b…uuid");
        assert_eq!(frame.error_kind(), None);
        assert_eq!(frame.body::<EmptyBody>().unwrap(), EmptyBody {});

        let err = r#"{"Action":"AcceptPlayerSession","RequestId":"5c3b…uuid","StatusCode":400,"ErrorMessage":"…"}"#;
        let Inbound::ErrorResponse(frame) = classify(err).unwrap() else {
            panic!("400 is an error response")
        };
        assert_eq!(frame.request_id, "5c3b…uuid");
        assert_eq!(frame.error_kind(), Some(ServiceErrorKind::BadRequest));
        assert_eq!(
            frame.service_error(),
            Some(ServiceError {
                kind: ServiceErrorKind::BadRequest,
                status_code: Some(400),
                message: "…".into(),
            })
        );
    }

    /// §3.1 push example. As written it has a `RequestId` and no `StatusCode`, so §3.2
    /// rule 1 makes it an error response; without the `RequestId` it is a push.
    #[test]
    fn push_terminate_process() {
        let as_written = r#"{"Action":"TerminateProcess","RequestId":"…optional…","TerminationTime":1718000000000}"#;
        let Inbound::ErrorResponse(frame) = classify(as_written).unwrap() else {
            panic!("rule 1 comes first")
        };
        assert_eq!(frame.error_kind(), Some(ServiceErrorKind::InternalService));

        let without_id = r#"{"Action":"TerminateProcess","TerminationTime":1718000000000}"#;
        let Inbound::Push(frame) = classify(without_id).unwrap() else {
            panic!("no RequestId: a push")
        };
        let Push::TerminateProcess(body) = frame.push else {
            panic!("TerminateProcess")
        };
        assert_eq!(body.termination_time, 1_718_000_000_000);
        assert_eq!(body.termination_time_secs(), 1_718_000_000);
    }

    /// §4 ActivateServerProcess example.
    #[test]
    fn activate_server_process() {
        let text = r#"{"Action":"ActivateServerProcess","RequestId":"<uuid>","SdkVersion":"5.6.0","SdkLanguage":"Go","Port":7777,"LogPaths":["/local/game/logs"]}"#;
        let frame = RequestFrame::parse(text).unwrap();
        assert_eq!(frame.request_id, "<uuid>");
        assert_eq!(
            frame.request,
            Request::ActivateServerProcess(ActivateServerProcess {
                sdk_version: "5.6.0".into(),
                sdk_language: "Go".into(),
                sdk_tool_name: None,
                sdk_tool_version: None,
                port: 7777,
                log_paths: vec!["/local/game/logs".into()],
            })
        );
    }

    /// §4 AttributeValue examples, one per type.
    #[test]
    fn attribute_values() {
        let cases = [
            (
                json!({"AttrType":"STRING","S":"…"}),
                AttributeValue::String("…".into()),
            ),
            (
                json!({"AttrType":"DOUBLE","N":1.5}),
                AttributeValue::Double(1.5),
            ),
            (
                json!({"AttrType":"STRING_LIST","SL":["a","b"]}),
                AttributeValue::StringList(vec!["a".into(), "b".into()]),
            ),
            (
                json!({"AttrType":"STRING_DOUBLE_MAP","SDM":{"k":1.0}}),
                AttributeValue::StringDoubleMap(BTreeMap::from([("k".into(), 1.0)])),
            ),
        ];
        for (json, expected) in cases {
            let decoded: AttributeValue = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(decoded, expected);
            assert_eq!(serde_json::to_value(&decoded).unwrap(), json);
        }
    }

    /// §6.3: the emulator answers `{"Action":<same>,"RequestId":<same>,"StatusCode":200}`.
    #[test]
    fn emulator_reply_shape() {
        let request = RequestFrame::parse(
            r#"{"Action":"HeartbeatServerProcess","RequestId":"hb-1","HealthStatus":true}"#,
        )
        .unwrap();
        assert_eq!(
            value(&request.ok_response().to_json()),
            json!({"Action":"HeartbeatServerProcess","RequestId":"hb-1","StatusCode":200})
        );
        assert_eq!(
            value(
                &request
                    .error_response(ServiceErrorKind::Conflict, "busy")
                    .to_json()
            ),
            json!({"Action":"HeartbeatServerProcess","RequestId":"hb-1","StatusCode":409,"ErrorMessage":"busy"})
        );
    }
}

mod sdk5_requests {
    use super::*;

    #[test]
    fn activate_server_process_full() {
        request_round_trip(
            ActivateServerProcess {
                sdk_version: "5.6.0".into(),
                sdk_language: "Rust".into(),
                sdk_tool_name: Some("Wrapper".into()),
                sdk_tool_version: Some("1.2.0".into()),
                port: 7777,
                log_paths: vec!["/logs/a".into(), "/logs/b".into()],
            },
            json!({
                "Action": "ActivateServerProcess", "RequestId": "req-1",
                "SdkVersion": "5.6.0", "SdkLanguage": "Rust",
                "SdkToolName": "Wrapper", "SdkToolVersion": "1.2.0",
                "Port": 7777, "LogPaths": ["/logs/a", "/logs/b"]
            }),
        );
    }

    /// Empty `LogPaths` is still written as `[]`; `Port` 0 and empty tool fields are not.
    #[test]
    fn activate_server_process_minimal() {
        request_round_trip(
            ActivateServerProcess {
                sdk_version: "5.6.0".into(),
                sdk_language: "Rust".into(),
                ..Default::default()
            },
            json!({
                "Action": "ActivateServerProcess", "RequestId": "req-1",
                "SdkVersion": "5.6.0", "SdkLanguage": "Rust", "LogPaths": []
            }),
        );
        let text = encode_request(
            "r",
            &ActivateServerProcess {
                sdk_tool_name: Some(String::new()),
                ..Default::default()
            },
        );
        assert!(
            !value(&text)
                .as_object()
                .unwrap()
                .contains_key("SdkToolName")
        );
    }

    #[test]
    fn heartbeat_always_writes_health_status() {
        for healthy in [true, false] {
            request_round_trip(
                HeartbeatServerProcess {
                    health_status: healthy,
                },
                json!({"Action": "HeartbeatServerProcess", "RequestId": "req-1", "HealthStatus": healthy}),
            );
        }
    }

    #[test]
    fn activate_game_session() {
        request_round_trip(
            ActivateGameSession {
                game_session_id: "arn:aws:gamelift:us-west-2::gamesession/fleet-1/gs-1".into(),
            },
            json!({
                "Action": "ActivateGameSession", "RequestId": "req-1",
                "GameSessionId": "arn:aws:gamelift:us-west-2::gamesession/fleet-1/gs-1"
            }),
        );
    }

    #[test]
    fn update_player_session_creation_policy() {
        for (policy, name) in [
            (PlayerSessionCreationPolicy::AcceptAll, "ACCEPT_ALL"),
            (PlayerSessionCreationPolicy::DenyAll, "DENY_ALL"),
        ] {
            request_round_trip(
                UpdatePlayerSessionCreationPolicy {
                    game_session_id: "gs".into(),
                    player_session_policy: policy,
                },
                json!({
                    "Action": "UpdatePlayerSessionCreationPolicy", "RequestId": "req-1",
                    "GameSessionId": "gs", "PlayerSessionPolicy": name
                }),
            );
        }
    }

    #[test]
    fn accept_and_remove_player_session() {
        request_round_trip(
            AcceptPlayerSession {
                game_session_id: "gs".into(),
                player_session_id: "psess-1".into(),
            },
            json!({"Action": "AcceptPlayerSession", "RequestId": "req-1", "GameSessionId": "gs", "PlayerSessionId": "psess-1"}),
        );
        request_round_trip(
            RemovePlayerSession {
                game_session_id: "gs".into(),
                player_session_id: "psess-1".into(),
            },
            json!({"Action": "RemovePlayerSession", "RequestId": "req-1", "GameSessionId": "gs", "PlayerSessionId": "psess-1"}),
        );
    }

    #[test]
    fn describe_player_sessions_all_fields() {
        request_round_trip(
            DescribePlayerSessions {
                game_session_id: Some("gs".into()),
                player_session_status_filter: Some(PlayerSessionStatus::TimedOut),
                next_token: Some("page-2".into()),
                limit: 10,
                ..Default::default()
            },
            json!({
                "Action": "DescribePlayerSessions", "RequestId": "req-1",
                "GameSessionId": "gs", "PlayerSessionStatusFilter": "TIMEDOUT",
                "NextToken": "page-2", "Limit": 10
            }),
        );
    }

    /// Unset selectors, filter, token and `Limit` 0 are all omitted.
    #[test]
    fn describe_player_sessions_minimal() {
        let body = DescribePlayerSessions {
            player_id: Some("player-1".into()),
            ..Default::default()
        };
        assert_eq!(body.query(), Some(PlayerSessionQuery::Player("player-1")));
        request_round_trip(
            body,
            json!({"Action": "DescribePlayerSessions", "RequestId": "req-1", "PlayerId": "player-1"}),
        );
    }

    #[test]
    fn describe_player_sessions_query_needs_exactly_one_id() {
        let none = DescribePlayerSessions::default();
        assert_eq!(none.query(), None);
        let two = DescribePlayerSessions {
            game_session_id: Some("gs".into()),
            player_session_id: Some("psess".into()),
            ..Default::default()
        };
        assert_eq!(two.query(), None);
        let one = DescribePlayerSessions {
            player_session_id: Some("psess".into()),
            ..Default::default()
        };
        assert_eq!(
            one.query(),
            Some(PlayerSessionQuery::PlayerSession("psess"))
        );
    }

    #[test]
    fn start_match_backfill_writes_empty_ticket_and_players() {
        request_round_trip(
            StartMatchBackfill {
                game_session_arn: "arn:gs".into(),
                matchmaking_configuration_arn: "arn:mm".into(),
                ticket_id: String::new(),
                players: vec![Player {
                    player_id: "p1".into(),
                    team: "red".into(),
                    player_attributes: BTreeMap::from([
                        ("skill".into(), AttributeValue::Double(23.0)),
                        ("mode".into(), AttributeValue::String("ctf".into())),
                        ("none".into(), AttributeValue::None),
                    ]),
                    latency_in_ms: BTreeMap::from([("us-west-2".into(), 42)]),
                }],
            },
            json!({
                "Action": "StartMatchBackfill", "RequestId": "req-1",
                "GameSessionArn": "arn:gs", "MatchmakingConfigurationArn": "arn:mm",
                "TicketId": "",
                "Players": [{
                    "PlayerId": "p1", "Team": "red",
                    "PlayerAttributes": {
                        "mode": {"AttrType": "STRING", "S": "ctf"},
                        "none": {"AttrType": "NONE"},
                        "skill": {"AttrType": "DOUBLE", "N": 23.0}
                    },
                    "LatencyInMs": {"us-west-2": 42}
                }]
            }),
        );
        request_round_trip(
            StartMatchBackfill::default(),
            json!({
                "Action": "StartMatchBackfill", "RequestId": "req-1",
                "GameSessionArn": "", "MatchmakingConfigurationArn": "", "TicketId": "",
                "Players": []
            }),
        );
    }

    /// A player without latency has no `LatencyInMs` key (FlexMatch reads a present map
    /// as a region restriction) but always has `PlayerAttributes`.
    #[test]
    fn player_without_latency_or_attributes() {
        let player = Player {
            player_id: "p".into(),
            team: "t".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&player).unwrap(),
            json!({"PlayerId": "p", "Team": "t", "PlayerAttributes": {}})
        );
    }

    #[test]
    fn stop_match_backfill() {
        request_round_trip(
            StopMatchBackfill {
                game_session_arn: "arn:gs".into(),
                matchmaking_configuration_arn: "arn:mm".into(),
                ticket_id: "ticket-1".into(),
            },
            json!({
                "Action": "StopMatchBackfill", "RequestId": "req-1",
                "GameSessionArn": "arn:gs", "MatchmakingConfigurationArn": "arn:mm",
                "TicketId": "ticket-1"
            }),
        );
    }

    #[test]
    fn bodiless_requests() {
        request_round_trip(
            GetComputeCertificate {},
            json!({"Action": "GetComputeCertificate", "RequestId": "req-1"}),
        );
        request_round_trip(
            TerminateServerProcess {},
            json!({"Action": "TerminateServerProcess", "RequestId": "req-1"}),
        );
    }

    #[test]
    fn get_fleet_role_credentials() {
        request_round_trip(
            GetFleetRoleCredentials {
                role_arn: "arn:aws:iam::123456789012:role/game".into(),
                role_session_name: "fleet-1-host-1".into(),
            },
            json!({
                "Action": "GetFleetRoleCredentials", "RequestId": "req-1",
                "RoleArn": "arn:aws:iam::123456789012:role/game",
                "RoleSessionName": "fleet-1-host-1"
            }),
        );
        request_round_trip(
            GetFleetRoleCredentials::default(),
            json!({"Action": "GetFleetRoleCredentials", "RequestId": "req-1"}),
        );
    }

    /// Every request action has a body type, and `Request::action` agrees with the list.
    #[test]
    fn every_request_action_parses_from_a_bare_frame() {
        for action in Action::REQUESTS {
            let text = format!(r#"{{"Action":"{action}","RequestId":"id"}}"#);
            let frame = RequestFrame::parse(&text).unwrap();
            assert_eq!(frame.action(), action);
            assert!(action.is_request() && !action.is_push());
            assert_eq!(Action::from_name(action.as_str()), Some(action));
        }
        assert_eq!(Action::from_name("acceptPlayerSession"), None);
    }
}

mod sdk5_responses {
    use super::*;

    #[test]
    fn empty_bodies_write_only_the_envelope() {
        response_round_trip::<AcceptPlayerSession>(
            EmptyBody {},
            json!({"Action": "AcceptPlayerSession", "RequestId": "req-9", "StatusCode": 200}),
        );
        response_round_trip::<ActivateServerProcess>(
            EmptyBody {},
            json!({"Action": "ActivateServerProcess", "RequestId": "req-9", "StatusCode": 200}),
        );
    }

    #[test]
    fn describe_player_sessions_result() {
        let session = PlayerSession {
            player_session_id: "psess-1".into(),
            player_id: "player-1".into(),
            game_session_id: "gs".into(),
            fleet_id: "fleet-1".into(),
            creation_time: 1_700_000_000_000,
            termination_time: 0,
            status: PlayerSessionStatus::Active,
            ip_address: "10.0.0.1".into(),
            dns_name: "ec2.example".into(),
            player_data: "{\"x\":1}".into(),
            port: 7777,
        };
        response_round_trip::<DescribePlayerSessions>(
            DescribePlayerSessionsResult {
                next_token: Some("next".into()),
                player_sessions: vec![session.clone()],
            },
            json!({
                "Action": "DescribePlayerSessions", "RequestId": "req-9", "StatusCode": 200,
                "NextToken": "next",
                "PlayerSessions": [{
                    "PlayerSessionId": "psess-1", "PlayerId": "player-1",
                    "GameSessionId": "gs", "FleetId": "fleet-1",
                    "CreationTime": 1_700_000_000_000_i64, "TerminationTime": 0,
                    "Status": "ACTIVE", "IpAddress": "10.0.0.1", "DnsName": "ec2.example",
                    "PlayerData": "{\"x\":1}", "Port": 7777
                }]
            }),
        );
        // Last page: no NextToken, and PlayerSessions is still written when empty.
        response_round_trip::<DescribePlayerSessions>(
            DescribePlayerSessionsResult::default(),
            json!({"Action": "DescribePlayerSessions", "RequestId": "req-9", "StatusCode": 200, "PlayerSessions": []}),
        );
    }

    #[test]
    fn player_session_statuses() {
        for (status, name) in [
            (PlayerSessionStatus::Reserved, "RESERVED"),
            (PlayerSessionStatus::Active, "ACTIVE"),
            (PlayerSessionStatus::Completed, "COMPLETED"),
            (PlayerSessionStatus::TimedOut, "TIMEDOUT"),
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), json!(name));
            assert_eq!(
                serde_json::from_value::<PlayerSessionStatus>(json!(name)).unwrap(),
                status
            );
        }
        // NOT_SET is not written inside a PlayerSession.
        let unset = serde_json::to_value(PlayerSession::default()).unwrap();
        assert!(!unset.as_object().unwrap().contains_key("Status"));
    }

    #[test]
    fn start_match_backfill_result() {
        response_round_trip::<StartMatchBackfill>(
            StartMatchBackfillResult {
                ticket_id: "ticket-7".into(),
            },
            json!({"Action": "StartMatchBackfill", "RequestId": "req-9", "StatusCode": 200, "TicketId": "ticket-7"}),
        );
    }

    #[test]
    fn get_compute_certificate_result() {
        response_round_trip::<GetComputeCertificate>(
            GetComputeCertificateResult {
                certificate_path: "/local/cert.pem".into(),
                compute_name: "compute-1".into(),
            },
            json!({
                "Action": "GetComputeCertificate", "RequestId": "req-9", "StatusCode": 200,
                "CertificatePath": "/local/cert.pem", "ComputeName": "compute-1"
            }),
        );
    }

    #[test]
    fn get_fleet_role_credentials_result() {
        let creds = GetFleetRoleCredentialsResult {
            assumed_role_user_arn: "arn:aws:sts::1:assumed-role/game/s".into(),
            assumed_role_id: "AROA:s".into(),
            access_key_id: "ASIA123".into(),
            secret_access_key: "secret".into(),
            session_token: "token".into(),
            expiration: 1_742_403_145_000,
        };
        assert!(!creds.is_unavailable());
        response_round_trip::<GetFleetRoleCredentials>(
            creds,
            json!({
                "Action": "GetFleetRoleCredentials", "RequestId": "req-9", "StatusCode": 200,
                "AssumedRoleUserArn": "arn:aws:sts::1:assumed-role/game/s",
                "AssumedRoleId": "AROA:s", "AccessKeyId": "ASIA123",
                "SecretAccessKey": "secret", "SessionToken": "token",
                "Expiration": 1_742_403_145_000_i64
            }),
        );
        // Anywhere: a 200 with an empty AccessKeyId.
        assert!(GetFleetRoleCredentialsResult::default().is_unavailable());
    }

    /// The frame of the C++ SDK's own response unit test has a `RequestId` and no
    /// `StatusCode`: by §3.2 rule 1 that is an error response (InternalService), which is
    /// why a service must always write `StatusCode`. With `"StatusCode":200` added, it is
    /// a response whose typed body decodes.
    #[test]
    fn cpp_credentials_frame_needs_a_status_code() {
        let fields = r#""AssumedRoleUserArn":"assumedRoleUserArn","AssumedRoleId":"assumedRoleId","AccessKeyId":"accessKeyId","SecretAccessKey":"secretAccessKey","SessionToken":"sessionToken","Expiration":1742403145000"#;
        let cpp = format!(
            r#"{{"Action":"GetFleetRoleCredentials","RequestId":"testRequestId",{fields}}}"#
        );
        let Inbound::ErrorResponse(frame) = classify(&cpp).unwrap() else {
            panic!("no StatusCode + RequestId: rule 1")
        };
        assert_eq!(frame.error_kind(), Some(ServiceErrorKind::InternalService));
        assert_eq!(frame.service_error().unwrap().status_code, None);

        let with_200 = format!(
            r#"{{"Action":"GetFleetRoleCredentials","RequestId":"testRequestId","StatusCode":200,{fields}}}"#
        );
        let Inbound::Response(frame) = classify(&with_200).unwrap() else {
            panic!("200 response")
        };
        let body: GetFleetRoleCredentialsResult = frame.body().unwrap();
        assert_eq!(body.access_key_id, "accessKeyId");
        assert_eq!(body.expiration, 1_742_403_145_000);
    }
}

mod sdk5_pushes {
    use super::*;

    fn session() -> GameSession {
        GameSession {
            game_session_id: "arn:aws:gamelift:us-west-2::gamesession/fleet-1/gs-1".into(),
            name: "match-42".into(),
            fleet_id: "fleet-1".into(),
            location: String::new(),
            maximum_player_session_count: 8,
            port: 7777,
            ip_address: "10.0.0.1".into(),
            dns_name: "ec2.example".into(),
            game_session_data: "mode=ctf".into(),
            matchmaker_data: String::new(),
            game_properties: BTreeMap::from([("mode".into(), "ctf".into())]),
            status: GameSessionStatus::NotSet,
            status_reason: String::new(),
        }
    }

    #[test]
    fn create_game_session_is_flat_with_game_session_name() {
        let push = CreateGameSession::from(&session());
        push_round_trip(
            push.clone(),
            json!({
                "Action": "CreateGameSession", "StatusCode": 200,
                "GameSessionId": "arn:aws:gamelift:us-west-2::gamesession/fleet-1/gs-1",
                "GameSessionName": "match-42", "MaximumPlayerSessionCount": 8,
                "Port": 7777, "IpAddress": "10.0.0.1", "DnsName": "ec2.example",
                "GameSessionData": "mode=ctf", "MatchmakerData": "",
                "GameProperties": {"mode": "ctf"}
            }),
        );
        // The SDK side injects its own fleet id to rebuild the GameSession.
        assert_eq!(push.to_game_session("fleet-1"), session());
        assert_eq!(push.matchmaker_data().unwrap(), None);
    }

    #[test]
    fn push_frames_may_carry_a_request_id() {
        let frame = PushFrame {
            request_id: Some("push-1".into()),
            push: Push::TerminateProcess(TerminateProcess {
                termination_time: 1_718_000_000_000,
            }),
        };
        let text = frame.to_json();
        assert_eq!(
            value(&text),
            json!({"Action": "TerminateProcess", "RequestId": "push-1", "StatusCode": 200, "TerminationTime": 1_718_000_000_000_i64})
        );
        // StatusCode 200 keeps it a push even with the RequestId (§3.2).
        assert_eq!(classify(&text).unwrap(), Inbound::Push(frame));
    }

    #[test]
    fn update_game_session_nests_the_session() {
        let mut updated = session();
        updated.location = "us-west-2".into();
        updated.status = GameSessionStatus::Active;
        updated.status_reason = "INTERRUPTED".into();
        push_round_trip(
            UpdateGameSession {
                game_session: updated,
                update_reason: UpdateReason::MatchmakingDataUpdated,
                backfill_ticket_id: "ticket-7".into(),
            },
            json!({
                "Action": "UpdateGameSession", "StatusCode": 200,
                "GameSession": {
                    "GameSessionId": "arn:aws:gamelift:us-west-2::gamesession/fleet-1/gs-1",
                    "Name": "match-42", "FleetId": "fleet-1", "Location": "us-west-2",
                    "MaximumPlayerSessionCount": 8, "Port": 7777,
                    "IpAddress": "10.0.0.1", "DnsName": "ec2.example",
                    "GameSessionData": "mode=ctf", "MatchmakerData": "",
                    "GameProperties": {"mode": "ctf"},
                    "Status": "ACTIVE", "StatusReason": "INTERRUPTED"
                },
                "UpdateReason": "MATCHMAKING_DATA_UPDATED",
                "BackfillTicketId": "ticket-7"
            }),
        );
    }

    #[test]
    fn update_reasons_and_statuses() {
        for (reason, name) in [
            (
                UpdateReason::MatchmakingDataUpdated,
                "MATCHMAKING_DATA_UPDATED",
            ),
            (UpdateReason::BackfillFailed, "BACKFILL_FAILED"),
            (UpdateReason::BackfillTimedOut, "BACKFILL_TIMED_OUT"),
            (UpdateReason::BackfillCancelled, "BACKFILL_CANCELLED"),
            (UpdateReason::Unknown, "UNKNOWN"),
        ] {
            assert_eq!(serde_json::to_value(reason).unwrap(), json!(name));
            assert_eq!(
                serde_json::from_value::<UpdateReason>(json!(name)).unwrap(),
                reason
            );
        }
        for (status, name) in [
            (GameSessionStatus::Active, "ACTIVE"),
            (GameSessionStatus::Activating, "ACTIVATING"),
            (GameSessionStatus::Terminated, "TERMINATED"),
            (GameSessionStatus::Terminating, "TERMINATING"),
            (GameSessionStatus::Error, "ERROR"),
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), json!(name));
            assert_eq!(
                serde_json::from_value::<GameSessionStatus>(json!(name)).unwrap(),
                status
            );
        }
    }

    #[test]
    fn terminate_process() {
        push_round_trip(
            TerminateProcess {
                termination_time: 1_718_000_000_999,
            },
            json!({"Action": "TerminateProcess", "StatusCode": 200, "TerminationTime": 1_718_000_000_999_i64}),
        );
    }

    #[test]
    fn refresh_connection() {
        push_round_trip(
            RefreshConnection {
                refresh_connection_endpoint: "wss://example/prod".into(),
                auth_token: "token-2".into(),
            },
            json!({
                "Action": "RefreshConnection", "StatusCode": 200,
                "RefreshConnectionEndpoint": "wss://example/prod", "AuthToken": "token-2"
            }),
        );
    }

    #[test]
    fn every_push_action_is_a_push() {
        for action in Action::PUSHES {
            assert!(action.is_push() && !action.is_request());
            let text = format!(r#"{{"Action":"{action}"}}"#);
            let Inbound::Push(frame) = classify(&text).unwrap() else {
                panic!("{action} is a push")
            };
            assert_eq!(frame.action(), action);
            assert_eq!(frame.request_id, None);
        }
    }
}
