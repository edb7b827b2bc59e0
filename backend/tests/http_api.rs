//! The HTTP API in process: the axum router driven with `oneshot`, the matchmaking
//! driver on paused tokio time (virtual time: waits are for events, never for the wall
//! clock), embedded profile and rankings stores in a temporary directory, and the dev
//! placer (or one that fails on purpose). Covers the ticket lifecycle and its event
//! stream, parties, placement failure and retry, time limits, every "bad input" case of
//! issue 6 (each a 4xx with the error shape and no state change), rate limiting, CORS,
//! leaderboards and profiles, the OpenAPI document, the admin port, and RS256 tokens from
//! a JWKS served on loopback.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use backend::http::auth::{HttpJwks, mint_dev_token};
use backend::http::{
    ApiConfig, ApiMetrics, AppState, Authenticator, Clock, DriverConfig, RateLimit, RateLimiter,
    admin_router, app, spawn_matchmaker,
};
use backend::matchmaking::{Matchmaker, MatchmakerConfig, ModeRules, ProposedMatch, Relaxing};
use backend::placement::{DevPlacer, PlacedMatch, PlacementFailure, Placer};
use backend::profiles::{EmbeddedProfiles, ProfileStore};
use backend::rankings::{BoxFuture, EmbeddedRankings, RankingUpdate, Rankings, Score};
use backend::ratings::{PlayerProfile, RatingStats};
use http_body_util::BodyExt;
use protocol::http::{
    BoardId, FailureReason, MatchOutcome, RecentMatch, Ticket, TicketEvent, TicketState,
    TicketStatus,
};
use serde_json::{Value, json};
use tower::ServiceExt;

