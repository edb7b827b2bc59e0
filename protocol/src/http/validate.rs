//! The limits every request is held to, and pure functions that check them.
//!
//! Each function checks format and size only; nothing here knows which modes, players or
//! tickets exist. A failure names the rule it broke ([`ValidationError`]) and becomes an
//! `invalid_request` (400) error body through `From`. Lengths are in bytes of UTF-8, which
//! for the ASCII-only identifiers is the number of characters.

use std::collections::{BTreeMap, BTreeSet};

use super::matchmaking::AttributeValue;

/// Largest request body the backend accepts: 64 KiB, answered with `payload_too_large`
/// beyond. The largest valid [`CreateTicketRequest`](super::CreateTicketRequest) (every cap
/// below reached) is about 21 KiB of JSON, and under 40 KiB even if every attribute string
/// is made of `"` (which JSON escapes to two bytes), so every valid body fits (a test
/// checks it), while a client cannot make the backend parse megabytes.
pub const MAX_REQUEST_BODY_BYTES: usize = 64 * 1024;

/// Longest mode name: 32 bytes. Modes are configured names (`duel`, `ranked-2v2`) that
/// end up in Redis keys, DynamoDB keys, GameLift game properties and metric labels, so
/// they are short and from a safe alphabet: a lowercase letter first, then lowercase
/// letters, digits, `_` and `-` (no `:` or braces, which Redis key layouts and Redis
/// Cluster hash tags give a meaning).
pub const MAX_MODE_LEN: usize = 32;

/// Longest season id: 32 bytes. Same alphabet as a mode, but it may start with a digit
/// (`2025-spring`, `s7`, `7`), since studios name seasons by year or number.
pub const MAX_SEASON_LEN: usize = 32;

/// Longest player id: 128 bytes. The id is the bearer token's subject, so the alphabet
/// admits what common identity providers issue: UUIDs (Cognito), `provider|id` (Auth0),
/// `000123.abc.0123` (Sign in with Apple), Steam ids, e-mail-like subjects. Allowed:
/// ASCII letters, digits, and `-` `_` `.` `:` `@` `|`. Excluded on purpose: `,` (the
/// separator of [`PlayerIdList`](super::PlayerIdList)), `/` `?` `#` `%` and whitespace (the
/// id appears in URL paths), braces (Redis Cluster hash tags) and anything non-ASCII.
/// 128 bytes is far above any of those providers (≤ 64) and keeps a full friends query
/// ([`MAX_FRIENDS`] ids) under 13 KiB of query string, inside common proxy limits.
/// Clients percent-encode `|` and `@` in paths, as any URL library does.
pub const MAX_PLAYER_ID_LEN: usize = 128;

/// Longest ticket id: 64 bytes of ASCII letters, digits and `-`. The backend mints ticket
/// ids (a UUID is 36 bytes); the check lets a handler reject a garbage path parameter
/// before it reaches a store.
pub const MAX_TICKET_ID_LEN: usize = 64;

/// Largest party, counting the caller: 10 players. FlexMatch takes at most 10 players per
/// matchmaking request, so a party that fits here also fits a FlexMatch ticket; no mode the
/// stack targets has teams larger than that.
pub const MAX_PARTY_SIZE: usize = 10;

/// Most regions in one latency map: 32. More than the AWS Regions GameLift hosts in, so a
/// client that pings every region of its fleet's queue fits; a matchmaker's cost per ticket
/// grows with this number, so it is not unbounded.
pub const MAX_LATENCY_REGIONS: usize = 32;

/// Longest region (GameLift location) name: 64 bytes, GameLift's own limit for a location.
/// The format is lowercase letters and digits in `-`-separated parts, the first part
/// letters only, at least two parts: `us-east-1`, `us-west-2-lax-1` (a Local Zone),
/// `custom-home` (an Anywhere location, which GameLift requires to start with `custom-`).
pub const MAX_REGION_LEN: usize = 64;

