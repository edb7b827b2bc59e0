//! Match results: what a session server reports when a match ends, signed so the backend
//! can trust it.
//!
//! A [`MatchResult`] travels as JSON in an SQS message body, inside a
//! [`SignedMatchResult`] envelope: `{"schema":1,"key_id":"…","result":{…},"signature":"…"}`.
//! Results too large for SQS are stored in S3 and the message carries a
//! [`ResultPointer`] instead; [`ResultMessage`] is either.
//!
//! **Signature.** HMAC-SHA256 with a shared secret named by `key_id`, over
//! `"gamelift-stack.match-result\n"` followed by the canonical JSON of
//! `{"key_id":…,"result":…,"schema":…}`: object keys sorted (by UTF-16 code units, as
//! RFC 8785), no whitespace, integers only, strings escaped as RFC 8785 does. Every field
//! is covered, unknown fields are refused, so verification rejects any change anywhere. A
//! [`Keyring`] holds one active signing key and any number of older verification keys,
//! so keys rotate without dropping results in flight: add the new key everywhere for
//! verification, switch the servers' active key, then retire the old one.
//!
//! What it is not: no SQS, S3 or key storage; the reporter and the consumer own those.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

/// The envelope's schema version. A consumer refuses any other.
pub const RESULT_SCHEMA_VERSION: u32 = 1;
/// SQS's message size limit; a larger result goes to S3 behind a [`ResultPointer`].
pub const SQS_MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Largest result document a consumer will parse (from S3), in bytes.
pub const MAX_RESULT_BYTES: usize = 8 * 1024 * 1024;
/// Most players in one result.
///
/// GameLift allows 200 players per game session, but a result is applied in one
/// DynamoDB transaction (at most 100 items: the match record and one per player), so a
/// result names at most 99 players. A server refuses to sign a bigger one rather than
/// produce a result no consumer can apply atomically.
pub const MAX_RESULT_PLAYERS: usize = 99;
/// Most entries in one player's `stats`.
pub const MAX_STATS: usize = 32;
/// Largest magnitude of a score or stat: 2^53 − 1, exact in a double, so JavaScript and
/// the canonical encoding agree on every value.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;
/// Shortest accepted signing secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

const DOMAIN: &[u8] = b"gamelift-stack.match-result\n";

/// The outcome of one match. The match id is the GameLift game-session id, so a match
/// has exactly one result however often it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchResult {
    /// The GameLift game-session id (an ARN).
    pub match_id: String,
    /// Game mode.
    pub mode: String,
    /// AWS region (or GameLift location) the match ran in.
    pub region: String,
    /// GameLift fleet id.
    pub fleet_id: String,
    /// When play started, Unix epoch milliseconds.
    pub started_at_ms: u64,
    /// When the match ended, Unix epoch milliseconds.
    pub ended_at_ms: u64,
    /// True when the match was cut short (server shutdown); consumers may choose not to
    /// rate such a match.
    pub cut_short: bool,
    /// Every player who was admitted, including those who left early.
    pub players: Vec<PlayerResult>,
}

/// One player's part in a match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlayerResult {
    /// The player's id (the matchmaking ticket's player).
    pub player_id: String,
    /// The GameLift player-session id they were admitted with.
    pub player_session_id: String,
    /// Team name, when the mode has teams.
    pub team: Option<String>,
    /// 1 is best; ties share a placement.
    pub placement: u32,
    /// Final score.
    pub score: i64,
    /// Named counters (tags, items, …); keys sorted.
    pub stats: BTreeMap<String, i64>,
    /// Left (or dropped for good) before the end.
    pub left_early: bool,
}

/// A result that breaks a rule no genuine server breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidResult {
    /// A required string is empty or too long.
    #[error("field {field} must be 1 to {max} bytes")]
    BadString {
        /// Which field.
        field: &'static str,
        /// Its cap.
        max: usize,
    },
    /// `ended_at_ms` is before `started_at_ms`, or a time is beyond 2^53 ms.
    #[error("match times are out of order or out of range")]
    BadTimes,
    /// No players, or more than [`MAX_RESULT_PLAYERS`].
    #[error("a result needs 1 to {MAX_RESULT_PLAYERS} players, got {0}")]
    PlayerCount(usize),
    /// The same player id appears twice.
    #[error("player {0} appears twice")]
    DuplicatePlayer(String),
    /// The same player-session id appears twice.
    #[error("player session {0} appears twice")]
    DuplicatePlayerSession(String),
    /// A placement outside `1..=players`.
    #[error("player {player} has placement {placement}, outside 1..={count}")]
    Placement {
        /// Which player.
        player: String,
        /// The placement given.
        placement: u32,
        /// Number of players.
        count: usize,
    },
    /// A score or stat beyond ±[`MAX_SAFE_INTEGER`].
    #[error("player {0} has a score or stat beyond ±2^53")]
    Unsafe(String),
    /// More than [`MAX_STATS`] stats, or an empty or over-long stat name.
    #[error("player {0} has too many stats or a bad stat name")]
    Stats(String),
}

