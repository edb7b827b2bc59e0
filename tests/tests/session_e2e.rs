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

use aws_sdk_gamelift::types::{GameProperty, PlayerSessionStatus, TerminationMode};
use client::{ClientOptions, ConnectError};
use protocol::game::DisconnectReason;
use protocol::http::{CertificateFingerprint, ConnectionInfo};
use protocol::result::{Keyring, MatchResult, ResultMessage};
use tests::fleet_local::{FleetLocal, WAIT};

const KEYRING: &str = "e2e-1:612033322d62797465206b657920666f72207468652065326520746573747321";
const TLS_SECRET: &str = "e2e tls secret shared by the server and the backend";
/// How often a bot sends inputs, and the most a bot plays before leaving.
const TICK: Duration = Duration::from_millis(33);
const LIMIT: Duration = Duration::from_secs(60);

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

/// A fleet with one session-server process reporting to a fresh SQS queue, and a game
/// session for two placed on it with player sessions for alice, bob and carol.
struct Placed {
    dir: PathBuf,
    fleet: FleetLocal,
    gl: aws_sdk_gamelift::Client,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    outbox: PathBuf,
    process_id: String,
    gsid: String,
    reserved: Vec<aws_sdk_gamelift::types::PlayerSession>,
    port: u16,
    fingerprint: CertificateFingerprint,
}

/// Where the session server sends results.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Results {
    Sqs,
    /// `<dir>/spool`, for a local backend.
    Spool,
}

