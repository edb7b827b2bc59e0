//! The health schedule (§6.1 step 4): first check right after `ProcessReady` succeeds,
//! then every 60 s ± 10 s, a 50 s budget for the game's callback.

use std::sync::{Arc, Mutex};

use protocol::sdk5::Request;

use super::*;

/// The `HealthStatus` of the next sent frame, which must be a heartbeat.
fn heartbeat(h: &mut Harness) -> bool {
    let (_, frame) = h.take_send();
    let Request::HeartbeatServerProcess(body) = frame.request else {
        panic!("{frame:?}")
    };
    h.reply_ok(&RequestFrame::new(frame.request_id, body.clone()));
    body.health_status
}

fn health_check(h: &mut Harness) -> u64 {
    match h.take_event() {
        Event::HealthCheck { id } => id,
        other => panic!("{other:?}"),
    }
}

#[test]
fn first_check_immediately_then_every_period_with_injected_jitter() {
    // Jitter samples 0.0 (50 s), 1.0 (70 s), 0.5 (60 s), …
    let samples = Arc::new(Mutex::new(vec![0.5, 1.0, 0.0]));
    let source = samples.clone();
    let jitter = Jitter::from_fn(move || source.lock().unwrap().pop().unwrap_or(0.5));
    let mut h = Harness::unconnected(jitter);
    h.core.connect(h.now, 0);
    let (conn, _) = h.take_connect();
    h.core.handle_connected(h.now, conn);
    assert_eq!(h.take_event(), Event::Initialized);
    h.core.process_ready(h.now, &params()).unwrap();
    let (_, activate) = h.take_send();
    assert_eq!(
        h.core.poll_timeout(),
        Some(h.now + Duration::from_secs(6)),
        "no health check before ready"
    );
    h.reply_ok(&activate);

    let start = h.now;
    let mut checks = Vec::new();
    for _ in 0..4 {
        let at = h.core.poll_timeout().unwrap();
        h.advance(at.saturating_duration_since(h.now));
        let id = health_check(&mut h);
        checks.push(h.now - start);
        h.core.handle_health_result(h.now, id, true);
        assert!(heartbeat(&mut h));
    }
    let secs: Vec<u64> = checks.iter().map(Duration::as_secs).collect();
    assert_eq!(secs, [0, 50, 120, 180]);
}

#[test]
fn a_callback_over_budget_reports_unhealthy_and_its_late_answer_is_ignored() {
    let mut h = Harness::ready();
    h.advance(Duration::from_secs(60));
    let id = health_check(&mut h);
    h.advance(Duration::from_secs(49));
    assert!(h.none(|o| matches!(o, Output::Send { .. })));
    h.advance(Duration::from_secs(1));
    assert!(!heartbeat(&mut h), "50 s without an answer reports false");
    h.core.handle_health_result(h.now, id, true);
    assert!(
        h.none(|o| matches!(o, Output::Send { .. })),
        "the late answer is dropped"
    );
}

#[test]
fn an_unhealthy_answer_is_reported_as_is() {
    let mut h = Harness::ready();
    h.advance(Duration::from_secs(60));
    let id = health_check(&mut h);
    h.core.handle_health_result(h.now, id, false);
    assert!(!heartbeat(&mut h));
}
