//! Every validation rule of `protocol::http`: a good value passes, and each kind of bad
//! value fails with the variant naming that rule.
//!
//! Tests sit in `http_*` modules so that `cargo test -p protocol http` selects them.

use std::collections::BTreeMap;

use protocol::http::*;

fn request() -> CreateTicketRequest {
    CreateTicketRequest {
        mode: "duel".into(),
        party: vec!["p-2".into()],
        latencies_ms: BTreeMap::from([("us-east-1".into(), 42)]),
        attributes: BTreeMap::from([("platform".into(), AttributeValue::String("pc".into()))]),
    }
}

fn latency_map(pairs: &[(&str, u32)]) -> BTreeMap<String, u32> {
    pairs.iter().map(|&(r, ms)| (r.to_owned(), ms)).collect()
}

fn attrs(pairs: Vec<(&str, AttributeValue)>) -> BTreeMap<String, AttributeValue> {
    pairs.into_iter().map(|(n, v)| (n.to_owned(), v)).collect()
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::String(text.into())
}

mod http_validate_names {
    use super::*;

    #[test]
    fn mode() {
        for good in [
            "duel",
            "ranked-2v2",
            "ffa_8",
            "a",
            &"m".repeat(MAX_MODE_LEN),
        ] {
            assert_eq!(validate_mode(good), Ok(()), "{good}");
        }
        assert_eq!(
            validate_mode(""),
            Err(ValidationError::ModeLength { len: 0 })
        );
        assert_eq!(
            validate_mode(&"m".repeat(MAX_MODE_LEN + 1)),
            Err(ValidationError::ModeLength {
                len: MAX_MODE_LEN + 1
            })
        );
        for bad in [
            "Duel",
            "2v2",
            "-duel",
            "_duel",
            "du el",
            "duel:ranked",
            "du{el}",
            "dü",
        ] {
            assert_eq!(
                validate_mode(bad),
                Err(ValidationError::ModeCharset),
                "{bad}"
            );
        }
    }

    #[test]
    fn season() {
        for good in [
            "2025-spring",
            "s7",
            "7",
            "season_1",
            &"9".repeat(MAX_SEASON_LEN),
        ] {
            assert_eq!(validate_season(good), Ok(()), "{good}");
        }
        assert_eq!(
            validate_season(""),
            Err(ValidationError::SeasonLength { len: 0 })
        );
        assert_eq!(
            validate_season(&"s".repeat(MAX_SEASON_LEN + 1)),
            Err(ValidationError::SeasonLength {
                len: MAX_SEASON_LEN + 1
            })
        );
        for bad in ["Spring", "-s7", "s 7", "s:7", "s/7"] {
            assert_eq!(
                validate_season(bad),
                Err(ValidationError::SeasonCharset),
                "{bad}"
            );
        }
    }

