//! The control plane on a real fleet: `FleetHandle` behind `api::router`, called with
//! `aws-sdk-gamelift`. Server processes are simulated by feeding SDK5 frames to the
//! engine through `FleetHandle::with_engine`; no driver runs, so nothing happens unless a
//! test makes it happen (effects are drained by hand, deadlines never fire).

use std::sync::Arc;

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_gamelift::error::ProvideErrorMetadata;
use aws_sdk_gamelift::types as sdk;
use aws_smithy_http_client::tls;
use aws_smithy_types::retry::RetryConfig;
use fleet::local::api;
use fleet::local::engine::{Effect, FleetConfig};
use fleet::local::runtime::FleetHandle;

const FLEET: &str = "fleet-1";
const FLEET_ARN: &str = "arn:aws:gamelift:us-east-1:123456789012:fleet/fleet-1";
const GS_PREFIX: &str = "arn:aws:gamelift:us-east-1::gamesession/fleet-1/";

struct Local {
    fleet: FleetHandle,
    client: Client,
}

/// A fleet served on `127.0.0.1:0` and an SDK client pointed at it.
async fn start() -> Local {
    let fleet = FleetHandle::new(FleetConfig::local(FLEET));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = api::router(Arc::new(fleet.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let config = aws_sdk_gamelift::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDLOCAL", "secret", None, None, "test"))
        .endpoint_url(format!("http://{addr}"))
        .http_client(http)
        .retry_config(RetryConfig::disabled())
        .build();
    Local {
        fleet,
        client: Client::from_conf(config),
    }
}

impl Local {
    /// Every effect queued so far.
    fn drain(&self) -> Vec<Effect> {
        self.fleet
            .with_engine(|e, _| std::iter::from_fn(|| e.poll_effect()).collect())
    }

    /// Sends one SDK5 frame from connection `conn` and returns the effects it caused.
    fn frame(&self, conn: u64, text: &str) -> Vec<Effect> {
        self.drain();
        self.fleet
            .with_engine(|e, now| e.handle_frame(now, conn, text));
        self.drain()
    }

    /// A server process that connected and called ProcessReady on port `port`.
    fn ready(&self, conn: u64, pid: &str, port: u16) {
        self.fleet
            .with_engine(|e, now| e.connect(now, conn, pid, &format!("tok-{pid}")))
            .unwrap();
        let reply = self.frame(
            conn,
            &format!(
                r#"{{"Action":"ActivateServerProcess","RequestId":"ready","SdkVersion":"5.6.0","SdkLanguage":"Rust","Port":{port},"LogPaths":[]}}"#
            ),
        );
        assert!(
            sent(&reply, conn).contains("\"StatusCode\":200"),
            "{reply:?}"
        );
    }

    /// The process on `conn` activates `game_session_id`.
    fn activate(&self, conn: u64, game_session_id: &str) {
        let reply = self.frame(
            conn,
            &format!(
                r#"{{"Action":"ActivateGameSession","RequestId":"act","GameSessionId":"{game_session_id}"}}"#
            ),
        );
        assert!(
            sent(&reply, conn).contains("\"StatusCode\":200"),
            "{reply:?}"
        );
    }

    async fn game_session(&self, id: &str) -> sdk::GameSession {
        let out = self
            .client
            .describe_game_sessions()
            .game_session_id(id)
            .send()
            .await
            .unwrap();
        assert_eq!(out.game_sessions().len(), 1);
        out.game_sessions()[0].clone()
    }

    async fn create(&self, name: &str) -> Result<sdk::GameSession, String> {
        self.client
            .create_game_session()
            .fleet_id(FLEET)
            .name(name)
            .maximum_player_session_count(2)
            .send()
            .await
            .map(|o| o.game_session().unwrap().clone())
            .map_err(|e| e.into_service_error().code().unwrap_or("?").to_owned())
    }
}

/// The text frames sent to `conn`, concatenated.
fn sent(effects: &[Effect], conn: u64) -> String {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { conn: c, text } if *c == conn => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The service error's exception name.
fn code<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    err: aws_sdk_gamelift::error::SdkError<E, R>,
) -> String {
    match err.code() {
        Some(code) => code.to_owned(),
        None => panic!("not a service error: {err:?}"),
    }
}

fn now_ms() -> i64 {
    fleet::local::runtime::now_ms()
}

fn millis(t: Option<&aws_smithy_types::DateTime>) -> i64 {
    t.expect("a timestamp").to_millis().unwrap()
}

/// The backend's path: create a game session, the process activates it, reserve players,
/// list and search, terminate, and the process ends.
#[tokio::test]
async fn game_session_lifecycle_through_the_sdk() {
    let f = start().await;

    // No process yet: no capacity.
    assert_eq!(
        f.create("early").await.unwrap_err(),
        "FleetCapacityExceededException"
    );

    f.ready(1, "proc-1", 7777);
    let before = now_ms();
    let gs = f
        .client
        .create_game_session()
        .fleet_id(FLEET_ARN)
        .location("us-east-1")
        .name("match-1")
        .maximum_player_session_count(2)
        .game_properties(
            sdk::GameProperty::builder()
                .key("mode")
                .value("duel")
                .build(),
        )
        .creator_id("creator-1")
        .game_session_data("{\"seed\":1}")
        .send()
        .await
        .unwrap()
        .game_session
        .unwrap();
    let id = gs.game_session_id().unwrap().to_owned();
    assert!(id.starts_with(GS_PREFIX), "{id}");
    assert_eq!(gs.status(), Some(&sdk::GameSessionStatus::Activating));
    assert_eq!(gs.name(), Some("match-1"));
    assert_eq!(gs.fleet_id(), Some(FLEET));
    assert_eq!(gs.fleet_arn(), Some(FLEET_ARN));
    assert_eq!(gs.current_player_session_count(), Some(0));
    assert_eq!(gs.maximum_player_session_count(), Some(2));
    assert_eq!(gs.game_properties().len(), 1);
    assert_eq!(gs.game_properties()[0].key(), Some("mode"));
    assert_eq!(gs.game_properties()[0].value(), Some("duel"));
    assert_eq!(gs.ip_address(), Some("127.0.0.1"));
    assert_eq!(gs.dns_name(), Some("localhost"));
    assert_eq!(gs.port(), Some(7777));
    assert_eq!(
        gs.player_session_creation_policy(),
        Some(&sdk::PlayerSessionCreationPolicy::AcceptAll)
    );
    assert_eq!(gs.creator_id(), Some("creator-1"));
    assert_eq!(gs.game_session_data(), Some("{\"seed\":1}"));
    assert_eq!(gs.matchmaker_data(), None);
    assert_eq!(gs.location(), Some("us-east-1"));
    assert_eq!(gs.compute_name(), Some("local-compute"));
    assert_eq!(gs.status_reason(), None);
    assert!(gs.termination_time().is_none());
    let created = millis(gs.creation_time());
    assert!((before..=now_ms()).contains(&created), "{created}");

    // The process was pushed the session.
    let pushed = sent(&f.drain(), 1);
    assert!(
        pushed.contains("CreateGameSession") && pushed.contains(&id),
        "{pushed}"
    );

    // Not ACTIVE yet: no player sessions; and the only process is taken.
    let err = f
        .client
        .create_player_sessions()
        .game_session_id(&id)
        .player_ids("ann")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "InvalidGameSessionStatusException");
    assert_eq!(
        f.create("second").await.unwrap_err(),
        "FleetCapacityExceededException"
    );

    f.activate(1, &id);
    let gs = f.game_session(&id).await;
    assert_eq!(gs.status(), Some(&sdk::GameSessionStatus::Active));
    assert_eq!(millis(gs.creation_time()), created);

    // Reserve two players; the third does not fit.
    let out = f
        .client
        .create_player_sessions()
        .game_session_id(&id)
        .player_ids("ann")
        .player_ids("bob")
        .player_data_map("ann", "ann-data")
        .player_data_map("zed", "ignored")
        .send()
        .await
        .unwrap();
    let ps = out.player_sessions();
    assert_eq!(ps.len(), 2);
    for (p, player) in ps.iter().zip(["ann", "bob"]) {
        assert!(p.player_session_id().unwrap().starts_with("psess-"));
        assert_eq!(p.player_id(), Some(player));
        assert_eq!(p.game_session_id(), Some(id.as_str()));
        assert_eq!(p.fleet_id(), Some(FLEET));
        assert_eq!(p.fleet_arn(), Some(FLEET_ARN));
        assert_eq!(p.status(), Some(&sdk::PlayerSessionStatus::Reserved));
        assert_eq!(p.ip_address(), Some("127.0.0.1"));
        assert_eq!(p.dns_name(), Some("localhost"));
        assert_eq!(p.port(), Some(7777));
        assert!(p.creation_time().is_some() && p.termination_time().is_none());
    }
    assert_eq!(ps[0].player_data(), Some("ann-data"));
    assert_eq!(ps[1].player_data(), None);
    let ann = ps[0].player_session_id().unwrap().to_owned();

    let err = f
        .client
        .create_player_session()
        .game_session_id(&id)
        .player_id("cat")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "GameSessionFullException");
    assert_eq!(
        f.game_session(&id).await.current_player_session_count(),
        Some(2)
    );

    // DescribePlayerSessions by game session, player, player session, with filters.
    let by_gs = f
        .client
        .describe_player_sessions()
        .game_session_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(by_gs.player_sessions().len(), 2);
    let page = f
        .client
        .describe_player_sessions()
        .game_session_id(&id)
        .limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.player_sessions().len(), 1);
    let rest = f
        .client
        .describe_player_sessions()
        .game_session_id(&id)
        .limit(1)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.player_sessions()[0].player_id(), Some("bob"));
    assert!(rest.next_token().is_none());
    let by_player = f
        .client
        .describe_player_sessions()
        .player_id("ann")
        .send()
        .await
        .unwrap();
    assert_eq!(by_player.player_sessions().len(), 1);
    assert_eq!(
        by_player.player_sessions()[0].player_session_id(),
        Some(ann.as_str())
    );
    let by_id = f
        .client
        .describe_player_sessions()
        .player_session_id(&ann)
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.player_sessions()[0].player_data(), Some("ann-data"));
    let active = f
        .client
        .describe_player_sessions()
        .game_session_id(&id)
        .player_session_status_filter("ACTIVE")
        .send()
        .await
        .unwrap();
    assert!(active.player_sessions().is_empty());
    let err = f
        .client
        .describe_player_sessions()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "InvalidRequestException");
    let err = f
        .client
        .describe_player_sessions()
        .game_session_id(&id)
        .limit(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "InvalidRequestException");

    // Listing and searching the fleet.
    let listed = f
        .client
        .describe_game_sessions()
        .fleet_id(FLEET)
        .status_filter("ACTIVE")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.game_sessions().len(), 1);
    assert_eq!(
        listed.game_sessions()[0].game_session_id(),
        Some(id.as_str())
    );
    let details = f
        .client
        .describe_game_session_details()
        .fleet_id(FLEET)
        .send()
        .await
        .unwrap();
    let detail = &details.game_session_details()[0];
    assert_eq!(
        detail.protection_policy(),
        Some(&sdk::ProtectionPolicy::NoProtection)
    );
    assert_eq!(
        detail.game_session().unwrap().game_session_id(),
        Some(id.as_str())
    );
    let full = f
        .client
        .search_game_sessions()
        .fleet_id(FLEET)
        .filter_expression("hasAvailablePlayerSessions=false")
        .send()
        .await
        .unwrap();
    assert_eq!(full.game_sessions().len(), 1);
    let open = f
        .client
        .search_game_sessions()
        .fleet_id(FLEET)
        .filter_expression("hasAvailablePlayerSessions=true")
        .send()
        .await
        .unwrap();
    assert!(open.game_sessions().is_empty());
    let err = f
        .client
        .search_game_sessions()
        .fleet_id(FLEET)
        .filter_expression("gameSessionName = 'x'")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "InvalidRequestException");

    // Terminate: TERMINATING until the process ends, which it is asked to do.
    let gs = f
        .client
        .terminate_game_session()
        .game_session_id(&id)
        .termination_mode(sdk::TerminationMode::TriggerOnProcessTerminate)
        .send()
        .await
        .unwrap()
        .game_session
        .unwrap();
    assert_eq!(gs.status(), Some(&sdk::GameSessionStatus::Terminating));
    assert_eq!(
        gs.status_reason(),
        Some(&sdk::GameSessionStatusReason::TriggeredOnProcessTerminate)
    );
    assert!(sent(&f.drain(), 1).contains("TerminateProcess"));
    let err = f
        .client
        .terminate_game_session()
        .game_session_id(&id)
        .termination_mode(sdk::TerminationMode::TriggerOnProcessTerminate)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "InvalidGameSessionStatusException");

    f.frame(
        1,
        r#"{"Action":"TerminateServerProcess","RequestId":"end"}"#,
    );
    let ended = f
        .client
        .describe_game_sessions()
        .fleet_id(FLEET)
        .status_filter("TERMINATED")
        .send()
        .await
        .unwrap();
    let gs = &ended.game_sessions()[0];
    assert_eq!(gs.status(), Some(&sdk::GameSessionStatus::Terminated));
    assert_eq!(gs.current_player_session_count(), Some(0));
    assert!(millis(gs.termination_time()) >= created);
    let done = f
        .client
        .describe_player_sessions()
        .game_session_id(&id)
        .player_session_status_filter("COMPLETED")
        .send()
        .await
        .unwrap();
    assert_eq!(done.player_sessions().len(), 2);
    assert!(done.player_sessions()[0].termination_time().is_some());
}

