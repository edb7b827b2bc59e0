//! The HTTP API in process: the axum router driven with `oneshot`, the matchmaking
//! driver on paused tokio time (virtual time: waits are for events, never for the wall
//! clock), embedded profile and rankings stores in a temporary directory, and the dev
//! placer (or one that fails on purpose). Covers the ticket lifecycle and its event
//! stream, parties, placement failure and retry, time limits, every "bad input" case of
//! issue 6 (each a 4xx with the error shape and no state change), rate limiting, CORS,
//! leaderboards and profiles, the OpenAPI document, the admin port, and RS256 tokens from
//! a JWKS served on loopback.

mod bad_input;
mod harness;
mod reads;
mod tickets;
