//! The game wire's message types.
//!
//! Field order is wire order: bincode writes fields in declaration order with no names,
//! and enum variants as their index. Reordering fields or variants is a breaking change
//! that needs a new [`PROTOCOL_VERSION`](super::PROTOCOL_VERSION); appending a variant at
//! the end of an enum is not (old peers reject it as an unknown variant).

use serde::{Deserialize, Serialize};

use super::Channel;
use super::PlayerDelta;
use super::bounded::{de_str, de_vec, ser_str, ser_vec};

/// Most bytes in a GameLift player-session id (GameLift validates ≤ 256).
pub const MAX_PLAYER_SESSION_ID_LEN: usize = 256;
/// Most bytes in a GameLift game-session id (an ARN).
pub const MAX_GAME_SESSION_ID_LEN: usize = 256;
/// Most bytes in a display name, a mode name or a map name.
pub const MAX_NAME_LEN: usize = 32;
/// Most input frames in one [`Inputs`] message (the newest plus redundant older ones).
pub const MAX_INPUT_FRAMES: usize = 8;
/// Most players in one game session; player ids are `0..MAX_PLAYERS`.
pub const MAX_PLAYERS: usize = 64;
/// Most item states, and most removed ids of each kind, in one snapshot.
pub const MAX_SNAPSHOT_ITEMS: usize = 128;

// ---------------------------------------------------------------------------------------
// Client → server
// ---------------------------------------------------------------------------------------

/// Every message a game client sends.
///
/// `Hello` is variant 0 and its first field is the protocol version, in every version of
/// this protocol, so a server can always read a client's version (see
/// [`peek_hello_version`](super::peek_hello_version)) even when the rest does not decode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientMessage {
    /// First message on the stream: who the client is. Variant 0, forever.
    Hello(Hello),
    /// The newest input and a few older ones again, in a datagram.
    Inputs(Inputs),
    /// The newest snapshot the client has received, in a datagram; the server encodes
    /// later snapshots as deltas against it. Only needed while the client sends no
    /// `Inputs`, which carry the same acknowledgement.
    Ack(SnapshotAck),
    /// The player leaves the match on purpose, on the stream; no reconnect grace applies.
    Leave,
}

impl ClientMessage {
    /// The channel this message travels on.
    pub const fn channel(&self) -> Channel {
        match self {
            Self::Hello(_) | Self::Leave => Channel::Stream,
            Self::Inputs(_) | Self::Ack(_) => Channel::Datagram,
        }
    }

    /// A short name for logs and errors.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Hello(_) => "hello",
            Self::Inputs(_) => "inputs",
            Self::Ack(_) => "ack",
            Self::Leave => "leave",
        }
    }
}

/// The client's introduction: its protocol version and the GameLift player session it was
/// given by matchmaking. The server admits it only after GameLift accepts that session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Must equal the server's [`PROTOCOL_VERSION`](super::PROTOCOL_VERSION). First field, forever.
    pub protocol_version: u16,
    /// The GameLift player-session id (`psess-…`), at most [`MAX_PLAYER_SESSION_ID_LEN`] bytes.
    #[serde(serialize_with = "ser_str::<_, MAX_PLAYER_SESSION_ID_LEN>")]
    #[serde(deserialize_with = "de_str::<_, MAX_PLAYER_SESSION_ID_LEN>")]
    pub player_session_id: String,
    /// A display name, at most [`MAX_NAME_LEN`] bytes; the server may replace it.
    #[serde(serialize_with = "ser_str::<_, MAX_NAME_LEN>")]
    #[serde(deserialize_with = "de_str::<_, MAX_NAME_LEN>")]
    pub name: String,
}

/// Inputs with redundancy: `frames[0]` is input number `newest_seq`, `frames[i]` is input
/// number `newest_seq - i`. Resending the last few inputs in every datagram means a lost
/// datagram costs nothing as long as one of the next few arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// Sequence number of `frames[0]`; increases by one per client input tick.
    pub newest_seq: u32,
    /// Newest first; 1 to [`MAX_INPUT_FRAMES`] frames.
    #[serde(serialize_with = "ser_vec::<_, _, MAX_INPUT_FRAMES>")]
    #[serde(deserialize_with = "de_vec::<_, _, MAX_INPUT_FRAMES>")]
    pub frames: Vec<InputFrame>,
    /// The newest snapshot tick the client holds, as in [`SnapshotAck`]: a client that
    /// sends inputs every tick acknowledges snapshots here and needs no separate `Ack`
    /// datagram (half the upstream packets). `None` before the first snapshot.
    pub ack: Option<u32>,
}

