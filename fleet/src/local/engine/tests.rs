//! The engine, driven with virtual time: every rule of the SDK5 service side and the
//! control plane, without sockets or sleeps.

use serde_json::{Value, json};

use super::*;

const FLEET: &str = "fleet-1";

struct Fleet {
    e: Engine,
    now: Millis,
    next_conn: ConnId,
}

impl Fleet {
    fn new() -> Self {
        Self {
            e: Engine::new(FleetConfig::local(FLEET)),
            now: 1_700_000_000_000,
            next_conn: 0,
        }
    }

    fn connect(&mut self, pid: &str) -> ConnId {
        self.next_conn += 1;
        let conn = self.next_conn;
        self.e
            .connect(self.now, conn, pid, &format!("tok-{pid}"))
            .unwrap();
        conn
    }

    /// Sends a frame and returns every effect it caused.
    fn send(&mut self, conn: ConnId, frame: Value) -> Vec<Effect> {
        self.e.handle_frame(self.now, conn, &frame.to_string());
        self.drain()
    }

    /// Sends a request and returns the reply to it, parsed.
    fn call(&mut self, conn: ConnId, action: &str, id: &str, body: Value) -> Value {
        let mut frame = body;
        frame["Action"] = json!(action);
        frame["RequestId"] = json!(id);
        let replies: Vec<Value> = self
            .send(conn, frame)
            .into_iter()
            .filter_map(|e| match e {
                Effect::Send { conn: c, text } if c == conn => {
                    serde_json::from_str::<Value>(&text).ok()
                }
                _ => None,
            })
            .filter(|v| v["RequestId"] == id)
            .collect();
        assert_eq!(replies.len(), 1, "one reply to {action}: {replies:?}");
        replies.into_iter().next().unwrap()
    }

    fn ready(&mut self, pid: &str) -> ConnId {
        let conn = self.connect(pid);
        let r = self.call(
            conn,
            "ActivateServerProcess",
            "r0",
            json!({"SdkVersion":"5.6.0","SdkLanguage":"Rust","Port":7777,"LogPaths":[]}),
        );
        assert_eq!(r["StatusCode"], 200, "{r}");
        conn
    }

    fn drain(&mut self) -> Vec<Effect> {
        std::iter::from_fn(|| self.e.poll_effect()).collect()
    }

    fn advance(&mut self, ms: Millis) -> Vec<Effect> {
        let target = self.now + ms;
        // Tick at every deadline on the way, as the shell does.
        let mut last = None;
        while let Some(d) = self.e.next_deadline().filter(|d| *d <= target) {
            assert!(
                last.is_none_or(|l| d > l),
                "deadline {d} did not move after a tick"
            );
            last = Some(d);
            self.now = d.max(self.now);
            self.e.tick(self.now);
        }
        self.now = target;
        self.e.tick(self.now);
        self.drain()
    }

    fn create(&mut self, max: u32) -> String {
        self.e
            .create_game_session(
                self.now,
                FLEET,
                NewGameSession {
                    max_players: max,
                    ..Default::default()
                },
            )
            .unwrap()
            .id
            .clone()
    }
}

fn pushes(effects: &[Effect], action: &str) -> Vec<Value> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { text, .. } => serde_json::from_str::<Value>(text).ok(),
            _ => None,
        })
        .filter(|v| v["Action"] == action)
        .collect()
}

fn players(ids: &[&str]) -> Vec<DesiredPlayer> {
    ids.iter()
        .map(|p| DesiredPlayer {
            player_id: (*p).into(),
            player_data: None,
        })
        .collect()
}

