//! The HTTP API's JSON: exact wire shapes and unknown-field handling.
//!
//! Tests sit in `http_*` modules so that `cargo test -p protocol http` selects them.
//! Validation rules are tested in `http_validation.rs`, generated round trips in
//! `http_roundtrip.rs`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use protocol::http::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Serializes `value` and checks the JSON is exactly `expected`, then reads `expected`
/// back and checks it gives `value`.
fn assert_wire<T>(value: &T, expected: Value)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let actual = serde_json::to_value(value).expect("serializes");
    assert_eq!(actual, expected, "JSON of {value:?}");
    let back: T = serde_json::from_value(expected).expect("reads its own JSON");
    assert_eq!(&back, value);
}

fn fingerprint() -> CertificateFingerprint {
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (i as u8) * 8 + 1;
    }
    CertificateFingerprint(bytes)
}

const FINGERPRINT_HEX: &str = "0109111921293139414951596169717981899199a1a9b1b9c1c9d1d9e1e9f1f9";

fn ticket(state: TicketState) -> Ticket {
    Ticket {
        id: "5f0c2a1e-8d7b-4c1a-9e55-2b0f3c4d5e6f".into(),
        mode: "duel".into(),
        players: vec!["p-1".into(), "p-2".into()],
        state,
        created_at: 1_700_000_000_000,
        updated_at: 1_700_000_004_000,
        expires_at: 1_700_000_600_000,
        estimated_wait_ms: None,
    }
}

fn ticket_json(state: Value, estimated_wait_ms: Value) -> Value {
    json!({
        "id": "5f0c2a1e-8d7b-4c1a-9e55-2b0f3c4d5e6f",
        "mode": "duel",
        "players": ["p-1", "p-2"],
        "state": state,
        "created_at": 1_700_000_000_000u64,
        "updated_at": 1_700_000_004_000u64,
        "expires_at": 1_700_000_600_000u64,
        "estimated_wait_ms": estimated_wait_ms,
    })
}

fn completed() -> TicketState {
    TicketState::Completed {
        connection: ConnectionInfo {
            ip_address: IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)),
            dns_name: Some("ec2-203-0-113-7.compute-1.amazonaws.com".into()),
            port: 7777,
            player_session_id: "psess-1".into(),
            game_session_id: "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-1".into(),
            certificate_sha256: fingerprint(),
        },
    }
}

fn completed_json() -> Value {
    json!({
        "status": "COMPLETED",
        "connection": {
            "ip_address": "203.0.113.7",
            "dns_name": "ec2-203-0-113-7.compute-1.amazonaws.com",
            "port": 7777,
            "player_session_id": "psess-1",
            "game_session_id": "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-1",
            "certificate_sha256": FINGERPRINT_HEX,
        }
    })
}

fn stats(rating: f64) -> Stats {
    Stats {
        rating,
        rating_deviation: 4.25,
        games: 40,
        wins: 24,
        losses: 15,
        draws: 1,
        streak: -2,
    }
}

fn stats_json(rating: f64) -> Value {
    json!({"rating": rating, "rating_deviation": 4.25, "games": 40, "wins": 24,
           "losses": 15, "draws": 1, "streak": -2})
}

mod http_errors {
    use super::*;

    #[test]
    fn error_body_has_one_shape() {
        assert_wire(
            &ErrorBody::new(ErrorCode::NotFound, "no ticket t-1"),
            json!({"error": {"code": "not_found", "message": "no ticket t-1"}}),
        );
    }

