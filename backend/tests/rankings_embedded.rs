//! What only the embedded rankings store promises: its boards survive a restart (a
//! reopen of the same data directory), a write torn by a crash is dropped, a damaged log
//! is refused, and one process at a time holds a directory.

use std::io::Write;
use std::path::PathBuf;

use backend::rankings::{
    EmbeddedRankings, RankedPage, RankingUpdate, Rankings, RankingsError, Score, TIME_EPOCH,
    boards_for_match,
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

fn score(rating: f64, t: u64) -> Score {
    Score::new(rating, TIME_EPOCH + t)
}

/// Every board's full page, for comparing stores.
async fn snapshot(store: &dyn Rankings) -> Vec<(BoardId, RankedPage)> {
    let mut pages = Vec::new();
    for board in store.boards().await.unwrap() {
        let page = store.top(&board, 0, u64::MAX).await.unwrap();
        pages.push((board, page));
    }
    pages
}

/// A mix of every kind of write.
async fn write_history(store: &dyn Rankings) {
    let boards = boards_for_match(Some("s1"), "duel");
    for i in 0..20u64 {
        store
            .set(&format!("p{i}"), &boards, score(i as f64 * 1.5, i))
            .await
            .unwrap();
    }
    store
        .set("p3", &boards[..1], score(99.0, 100))
        .await
        .unwrap();
    store.remove("p4").await.unwrap();
    let rebuilt = [
        ("r1".to_owned(), score(7.0, 1)),
        ("r2".to_owned(), score(8.0, 2)),
    ];
    store.rebuild(&boards[2], &rebuilt).await.unwrap();
    store.clear_board(&boards[3]).await.unwrap();
}

/// Every write is back after a reopen, and again after the compacted log is reopened.
#[tokio::test]
async fn boards_survive_reopen() {
    let dir = TempDir::new();
    let before = {
        let store = EmbeddedRankings::open(&dir.0).unwrap();
        write_history(&store).await;
        snapshot(&store).await
    };
    assert_eq!(before.len(), 3, "{before:?}");
    let store = EmbeddedRankings::open(&dir.0).unwrap();
    assert_eq!(snapshot(&store).await, before);
    drop(store);
    let store = EmbeddedRankings::open(&dir.0).unwrap();
    assert_eq!(snapshot(&store).await, before);
}

/// A last line cut short by a crash is dropped; the store opens with everything before
/// it and keeps working.
#[tokio::test]
async fn a_torn_last_write_is_dropped() {
    let dir = TempDir::new();
    let update = RankingUpdate {
        board: BoardId::GLOBAL,
        player: "a".into(),
        score: score(10.0, 0),
    };
    let before = {
        let store = EmbeddedRankings::open(&dir.0).unwrap();
        store.set_many(std::slice::from_ref(&update)).await.unwrap();
        snapshot(&store).await
    };
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.0.join("rankings.log"))
        .unwrap();
    log.write_all(br#"{"op":"set","entries":[[{"season":null,"mode":null},"b",12"#)
        .unwrap();
    drop(log);
    let store = EmbeddedRankings::open(&dir.0).unwrap();
    assert_eq!(snapshot(&store).await, before);
    store
        .set("b", &[BoardId::GLOBAL], score(12.0, 0))
        .await
        .unwrap();
    drop(store);
    let store = EmbeddedRankings::open(&dir.0).unwrap();
    let page = store.top(&BoardId::GLOBAL, 0, 10).await.unwrap();
    let players: Vec<&str> = page.entries.iter().map(|e| e.player.as_str()).collect();
    assert_eq!(players, ["b", "a"]);
}

/// A complete line that is not a record stops the open instead of losing data quietly.
#[tokio::test]
async fn a_damaged_log_is_refused() {
    let dir = TempDir::new();
    std::fs::create_dir_all(&dir.0).unwrap();
    std::fs::write(
        dir.0.join("rankings.log"),
        "{\"op\":\"remove\",\"player\":\"x\"}\nnot json\n",
    )
    .unwrap();
    match EmbeddedRankings::open(&dir.0) {
        Err(RankingsError::CorruptLog { line: 2, .. }) => {}
        other => panic!("{other:?}"),
    }
}

/// A second open of a directory in use fails; after the first store is dropped, it works.
#[tokio::test]
async fn one_store_per_directory() {
    let dir = TempDir::new();
    let first = EmbeddedRankings::open(&dir.0).unwrap();
    assert!(matches!(
        EmbeddedRankings::open(&dir.0),
        Err(RankingsError::Locked(_))
    ));
    drop(first);
    EmbeddedRankings::open(&dir.0).unwrap();
}
