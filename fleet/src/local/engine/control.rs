//! Control-plane operations (the GameLift API subset a matchmaking backend uses), on the
//! engine's own records. The `api` module maps the real API's shapes onto these.

use super::*;

/// The real API's exception for each way an operation can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlErrorKind {
    /// `InvalidRequestException`.
    InvalidRequest,
    /// `NotFoundException`.
    NotFound,
    /// `FleetCapacityExceededException`: no process can take a game session.
    FleetCapacityExceeded,
    /// `GameSessionFullException`: no free slot, or the session denies new players.
    GameSessionFull,
    /// `InvalidGameSessionStatusException`: the game session is not ACTIVE.
    InvalidGameSessionStatus,
    /// `IdempotentParameterMismatchException`: an id reused with other parameters.
    IdempotentParameterMismatch,
}

/// A failed operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct ControlError {
    /// Which exception.
    pub kind: ControlErrorKind,
    /// The message the caller sees.
    pub message: String,
}

fn err<T>(kind: ControlErrorKind, message: impl Into<String>) -> Result<T, ControlError> {
    Err(ControlError {
        kind,
        message: message.into(),
    })
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next_token: Option<String>,
}

/// Which player sessions to list.
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionFilter {
    pub(crate) game_session_id: Option<String>,
    pub(crate) player_id: Option<String>,
    pub(crate) player_session_id: Option<String>,
    pub(crate) status: Option<PlayerSessionStatus>,
}

impl SessionFilter {
    pub(crate) fn from_sdk(
        q: protocol::sdk5::PlayerSessionQuery<'_>,
        status: Option<PlayerSessionStatus>,
    ) -> Self {
        use protocol::sdk5::PlayerSessionQuery as Q;
        let mut f = Self {
            status,
            ..Self::default()
        };
        match q {
            Q::GameSession(id) => f.game_session_id = Some(id.into()),
            Q::Player(id) => f.player_id = Some(id.into()),
            Q::PlayerSession(id) => f.player_session_id = Some(id.into()),
        }
        f
    }

    fn matches(&self, ps: &PlayerSession) -> bool {
        self.game_session_id
            .as_ref()
            .is_none_or(|g| *g == ps.game_session_id)
            && self.player_id.as_ref().is_none_or(|p| *p == ps.player_id)
            && self.player_session_id.as_ref().is_none_or(|p| *p == ps.id)
            && self.status.is_none_or(|s| s == ps.status)
    }
}

fn paginate<T: Clone>(
    all: Vec<T>,
    limit: u32,
    token: Option<&str>,
) -> Result<Page<T>, ControlError> {
    let start = match token {
        None => 0,
        Some(t) => match t
            .strip_prefix("page-")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) if n <= all.len() => n,
            _ => return err(ControlErrorKind::InvalidRequest, "invalid NextToken"),
        },
    };
    let limit = limit.max(1) as usize;
    let end = (start + limit).min(all.len());
    Ok(Page {
        items: all[start..end].to_vec(),
        next_token: (end < all.len()).then(|| format!("page-{end}")),
    })
}

/// Requests for `StartGameSessionPlacement`.
#[derive(Debug, Clone, Default)]
pub struct PlacementRequest {
    /// `PlacementId`.
    pub placement_id: String,
    /// `GameSessionQueueName`; every queue name places on this fleet.
    pub queue: String,
    /// The game session to create.
    pub game_session: NewGameSession,
    /// `DesiredPlayerSessions`.
    pub players: Vec<DesiredPlayer>,
    /// `PlayerLatencies`.
    pub latencies: Vec<(String, String, f32)>,
}

/// Limits the real API documents for these operations.
const MAX_PLAYERS_PER_SESSION: u32 = 200;
const MAX_PROPERTIES: usize = 16;
const MAX_PLAYERS_PER_REQUEST: usize = 25;

