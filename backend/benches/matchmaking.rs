//! Matchmaking core throughput on one core: `cargo bench -p backend --bench matchmaking`.
//!
//! Three modes (duel 1v1, squads 3v3 with parties up to 3, arena 5v5 with parties up to 5)
//! and four regions; ratings roughly normal around 1500 (σ ≈ 300); each ticket has a home
//! region at 15–60 ms and the others at 80–300 ms.
//!
//! * **burst:** 100,000 tickets enqueued, then one tick.
//! * **steady, topped up:** before each 100 ms tick the searching pool is topped up to
//!   100,000 (arrivals replace what was matched or timed out), for 10 ticks.
//! * **steady, open loop:** 20,000 arrivals per virtual second for 60 virtual seconds.
//!
//! * **open loop + 100k backlog:** the same arrivals for 20 virtual seconds while 100,000
//!   tickets of a fourth mode wait unmatchable (parties of three in a 4v4 mode), each
//!   due for re-examination every second (skipped while its pools and caps are unchanged):
//!   the cost of a large pool that does not drain.
//!
//! Arrivals are spread over each tick interval; every proposed match is placed at once.
//!
//! Reported: tickets matched per second of wall and CPU time (the whole loop: enqueue,
//! tick, draining outputs, placement callbacks), and time-to-match in virtual time, for
//! all tickets and for *typical* ones (solo, rating within 1σ of the mean, home latency
//! ≤ 60 ms: tickets for which a fair match is available at once in a pool this size).
//!
//! The simulation is seeded, so every run does the same work; `--repeat N` (3) runs it
//! N times and reports each phase from the run with its median CPU rate, every run's
//! rate beside it (this machine's speed drifts between runs a minute apart).

#[path = "common/procfs.rs"]
mod procfs;

use procfs::{CLOCK_TICKS_PER_S, cpu_ticks};
use std::time::Instant;

use backend::matchmaking::{
    Matchmaker, MatchmakerConfig, Millis, ModeRules, Output, PlayerEntry, Relaxing, TicketRequest,
};
use protocol::http::TicketStatus;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1"];
const POOL: usize = 100_000;
const TICK_MS: Millis = 100;
/// Ticks of the top-up phase (each enqueues what the last one matched: ~100k tickets).
const TOPUP_TICKS: u32 = 10;
/// Ticks of the open-loop phase: 60 virtual seconds.
const OPEN_TICKS: u32 = 600;
/// Ticks of the open loop with an unmatchable backlog of 100k tickets: 20 virtual seconds.
const BACKLOG_TICKS: u32 = 200;
/// Arrivals per tick in the open-loop phase: 20,000 tickets per virtual second.
const OPEN_PER_TICK: usize = 2_000;

fn rules(name: &str, team_max: u16) -> ModeRules {
    ModeRules {
        name: name.to_owned(),
        teams: 2,
        team_max,
        team_min: Relaxing {
            initial: team_max,
            steps: vec![(30_000, team_max.div_ceil(2).max(1))],
        },
        skill_cap: Relaxing {
            initial: 100.0,
            steps: vec![(5_000, 200.0), (15_000, 400.0), (30_000, 1_000.0)],
        },
        latency_cap_ms: Relaxing {
            initial: 80,
            steps: vec![(10_000, 150), (20_000, 250)],
        },
        ticket_timeout_ms: 120_000,
        placement_retries: 2,
    }
}

/// Process CPU time (user + system) in seconds, from /proc (Linux); `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    cpu_ticks().map(|(own, _)| own as f64 / CLOCK_TICKS_PER_S)
}

struct Gen {
    rng: StdRng,
    next_player: u64,
}

/// A party of three for the backlog mode.
fn generator_backlog(rng: &mut StdRng, next: &mut u64) -> (TicketRequest, bool) {
    let players = (0..3)
        .map(|_| {
            *next += 1;
            PlayerEntry {
                id: format!("q{next}"),
                rating: rng.random_range(900.0..2100.0),
            }
        })
        .collect();
    let home = rng.random_range(0..REGIONS.len());
    let latencies_ms = REGIONS
        .iter()
        .enumerate()
        .map(|(i, r)| ((*r).to_owned(), if i == home { 40 } else { 180 }))
        .collect();
    let request = TicketRequest {
        mode: "quads".to_owned(),
        players,
        latencies_ms,
    };
    (request, false)
}

