//! The in-process API, its stores and placers, and readers for replies and event streams.

pub(crate) use std::collections::BTreeMap;
pub(crate) use std::path::PathBuf;
pub(crate) use std::sync::Arc;
pub(crate) use std::sync::atomic::{AtomicU32, Ordering};
pub(crate) use std::time::Duration;

pub(crate) use axum::Router;
pub(crate) use axum::body::Body;
pub(crate) use axum::http::{HeaderMap, Method, Request, StatusCode, header};
pub(crate) use backend::http::auth::{HttpJwks, mint_dev_token};
pub(crate) use backend::http::{
    ApiConfig, ApiMetrics, AppState, Authenticator, Clock, DriverConfig, RateLimit, RateLimiter,
    admin_router, app, spawn_matchmaker,
};
pub(crate) use backend::matchmaking::{
    Matchmaker, MatchmakerConfig, ModeRules, ProposedMatch, Relaxing,
};
pub(crate) use backend::placement::{DevPlacer, PlacedMatch, PlacementFailure, Placer};
pub(crate) use backend::profiles::{
    CommitOutcome, EmbeddedProfiles, ProfilePage, ProfileStore, ProfilesError,
};
pub(crate) use backend::rankings::{BoxFuture, EmbeddedRankings, RankingUpdate, Rankings, Score};
pub(crate) use backend::ratings::{PlacementRecord, PlayerId};
pub(crate) use backend::ratings::{PlayerProfile, RatingStats};
pub(crate) use http_body_util::BodyExt;
pub(crate) use protocol::http::{
    BoardId, FailureReason, MatchOutcome, RecentMatch, Ticket, TicketEvent, TicketState,
    TicketStatus,
};
pub(crate) use serde_json::{Value, json};
pub(crate) use tower::ServiceExt;

pub(crate) const KEY: &[u8] = b"test-hmac-key-0123456789abcdef-0123456789";
pub(crate) const US: &str = "us-east-1";
pub(crate) const EU: &str = "eu-west-1";
pub(crate) const TICKET_TIMEOUT_MS: u64 = 60_000;

pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub(crate) fn token(player: &str) -> String {
    mint_dev_token(
        KEY,
        player,
        now_secs(),
        Duration::from_secs(600),
        None,
        None,
    )
    .unwrap()
}

pub(crate) fn mode(name: &str, team_max: u16) -> ModeRules {
    ModeRules {
        name: name.to_owned(),
        teams: 2,
        team_max,
        team_min: Relaxing::fixed(team_max),
        skill_cap: Relaxing::fixed(1_000.0),
        latency_cap_ms: Relaxing::fixed(150),
        ticket_timeout_ms: TICKET_TIMEOUT_MS,
        placement_retries: 1,
    }
}

pub(crate) fn matchmaker() -> Matchmaker {
    Matchmaker::new(MatchmakerConfig {
        modes: vec![mode("duel", 1), mode("squads", 2)],
        regions: vec![US.to_owned(), EU.to_owned()],
        recheck_interval_ms: 1_000,
        stats_window_ms: 60_000,
        candidate_window: 32,
    })
    .unwrap()
}

/// The dev placer, failing the first `failures` placements with `no_capacity`.
pub(crate) struct FlakyPlacer {
    pub(crate) failures: AtomicU32,
    pub(crate) dev: DevPlacer,
}

impl Placer for FlakyPlacer {
    fn place<'a>(
        &'a self,
        proposed: &'a ProposedMatch,
    ) -> BoxFuture<'a, Result<PlacedMatch, PlacementFailure>> {
        let fail = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if fail {
            return Box::pin(async {
                Err(PlacementFailure {
                    reason: FailureReason::NoCapacity,
                    message: "no fleet capacity (test)".to_owned(),
                })
            });
        }
        self.dev.place(proposed)
    }

    fn release<'a>(&'a self, placed: &'a PlacedMatch) -> BoxFuture<'a, ()> {
        self.dev.release(placed)
    }
}

/// The embedded store, except that storing a placement record always fails (as on a
/// full disk; `put_placements`, the trait's default, goes through `put_placement`);
/// everything else goes to the store.
pub(crate) struct NoPlacementRecords(pub(crate) Arc<EmbeddedProfiles>);

impl NoPlacementRecords {
    fn refused() -> ProfilesError {
        ProfilesError::LogFailed {
            path: PathBuf::from("test"),
            cause: "no space left on device (test)".to_owned(),
        }
    }
}