fn valid_token(t: &str) -> bool {
    (1..=48).contains(&t.len())
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Engine {
    fn check_fleet(&self, fleet_id: &str) -> Result<(), ControlError> {
        if fleet_id == self.cfg.fleet_id || fleet_id == self.cfg.fleet_arn() {
            Ok(())
        } else {
            err(
                ControlErrorKind::NotFound,
                format!("fleet {fleet_id} not found"),
            )
        }
    }

    fn check_new_session(&self, r: &NewGameSession) -> Result<(), ControlError> {
        use ControlErrorKind::InvalidRequest;
        if r.max_players > MAX_PLAYERS_PER_SESSION {
            return err(InvalidRequest, "MaximumPlayerSessionCount must be 0 to 200");
        }
        if r.properties.len() > MAX_PROPERTIES
            || r.properties
                .iter()
                .any(|(k, v)| k.is_empty() || k.len() > 32 || v.len() > 96)
        {
            return err(
                InvalidRequest,
                "GameProperties: at most 16, keys 1-32 and values 0-96 characters",
            );
        }
        if r.name
            .as_ref()
            .is_some_and(|n| n.is_empty() || n.len() > 1024)
        {
            return err(InvalidRequest, "Name must be 1 to 1024 characters");
        }
        if r.idempotency_token
            .as_deref()
            .is_some_and(|t| !valid_token(t))
        {
            return err(
                InvalidRequest,
                "IdempotencyToken must be 1 to 48 of A-Z a-z 0-9 - _",
            );
        }
        Ok(())
    }

    /// `CreateGameSession` on this fleet: picks an idle healthy process and pushes it the
    /// session, which starts ACTIVATING.
    pub fn create_game_session(
        &mut self,
        now: Millis,
        fleet_id: &str,
        r: NewGameSession,
    ) -> Result<&GameSession, ControlError> {
        self.check_fleet(fleet_id)?;
        self.check_new_session(&r)?;
        if let Some(token) = &r.idempotency_token {
            let id = self.game_session_arn(token);
            if let Some(existing) = self.game_sessions.get(&id) {
                let same = existing.max_players == r.max_players
                    && existing.properties == r.properties
                    && existing.name == r.name.clone().unwrap_or_default();
                return if same {
                    Ok(&self.game_sessions[&id])
                } else {
                    err(
                        ControlErrorKind::IdempotentParameterMismatch,
                        format!(
                            "a game session with id {token} already exists with other parameters"
                        ),
                    )
                };
            }
        }
        let id = self.place(now, r, String::new())?;
        Ok(&self.game_sessions[&id])
    }

    fn game_session_arn(&self, suffix: &str) -> String {
        format!(
            "arn:aws:gamelift:{}::gamesession/{}/{}",
            self.cfg.region, self.cfg.fleet_id, suffix
        )
    }

    /// Creates a game session on an idle process and pushes it; the caller checked input.
    fn place(
        &mut self,
        now: Millis,
        r: NewGameSession,
        matchmaker_data: String,
    ) -> Result<String, ControlError> {
        let activating = self
            .game_sessions
            .values()
            .filter(|g| g.status == GameSessionStatus::Activating)
            .count();
        let process_id =
            if self.capacity_paused || activating >= self.cfg.max_concurrent_activations as usize {
                None
            } else {
                self.processes
                    .values()
                    .find(|p| p.is_placeable(now, self.cfg.health_timeout_ms))
                    .map(|p| p.id.clone())
            };
        let Some(process_id) = process_id else {
            return err(
                ControlErrorKind::FleetCapacityExceeded,
                format!("no available server process in fleet {}", self.cfg.fleet_id),
            );
        };
        let suffix = match &r.idempotency_token {
            Some(t) => t.clone(),
            None => format!("gsess-{}", uuid::Uuid::new_v4()),
        };
        let id = self.game_session_arn(&suffix);
        let port = self.processes[&process_id].port;
        let gs = GameSession {
            id: id.clone(),
            name: r.name.unwrap_or_default(),
            creator_id: r.creator_id,
            max_players: r.max_players,
            properties: r.properties,
            data: r.data.unwrap_or_default(),
            matchmaker_data,
            status: GameSessionStatus::Activating,
            status_reason: None,
            policy: protocol::sdk5::PlayerSessionCreationPolicy::AcceptAll,
            process_id: process_id.clone(),
            ip_address: self.cfg.ip_address.clone(),
            dns_name: self.cfg.dns_name.clone(),
            port,
            created_at: now,
            terminated_at: None,
            activation_deadline: now + self.cfg.activation_timeout_ms,
            idempotency_token: r.idempotency_token,
        };
        self.game_sessions.insert(id.clone(), gs);
        self.gs_order.push(id.clone());
        if let Some(p) = self.processes.get_mut(&process_id) {
            p.game_session = Some(id.clone());
        }
        self.push_create_game_session(&id);
        Ok(id)
    }

    /// `DescribeGameSessions` / `DescribeGameSessionDetails`: by id, or every session of
    /// the fleet with an optional status filter, in creation order.
    pub fn describe_game_sessions(
        &self,
        fleet_id: Option<&str>,
        game_session_id: Option<&str>,
        status: Option<GameSessionStatus>,
        limit: u32,
        next_token: Option<&str>,
    ) -> Result<Page<&GameSession>, ControlError> {
        if let Some(id) = game_session_id {
            let gs = self.game_sessions.get(id);
            let Some(gs) = gs else {
                return err(
                    ControlErrorKind::NotFound,
                    format!("game session {id} not found"),
                );
            };
            return Ok(Page {
                items: vec![gs],
                next_token: None,
            });
        }
        match fleet_id {
            Some(f) => self.check_fleet(f)?,
            None => {
                return err(
                    ControlErrorKind::InvalidRequest,
                    "one of FleetId, AliasId or GameSessionId is required",
                );
            }
        }
        let all: Vec<&GameSession> = self
            .gs_order
            .iter()
            .map(|id| &self.game_sessions[id])
            .filter(|g| status.is_none_or(|s| s == g.status))
            .collect();
        paginate(all, limit, next_token)
    }

    /// `SearchGameSessions`: ACTIVE sessions of the fleet. fleet local understands the
    /// filter expressions `hasAvailablePlayerSessions=true` and `…=false` and no sort
    /// expression; anything else is refused rather than silently ignored.
    pub fn search_game_sessions(
        &self,
        fleet_id: &str,
        filter: Option<&str>,
        sort: Option<&str>,
        limit: u32,
        next_token: Option<&str>,
    ) -> Result<Page<&GameSession>, ControlError> {
        self.check_fleet(fleet_id)?;
        if sort.is_some_and(|s| !s.trim().is_empty()) {
            return err(
                ControlErrorKind::InvalidRequest,
                "SortExpression is not supported by fleet local",
            );
        }
        let want_available = match filter.map(|f| f.replace(' ', "")) {
            None => None,
            Some(f) if f.is_empty() => None,
            Some(f) if f == "hasAvailablePlayerSessions=true" => Some(true),
            Some(f) if f == "hasAvailablePlayerSessions=false" => Some(false),
            Some(f) => {
                return err(
                    ControlErrorKind::InvalidRequest,
                    format!("FilterExpression {f:?} is not supported by fleet local"),
                );
            }
        };
        let all: Vec<&GameSession> = self
            .gs_order
            .iter()
            .map(|id| &self.game_sessions[id])
            .filter(|g| g.status == GameSessionStatus::Active)
            .filter(|g| {
                want_available.is_none_or(|want| {
                    let free = g.policy == protocol::sdk5::PlayerSessionCreationPolicy::AcceptAll
                        && self.slots_used(&g.id) < g.max_players;
                    free == want
                })
            })
            .collect();
        paginate(all, limit, next_token)
    }

    /// Player sessions holding a slot in a game session.
    pub fn slots_used(&self, game_session_id: &str) -> u32 {
        slots_used(self.player_sessions.values(), game_session_id)
    }

    /// `TerminateGameSession`: `force` kills the process (FORCE_TERMINATE); otherwise the
    /// process is asked to end (TRIGGER_ON_PROCESS_TERMINATE) and the session is
    /// TERMINATING until it does.
    pub fn terminate_game_session(
        &mut self,
        now: Millis,
        id: &str,
        force: bool,
    ) -> Result<&GameSession, ControlError> {
        let Some(gs) = self.game_sessions.get(id) else {
            return err(
                ControlErrorKind::NotFound,
                format!("game session {id} not found"),
            );
        };
        if gs.status != GameSessionStatus::Active && gs.status != GameSessionStatus::Activating {
            return err(
                ControlErrorKind::InvalidGameSessionStatus,
                format!("game session is {}", gs.status.as_str()),
            );
        }
        let process_id = gs.process_id.clone();
        if force {
            self.end_game_session(
                id,
                GameSessionStatus::Terminated,
                Some(StatusReason::ForceTerminated),
                now,
            );
            self.kill(&process_id, now, "TerminateGameSession FORCE_TERMINATE");
        } else {
            let gs = self.game_sessions.get_mut(id).expect("checked");
            gs.status = GameSessionStatus::Terminating;
            gs.status_reason = Some(StatusReason::TriggeredOnProcessTerminate);
            self.terminate_process(&process_id, now, "TerminateGameSession");
        }
        Ok(&self.game_sessions[id])
    }

    /// `CreatePlayerSession(s)`: reserves one slot per player (RESERVED for 60 s).
    pub fn create_player_sessions(
        &mut self,
        now: Millis,
        game_session_id: &str,
        players: Vec<DesiredPlayer>,
    ) -> Result<Vec<&PlayerSession>, ControlError> {
        use ControlErrorKind::*;
        if players.is_empty() || players.len() > MAX_PLAYERS_PER_REQUEST {
            return err(InvalidRequest, "PlayerIds must hold 1 to 25 players");
        }
        if players
            .iter()
            .any(|p| p.player_id.is_empty() || p.player_id.len() > 1024)
        {
            return err(InvalidRequest, "PlayerId must be 1 to 1024 characters");
        }
        let Some(gs) = self.game_sessions.get(game_session_id) else {
            return err(
                NotFound,
                format!("game session {game_session_id} not found"),
            );
        };
        if gs.status != GameSessionStatus::Active {
            return err(
                InvalidGameSessionStatus,
                format!("game session is {}, not ACTIVE", gs.status.as_str()),
            );
        }
        if gs.policy != protocol::sdk5::PlayerSessionCreationPolicy::AcceptAll {
            return err(
                GameSessionFull,
                "the game session is not accepting new players",
            );
        }
        let used = self.slots_used(game_session_id);
        if used as usize + players.len() > gs.max_players as usize {
            return err(
                GameSessionFull,
                format!("{} of {} slots are taken", used, gs.max_players),
            );
        }
        let mut ids = Vec::with_capacity(players.len());
        for p in players {
            let id = format!("psess-{}", uuid::Uuid::new_v4());
            self.player_sessions.insert(
                id.clone(),
                PlayerSession {
                    id: id.clone(),
                    player_id: p.player_id,
                    game_session_id: game_session_id.into(),
                    status: PlayerSessionStatus::Reserved,
                    player_data: p.player_data,
                    created_at: now,
                    terminated_at: None,
                },
            );
            self.ps_order.push(id.clone());
            ids.push(id);
        }
        Ok(ids.iter().map(|id| &self.player_sessions[id]).collect())
    }

    pub(crate) fn list_player_sessions(
        &self,
        filter: &SessionFilter,
        limit: u32,
        next_token: Option<&str>,
    ) -> Result<Page<&PlayerSession>, ControlError> {
        let all: Vec<&PlayerSession> = self
            .ps_order
            .iter()
            .map(|id| &self.player_sessions[id])
            .filter(|ps| filter.matches(ps))
            .collect();
        paginate(all, limit, next_token)
    }

    /// `DescribePlayerSessions` from the control plane: exactly one of the three ids.
    pub fn describe_player_sessions(
        &self,
        game_session_id: Option<&str>,
        player_id: Option<&str>,
        player_session_id: Option<&str>,
        status: Option<PlayerSessionStatus>,
        limit: u32,
        next_token: Option<&str>,
    ) -> Result<Page<&PlayerSession>, ControlError> {
        let given = [game_session_id, player_id, player_session_id]
            .iter()
            .filter(|v| v.is_some())
            .count();
        if given != 1 {
            return err(
                ControlErrorKind::InvalidRequest,
                "exactly one of GameSessionId, PlayerId, PlayerSessionId is required",
            );
        }
        let filter = SessionFilter {
            game_session_id: game_session_id.map(Into::into),
            player_id: player_id.map(Into::into),
            player_session_id: player_session_id.map(Into::into),
            status,
        };
        self.list_player_sessions(&filter, limit, next_token)
    }

    /// `StartGameSessionPlacement`: PENDING until a process takes the session and
    /// activates it; then the player sessions are created and the placement FULFILLED.
    pub fn start_placement(
        &mut self,
        now: Millis,
        r: PlacementRequest,
    ) -> Result<&Placement, ControlError> {
        use ControlErrorKind::InvalidRequest;
        if !valid_token(&r.placement_id) {
            return err(
                InvalidRequest,
                "PlacementId must be 1 to 48 of A-Z a-z 0-9 - _",
            );
        }
        if self.placements.contains_key(&r.placement_id) {
            return err(
                InvalidRequest,
                format!("placement {} already exists", r.placement_id),
            );
        }
        if r.queue.is_empty() {
            return err(InvalidRequest, "GameSessionQueueName is required");
        }
        self.check_new_session(&r.game_session)?;
        if r.players.len() > r.game_session.max_players as usize {
            return err(
                InvalidRequest,
                "more DesiredPlayerSessions than MaximumPlayerSessionCount",
            );
        }
        let id = r.placement_id.clone();
        self.placements.insert(
            id.clone(),
            Placement {
                id: id.clone(),
                queue: r.queue,
                state: PlacementState::Pending,
                request: r.game_session,
                players: r.players,
                latencies: r.latencies,
                game_session_id: None,
                placed: Vec::new(),
                started_at: now,
                ended_at: None,
                deadline: now + self.cfg.placement_timeout_ms,
            },
        );
        self.advance_placements(now);
        Ok(&self.placements[&id])
    }

    /// `DescribeGameSessionPlacement`.
    pub fn placement(&self, id: &str) -> Result<&Placement, ControlError> {
        self.placements.get(id).map_or_else(
            || {
                err(
                    ControlErrorKind::NotFound,
                    format!("placement {id} not found"),
                )
            },
            Ok,
        )
    }

    /// `StopGameSessionPlacement`: a PENDING placement becomes CANCELLED.
    pub fn stop_placement(&mut self, now: Millis, id: &str) -> Result<&Placement, ControlError> {
        let Some(p) = self.placements.get_mut(id) else {
            return err(
                ControlErrorKind::NotFound,
                format!("placement {id} not found"),
            );
        };
        if p.state == PlacementState::Pending {
            p.state = PlacementState::Cancelled;
            p.ended_at = Some(now);
            if let Some(gs) = p.game_session_id.clone() {
                self.terminate_game_session(now, &gs, false).ok();
            }
        }
        Ok(&self.placements[id])
    }

    /// Moves PENDING placements on: place where there is capacity, time out the rest.
    pub(crate) fn advance_placements(&mut self, now: Millis) {
        let pending: Vec<String> = self
            .placements
            .values()
            .filter(|p| p.state == PlacementState::Pending)
            .map(|p| p.id.clone())
            .collect();
        for id in pending {
            let p = &self.placements[&id];
            if now >= p.deadline {
                let p = self.placements.get_mut(&id).expect("listed");
                p.state = PlacementState::TimedOut;
                p.ended_at = Some(now);
                continue;
            }
            // A placed session that failed to activate: try again elsewhere.
            if let Some(gs) = &p.game_session_id {
                if self
                    .game_sessions
                    .get(gs)
                    .is_some_and(|g| g.status.is_final())
                {
                    self.placements
                        .get_mut(&id)
                        .expect("listed")
                        .game_session_id = None;
                } else {
                    continue;
                }
            }
            let request = self.placements[&id].request.clone();
            let matchmaker_data = String::new();
            if let Ok(gs) = self.place(now, request, matchmaker_data) {
                self.placements
                    .get_mut(&id)
                    .expect("listed")
                    .game_session_id = Some(gs);
            }
        }
    }

    /// A game session became ACTIVE: fulfil the placement waiting for it, if any.
    pub(crate) fn placement_session_activated(&mut self, now: Millis, gs_id: &str) {
        let Some(id) = self
            .placements
            .values()
            .find(|p| {
                p.state == PlacementState::Pending && p.game_session_id.as_deref() == Some(gs_id)
            })
            .map(|p| p.id.clone())
        else {
            return;
        };
        let players = self.placements[&id].players.clone();
        let placed = if players.is_empty() {
            Vec::new()
        } else {
            match self.create_player_sessions(now, gs_id, players) {
                Ok(sessions) => sessions
                    .into_iter()
                    .map(|ps| (ps.player_id.clone(), ps.id.clone()))
                    .collect(),
                Err(e) => {
                    let p = self.placements.get_mut(&id).expect("found");
                    p.state = PlacementState::Failed;
                    p.ended_at = Some(now);
                    tracing::warn!(placement = %id, error = %e, "placement failed");
                    return;
                }
            }
        };
        let p = self.placements.get_mut(&id).expect("found");
        p.placed = placed;
        p.state = PlacementState::Fulfilled;
        p.ended_at = Some(now);
    }
}
