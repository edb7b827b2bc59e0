//! The matchmaking core on virtual time: rules, expansions, parties, balance, order,
//! one live ticket per player, time limit, cancel/placement races, placement retries, and
//! property tests over random operation sequences.

use std::collections::{BTreeSet, HashMap};

use backend::matchmaking::{
    CancelError, CancelOutcome, EnqueueError, MatchId, Matchmaker, MatchmakerConfig, Millis,
    ModeRules, Output, PlayerEntry, ProposedMatch, Relaxing, TicketId, TicketRequest, UnknownMatch,
};
use proptest::prelude::*;
use protocol::http::{FailureReason, TicketStatus};

const US: &str = "us-east-1";
const EU: &str = "eu-west-1";

fn mode(name: &str, teams: u16, team_max: u16) -> ModeRules {
    ModeRules {
        name: name.to_owned(),
        teams,
        team_max,
        team_min: Relaxing::fixed(team_max),
        skill_cap: Relaxing {
            initial: 100.0,
            steps: vec![(10_000, 300.0)],
        },
        latency_cap_ms: Relaxing {
            initial: 100,
            steps: vec![(10_000, 200)],
        },
        ticket_timeout_ms: 60_000,
        placement_retries: 1,
    }
}

fn config() -> MatchmakerConfig {
    let mut squads = mode("squads", 2, 3);
    squads.team_min.steps = vec![(30_000, 2)];
    MatchmakerConfig {
        modes: vec![mode("duel", 2, 1), squads],
        regions: vec![US.to_owned(), EU.to_owned()],
        recheck_interval_ms: 1_000,
        stats_window_ms: 60_000,
        candidate_window: 32,
    }
}

/// What the test knows about a ticket it enqueued.
#[derive(Debug, Clone)]
struct Sent {
    mode: String,
    at: Millis,
    players: Vec<(String, f64)>,
    latencies: Vec<(String, u32)>,
}

/// The matchmaker plus a model built only from its outputs, checked on every drain.
struct Harness {
    mm: Matchmaker,
    now: Millis,
    sent: HashMap<TicketId, Sent>,
    /// Every status each ticket went through, from the outputs.
    history: HashMap<TicketId, Vec<TicketStatus>>,
    reasons: HashMap<TicketId, FailureReason>,
    proposed: Vec<ProposedMatch>,
    /// Matches proposed and neither resolved nor abandoned.
    active: HashMap<MatchId, ProposedMatch>,
    abandoned: Vec<MatchId>,
    /// The match of each placing ticket.
    match_of: HashMap<TicketId, MatchId>,
}

impl Harness {
    fn new() -> Harness {
        Harness::with(config())
    }

    fn with(config: MatchmakerConfig) -> Harness {
        Harness {
            mm: Matchmaker::new(config).unwrap(),
            now: 0,
            sent: HashMap::new(),
            history: HashMap::new(),
            reasons: HashMap::new(),
            proposed: Vec::new(),
            active: HashMap::new(),
            abandoned: Vec::new(),
            match_of: HashMap::new(),
        }
    }

    fn enqueue(
        &mut self,
        mode: &str,
        players: &[(&str, f64)],
        latencies: &[(&str, u32)],
    ) -> Result<TicketId, EnqueueError> {
        let request = TicketRequest {
            mode: mode.to_owned(),
            players: players
                .iter()
                .map(|&(id, rating)| PlayerEntry {
                    id: id.to_owned(),
                    rating,
                })
                .collect(),
            latencies_ms: latencies.iter().map(|&(r, l)| (r.to_owned(), l)).collect(),
        };
        let id = self.mm.handle_enqueue(self.now, request)?;
        self.sent.insert(
            id,
            Sent {
                mode: mode.to_owned(),
                at: self.now,
                players: players.iter().map(|&(p, r)| (p.to_owned(), r)).collect(),
                latencies: latencies.iter().map(|&(r, l)| (r.to_owned(), l)).collect(),
            },
        );
        self.drain();
        Ok(id)
    }

    fn solo(&mut self, mode: &str, player: &str, rating: f64) -> TicketId {
        self.enqueue(mode, &[(player, rating)], &[(US, 40)])
            .unwrap()
    }