/// Smallest latency accepted: 1 ms. Clients send whole milliseconds rounded **up**, so a
/// sub-millisecond loopback ping is 1; a 0 is almost always an unmeasured default, and is
/// rejected rather than read as a perfect connection.
pub const MIN_LATENCY_MS: u32 = 1;

/// Largest latency accepted: 5000 ms. Round trips above five seconds mean the region is
/// unreachable for real-time play (latency rules in FlexMatch are typically 50–300 ms);
/// larger values are bugs (microseconds sent as milliseconds) and are rejected. A client
/// that cannot reach a region leaves it out of the map.
pub const MAX_LATENCY_MS: u32 = 5_000;

/// Most matchmaking attributes on one ticket: 16 (GameLift's cap on game properties is
/// the same number). Attributes are hints the matchmaker's rules read (`platform`,
/// `input`, `preferred_maps`), not a data store.
pub const MAX_ATTRIBUTES: usize = 16;

/// Longest attribute name: 32 bytes, an ASCII letter first, then letters, digits and `_`
/// (`platform`, `gameMode`): names that FlexMatch-format matchmaker data can carry as is.
pub const MAX_ATTRIBUTE_NAME_LEN: usize = 32;

/// Longest string attribute value, and longest item of a list attribute: 128 bytes, with
/// no control characters. Enough for a map name or a platform tag.
pub const MAX_ATTRIBUTE_STRING_LEN: usize = 128;

/// Most items in a list attribute: 8 (a list of preferred maps, say). Kept small so that
/// the largest valid request stays well inside [`MAX_REQUEST_BODY_BYTES`].
pub const MAX_ATTRIBUTE_LIST_LEN: usize = 8;

/// Attribute names a client may not set, compared ignoring ASCII case: the backend puts
/// the player's rating into the matchmaker's view of a ticket itself, from the profile, so
/// a client-supplied `rating` or `skill` would be a way to cheat the matchmaker.
pub const RESERVED_ATTRIBUTE_NAMES: &[&str] = &["rating", "rating_deviation", "skill"];

/// Leaderboard entries returned by a top query when `limit` is absent: 10.
pub const DEFAULT_TOP_LIMIT: u32 = 10;

/// Largest `limit` of a top query: 100. One page of a leaderboard; it also matches
/// DynamoDB's `BatchGetItem` cap of 100 keys, so the backend can join a full page with the
/// profiles (display names, wins) in one call.
pub const MAX_TOP_LIMIT: u32 = 100;

/// Entries on each side of the player in an around-a-player query when `radius` is absent: 5.
pub const DEFAULT_AROUND_RADIUS: u32 = 5;

/// Largest `radius` of an around-a-player query: 25, so at most 51 entries come back.
pub const MAX_AROUND_RADIUS: u32 = 25;

/// Most player ids in a friends query: 100. A friends board is one `ZMSCORE` over the list,
/// cheap at this size, and 100 ids fit a URL (see [`MAX_PLAYER_ID_LEN`]).
pub const MAX_FRIENDS: usize = 100;

/// Recent matches returned when `limit` is absent: 20.
pub const DEFAULT_RECENT_MATCHES: u32 = 20;

/// Largest `limit` of a recent-matches query: 50. The profile keeps a bounded history of
/// recent matches (it lives in one DynamoDB item); a longer history is not this endpoint.
pub const MAX_RECENT_MATCHES: u32 = 50;

/// Longest excerpt of an offending value that an error message quotes: a client sees which
/// value was refused without the backend echoing kilobytes back.
const EXCERPT_CHARS: usize = 40;

