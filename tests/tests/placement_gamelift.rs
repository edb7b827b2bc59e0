//! The backend's GameLift placer against `fleet local`: a proposed match becomes a game
//! session with one player session per player (which the game server accepts), the
//! matchmaker data and team of each player travel with it, a fleet without free
//! processes fails the placement with `no_capacity`, and a released match's game session
//! ends so its process is replaced. Waits are on the fleet's log lines, never the clock.

use aws_sdk_gamelift::types::GameSessionStatus;
use backend::matchmaking::{MatchId, MatchPlayer, ProposedMatch, TicketId};
use backend::placement::{Certificates, GameLiftPlacer, Placer, Target};
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

/// `fleet local` running `processes` lifecycle test servers in a fresh folder, once all
/// are ready.
async fn lifecycle_fleet(name: &str, processes: u32) -> (std::path::PathBuf, FleetLocal) {
    let dir = std::env::temp_dir().join(tests::unique_name(name));
    std::fs::create_dir_all(&dir).unwrap();
    let n = processes.to_string();
    let mut fleet = FleetLocal::start(
        &dir,
        &[
            "--launch-path",
            env!("CARGO_BIN_EXE_lifecycle_server"),
            "--processes",
            &n,
            "--termination-grace",
            "5",
        ],
    )
    .await;
    for _ in 0..processes {
        fleet.wait_for(&["server process ready"]).await;
    }
    (dir, fleet)
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
    let (dir, mut fleet) = lifecycle_fleet("placement-gamelift", 1).await;
    let gl = fleet.gamelift().await;
    let secret = b"shared tls secret".to_vec();
    let placer = GameLiftPlacer::new(
        gl.clone(),
        Target::Fleet(fleet.fleet_id.clone()),
        Certificates::Derived(secret.clone()),
    );

    let placed = placer
        .place(&proposed(1, &["ann", "bob"]))
        .await
        .expect("placed");
    assert!(
        placed.game_session_id.contains(&fleet.fleet_id),
        "{placed:?}"
    );
    // The fingerprint a session server started with the same secret derives.
    let derived: CertificateFingerprint =
        protocol::tls::derived_fingerprint(&secret, &placed.game_session_id)
            .unwrap()
            .parse()
            .unwrap();
    assert_eq!(placed.certificate_sha256, derived);
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

mod api {
    //! The HTTP API placing through `fleet local`.

    use std::sync::Arc;
    use std::time::Duration;

    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use backend::http::auth::mint_dev_token;
    use backend::http::{
        ApiConfig, ApiMetrics, AppState, Authenticator, Clock, DriverConfig, RateLimit,
        RateLimiter, app, spawn_matchmaker,
    };
    use backend::matchmaking::Matchmaker;
    use backend::placement::{Certificates, GameLiftPlacer, Target};
    use backend::profiles::{EmbeddedProfiles, ProfileStore};
    use backend::rankings::{EmbeddedRankings, Rankings};
    use http_body_util::BodyExt;
    use protocol::http::{CertificateFingerprint, Ticket, TicketState};
    use tests::fleet_local::FleetLocal;
    use tower::ServiceExt;

    const KEY: &[u8] = b"placement-test-key-0123456789abcdef-0123";

    async fn call(router: &axum::Router, req: Request<Body>) -> (StatusCode, Ticket) {
        let response = router.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let ticket = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{status} {e}: {}", String::from_utf8_lossy(&body)));
        (status, ticket)
    }

    fn authed(method: &str, path: &str, player: &str) -> axum::http::request::Builder {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let token = mint_dev_token(KEY, player, now, Duration::from_secs(600), None, None).unwrap();
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
    }

    /// Waits for a ticket to leave SEARCHING/PLACING through its event stream.
    async fn final_state(router: &axum::Router, player: &str, id: &str) -> Ticket {
        let path = format!("/v1/matchmaking/tickets/{id}/events");
        let request = authed("GET", &path, player).body(Body::empty()).unwrap();
        let mut body = router.clone().oneshot(request).await.unwrap().into_body();
        let mut text = String::new();
        loop {
            let frame = tokio::time::timeout(tests::fleet_local::WAIT, body.frame())
                .await
                .expect("the ticket finishes in time")
                .expect("the stream ends only after a final state")
                .unwrap();
            if let Ok(data) = frame.into_data() {
                text.push_str(std::str::from_utf8(&data).unwrap());
            }
            let last = text
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .filter_map(|d| serde_json::from_str::<protocol::http::TicketEvent>(d).ok())
                .next_back();
            if let Some(event) = last
                && event.ticket.state.is_final()
            {
                return event.ticket;
            }
        }
    }

    /// The HTTP API over embedded stores in `dir`, placing on `fleet` through the GameLift
    /// placer with matchmaking `config` and `driver` timing; its metrics and profiles too.
    fn api_on_fleet(
        fleet: &FleetLocal,
        gl: &aws_sdk_gamelift::Client,
        dir: &std::path::Path,
        config: backend::matchmaking::MatchmakerConfig,
        driver: DriverConfig,
    ) -> (axum::Router, ApiMetrics, Arc<EmbeddedProfiles>) {
        let placer = GameLiftPlacer::new(
            gl.clone(),
            Target::Fleet(fleet.fleet_id.clone()),
            Certificates::Fixed(CertificateFingerprint::of_der(b"fleet certificate")),
        );
        let profiles = Arc::new(EmbeddedProfiles::open(dir.join("profiles")).unwrap());
        let rankings = Arc::new(EmbeddedRankings::open(dir.join("rankings")).unwrap());
        let metrics = ApiMetrics::new();
        let clock = Clock::system();
        let modes = config.modes.iter().map(|m| m.name.clone()).collect();
        let (handle, _driver) = spawn_matchmaker(
            Matchmaker::new(config).unwrap(),
            Arc::new(placer),
            Arc::clone(&profiles) as Arc<dyn ProfileStore>,
            clock,
            driver,
            metrics.clone(),
            std::future::pending(),
        );
        let state = AppState {
            auth: Arc::new(Authenticator::hmac(KEY, None, None).unwrap()),
            matchmaker: handle,
            profiles: Arc::clone(&profiles) as Arc<dyn ProfileStore>,
            rankings: rankings as Arc<dyn Rankings>,
            parties: Arc::default(),
            rate_limiter: Arc::new(std::sync::Mutex::new(RateLimiter::new(RateLimit {
                burst: 100,
                per_second: 100,
            }))),
            modes: Arc::new(modes),
            clock,
            metrics: metrics.clone(),
        };
        (app(state, &ApiConfig::default()), metrics, profiles)
    }

    fn create(player: &str, mode: &str, latency: u32) -> Request<Body> {
        let body = format!(r#"{{"mode": "{mode}", "latencies_ms": {{"us-east-1": {latency}}}}}"#);
        authed("POST", "/v1/matchmaking/tickets", player)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap()
    }

    /// Four players ask for duels through the HTTP API on a fleet with one process: the
    /// first pair is placed on `fleet local` and its game server accepts their player
    /// sessions; the second pair finds no capacity and waits in PLACING, retried with
    /// backoff, until the first game session ends and a fresh process takes them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tickets_are_placed_on_fleet_local_and_wait_for_capacity() {
        let (dir, fleet) = super::lifecycle_fleet("api-gamelift", 1).await;
        let gl = fleet.gamelift().await;
        let (router, _metrics, profiles) = api_on_fleet(
            &fleet,
            &gl,
            &dir,
            backend::http::modes::default_config(),
            DriverConfig {
                tick: Duration::from_millis(50),
                capacity_retries: 30,
                capacity_backoff: Duration::from_millis(100),
                ..DriverConfig::default()
            },
        );

        let mut ids = Vec::new();
        for player in ["ann", "bob", "cid", "dan"] {
            let (status, ticket) = call(&router, create(player, "duel", 30)).await;
            assert_eq!(status, StatusCode::CREATED);
            ids.push((player, ticket.id));
            if ids.len() == 2 {
                // The first pair is placed before the second arrives.
                let first = final_state(&router, "ann", &ids[0].1).await;
                assert!(
                    matches!(first.state, TicketState::Completed { .. }),
                    "{first:?}"
                );
            }
        }
        let first = final_state(&router, "ann", &ids[0].1).await;
        let TicketState::Completed { connection } = first.state else {
            panic!("{first:?}")
        };
        assert_eq!(
            super::present(connection.port, &connection.player_session_id).await,
            "accepted"
        );
        let record = profiles
            .get_placement(&connection.game_session_id)
            .await
            .unwrap()
            .expect("recorded");
        assert_eq!(record.players.len(), 2);

        // The second pair waits for capacity; ending the first game session frees it.
        let (status, waiting) = call(
            &router,
            authed(
                "GET",
                &format!("/v1/matchmaking/tickets/{}", ids[2].1),
                "cid",
            )
            .body(Body::empty())
            .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(!waiting.state.is_final(), "{waiting:?}");
        gl.terminate_game_session()
            .game_session_id(&connection.game_session_id)
            .termination_mode(aws_sdk_gamelift::types::TerminationMode::TriggerOnProcessTerminate)
            .send()
            .await
            .unwrap();
        let second = final_state(&router, "dan", &ids[3].1).await;
        let TicketState::Completed { connection: next } = second.state else {
            panic!("{second:?}")
        };
        assert_ne!(next.game_session_id, connection.game_session_id);
        assert_eq!(
            super::present(next.port, &next.player_session_id).await,
            "accepted"
        );
        assert!(fleet.terminate().await);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Issue 6's crowd: 40 players with different ratings and latencies ask for duels
    /// and squads through the HTTP API while the fleet has no capacity (desired 0), so
    /// the first placements fail and their tickets go back to the pool (to be matched
    /// and placed again); a 41st ticket is cancelled in the meantime. Capacity comes back, and then every one of the 40 is placed on
    /// `fleet local` through aws-sdk-gamelift: each match has the mode's size, its
    /// players' ratings and latencies within the mode's (fully relaxed) caps, a placement
    /// record naming exactly its players, and player sessions the game server accepts.
    /// The cancelled ticket ends CANCELLED and is in no match.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forty_players_are_matched_fairly_and_placed_after_capacity_returns() {
        use backend::ratings::{BoardRecord, PlayerProfile, RatingStats};
        use protocol::http::BoardId;
        use std::collections::{BTreeMap, HashMap, HashSet};

        const DUEL: usize = 16; // 8 matches of 2
        const SQUADS: usize = 24; // 4 matches of 6
        let (dir, fleet) = super::lifecycle_fleet("api-crowd", 12).await;
        let gl = fleet.gamelift().await;
        // No capacity: placements fail until it comes back.
        gl.update_fleet_capacity()
            .fleet_id(&fleet.fleet_id)
            .desired_instances(0)
            .min_size(0)
            .send()
            .await
            .expect("UpdateFleetCapacity to 0");

        let mut config = backend::http::modes::default_config();
        // Failed placements send tickets back to the pool (no retries inside a placement
        // below), so the budget must outlast the outage.
        for mode in &mut config.modes {
            mode.placement_retries = 10_000;
        }
        // Each mode's caps as they relax with the wait, and its match size.
        let rules: HashMap<String, _> = config
            .modes
            .iter()
            .map(|m| (m.name.clone(), m.clone()))
            .collect();
        let (router, metrics_text, profiles) = api_on_fleet(
            &fleet,
            &gl,
            &dir,
            config,
            DriverConfig {
                tick: Duration::from_millis(50),
                // A full fleet fails the placement at once: its tickets go back to the pool.
                capacity_retries: 0,
                ..DriverConfig::default()
            },
        );
        // Ratings: duel players 20.0, 20.5, … and squads players 18.0, 18.4, …, seeded as
        // each player's board record (what ticket creation reads).
        let mut rating_of = HashMap::new();
        let mut latency_of = HashMap::new();
        let players: Vec<(String, &str)> = (0..DUEL + SQUADS)
            .map(|i| {
                let mode = if i < DUEL { "duel" } else { "squads" };
                (format!("crowd-{i:02}"), mode)
            })
            .collect();
        for (i, (player, mode)) in players.iter().enumerate() {
            let rating = if i < DUEL {
                20.0 + 0.5 * i as f64
            } else {
                18.0 + 0.4 * (i - DUEL) as f64
            };
            let mut profile = PlayerProfile::new(player);
            profile.version = 1;
            let mut stats = RatingStats::new();
            stats.rating = rating;
            profile.boards.push(BoardRecord {
                board: BoardId {
                    season: None,
                    mode: Some((*mode).to_owned()),
                },
                stats,
            });
            let outcome = profiles
                .commit_result(
                    &format!("seed-{player}"),
                    &[profile],
                    &BTreeMap::from([(player.clone(), 0)]),
                )
                .await
                .unwrap();
            assert!(matches!(outcome, backend::profiles::CommitOutcome::Applied));
            rating_of.insert(player.clone(), rating);
            latency_of.insert(player.clone(), 20 + (i as u32 * 7) % 60);
        }

        let queued_at = tokio::time::Instant::now();
        // The quitter queues first and cancels while nothing can be placed.
        let (status, quitter) = call(&router, create("crowd-quitter", "duel", 30)).await;
        assert_eq!(status, StatusCode::CREATED);
        let mut tickets = Vec::new();
        for (player, mode) in &players {
            let (status, ticket) = call(&router, create(player, mode, latency_of[player])).await;
            assert_eq!(status, StatusCode::CREATED, "{ticket:?}");
            tickets.push((player.clone(), ticket.id));
        }
        let path = format!("/v1/matchmaking/tickets/{}", quitter.id);
        let (status, cancelled) = call(
            &router,
            authed("DELETE", &path, "crowd-quitter")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(cancelled.state, TicketState::Cancelled, "{cancelled:?}");
        // Placements fail for lack of capacity, and their tickets return to the pool,
        // before capacity returns: polled on the backend's own counter, with a deadline.
        let deadline = tokio::time::Instant::now() + tests::fleet_local::WAIT;
        while !metrics_text
            .encode()
            .lines()
            .any(|l| l.contains("outcome=\"failed\"") && !l.ends_with(" 0"))
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no placement was refused for capacity:\n{}",
                metrics_text.encode()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        gl.update_fleet_capacity()
            .fleet_id(&fleet.fleet_id)
            .desired_instances(1)
            .send()
            .await
            .expect("UpdateFleetCapacity to 1");

        let mut sessions: HashMap<String, Vec<(String, protocol::http::ConnectionInfo)>> =
            HashMap::new();
        for (player, id) in &tickets {
            let ticket = final_state(&router, player, id).await;
            let TicketState::Completed { connection } = ticket.state else {
                panic!("{player}: {ticket:?}")
            };
            sessions
                .entry(connection.game_session_id.clone())
                .or_default()
                .push((player.clone(), connection));
        }
        assert_eq!(sessions.len(), 8 + 4, "8 duels and 4 squads matches");
        // No ticket waited longer than this, so no cap relaxed further than this.
        let waited_ms = queued_at.elapsed().as_millis() as u64;
        let mut seen = HashSet::new();
        for (gsid, members) in &sessions {
            let mode = players
                .iter()
                .find(|(p, _)| *p == members[0].0)
                .map(|(_, m)| *m)
                .unwrap();
            let m = &rules[mode];
            fn at<T: Copy>(initial: T, steps: &[(u64, T)], waited_ms: u64) -> T {
                steps
                    .iter()
                    .rfind(|(after, _)| *after <= waited_ms)
                    .map_or(initial, |(_, v)| *v)
            }
            let skill_cap = at(m.skill_cap.initial, &m.skill_cap.steps, waited_ms);
            let latency_cap = at(m.latency_cap_ms.initial, &m.latency_cap_ms.steps, waited_ms);
            let size = usize::from(m.teams) * usize::from(m.team_max);
            assert_eq!(members.len(), size, "{mode} match {gsid}");
            let ratings: Vec<f64> = members.iter().map(|(p, _)| rating_of[p]).collect();
            let spread = ratings.iter().cloned().fold(f64::MIN, f64::max)
                - ratings.iter().cloned().fold(f64::MAX, f64::min);
            assert!(
                spread <= skill_cap,
                "{gsid}: rating spread {spread} > {skill_cap}"
            );
            for (player, connection) in members {
                assert!(latency_of[player] <= latency_cap);
                assert!(seen.insert(player.clone()), "{player} placed twice");
                assert_eq!(
                    super::present(connection.port, &connection.player_session_id).await,
                    "accepted",
                    "{player} in {gsid}"
                );
            }
            let record = profiles
                .get_placement(gsid)
                .await
                .unwrap()
                .expect("recorded");
            let mut named: Vec<_> = record.players.iter().map(|p| p.player_id.clone()).collect();
            let mut placed: Vec<_> = members.iter().map(|(p, _)| p.clone()).collect();
            named.sort();
            placed.sort();
            assert_eq!(
                named, placed,
                "the placement record names exactly the match"
            );
            assert!(!named.contains(&"crowd-quitter".to_owned()));
        }
        assert!(fleet.terminate().await);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A flood larger than capacity (issue 7's fault scenario): 20 players ask for duels
    /// on a fleet with 2 processes whose game sessions never end. Two matches are placed;
    /// the other tickets fail their placements back into the pool until their budget is
    /// spent or they time out. None is lost: every ticket reaches a final state, the
    /// placed ones are exactly the players of the two game sessions, and the API's
    /// counts add up.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_beyond_capacity_waits_or_ends_and_loses_no_ticket() {
        use std::collections::HashMap;

        let (dir, fleet) = super::lifecycle_fleet("api-flood", 2).await;
        let gl = fleet.gamelift().await;
        let mut config = backend::http::modes::default_config();
        for mode in &mut config.modes {
            mode.placement_retries = 3;
            mode.ticket_timeout_ms = 5_000;
        }
        let (router, _metrics, _profiles) = api_on_fleet(
            &fleet,
            &gl,
            &dir,
            config,
            DriverConfig {
                tick: Duration::from_millis(50),
                capacity_retries: 0,
                ..DriverConfig::default()
            },
        );
        let mut tickets = Vec::new();
        for i in 0..20 {
            let player = format!("flood-{i:02}");
            let (status, ticket) = call(&router, create(&player, "duel", 30)).await;
            assert_eq!(status, StatusCode::CREATED);
            tickets.push((player, ticket.id));
        }
        let mut by_status: HashMap<&'static str, usize> = HashMap::new();
        let mut sessions: HashMap<String, usize> = HashMap::new();
        for (player, id) in &tickets {
            let ticket = final_state(&router, player, id).await;
            let status = ticket.state.status().as_str();
            *by_status.entry(status).or_default() += 1;
            match ticket.state {
                TicketState::Completed { connection } => {
                    *sessions.entry(connection.game_session_id).or_default() += 1;
                }
                TicketState::Failed { .. } | TicketState::TimedOut => {}
                other => panic!("{player}: unexpected final state {other:?}"),
            }
        }
        assert_eq!(by_status.values().sum::<usize>(), 20, "{by_status:?}");
        assert_eq!(sessions.len(), 2, "one match per process: {sessions:?}");
        assert!(sessions.values().all(|n| *n == 2), "{sessions:?}");
        assert_eq!(by_status.get("COMPLETED"), Some(&4), "{by_status:?}");
        assert!(fleet.terminate().await);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