    fn tick_at(&mut self, now: Millis) {
        assert!(now >= self.now);
        self.now = now;
        self.mm.handle_timeout(now);
        self.drain();
    }

    fn status(&self, t: TicketId) -> TicketStatus {
        *self.history[&t].last().unwrap()
    }

    /// Drains the outputs into the model, checking every transition and every proposal.
    fn drain(&mut self) {
        while let Some(out) = self.mm.poll() {
            match out {
                Output::TicketStateChanged(c) => {
                    let h = self.history.entry(c.ticket).or_default();
                    let legal = match (h.last(), c.status) {
                        (None, TicketStatus::Searching) => true,
                        (Some(TicketStatus::Searching), s) => matches!(
                            s,
                            TicketStatus::Placing
                                | TicketStatus::Cancelled
                                | TicketStatus::TimedOut
                        ),
                        (Some(TicketStatus::Placing), s) => s != TicketStatus::TimedOut,
                        _ => false,
                    };
                    assert!(legal, "{:?}: {h:?} then {:?}", c.ticket, c.status);
                    if h.last() == Some(&TicketStatus::Placing) {
                        // Leaving PLACING resolves the match (unless a cancel abandoned it).
                        let m = self.match_of.remove(&c.ticket).unwrap();
                        if c.status == TicketStatus::Completed {
                            assert_eq!(c.match_id, Some(m));
                            assert!(!self.abandoned.contains(&m));
                        }
                        self.active.remove(&m);
                    }
                    assert_eq!(c.reason.is_some(), c.status == TicketStatus::Failed);
                    if let Some(r) = c.reason {
                        self.reasons.insert(c.ticket, r);
                    }
                    h.push(c.status);
                    if c.status == TicketStatus::Placing {
                        let m = c.match_id.expect("placing names its match");
                        assert!(self.active[&m].tickets.contains(&c.ticket));
                        self.match_of.insert(c.ticket, m);
                    }
                }
                Output::MatchProposed(m) => {
                    self.check_match(&m);
                    for other in self.active.values() {
                        for t in &m.tickets {
                            assert!(!other.tickets.contains(t), "{t:?} in two live matches");
                        }
                        for p in m.teams.iter().flatten() {
                            assert!(
                                other
                                    .teams
                                    .iter()
                                    .flatten()
                                    .all(|o| o.player_id != p.player_id),
                                "{} in two live matches",
                                p.player_id
                            );
                        }
                    }
                    self.active.insert(m.match_id, m.clone());
                    self.proposed.push(m);
                }
                Output::MatchAbandoned {
                    match_id,
                    cancelled,
                } => {
                    let m = self
                        .active
                        .remove(&match_id)
                        .expect("abandoned a live match");
                    assert!(m.tickets.contains(&cancelled));
                    self.abandoned.push(match_id);
                }
            }
        }
        // Every ticket the model calls live is live in the core, with the same status.
        for (t, h) in &self.history {
            let view = self.mm.ticket(*t).expect("the core remembers every ticket");
            assert_eq!(view.status, *h.last().unwrap(), "{t:?}");
        }
        // Placing tickets are exactly the tickets of live matches.
        let placing: BTreeSet<TicketId> = self
            .history
            .iter()
            .filter(|(_, h)| h.last() == Some(&TicketStatus::Placing))
            .map(|(t, _)| *t)
            .collect();
        let in_matches: BTreeSet<TicketId> = self
            .active
            .values()
            .flat_map(|m| m.tickets.iter().copied())
            .collect();
        assert_eq!(placing, in_matches);
        // One live ticket per player.
        let mut live_players = HashMap::new();
        for (t, h) in &self.history {
            if !h.last().unwrap().is_final() {
                for (p, _) in &self.sent[t].players {
                    assert!(live_players.insert(p.clone(), *t).is_none(), "{p} twice");
                    assert_eq!(self.mm.live_ticket_of(p), Some(*t));
                }
            }
        }
        let searching = self
            .history
            .values()
            .filter(|h| h.last() == Some(&TicketStatus::Searching))
            .count();
        assert_eq!(self.mm.tickets_searching(), searching);
    }

