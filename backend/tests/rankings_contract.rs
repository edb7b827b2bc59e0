//! The rankings contract: one suite run identically against [`EmbeddedRankings`] (in a
//! temporary directory) and [`RedisRankings`], both on the test bed's redis-server and on
//! its Redis Cluster (under a unique key prefix so tests run in parallel). Each contract
//! test takes a `&dyn Rankings`, which also shows the trait works behind
//! `Arc<dyn Rankings>`. What only the cluster promises is in `rankings_cluster.rs`.
//!
//! Run through `scripts/test.sh` (it starts redis-server and the cluster and exports
//! `REDIS_URL` and `REDIS_CLUSTER_URLS`).

use std::path::PathBuf;

use backend::rankings::{
    EmbeddedRankings, RATING_MAX, RankedPage, RankingUpdate, Rankings, RankingsError,
    RedisRankings, Score, TIME_EPOCH, boards_for_match,
};
use protocol::http::BoardId;

/// A directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        TempDir(std::env::temp_dir().join(tests::unique_name("rankings")))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn redis_store() -> RedisRankings {
    let conn = tests::redis_connection()
        .await
        .expect("the test bed's redis-server answers");
    RedisRankings::new(conn, tests::unique_name("rk"))
}

async fn cluster_store() -> RedisRankings<::redis::cluster_async::ClusterConnection> {
    let conn = tests::redis_cluster_connection()
        .await
        .expect("the test bed's Redis Cluster answers");
    RedisRankings::new(conn, tests::unique_name("rk"))
}

fn board(season: Option<&str>, mode: Option<&str>) -> BoardId {
    BoardId {
        season: season.map(str::to_owned),
        mode: mode.map(str::to_owned),
    }
}

fn duel() -> BoardId {
    board(None, Some("duel"))
}

/// A score reached `t` seconds after the composite's epoch.
fn score(rating: f64, t: u64) -> Score {
    Score::new(rating, TIME_EPOCH + t)
}

fn update(board: &BoardId, player: &str, rating: f64, t: u64) -> RankingUpdate {
    RankingUpdate {
        board: board.clone(),
        player: player.to_owned(),
        score: score(rating, t),
    }
}

/// `(rank, player)` of each row.
fn rows(page: &RankedPage) -> Vec<(u64, &str)> {
    page.entries
        .iter()
        .map(|e| (e.rank, e.player.as_str()))
        .collect()
}

/// Players p0..p(n-1) on `board`, p(i) rated i: p(n-1) is first.
async fn ladder(store: &dyn Rankings, board: &BoardId, n: u64) {
    let updates: Vec<_> = (0..n)
        .map(|i| update(board, &format!("p{i}"), i as f64, 0))
        .collect();
    store.set_many(&updates).await.unwrap();
}

/// Writes are absolute: a second value replaces the first, and replaying a batch
/// changes nothing.
async fn set_overwrites_and_is_idempotent(store: &dyn Rankings) {
    let b = duel();
    let batch = [update(&b, "a", 30.0, 1), update(&b, "b", 20.0, 2)];
    store.set_many(&batch).await.unwrap();
    store.set_many(&[update(&b, "a", 10.0, 3)]).await.unwrap();
    let page = store.top(&b, 0, 10).await.unwrap();
    assert_eq!(rows(&page), [(1, "b"), (2, "a")]);
    assert_eq!(page.entries[1].score, score(10.0, 3));
    let again = [update(&b, "a", 10.0, 3), update(&b, "b", 20.0, 2)];
    store.set_many(&again).await.unwrap();
    store.set_many(&again).await.unwrap();
    assert_eq!(store.top(&b, 0, 10).await.unwrap(), page);
    store.set_many(&[]).await.unwrap();
}

/// Top pages: ranks from 1, consecutive across pages, empty past the end.
async fn top_pages_with_ranks(store: &dyn Rankings) {
    let b = duel();
    ladder(store, &b, 7).await;
    let first = store.top(&b, 0, 3).await.unwrap();
    assert_eq!(first.total_players, 7);
    assert_eq!(rows(&first), [(1, "p6"), (2, "p5"), (3, "p4")]);
    assert_eq!(first.entries[0].score, score(6.0, 0));
    let second = store.top(&b, 3, 3).await.unwrap();
    assert_eq!(rows(&second), [(4, "p3"), (5, "p2"), (6, "p1")]);
    assert_eq!(rows(&store.top(&b, 6, 100).await.unwrap()), [(7, "p0")]);
    assert!(store.top(&b, 7, 10).await.unwrap().entries.is_empty());
    assert!(
        store
            .top(&b, u64::MAX, 10)
            .await
            .unwrap()
            .entries
            .is_empty()
    );
    assert!(store.top(&b, 0, 0).await.unwrap().entries.is_empty());
    assert_eq!(store.top(&b, 0, u64::MAX).await.unwrap().entries.len(), 7);
}

