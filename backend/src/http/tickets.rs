//! The matchmaking driver: one task that owns the [`Matchmaker`], the API's view of every
//! ticket, and the placements in flight.
//!
//! **What it is:** [`spawn_matchmaker`] starts the task and returns a [`MatchmakerHandle`]
//! that handlers use to create, read, cancel and watch tickets. The task applies commands
//! in arrival order, ticks the core on a timer ([`DriverConfig::tick`]) and runs each
//! matching pass in short steps between commands (a pass over thousands of new tickets
//! takes tens of milliseconds, which every command would otherwise wait out), hands the
//! matches proposed together to a [`Placer`] in one task (placed concurrently; those
//! placed together recorded with one store call), writes the placement record to the
//! profile store before reporting success to the core (so no client learns of a match
//! whose record is missing), and reports failures back so the core returns the tickets
//! to the pool or fails them. Tickets are kept in a ring indexed by the core's sequential
//! ticket id, with a map from the API id for requests. Every state change bumps the
//! ticket's `seq` and is broadcast to its event-stream subscribers. Final tickets stay
//! readable for [`DriverConfig::final_retention`], then are forgotten.
//!
//! **What it is not:** durable or shared between instances: the pools and tickets live in
//! this process (see the matchmaking core's docs for the scale-out story), and a restart
//! forgets every ticket. It does no HTTP; handlers map its answers to responses.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use protocol::http::{
    ConnectionInfo, ErrorCode, FailureReason, MatchmakingStats, ModeQueueStats, Ticket,
    TicketState, TicketStatus,
};
use tokio::sync::{broadcast, mpsc, oneshot};
use uuid::Uuid;

use super::error::HttpError;
use super::metrics::ApiMetrics;
use crate::matchmaking::{
    CancelError, EnqueueError, IdMap, MatchId, Matchmaker, Output, PlayerEntry, ProposedMatch,
    TicketId, TicketRequest,
};
use crate::placement::{PlacedMatch, PlacementFailure, Placer};
use crate::profiles::ProfileStore;

/// Milliseconds since the Unix epoch, from a monotonic clock: the wall time at start plus
/// tokio's elapsed time, so tests on paused tokio time run on virtual time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    epoch_ms_at_start: u64,
    start: tokio::time::Instant,
}

impl Clock {
    /// A clock reading the system's wall time once, now.
    pub fn system() -> Clock {
        let epoch_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        Clock::starting_at(epoch_ms)
    }

    /// A clock that reads `epoch_ms` now (tests).
    pub fn starting_at(epoch_ms: u64) -> Clock {
        Clock {
            epoch_ms_at_start: epoch_ms,
            start: tokio::time::Instant::now(),
        }
    }

    /// Now, in epoch milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.epoch_ms_at_start + self.start.elapsed().as_millis() as u64
    }
}

/// The longest wait between two placement attempts on a full fleet.
pub const MAX_CAPACITY_BACKOFF: Duration = Duration::from_secs(5);

/// The driver's timing.
#[derive(Debug, Clone, Copy)]
pub struct DriverConfig {
    /// How often the core is ticked (matching pass and time limits).
    pub tick: Duration,
    /// How long a final ticket stays readable.
    pub final_retention: Duration,
    /// Placements that fail with `no_capacity` are tried again this many times, within
    /// the same match (its tickets stay PLACING), before the failure reaches the core and
    /// spends the tickets' retry budget: a full fleet usually frees a process within
    /// seconds, and an immediate re-match would only fail again.
    pub capacity_retries: u32,
    /// The wait before the first capacity retry; doubled for each next one.
    pub capacity_backoff: Duration,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig {
            tick: Duration::from_millis(200),
            final_retention: Duration::from_secs(600),
            capacity_retries: 3,
            capacity_backoff: Duration::from_secs(1),
        }
    }
}

/// A ticket's state as the driver keeps it.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// In the pool.
    Searching,
    /// In a match being placed.
    Placing,
    /// Placed.
    Completed(Arc<PlacedMatch>),
    /// Past its time limit.
    TimedOut,
    /// Cancelled by a member.
    Cancelled,
    /// Failed.
    Failed {
        /// Why.
        reason: FailureReason,
        /// For humans.
        message: String,
    },
}

