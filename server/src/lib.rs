//! The session server: the process a studio uploads to its GameLift fleet.
//!
//! **What it is (as it is built out):** the GameLift Server SDK 5 client (process hooks
//! over the SDK5 WebSocket), the QUIC endpoint players connect to, a sans-IO game and
//! session core driven by a fixed tick, and the match-result reporter with a durable outbox.
//!
//! **What it is not:** it never talks to the backend directly (results go through SQS),
//! it does not matchmake, and it defines no wire format of its own; every message it
//! speaks lives in [`protocol`].
//!
//! **State today:** the GameLift Server SDK 5 client is its own crate,
//! `gamelift-server-sdk` in `server/sdk/`, so any Rust game server can use it. Two
//! sans-IO cores exist: the arena game with delta snapshots ([`game`]) and admission and
//! connection sessions ([`session`]); and the result reporter's durable outbox and
//! delivery policy ([`report`]). The QUIC endpoint, the SQS/S3 client and the binary
//! around them arrive with their issues.

pub mod game;
pub mod metrics;
pub mod net;
pub mod report;
pub mod session;
pub mod shell;