/// A rule that a request broke. One variant per rule, so a test (or a client reading
/// logs) can tell exactly which; the `Display` text names the limit. Every variant becomes
/// an `invalid_request` (400) error body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// The mode name is empty or longer than [`MAX_MODE_LEN`].
    #[error("mode must be 1 to {MAX_MODE_LEN} bytes long, got {len}")]
    ModeLength {
        /// The length that was sent, in bytes.
        len: usize,
    },
    /// The mode name does not start with `a-z` or has a byte outside `a-z 0-9 _ -`.
    #[error("mode must start with a lowercase letter and contain only a-z, 0-9, '_' and '-'")]
    ModeCharset,
    /// The season id is empty or longer than [`MAX_SEASON_LEN`].
    #[error("season must be 1 to {MAX_SEASON_LEN} bytes long, got {len}")]
    SeasonLength {
        /// The length that was sent, in bytes.
        len: usize,
    },
    /// The season id does not start with `a-z 0-9` or has a byte outside `a-z 0-9 _ -`.
    #[error(
        "season must start with a lowercase letter or digit and contain only a-z, 0-9, '_' and '-'"
    )]
    SeasonCharset,
    /// A player id is empty or longer than [`MAX_PLAYER_ID_LEN`].
    #[error("player id must be 1 to {MAX_PLAYER_ID_LEN} bytes long, got {len}")]
    PlayerIdLength {
        /// The length that was sent, in bytes.
        len: usize,
    },
    /// A player id has a byte outside ASCII letters, digits and `- _ . : @ |`.
    #[error("player id may contain only ASCII letters, digits and '-', '_', '.', ':', '@', '|'")]
    PlayerIdCharset,
    /// A ticket id is empty or longer than [`MAX_TICKET_ID_LEN`].
    #[error("ticket id must be 1 to {MAX_TICKET_ID_LEN} bytes long, got {len}")]
    TicketIdLength {
        /// The length that was sent, in bytes.
        len: usize,
    },
    /// A ticket id has a byte outside ASCII letters, digits and `-`.
    #[error("ticket id may contain only ASCII letters, digits and '-'")]
    TicketIdCharset,
    /// The party, counting the caller, has more than [`MAX_PARTY_SIZE`] players.
    #[error("a party has at most {MAX_PARTY_SIZE} players including the caller, got {size}")]
    PartyTooLarge {
        /// Party size including the caller.
        size: usize,
    },
    /// The party list names the caller, who is in the ticket already (from the token).
    #[error("party lists the other members only; it must not name the caller")]
    PartyIncludesCaller,
    /// A party member's id is malformed; `source` says how.
    #[error("party member {index}: {source}")]
    PartyMember {
        /// Position in the `party` list, from 0.
        index: usize,
        /// The player-id rule it broke ([`ValidationError::PlayerIdLength`] or
        /// [`ValidationError::PlayerIdCharset`]).
        source: Box<ValidationError>,
    },
    /// A player appears twice in the party list.
    #[error("party member {index} appears earlier in the party list")]
    PartyDuplicate {
        /// Position of the second occurrence, from 0.
        index: usize,
    },
    /// The latency map is empty: the matchmaker cannot pick a region for the ticket.
    #[error("latencies_ms must name at least one region")]
    NoLatencies,
    /// The latency map has more than [`MAX_LATENCY_REGIONS`] regions.
    #[error("latencies_ms has at most {MAX_LATENCY_REGIONS} regions, got {count}")]
    TooManyRegions {
        /// Number of regions sent.
        count: usize,
    },
    /// A region name is not of the form `us-east-1` (see [`MAX_REGION_LEN`]).
    #[error(
        "region {region:?} is not a region name like \"us-east-1\" (lowercase, '-'-separated, at most {MAX_REGION_LEN} bytes)"
    )]
    RegionFormat {
        /// The name sent, cut to its first 40 characters.
        region: String,
    },
    /// A latency is outside [`MIN_LATENCY_MS`]`..=`[`MAX_LATENCY_MS`].
    #[error("latency for {region} must be {MIN_LATENCY_MS} to {MAX_LATENCY_MS} ms, got {ms}")]
    LatencyOutOfRange {
        /// The region (a well-formed name).
        region: String,
        /// The latency sent.
        ms: u32,
    },
    /// More than [`MAX_ATTRIBUTES`] attributes.
    #[error("at most {MAX_ATTRIBUTES} attributes, got {count}")]
    TooManyAttributes {
        /// Number of attributes sent.
        count: usize,
    },
    /// An attribute name is empty, too long ([`MAX_ATTRIBUTE_NAME_LEN`]), or not a letter
    /// followed by letters, digits and `_`.
    #[error(
        "attribute name {name:?} must be an ASCII letter then letters, digits or '_', at most {MAX_ATTRIBUTE_NAME_LEN} bytes"
    )]
    AttributeName {
        /// The name sent, cut to its first 40 characters.
        name: String,
    },
    /// An attribute name is one of [`RESERVED_ATTRIBUTE_NAMES`].
    #[error("attribute {name:?} is reserved: the backend sets it")]
    AttributeReserved {
        /// The name sent.
        name: String,
    },
    /// A string value (or list item) is longer than [`MAX_ATTRIBUTE_STRING_LEN`].
    #[error("attribute {name}: strings are at most {MAX_ATTRIBUTE_STRING_LEN} bytes, got {len}")]
    AttributeStringTooLong {
        /// The attribute's name.
        name: String,
        /// The length of the offending string, in bytes.
        len: usize,
    },
    /// A string value (or list item) contains a control character (newline, NUL, ...).
    #[error("attribute {name}: strings must not contain control characters")]
    AttributeStringControl {
        /// The attribute's name.
        name: String,
    },
    /// A list value has more than [`MAX_ATTRIBUTE_LIST_LEN`] items.
    #[error("attribute {name}: lists have at most {MAX_ATTRIBUTE_LIST_LEN} items, got {len}")]
    AttributeListTooLong {
        /// The attribute's name.
        name: String,
        /// Number of items sent.
        len: usize,
    },
    /// A number value is NaN or infinite. JSON cannot carry these, so only a value built in
    /// code can fail this way; it is checked so such a value never reaches the matchmaker.
    #[error("attribute {name}: numbers must be finite")]
    AttributeNumberNotFinite {
        /// The attribute's name.
        name: String,
    },
    /// A `limit` is 0 or above its maximum ([`MAX_TOP_LIMIT`], [`MAX_RECENT_MATCHES`]).
    /// Out-of-range values are rejected rather than clamped, so a client learns the cap.
    #[error("limit must be 1 to {max}, got {limit}")]
    LimitOutOfRange {
        /// The limit sent.
        limit: u32,
        /// The maximum for this query.
        max: u32,
    },
    /// An around-a-player `radius` is above [`MAX_AROUND_RADIUS`] (0 is allowed: the
    /// player's own entry only).
    #[error("radius must be 0 to {MAX_AROUND_RADIUS}, got {radius}")]
    RadiusOutOfRange {
        /// The radius sent.
        radius: u32,
    },
    /// A friends query names more than [`MAX_FRIENDS`] players.
    #[error("a friends query names at most {MAX_FRIENDS} players, got {count}")]
    TooManyFriends {
        /// Number of ids sent.
        count: usize,
    },
    /// An id in a friends query is malformed; `source` says how.
    #[error("friends query player {index}: {source}")]
    FriendId {
        /// Position in the list, from 0.
        index: usize,
        /// The player-id rule it broke.
        source: Box<ValidationError>,
    },
    /// A player appears twice in a friends query.
    #[error("friends query player {index} appears earlier in the list")]
    FriendDuplicate {
        /// Position of the second occurrence, from 0.
        index: usize,
    },
}

