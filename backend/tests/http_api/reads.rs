//! Public reads: leaderboards and profiles joined from the stores, and the OpenAPI
//! document and health routes.

use super::harness::*;

fn stats(rating: f64, games: u32, wins: u32) -> RatingStats {
    RatingStats {
        rating,
        rating_since: Some(1_700_000_000_000),
        games,
        wins,
        losses: games - wins,
        last_match_at: Some(1_700_000_000_000),
        ..RatingStats::new()
    }
}

/// Leaderboards (top, rank, around, friends) join the rankings with the profiles;
/// profiles and recent matches read the store; unknown players are 404.
#[tokio::test(start_paused = true)]
async fn leaderboards_and_profiles() {
    let api = Api::start(Options::default());
    let duel_board = BoardId {
        season: None,
        mode: Some("duel".to_owned()),
    };
    let mut profiles = Vec::new();
    let mut updates = Vec::new();
    for i in 1..=5u32 {
        let id = format!("p-{i}");
        let mut p = PlayerProfile::new(&id);
        p.version = 1;
        p.display_name = Some(format!("Player {i}"));
        p.overall = stats(f64::from(i) * 10.0, 10, i);
        p.boards.push(backend::ratings::BoardRecord {
            board: duel_board.clone(),
            stats: stats(f64::from(i) * 10.0, 10, i),
        });
        p.recent = (0..3u64)
            .map(|m| RecentMatch {
                match_id: format!("m-{m}"),
                mode: "duel".to_owned(),
                season: None,
                ended_at: 1_700_000_000_000 - m,
                outcome: MatchOutcome::Win,
                placement: 1,
                team: None,
                score: None,
                rating_change: 1.0,
                rating_after: 10.0,
                left_early: false,
            })
            .collect();
        for board in [BoardId::GLOBAL, duel_board.clone()] {
            updates.push(RankingUpdate {
                board,
                player: id.clone(),
                score: Score::new(f64::from(i) * 10.0, 1_700_000_000),
            });
        }
        profiles.push(p);
    }
    let expected = profiles.iter().map(|p| (p.player_id.clone(), 0)).collect();
    api.profiles
        .commit_result("seed", &profiles, &expected)
        .await
        .unwrap();
    api.rankings.set_many(&updates).await.unwrap();
    // p-6 exists but is unranked.
    let mut unranked = PlayerProfile::new("p-6");
    unranked.version = 1;
    let expected = BTreeMap::from([("p-6".to_owned(), 0)]);
    api.profiles
        .commit_result("seed-2", &[unranked], &expected)
        .await
        .unwrap();

    let top = api
        .call(
            Method::GET,
            "/v1/leaderboards/top?mode=duel&limit=2",
            None,
            None,
        )
        .await;
    assert_eq!(top.status, StatusCode::OK, "{}", top.body);
    assert_eq!(top.body["total_players"], 5);
    assert_eq!(top.body["board"], json!({"season": null, "mode": "duel"}));
    let entries = top.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["player_id"], "p-5");
    assert_eq!(entries[0]["display_name"], "Player 5");
    assert_eq!(entries[0]["wins"], 5);
    assert_eq!(entries[1]["rank"], 2);

    let rank = api
        .call(Method::GET, "/v1/leaderboards/rank/p-2", None, None)
        .await;
    assert_eq!(rank.body["entry"]["rank"], 4, "{}", rank.body);
    let unranked = api
        .call(Method::GET, "/v1/leaderboards/rank/p-6", None, None)
        .await;
    assert_eq!(unranked.status, StatusCode::OK);
    assert_eq!(unranked.body["entry"], Value::Null);
    api.call(Method::GET, "/v1/leaderboards/rank/p-404", None, None)
        .await
        .assert_error(404, "not_found");

    let around = api
        .call(
            Method::GET,
            "/v1/leaderboards/around/p-3?radius=1",
            None,
            None,
        )
        .await;
    let ids: Vec<&str> = around.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["player_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["p-4", "p-3", "p-2"]);

    let friends = api
        .call(
            Method::GET,
            "/v1/leaderboards/friends?mode=duel&players=p-1,p-4,p-404",
            None,
            None,
        )
        .await;
    let ranks: Vec<(String, u64)> = friends.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["player_id"].as_str().unwrap().to_owned(),
                e["rank"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ranks, [("p-4".to_owned(), 2), ("p-1".to_owned(), 5)]);

    let profile = api
        .call(Method::GET, "/v1/players/p-5/profile", None, None)
        .await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.body);
    assert_eq!(profile.body["display_name"], "Player 5");
    assert_eq!(profile.body["overall"]["wins"], 5);
    assert_eq!(profile.body["boards"][0]["board"]["mode"], "duel");
    api.call(Method::GET, "/v1/players/p-404/profile", None, None)
        .await
        .assert_error(404, "not_found");
    let matches = api
        .call(Method::GET, "/v1/players/p-5/matches?limit=2", None, None)
        .await;
    assert_eq!(matches.body["matches"].as_array().unwrap().len(), 2);
    assert_eq!(matches.body["matches"][0]["match_id"], "m-0");
    api.call(Method::GET, "/v1/players/p-5/matches?limit=51", None, None)
        .await
        .assert_error(400, "invalid_request");
}

/// `/openapi.json` documents every route with the protocol's schemas and bearer auth;
/// `/healthz` and `/readyz` answer.
#[tokio::test(start_paused = true)]
async fn openapi_health_and_readiness() {
    let api = Api::start(Options::default());
    let doc = api.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let paths = doc.body["paths"].as_object().unwrap();
    for path in [
        "/v1/matchmaking/tickets",
        "/v1/matchmaking/tickets/{ticket_id}",
        "/v1/matchmaking/tickets/{ticket_id}/events",
        "/v1/matchmaking/stats",
        "/v1/party",
        "/v1/leaderboards/top",
        "/v1/leaderboards/around/{player_id}",
        "/v1/leaderboards/rank/{player_id}",
        "/v1/leaderboards/friends",
        "/v1/players/{player_id}/profile",
        "/v1/players/{player_id}/matches",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    let schemas = doc.body["components"]["schemas"].as_object().unwrap();
    for schema in [
        "Ticket",
        "TicketState",
        "CreateTicketRequest",
        "ErrorBody",
        "LeaderboardPage",
        "Profile",
    ] {
        assert!(schemas.contains_key(schema), "{schema} missing");
    }
    assert_eq!(
        doc.body["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let health = api.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    let ready = api.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
}
