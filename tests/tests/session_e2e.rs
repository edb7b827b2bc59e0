//! The session server under the real `fleet local`, end to end (issue 4's "done when"):
//! a game session placed through `aws-sdk-gamelift`, bots connecting with their player
//! sessions over QUIC (pinning the certificate the backend derives), a short match played
//! to the end, and then, from the outside only: who got in, GameLift's bookkeeping of
//! every player session, the final standings against the signed result the server sent
//! to SQS (moto), `ProcessEnding`, and the process's exit status.
//!
//! Waits are on the fleet's log lines, on the bots finishing, and on SQS long polls;
//! never on the clock.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_gamelift::types::{GameProperty, PlayerSessionStatus};
use client::{ClientOptions, ConnectError};
use protocol::game::DisconnectReason;
use protocol::http::CertificateFingerprint;
use protocol::result::{Keyring, ResultMessage};
use tests::fleet_local::FleetLocal;

const KEYRING: &str = "e2e-1:612033322d62797465206b657920666f72207468652065326520746573747321";
const TLS_SECRET: &str = "e2e tls secret shared by the server and the backend";

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(tests::unique_name(&format!("e2e-{name}")));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn prop(key: &str, value: &str) -> GameProperty {
    GameProperty::builder().key(key).value(value).build()
}

/// The server processes' logs, for failure messages.
fn process_logs(data_dir: &Path) -> String {
    let mut out = String::new();
    if let Ok(entries) = std::fs::read_dir(data_dir.join("logs")) {
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            out.push_str(&format!("--- {} ---\n{text}\n", entry.path().display()));
        }
    }
    out
}