/// One tick of a player's controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InputFrame {
    /// Horizontal stick, −127 (left) to 127 (right); −128 is treated as −127.
    pub move_x: i8,
    /// Vertical stick, −127 (down) to 127 (up); −128 is treated as −127.
    pub move_y: i8,
    /// Button bits: see [`buttons`].
    pub buttons: u8,
}

/// Bits of [`InputFrame::buttons`]. Unknown bits are ignored by the server.
pub mod buttons {
    /// Try to tag the nearest player in reach.
    pub const TAG: u8 = 1 << 0;
    /// Move faster for a moment (costs stamina).
    pub const DASH: u8 = 1 << 1;
}

/// Acknowledges the snapshot of `tick`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotAck {
    /// The newest snapshot tick the client has received and applied.
    pub tick: u32,
}

// ---------------------------------------------------------------------------------------
// Server → client
// ---------------------------------------------------------------------------------------

/// Every message the session server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerMessage {
    /// The client is admitted: its player id and the match parameters. On the stream.
    Welcome(Welcome),
    /// World state, full or as a delta, in a datagram.
    Snapshot(Snapshot),
    /// Something happened, in order, on the stream.
    Event(Event),
    /// The server is closing the connection, and why. Last message on the stream.
    Disconnect(Disconnect),
}

impl ServerMessage {
    /// The channel this message travels on.
    pub const fn channel(&self) -> Channel {
        match self {
            Self::Snapshot(_) => Channel::Datagram,
            Self::Welcome(_) | Self::Event(_) | Self::Disconnect(_) => Channel::Stream,
        }
    }

    /// A short name for logs and errors.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Welcome(_) => "welcome",
            Self::Snapshot(_) => "snapshot",
            Self::Event(_) => "event",
            Self::Disconnect(_) => "disconnect",
        }
    }
}

/// Admission granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    /// The server's protocol version (equal to the client's, or it would have disconnected).
    pub protocol_version: u16,
    /// This client's player id within the match, `0..MAX_PLAYERS`.
    pub player: u8,
    /// True when a reconnecting client took back the slot it held before.
    pub resumed: bool,
    /// The server's tick when this was sent.
    pub tick: u32,
    /// How the match is set up.
    pub params: MatchParams,
}

/// The match's fixed parameters, from the game session's properties and matchmaker data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchParams {
    /// The GameLift game-session id, which is also the match id in results.
    #[serde(serialize_with = "ser_str::<_, MAX_GAME_SESSION_ID_LEN>")]
    #[serde(deserialize_with = "de_str::<_, MAX_GAME_SESSION_ID_LEN>")]
    pub game_session_id: String,
    /// Game mode name (for example `ffa` or `teams`).
    #[serde(serialize_with = "ser_str::<_, MAX_NAME_LEN>")]
    #[serde(deserialize_with = "de_str::<_, MAX_NAME_LEN>")]
    pub mode: String,
    /// Simulation ticks per second.
    pub tick_rate_hz: u16,
    /// Map width in millimetres; positions run from 0 to this.
    pub map_width: u32,
    /// Map height in millimetres.
    pub map_height: u32,
    /// Number of teams; 0 means free-for-all.
    pub teams: u8,
    /// Player slots in the match.
    pub max_players: u8,
    /// Length of the play phase in ticks.
    pub duration_ticks: u32,
    /// Score that ends the match early; 0 means none.
    pub score_limit: u32,
    /// Seed of the match's deterministic simulation (item spawns).
    pub seed: u64,
}

