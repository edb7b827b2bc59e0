//! The profile store contract: one suite, each test over a `&dyn ProfileStore`, run
//! against [`EmbeddedProfiles`] (in a temporary directory) and [`DynamoProfiles`] (fresh
//! tables on the test bed's moto server). Then what only the embedded store promises: it
//! survives a reopen, and a write torn by a crash is dropped.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use backend::profiles::{
    ApplyExactlyOnceError, ApplyOutcome, BoxFuture, CommitOutcome, DynamoProfiles,
    EmbeddedProfiles, PlacementCheck, ProfilePage, ProfileStore, ProfilesError, apply_exactly_once,
    ranking_updates, recent_matches,
};
use backend::provision::{ProvisionConfig, init};
use backend::rankings::boards_for_match;
use backend::ratings::{PlacedPlayer, PlacementRecord, PlayerId, PlayerProfile, apply};
use protocol::result::{MatchResult, PlayerResult};

/// A directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        TempDir(std::env::temp_dir().join(tests::unique_name("profiles")))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A duel (or free-for-all) result: players in placement order, ended at `t` seconds.
fn result(id: &str, t: u64, players: &[&str]) -> MatchResult {
    MatchResult {
        match_id: id.into(),
        mode: "duel".into(),
        region: "eu-west-1".into(),
        fleet_id: "fleet-1".into(),
        started_at_ms: 0,
        ended_at_ms: 1_700_000_000_000 + t * 1000,
        cut_short: false,
        players: players
            .iter()
            .enumerate()
            .map(|(i, p)| PlayerResult {
                player_id: (*p).into(),
                player_session_id: format!("ps-{id}-{p}"),
                team: None,
                placement: i as u32 + 1,
                score: 10 - i as i64,
                stats: BTreeMap::new(),
                left_early: false,
            })
            .collect(),
    }
}

fn placement(r: &MatchResult) -> PlacementRecord {
    PlacementRecord {
        match_id: r.match_id.clone(),
        players: r
            .players
            .iter()
            .map(|p| PlacedPlayer {
                player_id: p.player_id.clone(),
                player_session_id: p.player_session_id.clone(),
                team: None,
            })
            .collect(),
    }
}

fn ids(players: &[&str]) -> Vec<PlayerId> {
    players.iter().map(|p| (*p).to_owned()).collect()
}

/// The new profiles of a result rated from `current`, and the versions they were read at.
fn rated(
    r: &MatchResult,
    current: &BTreeMap<PlayerId, PlayerProfile>,
) -> (Vec<PlayerProfile>, BTreeMap<PlayerId, u64>) {
    let applied = apply(r, Some("s1"), current).unwrap();
    let expected = r
        .players
        .iter()
        .map(|p| {
            let v = current.get(&p.player_id).map_or(0, |c| c.version);
            (p.player_id.clone(), v)
        })
        .collect();
    (applied.profiles.into_values().collect(), expected)
}

/// Every stored profile, through the pager, by player.
async fn everything(store: &dyn ProfileStore) -> BTreeMap<PlayerId, PlayerProfile> {
    let mut all = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let ProfilePage { profiles, next } =
            store.all_profiles(cursor.as_deref(), 3).await.unwrap();
        assert!(profiles.len() <= 3);
        for p in profiles {
            assert!(
                all.insert(p.player_id.clone(), p).is_none(),
                "a profile twice"
            );
        }
        match next {
            Some(n) => cursor = Some(n),
            None => return all,
        }
    }
}