impl Placed {
    async fn new(name: &str, duration_ticks: u32, results: Results) -> Self {
        let dir = tempdir(name);
        let (sqs, queue_url) = result_queue().await;
        let outbox = dir.join("outbox");
        let queue = match results {
            Results::Sqs => format!("--queue sqs --queue-url {queue_url}"),
            Results::Spool => format!("--queue spool --spool-dir {}", dir.join("spool").display()),
        };
        let parameters = format!(
            "--port 0 --outbox-dir {} --keyring {KEYRING} {queue} --tls-secret \"{TLS_SECRET}\"",
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
        let process_id = ready
            .split_whitespace()
            .find_map(|w| w.strip_prefix("process_id="))
            .expect("process_id in the ready line")
            .trim_matches('"')
            .to_owned();
        let gl = fleet.gamelift().await;

        // Placement, as the backend does it: a game session for two, then their player
        // sessions, plus a third reservation nobody uses.
        let gs = gl
            .create_game_session()
            .fleet_id(&fleet.fleet_id)
            .maximum_player_session_count(3)
            .game_properties(prop("mode", "ffa"))
            .game_properties(prop("seed", "4242"))
            .game_properties(prop("duration_ticks", &duration_ticks.to_string()))
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
        // What the backend hands clients: the fingerprint derived from the shared secret.
        let fingerprint = protocol::tls::derived_fingerprint(TLS_SECRET.as_bytes(), &gsid)
            .expect("derive")
            .parse()
            .expect("64 hex digits");
        Self {
            dir,
            fleet,
            gl,
            sqs,
            queue_url,
            outbox,
            process_id,
            gsid,
            reserved,
            port,
            fingerprint,
        }
    }

    fn psess(&self, i: usize) -> String {
        self.reserved[i]
            .player_session_id()
            .expect("an id")
            .to_owned()
    }

    fn info(&self, psess: &str) -> ConnectionInfo {
        client::connection_info(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            self.port,
            self.fingerprint,
            psess,
        )
    }

    fn logs(&self) -> String {
        process_logs(&self.fleet.data_dir)
    }

    /// Alice and Bob (the first two reservations) connected.
    async fn connect_both(&self) -> (client::Session, client::Session) {
        let options = ClientOptions::default();
        let alice = client::connect(&self.info(&self.psess(0)), &options)
            .await
            .unwrap_or_else(|e| panic!("alice connects: {e}\n{}", self.logs()));
        let bob = client::connect(&self.info(&self.psess(1)), &options)
            .await
            .expect("bob connects");
        (alice, bob)
    }

    /// Both play; once snapshots flow, `interrupt` runs; returns both bots' outcomes.
    async fn play_then<F: Future<Output = ()>>(
        &self,
        interrupt: impl FnOnce() -> F,
    ) -> (client::bot::BotOutcome, client::bot::BotOutcome) {
        let (alice, mut bob) = self.connect_both().await;
        let alice_bot = tokio::spawn(client::bot::play(alice, TICK, LIMIT));
        tokio::time::timeout(WAIT, bob.next_tick())
            .await
            .expect("a snapshot within the wait")
            .expect("the session is open");
        interrupt().await;
        let b = client::bot::play(bob, TICK, LIMIT).await;
        let a = alice_bot.await.expect("alice's bot");
        (a, b)
    }

    /// ProcessEnding, then exit 0, as the fleet saw it.
    async fn process_ended_cleanly(&mut self) {
        let id = self.process_id.clone();
        self.fleet.wait_for(&["server process ending", &id]).await;
        let exited = self.fleet.wait_for(&["server process exited", &id]).await;
        assert!(!exited.contains("abnormally"), "{exited}\n{}", self.logs());
    }

    async fn player_session_status(&self, id: &str) -> Option<PlayerSessionStatus> {
        self.gl
            .describe_player_sessions()
            .player_session_id(id)
            .send()
            .await
            .expect("DescribePlayerSessions")
            .player_sessions
            .unwrap_or_default()
            .pop()
            .and_then(|s| s.status().cloned())
    }

    /// The one signed result on the queue, verified with the fleet's key; the outbox is
    /// empty once it was delivered.
    async fn delivered_result(&self) -> MatchResult {
        let message = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .wait_time_seconds(5)
            .send()
            .await
            .expect("ReceiveMessage")
            .messages
            .unwrap_or_default()
            .pop()
            .expect("the result is on the queue");
        let body = message.body().expect("a body");
        let ResultMessage::Inline(signed) =
            ResultMessage::from_json(body.as_bytes()).expect("json")
        else {
            panic!("a two-player result travels inline")
        };
        Keyring::parse(KEYRING)
            .expect("keyring")
            .verify(&signed)
            .expect("signed with the fleet's key");
        let pending: Vec<_> = std::fs::read_dir(self.outbox.join("slot-0"))
            .expect("the outbox slot")
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .collect();
        assert!(pending.is_empty(), "delivered results leave the outbox");
        signed.result
    }

    async fn finish(self) {
        assert!(self.fleet.terminate().await);
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_match_placed_on_fleet_local_is_played_reported_and_ended() {
    let mut placed = Placed::new("match", 90, Results::Sqs).await;
    let options = ClientOptions::default();

    // Nobody gets in without a reservation of this game session.
    let forged = client::connect(&placed.info("psess-forged-0000"), &options).await;
    assert!(
        matches!(
            forged,
            Err(ConnectError::Refused(
                DisconnectReason::InvalidPlayerSession
            ))
        ),
        "a forged player session: {forged:?}\n{}",
        placed.logs()
    );
    // Nor with the wrong certificate pinned (the fingerprint of another game session).
    let mut pinned_wrong = placed.info(&placed.psess(0));
    pinned_wrong.certificate_sha256 =
        protocol::tls::derived_fingerprint(TLS_SECRET.as_bytes(), "another-game-session")
            .expect("derive")
            .parse()
            .expect("hex");
    let refused = client::connect(&pinned_wrong, &options).await;
    assert!(matches!(refused, Err(ConnectError::Tls(_))), "{refused:?}");

    let alice_psess = placed.psess(0);
    let bob_psess = placed.psess(1);
    let alice = client::connect(&placed.info(&alice_psess), &options)
        .await
        .unwrap_or_else(|e| panic!("alice connects: {e}\n{}", placed.logs()));
    // The same reservation twice at once is refused; the first connection is unharmed.
    let again = client::connect(&placed.info(&alice_psess), &options).await;
    assert!(
        matches!(
            again,
            Err(ConnectError::Refused(
                DisconnectReason::DuplicatePlayerSession
            ))
        ),
        "{again:?}"
    );
    let bob = client::connect(&placed.info(&bob_psess), &options)
        .await
        .expect("bob connects");
    assert_ne!(alice.player(), bob.player());

    let (a, b) = tokio::join!(
        client::bot::play(alice, TICK, LIMIT),
        client::bot::play(bob, TICK, LIMIT)
    );
    let standings = a.standings.clone().unwrap_or_else(|| {
        panic!(
            "the match ended normally for alice: {a:?}\n{}",
            placed.logs()
        )
    });
    assert_eq!(b.standings.as_ref(), Some(&standings), "one final standing");
    assert_eq!(standings.len(), 2, "only the two who connected played");
    for outcome in [&a, &b] {
        assert_eq!(
            outcome.close,
            client::CloseReason::Server(DisconnectReason::MatchEnded)
        );
        assert!(outcome.stats.snapshots.applied > 0);
    }

    // The process ends the session by itself: ProcessEnding, then exit 0.
    placed.process_ended_cleanly().await;

    // GameLift saw both players accepted and then removed (COMPLETED); carol's unused
    // reservation ended with the game session.
    for psess in [&alice_psess, &bob_psess] {
        assert_eq!(
            placed.player_session_status(psess).await,
            Some(PlayerSessionStatus::Completed)
        );
    }

    // The signed result reached SQS, and agrees with the standings both clients saw.
    let result = placed.delivered_result().await;
    assert_eq!(result.match_id, placed.gsid);
    assert!(!result.cut_short);
    assert_eq!(result.players.len(), 2);
    for (psess, outcome, player_id) in [(&alice_psess, &a, "alice"), (&bob_psess, &b, "bob")] {
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
        assert_eq!(row.placement, u32::from(standing.placement));
        assert_eq!(row.player_id, player_id, "GameLift's player id, not a name");
    }
    placed.finish().await;
}

/// TerminateGameSession mid-match: GameLift pushes TerminateProcess; the server warns the
/// players (they are closed with ServerShutdown), ends the match as cut short, delivers
/// that result, then ProcessEnding and exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_match_terminated_by_gamelift_ends_cut_short_and_is_still_reported() {
    // Ten minutes of match: only the termination can end it within the test.
    let mut placed = Placed::new("cut", 18_000, Results::Sqs).await;
    // Both are in and snapshots flow before GameLift pulls the plug.
    let (gl, gsid) = (placed.gl.clone(), placed.gsid.clone());
    let (a, b) = placed
        .play_then(|| async move {
            gl.terminate_game_session()
                .game_session_id(gsid)
                .termination_mode(TerminationMode::TriggerOnProcessTerminate)
                .send()
                .await
                .expect("TerminateGameSession");
        })
        .await;
    for outcome in [&a, &b] {
        assert_eq!(
            outcome.close,
            client::CloseReason::Server(DisconnectReason::ServerShutdown),
            "{}",
            placed.logs()
        );
    }
    placed.process_ended_cleanly().await;
    let result = placed.delivered_result().await;
    assert_eq!(result.match_id, placed.gsid);
    assert!(result.cut_short, "a terminated match is marked cut short");
    assert_eq!(result.players.len(), 2);
    placed.finish().await;
}

/// The local path of results, without SQS: the server drops the signed result into a spool
/// directory, and `backend consume --spool-dir` queues, verifies and checks it. Nobody
/// placed this match through the matchmaker (no placement record), so the backend sets
/// it aside as `unknown_match` instead of applying it: a result is never invented into
/// ranks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spooled_result_reaches_the_local_backend_which_checks_it() {
    let mut placed = Placed::new("spool", 60, Results::Spool).await;
    let (alice, bob) = placed.connect_both().await;
    let (a, _) = tokio::join!(
        client::bot::play(alice, TICK, LIMIT),
        client::bot::play(bob, TICK, LIMIT)
    );
    assert!(a.standings.is_some(), "{a:?}\n{}", placed.logs());
    placed.process_ended_cleanly().await;
    let spool = placed.dir.join("spool");
    let spooled: Vec<_> = std::fs::read_dir(spool.join("messages"))
        .expect("the spool")
        .flatten()
        .collect();
    assert_eq!(spooled.len(), 1, "one result file");

    let output = tokio::process::Command::new(tests::workspace_bin("backend"))
        .arg("consume")
        .arg("--data-dir")
        .arg(placed.dir.join("backend"))
        .arg("--spool-dir")
        .arg(&spool)
        .args([
            "--keyring",
            KEYRING,
            "--stop-when-empty",
            "--wait-secs",
            "1",
        ])
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .output()
        .await
        .expect("backend consume runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let counters: serde_json::Value = serde_json::from_str(
        stdout
            .lines()
            .find_map(|l| l.strip_prefix("stopped "))
            .expect("the consumer's final counters"),
    )
    .expect("json");
    assert_eq!(counters["received"], 1, "{counters}");
    assert_eq!(counters["applied"], 0, "{counters}");
    assert_eq!(counters["dead_lettered"]["unknown_match"], 1, "{counters}");
    assert_eq!(
        std::fs::read_dir(spool.join("messages"))
            .expect("spool")
            .count(),
        0,
        "the spool file is gone once queued"
    );
    placed.finish().await;
}

/// A server process killed mid-match (SIGKILL: no goodbye, no result): the players learn
/// it from QUIC's idle timeout, GameLift's bookkeeping ends the game session as ERROR
/// (interrupted) and completes its player sessions, a fresh process takes the slot, and
/// no result is invented: nothing reaches the queue and nothing waits in the outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_match_ends_its_session_and_invents_no_result() {
    let mut placed = Placed::new("killed", 18_000, Results::Sqs).await;
    let launched = placed
        .fleet
        .seen
        .iter()
        .find(|l| l.contains("launched server process") && l.contains(&placed.process_id))
        .cloned()
        .expect("the launch line of the process");
    let pid = launched
        .split_whitespace()
        .find_map(|w| w.strip_prefix("pid="))
        .expect("pid=")
        .to_owned();
    let (a, b) = placed
        .play_then(|| async move {
            let killed = std::process::Command::new("/bin/kill")
                .args(["-KILL", &pid])
                .status()
                .expect("kill runs");
            assert!(killed.success());
        })
        .await;
    for outcome in [&a, &b] {
        assert_eq!(outcome.close, client::CloseReason::TimedOut, "{outcome:?}");
        assert!(
            outcome.standings.is_none(),
            "no final standings from a dead server"
        );
    }