    #[test]
    fn every_code_has_its_string_and_status() {
        let table = [
            (ErrorCode::InvalidRequest, "invalid_request", 400),
            (ErrorCode::Unauthorized, "unauthorized", 401),
            (ErrorCode::Forbidden, "forbidden", 403),
            (ErrorCode::NotFound, "not_found", 404),
            (ErrorCode::MethodNotAllowed, "method_not_allowed", 405),
            (ErrorCode::Conflict, "conflict", 409),
            (ErrorCode::PayloadTooLarge, "payload_too_large", 413),
            (
                ErrorCode::UnsupportedMediaType,
                "unsupported_media_type",
                415,
            ),
            (ErrorCode::RateLimited, "rate_limited", 429),
            (ErrorCode::Internal, "internal", 500),
            (ErrorCode::Unavailable, "unavailable", 503),
            (ErrorCode::Unknown, "unknown", 500),
        ];
        assert_eq!(table.len(), ErrorCode::ALL.len());
        for ((code, text, status), listed) in table.into_iter().zip(ErrorCode::ALL) {
            assert_eq!(code, listed);
            assert_eq!(serde_json::to_value(code).unwrap(), json!(text));
            assert_eq!(code.as_str(), text);
            assert_eq!(code.to_string(), text);
            assert_eq!(code.status(), status, "{text}");
            if code != ErrorCode::Unknown {
                assert_eq!(ErrorCode::from_status(status), code, "{text}");
            }
        }
    }

    #[test]
    fn statuses_without_a_body_map_to_a_code() {
        assert_eq!(ErrorCode::from_status(400), ErrorCode::InvalidRequest);
        assert_eq!(ErrorCode::from_status(422), ErrorCode::InvalidRequest);
        assert_eq!(ErrorCode::from_status(502), ErrorCode::Unavailable);
        assert_eq!(ErrorCode::from_status(504), ErrorCode::Unavailable);
        assert_eq!(ErrorCode::from_status(501), ErrorCode::Internal);
        assert_eq!(ErrorCode::from_status(200), ErrorCode::Unknown);
        assert_eq!(ErrorCode::from_status(302), ErrorCode::Unknown);
    }

    #[test]
    fn a_newer_code_reads_as_unknown_and_extra_fields_are_ignored() {
        let body: ErrorBody = serde_json::from_value(json!({
            "error": {"code": "teapot", "message": "short and stout", "request_id": "r-1"},
            "docs": "https://example.com"
        }))
        .unwrap();
        assert_eq!(body.error.code, ErrorCode::Unknown);
        assert_eq!(body.error.message, "short and stout");
        assert_eq!(body.status(), 500);
    }

    #[test]
    fn validation_errors_become_invalid_request() {
        let err = ValidationError::LatencyOutOfRange {
            region: "us-east-1".into(),
            ms: 0,
        };
        let body = ErrorBody::from(err.clone());
        assert_eq!(body.status(), 400);
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"error": {"code": "invalid_request",
                             "message": "latency for us-east-1 must be 1 to 5000 ms, got 0"}})
        );
        assert_eq!(
            ApiError::from(err).to_string(),
            format!("invalid_request: {}", body.error.message)
        );
    }
}

mod http_tickets {
    use super::*;

    #[test]
    fn create_request_exact_json() {
        let request = CreateTicketRequest {
            mode: "duel".into(),
            party: vec!["p-2".into()],
            latencies_ms: BTreeMap::from([("us-east-1".into(), 42), ("eu-west-1".into(), 95)]),
            attributes: BTreeMap::from([
                ("platform".into(), AttributeValue::String("pc".into())),
                ("level".into(), AttributeValue::Number(12.5)),
                (
                    "preferred_maps".into(),
                    AttributeValue::StringList(vec!["dust".into(), "harbor".into()]),
                ),
            ]),
        };
        assert_wire(
            &request,
            json!({
                "mode": "duel",
                "party": ["p-2"],
                "latencies_ms": {"eu-west-1": 95, "us-east-1": 42},
                "attributes": {"level": 12.5, "platform": "pc", "preferred_maps": ["dust", "harbor"]},
            }),
        );
        assert_eq!(request.validate("p-1"), Ok(()));
    }

    #[test]
    fn create_request_party_and_attributes_are_optional() {
        let request: CreateTicketRequest =
            serde_json::from_value(json!({"mode": "duel", "latencies_ms": {"us-east-1": 42}}))
                .unwrap();
        assert!(request.party.is_empty());
        assert!(request.attributes.is_empty());
        assert_eq!(request.validate("p-1"), Ok(()));
    }