/// Unknown things and unsupported targets arrive as the exceptions GameLift raises.
#[tokio::test]
async fn lookups_fail_with_typed_errors() {
    let f = start().await;
    let unknown = format!("{GS_PREFIX}gsess-nope");

    let err = f
        .client
        .describe_game_sessions()
        .game_session_id(&unknown)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "NotFoundException");
    let err = f
        .client
        .describe_game_sessions()
        .fleet_id("fleet-other")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "NotFoundException");
    let err = f
        .client
        .create_game_session()
        .alias_id("alias-1")
        .maximum_player_session_count(2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "NotFoundException");
    let err = f
        .client
        .create_game_session()
        .fleet_id(FLEET)
        .location("eu-west-1")
        .maximum_player_session_count(2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "InvalidRequestException");
    let err = f
        .client
        .create_game_session()
        .maximum_player_session_count(2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "InvalidRequestException");
    let err = f
        .client
        .create_game_session()
        .fleet_id(FLEET)
        .maximum_player_session_count(-1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "InvalidRequestException");
    let err = f
        .client
        .create_player_sessions()
        .game_session_id(&unknown)
        .player_ids("ann")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "NotFoundException");
    let err = f
        .client
        .terminate_game_session()
        .game_session_id(&unknown)
        .termination_mode(sdk::TerminationMode::ForceTerminate)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "NotFoundException");
    let err = f
        .client
        .describe_game_session_placement()
        .placement_id("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "NotFoundException");
    let err = f
        .client
        .stop_game_session_placement()
        .placement_id("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "NotFoundException");
    let err = f
        .client
        .search_game_sessions()
        .alias_id("alias-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "NotFoundException");
}

/// A custom GameSessionId names the ARN and makes CreateGameSession idempotent;
/// FORCE_TERMINATE ends the session at once and kills its process.
#[tokio::test]
async fn custom_ids_and_force_terminate() {
    let f = start().await;
    f.ready(1, "proc-1", 7777);
    let create = || {
        f.client
            .create_game_session()
            .fleet_id(FLEET)
            .game_session_id("my-match")
            .maximum_player_session_count(4)
            .send()
    };
    let first = create().await.unwrap().game_session.unwrap();
    let id = first.game_session_id().unwrap().to_owned();
    assert_eq!(id, format!("{GS_PREFIX}my-match"));
    let again = create().await.unwrap().game_session.unwrap();
    assert_eq!(again.game_session_id(), Some(id.as_str()));
    let err = f
        .client
        .create_game_session()
        .fleet_id(FLEET)
        .game_session_id("my-match")
        .maximum_player_session_count(5)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "IdempotentParameterMismatchException");

    f.activate(1, &id);
    let gs = f
        .client
        .terminate_game_session()
        .game_session_id(&id)
        .termination_mode(sdk::TerminationMode::ForceTerminate)
        .send()
        .await
        .unwrap()
        .game_session
        .unwrap();
    assert_eq!(gs.status(), Some(&sdk::GameSessionStatus::Terminated));
    assert_eq!(
        gs.status_reason(),
        Some(&sdk::GameSessionStatusReason::ForceTerminated)
    );
    assert!(gs.termination_time().is_some());
    let effects = f.drain();
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Kill { process_id, .. } if process_id == "proc-1")),
        "{effects:?}"
    );
}

