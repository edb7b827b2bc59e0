//! Unit tests of the ratings core's parts: profile bookkeeping, the leaver guard, the
//! placement check. `backend/tests/ratings.rs` drives [`apply`] end to end.

use std::collections::BTreeMap;

use protocol::http::{BoardId, MatchOutcome, RecentMatch};
use protocol::result::{MatchResult, PlayerResult};
use skillratings::weng_lin::WengLinRating;

use super::*;

fn recent(id: &str, ended_at: u64) -> RecentMatch {
    RecentMatch {
        match_id: id.into(),
        mode: "duel".into(),
        season: None,
        ended_at,
        outcome: MatchOutcome::Win,
        placement: 1,
        team: None,
        score: None,
        rating_change: 0.0,
        rating_after: 0.0,
        left_early: false,
    }
}

/// Streaks grow with wins and losses, flip sign on a change, reset on a draw; every
/// outcome counts a game.
#[test]
fn record_keeps_streak_and_counts() {
    let mut s = RatingStats::new();
    let r = s.weng_lin();
    use MatchOutcome::*;
    let steps = [
        (Win, 1),
        (Win, 2),
        (Loss, -1),
        (Loss, -2),
        (Win, 1),
        (Draw, 0),
    ];
    for (i, (outcome, streak)) in steps.into_iter().enumerate() {
        s.record(r, outcome, 1000 * i as u64);
        assert_eq!(s.streak, streak, "after step {i}");
    }
    assert_eq!((s.games, s.wins, s.losses, s.draws), (6, 3, 2, 1));
    assert_eq!(s.last_match_at, Some(5000));
    // A late result does not move the last match time backwards.
    s.record(r, Win, 10);
    assert_eq!(s.last_match_at, Some(5000));
}

/// The rating's "since" time moves only when the displayed rating changes.
#[test]
fn rating_since_moves_only_with_the_rating() {
    let mut s = RatingStats::new();
    let r = s.weng_lin();
    s.record(r, MatchOutcome::Draw, 1_000);
    assert_eq!(s.rating_since, Some(1_000), "first match sets it");
    s.record(r, MatchOutcome::Draw, 2_000);
    assert_eq!(s.rating_since, Some(1_000), "same rating keeps it");
    let up = WengLinRating {
        rating: 26.0,
        uncertainty: r.uncertainty,
    };
    s.record(up, MatchOutcome::Win, 3_000);
    assert_eq!(s.rating_since, Some(3_000));
    assert_eq!(s.rating, displayed_rating(26.0, r.uncertainty));
}

/// Recent matches are newest first, capped, and a late one lands at its place.
#[test]
fn recent_matches_ordered_and_capped() {
    let mut p = PlayerProfile::new("p");
    for i in 0..30u64 {
        p.push_recent(recent(&format!("m{i:02}"), 1_000 * i));
    }
    assert_eq!(p.recent.len(), RECENT_MATCHES_KEPT);
    assert_eq!(p.recent[0].match_id, "m29");
    assert_eq!(p.recent[19].match_id, "m10");
    p.push_recent(recent("late", 15_500));
    assert_eq!(p.recent.len(), RECENT_MATCHES_KEPT);
    assert_eq!(p.recent[14].match_id, "late");
    assert_eq!(p.recent[19].match_id, "m11");
    p.push_recent(recent("ancient", 0));
    assert!(p.recent.iter().all(|m| m.match_id != "ancient"));
}

/// Boards are created in order and the global board is the overall record.
#[test]
fn boards_stay_ordered() {
    let mut p = PlayerProfile::new("p");
    let mode = BoardId {
        season: None,
        mode: Some("duel".into()),
    };
    let season = BoardId {
        season: Some("s1".into()),
        mode: None,
    };
    p.stats_mut(&season).games = 2;
    p.stats_mut(&mode).games = 1;
    p.stats_mut(&BoardId::GLOBAL).games = 3;
    let boards: Vec<_> = p.boards.iter().map(|r| r.board.clone()).collect();
    assert_eq!(boards, vec![mode.clone(), season.clone()]);
    assert_eq!(p.stats(&BoardId::GLOBAL).map(|s| s.games), Some(3));
    assert_eq!(p.stats(&season).map(|s| s.games), Some(2));
    assert_eq!(p.to_http(7).boards.len(), 2);
}

/// The leaver guard never lets μ or the displayed rating rise.
#[test]
fn leaver_guard_never_gains() {
    let old = WengLinRating::new();
    let cases = [(26.0, 8.0), (24.0, 7.0), (24.0, 9.0), (25.0, 8.3)];
    for (mu, sigma) in cases {
        let new = apply::no_gain_for_tests(
            old,
            WengLinRating {
                rating: mu,
                uncertainty: sigma,
            },
        );
        assert!(new.rating <= old.rating);
        let shown = displayed_rating(new.rating, new.uncertainty);
        assert!(shown <= displayed_rating(old.rating, old.uncertainty));
    }
}