/// A commit writes every profile and records the match; reads see them.
async fn commit_then_read(store: &dyn ProfileStore) {
    let r = result("m1", 1, &["a", "b"]);
    let (profiles, expected) = rated(&r, &BTreeMap::new());
    assert!(!store.is_applied("m1").await.unwrap());
    let outcome = store
        .commit_result("m1", &profiles, &expected)
        .await
        .unwrap();
    assert_eq!(outcome, CommitOutcome::Applied);
    assert!(store.is_applied("m1").await.unwrap());
    let read = store
        .get_profiles(&ids(&["a", "b", "nobody"]))
        .await
        .unwrap();
    assert_eq!(read.len(), 2, "missing players are absent");
    assert_eq!(read["a"], profiles[0]);
    assert_eq!(read["b"], profiles[1]);
    assert_eq!(read["a"].version, 1);
    assert_eq!(
        store.get_profile("a").await.unwrap().as_ref(),
        Some(&profiles[0])
    );
    assert_eq!(store.get_profile("nobody").await.unwrap(), None);
    let recent = recent_matches(store, "a", 10).await.unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].match_id, "m1");
    assert!(
        recent_matches(store, "nobody", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(everything(store).await.len(), 2);
}

/// Committing the same match again, even with valid versions, is `AlreadyApplied`
/// and changes nothing.
async fn second_commit_of_a_match_changes_nothing(store: &dyn ProfileStore) {
    let r = result("m1", 1, &["a", "b"]);
    let (profiles, expected) = rated(&r, &BTreeMap::new());
    store
        .commit_result("m1", &profiles, &expected)
        .await
        .unwrap();
    let before = everything(store).await;
    // The same commit again (a redelivery computed from the same reads).
    let again = store
        .commit_result("m1", &profiles, &expected)
        .await
        .unwrap();
    assert_eq!(again, CommitOutcome::AlreadyApplied);
    // A recomputation from the current profiles: versions match, the match record wins.
    let (profiles2, expected2) = rated(&r, &before);
    let again = store
        .commit_result("m1", &profiles2, &expected2)
        .await
        .unwrap();
    assert_eq!(again, CommitOutcome::AlreadyApplied);
    assert_eq!(everything(store).await, before);
}

/// Stale versions are a conflict naming exactly the stale players, and nothing of the
/// commit is written (not the fresh players, not the match record).
async fn stale_versions_conflict_and_change_nothing(store: &dyn ProfileStore) {
    let r1 = result("m1", 1, &["a", "b"]);
    let (p1, e1) = rated(&r1, &BTreeMap::new());
    store.commit_result("m1", &p1, &e1).await.unwrap();
    let before = everything(store).await;
    // m2 was rated from a read before m1 landed: a and b at 0 (absent), c absent.
    let r2 = result("m2", 2, &["a", "c", "b"]);
    let (p2, e2) = rated(&r2, &BTreeMap::new());
    let outcome = store.commit_result("m2", &p2, &e2).await.unwrap();
    assert_eq!(
        outcome,
        CommitOutcome::VersionConflict {
            players: ids(&["a", "b"])
        }
    );
    assert!(!store.is_applied("m2").await.unwrap());
    assert_eq!(everything(store).await, before, "c was not written either");
    // An expected version above the stored one conflicts too.
    let mut stale = before.clone();
    stale.get_mut("a").unwrap().version = 5;
    let (p3, e3) = rated(&result("m3", 3, &["a"]), &stale);
    let outcome = store.commit_result("m3", &p3, &e3).await.unwrap();
    assert_eq!(
        outcome,
        CommitOutcome::VersionConflict {
            players: ids(&["a"])
        }
    );
    // Fresh versions then commit.
    let (p2, e2) = rated(&r2, &before);
    let outcome = store.commit_result("m2", &p2, &e2).await.unwrap();
    assert_eq!(outcome, CommitOutcome::Applied);
    let after = everything(store).await;
    assert_eq!(
        (after["a"].version, after["b"].version, after["c"].version),
        (2, 2, 1)
    );
}

/// Expected version 0 means the profile must not exist: a "new" player who exists
/// conflicts.
async fn new_players_must_not_exist(store: &dyn ProfileStore) {
    let (p1, e1) = rated(&result("m1", 1, &["a", "b"]), &BTreeMap::new());
    store.commit_result("m1", &p1, &e1).await.unwrap();
    let before = everything(store).await;
    let (p2, e2) = rated(&result("m2", 2, &["a", "z"]), &BTreeMap::new());
    assert_eq!(e2["a"], 0);
    let outcome = store.commit_result("m2", &p2, &e2).await.unwrap();
    assert_eq!(
        outcome,
        CommitOutcome::VersionConflict {
            players: ids(&["a"])
        }
    );
    assert_eq!(everything(store).await, before);
}

/// Arguments that disagree (a version not one above its expected one, an expected
/// version without a profile) are refused before anything is written.
async fn inconsistent_commits_are_refused(store: &dyn ProfileStore) {
    let (mut p, e) = rated(&result("m1", 1, &["a", "b"]), &BTreeMap::new());
    p[0].version = 7;
    let err = store.commit_result("m1", &p, &e).await.unwrap_err();
    assert!(matches!(err, ProfilesError::InvalidCommit { .. }), "{err}");
    let (p, mut e) = rated(&result("m1", 1, &["a", "b"]), &BTreeMap::new());
    e.insert("ghost".into(), 0);
    let err = store.commit_result("m1", &p, &e).await.unwrap_err();
    assert!(matches!(err, ProfilesError::InvalidCommit { .. }), "{err}");
    assert!(!store.is_applied("m1").await.unwrap());
    assert!(everything(store).await.is_empty());
}

/// Placements: put then get; an identical put again is fine; a different one for the
/// same match is refused and the first stays.
async fn placement_put_get_idempotent_conflict(store: &dyn ProfileStore) {
    let r = result("m1", 1, &["a", "b"]);
    let record = placement(&r);
    assert_eq!(store.get_placement("m1").await.unwrap(), None);
    store.put_placement(&record).await.unwrap();
    assert_eq!(
        store.get_placement("m1").await.unwrap().as_ref(),
        Some(&record)
    );
    store.put_placement(&record).await.unwrap();
    let mut other = record.clone();
    other.players.pop();
    let err = store.put_placement(&other).await.unwrap_err();
    assert!(
        matches!(err, ProfilesError::PlacementConflict { ref match_id } if match_id == "m1"),
        "{err}"
    );
    assert_eq!(store.get_placement("m1").await.unwrap(), Some(record));
    assert_eq!(store.get_placement("m2").await.unwrap(), None);
}

/// The same result applied twice equals once; the second call hands back the current
/// profiles, whose ranking scores equal the first call's.
async fn apply_twice_equals_once(store: &dyn ProfileStore) {
    let r = result("m1", 1, &["a", "b", "c"]);
    store.put_placement(&placement(&r)).await.unwrap();
    let first = apply_exactly_once(store, &r, Some("s1"), PlacementCheck::Required)
        .await
        .unwrap();
    let ApplyOutcome::Applied { applied, attempts } = first else {
        panic!("first application: {first:?}");
    };
    assert_eq!(attempts, 1);
    let once = everything(store).await;
    assert_eq!(once, applied.profiles);
    let second = apply_exactly_once(store, &r, Some("s1"), PlacementCheck::Required)
        .await
        .unwrap();
    let ApplyOutcome::AlreadyApplied { profiles } = second else {
        panic!("second application: {second:?}");
    };
    assert_eq!(profiles, once);
    assert_eq!(everything(store).await, once);
    let boards = boards_for_match(Some("s1"), "duel");
    assert_eq!(
        ranking_updates(profiles.values(), &boards),
        applied.rankings
    );
}

/// The placement check: an unknown match and wrong players are refused, nothing written.
async fn apply_checks_the_placement(store: &dyn ProfileStore) {
    let r = result("m1", 1, &["a", "b"]);
    let err = apply_exactly_once(store, &r, None, PlacementCheck::Required)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApplyExactlyOnceError::UnknownMatch(ref m) if m == "m1"),
        "{err}"
    );
    store
        .put_placement(&placement(&result("m1", 1, &["a", "x"])))
        .await
        .unwrap();
    let err = apply_exactly_once(store, &r, None, PlacementCheck::Required)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApplyExactlyOnceError::WrongPlayers(_)),
        "{err}"
    );
    assert!(everything(store).await.is_empty());
    assert!(!store.is_applied("m1").await.unwrap());
}