/// The whole happy path of one process, as the spec's §6.1 sequence.
#[test]
fn lifecycle_create_activate_accept_timeout_end() {
    let mut f = Fleet::new();
    let conn = f.ready("p1");
    assert_eq!(f.e.idle_processes(f.now), 1);

    let gs = f.create(4);
    assert!(
        gs.starts_with("arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-"),
        "{gs}"
    );
    let push = pushes(&f.drain(), "CreateGameSession");
    assert_eq!(push.len(), 1);
    assert_eq!(push[0]["GameSessionId"], gs.as_str());
    assert_eq!(push[0]["Port"], 7777);
    assert_eq!(push[0]["StatusCode"], 200, "pushes carry 200 (spec §3.2)");
    assert_eq!(
        f.e.game_session(&gs).unwrap().status,
        GameSessionStatus::Activating
    );

    // Player sessions are refused until the session is ACTIVE.
    let early =
        f.e.create_player_sessions(f.now, &gs, players(&["a"]))
            .unwrap_err();
    assert_eq!(early.kind, ControlErrorKind::InvalidGameSessionStatus);

    let r = f.call(
        conn,
        "ActivateGameSession",
        "r1",
        json!({"GameSessionId": gs}),
    );
    assert_eq!(r["StatusCode"], 200);
    assert_eq!(r["Action"], "ActivateGameSession");
    assert_eq!(r["RequestId"], "r1");

    let ids: Vec<String> =
        f.e.create_player_sessions(f.now, &gs, players(&["ann", "bob"]))
            .unwrap()
            .iter()
            .map(|p| p.id.clone())
            .collect();
    assert!(ids.iter().all(|i| i.starts_with("psess-")));
    let r = f.call(
        conn,
        "AcceptPlayerSession",
        "r2",
        json!({"GameSessionId": gs, "PlayerSessionId": ids[0]}),
    );
    assert_eq!(r["StatusCode"], 200);

    f.advance(59_999);
    assert_eq!(
        f.e.player_session(&ids[1]).unwrap().status,
        PlayerSessionStatus::Reserved
    );
    f.advance(1);
    assert_eq!(
        f.e.player_session(&ids[1]).unwrap().status,
        PlayerSessionStatus::TimedOut
    );
    assert_eq!(
        f.e.player_session(&ids[0]).unwrap().status,
        PlayerSessionStatus::Active
    );

    let r = f.call(conn, "TerminateServerProcess", "r3", json!({}));
    assert_eq!(r["StatusCode"], 200);
    let g = f.e.game_session(&gs).unwrap();
    assert_eq!(g.status, GameSessionStatus::Terminated);
    assert_eq!(
        f.e.player_session(&ids[0]).unwrap().status,
        PlayerSessionStatus::Completed
    );
    f.e.disconnect(f.now, conn);
    assert_eq!(
        f.e.processes().count(),
        0,
        "an ended process is forgotten when it goes"
    );
}

#[test]
fn a_repeated_request_id_is_the_same_request() {
    let mut f = Fleet::new();
    let conn = f.ready("p1");
    let gs = f.create(2);
    f.call(
        conn,
        "ActivateGameSession",
        "a",
        json!({"GameSessionId": gs}),
    );
    let ps =
        f.e.create_player_sessions(f.now, &gs, players(&["ann"]))
            .unwrap()[0]
            .id
            .clone();
    let body = json!({"GameSessionId": gs, "PlayerSessionId": ps});
    let first = f.call(conn, "AcceptPlayerSession", "x", body.clone());
    let again = f.call(conn, "AcceptPlayerSession", "x", body.clone());
    assert_eq!(first, again);
    assert_eq!(first["StatusCode"], 200);
    // A second accept under a new RequestId is a double accept.
    let double = f.call(conn, "AcceptPlayerSession", "y", body);
    assert_eq!(double["StatusCode"], 400);
    assert!(double["ErrorMessage"].as_str().unwrap().contains("ACTIVE"));
}

