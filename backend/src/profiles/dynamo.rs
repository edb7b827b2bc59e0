//! [`DynamoProfiles`]: the [`ProfileStore`] over DynamoDB, following "The DynamoDB
//! mapping" in the module documentation of [`crate::profiles`].
//!
//! **What it is:** one DynamoDB call per method (`BatchGetItem` chunks for
//! `get_profiles`, re-requesting `UnprocessedKeys` with a short backoff), every read
//! strongly consistent, the commit one `TransactWriteItems` whose `CancellationReasons`
//! become the [`CommitOutcome`]. Items that do not decode are
//! [`ProfilesError::CorruptItem`], never skipped.
//!
//! **What it is not:** it creates no tables ([`crate::provision::init`] does) and applies
//! no rating rules; service failures (throttling, an unreachable endpoint, a missing
//! table) are [`ProfilesError::Backend`] and the caller leaves the message for
//! redelivery.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use sha2::{Digest, Sha256};

use super::{
    BoxFuture, CommitOutcome, ProfilePage, ProfileStore, ProfilesError, decode_profile,
    encode_profile, validate_commit,
};
use crate::ratings::{PlacementRecord, PlayerId, PlayerProfile};

/// The placements table's TTL attribute (epoch seconds; [`crate::provision::init`] turns
/// DynamoDB's TTL on for it): a placement record is needed until its match's result is
/// applied, and a result older than this is refused anyway.
pub const PLACEMENT_TTL_ATTRIBUTE: &str = "expires_at";

/// How long a placement record is kept unless configured: 30 days, far beyond any match
/// and any result waiting in a server's outbox or the queue (SQS keeps a message 4 days,
/// its DLQ 14).
pub const DEFAULT_PLACEMENT_RETENTION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Keys per `BatchGetItem` call (DynamoDB's limit).
pub const BATCH_GET_KEYS: usize = 100;
/// `BatchGetItem` rounds for one chunk's `UnprocessedKeys` before giving up with
/// [`ProfilesError::Backend`] (the first round included).
pub const MAX_BATCH_GET_ROUNDS: u32 = 8;

/// The three tables' names: `{prefix}profiles`, `{prefix}applied-matches`,
/// `{prefix}placements`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoTables {
    /// Player id → `version`, `profile`.
    pub profiles: String,
    /// Match id → `players`.
    pub applied_matches: String,
    /// Match id → `placement`.
    pub placements: String,
}

impl DynamoTables {
    /// The names with `prefix` (say `prod-`).
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            profiles: format!("{prefix}profiles"),
            applied_matches: format!("{prefix}applied-matches"),
            placements: format!("{prefix}placements"),
        }
    }

    /// All three names.
    pub fn all(&self) -> [&str; 3] {
        [&self.profiles, &self.applied_matches, &self.placements]
    }
}

/// The profile store over DynamoDB.
#[derive(Debug, Clone)]
pub struct DynamoProfiles {
    client: Client,
    tables: DynamoTables,
    placement_retention: Duration,
}

type Item = HashMap<String, AttributeValue>;

fn backend<E>(what: &str, err: &SdkError<E>) -> ProfilesError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = crate::aws::classify(err);
    let class = if failure.transient {
        "transient"
    } else {
        "permanent"
    };
    ProfilesError::Backend(format!("{what} ({class}): {}", failure.detail))
}

fn key(pk: &str) -> Item {
    HashMap::from([("pk".to_owned(), AttributeValue::S(pk.to_owned()))])
}

fn build_error(e: impl std::fmt::Display) -> ProfilesError {
    ProfilesError::Backend(format!("request does not build: {e}"))
}

/// The `ClientRequestToken` of a commit: the match id and the expected versions, hashed
/// (36 characters, DynamoDB's limit), so an SDK retry of one attempt is idempotent and
/// an attempt with fresh versions is a different request.
fn request_token(match_id: &str, expected: &BTreeMap<PlayerId, u64>) -> String {
    let mut h = Sha256::new();
    h.update(match_id.as_bytes());
    for (player, version) in expected {
        h.update(b"\n");
        h.update(player.as_bytes());
        h.update(b"=");
        h.update(version.to_string().as_bytes());
    }
    let mut token = hex::encode(h.finalize());
    token.truncate(36);
    token
}

impl DynamoProfiles {
    /// A store over `client` and `tables` (created by [`crate::provision::init`]).
    pub fn new(client: Client, tables: DynamoTables) -> Self {
        Self {
            client,
            tables,
            placement_retention: DEFAULT_PLACEMENT_RETENTION,
        }
    }

