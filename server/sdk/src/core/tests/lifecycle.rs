//! Process lifecycle, local refusals (§4, §6.2 "Ordering rules"), client-side frame
//! classification (§3.2) and the pushes (§5).

use protocol::sdk5::{
    Action, DescribePlayerSessions, GetFleetRoleCredentials, GetFleetRoleCredentialsResult, Player,
    PlayerSessionCreationPolicy, Request, ResponseFrame, ServiceErrorKind, StartMatchBackfill,
    StopMatchBackfill, UpdateGameSession,
};

use super::*;

const GS_ARN: &str = "arn:aws:gamelift:us-west-2::gamesession/fleet-1/gs-1";
const CONFIG_ARN: &str = "arn:aws:gamelift:us-west-2:123456789012:matchmakingconfiguration/cfg";

#[test]
fn process_ready_sends_activate_server_process_and_becomes_ready() {
    let mut h = Harness::connected();
    assert_eq!(h.core.state(), ProcessState::Connected);
    let key = h.core.process_ready(h.now, &params()).unwrap();
    let (_, frame) = h.take_send();
    let Request::ActivateServerProcess(body) = &frame.request else {
        panic!("{frame:?}")
    };
    assert_eq!(
        (body.sdk_language.as_str(), body.sdk_version.as_str()),
        ("Rust", "5.6.0")
    );
    assert_eq!(
        (body.port, body.log_paths.clone()),
        (7777, vec!["/local/game/logs".to_owned()])
    );
    assert!(matches!(
        h.core.process_ready(h.now, &params()),
        Err(SdkError::AlreadyReady)
    ));
    h.reply_ok(&frame);
    let (done, result) = h.complete();
    assert_eq!(done, key);
    assert!(result.unwrap().is_success());
    assert_eq!(h.core.state(), ProcessState::Ready);
    assert!(matches!(
        h.core.process_ready(h.now, &params()),
        Err(SdkError::AlreadyReady)
    ));
}

#[test]
fn a_failed_process_ready_may_be_retried_and_bad_ports_are_refused() {
    let mut h = Harness::connected();
    let bad = ProcessParameters {
        port: 0,
        ..params()
    };
    assert!(matches!(
        h.core.process_ready(h.now, &bad),
        Err(SdkError::InvalidArgument { field: "Port", .. })
    ));
    h.core.process_ready(h.now, &params()).unwrap();
    let (_, frame) = h.take_send();
    let conn = h.active();
    h.core.handle_text(
        h.now,
        conn,
        &frame
            .error_response(ServiceErrorKind::Conflict, "dup")
            .to_json(),
    );
    let (_, result) = h.complete();
    assert_eq!(
        result.unwrap_err().service_kind(),
        Some(ServiceErrorKind::Conflict)
    );
    assert_eq!(h.core.state(), ProcessState::Connected);
    h.core.process_ready(h.now, &params()).unwrap();
}

#[test]
fn calls_before_connecting_and_before_ready_are_refused_locally() {
    let mut h = Harness::unconnected(Jitter::fixed(0.5));
    assert!(matches!(
        h.core.process_ready(h.now, &params()),
        Err(SdkError::NotInitialized)
    ));
    let mut h = Harness::connected();
    let now = h.now;
    assert!(matches!(
        h.core.activate_game_session(now),
        Err(SdkError::GameSessionIdNotSet)
    ));
    assert!(matches!(
        h.core.accept_player_session(now, "psess-1"),
        Err(SdkError::GameSessionIdNotSet)
    ));
    assert!(matches!(
        h.core.remove_player_session(now, "psess-1"),
        Err(SdkError::GameSessionIdNotSet)
    ));
    assert!(matches!(
        h.core
            .update_player_session_creation_policy(now, PlayerSessionCreationPolicy::AcceptAll),
        Err(SdkError::GameSessionIdNotSet)
    ));
    let describe = DescribePlayerSessions {
        game_session_id: Some(GS_ARN.into()),
        ..Default::default()
    };
    assert!(matches!(
        h.core.describe_player_sessions(now, &describe),
        Err(SdkError::ProcessNotReady)
    ));
    assert!(matches!(
        h.core.get_compute_certificate(now),
        Err(SdkError::ProcessNotReady)
    ));
    let creds = GetFleetRoleCredentials {
        role_arn: "arn:aws:iam::1:role/r".into(),
        ..Default::default()
    };
    assert!(matches!(
        h.core.get_fleet_role_credentials(now, 0, &creds),
        Err(SdkError::ProcessNotReady)
    ));
    assert!(matches!(
        h.core.start_match_backfill(now, &backfill()),
        Err(SdkError::ProcessNotReady)
    ));
    assert!(matches!(
        h.core.stop_match_backfill(now, &stop()),
        Err(SdkError::ProcessNotReady)
    ));
    assert!(
        h.none(|o| matches!(o, Output::Send { .. })),
        "nothing may be sent"
    );
}

