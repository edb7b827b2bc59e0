//! The matchmaker state machine: pools, the matching pass, placement and cancellation.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Bound::{Excluded, Included};

use protocol::http::{FailureReason, TicketStatus};

use super::median::SlidingMedian;
use super::rules::{Caps, ConfigError, MatchmakerConfig, Millis};
use super::teams::{self, Unit};
use crate::ratings::{PlacedPlayer, PlacementRecord};

/// A ticket's id, minted by [`Matchmaker::handle_enqueue`] (the HTTP shell maps it to the
/// API's string id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TicketId(pub u64);

/// A proposed match's id, minted by the matchmaker; the shell uses it to name the
/// placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatchId(pub u64);

/// One player of a ticket request.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerEntry {
    /// The player id (the token subject).
    pub id: String,
    /// The displayed rating for the mode, read by the shell from the profile.
    pub rating: f64,
}

/// What [`Matchmaker::handle_enqueue`] needs to know about a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRequest {
    /// The mode's name.
    pub mode: String,
    /// The players: the creator first, then the party.
    pub players: Vec<PlayerEntry>,
    /// Latency of the ticket to each region, in ms (for a party, the shell passes the
    /// worst member's). Unknown regions are ignored.
    pub latencies_ms: Vec<(String, u32)>,
}

/// Why a ticket was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EnqueueError {
    /// No mode of that name is configured.
    #[error("unknown mode {0:?}")]
    UnknownMode(String),
    /// The ticket has no players.
    #[error("a ticket needs at least one player")]
    NoPlayers,
    /// The party does not fit on one team of the mode.
    #[error("a party of {size} does not fit a team of {team_max}")]
    PartyTooLarge {
        /// Players in the ticket.
        size: usize,
        /// The mode's team size.
        team_max: u16,
    },
    /// A player is listed twice in the ticket.
    #[error("player {0:?} is listed twice")]
    DuplicatePlayer(String),
    /// A rating is NaN or infinite.
    #[error("player {0:?} has a rating that is not a finite number")]
    BadRating(String),
    /// A player already has a live (searching or placing) ticket.
    #[error("player {player:?} already has live ticket {ticket:?}")]
    PlayerAlreadyQueued {
        /// The player.
        player: String,
        /// Their live ticket.
        ticket: TicketId,
    },
    /// No configured region is within the mode's loosest latency cap.
    #[error("no configured region is reachable within the mode's latency cap")]
    NoReachableRegion,
}

/// What a cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The ticket was searching and is now `CANCELLED`.
    Cancelled,
    /// The ticket was in a match being placed: it is `CANCELLED`, the match is broken up
    /// (an [`Output::MatchAbandoned`] tells the shell to stop the placement) and the other
    /// tickets are searching again with their original enqueue time.
    CancelledMatchAbandoned(MatchId),
}

/// Why a cancel did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CancelError {
    /// The ticket is already in a final state; `COMPLETED` means placement won the race and
    /// the ticket stays matched.
    #[error("the ticket is already {0}")]
    AlreadyFinal(TicketStatus),
    /// No such ticket (or it was forgotten).
    #[error("unknown ticket")]
    UnknownTicket,
}

/// A placement callback named a match that is not being placed (never proposed,
/// abandoned by a cancel, or already resolved). On success, the shell must end the game
/// session it created, since nobody is coming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("match {0:?} is not being placed")]
pub struct UnknownMatch(pub MatchId);

/// One player of a proposed match.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchPlayer {
    /// The player.
    pub player_id: String,
    /// Their ticket.
    pub ticket: TicketId,
    /// Their rating.
    pub rating: f64,
}

/// A match for the shell to place on GameLift.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposedMatch {
    /// The match.
    pub match_id: MatchId,
    /// The mode's name.
    pub mode: String,
    /// The region (GameLift location) it must be placed in.
    pub region: String,
    /// The teams; a party's players are always on the same team.
    pub teams: Vec<Vec<MatchPlayer>>,
    /// The tickets, oldest first.
    pub tickets: Vec<TicketId>,
    /// The ticket the match was built around; its caps are the ones that applied.
    pub anchor: TicketId,
    /// Highest minus lowest ticket rating.
    pub skill_spread: f64,
    /// The skill cap that applied (the anchor's, at its wait).
    pub skill_cap: f64,
    /// Highest latency of any ticket to `region`.
    pub max_latency_ms: u32,
    /// The latency cap that applied (the anchor's).
    pub latency_cap_ms: u32,
    /// Highest minus lowest team mean rating: the balance quality (0 is perfect).
    pub team_rating_gap: f64,
    /// When it was proposed.
    pub proposed_at_ms: Millis,
}

