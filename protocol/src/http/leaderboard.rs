//! Leaderboards: which board, the query strings of its four views, and the entries.
//!
//! A board is a season (or all time) crossed with a mode (or all modes); the global
//! board is all time, all modes. Ranks count from 1 and are unique: players with equal
//! ratings are ordered by who reached the rating first (the rankings store's tie-break),
//! so the ranks of a top or around page are consecutive.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::validate::{
    DEFAULT_AROUND_RADIUS, DEFAULT_TOP_LIMIT, MAX_AROUND_RADIUS, MAX_FRIENDS, MAX_TOP_LIMIT,
    ValidationError, validate_board, validate_limit, validate_player_id,
};

/// Which leaderboard: `{"season": "2025-spring", "mode": "duel"}`.
///
/// `season: null` is the all-time board, `mode: null` the board across all modes; both
/// `null` is the global board. Every leaderboard response names its board, so a page can
/// label what it shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardId {
    /// The season id ([`validate_season`](super::validate_season)), or `null` for all time.
    pub season: Option<String>,
    /// The mode ([`validate_mode`](super::validate_mode)), or `null` for all modes.
    pub mode: Option<String>,
}

impl BoardId {
    /// The global board: all time, all modes.
    pub const GLOBAL: BoardId = BoardId {
        season: None,
        mode: None,
    };

    /// Checks the season and mode, where present.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_board(self.season.as_deref(), self.mode.as_deref())
    }
}

/// Query string of the top-N view: `?season=2025-spring&mode=duel&limit=20&offset=40`.
///
/// Every parameter is optional. Unknown parameters are rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct TopQuery {
    /// The season; absent for the all-time board.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub season: Option<String>,
    /// The mode; absent for the board across all modes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// How many entries, 1..=[`MAX_TOP_LIMIT`]; [`DEFAULT_TOP_LIMIT`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// How many entries to skip from rank 1 (`offset=40` starts at rank 41); 0 when
    /// absent. Any value is accepted: past the end the page is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
}

impl TopQuery {
    /// The board asked for.
    pub fn board(&self) -> BoardId {
        BoardId {
            season: self.season.clone(),
            mode: self.mode.clone(),
        }
    }

    /// The limit, with the default applied.
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(DEFAULT_TOP_LIMIT)
    }

    /// The offset, with the default applied.
    pub fn offset(&self) -> u32 {
        self.offset.unwrap_or(0)
    }

    /// Checks season, mode and limit.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_board(self.season.as_deref(), self.mode.as_deref())?;
        validate_limit(self.limit, MAX_TOP_LIMIT)
    }
}

/// Query string of the around-a-player view (the player is in the path):
/// `?season=2025-spring&mode=duel&radius=5`.
///
/// The page holds up to `radius` entries above the player, the player, and up to `radius`
/// below; it is empty when the player has no rank on the board.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct AroundQuery {
    /// The season; absent for the all-time board.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub season: Option<String>,
    /// The mode; absent for the board across all modes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Entries on each side of the player, 0..=[`MAX_AROUND_RADIUS`];
    /// [`DEFAULT_AROUND_RADIUS`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub radius: Option<u32>,
}

impl AroundQuery {
    /// The board asked for.
    pub fn board(&self) -> BoardId {
        BoardId {
            season: self.season.clone(),
            mode: self.mode.clone(),
        }
    }

    /// The radius, with the default applied.
    pub fn radius(&self) -> u32 {
        self.radius.unwrap_or(DEFAULT_AROUND_RADIUS)
    }

    /// Checks season, mode and radius.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_board(self.season.as_deref(), self.mode.as_deref())?;
        match self.radius {
            Some(radius) if radius > MAX_AROUND_RADIUS => {
                Err(ValidationError::RadiusOutOfRange { radius })
            }
            _ => Ok(()),
        }
    }
}

/// Query string naming a board and nothing else (a player's rank):
/// `?season=2025-spring&mode=duel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct BoardQuery {
    /// The season; absent for the all-time board.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub season: Option<String>,
    /// The mode; absent for the board across all modes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

impl BoardQuery {
    /// The board asked for.
    pub fn board(&self) -> BoardId {
        BoardId {
            season: self.season.clone(),
            mode: self.mode.clone(),
        }
    }

