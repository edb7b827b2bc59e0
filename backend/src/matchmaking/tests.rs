//! Unit tests of the rules and of the core's internal bookkeeping; the behaviour is tested
//! in `backend/tests/matchmaking.rs`.

use protocol::http::{FailureReason, TicketStatus};

use super::*;

fn duel() -> ModeRules {
    ModeRules {
        name: "duel".to_owned(),
        teams: 2,
        team_max: 1,
        team_min: Relaxing::fixed(1),
        skill_cap: Relaxing {
            initial: 50.0,
            steps: vec![(5_000, 100.0), (10_000, 400.0)],
        },
        latency_cap_ms: Relaxing {
            initial: 60,
            steps: vec![(8_000, 120)],
        },
        ticket_timeout_ms: 30_000,
        placement_retries: 0,
    }
}

fn config() -> MatchmakerConfig {
    MatchmakerConfig {
        modes: vec![duel()],
        regions: vec!["us-east-1".to_owned()],
        recheck_interval_ms: 1_000,
        stats_window_ms: 10_000,
        candidate_window: 8,
    }
}

fn solo(id: &str, rating: f64) -> TicketRequest {
    TicketRequest {
        mode: "duel".to_owned(),
        players: vec![PlayerEntry {
            id: id.to_owned(),
            rating,
        }],
        latencies_ms: vec![("us-east-1".to_owned(), 30)],
    }
}

#[test]
fn relaxing_values_step_with_the_wait() {
    let r = duel().skill_cap;
    assert_eq!(r.at(0), 50.0);
    assert_eq!(r.at(4_999), 50.0);
    assert_eq!(r.at(5_000), 100.0);
    assert_eq!(r.at(60_000), 400.0);
    assert_eq!(r.next_step_after(0), Some(5_000));
    assert_eq!(r.next_step_after(5_000), Some(10_000));
    assert_eq!(r.next_step_after(10_000), None);
    assert_eq!(r.last(), 400.0);
    assert_eq!(duel().next_relaxation_after(5_000), Some(8_000));
    let caps = duel().caps_at(8_000);
    assert_eq!(
        (caps.skill, caps.latency_ms, caps.team_min),
        (100.0, 120, 1)
    );
}

#[test]
fn bad_configurations_are_refused() {
    let mut c = config();
    c.modes[0].skill_cap.steps = vec![(5_000, 100.0), (4_000, 200.0)];
    assert!(matches!(
        c.validate(),
        Err(ConfigError::Expansion {
            rule: "skill_cap",
            ..
        })
    ));
    let mut c = config();
    c.modes[0].latency_cap_ms.steps = vec![(5_000, 10)];
    assert!(matches!(c.validate(), Err(ConfigError::Expansion { .. })));
    let mut c = config();
    c.modes[0].team_min = Relaxing::fixed(2);
    assert!(matches!(c.validate(), Err(ConfigError::TeamShape(_))));
    let mut c = config();
    c.modes[0].skill_cap.initial = f64::NAN;
    assert!(c.validate().is_err());
    let mut c = config();
    c.modes.push(duel());
    assert!(matches!(c.validate(), Err(ConfigError::DuplicateMode(_))));
    let mut c = config();
    c.regions.push("us-east-1".to_owned());
    assert!(matches!(c.validate(), Err(ConfigError::DuplicateRegion(_))));
    let mut c = config();
    c.recheck_interval_ms = 0;
    assert_eq!(c.validate(), Err(ConfigError::Zero));
    assert!(config().validate().is_ok());
}

/// After every ticket left the pool (matched, cancelled, timed out), no index still
/// holds it: pools, deadlines and the due set are empty.
#[test]
fn indexes_are_empty_once_every_ticket_left() {
    let mut mm = Matchmaker::new(config()).unwrap();
    let a = mm.handle_enqueue(0, solo("a", 1000.0)).unwrap();
    let _b = mm.handle_enqueue(0, solo("b", 1010.0)).unwrap();
    let c = mm.handle_enqueue(0, solo("c", 2000.0)).unwrap();
    let d = mm.handle_enqueue(0, solo("d", 3000.0)).unwrap();
    mm.handle_timeout(0);
    let ticket_a = mm.ticket(a).unwrap();
    assert_eq!(ticket_a.status, TicketStatus::Placing);
    mm.handle_placement_failed(1, ticket_a.match_id.unwrap(), FailureReason::NoCapacity)
        .unwrap();
    assert_eq!(
        mm.ticket(a).unwrap().status,
        TicketStatus::Failed,
        "no retries"
    );
    assert_eq!(mm.handle_cancel(2, c), Ok(CancelOutcome::Cancelled));
    mm.handle_timeout(30_000);
    assert_eq!(mm.ticket(d).unwrap().status, TicketStatus::TimedOut);
    assert!(mm.pools.iter().flatten().all(|p| p.is_empty()));
    assert!(mm.deadlines.is_empty());
    assert!(mm.due.is_empty());
    assert!(mm.pass.is_empty());
    assert!(mm.placing.is_empty());
    assert!(mm.live_players.is_empty());
    assert!(mm.tickets.is_empty());
    assert_eq!(mm.tickets_searching(), 0);
    mm.forget(a);
    assert_eq!(mm.ticket(a), None);
    assert_eq!(mm.handle_cancel(3, a), Err(CancelError::UnknownTicket));
}