#[test]
fn bad_frames_get_the_documented_answer_and_change_nothing() {
    let mut f = Fleet::new();
    let conn = f.connect("p1");
    // Not JSON, or no RequestId: nothing to correlate, so no answer.
    f.e.handle_frame(f.now, conn, "{not json");
    assert!(f.drain().is_empty());
    assert!(
        f.send(
            conn,
            json!({"Action":"HeartbeatServerProcess","HealthStatus":true})
        )
        .is_empty()
    );
    // Unknown action: 400, echoing both.
    let r = f.call(conn, "Dance", "u1", json!({}));
    assert_eq!(
        (r["StatusCode"].clone(), r["Action"].clone()),
        (json!(400), json!("Dance"))
    );
    // Wrong field type: 400.
    let r = f.call(
        conn,
        "ActivateServerProcess",
        "u2",
        json!({"Port": "seven"}),
    );
    assert_eq!(r["StatusCode"], 400);
    // Anything before ProcessReady: 400.
    let r = f.call(
        conn,
        "AcceptPlayerSession",
        "u3",
        json!({"GameSessionId":"g","PlayerSessionId":"psess-1"}),
    );
    assert_eq!(r["StatusCode"], 400);
    // Port 0 is refused; the process stays not ready.
    let r = f.call(
        conn,
        "ActivateServerProcess",
        "u4",
        json!({"SdkVersion":"5","SdkLanguage":"Rust","Port":0}),
    );
    assert_eq!(r["StatusCode"], 400);
    assert_eq!(f.e.idle_processes(f.now), 0);
    // Unknown game and player sessions.
    let conn2 = f.ready("p2");
    let r = f.call(
        conn2,
        "ActivateGameSession",
        "u5",
        json!({"GameSessionId":"arn:nope"}),
    );
    assert_eq!(r["StatusCode"], 404);
    let r = f.call(
        conn2,
        "ActivateServerProcess",
        "u6",
        json!({"SdkVersion":"5","SdkLanguage":"Rust","Port":1}),
    );
    assert_eq!(r["StatusCode"], 409, "ProcessReady twice");
}

#[test]
fn a_process_cannot_touch_another_process_session() {
    let mut f = Fleet::new();
    let c1 = f.ready("p1");
    let c2 = f.ready("p2");
    let gs = f.create(2);
    let owner = f.e.game_session(&gs).unwrap().process_id.clone();
    let other = if owner == "p1" { c2 } else { c1 };
    let r = f.call(
        other,
        "ActivateGameSession",
        "z",
        json!({"GameSessionId": gs}),
    );
    assert_eq!(r["StatusCode"], 400);
    assert_eq!(
        f.e.game_session(&gs).unwrap().status,
        GameSessionStatus::Activating
    );
}

#[test]
fn duplicate_process_ids_are_refused_and_reconnects_resume() {
    let mut f = Fleet::new();
    let conn = f.ready("p1");
    let dup = f.e.connect(f.now, 99, "p1", "another-token");
    assert_eq!(dup, Err(ConnectError::DuplicateProcessId("p1".into())));
    assert_eq!(
        f.e.connect(f.now, 98, "", "t"),
        Err(ConnectError::MissingProcessId)
    );
    // The same process reconnecting (same token) takes over; the old socket is closed.
    f.e.connect(f.now, 100, "p1", "tok-p1").unwrap();
    let effects = f.drain();
    assert!(effects.contains(&Effect::Close {
        conn,
        code: 1001,
        reason: "replaced by a new connection".into()
    }));
    assert_eq!(
        f.e.idle_processes(f.now),
        1,
        "still ready after reconnecting"
    );
    // A dropped process that does not come back is forgotten after the grace period.
    f.e.disconnect(f.now, 100);
    assert_eq!(
        f.e.idle_processes(f.now),
        0,
        "not placed on while disconnected"
    );
    f.advance(60_000);
    assert_eq!(f.e.processes().count(), 0);
}