fn player(id: &str, session: &str, team: Option<&str>) -> PlayerResult {
    PlayerResult {
        player_id: id.into(),
        player_session_id: session.into(),
        team: team.map(Into::into),
        placement: 1,
        score: 0,
        stats: BTreeMap::new(),
        left_early: false,
    }
}

fn result(players: Vec<PlayerResult>) -> MatchResult {
    MatchResult {
        match_id: "m".into(),
        mode: "duel".into(),
        region: "eu-west-1".into(),
        fleet_id: "f".into(),
        started_at_ms: 0,
        ended_at_ms: 1,
        cut_short: false,
        players,
    }
}

fn placed(players: &[(&str, &str, Option<&str>)]) -> PlacementRecord {
    PlacementRecord {
        match_id: "m".into(),
        players: players
            .iter()
            .map(|(id, s, t)| PlacedPlayer {
                player_id: (*id).into(),
                player_session_id: (*s).into(),
                team: t.map(Into::into),
            })
            .collect(),
    }
}

fn errors(r: &MatchResult, p: &PlacementRecord) -> Vec<PlacementError> {
    check_against_placement(r, p).map_or_else(|e| e.errors, |()| Vec::new())
}

/// Every kind of placement mismatch is reported, and a faithful result passes (with
/// team names that differ but group the same players).
#[test]
fn placement_check_reports_each_mismatch() {
    use PlacementError as E;
    let rec = placed(&[("a", "sa", Some("red")), ("b", "sb", Some("blue"))]);
    let ok = result(vec![
        player("a", "sa", Some("1")),
        player("b", "sb", Some("2")),
    ]);
    assert_eq!(check_against_placement(&ok, &rec), Ok(()));

    let mut other = ok.clone();
    other.match_id = "x".into();
    assert!(matches!(&errors(&other, &rec)[..], [E::WrongMatch { .. }]));

    let extra = result(vec![
        player("a", "sa", Some("1")),
        player("b", "sb", Some("2")),
        player("c", "sc", Some("2")),
    ]);
    let e = errors(&extra, &rec);
    assert!(
        matches!(&e[..], [E::PlayerCount { expected: 2, found: 3 }, E::UnknownPlayer(c)] if c == "c")
    );

    let short = result(vec![player("a", "sa", Some("1"))]);
    let e = errors(&short, &rec);
    assert!(matches!(&e[..], [E::PlayerCount { .. }, E::MissingPlayer(b)] if b == "b"));

    let swapped = result(vec![
        player("a", "sa", Some("1")),
        player("z", "sb", Some("2")),
    ]);
    let e = errors(&swapped, &rec);
    assert!(matches!(&e[..], [E::UnknownPlayer(z), E::MissingPlayer(b)] if z == "z" && b == "b"));

    let twice = result(vec![
        player("a", "sa", Some("1")),
        player("a", "sa", Some("1")),
    ]);
    let e = errors(&twice, &rec);
    assert!(matches!(&e[..], [E::DuplicatePlayer(a), E::MissingPlayer(_)] if a == "a"));

    let session = result(vec![
        player("a", "sa", Some("1")),
        player("b", "sX", Some("2")),
    ]);
    let e = errors(&session, &rec);
    assert!(matches!(&e[..], [E::SessionMismatch { found, .. }] if found == "sX"));

    let merged = result(vec![
        player("a", "sa", Some("1")),
        player("b", "sb", Some("1")),
    ]);
    assert!(matches!(
        &errors(&merged, &rec)[..],
        [E::TeamMismatch { .. }]
    ));

    let no_team = result(vec![player("a", "sa", Some("1")), player("b", "sb", None)]);
    assert!(matches!(
        &errors(&no_team, &rec)[..],
        [E::TeamMismatch { found: None, .. }]
    ));

    let rec3 = placed(&[("a", "sa", Some("red")), ("b", "sb", Some("red"))]);
    let split = result(vec![
        player("a", "sa", Some("1")),
        player("b", "sb", Some("2")),
    ]);
    assert!(matches!(
        &errors(&split, &rec3)[..],
        [E::TeamMismatch { .. }]
    ));

    // Without teams in the placement, the result's teams are not constrained.
    let ffa = placed(&[("a", "sa", None), ("b", "sb", None)]);
    assert_eq!(check_against_placement(&ok, &ffa), Ok(()));
    let err = check_against_placement(&session, &rec).unwrap_err();
    assert_eq!(err.reason(), "wrong_players");
    assert!(err.to_string().contains("sX"));
}