/// World state at `tick`. A delta (`baseline` set) lists only what changed since the
/// snapshot of tick `baseline`, which the client acknowledged: a changed player either
/// whole in `players` or, usually shorter, as a [`PlayerDelta`] in `player_deltas`; new
/// or changed items whole. A full snapshot (`baseline` unset) lists everything whole. A client that no longer holds the baseline ignores the delta
/// and keeps acking its newest snapshot; the server falls back to full snapshots when the
/// client's ack is older than the history it keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Simulation tick this state belongs to.
    pub tick: u32,
    /// Tick of the snapshot this one is a delta against; `None` for a full snapshot.
    pub baseline: Option<u32>,
    /// Newest input sequence number of the receiving player the server has applied
    /// (for client-side prediction and reconciliation).
    pub last_input_seq: u32,
    /// Match phase and when it ends.
    pub phase: PhaseState,
    /// Players sent whole: all of them when full; in a delta, players new since the
    /// baseline (and changed ones whose delta would not be shorter).
    #[serde(serialize_with = "ser_vec::<_, _, MAX_PLAYERS>")]
    #[serde(deserialize_with = "de_vec::<_, _, MAX_PLAYERS>")]
    pub players: Vec<PlayerState>,
    /// Players changed since the baseline, as per-field deltas against their baseline
    /// state; always empty in a full snapshot.
    #[serde(serialize_with = "ser_vec::<_, _, MAX_PLAYERS>")]
    #[serde(deserialize_with = "de_vec::<_, _, MAX_PLAYERS>")]
    pub player_deltas: Vec<PlayerDelta>,
    /// Players present in the baseline and gone now.
    #[serde(serialize_with = "ser_vec::<_, _, MAX_PLAYERS>")]
    #[serde(deserialize_with = "de_vec::<_, _, MAX_PLAYERS>")]
    pub removed_players: Vec<u8>,
    /// Items that are new or changed since the baseline (all of them when full).
    #[serde(serialize_with = "ser_vec::<_, _, MAX_SNAPSHOT_ITEMS>")]
    #[serde(deserialize_with = "de_vec::<_, _, MAX_SNAPSHOT_ITEMS>")]
    pub items: Vec<ItemState>,
    /// Items present in the baseline and gone now (collected).
    #[serde(serialize_with = "ser_vec::<_, _, MAX_SNAPSHOT_ITEMS>")]
    #[serde(deserialize_with = "de_vec::<_, _, MAX_SNAPSHOT_ITEMS>")]
    pub removed_items: Vec<u16>,
}

/// The match phase, as carried in every snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseState {
    /// Which phase.
    pub phase: Phase,
    /// Tick at which this phase ends (for `Ended`: the tick it ended).
    pub ends_at_tick: u32,
}

/// Match phases, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Phase {
    /// Waiting for the expected players, up to a timeout.
    WaitingForPlayers,
    /// Everyone is here (or the wait timed out): counting down to play.
    Countdown,
    /// The match is running.
    Playing,
    /// The match is over; final standings were sent as an event.
    Ended,
}

/// One player's visible state. Positions are millimetres on the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayerState {
    /// Player id.
    pub id: u8,
    /// Position, x.
    pub x: i32,
    /// Position, y.
    pub y: i32,
    /// Velocity, x, in millimetres per tick.
    pub vx: i16,
    /// Velocity, y, in millimetres per tick.
    pub vy: i16,
    /// Current score.
    pub score: u32,
    /// State bits: see [`player_flags`].
    pub flags: u8,
}

/// Bits of [`PlayerState::flags`].
pub mod player_flags {
    /// Connected right now (unset while within the reconnect grace period).
    pub const CONNECTED: u8 = 1 << 0;
    /// Stunned after being tagged; cannot move or tag.
    pub const STUNNED: u8 = 1 << 1;
    /// Dashing.
    pub const DASHING: u8 = 1 << 2;
}

/// One collectible item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemState {
    /// Item id, unique within the match.
    pub id: u16,
    /// Position, x (millimetres).
    pub x: i32,
    /// Position, y (millimetres).
    pub y: i32,
    /// Points for collecting it.
    pub value: u16,
}