#[test]
fn unhealthy_or_stalled_processes_leave_placement_and_are_terminated() {
    for stalled in [false, true] {
        let mut f = Fleet::new();
        let conn = f.ready("p1");
        let mut t = 0;
        while t < 179_000 {
            if !stalled {
                let r = f.call(
                    conn,
                    "HeartbeatServerProcess",
                    &format!("h{t}"),
                    json!({"HealthStatus": false}),
                );
                assert_eq!(r["StatusCode"], 200);
            }
            f.advance(60_000.min(179_000 - t));
            t += 60_000.min(179_000 - t);
        }
        assert_eq!(
            f.e.idle_processes(f.now),
            1,
            "still placeable just before 3 minutes"
        );
        let effects = f.advance(1_000);
        assert_eq!(
            pushes(&effects, "TerminateProcess").len(),
            1,
            "stalled={stalled}"
        );
        assert_eq!(f.e.idle_processes(f.now), 0);
        let err =
            f.e.create_game_session(f.now, FLEET, NewGameSession::default())
                .unwrap_err();
        assert_eq!(err.kind, ControlErrorKind::FleetCapacityExceeded);
        let effects = f.advance(FleetConfig::local(FLEET).terminate_grace_ms);
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::Kill { process_id, .. } if process_id == "p1"))
        );
        assert_eq!(f.e.processes().count(), 0);
    }
}

#[test]
fn healthy_heartbeats_keep_a_process_placeable() {
    let mut f = Fleet::new();
    let conn = f.ready("p1");
    for i in 0..10 {
        f.call(
            conn,
            "HeartbeatServerProcess",
            &format!("h{i}"),
            json!({"HealthStatus": true}),
        );
        assert!(pushes(&f.advance(60_000), "TerminateProcess").is_empty());
    }
    assert_eq!(f.e.idle_processes(f.now), 1);
}

#[test]
fn activation_times_out() {
    let mut f = Fleet::new();
    let conn = f.ready("p1");
    let gs = f.create(2);
    f.drain();
    let conn_hb = conn;
    // Keep it healthy so only the activation rule fires.
    for i in 0..10 {
        f.call(
            conn_hb,
            "HeartbeatServerProcess",
            &format!("h{i}"),
            json!({"HealthStatus": true}),
        );
        f.advance(59_000);
    }
    let effects = f.advance(600_000 - 590_000);
    assert_eq!(
        f.e.game_session(&gs).unwrap().status,
        GameSessionStatus::Error
    );
    assert_eq!(pushes(&effects, "TerminateProcess").len(), 1);
}

#[test]
fn capacity_and_session_limits_use_the_real_exceptions() {
    let mut f = Fleet::new();
    let none =
        f.e.create_game_session(f.now, FLEET, NewGameSession::default())
            .unwrap_err();
    assert_eq!(none.kind, ControlErrorKind::FleetCapacityExceeded);
    let conn = f.ready("p1");
    f.e.set_capacity_paused(true);
    assert_eq!(
        f.e.create_game_session(f.now, FLEET, NewGameSession::default())
            .unwrap_err()
            .kind,
        ControlErrorKind::FleetCapacityExceeded
    );
    f.e.set_capacity_paused(false);
    let unknown_fleet =
        f.e.create_game_session(f.now, "fleet-x", NewGameSession::default())
            .unwrap_err();
    assert_eq!(unknown_fleet.kind, ControlErrorKind::NotFound);
    let too_big = NewGameSession {
        max_players: 201,
        ..Default::default()
    };
    assert_eq!(
        f.e.create_game_session(f.now, FLEET, too_big)
            .unwrap_err()
            .kind,
        ControlErrorKind::InvalidRequest
    );

    let gs = f.create(2);
    f.call(
        conn,
        "ActivateGameSession",
        "a",
        json!({"GameSessionId": gs}),
    );
    f.e.create_player_sessions(f.now, &gs, players(&["a", "b"]))
        .unwrap();
    assert_eq!(
        f.e.create_player_sessions(f.now, &gs, players(&["c"]))
            .unwrap_err()
            .kind,
        ControlErrorKind::GameSessionFull
    );
    assert_eq!(
        f.e.create_player_sessions(f.now, "arn:none", players(&["c"]))
            .unwrap_err()
            .kind,
        ControlErrorKind::NotFound
    );
    // Timed-out reservations free their slots.
    f.advance(60_000);
    f.e.create_player_sessions(f.now, &gs, players(&["c"]))
        .unwrap();
    // DENY_ALL closes the session to new players.
    f.call(
        conn,
        "UpdatePlayerSessionCreationPolicy",
        "d",
        json!({"GameSessionId": gs, "PlayerSessionPolicy": "DENY_ALL"}),
    );
    assert_eq!(
        f.e.create_player_sessions(f.now, &gs, players(&["d"]))
            .unwrap_err()
            .kind,
        ControlErrorKind::GameSessionFull
    );
    // The process hosting a session takes no other.
    assert_eq!(
        f.e.create_game_session(f.now, FLEET, NewGameSession::default())
            .unwrap_err()
            .kind,
        ControlErrorKind::FleetCapacityExceeded
    );
}