/// 20 results over 6 players with duplicates interleaved (and redelivered out of
/// order) give exactly the profiles of applying each once, in first-delivery order.
async fn duplicates_interleaved_equal_single_application(store: &dyn ProfileStore) {
    let players = ["p0", "p1", "p2", "p3", "p4", "p5"];
    let results: Vec<MatchResult> = (0..20u64)
        .map(|i| {
            let i = i as usize;
            let a = players[i % 6];
            let b = players[(i * 5 + 1) % 6];
            let b = if a == b { players[(i + 3) % 6] } else { b };
            result(&format!("m{i}"), i as u64, &[a, b])
        })
        .collect();
    // Deliveries: every result, each of the even ones redelivered 1 and 3 later.
    let mut deliveries: Vec<usize> = Vec::new();
    for i in 0..20 {
        deliveries.push(i);
        if i >= 1 && (i - 1) % 2 == 0 {
            deliveries.push(i - 1);
        }
        if i >= 3 && (i - 3) % 2 == 0 {
            deliveries.push(i - 3);
        }
    }
    let mut applied_count = 0;
    for &i in &deliveries {
        match apply_exactly_once(store, &results[i], Some("s1"), PlacementCheck::Skip)
            .await
            .unwrap()
        {
            ApplyOutcome::Applied { .. } => applied_count += 1,
            ApplyOutcome::AlreadyApplied { .. } => {}
        }
    }
    assert_eq!(applied_count, 20);
    assert!(deliveries.len() > 30);
    // The reference: each result once, through the pure core alone.
    let mut reference: BTreeMap<PlayerId, PlayerProfile> = BTreeMap::new();
    for r in &results {
        let applied = apply(r, Some("s1"), &reference).unwrap();
        reference.extend(applied.profiles);
    }
    assert_eq!(everything(store).await, reference);
    let games: u32 = reference.values().map(|p| p.overall.games).sum();
    assert_eq!(games, 40);
}