    #[test]
    fn player_id() {
        let good = [
            "p-1",
            "0b6d1c6e-6c4f-4a3e-9d0f-3f3e0b1a2c3d",
            "auth0|5f7c8ec7c33c6c004bbafe82",
            "google-oauth2|104355873264382041155",
            "001234.5f3a7e0b9c1d4e2f8a6b0c9d7e5f3a1b.0912",
            "76561197960287930",
            "ann@example.com",
            "steam:76561197960287930",
            "a",
        ];
        for id in good {
            assert_eq!(validate_player_id(id), Ok(()), "{id}");
        }
        assert_eq!(validate_player_id(&"x".repeat(MAX_PLAYER_ID_LEN)), Ok(()));
        assert_eq!(
            validate_player_id(""),
            Err(ValidationError::PlayerIdLength { len: 0 })
        );
        assert_eq!(
            validate_player_id(&"x".repeat(MAX_PLAYER_ID_LEN + 1)),
            Err(ValidationError::PlayerIdLength {
                len: MAX_PLAYER_ID_LEN + 1
            })
        );
        for bad in [
            "p,1", "p/1", "p 1", "p?1", "p#1", "p%201", "{p1}", "p\n1", "jörg", "p+1",
        ] {
            assert_eq!(
                validate_player_id(bad),
                Err(ValidationError::PlayerIdCharset),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn ticket_id() {
        for good in [
            "5f0c2a1e-8d7b-4c1a-9e55-2b0f3c4d5e6f",
            "T1",
            &"a".repeat(MAX_TICKET_ID_LEN),
        ] {
            assert_eq!(validate_ticket_id(good), Ok(()), "{good}");
        }
        assert_eq!(
            validate_ticket_id(""),
            Err(ValidationError::TicketIdLength { len: 0 })
        );
        assert_eq!(
            validate_ticket_id(&"a".repeat(MAX_TICKET_ID_LEN + 1)),
            Err(ValidationError::TicketIdLength {
                len: MAX_TICKET_ID_LEN + 1
            })
        );
        for bad in ["t_1", "t.1", "t/1", "t 1", "..", "t%2F1"] {
            assert_eq!(
                validate_ticket_id(bad),
                Err(ValidationError::TicketIdCharset),
                "{bad}"
            );
        }
    }

    #[test]
    fn region() {
        let longest = format!("us-{}", "1".repeat(MAX_REGION_LEN - 3));
        for good in [
            "us-east-1",
            "ap-southeast-2",
            "us-west-2-lax-1",
            "custom-home",
            &longest,
        ] {
            assert_eq!(validate_region(good), Ok(()), "{good}");
        }
        let too_long = format!("us-{}", "1".repeat(MAX_REGION_LEN - 2));
        for bad in [
            "",
            "local",
            "US-EAST-1",
            "us_east_1",
            "us-east-",
            "-us-east-1",
            "us--east-1",
            "1us-east",
            "us-east-1 ",
            "us-ëast-1",
            too_long.as_str(),
        ] {
            assert!(
                matches!(
                    validate_region(bad),
                    Err(ValidationError::RegionFormat { .. })
                ),
                "{bad:?}"
            );
        }
        // The error quotes a bounded excerpt, not the whole value.
        let huge = "x".repeat(10_000);
        let Err(ValidationError::RegionFormat { region }) = validate_region(&huge) else {
            panic!("accepted a 10,000-byte region");
        };
        assert_eq!(region.len(), 40);
    }
}

mod http_validate_ticket {
    use super::*;

    #[test]
    fn a_good_request_passes() {
        assert_eq!(request().validate("p-1"), Ok(()));
        let solo = CreateTicketRequest {
            party: vec![],
            attributes: BTreeMap::new(),
            ..request()
        };
        assert_eq!(solo.validate("p-1"), Ok(()));
    }

    #[test]
    fn request_checks_each_field() {
        let bad_mode = CreateTicketRequest {
            mode: "Duel".into(),
            ..request()
        };
        assert_eq!(bad_mode.validate("p-1"), Err(ValidationError::ModeCharset));
        let bad_party = CreateTicketRequest {
            party: vec!["p-1".into()],
            ..request()
        };
        assert_eq!(
            bad_party.validate("p-1"),
            Err(ValidationError::PartyIncludesCaller)
        );
        let bad_latency = CreateTicketRequest {
            latencies_ms: BTreeMap::new(),
            ..request()
        };
        assert_eq!(
            bad_latency.validate("p-1"),
            Err(ValidationError::NoLatencies)
        );
        let bad_attribute = CreateTicketRequest {
            attributes: attrs(vec![("skill", AttributeValue::Number(9000.0))]),
            ..request()
        };
        assert_eq!(
            bad_attribute.validate("p-1"),
            Err(ValidationError::AttributeReserved {
                name: "skill".into()
            })
        );
    }

    #[test]
    fn party() {
        let full: Vec<String> = (1..MAX_PARTY_SIZE).map(|i| format!("p-{i}")).collect();
        assert_eq!(validate_party("me", &full), Ok(()));
        assert_eq!(validate_party("me", &[]), Ok(()));

        let too_many: Vec<String> = (1..=MAX_PARTY_SIZE).map(|i| format!("p-{i}")).collect();
        assert_eq!(
            validate_party("me", &too_many),
            Err(ValidationError::PartyTooLarge {
                size: MAX_PARTY_SIZE + 1
            })
        );
        assert_eq!(
            validate_party("me", &["p-1".into(), "me".into()]),
            Err(ValidationError::PartyIncludesCaller)
        );
        assert_eq!(
            validate_party("me", &["p-1".into(), "p-2".into(), "p-1".into()]),
            Err(ValidationError::PartyDuplicate { index: 2 })
        );
        assert_eq!(
            validate_party("me", &["p-1".into(), "p 2".into()]),
            Err(ValidationError::PartyMember {
                index: 1,
                source: Box::new(ValidationError::PlayerIdCharset)
            })
        );
        assert_eq!(
            validate_party("me", &[String::new()]),
            Err(ValidationError::PartyMember {
                index: 0,
                source: Box::new(ValidationError::PlayerIdLength { len: 0 })
            })
        );
    }

    #[test]
    fn latencies() {
        let full: BTreeMap<String, u32> = (0..MAX_LATENCY_REGIONS)
            .map(|i| (format!("custom-site{i}"), 50))
            .collect();
        assert_eq!(validate_latencies(&full), Ok(()));
        assert_eq!(
            validate_latencies(&latency_map(&[
                ("us-east-1", MIN_LATENCY_MS),
                ("eu-west-1", MAX_LATENCY_MS)
            ])),
            Ok(())
        );

        assert_eq!(
            validate_latencies(&BTreeMap::new()),
            Err(ValidationError::NoLatencies)
        );
        let mut too_many = full.clone();
        too_many.insert("custom-one-more".into(), 50);
        assert_eq!(
            validate_latencies(&too_many),
            Err(ValidationError::TooManyRegions {
                count: MAX_LATENCY_REGIONS + 1
            })
        );
        assert_eq!(
            validate_latencies(&latency_map(&[("US-EAST-1", 42)])),
            Err(ValidationError::RegionFormat {
                region: "US-EAST-1".into()
            })
        );
        for ms in [0, MAX_LATENCY_MS + 1, u32::MAX] {
            assert_eq!(
                validate_latencies(&latency_map(&[("us-east-1", 42), ("eu-west-1", ms)])),
                Err(ValidationError::LatencyOutOfRange {
                    region: "eu-west-1".into(),
                    ms
                }),
                "{ms}"
            );
        }
    }

    #[test]
    fn attributes() {
        let name = |i: usize| format!("attr{i}");
        let full: BTreeMap<String, AttributeValue> =
            (0..MAX_ATTRIBUTES).map(|i| (name(i), s("x"))).collect();
        assert_eq!(validate_attributes(&full), Ok(()));
        let good = attrs(vec![
            ("platform", s("pc")),
            ("gameMode", s("")),
            ("level", AttributeValue::Number(-3.5)),
            (
                "maps",
                AttributeValue::StringList(vec!["dust".into(); MAX_ATTRIBUTE_LIST_LEN]),
            ),
            ("long", s(&"é".repeat(MAX_ATTRIBUTE_STRING_LEN / 2))),
            (&"a".repeat(MAX_ATTRIBUTE_NAME_LEN), s("x")),
        ]);
        assert_eq!(validate_attributes(&good), Ok(()));

        let mut too_many = full;
        too_many.insert(name(MAX_ATTRIBUTES), s("x"));
        assert_eq!(
            validate_attributes(&too_many),
            Err(ValidationError::TooManyAttributes {
                count: MAX_ATTRIBUTES + 1
            })
        );

        let long_name = "a".repeat(MAX_ATTRIBUTE_NAME_LEN + 1);
        for bad in [
            "",
            "1st",
            "_x",
            "pre-ferred",
            "a b",
            "naïve",
            long_name.as_str(),
        ] {
            assert!(
                matches!(
                    validate_attributes(&attrs(vec![(bad, s("x"))])),
                    Err(ValidationError::AttributeName { .. })
                ),
                "{bad:?}"
            );
        }
        for reserved in ["rating", "rating_deviation", "skill", "Skill", "RATING"] {
            assert_eq!(
                validate_attributes(&attrs(vec![(reserved, AttributeValue::Number(1.0))])),
                Err(ValidationError::AttributeReserved {
                    name: reserved.into()
                }),
                "{reserved}"
            );
        }

        let long = "x".repeat(MAX_ATTRIBUTE_STRING_LEN + 1);
        assert_eq!(
            validate_attributes(&attrs(vec![("map", s(&long))])),
            Err(ValidationError::AttributeStringTooLong {
                name: "map".into(),
                len: MAX_ATTRIBUTE_STRING_LEN + 1
            })
        );
        assert_eq!(
            validate_attributes(&attrs(vec![(
                "maps",
                AttributeValue::StringList(vec!["ok".into(), long.clone()])
            )])),
            Err(ValidationError::AttributeStringTooLong {
                name: "maps".into(),
                len: MAX_ATTRIBUTE_STRING_LEN + 1
            })
        );
        for control in ["a\nb", "\0", "tab\there", "\u{7f}", "\u{85}"] {
            assert_eq!(
                validate_attributes(&attrs(vec![("map", s(control))])),
                Err(ValidationError::AttributeStringControl { name: "map".into() }),
                "{control:?}"
            );
        }
        assert_eq!(
            validate_attributes(&attrs(vec![(
                "maps",
                AttributeValue::StringList(vec!["ok".into(), "a\rb".into()])
            )])),
            Err(ValidationError::AttributeStringControl {
                name: "maps".into()
            })
        );
        assert_eq!(
            validate_attributes(&attrs(vec![(
                "maps",
                AttributeValue::StringList(vec!["m".into(); MAX_ATTRIBUTE_LIST_LEN + 1])
            )])),
            Err(ValidationError::AttributeListTooLong {
                name: "maps".into(),
                len: MAX_ATTRIBUTE_LIST_LEN + 1
            })
        );
        for n in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(
                validate_attributes(&attrs(vec![("level", AttributeValue::Number(n))])),
                Err(ValidationError::AttributeNumberNotFinite {
                    name: "level".into()
                }),
                "{n}"
            );
        }
    }
}

mod http_validate_queries {
    use super::*;

    #[test]
    fn board() {
        assert_eq!(BoardId::GLOBAL.validate(), Ok(()));
        let good = BoardId {
            season: Some("2025-spring".into()),
            mode: Some("duel".into()),
        };
        assert_eq!(good.validate(), Ok(()));
        let bad_season = BoardId {
            season: Some("".into()),
            ..good.clone()
        };
        assert_eq!(
            bad_season.validate(),
            Err(ValidationError::SeasonLength { len: 0 })
        );
        let bad_mode = BoardId {
            mode: Some("Duel".into()),
            ..good
        };
        assert_eq!(bad_mode.validate(), Err(ValidationError::ModeCharset));

        let query = BoardQuery {
            season: Some("S7".into()),
            mode: None,
        };
        assert_eq!(query.validate(), Err(ValidationError::SeasonCharset));
        assert_eq!(BoardQuery::default().validate(), Ok(()));
    }

    #[test]
    fn top() {
        for limit in [None, Some(1), Some(MAX_TOP_LIMIT)] {
            let query = TopQuery {
                limit,
                offset: Some(u32::MAX),
                ..TopQuery::default()
            };
            assert_eq!(query.validate(), Ok(()), "{limit:?}");
        }
        for limit in [0, MAX_TOP_LIMIT + 1] {
            let query = TopQuery {
                limit: Some(limit),
                ..TopQuery::default()
            };
            assert_eq!(
                query.validate(),
                Err(ValidationError::LimitOutOfRange {
                    limit,
                    max: MAX_TOP_LIMIT
                })
            );
        }
        let bad_mode = TopQuery {
            mode: Some("".into()),
            ..TopQuery::default()
        };
        assert_eq!(
            bad_mode.validate(),
            Err(ValidationError::ModeLength { len: 0 })
        );
    }

    #[test]
    fn around() {
        for radius in [None, Some(0), Some(MAX_AROUND_RADIUS)] {
            let query = AroundQuery {
                radius,
                ..AroundQuery::default()
            };
            assert_eq!(query.validate(), Ok(()), "{radius:?}");
        }
        let query = AroundQuery {
            radius: Some(MAX_AROUND_RADIUS + 1),
            ..AroundQuery::default()
        };
        assert_eq!(
            query.validate(),
            Err(ValidationError::RadiusOutOfRange {
                radius: MAX_AROUND_RADIUS + 1
            })
        );
        let bad_season = AroundQuery {
            season: Some("s 7".into()),
            ..AroundQuery::default()
        };
        assert_eq!(bad_season.validate(), Err(ValidationError::SeasonCharset));
    }

    #[test]
    fn friends() {
        let ids = |n: usize| PlayerIdList((0..n).map(|i| format!("p-{i}")).collect());
        for players in [PlayerIdList::default(), ids(1), ids(MAX_FRIENDS)] {
            let query = FriendsQuery {
                players,
                ..FriendsQuery::default()
            };
            assert_eq!(query.validate(), Ok(()));
        }
        let query = |players: PlayerIdList| FriendsQuery {
            players,
            ..FriendsQuery::default()
        };
        assert_eq!(
            query(ids(MAX_FRIENDS + 1)).validate(),
            Err(ValidationError::TooManyFriends {
                count: MAX_FRIENDS + 1
            })
        );
        assert_eq!(
            query(PlayerIdList(vec!["p-1".into(), "p/2".into()])).validate(),
            Err(ValidationError::FriendId {
                index: 1,
                source: Box::new(ValidationError::PlayerIdCharset)
            })
        );
        assert_eq!(
            query(PlayerIdList(vec!["p-1".into(), String::new()])).validate(),
            Err(ValidationError::FriendId {
                index: 1,
                source: Box::new(ValidationError::PlayerIdLength { len: 0 })
            })
        );
        assert_eq!(
            query(PlayerIdList(vec!["p-1".into(), "p-2".into(), "p-1".into()])).validate(),
            Err(ValidationError::FriendDuplicate { index: 2 })
        );
        let bad_mode = FriendsQuery {
            mode: Some("-x".into()),
            ..query(ids(1))
        };
        assert_eq!(bad_mode.validate(), Err(ValidationError::ModeCharset));
    }

    #[test]
    fn recent_matches() {
        for limit in [None, Some(1), Some(MAX_RECENT_MATCHES)] {
            assert_eq!(RecentMatchesQuery { limit }.validate(), Ok(()), "{limit:?}");
        }
        for limit in [0, MAX_RECENT_MATCHES + 1] {
            assert_eq!(
                RecentMatchesQuery { limit: Some(limit) }.validate(),
                Err(ValidationError::LimitOutOfRange {
                    limit,
                    max: MAX_RECENT_MATCHES
                })
            );
        }
    }

    #[test]
    fn messages_name_the_rule_and_the_limit() {
        let cases = [
            (
                ValidationError::PartyTooLarge { size: 11 },
                "a party has at most 10 players including the caller, got 11",
            ),
            (
                ValidationError::PartyMember {
                    index: 3,
                    source: Box::new(ValidationError::PlayerIdLength { len: 0 }),
                },
                "party member 3: player id must be 1 to 128 bytes long, got 0",
            ),
            (
                ValidationError::LimitOutOfRange { limit: 0, max: 100 },
                "limit must be 1 to 100, got 0",
            ),
            (
                ValidationError::RegionFormat {
                    region: "useast1".into(),
                },
                "region \"useast1\" is not a region name like \"us-east-1\" (lowercase, '-'-separated, at most 64 bytes)",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
            assert_eq!(ApiError::from(err).message, text);
        }
    }
}