impl ProposedMatch {
    /// The [`PlacementRecord`] to store once GameLift placed the match as
    /// `game_session_id`, given each player's player-session id. Teams are named
    /// `team-0`, `team-1`, …, except when every team has at most one player (the teams
    /// are then left out, as in a free-for-all). `None` if a player has no session.
    pub fn placement_record(
        &self,
        game_session_id: &str,
        mut player_session_of: impl FnMut(&str) -> Option<String>,
    ) -> Option<PlacementRecord> {
        let named = self.teams.iter().any(|t| t.len() > 1);
        let mut players = Vec::new();
        for (i, team) in self.teams.iter().enumerate() {
            for p in team {
                players.push(PlacedPlayer {
                    player_id: p.player_id.clone(),
                    player_session_id: player_session_of(&p.player_id)?,
                    team: named.then(|| format!("team-{i}")),
                });
            }
        }
        Some(PlacementRecord {
            match_id: game_session_id.to_owned(),
            players,
        })
    }
}

/// A ticket's state change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketChange {
    /// The ticket.
    pub ticket: TicketId,
    /// Its new state.
    pub status: TicketStatus,
    /// The reason, when `status` is `FAILED`.
    pub reason: Option<FailureReason>,
    /// The match, when `PLACING` or `COMPLETED`.
    pub match_id: Option<MatchId>,
    /// When it changed.
    pub at_ms: Millis,
}

/// What the matchmaker asks of its shell, in order, from [`Matchmaker::poll`].
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Place this match; answer with `handle_placement_succeeded` or
    /// `handle_placement_failed`.
    MatchProposed(ProposedMatch),
    /// A ticket of this match was cancelled while it was being placed: stop the
    /// placement; a later success for it is refused with [`UnknownMatch`].
    MatchAbandoned {
        /// The match.
        match_id: MatchId,
        /// The cancelled ticket.
        cancelled: TicketId,
    },
    /// A ticket changed state (including `SEARCHING` at enqueue).
    TicketStateChanged(TicketChange),
}

/// A ticket as [`Matchmaker::ticket`] shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketView {
    /// Its state.
    pub status: TicketStatus,
    /// The reason, when `FAILED`.
    pub reason: Option<FailureReason>,
    /// Its match, while `PLACING` and once `COMPLETED`.
    pub match_id: Option<MatchId>,
}

/// Live numbers for one mode, as the stats page shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeStats {
    /// The mode.
    pub mode: String,
    /// Tickets searching now.
    pub tickets_searching: usize,
    /// Players in those tickets.
    pub players_searching: usize,
    /// Median wait from enqueue to proposal of the tickets matched in the stats window.
    pub median_wait_ms: Option<Millis>,
    /// Matches proposed in the stats window.
    pub matches_started: usize,
}

/// Multiplicative hash for integer ids the process mints itself (sequential numbers, or
/// random ones from a CSPRNG), so no client can choose colliding keys; SipHash costs more
/// than the rest of a lookup.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64 ^ (n >> 64) as u64);
    }
}

