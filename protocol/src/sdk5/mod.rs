//! The Amazon GameLift Server SDK 5 WebSocket protocol: serde types for every message,
//! the frame envelope, and the SDKs' rules for classifying inbound frames.
//! The reference is `shared/docs/gamelift-sdk5.md` (§ numbers below point into it).
//!
//! Used on both sides of the socket: by this stack's game-server SDK client (it encodes
//! requests and classifies what comes back) and by `fleet local`, the local GameLift
//! emulator (it parses requests and encodes responses and pushes).
//!
//! **What it is:** plain data and pure functions from `&str` to typed values and back.
//! **What it is not:** no I/O, no WebSocket, no connection URL or query parameters, no
//! SigV4 signing, no timers, retries or request bookkeeping. Those belong to the crates
//! that own the socket.
//!
//! # Wire format
//!
//! Every frame is one JSON object in a WebSocket text frame, PascalCase keys, with the
//! action-specific fields at the top level next to the envelope (§3.1):
//!
//! | frame | direction | envelope | body | Rust |
//! |---|---|---|---|---|
//! | request | process → service | `Action`, `RequestId` | [`requests`](Request) | [`RequestFrame`], [`encode_request`] |
//! | response | service → process | `Action` (echoed), `RequestId` (echoed), `StatusCode`, `ErrorMessage` on errors | [`RequestBody::Response`] | [`ResponseFrame`] |
//! | push | service → process | `Action`, optional `RequestId`, `StatusCode: 200` | [`Push`] | [`PushFrame`] |
//!
//! The client side sorts inbound frames with [`classify`], which follows §3.2 exactly: an
//! error response is recognised *before* the push actions, so a push must carry
//! `"StatusCode":200` or no `RequestId` — [`PushFrame::to_json`] always writes the 200.
//! Non-200 codes map to [`ServiceErrorKind`] as in §3.1.
//!
//! `MatchmakerData` (§7) is a camelCase JSON document carried as a *string*; see
//! [`MatchmakerData`].
//!
//! # Leniency
//!
//! Input is read the way the official SDKs read it: unknown fields are ignored; a missing
//! or `null` field takes its default (`""`, `0`, `false`, empty list/map); optional strings
//! treat `""` as absent; an unrecognised enum string maps to the enum's `NOT_SET` /
//! `UNKNOWN` / `NONE` variant. Only a value of the wrong JSON type (or an integer out of
//! range) is an error ([`Sdk5Error::BadField`]). Output is exact: see each type for which
//! fields are always written and which are omitted when empty. Nothing panics on any
//! input.

mod action;
mod envelope;
mod error;
mod matchmaker;
mod model;
mod pushes;
mod requests;
mod responses;
mod serde_util;

pub use action::Action;
pub use envelope::{Inbound, PushFrame, RequestFrame, ResponseFrame, classify, encode_request};
pub use error::{Sdk5Error, ServiceError, ServiceErrorKind};
pub use matchmaker::{BackfillMode, MatchmakerData, MatchmakerPlayer, MatchmakerTeam};
pub use model::{
    AttributeType, AttributeValue, GameSession, GameSessionStatus, Player, PlayerSession,
    PlayerSessionCreationPolicy, PlayerSessionStatus, UpdateReason,
};
pub use pushes::{CreateGameSession, Push, RefreshConnection, TerminateProcess, UpdateGameSession};
pub use requests::{
    AcceptPlayerSession, ActivateGameSession, ActivateServerProcess, DescribePlayerSessions,
    GetComputeCertificate, GetFleetRoleCredentials, HeartbeatServerProcess, PlayerSessionQuery,
    RemovePlayerSession, Request, RequestBody, StartMatchBackfill, StopMatchBackfill,
    TerminateServerProcess, UpdatePlayerSessionCreationPolicy,
};
pub use responses::{
    DescribePlayerSessionsResult, EmptyBody, GetComputeCertificateResult,
    GetFleetRoleCredentialsResult, StartMatchBackfillResult,
};

/// Seals [`RequestBody`]: only this module's request types implement it, which is what
/// lets encoding be infallible.
mod sealed {
    /// The sealing supertrait.
    pub trait Sealed {}
}
