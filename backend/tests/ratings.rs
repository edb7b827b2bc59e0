//! The ratings core end to end: [`apply`] on whole match results, as the consumer calls
//! it. No store, no network: every test is a pure function call.

use std::collections::{BTreeMap, BTreeSet};

use backend::rankings::boards_for_match;
use backend::ratings::{
    Applied, ApplyError, PlayerProfile, RECENT_MATCHES_KEPT, RatingStats, apply, displayed_rating,
};
use proptest::prelude::*;
use protocol::http::{BoardId, MatchOutcome};
use protocol::result::{MatchResult, PlayerResult};

/// `(id, team, placement, left_early)`.
type Spec<'a> = (&'a str, Option<&'a str>, u32, bool);

fn result(id: &str, ended_at_ms: u64, players: &[Spec<'_>]) -> MatchResult {
    MatchResult {
        match_id: id.into(),
        mode: "duel".into(),
        region: "eu-west-1".into(),
        fleet_id: "fleet-1".into(),
        started_at_ms: 0,
        ended_at_ms,
        cut_short: false,
        players: players
            .iter()
            .map(|&(p, team, placement, left_early)| PlayerResult {
                player_id: p.into(),
                player_session_id: format!("ps-{p}"),
                team: team.map(Into::into),
                placement,
                score: 10 * i64::from(placement),
                stats: BTreeMap::new(),
                left_early,
            })
            .collect(),
    }
}

fn none() -> BTreeMap<String, PlayerProfile> {
    BTreeMap::new()
}

fn run(r: &MatchResult, current: &BTreeMap<String, PlayerProfile>) -> Applied {
    apply(r, Some("s1"), current).expect("apply")
}

fn overall<'a>(a: &'a Applied, p: &str) -> &'a RatingStats {
    &a.profiles[p].overall
}

fn with_rating(id: &str, mu: f64, sigma: f64) -> PlayerProfile {
    let mut p = PlayerProfile::new(id);
    p.overall.mu = mu;
    p.overall.sigma = sigma;
    p.overall.rating = displayed_rating(mu, sigma);
    p
}

/// In free-for-all, first place gains (μ and displayed rating) and last place loses;
/// outcomes are win and loss, and the changes agree with the profiles.
#[test]
fn ffa_winner_up_loser_down() {
    let r = result("m1", 5_000, &[("a", None, 1, false), ("b", None, 2, false)]);
    let a = run(&r, &none());
    let (w, l) = (overall(&a, "a"), overall(&a, "b"));
    assert!(w.mu > 25.0 && l.mu < 25.0);
    assert!(a.changes["a"].change > 0.0 && a.changes["b"].change < 0.0);
    assert_eq!(a.changes["a"].outcome, MatchOutcome::Win);
    assert_eq!(a.changes["b"].outcome, MatchOutcome::Loss);
    assert_eq!(a.changes["a"].after, w.rating);
    assert_eq!((w.wins, w.losses, l.wins, l.losses), (1, 0, 0, 1));
}

/// With teams, every member of the first team wins and gains; every member of the
/// other loses. A team's rank is its best member's placement.
#[test]
fn teams_winner_up_loser_down() {
    let r = result(
        "m1",
        5_000,
        &[
            ("a1", Some("red"), 1, false),
            ("a2", Some("red"), 3, false),
            ("b1", Some("blue"), 2, false),
            ("b2", Some("blue"), 4, false),
        ],
    );
    let a = run(&r, &none());
    for p in ["a1", "a2"] {
        assert_eq!(a.changes[p].outcome, MatchOutcome::Win);
        assert!(a.changes[p].change > 0.0);
        assert_eq!(a.profiles[p].recent[0].placement, 1);
    }
    for p in ["b1", "b2"] {
        assert_eq!(a.changes[p].outcome, MatchOutcome::Loss);
        assert!(a.changes[p].change < 0.0);
        assert_eq!(a.profiles[p].recent[0].placement, 2);
    }
}