    /// Every proposal respects its mode's rules at the anchor's wait.
    fn check_match(&self, m: &ProposedMatch) {
        let rules = self
            .mm
            .config()
            .modes
            .iter()
            .find(|r| r.name == m.mode)
            .unwrap();
        let anchor = &self.sent[&m.anchor];
        let caps = rules.caps_at(m.proposed_at_ms - anchor.at);
        assert_eq!(m.skill_cap, caps.skill);
        assert_eq!(m.latency_cap_ms, caps.latency_ms);
        assert_eq!(m.teams.len(), usize::from(rules.teams));
        for team in &m.teams {
            assert!(team.len() <= usize::from(rules.team_max), "{m:?}");
            assert!(team.len() >= usize::from(caps.team_min), "{m:?}");
        }
        let (mut lo, mut hi, mut max_lat) = (f64::INFINITY, f64::NEG_INFINITY, 0);
        for t in &m.tickets {
            let s = &self.sent[t];
            assert_eq!(s.mode, m.mode);
            let mean = s.players.iter().map(|p| p.1).sum::<f64>() / s.players.len() as f64;
            lo = lo.min(mean);
            hi = hi.max(mean);
            let lat = s
                .latencies
                .iter()
                .filter(|(r, _)| *r == m.region)
                .map(|(_, l)| *l)
                .max()
                .expect("ticket measured the match's region");
            max_lat = max_lat.max(lat);
            // The party is whole, on one team.
            let team = m
                .teams
                .iter()
                .position(|tm| tm.iter().any(|p| p.ticket == *t))
                .unwrap();
            for (p, _) in &s.players {
                assert!(m.teams[team].iter().any(|x| &x.player_id == p), "{m:?}");
            }
            assert!(s.at <= m.proposed_at_ms);
        }
        let players: usize = m.teams.iter().map(Vec::len).sum();
        let sent: usize = m.tickets.iter().map(|t| self.sent[t].players.len()).sum();
        assert_eq!(players, sent);
        assert!(
            hi - lo <= caps.skill,
            "spread {} > cap {}",
            hi - lo,
            caps.skill
        );
        assert!((m.skill_spread - (hi - lo)).abs() < 1e-9);
        assert!(max_lat <= caps.latency_ms);
        assert_eq!(m.max_latency_ms, max_lat);
        let means: Vec<f64> = m
            .teams
            .iter()
            .map(|t| t.iter().map(|p| p.rating).sum::<f64>() / t.len() as f64)
            .collect();
        let gap = means.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
            - means.iter().cloned().fold(f64::INFINITY, f64::min);
        assert!((m.team_rating_gap - gap).abs() < 1e-9);
    }

    fn only_active(&self) -> ProposedMatch {
        assert_eq!(self.active.len(), 1, "{:?}", self.active);
        self.active.values().next().unwrap().clone()
    }
}

#[test]
fn two_close_duelists_are_matched_in_their_best_region() {
    let mut h = Harness::new();
    let a = h
        .enqueue("duel", &[("a", 1000.0)], &[(US, 90), (EU, 30)])
        .unwrap();
    let b = h
        .enqueue("duel", &[("b", 1050.0)], &[(US, 20), (EU, 60)])
        .unwrap();
    assert_eq!(h.status(a), TicketStatus::Searching);
    h.tick_at(100);
    let m = h.only_active();
    assert_eq!(m.region, EU, "the anchor's best region");
    assert_eq!(m.tickets, vec![a, b]);
    assert_eq!(m.anchor, a);
    assert_eq!(h.status(a), TicketStatus::Placing);
    assert_eq!(h.status(b), TicketStatus::Placing);
}

#[test]
fn skill_cap_relaxes_with_virtual_time() {
    let mut h = Harness::new();
    let a = h.solo("duel", "a", 1000.0);
    let b = h.solo("duel", "b", 1250.0);
    for t in (0..10_000).step_by(500) {
        h.tick_at(t);
        assert!(
            h.active.is_empty(),
            "matched at {t} with a spread of 250 > 100"
        );
    }
    h.tick_at(10_000);
    let m = h.only_active();
    assert_eq!(m.skill_cap, 300.0);
    assert_eq!(m.tickets, vec![a, b]);
}

#[test]
fn latency_cap_relaxes_with_virtual_time() {
    let mut h = Harness::new();
    h.enqueue("duel", &[("a", 1000.0)], &[(US, 150)]).unwrap();
    h.enqueue("duel", &[("b", 1000.0)], &[(US, 120)]).unwrap();
    h.tick_at(9_999);
    assert!(h.active.is_empty());
    h.tick_at(10_000);
    let m = h.only_active();
    assert_eq!((m.latency_cap_ms, m.max_latency_ms), (200, 150));
}