    #[test]
    fn create_request_rejects_unknown_fields() {
        for body in [
            json!({"mdoe": "duel", "mode": "duel", "latencies_ms": {"us-east-1": 42}}),
            // The caller's id comes from the token; a body naming a player is refused.
            json!({"mode": "duel", "player_id": "p-9", "latencies_ms": {"us-east-1": 42}}),
        ] {
            let err = serde_json::from_value::<CreateTicketRequest>(body).unwrap_err();
            assert!(err.to_string().contains("unknown field"), "{err}");
        }
    }

    #[test]
    fn create_request_rejects_wrong_types() {
        for body in [
            json!({"mode": "duel"}),
            json!({"mode": "duel", "latencies_ms": {"us-east-1": -5}}),
            json!({"mode": "duel", "latencies_ms": {"us-east-1": 4.5}}),
            json!({"mode": "duel", "latencies_ms": {"us-east-1": 42}, "attributes": {"a": {"x": 1}}}),
            json!({"mode": "duel", "latencies_ms": {"us-east-1": 42}, "attributes": {"a": [1, 2]}}),
        ] {
            assert!(
                serde_json::from_value::<CreateTicketRequest>(body.clone()).is_err(),
                "{body}"
            );
        }
    }

    #[test]
    fn simple_states_are_screaming_strings() {
        for (state, status) in [
            (TicketState::Searching, "SEARCHING"),
            (TicketState::Placing, "PLACING"),
            (TicketState::TimedOut, "TIMED_OUT"),
            (TicketState::Cancelled, "CANCELLED"),
        ] {
            assert_wire(
                &ticket(state.clone()),
                ticket_json(json!({"status": status}), Value::Null),
            );
            assert_eq!(state.status().as_str(), status);
            assert_eq!(serde_json::to_value(state.status()).unwrap(), json!(status));
        }
    }

    #[test]
    fn searching_ticket_carries_its_estimate() {
        let mut searching = ticket(TicketState::Searching);
        searching.estimated_wait_ms = Some(12_000);
        assert_wire(
            &searching,
            ticket_json(json!({"status": "SEARCHING"}), json!(12_000)),
        );
    }

    #[test]
    fn completed_ticket_carries_connection_info() {
        assert_wire(
            &ticket(completed()),
            ticket_json(completed_json(), Value::Null),
        );
        assert_eq!(completed().status(), TicketStatus::Completed);
    }

    #[test]
    fn completed_ticket_with_ipv6_and_no_dns_name() {
        let state = TicketState::Completed {
            connection: ConnectionInfo {
                ip_address: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
                dns_name: None,
                port: 443,
                player_session_id: "psess-2".into(),
                game_session_id: "gsess-2".into(),
                certificate_sha256: fingerprint(),
            },
        };
        assert_wire(
            &state,
            json!({"status": "COMPLETED", "connection": {
                "ip_address": "2001:db8::1", "dns_name": null, "port": 443,
                "player_session_id": "psess-2", "game_session_id": "gsess-2",
                "certificate_sha256": FINGERPRINT_HEX}}),
        );
    }

    #[test]
    fn failed_ticket_carries_reason_and_message() {
        let reasons = [
            (FailureReason::PlacementFailed, "placement_failed"),
            (FailureReason::PlacementTimedOut, "placement_timed_out"),
            (FailureReason::NoCapacity, "no_capacity"),
            (FailureReason::PlayerSessionFailed, "player_session_failed"),
            (FailureReason::ModeUnavailable, "mode_unavailable"),
            (FailureReason::Internal, "internal"),
        ];
        for (reason, text) in reasons {
            let state = TicketState::Failed {
                reason,
                message: "no fleet capacity in 3 attempts".into(),
            };
            assert_wire(
                &ticket(state),
                ticket_json(
                    json!({"status": "FAILED", "reason": text,
                           "message": "no fleet capacity in 3 attempts"}),
                    Value::Null,
                ),
            );
        }
    }

