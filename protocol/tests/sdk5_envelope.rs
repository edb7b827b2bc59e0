//! `protocol::sdk5` envelope: the §3.2 classification rules (including the cases where a
//! push action is *not* a push), the typed decode errors and the 400 a service sends back
//! for them, the §3.1 status-code mapping, and properties over arbitrary input: nothing
//! panics, classification always agrees with the rules, and whatever parses re-encodes to
//! itself.

use protocol::sdk5::*;
use serde_json::{Map, Value, json};

/// Parses JSON text produced by the codec.
fn value(text: &str) -> Value {
    serde_json::from_str(text).expect("codec output is JSON")
}

/// The classification as a short tag, for table-driven tests.
fn kind(text: &str) -> &'static str {
    match classify(text) {
        Ok(Inbound::ErrorResponse(_)) => "error",
        Ok(Inbound::Push(_)) => "push",
        Ok(Inbound::Response(_)) => "response",
        Err(_) => "invalid",
    }
}

mod sdk5_classify {
    use super::*;

    /// Every row of §3.2, including the tricky ones.
    #[test]
    fn rule_table() {
        let cases = [
            // Rule 1 wins over the push actions.
            (
                r#"{"Action":"CreateGameSession","RequestId":"r","StatusCode":400}"#,
                "error",
            ),
            (
                r#"{"Action":"TerminateProcess","RequestId":"r","TerminationTime":1}"#,
                "error",
            ),
            (
                r#"{"Action":"RefreshConnection","RequestId":"r","StatusCode":null}"#,
                "error",
            ),
            (
                r#"{"Action":"UpdateGameSession","RequestId":"r","StatusCode":201}"#,
                "error",
            ),
            // Rule 1 needs a non-empty RequestId.
            (
                r#"{"Action":"TerminateProcess","StatusCode":500,"TerminationTime":1}"#,
                "push",
            ),
            (
                r#"{"Action":"TerminateProcess","RequestId":"","TerminationTime":1}"#,
                "push",
            ),
            (
                r#"{"Action":"TerminateProcess","RequestId":null,"TerminationTime":1}"#,
                "push",
            ),
            (
                r#"{"Action":"TerminateProcess","RequestId":"r","StatusCode":200}"#,
                "push",
            ),
            // Rule 3: anything else, whatever the Action.
            (
                r#"{"Action":"AcceptPlayerSession","RequestId":"r","StatusCode":200}"#,
                "response",
            ),
            (r#"{"RequestId":"r","StatusCode":200}"#, "response"),
            (
                r#"{"Action":"SomethingNew","RequestId":"r","StatusCode":200}"#,
                "response",
            ),
            (
                r#"{"Action":"terminateprocess","StatusCode":200}"#,
                "response",
            ),
            (
                r#"{"Action":"AcceptPlayerSession","StatusCode":404}"#,
                "response",
            ),
            (r#"{}"#, "response"),
            // A non-200 response to a request is an error even without Action.
            (r#"{"RequestId":"r","StatusCode":500}"#, "error"),
            (r#"{"RequestId":"r"}"#, "error"),
        ];
        for (text, expected) in cases {
            assert_eq!(kind(text), expected, "{text}");
        }
    }

    /// An error response is not decoded as a push, so a bad push body does not matter.
    #[test]
    fn error_response_ignores_push_body() {
        let text = r#"{"Action":"TerminateProcess","RequestId":"r","StatusCode":429,"ErrorMessage":"slow down","TerminationTime":"soon"}"#;
        let Ok(Inbound::ErrorResponse(frame)) = classify(text) else {
            panic!("rule 1")
        };
        assert_eq!(frame.action, "TerminateProcess");
        assert_eq!(frame.error_kind(), Some(ServiceErrorKind::TooManyRequests));
        assert_eq!(frame.error_message.as_deref(), Some("slow down"));
        assert_eq!(frame.body.get("TerminationTime"), Some(&json!("soon")));
    }

    #[test]
    fn bad_push_body_is_a_bad_field() {
        let err =
            classify(r#"{"Action":"TerminateProcess","TerminationTime":"soon"}"#).unwrap_err();
        assert!(
            matches!(&err, Sdk5Error::BadField { action, request_id: None, .. } if action == "TerminateProcess")
        );
        let err =
            classify(r#"{"Action":"CreateGameSession","StatusCode":200,"GameProperties":{"a":1}}"#)
                .unwrap_err();
        assert!(matches!(err, Sdk5Error::BadField { .. }));
        let err =
            classify(r#"{"Action":"UpdateGameSession","GameSession":["gs","name"]}"#).unwrap_err();
        assert!(matches!(err, Sdk5Error::BadField { .. }));
    }

    /// A response is kept raw until the client knows which type it expects; envelope keys
    /// are not part of the body.
    #[test]
    fn response_body_excludes_envelope() {
        let text = r#"{"Action":"StartMatchBackfill","RequestId":"r","StatusCode":200,"TicketId":"t","Extra":[1]}"#;
        let Ok(Inbound::Response(frame)) = classify(text) else {
            panic!("response")
        };
        let keys: Vec<&str> = frame.body.keys().map(String::as_str).collect();
        assert_eq!(keys, ["Extra", "TicketId"]);
        let body: StartMatchBackfillResult = frame.body().unwrap();
        assert_eq!(body.ticket_id, "t");
        // Wrong expected type: a typed error, not a panic.
        let Ok(Inbound::Response(frame)) =
            classify(r#"{"Action":"X","RequestId":"r","StatusCode":200,"PlayerSessions":"no"}"#)
        else {
            panic!("response")
        };
        assert!(matches!(
            frame.body::<DescribePlayerSessionsResult>(),
            Err(Sdk5Error::BadField { request_id: Some(id), .. }) if id == "r"
        ));
    }

    /// Envelope keys in a hand-built body are not written twice.
    #[test]
    fn response_to_json_skips_envelope_keys_in_body() {
        let mut frame = ResponseFrame::error("A", "r", ServiceErrorKind::NotFound, "gone");
        frame.body.insert("StatusCode".into(), json!(200));
        frame.body.insert("Detail".into(), json!("x"));
        assert_eq!(
            value(&frame.to_json()),
            json!({"Action":"A","RequestId":"r","StatusCode":404,"ErrorMessage":"gone","Detail":"x"})
        );
    }

    #[test]
    fn envelope_types_are_checked() {
        for text in [
            r#"{"Action":5}"#,
            r#"{"Action":"TerminateProcess","RequestId":{}}"#,
            r#"{"RequestId":"r","StatusCode":"200"}"#,
            r#"{"RequestId":"r","StatusCode":200.5}"#,
            r#"{"RequestId":"r","StatusCode":1e30}"#,
            r#"{"RequestId":"r","StatusCode":200,"ErrorMessage":false}"#,
        ] {
            assert!(
                matches!(classify(text), Err(Sdk5Error::BadEnvelope { .. })),
                "{text}"
            );
            assert!(
                matches!(
                    RequestFrame::parse(text),
                    Err(Sdk5Error::BadEnvelope { .. })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn not_json_or_not_an_object() {
        for text in ["", "{", "not json", "{\"Action\":}", "\u{0}"] {
            assert!(
                matches!(classify(text), Err(Sdk5Error::Json(_))),
                "{text:?}"
            );
        }
        for text in ["[]", "42", "\"TerminateProcess\"", "null", "true"] {
            assert!(
                matches!(classify(text), Err(Sdk5Error::NotAnObject)),
                "{text}"
            );
            assert!(
                matches!(RequestFrame::parse(text), Err(Sdk5Error::NotAnObject)),
                "{text}"
            );
        }
        // Deep nesting hits serde_json's recursion limit instead of the stack.
        let deep = format!("{{\"X\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(classify(&deep), Err(Sdk5Error::Json(_))));
    }
}

mod sdk5_request_errors {
    use super::*;

    #[test]
    fn missing_action() {
        for text in [
            r#"{"RequestId":"r1"}"#,
            r#"{"Action":null,"RequestId":"r1"}"#,
            r#"{"Action":"","RequestId":"r1"}"#,
        ] {
            let err = RequestFrame::parse(text).unwrap_err();
            assert!(
                matches!(&err, Sdk5Error::MissingAction { request_id: Some(id) } if id == "r1")
            );
            // The service can still answer: 400, no Action to echo.
            assert_eq!(
                value(&err.error_response().unwrap().to_json()),
                json!({"RequestId":"r1","StatusCode":400,"ErrorMessage":"frame has no Action"})
            );
        }
    }

    #[test]
    fn unknown_action_is_echoed_in_the_400() {
        let err = RequestFrame::parse(r#"{"Action":"DescribeGameSessions","RequestId":"r2"}"#)
            .unwrap_err();
        assert!(
            matches!(&err, Sdk5Error::UnknownAction { action, .. } if action == "DescribeGameSessions")
        );
        assert_eq!(err.action_name(), Some("DescribeGameSessions"));
        let reply = err.error_response().unwrap();
        assert_eq!(reply.action, "DescribeGameSessions");
        assert_eq!(reply.request_id, "r2");
        assert_eq!(reply.error_kind(), Some(ServiceErrorKind::BadRequest));
        // And the client sees it as an error response to r2.
        assert!(
            matches!(classify(&reply.to_json()), Ok(Inbound::ErrorResponse(f)) if f.request_id == "r2")
        );
    }

    #[test]
    fn push_action_is_not_a_request() {
        let err =
            RequestFrame::parse(r#"{"Action":"CreateGameSession","RequestId":"r3"}"#).unwrap_err();
        assert!(matches!(
            err,
            Sdk5Error::UnexpectedAction {
                action: Action::CreateGameSession,
                request_id: Some(_)
            }
        ));
    }

    #[test]
    fn missing_request_id_cannot_be_answered() {
        for text in [
            r#"{"Action":"HeartbeatServerProcess","HealthStatus":true}"#,
            r#"{"Action":"HeartbeatServerProcess","RequestId":"","HealthStatus":true}"#,
        ] {
            let err = RequestFrame::parse(text).unwrap_err();
            assert!(matches!(
                err,
                Sdk5Error::MissingRequestId {
                    action: Action::HeartbeatServerProcess
                }
            ));
            assert_eq!(err.request_id(), None);
            assert!(err.error_response().is_none());
        }
    }

    #[test]
    fn bad_fields() {
        for text in [
            r#"{"Action":"ActivateServerProcess","RequestId":"r","Port":"7777"}"#,
            r#"{"Action":"ActivateServerProcess","RequestId":"r","Port":70000}"#,
            r#"{"Action":"ActivateServerProcess","RequestId":"r","Port":-1}"#,
            r#"{"Action":"ActivateServerProcess","RequestId":"r","LogPaths":"/logs"}"#,
            r#"{"Action":"ActivateServerProcess","RequestId":"r","LogPaths":[1]}"#,
            r#"{"Action":"HeartbeatServerProcess","RequestId":"r","HealthStatus":"yes"}"#,
            r#"{"Action":"DescribePlayerSessions","RequestId":"r","Limit":-5}"#,
            r#"{"Action":"DescribePlayerSessions","RequestId":"r","PlayerSessionStatusFilter":3}"#,
            r#"{"Action":"UpdatePlayerSessionCreationPolicy","RequestId":"r","PlayerSessionPolicy":1}"#,
            r#"{"Action":"StartMatchBackfill","RequestId":"r","Players":{}}"#,
            r#"{"Action":"StartMatchBackfill","RequestId":"r","Players":[{"PlayerAttributes":{"a":{"AttrType":"DOUBLE","N":"23"}}}]}"#,
            r#"{"Action":"StartMatchBackfill","RequestId":"r","Players":[{"LatencyInMs":{"us-east-1":-3}}]}"#,
            // serde's derive would fill a struct from an array by position; no SDK does.
            r#"{"Action":"StartMatchBackfill","RequestId":"r","Players":[["p1","red"]]}"#,
            r#"{"Action":"StartMatchBackfill","RequestId":"r","Players":[{"PlayerAttributes":{"a":["STRING","x"]}}]}"#,
        ] {
            let err = RequestFrame::parse(text).unwrap_err();
            assert!(
                matches!(&err, Sdk5Error::BadField { request_id: Some(id), .. } if id == "r"),
                "{text}: {err}"
            );
            let reply = err.error_response().unwrap();
            assert_eq!(reply.status_code, Some(400));
            assert!(!reply.action.is_empty());
        }
    }
}

mod sdk5_status_codes {
    use super::*;

    #[test]
    fn sdk_error_mapping() {
        let cases = [
            (400, ServiceErrorKind::BadRequest),
            (401, ServiceErrorKind::Unauthorized),
            (403, ServiceErrorKind::Forbidden),
            (404, ServiceErrorKind::NotFound),
            (409, ServiceErrorKind::Conflict),
            (429, ServiceErrorKind::TooManyRequests),
            (402, ServiceErrorKind::BadRequest),
            (418, ServiceErrorKind::BadRequest),
            (499, ServiceErrorKind::BadRequest),
            (500, ServiceErrorKind::InternalService),
            (503, ServiceErrorKind::InternalService),
            (302, ServiceErrorKind::InternalService),
            (0, ServiceErrorKind::InternalService),
            (-1, ServiceErrorKind::InternalService),
            (600, ServiceErrorKind::InternalService),
        ];
        for (code, expected) in cases {
            assert_eq!(ServiceErrorKind::from_status_code(code), expected, "{code}");
        }
    }

    /// Each kind a service sends maps back to itself on the client.
    #[test]
    fn kinds_round_trip_through_status_codes() {
        for kind in [
            ServiceErrorKind::BadRequest,
            ServiceErrorKind::Unauthorized,
            ServiceErrorKind::Forbidden,
            ServiceErrorKind::NotFound,
            ServiceErrorKind::Conflict,
            ServiceErrorKind::TooManyRequests,
            ServiceErrorKind::InternalService,
        ] {
            let text = ResponseFrame::error("AcceptPlayerSession", "r", kind, "m").to_json();
            let Ok(Inbound::ErrorResponse(frame)) = classify(&text) else {
                panic!("error response")
            };
            assert_eq!(frame.error_kind(), Some(kind));
            assert!(kind.exception_name().ends_with("Exception"));
        }
    }

    #[test]
    fn missing_status_is_internal_service() {
        let Ok(Inbound::ErrorResponse(frame)) = classify(r#"{"Action":"A","RequestId":"r"}"#)
        else {
            panic!("rule 1")
        };
        let error = frame.service_error().unwrap();
        assert_eq!(error.kind, ServiceErrorKind::InternalService);
        assert_eq!(
            error.to_string(),
            "InternalServiceException (StatusCode missing): "
        );
        assert!(!frame.is_success());
    }
}

mod sdk5_proptest {
    use super::*;
    use proptest::prelude::*;

    const FIELD_NAMES: &[&str] = &[
        "GameSessionId",
        "PlayerSessionId",
        "PlayerId",
        "Port",
        "LogPaths",
        "SdkVersion",
        "SdkLanguage",
        "SdkToolName",
        "HealthStatus",
        "PlayerSessionPolicy",
        "Limit",
        "NextToken",
        "PlayerSessionStatusFilter",
        "GameSessionArn",
        "TicketId",
        "Players",
        "PlayerAttributes",
        "AttrType",
        "S",
        "N",
        "SL",
        "SDM",
        "LatencyInMs",
        "Team",
        "RoleArn",
        "GameSession",
        "GameProperties",
        "TerminationTime",
        "UpdateReason",
        "Status",
        "MaximumPlayerSessionCount",
        "AuthToken",
        "MatchmakerData",
    ];

    fn json_leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            ".{0,8}".prop_map(Value::from),
            prop::sample::select(vec!["STRING", "DOUBLE", "ACTIVE", "NOT_SET", "ACCEPT_ALL"])
                .prop_map(Value::from),
        ]
    }

    fn field_name() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(FIELD_NAMES).prop_map(str::to_owned),
            "[A-Za-z]{0,6}",
        ]
        .prop_filter("not an envelope key", |k| {
            !["Action", "RequestId", "StatusCode", "ErrorMessage"].contains(&k.as_str())
        })
    }

    fn json_value() -> impl Strategy<Value = Value> {
        json_leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(field_name(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// `None` = key absent.
    fn action_field() -> impl Strategy<Value = Option<Value>> {
        let mut names: Vec<Value> = Action::REQUESTS
            .iter()
            .chain(Action::PUSHES.iter())
            .map(|a| Value::from(a.as_str()))
            .collect();
        names.extend([json!("Unknown"), json!(""), Value::Null]);
        prop_oneof![
            4 => prop::sample::select(names).prop_map(Some),
            1 => Just(None),
            1 => json_leaf().prop_map(Some),
        ]
    }

    fn request_id_field() -> impl Strategy<Value = Option<Value>> {
        prop::sample::select(vec![
            None,
            Some(Value::Null),
            Some(json!("")),
            Some(json!("id-1")),
            Some(json!(5)),
        ])
    }

    fn status_field() -> impl Strategy<Value = Option<Value>> {
        prop::sample::select(vec![
            None,
            Some(Value::Null),
            Some(json!(200)),
            Some(json!(400)),
            Some(json!(500)),
            Some(json!(0)),
            Some(json!("200")),
            Some(json!(200.5)),
        ])
    }

    prop_compose! {
        fn frame()(
            action in action_field(),
            request_id in request_id_field(),
            status in status_field(),
            fields in prop::collection::btree_map(field_name(), json_value(), 0..6),
        ) -> (Option<Value>, Option<Value>, Option<Value>, String) {
            let mut object: Map<String, Value> = fields.into_iter().collect();
            for (key, field) in [("Action", &action), ("RequestId", &request_id), ("StatusCode", &status)] {
                if let Some(v) = field {
                    object.insert(key.to_owned(), v.clone());
                }
            }
            (action, request_id, status, Value::Object(object).to_string())
        }
    }

    /// The §3.2 rules restated over the generated envelope: `None` = BadEnvelope expected.
    fn expected_kind(
        action: &Option<Value>,
        id: &Option<Value>,
        status: &Option<Value>,
    ) -> Option<&'static str> {
        let action = match action {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => return None,
        };
        let has_id = match id {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.is_empty(),
            Some(_) => return None,
        };
        let status = match status {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_i64()?),
        };
        if status != Some(200) && has_id {
            Some("error")
        } else if action
            .and_then(Action::from_name)
            .is_some_and(Action::is_push)
        {
            Some("push")
        } else {
            Some("response")
        }
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            let _ = classify(&text);
            let _ = RequestFrame::parse(&text);
            let _ = MatchmakerData::parse(&text);
        }

        #[test]
        fn json_like_text_never_panics(text in r#"[{}\[\]",:0-9a-zA-Z. \\-]{0,64}"#) {
            let _ = classify(&text);
            let _ = RequestFrame::parse(&text);
            let _ = MatchmakerData::parse(&text);
        }

        #[test]
        fn classification_follows_the_rules((action, id, status, text) in frame()) {
            let got = kind(&text);
            match expected_kind(&action, &id, &status) {
                None => {
                    let bad_envelope = matches!(classify(&text), Err(Sdk5Error::BadEnvelope { .. }));
                    prop_assert!(bad_envelope, "expected BadEnvelope for {}", text);
                }
                // A push whose random body does not fit is a typed error.
                Some("push") => {
                    let bad_body = matches!(classify(&text), Err(Sdk5Error::BadField { .. }));
                    prop_assert!(got == "push" || bad_body, "expected a push for {}", text);
                }
                Some(expected) => prop_assert_eq!(got, expected),
            }
        }

        #[test]
        fn parsed_requests_reencode_to_themselves((_a, _i, _s, text) in frame()) {
            match RequestFrame::parse(&text) {
                Ok(frame) => prop_assert_eq!(RequestFrame::parse(&frame.to_json()).unwrap(), frame),
                Err(err) => {
                    if let Some(reply) = err.error_response() {
                        // The 400 goes back to the same RequestId and is an error there.
                        let Ok(Inbound::ErrorResponse(back)) = classify(&reply.to_json()) else {
                            return Err(TestCaseError::fail("400 reply is not an error response"));
                        };
                        prop_assert_eq!(back.request_id.as_str(), err.request_id().unwrap());
                        prop_assert_eq!(back.error_kind(), Some(ServiceErrorKind::BadRequest));
                    }
                }
            }
        }

        #[test]
        fn parsed_pushes_reencode_to_themselves((_a, _i, _s, text) in frame()) {
            if let Ok(Inbound::Push(push)) = classify(&text) {
                prop_assert_eq!(classify(&push.to_json()).unwrap(), Inbound::Push(push));
            }
        }
    }
}
