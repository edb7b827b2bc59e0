//! The local fleet's brain, without I/O: server processes, game sessions, player sessions
//! and placements, driven by inputs that carry `now` and answered with effects.
//!
//! Inputs: a process connects or disconnects ([`Engine::connect`], [`Engine::disconnect`]),
//! sends an SDK5 request ([`Engine::handle_frame`]), the launcher says a process exited
//! ([`Engine::process_exited`]), the control plane calls an operation (`control.rs`), or
//! time passes ([`Engine::tick`] at [`Engine::next_deadline`]). Outputs are queued
//! [`Effect`]s the shell carries out: frames to send, connections to close, processes to
//! kill. Every rule with a time in it (activation timeout, player-session reservation,
//! health, exit after ProcessEnding, placement timeout) is a deadline checked in `tick`, so
//! tests step virtual time instead of sleeping.
//!
//! What it is not: no sockets, no clock, no process spawning, no wire encoding of the
//! control-plane API (those live in the `sdk_ws`, `launcher` and `api` modules).

mod control;
mod model;
mod sdk;

use std::collections::{BTreeMap, HashMap, VecDeque};

pub use control::{ControlError, ControlErrorKind, Page, PlacementRequest};
pub use model::*;
pub use sdk::ConnectError;

/// Fixed facts and time budgets of the fleet. Defaults follow GameLift where it documents
/// a value (spec `gamelift-sdk5.md` §6.2) and say so where a choice was made.
#[derive(Debug, Clone)]
pub struct FleetConfig {
    /// Fleet id, `fleet-<uuid>` like GameLift's.
    pub fleet_id: String,
    /// AWS account id used in ARNs (GameLift's docs use 123456789012).
    pub account_id: String,
    /// Region the fleet claims to be in (its home location).
    pub region: String,
    /// Compute name (`GAMELIFT_SDK_HOST_ID`).
    pub compute_name: String,
    /// IP address players connect to.
    pub ip_address: String,
    /// DNS name players connect to.
    pub dns_name: String,
    /// `GameSessionActivationTimeoutSeconds` (1–600), in ms. GameLift's default is not
    /// documented; 600 s is its maximum and what we use.
    pub activation_timeout_ms: Millis,
    /// `MaxConcurrentGameSessionActivations` per compute; GameLift's default is no limit.
    pub max_concurrent_activations: u32,
    /// No healthy report for this long: not placed on, then terminated (GameLift: 3 min).
    pub health_timeout_ms: Millis,
    /// A RESERVED player session not accepted in this long becomes TIMEDOUT (60 s).
    pub reservation_timeout_ms: Millis,
    /// After ProcessEnding, or after TerminateProcess was pushed to an unhealthy process,
    /// how long it may take to exit before it is killed. GameLift: ~30 s after
    /// ProcessEnding; ~5 min after onProcessTerminate. We use this one budget for the
    /// former and [`terminate_grace_ms`](Self::terminate_grace_ms) for the latter.
    pub exit_timeout_ms: Millis,
    /// How long a process may take to call ProcessEnding after a TerminateProcess push.
    pub terminate_grace_ms: Millis,
    /// A process must complete ProcessReady within this long of connecting (5 min).
    pub ready_timeout_ms: Millis,
    /// A process whose socket dropped may reconnect within this long (with the same
    /// `pID` and `IdempotencyToken`) and keep its game session.
    pub reconnect_grace_ms: Millis,
    /// A placement still PENDING after this long is TIMED_OUT (a queue's
    /// `TimeoutInSeconds`; GameLift's default is 600 s).
    pub placement_timeout_ms: Millis,
}

impl FleetConfig {
    /// A config with GameLift's budgets for `fleet_id` on localhost.
    pub fn local(fleet_id: impl Into<String>) -> Self {
        Self {
            fleet_id: fleet_id.into(),
            account_id: "123456789012".into(),
            region: "us-east-1".into(),
            compute_name: "local-compute".into(),
            ip_address: "127.0.0.1".into(),
            dns_name: "localhost".into(),
            activation_timeout_ms: 600_000,
            max_concurrent_activations: u32::MAX,
            health_timeout_ms: 180_000,
            reservation_timeout_ms: 60_000,
            exit_timeout_ms: 30_000,
            terminate_grace_ms: 300_000,
            ready_timeout_ms: 300_000,
            reconnect_grace_ms: 60_000,
            placement_timeout_ms: 600_000,
        }
    }