/// Wraps a store so the first two `get_profiles` calls wait for each other: both
/// concurrent applications read the same versions, so exactly one must retry.
struct ReadTogether<'s> {
    inner: &'s dyn ProfileStore,
    reads: AtomicUsize,
    barrier: tokio::sync::Barrier,
}

impl ProfileStore for ReadTogether<'_> {
    fn get_profiles<'a>(
        &'a self,
        players: &'a [PlayerId],
    ) -> BoxFuture<'a, Result<BTreeMap<PlayerId, PlayerProfile>, ProfilesError>> {
        Box::pin(async move {
            let found = self.inner.get_profiles(players).await;
            if self.reads.fetch_add(1, Ordering::SeqCst) < 2 {
                self.barrier.wait().await;
            }
            found
        })
    }

    fn put_placement<'a>(
        &'a self,
        record: &'a PlacementRecord,
    ) -> BoxFuture<'a, Result<(), ProfilesError>> {
        self.inner.put_placement(record)
    }

    fn get_placement<'a>(
        &'a self,
        match_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<PlacementRecord>, ProfilesError>> {
        self.inner.get_placement(match_id)
    }

    fn is_applied<'a>(&'a self, match_id: &'a str) -> BoxFuture<'a, Result<bool, ProfilesError>> {
        self.inner.is_applied(match_id)
    }

    fn commit_result<'a>(
        &'a self,
        match_id: &'a str,
        new_profiles: &'a [PlayerProfile],
        expected_versions: &'a BTreeMap<PlayerId, u64>,
    ) -> BoxFuture<'a, Result<CommitOutcome, ProfilesError>> {
        self.inner
            .commit_result(match_id, new_profiles, expected_versions)
    }

    fn all_profiles<'a>(
        &'a self,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<ProfilePage, ProfilesError>> {
        self.inner.all_profiles(cursor, limit)
    }
}