/// A ticket that found nothing is examined again when a cap relaxes, not on every tick.
#[test]
fn a_ticket_is_rescheduled_to_its_next_relaxation_or_recheck() {
    let mut mm = Matchmaker::new(config()).unwrap();
    let a = mm.handle_enqueue(0, solo("a", 1000.0)).unwrap();
    mm.handle_timeout(4_500);
    let t = &mm.tickets[&a];
    assert_eq!(
        t.due_ms, 5_000,
        "the skill cap relaxes at 5 s, before 4.5 + 1 s"
    );
    mm.handle_timeout(5_000);
    assert_eq!(mm.tickets[&a].due_ms, 6_000, "recheck interval");
}

#[test]
fn a_rating_key_orders_like_the_rating() {
    use super::core::rating_key;
    assert!(rating_key(-1.5) < rating_key(0.0));
    assert!(rating_key(1000.0004) == rating_key(1000.0));
    assert!(rating_key(1000.001) > rating_key(1000.0));
}

/// Every output queued so far.
fn outputs(mm: &mut Matchmaker) -> Vec<Output> {
    std::iter::from_fn(|| mm.poll()).collect()
}

/// A pass run in steps of a few tickets proposes exactly what one whole pass does, in the
/// same order, when nothing happens between the steps.
#[test]
fn a_pass_in_steps_proposes_what_one_pass_does() {
    let mut whole = Matchmaker::new(config()).unwrap();
    let mut stepped = Matchmaker::new(config()).unwrap();
    for i in 0..200u32 {
        // Ratings spread so that some tickets find a partner and others do not.
        let rating = 1000.0 + f64::from(i * 37 % 400);
        let at = u64::from(i % 5);
        for mm in [&mut whole, &mut stepped] {
            mm.handle_enqueue(at, solo(&format!("p{i}"), rating))
                .unwrap();
        }
    }
    whole.handle_timeout(10);
    let mut steps = 1;
    while stepped.handle_timeout_step(10, 7) {
        steps += 1;
    }
    assert!(steps > 20, "the pass took {steps} steps");
    let (whole, stepped) = (outputs(&mut whole), outputs(&mut stepped));
    let proposed = whole
        .iter()
        .filter(|o| matches!(o, Output::MatchProposed(_)))
        .count();
    assert!((10..100).contains(&proposed), "{proposed} matches");
    assert_eq!(whole, stepped);
}

/// A ticket waiting in a pass that leaves the pool and comes back before its turn (here:
/// matched by an earlier anchor, then its partner cancels) keeps one entry in the due
/// set, the one of its last examination.
#[test]
fn a_ticket_back_in_the_pool_during_a_pass_keeps_one_due_entry() {
    let mut mm = Matchmaker::new(config()).unwrap();
    let a = mm.handle_enqueue(0, solo("a", 1000.0)).unwrap();
    let b = mm.handle_enqueue(0, solo("b", 1010.0)).unwrap();
    let c = mm.handle_enqueue(0, solo("c", 2000.0)).unwrap();
    assert!(mm.handle_timeout_step(0, 1), "b and c wait in the pass");
    assert_eq!(mm.ticket(b).unwrap().status, TicketStatus::Placing);
    assert!(matches!(
        mm.handle_cancel(1, a),
        Ok(CancelOutcome::CancelledMatchAbandoned(_))
    ));
    assert_eq!(mm.ticket(b).unwrap().status, TicketStatus::Searching);
    // b is in the pass twice now (from the tick, and due again since it came back); each
    // step runs at a later time, so each examination reschedules it differently.
    let mut now = 1;
    while mm.handle_timeout_step(now, 1) {
        now += 1;
    }
    assert!(mm.pass.is_empty());
    for t in [b, c] {
        let entries = mm.due.iter().filter(|e| e.2 == t).count();
        assert_eq!(entries, 1, "{t:?}");
        assert!(mm.due.contains(&(mm.tickets[&t].due_ms, 0, t)));
    }
    assert_eq!(mm.due.len(), 2);
}