impl ProfileStore for NoPlacementRecords {
    fn get_profiles<'a>(
        &'a self,
        players: &'a [PlayerId],
    ) -> BoxFuture<'a, Result<BTreeMap<PlayerId, PlayerProfile>, ProfilesError>> {
        self.0.get_profiles(players)
    }

    fn put_placement<'a>(
        &'a self,
        _record: &'a PlacementRecord,
    ) -> BoxFuture<'a, Result<(), ProfilesError>> {
        Box::pin(async { Err(Self::refused()) })
    }

    fn get_placement<'a>(
        &'a self,
        match_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<PlacementRecord>, ProfilesError>> {
        self.0.get_placement(match_id)
    }

    fn is_applied<'a>(&'a self, match_id: &'a str) -> BoxFuture<'a, Result<bool, ProfilesError>> {
        self.0.is_applied(match_id)
    }

    fn commit_result<'a>(
        &'a self,
        match_id: &'a str,
        new_profiles: &'a [PlayerProfile],
        expected_versions: &'a BTreeMap<PlayerId, u64>,
    ) -> BoxFuture<'a, Result<CommitOutcome, ProfilesError>> {
        self.0
            .commit_result(match_id, new_profiles, expected_versions)
    }

    fn all_profiles<'a>(
        &'a self,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<ProfilePage, ProfilesError>> {
        self.0.all_profiles(cursor, limit)
    }
}

pub(crate) struct Options {
    pub(crate) placement_failures: u32,
    /// Capacity retries within one placement (0: every failure reaches the core).
    pub(crate) capacity_retries: u32,
    /// Replaces the flaky dev placer.
    pub(crate) placer: Option<Arc<dyn Placer>>,
    /// The driver's store refuses placement records ([`NoPlacementRecords`]).
    pub(crate) no_placement_records: bool,
    pub(crate) rate: RateLimit,
    pub(crate) cors_origin: Option<&'static str>,
    pub(crate) auth: Option<Authenticator>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            placement_failures: 0,
            capacity_retries: 0,
            placer: None,
            no_placement_records: false,
            rate: RateLimit {
                burst: 10_000,
                per_second: 10_000,
            },
            cors_origin: None,
            auth: None,
        }
    }
}

pub(crate) struct Api {
    pub(crate) router: Router,
    pub(crate) admin: Router,
    pub(crate) profiles: Arc<EmbeddedProfiles>,
    pub(crate) rankings: Arc<EmbeddedRankings>,
    pub(crate) _dir: TempDir,
}

pub(crate) struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A response: status, headers, JSON body (`Null` when empty or not JSON).
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl Reply {
    pub(crate) fn ticket(&self) -> Ticket {
        assert!(self.status.is_success(), "{} {}", self.status, self.body);
        serde_json::from_value(self.body.clone()).unwrap()
    }

    /// Asserts an error response with the API's shape and this status and code.
    pub(crate) fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.body["error"]["code"], code, "{}", self.body);
        assert!(
            self.body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert_eq!(
            self.headers[header::CONTENT_TYPE],
            "application/json",
            "error bodies are JSON"
        );
    }
}

impl Api {
    pub(crate) fn start(options: Options) -> Api {
        let dir = std::env::temp_dir().join(tests::unique_name("http-api"));
        let profiles = Arc::new(EmbeddedProfiles::open(dir.join("profiles")).unwrap());
        let rankings = Arc::new(EmbeddedRankings::open(dir.join("rankings")).unwrap());
        let clock = Clock::starting_at(1_700_000_000_000);
        let metrics = ApiMetrics::new();
        let placer = options.placer.unwrap_or_else(|| {
            Arc::new(FlakyPlacer {
                failures: AtomicU32::new(options.placement_failures),
                dev: DevPlacer::default(),
            })
        });
        let driver_profiles: Arc<dyn ProfileStore> = if options.no_placement_records {
            Arc::new(NoPlacementRecords(Arc::clone(&profiles)))
        } else {
            Arc::clone(&profiles) as Arc<dyn ProfileStore>
        };
        let (handle, _task) = spawn_matchmaker(
            matchmaker(),
            placer,
            driver_profiles,
            clock,
            DriverConfig {
                tick: Duration::from_millis(100),
                final_retention: Duration::from_secs(600),
                capacity_retries: options.capacity_retries,
                capacity_backoff: Duration::from_secs(1),
            },
            metrics.clone(),
            std::future::pending(),
        );
        let auth = options
            .auth
            .unwrap_or_else(|| Authenticator::hmac(KEY, None, None).unwrap());
        let state = AppState {
            auth: Arc::new(auth),
            matchmaker: handle.clone(),
            profiles: Arc::clone(&profiles) as Arc<dyn ProfileStore>,
            rankings: Arc::clone(&rankings) as Arc<dyn Rankings>,
            parties: Arc::default(),
            rate_limiter: Arc::new(std::sync::Mutex::new(RateLimiter::new(options.rate))),
            modes: Arc::new(vec!["duel".to_owned(), "squads".to_owned()]),
            clock,
            metrics: metrics.clone(),
        };
        let config = ApiConfig {
            cors_origin: options.cors_origin.map(|o| o.parse().unwrap()),
            body_limit: 0,
        };
        Api {
            router: app(state, &config),
            admin: admin_router(metrics, handle),
            profiles,
            rankings,
            _dir: TempDir(dir),
        }
    }

