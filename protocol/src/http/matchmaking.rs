//! Matchmaking tickets: the create request, the ticket view and its states, the event
//! stream's event, and the live numbers for the web page.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::EpochMillis;
use super::validate::{
    ValidationError, validate_attributes, validate_latencies, validate_mode, validate_party,
};

/// Body of `POST /v1/matchmaking/tickets`: ask for a match.
///
/// There is deliberately no player id for the caller: the backend takes it from the
/// verified token. Unknown fields are rejected.
///
/// ```json
/// {"mode": "duel", "party": [], "latencies_ms": {"us-east-1": 42, "eu-west-1": 95},
///  "attributes": {"platform": "pc", "preferred_maps": ["dust", "harbor"]}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTicketRequest {
    /// The game mode to queue for ([`validate_mode`]); the backend rejects a well-formed
    /// name it has no configuration for.
    pub mode: String,
    /// The other players who joined the caller's party, by player id; empty (or absent)
    /// for a solo ticket. The whole party is matched onto one team. The caller is not
    /// listed. See [`validate_party`].
    #[serde(default)]
    pub party: Vec<String>,
    /// Round-trip time from the caller to each region (GameLift location) it measured, in
    /// whole milliseconds rounded up. Regions it cannot reach are left out. See
    /// [`validate_latencies`]. A map, so each region appears once; sorted for stable JSON.
    pub latencies_ms: BTreeMap<String, u32>,
    /// Optional hints for the matchmaker's rules (platform, input device, preferred maps),
    /// by name. Never the player's rating, which the backend reads from the profile. See
    /// [`validate_attributes`].
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeValue>,
}

impl CreateTicketRequest {
    /// Checks every field against the limits; `caller` is the token's subject (the party
    /// must not name it). The first broken rule is returned, in field order.
    pub fn validate(&self, caller: &str) -> Result<(), ValidationError> {
        validate_mode(&self.mode)?;
        validate_party(caller, &self.party)?;
        validate_latencies(&self.latencies_ms)?;
        validate_attributes(&self.attributes)
    }
}

/// One matchmaking attribute value: a number, a string or a list of strings, written as
/// the plain JSON value (`1.5`, `"pc"`, `["dust", "harbor"]`). These are the FlexMatch
/// attribute types `number`, `string` and `string_list`; FlexMatch's string-to-number map is
/// left out until a rule needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum AttributeValue {
    /// A number (JSON numbers are doubles, as FlexMatch's are).
    Number(f64),
    /// A string.
    String(String),
    /// A list of strings.
    StringList(Vec<String>),
}

/// A matchmaking ticket as the API shows it: the response of create, get and cancel, and
/// the payload of each [`TicketEvent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ticket {
    /// The ticket id, minted by the backend (see [`validate_ticket_id`](super::validate_ticket_id)).
    pub id: String,
    /// The mode the ticket queues for.
    pub mode: String,
    /// Every player in the ticket: the player who created it first, then the party members
    /// in request order.
    pub players: Vec<String>,
    /// Where the ticket is in its life; exactly one state at a time.
    pub state: TicketState,
    /// When the ticket was created.
    pub created_at: EpochMillis,
    /// When the state last changed.
    pub updated_at: EpochMillis,
    /// When the ticket times out if it is still searching: the mode's ticket time limit
    /// after `created_at`. A ticket is never left waiting without one.
    pub expires_at: EpochMillis,
    /// The backend's estimate of the remaining wait while `SEARCHING` (from recent waits in
    /// the mode), in milliseconds; `null` in other states or when there is no estimate.
    pub estimated_wait_ms: Option<u64>,
}

