//! What the Redis rankings store promises on Redis Cluster, checked on the test bed's
//! three-node cluster (the contract suite itself also runs there: `rankings_contract.rs`,
//! module `cluster`): each board is one key in one slot, a match's boards spread over
//! the cluster, a rebuild's temporary key shares its board's slot, and a match result
//! written through a cluster connection lands on every board, on the node owning it.
//!
//! Run through `scripts/test.sh` (it starts the cluster and exports `REDIS_CLUSTER_URLS`).

use std::collections::BTreeSet;

use backend::rankings::{Rankings, RedisRankings, Score, TIME_EPOCH, board_key, boards_for_match};
use redis::cluster_async::ClusterConnection;

async fn store() -> (RedisRankings<ClusterConnection>, ClusterConnection) {
    let conn = tests::redis_cluster_connection()
        .await
        .expect("the test bed's Redis Cluster answers");
    (
        RedisRankings::new(conn.clone(), tests::unique_name("rk")),
        conn,
    )
}

async fn keyslot(conn: &mut ClusterConnection, key: &str) -> u16 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(conn)
        .await
        .unwrap()
}

/// The keys under `prefix` on one node, asked directly (not through the cluster
/// connection): the keys that node really holds.
async fn keys_on_node(url: &str, prefix: &str) -> BTreeSet<String> {
    let mut node = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut node)
        .await
        .unwrap();
    keys.into_iter().collect()
}

/// A board's keys share its hash tag (so a rebuild's `RENAME` stays in one slot), the
/// prefix does not change a board's slot, and the four boards of a seasonal match are in
/// more than one slot (so the contract run on the cluster exercised several nodes).
#[tokio::test]
async fn a_board_is_one_slot_and_a_match_spans_several() {
    let (store, mut conn) = store().await;
    let boards = boards_for_match(Some("2025-spring"), "duel");
    let mut slots = BTreeSet::new();
    for board in &boards {
        let key = board_key(store.prefix(), board);
        let slot = keyslot(&mut conn, &key).await;
        assert_eq!(
            keyslot(&mut conn, &format!("{key}:rebuild:1-2-3")).await,
            slot,
            "{key}"
        );
        assert_eq!(
            keyslot(&mut conn, &board_key("other-prefix", board)).await,
            slot,
            "{key}"
        );
        slots.insert(slot);
    }
    assert!(slots.len() > 1, "all four boards in one slot: {slots:?}");
}

/// A match result through the cluster connection: every board has the player, each
/// board key is held by exactly one node, the boards are on more than one node, and a
/// rebuild leaves no temporary key on any node.
#[tokio::test]
async fn a_result_lands_on_every_board_across_nodes() {
    let (store, _conn) = store().await;
    let prefix = store.prefix().to_owned();
    let boards = boards_for_match(Some("2025-spring"), "duel");
    let score = Score::new(25.5, TIME_EPOCH + 60);
    store.set("p-1", &boards, score).await.unwrap();
    store
        .rebuild(&boards[0], &[("p-2".to_owned(), score)])
        .await
        .unwrap();
    // boards[0] was rebuilt with p-2 alone.
    for board in &boards[1..] {
        let entry = store.rank(board, "p-1").await.unwrap().entry;
        assert_eq!(entry.map(|e| e.score), Some(score), "{board:?}");
    }
    assert_eq!(
        store
            .rank(&boards[0], "p-2")
            .await
            .unwrap()
            .entry
            .map(|e| e.score),
        Some(score)
    );

    let mut holders = BTreeSet::new();
    let mut all = BTreeSet::new();
    for url in tests::redis_cluster_urls() {
        let keys = keys_on_node(&url, &prefix).await;
        for key in &keys {
            assert!(all.insert(key.clone()), "{key} is on two nodes");
        }
        if keys.iter().any(|k| k.contains("{lb:")) {
            holders.insert(url);
        }
    }
    let mut expected: BTreeSet<String> = boards.iter().map(|b| board_key(&prefix, b)).collect();
    expected.insert(format!("{prefix}:boards"));
    assert_eq!(all, expected, "no rebuild key left, nothing else written");
    assert!(holders.len() > 1, "the boards are all on {holders:?}");
}