    /// Checks season and mode.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_board(self.season.as_deref(), self.mode.as_deref())
    }
}

/// Query string of the friends view: `?mode=duel&players=p-1,p-2,p-3`.
///
/// The page holds the ranked players among those listed, best first, with their ranks on
/// the whole board (so not consecutive); unranked players are left out. The backend does
/// not keep friend lists: the client sends them (from its platform's friends API). Whether
/// the caller is added to the list is the backend's choice, stated in its API docs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct FriendsQuery {
    /// The season; absent for the all-time board.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub season: Option<String>,
    /// The mode; absent for the board across all modes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The players, at most [`MAX_FRIENDS`], comma-separated; absent means none.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "p-1,p-2"))]
    #[cfg_attr(feature = "openapi", param(value_type = String, example = "p-1,p-2"))]
    pub players: PlayerIdList,
}

impl FriendsQuery {
    /// The board asked for.
    pub fn board(&self) -> BoardId {
        BoardId {
            season: self.season.clone(),
            mode: self.mode.clone(),
        }
    }

    /// Checks season, mode, and the list: at most [`MAX_FRIENDS`] valid, distinct ids.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_board(self.season.as_deref(), self.mode.as_deref())?;
        let ids = &self.players.0;
        if ids.len() > MAX_FRIENDS {
            return Err(ValidationError::TooManyFriends { count: ids.len() });
        }
        let mut seen = BTreeSet::new();
        for (index, id) in ids.iter().enumerate() {
            validate_player_id(id).map_err(|e| ValidationError::FriendId {
                index,
                source: Box::new(e),
            })?;
            if !seen.insert(id.as_str()) {
                return Err(ValidationError::FriendDuplicate { index });
            }
        }
        Ok(())
    }
}

/// A list of player ids that travels as one comma-separated string (`"p-1,p-2"`), so it
/// fits a query string parameter (form-urlencoded query parsers read one string per key).
/// Player ids never contain a comma (see [`validate_player_id`]).
///
/// Serialized as that string; read from that string (the empty string is the empty list)
/// or, for JSON callers, from an array of strings. The ids are not checked while reading:
/// [`FriendsQuery::validate`] does that and says which one failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PlayerIdList(pub Vec<String>);

impl Serialize for PlayerIdList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.join(","))
    }
}

impl<'de> Deserialize<'de> for PlayerIdList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;

        impl<'de> Visitor<'de> for ListVisitor {
            type Value = PlayerIdList;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("comma-separated player ids, or an array of player ids")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<PlayerIdList, E> {
                if v.is_empty() {
                    return Ok(PlayerIdList::default());
                }
                Ok(PlayerIdList(v.split(',').map(str::to_owned).collect()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PlayerIdList, A::Error> {
                let mut ids = Vec::new();
                while let Some(id) = seq.next_element::<String>()? {
                    ids.push(id);
                }
                Ok(PlayerIdList(ids))
            }
        }

        deserializer.deserialize_any(ListVisitor)
    }
}

/// One row of a leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeaderboardEntry {
    /// Position on the board, 1 for the best.
    pub rank: u64,
    /// The player.
    pub player_id: String,
    /// The name to show, from the profile; `null` when the player has not set one (show
    /// the id).
    pub display_name: Option<String>,
    /// The rating the board is ordered by (the player's rating for this board's season
    /// and mode).
    pub rating: f64,
    /// Matches played that count for this board.
    pub games: u32,
    /// Of which won.
    pub wins: u32,
    /// Of which lost.
    pub losses: u32,
}

/// A page of a leaderboard: the top-N, around-a-player and friends views.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeaderboardPage {
    /// Which board.
    pub board: BoardId,
    /// How many players the whole board ranks (for "rank 41 of 5,000" and page counts).
    pub total_players: u64,
    /// The rows, best first.
    pub entries: Vec<LeaderboardEntry>,
}

/// A player's rank on a board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlayerRank {
    /// Which board.
    pub board: BoardId,
    /// How many players the whole board ranks.
    pub total_players: u64,
    /// The player asked about.
    pub player_id: String,
    /// The player's row, or `null` when the player exists but has no rank on this board
    /// yet (no counted match). An unknown player is `not_found` instead.
    pub entry: Option<LeaderboardEntry>,
}
