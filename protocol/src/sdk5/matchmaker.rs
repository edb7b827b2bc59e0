//! `MatchmakerData` (§7): the FlexMatch match description that travels as a JSON document
//! *inside a string field* (`MatchmakerData` of a game session). Its keys are camelCase,
//! unlike the rest of the protocol.
//!
//! ```json
//! {"matchId":"…","matchmakingConfigurationArn":"arn:…:matchmakingconfiguration/MyConfig",
//!  "teams":[{"name":"red","players":[{"playerId":"player-1","attributes":{
//!     "skill":{"attributeType":"DOUBLE","valueAttribute":23.0}}}]}],
//!  "autoBackfillTicketId":"…","autoBackfillMode":"AUTOMATIC"}
//! ```
//!
//! Attributes are read the way the Go SDK reads them: the shape of `valueAttribute`
//! decides the type (string → `STRING`, number → `DOUBLE`, array → `STRING_LIST` keeping
//! only its strings, object → `STRING_DOUBLE_MAP` keeping only its numbers, anything else
//! → `NONE`), so a wrong or unknown `attributeType` never fails the document. On output
//! `attributeType` is always written, and `valueAttribute` too (`null` for `NONE`).
//! Latency is not part of matchmaker data.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::Sdk5Error;
use super::model::{AttributeValue, Player};
use super::requests::StartMatchBackfill;
use super::serde_util::{empty_as_none, null_default, object_only};

/// The decoded `MatchmakerData` document.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, remote = "Self")]
pub struct MatchmakerData {
    /// `matchId` (≤ 255 characters).
    #[serde(deserialize_with = "null_default")]
    pub match_id: String,
    /// `matchmakingConfigurationArn`: use as `MatchmakingConfigurationArn` in backfill.
    #[serde(deserialize_with = "null_default")]
    pub matchmaking_configuration_arn: String,
    /// `teams`, each with its players.
    #[serde(deserialize_with = "null_default")]
    pub teams: Vec<MatchmakerTeam>,
    /// `autoBackfillTicketId`: present while automatic backfill is running; omitted when
    /// `None` (an empty string reads as `None`).
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub auto_backfill_ticket_id: Option<String>,
    /// `autoBackfillMode`; omitted when [`BackfillMode::NotSet`].
    #[serde(skip_serializing_if = "BackfillMode::is_not_set")]
    pub auto_backfill_mode: BackfillMode,
}

/// One team of [`MatchmakerData`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, remote = "Self")]
pub struct MatchmakerTeam {
    /// `name`: team name from the rule set.
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    /// `players`.
    #[serde(deserialize_with = "null_default")]
    pub players: Vec<MatchmakerPlayer>,
}

/// One player of a [`MatchmakerTeam`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, remote = "Self")]
pub struct MatchmakerPlayer {
    /// `playerId`.
    #[serde(deserialize_with = "null_default")]
    pub player_id: String,
    /// `attributes`: name → `{attributeType, valueAttribute}` on the wire.
    #[serde(with = "attribute_map")]
    pub attributes: BTreeMap<String, AttributeValue>,
}

/// `autoBackfillMode`. Read case-insensitively (the C# SDK upper-cases before parsing);
/// anything unrecognised, `null` or absent is [`NotSet`](Self::NotSet) (as in Go).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BackfillMode {
    /// `AUTOMATIC`: GameLift backfills by itself.
    Automatic,
    /// `MANUAL`: the game server calls `StartMatchBackfill`.
    Manual,
    /// `NOT_SET`.
    #[default]
    NotSet,
}

impl BackfillMode {
    /// The wire spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            BackfillMode::Automatic => "AUTOMATIC",
            BackfillMode::Manual => "MANUAL",
            BackfillMode::NotSet => "NOT_SET",
        }
    }

    /// True for [`NotSet`](Self::NotSet).
    pub fn is_not_set(&self) -> bool {
        *self == BackfillMode::NotSet
    }
}

impl Serialize for BackfillMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for BackfillMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name: String = null_default(deserializer)?;
        Ok([BackfillMode::Automatic, BackfillMode::Manual]
            .into_iter()
            .find(|mode| mode.as_str().eq_ignore_ascii_case(&name))
            .unwrap_or(BackfillMode::NotSet))
    }
}

// With `remote = "Self"` on their derives: these accept JSON objects only.
object_only!(MatchmakerData, MatchmakerTeam, MatchmakerPlayer);