const KEY: &[u8] = b"test-hmac-key-0123456789abcdef-0123456789";
const US: &str = "us-east-1";
const EU: &str = "eu-west-1";
const TICKET_TIMEOUT_MS: u64 = 60_000;

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token(player: &str) -> String {
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

fn mode(name: &str, team_max: u16) -> ModeRules {
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

fn matchmaker() -> Matchmaker {
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
struct FlakyPlacer {
    failures: AtomicU32,
    dev: DevPlacer,
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

struct Options {
    placement_failures: u32,
    /// Capacity retries within one placement (0: every failure reaches the core).
    capacity_retries: u32,
    /// Replaces the flaky dev placer.
    placer: Option<Arc<dyn Placer>>,
    rate: RateLimit,
    cors_origin: Option<&'static str>,
    auth: Option<Authenticator>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            placement_failures: 0,
            capacity_retries: 0,
            placer: None,
            rate: RateLimit {
                burst: 10_000,
                per_second: 10_000,
            },
            cors_origin: None,
            auth: None,
        }
    }
}

struct Api {
    router: Router,
    admin: Router,
    profiles: Arc<EmbeddedProfiles>,
    rankings: Arc<EmbeddedRankings>,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A response: status, headers, JSON body (`Null` when empty or not JSON).
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    fn ticket(&self) -> Ticket {
        assert!(self.status.is_success(), "{} {}", self.status, self.body);
        serde_json::from_value(self.body.clone()).unwrap()
    }

    /// Asserts an error response with the API's shape and this status and code.
    fn assert_error(&self, status: u16, code: &str) {
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
    fn start(options: Options) -> Api {
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
        let (handle, _task) = spawn_matchmaker(
            matchmaker(),
            placer,
            Arc::clone(&profiles) as Arc<dyn ProfileStore>,
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

    async fn send(&self, request: Request<Body>) -> Reply {
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

    async fn call(
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

    async fn create(&self, player: &str, body: Value) -> Reply {
        self.call(
            Method::POST,
            "/v1/matchmaking/tickets",
            Some(player),
            Some(body),
        )
        .await
    }

    async fn get(&self, player: &str, id: &str) -> Reply {
        let path = format!("/v1/matchmaking/tickets/{id}");
        self.call(Method::GET, &path, Some(player), None).await
    }

    async fn cancel(&self, player: &str, id: &str) -> Reply {
        let path = format!("/v1/matchmaking/tickets/{id}");
        self.call(Method::DELETE, &path, Some(player), None).await
    }

    async fn searching(&self) -> u64 {
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
    async fn events(&self, player: &str, id: &str, last_event_id: Option<u64>) -> Events {
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
struct Events {
    body: Body,
    buffer: String,
}

impl Events {
    /// The next `ticket` event, or `None` when the stream ended.
    async fn next(&mut self) -> Option<TicketEvent> {
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
    async fn rest(&mut self) -> Vec<(u64, TicketStatus)> {
        let mut out = Vec::new();
        while let Some(e) = self.next().await {
            out.push((e.seq, e.ticket.state.status()));
        }
        out
    }
}

fn duel() -> Value {
    json!({"mode": "duel", "latencies_ms": {US: 40}})
}

fn connection(ticket: &Ticket) -> &protocol::http::ConnectionInfo {
    match &ticket.state {
        TicketState::Completed { connection } => connection,
        other => panic!("not completed: {other:?}"),
    }
}

/// Two players are matched and placed; each sees the match through GET and the event
/// stream (SEARCHING, PLACING, COMPLETED with seq 1, 2, 3), with their own player
/// session; the placement record was stored before they learned of it.
#[tokio::test(start_paused = true)]
async fn two_players_are_matched_placed_and_recorded() {
    let api = Api::start(Options::default());
    let a = api.create("p-1", duel()).await;
    assert_eq!(a.status, StatusCode::CREATED);
    let a = a.ticket();
    assert_eq!(a.state, TicketState::Searching);
    assert_eq!(a.players, ["p-1"]);
    assert_eq!(a.expires_at, a.created_at + TICKET_TIMEOUT_MS);
    let mut events = api.events("p-1", &a.id, None).await;
    let first = events.next().await.unwrap();
    assert_eq!(
        (first.seq, first.ticket.state.status()),
        (1, TicketStatus::Searching)
    );

    let b = api.create("p-2", duel()).await.ticket();
    let placing = events.next().await.unwrap();
    assert_eq!(
        (placing.seq, placing.ticket.state.status()),
        (2, TicketStatus::Placing)
    );
    let done = events.next().await.unwrap();
    assert_eq!(done.seq, 3);
    assert!(
        events.next().await.is_none(),
        "the stream ends after a final state"
    );

    let a_conn = connection(&done.ticket).clone();
    let b_now = api.get("p-2", &b.id).await.ticket();
    let b_conn = connection(&b_now);
    assert_eq!(a_conn.game_session_id, b_conn.game_session_id);
    assert_ne!(a_conn.player_session_id, b_conn.player_session_id);
    assert_eq!(api.get("p-1", &a.id).await.ticket(), done.ticket);

    let record = api
        .profiles
        .get_placement(&a_conn.game_session_id)
        .await
        .unwrap()
        .expect("the placement was recorded");
    let sessions: BTreeMap<_, _> = record
        .players
        .iter()
        .map(|p| (p.player_id.as_str(), p.player_session_id.as_str()))
        .collect();
    assert_eq!(sessions["p-1"], a_conn.player_session_id);
    assert_eq!(sessions["p-2"], b_conn.player_session_id);

    // A reconnect after the last event sees nothing more; one after seq 1 sees the rest.
    assert!(
        api.events("p-1", &a.id, Some(3))
            .await
            .next()
            .await
            .is_none()
    );
    let rest = api.events("p-1", &a.id, Some(1)).await.rest().await;
    assert_eq!(rest, [(3, TicketStatus::Completed)]);

    let metrics = api
        .admin
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text = metrics.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(text.to_vec()).unwrap();
    assert!(text.contains("backend_tickets_created_total 2"), "{text}");
    assert!(
        text.contains("backend_placements_total{outcome=\"succeeded\"} 1"),
        "{text}"
    );
}

/// A party ticket may name only players who joined the caller's party: naming another
/// player is 403 and creates nothing; after the member joins, the ticket holds both,
/// the member sees it, and the member cannot queue alone meanwhile (409).
#[tokio::test(start_paused = true)]
async fn party_members_must_have_joined() {
    let api = Api::start(Options::default());
    let squad = json!({"mode": "squads", "party": ["p-2"], "latencies_ms": {EU: 30}});
    api.create("p-1", squad.clone())
        .await
        .assert_error(403, "forbidden");
    assert_eq!(api.searching().await, 0);

    // Joining someone else's party does not let p-1 name p-2.
    let join = api
        .call(
            Method::PUT,
            "/v1/party",
            Some("p-2"),
            Some(json!({"leader": "p-9"})),
        )
        .await;
    assert_eq!(join.status, StatusCode::OK);
    api.create("p-1", squad.clone())
        .await
        .assert_error(403, "forbidden");

    let join = api
        .call(
            Method::PUT,
            "/v1/party",
            Some("p-2"),
            Some(json!({"leader": "p-1"})),
        )
        .await;
    assert_eq!(join.body, json!({"leader": "p-1", "members": ["p-2"]}));
    let led = api.call(Method::GET, "/v1/party", Some("p-1"), None).await;
    assert_eq!(led.body, json!({"leader": "p-1", "members": ["p-2"]}));
    let ticket = api.create("p-1", squad).await.ticket();
    assert_eq!(ticket.players, ["p-1", "p-2"]);
    assert_eq!(api.get("p-2", &ticket.id).await.ticket().id, ticket.id);
    api.create("p-2", duel())
        .await
        .assert_error(409, "conflict");
    assert_eq!(api.searching().await, 1);

    // Joining one's own party is a 400; leaving returns the party the caller leads.
    api.call(
        Method::PUT,
        "/v1/party",
        Some("p-3"),
        Some(json!({"leader": "p-3"})),
    )
    .await
    .assert_error(400, "invalid_request");
    let left = api
        .call(Method::DELETE, "/v1/party", Some("p-2"), None)
        .await;
    assert_eq!(left.body, json!({"leader": "p-2", "members": []}));
}

/// Missing, malformed, forged and expired tokens, the wrong scheme, a subject that is
/// not a player id and an unsigned token are each 401 with the error shape and
/// `WWW-Authenticate`, and create nothing.
#[tokio::test(start_paused = true)]
async fn bad_tokens_are_refused() {
    let api = Api::start(Options::default());
    let forged = mint_dev_token(
        b"another-key-0123456789abcdef-0123456789",
        "p-1",
        now_secs(),
        Duration::from_secs(600),
        None,
        None,
    )
    .unwrap();
    let expired = mint_dev_token(
        KEY,
        "p-1",
        now_secs() - 7_200,
        Duration::from_secs(600),
        None,
        None,
    )
    .unwrap();
    let bad_subject = mint_dev_token(
        KEY,
        "p 1/x",
        now_secs(),
        Duration::from_secs(600),
        None,
        None,
    )
    .unwrap();
    // alg "none": the payload of a valid token with its signature dropped.
    let valid = token("p-1");
    let payload = valid.split('.').nth(1).unwrap();
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    let cases = [
        None,
        Some("Bearer".to_owned()),
        Some("Bearer not-a-jwt".to_owned()),
        Some(format!("Bearer {forged}")),
        Some(format!("Bearer {expired}")),
        Some(format!("Basic {valid}")),
        Some(format!("Bearer {bad_subject}")),
        Some(format!("Bearer {unsigned}")),
    ];
    for auth in cases {
        let mut request = Request::post("/v1/matchmaking/tickets")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(auth) = &auth {
            request = request.header(header::AUTHORIZATION, auth);
        }
        let reply = api
            .send(request.body(Body::from(duel().to_string())).unwrap())
            .await;
        reply.assert_error(401, "unauthorized");
        assert_eq!(
            reply.headers[header::WWW_AUTHENTICATE],
            "Bearer",
            "{auth:?}"
        );
    }
    assert_eq!(api.searching().await, 0);
    assert_eq!(api.create("p-1", duel()).await.status, StatusCode::CREATED);
}

/// Each bad body is a 4xx with the error shape and changes nothing: afterwards the
/// player's first valid ticket is created, and it is the only one searching.
#[tokio::test(start_paused = true)]
async fn bad_bodies_change_nothing() {
    let api = Api::start(Options::default());
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({"mode": "ranked-9v9", "latencies_ms": {US: 40}}),
            400,
            "unknown mode",
        ),
        (
            json!({"mode": "Duel!", "latencies_ms": {US: 40}}),
            400,
            "mode",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {US: 0}}),
            400,
            "latency",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {US: 99_999}}),
            400,
            "latency",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {}}),
            400,
            "latencies_ms",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {"mars-1": 40}}),
            400,
            "region",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {"US EAST": 40}}),
            400,
            "region",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {US: -5}}),
            400,
            "invalid",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {US: 40}, "player": "p-2"}),
            400,
            "unknown field",
        ),
        (
            json!({"mode": "duel", "party": ["p-1"], "latencies_ms": {US: 40}}),
            400,
            "caller",
        ),
        (
            json!({"mode": "duel", "latencies_ms": {US: 40}, "attributes": {"rating": 99}}),
            400,
            "reserved",
        ),
        (
            json!({"mode": "duel", "party": ["p-2"], "latencies_ms": {US: 40}}),
            403,
            "joined",
        ),
        (json!({"latencies_ms": {US: 40}}), 400, "mode"),
        (json!([1, 2]), 400, "invalid"),
    ];
    for (body, status, needle) in cases {
        let reply = api.create("p-1", body.clone()).await;
        let code = match status {
            400 => "invalid_request",
            _ => "forbidden",
        };
        reply.assert_error(status, code);
        let message = reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .to_lowercase();
        assert!(message.contains(needle), "{body}: {message}");
    }
    // A region the matchmaker does not serve: well-formed, but no region is reachable.
    api.create(
        "p-1",
        json!({"mode": "duel", "latencies_ms": {"ap-south-1": 40}}),
    )
    .await
    .assert_error(400, "invalid_request");

    let raw = |content_type: Option<&str>, body: Vec<u8>| {
        let mut request = Request::post("/v1/matchmaking/tickets")
            .header(header::AUTHORIZATION, format!("Bearer {}", token("p-1")));
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        request.body(Body::from(body)).unwrap()
    };
    api.send(raw(Some("application/json"), b"{\"mode\": \"du".to_vec()))
        .await
        .assert_error(400, "invalid_request");
    api.send(raw(Some("text/plain"), duel().to_string().into_bytes()))
        .await
        .assert_error(415, "unsupported_media_type");
    api.send(raw(None, duel().to_string().into_bytes()))
        .await
        .assert_error(415, "unsupported_media_type");
    let mut huge = format!(
        "{{\"mode\": \"duel\", \"latencies_ms\": {{\"{US}\": 40}}, \"attributes\": {{\"pad\": \""
    );
    huge.push_str(&"x".repeat(protocol::http::MAX_REQUEST_BODY_BYTES));
    huge.push_str("\"}}");
    api.send(raw(Some("application/json"), huge.into_bytes()))
        .await
        .assert_error(413, "payload_too_large");

    assert_eq!(api.searching().await, 0);
    let ticket = api.create("p-1", duel()).await;
    assert_eq!(ticket.status, StatusCode::CREATED, "{}", ticket.body);
    assert_eq!(api.searching().await, 1);
}