/// A ticket at one state change: what GET shows and what the event stream carries. The
/// parts that never change are shared between a ticket's snapshots (each state change
/// makes one).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The API id.
    pub id: Arc<str>,
    /// The mode.
    pub mode: Arc<str>,
    /// The players, creator first.
    pub players: Arc<[String]>,
    /// The state.
    pub state: State,
    /// Creation time.
    pub created_at: u64,
    /// Last state change.
    pub updated_at: u64,
    /// Time limit.
    pub expires_at: u64,
    /// State changes so far (1 after creation).
    pub seq: u64,
    /// Estimated remaining wait, while searching.
    pub estimated_wait_ms: Option<u64>,
}

impl Snapshot {
    /// Whether the ticket will not change again.
    pub fn is_final(&self) -> bool {
        !matches!(self.state, State::Searching | State::Placing)
    }

    /// The API view for `viewer` (a member: their own player session when completed).
    pub fn render(&self, viewer: &str) -> Ticket {
        let state = match &self.state {
            State::Searching => TicketState::Searching,
            State::Placing => TicketState::Placing,
            State::Completed(placed) => TicketState::Completed {
                connection: ConnectionInfo {
                    ip_address: placed.ip_address,
                    dns_name: placed.dns_name.clone(),
                    port: placed.port,
                    player_session_id: placed
                        .player_sessions
                        .get(viewer)
                        .cloned()
                        .unwrap_or_default(),
                    game_session_id: placed.game_session_id.clone(),
                    certificate_sha256: placed.certificate_sha256,
                },
            },
            State::TimedOut => TicketState::TimedOut,
            State::Cancelled => TicketState::Cancelled,
            State::Failed { reason, message } => TicketState::Failed {
                reason: *reason,
                message: message.clone(),
            },
        };
        Ticket {
            id: self.id.to_string(),
            mode: self.mode.to_string(),
            players: self.players.to_vec(),
            state,
            created_at: self.created_at,
            updated_at: self.updated_at,
            expires_at: self.expires_at,
            estimated_wait_ms: self.estimated_wait_ms,
        }
    }
}

/// What [`MatchmakerHandle::subscribe`] returns: the ticket now, and its later changes
/// (`None` when it is final already).
#[derive(Debug)]
pub struct Subscription {
    /// The ticket now.
    pub current: Arc<Snapshot>,
    /// Every later change, in order; closed after the final one.
    pub updates: Option<broadcast::Receiver<Arc<Snapshot>>>,
}

/// A new ticket, checked by the handler (shape, party membership) and rated.
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// The caller (first in `players`).
    pub caller: String,
    /// The mode.
    pub mode: String,
    /// The players with their ratings, caller first.
    pub players: Vec<PlayerEntry>,
    /// Latency per region.
    pub latencies_ms: Vec<(String, u32)>,
}

enum Command {
    Create(NewTicket, oneshot::Sender<Result<Ticket, HttpError>>),
    Get(String, String, oneshot::Sender<Result<Ticket, HttpError>>),
    Cancel(String, String, oneshot::Sender<Result<Ticket, HttpError>>),
    Subscribe(
        String,
        String,
        oneshot::Sender<Result<Subscription, HttpError>>,
    ),
    Stats(oneshot::Sender<MatchmakingStats>),
    Ping(oneshot::Sender<()>),
}

/// Commands queued to the driver before senders wait: back-pressure on a flood.
const COMMAND_QUEUE: usize = 1024;

/// Most commands the driver applies in a row while placements or a matching pass wait.
const COMMAND_STREAK: u32 = 64;

/// Most tickets one step of the matching pass examines (the core matches on the order
/// of 100,000 tickets per CPU second, so a step is around a millisecond).
const PASS_STEP: usize = 128;

/// Events buffered per subscriber; a ticket changes state a handful of times, so a
/// subscriber that lags this far has stalled, and its stream ends (it can GET).
const EVENT_BUFFER: usize = 16;

/// The handlers' way to the driver; cheap to clone.
#[derive(Clone, Debug)]
pub struct MatchmakerHandle {
    tx: mpsc::Sender<Command>,
}

