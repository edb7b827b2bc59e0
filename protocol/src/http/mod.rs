//! The backend's HTTP API: JSON request and response types, their limits and validation.
//!
//! **What it is:** the serde types of every body and query string of the API under `/v1`,
//! one error shape with its status codes, the documented limits every request is held to,
//! and pure validation functions that say which rule a value broke. The backend serves
//! these types, Rust game clients send and read them, and the web page mirrors them in
//! JavaScript, so the JSON below is the contract.
//!
//! **What it is not:** no axum, no routing, no HTTP client, no auth verification, no
//! storage. Whether a mode exists, whether a party member really joined the caller's party,
//! whether a ticket belongs to the caller: those need state and are the backend's checks.
//! The caller's player id always comes from the verified bearer token, never from a body.
//!
//! # Conventions
//!
//! - Field names are `snake_case`. Ticket states are `SCREAMING_SNAKE_CASE` strings
//!   (`SEARCHING`, `PLACING`, `COMPLETED`, `TIMED_OUT`, `CANCELLED`, `FAILED`), as the
//!   architecture names them. Codes (error codes, failure reasons, outcomes) are
//!   `snake_case` strings.
//! - Times are Unix epoch milliseconds ([`EpochMillis`]); durations carry their unit in the
//!   name (`estimated_wait_ms`). Every integer the API sends stays below 2^53, so
//!   JavaScript reads it exactly.
//! - **Requests reject unknown fields** (`deny_unknown_fields`, query strings included):
//!   `{"mdoe": "duel"}` is a 400, not a silently ignored typo. **Responses tolerate
//!   unknown fields**, so the backend can add response fields within `/v1` without breaking
//!   clients built against an older copy of this crate. Code enums that are likely to grow
//!   ([`ErrorCode`], [`FailureReason`]) read any code they do not know as `Unknown`.
//! - Absent optional response values are sent as `null`, never omitted, so the web page
//!   sees every key on every object.
//! - Every error is an [`ErrorBody`]: `{"error": {"code": "not_found", "message": "..."}}`
//!   with the HTTP status of its [`ErrorCode`]. Validation failures ([`ValidationError`])
//!   are `invalid_request` (400).
//!
//! # Endpoints
//!
//! The backend owns the routes; this table is the shape it is built to, and says which type
//! travels where (`{…}` is a path parameter, checked with the `validate_*` function named).
//!
//! | method and path | request | success response |
//! |---|---|---|
//! | `POST /v1/matchmaking/tickets` | [`CreateTicketRequest`] | `201` [`Ticket`] |
//! | `GET /v1/matchmaking/tickets/{ticket_id}` ([`validate_ticket_id`]) | — | [`Ticket`] |
//! | `DELETE /v1/matchmaking/tickets/{ticket_id}` | — | [`Ticket`] as it is after the attempt: `CANCELLED`, or the state that won the race (a match found first is not an error) |
//! | `GET /v1/matchmaking/tickets/{ticket_id}/events` | — | server-sent events, one [`TicketEvent`] per state change |
//! | `GET /v1/party` | — | [`Party`] the caller has joined, else the one it leads |
//! | `PUT /v1/party` | [`JoinPartyRequest`] | [`Party`] joined |
//! | `DELETE /v1/party` | — | [`Party`] the caller leads (it left the one it had joined) |
//! | `GET /v1/matchmaking/stats` | — | [`MatchmakingStats`] |
//! | `GET /v1/leaderboards/top` | [`TopQuery`] | [`LeaderboardPage`] |
//! | `GET /v1/leaderboards/around/{player_id}` ([`validate_player_id`]) | [`AroundQuery`] | [`LeaderboardPage`] |
//! | `GET /v1/leaderboards/rank/{player_id}` | [`BoardQuery`] | [`PlayerRank`] |
//! | `GET /v1/leaderboards/friends` | [`FriendsQuery`] | [`LeaderboardPage`] |
//! | `GET /v1/players/{player_id}/profile` | — | [`Profile`] |
//! | `GET /v1/players/{player_id}/matches` | [`RecentMatchesQuery`] | [`RecentMatches`] |
//! | any failure | — | [`ErrorBody`] with [`ErrorCode::status`] |
//!
//! A ticket in JSON, once matched and placed:
//!
//! ```json
//! {
//!   "id": "5f0c2a1e-8d7b-4c1a-9e55-2b0f3c4d5e6f",
//!   "mode": "duel",
//!   "players": ["p-1", "p-2"],
//!   "state": {
//!     "status": "COMPLETED",
//!     "connection": {
//!       "ip_address": "203.0.113.7", "dns_name": null, "port": 7777,
//!       "player_session_id": "psess-1",
//!       "game_session_id": "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-1",
//!       "certificate_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//!     }
//!   },
//!   "created_at": 1700000000000, "updated_at": 1700000004000,
//!   "expires_at": 1700000600000, "estimated_wait_ms": null
//! }
//! ```

mod error;
mod leaderboard;
mod matchmaking;
mod party;
mod profile;
mod validate;

pub use error::{ApiError, ErrorBody, ErrorCode};
pub use leaderboard::{
    AroundQuery, BoardId, BoardQuery, FriendsQuery, LeaderboardEntry, LeaderboardPage,
    PlayerIdList, PlayerRank, TopQuery,
};
pub use matchmaking::{
    AttributeValue, CertificateFingerprint, ConnectionInfo, CreateTicketRequest, FailureReason,
    FingerprintError, MatchmakingStats, ModeQueueStats, TICKET_EVENT_NAME, Ticket, TicketEvent,
    TicketState, TicketStatus,
};
pub use party::{JoinPartyRequest, Party};
pub use profile::{
    BoardStats, MatchOutcome, Profile, RecentMatch, RecentMatches, RecentMatchesQuery, Stats,
};
pub use validate::{
    DEFAULT_AROUND_RADIUS, DEFAULT_RECENT_MATCHES, DEFAULT_TOP_LIMIT, MAX_AROUND_RADIUS,
    MAX_ATTRIBUTE_LIST_LEN, MAX_ATTRIBUTE_NAME_LEN, MAX_ATTRIBUTE_STRING_LEN, MAX_ATTRIBUTES,
    MAX_FRIENDS, MAX_LATENCY_MS, MAX_LATENCY_REGIONS, MAX_MODE_LEN, MAX_PARTY_SIZE,
    MAX_PLAYER_ID_LEN, MAX_RECENT_MATCHES, MAX_REGION_LEN, MAX_REQUEST_BODY_BYTES, MAX_SEASON_LEN,
    MAX_TICKET_ID_LEN, MAX_TOP_LIMIT, MIN_LATENCY_MS, RESERVED_ATTRIBUTE_NAMES, ValidationError,
    validate_attributes, validate_latencies, validate_mode, validate_party, validate_player_id,
    validate_region, validate_season, validate_ticket_id,
};

/// A point in time as milliseconds since the Unix epoch (UTC), as every `*_at` field
/// carries it. Milliseconds, not seconds, because ticket waits are measured in them; u64
/// because the value stays below 2^53 (and so exact in JavaScript) until the year 287396.
pub type EpochMillis = u64;
