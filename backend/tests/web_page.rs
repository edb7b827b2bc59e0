//! The web page (`backend/web/`) end to end: the backend's router serving on loopback
//! with embedded stores holding profiles and rankings and a matchmaking driver holding
//! live tickets, and Debian's headless Chromium, driven through `chromedriver` over the
//! WebDriver HTTP protocol (a tiny client on hyper), loading the page from the backend.
//!
//! **What it asserts:** the page's JavaScript ran and rendered, from the public API and
//! without a token: the top list in rank order with names and ratings (and no more rows
//! than `limit`), the rows around a player, the player's profile for the chosen board and
//! recent matches (newest first, with rating changes), and the matchmaking numbers per
//! mode (players and tickets searching, median wait, matches started), then that those
//! numbers refresh by themselves when a new ticket arrives. Also: a display name holding
//! HTML is shown as text, `/` redirects to the page, and the files carry their content
//! types and the CSP.
//!
//! **What it is not:** not a visual test (no screenshots, no layout) and not a test of the
//! S3 deployment. Every wait polls the DOM (or chromedriver's `/status`) with a deadline.
//!
//! Without `chromium` and `chromedriver` on `PATH` (or `CHROMIUM` / `CHROMEDRIVER`
//! naming them) the test says so and passes, unless `GLS_REQUIRE_CHROMIUM` is set to
//! anything but `0` (as `scripts/test.sh` does), in which case it fails.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use backend::http::auth::mint_dev_token;
use backend::http::{
    ApiConfig, ApiMetrics, AppState, Authenticator, Clock, DriverConfig, RateLimit, RateLimiter,
    app, spawn_matchmaker,
};
use backend::matchmaking::{Matchmaker, MatchmakerConfig, ModeRules, Relaxing};
use backend::placement::DevPlacer;
use backend::profiles::{EmbeddedProfiles, ProfileStore};
use backend::rankings::{EmbeddedRankings, RankingUpdate, Rankings, Score};
use backend::ratings::{BoardRecord, PlayerProfile, RatingStats};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use protocol::http::{BoardId, MatchOutcome, RecentMatch};
use serde_json::{Value, json};
use tower::ServiceExt;

const KEY: &[u8] = b"web-page-test-hmac-key-0123456789abcdef";
const REGION: &str = "us-east-1";
/// How long the page may take to render (Chromium's start included).
const RENDER_DEADLINE: Duration = Duration::from_secs(60);
/// How long chromedriver may take to answer `/status`.
const DRIVER_DEADLINE: Duration = Duration::from_secs(30);
/// Interval between two looks at the DOM.
const POLL: Duration = Duration::from_millis(100);

// --- finding the browser ----------------------------------------------------------------

/// `env`'s value if set, else the first of `names` found on `PATH`.
fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

fn chromium_required() -> bool {
    std::env::var("GLS_REQUIRE_CHROMIUM").is_ok_and(|v| !v.is_empty() && v != "0")
}

// --- the backend ------------------------------------------------------------------------

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mode(name: &str, team_max: u16) -> ModeRules {
    ModeRules {
        name: name.to_owned(),
        teams: 2,
        team_max,
        team_min: Relaxing::fixed(team_max),
        skill_cap: Relaxing::fixed(1_000.0),
        latency_cap_ms: Relaxing::fixed(150),
        ticket_timeout_ms: 600_000,
        placement_retries: 1,
    }
}

fn stats(rating: f64, games: u32, wins: u32) -> RatingStats {
    RatingStats {
        mu: rating,
        sigma: 85.0,
        rating,
        rating_since: Some(1_700_000_000_000),
        games,
        wins,
        losses: games - wins,
        last_match_at: Some(1_764_000_000_000),
        ..RatingStats::new()
    }
}