fn gone() -> HttpError {
    HttpError::new(ErrorCode::Unavailable, "matchmaking is shutting down")
}

impl MatchmakerHandle {
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, HttpError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).await.map_err(|_| gone())?;
        rx.await.map_err(|_| gone())
    }

    /// Enqueues a ticket.
    pub async fn create(&self, ticket: NewTicket) -> Result<Ticket, HttpError> {
        self.ask(|tx| Command::Create(ticket, tx)).await?
    }

    /// A ticket as `caller` sees it (`404` unless a member).
    pub async fn get(&self, id: String, caller: String) -> Result<Ticket, HttpError> {
        self.ask(|tx| Command::Get(id, caller, tx)).await?
    }

    /// Cancels a ticket (`403` unless a member); the ticket after the attempt.
    pub async fn cancel(&self, id: String, caller: String) -> Result<Ticket, HttpError> {
        self.ask(|tx| Command::Cancel(id, caller, tx)).await?
    }

    /// The ticket now and its later changes (`404` unless a member).
    pub async fn subscribe(&self, id: String, caller: String) -> Result<Subscription, HttpError> {
        self.ask(|tx| Command::Subscribe(id, caller, tx)).await?
    }

    /// Live numbers per mode.
    pub async fn stats(&self) -> Result<MatchmakingStats, HttpError> {
        self.ask(Command::Stats).await
    }

    /// Whether the driver answers.
    pub async fn ping(&self) -> Result<(), HttpError> {
        self.ask(Command::Ping).await
    }
}

struct ModeInfo {
    name: Arc<str>,
    ticket_timeout_ms: u64,
    median_wait_ms: Option<u64>,
}

struct Record {
    snap: Arc<Snapshot>,
    core: TicketId,
    /// The API id's 128 bits.
    api: u128,
    events: Option<broadcast::Sender<Arc<Snapshot>>>,
}

/// Every ticket the driver remembers (those of the last
/// [`DriverConfig::final_retention`] included): in a ring indexed by the core's ticket
/// id, which the core mints in sequence, so the core's outputs find their ticket by
/// subtraction, and tickets created together sit together in memory (they are usually
/// matched together too); and the API id to core id map for requests. The API ids are
/// random from a CSPRNG, so that map hashes them by a multiply, not SipHash.
#[derive(Default)]
struct Records {
    /// Slot `i` holds the ticket with core id `base + i`; `None` once forgotten (or
    /// never used). The front slot is never `None`.
    ring: VecDeque<Option<Record>>,
    base: u64,
    by_api: IdMap<u128, TicketId>,
}

impl Records {
    fn insert(&mut self, record: Record) {
        let core = record.core.0;
        if self.ring.is_empty() {
            self.base = core;
        }
        let slot = core
            .checked_sub(self.base)
            .and_then(|i| usize::try_from(i).ok())
            .filter(|&i| i >= self.ring.len())
            .expect("the core mints ticket ids in increasing order");
        self.ring.resize_with(slot, || None);
        self.by_api.insert(record.api, record.core);
        self.ring.push_back(Some(record));
    }

    fn slot(&self, core: TicketId) -> Option<usize> {
        usize::try_from(core.0.checked_sub(self.base)?).ok()
    }

    fn get(&self, core: TicketId) -> Option<&Record> {
        self.ring.get(self.slot(core)?)?.as_ref()
    }

    fn get_mut(&mut self, core: TicketId) -> Option<&mut Record> {
        let slot = self.slot(core)?;
        self.ring.get_mut(slot)?.as_mut()
    }

    fn by_api(&self, api: u128) -> Option<&Record> {
        self.get(*self.by_api.get(&api)?)
    }

    fn remove(&mut self, core: TicketId) {
        let Some(slot) = self.slot(core) else { return };
        let Some(record) = self.ring.get_mut(slot).and_then(Option::take) else {
            return;
        };
        self.by_api.remove(&record.api);
        while self.ring.front().is_some_and(Option::is_none) {
            self.ring.pop_front();
            self.base += 1;
        }
    }
}

type PlacementDone = (MatchId, Result<Arc<PlacedMatch>, PlacementFailure>);

/// Placements finished together (recorded with one store call).
type PlacementsDone = Vec<PlacementDone>;