#[test]
fn idempotency_tokens_return_the_same_session_or_refuse_a_mismatch() {
    let mut f = Fleet::new();
    f.ready("p1");
    f.ready("p2");
    let req = NewGameSession {
        max_players: 4,
        idempotency_token: Some("match-1".into()),
        ..Default::default()
    };
    let a =
        f.e.create_game_session(f.now, FLEET, req.clone())
            .unwrap()
            .id
            .clone();
    assert!(a.ends_with("/match-1"));
    let b =
        f.e.create_game_session(f.now, FLEET, req.clone())
            .unwrap()
            .id
            .clone();
    assert_eq!(a, b);
    assert_eq!(f.e.idle_processes(f.now), 1, "the retry placed nothing new");
    let other = NewGameSession {
        max_players: 8,
        ..req
    };
    assert_eq!(
        f.e.create_game_session(f.now, FLEET, other)
            .unwrap_err()
            .kind,
        ControlErrorKind::IdempotentParameterMismatch
    );
}

#[test]
fn terminate_game_session_by_trigger_or_force() {
    let mut f = Fleet::new();
    let conn = f.ready("p1");
    f.ready("p2");
    let gs = f.create(2);
    let host = f.e.game_session(&gs).unwrap().process_id.clone();
    let host_conn = if host == "p1" { conn } else { conn + 1 };
    f.call(
        host_conn,
        "ActivateGameSession",
        "a",
        json!({"GameSessionId": gs}),
    );
    f.e.terminate_game_session(f.now, &gs, false).unwrap();
    assert_eq!(
        f.e.game_session(&gs).unwrap().status,
        GameSessionStatus::Terminating
    );
    assert_eq!(pushes(&f.drain(), "TerminateProcess").len(), 1);
    f.call(host_conn, "TerminateServerProcess", "e", json!({}));
    let g = f.e.game_session(&gs).unwrap();
    assert_eq!(
        (g.status, g.status_reason),
        (
            GameSessionStatus::Terminated,
            Some(StatusReason::TriggeredOnProcessTerminate)
        )
    );
    assert_eq!(
        f.e.terminate_game_session(f.now, &gs, false)
            .unwrap_err()
            .kind,
        ControlErrorKind::InvalidGameSessionStatus
    );

    let gs2 = f.create(2);
    let host2 = f.e.game_session(&gs2).unwrap().process_id.clone();
    f.e.terminate_game_session(f.now, &gs2, true).unwrap();
    let effects = f.drain();
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Kill { process_id, .. } if *process_id == host2))
    );
    assert_eq!(
        f.e.game_session(&gs2).unwrap().status_reason,
        Some(StatusReason::ForceTerminated)
    );
}

#[test]
fn a_process_that_does_not_exit_after_process_ending_is_killed() {
    let mut f = Fleet::new();
    let conn = f.ready("p1");
    f.call(conn, "TerminateServerProcess", "e", json!({}));
    assert!(f.advance(29_999).is_empty());
    let effects = f.advance(1);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Kill { process_id, .. } if process_id == "p1"))
    );
    // An ended process may not come back under the same id.
    assert_eq!(
        f.e.connect(f.now, 50, "p1", "tok-p1"),
        Ok(()),
        "forgotten, so a new process may use the id"
    );
}

