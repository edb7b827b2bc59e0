//! [`Match`]: the simulation's state and its inputs (joins, leaves, inputs, ticks).

use std::collections::VecDeque;

use protocol::game::{
    Event, EventKind, Inputs, LeaveReason, MAX_NAME_LEN, MAX_PLAYERS, MatchParams, Phase,
    PhaseState, PlayerState,
};

use super::inputs::InputOutcome;
use super::rules::{self, Rules};
use super::snapshot::WorldView;
use super::standings::{self, MatchResults, PlayerResult};
use super::world::{Bounds, Items, Player, Presence, spawn_point};

/// Default tick rate.
pub const DEFAULT_TICK_RATE_HZ: u16 = 30;
/// Default map side, in millimetres (30 m: coordinates stay in 3-byte varints).
pub const DEFAULT_MAP_SIZE_MM: u32 = 30_000;
/// Default player slots.
pub const DEFAULT_MAX_PLAYERS: u8 = 16;
/// Default play length: three minutes at the default tick rate.
pub const DEFAULT_DURATION_TICKS: u32 = 3 * 60 * DEFAULT_TICK_RATE_HZ as u32;
/// Default fewest players needed to start when the wait for players times out.
pub const DEFAULT_MIN_PLAYERS: u8 = 2;

/// Everything a [`Match`] is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchConfig {
    /// The wire parameters clients see in `Welcome`.
    pub params: MatchParams,
    /// The rules in ticks (defaults from [`Rules::for_tick_rate`]).
    pub rules: Rules,
    /// Connected players needed to start the countdown before the wait times out
    /// (defaults to `params.max_players`).
    pub expected_players: u8,
    /// Fewest connected players to start with when the wait times out; below it the
    /// match ends with `NotEnoughPlayers`.
    pub min_players: u8,
}

impl MatchConfig {
    /// Default rules and counts for `params`.
    pub fn new(params: MatchParams) -> Self {
        Self {
            rules: Rules::for_tick_rate(params.tick_rate_hz, params.max_players),
            expected_players: params.max_players,
            min_players: DEFAULT_MIN_PLAYERS,
            params,
        }
    }

    /// Default parameters (free-for-all, 30 Hz, 30 m × 30 m, 16 slots, three minutes, no
    /// score limit) for a game session and seed.
    pub fn default_params(game_session_id: &str, seed: u64) -> MatchParams {
        MatchParams {
            game_session_id: game_session_id.to_owned(),
            mode: "ffa".to_owned(),
            tick_rate_hz: DEFAULT_TICK_RATE_HZ,
            map_width: DEFAULT_MAP_SIZE_MM,
            map_height: DEFAULT_MAP_SIZE_MM,
            teams: 0,
            max_players: DEFAULT_MAX_PLAYERS,
            duration_ticks: DEFAULT_DURATION_TICKS,
            score_limit: 0,
            seed,
        }
    }
}

/// Why [`Match::new`] refused a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `tick_rate_hz` is 0.
    #[error("tick rate must be at least 1 Hz")]
    ZeroTickRate,
    /// A map side is 0.
    #[error("map must be at least 1 mm on each side")]
    EmptyMap,
    /// `max_players` is 0 or above [`MAX_PLAYERS`].
    #[error("max players must be 1 to {MAX_PLAYERS}, got {0}")]
    MaxPlayers(u8),
    /// More teams than player slots.
    #[error("{teams} teams cannot fit in {max_players} slots")]
    TooManyTeams {
        /// Teams asked for.
        teams: u8,
        /// Player slots.
        max_players: u8,
    },
}

/// Why a player could not join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    /// The match is over.
    #[error("the match has ended")]
    MatchEnded,
    /// Every slot has been used (slots are not reused within a match, so standings stay
    /// unambiguous).
    #[error("every player slot is taken")]
    Full,
    /// The team index is not below the number of teams (or the mode has no teams).
    #[error("no team {0} in this mode")]
    NoSuchTeam(u8),
}

/// Why an operation on a player failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PlayerError {
    /// No player has this id.
    #[error("no player {0}")]
    Unknown(u8),
    /// The player left, timed out or was kicked.
    #[error("player {0} is no longer in the match")]
    Gone(u8),
    /// The operation needs a connected player and this one is dropped.
    #[error("player {0} is not connected")]
    NotConnected(u8),
    /// `return_player` on a player who is connected.
    #[error("player {0} is already connected")]
    AlreadyConnected(u8),
}

/// One match of the arena game: the authoritative, deterministic simulation.
///
/// Drive it with [`step`](Self::step) once per tick; hand it joins, leaves and inputs
/// between steps; drain [`poll_event`](Self::poll_event) after each call and build
/// snapshots from [`world_view`](Self::world_view).
#[derive(Debug, Clone)]
pub struct Match {
    pub(crate) params: MatchParams,
    pub(crate) rules: Rules,
    pub(crate) expected_players: u8,
    pub(crate) min_players: u8,
    pub(crate) bounds: Bounds,
    /// The current tick; 0 before the first step.
    pub(crate) tick: u32,
    pub(crate) phase: PhaseState,
    /// Player slots in id order: `players[i].id == i`.
    pub(crate) players: Vec<Player>,
    pub(crate) items: Items,
    pub(crate) events: VecDeque<Event>,
    pub(crate) results: Option<MatchResults>,
}

