//! [`rebuild_rankings`]: every board recreated from the profile store, the truth
//! (`backend rebuild-rankings`, after Redis lost data or a board drifted).
//!
//! Reads every profile page by page, collects each board's entries with the same
//! [`ranking_updates`] the consumer writes after a duplicate, and replaces each board
//! atomically with [`Rankings::rebuild`]. Boards the rankings store has but no profile
//! mentions are rebuilt empty. It holds every board's entries in memory (a few dozen
//! bytes per player and board); a store with tens of millions of players would want a
//! streaming rebuild per board. Consumers should be paused while it runs: a result
//! applied during the rebuild may be overwritten by the older truth read before it
//! (its next duplicate, or the next rebuild, repairs that).

use std::collections::BTreeMap;

use protocol::http::BoardId;

use crate::profiles::{ProfileStore, ProfilesError, ranking_updates};
use crate::rankings::{Rankings, RankingsError, Score};

/// Profiles per [`ProfileStore::all_profiles`] page.
pub const REBUILD_PAGE: usize = 500;

/// What [`rebuild_rankings`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildReport {
    /// Profiles read.
    pub profiles: u64,
    /// Boards replaced (including those emptied).
    pub boards: u64,
    /// Entries written, over all boards.
    pub entries: u64,
}

/// Why a rebuild stopped (boards replaced before the failure stay replaced).
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// Reading the profiles failed.
    #[error(transparent)]
    Profiles(#[from] ProfilesError),
    /// Writing a board failed.
    #[error(transparent)]
    Rankings(#[from] RankingsError),
}

/// Replaces every board with the scores the profile store implies (module docs).
///
/// # Errors
///
/// The first store error.
pub async fn rebuild_rankings(
    profiles: &dyn ProfileStore,
    rankings: &dyn Rankings,
    page_size: usize,
) -> Result<RebuildReport, RebuildError> {
    let mut boards: BTreeMap<BoardId, Vec<(String, Score)>> = BTreeMap::new();
    let mut report = RebuildReport::default();
    let mut cursor: Option<String> = None;
    loop {
        let page = profiles.all_profiles(cursor.as_deref(), page_size).await?;
        for profile in &page.profiles {
            report.profiles += 1;
            let played: Vec<BoardId> = std::iter::once(BoardId::GLOBAL)
                .chain(profile.boards.iter().map(|b| b.board.clone()))
                .collect();
            for update in ranking_updates([profile], &played) {
                boards
                    .entry(update.board)
                    .or_default()
                    .push((update.player, update.score));
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    for board in rankings.boards().await? {
        boards.entry(board).or_default();
    }
    for (board, entries) in &boards {
        if entries.is_empty() {
            rankings.clear_board(board).await?;
        } else {
            rankings.rebuild(board, entries).await?;
        }
        report.boards += 1;
        report.entries += entries.len() as u64;
    }
    Ok(report)
}