#[test]
fn a_crashed_process_interrupts_its_game_session() {
    let mut f = Fleet::new();
    let conn = f.ready("p1");
    let gs = f.create(2);
    f.call(
        conn,
        "ActivateGameSession",
        "a",
        json!({"GameSessionId": gs}),
    );
    let ps =
        f.e.create_player_sessions(f.now, &gs, players(&["a"]))
            .unwrap()[0]
            .id
            .clone();
    f.e.process_exited(f.now, "p1");
    let g = f.e.game_session(&gs).unwrap();
    assert_eq!(
        (g.status, g.status_reason),
        (GameSessionStatus::Error, Some(StatusReason::Interrupted))
    );
    assert_eq!(
        f.e.player_session(&ps).unwrap().status,
        PlayerSessionStatus::Completed
    );
}

#[test]
fn placements_wait_for_capacity_then_fulfil_or_time_out() {
    let mut f = Fleet::new();
    let req = |id: &str| PlacementRequest {
        placement_id: id.into(),
        queue: "default".into(),
        game_session: NewGameSession {
            max_players: 2,
            ..Default::default()
        },
        players: players(&["ann", "bob"]),
        latencies: vec![("ann".into(), "us-east-1".into(), 20.0)],
    };
    assert_eq!(
        f.e.start_placement(f.now, req("pl-1")).unwrap().state,
        PlacementState::Pending
    );
    assert_eq!(
        f.e.start_placement(f.now, req("pl-1")).unwrap_err().kind,
        ControlErrorKind::InvalidRequest
    );
    // Capacity arrives: the next tick places it, activation fulfils it.
    let conn = f.ready("p1");
    f.advance(1);
    let gs =
        f.e.placement("pl-1")
            .unwrap()
            .game_session_id
            .clone()
            .expect("placed");
    f.call(
        conn,
        "ActivateGameSession",
        "a",
        json!({"GameSessionId": gs}),
    );
    let p = f.e.placement("pl-1").unwrap();
    assert_eq!(p.state, PlacementState::Fulfilled);
    assert_eq!(
        p.placed
            .iter()
            .map(|(pl, _)| pl.as_str())
            .collect::<Vec<_>>(),
        ["ann", "bob"]
    );
    assert!(
        p.placed
            .iter()
            .all(|(_, ps)| f.e.player_session(ps).unwrap().status == PlayerSessionStatus::Reserved)
    );

    // No capacity: times out after the queue's timeout.
    f.e.start_placement(f.now, req("pl-2")).unwrap();
    f.advance(FleetConfig::local(FLEET).placement_timeout_ms);
    assert_eq!(
        f.e.placement("pl-2").unwrap().state,
        PlacementState::TimedOut
    );
    // Stopped while pending.
    f.e.start_placement(f.now, req("pl-3")).unwrap();
    assert_eq!(
        f.e.stop_placement(f.now, "pl-3").unwrap().state,
        PlacementState::Cancelled
    );
    assert_eq!(
        f.e.placement("nope").unwrap_err().kind,
        ControlErrorKind::NotFound
    );
}