    #[test]
    fn final_states() {
        let finals: Vec<_> = TicketStatus::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(
            finals,
            [
                TicketStatus::Completed,
                TicketStatus::TimedOut,
                TicketStatus::Cancelled,
                TicketStatus::Failed
            ]
        );
        assert!(!TicketState::Searching.is_final());
        assert!(!TicketState::Placing.is_final());
        assert!(completed().is_final());
    }

    #[test]
    fn ticket_response_tolerates_unknown_fields_and_reasons() {
        let mut json = ticket_json(
            json!({"status": "FAILED", "reason": "cosmic_ray", "message": "m", "retry": false}),
            Value::Null,
        );
        json["region"] = json!("us-east-1");
        let read: Ticket = serde_json::from_value(json).unwrap();
        assert_eq!(
            read.state,
            TicketState::Failed {
                reason: FailureReason::Unknown,
                message: "m".into()
            }
        );

        let mut json = ticket_json(completed_json(), Value::Null);
        json["state"]["connection"]["team"] = json!("red");
        let read: Ticket = serde_json::from_value(json).unwrap();
        assert_eq!(read.state, completed());
    }

    #[test]
    fn unknown_state_is_an_error() {
        // States are the architecture's promise: a new one is a breaking change, not
        // something to read as a default.
        let json = ticket_json(json!({"status": "QUEUED"}), Value::Null);
        assert!(serde_json::from_value::<Ticket>(json).is_err());
        let json = ticket_json(json!({"status": "searching"}), Value::Null);
        assert!(serde_json::from_value::<Ticket>(json).is_err());
    }

    #[test]
    fn ticket_event_exact_json() {
        let event = TicketEvent {
            seq: 2,
            ticket: ticket(TicketState::Placing),
        };
        assert_wire(
            &event,
            json!({"seq": 2, "ticket": ticket_json(json!({"status": "PLACING"}), Value::Null)}),
        );
        assert_eq!(TICKET_EVENT_NAME, "ticket");
    }

    #[test]
    fn fingerprint_text_forms() {
        // SHA-256("abc"), the FIPS 180-2 test vector.
        let abc = CertificateFingerprint::of_der(b"abc");
        assert_eq!(
            abc.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            serde_json::to_value(abc).unwrap(),
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        let upper: CertificateFingerprint = serde_json::from_value(json!(
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
        ))
        .unwrap();
        assert_eq!(upper, abc);
        assert_eq!(abc.as_bytes()[0], 0xba);

        assert_eq!(
            "ab12".parse::<CertificateFingerprint>(),
            Err(FingerprintError::Length { len: 4 })
        );
        let not_hex = format!("{}zz", &FINGERPRINT_HEX[..62]);
        assert_eq!(
            not_hex.parse::<CertificateFingerprint>(),
            Err(FingerprintError::NotHex)
        );
        let colons = "ba:78:16:bf:8f:01:cf:ea:41:41:40:de:5d:ae:22:23";
        assert!(serde_json::from_value::<CertificateFingerprint>(json!(colons)).is_err());
    }

    #[test]
    fn stats_exact_json() {
        let stats = MatchmakingStats {
            at: 1_700_000_000_000,
            window_secs: 300,
            modes: vec![
                ModeQueueStats {
                    mode: "duel".into(),
                    tickets_searching: 12,
                    players_searching: 15,
                    median_wait_ms: Some(8_500),
                    matches_started: 40,
                },
                ModeQueueStats {
                    mode: "ffa".into(),
                    tickets_searching: 0,
                    players_searching: 0,
                    median_wait_ms: None,
                    matches_started: 0,
                },
            ],
        };
        assert_wire(
            &stats,
            json!({"at": 1_700_000_000_000u64, "window_secs": 300, "modes": [
                {"mode": "duel", "tickets_searching": 12, "players_searching": 15,
                 "median_wait_ms": 8_500, "matches_started": 40},
                {"mode": "ffa", "tickets_searching": 0, "players_searching": 0,
                 "median_wait_ms": null, "matches_started": 0},
            ]}),
        );
    }

    #[test]
    fn largest_valid_request_fits_the_body_limit() {
        // Every cap reached, every string at its longest, attribute strings made of the
        // one character JSON escapes to two bytes.
        let id = |i: usize| format!("{i:0>width$}", width = MAX_PLAYER_ID_LEN);
        let quotes = "\"".repeat(MAX_ATTRIBUTE_STRING_LEN);
        let request = CreateTicketRequest {
            mode: format!("m{}", "x".repeat(MAX_MODE_LEN - 1)),
            party: (1..MAX_PARTY_SIZE).map(id).collect(),
            latencies_ms: (0..MAX_LATENCY_REGIONS)
                .map(|i| {
                    let prefix = format!("us-{i}-");
                    let region = format!("{prefix}{}", "1".repeat(MAX_REGION_LEN - prefix.len()));
                    (region, MAX_LATENCY_MS)
                })
                .collect(),
            attributes: (0..MAX_ATTRIBUTES)
                .map(|i| {
                    let name = format!("a{i:0>width$}", width = MAX_ATTRIBUTE_NAME_LEN - 1);
                    let list = vec![quotes.clone(); MAX_ATTRIBUTE_LIST_LEN];
                    (name, AttributeValue::StringList(list))
                })
                .collect(),
        };
        assert_eq!(request.validate(&id(0)), Ok(()));
        let body = serde_json::to_vec(&request).unwrap();
        assert!(
            body.len() <= MAX_REQUEST_BODY_BYTES,
            "largest valid body is {} bytes, limit {MAX_REQUEST_BODY_BYTES}",
            body.len()
        );
    }
}

mod http_leaderboards {
    use super::*;