    /// The fleet's ARN.
    pub fn fleet_arn(&self) -> String {
        format!(
            "arn:aws:gamelift:{}:{}:fleet/{}",
            self.region, self.account_id, self.fleet_id
        )
    }
}

/// Something the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send a text frame on a connection.
    Send {
        /// The connection.
        conn: ConnId,
        /// The JSON frame.
        text: String,
    },
    /// Close a connection with a WebSocket close code.
    Close {
        /// The connection.
        conn: ConnId,
        /// 1000 normal, 1008 policy violation, …
        code: u16,
        /// Close reason text.
        reason: String,
    },
    /// Kill a server process (it stayed unhealthy, ignored TerminateProcess, or did not
    /// exit after ProcessEnding). A no-op for processes the launcher did not start.
    Kill {
        /// The process id (`pID`).
        process_id: String,
        /// Why, for logs.
        reason: &'static str,
    },
}

/// The engine. One per local fleet.
#[derive(Debug)]
pub struct Engine {
    pub(crate) cfg: FleetConfig,
    pub(crate) processes: BTreeMap<String, Process>,
    pub(crate) conns: HashMap<ConnId, String>,
    pub(crate) game_sessions: Table<GameSession>,
    /// Creation order of game sessions, for stable listings.
    pub(crate) gs_order: Vec<String>,
    pub(crate) player_sessions: Table<PlayerSession>,
    pub(crate) ps_order: Vec<String>,
    pub(crate) placements: Table<Placement>,
    /// Recent responses per process, keyed by RequestId: a repeated request gets the
    /// same answer and is not applied twice.
    pub(crate) replies: HashMap<String, VecDeque<(String, String)>>,
    pub(crate) effects: VecDeque<Effect>,
    /// When set, no new game session is placed (capacity withdrawn).
    pub(crate) capacity_paused: bool,
    /// The instance counts last asked for (UpdateFleetCapacity).
    pub(crate) capacity: InstanceCapacity,
}

/// The desired, minimum and maximum instance counts of the fleet as UpdateFleetCapacity
/// last set them. A local fleet has one "instance" (this machine) whatever they say; only
/// `desired == 0` changes behaviour (capacity is withdrawn, see
/// [`Engine::set_capacity`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceCapacity {
    /// `DesiredInstances`.
    pub desired: u32,
    /// `MinSize`.
    pub min: u32,
    /// `MaxSize`.
    pub max: u32,
}

impl Default for InstanceCapacity {
    /// One instance wanted, between 0 and 1: what a new local fleet reports.
    fn default() -> Self {
        Self {
            desired: 1,
            min: 0,
            max: 1,
        }
    }
}

/// How many recent replies are remembered per process for RequestId deduplication.
const REPLY_MEMORY: usize = 64;

impl Engine {
    /// An empty fleet.
    pub fn new(cfg: FleetConfig) -> Self {
        Self {
            cfg,
            processes: BTreeMap::new(),
            conns: HashMap::new(),
            game_sessions: Table::new(),
            gs_order: Vec::new(),
            player_sessions: Table::new(),
            ps_order: Vec::new(),
            placements: Table::new(),
            replies: HashMap::new(),
            effects: VecDeque::new(),
            capacity_paused: false,
            capacity: InstanceCapacity::default(),
        }
    }

    /// The fleet's configuration.
    pub fn config(&self) -> &FleetConfig {
        &self.cfg
    }

    /// Takes the next effect to carry out.
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// All known processes.
    pub fn processes(&self) -> impl Iterator<Item = &Process> {
        self.processes.values()
    }

    /// One game session.
    pub fn game_session(&self, id: &str) -> Option<&GameSession> {
        self.game_sessions.get(id)
    }

    /// One player session.
    pub fn player_session(&self, id: &str) -> Option<&PlayerSession> {
        self.player_sessions.get(id)
    }

    /// Withdraws (or restores) capacity: while paused, nothing new is placed, as if every
    /// instance were busy. Tests and the backend use it to provoke placement failures.
    pub fn set_capacity_paused(&mut self, paused: bool) {
        self.capacity_paused = paused;
    }

    /// Whether capacity is withdrawn ([`set_capacity_paused`](Self::set_capacity_paused)).
    pub fn capacity_paused(&self) -> bool {
        self.capacity_paused
    }