/// A second live ticket for the same player is 409 and leaves the first untouched;
/// after the first is cancelled, a new one is accepted.
#[tokio::test(start_paused = true)]
async fn one_live_ticket_per_player() {
    let api = Api::start(Options::default());
    let first = api.create("p-1", duel()).await.ticket();
    let second = api.create("p-1", duel()).await;
    second.assert_error(409, "conflict");
    assert!(
        second.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&first.id)
    );
    assert_eq!(
        api.get("p-1", &first.id).await.ticket().state,
        TicketState::Searching
    );
    assert_eq!(api.searching().await, 1);
    assert_eq!(
        api.cancel("p-1", &first.id).await.ticket().state,
        TicketState::Cancelled
    );
    assert_eq!(api.create("p-1", duel()).await.status, StatusCode::CREATED);
}

/// Another player cannot cancel (403) or see (404) a ticket; the owner's cancel is
/// final and idempotent, and a cancelled ticket never lands in a match.
#[tokio::test(start_paused = true)]
async fn cancelling_is_for_the_ticket_players() {
    let api = Api::start(Options::default());
    let t = api.create("p-1", duel()).await.ticket();
    api.cancel("p-2", &t.id)
        .await
        .assert_error(403, "forbidden");
    api.get("p-2", &t.id).await.assert_error(404, "not_found");
    assert_eq!(
        api.get("p-1", &t.id).await.ticket().state,
        TicketState::Searching
    );

    let mut events = api.events("p-1", &t.id, None).await;
    let cancelled = api.cancel("p-1", &t.id).await.ticket();
    assert_eq!(cancelled.state, TicketState::Cancelled);
    assert_eq!(
        events.rest().await,
        [(1, TicketStatus::Searching), (2, TicketStatus::Cancelled)]
    );
    assert_eq!(api.cancel("p-1", &t.id).await.ticket(), cancelled);

    // p-2 and p-3 match each other; the cancelled p-1 is in no match.
    let b = api.create("p-2", duel()).await.ticket();
    let c = api.create("p-3", duel()).await.ticket();
    let b_events = api.events("p-2", &b.id, None).await.rest().await;
    assert_eq!(b_events.last().unwrap().1, TicketStatus::Completed);
    let c_now = api.get("p-3", &c.id).await.ticket();
    assert_eq!(c_now.state.status(), TicketStatus::Completed);
    assert_eq!(
        api.get("p-1", &t.id).await.ticket().state,
        TicketState::Cancelled
    );

    api.cancel("p-1", "no-such-ticket")
        .await
        .assert_error(404, "not_found");
    api.get("p-1", "bad%20id")
        .await
        .assert_error(400, "invalid_request");
}