    fn entry(rank: u64, player: &str, name: Option<&str>, rating: f64) -> LeaderboardEntry {
        LeaderboardEntry {
            rank,
            player_id: player.into(),
            display_name: name.map(Into::into),
            rating,
            games: 30,
            wins: 20,
            losses: 10,
        }
    }

    #[test]
    fn page_exact_json() {
        let page = LeaderboardPage {
            board: BoardId {
                season: Some("2025-spring".into()),
                mode: Some("duel".into()),
            },
            total_players: 5_000,
            entries: vec![
                entry(1, "p-1", Some("Ann"), 31.5),
                entry(2, "p-2", None, 30.25),
            ],
        };
        assert_wire(
            &page,
            json!({
                "board": {"season": "2025-spring", "mode": "duel"},
                "total_players": 5_000,
                "entries": [
                    {"rank": 1, "player_id": "p-1", "display_name": "Ann", "rating": 31.5,
                     "games": 30, "wins": 20, "losses": 10},
                    {"rank": 2, "player_id": "p-2", "display_name": null, "rating": 30.25,
                     "games": 30, "wins": 20, "losses": 10},
                ],
            }),
        );
    }

    #[test]
    fn player_rank_exact_json_ranked_and_unranked() {
        let ranked = PlayerRank {
            board: BoardId::GLOBAL,
            total_players: 80,
            player_id: "p-7".into(),
            entry: Some(entry(41, "p-7", Some("Kai"), 25.0)),
        };
        assert_wire(
            &ranked,
            json!({"board": {"season": null, "mode": null}, "total_players": 80,
                   "player_id": "p-7",
                   "entry": {"rank": 41, "player_id": "p-7", "display_name": "Kai",
                             "rating": 25.0, "games": 30, "wins": 20, "losses": 10}}),
        );
        let unranked = PlayerRank {
            entry: None,
            ..ranked
        };
        assert_wire(
            &unranked,
            json!({"board": {"season": null, "mode": null}, "total_players": 80,
                   "player_id": "p-7", "entry": null}),
        );
    }

