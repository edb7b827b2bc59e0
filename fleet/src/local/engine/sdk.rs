//! The service side of the SDK5 WebSocket: connections and requests from server processes.

use protocol::sdk5::{
    self, CreateGameSession, DescribePlayerSessionsResult, GetFleetRoleCredentialsResult,
    PlayerSessionCreationPolicy, Request, RequestFrame, ResponseFrame, Sdk5Error, ServiceErrorKind,
};

use super::*;

/// Why a connection is refused at the WebSocket upgrade (answered with HTTP 403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The `pID` query parameter is missing or empty.
    #[error("missing pID")]
    MissingProcessId,
    /// Another live connection already uses this process id.
    #[error("process id {0} is already connected")]
    DuplicateProcessId(String),
    /// The process already called ProcessEnding.
    #[error("process id {0} has ended")]
    ProcessEnded(String),
}

type Reply = Result<ResponseFrame, (ServiceErrorKind, String)>;

impl Engine {
    /// A process opens a connection. A process whose socket dropped may come back with
    /// the same `pID` and `IdempotencyToken` (the SDKs reuse both when reconnecting) and
    /// keeps its state; the same `pID` with a live connection and another token is a
    /// duplicate and is refused.
    pub fn connect(
        &mut self,
        now: Millis,
        conn: ConnId,
        process_id: &str,
        idempotency_token: &str,
    ) -> Result<(), ConnectError> {
        if process_id.is_empty() {
            return Err(ConnectError::MissingProcessId);
        }
        if let Some(p) = self.processes.get_mut(process_id) {
            if p.state == ProcessState::Ending {
                return Err(ConnectError::ProcessEnded(process_id.into()));
            }
            let same_process = p.idempotency_token == idempotency_token;
            if p.conn.is_some() && !same_process {
                return Err(ConnectError::DuplicateProcessId(process_id.into()));
            }
            // A reconnect (possibly before we noticed the old socket die): move to the
            // new connection and close the old one.
            if let Some(old) = p.conn.replace(conn) {
                self.conns.remove(&old);
                self.effects.push_back(Effect::Close {
                    conn: old,
                    code: 1001,
                    reason: "replaced by a new connection".into(),
                });
            }
            p.disconnected_at = None;
            self.conns.insert(conn, process_id.into());
            return Ok(());
        }
        self.processes.insert(
            process_id.into(),
            Process {
                id: process_id.into(),
                conn: Some(conn),
                idempotency_token: idempotency_token.into(),
                state: ProcessState::Connected,
                connected_at: now,
                disconnected_at: None,
                port: 0,
                log_paths: Vec::new(),
                sdk: (String::new(), String::new()),
                last_healthy: None,
                reported_healthy: false,
                game_session: None,
                terminate_pushed_at: None,
                terminate_reason: None,
                ending_at: None,
            },
        );
        self.conns.insert(conn, process_id.into());
        Ok(())
    }

    /// A connection closed. A process that ended is forgotten; any other may reconnect
    /// within the reconnect grace period.
    pub fn disconnect(&mut self, now: Millis, conn: ConnId) {
        let Some(process_id) = self.conns.remove(&conn) else {
            return;
        };
        let Some(p) = self.processes.get_mut(&process_id) else {
            return;
        };
        if p.conn != Some(conn) {
            return;
        }
        p.conn = None;
        if p.state == ProcessState::Ending {
            self.forget_process(&process_id, now);
        } else {
            p.disconnected_at = Some(now);
        }
    }

    /// The launcher saw a process exit. Whatever it hosted is over.
    pub fn process_exited(&mut self, now: Millis, process_id: &str) {
        if let Some(conn) = self.processes.get(process_id).and_then(|p| p.conn) {
            self.conns.remove(&conn);
        }
        self.forget_process(process_id, now);
    }

