//! The `Action` names of the protocol: twelve requests and four pushes.

use std::fmt;

/// Every `Action` value of the SDK 5 protocol, spelled exactly as on the wire
/// (case-sensitive; the variant name *is* the wire name).
///
/// Requests travel process → service and are answered with a response that echoes the
/// same `Action`. Pushes travel service → process unsolicited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Request sent by `ProcessReady()`: the process is ready to host game sessions.
    ActivateServerProcess,
    /// Request sent by the health loop (about every 60 s).
    HeartbeatServerProcess,
    /// Request sent by `ActivateGameSession()` after a `CreateGameSession` push.
    ActivateGameSession,
    /// Request: allow or deny new player sessions in the game session.
    UpdatePlayerSessionCreationPolicy,
    /// Request: a player connected with this player-session id (RESERVED → ACTIVE).
    AcceptPlayerSession,
    /// Request: a player left (→ COMPLETED).
    RemovePlayerSession,
    /// Request: list player sessions (typed response body).
    DescribePlayerSessions,
    /// Request: start a FlexMatch backfill ticket (typed response body).
    StartMatchBackfill,
    /// Request: cancel a FlexMatch backfill ticket.
    StopMatchBackfill,
    /// Request: path of the compute's TLS certificate (typed response body).
    GetComputeCertificate,
    /// Request: temporary credentials for the fleet's IAM role (typed response body).
    GetFleetRoleCredentials,
    /// Request sent by `ProcessEnding()`.
    TerminateServerProcess,
    /// Push: host this new game session.
    CreateGameSession,
    /// Push: the game session changed (backfill results).
    UpdateGameSession,
    /// Push: the process is asked to shut down by a given time.
    TerminateProcess,
    /// Push: reconnect to a new endpoint with a new auth token.
    RefreshConnection,
}

impl Action {
    /// The twelve request actions (process → service), in the order of the spec's §4.
    pub const REQUESTS: [Action; 12] = [
        Action::ActivateServerProcess,
        Action::HeartbeatServerProcess,
        Action::ActivateGameSession,
        Action::UpdatePlayerSessionCreationPolicy,
        Action::AcceptPlayerSession,
        Action::RemovePlayerSession,
        Action::DescribePlayerSessions,
        Action::StartMatchBackfill,
        Action::StopMatchBackfill,
        Action::GetComputeCertificate,
        Action::GetFleetRoleCredentials,
        Action::TerminateServerProcess,
    ];

    /// The four push actions (service → process). These are the only actions the
    /// client-side classifier treats as pushes (§3.2 rule 2).
    pub const PUSHES: [Action; 4] = [
        Action::CreateGameSession,
        Action::UpdateGameSession,
        Action::TerminateProcess,
        Action::RefreshConnection,
    ];

    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::ActivateServerProcess => "ActivateServerProcess",
            Action::HeartbeatServerProcess => "HeartbeatServerProcess",
            Action::ActivateGameSession => "ActivateGameSession",
            Action::UpdatePlayerSessionCreationPolicy => "UpdatePlayerSessionCreationPolicy",
            Action::AcceptPlayerSession => "AcceptPlayerSession",
            Action::RemovePlayerSession => "RemovePlayerSession",
            Action::DescribePlayerSessions => "DescribePlayerSessions",
            Action::StartMatchBackfill => "StartMatchBackfill",
            Action::StopMatchBackfill => "StopMatchBackfill",
            Action::GetComputeCertificate => "GetComputeCertificate",
            Action::GetFleetRoleCredentials => "GetFleetRoleCredentials",
            Action::TerminateServerProcess => "TerminateServerProcess",
            Action::CreateGameSession => "CreateGameSession",
            Action::UpdateGameSession => "UpdateGameSession",
            Action::TerminateProcess => "TerminateProcess",
            Action::RefreshConnection => "RefreshConnection",
        }
    }

    /// Looks up a wire name. Exact and case-sensitive, like every SDK; `None` if unknown.
    pub fn from_name(name: &str) -> Option<Action> {
        Self::REQUESTS
            .iter()
            .chain(Self::PUSHES.iter())
            .copied()
            .find(|action| action.as_str() == name)
    }

    /// True for the four service → process pushes.
    pub const fn is_push(self) -> bool {
        matches!(
            self,
            Action::CreateGameSession
                | Action::UpdateGameSession
                | Action::TerminateProcess
                | Action::RefreshConnection
        )
    }

    /// True for the twelve process → service requests.
    pub const fn is_request(self) -> bool {
        !self.is_push()
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