    /// Records the instance counts asked for and withdraws capacity when `desired` is 0
    /// (restores it otherwise). Unlike GameLift's scale-in, nothing is terminated: running
    /// processes and their game sessions carry on; only new game sessions are refused.
    pub fn set_capacity(&mut self, capacity: InstanceCapacity) {
        self.capacity = capacity;
        self.capacity_paused = capacity.desired == 0;
    }

    /// The instance counts last recorded by [`set_capacity`](Self::set_capacity).
    pub fn capacity(&self) -> InstanceCapacity {
        self.capacity
    }

    /// Processes ready to take a game session now.
    pub fn idle_processes(&self, now: Millis) -> usize {
        self.processes
            .values()
            .filter(|p| p.is_placeable(now, self.cfg.health_timeout_ms))
            .count()
    }

    pub(crate) fn push(&mut self, effect: Effect) {
        self.effects.push_back(effect);
    }

    pub(crate) fn send_to_process(&mut self, process_id: &str, text: String) {
        if let Some(conn) = self.processes.get(process_id).and_then(|p| p.conn) {
            self.push(Effect::Send { conn, text });
        }
    }

    /// The earliest time at which [`tick`](Self::tick) has something to do.
    pub fn next_deadline(&self) -> Option<Millis> {
        let mut best: Option<Millis> = None;
        let mut consider = |t: Millis| best = Some(best.map_or(t, |b: Millis| b.min(t)));
        for p in self.processes.values() {
            match p.state {
                ProcessState::Connected => consider(p.connected_at + self.cfg.ready_timeout_ms),
                // Once TerminateProcess is pushed, the health rule has done its work.
                ProcessState::Active if p.terminate_pushed_at.is_none() => {
                    if let Some(t) = p.last_healthy {
                        consider(t + self.cfg.health_timeout_ms);
                    }
                }
                ProcessState::Active => {}
                ProcessState::Ending => {}
            }
            if let Some(t) = p.ending_at {
                consider(t + self.cfg.exit_timeout_ms);
            }
            if let Some(t) = p.terminate_pushed_at {
                consider(t + self.cfg.terminate_grace_ms);
            }
            if let Some(t) = p.disconnected_at {
                consider(t + self.cfg.reconnect_grace_ms);
            }
        }
        for gs in self.game_sessions.values() {
            if gs.status == GameSessionStatus::Activating {
                consider(gs.activation_deadline);
            }
        }
        for ps in self.player_sessions.values() {
            if ps.status == PlayerSessionStatus::Reserved {
                consider(ps.created_at + self.cfg.reservation_timeout_ms);
            }
        }
        for pl in self.placements.values() {
            if pl.state == PlacementState::Pending {
                consider(pl.deadline);
            }
        }
        best
    }

    /// Applies every rule whose time has come.
    pub fn tick(&mut self, now: Millis) {
        self.expire_reservations(now);
        self.expire_activations(now);
        self.check_processes(now);
        self.advance_placements(now);
    }

    fn expire_reservations(&mut self, now: Millis) {
        let timeout = self.cfg.reservation_timeout_ms;
        for ps in self.player_sessions.values_mut() {
            if ps.status == PlayerSessionStatus::Reserved && now >= ps.created_at + timeout {
                tracing::info!(player_session_id = %ps.id, "player session timed out");
                ps.status = PlayerSessionStatus::TimedOut;
                ps.terminated_at = Some(now);
            }
        }
    }

    fn expire_activations(&mut self, now: Millis) {
        let late: Vec<String> = self
            .game_sessions
            .values()
            .filter(|g| g.status == GameSessionStatus::Activating && now >= g.activation_deadline)
            .map(|g| g.id.clone())
            .collect();
        for id in late {
            let process_id = self.game_sessions[&id].process_id.clone();
            self.end_game_session(&id, GameSessionStatus::Error, None, now);
            // The process failed to activate: ask it to end so the launcher replaces it.
            self.terminate_process(&process_id, now, "game session activation timed out");
        }
    }