    /// The admin port's `/metrics` text.
    pub(crate) async fn metrics_text(&self) -> String {
        let response = self
            .admin
            .clone()
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    pub(crate) async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        player: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(player) = player {
            request = request.header(header::AUTHORIZATION, format!("Bearer {}", token(player)));
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    pub(crate) async fn create(&self, player: &str, body: Value) -> Reply {
        self.call(
            Method::POST,
            "/v1/matchmaking/tickets",
            Some(player),
            Some(body),
        )
        .await
    }

    pub(crate) async fn get(&self, player: &str, id: &str) -> Reply {
        let path = format!("/v1/matchmaking/tickets/{id}");
        self.call(Method::GET, &path, Some(player), None).await
    }

    pub(crate) async fn cancel(&self, player: &str, id: &str) -> Reply {
        let path = format!("/v1/matchmaking/tickets/{id}");
        self.call(Method::DELETE, &path, Some(player), None).await
    }

    pub(crate) async fn searching(&self) -> u64 {
        let stats = self
            .call(Method::GET, "/v1/matchmaking/stats", None, None)
            .await;
        assert_eq!(stats.status, StatusCode::OK);
        stats.body["modes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["tickets_searching"].as_u64().unwrap())
            .sum()
    }

    /// Opens a ticket's event stream as `player`.
    pub(crate) async fn events(
        &self,
        player: &str,
        id: &str,
        last_event_id: Option<u64>,
    ) -> Events {
        let mut request = Request::get(format!("/v1/matchmaking/tickets/{id}/events"))
            .header(header::AUTHORIZATION, format!("Bearer {}", token(player)));
        if let Some(last) = last_event_id {
            request = request.header("last-event-id", last.to_string());
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream"
        );
        Events {
            body: response.into_body(),
            buffer: String::new(),
        }
    }
}

/// A server-sent-events body, read event by event.
pub(crate) struct Events {
    pub(crate) body: Body,
    pub(crate) buffer: String,
}

impl Events {
    /// The next `ticket` event, or `None` when the stream ended.
    pub(crate) async fn next(&mut self) -> Option<TicketEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = None;
                let mut data = None;
                let mut id = None;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        name = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_owned());
                    }
                }
                let Some(data) = data else { continue }; // a keep-alive comment
                assert_eq!(name.as_deref(), Some("ticket"));
                let event: TicketEvent = serde_json::from_str(&data).unwrap();
                assert_eq!(id, Some(event.seq.to_string()));
                return Some(event);
            }
            let frame = self.body.frame().await?.unwrap();
            if let Ok(data) = frame.into_data() {
                self.buffer.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    }

    /// The statuses of the remaining events, until the stream ends.
    pub(crate) async fn rest(&mut self) -> Vec<(u64, TicketStatus)> {
        let mut out = Vec::new();
        while let Some(e) = self.next().await {
            out.push((e.seq, e.ticket.state.status()));
        }
        out
    }
}

pub(crate) fn duel() -> Value {
    json!({"mode": "duel", "latencies_ms": {US: 40}})
}

pub(crate) fn connection(ticket: &Ticket) -> &protocol::http::ConnectionInfo {
    match &ticket.state {
        TicketState::Completed { connection } => connection,
        other => panic!("not completed: {other:?}"),
    }
}