#[test]
fn a_region_past_the_latency_cap_is_never_used() {
    let mut h = Harness::new();
    h.enqueue("duel", &[("a", 1000.0)], &[(US, 30), (EU, 250)])
        .unwrap();
    h.enqueue("duel", &[("b", 1000.0)], &[(EU, 30)]).unwrap();
    h.tick_at(59_000);
    assert!(h.proposed.is_empty(), "no shared region within 200 ms");
}

#[test]
fn team_min_relaxes_so_a_short_match_starts() {
    let mut h = Harness::new();
    for p in ["a", "b", "c", "d"] {
        h.solo("squads", p, 1000.0);
    }
    h.tick_at(29_999);
    assert!(h.active.is_empty(), "3v3 needs six players before 30 s");
    h.tick_at(30_000);
    let m = h.only_active();
    assert_eq!(m.teams.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2]);
}

#[test]
fn parties_stay_together_and_teams_balance() {
    let mut h = Harness::new();
    let party = h
        .enqueue(
            "squads",
            &[("p1", 1010.0), ("p2", 1000.0), ("p3", 990.0)],
            &[(US, 40)],
        )
        .unwrap();
    for (p, r) in [("s1", 1040.0), ("s2", 1000.0), ("s3", 960.0)] {
        h.solo("squads", p, r);
    }
    h.tick_at(1);
    let m = h.only_active();
    let party_team = m
        .teams
        .iter()
        .find(|t| t.iter().any(|p| p.ticket == party))
        .unwrap();
    assert_eq!(party_team.len(), 3);
    assert!(party_team.iter().all(|p| p.ticket == party));
    assert!(m.team_rating_gap.abs() < 1e-9, "both teams average 1000");
}

#[test]
fn solos_are_split_by_rating_to_the_smallest_gap() {
    let mut h = Harness::new();
    for (p, r) in [
        ("a", 1090.0),
        ("b", 1080.0),
        ("c", 1070.0),
        ("d", 1040.0),
        ("e", 1030.0),
        ("f", 1030.0),
    ] {
        h.solo("squads", p, r);
    }
    h.tick_at(1);
    let m = h.only_active();
    // Sums 3160/3180 is the best split of these ratings: a gap of 20/3.
    assert!((m.team_rating_gap - 20.0 / 3.0).abs() < 1e-9, "{m:?}");
}

#[test]
fn oldest_tickets_are_served_first() {
    let mut h = Harness::new();
    let a = h.solo("duel", "a", 1000.0);
    h.now = 1;
    let b = h.solo("duel", "b", 1000.0);
    h.now = 2;
    let c = h.solo("duel", "c", 1000.0);
    h.tick_at(3);
    let m = h.only_active();
    assert_eq!(m.tickets, vec![a, b]);
    assert_eq!(h.status(c), TicketStatus::Searching);
}

#[test]
fn an_old_ticket_is_preferred_over_a_closer_new_one() {
    let mut h = Harness::new();
    let old = h.solo("duel", "old", 1090.0);
    h.tick_at(500);
    assert!(h.active.is_empty());
    h.now = 600;
    let anchor = h.solo("duel", "x", 1000.0);
    h.now = 700;
    let close = h.solo("duel", "close", 1001.0);
    h.tick_at(800);
    // `old` is due again only at 1 500; `x` anchors and takes the oldest within its cap.
    let m = h.only_active();
    assert_eq!(m.tickets, vec![old, anchor]);
    assert_eq!(h.status(close), TicketStatus::Searching);
}

#[test]
fn one_live_ticket_per_player_including_party_members() {
    let mut h = Harness::new();
    let t = h
        .enqueue("squads", &[("lead", 1000.0), ("mate", 1000.0)], &[(US, 40)])
        .unwrap();
    let again = h.enqueue("duel", &[("mate", 1000.0)], &[(US, 40)]);
    assert_eq!(
        again,
        Err(EnqueueError::PlayerAlreadyQueued {
            player: "mate".to_owned(),
            ticket: t
        })
    );
    assert!(matches!(
        h.enqueue("squads", &[("x", 1.0), ("lead", 1.0)], &[(US, 40)]),
        Err(EnqueueError::PlayerAlreadyQueued { .. })
    ));
    assert_eq!(h.mm.handle_cancel(1, t), Ok(CancelOutcome::Cancelled));
    h.drain();
    h.enqueue("duel", &[("mate", 1000.0)], &[(US, 40)])
        .expect("free again after cancel");
}