struct Driver {
    mm: Matchmaker,
    clock: Clock,
    config: DriverConfig,
    placer: Arc<dyn Placer>,
    profiles: Arc<dyn ProfileStore>,
    metrics: ApiMetrics,
    records: Records,
    placed: IdMap<MatchId, Arc<PlacedMatch>>,
    retention: VecDeque<(u64, TicketId)>,
    /// Per configured mode: its name (shared by every ticket's snapshots), its ticket
    /// time limit, and the median wait at the last tick.
    modes: Vec<ModeInfo>,
    done_tx: mpsc::UnboundedSender<PlacementsDone>,
    /// Matches proposed by the outputs being drained, placed together once drained.
    proposed: Vec<ProposedMatch>,
    /// A matching pass is in progress (started by a tick, continued in steps).
    passing: bool,
}

/// Starts the driver on the current tokio runtime. It runs until `shutdown` completes or
/// every handle is dropped; placements in flight are left to finish on their own.
pub fn spawn_matchmaker(
    mm: Matchmaker,
    placer: Arc<dyn Placer>,
    profiles: Arc<dyn ProfileStore>,
    clock: Clock,
    config: DriverConfig,
    metrics: ApiMetrics,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (MatchmakerHandle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let driver = Driver {
        clock,
        config,
        placer,
        profiles,
        metrics,
        modes: mm
            .config()
            .modes
            .iter()
            .map(|m| ModeInfo {
                name: m.name.as_str().into(),
                ticket_timeout_ms: m.ticket_timeout_ms,
                median_wait_ms: None,
            })
            .collect(),
        mm,
        records: Records::default(),
        placed: IdMap::default(),
        retention: VecDeque::new(),
        done_tx,
        proposed: Vec::new(),
        passing: false,
    };
    let task = tokio::spawn(driver.run(rx, done_rx, shutdown));
    (MatchmakerHandle { tx }, task)
}

impl Driver {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut done: mpsc::UnboundedReceiver<PlacementsDone>,
        shutdown: impl Future<Output = ()>,
    ) {
        let mut ticker = tokio::time::interval(self.config.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        // Commands (requests waiting for an answer) go first, but after COMMAND_STREAK in a
        // row the other work gets a turn, so a flood of requests cannot stall matching.
        let mut streak = 0;
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                command = commands.recv(), if streak < COMMAND_STREAK => {
                    streak += 1;
                    match command {
                        Some(command) => self.command(command),
                        None => break,
                    }
                }
                Some(batch) = done.recv() => {
                    streak = 0;
                    for (match_id, result) in batch {
                        self.placement_done(match_id, result);
                    }
                }
                _ = ticker.tick() => {
                    streak = 0;
                    self.tick();
                }
                () = std::future::ready(()), if self.passing => {
                    streak = 0;
                    self.pass_step();
                    // Let the handlers on this thread run (and send their commands)
                    // before the next step.
                    tokio::task::yield_now().await;
                }
                // Nothing else to do: commands may run again.
                () = std::future::ready(()), if streak >= COMMAND_STREAK => streak = 0,
            }
        }
        tracing::info!("matchmaking driver stopped");
    }

    /// One step of the matching pass (at most [`PASS_STEP`] tickets examined), so that a
    /// pass over thousands of tickets does not hold up the commands for its whole length.
    fn pass_step(&mut self) {
        self.passing = self.mm.handle_timeout_step(self.clock.now_ms(), PASS_STEP);
        self.drain(None);
    }

    fn tick(&mut self) {
        let now = self.clock.now_ms();
        self.pass_step();
        for (mode, stats) in self.modes.iter_mut().zip(self.mm.mode_stats()) {
            mode.median_wait_ms = stats.median_wait_ms;
        }
        while let Some((at, _)) = self.retention.front() {
            if *at > now {
                break;
            }
            let (_, id) = self.retention.pop_front().expect("front exists");
            self.records.remove(id);
        }
        self.metrics
            .tickets_searching
            .set(self.mm.tickets_searching() as i64);
        self.metrics
            .matches_placing
            .set(self.mm.matches_placing() as i64);
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Create(ticket, reply) => {
                let _ = reply.send(self.create(ticket));
            }
            Command::Get(id, caller, reply) => {
                let result = self
                    .visible(&id, &caller)
                    .map(|r| self.view(&r.snap, &caller));
                let _ = reply.send(result);
            }
            Command::Cancel(id, caller, reply) => {
                let _ = reply.send(self.cancel(&id, &caller));
            }
            Command::Subscribe(id, caller, reply) => {
                let result = self.subscribe(&id, &caller);
                let _ = reply.send(result);
            }
            Command::Stats(reply) => {
                let config = self.mm.config();
                let stats = MatchmakingStats {
                    at: self.clock.now_ms(),
                    window_secs: u32::try_from(config.stats_window_ms / 1000).unwrap_or(u32::MAX),
                    modes: self
                        .mm
                        .mode_stats()
                        .into_iter()
                        .map(|s| ModeQueueStats {
                            mode: s.mode,
                            tickets_searching: clamp32(s.tickets_searching),
                            players_searching: clamp32(s.players_searching),
                            median_wait_ms: s.median_wait_ms,
                            matches_started: clamp32(s.matches_started),
                        })
                        .collect(),
                };
                let _ = reply.send(stats);
            }
            Command::Ping(reply) => {
                let _ = reply.send(());
            }
        }
    }

    /// The record of `id` if `caller` is one of its players (else `404`: another
    /// player's ticket is not visible).
    fn visible(&self, id: &str, caller: &str) -> Result<&Record, HttpError> {
        canonical(id)
            .and_then(|id| self.records.by_api(id))
            .filter(|r| r.snap.players.iter().any(|p| p == caller))
            .ok_or_else(|| HttpError::not_found("no such ticket"))
    }

    /// The API view of `snap` for `viewer`, with a current wait estimate (while
    /// searching).
    fn view(&self, snap: &Snapshot, viewer: &str) -> Ticket {
        let mut ticket = snap.render(viewer);
        ticket.estimated_wait_ms = self.estimate(snap);
        ticket
    }

    fn estimate(&self, snap: &Snapshot) -> Option<u64> {
        if snap.state != State::Searching {
            return None;
        }
        let median = self
            .modes
            .iter()
            .find(|m| m.name == snap.mode)?
            .median_wait_ms?;
        let waited = self.clock.now_ms().saturating_sub(snap.created_at);
        Some(median.saturating_sub(waited))
    }

    fn create(&mut self, ticket: NewTicket) -> Result<Ticket, HttpError> {
        let now = self.clock.now_ms();
        let players: Vec<String> = ticket.players.iter().map(|p| p.id.clone()).collect();
        let request = TicketRequest {
            mode: ticket.mode.clone(),
            players: ticket.players,
            latencies_ms: ticket.latencies_ms,
        };
        let core = match self.mm.handle_enqueue(now, request) {
            Ok(core) => core,
            Err(e) => return Err(self.enqueue_error(e, &ticket.caller)),
        };
        let mode = self
            .modes
            .iter()
            .find(|m| *m.name == *ticket.mode)
            .expect("the core knows only configured modes");
        let (mode, timeout) = (Arc::clone(&mode.name), mode.ticket_timeout_ms);
        let id = crate::random_uuid();
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let snap = Snapshot {
            id: Arc::from(&*id.hyphenated().encode_lower(&mut text)),
            mode,
            players: players.into(),
            state: State::Searching,
            created_at: now,
            updated_at: now,
            expires_at: now + timeout,
            // The core's first output for it (SEARCHING) is this state: see `set_state`.
            seq: 1,
            estimated_wait_ms: None,
        };
        self.records.insert(Record {
            snap: Arc::new(snap),
            core,
            api: id.as_u128(),
            events: None,
        });
        self.metrics.tickets_created.inc();
        self.drain(None);
        let record = self.records.get(core).expect("just inserted");
        tracing::info!(ticket = %record.snap.id, caller = %ticket.caller, "ticket created");
        Ok(self.view(&record.snap, &ticket.caller))
    }

    fn enqueue_error(&self, e: EnqueueError, caller: &str) -> HttpError {
        match e {
            EnqueueError::UnknownMode(mode) => HttpError::invalid(format!("unknown mode {mode:?}")),
            EnqueueError::PlayerAlreadyQueued { player, ticket } => {
                let mut message = format!("player {player} already has a live ticket");
                let record = self.records.get(ticket);
                // The live ticket's id, for a member only (it is theirs to see).
                if let Some(r) = record.filter(|r| r.snap.players.iter().any(|p| p == caller)) {
                    message = format!("{message} ({})", r.snap.id);
                }
                HttpError::new(ErrorCode::Conflict, message)
            }
            EnqueueError::BadRating(_) => HttpError::internal(&e),
            EnqueueError::NoPlayers
            | EnqueueError::PartyTooLarge { .. }
            | EnqueueError::DuplicatePlayer(_)
            | EnqueueError::NoReachableRegion => HttpError::invalid(e.to_string()),
        }
    }

    fn cancel(&mut self, id: &str, caller: &str) -> Result<Ticket, HttpError> {
        let Some(record) = canonical(id).and_then(|k| self.records.by_api(k)) else {
            return Err(HttpError::not_found("no such ticket"));
        };
        if !record.snap.players.iter().any(|p| p == caller) {
            return Err(HttpError::new(
                ErrorCode::Forbidden,
                "only a player of the ticket may cancel it",
            ));
        }
        let core = record.core;
        if !record.snap.is_final() {
            match self.mm.handle_cancel(self.clock.now_ms(), core) {
                Ok(outcome) => {
                    tracing::info!(ticket = %id, ?outcome, "ticket cancelled");
                    self.drain(None);
                }
                Err(CancelError::AlreadyFinal(status)) => {
                    tracing::warn!(ticket = %id, %status, "cancel: core has the ticket final");
                }
                Err(CancelError::UnknownTicket) => {
                    tracing::warn!(ticket = %id, "cancel: core forgot a live ticket");
                }
            }
        }
        let record = self.records.get(core).expect("kept while the driver runs");
        Ok(self.view(&record.snap, caller))
    }

    fn subscribe(&mut self, id: &str, caller: &str) -> Result<Subscription, HttpError> {
        let core = self.visible(id, caller)?.core;
        let record = self.records.get_mut(core).expect("visible");
        let updates = if record.snap.is_final() {
            None
        } else {
            let sender = record
                .events
                .get_or_insert_with(|| broadcast::channel(EVENT_BUFFER).0);
            Some(sender.subscribe())
        };
        Ok(Subscription {
            current: Arc::clone(&record.snap),
            updates,
        })
    }

    /// Applies the core's outputs. `failure` is the message of the placement failure
    /// just reported, for tickets that fail from it.
    fn drain(&mut self, failure: Option<&str>) {
        while let Some(output) = self.mm.poll() {
            match output {
                Output::MatchProposed(proposed) => self.proposed.push(proposed),
                Output::MatchAbandoned {
                    match_id,
                    cancelled,
                } => {
                    tracing::info!(?match_id, ?cancelled, "match abandoned by a cancel");
                }
                Output::TicketStateChanged(change) => {
                    let state = match change.status {
                        TicketStatus::Searching => State::Searching,
                        TicketStatus::Placing => State::Placing,
                        TicketStatus::Completed => {
                            let placed = change.match_id.and_then(|m| self.placed.get(&m));
                            match placed {
                                Some(placed) => State::Completed(Arc::clone(placed)),
                                None => State::Failed {
                                    reason: FailureReason::Internal,
                                    message: "placed without connection information".into(),
                                },
                            }
                        }
                        TicketStatus::TimedOut => State::TimedOut,
                        TicketStatus::Cancelled => State::Cancelled,
                        TicketStatus::Failed => State::Failed {
                            reason: change.reason.unwrap_or(FailureReason::Internal),
                            message: failure.unwrap_or("failed").to_owned(),
                        },
                    };
                    self.metrics.ticket_state(change.status);
                    self.set_state(change.ticket, state, change.at_ms);
                }
            }
        }
        if !self.proposed.is_empty() {
            let batch = std::mem::take(&mut self.proposed);
            self.start_placements(batch);
        }
    }

    fn set_state(&mut self, id: TicketId, state: State, at: u64) {
        let retention = self.config.final_retention.as_millis() as u64;
        let Some(record) = self.records.get_mut(id) else {
            return;
        };
        if matches!(
            (&record.snap.state, &state),
            (State::Searching, State::Searching)
        ) {
            // A new ticket's first state, which `create` recorded already (every later
            // change moves to another state): no new snapshot, no event.
            return;
        }
        let mut snap = (*record.snap).clone();
        snap.state = state;
        snap.updated_at = at;
        snap.seq += 1;
        snap.estimated_wait_ms = None;
        let snap = Arc::new(snap);
        record.snap = Arc::clone(&snap);
        if let Some(events) = &record.events {
            let _ = events.send(Arc::clone(&snap));
        }
        if snap.is_final() {
            // Dropping the sender ends every subscriber's stream after this event.
            record.events = None;
            self.mm.forget(record.core);
            self.retention.push_back((at + retention, id));
        }
    }

    /// Places `batch` in one task: the placements run concurrently, and those that
    /// finish together are recorded with one store call and reported in one message.
    fn start_placements(&mut self, batch: Vec<ProposedMatch>) {
        for proposed in &batch {
            tracing::info!(match_id = ?proposed.match_id, mode = %proposed.mode,
                region = %proposed.region, "placing match");
        }
        let placer = Arc::clone(&self.placer);
        let profiles = Arc::clone(&self.profiles);
        let done = self.done_tx.clone();
        let retry = CapacityRetry {
            retries: self.config.capacity_retries,
            backoff: self.config.capacity_backoff,
            metrics: self.metrics.clone(),
        };
        tokio::spawn(async move {
            let mut placing: FuturesUnordered<_> = batch
                .into_iter()
                .map(|proposed| place(&*placer, proposed, &retry))
                .collect();
            while let Some(first) = placing.next().await {
                let mut ready = vec![first];
                while let Some(Some(next)) = placing.next().now_or_never() {
                    ready.push(next);
                }
                let results = record(&*placer, &*profiles, ready).await;
                if done.send(results).is_err() {
                    // The driver stopped; nobody is waiting for these.
                    return;
                }
            }
        });
    }

    fn placement_done(
        &mut self,
        match_id: MatchId,
        result: Result<Arc<PlacedMatch>, PlacementFailure>,
    ) {
        let now = self.clock.now_ms();
        match result {
            Ok(placed) => {
                self.placed.insert(match_id, Arc::clone(&placed));
                if self.mm.handle_placement_succeeded(now, match_id).is_ok() {
                    self.metrics.placement("succeeded");
                    self.drain(None);
                } else {
                    // A ticket was cancelled meanwhile; nobody is coming.
                    self.metrics.placement("abandoned");
                    let placer = Arc::clone(&self.placer);
                    tokio::spawn(async move { placer.release(&placed).await });
                }
                self.placed.remove(&match_id);
            }
            Err(failure) => {
                tracing::warn!(?match_id, %failure, "placement failed");
                self.metrics.placement("failed");
                if self
                    .mm
                    .handle_placement_failed(now, match_id, failure.reason)
                    .is_ok()
                {
                    self.drain(Some(&failure.message));
                }
            }
        }
    }
}