/// The dev placer, held at a gate until the test opens it, counting releases.
struct GatedPlacer {
    gate: tokio::sync::Semaphore,
    released: tokio::sync::Notify,
    dev: DevPlacer,
}

impl Placer for GatedPlacer {
    fn place<'a>(
        &'a self,
        proposed: &'a ProposedMatch,
    ) -> BoxFuture<'a, Result<PlacedMatch, PlacementFailure>> {
        Box::pin(async move {
            self.gate.acquire().await.unwrap().forget();
            self.dev.place(proposed).await
        })
    }

    fn release<'a>(&'a self, placed: &'a PlacedMatch) -> BoxFuture<'a, ()> {
        self.released.notify_one();
        self.dev.release(placed)
    }
}

/// A ticket cancelled while its match is being placed is cancelled, never matched: the
/// other ticket goes back to searching, the placement that then succeeds is released
/// (nobody is coming), and the other player is matched again with someone else.
#[tokio::test(start_paused = true)]
async fn cancel_during_placement_never_lands_in_the_match() {
    let placer = Arc::new(GatedPlacer {
        gate: tokio::sync::Semaphore::new(0),
        released: tokio::sync::Notify::new(),
        dev: DevPlacer::default(),
    });
    let api = Api::start(Options {
        placer: Some(Arc::clone(&placer) as Arc<dyn Placer>),
        ..Options::default()
    });
    let a = api.create("p-1", duel()).await.ticket();
    let mut a_events = api.events("p-1", &a.id, None).await;
    let b = api.create("p-2", duel()).await.ticket();
    let mut b_events = api.events("p-2", &b.id, None).await;
    assert_eq!(
        a_events.next().await.unwrap().ticket.state,
        TicketState::Searching
    );
    assert_eq!(
        a_events.next().await.unwrap().ticket.state,
        TicketState::Placing
    );
    assert_eq!(
        b_events.next().await.unwrap().ticket.state,
        TicketState::Searching
    );
    assert_eq!(
        b_events.next().await.unwrap().ticket.state,
        TicketState::Placing
    );

    let cancelled = api.cancel("p-1", &a.id).await.ticket();
    assert_eq!(cancelled.state, TicketState::Cancelled);
    let back = b_events.next().await.unwrap();
    assert_eq!((back.seq, back.ticket.state), (3, TicketState::Searching));

    // The placement of the broken match now succeeds: the driver refuses it (the core
    // says the match is gone) and releases the game session; p-2 stays searching.
    placer.gate.add_permits(1);
    placer.released.notified().await;
    assert_eq!(api.searching().await, 1);
    assert_eq!(
        api.get("p-2", &b.id).await.ticket().state,
        TicketState::Searching
    );
    assert_eq!(
        api.get("p-1", &a.id).await.ticket().state,
        TicketState::Cancelled
    );

    placer.gate.add_permits(1);
    api.create("p-3", duel()).await.ticket();
    let done = b_events.rest().await;
    assert_eq!(
        done,
        [(4, TicketStatus::Placing), (5, TicketStatus::Completed)]
    );
    assert_eq!(a_events.rest().await, [(3, TicketStatus::Cancelled)]);
}