/// An ordered event, stamped with the tick it happened on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Simulation tick of the event.
    pub tick: u32,
    /// What happened.
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A player joined (also sent for every player already present, after `Welcome`).
    PlayerJoined {
        /// Player id.
        player: u8,
        /// Display name.
        #[serde(serialize_with = "ser_str::<_, MAX_NAME_LEN>")]
        #[serde(deserialize_with = "de_str::<_, MAX_NAME_LEN>")]
        name: String,
        /// Team index, when the mode has teams.
        team: Option<u8>,
    },
    /// A player left, or dropped and the reconnect grace period began.
    PlayerLeft {
        /// Player id.
        player: u8,
        /// Why.
        reason: LeaveReason,
    },
    /// A dropped player reconnected within the grace period and has their slot back.
    PlayerReturned {
        /// Player id.
        player: u8,
    },
    /// The countdown to play began.
    Countdown {
        /// Tick at which play starts.
        starts_at_tick: u32,
    },
    /// Play began.
    MatchStarted {
        /// Tick at which play ends unless the score limit is reached first.
        ends_at_tick: u32,
    },
    /// One player tagged another.
    Tagged {
        /// Who tagged.
        by: u8,
        /// Who was tagged.
        target: u8,
        /// Points the tagger earned.
        points: u16,
    },
    /// A player collected an item.
    ItemCollected {
        /// Who collected it.
        player: u8,
        /// Which item.
        item: u16,
        /// Points earned.
        points: u16,
    },
    /// The match is over. Last event of a match.
    MatchEnded {
        /// Why it ended.
        reason: EndReason,
        /// Final standings, best first.
        #[serde(serialize_with = "ser_vec::<_, _, MAX_PLAYERS>")]
        #[serde(deserialize_with = "de_vec::<_, _, MAX_PLAYERS>")]
        standings: Vec<Standing>,
    },
}

/// Why a player is no longer in the match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LeaveReason {
    /// Sent `Leave`.
    Left,
    /// Connection lost; the slot is held for the reconnect grace period.
    Dropped,
    /// The grace period ran out.
    TimedOut,
    /// Removed by the server (for example for a protocol violation).
    Kicked,
}

/// Why a match ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EndReason {
    /// The play phase ran its full length.
    TimeUp,
    /// A player or team reached the score limit.
    ScoreLimit,
    /// Too few players remained (or came) to play.
    NotEnoughPlayers,
    /// The server is shutting down (GameLift's TerminateProcess or SIGTERM); the result is
    /// marked as cut short.
    ServerShutdown,
}

/// A player's final standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    /// Player id.
    pub player: u8,
    /// Team index, when the mode has teams.
    pub team: Option<u8>,
    /// 1 is best; ties share a placement.
    pub placement: u8,
    /// Final score.
    pub score: u32,
    /// Whether the player left before the end.
    pub left_early: bool,
}

/// The server is closing the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disconnect {
    /// Why.
    pub reason: DisconnectReason,
}

/// Why the server closed a connection. Each has a stable numeric code (its variant index
/// on the wire and [`code`](Self::code)), which the server also uses as the QUIC
/// application close code so a client sees it even if the stream message is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DisconnectReason {
    /// The client's protocol version differs from the server's.
    VersionMismatch,
    /// The player session is not part of this game session, or GameLift refused it.
    InvalidPlayerSession,
    /// The player session is already connected on another connection.
    DuplicatePlayerSession,
    /// The player session's reservation expired (not accepted within 60 s) or was used and
    /// removed already.
    ExpiredPlayerSession,
    /// No `Hello` arrived within the deadline.
    HelloTimeout,
    /// Every player slot is taken.
    SessionFull,
    /// A message failed to decode.
    MalformedMessage,
    /// A message was larger than its channel's limit.
    MessageTooLarge,
    /// A message is not legal in the connection's state or on its channel.
    IllegalMessage,
    /// The client went silent for longer than the idle timeout.
    IdleTimeout,
    /// The client sent too much, too fast.
    RateLimited,
    /// The match is over.
    MatchEnded,
    /// The server process is shutting down.
    ServerShutdown,
    /// The client asked to leave.
    ClientLeft,
    /// The server failed; the client may rejoin through matchmaking.
    InternalError,
}

impl DisconnectReason {
    /// Every reason, in code order.
    pub const ALL: [Self; 15] = [
        Self::VersionMismatch,
        Self::InvalidPlayerSession,
        Self::DuplicatePlayerSession,
        Self::ExpiredPlayerSession,
        Self::HelloTimeout,
        Self::SessionFull,
        Self::MalformedMessage,
        Self::MessageTooLarge,
        Self::IllegalMessage,
        Self::IdleTimeout,
        Self::RateLimited,
        Self::MatchEnded,
        Self::ServerShutdown,
        Self::ClientLeft,
        Self::InternalError,
    ];

    /// The stable numeric code: the variant index on the wire, and the QUIC close code.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The reason for a numeric code, if it is one this version knows.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.get(usize::try_from(code).ok()?).copied()
    }
}