/// Equal players who tie for first both draw, and their ratings move identically (μ
/// unchanged, σ shrinks); with a third player behind, the tied pair gain the same.
#[test]
fn ties_share() {
    let r = result("m1", 5_000, &[("a", None, 1, false), ("b", None, 1, false)]);
    let a = run(&r, &none());
    assert_eq!(overall(&a, "a"), overall(&a, "b"));
    assert_eq!(overall(&a, "a").mu, 25.0);
    assert!(overall(&a, "a").sigma < 25.0 / 3.0);
    assert_eq!(a.changes["a"].outcome, MatchOutcome::Draw);
    assert_eq!(overall(&a, "a").streak, 0);

    let r = result(
        "m2",
        5_000,
        &[
            ("a", None, 1, false),
            ("b", None, 1, false),
            ("c", None, 3, false),
        ],
    );
    let a = run(&r, &none());
    assert_eq!(overall(&a, "a").mu, overall(&a, "b").mu);
    assert!(overall(&a, "a").mu > 25.0 && overall(&a, "c").mu < 25.0);
    assert_eq!(a.changes["c"].outcome, MatchOutcome::Loss);
}

/// With fewer than two sides (one player, or everyone on one team) there is no
/// opponent: a draw, a game counted, and no rating moves.
#[test]
fn a_single_side_is_an_unrated_draw() {
    let solo = result("m1", 1, &[("a", None, 1, false)]);
    let team = result(
        "m2",
        1,
        &[("a", Some("x"), 1, false), ("b", Some("x"), 2, false)],
    );
    for r in [solo, team] {
        let a = run(&r, &none());
        for (id, change) in &a.changes {
            assert_eq!(change.outcome, MatchOutcome::Draw);
            assert_eq!(change.change, 0.0);
            assert_eq!(overall(&a, id).games, 1);
        }
    }
}

/// An expected win moves the favourite less than an upset moves the underdog.
#[test]
fn upsets_move_more_than_expected_wins() {
    let current: BTreeMap<_, _> = [with_rating("fav", 35.0, 3.0), with_rating("dog", 20.0, 3.0)]
        .into_iter()
        .map(|p| (p.player_id.clone(), p))
        .collect();
    let expected = run(
        &result("m1", 1, &[("fav", None, 1, false), ("dog", None, 2, false)]),
        &current,
    );
    let upset = run(
        &result("m2", 1, &[("fav", None, 2, false), ("dog", None, 1, false)]),
        &current,
    );
    let fav_gain = overall(&expected, "fav").mu - 35.0;
    let dog_gain = overall(&upset, "dog").mu - 20.0;
    assert!(
        fav_gain > 0.0 && dog_gain > fav_gain,
        "{fav_gain} vs {dog_gain}"
    );
}

/// A cut-short match counts as a game (a draw for those who stayed, a loss for a
/// leaver) but moves no rating on any board.
#[test]
fn cut_short_counts_but_does_not_rate() {
    let mut r = result(
        "m1",
        5_000,
        &[
            ("a", None, 1, false),
            ("b", None, 2, false),
            ("c", None, 3, true),
        ],
    );
    r.cut_short = true;
    let a = run(&r, &none());
    let fresh = RatingStats::new();
    for p in ["a", "b", "c"] {
        for rec in
            std::iter::once(overall(&a, p)).chain(a.profiles[p].boards.iter().map(|b| &b.stats))
        {
            assert_eq!((rec.mu, rec.sigma, rec.games), (fresh.mu, fresh.sigma, 1));
        }
        assert_eq!(a.changes[p].change, 0.0);
    }
    assert_eq!(a.changes["a"].outcome, MatchOutcome::Draw);
    assert_eq!(a.changes["c"].outcome, MatchOutcome::Loss);
}

/// A player who left early loses even with the best placement, cannot gain rating (on
/// any board), and the best player who stayed wins.
#[test]
fn left_early_loses_and_never_gains() {
    let r = result(
        "m1",
        5_000,
        &[
            ("a", None, 1, true),
            ("b", None, 2, false),
            ("c", None, 3, false),
        ],
    );
    let a = run(&r, &none());
    assert_eq!(a.changes["a"].outcome, MatchOutcome::Loss);
    assert_eq!(a.changes["b"].outcome, MatchOutcome::Win);
    for b in boards_for_match(Some("s1"), "duel") {
        let s = a.profiles["a"].stats(&b).expect("board");
        assert!(s.mu <= 25.0 && s.rating <= displayed_rating(25.0, 25.0 / 3.0));
        assert_eq!(s.losses, 1);
    }
    // On a winning team, the leaver still loses and does not gain.
    let r = result(
        "m2",
        5_000,
        &[
            ("a1", Some("red"), 1, false),
            ("a2", Some("red"), 1, true),
            ("b1", Some("blue"), 2, false),
        ],
    );
    let a = run(&r, &none());
    assert_eq!(a.changes["a1"].outcome, MatchOutcome::Win);
    assert_eq!(a.changes["a2"].outcome, MatchOutcome::Loss);
    assert!(a.changes["a2"].change <= 0.0 && a.changes["a1"].change > 0.0);
}