    #[test]
    fn responses_tolerate_unknown_fields() {
        let page: LeaderboardPage = serde_json::from_value(json!({
            "board": {"season": null, "mode": "duel", "region": "eu"},
            "total_players": 1,
            "next_offset": 1,
            "entries": [{"rank": 1, "player_id": "p-1", "display_name": null, "rating": 1.0,
                         "games": 1, "wins": 1, "losses": 0, "avatar": "x.png"}],
        }))
        .unwrap();
        assert_eq!(page.entries[0].rank, 1);
        assert_eq!(page.board.mode.as_deref(), Some("duel"));
    }

    #[test]
    fn queries_read_their_parameters_and_defaults() {
        let top: TopQuery = serde_json::from_value(json!({})).unwrap();
        assert_eq!(top, TopQuery::default());
        assert_eq!((top.limit(), top.offset()), (DEFAULT_TOP_LIMIT, 0));
        assert_eq!(top.board(), BoardId::GLOBAL);

        let top: TopQuery = serde_json::from_value(
            json!({"season": "s7", "mode": "duel", "limit": 50, "offset": 100}),
        )
        .unwrap();
        assert_eq!((top.limit(), top.offset()), (50, 100));
        assert_eq!(
            top.board(),
            BoardId {
                season: Some("s7".into()),
                mode: Some("duel".into())
            }
        );
        // Absent parameters are left out when a client builds the query string.
        assert_eq!(
            serde_json::to_value(TopQuery {
                limit: Some(5),
                ..TopQuery::default()
            })
            .unwrap(),
            json!({"limit": 5})
        );

        let around: AroundQuery = serde_json::from_value(json!({"mode": "duel"})).unwrap();
        assert_eq!(around.radius(), DEFAULT_AROUND_RADIUS);
        assert_eq!(around.board().mode.as_deref(), Some("duel"));
        let around: AroundQuery = serde_json::from_value(json!({"radius": 0})).unwrap();
        assert_eq!(around.radius(), 0);

        let board: BoardQuery = serde_json::from_value(json!({"season": "s7"})).unwrap();
        assert_eq!(board.board().season.as_deref(), Some("s7"));

        let recent: RecentMatchesQuery = serde_json::from_value(json!({})).unwrap();
        assert_eq!(recent.limit(), DEFAULT_RECENT_MATCHES);
    }

    #[test]
    fn queries_reject_unknown_parameters() {
        let typo = json!({"limt": 10});
        assert!(serde_json::from_value::<TopQuery>(typo.clone()).is_err());
        assert!(serde_json::from_value::<AroundQuery>(typo.clone()).is_err());
        assert!(serde_json::from_value::<BoardQuery>(typo.clone()).is_err());
        assert!(serde_json::from_value::<FriendsQuery>(typo.clone()).is_err());
        assert!(serde_json::from_value::<RecentMatchesQuery>(typo).is_err());
        // `limit` is not a parameter of the around view.
        assert!(serde_json::from_value::<AroundQuery>(json!({"limit": 10})).is_err());
    }

    #[test]
    fn friends_list_travels_as_one_comma_separated_string() {
        let query = FriendsQuery {
            season: None,
            mode: Some("duel".into()),
            players: PlayerIdList(vec!["p-1".into(), "auth0|abc".into(), "x@y.z".into()]),
        };
        assert_wire(
            &query,
            json!({"mode": "duel", "players": "p-1,auth0|abc,x@y.z"}),
        );

        let from_array: FriendsQuery =
            serde_json::from_value(json!({"players": ["p-1", "p-2"]})).unwrap();
        assert_eq!(
            from_array.players,
            PlayerIdList(vec!["p-1".into(), "p-2".into()])
        );

        let empty: FriendsQuery = serde_json::from_value(json!({"players": ""})).unwrap();
        assert_eq!(empty.players, PlayerIdList::default());
        let absent: FriendsQuery = serde_json::from_value(json!({})).unwrap();
        assert_eq!(absent.players, PlayerIdList::default());

        // Empty items are kept, so that validation reports them instead of hiding them.
        let trailing: FriendsQuery = serde_json::from_value(json!({"players": "p-1,"})).unwrap();
        assert_eq!(
            trailing.players,
            PlayerIdList(vec!["p-1".into(), String::new()])
        );

        assert!(serde_json::from_value::<FriendsQuery>(json!({"players": 7})).is_err());
        assert!(serde_json::from_value::<FriendsQuery>(json!({"players": [1]})).is_err());
    }
}

mod http_profiles {
    use super::*;