impl MatchmakerData {
    /// Parses the JSON document carried in a `MatchmakerData` string field.
    pub fn parse(text: &str) -> Result<MatchmakerData, Sdk5Error> {
        serde_json::from_str(text).map_err(Sdk5Error::MatchmakerData)
    }

    /// Like [`parse`](Self::parse), but an empty or blank string (a game session that did
    /// not come from FlexMatch) is `Ok(None)`.
    pub fn parse_optional(text: &str) -> Result<Option<MatchmakerData>, Sdk5Error> {
        if text.trim().is_empty() {
            Ok(None)
        } else {
            Self::parse(text).map(Some)
        }
    }

    /// Serializes to the string that goes into a `MatchmakerData` field.
    pub fn to_json_string(&self) -> String {
        super::envelope::to_json_string(self)
    }

    /// Flattens the teams into the `Player` list that `StartMatchBackfill` wants: each
    /// player gets its team's name as `Team`, its attributes converted to
    /// `AttrType`/`S|N|SL|SDM` form, and no latency (matchmaker data carries none).
    /// Order: teams in document order, players in team order.
    pub fn players(&self) -> Vec<Player> {
        self.teams
            .iter()
            .flat_map(|team| {
                team.players.iter().map(|player| Player {
                    player_id: player.player_id.clone(),
                    team: team.name.clone(),
                    player_attributes: player.attributes.clone(),
                    latency_in_ms: BTreeMap::new(),
                })
            })
            .collect()
    }

    /// A `StartMatchBackfill` request for the current players of this match, with an
    /// empty `TicketId` (the service then generates one).
    pub fn backfill_request(&self, game_session_arn: impl Into<String>) -> StartMatchBackfill {
        StartMatchBackfill {
            game_session_arn: game_session_arn.into(),
            matchmaking_configuration_arn: self.matchmaking_configuration_arn.clone(),
            ticket_id: String::new(),
            players: self.players(),
        }
    }
}

/// Converts a `valueAttribute` the way Go's `MakeAttributeValue` does.
fn attribute_from_value(value: Value) -> AttributeValue {
    match value {
        Value::String(s) => AttributeValue::String(s),
        Value::Number(n) => AttributeValue::Double(n.as_f64().unwrap_or_default()),
        Value::Array(items) => AttributeValue::StringList(
            items
                .into_iter()
                .filter_map(|item| match item {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
        ),
        Value::Object(entries) => AttributeValue::StringDoubleMap(
            entries
                .into_iter()
                .filter_map(|(key, item)| item.as_f64().map(|n| (key, n)))
                .collect(),
        ),
        Value::Null | Value::Bool(_) => AttributeValue::None,
    }
}

/// Serde adapter for `attributes`: `AttributeValue` ⇄ `{attributeType, valueAttribute}`.
mod attribute_map {
    use super::*;

    /// Borrowed output form of one attribute.
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Out<'a> {
        attribute_type: &'static str,
        value_attribute: OutValue<'a>,
    }

    /// The `valueAttribute` payload; `None` serializes as `null`.
    #[derive(Serialize)]
    #[serde(untagged)]
    enum OutValue<'a> {
        None(Option<()>),
        String(&'a str),
        Double(f64),
        StringList(&'a [String]),
        StringDoubleMap(&'a BTreeMap<String, f64>),
    }

    pub(super) fn serialize<S: Serializer>(
        attributes: &BTreeMap<String, AttributeValue>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(attributes.iter().map(|(name, value)| {
            let value_attribute = match value {
                AttributeValue::None => OutValue::None(None),
                AttributeValue::String(s) => OutValue::String(s),
                AttributeValue::Double(n) => OutValue::Double(*n),
                AttributeValue::StringList(sl) => OutValue::StringList(sl),
                AttributeValue::StringDoubleMap(sdm) => OutValue::StringDoubleMap(sdm),
            };
            let out = Out {
                attribute_type: value.attr_type().as_str(),
                value_attribute,
            };
            (name, out)
        }))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, AttributeValue>, D::Error> {
        // Each attribute must be an object (or null); only `valueAttribute` is read from
        // it, `attributeType` being informative on input (see the module doc).
        let raw: BTreeMap<String, Option<serde_json::Map<String, Value>>> =
            null_default(deserializer)?;
        Ok(raw
            .into_iter()
            .map(|(name, attr)| {
                let value = attr
                    .and_then(|mut a| a.remove("valueAttribute"))
                    .unwrap_or(Value::Null);
                (name, attribute_from_value(value))
            })
            .collect())
    }
}