#[test]
fn create_game_session_is_ignored_before_ready() {
    let mut h = Harness::connected();
    h.push(CreateGameSession {
        game_session_id: GS_ARN.into(),
        ..Default::default()
    });
    assert!(h.none(|o| matches!(o, Output::Event(_))));
    assert_eq!(h.core.game_session_id(), None);
    h.push(UpdateGameSession::default());
    assert!(h.none(|o| matches!(o, Output::Event(_))));
}

#[test]
fn create_game_session_enables_session_calls() {
    let mut h = Harness::ready();
    h.push(CreateGameSession {
        game_session_id: GS_ARN.into(),
        game_session_name: "match".into(),
        maximum_player_session_count: 8,
        ..Default::default()
    });
    let Event::StartGameSession(session) = h.take_event() else {
        panic!()
    };
    assert_eq!(session.game_session_id, GS_ARN);
    assert_eq!(session.name, "match");
    assert_eq!(
        session.fleet_id, "fleet-1",
        "the SDK fills in its own fleet id"
    );
    assert_eq!(h.core.state(), ProcessState::HostingGameSession);
    assert_eq!(h.core.game_session_id(), Some(GS_ARN));

    h.core.activate_game_session(h.now).unwrap();
    let (_, frame) = h.take_send();
    assert_eq!(frame.action(), Action::ActivateGameSession);
    assert!(frame.to_json().contains(GS_ARN));

    h.core.accept_player_session(h.now, "psess-1").unwrap();
    let (_, frame) = h.take_send();
    let Request::AcceptPlayerSession(body) = frame.request else {
        panic!()
    };
    assert_eq!(
        (
            body.game_session_id.as_str(),
            body.player_session_id.as_str()
        ),
        (GS_ARN, "psess-1")
    );

    h.core
        .update_player_session_creation_policy(h.now, PlayerSessionCreationPolicy::DenyAll)
        .unwrap();
    assert_eq!(
        h.take_send().1.action(),
        Action::UpdatePlayerSessionCreationPolicy
    );
}

#[test]
fn player_session_ids_are_validated() {
    let mut h = Harness::hosting();
    for bad in ["", "psess 1", "psess_1", &"p".repeat(257)] {
        let result = h.core.accept_player_session(h.now, bad);
        assert!(
            matches!(
                result,
                Err(SdkError::InvalidArgument {
                    field: "PlayerSessionId",
                    ..
                })
            ),
            "{bad:?}"
        );
        let result = h.core.remove_player_session(h.now, bad);
        assert!(
            matches!(result, Err(SdkError::InvalidArgument { .. })),
            "{bad:?}"
        );
    }
    h.core.remove_player_session(h.now, "psess-a.b-1").unwrap();
}

#[test]
fn describe_player_sessions_needs_exactly_one_selector() {
    let mut h = Harness::ready();
    let none = DescribePlayerSessions::default();
    assert!(matches!(
        h.core.describe_player_sessions(h.now, &none),
        Err(SdkError::InvalidArgument { .. })
    ));
    let two = DescribePlayerSessions {
        player_id: Some("p".into()),
        player_session_id: Some("psess-1".into()),
        ..Default::default()
    };
    assert!(matches!(
        h.core.describe_player_sessions(h.now, &two),
        Err(SdkError::InvalidArgument { .. })
    ));
    let one = DescribePlayerSessions {
        player_id: Some("p".into()),
        ..Default::default()
    };
    h.core.describe_player_sessions(h.now, &one).unwrap();
}

fn backfill() -> StartMatchBackfill {
    StartMatchBackfill {
        game_session_arn: GS_ARN.into(),
        matchmaking_configuration_arn: CONFIG_ARN.into(),
        ticket_id: String::new(),
        players: vec![Player {
            player_id: "p1".into(),
            ..Default::default()
        }],
    }
}

fn stop() -> StopMatchBackfill {
    StopMatchBackfill {
        game_session_arn: GS_ARN.into(),
        matchmaking_configuration_arn: CONFIG_ARN.into(),
        ticket_id: "ticket-1".into(),
    }
}