#[test]
fn malformed_tickets_are_refused_with_a_reason() {
    let mut h = Harness::new();
    assert_eq!(
        h.enqueue("chess", &[("a", 1.0)], &[(US, 40)]),
        Err(EnqueueError::UnknownMode("chess".to_owned()))
    );
    assert_eq!(
        h.enqueue("duel", &[("a", 1.0), ("b", 1.0)], &[(US, 40)]),
        Err(EnqueueError::PartyTooLarge {
            size: 2,
            team_max: 1
        })
    );
    assert_eq!(
        h.enqueue("squads", &[("a", 1.0), ("a", 1.0)], &[(US, 40)]),
        Err(EnqueueError::DuplicatePlayer("a".to_owned()))
    );
    assert_eq!(
        h.enqueue("duel", &[("a", f64::NAN)], &[(US, 40)]),
        Err(EnqueueError::BadRating("a".to_owned()))
    );
    assert_eq!(
        h.enqueue("duel", &[("a", 1.0)], &[(US, 201), ("ap-south-1", 10)]),
        Err(EnqueueError::NoReachableRegion)
    );
    assert_eq!(
        h.enqueue("duel", &[], &[(US, 40)]),
        Err(EnqueueError::NoPlayers)
    );
    assert!(h.history.is_empty());
}

#[test]
fn a_lone_ticket_times_out_at_its_limit() {
    let mut h = Harness::new();
    let a = h.solo("duel", "a", 1000.0);
    h.tick_at(59_999);
    assert_eq!(h.status(a), TicketStatus::Searching);
    h.tick_at(60_000);
    assert_eq!(h.status(a), TicketStatus::TimedOut);
    assert_eq!(h.mm.live_ticket_of("a"), None);
    assert_eq!(
        h.mm.handle_cancel(60_001, a),
        Err(CancelError::AlreadyFinal(TicketStatus::TimedOut))
    );
}

#[test]
fn cancel_before_placement_breaks_the_match_and_keeps_the_others_place() {
    let mut h = Harness::new();
    let a = h.solo("duel", "a", 1000.0);
    h.now = 5_000;
    let b = h.solo("duel", "b", 1000.0);
    h.tick_at(5_000);
    let m = h.only_active();
    assert_eq!(
        h.mm.handle_cancel(5_100, b),
        Ok(CancelOutcome::CancelledMatchAbandoned(m.match_id))
    );
    h.drain();
    assert_eq!(h.abandoned, vec![m.match_id]);
    assert_eq!(h.status(b), TicketStatus::Cancelled);
    assert_eq!(h.status(a), TicketStatus::Searching);
    // The placement then succeeds, too late: refused, the shell ends the session.
    assert_eq!(
        h.mm.handle_placement_succeeded(5_200, m.match_id),
        Err(UnknownMatch(m.match_id))
    );
    h.drain();
    assert_eq!(h.status(b), TicketStatus::Cancelled);
    // `a` kept its enqueue time: it times out 60 s after 0, not after its return.
    h.tick_at(59_999);
    assert_eq!(h.status(a), TicketStatus::Searching);
    h.tick_at(60_000);
    assert_eq!(h.status(a), TicketStatus::TimedOut);
}

#[test]
fn cancel_after_placement_success_stays_completed() {
    let mut h = Harness::new();
    let a = h.solo("duel", "a", 1000.0);
    let b = h.solo("duel", "b", 1000.0);
    h.tick_at(1);
    let m = h.only_active();
    h.mm.handle_placement_succeeded(2, m.match_id).unwrap();
    h.drain();
    assert_eq!(
        h.mm.handle_cancel(3, a),
        Err(CancelError::AlreadyFinal(TicketStatus::Completed))
    );
    h.drain();
    assert_eq!(h.status(a), TicketStatus::Completed);
    assert_eq!(h.status(b), TicketStatus::Completed);
    assert_eq!(h.mm.ticket(a).unwrap().match_id, Some(m.match_id));
    assert!(h.abandoned.is_empty());
    let record = m
        .placement_record("gsess-1", |p| Some(format!("psess-{p}")))
        .unwrap();
    assert_eq!(record.match_id, "gsess-1");
    assert_eq!(record.players.len(), 2);
    assert!(
        record.players.iter().all(|p| p.team.is_none()),
        "1v1 has no named teams"
    );
}

