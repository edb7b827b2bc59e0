//! The records the engine keeps: server processes, game sessions, player sessions and
//! placements, with GameLift's status values.

use std::collections::BTreeMap;

use protocol::sdk5::PlayerSessionCreationPolicy;

/// Unix epoch milliseconds; the engine's only clock.
pub type Millis = i64;

/// Identifies one WebSocket connection, assigned by the shell.
pub type ConnId = u64;

/// A server process's lifecycle, as the service sees it (spec §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessState {
    /// Connected, `ActivateServerProcess` not yet received.
    Connected,
    /// Ready: `ActivateServerProcess` succeeded.
    Active,
    /// `TerminateServerProcess` (ProcessEnding) received; waiting for the process to exit.
    Ending,
}

/// One server process known to the fleet.
#[derive(Debug, Clone)]
pub struct Process {
    /// `pID` from the connection URL.
    pub id: String,
    /// The live connection, if any (a process whose socket dropped may reconnect).
    pub conn: Option<ConnId>,
    /// The `IdempotencyToken` of the connection; a reconnect reuses it.
    pub idempotency_token: String,
    /// Lifecycle state.
    pub state: ProcessState,
    /// When the process first connected.
    pub connected_at: Millis,
    /// When its socket dropped, while it may still reconnect.
    pub disconnected_at: Option<Millis>,
    /// `Port` from `ActivateServerProcess`.
    pub port: u16,
    /// `LogPaths` from `ActivateServerProcess`.
    pub log_paths: Vec<String>,
    /// `SdkVersion` and `SdkLanguage`.
    pub sdk: (String, String),
    /// Last heartbeat that reported healthy (or the moment of activation).
    pub last_healthy: Option<Millis>,
    /// The last reported health value.
    pub reported_healthy: bool,
    /// The game session it hosts, if any.
    pub game_session: Option<String>,
    /// When `TerminateProcess` was pushed, if it was.
    pub terminate_pushed_at: Option<Millis>,
    /// Why the fleet is terminating it, for logs.
    pub terminate_reason: Option<&'static str>,
    /// When `TerminateServerProcess` arrived.
    pub ending_at: Option<Millis>,
}

impl Process {
    /// Whether a new game session may be placed on this process.
    pub fn is_placeable(&self, now: Millis, health_timeout_ms: Millis) -> bool {
        self.state == ProcessState::Active
            && self.conn.is_some()
            && self.game_session.is_none()
            && self.terminate_pushed_at.is_none()
            && self
                .last_healthy
                .is_some_and(|t| now - t < health_timeout_ms)
    }
}

/// `GameSessionStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GameSessionStatus {
    /// Pushed to a process, waiting for `ActivateGameSession`.
    Activating,
    /// Players may join.
    Active,
    /// `TerminateGameSession` asked the process to end.
    Terminating,
    /// Over.
    Terminated,
    /// Failed (activation timed out, or the process died).
    Error,
}

impl GameSessionStatus {
    /// The API's string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Activating => "ACTIVATING",
            Self::Active => "ACTIVE",
            Self::Terminating => "TERMINATING",
            Self::Terminated => "TERMINATED",
            Self::Error => "ERROR",
        }
    }

    /// Parses the API's string.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Activating,
            Self::Active,
            Self::Terminating,
            Self::Terminated,
            Self::Error,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// Whether the session is over.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Terminated | Self::Error)
    }
}

/// `GameSessionStatusReason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusReason {
    /// The process was interrupted (it died or stopped answering).
    Interrupted,
    /// `TerminateGameSession` with `TRIGGER_ON_PROCESS_TERMINATE`.
    TriggeredOnProcessTerminate,
    /// `TerminateGameSession` with `FORCE_TERMINATE`.
    ForceTerminated,
}

impl StatusReason {
    /// The API's string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Interrupted => "INTERRUPTED",
            Self::TriggeredOnProcessTerminate => "TRIGGERED_ON_PROCESS_TERMINATE",
            Self::ForceTerminated => "FORCE_TERMINATED",
        }
    }
}

