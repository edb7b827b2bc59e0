//! What only the Redis rankings store promises, checked on the test bed's redis-server:
//! the key layout (prefix, one hash tag per board), no temporary key or TTL left behind
//! by a rebuild, and foreign data in a board key reported instead of misread.
//!
//! Run through `scripts/test.sh` (it starts redis-server and exports `REDIS_URL`).

use backend::rankings::{
    Composite, Rankings, RankingsError, RedisRankings, Score, TIME_EPOCH, board_key,
    boards_for_match,
};
use protocol::http::BoardId;

async fn store() -> (RedisRankings, redis::aio::ConnectionManager) {
    let conn = tests::redis_connection()
        .await
        .expect("the test bed's redis-server answers");
    (
        RedisRankings::new(conn.clone(), tests::unique_name("rk")),
        conn,
    )
}

/// Keys under the prefix: one sorted set per board, keyed `P:{lb:S:M}`, holding the
/// composite as its score, plus the `P:boards` registry; a rebuild leaves no temporary
/// key and no TTL on the board.
#[tokio::test]
async fn key_layout_and_rebuild_leave_nothing_behind() {
    let (store, mut conn) = store().await;
    let prefix = store.prefix().to_owned();
    let boards = boards_for_match(Some("2025-spring"), "duel");
    let score = Score::new(25.5, TIME_EPOCH + 60);
    store.set("p-1", &boards, score).await.unwrap();
    store
        .rebuild(&boards[0], &[("p-2".to_owned(), score)])
        .await
        .unwrap();

    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    let mut expected: Vec<String> = boards.iter().map(|b| board_key(&prefix, b)).collect();
    expected.push(format!("{prefix}:boards"));
    expected.sort();
    assert_eq!(keys, expected);
    assert_eq!(
        board_key(&prefix, &boards[3]),
        format!("{prefix}:{{lb:2025-spring:duel}}")
    );

    let global = board_key(&prefix, &BoardId::GLOBAL);
    let ttl: i64 = redis::cmd("TTL")
        .arg(&global)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(ttl, -1, "a rebuilt board must not expire");
    let stored: f64 = redis::cmd("ZSCORE")
        .arg(&global)
        .arg("p-2")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, Composite::encode(score).unwrap().to_f64());
}

/// A board key holding a score that is not a composite is an error, not a wrong rank.
#[tokio::test]
async fn foreign_scores_are_reported() {
    let (store, mut conn) = store().await;
    let key = board_key(store.prefix(), &BoardId::GLOBAL);
    let _: () = redis::cmd("ZADD")
        .arg(&key)
        .arg(0.5)
        .arg("intruder")
        .query_async(&mut conn)
        .await
        .unwrap();
    let err = store.top(&BoardId::GLOBAL, 0, 10).await.unwrap_err();
    assert!(matches!(err, RankingsError::ForeignScore { .. }), "{err}");
}