/// The seeded players: id, display name, rating on the `duel` board, wins of 20 games.
const PLAYERS: [(&str, &str, f64, u32); 6] = [
    ("cy", "Cy", 1588.6, 12),
    ("ana", "Ana", 1712.4, 16),
    ("eve", "<b>Eve</b>", 1490.9, 9),
    ("ben", "Ben", 1650.2, 14),
    ("fox", "Fox", 1402.1, 5),
    ("dee", "Dee", 1523.2, 10),
];

/// Writes the players' profiles and rankings (global and `duel` boards); `cy` has two
/// recent matches.
async fn seed(profiles: &EmbeddedProfiles, rankings: &EmbeddedRankings) {
    let duel = BoardId {
        season: None,
        mode: Some("duel".to_owned()),
    };
    let mut records = Vec::new();
    let mut updates = Vec::new();
    for (id, name, rating, wins) in PLAYERS {
        let mut p = PlayerProfile::new(id);
        p.version = 1;
        p.display_name = Some(name.to_owned());
        // Overall differs from the duel board, so the page must pick the board's.
        p.overall = stats(rating - 100.0, 30, wins + 3);
        p.boards.push(BoardRecord {
            board: duel.clone(),
            stats: stats(rating, 20, wins),
        });
        if id == "cy" {
            p.recent = vec![
                recent("m-cy-2", MatchOutcome::Win, 14.2, 1588.6, 1_764_000_000_000),
                recent(
                    "m-cy-1",
                    MatchOutcome::Loss,
                    -9.8,
                    1574.4,
                    1_763_990_000_000,
                ),
            ];
        }
        for board in [BoardId::GLOBAL, duel.clone()] {
            let score = if board == duel {
                rating
            } else {
                rating - 100.0
            };
            updates.push(RankingUpdate {
                board,
                player: id.to_owned(),
                score: Score::new(score, 1_764_000_000),
            });
        }
        records.push(p);
    }
    let expected = records.iter().map(|p| (p.player_id.clone(), 0)).collect();
    profiles
        .commit_result("seed", &records, &expected)
        .await
        .unwrap();
    rankings.set_many(&updates).await.unwrap();
}

fn recent(id: &str, outcome: MatchOutcome, change: f64, after: f64, at: u64) -> RecentMatch {
    RecentMatch {
        match_id: id.to_owned(),
        mode: "duel".to_owned(),
        season: None,
        ended_at: at,
        outcome,
        placement: if outcome == MatchOutcome::Win { 1 } else { 2 },
        team: None,
        score: None,
        rating_change: change,
        rating_after: after,
        left_early: false,
    }
}

struct Backend {
    router: axum::Router,
    addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: TempDir,
}

impl Backend {
    async fn start() -> Backend {
        let dir = std::env::temp_dir().join(tests::unique_name("web-page"));
        let profiles = Arc::new(EmbeddedProfiles::open(dir.join("profiles")).unwrap());
        let rankings = Arc::new(EmbeddedRankings::open(dir.join("rankings")).unwrap());
        seed(&profiles, &rankings).await;
        let matchmaker = Matchmaker::new(MatchmakerConfig {
            // duel: 1 v 1; squads: 4 v 4, so a few tickets stay searching.
            modes: vec![mode("duel", 1), mode("squads", 4)],
            regions: vec![REGION.to_owned()],
            recheck_interval_ms: 1_000,
            stats_window_ms: 600_000,
            candidate_window: 32,
        })
        .unwrap();
        let clock = Clock::system();
        let metrics = ApiMetrics::new();
        let (handle, _driver) = spawn_matchmaker(
            matchmaker,
            Arc::new(DevPlacer::default()),
            Arc::clone(&profiles) as Arc<dyn ProfileStore>,
            clock,
            DriverConfig {
                tick: Duration::from_millis(50),
                ..DriverConfig::default()
            },
            metrics.clone(),
            std::future::pending(),
        );
        let state = AppState {
            auth: Arc::new(Authenticator::hmac(KEY, None, None).unwrap()),
            matchmaker: handle,
            profiles: profiles as Arc<dyn ProfileStore>,
            rankings: rankings as Arc<dyn Rankings>,
            parties: Arc::default(),
            rate_limiter: Arc::new(std::sync::Mutex::new(RateLimiter::new(RateLimit {
                burst: 1_000,
                per_second: 1_000,
            }))),
            modes: Arc::new(vec!["duel".to_owned(), "squads".to_owned()]),
            clock,
            metrics,
        };
        let router = app(state, &ApiConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = router.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, served)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Backend {
            router,
            addr,
            stop: Some(stop),
            server: Some(server),
            _dir: TempDir(dir),
        }
    }