impl Match {
    /// A match waiting for players, with its items already placed from the seed.
    pub fn new(config: MatchConfig) -> Result<Self, ConfigError> {
        let MatchConfig {
            params,
            rules,
            expected_players,
            min_players,
        } = config;
        if params.tick_rate_hz == 0 {
            return Err(ConfigError::ZeroTickRate);
        }
        if params.map_width == 0 || params.map_height == 0 {
            return Err(ConfigError::EmptyMap);
        }
        if params.max_players == 0 || usize::from(params.max_players) > MAX_PLAYERS {
            return Err(ConfigError::MaxPlayers(params.max_players));
        }
        if params.teams > params.max_players {
            return Err(ConfigError::TooManyTeams {
                teams: params.teams,
                max_players: params.max_players,
            });
        }
        let bounds = Bounds::new(params.map_width, params.map_height);
        let mut items = Items::new(params.seed);
        for _ in 0..rules.items_alive.min(rules::MAX_ITEMS) {
            items.spawn(bounds);
        }
        let phase = PhaseState {
            phase: Phase::WaitingForPlayers,
            ends_at_tick: rules.wait_timeout_ticks,
        };
        Ok(Self {
            expected_players: expected_players.clamp(1, params.max_players),
            min_players: min_players.max(1),
            params,
            rules,
            bounds,
            tick: 0,
            phase,
            players: Vec::new(),
            items,
            events: VecDeque::new(),
            results: None,
        })
    }

    /// The match's wire parameters.
    pub fn params(&self) -> &MatchParams {
        &self.params
    }

    /// The rules in force.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The current tick (0 before the first [`step`](Self::step)).
    pub fn tick(&self) -> u32 {
        self.tick
    }

    /// The phase and when it ends.
    pub fn phase(&self) -> PhaseState {
        self.phase
    }

    /// Adds a player in the lowest unused slot. `team` picks a team in team modes; `None`
    /// puts the player on the team with the fewest present players (lowest index on a
    /// tie). The name is cut to [`MAX_NAME_LEN`] bytes.
    pub fn join(&mut self, name: &str, team: Option<u8>) -> Result<u8, JoinError> {
        if self.phase.phase == Phase::Ended {
            return Err(JoinError::MatchEnded);
        }
        if self.players.len() >= usize::from(self.params.max_players) {
            return Err(JoinError::Full);
        }
        let teams = self.params.teams;
        let team = match team {
            Some(t) if t >= teams => return Err(JoinError::NoSuchTeam(t)),
            Some(t) => Some(t),
            None if teams == 0 => None,
            None => (0..teams).min_by_key(|t| {
                self.players
                    .iter()
                    .filter(|p| p.is_present() && p.team == Some(*t))
                    .count()
            }),
        };
        // players.len() < max_players ≤ 64.
        let id = self.players.len() as u8;
        let name = truncate(name, MAX_NAME_LEN).to_owned();
        let spawn = spawn_point(self.bounds, self.params.seed, id);
        self.players
            .push(Player::new(id, name.clone(), team, spawn));
        self.emit(EventKind::PlayerJoined {
            player: id,
            name,
            team,
        });
        Ok(id)
    }

    /// The player left on purpose: no grace, the slot is closed.
    pub fn leave(&mut self, player: u8) -> Result<(), PlayerError> {
        self.remove(player, LeaveReason::Left)
    }

    /// The server removed the player (for example for a protocol violation).
    pub fn kick(&mut self, player: u8) -> Result<(), PlayerError> {
        self.remove(player, LeaveReason::Kicked)
    }

    /// The player's connection was lost: the slot is held for the reconnect grace.
    pub fn drop_player(&mut self, player: u8) -> Result<(), PlayerError> {
        let until = self.tick + self.rules.reconnect_grace_ticks;
        let p = self.present_mut(player)?;
        if !p.is_connected() {
            return Err(PlayerError::NotConnected(player));
        }
        p.presence = Presence::Dropped { until };
        p.input.reset();
        self.emit(EventKind::PlayerLeft {
            player,
            reason: LeaveReason::Dropped,
        });
        Ok(())
    }

    /// A dropped player reconnected within the grace: the slot is theirs again. Their
    /// input numbering may restart.
    pub fn return_player(&mut self, player: u8) -> Result<(), PlayerError> {
        let p = self.present_mut(player)?;
        if p.is_connected() {
            return Err(PlayerError::AlreadyConnected(player));
        }
        p.presence = Presence::Connected;
        p.input.reset();
        self.emit(EventKind::PlayerReturned { player });
        Ok(())
    }