#[test]
fn listings_page_and_filter() {
    let mut f = Fleet::new();
    let conns: Vec<ConnId> = (0..3).map(|i| f.ready(&format!("p{i}"))).collect();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = f.create(5);
        let host = f.e.game_session(&id).unwrap().process_id.clone();
        let i: usize = host[1..].parse().unwrap();
        f.call(
            conns[i],
            "ActivateGameSession",
            &format!("a{i}"),
            json!({"GameSessionId": id}),
        );
        ids.push(id);
    }
    let p1 =
        f.e.describe_game_sessions(Some(FLEET), None, None, 2, None)
            .unwrap();
    assert_eq!(p1.items.len(), 2);
    let token = p1.next_token.clone().expect("more");
    let p2 =
        f.e.describe_game_sessions(Some(FLEET), None, None, 2, Some(&token))
            .unwrap();
    assert_eq!(p2.items.len(), 1);
    assert!(p2.next_token.is_none());
    assert_eq!(
        f.e.describe_game_sessions(Some(FLEET), None, None, 2, Some("bogus"))
            .unwrap_err()
            .kind,
        ControlErrorKind::InvalidRequest
    );
    let found =
        f.e.search_game_sessions(
            FLEET,
            Some("hasAvailablePlayerSessions = true"),
            None,
            10,
            None,
        )
        .unwrap();
    assert_eq!(found.items.len(), 3);
    assert_eq!(
        f.e.search_game_sessions(FLEET, Some("gameSessionName = 'x'"), None, 10, None)
            .unwrap_err()
            .kind,
        ControlErrorKind::InvalidRequest
    );
    f.e.create_player_sessions(f.now, &ids[0], players(&["a", "b"]))
        .unwrap();
    let by_gs =
        f.e.describe_player_sessions(Some(&ids[0]), None, None, None, 10, None)
            .unwrap();
    assert_eq!(by_gs.items.len(), 2);
    let by_player =
        f.e.describe_player_sessions(
            None,
            Some("a"),
            None,
            Some(PlayerSessionStatus::Reserved),
            10,
            None,
        )
        .unwrap();
    assert_eq!(by_player.items.len(), 1);
    assert_eq!(
        f.e.describe_player_sessions(Some(&ids[0]), Some("a"), None, None, 10, None)
            .unwrap_err()
            .kind,
        ControlErrorKind::InvalidRequest
    );
    // The SDK's DescribePlayerSessions sees the same sessions.
    let host = f.e.game_session(&ids[0]).unwrap().process_id.clone();
    let i: usize = host[1..].parse().unwrap();
    let r = f.call(
        conns[i],
        "DescribePlayerSessions",
        "d",
        json!({"GameSessionId": ids[0], "Limit": 1}),
    );
    assert_eq!(r["StatusCode"], 200);
    assert_eq!(r["PlayerSessions"].as_array().unwrap().len(), 1);
    assert_eq!(r["NextToken"], "page-1");
    assert_eq!(r["PlayerSessions"][0]["Status"], "RESERVED");
}

#[test]
fn shutdown_tells_every_process_to_terminate() {
    let mut f = Fleet::new();
    f.ready("p1");
    f.ready("p2");
    f.e.terminate_all(f.now);
    assert_eq!(pushes(&f.drain(), "TerminateProcess").len(), 2);
    f.e.terminate_all(f.now);
    assert!(f.drain().is_empty(), "pushed once");
}

#[test]
fn sdk_fleet_role_credentials_and_certificate_say_not_managed() {
    let mut f = Fleet::new();
    let conn = f.ready("p1");
    let r = f.call(
        conn,
        "GetFleetRoleCredentials",
        "c",
        json!({"RoleArn":"arn:aws:iam::1:role/x"}),
    );
    assert_eq!(r["StatusCode"], 200);
    assert_eq!(r["AccessKeyId"], "");
    let r = f.call(conn, "GetComputeCertificate", "d", json!({}));
    assert_eq!(r["StatusCode"], 400);
}

#[test]
fn a_process_that_never_calls_process_ready_is_killed() {
    let mut f = Fleet::new();
    f.connect("silent");
    let ready = f.ready("p2");
    assert!(
        f.advance(299_999)
            .iter()
            .all(|e| !matches!(e, Effect::Kill { .. }))
    );
    let effects = f.advance(1);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Kill { process_id, .. } if process_id == "silent"))
    );
    assert!(f.e.processes().all(|p| p.id != "silent"));
    // The other process is untouched (it stays connected; health is a separate rule).
    assert!(
        f.e.processes()
            .any(|p| p.id == "p2" && p.conn == Some(ready))
    );
}

#[test]
fn max_concurrent_activations_limits_activating_sessions() {
    let mut f = Fleet::new();
    f.e.cfg.max_concurrent_activations = 1;
    f.ready("p1");
    f.ready("p2");
    f.create(2);
    let err =
        f.e.create_game_session(f.now, FLEET, NewGameSession::default())
            .unwrap_err();
    assert_eq!(err.kind, ControlErrorKind::FleetCapacityExceeded);
}