    /// A ticket for `player` (alone) in `mode`, through the API with a token.
    async fn ticket(&self, player: &str, mode: &str) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let token = mint_dev_token(KEY, player, now, Duration::from_secs(600), None, None).unwrap();
        let body = json!({"mode": mode, "latencies_ms": {REGION: 20}});
        let request = Request::builder()
            .method(Method::POST)
            .uri("/v1/matchmaking/tickets")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "ticket for {player}"
        );
    }

    async fn stats(&self) -> Value {
        let request = Request::get("/v1/matchmaking/stats")
            .body(Body::empty())
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// The stats of `mode`, once `ready` accepts them (polled with a deadline).
    async fn stats_when(&self, mode: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let stats = self.stats().await;
            let row = stats["modes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["mode"] == mode)
                .cloned()
                .unwrap();
            if ready(&row) {
                return row;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "matchmaking stats for {mode} never got there: {row}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
    }
}

// --- a tiny WebDriver client ------------------------------------------------------------

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// A response: status, headers and body text.
async fn http(
    client: &HttpClient,
    method: Method,
    url: &str,
    body: Option<&Value>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::builder().method(method).uri(url);
    let body = match body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Full::new(Bytes::from(body.to_string()))
        }
        None => Full::new(Bytes::new()),
    };
    let response = client.request(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// `chromedriver` in its own process group; dropping it kills the group (the driver and
/// the browsers it started).
struct Driver {
    child: tokio::process::Child,
    base: String,
    client: HttpClient,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.start_kill();
    }
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits until it is ready; retries
    /// with another port if it exits first (the port was taken in between).
    async fn start(chromedriver: &Path, log: &Path) -> Driver {
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = tokio::process::Command::new(chromedriver)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .kill_on_drop(true)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display()));
            let client = http_client();
            let base = format!("http://127.0.0.1:{port}");
            let deadline = tokio::time::Instant::now() + DRIVER_DEADLINE;
            loop {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                let request = Request::get(format!("{base}/status"))
                    .body(Full::new(Bytes::new()))
                    .unwrap();
                if let Ok(Ok(response)) =
                    tokio::time::timeout(Duration::from_secs(2), client.request(request)).await
                {
                    let bytes = response.into_body().collect().await.unwrap().to_bytes();
                    let status: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    if status["value"]["ready"] == true {
                        return Driver {
                            child,
                            base,
                            client,
                        };
                    }
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "chromedriver did not get ready on port {port} within {DRIVER_DEADLINE:?}; \
                     see {}",
                    log.display()
                );
                tokio::time::sleep(POLL).await;
            }
        }
        panic!(
            "chromedriver exited before answering, 3 times; see {}",
            log.display()
        );
    }

    /// A WebDriver command; its `value`, or a panic with the driver's error.
    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let (status, _, text) = http(&self.client, method, &url, body.as_ref()).await;
        let reply: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert!(status.is_success(), "WebDriver {path}: {status} {text}");
        reply["value"].clone()
    }

    /// A new headless Chromium session with a fresh profile directory.
    async fn session(&self, chromium: &Path, profile_dir: &Path) -> Session<'_> {
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--user-data-dir={}", profile_dir.display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "goog:chromeOptions": {"binary": chromium.display().to_string(), "args": args},
        }}});
        let value = self.command(Method::POST, "/session", Some(caps)).await;
        let id = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {value}"))
            .to_owned();
        Session { driver: self, id }
    }
}

struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Session<'_> {
    async fn goto(&self, url: &str) {
        let path = format!("/session/{}/url", self.id);
        self.driver
            .command(Method::POST, &path, Some(json!({"url": url})))
            .await;
    }

    async fn execute(&self, script: &str) -> Value {
        let path = format!("/session/{}/execute/sync", self.id);
        self.driver
            .command(
                Method::POST,
                &path,
                Some(json!({"script": script, "args": []})),
            )
            .await
    }

    /// The page as [`SNAPSHOT`] sees it, once `ready` accepts it (polled, with a
    /// deadline; the last snapshot is in the panic message).
    async fn wait_for(&self, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + RENDER_DEADLINE;
        loop {
            let page = self.execute(SNAPSHOT).await;
            if ready(&page) {
                return page;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the page never showed {what} within {RENDER_DEADLINE:?}; it shows:\n{page:#}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    async fn close(self) {
        let path = format!("/session/{}", self.id);
        self.driver.command(Method::DELETE, &path, None).await;
    }
}

/// What the page shows, read from the DOM as JSON.
const SNAPSHOT: &str = r##"
const q = (sel) => Array.from(document.querySelectorAll(sel));
const text = (root, sel) => { const n = root.querySelector(sel); return n ? n.textContent : null; };
const rows = (id) => q("#" + id + " tbody tr").map((tr) => ({
  rank: text(tr, ".rank"), player: tr.dataset.player, name: text(tr, ".name"),
  name_elements: tr.querySelectorAll(".name *").length, rating: text(tr, ".rating"),
  record: text(tr, ".record"), me: tr.classList.contains("me"),
}));
const state = (id) => document.getElementById(id).dataset.state;
return {
  states: { top: state("top"), around: state("around"), profile: state("profile"),
            matches: state("matches"), stats: state("stats") },
  stats_refreshes: Number(document.getElementById("stats").dataset.refreshes || 0),
  top: rows("top"),
  top_note: text(document, "#top .note"),
  around: rows("around"),
  around_note: text(document, "#around .note"),
  profile_name: text(document, "#profile .display-name"),
  profile: Object.fromEntries(q("#profile dd").map((dd) => [dd.dataset.field, dd.textContent])),
  matches: q("#matches tbody tr").map((tr) => ({
    id: tr.dataset.match, mode: text(tr, ".mode"), outcome: text(tr, ".outcome"),
    change: text(tr, ".change"), rating: text(tr, ".rating"),
  })),
  stats: q("#stats tbody tr").map((tr) => ({
    mode: tr.dataset.mode, players: text(tr, ".players"), tickets: text(tr, ".tickets"),
    wait: text(tr, ".median-wait"), wait_ms: tr.querySelector(".median-wait").dataset.ms,
    matches: text(tr, ".matches"),
  })),
  errors: q(".error").filter((e) => !e.hidden).map((e) => e.textContent),
  mode_options: q("#mode-select option").map((o) => o.value),
  search: window.location.search,
};
"##;

fn all_ready(page: &Value) -> bool {
    page["states"]
        .as_object()
        .is_some_and(|s| s.values().all(|v| v == "ready"))
}

fn stats_row<'a>(page: &'a Value, mode: &str) -> &'a Value {
    page["stats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mode"] == mode)
        .unwrap_or_else(|| panic!("no stats row for {mode}: {page:#}"))
}

fn column<'a>(rows: &'a Value, key: &str) -> Vec<&'a str> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].as_str().unwrap_or(""))
        .collect()
}

