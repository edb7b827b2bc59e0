//! Fills a `--data-dir` with demo profiles and leaderboards, to look at the web page
//! locally: `cargo run -p backend --example web_demo_data -- data`, then
//! `backend serve --data-dir data` and open
//! <http://127.0.0.1:8080/?player=player-07&mode=duel>.
//!
//! **What it is:** 40 players (`player-01` ..), each with a display name, an overall
//! record, a `duel` and a `squads` board record and a few recent matches, written
//! straight into the embedded profile store and rankings under `DIR/profiles` and
//! `DIR/rankings` (global, `duel` and `squads` boards). Deterministic: the same data
//! every run.
//!
//! **What it is not:** not a rating simulation (the numbers are made up, not the result
//! of applying matches through the consumer), and not for a directory with real data: a
//! player already there stops it (version conflict) with nothing changed; a second run on
//! the same directory does nothing.

use std::collections::BTreeMap;

use backend::profiles::{CommitOutcome, EmbeddedProfiles, ProfileStore};
use backend::rankings::{EmbeddedRankings, RankingUpdate, Rankings, Score};
use backend::ratings::{BoardRecord, PlayerProfile, RatingStats};
use protocol::http::{BoardId, MatchOutcome, RecentMatch};

const PLAYERS: u32 = 40;
const NAMES: [&str; 8] = [
    "Aurora", "Blaze", "Cinder", "Dusk", "Echo", "Flint", "Gale", "Haze",
];
/// 2025-11-24 16:00 UTC, the newest match.
const LAST_MATCH_MS: u64 = 1_764_000_000_000;

fn record(rating: f64, games: u32, wins: u32) -> RatingStats {
    RatingStats {
        mu: rating,
        sigma: 60.0 + f64::from(games % 7) * 5.0,
        rating,
        rating_since: Some(LAST_MATCH_MS - 86_400_000),
        games,
        wins,
        losses: games - wins,
        last_match_at: Some(LAST_MATCH_MS),
        ..RatingStats::new()
    }
}

fn main() -> anyhow::Result<()> {
    let dir = std::env::args_os()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: web_demo_data DATA_DIR"))?;
    let dir = std::path::PathBuf::from(dir);
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    runtime.block_on(async {
        let profiles = EmbeddedProfiles::open(dir.join("profiles"))?;
        let rankings = EmbeddedRankings::open(dir.join("rankings"))?;
        let mut records = Vec::new();
        let mut updates = Vec::new();
        for i in 1..=PLAYERS {
            let id = format!("player-{i:02}");
            // Spread 1100..1900, a little scrambled so ids are not in rank order.
            let duel = 1100.0 + f64::from((i * 37) % PLAYERS) * 20.0 + f64::from(i % 10) / 10.0;
            let squads = duel - 50.0 + f64::from((i * 13) % 9) * 11.0;
            let (games, wins) = (20 + i % 15, 8 + (i * 7) % 12);
            let mut p = PlayerProfile::new(&id);
            p.version = 1;
            p.display_name = Some(format!("{} {i}", NAMES[(i as usize) % NAMES.len()]));
            p.overall = record((duel + squads) / 2.0, games * 2, wins * 2);
            let boards = [("duel", duel), ("squads", squads)];
            for (mode, rating) in boards {
                let board = BoardId {
                    season: None,
                    mode: Some(mode.to_owned()),
                };
                p.boards.push(BoardRecord {
                    board: board.clone(),
                    stats: record(rating, games, wins),
                });
                updates.push(RankingUpdate {
                    board,
                    player: id.clone(),
                    score: Score::new(rating, LAST_MATCH_MS / 1000),
                });
            }
            updates.push(RankingUpdate {
                board: BoardId::GLOBAL,
                player: id.clone(),
                score: Score::new(p.overall.rating, LAST_MATCH_MS / 1000),
            });
            p.recent = (0..5u32)
                .map(|m| {
                    let win = (i + m) % 3 != 0;
                    let change = if win {
                        12.5 - f64::from(m)
                    } else {
                        -10.0 + f64::from(m)
                    };
                    RecentMatch {
                        match_id: format!("demo-{i:02}-{m}"),
                        mode: boards[(m % 2) as usize].0.to_owned(),
                        season: None,
                        ended_at: LAST_MATCH_MS - u64::from(m) * 3_600_000,
                        outcome: if win {
                            MatchOutcome::Win
                        } else {
                            MatchOutcome::Loss
                        },
                        placement: if win { 1 } else { 2 },
                        team: Some(if win { "red" } else { "blue" }.to_owned()),
                        score: None,
                        rating_change: change,
                        rating_after: boards[(m % 2) as usize].1 - f64::from(m) * 3.0,
                        left_early: false,
                    }
                })
                .collect();
            records.push(p);
        }
        let expected: BTreeMap<String, u64> =
            records.iter().map(|p| (p.player_id.clone(), 0)).collect();
        match profiles
            .commit_result("web-demo-data", &records, &expected)
            .await?
        {
            CommitOutcome::Applied => {}
            CommitOutcome::AlreadyApplied => {
                println!("the demo data is already in {}", dir.display());
                return anyhow::Ok(());
            }
            CommitOutcome::VersionConflict { players } => anyhow::bail!(
                "{} already holds other data for {players:?}; use an empty directory",
                dir.display()
            ),
        }
        rankings.set_many(&updates).await?;
        println!(
            "{PLAYERS} players written to {}; now: backend serve --data-dir {0}",
            dir.display()
        );
        anyhow::Ok(())
    })
}