/// Checks a mode name: 1..=[`MAX_MODE_LEN`] bytes, `a-z` first, then `a-z 0-9 _ -`.
pub fn validate_mode(mode: &str) -> Result<(), ValidationError> {
    if mode.is_empty() || mode.len() > MAX_MODE_LEN {
        return Err(ValidationError::ModeLength { len: mode.len() });
    }
    let bytes = mode.as_bytes();
    if !bytes[0].is_ascii_lowercase() || !bytes.iter().all(|&b| is_slug_byte(b)) {
        return Err(ValidationError::ModeCharset);
    }
    Ok(())
}

/// Checks a season id: 1..=[`MAX_SEASON_LEN`] bytes, `a-z 0-9` first, then `a-z 0-9 _ -`.
pub fn validate_season(season: &str) -> Result<(), ValidationError> {
    if season.is_empty() || season.len() > MAX_SEASON_LEN {
        return Err(ValidationError::SeasonLength { len: season.len() });
    }
    let bytes = season.as_bytes();
    let first_ok = bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit();
    if !first_ok || !bytes.iter().all(|&b| is_slug_byte(b)) {
        return Err(ValidationError::SeasonCharset);
    }
    Ok(())
}

/// Checks a player id: 1..=[`MAX_PLAYER_ID_LEN`] bytes of ASCII letters, digits and
/// `- _ . : @ |` (the reasons are on [`MAX_PLAYER_ID_LEN`]). The backend applies it to path
/// parameters and to the token's subject; a token whose subject fails is `unauthorized`.
pub fn validate_player_id(player_id: &str) -> Result<(), ValidationError> {
    if player_id.is_empty() || player_id.len() > MAX_PLAYER_ID_LEN {
        return Err(ValidationError::PlayerIdLength {
            len: player_id.len(),
        });
    }
    let ok = player_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'@' | b'|'));
    if !ok {
        return Err(ValidationError::PlayerIdCharset);
    }
    Ok(())
}