// --- the test ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_leaderboards_profile_and_live_matchmaking() {
    let chromium = find_program("CHROMIUM", &["chromium", "chromium-browser"]);
    let chromedriver = find_program("CHROMEDRIVER", &["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        assert!(
            !chromium_required(),
            "GLS_REQUIRE_CHROMIUM is set but chromium or chromedriver is not on PATH \
             (apt-get install chromium chromium-driver, or set CHROMIUM and CHROMEDRIVER)"
        );
        eprintln!(
            "SKIPPED: the web page test needs chromium and chromedriver on PATH \
             (apt-get install chromium chromium-driver); set GLS_REQUIRE_CHROMIUM=1 to make \
             their absence a failure"
        );
        return;
    };

    let backend = Backend::start().await;
    // duel: a pair matched (a median wait), then one player searching.
    backend.ticket("q-1", "duel").await;
    backend.ticket("q-2", "duel").await;
    let duel = backend
        .stats_when("duel", |m| m["matches_started"] == 1)
        .await;
    backend.ticket("q-3", "duel").await;
    // squads (4 v 4): three players searching, nobody matched.
    for player in ["s-1", "s-2", "s-3"] {
        backend.ticket(player, "squads").await;
    }
    backend
        .stats_when("squads", |m| m["players_searching"] == 3)
        .await;
    let median_ms = duel["median_wait_ms"].as_u64().expect("a duel median wait");

    let base = format!("http://{}", backend.addr);
    let client = http_client();
    // `/` sends the browser to the page, query and all.
    let (status, headers, _) =
        http(&client, Method::GET, &format!("{base}/?player=cy"), None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/web/?player=cy");
    for (file, content_type) in [
        ("", "text/html; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("config.js", "text/javascript; charset=utf-8"),
    ] {
        let (status, headers, body) =
            http(&client, Method::GET, &format!("{base}/web/{file}"), None).await;
        assert_eq!(status, StatusCode::OK, "/web/{file}");
        assert_eq!(headers[header::CONTENT_TYPE], content_type, "/web/{file}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "/web/{file}: {csp}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(!body.is_empty());
    }

    let work = std::env::temp_dir().join(tests::unique_name("web-chromium"));
    std::fs::create_dir_all(&work).unwrap();
    let _work = TempDir(work.clone());
    let driver = Driver::start(&chromedriver, &work.join("chromedriver.log")).await;
    let session = driver.session(&chromium, &work.join("profile")).await;
    session
        .goto(&format!(
            "{base}/?player=cy&mode=duel&limit=5&radius=1&refresh=1"
        ))
        .await;

    let page = session.wait_for("every section rendered", all_ready).await;
    assert_eq!(page["errors"], json!([]), "{page:#}");

    // Top 5 of the duel board, best first, with names and ratings; fox (6th) is cut.
    let top = &page["top"];
    assert_eq!(column(top, "rank"), ["1", "2", "3", "4", "5"], "{page:#}");
    assert_eq!(column(top, "player"), ["ana", "ben", "cy", "dee", "eve"]);
    assert_eq!(
        column(top, "name"),
        ["Ana", "Ben", "Cy", "Dee", "<b>Eve</b>"]
    );
    assert_eq!(
        column(top, "rating"),
        ["1712", "1650", "1589", "1523", "1491"]
    );
    assert_eq!(
        column(top, "record"),
        ["16–4", "14–6", "12–8", "10–10", "9–11"]
    );
    // HTML in a display name is text, not markup.
    assert_eq!(top[4]["name_elements"], 0);
    // The chosen player is highlighted.
    assert_eq!(top[2]["me"], true);
    assert_eq!(top[0]["me"], false);
    assert_eq!(page["top_note"], "6 ranked players");

    // Around cy with radius 1.
    let around = &page["around"];
    assert_eq!(column(around, "player"), ["ben", "cy", "dee"], "{page:#}");
    assert_eq!(column(around, "rank"), ["2", "3", "4"]);
    assert_eq!(column(around, "rating"), ["1650", "1589", "1523"]);
    assert_eq!(page["around_note"], "Rank 3 of 6 (duel)");

    // cy's profile on the duel board (not the overall record), and recent matches.
    assert_eq!(page["profile_name"], "Cy");
    let profile = &page["profile"];
    assert_eq!(profile["board"], "duel", "{page:#}");
    assert_eq!(profile["rating"], "1589 ± 85");
    assert_eq!(profile["games"], "20");
    assert_eq!(profile["won"], "12");
    assert_eq!(profile["lost"], "8");
    assert_eq!(profile["last-match"], "2025-11-24 16:00:00 UTC");
    let matches = &page["matches"];
    assert_eq!(column(matches, "id"), ["m-cy-2", "m-cy-1"], "{page:#}");
    assert_eq!(column(matches, "outcome"), ["win", "loss"]);
    assert_eq!(column(matches, "change"), ["+14.2", "−9.8"]);
    assert_eq!(column(matches, "rating"), ["1589", "1574"]);
    assert_eq!(column(matches, "mode"), ["duel", "duel"]);

    // Matchmaking numbers per mode, as the API has them.
    let duel_row = stats_row(&page, "duel");
    assert_eq!(duel_row["players"], "1", "{page:#}");
    assert_eq!(duel_row["tickets"], "1");
    assert_eq!(duel_row["matches"], "1");
    assert_eq!(duel_row["wait_ms"], median_ms.to_string());
    let wait = duel_row["wait"].as_str().unwrap();
    assert!(
        wait.ends_with(" s") && wait != "—",
        "median wait shown as {wait:?}"
    );
    let squads_row = stats_row(&page, "squads");
    assert_eq!(squads_row["players"], "3");
    assert_eq!(squads_row["tickets"], "3");
    assert_eq!(squads_row["wait"], "—");
    assert_eq!(squads_row["matches"], "0");
    // The board selector offers the configured modes.
    assert_eq!(page["mode_options"], json!(["", "duel", "squads"]));

    // Live: a fourth squads player appears without reloading the page.
    let refreshes = page["stats_refreshes"].as_u64().unwrap();
    backend.ticket("s-4", "squads").await;
    let page = session
        .wait_for("4 squads players searching", |p| {
            p["stats"]
                .as_array()
                .and_then(|rows| rows.iter().find(|r| r["mode"] == "squads"))
                .is_some_and(|r| r["players"] == "4")
        })
        .await;
    assert!(page["stats_refreshes"].as_u64().unwrap() > refreshes);
    assert_eq!(stats_row(&page, "squads")["tickets"], "4");

    // The form: another player on the global board, without reloading the page.
    session
        .execute(
            r#"document.getElementById("player-input").value = "ana";
               document.getElementById("mode-select").value = "";
               document.getElementById("controls").requestSubmit();"#,
        )
        .await;
    let page = session
        .wait_for("ana's profile on the global board", |p| {
            let s = &p["states"];
            s["top"] == "ready"
                && s["around"] == "ready"
                && s["profile"] == "ready"
                && s["matches"] == "empty"
                && p["profile_name"] == "Ana"
                && p["around"][0]["player"] == "ana"
        })
        .await;
    assert_eq!(page["search"], "?player=ana&limit=5&radius=1&refresh=1");
    assert_eq!(page["profile"]["board"], "all modes");
    assert_eq!(page["profile"]["rating"], "1612 ± 85");
    assert_eq!(page["profile"]["games"], "30");
    // The global board's scores (100 below duel's in this data).
    assert_eq!(
        column(&page["top"], "rating"),
        ["1612", "1550", "1489", "1423", "1391"]
    );
    assert_eq!(column(&page["around"], "player"), ["ana", "ben"]);
    assert_eq!(page["matches"], json!([]));

    // An unknown player: the profile says so, the rest of the page still works.
    session
        .execute(
            r#"document.getElementById("player-input").value = "nobody";
               document.getElementById("controls").requestSubmit();"#,
        )
        .await;
    let page = session
        .wait_for("that there is no player nobody", |p| {
            p["states"]["profile"] == "error" && p["states"]["around"] == "empty"
        })
        .await;
    assert!(
        page["errors"]
            .as_array()
            .unwrap()
            .contains(&json!("No player nobody.")),
        "{page:#}"
    );
    assert_eq!(page["around_note"], "Not ranked on this board yet.");
    assert_eq!(page["states"]["top"], "ready");

    session.close().await;
    drop(driver);
    backend.stop().await;
}