struct Meta {
    enqueued: Millis,
    typical: bool,
}

impl Gen {
    fn ticket(&mut self) -> (TicketRequest, bool) {
        let rng = &mut self.rng;
        let (mode, max_party) = match rng.random_range(0..10) {
            0..5 => ("duel", 1),
            5..8 => ("squads", 3),
            _ => ("arena", 5),
        };
        let party = if max_party == 1 || rng.random_bool(0.6) {
            1
        } else {
            rng.random_range(2..=max_party)
        };
        let mut players = Vec::with_capacity(party);
        let mut typical = party == 1;
        for _ in 0..party {
            // Sum of three uniforms: roughly normal, σ ≈ 300.
            let z: f64 = (0..3).map(|_| rng.random::<f64>() - 0.5).sum::<f64>() * 2.0;
            let rating = 1500.0 + 300.0 * z;
            typical &= (rating - 1500.0).abs() <= 300.0;
            players.push(PlayerEntry {
                id: format!("p{}", self.next_player),
                rating,
            });
            self.next_player += 1;
        }
        let home = rng.random_range(0..REGIONS.len());
        let latencies_ms = REGIONS
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let ms = if i == home {
                    rng.random_range(15..=60)
                } else {
                    rng.random_range(80..=300)
                };
                ((*r).to_owned(), ms)
            })
            .collect();
        let request = TicketRequest {
            mode: mode.to_owned(),
            players,
            latencies_ms,
        };
        (request, typical)
    }
}

#[derive(Default)]
struct Phase {
    matched_tickets: u64,
    matched_players: u64,
    matches: u64,
    timed_out: u64,
    enqueued: u64,
    gap_sum: f64,
    waits_all: Vec<Millis>,
    waits_typical: Vec<Millis>,
}

fn drain(mm: &mut Matchmaker, metas: &mut [Option<Meta>], p: &mut Phase, now: Millis) {
    while let Some(out) = mm.poll() {
        match out {
            Output::MatchProposed(m) => {
                p.matches += 1;
                p.gap_sum += m.team_rating_gap;
                p.matched_players += m.teams.iter().map(|t| t.len() as u64).sum::<u64>();
                for t in &m.tickets {
                    p.matched_tickets += 1;
                    if let Some(meta) = metas[t.0 as usize].take() {
                        let wait = m.proposed_at_ms - meta.enqueued;
                        p.waits_all.push(wait);
                        if meta.typical {
                            p.waits_typical.push(wait);
                        }
                    }
                }
                mm.handle_placement_succeeded(now, m.match_id)
                    .expect("just proposed");
            }
            Output::TicketStateChanged(c) if c.status.is_final() => {
                if c.status == TicketStatus::TimedOut {
                    p.timed_out += 1;
                    metas[c.ticket.0 as usize] = None;
                }
                mm.forget(c.ticket);
            }
            _ => {}
        }
    }
}

fn pct(v: &mut [Millis], q: f64) -> String {
    if v.is_empty() {
        return "-".to_owned();
    }
    v.sort_unstable();
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    format!("{} ms", v[i])
}

/// The allocator the `backend` binary runs with (see its `main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One phase's outcome in one run.
struct Measured {
    name: &'static str,
    ticks: u32,
    phase: Phase,
    wall: f64,
    cpu: Option<f64>,
    /// Tickets searching after a tick: least and most.
    pool_after: (usize, usize),
}

/// One run of every phase (the simulation is seeded: every run does the same work).
struct Sim {
    phases: Vec<Measured>,
    enqueue_wall: f64,
    burst_tick_wall: f64,
    burst_left: usize,
}

/// Matched tickets per CPU second (per wall second without a CPU reading).
fn rate(m: &Measured) -> f64 {
    let secs = m.cpu.unwrap_or(m.wall);
    if secs > 0.0 {
        m.phase.matched_tickets as f64 / secs
    } else {
        0.0
    }
}

