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
//! contract suite) and the pure rating and profile update ([`ratings`]). Matchmaking,
//! placement, the result consumer, the profile store and the HTTP API arrive with their
//! issues.

pub mod consumer;
pub mod profiles;
pub mod queue;
pub mod rankings;
pub mod ratings;
