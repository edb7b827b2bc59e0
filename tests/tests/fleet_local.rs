//! `fleet local` end to end: the real `fleet` binary launches real game-server processes
//! built on `gamelift-server-sdk`, and the test drives them through `aws-sdk-gamelift`,
//! exactly as a matchmaking backend would. Waits are on the fleet's log lines, never on
//! the clock.

use aws_sdk_gamelift::types::{GameSessionStatus, PlayerSessionStatus, TerminationMode};
use tests::fleet_local::{FleetLocal, WAIT};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn lifecycle_server() -> &'static str {
    env!("CARGO_BIN_EXE_lifecycle_server")
}

/// A "player" connects to the game server and presents a player-session id.
async fn present(port: i32, player_session_id: &str) -> String {
    let port = u16::try_from(port).expect("a port");
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("game server listens");
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

/// create game session → the process receives it and activates → player sessions → one
/// accepted, one times out → the game session ends → ProcessEnding → a fresh process is
/// launched and takes the next game session; then SIGTERM shuts everything down cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_session_lives_and_ends_under_fleet_local() {
    let dir = tempdir("lifecycle");
    let mut fleet = FleetLocal::start(
        &dir,
        &[
            "--launch-path",
            lifecycle_server(),
            "--processes",
            "1",
            "--reservation-timeout",
            "2",
            "--termination-grace",
            "5",
            "--fleet-id",
            "fleet-e2e",
        ],
    )
    .await;
    let first = fleet.wait_for(&["server process ready"]).await;
    let gl = fleet.gamelift().await;

    let created = gl
        .create_game_session()
        .fleet_id(&fleet.fleet_id)
        .maximum_player_session_count(2)
        .name("e2e")
        .send()
        .await
        .expect("CreateGameSession")
        .game_session
        .expect("a game session");
    let gs_id = created.game_session_id.clone().expect("an id");
    assert!(
        gs_id.starts_with("arn:aws:gamelift:us-east-1::gamesession/fleet-e2e/"),
        "{gs_id}"
    );
    fleet.wait_for(&["game session active", &gs_id]).await;

    let gs = describe(&gl, &gs_id).await;
    assert_eq!(gs.status, Some(GameSessionStatus::Active));
    let port = gs.port.expect("the process's port");

    let sessions = gl
        .create_player_sessions()
        .game_session_id(&gs_id)
        .player_ids("ann")
        .player_ids("bob")
        .send()
        .await
        .expect("CreatePlayerSessions")
        .player_sessions
        .unwrap_or_default();
    let id_of = |p: &str| {
        sessions
            .iter()
            .find(|s| s.player_id.as_deref() == Some(p))
            .and_then(|s| s.player_session_id.clone())
            .expect("a player session")
    };
    let (ann, bob) = (id_of("ann"), id_of("bob"));
    assert!(ann.starts_with("psess-"));

    assert_eq!(present(port, &ann).await, "accepted");
    let double = present(port, &ann).await;
    assert!(
        double.starts_with("refused"),
        "a double accept is refused: {double}"
    );
    let forged = present(port, "psess-00000000-0000-0000-0000-000000000000").await;
    assert!(forged.starts_with("refused"), "{forged}");

    fleet.wait_for(&["player session timed out", &bob]).await;
    let late = present(port, &bob).await;
    assert!(
        late.starts_with("refused"),
        "an expired reservation is refused: {late}"
    );
    assert_eq!(
        status_of(&gl, &gs_id, &ann).await,
        PlayerSessionStatus::Active
    );
    assert_eq!(
        status_of(&gl, &gs_id, &bob).await,
        PlayerSessionStatus::Timedout
    );

    gl.terminate_game_session()
        .game_session_id(&gs_id)
        .termination_mode(TerminationMode::TriggerOnProcessTerminate)
        .send()
        .await
        .expect("TerminateGameSession");
    fleet.wait_for(&["server process ending"]).await;
    fleet.wait_for(&["server process exited"]).await;
    let second = fleet.wait_for(&["server process ready"]).await;
    assert_ne!(first, second, "a fresh process with a new id");

    let ended = describe(&gl, &gs_id).await;
    assert_eq!(ended.status, Some(GameSessionStatus::Terminated));
    assert_eq!(
        status_of(&gl, &gs_id, &ann).await,
        PlayerSessionStatus::Completed
    );

    let next = gl
        .create_game_session()
        .fleet_id(&fleet.fleet_id)
        .maximum_player_session_count(2)
        .send()
        .await
        .expect("the fresh process takes the next game session");
    assert_ne!(
        next.game_session.and_then(|g| g.game_session_id),
        Some(gs_id)
    );

    assert!(fleet.terminate().await, "fleet local exits 0 after SIGTERM");
    std::fs::remove_dir_all(&dir).ok();
}

/// A process whose health check reports false is terminated once the health timeout
/// passes (shortened to 1 s here), and the launcher replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unhealthy_process_is_terminated_and_replaced() {
    let dir = tempdir("health");
    let mut fleet = FleetLocal::start(
        &dir,
        &[
            "--launch-path",
            lifecycle_server(),
            "--parameters",
            "--unhealthy",
            "--processes",
            "1",
            "--health-timeout",
            "1",
            "--termination-grace",
            "5",
        ],
    )
    .await;
    let first = fleet.wait_for(&["server process ready"]).await;
    fleet
        .wait_for(&["pushing TerminateProcess", "no healthy report"])
        .await;
    fleet.wait_for(&["server process exited"]).await;
    let second = fleet.wait_for(&["server process ready"]).await;
    assert_ne!(first, second);
    assert!(fleet.terminate().await);
    std::fs::remove_dir_all(&dir).ok();
}

/// The WebSocket upgrade refuses a wrong token with 403, as GameLift does.
#[tokio::test]
async fn a_wrong_token_is_refused_at_the_upgrade() {
    let dir = tempdir("token");
    let fleet = FleetLocal::start(&dir, &["--processes", "0"]).await;
    let status = upgrade_status(&fleet.sdk_url, "pID=p1&Authorization=wrong").await;
    assert_eq!(status, 403);
    let status = upgrade_status(
        &fleet.sdk_url,
        &format!("pID=p1&Authorization={}", fleet.auth_token),
    )
    .await;
    assert_eq!(status, 101);
    assert!(fleet.terminate().await);
    std::fs::remove_dir_all(&dir).ok();
}

async fn upgrade_status(sdk_url: &str, query: &str) -> u16 {
    let addr = sdk_url.trim_start_matches("ws://");
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /?{query} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut line = String::new();
    tokio::time::timeout(WAIT, BufReader::new(s).read_line(&mut line))
        .await
        .expect("an answer")
        .unwrap();
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

async fn describe(gl: &aws_sdk_gamelift::Client, id: &str) -> aws_sdk_gamelift::types::GameSession {
    gl.describe_game_sessions()
        .game_session_id(id)
        .send()
        .await
        .expect("DescribeGameSessions")
        .game_sessions
        .unwrap_or_default()
        .into_iter()
        .next()
        .expect("the game session")
}

async fn status_of(gl: &aws_sdk_gamelift::Client, gs: &str, ps: &str) -> PlayerSessionStatus {
    gl.describe_player_sessions()
        .game_session_id(gs)
        .send()
        .await
        .expect("DescribePlayerSessions")
        .player_sessions
        .unwrap_or_default()
        .into_iter()
        .find(|s| s.player_session_id.as_deref() == Some(ps))
        .and_then(|s| s.status)
        .expect("the player session")
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(tests::unique_name(&format!("fleet-{name}")));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