fn simulate() -> Sim {
    // The backlog mode: 4v4 that never relaxes its team size, fed only parties of three,
    // which cannot share a team: its tickets wait (and are re-examined) until they time out.
    let mut quads = rules("quads", 4);
    quads.team_min = Relaxing::fixed(4);
    quads.ticket_timeout_ms = 600_000;
    let config = MatchmakerConfig {
        modes: vec![
            rules("duel", 1),
            rules("squads", 3),
            rules("arena", 5),
            quads,
        ],
        regions: REGIONS.iter().map(|r| (*r).to_owned()).collect(),
        recheck_interval_ms: 1_000,
        stats_window_ms: 60_000,
        candidate_window: 32,
    };
    let mut mm = Matchmaker::new(config).expect("valid config");
    let mut generator = Gen {
        rng: StdRng::seed_from_u64(7),
        next_player: 0,
    };
    let mut metas: Vec<Option<Meta>> = vec![None];
    let mut enqueue = |mm: &mut Matchmaker, metas: &mut Vec<Option<Meta>>, now, p: &mut Phase| {
        let (request, typical) = generator.ticket();
        let id = mm.handle_enqueue(now, request).expect("valid ticket");
        debug_assert_eq!(id.0 as usize, metas.len());
        metas.push(Some(Meta {
            enqueued: now,
            typical,
        }));
        p.enqueued += 1;
    };

    let mut backlog_rng = StdRng::seed_from_u64(11);
    let mut backlog_player = 0u64;

    // Burst.
    let mut burst = Phase::default();
    let (w0, c0) = (Instant::now(), cpu_seconds());
    for _ in 0..POOL {
        enqueue(&mut mm, &mut metas, 0, &mut burst);
    }
    let enqueue_wall = w0.elapsed().as_secs_f64();
    drain(&mut mm, &mut metas, &mut burst, 0);
    let w1 = Instant::now();
    mm.handle_timeout(0);
    drain(&mut mm, &mut metas, &mut burst, 0);
    let burst_tick_wall = w1.elapsed().as_secs_f64();
    let burst_wall = w0.elapsed().as_secs_f64();
    let burst_cpu = cpu_seconds().zip(c0).map(|(a, b)| a - b);
    let burst_left = mm.tickets_searching();
    let mut phases = vec![Measured {
        name: "burst",
        ticks: 1,
        phase: burst,
        wall: burst_wall,
        cpu: burst_cpu,
        pool_after: (burst_left, burst_left),
    }];

    // Steady, with the pool topped up to 100,000 before each tick, then an open-loop
    // arrival rate. Arrivals are spread over each tick interval, in time order.
    let mut now: Millis = 0;
    for (name, ticks, rate) in [
        ("steady, pool topped up to 100k", TOPUP_TICKS, None),
        ("steady, open loop", OPEN_TICKS, Some(OPEN_PER_TICK)),
        (
            "open loop + 100k backlog",
            BACKLOG_TICKS,
            Some(OPEN_PER_TICK),
        ),
    ] {
        if ticks == BACKLOG_TICKS {
            for _ in 0..POOL {
                let (mut request, _) = generator_backlog(&mut backlog_rng, &mut backlog_player);
                request.mode = "quads".to_owned();
                mm.handle_enqueue(now, request)
                    .expect("valid backlog ticket");
                metas.push(None);
            }
        }
        let mut p = Phase::default();
        let mut pool_after = (usize::MAX, 0);
        let (w0, c0) = (Instant::now(), cpu_seconds());
        for _ in 0..ticks {
            let arrivals = rate.unwrap_or_else(|| POOL.saturating_sub(mm.tickets_searching()));
            for i in 0..arrivals {
                let at = now + 1 + (i as Millis * TICK_MS) / arrivals.max(1) as Millis;
                enqueue(&mut mm, &mut metas, at.min(now + TICK_MS), &mut p);
            }
            now += TICK_MS;
            drain(&mut mm, &mut metas, &mut p, now);
            mm.handle_timeout(now);
            drain(&mut mm, &mut metas, &mut p, now);
            let n = mm.tickets_searching();
            pool_after = (pool_after.0.min(n), pool_after.1.max(n));
        }
        let wall = w0.elapsed().as_secs_f64();
        let cpu = cpu_seconds().zip(c0).map(|(a, b)| a - b);
        phases.push(Measured {
            name,
            ticks,
            phase: p,
            wall,
            cpu,
            pool_after,
        });
    }
    Sim {
        phases,
        enqueue_wall,
        burst_tick_wall,
        burst_left,
    }
}