/// A hash map keyed by ids the process minted (see [`IdHasher`]).
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A hash map keyed by names no client picks: player ids (the `sub` of a verified token,
/// chosen by the identity provider), configured mode and region names, GameLift ARNs.
/// foldhash, seeded per map: a fraction of SipHash's cost, and resistant to the inputs
/// that collide for every seed, which is all such keys need; a key taken straight from
/// a request body would want SipHash.
pub(crate) type KeyMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Ratings are keyed in thousandths so the pools can be ordered maps.
const KEY_SCALE: f64 = 1000.0;

pub(super) fn rating_key(r: f64) -> i64 {
    (r * KEY_SCALE).round() as i64
}

/// A ticket in a region pool: what the candidate search needs without a lookup.
#[derive(Debug, Clone, Copy)]
pub(super) struct PoolEntry {
    rating: f64,
    latency: u32,
    enqueued_ms: Millis,
    size: u16,
}

pub(super) type Pool = BTreeMap<(i64, TicketId), PoolEntry>;

#[derive(Debug)]
pub(super) struct Ticket {
    mode: usize,
    /// The players' mean rating.
    rating: f64,
    players: Vec<PlayerEntry>,
    key: i64,
    /// Configured regions within the mode's loosest latency cap, by latency ascending;
    /// the ticket is in each one's pool while searching.
    latencies: Vec<(usize, u32)>,
    enqueued_ms: Millis,
    status: TicketStatus,
    match_id: Option<MatchId>,
    failures: u32,
    /// What the last fruitless examination saw: the caps (skill bits, latency, team
    /// minimum) and the sum of its pools' change counters. While both are the same, a new
    /// examination would find nothing either, and is skipped.
    last_look: Option<(u64, u32, u16, u64)>,
    /// Its entry in the due set while searching.
    pub(super) due_ms: Millis,
}

#[derive(Debug, Default)]
struct ModeCounters {
    tickets_searching: usize,
    players_searching: usize,
    /// (proposed at, wait) of tickets matched in the stats window.
    waits: VecDeque<(Millis, Millis)>,
    /// The median of `waits`' waits.
    median: SlidingMedian,
    /// Proposal times in the stats window.
    matches: VecDeque<Millis>,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    rating: f64,
    enqueued_ms: Millis,
    id: TicketId,
    size: u16,
    latency: u32,
}

struct Pick {
    region: usize,
    tickets: Vec<Candidate>,
    players: usize,
}

/// The sans-IO matchmaker. See the [module docs](super) for the rules.
#[derive(Debug)]
pub struct Matchmaker {
    config: MatchmakerConfig,
    mode_index: KeyMap<String, usize>,
    region_index: KeyMap<String, usize>,
    /// `[mode][region]`: searching tickets by (rating key, id).
    pub(super) pools: Vec<Vec<Pool>>,
    pub(super) tickets: IdMap<TicketId, Ticket>,
    finished: IdMap<TicketId, TicketView>,
    pub(super) live_players: KeyMap<String, TicketId>,
    /// Searching tickets by (deadline, id).
    pub(super) deadlines: BTreeSet<(Millis, TicketId)>,
    /// Searching tickets by (next examination, enqueue time, id).
    pub(super) due: BTreeSet<(Millis, Millis, TicketId)>,
    pub(super) placing: IdMap<MatchId, Vec<TicketId>>,
    counters: Vec<ModeCounters>,
    /// `[mode][region]`: bumped whenever a ticket enters or leaves the pool.
    pool_changes: Vec<Vec<u64>>,
    outputs: VecDeque<Output>,
    next_ticket: u64,
    next_match: u64,
    scratch: Vec<Candidate>,
    /// The matching pass in progress: due tickets taken from `due` and not yet examined,
    /// by (enqueue time, id), oldest **last** (popped first).
    pub(super) pass: Vec<(Millis, TicketId)>,
}

impl Matchmaker {
    /// A matchmaker with no tickets.
    pub fn new(config: MatchmakerConfig) -> Result<Matchmaker, ConfigError> {
        config.validate()?;
        let mode_index = config
            .modes
            .iter()
            .enumerate()
            .map(|(i, m)| (m.name.clone(), i))
            .collect();
        let region_index = config
            .regions
            .iter()
            .enumerate()
            .map(|(i, r)| (r.clone(), i))
            .collect();
        let pools = config
            .modes
            .iter()
            .map(|_| config.regions.iter().map(|_| Pool::new()).collect())
            .collect();
        let counters = config
            .modes
            .iter()
            .map(|_| ModeCounters::default())
            .collect();
        let config_pool_changes = config
            .modes
            .iter()
            .map(|_| vec![0; config.regions.len()])
            .collect();
        Ok(Matchmaker {
            config,
            mode_index,
            region_index,
            pools,
            tickets: IdMap::default(),
            finished: IdMap::default(),
            live_players: KeyMap::default(),
            deadlines: BTreeSet::new(),
            due: BTreeSet::new(),
            placing: IdMap::default(),
            counters,
            pool_changes: config_pool_changes,
            outputs: VecDeque::new(),
            next_ticket: 1,
            next_match: 1,
            scratch: Vec::new(),
            pass: Vec::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MatchmakerConfig {
        &self.config
    }

    /// Adds a ticket; it is `SEARCHING` and examined on the next tick.
    pub fn handle_enqueue(
        &mut self,
        now: Millis,
        request: TicketRequest,
    ) -> Result<TicketId, EnqueueError> {
        let &mode = self
            .mode_index
            .get(&request.mode)
            .ok_or_else(|| EnqueueError::UnknownMode(request.mode.clone()))?;
        let rules = &self.config.modes[mode];
        let players = request.players;
        if players.is_empty() {
            return Err(EnqueueError::NoPlayers);
        }
        if players.len() > usize::from(rules.team_max) {
            return Err(EnqueueError::PartyTooLarge {
                size: players.len(),
                team_max: rules.team_max,
            });
        }
        for (i, p) in players.iter().enumerate() {
            if !p.rating.is_finite() {
                return Err(EnqueueError::BadRating(p.id.clone()));
            }
            if players[..i].iter().any(|q| q.id == p.id) {
                return Err(EnqueueError::DuplicatePlayer(p.id.clone()));
            }
            if let Some(&ticket) = self.live_players.get(&p.id) {
                return Err(EnqueueError::PlayerAlreadyQueued {
                    player: p.id.clone(),
                    ticket,
                });
            }
        }
        let loosest = rules.latency_cap_ms.last();
        let mut latencies: Vec<(usize, u32)> = Vec::new();
        for (region, ms) in &request.latencies_ms {
            let Some(&r) = self.region_index.get(region) else {
                continue;
            };
            if let Some(e) = latencies.iter_mut().find(|e| e.0 == r) {
                e.1 = e.1.max(*ms);
            } else {
                latencies.push((r, *ms));
            }
        }
        latencies.retain(|e| e.1 <= loosest);
        if latencies.is_empty() {
            return Err(EnqueueError::NoReachableRegion);
        }
        latencies.sort_by_key(|e| (e.1, e.0));
        let rating = players.iter().map(|p| p.rating).sum::<f64>() / players.len() as f64;
        let id = TicketId(self.next_ticket);
        self.next_ticket += 1;
        for p in &players {
            self.live_players.insert(p.id.clone(), id);
        }
        self.tickets.insert(
            id,
            Ticket {
                mode,
                players,
                rating,
                key: rating_key(rating),
                latencies,
                enqueued_ms: now,
                status: TicketStatus::Searching,
                match_id: None,
                failures: 0,
                last_look: None,
                due_ms: now,
            },
        );
        self.enter_pool(id, now);
        Ok(id)
    }

    /// Cancels a ticket. See [`CancelOutcome`] and [`CancelError`]: a ticket whose match
    /// was already placed stays `COMPLETED`.
    pub fn handle_cancel(
        &mut self,
        now: Millis,
        ticket: TicketId,
    ) -> Result<CancelOutcome, CancelError> {
        let Some(t) = self.tickets.get(&ticket) else {
            return Err(match self.finished.get(&ticket) {
                Some(v) => CancelError::AlreadyFinal(v.status),
                None => CancelError::UnknownTicket,
            });
        };
        match (t.status, t.match_id) {
            (TicketStatus::Placing, Some(match_id)) => {
                let members = self.placing.remove(&match_id).unwrap_or_default();
                self.outputs.push_back(Output::MatchAbandoned {
                    match_id,
                    cancelled: ticket,
                });
                for other in members.into_iter().filter(|&o| o != ticket) {
                    self.enter_pool(other, now);
                }
                self.finish(ticket, TicketStatus::Cancelled, None, now);
                Ok(CancelOutcome::CancelledMatchAbandoned(match_id))
            }
            _ => {
                self.leave_pool(ticket);
                self.finish(ticket, TicketStatus::Cancelled, None, now);
                Ok(CancelOutcome::Cancelled)
            }
        }
    }

    /// GameLift placed the match: its tickets become `COMPLETED`.
    pub fn handle_placement_succeeded(
        &mut self,
        now: Millis,
        match_id: MatchId,
    ) -> Result<(), UnknownMatch> {
        let members = self
            .placing
            .remove(&match_id)
            .ok_or(UnknownMatch(match_id))?;
        for t in members {
            self.finish(t, TicketStatus::Completed, None, now);
        }
        Ok(())
    }

    /// GameLift could not place the match. Each ticket spends one retry: with retries
    /// left it goes back to `SEARCHING` (keeping its enqueue time, so it keeps its place
    /// and its relaxed caps); without, it is `FAILED` with `reason`.
    pub fn handle_placement_failed(
        &mut self,
        now: Millis,
        match_id: MatchId,
        reason: FailureReason,
    ) -> Result<(), UnknownMatch> {
        let members = self
            .placing
            .remove(&match_id)
            .ok_or(UnknownMatch(match_id))?;
        for id in members {
            let Some(t) = self.tickets.get_mut(&id) else {
                continue;
            };
            t.failures += 1;
            let budget = self.config.modes[t.mode].placement_retries;
            if t.failures > budget {
                self.finish(id, TicketStatus::Failed, Some(reason), now);
            } else {
                self.enter_pool(id, now);
            }
        }
        Ok(())
    }

    /// Advances to `now`: times out tickets past their limit, then examines every ticket
    /// that is due (new, returned, relaxed, or not examined for the recheck interval),
    /// oldest first, proposing the matches it finds.
    pub fn handle_timeout(&mut self, now: Millis) {
        while self.handle_timeout_step(now, usize::MAX) {}
    }

    /// [`handle_timeout`](Self::handle_timeout) in steps, so that a shell can serve other
    /// calls during a long pass: times out tickets past their limit, takes every ticket
    /// due at `now` into the pass, and examines at most `budget` of the pass's tickets
    /// (oldest first, as one whole pass would). Returns whether tickets of the pass are
    /// left: call it again until it returns `false`. `now` never goes back, and is never
    /// before a call made in between. With no call in between and the same `now`, the
    /// steps propose exactly what one `handle_timeout(now)` would; calls in between apply
    /// as if made before the tickets still waiting in the pass were examined, and tickets
    /// due by a later step's `now` join the pass in enqueue order.
    pub fn handle_timeout_step(&mut self, now: Millis, budget: usize) -> bool {
        while let Some(&(deadline, id)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            self.leave_pool(id);
            self.finish(id, TicketStatus::TimedOut, None, now);
        }
        let window = self.config.stats_window_ms;
        for c in &mut self.counters {
            while let Some(&(at, wait)) = c.waits.front() {
                if at + window >= now {
                    break;
                }
                c.waits.pop_front();
                c.median.remove(wait);
            }
            while c.matches.front().is_some_and(|&m| m + window < now) {
                c.matches.pop_front();
            }
        }
        let before = self.pass.len();
        while let Some(&(due, enqueued, id)) = self.due.first() {
            if due > now {
                break;
            }
            self.due.pop_first();
            self.pass.push((enqueued, id));
        }
        if self.pass.len() > before {
            self.pass.sort_unstable_by(|a, b| b.cmp(a));
        }
        for _ in 0..budget {
            let Some((_, id)) = self.pass.pop() else {
                break;
            };
            let Some(t) = self.tickets.get(&id) else {
                continue;
            };
            if t.status != TicketStatus::Searching {
                continue;
            }
            // A ticket that left the pool and came back while it waited in the pass has
            // a due entry again; it is examined now, and rescheduled from here.
            self.due.remove(&(t.due_ms, t.enqueued_ms, id));
            let look = self.look(id, now);
            if self.tickets[&id].last_look == Some(look) {
                self.schedule(id, now);
                continue;
            }
            if !self.try_match(id, now) {
                self.tickets.get_mut(&id).expect("searching").last_look = Some(look);
                self.schedule(id, now);
            }
        }
        !self.pass.is_empty()
    }

    /// The next output, in the order they arose.
    pub fn poll(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// A ticket's state, live or final (until [`forget`](Self::forget)).
    pub fn ticket(&self, ticket: TicketId) -> Option<TicketView> {
        if let Some(t) = self.tickets.get(&ticket) {
            return Some(TicketView {
                status: t.status,
                reason: None,
                match_id: t.match_id,
            });
        }
        self.finished.get(&ticket).copied()
    }

    /// Drops what is remembered about a final ticket (after the shell stored it), so
    /// memory stays bounded. Live tickets are not affected.
    pub fn forget(&mut self, ticket: TicketId) {
        self.finished.remove(&ticket);
    }

    /// The live (searching or placing) ticket a player is in.
    pub fn live_ticket_of(&self, player: &str) -> Option<TicketId> {
        self.live_players.get(player).copied()
    }

    /// Tickets searching across all modes.
    pub fn tickets_searching(&self) -> usize {
        self.counters.iter().map(|c| c.tickets_searching).sum()
    }

    /// Matches proposed and not yet resolved.
    pub fn matches_placing(&self) -> usize {
        self.placing.len()
    }

    /// Live numbers per mode, in configuration order, for the stats window ending at the
    /// last tick.
    pub fn mode_stats(&self) -> Vec<ModeStats> {
        self.config
            .modes
            .iter()
            .zip(&self.counters)
            .map(|(m, c)| ModeStats {
                mode: m.name.clone(),
                tickets_searching: c.tickets_searching,
                players_searching: c.players_searching,
                median_wait_ms: c.median.median(),
                matches_started: c.matches.len(),
            })
            .collect()
    }

    // ---- internals ----

    /// Puts a ticket (new, or back from a match) in its pools as `SEARCHING`, due now.
    fn enter_pool(&mut self, id: TicketId, now: Millis) {
        let t = self.tickets.get_mut(&id).expect("ticket exists");
        t.status = TicketStatus::Searching;
        t.match_id = None;
        t.due_ms = now;
        t.last_look = None;
        let rules = &self.config.modes[t.mode];
        let entry = |latency| PoolEntry {
            rating: t.rating,
            latency,
            enqueued_ms: t.enqueued_ms,
            size: t.players.len() as u16,
        };
        for &(region, latency) in &t.latencies {
            self.pools[t.mode][region].insert((t.key, id), entry(latency));
            self.pool_changes[t.mode][region] += 1;
        }
        self.deadlines
            .insert((t.enqueued_ms + rules.ticket_timeout_ms, id));
        self.due.insert((now, t.enqueued_ms, id));
        let c = &mut self.counters[t.mode];
        c.tickets_searching += 1;
        c.players_searching += t.players.len();
        self.outputs
            .push_back(Output::TicketStateChanged(TicketChange {
                ticket: id,
                status: TicketStatus::Searching,
                reason: None,
                match_id: None,
                at_ms: now,
            }));
    }

    /// Takes a searching ticket out of its pools and timers (its status is the caller's).
    fn leave_pool(&mut self, id: TicketId) {
        let t = &self.tickets[&id];
        debug_assert_eq!(t.status, TicketStatus::Searching);
        for &(region, _) in &t.latencies {
            self.pools[t.mode][region].remove(&(t.key, id));
            self.pool_changes[t.mode][region] += 1;
        }
        let rules = &self.config.modes[t.mode];
        self.deadlines
            .remove(&(t.enqueued_ms + rules.ticket_timeout_ms, id));
        self.due.remove(&(t.due_ms, t.enqueued_ms, id));
        let c = &mut self.counters[t.mode];
        c.tickets_searching -= 1;
        c.players_searching -= t.players.len();
    }

    /// Moves a ticket (already out of its pools) to a final state.
    fn finish(
        &mut self,
        id: TicketId,
        status: TicketStatus,
        reason: Option<FailureReason>,
        now: Millis,
    ) {
        let t = self.tickets.remove(&id).expect("ticket exists");
        for p in &t.players {
            self.live_players.remove(&p.id);
        }
        let match_id = if status == TicketStatus::Completed {
            t.match_id
        } else {
            None
        };
        self.finished.insert(
            id,
            TicketView {
                status,
                reason,
                match_id,
            },
        );
        self.outputs
            .push_back(Output::TicketStateChanged(TicketChange {
                ticket: id,
                status,
                reason,
                match_id,
                at_ms: now,
            }));
    }

    /// What an examination of `id` at `now` depends on besides the ticket itself.
    fn look(&self, id: TicketId, now: Millis) -> (u64, u32, u16, u64) {
        let t = &self.tickets[&id];
        let caps = self.config.modes[t.mode].caps_at(now - t.enqueued_ms);
        let changes = t
            .latencies
            .iter()
            .map(|&(r, _)| self.pool_changes[t.mode][r])
            .fold(0u64, u64::wrapping_add);
        (
            caps.skill.to_bits(),
            caps.latency_ms,
            caps.team_min,
            changes,
        )
    }

    /// Sets the next examination of a ticket that found no match: when a cap next
    /// relaxes, or after the recheck interval, whichever is first.
    fn schedule(&mut self, id: TicketId, now: Millis) {
        let t = self.tickets.get_mut(&id).expect("ticket exists");
        let rules = &self.config.modes[t.mode];
        let waited = now - t.enqueued_ms;
        let mut next = now + self.config.recheck_interval_ms;
        if let Some(w) = rules.next_relaxation_after(waited) {
            next = next.min(t.enqueued_ms + w);
        }
        t.due_ms = next;
        self.due.insert((next, t.enqueued_ms, id));
    }

    /// Tries to build a match around `anchor`; proposes it and returns true on success.
    fn try_match(&mut self, anchor: TicketId, now: Millis) -> bool {
        let t = &self.tickets[&anchor];
        let rules = &self.config.modes[t.mode];
        let caps = rules.caps_at(now - t.enqueued_ms);
        let min_players = usize::from(rules.teams) * usize::from(caps.team_min);
        let max_players = rules.max_players();
        let mut best: Option<Pick> = None;
        let mut scratch = std::mem::take(&mut self.scratch);
        for &(region, latency) in &t.latencies {
            if latency > caps.latency_ms {
                break;
            }
            let Some(pick) = self.pick_in_region(anchor, t, region, latency, caps, &mut scratch)
            else {
                continue;
            };
            if pick.players < min_players {
                continue;
            }
            let full = pick.players == max_players;
            if best.as_ref().is_none_or(|b| pick.players > b.players) {
                best = Some(pick);
            }
            if full {
                break;
            }
        }
        self.scratch = scratch;
        let Some(pick) = best else {
            return false;
        };
        let units: Vec<Unit> = pick
            .tickets
            .iter()
            .map(|c| {
                let ps = &self.tickets[&c.id].players;
                Unit {
                    size: ps.len(),
                    rating_sum: ps.iter().map(|p| p.rating).sum(),
                }
            })
            .collect();
        let Some((team_of, gap)) = teams::split(
            &units,
            usize::from(rules.teams),
            usize::from(caps.team_min),
            usize::from(rules.team_max),
        ) else {
            return false;
        };
        self.propose(now, pick, &team_of, gap, caps);
        true
    }

    /// The best group around `anchor` in one region: up to `candidate_window` tickets
    /// nearest in rating within the skill cap and under the latency cap, taken oldest
    /// first while the spread stays within the cap and the parties still fit the teams.
    fn pick_in_region(
        &self,
        anchor: TicketId,
        t: &Ticket,
        region: usize,
        anchor_latency: u32,
        caps: Caps,
        cands: &mut Vec<Candidate>,
    ) -> Option<Pick> {
        let rules = &self.config.modes[t.mode];
        let pool = &self.pools[t.mode][region];
        // The key range is a superset (rounding); the spread is checked on the ratings.
        let cap_key = ((caps.skill * KEY_SCALE).ceil() as i64).saturating_add(1);
        let here = (t.key, anchor);
        let lo = (t.key.saturating_sub(cap_key), TicketId(0));
        let hi = (t.key.saturating_add(cap_key), TicketId(u64::MAX));
        let mut down = pool.range(lo..here).rev();
        let mut up = pool.range((Excluded(here), Included(hi)));
        let (mut nd, mut nu) = (down.next(), up.next());
        let window = self.config.candidate_window;
        let mut scanned = 0;
        cands.clear();
        while cands.len() < window && scanned < 4 * window {
            let take_down = match (nd, nu) {
                (Some(d), Some(u)) => t.key - d.0.0 <= u.0.0 - t.key,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let (k, e) = if take_down {
                let x = nd.expect("checked");
                nd = down.next();
                x
            } else {
                let x = nu.expect("checked");
                nu = up.next();
                x
            };
            scanned += 1;
            if e.latency <= caps.latency_ms {
                cands.push(Candidate {
                    rating: e.rating,
                    enqueued_ms: e.enqueued_ms,
                    id: k.1,
                    size: e.size,
                    latency: e.latency,
                });
            }
        }
        cands.sort_unstable_by_key(|c| (c.enqueued_ms, c.id));
        let max_players = rules.max_players();
        let teams = usize::from(rules.teams);
        let team_max = usize::from(rules.team_max);
        let anchor_size = t.players.len();
        let mut chosen = vec![Candidate {
            rating: t.rating,
            enqueued_ms: t.enqueued_ms,
            id: anchor,
            size: anchor_size as u16,
            latency: anchor_latency,
        }];
        let (mut lo_r, mut hi_r) = (t.rating, t.rating);
        let mut players = anchor_size;
        let mut all_solo = anchor_size == 1;
        let mut sizes = Vec::new();
        for c in cands.iter() {
            if players == max_players {
                break;
            }
            let size = usize::from(c.size);
            if players + size > max_players {
                continue;
            }
            let (nlo, nhi) = (lo_r.min(c.rating), hi_r.max(c.rating));
            if nhi - nlo > caps.skill {
                continue;
            }
            if !(all_solo && size == 1) {
                sizes.clear();
                sizes.extend(chosen.iter().map(|x| usize::from(x.size)));
                sizes.push(size);
                if !teams::packable(&mut sizes, teams, team_max) {
                    continue;
                }
            }
            all_solo &= size == 1;
            lo_r = nlo;
            hi_r = nhi;
            players += size;
            chosen.push(*c);
        }
        Some(Pick {
            region,
            tickets: chosen,
            players,
        })
    }

    fn propose(&mut self, now: Millis, pick: Pick, team_of: &[usize], gap: f64, caps: Caps) {
        let match_id = MatchId(self.next_match);
        self.next_match += 1;
        let ids: Vec<TicketId> = pick.tickets.iter().map(|c| c.id).collect();
        for &id in &ids {
            self.leave_pool(id);
        }
        let mode = self.tickets[&ids[0]].mode;
        let rules = &self.config.modes[mode];
        let mut teams: Vec<Vec<MatchPlayer>> = vec![Vec::new(); usize::from(rules.teams)];
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let counters = &mut self.counters[mode];
        counters.matches.push_back(now);
        for (i, &id) in ids.iter().enumerate() {
            let t = self.tickets.get_mut(&id).expect("ticket exists");
            t.status = TicketStatus::Placing;
            t.match_id = Some(match_id);
            counters.waits.push_back((now, now - t.enqueued_ms));
            counters.median.insert(now - t.enqueued_ms);
            lo = lo.min(t.rating);
            hi = hi.max(t.rating);
            teams[team_of[i]].extend(t.players.iter().map(|p| MatchPlayer {
                player_id: p.id.clone(),
                ticket: id,
                rating: p.rating,
            }));
        }
        let mut by_age = pick.tickets.clone();
        by_age.sort_unstable_by_key(|c| (c.enqueued_ms, c.id));
        self.placing.insert(match_id, ids);
        self.outputs.push_back(Output::MatchProposed(ProposedMatch {
            match_id,
            mode: rules.name.clone(),
            region: self.config.regions[pick.region].clone(),
            teams,
            tickets: by_age.iter().map(|c| c.id).collect(),
            anchor: pick.tickets[0].id,
            skill_spread: hi - lo,
            skill_cap: caps.skill,
            max_latency_ms: pick.tickets.iter().map(|c| c.latency).max().unwrap_or(0),
            latency_cap_ms: caps.latency_ms,
            team_rating_gap: gap,
            proposed_at_ms: now,
        }));
        for c in &by_age {
            self.outputs
                .push_back(Output::TicketStateChanged(TicketChange {
                    ticket: c.id,
                    status: TicketStatus::Placing,
                    reason: None,
                    match_id: Some(match_id),
                    at_ms: now,
                }));
        }
    }
}