#[test]
fn backfill_requests_are_validated() {
    let mut h = Harness::ready();
    let now = h.now;
    let invalid = |r: Result<RequestKey, SdkError>| match r {
        Err(SdkError::InvalidArgument { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        invalid(h.core.start_match_backfill(
            now,
            &StartMatchBackfill {
                players: vec![],
                ..backfill()
            }
        )),
        "Players"
    );
    assert_eq!(
        invalid(h.core.start_match_backfill(
            now,
            &StartMatchBackfill {
                game_session_arn: "a b".into(),
                ..backfill()
            }
        )),
        "GameSessionArn"
    );
    assert_eq!(
        invalid(h.core.start_match_backfill(
            now,
            &StartMatchBackfill {
                matchmaking_configuration_arn: "cfg".into(),
                ..backfill()
            }
        )),
        "MatchmakingConfigurationArn"
    );
    assert_eq!(
        invalid(h.core.start_match_backfill(
            now,
            &StartMatchBackfill {
                ticket_id: "t_1".into(),
                ..backfill()
            }
        )),
        "TicketId"
    );
    assert_eq!(
        invalid(h.core.stop_match_backfill(
            now,
            &StopMatchBackfill {
                ticket_id: String::new(),
                ..stop()
            }
        )),
        "TicketId"
    );
    h.core.start_match_backfill(now, &backfill()).unwrap();
    h.core.stop_match_backfill(now, &stop()).unwrap();
}

#[test]
fn fleet_role_credentials_are_cached_until_15_minutes_before_expiry() {
    let mut h = Harness::ready();
    let request = GetFleetRoleCredentials {
        role_arn: "arn:aws:iam::1:role/r".into(),
        ..Default::default()
    };
    let epoch_ms = 1_700_000_000_000;
    let CallStart::Sent(_) = h
        .core
        .get_fleet_role_credentials(h.now, epoch_ms, &request)
        .unwrap()
    else {
        panic!()
    };
    let (_, frame) = h.take_send();
    let Request::GetFleetRoleCredentials(body) = &frame.request else {
        panic!()
    };
    assert_eq!(body.role_session_name, "fleet-1-host-1");
    let result = GetFleetRoleCredentialsResult {
        access_key_id: "AKID".into(),
        expiration: epoch_ms + 60 * 60 * 1000,
        ..Default::default()
    };
    let conn = h.active();
    let response =
        ResponseFrame::success::<GetFleetRoleCredentials>(frame.request_id.clone(), &result);
    h.core.handle_text(h.now, conn, &response.to_json());
    assert!(h.complete().1.is_ok());
    // 44 minutes later: 16 minutes left, still cached.
    let later = epoch_ms + 44 * 60 * 1000;
    assert_eq!(
        h.core
            .get_fleet_role_credentials(h.now, later, &request)
            .unwrap(),
        CallStart::Cached(result)
    );
    // 46 minutes later: 14 minutes left, fetched again.
    let later = epoch_ms + 46 * 60 * 1000;
    assert!(matches!(
        h.core
            .get_fleet_role_credentials(h.now, later, &request)
            .unwrap(),
        CallStart::Sent(_)
    ));
}

#[test]
fn an_empty_access_key_fails_this_and_every_later_credentials_call() {
    let mut h = Harness::ready();
    let request = GetFleetRoleCredentials {
        role_arn: "arn:aws:iam::1:role/r".into(),
        ..Default::default()
    };
    h.core
        .get_fleet_role_credentials(h.now, 0, &request)
        .unwrap();
    let (_, frame) = h.take_send();
    h.reply_ok(&frame);
    let error = h.complete().1.unwrap_err();
    assert_eq!(error.service_kind(), Some(ServiceErrorKind::BadRequest));
    let error = h
        .core
        .get_fleet_role_credentials(h.now, 0, &request)
        .unwrap_err();
    assert_eq!(error.service_kind(), Some(ServiceErrorKind::BadRequest));
    assert!(h.none(|o| matches!(o, Output::Send { .. })));
}

#[test]
fn process_ending_then_destroy() {
    let mut h = Harness::hosting();
    h.core.process_ending(h.now).unwrap();
    assert_eq!(h.take_send().1.action(), Action::TerminateServerProcess);
    assert_eq!(h.core.state(), ProcessState::Ending);
    assert!(matches!(
        h.core.process_ready(h.now, &params()),
        Err(SdkError::AlreadyReady)
    ));
    assert_eq!(
        h.core.poll_timeout().map(|t| t - h.now),
        Some(Duration::from_secs(20)),
        "only the request deadline is left: no health checks"
    );
    h.core.accept_player_session(h.now, "psess-9").unwrap();
    let conn = h.active();
    h.core.destroy(h.now);
    assert_eq!(h.take_close(), (conn, 1000));
    for _ in 0..2 {
        assert!(matches!(h.complete().1, Err(SdkError::Destroyed)));
    }
    assert_eq!(h.core.state(), ProcessState::Destroyed);
    assert!(matches!(
        h.core.activate_game_session(h.now),
        Err(SdkError::Destroyed)
    ));
    h.core.handle_closed(h.now, conn, None);
    assert!(
        h.none(|o| matches!(o, Output::Connect { .. })),
        "no reconnect after destroy"
    );
    assert_eq!(h.core.poll_timeout(), None);
}