fn check_str(field: &'static str, v: &str, max: usize) -> Result<(), InvalidResult> {
    if v.is_empty() || v.len() > max {
        Err(InvalidResult::BadString { field, max })
    } else {
        Ok(())
    }
}

impl MatchResult {
    /// Checks the rules every genuine result keeps. Signing and verification both run it.
    pub fn validate(&self) -> Result<(), InvalidResult> {
        check_str("match_id", &self.match_id, 256)?;
        check_str("mode", &self.mode, 64)?;
        check_str("region", &self.region, 64)?;
        check_str("fleet_id", &self.fleet_id, 128)?;
        if self.ended_at_ms < self.started_at_ms || self.ended_at_ms > MAX_SAFE_INTEGER as u64 {
            return Err(InvalidResult::BadTimes);
        }
        let n = self.players.len();
        if n == 0 || n > MAX_RESULT_PLAYERS {
            return Err(InvalidResult::PlayerCount(n));
        }
        let mut ids = HashSet::new();
        let mut sessions = HashSet::new();
        for p in &self.players {
            check_str("player_id", &p.player_id, 128)?;
            check_str("player_session_id", &p.player_session_id, 256)?;
            if let Some(team) = &p.team {
                check_str("team", team, 64)?;
            }
            if !ids.insert(p.player_id.as_str()) {
                return Err(InvalidResult::DuplicatePlayer(p.player_id.clone()));
            }
            if !sessions.insert(p.player_session_id.as_str()) {
                return Err(InvalidResult::DuplicatePlayerSession(
                    p.player_session_id.clone(),
                ));
            }
            if p.placement == 0 || p.placement as usize > n {
                return Err(InvalidResult::Placement {
                    player: p.player_id.clone(),
                    placement: p.placement,
                    count: n,
                });
            }
            let safe = |v: i64| (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&v);
            if !safe(p.score) || !p.stats.values().all(|v| safe(*v)) {
                return Err(InvalidResult::Unsafe(p.player_id.clone()));
            }
            if p.stats.len() > MAX_STATS || p.stats.keys().any(|k| k.is_empty() || k.len() > 64) {
                return Err(InvalidResult::Stats(p.player_id.clone()));
            }
        }
        Ok(())
    }
}

/// A result with its signature, as sent to SQS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedMatchResult {
    /// [`RESULT_SCHEMA_VERSION`].
    pub schema: u32,
    /// Which key signed it.
    pub key_id: String,
    /// The result.
    pub result: MatchResult,
    /// Lowercase hex HMAC-SHA256 (64 characters).
    pub signature: String,
}

/// Where an oversized result was stored instead of being sent inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultPointer {
    /// [`RESULT_SCHEMA_VERSION`].
    pub schema: u32,
    /// The match id, so a consumer can log and deduplicate before fetching.
    pub match_id: String,
    /// The S3 object holding the [`SignedMatchResult`] JSON.
    pub s3: S3Location,
}

/// An S3 object and what it must contain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Location {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Object size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the object.
    pub sha256: String,
}

/// An SQS message body: a signed result, or a pointer to one in S3. The two are told
/// apart by the pointer's `s3` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultMessage {
    /// The signed result itself.
    Inline(SignedMatchResult),
    /// A pointer to the signed result in S3.
    Stored(ResultPointer),
}

impl ResultMessage {
    /// Serialises the message body.
    pub fn to_json(&self) -> String {
        let v = match self {
            Self::Inline(s) => serde_json::to_string(s),
            Self::Stored(p) => serde_json::to_string(p),
        };
        // Plain structs of strings, integers and maps with string keys always serialise.
        v.unwrap_or_default()
    }

    /// Parses a message body. Checks size, schema and shape; not the signature (a pointer
    /// has none; an inline result is checked by [`Keyring::verify`]).
    pub fn from_json(body: &[u8]) -> Result<Self, VerifyError> {
        if body.len() > MAX_RESULT_BYTES {
            return Err(VerifyError::TooLarge {
                size: body.len(),
                limit: MAX_RESULT_BYTES,
            });
        }
        let v: Value = serde_json::from_slice(body).map_err(VerifyError::malformed)?;
        let schema = v.get("schema").and_then(Value::as_u64);
        if schema != Some(u64::from(RESULT_SCHEMA_VERSION)) {
            return Err(VerifyError::UnsupportedSchema {
                found: v.get("schema").map(ToString::to_string),
            });
        }
        if v.get("s3").is_some() {
            serde_json::from_value(v)
                .map(Self::Stored)
                .map_err(VerifyError::malformed)
        } else {
            serde_json::from_value(v)
                .map(Self::Inline)
                .map_err(VerifyError::malformed)
        }
    }
}