/// Checks a ticket id (a path parameter): 1..=[`MAX_TICKET_ID_LEN`] bytes of ASCII letters,
/// digits and `-`.
pub fn validate_ticket_id(ticket_id: &str) -> Result<(), ValidationError> {
    if ticket_id.is_empty() || ticket_id.len() > MAX_TICKET_ID_LEN {
        return Err(ValidationError::TicketIdLength {
            len: ticket_id.len(),
        });
    }
    if !ticket_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(ValidationError::TicketIdCharset);
    }
    Ok(())
}

/// Checks the party list of a ticket request: the other members (not `caller`, whose id
/// comes from the token), each a valid player id, no duplicates, and at most
/// [`MAX_PARTY_SIZE`] players counting the caller. An empty list is a solo ticket.
///
/// Only the shape is checked here; that each member really joined the caller's party, and
/// has no live ticket of their own, is the backend's check (`forbidden` / `conflict`).
pub fn validate_party(caller: &str, party: &[String]) -> Result<(), ValidationError> {
    let size = party.len() + 1;
    if size > MAX_PARTY_SIZE {
        return Err(ValidationError::PartyTooLarge { size });
    }
    let mut seen = BTreeSet::new();
    for (index, member) in party.iter().enumerate() {
        validate_player_id(member).map_err(|e| ValidationError::PartyMember {
            index,
            source: Box::new(e),
        })?;
        if member == caller {
            return Err(ValidationError::PartyIncludesCaller);
        }
        if !seen.insert(member.as_str()) {
            return Err(ValidationError::PartyDuplicate { index });
        }
    }
    Ok(())
}

