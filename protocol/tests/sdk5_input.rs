//! `protocol::sdk5` input tolerance and `MatchmakerData`: frames shaped the way the Go and
//! C++ SDKs actually write them (`null` for empty slices and maps, omitted empty fields,
//! `null` everywhere in the C++ tests, unknown extra fields, unknown enum strings) decode
//! to the same values; the §7 matchmaker document decodes, re-encodes and flattens into
//! the `StartMatchBackfill` player list.

use std::collections::BTreeMap;

use proptest::prelude::*;
use protocol::sdk5::*;
use serde_json::{Value, json};

/// Parses a request frame that must be valid.
fn request(text: &str) -> Request {
    RequestFrame::parse(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .request
}

/// Classifies a frame that must be a push.
fn push(text: &str) -> Push {
    match classify(text) {
        Ok(Inbound::Push(frame)) => frame.push,
        other => panic!("{text}: {other:?}"),
    }
}

mod sdk5_lenient {
    use super::*;

    /// `LogPaths` as Go (`null`), C++ (absent) and this crate (`[]`) send it.
    #[test]
    fn log_paths_absent_null_or_array() {
        for text in [
            r#"{"Action":"ActivateServerProcess","RequestId":"r","SdkVersion":"5.4.0","SdkLanguage":"Cpp","Port":7777}"#,
            r#"{"Action":"ActivateServerProcess","RequestId":"r","SdkVersion":"5.4.0","SdkLanguage":"Cpp","Port":7777,"LogPaths":null}"#,
            r#"{"Action":"ActivateServerProcess","RequestId":"r","SdkVersion":"5.4.0","SdkLanguage":"Cpp","Port":7777,"LogPaths":[]}"#,
        ] {
            let Request::ActivateServerProcess(body) = request(text) else {
                panic!("ActivateServerProcess")
            };
            assert_eq!(body.port, 7777);
            assert!(body.log_paths.is_empty());
        }
    }

    /// The C++ SDK's "message with null values" test frame.
    #[test]
    fn cpp_null_values() {
        let text = r#"{"Action":"ActivateServerProcess","RequestId":"r","SdkVersion": null,"SdkLanguage": null,"Port": null,"LogPaths": null}"#;
        assert_eq!(
            request(text),
            Request::ActivateServerProcess(ActivateServerProcess::default())
        );
        let text = r#"{"Action":"TerminateProcess","RequestId":null,"StatusCode":null,"TerminationTime":null}"#;
        assert_eq!(
            push(text),
            Push::TerminateProcess(TerminateProcess {
                termination_time: 0
            })
        );
    }

    /// An empty C++ `ActivateServerProcess` serializes to the envelope alone.
    #[test]
    fn envelope_only_request() {
        assert_eq!(
            request(r#"{"Action":"ActivateServerProcess","RequestId":"testRequestId"}"#),
            Request::ActivateServerProcess(ActivateServerProcess::default())
        );
    }

    /// Go omits `Limit` 0 and empty strings; `""` is the same as absent anyway.
    #[test]
    fn describe_player_sessions_empty_strings_are_absent() {
        let Request::DescribePlayerSessions(body) = request(
            r#"{"Action":"DescribePlayerSessions","RequestId":"r","GameSessionId":"gs","PlayerId":"","PlayerSessionId":null,"NextToken":"","PlayerSessionStatusFilter":""}"#,
        ) else {
            panic!("DescribePlayerSessions")
        };
        assert_eq!(
            body,
            DescribePlayerSessions {
                game_session_id: Some("gs".into()),
                ..Default::default()
            }
        );
        assert_eq!(body.query(), Some(PlayerSessionQuery::GameSession("gs")));
    }

    /// An unrecognised status filter is kept (as `NOT_SET`) so a service can refuse it.
    #[test]
    fn unknown_status_filter_is_not_set_not_absent() {
        let Request::DescribePlayerSessions(body) = request(
            r#"{"Action":"DescribePlayerSessions","RequestId":"r","PlayerId":"p","PlayerSessionStatusFilter":"PLAYING"}"#,
        ) else {
            panic!("DescribePlayerSessions")
        };
        assert_eq!(
            body.player_session_status_filter,
            Some(PlayerSessionStatus::NotSet)
        );
    }

    /// Go's `Player` writes `null` for nil maps; `Team` may be missing.
    #[test]
    fn go_player_with_null_maps() {
        let Request::StartMatchBackfill(body) = request(
            r#"{"Action":"StartMatchBackfill","RequestId":"r","GameSessionArn":"gs","MatchmakingConfigurationArn":"mm","TicketId":"","Players":[{"PlayerId":"p1","PlayerAttributes":null,"LatencyInMs":null}]}"#,
        ) else {
            panic!("StartMatchBackfill")
        };
        assert_eq!(
            body.players,
            vec![Player {
                player_id: "p1".into(),
                ..Default::default()
            }]
        );
    }

    /// `AttrType` is case-insensitive (Go `EqualFold`); unknown types are `NONE`; a value
    /// field dropped by Go's `omitempty` reads as empty; other value fields are ignored.
    #[test]
    fn attribute_value_tolerance() {
        let cases = [
            (
                json!({"AttrType":"string","S":"x"}),
                AttributeValue::String("x".into()),
            ),
            (json!({"AttrType":"Double"}), AttributeValue::Double(0.0)),
            (
                json!({"AttrType":"STRING"}),
                AttributeValue::String(String::new()),
            ),
            (
                json!({"AttrType":"STRING_LIST","SL":null}),
                AttributeValue::StringList(vec![]),
            ),
            (
                json!({"AttrType":"STRING_DOUBLE_MAP"}),
                AttributeValue::StringDoubleMap(BTreeMap::new()),
            ),
            (json!({"AttrType":"BOOLEAN","S":"x"}), AttributeValue::None),
            (json!({"S":"x"}), AttributeValue::None),
            (
                json!({"AttrType":"DOUBLE","N":2,"S":"ignored"}),
                AttributeValue::Double(2.0),
            ),
        ];
        for (json, expected) in cases {
            let decoded: AttributeValue = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(decoded, expected, "{json}");
        }
        assert_eq!(
            AttributeType::from_name_lenient("string_double_map"),
            AttributeType::StringDoubleMap
        );
    }

    /// Unknown extra fields are ignored everywhere, including the agent's
    /// `RefreshConnection.ExpirationTime`, and are not written back.
    #[test]
    fn unknown_fields_are_ignored() {
        let refresh = push(
            r#"{"Action":"RefreshConnection","RefreshConnectionEndpoint":"wss://new/prod","AuthToken":"t2","ExpirationTime":1718000000000}"#,
        );
        assert_eq!(
            refresh,
            Push::RefreshConnection(RefreshConnection {
                refresh_connection_endpoint: "wss://new/prod".into(),
                auth_token: "t2".into(),
            })
        );
        assert!(!PushFrame::new(refresh).to_json().contains("ExpirationTime"));

        let Request::HeartbeatServerProcess(body) = request(
            r#"{"Action":"HeartbeatServerProcess","RequestId":"r","HealthStatus":true,"Timestamp":"x","Nested":{"a":[1,2]}}"#,
        ) else {
            panic!("HeartbeatServerProcess")
        };
        assert!(body.health_status);
    }

    /// Unknown enum strings map to the catch-all variant instead of failing the push.
    #[test]
    fn unknown_enum_strings_in_update_game_session() {
        let Push::UpdateGameSession(body) = push(
            r#"{"Action":"UpdateGameSession","GameSession":{"GameSessionId":"gs","Status":"HIBERNATING","GameProperties":null},"UpdateReason":"SOMETHING_NEW"}"#,
        ) else {
            panic!("UpdateGameSession")
        };
        assert_eq!(body.update_reason, UpdateReason::Unknown);
        assert_eq!(body.game_session.status, GameSessionStatus::NotSet);
        assert_eq!(body.game_session.game_session_id, "gs");
        assert!(body.game_session.game_properties.is_empty());
        assert_eq!(body.backfill_ticket_id, "");

        let Push::UpdateGameSession(body) =
            push(r#"{"Action":"UpdateGameSession","GameSession":null}"#)
        else {
            panic!("UpdateGameSession")
        };
        assert_eq!(body, UpdateGameSession::default());
        assert_eq!(body.update_reason, UpdateReason::Unknown);
    }

    /// `CreateGameSession` as a Go-written frame would look, `GameProperties` an object.
    #[test]
    fn create_game_session_from_service() {
        let Push::CreateGameSession(body) = push(
            r#"{"Action":"CreateGameSession","StatusCode":200,"MaximumPlayerSessionCount":4,"Port":7777,"IpAddress":"1.2.3.4","GameSessionId":"gs","GameSessionName":"n","GameSessionData":"","MatchmakerData":"","DnsName":"d","GameProperties":{"mode":"ctf","map":"x"}}"#,
        ) else {
            panic!("CreateGameSession")
        };
        assert_eq!(
            body.game_properties.get("map").map(String::as_str),
            Some("x")
        );
        assert_eq!(body.maximum_player_session_count, 4);
        let session = body.to_game_session("fleet-9");
        assert_eq!(session.name, "n");
        assert_eq!(session.fleet_id, "fleet-9");
    }
}

mod sdk5_matchmaker {
    use super::*;

    /// The §7 example document, verbatim.
    const SPEC_EXAMPLE: &str = r#"{
      "matchId": "…",
      "matchmakingConfigurationArn": "arn:aws:gamelift:us-west-2:123456789012:matchmakingconfiguration/MyConfig",
      "teams": [
        {"name": "red",
         "players": [
           {"playerId": "player-1",
            "attributes": {
              "skill":  {"attributeType": "DOUBLE", "valueAttribute": 23.0},
              "mode":   {"attributeType": "STRING", "valueAttribute": "ctf"},
              "tags":   {"attributeType": "STRING_LIST", "valueAttribute": ["a","b"]},
              "ranks":  {"attributeType": "STRING_DOUBLE_MAP", "valueAttribute": {"x": 1.0}}
            }}
         ]}
      ],
      "autoBackfillTicketId": "…",
      "autoBackfillMode": "AUTOMATIC"
    }"#;

    fn player_1_attributes() -> BTreeMap<String, AttributeValue> {
        BTreeMap::from([
            ("skill".into(), AttributeValue::Double(23.0)),
            ("mode".into(), AttributeValue::String("ctf".into())),
            (
                "tags".into(),
                AttributeValue::StringList(vec!["a".into(), "b".into()]),
            ),
            (
                "ranks".into(),
                AttributeValue::StringDoubleMap(BTreeMap::from([("x".into(), 1.0)])),
            ),
        ])
    }

    #[test]
    fn spec_example_decodes() {
        let data = MatchmakerData::parse(SPEC_EXAMPLE).unwrap();
        assert_eq!(
            data,
            MatchmakerData {
                match_id: "…".into(),
                matchmaking_configuration_arn:
                    "arn:aws:gamelift:us-west-2:123456789012:matchmakingconfiguration/MyConfig"
                        .into(),
                teams: vec![MatchmakerTeam {
                    name: "red".into(),
                    players: vec![MatchmakerPlayer {
                        player_id: "player-1".into(),
                        attributes: player_1_attributes(),
                    }],
                }],
                auto_backfill_ticket_id: Some("…".into()),
                auto_backfill_mode: BackfillMode::Automatic,
            }
        );
    }

    /// Re-encoding gives the same document (camelCase keys, `attributeType` written).
    #[test]
    fn spec_example_reencodes_exactly() {
        let data = MatchmakerData::parse(SPEC_EXAMPLE).unwrap();
        let expected: Value = serde_json::from_str(SPEC_EXAMPLE).unwrap();
        let encoded: Value = serde_json::from_str(&data.to_json_string()).unwrap();
        assert_eq!(encoded, expected);
    }

    #[test]
    fn flattens_into_backfill_players() {
        let mut data = MatchmakerData::parse(SPEC_EXAMPLE).unwrap();
        data.teams.push(MatchmakerTeam {
            name: "blue".into(),
            players: vec![MatchmakerPlayer {
                player_id: "player-2".into(),
                attributes: BTreeMap::new(),
            }],
        });
        let backfill = data.backfill_request("arn:gs");
        assert_eq!(backfill.game_session_arn, "arn:gs");
        assert_eq!(
            backfill.matchmaking_configuration_arn,
            data.matchmaking_configuration_arn
        );
        assert_eq!(backfill.ticket_id, "");
        assert_eq!(
            backfill.players,
            vec![
                Player {
                    player_id: "player-1".into(),
                    team: "red".into(),
                    player_attributes: player_1_attributes(),
                    latency_in_ms: BTreeMap::new(),
                },
                Player {
                    player_id: "player-2".into(),
                    team: "blue".into(),
                    ..Default::default()
                },
            ]
        );
        // And the flattened players go on the wire in AttrType form.
        let text = encode_request("r", &backfill);
        let frame: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            frame["Players"][0]["PlayerAttributes"]["tags"],
            json!({"AttrType": "STRING_LIST", "SL": ["a", "b"]})
        );
    }

    /// The value's JSON shape decides the type, as in Go: wrong or unknown
    /// `attributeType` never fails the document; non-strings are dropped from lists and
    /// non-numbers from maps.
    #[test]
    fn attribute_inference_like_go() {
        let text = r#"{"matchId":"m","teams":[{"name":"t","players":[{"playerId":"p","attributes":{
            "a": {"attributeType":"DOUBLE","valueAttribute":"23"},
            "b": {"attributeType":"WHATEVER","valueAttribute":5},
            "c": {"valueAttribute":["x",1,"y",null]},
            "d": {"attributeType":"STRING_DOUBLE_MAP","valueAttribute":{"k":2,"bad":"no"}},
            "e": {"attributeType":"NONE"},
            "f": {"attributeType":"STRING","valueAttribute":true},
            "g": null
        }}]}]}"#;
        let data = MatchmakerData::parse(text).unwrap();
        let attributes = &data.teams[0].players[0].attributes;
        assert_eq!(attributes["a"], AttributeValue::String("23".into()));
        assert_eq!(attributes["b"], AttributeValue::Double(5.0));
        assert_eq!(
            attributes["c"],
            AttributeValue::StringList(vec!["x".into(), "y".into()])
        );
        assert_eq!(
            attributes["d"],
            AttributeValue::StringDoubleMap(BTreeMap::from([("k".into(), 2.0)]))
        );
        assert_eq!(attributes["e"], AttributeValue::None);
        assert_eq!(attributes["f"], AttributeValue::None);
        assert_eq!(attributes["g"], AttributeValue::None);
        // NONE is written with a null value, like Go.
        let none = MatchmakerPlayer {
            player_id: "p".into(),
            attributes: BTreeMap::from([("e".into(), AttributeValue::None)]),
        };
        assert_eq!(
            serde_json::to_value(&none).unwrap(),
            json!({"playerId":"p","attributes":{"e":{"attributeType":"NONE","valueAttribute":null}}})
        );
    }

    #[test]
    fn backfill_mode_and_missing_fields() {
        for (name, mode) in [
            ("AUTOMATIC", BackfillMode::Automatic),
            ("manual", BackfillMode::Manual),
            ("Automatic", BackfillMode::Automatic),
            ("NOT_SET", BackfillMode::NotSet),
            ("SOMETIMES", BackfillMode::NotSet),
        ] {
            let data =
                MatchmakerData::parse(&format!(r#"{{"autoBackfillMode":"{name}"}}"#)).unwrap();
            assert_eq!(data.auto_backfill_mode, mode, "{name}");
        }
        let data = MatchmakerData::parse(
            r#"{"matchId":"m","teams":null,"autoBackfillMode":null,"autoBackfillTicketId":""}"#,
        )
        .unwrap();
        assert_eq!(data.auto_backfill_mode, BackfillMode::NotSet);
        assert_eq!(data.auto_backfill_ticket_id, None);
        assert!(data.teams.is_empty());
        // Manual backfill: no ticket, no NOT_SET mode written.
        assert_eq!(
            serde_json::from_str::<Value>(&data.to_json_string()).unwrap(),
            json!({"matchId":"m","matchmakingConfigurationArn":"","teams":[]})
        );
    }

    #[test]
    fn string_field_helpers() {
        let session = GameSession {
            matchmaker_data: SPEC_EXAMPLE.into(),
            ..Default::default()
        };
        assert_eq!(
            session.matchmaker_data().unwrap().unwrap().teams[0].players[0].player_id,
            "player-1"
        );
        assert_eq!(MatchmakerData::parse_optional("  ").unwrap(), None);
        for bad in [
            "",
            "[]",
            "{\"teams\":5}",
            "{\"teams\":[{\"players\":[{\"attributes\":{\"a\":1}}]}]}",
        ] {
            assert!(
                matches!(
                    MatchmakerData::parse(bad),
                    Err(Sdk5Error::MatchmakerData(_))
                ),
                "{bad}"
            );
        }
        let broken = GameSession {
            matchmaker_data: "{".into(),
            ..Default::default()
        };
        assert!(broken.matchmaker_data().is_err());
    }
}

mod sdk5_round_trip_properties {
    use super::*;

    /// Doubles that survive a JSON round trip exactly (dyadic rationals).
    fn double() -> impl Strategy<Value = f64> {
        (-1_000_000i32..1_000_000).prop_map(|n| f64::from(n) / 8.0)
    }

    fn attribute() -> impl Strategy<Value = AttributeValue> {
        prop_oneof![
            Just(AttributeValue::None),
            ".{0,6}".prop_map(AttributeValue::String),
            double().prop_map(AttributeValue::Double),
            prop::collection::vec(".{0,4}", 0..3).prop_map(AttributeValue::StringList),
            prop::collection::btree_map(".{0,4}", double(), 0..3)
                .prop_map(AttributeValue::StringDoubleMap),
        ]
    }

    fn attributes() -> impl Strategy<Value = BTreeMap<String, AttributeValue>> {
        prop::collection::btree_map("[a-z]{1,5}", attribute(), 0..4)
    }

    fn player() -> impl Strategy<Value = Player> {
        (
            ".{0,8}",
            ".{0,4}",
            attributes(),
            prop::collection::btree_map("[a-z]{2}-[a-z]{4}-[1-3]", any::<u32>(), 0..3),
        )
            .prop_map(
                |(player_id, team, player_attributes, latency_in_ms)| Player {
                    player_id,
                    team,
                    player_attributes,
                    latency_in_ms,
                },
            )
    }

    fn non_empty() -> impl Strategy<Value = Option<String>> {
        prop::option::of(".{1,8}")
    }

    fn status() -> impl Strategy<Value = PlayerSessionStatus> {
        prop::sample::select(vec![
            PlayerSessionStatus::Reserved,
            PlayerSessionStatus::Active,
            PlayerSessionStatus::Completed,
            PlayerSessionStatus::TimedOut,
            PlayerSessionStatus::NotSet,
        ])
    }

    fn matchmaker_data() -> impl Strategy<Value = MatchmakerData> {
        let player =
            (".{0,6}", attributes()).prop_map(|(player_id, attributes)| MatchmakerPlayer {
                player_id,
                attributes,
            });
        let team = (".{0,4}", prop::collection::vec(player, 0..3))
            .prop_map(|(name, players)| MatchmakerTeam { name, players });
        (
            ".{0,8}",
            ".{0,8}",
            prop::collection::vec(team, 0..3),
            non_empty(),
            prop::sample::select(vec![
                BackfillMode::Automatic,
                BackfillMode::Manual,
                BackfillMode::NotSet,
            ]),
        )
            .prop_map(|(match_id, arn, teams, ticket, mode)| MatchmakerData {
                match_id,
                matchmaking_configuration_arn: arn,
                teams,
                auto_backfill_ticket_id: ticket,
                auto_backfill_mode: mode,
            })
    }

    proptest! {
        #[test]
        fn start_match_backfill_round_trips(
            arn in ".{0,8}", config in ".{0,8}", ticket in ".{0,8}",
            players in prop::collection::vec(player(), 0..4),
        ) {
            let body = StartMatchBackfill {
                game_session_arn: arn,
                matchmaking_configuration_arn: config,
                ticket_id: ticket,
                players,
            };
            let frame = RequestFrame::parse(&encode_request("id", &body)).unwrap();
            prop_assert_eq!(frame.request, Request::StartMatchBackfill(body));
        }

        #[test]
        fn describe_player_sessions_round_trips(
            game_session_id in non_empty(), player_id in non_empty(),
            player_session_id in non_empty(), next_token in non_empty(),
            filter in prop::option::of(status()), limit in any::<u32>(),
        ) {
            let body = DescribePlayerSessions {
                game_session_id,
                player_id,
                player_session_id,
                player_session_status_filter: filter,
                next_token,
                limit,
            };
            let frame = RequestFrame::parse(&encode_request("id", &body)).unwrap();
            prop_assert_eq!(frame.request, Request::DescribePlayerSessions(body));
        }

        #[test]
        fn matchmaker_data_round_trips(data in matchmaker_data()) {
            prop_assert_eq!(MatchmakerData::parse(&data.to_json_string()).unwrap(), data.clone());
            // Flattening keeps every player, in order, with its team.
            let players = data.players();
            let expected: Vec<(String, String)> = data
                .teams
                .iter()
                .flat_map(|t| t.players.iter().map(|p| (p.player_id.clone(), t.name.clone())))
                .collect();
            let got: Vec<(String, String)> =
                players.iter().map(|p| (p.player_id.clone(), p.team.clone())).collect();
            prop_assert_eq!(got, expected);
        }

        #[test]
        fn create_game_session_round_trips(
            id in ".{0,8}", name in ".{0,8}", max in any::<u32>(), port in any::<u16>(),
            properties in prop::collection::btree_map(".{0,4}", ".{0,4}", 0..4),
        ) {
            let body = CreateGameSession {
                game_session_id: id,
                game_session_name: name,
                maximum_player_session_count: max,
                port,
                game_properties: properties,
                ..Default::default()
            };
            let frame = PushFrame::new(body.clone());
            prop_assert_eq!(classify(&frame.to_json()).unwrap(), Inbound::Push(frame));
            prop_assert_eq!(CreateGameSession::from(&body.to_game_session("f")), body);
        }
    }
}
