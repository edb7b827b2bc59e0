//! The matchmaking and rankings backend.
//!
//! **What it is (as it is built out):** the HTTP API (matchmaking tickets, leaderboards,
//! profiles), a sans-IO matchmaking core, placement through `aws-sdk-gamelift`, the SQS
//! match-result consumer, profiles in DynamoDB and rankings in Redis sorted sets, each
//! store behind a trait with an embedded implementation for local runs.
//!
//! **What it is not:** it does not run game sessions and never links the session server;
//! the HTTP request and response types it serves are defined in [`protocol`] so clients
//! share them.
//!
//! **State today:** the rankings store ([`rankings`]: Redis and embedded, one trait, one
//! contract suite), the pure rating and profile update ([`ratings`]), the result queue
//! ([`queue`]: SQS and embedded) and the profile store ([`profiles`]: DynamoDB and
//! embedded), each behind one contract suite, the fetch of oversized results
//! ([`blobs`]: S3 and a directory), the AWS configuration ([`aws`]) and `backend init`'s
//! resource creation ([`provision`]), the result consumer ([`consumer`]: decode, verify,
//! check the placement, apply exactly once, write the rankings; the `backend` binary
//! runs it), the sans-IO matchmaking core ([`matchmaking`]), and the HTTP API ([`http`]:
//! tickets through a matchmaking driver, parties, leaderboards, profiles, OpenAPI; the
//! `backend serve` command) with placement behind a trait ([`placement`]: a dev placer,
//! and CreateGameSession/CreatePlayerSessions on a GameLift fleet or alias). Queue
//! placement and the web page are still to come.

pub mod aws;
pub mod blobs;
pub mod consumer;
pub mod http;
pub mod matchmaking;
pub mod placement;
pub mod profiles;
pub mod provision;
pub mod queue;
pub mod rankings;
pub mod ratings;

/// A version 4 UUID from the thread's CSPRNG (seeded from the OS), rather than one
/// `getrandom` system call each (`Uuid::new_v4` without uuid's `fast-rng` feature): the
/// ticket path mints one per ticket and the dev placer three per match.
pub(crate) fn random_uuid() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid()
}