/// A failed placement returns both tickets to the pool (SEARCHING again, seq keeps
/// counting) and they are placed on the retry; a second failure spends the budget and
/// fails them with the placement's reason and message.
#[tokio::test(start_paused = true)]
async fn placement_failure_returns_tickets_then_fails_them() {
    let api = Api::start(Options {
        placement_failures: 1,
        ..Options::default()
    });
    let a = api.create("p-1", duel()).await.ticket();
    let mut events = api.events("p-1", &a.id, None).await;
    api.create("p-2", duel()).await.ticket();
    let statuses: Vec<TicketStatus> = events.rest().await.into_iter().map(|e| e.1).collect();
    use TicketStatus::*;
    assert_eq!(
        statuses,
        [Searching, Placing, Searching, Placing, Completed]
    );

    let api = Api::start(Options {
        placement_failures: 2,
        ..Options::default()
    });
    let a = api.create("p-1", duel()).await.ticket();
    let mut events = api.events("p-1", &a.id, None).await;
    api.create("p-2", duel()).await.ticket();
    let rest = events.rest().await;
    assert_eq!(rest.last().unwrap(), &(5, Failed));
    match api.get("p-1", &a.id).await.ticket().state {
        TicketState::Failed { reason, message } => {
            assert_eq!(reason, FailureReason::NoCapacity);
            assert!(message.contains("capacity"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Failed players may queue again.
    assert_eq!(api.create("p-1", duel()).await.status, StatusCode::CREATED);
}

/// A full fleet is retried with backoff within the placement: the tickets stay PLACING
/// and are placed once a process is free, spending none of their retry budget.
#[tokio::test(start_paused = true)]
async fn no_capacity_is_retried_with_backoff() {
    let api = Api::start(Options {
        placement_failures: 3,
        capacity_retries: 3,
        ..Options::default()
    });
    let start = tokio::time::Instant::now();
    let a = api.create("p-1", duel()).await.ticket();
    let mut events = api.events("p-1", &a.id, None).await;
    api.create("p-2", duel()).await.ticket();
    let statuses: Vec<TicketStatus> = events.rest().await.into_iter().map(|e| e.1).collect();
    use TicketStatus::*;
    assert_eq!(statuses, [Searching, Placing, Completed]);
    // Backoff of 1 s, 2 s and 4 s (virtual time).
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(7) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
}

/// A ticket without a match times out at its time limit (virtual time).
#[tokio::test(start_paused = true)]
async fn lonely_tickets_time_out() {
    let api = Api::start(Options::default());
    let start = tokio::time::Instant::now();
    let t = api.create("p-1", duel()).await.ticket();
    let rest = api.events("p-1", &t.id, None).await.rest().await;
    assert_eq!(rest.last().unwrap(), &(2, TicketStatus::TimedOut));
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(TICKET_TIMEOUT_MS)
            && waited < Duration::from_millis(TICKET_TIMEOUT_MS + 1_000),
        "{waited:?}"
    );
    let t = api.get("p-1", &t.id).await.ticket();
    assert_eq!(t.state, TicketState::TimedOut);
    assert!(t.updated_at >= t.expires_at && t.updated_at < t.expires_at + 200);
}

/// Past its burst a player gets 429 with `Retry-After` and the error shape; other
/// players are unaffected; after the refill the player passes again.
#[tokio::test(start_paused = true)]
async fn per_player_rate_limit() {
    let api = Api::start(Options {
        rate: RateLimit {
            burst: 2,
            per_second: 1,
        },
        ..Options::default()
    });
    for _ in 0..2 {
        let r = api.call(Method::GET, "/v1/party", Some("p-1"), None).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let limited = api.call(Method::GET, "/v1/party", Some("p-1"), None).await;
    limited.assert_error(429, "rate_limited");
    assert_eq!(limited.headers[header::RETRY_AFTER], "1");
    let other = api.call(Method::GET, "/v1/party", Some("p-2"), None).await;
    assert_eq!(other.status, StatusCode::OK);
    tokio::time::advance(Duration::from_secs(1)).await;
    let again = api.call(Method::GET, "/v1/party", Some("p-1"), None).await;
    assert_eq!(again.status, StatusCode::OK);
}

/// Unknown routes, wrong methods and bad path or query parameters use the error shape.
#[tokio::test(start_paused = true)]
async fn routing_errors_use_the_error_shape() {
    let api = Api::start(Options::default());
    api.call(Method::GET, "/v1/nope", None, None)
        .await
        .assert_error(404, "not_found");
    api.call(Method::GET, "/v2/matchmaking/tickets", None, None)
        .await
        .assert_error(404, "not_found");
    api.call(Method::PATCH, "/v1/party", Some("p-1"), None)
        .await
        .assert_error(405, "method_not_allowed");
    api.call(Method::GET, "/v1/matchmaking/tickets", Some("p-1"), None)
        .await
        .assert_error(405, "method_not_allowed");
    api.call(Method::GET, "/v1/leaderboards/top?limit=0", None, None)
        .await
        .assert_error(400, "invalid_request");
    api.call(Method::GET, "/v1/leaderboards/top?limit=abc", None, None)
        .await
        .assert_error(400, "invalid_request");
    api.call(Method::GET, "/v1/leaderboards/top?lmit=5", None, None)
        .await
        .assert_error(400, "invalid_request");
    api.call(
        Method::GET,
        "/v1/leaderboards/friends?players=a,,b",
        None,
        None,
    )
    .await
    .assert_error(400, "invalid_request");
    api.call(Method::GET, "/v1/players/bad%7Bid/profile", None, None)
        .await
        .assert_error(400, "invalid_request");
}

/// CORS answers the configured origin's preflight and allows no other origin.
#[tokio::test(start_paused = true)]
async fn cors_allows_the_configured_origin() {
    let api = Api::start(Options {
        cors_origin: Some("https://page.example"),
        ..Options::default()
    });
    let preflight = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/v1/matchmaking/tickets")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization,content-type",
            )
            .body(Body::empty())
            .unwrap()
    };
    let ok = api.send(preflight("https://page.example")).await;
    assert!(ok.status.is_success(), "{}", ok.status);
    assert_eq!(
        ok.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://page.example"
    );
    // Another origin is never echoed back, so a browser refuses the call.
    let other = api.send(preflight("https://evil.example")).await;
    let allowed = other.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN);
    assert!(
        allowed.is_none_or(|v| v == "https://page.example"),
        "{allowed:?}"
    );
}

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

/// RS256 tokens are verified against a JWKS fetched over HTTP (served on loopback);
/// a token for an unknown key, an HS256 token (algorithm confusion) and a token from
/// another issuer are refused. Real time: the JWKS fetch is real network I/O.
#[tokio::test]
async fn rs256_tokens_from_a_jwks() {
    use jsonwebtoken::jwk::{Jwk, JwkSet};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};

    let der = include_bytes!("fixtures/jwt-test-rsa.der");
    let signing = EncodingKey::from_rsa_der(der);
    let mut jwk = Jwk::from_encoding_key(&signing, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some("k1".to_owned());
    let set = JwkSet { keys: vec![jwk] };
    let fetches = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&fetches);
    let jwks_app = Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let set = set.clone();
            async move { axum::Json(set) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, jwks_app).await.unwrap() });

    let issuer = "https://cognito-idp.us-east-1.amazonaws.com/pool";
    let auth = Authenticator::jwks(Arc::new(HttpJwks::new(&url).unwrap()), Some(issuer), None);
    let api = Api::start(Options {
        auth: Some(auth),
        ..Options::default()
    });
    let sign = |kid: &str, iss: &str| {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        let claims = json!({"sub": "p-1", "exp": now_secs() + 600, "iss": iss});
        jsonwebtoken::encode(&header, &claims, &signing).unwrap()
    };
    let get_party = |token: String| {
        Request::get("/v1/party")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    let ok = api.send(get_party(sign("k1", issuer))).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["leader"], "p-1");
    api.send(get_party(sign("k2", issuer)))
        .await
        .assert_error(401, "unauthorized");
    api.send(get_party(sign("k1", "https://elsewhere")))
        .await
        .assert_error(401, "unauthorized");
    api.send(get_party(token("p-1")))
        .await
        .assert_error(401, "unauthorized");
    assert!(
        HttpJwks::new("http://idp.example/jwks.json").is_err(),
        "plain HTTP off loopback"
    );
    // The unknown kid refreshed the set at most once (the minimum refresh interval).
    assert!(fetches.load(Ordering::SeqCst) <= 2, "{fetches:?}");
    // A second unknown kid right after does not fetch again.
    let before = fetches.load(Ordering::SeqCst);
    api.send(get_party(sign("k3", issuer)))
        .await
        .assert_error(401, "unauthorized");
    assert_eq!(fetches.load(Ordering::SeqCst), before);
}