/// How placements that fail with `no_capacity` are retried (see [`DriverConfig`]).
struct CapacityRetry {
    retries: u32,
    backoff: Duration,
    metrics: ApiMetrics,
}

/// Places a match, retrying on a full fleet; the match comes back with the outcome.
async fn place(
    placer: &dyn Placer,
    proposed: ProposedMatch,
    retry: &CapacityRetry,
) -> (ProposedMatch, Result<PlacedMatch, PlacementFailure>) {
    let mut backoff = retry.backoff;
    let mut attempt = 0;
    loop {
        let result = placer.place(&proposed).await;
        match &result {
            Err(f) if f.reason == FailureReason::NoCapacity && attempt < retry.retries => {
                tracing::info!(match_id = ?proposed.match_id, ?backoff,
                    "no fleet capacity; retrying the placement");
                retry.metrics.placement("no_capacity_retry");
                tokio::time::sleep(backoff).await;
                // Doubling, capped: a long outage is retried at a steady pace (and the
                // doubling never overflows).
                backoff = backoff.saturating_mul(2).min(MAX_CAPACITY_BACKOFF);
                attempt += 1;
            }
            _ => return (proposed, result),
        }
    }
}

/// Stores the placement records of the placed matches among `placed` (one store call);
/// a match whose record cannot be stored is released and reported as failed, since its
/// results could not be checked.
async fn record(
    placer: &dyn Placer,
    profiles: &dyn ProfileStore,
    placed: Vec<(ProposedMatch, Result<PlacedMatch, PlacementFailure>)>,
) -> PlacementsDone {
    let mut results: PlacementsDone = Vec::with_capacity(placed.len());
    // Indexes into `results` of the matches whose record is being stored.
    let mut recording = Vec::new();
    let mut records = Vec::new();
    for (proposed, outcome) in placed {
        let result = match outcome {
            Ok(placed) => {
                let record = proposed.placement_record(&placed.game_session_id, |p| {
                    placed.player_sessions.get(p).cloned()
                });
                if let Some(record) = record {
                    recording.push(results.len());
                    records.push(record);
                    Ok(Arc::new(placed))
                } else {
                    placer.release(&placed).await;
                    Err(PlacementFailure {
                        reason: FailureReason::PlayerSessionFailed,
                        message: "a player got no player session".to_owned(),
                    })
                }
            }
            Err(failure) => Err(failure),
        };
        results.push((proposed.match_id, result));
    }
    if records.is_empty() {
        return results;
    }
    let mut stored = profiles.put_placements(records).await.into_iter();
    for i in recording {
        let cause = match stored.next() {
            Some(Ok(())) => continue,
            Some(Err(e)) => e.to_string(),
            None => "the profile store gave no answer".to_owned(),
        };
        let Ok(placed) = &results[i].1 else { continue };
        tracing::error!(%cause, game_session = %placed.game_session_id,
            "recording the placement failed; releasing the game session");
        placer.release(placed).await;
        results[i].1 = Err(PlacementFailure {
            reason: FailureReason::Internal,
            message: "the match could not be recorded".to_owned(),
        });
    }
    results
}

