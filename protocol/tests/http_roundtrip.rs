//! Round trips of the HTTP API's main types over generated values: JSON written by
//! `serde_json` reads back as the same value.
//!
//! Ratings are generated as multiples of 1/64, which JSON carries exactly in both
//! directions (serde_json without its `float_roundtrip` feature may be one ulp off on
//! arbitrary doubles). Tests sit in an `http_*` module so that `cargo test -p protocol
//! http` selects them.

use std::net::IpAddr;

use protocol::http::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

mod http_roundtrip {
    use super::*;
    use proptest::collection::{btree_map, vec};
    use proptest::option;
    use proptest::prelude::*;

    fn player_id() -> impl Strategy<Value = String> {
        "[A-Za-z0-9._:@|-]{1,24}"
    }

    fn text() -> impl Strategy<Value = String> {
        any::<String>()
    }

    fn float() -> impl Strategy<Value = f64> {
        any::<i32>().prop_map(|i| f64::from(i) / 64.0)
    }

    fn board() -> impl Strategy<Value = BoardId> {
        (
            option::of("[a-z0-9][a-z0-9_-]{0,12}"),
            option::of("[a-z][a-z0-9_-]{0,12}"),
        )
            .prop_map(|(season, mode)| BoardId { season, mode })
    }

    fn attribute_value() -> impl Strategy<Value = AttributeValue> {
        prop_oneof![
            float().prop_map(AttributeValue::Number),
            "[ -~]{0,20}".prop_map(AttributeValue::String),
            vec("[ -~]{0,10}", 0..=MAX_ATTRIBUTE_LIST_LEN).prop_map(AttributeValue::StringList),
        ]
    }

    /// Requests within every limit (so they also pass validation).
    fn create_request() -> impl Strategy<Value = CreateTicketRequest> {
        (
            "[a-z][a-z0-9_-]{0,31}",
            proptest::sample::subsequence(
                (0..20).map(|i| format!("party-{i}")).collect::<Vec<_>>(),
                0..MAX_PARTY_SIZE,
            ),
            btree_map(
                "[a-z]{2}-[a-z]{2,10}-[0-9]{1,2}",
                MIN_LATENCY_MS..=MAX_LATENCY_MS,
                1..=MAX_LATENCY_REGIONS,
            ),
            btree_map(
                "[a-z][a-z0-9_]{0,10}".prop_filter("not reserved", |n| {
                    !RESERVED_ATTRIBUTE_NAMES.contains(&n.as_str())
                }),
                attribute_value(),
                0..=MAX_ATTRIBUTES,
            ),
        )
            .prop_map(
                |(mode, party, latencies_ms, attributes)| CreateTicketRequest {
                    mode,
                    party,
                    latencies_ms,
                    attributes,
                },
            )
    }

    fn connection() -> impl Strategy<Value = ConnectionInfo> {
        (
            any::<IpAddr>(),
            option::of("[a-z0-9.-]{1,40}"),
            any::<u16>(),
            "psess-[a-z0-9]{1,20}",
            text(),
            any::<[u8; 32]>(),
        )
            .prop_map(|(ip, dns, port, psess, gsess, hash)| ConnectionInfo {
                ip_address: ip,
                dns_name: dns,
                port,
                player_session_id: psess,
                game_session_id: gsess,
                certificate_sha256: CertificateFingerprint(hash),
            })
    }

    fn failure_reason() -> impl Strategy<Value = FailureReason> {
        prop_oneof![
            Just(FailureReason::PlacementFailed),
            Just(FailureReason::PlacementTimedOut),
            Just(FailureReason::NoCapacity),
            Just(FailureReason::PlayerSessionFailed),
            Just(FailureReason::ModeUnavailable),
            Just(FailureReason::Internal),
            Just(FailureReason::Unknown),
        ]
    }

    fn state() -> impl Strategy<Value = TicketState> {
        prop_oneof![
            Just(TicketState::Searching),
            Just(TicketState::Placing),
            connection().prop_map(|connection| TicketState::Completed { connection }),
            Just(TicketState::TimedOut),
            Just(TicketState::Cancelled),
            (failure_reason(), text())
                .prop_map(|(reason, message)| TicketState::Failed { reason, message }),
        ]
    }

    fn a_ticket() -> impl Strategy<Value = Ticket> {
        (
            "[A-Za-z0-9-]{1,64}",
            "[a-z][a-z0-9_-]{0,31}",
            vec(player_id(), 1..=MAX_PARTY_SIZE),
            state(),
            any::<[u64; 3]>(),
            option::of(any::<u64>()),
        )
            .prop_map(|(id, mode, players, state, [c, u, e], wait)| Ticket {
                id,
                mode,
                players,
                state,
                created_at: c,
                updated_at: u,
                expires_at: e,
                estimated_wait_ms: wait,
            })
    }