fn main() {
    // `--repeat N` (3): the whole simulation N times; each phase is reported from the run
    // with its median CPU rate (the machine's speed drifts between runs), all runs listed.
    let args: Vec<String> = std::env::args().collect();
    let repeat = args
        .iter()
        .position(|a| a == "--repeat")
        .and_then(|i| args.get(i + 1))
        .map_or(3, |n| n.parse().expect("--repeat takes a number"));
    assert!((1..=9).contains(&repeat), "--repeat must be 1 to 9");
    let runs: Vec<Sim> = (0..repeat).map(|_| simulate()).collect();
    let first = &runs[0];
    // The time-to-match table below comes from the first run: it holds only if every run
    // did the same work.
    for run in &runs[1..] {
        for (a, b) in first.phases.iter().zip(&run.phases) {
            assert_eq!(
                (a.phase.enqueued, a.phase.matched_tickets, a.phase.matches),
                (b.phase.enqueued, b.phase.matched_tickets, b.phase.matches),
                "{}: runs differ",
                a.name
            );
        }
    }
    // Per phase: the runs' rates, and the run whose rate is the median.
    let chosen: Vec<(&Measured, Vec<f64>)> = (0..first.phases.len())
        .map(|i| {
            let mut by_rate: Vec<&Measured> = runs.iter().map(|r| &r.phases[i]).collect();
            let rates = by_rate.iter().map(|m| rate(m)).collect();
            by_rate.sort_by(|a, b| rate(a).total_cmp(&rate(b)));
            (by_rate[by_rate.len() / 2], rates)
        })
        .collect();

    let per_sec = |n: u64, s: Option<f64>| {
        s.filter(|s| *s > 0.0)
            .map_or("-".to_owned(), |s| format!("{:.0}", n as f64 / s))
    };
    println!("matchmaking core, one thread, 3 modes x 4 regions, candidate window 32");
    println!("{repeat} runs; each phase from the run with its median CPU rate");
    println!();
    println!(
        "| phase | tickets enqueued | tickets matched | matches | timed out | wall s | CPU s | matched/s (wall) | matched/s (CPU) | matched/s (CPU), every run |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (m, rates) in &chosen {
        let p = &m.phase;
        let all: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
        println!(
            "| {} | {} | {} | {} | {} | {:.2} | {} | {} | {} | {} |",
            m.name,
            p.enqueued,
            p.matched_tickets,
            p.matches,
            p.timed_out,
            m.wall,
            m.cpu.map_or("-".to_owned(), |c| format!("{c:.2}")),
            per_sec(p.matched_tickets, Some(m.wall)),
            per_sec(p.matched_tickets, m.cpu),
            all.join(", "),
        );
    }
    let slowest = chosen
        .iter()
        .min_by(|a, b| rate(a.0).total_cmp(&rate(b.0)))
        .expect("phases");
    println!();
    println!(
        "slowest phase (median run): {} at {:.0} tickets matched per CPU second (target: at least 50000)",
        slowest.0.name,
        rate(slowest.0)
    );
    println!();
    println!(
        "burst (first run): enqueue of {POOL} tickets {:.2} s wall, the matching tick {:.2} s wall, {} left searching",
        first.enqueue_wall, first.burst_tick_wall, first.burst_left
    );
    for m in &first.phases[1..] {
        let (lo, hi) = m.pool_after;
        println!(
            "{}: {} ticks of {TICK_MS} ms; arrivals {:.0}/s virtual; searching after a tick {lo}..{hi}",
            m.name,
            m.ticks,
            m.phase.enqueued as f64 * 1000.0 / (f64::from(m.ticks) * TICK_MS as f64)
        );
    }
    let burst = &first.phases[0].phase;
    println!(
        "mean team rating gap / players per match: burst {:.1} / {:.1}",
        burst.gap_sum / burst.matches.max(1) as f64,
        burst.matched_players as f64 / burst.matches.max(1) as f64
    );
    println!();
    // Virtual time: the same in every run.
    println!("| time to match (virtual) | phase | tickets | p50 | p99 |");
    println!("|---|---|---|---|---|");
    let mut runs = runs;
    for m in &mut runs[0].phases[1..] {
        let (name, p) = (m.name, &mut m.phase);
        let n_typ = p.waits_typical.len();
        let n_all = p.waits_all.len();
        println!(
            "| typical (solo, ±1σ, home ≤ 60 ms) | {name} | {n_typ} | {} | {} |",
            pct(&mut p.waits_typical, 0.5),
            pct(&mut p.waits_typical, 0.99)
        );
        println!(
            "| all matched | {name} | {n_all} | {} | {} |",
            pct(&mut p.waits_all, 0.5),
            pct(&mut p.waits_all, 0.99)
        );
    }
}