    #[test]
    fn profile_exact_json() {
        let profile = Profile {
            player_id: "p-1".into(),
            display_name: Some("Ann".into()),
            overall: stats(27.5),
            boards: vec![
                BoardStats {
                    board: BoardId {
                        season: Some("2025-spring".into()),
                        mode: None,
                    },
                    stats: stats(26.0),
                },
                BoardStats {
                    board: BoardId {
                        season: None,
                        mode: Some("duel".into()),
                    },
                    stats: stats(28.5),
                },
            ],
            last_match_at: Some(1_700_000_000_000),
            updated_at: 1_700_000_000_500,
        };
        assert_wire(
            &profile,
            json!({
                "player_id": "p-1",
                "display_name": "Ann",
                "overall": stats_json(27.5),
                "boards": [
                    {"board": {"season": "2025-spring", "mode": null}, "stats": stats_json(26.0)},
                    {"board": {"season": null, "mode": "duel"}, "stats": stats_json(28.5)},
                ],
                "last_match_at": 1_700_000_000_000u64,
                "updated_at": 1_700_000_000_500u64,
            }),
        );
    }

    #[test]
    fn new_player_profile_exact_json() {
        let profile = Profile {
            player_id: "p-2".into(),
            display_name: None,
            overall: Stats {
                rating: 25.0,
                rating_deviation: 8.25,
                games: 0,
                wins: 0,
                losses: 0,
                draws: 0,
                streak: 0,
            },
            boards: vec![],
            last_match_at: None,
            updated_at: 1_700_000_000_000,
        };
        assert_wire(
            &profile,
            json!({"player_id": "p-2", "display_name": null,
                   "overall": {"rating": 25.0, "rating_deviation": 8.25, "games": 0, "wins": 0,
                               "losses": 0, "draws": 0, "streak": 0},
                   "boards": [], "last_match_at": null, "updated_at": 1_700_000_000_000u64}),
        );
    }

    #[test]
    fn recent_matches_exact_json() {
        let matches = RecentMatches {
            player_id: "p-1".into(),
            matches: vec![
                RecentMatch {
                    match_id: "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-9".into(),
                    mode: "team-4v4".into(),
                    season: Some("2025-spring".into()),
                    ended_at: 1_700_000_900_000,
                    outcome: MatchOutcome::Win,
                    placement: 1,
                    team: Some("red".into()),
                    score: Some(37),
                    rating_change: 1.25,
                    rating_after: 27.5,
                    left_early: false,
                },
                RecentMatch {
                    match_id: "gsess-8".into(),
                    mode: "ffa".into(),
                    season: None,
                    ended_at: 1_700_000_100_000,
                    outcome: MatchOutcome::Loss,
                    placement: 6,
                    team: None,
                    score: None,
                    rating_change: -0.75,
                    rating_after: 26.25,
                    left_early: true,
                },
            ],
        };
        assert_wire(
            &matches,
            json!({"player_id": "p-1", "matches": [
                {"match_id": "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-9",
                 "mode": "team-4v4", "season": "2025-spring", "ended_at": 1_700_000_900_000u64,
                 "outcome": "win", "placement": 1, "team": "red", "score": 37,
                 "rating_change": 1.25, "rating_after": 27.5, "left_early": false},
                {"match_id": "gsess-8", "mode": "ffa", "season": null,
                 "ended_at": 1_700_000_100_000u64, "outcome": "loss", "placement": 6,
                 "team": null, "score": null, "rating_change": -0.75, "rating_after": 26.25,
                 "left_early": true},
            ]}),
        );
        assert_eq!(
            serde_json::to_value(MatchOutcome::Draw).unwrap(),
            json!("draw")
        );
    }
}