/// StartGameSessionPlacement waits for capacity, places, and is FULFILLED with its
/// player sessions once the process activates the session; Stop cancels a pending one.
#[tokio::test]
async fn placement_through_the_sdk() {
    let f = start().await;
    let latency = |player: &str, ms: f32| {
        sdk::PlayerLatency::builder()
            .player_id(player)
            .region_identifier("us-east-1")
            .latency_in_milliseconds(ms)
            .build()
    };
    let desired = |player: &str| {
        sdk::DesiredPlayerSession::builder()
            .player_id(player)
            .player_data(format!("{player}-data"))
            .build()
    };
    let p = f
        .client
        .start_game_session_placement()
        .placement_id("placement-1")
        .game_session_queue_name("default")
        .maximum_player_session_count(4)
        .game_session_name("duel")
        .game_properties(
            sdk::GameProperty::builder()
                .key("mode")
                .value("duel")
                .build(),
        )
        .game_session_data("gsd")
        .player_latencies(latency("ann", 12.5))
        .desired_player_sessions(desired("ann"))
        .desired_player_sessions(desired("bob"))
        .send()
        .await
        .unwrap()
        .game_session_placement
        .unwrap();
    assert_eq!(p.placement_id(), Some("placement-1"));
    assert_eq!(p.game_session_queue_name(), Some("default"));
    assert_eq!(p.status(), Some(&sdk::GameSessionPlacementState::Pending));
    assert_eq!(p.maximum_player_session_count(), Some(4));
    assert_eq!(p.game_session_name(), Some("duel"));
    assert_eq!(p.game_session_data(), Some("gsd"));
    assert_eq!(p.game_properties()[0].value(), Some("duel"));
    assert_eq!(p.player_latencies().len(), 1);
    assert_eq!(
        p.player_latencies()[0].latency_in_milliseconds(),
        Some(12.5)
    );
    assert!(p.start_time().is_some() && p.end_time().is_none());
    assert!(p.game_session_arn().is_none() && p.placed_player_sessions().is_empty());

    // The same PlacementId again is refused.
    let err = f
        .client
        .start_game_session_placement()
        .placement_id("placement-1")
        .game_session_queue_name("default")
        .maximum_player_session_count(4)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(err), "InvalidRequestException");

    // A process arrives. The engine moves PENDING placements on only in `tick` (and in
    // start_placement), not when a process becomes ready, so the test ticks by hand.
    f.ready(1, "proc-1", 7001);
    f.fleet.with_engine(|e, now| e.tick(now));
    let listed = f
        .client
        .describe_game_sessions()
        .fleet_id(FLEET)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.game_sessions().len(), 1);
    let gs = &listed.game_sessions()[0];
    assert_eq!(gs.status(), Some(&sdk::GameSessionStatus::Activating));
    assert_eq!(gs.name(), Some("duel"));
    let id = gs.game_session_id().unwrap().to_owned();
    let p = f
        .client
        .describe_game_session_placement()
        .placement_id("placement-1")
        .send()
        .await
        .unwrap()
        .game_session_placement
        .unwrap();
    assert_eq!(p.status(), Some(&sdk::GameSessionPlacementState::Pending));

    f.activate(1, &id);
    let p = f
        .client
        .describe_game_session_placement()
        .placement_id("placement-1")
        .send()
        .await
        .unwrap()
        .game_session_placement
        .unwrap();
    assert_eq!(p.status(), Some(&sdk::GameSessionPlacementState::Fulfilled));
    assert_eq!(p.game_session_id(), Some(id.as_str()));
    assert_eq!(p.game_session_arn(), Some(id.as_str()));
    assert_eq!(p.game_session_region(), Some("us-east-1"));
    assert_eq!(p.ip_address(), Some("127.0.0.1"));
    assert_eq!(p.dns_name(), Some("localhost"));
    assert_eq!(p.port(), Some(7001));
    assert!(millis(p.end_time()) >= millis(p.start_time()));
    let placed = p.placed_player_sessions();
    assert_eq!(placed.len(), 2);
    assert_eq!(placed[0].player_id(), Some("ann"));
    assert_eq!(placed[1].player_id(), Some("bob"));
    let ps = f
        .client
        .describe_player_sessions()
        .player_session_id(placed[0].player_session_id().unwrap())
        .send()
        .await
        .unwrap();
    let ps = &ps.player_sessions()[0];
    assert_eq!(ps.status(), Some(&sdk::PlayerSessionStatus::Reserved));
    assert_eq!(ps.game_session_id(), Some(id.as_str()));
    assert_eq!(ps.player_data(), Some("ann-data"));
    assert_eq!(
        f.game_session(&id).await.current_player_session_count(),
        Some(2)
    );

    // Stopping a fulfilled placement changes nothing.
    let p = f
        .client
        .stop_game_session_placement()
        .placement_id("placement-1")
        .send()
        .await
        .unwrap()
        .game_session_placement
        .unwrap();
    assert_eq!(p.status(), Some(&sdk::GameSessionPlacementState::Fulfilled));

    // A second placement finds no capacity and stays PENDING until stopped.
    let p = f
        .client
        .start_game_session_placement()
        .placement_id("placement-2")
        .game_session_queue_name("default")
        .maximum_player_session_count(2)
        .send()
        .await
        .unwrap()
        .game_session_placement
        .unwrap();
    assert_eq!(p.status(), Some(&sdk::GameSessionPlacementState::Pending));
    let p = f
        .client
        .stop_game_session_placement()
        .placement_id("placement-2")
        .send()
        .await
        .unwrap()
        .game_session_placement
        .unwrap();
    assert_eq!(p.status(), Some(&sdk::GameSessionPlacementState::Cancelled));
    assert!(p.end_time().is_some());
    assert!(p.placed_player_sessions().is_empty());
}

