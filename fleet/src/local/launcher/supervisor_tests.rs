//! The launcher core driven with virtual time: no processes, no clock.

use super::*;

const S: Duration = Duration::from_secs(1);
const SIGTERM_TIMEOUT: Duration = Duration::from_secs(5);

/// What one `Harness::step` saw: slots launched, and signals asked for.
type Step = (Vec<(SlotId, Uuid)>, Vec<(Uuid, Signal)>);

/// A core plus a virtual clock, with the shell's side played by the test.
struct Harness {
    core: Supervisor,
    now: Instant,
}

impl Harness {
    fn new(counts: &[u32]) -> Self {
        let now = Instant::now();
        let core = Supervisor::new(counts, BackoffPolicy::default(), SIGTERM_TIMEOUT, now);
        Harness { core, now }
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    /// Drains `poll_action`, "launching" every slot asked for; returns what happened.
    fn step(&mut self) -> Step {
        let (mut launched, mut signals) = (Vec::new(), Vec::new());
        while let Some(action) = self.core.poll_action(self.now) {
            match action {
                Action::Launch { slot, .. } => {
                    let id = Uuid::new_v4();
                    self.core.handle_launched(slot, id, self.now);
                    launched.push((slot, id));
                }
                Action::Signal(id, signal) => signals.push((id, signal)),
            }
        }
        (launched, signals)
    }

    fn launched(&mut self) -> Vec<(SlotId, Uuid)> {
        let (launched, signals) = self.step();
        assert!(signals.is_empty(), "unexpected signals {signals:?}");
        launched
    }

    fn timeout_in(&self) -> Option<Duration> {
        self.core.poll_timeout().map(|t| t - self.now)
    }
}

#[test]
fn fills_every_slot_with_entries_in_order() {
    let mut h = Harness::new(&[2, 1]);
    let (launched, _) = h.step();
    assert_eq!(
        launched.iter().map(|(slot, _)| *slot).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(
        h.core.poll_timeout(),
        None,
        "nothing to wait for while all run"
    );
}

#[test]
fn launch_action_names_the_entry() {
    let mut h = Harness::new(&[1, 2]);
    let entries: Vec<usize> = std::iter::from_fn(|| match h.core.poll_action(h.now) {
        Some(Action::Launch { entry, .. }) => Some(entry),
        _ => None,
    })
    .collect();
    assert_eq!(entries, [0, 1, 1]);
}

#[test]
fn zero_processes_do_nothing() {
    let mut h = Harness::new(&[]);
    assert_eq!(h.core.poll_action(h.now), None);
    assert_eq!(h.core.poll_timeout(), None);
    h.core.shutdown(h.now, 10 * S);
    assert!(h.core.is_finished());
}

#[test]
fn an_exit_is_relaunched_at_once_then_backs_off_in_a_crash_loop() {
    let mut h = Harness::new(&[1]);
    let mut current = h.launched()[0].1;
    let mut delays = Vec::new();
    for _ in 0..6 {
        h.advance(S / 10);
        let outcome = h.core.handle_exit(current, h.now).unwrap();
        assert_eq!(outcome.uptime, S / 10);
        let delay = outcome.relaunch_in.unwrap();
        delays.push(delay.as_secs());
        if !delay.is_zero() {
            assert_eq!(h.timeout_in(), Some(delay));
            h.advance(delay - S / 100);
            assert!(
                h.launched().is_empty(),
                "relaunched before the backoff ended"
            );
            h.advance(S / 100);
        }
        let launched = h.launched();
        assert_eq!(launched.len(), 1);
        assert_ne!(launched[0].1, current, "a relaunch gets a new process id");
        current = launched[0].1;
    }
    assert_eq!(delays, [0, 0, 1, 2, 4, 8]);
}

#[test]
fn a_long_run_resets_the_backoff() {
    let mut h = Harness::new(&[1]);
    let mut current = h.launched()[0].1;
    for _ in 0..4 {
        h.core.handle_exit(current, h.now);
        h.advance(h.timeout_in().unwrap_or_default());
        current = h.launched()[0].1;
    }
    h.advance(60 * S);
    let outcome = h.core.handle_exit(current, h.now).unwrap();
    assert_eq!(outcome.relaunch_in, Some(Duration::ZERO));
}

#[test]
fn slots_back_off_independently() {
    let mut h = Harness::new(&[2]);
    let launched = h.launched();
    let (crashing, healthy) = (launched[0].1, launched[1].1);
    let mut current = crashing;
    for _ in 0..3 {
        h.core.handle_exit(current, h.now);
        h.advance(h.timeout_in().unwrap_or_default());
        current = h.launched()[0].1;
    }
    let outcome = h.core.handle_exit(healthy, h.now).unwrap();
    assert_eq!(outcome.relaunch_in, Some(Duration::ZERO));
}

#[test]
fn an_unknown_or_repeated_exit_is_ignored() {
    let mut h = Harness::new(&[1]);
    let id = h.launched()[0].1;
    assert_eq!(h.core.handle_exit(Uuid::new_v4(), h.now), None);
    assert!(h.core.handle_exit(id, h.now).is_some());
    assert_eq!(h.core.handle_exit(id, h.now), None);
}

#[test]
fn a_launch_failure_counts_as_an_early_exit() {
    let mut h = Harness::new(&[1]);
    let mut delays = Vec::new();
    for _ in 0..4 {
        let Some(Action::Launch { slot, .. }) = h.core.poll_action(h.now) else {
            panic!("expected a launch")
        };
        let delay = h.core.handle_launch_failed(slot, h.now).unwrap();
        delays.push(delay.as_secs());
        h.advance(delay);
    }
    assert_eq!(delays, [0, 0, 1, 2]);
}

#[test]
fn terminate_escalates_term_then_kill_and_the_slot_is_refilled() {
    let mut h = Harness::new(&[2]);
    let launched = h.launched();
    let (victim, other) = (launched[0].1, launched[1].1);
    assert!(!h.core.terminate(Uuid::new_v4(), h.now), "unknown process");
    assert!(h.core.terminate(victim, h.now));
    assert!(h.core.is_terminating(victim));
    assert!(!h.core.is_terminating(other));
    assert_eq!(h.step().1, [(victim, Signal::Term)]);
    assert_eq!(h.timeout_in(), Some(SIGTERM_TIMEOUT));
    h.advance(SIGTERM_TIMEOUT - S);
    assert_eq!(h.step(), (vec![], vec![]));
    // Terminating again does not restart the escalation.
    assert!(h.core.terminate(victim, h.now));
    h.advance(S);
    assert_eq!(h.step().1, [(victim, Signal::Kill)]);
    assert_eq!(h.core.poll_timeout(), None);
    h.core.handle_exit(victim, h.now).unwrap();
    let relaunched = h.launched();
    assert_eq!(relaunched.len(), 1);
    assert_eq!(relaunched[0].0, 0);
}

#[test]
fn shutdown_waits_for_the_grace_then_terminates_the_rest() {
    let mut h = Harness::new(&[3]);
    let ids: Vec<Uuid> = h.launched().into_iter().map(|(_, id)| id).collect();
    h.core.shutdown(h.now, 10 * S);
    assert!(!h.core.is_finished());
    assert_eq!(h.timeout_in(), Some(10 * S));

    // One exits by itself within the grace and is not relaunched.
    h.advance(4 * S);
    assert_eq!(h.core.handle_exit(ids[0], h.now).unwrap().relaunch_in, None);
    assert_eq!(h.step(), (vec![], vec![]));

    h.advance(6 * S);
    let (launched, mut signals) = h.step();
    assert!(launched.is_empty());
    signals.sort_by_key(|(id, _)| *id);
    let mut expected = vec![(ids[1], Signal::Term), (ids[2], Signal::Term)];
    expected.sort_by_key(|(id, _)| *id);
    assert_eq!(signals, expected);
    h.core.handle_exit(ids[1], h.now);

    h.advance(SIGTERM_TIMEOUT);
    assert_eq!(h.step().1, [(ids[2], Signal::Kill)]);
    assert!(!h.core.is_finished());
    h.core.handle_exit(ids[2], h.now);
    assert!(h.core.is_finished());
}

#[test]
fn shutdown_cancels_pending_relaunches() {
    let mut h = Harness::new(&[1]);
    let mut current = h.launched()[0].1;
    for _ in 0..3 {
        h.core.handle_exit(current, h.now);
        if let Some(&(_, id)) = h.launched().first() {
            current = id;
        }
    }
    assert!(h.timeout_in().unwrap() > Duration::ZERO, "in backoff");
    h.core.shutdown(h.now, 10 * S);
    assert!(h.core.is_finished());
    h.advance(60 * S);
    assert_eq!(h.step(), (vec![], vec![]));
}

#[test]
fn a_second_shutdown_only_brings_the_deadline_forward() {
    let mut h = Harness::new(&[1]);
    let id = h.launched()[0].1;
    h.core.shutdown(h.now, 10 * S);
    h.core.shutdown(h.now, 60 * S);
    assert_eq!(h.timeout_in(), Some(10 * S));
    h.core.shutdown(h.now, Duration::ZERO);
    assert_eq!(h.step().1, [(id, Signal::Term)]);
}

#[test]
fn shutdown_keeps_an_escalation_already_under_way() {
    let mut h = Harness::new(&[1]);
    let id = h.launched()[0].1;
    h.core.terminate(id, h.now);
    assert_eq!(h.step().1, [(id, Signal::Term)]);
    h.advance(2 * S);
    h.core.shutdown(h.now, Duration::ZERO);
    assert_eq!(h.step().1, [], "no second SIGTERM");
    h.advance(SIGTERM_TIMEOUT - 2 * S);
    assert_eq!(h.step().1, [(id, Signal::Kill)]);
}