    fn a_stats() -> impl Strategy<Value = Stats> {
        (float(), float(), any::<[u32; 4]>(), any::<i32>()).prop_map(
            |(rating, rating_deviation, [games, wins, losses, draws], streak)| Stats {
                rating,
                rating_deviation,
                games,
                wins,
                losses,
                draws,
                streak,
            },
        )
    }

    fn an_entry() -> impl Strategy<Value = LeaderboardEntry> {
        (
            1..u64::MAX,
            player_id(),
            option::of(text()),
            float(),
            any::<[u32; 3]>(),
        )
            .prop_map(
                |(rank, player_id, display_name, rating, [games, wins, losses])| LeaderboardEntry {
                    rank,
                    player_id,
                    display_name,
                    rating,
                    games,
                    wins,
                    losses,
                },
            )
    }

    fn a_recent_match() -> impl Strategy<Value = RecentMatch> {
        (
            (text(), "[a-z][a-z0-9_-]{0,31}", option::of("[a-z0-9]{1,8}")),
            (
                any::<u64>(),
                any::<u32>(),
                option::of(text()),
                option::of(any::<i64>()),
            ),
            (float(), float(), any::<bool>()),
            prop_oneof![
                Just(MatchOutcome::Win),
                Just(MatchOutcome::Loss),
                Just(MatchOutcome::Draw)
            ],
        )
            .prop_map(
                |(
                    (match_id, mode, season),
                    (ended_at, placement, team, score),
                    (rating_change, rating_after, left_early),
                    outcome,
                )| RecentMatch {
                    match_id,
                    mode,
                    season,
                    ended_at,
                    outcome,
                    placement,
                    team,
                    score,
                    rating_change,
                    rating_after,
                    left_early,
                },
            )
    }

    fn round_trip<T>(value: &T) -> Result<(), TestCaseError>
    where
        T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let text = serde_json::to_string(value).expect("serializes");
        let back: T = serde_json::from_str(&text).expect("reads its own JSON");
        prop_assert_eq!(&back, value, "via {}", text);
        Ok(())
    }

    proptest! {
        #[test]
        fn create_request_round_trips_and_is_valid(request in create_request()) {
            round_trip(&request)?;
            prop_assert_eq!(request.validate("the-caller"), Ok(()));
            let body = serde_json::to_vec(&request).unwrap();
            prop_assert!(body.len() <= MAX_REQUEST_BODY_BYTES);
        }

        #[test]
        fn ticket_and_event_round_trip(ticket in a_ticket(), seq in any::<u64>()) {
            round_trip(&ticket)?;
            let status = ticket.state.status().as_str();
            let json = serde_json::to_value(&ticket).unwrap();
            prop_assert_eq!(&json["state"]["status"], status);
            round_trip(&TicketEvent { seq, ticket })?;
        }

        #[test]
        fn error_body_round_trips(
            code in proptest::sample::select(ErrorCode::ALL.to_vec()),
            message in text(),
        ) {
            round_trip(&ErrorBody::new(code, message))?;
        }

        #[test]
        fn leaderboard_responses_round_trip(
            board in board(),
            total in any::<u64>(),
            entries in vec(an_entry(), 0..20),
            player in player_id(),
        ) {
            let entry = entries.first().cloned();
            round_trip(&LeaderboardPage { board: board.clone(), total_players: total, entries })?;
            round_trip(&PlayerRank { board, total_players: total, player_id: player, entry })?;
        }

        #[test]
        fn friends_query_round_trips(
            board in board(),
            players in vec(player_id(), 0..=MAX_FRIENDS),
        ) {
            let query = FriendsQuery {
                season: board.season,
                mode: board.mode,
                players: PlayerIdList(players),
            };
            round_trip(&query)?;
        }

        #[test]
        fn profile_and_matches_round_trip(
            player in player_id(),
            name in option::of(text()),
            overall in a_stats(),
            boards in vec((board(), a_stats()), 0..6),
            times in (option::of(any::<u64>()), any::<u64>()),
            matches in vec(a_recent_match(), 0..10),
        ) {
            let profile = Profile {
                player_id: player.clone(),
                display_name: name,
                overall,
                boards: boards
                    .into_iter()
                    .map(|(board, stats)| BoardStats { board, stats })
                    .collect(),
                last_match_at: times.0,
                updated_at: times.1,
            };
            round_trip(&profile)?;
            round_trip(&RecentMatches { player_id: player, matches })?;
        }

        #[test]
        fn stats_round_trip(
            at in any::<u64>(),
            window_secs in any::<u32>(),
            modes in vec(
                ("[a-z][a-z0-9_-]{0,31}", any::<[u32; 3]>(), option::of(any::<u64>())),
                0..8,
            ),
        ) {
            let stats = MatchmakingStats {
                at,
                window_secs,
                modes: modes
                    .into_iter()
                    .map(|(mode, [tickets, players, matches], median)| ModeQueueStats {
                        mode,
                        tickets_searching: tickets,
                        players_searching: players,
                        median_wait_ms: median,
                        matches_started: matches,
                    })
                    .collect(),
            };
            round_trip(&stats)?;
        }
    }
}