    /// A text frame arrived on `conn`. The answer is queued as an [`Effect::Send`].
    pub fn handle_frame(&mut self, now: Millis, conn: ConnId, text: &str) {
        let Some(process_id) = self.conns.get(&conn).cloned() else {
            return;
        };
        let frame = match RequestFrame::parse(text) {
            Ok(f) => f,
            Err(e) => {
                self.reject_unparsable(conn, &e);
                return;
            }
        };
        // A repeated RequestId is the same request: answer it again, apply nothing.
        if let Some(cached) = self.replies.get(&process_id).and_then(|r| {
            r.iter()
                .find(|(id, _)| *id == frame.request_id)
                .map(|(_, t)| t.clone())
        }) {
            self.push(Effect::Send { conn, text: cached });
            return;
        }
        let reply = match self.apply(now, &process_id, &frame) {
            Ok(r) => r,
            Err((kind, message)) => frame.error_response(kind, message),
        };
        let text = reply.to_json();
        let memory = self.replies.entry(process_id).or_default();
        if memory.len() == REPLY_MEMORY {
            memory.pop_front();
        }
        memory.push_back((frame.request_id.clone(), text.clone()));
        self.push(Effect::Send { conn, text });
    }

    fn reject_unparsable(&mut self, conn: ConnId, e: &Sdk5Error) {
        match e.error_response() {
            Some(reply) => self.push(Effect::Send {
                conn,
                text: reply.to_json(),
            }),
            // No RequestId to answer to (not JSON, no RequestId): nothing a client could
            // correlate, so the frame is dropped and logged.
            None => tracing::warn!(conn, error = %e, "dropping an unanswerable SDK frame"),
        }
    }

    fn apply(&mut self, now: Millis, pid: &str, frame: &RequestFrame) -> Reply {
        use ServiceErrorKind::{BadRequest, Conflict};
        let state = self.processes[pid].state;
        let ok = || Ok(frame.ok_response());
        match (&frame.request, state) {
            (Request::ActivateServerProcess(r), ProcessState::Connected) => {
                if r.port == 0 {
                    return Err((BadRequest, "Port must be between 1 and 65535".into()));
                }
                let p = self.processes.get_mut(pid).expect("checked");
                p.state = ProcessState::Active;
                p.port = r.port;
                p.log_paths = r.log_paths.clone();
                p.sdk = (r.sdk_version.clone(), r.sdk_language.clone());
                // Healthy until the first heartbeat says otherwise; the SDK sends one
                // immediately after this reply.
                p.last_healthy = Some(now);
                p.reported_healthy = true;
                tracing::info!(process_id = pid, port = r.port, "server process ready");
                ok()
            }
            (Request::ActivateServerProcess(_), _) => {
                Err((Conflict, "the server process is already active".into()))
            }
            (_, ProcessState::Connected) => Err((
                BadRequest,
                "the server process has not called ProcessReady".into(),
            )),
            (Request::TerminateServerProcess(_), _) => {
                let p = self.processes.get_mut(pid).expect("checked");
                if p.state != ProcessState::Ending {
                    tracing::info!(process_id = pid, "server process ending");
                    p.state = ProcessState::Ending;
                    p.ending_at = Some(now);
                    p.terminate_pushed_at = None;
                    if let Some(gs) = p.game_session.clone() {
                        let reason = self.game_sessions.get(&gs).and_then(|g| g.status_reason);
                        self.end_game_session(&gs, GameSessionStatus::Terminated, reason, now);
                    }
                }
                ok()
            }
            (_, ProcessState::Ending) => Err((BadRequest, "the server process is ending".into())),
            (Request::HeartbeatServerProcess(r), _) => {
                let p = self.processes.get_mut(pid).expect("checked");
                p.reported_healthy = r.health_status;
                if r.health_status {
                    p.last_healthy = Some(now);
                }
                ok()
            }
            (Request::ActivateGameSession(r), _) => {
                let gs = self.own_game_session(pid, &r.game_session_id)?;
                match gs.status {
                    GameSessionStatus::Activating => {
                        let gs = self
                            .game_sessions
                            .get_mut(&r.game_session_id)
                            .expect("checked");
                        gs.status = GameSessionStatus::Active;
                        tracing::info!(game_session_id = %r.game_session_id, "game session active");
                        self.placement_session_activated(now, &r.game_session_id);
                        ok()
                    }
                    GameSessionStatus::Active => ok(),
                    other => Err((
                        BadRequest,
                        format!("game session is {}, not ACTIVATING", other.as_str()),
                    )),
                }
            }
            (Request::UpdatePlayerSessionCreationPolicy(r), _) => {
                if r.player_session_policy == PlayerSessionCreationPolicy::NotSet {
                    return Err((
                        BadRequest,
                        "PlayerSessionPolicy must be ACCEPT_ALL or DENY_ALL".into(),
                    ));
                }
                self.own_game_session(pid, &r.game_session_id)?;
                let gs = self
                    .game_sessions
                    .get_mut(&r.game_session_id)
                    .expect("checked");
                gs.policy = r.player_session_policy;
                ok()
            }
            (Request::AcceptPlayerSession(r), _) => {
                self.player_session_transition(
                    pid,
                    &r.game_session_id,
                    &r.player_session_id,
                    now,
                    true,
                )?;
                ok()
            }
            (Request::RemovePlayerSession(r), _) => {
                self.player_session_transition(
                    pid,
                    &r.game_session_id,
                    &r.player_session_id,
                    now,
                    false,
                )?;
                ok()
            }
            (Request::DescribePlayerSessions(r), _) => {
                let result = self.describe_for_sdk(r)?;
                Ok(ResponseFrame::success::<sdk5::DescribePlayerSessions>(
                    &*frame.request_id,
                    &result,
                ))
            }
            (Request::GetFleetRoleCredentials(_), _) => {
                // Not a managed fleet: an empty AccessKeyId tells the SDK so (spec §4).
                Ok(ResponseFrame::success::<sdk5::GetFleetRoleCredentials>(
                    &*frame.request_id,
                    &GetFleetRoleCredentialsResult::default(),
                ))
            }
            (Request::GetComputeCertificate(_), _) => Err((
                BadRequest,
                "certificate generation is disabled for this fleet; use a self-signed certificate"
                    .into(),
            )),
            (Request::StartMatchBackfill(_) | Request::StopMatchBackfill(_), _) => Err((
                BadRequest,
                "FlexMatch backfill is not available in fleet local".into(),
            )),
        }
    }

