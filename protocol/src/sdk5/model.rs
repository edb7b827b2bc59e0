//! Shared data types: players and their attributes, player sessions, game sessions, and
//! the string enums that appear inside requests, responses and pushes.
//!
//! Enum leniency follows the SDKs: each enum here has a catch-all variant (`NOT_SET`,
//! `UNKNOWN`, `NONE`) that an unrecognised string maps to instead of failing the whole
//! frame (Go's `attributeType`/`backfillMode` unmarshalers and the C++ name mappers do
//! the same). Only a value of the wrong JSON type (a number where a string belongs) is an
//! error.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::Sdk5Error;
use super::matchmaker::MatchmakerData;
use super::serde_util::{null_default, object_only};

/// The type tag of an [`AttributeValue`]: `AttrType` on the SDK wire, `attributeType`
/// inside [`MatchmakerData`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AttributeType {
    /// `NONE`: no value. Also what an unrecognised type name maps to (as in Go).
    #[default]
    None,
    /// `STRING`, value in `S`.
    String,
    /// `DOUBLE`, value in `N`.
    Double,
    /// `STRING_LIST`, value in `SL`.
    StringList,
    /// `STRING_DOUBLE_MAP`, value in `SDM`.
    StringDoubleMap,
}

impl AttributeType {
    /// The wire spelling (`NONE`, `STRING`, `DOUBLE`, `STRING_LIST`, `STRING_DOUBLE_MAP`).
    pub const fn as_str(self) -> &'static str {
        match self {
            AttributeType::None => "NONE",
            AttributeType::String => "STRING",
            AttributeType::Double => "DOUBLE",
            AttributeType::StringList => "STRING_LIST",
            AttributeType::StringDoubleMap => "STRING_DOUBLE_MAP",
        }
    }

    /// Parses a type name case-insensitively (Go uses `strings.EqualFold`); anything
    /// unrecognised is [`AttributeType::None`], as in Go.
    pub fn from_name_lenient(name: &str) -> AttributeType {
        [
            AttributeType::String,
            AttributeType::Double,
            AttributeType::StringList,
            AttributeType::StringDoubleMap,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(name))
        .unwrap_or(AttributeType::None)
    }
}

/// A FlexMatch player attribute.
///
/// Wire form (PascalCase, in [`Player::player_attributes`]): `{"AttrType":"STRING","S":"…"}`,
/// `{"AttrType":"DOUBLE","N":1.5}`, `{"AttrType":"STRING_LIST","SL":["a"]}`,
/// `{"AttrType":"STRING_DOUBLE_MAP","SDM":{"k":1.0}}`, `{"AttrType":"NONE"}`. Only the
/// field matching `AttrType` is written. On input the other value fields are ignored, and a
/// missing matching field reads as its empty value (Go's `omitempty` drops `""`, `0`,
/// empty lists and maps). Non-finite doubles are written as `null` by serde_json and so
/// read back as `0.0`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum AttributeValue {
    /// `NONE`.
    #[default]
    None,
    /// `STRING`.
    String(String),
    /// `DOUBLE`.
    Double(f64),
    /// `STRING_LIST`.
    StringList(Vec<String>),
    /// `STRING_DOUBLE_MAP`.
    StringDoubleMap(BTreeMap<String, f64>),
}

impl AttributeValue {
    /// The type tag of this value.
    pub const fn attr_type(&self) -> AttributeType {
        match self {
            AttributeValue::None => AttributeType::None,
            AttributeValue::String(_) => AttributeType::String,
            AttributeValue::Double(_) => AttributeType::Double,
            AttributeValue::StringList(_) => AttributeType::StringList,
            AttributeValue::StringDoubleMap(_) => AttributeType::StringDoubleMap,
        }
    }
}

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = if matches!(self, AttributeValue::None) {
            1
        } else {
            2
        };
        let mut out = serializer.serialize_struct("AttributeValue", len)?;
        out.serialize_field("AttrType", self.attr_type().as_str())?;
        match self {
            AttributeValue::None => {}
            AttributeValue::String(s) => out.serialize_field("S", s)?,
            AttributeValue::Double(n) => out.serialize_field("N", n)?,
            AttributeValue::StringList(sl) => out.serialize_field("SL", sl)?,
            AttributeValue::StringDoubleMap(sdm) => out.serialize_field("SDM", sdm)?,
        }
        out.end()
    }
}