#[test]
fn placement_failure_returns_tickets_then_fails_them_when_the_budget_is_spent() {
    let mut h = Harness::new();
    let a = h.solo("duel", "a", 1000.0);
    let b = h.solo("duel", "b", 1000.0);
    h.tick_at(1);
    let first = h.only_active();
    h.mm.handle_placement_failed(2, first.match_id, FailureReason::NoCapacity)
        .unwrap();
    h.active.remove(&first.match_id);
    h.drain();
    assert_eq!(h.status(a), TicketStatus::Searching);
    assert_eq!(
        h.mm.handle_placement_failed(2, first.match_id, FailureReason::NoCapacity),
        Err(UnknownMatch(first.match_id)),
        "a resolved match cannot be failed twice"
    );
    h.tick_at(3);
    let second = h.only_active();
    assert_ne!(second.match_id, first.match_id);
    h.mm.handle_placement_failed(4, second.match_id, FailureReason::PlacementTimedOut)
        .unwrap();
    h.active.remove(&second.match_id);
    h.drain();
    for t in [a, b] {
        assert_eq!(h.status(t), TicketStatus::Failed);
        assert_eq!(h.reasons[&t], FailureReason::PlacementTimedOut);
    }
    assert_eq!(h.mm.live_ticket_of("a"), None);
}

#[test]
fn stats_count_players_searching_and_the_median_wait() {
    let mut h = Harness::new();
    h.enqueue("squads", &[("a", 1.0), ("b", 1.0)], &[(US, 40)])
        .unwrap();
    h.solo("duel", "x", 1000.0);
    h.tick_at(2_000);
    h.solo("duel", "y", 1000.0);
    h.tick_at(3_000);
    let stats = h.mm.mode_stats();
    assert_eq!(stats[0].mode, "duel");
    assert_eq!(stats[0].tickets_searching, 0);
    assert_eq!(stats[0].matches_started, 1);
    // Waits 3000 and 1000: the upper median.
    assert_eq!(stats[0].median_wait_ms, Some(3_000));
    assert_eq!(stats[1].tickets_searching, 1);
    assert_eq!(stats[1].players_searching, 2);
    assert_eq!(stats[1].median_wait_ms, None);
}

#[test]
fn a_big_pool_matches_everyone_who_has_a_partner() {
    let mut h = Harness::new();
    for i in 0..2_000 {
        h.solo("duel", &format!("p{i}"), f64::from(i % 500) * 4.0);
    }
    h.tick_at(1);
    assert_eq!(h.proposed.len(), 1_000);
    assert_eq!(h.mm.tickets_searching(), 0);
}

// ---- property tests ----

#[derive(Debug, Clone)]
enum Op {
    Enqueue {
        squads: bool,
        players: BTreeSet<u8>,
        rating: u16,
        us: Option<u16>,
        eu: Option<u16>,
    },
    Cancel(usize),
    Tick(u16),
    /// A few milliseconds on, one step of a matching pass examining 1 to 4 tickets (the
    /// rest of the pass waits while other operations run).
    Step(u8, u8),
    Succeed(usize),
    Fail(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (
            any::<bool>(),
            prop::collection::btree_set(0u8..16, 1..=3),
            1000u16..1200,
            prop::option::of(10u16..230),
            prop::option::of(10u16..230),
        )
            .prop_map(|(squads, players, rating, us, eu)| Op::Enqueue {
                squads,
                players,
                rating,
                us,
                eu
            }),
        1 => any::<usize>().prop_map(Op::Cancel),
        3 => (0u16..15_000).prop_map(Op::Tick),
        2 => (0u8..4, 1u8..=4).prop_map(|(dt, budget)| Op::Step(dt, budget)),
        2 => any::<usize>().prop_map(Op::Succeed),
        2 => any::<usize>().prop_map(Op::Fail),
    ]
}