/// Equal ratings: the one reached first ranks higher; equal rating and second: player
/// id, highest first (Redis's order, which the embedded store copies).
async fn ties_go_to_who_got_there_first(store: &dyn Rankings) {
    let b = duel();
    let updates = [
        update(&b, "late", 25.5, 100),
        update(&b, "early", 25.5, 10),
        update(&b, "middle", 25.5, 50),
        update(&b, "same-a", 25.5, 50),
        update(&b, "best", 25.51, 1_000),
    ];
    store.set_many(&updates).await.unwrap();
    let page = store.top(&b, 0, 10).await.unwrap();
    let expected = [
        (1, "best"),
        (2, "early"),
        (3, "same-a"),
        (4, "middle"),
        (5, "late"),
    ];
    assert_eq!(rows(&page), expected);
}

/// A player not on the board (or a board never written) has no rank.
async fn rank_of_a_missing_player(store: &dyn Rankings) {
    let b = duel();
    ladder(store, &b, 3).await;
    let found = store.rank(&b, "p1").await.unwrap();
    assert_eq!(found.total_players, 3);
    let entry = found.entry.unwrap();
    assert_eq!(
        (entry.rank, entry.player.as_str(), entry.score),
        (2, "p1", score(1.0, 0))
    );
    let missing = store.rank(&b, "nobody").await.unwrap();
    assert_eq!((missing.total_players, missing.entry), (3, None));
    let empty = store.rank(&board(Some("s9"), None), "p1").await.unwrap();
    assert_eq!((empty.total_players, empty.entry), (0, None));
}

/// Around a player: clipped at the top and the bottom, whole board for a huge radius,
/// empty for a player not on the board.
async fn around_clips_at_the_edges(store: &dyn Rankings) {
    let b = duel();
    ladder(store, &b, 6).await;
    let b = &b;
    let at = |p: &'static str, r: u64| async move { store.around(b, p, r).await.unwrap() };
    let top = at("p5", 2).await;
    assert_eq!(top.total_players, 6);
    assert_eq!(rows(&top), [(1, "p5"), (2, "p4"), (3, "p3")]);
    assert_eq!(rows(&at("p0", 2).await), [(4, "p2"), (5, "p1"), (6, "p0")]);
    assert_eq!(rows(&at("p3", 1).await), [(2, "p4"), (3, "p3"), (4, "p2")]);
    assert_eq!(rows(&at("p3", 0).await), [(3, "p3")]);
    assert_eq!(at("p2", u64::MAX).await.entries.len(), 6);
    let missing = at("nobody", 3).await;
    assert_eq!((missing.total_players, missing.entries.len()), (6, 0));
}

/// Friends: ranks on the whole board, best first; unknown ids left out; duplicates once.
async fn friends_rank_on_the_whole_board(store: &dyn Rankings) {
    let b = duel();
    ladder(store, &b, 10).await;
    let list: Vec<String> = ["p2", "ghost", "p9", "p5", "p2"].map(String::from).to_vec();
    let page = store.friends(&b, &list).await.unwrap();
    assert_eq!(page.total_players, 10);
    assert_eq!(rows(&page), [(1, "p9"), (5, "p5"), (8, "p2")]);
    assert_eq!(page.entries[1].score, score(5.0, 0));
    let none = store.friends(&b, &["ghost".to_owned()]).await.unwrap();
    assert_eq!((none.total_players, none.entries.len()), (10, 0));
    assert!(store.friends(&b, &[]).await.unwrap().entries.is_empty());
}

/// Boards are separate: a write to one is invisible on another; `set` writes one score
/// to every board it names; `boards` lists what was written.
async fn boards_are_isolated(store: &dyn Rankings) {
    let season_duel = board(Some("s1"), Some("duel"));
    store
        .set_many(&[update(&duel(), "x", 40.0, 0)])
        .await
        .unwrap();
    assert_eq!(
        store.top(&season_duel, 0, 10).await.unwrap(),
        RankedPage::default()
    );
    assert_eq!(store.rank(&BoardId::GLOBAL, "x").await.unwrap().entry, None);
    let all = boards_for_match(Some("s1"), "duel");
    store.set("y", &all, score(12.0, 5)).await.unwrap();
    for b in &all {
        let ranking = store.rank(b, "y").await.unwrap().entry.unwrap();
        assert_eq!(ranking.score, score(12.0, 5), "{b:?}");
    }
    assert_eq!(
        rows(&store.top(&duel(), 0, 10).await.unwrap()),
        [(1, "x"), (2, "y")]
    );
    assert_eq!(
        rows(&store.top(&season_duel, 0, 10).await.unwrap()),
        [(1, "y")]
    );
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(store.boards().await.unwrap(), expected);
}

