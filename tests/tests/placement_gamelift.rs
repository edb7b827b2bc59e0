//! The backend's GameLift placer against `fleet local`: a proposed match becomes a game
//! session with one player session per player (which the game server accepts), the
//! matchmaker data and team of each player travel with it, a fleet without free
//! processes fails the placement with `no_capacity`, and a released match's game session
//! ends so its process is replaced. Waits are on the fleet's log lines, never the clock.

use aws_sdk_gamelift::types::GameSessionStatus;
use backend::matchmaking::{MatchId, MatchPlayer, ProposedMatch, TicketId};
use backend::placement::{GameLiftPlacer, Placer, Target};
use protocol::http::{CertificateFingerprint, FailureReason};
use tests::fleet_local::{FleetLocal, WAIT};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn proposed(id: u64, players: &[&str]) -> ProposedMatch {
    let teams: Vec<Vec<MatchPlayer>> = players
        .iter()
        .enumerate()
        .map(|(i, p)| {
            vec![MatchPlayer {
                player_id: (*p).to_owned(),
                ticket: TicketId(i as u64 + 1),
                rating: 10.0 + i as f64,
            }]
        })
        .collect();
    ProposedMatch {
        match_id: MatchId(id),
        mode: "duel".to_owned(),
        region: "us-east-1".to_owned(),
        tickets: (1..=players.len() as u64).map(TicketId).collect(),
        anchor: TicketId(1),
        teams,
        skill_spread: 1.0,
        skill_cap: 5.0,
        max_latency_ms: 40,
        latency_cap_ms: 100,
        team_rating_gap: 1.0,
        proposed_at_ms: 0,
    }
}

/// A "player" presents its player session to the lifecycle test server.
async fn present(port: u16, player_session_id: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(format!("{player_session_id}\n").as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(WAIT, BufReader::new(s).read_line(&mut answer))
        .await
        .expect("the game server answers")
        .unwrap();
    answer.trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matches_are_placed_on_fleet_local() {
    let dir = std::env::temp_dir().join(tests::unique_name("placement-gamelift"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut fleet = FleetLocal::start(
        &dir,
        &[
            "--launch-path",
            env!("CARGO_BIN_EXE_lifecycle_server"),
            "--processes",
            "1",
            "--termination-grace",
            "5",
        ],
    )
    .await;
    fleet.wait_for(&["server process ready"]).await;
    let gl = fleet.gamelift().await;
    let fingerprint = CertificateFingerprint::of_der(b"fleet certificate");
    let placer = GameLiftPlacer::new(
        gl.clone(),
        Target::Fleet(fleet.fleet_id.clone()),
        fingerprint,
    );

    let placed = placer
        .place(&proposed(1, &["ann", "bob"]))
        .await
        .expect("placed");
    assert!(
        placed.game_session_id.contains(&fleet.fleet_id),
        "{placed:?}"
    );
    assert_eq!(placed.certificate_sha256, fingerprint);
    assert_eq!(placed.player_sessions.len(), 2);
    assert_eq!(
        present(placed.port, &placed.player_sessions["ann"]).await,
        "accepted"
    );

    let session = gl
        .describe_game_sessions()
        .game_session_id(&placed.game_session_id)
        .send()
        .await
        .unwrap()
        .game_sessions
        .unwrap()
        .remove(0);
    assert_eq!(session.status, Some(GameSessionStatus::Active));
    let props: Vec<(String, String)> = session
        .game_properties
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.key.unwrap_or_default(), p.value.unwrap_or_default()))
        .collect();
    assert!(
        props.contains(&("mode".to_owned(), "duel".to_owned())),
        "{props:?}"
    );
    assert!(
        props.contains(&("teams".to_owned(), "2".to_owned())),
        "{props:?}"
    );
    let data: serde_json::Value =
        serde_json::from_str(session.game_session_data.as_deref().unwrap()).unwrap();
    assert_eq!(data["teams"][1]["players"][0]["playerId"], "bob");

    // The only process is busy: no capacity, and nothing is left behind.
    let busy = placer
        .place(&proposed(2, &["cid", "dan"]))
        .await
        .unwrap_err();
    assert_eq!(busy.reason, FailureReason::NoCapacity, "{busy}");

    // Released: the game session ends and a fresh process takes the next match.
    placer.release(&placed).await;
    fleet.wait_for(&["server process exited"]).await;
    fleet.wait_for(&["server process ready"]).await;
    let next = placer
        .place(&proposed(3, &["cid", "dan"]))
        .await
        .expect("placed once capacity is back");
    assert_eq!(
        present(next.port, &next.player_sessions["dan"]).await,
        "accepted"
    );
    placer.release(&next).await;
    assert!(fleet.terminate().await, "fleet local stops cleanly");
    let _ = std::fs::remove_dir_all(&dir);
}
