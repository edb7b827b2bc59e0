//! Connections: timeouts and forced reconnects (§3.3), close codes and backoff (§2.6,
//! §3.4), and `RefreshConnection` (§5.4).

use protocol::sdk5::{Action, RefreshConnection};

use super::*;

#[test]
fn requests_time_out_after_20_s_and_activation_after_6_s() {
    let mut h = Harness::connected();
    let key = h.core.process_ready(h.now, &params()).unwrap();
    h.advance(Duration::from_millis(5_999));
    assert!(h.none(|o| matches!(o, Output::Complete { .. })));
    h.advance(Duration::from_millis(1));
    let (done, result) = h.complete();
    assert_eq!(done, key);
    assert!(matches!(
        result,
        Err(SdkError::Timeout {
            action: Action::ActivateServerProcess
        })
    ));

    let mut h = Harness::hosting();
    h.core.accept_player_session(h.now, "psess-1").unwrap();
    h.advance(Duration::from_millis(19_999));
    assert!(h.none(|o| matches!(o, Output::Complete { .. })));
    h.advance(Duration::from_millis(1));
    assert!(matches!(
        h.complete().1,
        Err(SdkError::Timeout {
            action: Action::AcceptPlayerSession
        })
    ));
}

#[test]
fn two_consecutive_timeouts_force_a_reconnect_to_the_same_url_before_the_old_is_closed() {
    let mut h = Harness::hosting();
    let old = h.active();
    h.core.accept_player_session(h.now, "psess-1").unwrap();
    h.core.accept_player_session(h.now, "psess-2").unwrap();
    h.advance(Duration::from_secs(20));
    assert!(matches!(h.complete().1, Err(SdkError::Timeout { .. })));
    assert!(matches!(h.complete().1, Err(SdkError::Timeout { .. })));
    let (new, url) = h.take_connect();
    assert_ne!(new, old);
    assert_eq!(query(&url, "pID").as_deref(), Some("proc-1"));
    assert_eq!(
        h.active(),
        old,
        "traffic stays on the old connection until the new one is up"
    );
    h.core.handle_connected(h.now, new);
    assert_eq!(h.active(), new);
    h.advance(Duration::from_secs(5));
    assert_eq!(h.take_close(), (old, 1000));
}

#[test]
fn any_inbound_frame_resets_the_timeout_count() {
    let mut h = Harness::hosting();
    h.core.accept_player_session(h.now, "psess-1").unwrap();
    h.advance(Duration::from_secs(20));
    assert!(h.complete().1.is_err());
    h.push(protocol::sdk5::UpdateGameSession::default());
    h.core.accept_player_session(h.now, "psess-2").unwrap();
    h.advance(Duration::from_secs(20));
    assert!(h.complete().1.is_err());
    assert!(h.none(|o| matches!(o, Output::Connect { .. })));
}

#[test]
fn an_abnormal_close_reconnects_with_the_same_url_and_resends_in_flight_requests() {
    let mut h = Harness::unconnected(Jitter::fixed(0.5));
    h.core.connect(h.now, 0);
    let (conn, url) = h.take_connect();
    h.core.handle_connected(h.now, conn);
    h.core.process_ready(h.now, &params()).unwrap();
    let (_, sent) = h.take_send();
    h.core.handle_closed(h.now, conn, Some(1011));
    let (new, again) = h.take_connect();
    assert_eq!(again, url, "same URL, so the same IdempotencyToken");
    assert!(
        h.none(|o| matches!(o, Output::Send { .. })),
        "nothing is sent while disconnected"
    );
    h.core.handle_connected(h.now, new);
    let (on, resent) = h.take_send();
    assert_eq!(
        (on, resent.request_id.clone()),
        (new, sent.request_id.clone())
    );
    h.reply_ok(&resent);
    assert!(h.complete().1.is_ok());
    assert_eq!(h.core.state(), ProcessState::Ready);
}

#[test]
fn a_dropped_connection_without_close_frame_reconnects_too() {
    let mut h = Harness::ready();
    let conn = h.active();
    h.core.handle_closed(h.now, conn, None);
    assert!(h.take_connect().1.contains("IdempotencyToken="));
}