/// Why a result was refused. [`reason`](Self::reason) is the short code the consumer puts
/// on a dead-lettered message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The document is larger than [`MAX_RESULT_BYTES`].
    #[error("result of {size} bytes exceeds {limit}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not JSON, or not the expected shape (missing or unknown fields, wrong types).
    #[error("malformed result: {0}")]
    Malformed(String),
    /// A schema version this consumer does not know.
    #[error("unsupported schema version {}", found.as_deref().unwrap_or("(missing)"))]
    UnsupportedSchema {
        /// The `schema` value found, as JSON.
        found: Option<String>,
    },
    /// Signed with a key id the keyring does not hold.
    #[error("unknown key id {0:?}")]
    UnknownKey(String),
    /// The signature is not valid for this content and key.
    #[error("signature does not match")]
    BadSignature,
    /// Signed correctly but breaks a result rule.
    #[error("invalid result: {0}")]
    Invalid(#[from] InvalidResult),
}

impl VerifyError {
    fn malformed(e: serde_json::Error) -> Self {
        Self::Malformed(e.to_string())
    }

    /// A short, stable code for this failure (for a dead-letter message attribute).
    pub const fn reason(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Malformed(_) => "malformed",
            Self::UnsupportedSchema { .. } => "unsupported_schema",
            Self::UnknownKey(_) => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::Invalid(_) => "invalid",
        }
    }
}

/// A problem with keys themselves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Key ids are 1 to 64 characters of `A-Z a-z 0-9 . _ -`.
    #[error("bad key id {0:?}: use 1 to 64 of A-Z a-z 0-9 . _ -")]
    BadId(String),
    /// Secrets must be at least [`MIN_SECRET_LEN`] bytes.
    #[error("secret for key {0:?} is shorter than {MIN_SECRET_LEN} bytes")]
    ShortSecret(String),
    /// A keyring spec entry is not `id:hexsecret`, or the hex is invalid.
    #[error("bad keyring entry {0:?}: expected id:hexsecret")]
    BadSpec(String),
    /// The same id twice.
    #[error("key id {0:?} appears twice")]
    DuplicateId(String),
    /// A spec with no keys.
    #[error("the keyring is empty")]
    Empty,
}

/// Signing and verification keys. Secrets never appear in `Debug` output.
#[derive(Clone)]
pub struct Keyring {
    active: String,
    keys: BTreeMap<String, Vec<u8>>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("active", &self.active)
            .field("key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn check_key(id: &str, secret: &[u8]) -> Result<(), KeyError> {
    let ok_id = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !ok_id {
        return Err(KeyError::BadId(id.into()));
    }
    if secret.len() < MIN_SECRET_LEN {
        return Err(KeyError::ShortSecret(id.into()));
    }
    Ok(())
}

impl Keyring {
    /// A keyring whose active (signing) key is `id`.
    pub fn new(id: &str, secret: &[u8]) -> Result<Self, KeyError> {
        check_key(id, secret)?;
        Ok(Self {
            active: id.into(),
            keys: BTreeMap::from([(id.to_owned(), secret.to_vec())]),
        })
    }

    /// Adds a key that verifies but does not sign (an older or newer key during rotation).
    pub fn with_key(mut self, id: &str, secret: &[u8]) -> Result<Self, KeyError> {
        check_key(id, secret)?;
        if self.keys.contains_key(id) {
            return Err(KeyError::DuplicateId(id.into()));
        }
        self.keys.insert(id.into(), secret.to_vec());
        Ok(self)
    }