    /// Placement records expire this long after they are written (DynamoDB deletes them
    /// within a day or two of that); [`DEFAULT_PLACEMENT_RETENTION`] unless set.
    #[must_use]
    pub fn with_placement_retention(mut self, retention: Duration) -> Self {
        self.placement_retention = retention;
        self
    }

    /// The tables.
    pub fn tables(&self) -> &DynamoTables {
        &self.tables
    }

    fn corrupt(&self, table: &str, item: &Item, reason: impl Into<String>) -> ProfilesError {
        let pk = match item.get("pk") {
            Some(AttributeValue::S(s)) => s.clone(),
            _ => "?".to_owned(),
        };
        ProfilesError::CorruptItem {
            table: table.to_owned(),
            key: pk,
            reason: reason.into(),
        }
    }

    fn string<'i>(
        &self,
        table: &str,
        item: &'i Item,
        name: &str,
    ) -> Result<&'i str, ProfilesError> {
        match item.get(name) {
            Some(AttributeValue::S(s)) => Ok(s),
            _ => Err(self.corrupt(table, item, format!("no string attribute {name}"))),
        }
    }

    fn decode_profile_item(&self, item: &Item) -> Result<PlayerProfile, ProfilesError> {
        let table = &self.tables.profiles;
        let pk = self.string(table, item, "pk")?;
        let version = match item.get("version") {
            Some(AttributeValue::N(n)) => n
                .parse::<u64>()
                .map_err(|_| self.corrupt(table, item, format!("version {n:?}")))?,
            _ => return Err(self.corrupt(table, item, "no number attribute version")),
        };
        let profile = decode_profile(self.string(table, item, "profile")?)
            .map_err(|e| self.corrupt(table, item, e))?;
        if profile.player_id != pk || profile.version != version {
            return Err(self.corrupt(
                table,
                item,
                format!(
                    "profile of {} at version {} stored under {pk} at version {version}",
                    profile.player_id, profile.version
                ),
            ));
        }
        Ok(profile)
    }

    fn decode_placement_item(&self, item: &Item) -> Result<PlacementRecord, ProfilesError> {
        let table = &self.tables.placements;
        let json = self.string(table, item, "placement")?;
        serde_json::from_str(json).map_err(|e| self.corrupt(table, item, e.to_string()))
    }

    /// One chunk of at most [`BATCH_GET_KEYS`] distinct players.
    async fn get_chunk(
        &self,
        players: &[&str],
        found: &mut BTreeMap<PlayerId, PlayerProfile>,
    ) -> Result<(), ProfilesError> {
        let table = &self.tables.profiles;
        let mut keys: Vec<Item> = players.iter().map(|p| key(p)).collect();
        let mut round = 0;
        while !keys.is_empty() {
            round += 1;
            if round > MAX_BATCH_GET_ROUNDS {
                return Err(ProfilesError::Backend(format!(
                    "BatchGetItem: {} keys still unprocessed after {MAX_BATCH_GET_ROUNDS} rounds",
                    keys.len()
                )));
            }
            if round > 1 {
                // DynamoDB's advice for UnprocessedKeys: back off exponentially.
                let delay = Duration::from_millis(25 << round.min(6));
                tokio::time::sleep(delay).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(build_error)?;
            let out = self
                .client
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .map_err(|e| backend("BatchGetItem", &e))?;
            for item in out
                .responses()
                .and_then(|r| r.get(table))
                .into_iter()
                .flatten()
            {
                let profile = self.decode_profile_item(item)?;
                found.insert(profile.player_id.clone(), profile);
            }
            keys = out
                .unprocessed_keys()
                .and_then(|u| u.get(table))
                .map(|k| k.keys().to_vec())
                .unwrap_or_default();
        }
        Ok(())
    }

    async fn get_item(&self, table: &str, pk: &str) -> Result<Option<Item>, ProfilesError> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key(pk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("GetItem", &e))?;
        Ok(out.item().cloned())
    }
}