/// The state of a ticket, tagged by `status`:
///
/// ```json
/// {"status": "SEARCHING"}
/// {"status": "COMPLETED", "connection": {"ip_address": "203.0.113.7", "...": "..."}}
/// {"status": "FAILED", "reason": "placement_failed", "message": "no fleet capacity in 3 attempts"}
/// ```
///
/// `SEARCHING` → `PLACING` → `COMPLETED` is the happy path. `TIMED_OUT`, `CANCELLED` and
/// `FAILED` end it otherwise. A failed placement may send a ticket from `PLACING` back to
/// `SEARCHING` (with the next event's `seq`) before its retry budget is spent. `COMPLETED`,
/// `TIMED_OUT`, `CANCELLED` and `FAILED` are final.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TicketState {
    /// In the pool, waiting for a fair match.
    Searching,
    /// Matched; the game session and player sessions are being created on GameLift.
    Placing,
    /// Placed: the caller connects to the game server with this information.
    Completed {
        /// Where and how to connect.
        connection: ConnectionInfo,
    },
    /// The ticket reached `expires_at` while searching.
    TimedOut,
    /// A member of the ticket cancelled it before a match was placed.
    Cancelled,
    /// The ticket could not be matched or placed.
    Failed {
        /// Why, as a code.
        reason: FailureReason,
        /// Why, for a human.
        message: String,
    },
}

impl TicketState {
    /// The state's name without its data.
    pub const fn status(&self) -> TicketStatus {
        match self {
            TicketState::Searching => TicketStatus::Searching,
            TicketState::Placing => TicketStatus::Placing,
            TicketState::Completed { .. } => TicketStatus::Completed,
            TicketState::TimedOut => TicketStatus::TimedOut,
            TicketState::Cancelled => TicketStatus::Cancelled,
            TicketState::Failed { .. } => TicketStatus::Failed,
        }
    }

    /// Whether the state is final (the ticket will never change again).
    pub const fn is_final(&self) -> bool {
        self.status().is_final()
    }
}

/// The name of a [`TicketState`] without its data: for metric labels, logs and filters.
/// Serialized as the same `SCREAMING_SNAKE_CASE` string as the state's `status` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TicketStatus {
    /// See [`TicketState::Searching`].
    Searching,
    /// See [`TicketState::Placing`].
    Placing,
    /// See [`TicketState::Completed`].
    Completed,
    /// See [`TicketState::TimedOut`].
    TimedOut,
    /// See [`TicketState::Cancelled`].
    Cancelled,
    /// See [`TicketState::Failed`].
    Failed,
}

impl TicketStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [TicketStatus; 6] = [
        TicketStatus::Searching,
        TicketStatus::Placing,
        TicketStatus::Completed,
        TicketStatus::TimedOut,
        TicketStatus::Cancelled,
        TicketStatus::Failed,
    ];

    /// The wire string (`"TIMED_OUT"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Searching => "SEARCHING",
            TicketStatus::Placing => "PLACING",
            TicketStatus::Completed => "COMPLETED",
            TicketStatus::TimedOut => "TIMED_OUT",
            TicketStatus::Cancelled => "CANCELLED",
            TicketStatus::Failed => "FAILED",
        }
    }

    /// Whether a ticket in this state will never change again.
    pub const fn is_final(self) -> bool {
        !matches!(self, TicketStatus::Searching | TicketStatus::Placing)
    }
}

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the caller reaches its game server once the ticket is `COMPLETED`.
///
/// Each player of a ticket sees their own `player_session_id`; the rest is the same for
/// the whole match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionInfo {
    /// The game server's IP address (`"203.0.113.7"` or an IPv6 address), from GameLift.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "203.0.113.7"))]
    pub ip_address: IpAddr,
    /// The game server's DNS name, when the fleet has one (fleets with TLS certificate
    /// generation do; Anywhere computes may not); `null` otherwise.
    pub dns_name: Option<String>,
    /// The game server's UDP port for QUIC.
    pub port: u16,
    /// The caller's GameLift player session id (`psess-…`): the server admits the
    /// connection only with it.
    pub player_session_id: String,
    /// The GameLift game session id (an ARN). It is also the match id that results and
    /// profiles refer to.
    pub game_session_id: String,
    /// SHA-256 of the game server's TLS certificate, which the client pins when it opens
    /// the QUIC connection (the certificate is not signed by a public CA).
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9a-fA-F]{64}$"))]
    pub certificate_sha256: CertificateFingerprint,
}

/// A SHA-256 certificate fingerprint: the hash of the DER encoding of the end-entity
/// certificate, as `openssl x509 -outform der | sha256sum` prints it and as WebTransport's
/// `serverCertificateHashes` uses it.
///
/// Wire form: 64 hex digits, lowercase when sent; either case is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertificateFingerprint(pub [u8; 32]);