#[test]
fn normal_and_going_away_closes_do_not_reconnect() {
    for code in [1000, 1001] {
        let mut h = Harness::hosting();
        h.core.accept_player_session(h.now, "psess-1").unwrap();
        let conn = h.active();
        h.core.handle_closed(h.now, conn, Some(code));
        assert!(h.none(|o| matches!(o, Output::Connect { .. })), "{code}");
        assert!(matches!(h.complete().1, Err(SdkError::ConnectionClosed)));
        assert_eq!(h.take_event(), Event::ConnectionLost);
        assert!(matches!(
            h.core.activate_game_session(h.now),
            Err(SdkError::ConnectionClosed)
        ));
        assert_eq!(h.core.poll_timeout(), None, "no health checks either");
    }
}

#[test]
fn reconnect_backoff_is_immediate_then_4_8_16_32_32_32_32_then_gives_up() {
    let mut h = Harness::connected();
    let conn = h.active();
    h.core.handle_closed(h.now, conn, Some(1006));
    let (mut attempt, url) = h.take_connect();
    let mut waits = Vec::new();
    loop {
        h.core.handle_connect_failed(h.now, attempt, "refused");
        let Some(at) = h.core.poll_timeout() else {
            break;
        };
        waits.push((at - h.now).as_secs());
        h.advance(at - h.now);
        let (next, again) = h.take_connect();
        assert_eq!(again, url);
        attempt = next;
    }
    assert_eq!(waits, [4, 8, 16, 32, 32, 32, 32]);
    assert_eq!(h.take_event(), Event::ConnectionLost);
}

#[test]
fn the_first_connect_retries_with_backoff_then_fails_init() {
    let mut h = Harness::unconnected(Jitter::fixed(0.5));
    h.core.connect(h.now, 0);
    let mut total = 0;
    for _ in 0..8 {
        let (conn, _) = h.take_connect();
        h.core.handle_connect_failed(h.now, conn, "403 Forbidden");
        if let Some(at) = h.core.poll_timeout() {
            total += (at - h.now).as_secs();
            h.advance(at - h.now);
        }
    }
    assert_eq!(total, 4 + 8 + 16 + 32 * 4);
    assert_eq!(
        h.take_event(),
        Event::InitFailed {
            error: "403 Forbidden".into()
        }
    );
    assert_eq!(h.core.state(), ProcessState::NotInitialized);
}

#[test]
fn refresh_connection_opens_the_new_endpoint_in_token_mode_then_closes_the_old() {
    let mut h = Harness::hosting();
    let old = h.active();
    h.push(RefreshConnection {
        refresh_connection_endpoint: "wss://new.example/prod".into(),
        auth_token: "token-2".into(),
    });
    let (new, url) = h.take_connect();
    assert!(url.starts_with("wss://new.example/prod?"), "{url}");
    assert_eq!(query(&url, "Authorization").as_deref(), Some("token-2"));
    assert_eq!(query(&url, "pID").as_deref(), Some("proc-1"));
    assert_eq!(query(&url, "ComputeId").as_deref(), Some("host-1"));
    assert_eq!(query(&url, "FleetId").as_deref(), Some("fleet-1"));
    let token = query(&url, "IdempotencyToken").unwrap();
    assert!(uuid::Uuid::parse_str(&token).is_ok());

    // Until the new connection is up, requests still go to the old one.
    h.core.accept_player_session(h.now, "psess-1").unwrap();
    let (on, before) = h.take_send();
    assert_eq!(on, old);
    h.core.handle_connected(h.now, new);
    h.core.accept_player_session(h.now, "psess-2").unwrap();
    assert_eq!(h.take_send().0, new, "traffic moved");
    // A response to a request sent on the old connection still arrives while it drains.
    h.core
        .handle_text(h.now, old, &before.ok_response().to_json());
    assert!(h.complete().1.is_ok());
    assert!(h.none(|o| matches!(o, Output::Close { .. })));
    h.advance(Duration::from_secs(5));
    assert_eq!(h.take_close(), (old, 1000));

    // A later reconnect reuses the refreshed URL.
    h.core.handle_closed(h.now, new, Some(1006));
    assert_eq!(h.take_connect().1, url);
}

#[test]
fn a_failed_refresh_keeps_the_old_connection() {
    let mut h = Harness::hosting();
    let old = h.active();
    h.push(RefreshConnection {
        refresh_connection_endpoint: "wss://new.example/prod".into(),
        auth_token: "token-2".into(),
    });
    let (new, _) = h.take_connect();
    h.core.handle_connect_failed(h.now, new, "refused");
    assert_eq!(h.active(), old);
    assert!(h.none(|o| matches!(o, Output::Connect { .. } | Output::Close { .. })));
}
