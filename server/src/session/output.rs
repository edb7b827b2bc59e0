//! What the admission core hands out: requests for the shell, events for the game, and
//! counters for metrics.

use protocol::game::{DisconnectReason, Inputs, LeaveReason};

/// A connection id chosen by the shell (for example a counter per accepted QUIC
/// connection). The core never interprets it; ids must not be reused while the core still
/// knows the connection (until [`handle_conn_lost`](super::Sessions::handle_conn_lost)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// A player's id within the match, `0..MAX_PLAYERS`; the `player` of `Welcome`.
pub type PlayerId = u8;

/// Why GameLift refused `AcceptPlayerSession`, as the shell classifies the SDK's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AcceptError {
    /// The id is unknown, belongs to another game session, or GameLift rejected it as
    /// invalid. Closes with `InvalidPlayerSession`.
    Invalid,
    /// The reservation timed out (status `TIMEDOUT`, not accepted within 60 s) or was
    /// already completed. Closes with `ExpiredPlayerSession`.
    Expired,
    /// The call itself failed (SDK not connected, timeout, service error). Closes with
    /// `InternalError`: the client may try again through matchmaking.
    Unavailable,
}

impl AcceptError {
    /// The reason the connection is closed with.
    pub const fn disconnect_reason(self) -> DisconnectReason {
        match self {
            Self::Invalid => DisconnectReason::InvalidPlayerSession,
            Self::Expired => DisconnectReason::ExpiredPlayerSession,
            Self::Unavailable => DisconnectReason::InternalError,
        }
    }
}

/// One thing the core wants done or wants known, taken with
/// [`poll`](super::Sessions::poll). The first four are for the shell, the rest for the game.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Call GameLift `AcceptPlayerSession(player_session_id)` and report the answer with
    /// [`handle_accept_result`](super::Sessions::handle_accept_result).
    Accept {
        /// The connection that presented the id.
        conn: ConnId,
        /// The player-session id from its hello.
        player_session_id: String,
    },
    /// Send `Welcome` on the connection's stream: the shell fills in the protocol version,
    /// the match parameters and the current tick from the game.
    Welcome {
        /// The admitted connection.
        conn: ConnId,
        /// Its player id.
        player: PlayerId,
        /// True when a dropped player took their slot back.
        resumed: bool,
    },
    /// Send `Disconnect { reason }` on the stream if there is one, then close the QUIC
    /// connection with application code `reason.code()`, and report
    /// [`handle_conn_lost`](super::Sessions::handle_conn_lost) once it is gone.
    Close {
        /// The connection.
        conn: ConnId,
        /// Why; also the QUIC close code.
        reason: DisconnectReason,
    },
    /// Too many connections are pending: close this one at once with code
    /// `SessionFull.code()` and no stream message. The core has already forgotten it.
    Refuse {
        /// The connection.
        conn: ConnId,
    },
    /// Call GameLift `RemovePlayerSession(player_session_id)`: the player is gone for good.
    RemovePlayerSession {
        /// The player-session id.
        player_session_id: String,
    },
    /// Game: a new player is in the match.
    PlayerJoined {
        /// Their slot.
        player: PlayerId,
        /// The display name from their hello (at most `MAX_NAME_LEN` bytes, unchecked
        /// otherwise).
        name: String,
    },
    /// Game: the player's connection was lost; their slot is held for the reconnect grace.
    PlayerDropped {
        /// The player.
        player: PlayerId,
    },
    /// Game: a dropped player is back on a new connection.
    PlayerReturned {
        /// The player.
        player: PlayerId,
    },
    /// Game: the player is gone for good (`Left`, `TimedOut` after the grace, or `Kicked`
    /// for a protocol violation or a server-side close). Their id may be reused later.
    PlayerLeft {
        /// The player.
        player: PlayerId,
        /// Why.
        reason: LeaveReason,
    },
    /// Game: a player's inputs (1 to `MAX_INPUT_FRAMES` frames, checked).
    Input {
        /// The player.
        player: PlayerId,
        /// As received.
        inputs: Inputs,
    },
    /// Game: the newest snapshot tick the player holds (from an `Ack`, or the ack an
    /// `Inputs` carries, right after its [`Output::Input`]).
    Ack {
        /// The player.
        player: PlayerId,
        /// The tick.
        tick: u32,
    },
}

/// Plain counters the shell exports as metrics. They only ever grow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Connections reported by the shell, refused or not.
    pub connections: u64,
    /// Connections refused because too many were pending (hello flood).
    pub refused_pending_cap: u64,
    /// Connections closed by the core, by [`DisconnectReason::code`].
    pub closed_by_reason: [u64; DisconnectReason::ALL.len()],
    /// `AcceptPlayerSession` calls requested.
    pub accepts_requested: u64,
    /// `AcceptPlayerSession` calls GameLift refused or that failed.
    pub accepts_failed: u64,
    /// `RemovePlayerSession` calls requested.
    pub removes_requested: u64,
    /// Players admitted for the first time.
    pub players_joined: u64,
    /// Dropped players who came back within the grace.
    pub players_resumed: u64,
    /// Players whose connection was lost without `Leave`.
    pub players_dropped: u64,
    /// Dropped players whose grace ran out.
    pub players_timed_out: u64,
    /// Datagrams handed to the core.
    pub datagrams_received: u64,
    /// Datagrams dropped by the rate limiter.
    pub datagrams_rate_dropped: u64,
    /// Datagrams ignored because their connection is closing or unknown.
    pub datagrams_ignored: u64,
    /// Stream bytes handed to the core.
    pub stream_bytes: u64,
}

impl SessionStats {
    /// Connections the core closed with `reason`.
    pub fn closed(&self, reason: DisconnectReason) -> u64 {
        self.closed_by_reason[reason.code() as usize]
    }
}