impl ProfileStore for DynamoProfiles {
    fn get_profiles<'a>(
        &'a self,
        players: &'a [PlayerId],
    ) -> BoxFuture<'a, Result<BTreeMap<PlayerId, PlayerProfile>, ProfilesError>> {
        Box::pin(async move {
            // BatchGetItem refuses duplicate keys.
            let distinct: Vec<&str> = players
                .iter()
                .map(String::as_str)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut found = BTreeMap::new();
            for chunk in distinct.chunks(BATCH_GET_KEYS) {
                self.get_chunk(chunk, &mut found).await?;
            }
            Ok(found)
        })
    }

    fn get_profile<'a>(
        &'a self,
        player: &'a str,
    ) -> BoxFuture<'a, Result<Option<PlayerProfile>, ProfilesError>> {
        Box::pin(async move {
            match self.get_item(&self.tables.profiles, player).await? {
                Some(item) => Ok(Some(self.decode_profile_item(&item)?)),
                None => Ok(None),
            }
        })
    }

    fn put_placement<'a>(
        &'a self,
        record: &'a PlacementRecord,
    ) -> BoxFuture<'a, Result<(), ProfilesError>> {
        Box::pin(async move {
            let json = serde_json::to_string(record)
                .map_err(|e| ProfilesError::Backend(format!("placement to JSON: {e}")))?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let expires_at = (now + self.placement_retention).as_secs();
            let put = self
                .client
                .put_item()
                .table_name(&self.tables.placements)
                .item("pk", AttributeValue::S(record.match_id.clone()))
                .item("placement", AttributeValue::S(json))
                .item(
                    PLACEMENT_TTL_ATTRIBUTE,
                    AttributeValue::N(expires_at.to_string()),
                )
                .condition_expression("attribute_not_exists(pk)")
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let err = match put {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            let Some(PutItemError::ConditionalCheckFailedException(failed)) =
                err.as_service_error()
            else {
                return Err(backend("PutItem", &err));
            };
            // ALL_OLD returns the stored item; read it should the service not have.
            let stored = match failed.item() {
                Some(item) => Some(self.decode_placement_item(item)?),
                None => self.get_placement(&record.match_id).await?,
            };
            match stored {
                Some(stored) if stored == *record => Ok(()),
                _ => Err(ProfilesError::PlacementConflict {
                    match_id: record.match_id.clone(),
                }),
            }
        })
    }

    fn get_placement<'a>(
        &'a self,
        match_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<PlacementRecord>, ProfilesError>> {
        Box::pin(async move {
            match self.get_item(&self.tables.placements, match_id).await? {
                Some(item) => Ok(Some(self.decode_placement_item(&item)?)),
                None => Ok(None),
            }
        })
    }

    fn is_applied<'a>(&'a self, match_id: &'a str) -> BoxFuture<'a, Result<bool, ProfilesError>> {
        Box::pin(async move {
            Ok(self
                .get_item(&self.tables.applied_matches, match_id)
                .await?
                .is_some())
        })
    }

    fn commit_result<'a>(
        &'a self,
        match_id: &'a str,
        new_profiles: &'a [PlayerProfile],
        expected_versions: &'a BTreeMap<PlayerId, u64>,
    ) -> BoxFuture<'a, Result<CommitOutcome, ProfilesError>> {
        Box::pin(async move {
            validate_commit(match_id, new_profiles, expected_versions)?;
            let mut profiles: Vec<&PlayerProfile> = new_profiles.iter().collect();
            profiles.sort_by(|a, b| a.player_id.cmp(&b.player_id));

            let mut record = Put::builder()
                .table_name(&self.tables.applied_matches)
                .item("pk", AttributeValue::S(match_id.to_owned()))
                .condition_expression("attribute_not_exists(pk)");
            if !profiles.is_empty() {
                // A string set may not be empty.
                let players = profiles.iter().map(|p| p.player_id.clone()).collect();
                record = record.item("players", AttributeValue::Ss(players));
            }
            let mut items = vec![
                TransactWriteItem::builder()
                    .put(record.build().map_err(build_error)?)
                    .build(),
            ];
            for p in &profiles {
                let expected = expected_versions[&p.player_id];
                let mut put = Put::builder()
                    .table_name(&self.tables.profiles)
                    .item("pk", AttributeValue::S(p.player_id.clone()))
                    .item("version", AttributeValue::N(p.version.to_string()))
                    .item("profile", AttributeValue::S(encode_profile(p)));
                put = if expected == 0 {
                    put.condition_expression("attribute_not_exists(pk)")
                } else {
                    put.condition_expression("version = :expected")
                        .expression_attribute_values(
                            ":expected",
                            AttributeValue::N(expected.to_string()),
                        )
                };
                items.push(
                    TransactWriteItem::builder()
                        .put(put.build().map_err(build_error)?)
                        .build(),
                );
            }
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .client_request_token(request_token(match_id, expected_versions))
                .send()
                .await;
            let err = match sent {
                Ok(_) => return Ok(CommitOutcome::Applied),
                Err(err) => err,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                err.as_service_error()
            else {
                return Err(backend("TransactWriteItems", &err));
            };
            let codes: Vec<&str> = cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None"))
                .collect();
            outcome_of_cancellation(&codes, &profiles).map_err(|reason| {
                ProfilesError::Backend(format!(
                    "TransactWriteItems for match {match_id} cancelled: {reason}"
                ))
            })
        })
    }

    fn all_profiles<'a>(
        &'a self,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<ProfilePage, ProfilesError>> {
        Box::pin(async move {
            let limit = i32::try_from(limit.max(1)).unwrap_or(i32::MAX);
            let out = self
                .client
                .scan()
                .table_name(&self.tables.profiles)
                .consistent_read(true)
                .limit(limit)
                .set_exclusive_start_key(cursor.map(key))
                .send()
                .await
                .map_err(|e| backend("Scan", &e))?;
            let profiles = out
                .items()
                .iter()
                .map(|item| self.decode_profile_item(item))
                .collect::<Result<Vec<_>, _>>()?;
            let next = match out.last_evaluated_key() {
                None => None,
                Some(last) => match last.get("pk") {
                    Some(AttributeValue::S(pk)) => Some(pk.clone()),
                    _ => {
                        return Err(ProfilesError::Backend(format!(
                            "Scan returned a LastEvaluatedKey without a string pk: {last:?}"
                        )));
                    }
                },
            };
            Ok(ProfilePage { profiles, next })
        })
    }
}