/// The wire shape of [`AttributeValue`] before the type tag picks one field.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawAttributeValue {
    #[serde(rename = "AttrType", deserialize_with = "null_default")]
    attr_type: String,
    #[serde(rename = "S", deserialize_with = "null_default")]
    s: String,
    #[serde(rename = "N", deserialize_with = "null_default")]
    n: f64,
    #[serde(rename = "SL", deserialize_with = "null_default")]
    sl: Vec<String>,
    #[serde(rename = "SDM", deserialize_with = "null_default")]
    sdm: BTreeMap<String, f64>,
}

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through a map first: the derive alone would also accept a positional array.
        let object = Map::<String, Value>::deserialize(deserializer)?;
        let raw =
            RawAttributeValue::deserialize(Value::Object(object)).map_err(D::Error::custom)?;
        Ok(match AttributeType::from_name_lenient(&raw.attr_type) {
            AttributeType::None => AttributeValue::None,
            AttributeType::String => AttributeValue::String(raw.s),
            AttributeType::Double => AttributeValue::Double(raw.n),
            AttributeType::StringList => AttributeValue::StringList(raw.sl),
            AttributeType::StringDoubleMap => AttributeValue::StringDoubleMap(raw.sdm),
        })
    }
}

/// A player in a `StartMatchBackfill` request (Go `model.Player`, C++ `WebSocketPlayer`).
///
/// `PlayerId`, `Team` and `PlayerAttributes` are always written (attributes as an object,
/// `{}` when empty). `LatencyInMs` is written only when non-empty: FlexMatch reads a
/// present latency map as "only consider these regions", so an empty one is not sent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, remote = "Self")]
pub struct Player {
    /// `PlayerId`.
    #[serde(deserialize_with = "null_default")]
    pub player_id: String,
    /// `Team`: team name from the matchmaking rule set.
    #[serde(deserialize_with = "null_default")]
    pub team: String,
    /// `PlayerAttributes`: attribute name → value.
    #[serde(deserialize_with = "null_default")]
    pub player_attributes: BTreeMap<String, AttributeValue>,
    /// `LatencyInMs`: region → latency in milliseconds.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub latency_in_ms: BTreeMap<String, u32>,
}

/// Status of a player session. Unrecognised strings read as [`NotSet`](Self::NotSet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlayerSessionStatus {
    /// `RESERVED`: created, player not yet accepted (times out after 60 s).
    Reserved,
    /// `ACTIVE`: accepted by the server process.
    Active,
    /// `COMPLETED`: the player left.
    Completed,
    /// `TIMEDOUT`: not accepted in time.
    #[serde(rename = "TIMEDOUT")]
    TimedOut,
    /// `NOT_SET`: the SDK enums' "no value"; also any unrecognised string. Omitted on
    /// output where the field is optional.
    #[default]
    #[serde(other)]
    NotSet,
}

impl PlayerSessionStatus {
    /// True for [`NotSet`](Self::NotSet).
    pub fn is_not_set(&self) -> bool {
        *self == PlayerSessionStatus::NotSet
    }
}

/// Whether a game session accepts new player sessions
/// (`UpdatePlayerSessionCreationPolicy.PlayerSessionPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlayerSessionCreationPolicy {
    /// `ACCEPT_ALL`.
    AcceptAll,
    /// `DENY_ALL`.
    DenyAll,
    /// `NOT_SET`: absent, or any unrecognised string. A service should reject it.
    #[default]
    #[serde(other)]
    NotSet,
}

/// Status of a game session. Unrecognised strings read as [`NotSet`](Self::NotSet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GameSessionStatus {
    /// `ACTIVE`.
    Active,
    /// `ACTIVATING`: created, waiting for `ActivateGameSession`.
    Activating,
    /// `TERMINATED`.
    Terminated,
    /// `TERMINATING`.
    Terminating,
    /// `ERROR` (AWS API only; not in the SDK enums).
    Error,
    /// `NOT_SET`: absent, or any unrecognised string. Omitted on output.
    #[default]
    #[serde(other)]
    NotSet,
}

impl GameSessionStatus {
    /// True for [`NotSet`](Self::NotSet).
    pub fn is_not_set(&self) -> bool {
        *self == GameSessionStatus::NotSet
    }
}

/// Why an `UpdateGameSession` push was sent. Unrecognised strings read as
/// [`Unknown`](Self::Unknown) (never an error), as in every SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UpdateReason {
    /// `MATCHMAKING_DATA_UPDATED`: a backfill added players; `MatchmakerData` is new.
    MatchmakingDataUpdated,
    /// `BACKFILL_FAILED`.
    BackfillFailed,
    /// `BACKFILL_TIMED_OUT`.
    BackfillTimedOut,
    /// `BACKFILL_CANCELLED`.
    BackfillCancelled,
    /// `UNKNOWN`: absent or unrecognised.
    #[default]
    #[serde(other)]
    Unknown,
}