async fn result_queue() -> (aws_sdk_sqs::Client, String) {
    let sqs = aws_sdk_sqs::Client::new(&tests::aws_config().await);
    let url = sqs
        .create_queue()
        .queue_name(tests::unique_name("e2e-results"))
        .send()
        .await
        .expect("CreateQueue on moto")
        .queue_url
        .expect("a queue URL");
    (sqs, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_match_placed_on_fleet_local_is_played_reported_and_ended() {
    let dir = tempdir("match");
    let (sqs, queue_url) = result_queue().await;
    let outbox = dir.join("outbox");
    let parameters = format!(
        "--port 0 --outbox-dir {} --keyring {KEYRING} --queue sqs --queue-url {queue_url} \
         --tls-secret \"{TLS_SECRET}\"",
        outbox.display()
    );
    let mut fleet = FleetLocal::start(
        &dir,
        &[
            "--launch-path",
            &tests::workspace_bin("session-server").display().to_string(),
            "--parameters",
            &parameters,
            "--processes",
            "1",
        ],
    )
    .await;
    let ready = fleet.wait_for(&["server process ready"]).await;
    let gl = fleet.gamelift().await;

    // Placement, as the backend does it: a game session for two, then their player
    // sessions, plus a third reservation nobody uses.
    let gs = gl
        .create_game_session()
        .fleet_id(&fleet.fleet_id)
        .maximum_player_session_count(3)
        .game_properties(prop("mode", "ffa"))
        .game_properties(prop("seed", "4242"))
        .game_properties(prop("duration_ticks", "90"))
        .game_properties(prop("max_players", "2"))
        .send()
        .await
        .expect("CreateGameSession")
        .game_session
        .expect("a game session");
    let gsid = gs.game_session_id().expect("an id").to_owned();
    fleet.wait_for(&["game session active", &gsid]).await;
    let reserved = gl
        .create_player_sessions()
        .game_session_id(&gsid)
        .player_ids("alice")
        .player_ids("bob")
        .player_ids("carol")
        .send()
        .await
        .expect("CreatePlayerSessions")
        .player_sessions
        .expect("player sessions");
    assert_eq!(reserved.len(), 3);
    let port = u16::try_from(reserved[0].port().expect("a port")).expect("a UDP port");
    let fingerprint: CertificateFingerprint =
        protocol::tls::derived_fingerprint(TLS_SECRET.as_bytes(), &gsid)
            .expect("derive")
            .parse()
            .expect("64 hex digits");
    let info = |psess: &str| {
        client::connection_info(IpAddr::V4(Ipv4Addr::LOCALHOST), port, fingerprint, psess)
    };
    let options = ClientOptions::default();

    // Nobody gets in without a reservation of this game session.
    let forged = client::connect(&info("psess-forged-0000"), &options).await;
    assert!(
        matches!(
            forged,
            Err(ConnectError::Refused(
                DisconnectReason::InvalidPlayerSession
            ))
        ),
        "a forged player session: {forged:?}\n{}",
        process_logs(&fleet.data_dir)
    );
    // Nor with the wrong certificate pinned (the fingerprint of another game session).
    let wrong_pin: CertificateFingerprint =
        protocol::tls::derived_fingerprint(TLS_SECRET.as_bytes(), "another-game-session")
            .expect("derive")
            .parse()
            .expect("hex");
    let mut pinned_wrong = info(reserved[0].player_session_id().unwrap());
    pinned_wrong.certificate_sha256 = wrong_pin;
    let refused = client::connect(&pinned_wrong, &options).await;
    assert!(matches!(refused, Err(ConnectError::Tls(_))), "{refused:?}");

    let alice_psess = reserved[0].player_session_id().unwrap().to_owned();
    let bob_psess = reserved[1].player_session_id().unwrap().to_owned();
    let alice = client::connect(&info(&alice_psess), &options)
        .await
        .unwrap_or_else(|e| panic!("alice connects: {e}\n{}", process_logs(&fleet.data_dir)));
    // The same reservation twice at once is refused; the first connection is unharmed.
    let again = client::connect(&info(&alice_psess), &options).await;
    assert!(
        matches!(
            again,
            Err(ConnectError::Refused(
                DisconnectReason::DuplicatePlayerSession
            ))
        ),
        "{again:?}"
    );
    let bob = client::connect(&info(&bob_psess), &options)
        .await
        .expect("bob connects");
    let players = [alice.player(), bob.player()];
    assert_ne!(players[0], players[1]);

    let limit = Duration::from_secs(60);
    let tick = Duration::from_millis(33);
    let (a, b) = tokio::join!(
        client::bot::play(alice, tick, limit),
        client::bot::play(bob, tick, limit)
    );
    let standings = a.standings.clone().unwrap_or_else(|| {
        panic!(
            "the match ended normally for alice: {a:?}\n{}",
            process_logs(&fleet.data_dir)
        )
    });
    assert_eq!(b.standings.as_ref(), Some(&standings), "one final standing");
    assert_eq!(
        a.close,
        client::CloseReason::Server(DisconnectReason::MatchEnded)
    );
    assert_eq!(
        b.close,
        client::CloseReason::Server(DisconnectReason::MatchEnded)
    );
    assert!(a.stats.snapshots.applied > 0 && b.stats.snapshots.applied > 0);

    // The process ends the session by itself: ProcessEnding, then exit 0.
    let process_id = ready
        .split_whitespace()
        .find_map(|w| w.strip_prefix("process_id="))
        .expect("process_id in the ready line")
        .trim_matches('"')
        .to_owned();
    fleet
        .wait_for(&["server process ending", &process_id])
        .await;
    let exited = fleet
        .wait_for(&["server process exited", &process_id])
        .await;
    assert!(
        !exited.contains("abnormally"),
        "{exited}\n{}",
        process_logs(&fleet.data_dir)
    );

    // GameLift saw both players accepted and then removed (COMPLETED).
    let sessions = gl
        .describe_player_sessions()
        .game_session_id(&gsid)
        .send()
        .await
        .expect("DescribePlayerSessions")
        .player_sessions
        .unwrap_or_default();
    let status = |id: &str| {
        sessions
            .iter()
            .find(|s| s.player_session_id() == Some(id))
            .and_then(|s| s.status().cloned())
    };
    assert_eq!(status(&alice_psess), Some(PlayerSessionStatus::Completed));
    assert_eq!(status(&bob_psess), Some(PlayerSessionStatus::Completed));
    // Carol's unused reservation ends with the game session (she never got a seat: the
    // standings and the result hold two players).
    assert_eq!(standings.len(), 2, "only the two who connected played");

    // The signed result reached SQS (the outbox is empty), and agrees with the standings
    // both clients saw.
    let message = sqs
        .receive_message()
        .queue_url(&queue_url)
        .wait_time_seconds(5)
        .send()
        .await
        .expect("ReceiveMessage")
        .messages
        .unwrap_or_default()
        .pop()
        .expect("the result is on the queue");
    let body = message.body().expect("a body");
    let ResultMessage::Inline(signed) = ResultMessage::from_json(body.as_bytes()).expect("json")
    else {
        panic!("a two-player result travels inline")
    };
    Keyring::parse(KEYRING)
        .expect("keyring")
        .verify(&signed)
        .expect("signed with the fleet's key");
    let result = &signed.result;
    assert_eq!(result.match_id, gsid);
    assert!(!result.cut_short);
    assert_eq!(result.players.len(), 2);
    for (psess, outcome) in [(&alice_psess, &a), (&bob_psess, &b)] {
        let row = result
            .players
            .iter()
            .find(|p| &p.player_session_id == psess)
            .unwrap_or_else(|| panic!("{psess} in {result:?}"));
        let standing = standings
            .iter()
            .find(|s| s.player == outcome.player)
            .expect("a standing");
        assert_eq!(row.score, i64::from(standing.score));
        let expected_player = if psess == &alice_psess {
            "alice"
        } else {
            "bob"
        };
        assert_eq!(
            row.player_id, expected_player,
            "GameLift's player id, not a name"
        );
        assert_eq!(row.placement, u32::from(standing.placement));
    }
    let pending: Vec<_> = std::fs::read_dir(outbox.join("slot-0"))
        .expect("the outbox slot")
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .collect();
    assert!(pending.is_empty(), "delivered results leave the outbox");

    assert!(fleet.terminate().await);
    std::fs::remove_dir_all(&dir).ok();
}