    // GameLift's side: the session ends interrupted, a fresh process takes the slot.
    let exited = placed
        .fleet
        .wait_for(&["server process exited abnormally", &placed.process_id])
        .await;
    assert!(exited.contains("status="), "{exited}");
    placed.fleet.wait_for(&["server process ready"]).await;
    let gs = placed
        .gl
        .describe_game_sessions()
        .game_session_id(&placed.gsid)
        .send()
        .await
        .expect("DescribeGameSessions")
        .game_sessions
        .unwrap_or_default()
        .pop()
        .expect("the game session");
    assert_eq!(
        gs.status(),
        Some(&aws_sdk_gamelift::types::GameSessionStatus::Error),
        "{gs:?}"
    );
    for i in 0..2 {
        assert_eq!(
            placed.player_session_status(&placed.psess(i)).await,
            Some(PlayerSessionStatus::Completed)
        );
    }

    // No result: none on the queue (a long poll comes back empty), none in the outbox.
    let received = placed
        .sqs
        .receive_message()
        .queue_url(&placed.queue_url)
        .wait_time_seconds(2)
        .send()
        .await
        .expect("ReceiveMessage")
        .messages
        .unwrap_or_default();
    assert!(received.is_empty(), "an invented result: {received:?}");
    let waiting = std::fs::read_dir(placed.outbox.join("slot-0"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(waiting, 0);
    placed.finish().await;
}