/// The outcome of a cancelled commit from its `CancellationReasons` codes (item 0 the
/// match record, items 1… the `profiles` in order), or why it is no outcome at all.
fn outcome_of_cancellation(
    codes: &[&str],
    profiles: &[&PlayerProfile],
) -> Result<CommitOutcome, String> {
    if codes.len() != profiles.len() + 1 {
        return Err(format!(
            "{} cancellation reasons for {} items: {codes:?}",
            codes.len(),
            profiles.len() + 1
        ));
    }
    if codes[0] == "ConditionalCheckFailed" {
        return Ok(CommitOutcome::AlreadyApplied);
    }
    let mut players = Vec::new();
    for (code, profile) in codes[1..].iter().zip(profiles) {
        match *code {
            "ConditionalCheckFailed" | "TransactionConflict" => {
                players.push(profile.player_id.clone());
            }
            "None" | "" => {}
            _ => return Err(format!("reasons {codes:?}")),
        }
    }
    if !matches!(codes[0], "None" | "") || players.is_empty() {
        return Err(format!("reasons {codes:?}"));
    }
    players.sort();
    Ok(CommitOutcome::VersionConflict { players })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profiles(ids: &[&str]) -> Vec<PlayerProfile> {
        ids.iter().map(|id| PlayerProfile::new(id)).collect()
    }

    /// The mapping's rules for `CancellationReasons`.
    #[test]
    fn cancellation_reasons_map_to_outcomes() {
        let ps = profiles(&["a", "b"]);
        let ps: Vec<&PlayerProfile> = ps.iter().collect();
        let outcome = |codes: &[&str]| outcome_of_cancellation(codes, &ps);
        assert_eq!(
            outcome(&["ConditionalCheckFailed", "ConditionalCheckFailed", "None"]),
            Ok(CommitOutcome::AlreadyApplied)
        );
        assert_eq!(
            outcome(&["None", "ConditionalCheckFailed", "TransactionConflict"]),
            Ok(CommitOutcome::VersionConflict {
                players: vec!["a".into(), "b".into()]
            })
        );
        assert_eq!(
            outcome(&["None", "None", "ConditionalCheckFailed"]),
            Ok(CommitOutcome::VersionConflict {
                players: vec!["b".into()]
            })
        );
        for transient in [
            &["None", "ThrottlingError", "None"][..],
            &["None", "ConditionalCheckFailed", "ValidationError"],
            &["None", "None", "None"],
            &["ConditionalCheckFailed"],
            &["TransactionConflict", "None", "None"],
        ] {
            assert!(outcome(transient).is_err(), "{transient:?}");
        }
    }

    /// The token fits DynamoDB's 36 characters and changes with the versions.
    #[test]
    fn request_tokens_follow_the_versions() {
        let v1 = BTreeMap::from([("a".to_owned(), 1), ("b".to_owned(), 0)]);
        let v2 = BTreeMap::from([("a".to_owned(), 2), ("b".to_owned(), 0)]);
        let t1 = request_token("m1", &v1);
        assert_eq!(t1.len(), 36);
        assert_eq!(t1, request_token("m1", &v1));
        assert_ne!(t1, request_token("m1", &v2));
        assert_ne!(t1, request_token("m2", &v1));
    }
}