/// A player session as returned by `DescribePlayerSessions` (Go `model.PlayerSession`).
///
/// Every field is written; `Status` is omitted when [`PlayerSessionStatus::NotSet`]
/// (Go: `omitempty` pointer).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, remote = "Self")]
pub struct PlayerSession {
    /// `PlayerSessionId`, e.g. `psess-<uuid>`.
    #[serde(deserialize_with = "null_default")]
    pub player_session_id: String,
    /// `PlayerId`.
    #[serde(deserialize_with = "null_default")]
    pub player_id: String,
    /// `GameSessionId` (an ARN-form id).
    #[serde(deserialize_with = "null_default")]
    pub game_session_id: String,
    /// `FleetId`.
    #[serde(deserialize_with = "null_default")]
    pub fleet_id: String,
    /// `CreationTime`, epoch milliseconds.
    #[serde(deserialize_with = "null_default")]
    pub creation_time: i64,
    /// `TerminationTime`, epoch milliseconds (0 while not terminated).
    #[serde(deserialize_with = "null_default")]
    pub termination_time: i64,
    /// `Status`.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "PlayerSessionStatus::is_not_set"
    )]
    pub status: PlayerSessionStatus,
    /// `IpAddress` of the game session.
    #[serde(deserialize_with = "null_default")]
    pub ip_address: String,
    /// `DnsName` of the instance.
    #[serde(deserialize_with = "null_default")]
    pub dns_name: String,
    /// `PlayerData`: opaque developer data.
    #[serde(deserialize_with = "null_default")]
    pub player_data: String,
    /// `Port` of the game session.
    #[serde(deserialize_with = "null_default")]
    pub port: u16,
}

/// A game session, as nested in the `UpdateGameSession` push (Go `model.GameSession`).
///
/// The `CreateGameSession` push carries the same data flat and with `GameSessionName`
/// instead of `Name`; see [`CreateGameSession`](super::CreateGameSession).
/// `Location` and `StatusReason` are omitted when empty, `Status` when `NOT_SET`;
/// everything else is always written (`GameProperties` as an object, `{}` when empty).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default, remote = "Self")]
pub struct GameSession {
    /// `GameSessionId`: `arn:aws:gamelift:<region>::gamesession/<fleet>/[<location>/]<id>`.
    #[serde(deserialize_with = "null_default")]
    pub game_session_id: String,
    /// `Name`.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// `FleetId`.
    #[serde(deserialize_with = "null_default")]
    pub fleet_id: String,
    /// `Location` (a region code), read by Go.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub location: String,
    /// `MaximumPlayerSessionCount`.
    #[serde(deserialize_with = "null_default")]
    pub maximum_player_session_count: u32,
    /// `Port` players connect to.
    #[serde(deserialize_with = "null_default")]
    pub port: u16,
    /// `IpAddress` players connect to.
    #[serde(deserialize_with = "null_default")]
    pub ip_address: String,
    /// `DnsName` of the instance.
    #[serde(deserialize_with = "null_default")]
    pub dns_name: String,
    /// `GameSessionData`: opaque, up to 262,144 characters.
    #[serde(deserialize_with = "null_default")]
    pub game_session_data: String,
    /// `MatchmakerData`: JSON in a string; see [`GameSession::matchmaker_data`].
    #[serde(deserialize_with = "null_default")]
    pub matchmaker_data: String,
    /// `GameProperties`: a JSON object string → string (not the AWS API's key/value list).
    #[serde(deserialize_with = "null_default")]
    pub game_properties: BTreeMap<String, String>,
    /// `Status`.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "GameSessionStatus::is_not_set"
    )]
    pub status: GameSessionStatus,
    /// `StatusReason`, e.g. `INTERRUPTED`.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub status_reason: String,
}

impl GameSession {
    /// Parses [`matchmaker_data`](Self::matchmaker_data): `Ok(None)` when it is empty or
    /// blank (the session did not come from FlexMatch).
    pub fn matchmaker_data(&self) -> Result<Option<MatchmakerData>, Sdk5Error> {
        MatchmakerData::parse_optional(&self.matchmaker_data)
    }
}

// With `remote = "Self"` on their derives: these accept JSON objects only.
object_only!(Player, PlayerSession, GameSession);
