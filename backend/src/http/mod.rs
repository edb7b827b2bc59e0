//! The backend's HTTP API (`backend serve`): matchmaking tickets, parties, leaderboards,
//! profiles, the OpenAPI document, health, and metrics on an admin port.
//!
//! **What it is:** [`app`] builds the axum [`Router`] that tests drive with `oneshot`,
//! [`serve`] runs it (and [`admin_router`] on a second listener) until a shutdown future
//! completes. Routes are versioned under `/v1` and speak the JSON types of
//! [`protocol::http`]; every 4xx and 5xx is an [`ErrorBody`](protocol::http::ErrorBody),
//! axum's own rejections and unknown routes included ([`error`]). Ticket, party and
//! event-stream routes need a bearer JWT ([`auth`]) whose `sub` is the caller's player
//! id, and are rate limited per player ([`rate_limit`]); leaderboards, profiles and the
//! matchmaking numbers are public reads, for the web page. Tickets live in the
//! matchmaking driver ([`tickets`]), which owns the sans-IO core and places matches
//! through a [`Placer`](crate::placement::Placer). The web page that reads the public
//! routes is served from the same router ([`web`]).
//!
//! **What it is not:** no TLS (terminate it at a load balancer), no backfill, and no
//! state shared between instances: tickets and parties live in this process, so several
//! instances need matchmaking partitioned by mode (see `architecture.md`).

pub mod auth;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod modes;
pub mod parties;
pub mod rate_limit;
mod routes;
pub mod tickets;
pub mod web;

use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use axum::routing::{get, post};
use tower_http::cors::CorsLayer;
use utoipa::OpenApi;

pub use self::auth::Authenticator;
pub use self::metrics::{ApiMetrics, admin_router};
pub use self::parties::Parties;
pub use self::rate_limit::{RateLimit, RateLimiter};
pub use self::tickets::{Clock, DriverConfig, MatchmakerHandle, spawn_matchmaker};
use crate::profiles::ProfileStore;
use crate::rankings::Rankings;

/// Everything the handlers share; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Verifies bearer tokens.
    pub auth: Arc<Authenticator>,
    /// The matchmaking driver.
    pub matchmaker: MatchmakerHandle,
    /// Profiles (ratings for new tickets, the profile routes, leaderboard names).
    pub profiles: Arc<dyn ProfileStore>,
    /// Leaderboards.
    pub rankings: Arc<dyn Rankings>,
    /// Who joined whose party.
    pub parties: Arc<Mutex<Parties>>,
    /// The per-player rate limit.
    pub rate_limiter: Arc<Mutex<RateLimiter>>,
    /// The configured mode names (a ticket for another mode is refused before any
    /// profile is read).
    pub modes: Arc<Vec<String>>,
    /// The clock (epoch ms) the rate limiter reads.
    pub clock: Clock,
    /// Metrics.
    pub metrics: ApiMetrics,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("modes", &self.modes)
            .finish_non_exhaustive()
    }
}

/// Router settings.
#[derive(Debug, Clone, Default)]
pub struct ApiConfig {
    /// The one origin allowed to call the API from a browser (the web page's), if any.
    pub cors_origin: Option<HeaderValue>,
    /// Largest request body, in bytes; [`protocol::http::MAX_REQUEST_BODY_BYTES`] when 0.
    pub body_limit: usize,
}

/// The OpenAPI document, generated from the handlers' annotations and the protocol's
/// types.
#[derive(OpenApi)]
#[openapi(
    info(title = "gamelift-stack backend", description = "Matchmaking, parties, leaderboards and profiles. Every error is {\"error\": {\"code\", \"message\"}}."),
    paths(
        routes::create_ticket, routes::get_ticket, routes::cancel_ticket, routes::ticket_events,
        routes::stats, routes::get_party, routes::join_party, routes::leave_party,
        routes::top, routes::around, routes::rank, routes::friends,
        routes::profile, routes::matches, routes::healthz, routes::readyz,
    ),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document as JSON.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_json()
        .expect("the OpenAPI document serializes")
}

async fn openapi() -> impl axum::response::IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json())
}

/// The API's router.
pub fn app(state: AppState, config: &ApiConfig) -> Router {
    let limit = if config.body_limit == 0 {
        protocol::http::MAX_REQUEST_BODY_BYTES
    } else {
        config.body_limit
    };
    let router = Router::new()
        .route("/v1/matchmaking/tickets", post(routes::create_ticket))
        .route(
            "/v1/matchmaking/tickets/{ticket_id}",
            get(routes::get_ticket).delete(routes::cancel_ticket),
        )
        .route(
            "/v1/matchmaking/tickets/{ticket_id}/events",
            get(routes::ticket_events),
        )
        .route("/v1/matchmaking/stats", get(routes::stats))
        .route(
            "/v1/party",
            get(routes::get_party)
                .put(routes::join_party)
                .delete(routes::leave_party),
        )
        .route("/v1/leaderboards/top", get(routes::top))
        .route("/v1/leaderboards/around/{player_id}", get(routes::around))
        .route("/v1/leaderboards/rank/{player_id}", get(routes::rank))
        .route("/v1/leaderboards/friends", get(routes::friends))
        .route("/v1/players/{player_id}/profile", get(routes::profile))
        .route("/v1/players/{player_id}/matches", get(routes::matches))
        .route("/openapi.json", get(openapi))
        .route("/healthz", get(routes::healthz))
        .route("/readyz", get(routes::readyz))
        .merge(web::routes())
        .fallback(error::unknown_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        // Behind one `Arc`: every extractor clones the state, and a clone of the struct
        // would be a dozen reference counts.
        .with_state(Arc::new(state));
    match &config.cors_origin {
        Some(origin) => router.layer(
            CorsLayer::new()
                .allow_origin(origin.clone())
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .expose_headers([header::RETRY_AFTER])
                .max_age(std::time::Duration::from_secs(600)),
        ),
        None => router,
    }
}

/// Serves `api` on `listener` and `admin` on `admin_listener` until `shutdown`
/// completes, then stops accepting and lets requests in flight finish (event streams
/// end when the driver stops).
///
/// # Errors
///
/// When a listener fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    api: Router,
    admin_listener: tokio::net::TcpListener,
    admin: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let api_server = axum::serve(listener, api).with_graceful_shutdown(wait(stop_rx.clone()));
    let admin_server = axum::serve(admin_listener, admin).with_graceful_shutdown(wait(stop_rx));
    let signal = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    let (api, admin, ()) = tokio::join!(
        async { api_server.await },
        async { admin_server.await },
        signal
    );
    api.and(admin)
}