/// The one fleet's attributes and capacity, following its processes.
#[tokio::test]
async fn fleet_attributes_and_capacity() {
    let f = start().await;
    let all = f.client.describe_fleet_attributes().send().await.unwrap();
    assert_eq!(all.fleet_attributes().len(), 1);
    let a = &all.fleet_attributes()[0];
    assert_eq!(a.fleet_id(), Some(FLEET));
    assert_eq!(a.fleet_arn(), Some(FLEET_ARN));
    assert_eq!(a.status(), Some(&sdk::FleetStatus::Active));
    assert_eq!(a.fleet_type(), Some(&sdk::FleetType::OnDemand));
    assert_eq!(a.compute_type(), Some(&sdk::ComputeType::Ec2));
    assert!(all.next_token().is_none());

    let by_arn = f
        .client
        .describe_fleet_attributes()
        .fleet_ids(FLEET_ARN)
        .fleet_ids("fleet-other")
        .send()
        .await
        .unwrap();
    assert_eq!(by_arn.fleet_attributes().len(), 1);
    let other = f
        .client
        .describe_fleet_attributes()
        .fleet_ids("fleet-other")
        .send()
        .await
        .unwrap();
    assert!(other.fleet_attributes().is_empty());

    let counts = || async {
        let out = f
            .client
            .describe_fleet_capacity()
            .fleet_ids(FLEET)
            .send()
            .await
            .unwrap();
        assert_eq!(out.fleet_capacity().len(), 1);
        let c = &out.fleet_capacity()[0];
        assert_eq!(c.fleet_id(), Some(FLEET));
        assert_eq!(c.location(), Some("us-east-1"));
        let n = c.instance_counts().unwrap();
        assert_eq!(
            (
                n.desired(),
                n.minimum(),
                n.maximum(),
                n.pending(),
                n.terminating()
            ),
            (Some(1), Some(0), Some(1), Some(0), Some(0))
        );
        (n.active().unwrap(), n.idle().unwrap())
    };
    assert_eq!(counts().await, (1, 0), "no process: nothing idle");
    f.ready(1, "proc-1", 7777);
    assert_eq!(counts().await, (1, 1), "an idle process");
    f.fleet.with_engine(|e, _| e.set_capacity_paused(true));
    assert_eq!(counts().await, (0, 0), "capacity paused");
    f.fleet.with_engine(|e, _| e.set_capacity_paused(false));
    f.create("busy").await.unwrap();
    assert_eq!(counts().await, (1, 0), "the process hosts a game session");
}