/// Two different results sharing a player, applied concurrently from the same reads:
/// both land, one after a retry, and the shared player has both games.
async fn concurrent_results_sharing_a_player_both_land(store: &dyn ProfileStore) {
    let gated = ReadTogether {
        inner: store,
        reads: AtomicUsize::new(0),
        barrier: tokio::sync::Barrier::new(2),
    };
    let r1 = result("m1", 1, &["shared", "x"]);
    let r2 = result("m2", 2, &["y", "shared"]);
    let (o1, o2) = tokio::join!(
        apply_exactly_once(&gated, &r1, Some("s1"), PlacementCheck::Skip),
        apply_exactly_once(&gated, &r2, Some("s1"), PlacementCheck::Skip),
    );
    let attempts = |o: ApplyOutcome| match o {
        ApplyOutcome::Applied { attempts, .. } => attempts,
        other => panic!("not applied: {other:?}"),
    };
    let mut tries = [attempts(o1.unwrap()), attempts(o2.unwrap())];
    tries.sort();
    assert_eq!(tries, [1, 2], "exactly one retried");
    let all = everything(store).await;
    assert_eq!(all["shared"].version, 2);
    assert_eq!(all["shared"].overall.games, 2);
    assert_eq!(all["shared"].recent.len(), 2);
    assert_eq!((all["x"].version, all["y"].version), (1, 1));
    assert!(store.is_applied("m1").await.unwrap() && store.is_applied("m2").await.unwrap());
}

/// The pager visits every profile exactly once, whatever the page size.
async fn all_profiles_pages_through_everything(store: &dyn ProfileStore) {
    assert_eq!(
        store.all_profiles(None, 10).await.unwrap(),
        ProfilePage::default()
    );
    for i in 0..5u64 {
        let r = result(&format!("m{i}"), i, &[&format!("a{i}"), &format!("b{i}")]);
        apply_exactly_once(store, &r, None, PlacementCheck::Skip)
            .await
            .unwrap();
    }
    assert_eq!(everything(store).await.len(), 10);
    let mut seen = 0;
    let mut cursor: Option<String> = None;
    loop {
        let page = store.all_profiles(cursor.as_deref(), 1).await.unwrap();
        seen += page.profiles.len();
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, 10);
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = super::TempDir::new();
                    let store = super::EmbeddedProfiles::open(&dir.0).unwrap();
                    super::$name(&store).await;
                }
            )*
        }

        /// DynamoDB on moto: fresh tables per test, made by `provision::init`.
        mod dynamo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let store = super::dynamo_store().await;
                    super::$name(&store).await;
                }
            )*
        }
    };
}

/// A [`DynamoProfiles`] over fresh tables on the test bed's moto server.
async fn dynamo_store() -> DynamoProfiles {
    let sdk = tests::aws_config().await;
    let config = ProvisionConfig::new(
        &format!("{}-", tests::unique_name("p")),
        &tests::unique_name("profiles-blobs"),
    );
    let made = init(&sdk, &config).await.unwrap();
    DynamoProfiles::new(aws_sdk_dynamodb::Client::new(&sdk), made.tables)
}

contract!(
    commit_then_read,
    second_commit_of_a_match_changes_nothing,
    stale_versions_conflict_and_change_nothing,
    new_players_must_not_exist,
    inconsistent_commits_are_refused,
    placement_put_get_idempotent_conflict,
    apply_twice_equals_once,
    apply_checks_the_placement,
    duplicates_interleaved_equal_single_application,
    concurrent_results_sharing_a_player_both_land,
    all_profiles_pages_through_everything,
);