    fn check_processes(&mut self, now: Millis) {
        let cfg = self.cfg.clone();
        let ids: Vec<String> = self.processes.keys().cloned().collect();
        for id in ids {
            let p = &self.processes[&id];
            let never_ready =
                p.state == ProcessState::Connected && now >= p.connected_at + cfg.ready_timeout_ms;
            let unhealthy = p.state == ProcessState::Active
                && p.last_healthy
                    .is_some_and(|t| now >= t + cfg.health_timeout_ms);
            let exit_overdue = p.ending_at.is_some_and(|t| now >= t + cfg.exit_timeout_ms);
            let ignored_terminate = p
                .terminate_pushed_at
                .is_some_and(|t| now >= t + cfg.terminate_grace_ms);
            let gone = p
                .disconnected_at
                .is_some_and(|t| now >= t + cfg.reconnect_grace_ms);
            if never_ready {
                self.kill(&id, now, "did not call ProcessReady within 5 minutes");
            } else if gone {
                self.forget_process(&id, now);
            } else if exit_overdue {
                self.kill(&id, now, "did not exit within 30 s of ProcessEnding");
            } else if ignored_terminate {
                self.kill(&id, now, "did not end after TerminateProcess");
            } else if unhealthy && self.processes[&id].terminate_pushed_at.is_none() {
                self.terminate_process(&id, now, "no healthy report within the health timeout");
            }
        }
    }

    /// Pushes `TerminateProcess` to a process (once) and ends its game session's
    /// placement eligibility.
    pub(crate) fn terminate_process(&mut self, process_id: &str, now: Millis, why: &'static str) {
        let Some(p) = self.processes.get_mut(process_id) else {
            return;
        };
        if p.terminate_pushed_at.is_some() || p.state == ProcessState::Ending {
            return;
        }
        p.terminate_pushed_at = Some(now);
        p.terminate_reason = Some(why);
        tracing::info!(process_id, reason = why, "pushing TerminateProcess");
        let frame = protocol::sdk5::PushFrame::new(protocol::sdk5::TerminateProcess {
            termination_time: now + self.cfg.terminate_grace_ms,
        })
        .to_json();
        self.send_to_process(process_id, frame);
    }

    /// Pushes `TerminateProcess` to every process: the first step of a clean shutdown.
    pub fn terminate_all(&mut self, now: Millis) {
        let ids: Vec<String> = self.processes.keys().cloned().collect();
        for id in ids {
            self.terminate_process(&id, now, "fleet shutting down");
        }
    }

    fn kill(&mut self, process_id: &str, now: Millis, reason: &'static str) {
        tracing::warn!(process_id, reason, "killing server process");
        self.push(Effect::Kill {
            process_id: process_id.to_owned(),
            reason,
        });
        if let Some(conn) = self.processes.get(process_id).and_then(|p| p.conn) {
            self.push(Effect::Close {
                conn,
                code: 1000,
                reason: reason.into(),
            });
        }
        self.forget_process(process_id, now);
    }

    /// Removes a process for good; its game session (if still running) is interrupted.
    pub(crate) fn forget_process(&mut self, process_id: &str, now: Millis) {
        let Some(p) = self.processes.remove(process_id) else {
            return;
        };
        if let Some(conn) = p.conn {
            self.conns.remove(&conn);
        }
        self.replies.remove(process_id);
        if let Some(gs) = p.game_session {
            let status = match self.game_sessions.get(&gs).map(|g| g.status) {
                Some(GameSessionStatus::Terminating) => GameSessionStatus::Terminated,
                _ => GameSessionStatus::Error,
            };
            self.end_game_session(&gs, status, Some(StatusReason::Interrupted), now);
        }
    }

    /// Ends a game session: final status, and every player session that holds a slot
    /// is completed.
    pub(crate) fn end_game_session(
        &mut self,
        id: &str,
        status: GameSessionStatus,
        reason: Option<StatusReason>,
        now: Millis,
    ) {
        let Some(gs) = self.game_sessions.get_mut(id) else {
            return;
        };
        if gs.status.is_final() {
            return;
        }
        gs.status = status;
        if gs.status_reason.is_none() {
            gs.status_reason = reason;
        }
        gs.terminated_at = Some(now);
        for ps in self.player_sessions.values_mut() {
            if ps.game_session_id == id && ps.status.holds_slot() {
                ps.status = PlayerSessionStatus::Completed;
                ps.terminated_at = Some(now);
            }
        }
        // The hosting process keeps `game_session` set: SDK 5 has no way to end a game
        // session short of ProcessEnding, so a process that hosted one is never placed on
        // again; GameLift's launcher replaces it once it exits.
    }
}

#[cfg(test)]
mod tests;