/// Checks a region (GameLift location) name: at most [`MAX_REGION_LEN`] bytes, two or more
/// `-`-separated non-empty parts of `a-z 0-9`, the first part letters only (`us-east-1`).
pub fn validate_region(region: &str) -> Result<(), ValidationError> {
    let mut parts = region.split('-');
    let first = parts.next().unwrap_or_default();
    let first_ok = !first.is_empty() && first.bytes().all(|b| b.is_ascii_lowercase());
    let mut rest = 0usize;
    let rest_ok = parts.all(|p| {
        rest += 1;
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    if region.len() > MAX_REGION_LEN || !first_ok || !rest_ok || rest == 0 {
        return Err(ValidationError::RegionFormat {
            region: excerpt(region),
        });
    }
    Ok(())
}

/// Checks a latency map (region → round-trip ms): 1..=[`MAX_LATENCY_REGIONS`] entries,
/// each a valid region name ([`validate_region`]) with a latency in
/// [`MIN_LATENCY_MS`]`..=`[`MAX_LATENCY_MS`].
pub fn validate_latencies(latencies_ms: &BTreeMap<String, u32>) -> Result<(), ValidationError> {
    if latencies_ms.is_empty() {
        return Err(ValidationError::NoLatencies);
    }
    if latencies_ms.len() > MAX_LATENCY_REGIONS {
        return Err(ValidationError::TooManyRegions {
            count: latencies_ms.len(),
        });
    }
    for (region, &ms) in latencies_ms {
        validate_region(region)?;
        if !(MIN_LATENCY_MS..=MAX_LATENCY_MS).contains(&ms) {
            return Err(ValidationError::LatencyOutOfRange {
                region: region.clone(),
                ms,
            });
        }
    }
    Ok(())
}

/// Checks matchmaking attributes: at most [`MAX_ATTRIBUTES`], names of at most
/// [`MAX_ATTRIBUTE_NAME_LEN`] bytes (letter, then letters, digits, `_`) and not in
/// [`RESERVED_ATTRIBUTE_NAMES`]; strings and list items of at most
/// [`MAX_ATTRIBUTE_STRING_LEN`] bytes without control characters; lists of at most
/// [`MAX_ATTRIBUTE_LIST_LEN`] items; finite numbers.
pub fn validate_attributes(
    attributes: &BTreeMap<String, AttributeValue>,
) -> Result<(), ValidationError> {
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(ValidationError::TooManyAttributes {
            count: attributes.len(),
        });
    }
    for (name, value) in attributes {
        validate_attribute_name(name)?;
        match value {
            AttributeValue::Number(n) if !n.is_finite() => {
                return Err(ValidationError::AttributeNumberNotFinite { name: name.clone() });
            }
            AttributeValue::Number(_) => {}
            AttributeValue::String(s) => validate_attribute_string(name, s)?,
            AttributeValue::StringList(items) => {
                if items.len() > MAX_ATTRIBUTE_LIST_LEN {
                    return Err(ValidationError::AttributeListTooLong {
                        name: name.clone(),
                        len: items.len(),
                    });
                }
                for item in items {
                    validate_attribute_string(name, item)?;
                }
            }
        }
    }
    Ok(())
}

/// Checks an optional `limit` against `1..=max`.
pub(super) fn validate_limit(limit: Option<u32>, max: u32) -> Result<(), ValidationError> {
    match limit {
        Some(limit) if limit == 0 || limit > max => {
            Err(ValidationError::LimitOutOfRange { limit, max })
        }
        _ => Ok(()),
    }
}

/// Checks the optional season and mode of a board.
pub(super) fn validate_board(
    season: Option<&str>,
    mode: Option<&str>,
) -> Result<(), ValidationError> {
    if let Some(season) = season {
        validate_season(season)?;
    }
    if let Some(mode) = mode {
        validate_mode(mode)?;
    }
    Ok(())
}

fn validate_attribute_name(name: &str) -> Result<(), ValidationError> {
    let bytes = name.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= MAX_ATTRIBUTE_NAME_LEN
        && bytes[0].is_ascii_alphabetic()
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok {
        return Err(ValidationError::AttributeName {
            name: excerpt(name),
        });
    }
    if RESERVED_ATTRIBUTE_NAMES
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
    {
        return Err(ValidationError::AttributeReserved {
            name: name.to_owned(),
        });
    }
    Ok(())
}

fn validate_attribute_string(name: &str, value: &str) -> Result<(), ValidationError> {
    if value.len() > MAX_ATTRIBUTE_STRING_LEN {
        return Err(ValidationError::AttributeStringTooLong {
            name: name.to_owned(),
            len: value.len(),
        });
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::AttributeStringControl {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Lowercase letters, digits, `_` and `-`: the alphabet of modes and seasons.
fn is_slug_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
}

/// The first [`EXCERPT_CHARS`] characters of `s`, for quoting in an error message.
fn excerpt(s: &str) -> String {
    s.chars().take(EXCERPT_CHARS).collect()
}