/// Everything committed survives a reopen (twice: the second reads the compacted log),
/// and the applied-match records too: a duplicate after restart changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_survives_reopen() {
    let dir = TempDir::new();
    let r1 = result("m1", 1, &["a", "b"]);
    let r2 = result("m2", 2, &["b", "c"]);
    let before = {
        let store = EmbeddedProfiles::open(&dir.0).unwrap();
        store.put_placement(&placement(&r1)).await.unwrap();
        apply_exactly_once(&store, &r1, Some("s1"), PlacementCheck::Required)
            .await
            .unwrap();
        apply_exactly_once(&store, &r2, Some("s1"), PlacementCheck::Skip)
            .await
            .unwrap();
        let err = EmbeddedProfiles::open(&dir.0).unwrap_err();
        assert!(matches!(err, ProfilesError::Locked(_)), "{err}");
        everything(&store).await
    };
    for _ in 0..2 {
        let store = EmbeddedProfiles::open(&dir.0).unwrap();
        assert_eq!(everything(&store).await, before);
        assert_eq!(
            store.get_placement("m1").await.unwrap(),
            Some(placement(&r1))
        );
        let again = apply_exactly_once(&store, &r2, Some("s1"), PlacementCheck::Skip)
            .await
            .unwrap();
        assert!(matches!(again, ApplyOutcome::AlreadyApplied { .. }));
        assert_eq!(everything(&store).await, before);
    }
}

/// A commit torn by a crash (a last line without its newline) is dropped on open: the
/// store is as before it, the match is not applied, later commits append cleanly; a
/// damaged line in the middle is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_drops_a_torn_last_line() {
    let dir = TempDir::new();
    let r1 = result("m1", 1, &["a", "b"]);
    let r2 = result("m2", 2, &["a", "c"]);
    let log = dir.0.join("profiles.log");
    let before = {
        let store = EmbeddedProfiles::open(&dir.0).unwrap();
        apply_exactly_once(&store, &r1, None, PlacementCheck::Skip)
            .await
            .unwrap();
        everything(&store).await
    };
    // What m2's commit line would be, cut short.
    let (p2, _) = rated(&r2, &before);
    let line = serde_json::json!({"op": "commit", "match_id": "m2", "profiles": p2}).to_string();
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    file.write_all(&line.as_bytes()[..line.len() / 2]).unwrap();
    drop(file);
    {
        let store = EmbeddedProfiles::open(&dir.0).unwrap();
        assert_eq!(everything(&store).await, before);
        assert!(!store.is_applied("m2").await.unwrap());
        let o = apply_exactly_once(&store, &r2, None, PlacementCheck::Skip)
            .await
            .unwrap();
        assert!(matches!(o, ApplyOutcome::Applied { .. }));
    }
    let store = EmbeddedProfiles::open(&dir.0).unwrap();
    assert!(store.is_applied("m2").await.unwrap());
    assert_eq!(everything(&store).await["a"].version, 2);
    drop(store);
    // Damage in the middle is not a torn write.
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.insert_str(0, "{not json\n");
    std::fs::write(&log, text).unwrap();
    let err = EmbeddedProfiles::open(&dir.0).unwrap_err();
    assert!(
        matches!(err, ProfilesError::CorruptLog { line: 1, .. }),
        "{err}"
    );
}