/// One game session.
#[derive(Debug, Clone)]
pub struct GameSession {
    /// ARN-form id: `arn:aws:gamelift:<region>::gamesession/<fleet-id>/<id>`.
    pub id: String,
    /// `Name`.
    pub name: String,
    /// `CreatorId`.
    pub creator_id: Option<String>,
    /// `MaximumPlayerSessionCount`.
    pub max_players: u32,
    /// `GameProperties`, in the order given.
    pub properties: Vec<(String, String)>,
    /// `GameSessionData`.
    pub data: String,
    /// `MatchmakerData`.
    pub matchmaker_data: String,
    /// Status.
    pub status: GameSessionStatus,
    /// Why it ended, when it did.
    pub status_reason: Option<StatusReason>,
    /// `PlayerSessionCreationPolicy`.
    pub policy: PlayerSessionCreationPolicy,
    /// The hosting process's id.
    pub process_id: String,
    /// Connection facts copied from the process and fleet.
    pub ip_address: String,
    /// DNS name players use.
    pub dns_name: String,
    /// Port players use.
    pub port: u16,
    /// When it was created.
    pub created_at: Millis,
    /// When it ended.
    pub terminated_at: Option<Millis>,
    /// When ACTIVATING runs out.
    pub activation_deadline: Millis,
    /// The `IdempotencyToken` it was created with, if any.
    pub idempotency_token: Option<String>,
}

/// `PlayerSessionStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlayerSessionStatus {
    /// Slot reserved, player not yet accepted by the server.
    Reserved,
    /// Accepted by the server.
    Active,
    /// Removed, or the game session ended.
    Completed,
    /// Not accepted within the reservation window.
    TimedOut,
}

impl PlayerSessionStatus {
    /// The API's string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "RESERVED",
            Self::Active => "ACTIVE",
            Self::Completed => "COMPLETED",
            Self::TimedOut => "TIMEDOUT",
        }
    }

    /// Parses the API's string.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Reserved,
            Self::Active,
            Self::Completed,
            Self::TimedOut,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// Whether the session holds a slot in its game session.
    pub const fn holds_slot(self) -> bool {
        matches!(self, Self::Reserved | Self::Active)
    }
}

/// One player session.
#[derive(Debug, Clone)]
pub struct PlayerSession {
    /// `psess-<uuid>`.
    pub id: String,
    /// The player.
    pub player_id: String,
    /// The game session (ARN).
    pub game_session_id: String,
    /// Status.
    pub status: PlayerSessionStatus,
    /// `PlayerData`.
    pub player_data: Option<String>,
    /// When it was created.
    pub created_at: Millis,
    /// When it stopped holding a slot.
    pub terminated_at: Option<Millis>,
}

/// `GameSessionPlacementState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacementState {
    /// Waiting for capacity (or for the placed session to activate).
    Pending,
    /// Placed: the game session is active and the player sessions exist.
    Fulfilled,
    /// Stopped by `StopGameSessionPlacement`.
    Cancelled,
    /// Not placed within the queue's timeout.
    TimedOut,
    /// Could not be placed.
    Failed,
}

impl PlacementState {
    /// The API's string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Fulfilled => "FULFILLED",
            Self::Cancelled => "CANCELLED",
            Self::TimedOut => "TIMED_OUT",
            Self::Failed => "FAILED",
        }
    }
}

/// A desired player of a placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredPlayer {
    /// Player id.
    pub player_id: String,
    /// Player data.
    pub player_data: Option<String>,
}

/// One `StartGameSessionPlacement` request and its progress.
#[derive(Debug, Clone)]
pub struct Placement {
    /// `PlacementId` (chosen by the caller).
    pub id: String,
    /// `GameSessionQueueName`.
    pub queue: String,
    /// State.
    pub state: PlacementState,
    /// What to create.
    pub request: NewGameSession,
    /// The players to seat.
    pub players: Vec<DesiredPlayer>,
    /// `PlayerLatencies`: (player, region, ms).
    pub latencies: Vec<(String, String, f32)>,
    /// The game session placed for it, once there is one.
    pub game_session_id: Option<String>,
    /// `(player id, player-session id)` of the seated players, once fulfilled.
    pub placed: Vec<(String, String)>,
    /// When it started.
    pub started_at: Millis,
    /// When it reached a final state.
    pub ended_at: Option<Millis>,
    /// When PENDING runs out.
    pub deadline: Millis,
}

/// What a caller asks for when creating a game session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewGameSession {
    /// `Name`.
    pub name: Option<String>,
    /// `MaximumPlayerSessionCount`.
    pub max_players: u32,
    /// `GameProperties`.
    pub properties: Vec<(String, String)>,
    /// `GameSessionData`.
    pub data: Option<String>,
    /// `CreatorId`.
    pub creator_id: Option<String>,
    /// `IdempotencyToken` (or `GameSessionId`, the custom id suffix).
    pub idempotency_token: Option<String>,
}

/// Player sessions of a game session, grouped for quick counting.
pub(crate) fn slots_used<'a>(
    sessions: impl Iterator<Item = &'a PlayerSession>,
    game_session_id: &str,
) -> u32 {
    let n = sessions
        .filter(|p| p.game_session_id == game_session_id && p.status.holds_slot())
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A map type the engine uses for deterministic iteration (tests compare orders).
pub type Table<V> = BTreeMap<String, V>;