/// The key of an API ticket id: only the form the API hands out (lower-case, hyphenated)
/// names a ticket.
fn canonical(id: &str) -> Option<u128> {
    let key = Uuid::try_parse(id).ok()?;
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    (key.hyphenated().encode_lower(&mut text) == id).then_some(key.as_u128())
}

fn clamp32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(core: u64) -> Record {
        Record {
            snap: Arc::new(Snapshot {
                id: format!("t{core}").into(),
                mode: "duel".into(),
                players: Arc::from(vec![format!("p{core}")]),
                state: State::Searching,
                created_at: 0,
                updated_at: 0,
                expires_at: 0,
                seq: 0,
                estimated_wait_ms: None,
            }),
            core: TicketId(core),
            api: u128::from(core) << 64 | 7,
            events: None,
        }
    }

    /// The ring finds tickets by core id and by API id, skips ids the core never
    /// handed out, forgets in any order, and moves its base only past forgotten slots.
    #[test]
    fn records_by_core_and_api_id() {
        let mut records = Records::default();
        for core in [10, 11, 13] {
            records.insert(record(core));
        }
        assert!(records.get(TicketId(12)).is_none());
        assert!(records.get(TicketId(9)).is_none());
        assert_eq!(&*records.get(TicketId(13)).unwrap().snap.id, "t13");
        assert_eq!(records.by_api(11 << 64 | 7).unwrap().core, TicketId(11));

        records.remove(TicketId(11));
        assert!(records.get(TicketId(11)).is_none());
        assert!(records.by_api(11 << 64 | 7).is_none());
        assert_eq!((records.base, records.ring.len()), (10, 4));

        records.remove(TicketId(10));
        assert_eq!(
            (records.base, records.ring.len()),
            (13, 1),
            "past 11 and 12"
        );
        assert_eq!(&*records.get(TicketId(13)).unwrap().snap.id, "t13");

        records.remove(TicketId(13));
        assert!(records.ring.is_empty());
        records.insert(record(20));
        assert_eq!(records.base, 20);
        assert_eq!(records.by_api(20 << 64 | 7).unwrap().core, TicketId(20));
        assert_eq!(records.by_api.len(), 1);
    }
}