impl CertificateFingerprint {
    /// The fingerprint of a certificate given in DER.
    pub fn of_der(certificate_der: &[u8]) -> CertificateFingerprint {
        CertificateFingerprint(Sha256::digest(certificate_der).into())
    }

    /// The 32 bytes of the hash.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for CertificateFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Why a string is not a [`CertificateFingerprint`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FingerprintError {
    /// Not exactly 64 characters.
    #[error("a SHA-256 fingerprint is 64 hex digits, got {len} characters")]
    Length {
        /// The length given, in bytes.
        len: usize,
    },
    /// A character is not a hex digit.
    #[error("a SHA-256 fingerprint is 64 hex digits; found a character that is not one")]
    NotHex,
}

impl FromStr for CertificateFingerprint {
    type Err = FingerprintError;

    fn from_str(s: &str) -> Result<CertificateFingerprint, FingerprintError> {
        if s.len() != 64 {
            return Err(FingerprintError::Length { len: s.len() });
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| FingerprintError::NotHex)?;
        Ok(CertificateFingerprint(bytes))
    }
}

impl Serialize for CertificateFingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CertificateFingerprint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a ticket `FAILED`, as a `snake_case` code. Codes this copy of the crate does not
/// know read as [`FailureReason::Unknown`], so the backend can add reasons within `/v1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// GameLift refused or failed the placement, and the ticket's retry budget is spent.
    PlacementFailed,
    /// A GameLift queue placement timed out (GameLift reports it separately from other
    /// failures; FlexMatch users report it being silent, so it gets its own code), and the
    /// retry budget is spent.
    PlacementTimedOut,
    /// No fleet had capacity (`FleetCapacityExceededException`) through the retry budget.
    NoCapacity,
    /// The game session was created but a player session could not be (the session filled
    /// up or ended first).
    PlayerSessionFailed,
    /// The mode was disabled or removed while the ticket waited.
    ModeUnavailable,
    /// An unexpected backend failure.
    Internal,
    /// A reason newer than this copy of the crate; only produced by deserializing.
    #[serde(other)]
    Unknown,
}

/// The SSE `event:` name of ticket events on
/// `GET /v1/matchmaking/tickets/{ticket_id}/events`.
pub const TICKET_EVENT_NAME: &str = "ticket";

/// One event of a ticket's server-sent-events stream: the ticket as it is after a state
/// change, numbered.
///
/// On the wire each event is `event: ticket`, `id: <seq>` and `data: <this as JSON>`.
/// The stream opens with the current ticket, sends one event per state change, and ends
/// after a final state. `seq` is per ticket: 1 for `SEARCHING` at creation, then one more
/// for each state change, with no gaps, so a client that sees a jump knows it missed one
/// (and can `GET` the ticket); a reconnect with `Last-Event-ID: <seq>` resumes after it.
/// Changes of `estimated_wait_ms` alone are not state changes and send no event.
///
/// ```json
/// {"seq": 2, "ticket": {"id": "…", "state": {"status": "PLACING"}, "…": "…"}}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketEvent {
    /// The ticket's state-change counter after this change (1, 2, 3, …).
    pub seq: u64,
    /// The ticket after the change.
    pub ticket: Ticket,
}

/// Body of `GET /v1/matchmaking/stats`: live numbers for the web page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MatchmakingStats {
    /// When the numbers were taken.
    pub at: EpochMillis,
    /// The length of the recent window `median_wait_ms` and `matches_started` cover, in
    /// seconds, so the page can label them.
    pub window_secs: u32,
    /// One entry per configured mode, in configuration order, including idle modes.
    pub modes: Vec<ModeQueueStats>,
}

/// Live numbers for one mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModeQueueStats {
    /// The mode.
    pub mode: String,
    /// Tickets in `SEARCHING` now.
    pub tickets_searching: u32,
    /// Players in those tickets (a party counts each member).
    pub players_searching: u32,
    /// Median time from creation to match of the tickets matched in the window, in
    /// milliseconds; `null` when none were.
    pub median_wait_ms: Option<u64>,
    /// Matches formed in the window.
    pub matches_started: u32,
}