    /// The game session `id`, which must be hosted by `pid`.
    fn own_game_session(
        &self,
        pid: &str,
        id: &str,
    ) -> Result<&GameSession, (ServiceErrorKind, String)> {
        let gs = self.game_sessions.get(id).ok_or_else(|| {
            (
                ServiceErrorKind::NotFound,
                format!("game session {id} not found"),
            )
        })?;
        if gs.process_id != pid {
            return Err((
                ServiceErrorKind::BadRequest,
                format!("game session {id} is not hosted by this process"),
            ));
        }
        Ok(gs)
    }

    /// Accept (RESERVED → ACTIVE) or remove (RESERVED/ACTIVE → COMPLETED).
    fn player_session_transition(
        &mut self,
        pid: &str,
        gs_id: &str,
        ps_id: &str,
        now: Millis,
        accept: bool,
    ) -> Result<(), (ServiceErrorKind, String)> {
        use ServiceErrorKind::{BadRequest, NotFound};
        let gs = self.own_game_session(pid, gs_id)?;
        if accept && gs.status != GameSessionStatus::Active {
            return Err((
                BadRequest,
                format!("game session is {}", gs.status.as_str()),
            ));
        }
        let ps = self
            .player_sessions
            .get_mut(ps_id)
            .ok_or_else(|| (NotFound, format!("player session {ps_id} not found")))?;
        if ps.game_session_id != gs_id {
            return Err((
                BadRequest,
                format!("player session {ps_id} belongs to another game session"),
            ));
        }
        match (accept, ps.status) {
            (true, PlayerSessionStatus::Reserved) => ps.status = PlayerSessionStatus::Active,
            (false, PlayerSessionStatus::Reserved | PlayerSessionStatus::Active) => {
                ps.status = PlayerSessionStatus::Completed;
                ps.terminated_at = Some(now);
            }
            (_, status) => {
                return Err((
                    BadRequest,
                    format!("player session {ps_id} is {}", status.as_str()),
                ));
            }
        }
        Ok(())
    }