/// Bookkeeping over a run of matches: games, wins, losses, the streak (reset by a
/// loss, sign-flipped), versions one per match, recent matches newest first and capped.
#[test]
fn bookkeeping_over_many_matches() {
    let mut current = none();
    let mut streak = 0;
    let wins = [true, true, true, false, false, true];
    for (i, &win) in wins.iter().cycle().take(25).enumerate() {
        let (pa, pb) = if win { (1, 2) } else { (2, 1) };
        let r = result(
            &format!("m{i:02}"),
            1_000 * (i as u64 + 1),
            &[("a", None, pa, false), ("b", None, pb, false)],
        );
        let out = run(&r, &current);
        current = out.profiles;
        let a = &current["a"];
        assert_eq!(a.version, i as u64 + 1);
        streak = match (win, streak) {
            (true, s) if s > 0 => s + 1,
            (true, _) => 1,
            (false, s) if s < 0 => s - 1,
            (false, _) => -1,
        };
        assert_eq!(a.overall.streak, streak, "match {i}");
    }
    let a = &current["a"];
    assert_eq!(a.overall.games, 25);
    assert_eq!(a.overall.wins + a.overall.losses, 25);
    assert_eq!(a.overall.wins, 17);
    assert_eq!(
        a.overall.streak, 2,
        "W W W L L W, W: the last loss reset it"
    );
    assert_eq!(a.overall.last_match_at, Some(25_000));
    assert_eq!(a.recent.len(), RECENT_MATCHES_KEPT);
    assert_eq!(a.recent[0].match_id, "m24");
    assert!(a.recent.windows(2).all(|w| w[0].ended_at > w[1].ended_at));
    let last = &a.recent[0];
    assert_eq!(last.rating_after, a.overall.rating);
    assert_eq!(
        (last.season.as_deref(), last.mode.as_str()),
        (Some("s1"), "duel")
    );
}

/// Every board of [`boards_for_match`] gets a record and a ranking score per player,
/// with the displayed rating; without a season only global and mode boards.
#[test]
fn boards_follow_boards_for_match() {
    let r = result("m1", 7_500, &[("a", None, 1, false), ("b", None, 2, false)]);
    for season in [Some("s1"), None] {
        let a = apply(&r, season, &none()).expect("apply");
        let boards = boards_for_match(season, "duel");
        let ranked: Vec<BoardId> = a
            .rankings
            .iter()
            .filter(|u| u.player == "a")
            .map(|u| u.board.clone())
            .collect();
        assert_eq!(ranked, boards);
        let kept: BTreeSet<BoardId> = a.profiles["a"]
            .boards
            .iter()
            .map(|b| b.board.clone())
            .collect();
        let expected: BTreeSet<BoardId> = boards
            .iter()
            .filter(|b| **b != BoardId::GLOBAL)
            .cloned()
            .collect();
        assert_eq!(kept, expected);
        for u in &a.rankings {
            let s = a.profiles[&u.player].stats(&u.board).expect("board");
            assert_eq!((u.score.rating, u.score.reached_at), (s.rating, 7));
            assert_eq!(s.games, 1);
        }
    }
}

/// A season board rates on its own: a player with a long record starts the new season
/// at Weng-Lin's defaults.
#[test]
fn season_boards_start_fresh() {
    let current: BTreeMap<_, _> = [
        with_rating("a", 40.0, 2.0),
        with_rating("b", 25.0, 25.0 / 3.0),
    ]
    .into_iter()
    .map(|p| (p.player_id.clone(), p))
    .collect();
    let a = apply(
        &result("m1", 1, &[("a", None, 1, false), ("b", None, 2, false)]),
        Some("s9"),
        &current,
    )
    .expect("apply");
    let season = BoardId {
        season: Some("s9".into()),
        mode: None,
    };
    let s = a.profiles["a"].stats(&season).expect("season board");
    assert!((s.mu - 25.0).abs() < 5.0 && s.sigma > 7.0, "{s:?}");
    assert!(a.profiles["a"].overall.mu > 40.0);
}