/// Many concurrent writes (the embedded store groups them into batches): placements of
/// the same match put twice alike and once differently, commits of the same match sent
/// three times, commits of different matches all expecting a shared player to be new.
/// The answers agree with each other, and the reopened store holds exactly what they
/// said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_concurrent_writes_replay_as_answered() {
    const MATCHES: usize = 20;
    let dir = TempDir::new();
    let store = EmbeddedProfiles::open(&dir.0).unwrap();
    let placements: Vec<(PlacementRecord, PlacementRecord)> = (0..MATCHES)
        .map(|i| {
            let r = result(&format!("p{i}"), 1, &["a", "b"]);
            let mut other = placement(&r);
            other.players[0].player_session_id.push_str("-other");
            (placement(&r), other)
        })
        .collect();
    let mut puts = Vec::new();
    for (same, other) in &placements {
        for record in [same, other, same] {
            let (store, record) = (store.clone(), record.clone());
            puts.push(tokio::spawn(async move {
                let answer = store.put_placement(&record).await;
                (record, answer)
            }));
        }
    }
    // Match c{i} for its own two players, three times; match s{i} for "shared" (new)
    // and a player of its own: only one of those can find "shared" new.
    let mut commits = Vec::new();
    for i in 0..MATCHES {
        let own = result(&format!("c{i}"), 1, &[&format!("x{i}"), &format!("y{i}")]);
        let shared = result(&format!("s{i}"), 1, &["shared", &format!("z{i}")]);
        for r in [&own, &own, &shared, &own] {
            let (profiles, expected) = rated(r, &BTreeMap::new());
            let (store, match_id) = (store.clone(), r.match_id.clone());
            commits.push(tokio::spawn(async move {
                let answer = store
                    .commit_result(&match_id, &profiles, &expected)
                    .await
                    .unwrap();
                (match_id, profiles, answer)
            }));
        }
    }
    let mut stored: BTreeMap<String, PlacementRecord> = BTreeMap::new();
    for put in puts {
        let (record, answer) = put.await.unwrap();
        match answer {
            Ok(()) => {
                let first = stored
                    .entry(record.match_id.clone())
                    .or_insert(record.clone());
                assert_eq!(*first, record, "two different placements were both Ok");
            }
            Err(ProfilesError::PlacementConflict { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(stored.len(), MATCHES, "every match got one placement");
    let mut applied: BTreeMap<String, Vec<PlayerProfile>> = BTreeMap::new();
    let mut already = BTreeMap::<String, usize>::new();
    let mut shared_conflicts = 0;
    for commit in commits {
        let (match_id, profiles, answer) = commit.await.unwrap();
        match answer {
            CommitOutcome::Applied => {
                assert!(
                    applied.insert(match_id, profiles).is_none(),
                    "applied twice"
                );
            }
            CommitOutcome::AlreadyApplied => *already.entry(match_id).or_default() += 1,
            CommitOutcome::VersionConflict { players } => {
                assert_eq!(players, ids(&["shared"]), "{match_id}");
                shared_conflicts += 1;
            }
        }
    }
    for i in 0..MATCHES {
        let c = format!("c{i}");
        assert!(applied.contains_key(&c), "{c} applied once");
        assert_eq!(
            already.get(&c),
            Some(&2),
            "{c}: the other two AlreadyApplied"
        );
    }
    let shared_winners: Vec<&String> = applied.keys().filter(|m| m.starts_with('s')).collect();
    assert_eq!(shared_winners.len(), 1, "{shared_winners:?}");
    assert_eq!(shared_conflicts, MATCHES - 1);

    // What the answers said, as profiles by player.
    let profiles: BTreeMap<PlayerId, PlayerProfile> = applied
        .values()
        .flatten()
        .map(|p| (p.player_id.clone(), p.clone()))
        .collect();
    let check = |store: EmbeddedProfiles| {
        let (stored, applied, profiles) = (&stored, &applied, &profiles);
        async move {
            for (match_id, record) in stored {
                assert_eq!(
                    store.get_placement(match_id).await.unwrap().as_ref(),
                    Some(record)
                );
            }
            for i in 0..MATCHES {
                for m in [format!("c{i}"), format!("s{i}")] {
                    let said = applied.contains_key(&m);
                    assert_eq!(store.is_applied(&m).await.unwrap(), said, "{m}");
                }
            }
            assert_eq!(everything(&store).await, *profiles);
        }
    };
    check(store).await;
    check(EmbeddedProfiles::open(&dir.0).unwrap()).await;
}