fn run(ops: Vec<Op>) {
    let mut h = Harness::new();
    let mut issued: Vec<TicketId> = Vec::new();
    for op in ops {
        match op {
            Op::Enqueue {
                squads,
                players,
                rating,
                us,
                eu,
            } => {
                let names: Vec<String> = players.iter().map(|p| format!("p{p}")).collect();
                let ps: Vec<(&str, f64)> = names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.as_str(), f64::from(rating) + i as f64 * 7.0))
                    .collect();
                let mut lats = Vec::new();
                if let Some(l) = us {
                    lats.push((US, u32::from(l)));
                }
                if let Some(l) = eu {
                    lats.push((EU, u32::from(l)));
                }
                let mode = if squads { "squads" } else { "duel" };
                let live = names.iter().any(|n| h.mm.live_ticket_of(n).is_some());
                match h.enqueue(mode, &ps, &lats) {
                    Ok(t) => {
                        assert!(!live);
                        issued.push(t);
                    }
                    Err(EnqueueError::PlayerAlreadyQueued { .. }) => assert!(live),
                    Err(EnqueueError::PartyTooLarge { .. }) => assert!(!squads),
                    Err(EnqueueError::NoReachableRegion) => {
                        assert!(lats.iter().all(|l| l.1 > 200));
                    }
                    Err(e) => panic!("unexpected {e}"),
                }
            }
            Op::Cancel(i) if !issued.is_empty() => {
                let t = issued[i % issued.len()];
                let before = h.status(t);
                let r = h.mm.handle_cancel(h.now, t);
                match before {
                    TicketStatus::Searching => assert_eq!(r, Ok(CancelOutcome::Cancelled)),
                    TicketStatus::Placing => {
                        assert!(matches!(r, Ok(CancelOutcome::CancelledMatchAbandoned(_))));
                    }
                    s => assert_eq!(r, Err(CancelError::AlreadyFinal(s))),
                }
                h.drain();
            }
            Op::Tick(dt) => h.tick_at(h.now + Millis::from(dt)),
            Op::Step(dt, budget) => {
                h.now += Millis::from(dt);
                h.mm.handle_timeout_step(h.now, usize::from(budget));
                h.drain();
            }
            Op::Succeed(i) | Op::Fail(i) if !h.active.is_empty() => {
                let mut ids: Vec<MatchId> = h.active.keys().copied().collect();
                ids.sort();
                let m = ids[i % ids.len()];
                let members = h.active.remove(&m).unwrap().tickets;
                if matches!(op, Op::Succeed(_)) {
                    h.mm.handle_placement_succeeded(h.now, m).unwrap();
                    h.drain();
                    for t in members {
                        assert_eq!(h.status(t), TicketStatus::Completed);
                    }
                } else {
                    h.mm.handle_placement_failed(h.now, m, FailureReason::PlacementFailed)
                        .unwrap();
                    h.drain();
                    for t in members {
                        assert!(matches!(
                            h.status(t),
                            TicketStatus::Searching | TicketStatus::Failed
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    // Nothing is lost: every ticket issued is live or ended exactly once.
    for t in &issued {
        let hist = &h.history[t];
        let finals = hist.iter().filter(|s| s.is_final()).count();
        assert!(finals <= 1);
        assert_eq!(finals == 1, hist.last().unwrap().is_final());
    }
    // Run out the clock: every ticket still searching ends by its time limit; placing
    // ones stay with their match.
    h.tick_at(h.now + 61_000);
    h.tick_at(h.now + 61_000);
    for t in &issued {
        assert_ne!(h.status(*t), TicketStatus::Searching, "{t:?}");
    }
    // Every completed ticket names a proposed, never abandoned match that holds it.
    for t in &issued {
        if h.status(*t) == TicketStatus::Completed {
            let m =
                h.mm.ticket(*t)
                    .unwrap()
                    .match_id
                    .expect("completed names its match");
            assert!(!h.abandoned.contains(&m));
            let proposal = h.proposed.iter().find(|p| p.match_id == m).unwrap();
            assert!(proposal.tickets.contains(t));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_operations_keep_every_invariant(ops in prop::collection::vec(op(), 1..120)) {
        run(ops);
    }
}