/// Pure: the same inputs give identical outputs (bit for bit), whatever the order of
/// players in the result; the inputs are not modified.
#[test]
fn apply_is_pure() {
    let r = result(
        "m1",
        9_000,
        &[
            ("a", Some("x"), 2, false),
            ("b", Some("y"), 1, false),
            ("c", Some("x"), 3, true),
        ],
    );
    let current = run(
        &result("m0", 1_000, &[("a", None, 1, false), ("b", None, 2, false)]),
        &none(),
    )
    .profiles;
    let snapshot = current.clone();
    let one = run(&r, &current);
    let two = run(&r, &current);
    assert_eq!(format!("{one:?}"), format!("{two:?}"));
    assert_eq!(current, snapshot);
    let mut reversed = r.clone();
    reversed.players.reverse();
    assert_eq!(
        format!("{one:?}"),
        format!("{:?}", run(&reversed, &current))
    );
    let json = serde_json::to_string(&one.profiles).expect("serialise");
    let back: BTreeMap<String, PlayerProfile> = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, one.profiles);
}

/// Typed errors: an invalid result, a profile under the wrong key, a corrupt rating.
#[test]
fn errors_are_typed() {
    let bad = result("m1", 1, &[("a", None, 5, false), ("b", None, 1, false)]);
    assert!(matches!(
        apply(&bad, None, &none()),
        Err(ApplyError::Invalid(_))
    ));
    let r = result("m1", 1, &[("a", None, 1, false), ("b", None, 2, false)]);
    let wrong = BTreeMap::from([("a".to_owned(), PlayerProfile::new("b"))]);
    assert!(matches!(
        apply(&r, None, &wrong),
        Err(ApplyError::ProfileMismatch { .. })
    ));
    let nan = BTreeMap::from([("a".to_owned(), with_rating("a", f64::NAN, 1.0))]);
    assert!(matches!(
        apply(&r, None, &nan),
        Err(ApplyError::CorruptRating { .. })
    ));
    let mut max = PlayerProfile::new("a");
    max.version = u64::MAX;
    let max = BTreeMap::from([("a".to_owned(), max)]);
    assert!(matches!(
        apply(&r, None, &max),
        Err(ApplyError::VersionOverflow(_))
    ));
}

/// A valid random result: 2–16 players, random teams (or none), placements in range,
/// some leavers, sometimes cut short.
fn arb_result() -> impl Strategy<Value = MatchResult> {
    (2usize..=16, any::<bool>(), any::<bool>()).prop_flat_map(|(n, teams, cut_short)| {
        let per_player = (0u8..4, 1..=n as u32, prop::bool::weighted(0.2));
        prop::collection::vec(per_player, n).prop_map(move |players| {
            let mut r = result("m-prop", 60_000, &[]);
            r.cut_short = cut_short;
            r.players = players
                .into_iter()
                .enumerate()
                .map(|(i, (team, placement, left_early))| PlayerResult {
                    player_id: format!("p{i}"),
                    player_session_id: format!("ps{i}"),
                    team: teams.then(|| format!("t{team}")),
                    placement,
                    score: 0,
                    stats: BTreeMap::new(),
                    left_early,
                })
                .collect();
            r
        })
    })
}

proptest! {
    /// For any valid result, apply succeeds, returns exactly the result's players,
    /// adds exactly one game and one version to each, and keeps ratings finite.
    #[test]
    fn apply_never_panics_and_conserves(r in arb_result(), seasoned in any::<bool>()) {
        let season = seasoned.then_some("s1");
        let first = apply(&r, season, &none()).expect("apply");
        let again = apply(&r, season, &first.profiles).expect("apply twice");
        let ids: BTreeSet<String> = r.players.iter().map(|p| p.player_id.clone()).collect();
        for out in [&first, &again] {
            prop_assert_eq!(out.profiles.keys().cloned().collect::<BTreeSet<_>>(), ids.clone());
            prop_assert_eq!(out.rankings.len(), ids.len() * boards_for_match(season, "duel").len());
            for u in &out.rankings {
                prop_assert!(u.score.rating.is_finite());
            }
        }
        for (id, p) in &again.profiles {
            prop_assert_eq!(p.version, 2);
            prop_assert_eq!(p.overall.games, 2);
            prop_assert_eq!(first.profiles[id].overall.games, 1);
            let o = &p.overall;
            prop_assert_eq!(o.wins + o.losses + o.draws, o.games);
            prop_assert!(o.mu.is_finite() && o.sigma.is_finite() && o.sigma >= 0.0);
            if r.players.iter().any(|q| &q.player_id == id && q.left_early) {
                prop_assert!(again.changes[id].change <= 0.0);
            }
        }
    }
}