    fn describe_for_sdk(
        &self,
        r: &sdk5::DescribePlayerSessions,
    ) -> Result<DescribePlayerSessionsResult, (ServiceErrorKind, String)> {
        let Some(query) = r.query() else {
            return Err((
                ServiceErrorKind::BadRequest,
                "exactly one of GameSessionId, PlayerId, PlayerSessionId is required".into(),
            ));
        };
        let status = match r.player_session_status_filter {
            None => None,
            Some(s) => match from_sdk_status(s) {
                Some(s) => Some(s),
                None => {
                    return Err((
                        ServiceErrorKind::BadRequest,
                        "unknown PlayerSessionStatusFilter".into(),
                    ));
                }
            },
        };
        let filter = control::SessionFilter::from_sdk(query, status);
        let limit = if r.limit == 0 { 50 } else { r.limit.min(1024) };
        let page = self
            .list_player_sessions(&filter, limit, r.next_token.as_deref())
            .map_err(|e| (ServiceErrorKind::BadRequest, e.message))?;
        Ok(DescribePlayerSessionsResult {
            next_token: page.next_token,
            player_sessions: page
                .items
                .iter()
                .map(|ps| self.sdk_player_session(ps))
                .collect(),
        })
    }

    fn sdk_player_session(&self, ps: &PlayerSession) -> sdk5::PlayerSession {
        let gs = self.game_sessions.get(&ps.game_session_id);
        sdk5::PlayerSession {
            player_session_id: ps.id.clone(),
            player_id: ps.player_id.clone(),
            game_session_id: ps.game_session_id.clone(),
            fleet_id: self.cfg.fleet_id.clone(),
            creation_time: ps.created_at,
            termination_time: ps.terminated_at.unwrap_or(0),
            status: to_sdk_status(ps.status),
            ip_address: gs.map(|g| g.ip_address.clone()).unwrap_or_default(),
            dns_name: gs.map(|g| g.dns_name.clone()).unwrap_or_default(),
            player_data: ps.player_data.clone().unwrap_or_default(),
            port: gs.map_or(0, |g| g.port),
        }
    }

    /// Pushes `CreateGameSession` for a newly placed game session to its process.
    pub(crate) fn push_create_game_session(&mut self, gs_id: &str) {
        let gs = &self.game_sessions[gs_id];
        let push = CreateGameSession {
            game_session_id: gs.id.clone(),
            game_session_name: gs.name.clone(),
            maximum_player_session_count: gs.max_players,
            port: gs.port,
            ip_address: gs.ip_address.clone(),
            dns_name: gs.dns_name.clone(),
            game_session_data: gs.data.clone(),
            matchmaker_data: gs.matchmaker_data.clone(),
            game_properties: gs.properties.iter().cloned().collect(),
        };
        let process_id = gs.process_id.clone();
        let text = sdk5::PushFrame::new(push).to_json();
        self.send_to_process(&process_id, text);
    }
}

fn to_sdk_status(s: PlayerSessionStatus) -> sdk5::PlayerSessionStatus {
    match s {
        PlayerSessionStatus::Reserved => sdk5::PlayerSessionStatus::Reserved,
        PlayerSessionStatus::Active => sdk5::PlayerSessionStatus::Active,
        PlayerSessionStatus::Completed => sdk5::PlayerSessionStatus::Completed,
        PlayerSessionStatus::TimedOut => sdk5::PlayerSessionStatus::TimedOut,
    }
}

fn from_sdk_status(s: sdk5::PlayerSessionStatus) -> Option<PlayerSessionStatus> {
    match s {
        sdk5::PlayerSessionStatus::Reserved => Some(PlayerSessionStatus::Reserved),
        sdk5::PlayerSessionStatus::Active => Some(PlayerSessionStatus::Active),
        sdk5::PlayerSessionStatus::Completed => Some(PlayerSessionStatus::Completed),
        sdk5::PlayerSessionStatus::TimedOut => Some(PlayerSessionStatus::TimedOut),
        sdk5::PlayerSessionStatus::NotSet => None,
    }
}