    /// Parses `id:hexsecret[,id:hexsecret…]` (as kept in an environment variable or a
    /// secret store); the first key is the active one.
    pub fn parse(spec: &str) -> Result<Self, KeyError> {
        let mut ring: Option<Self> = None;
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, hex_secret) = entry
                .split_once(':')
                .ok_or_else(|| KeyError::BadSpec(redact(entry)))?;
            let secret = hex::decode(hex_secret).map_err(|_| KeyError::BadSpec(redact(entry)))?;
            ring = Some(match ring {
                None => Self::new(id, &secret)?,
                Some(r) => r.with_key(id, &secret)?,
            });
        }
        ring.ok_or(KeyError::Empty)
    }

    /// The id of the signing key.
    pub fn active_key_id(&self) -> &str {
        &self.active
    }

    /// Validates and signs a result with the active key.
    pub fn sign(&self, result: MatchResult) -> Result<SignedMatchResult, InvalidResult> {
        result.validate()?;
        let secret = &self.keys[&self.active];
        let mac = mac(secret, RESULT_SCHEMA_VERSION, &self.active, &result);
        Ok(SignedMatchResult {
            schema: RESULT_SCHEMA_VERSION,
            key_id: self.active.clone(),
            result,
            signature: hex::encode(mac),
        })
    }

    /// Checks schema, key id, signature (in constant time) and the result rules.
    pub fn verify(&self, signed: &SignedMatchResult) -> Result<(), VerifyError> {
        if signed.schema != RESULT_SCHEMA_VERSION {
            return Err(VerifyError::UnsupportedSchema {
                found: Some(signed.schema.to_string()),
            });
        }
        let secret = self
            .keys
            .get(&signed.key_id)
            .ok_or_else(|| VerifyError::UnknownKey(signed.key_id.clone()))?;
        let given = hex::decode(&signed.signature).map_err(|_| VerifyError::BadSignature)?;
        let mut m =
            Hmac::<Sha256>::new_from_slice(secret).map_err(|_| VerifyError::BadSignature)?;
        m.update(&signed_bytes(signed.schema, &signed.key_id, &signed.result));
        m.verify_slice(&given)
            .map_err(|_| VerifyError::BadSignature)?;
        signed.result.validate()?;
        Ok(())
    }

    /// Parses an inline SQS body and verifies it: the whole check a consumer needs for a
    /// message that is not a pointer.
    pub fn open(&self, body: &[u8]) -> Result<MatchResult, VerifyError> {
        match ResultMessage::from_json(body)? {
            ResultMessage::Inline(signed) => {
                self.verify(&signed)?;
                Ok(signed.result)
            }
            ResultMessage::Stored(_) => Err(VerifyError::Malformed(
                "expected a signed result, found an S3 pointer".into(),
            )),
        }
    }
}

fn redact(entry: &str) -> String {
    entry.split(':').next().unwrap_or_default().to_owned() + ":…"
}

fn mac(secret: &[u8], schema: u32, key_id: &str, result: &MatchResult) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    m.update(&signed_bytes(schema, key_id, result));
    m.finalize().into_bytes().into()
}

/// The exact bytes the signature covers: the domain string, then the canonical JSON of
/// `{"key_id","result","schema"}`. Public so other implementations can test against it.
pub fn signed_bytes(schema: u32, key_id: &str, result: &MatchResult) -> Vec<u8> {
    let doc = serde_json::json!({ "schema": schema, "key_id": key_id, "result": result });
    let mut out = DOMAIN.to_vec();
    canonical_json(&doc, &mut out);
    out
}

/// Writes `v` as RFC 8785 canonical JSON, for the subset results use (no floats).
fn canonical_json(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        // Integers print the same in RFC 8785 while within ±2^53, which validate() ensures.
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => write_string(s, out),
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical_json(x, out);
            }
            out.push(b']');
        }
        Value::Object(o) => {
            // Sorted here, not by the map type: serde_json's map keeps insertion order
            // when any crate in the build enables its `preserve_order` feature.
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                canonical_json(&o[k], out);
            }
            out.push(b'}');
        }
    }
}

/// RFC 8785 string escaping: `"` `\` and control characters only; `\b \f \n \r \t` short,
/// other controls as `\u00xx` with lowercase hex; everything else as UTF-8.
fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// The spool: match results handed from session servers to a backend on the same host
/// through a directory, for local runs without SQS (`session-server --queue spool`,
/// `backend consume --spool-dir`). Every file is written under a name starting with
/// [`TEMP_PREFIX`](spool::TEMP_PREFIX), `fsync`ed, then renamed into place; readers skip
/// temp names, so they never see half a file.
pub mod spool {
    /// Folder of message files: one [`super::ResultMessage`] JSON body per file.
    pub const MESSAGES_DIR: &str = "messages";
    /// Folder of uploaded objects, `blobs/<bucket>/<key>` (a pointer message's target).
    pub const BLOBS_DIR: &str = "blobs";
    /// Extension of a complete message file; its stem is the SHA-256 of its body.
    pub const MESSAGE_EXTENSION: &str = "msg";
    /// Prefix of files being written.
    pub const TEMP_PREFIX: &str = ".tmp-";
}