    /// Hands one `Inputs` message to the player's buffer. Only frames newer than the last
    /// applied one are kept; see [`InputBuffer`](super::InputBuffer).
    pub fn apply_inputs(
        &mut self,
        player: u8,
        inputs: &Inputs,
    ) -> Result<InputOutcome, PlayerError> {
        let p = self.present_mut(player)?;
        if !p.is_connected() {
            return Err(PlayerError::NotConnected(player));
        }
        Ok(p.input.offer(inputs))
    }

    /// Ends the match now with `ServerShutdown` (results marked as cut short). Does
    /// nothing once the match has ended.
    pub fn shutdown(&mut self) {
        if self.phase.phase != Phase::Ended {
            self.end(protocol::game::EndReason::ServerShutdown);
        }
    }

    /// Advances one tick: reconnect timeouts, inputs, the rules when playing, then the
    /// phase machine. The tick keeps counting after the match ends (nothing else moves).
    pub fn step(&mut self) {
        self.tick = self.tick.wrapping_add(1);
        if self.phase.phase == Phase::Ended {
            return;
        }
        self.expire_dropped();
        for p in self.players.iter_mut().filter(|p| p.is_connected()) {
            p.input.next_tick();
        }
        if self.phase.phase == Phase::Playing {
            let (tick, rules, bounds) = (self.tick, &self.rules, self.bounds);
            rules::move_players(&mut self.players, rules, bounds, tick);
            rules::collect_items(
                &mut self.players,
                &mut self.items,
                rules,
                tick,
                &mut self.events,
            );
            rules::resolve_tags(&mut self.players, rules, tick, &mut self.events);
            rules::respawn_items(&mut self.items, bounds, tick);
        }
        self.advance_phase();
    }

    /// The next queued event, oldest first, for the shell to broadcast.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// A present player's visible state.
    pub fn player_state(&self, player: u8) -> Option<PlayerState> {
        self.players
            .get(usize::from(player))
            .filter(|p| p.is_present())
            .map(|p| p.state(self.tick))
    }

    /// The player's team, for anyone who ever joined.
    pub fn team_of(&self, player: u8) -> Option<u8> {
        self.players.get(usize::from(player)).and_then(|p| p.team)
    }

    /// Sequence number of the player's input in force (0 before any), for snapshots.
    pub fn last_input_seq(&self, player: u8) -> u32 {
        self.players
            .get(usize::from(player))
            .map_or(0, |p| p.input.last_applied_seq())
    }

    /// Connected players.
    pub fn connected_count(&self) -> usize {
        self.players.iter().filter(|p| p.is_connected()).count()
    }

    /// Connected players plus dropped ones within their grace.
    pub fn present_count(&self) -> usize {
        self.players.iter().filter(|p| p.is_present()).count()
    }

    /// The world as every client should see it now: present players and alive items.
    pub fn world_view(&self) -> WorldView {
        WorldView {
            tick: self.tick,
            phase: self.phase,
            players: self
                .players
                .iter()
                .filter(|p| p.is_present())
                .map(|p| p.state(self.tick))
                .collect(),
            items: self.items.alive.clone(),
        }
    }

    /// Standings as they are now (final once the match has ended).
    pub fn current_standings(&self) -> Vec<PlayerResult> {
        let entries = self
            .players
            .iter()
            .map(|p| PlayerResult {
                player: p.id,
                name: p.name.clone(),
                team: p.team,
                placement: 0,
                score: p.score,
                left_early: !p.is_present(),
            })
            .collect();
        standings::rank(entries, self.params.teams)
    }

    /// The results, once the match has ended.
    pub fn results(&self) -> Option<&MatchResults> {
        self.results.as_ref()
    }

    pub(crate) fn emit(&mut self, kind: EventKind) {
        self.events.push_back(Event {
            tick: self.tick,
            kind,
        });
    }

    fn present_mut(&mut self, player: u8) -> Result<&mut Player, PlayerError> {
        let p = self
            .players
            .get_mut(usize::from(player))
            .ok_or(PlayerError::Unknown(player))?;
        if !p.is_present() {
            return Err(PlayerError::Gone(player));
        }
        Ok(p)
    }

    fn remove(&mut self, player: u8, reason: LeaveReason) -> Result<(), PlayerError> {
        let p = self.present_mut(player)?;
        p.presence = Presence::Gone(reason);
        p.input.reset();
        self.emit(EventKind::PlayerLeft { player, reason });
        Ok(())
    }

    fn expire_dropped(&mut self) {
        let tick = self.tick;
        let mut expired = Vec::new();
        for p in &mut self.players {
            if matches!(p.presence, Presence::Dropped { until } if tick >= until) {
                p.presence = Presence::Gone(LeaveReason::TimedOut);
                expired.push(p.id);
            }
        }
        for player in expired {
            self.emit(EventKind::PlayerLeft {
                player,
                reason: LeaveReason::TimedOut,
            });
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