/// Remove takes a player off every board and nobody else.
async fn remove_takes_a_player_off_every_board(store: &dyn Rankings) {
    let all = boards_for_match(Some("s1"), "duel");
    store.set("gone", &all, score(50.0, 0)).await.unwrap();
    store.set("stays", &all, score(40.0, 0)).await.unwrap();
    store.remove("gone").await.unwrap();
    store.remove("never-there").await.unwrap();
    for b in &all {
        assert_eq!(store.rank(b, "gone").await.unwrap().entry, None);
        assert_eq!(rows(&store.top(b, 0, 10).await.unwrap()), [(1, "stays")]);
    }
}

/// Rebuild replaces a board exactly, leaves other boards alone, and is atomic: a reader
/// running alongside sees the old board or the new one, never a mix.
async fn rebuild_swaps_atomically(store: &dyn Rankings) {
    let b = duel();
    let other = board(Some("s1"), None);
    ladder(store, &b, 3).await;
    store
        .set_many(&[update(&other, "o", 1.0, 0)])
        .await
        .unwrap();
    let fresh: Vec<(String, Score)> = (0..3_000u64)
        .map(|i| (format!("new{i}"), score(1_000.0 + i as f64, i)))
        .collect();
    let reader = async {
        let mut seen_new = false;
        while !seen_new {
            let page = store.top(&b, 0, 5).await.unwrap();
            seen_new = page.total_players == 3_000;
            let prefix = if seen_new { "new" } else { "p" };
            assert!(page.total_players == 3 || seen_new, "{page:?}");
            assert!(
                page.entries.iter().all(|e| e.player.starts_with(prefix)),
                "{page:?}"
            );
            tokio::task::yield_now().await;
        }
    };
    let (rebuilt, ()) = tokio::join!(store.rebuild(&b, &fresh), reader);
    rebuilt.unwrap();
    let page = store.top(&b, 0, 2).await.unwrap();
    assert_eq!(rows(&page), [(1, "new2999"), (2, "new2998")]);
    assert_eq!(store.rank(&b, "p2").await.unwrap().entry, None);
    assert_eq!(rows(&store.top(&other, 0, 10).await.unwrap()), [(1, "o")]);
    store.rebuild(&other, &[]).await.unwrap();
    assert_eq!(
        store.top(&other, 0, 10).await.unwrap(),
        RankedPage::default()
    );
    store.clear_board(&b).await.unwrap();
    assert_eq!(store.top(&b, 0, 10).await.unwrap(), RankedPage::default());
    assert_eq!(store.boards().await.unwrap(), [other]);
}

/// Out-of-range scores are clamped (still first); a NaN rating fails the call and
/// writes nothing of it.
async fn out_of_range_is_clamped_and_nan_refused(store: &dyn Rankings) {
    let b = duel();
    store
        .set_many(&[update(&b, "huge", 1e9, 0), update(&b, "ok", 9_999.0, 0)])
        .await
        .unwrap();
    let page = store.top(&b, 0, 10).await.unwrap();
    assert_eq!(rows(&page), [(1, "huge"), (2, "ok")]);
    assert_eq!(page.entries[0].score, score(RATING_MAX, 0));
    let bad = [update(&b, "first", 1.0, 0), update(&b, "nan", f64::NAN, 0)];
    let err = store.set_many(&bad).await.unwrap_err();
    assert!(
        matches!(err, RankingsError::NotANumber { ref player } if player == "nan"),
        "{err}"
    );
    assert_eq!(store.rank(&b, "first").await.unwrap().entry, None);
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = super::TempDir::new();
                    let store = super::EmbeddedRankings::open(&dir.0).unwrap();
                    super::$name(&store).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&super::redis_store().await).await;
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&super::cluster_store().await).await;
                }
            )*
        }
    };
}

contract!(
    set_overwrites_and_is_idempotent,
    top_pages_with_ranks,
    ties_go_to_who_got_there_first,
    rank_of_a_missing_player,
    around_clips_at_the_edges,
    friends_rank_on_the_whole_board,
    boards_are_isolated,
    remove_takes_a_player_off_every_board,
    rebuild_swaps_atomically,
    out_of_range_is_clamped_and_nan_refused,
);
