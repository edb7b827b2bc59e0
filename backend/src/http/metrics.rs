//! The API's Prometheus metrics and the admin routes that serve them.
//!
//! **What it is:** counters and gauges the handlers and the matchmaking driver update,
//! and [`admin_router`] with `/metrics` (text format), `/healthz` and `/readyz`, to be
//! bound on a private admin port.
//!
//! **What it is not:** no per-route latency histograms yet, no auth on the admin port.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use protocol::http::TicketStatus;

use super::tickets::MatchmakerHandle;

type Labelled = Family<Vec<(String, String)>, Counter>;

/// Every metric the API exports; cheap to clone.
#[derive(Clone)]
pub struct ApiMetrics {
    registry: Arc<Registry>,
    /// Tickets created.
    pub tickets_created: Counter,
    /// One counter per [`TicketStatus::ALL`] entry, in that order: looked up by index on
    /// every state change rather than by a label built and hashed each time.
    ticket_states: Arc<[Counter]>,
    /// One counter per [`PLACEMENT_OUTCOMES`] entry, in that order.
    placements: Arc<[Counter]>,
    auth_failures: Labelled,
    /// Requests refused with `429`.
    pub rate_limited: Counter,
    /// Tickets searching now.
    pub tickets_searching: Gauge,
    /// Matches being placed now.
    pub matches_placing: Gauge,
}

impl std::fmt::Debug for ApiMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiMetrics").finish_non_exhaustive()
    }
}

impl Default for ApiMetrics {
    fn default() -> Self {
        Self::new()
    }
}

fn label(key: &str, value: &str) -> Vec<(String, String)> {
    vec![(key.to_owned(), value.to_owned())]
}

/// How a placement can end (the `outcome` label of `backend_placements_total`).
pub const PLACEMENT_OUTCOMES: [&str; 4] = ["succeeded", "failed", "abandoned", "no_capacity_retry"];

/// The counter of every value of `key`, created now (so each series is exported from the
/// start, at zero).
fn counters<'a>(
    family: &Labelled,
    key: &str,
    values: impl IntoIterator<Item = &'a str>,
) -> Arc<[Counter]> {
    values
        .into_iter()
        .map(|v| family.get_or_create(&label(key, v)).clone())
        .collect()
}

impl ApiMetrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> ApiMetrics {
        let mut registry = Registry::with_prefix("backend");
        let tickets_created = Counter::default();
        registry.register(
            "tickets_created",
            "Matchmaking tickets created",
            tickets_created.clone(),
        );
        let ticket_states = Labelled::default();
        registry.register(
            "ticket_state_changes",
            "Ticket state changes, by new state",
            ticket_states.clone(),
        );
        let ticket_states = counters(
            &ticket_states,
            "state",
            TicketStatus::ALL.iter().map(|s| s.as_str()),
        );
        let placements = Labelled::default();
        registry.register(
            "placements",
            "Placements finished, by outcome",
            placements.clone(),
        );
        let placements = counters(&placements, "outcome", PLACEMENT_OUTCOMES);
        let auth_failures = Labelled::default();
        registry.register(
            "auth_failures",
            "Requests refused with 401, by reason",
            auth_failures.clone(),
        );
        let rate_limited = Counter::default();
        registry.register(
            "rate_limited",
            "Requests refused with 429",
            rate_limited.clone(),
        );
        let tickets_searching = Gauge::default();
        registry.register(
            "tickets_searching",
            "Tickets searching now",
            tickets_searching.clone(),
        );
        let matches_placing = Gauge::default();
        registry.register(
            "matches_placing",
            "Matches being placed now",
            matches_placing.clone(),
        );
        ApiMetrics {
            registry: Arc::new(registry),
            tickets_created,
            ticket_states,
            placements,
            auth_failures,
            rate_limited,
            tickets_searching,
            matches_placing,
        }
    }

    /// Counts a ticket state change.
    pub fn ticket_state(&self, status: TicketStatus) {
        let i = TicketStatus::ALL
            .iter()
            .position(|s| *s == status)
            .expect("ALL lists every status");
        self.ticket_states[i].inc();
    }

    /// Counts a finished placement (one of [`PLACEMENT_OUTCOMES`]).
    ///
    /// # Panics
    /// On an outcome not in the list (a programming error).
    pub fn placement(&self, outcome: &str) {
        let i = PLACEMENT_OUTCOMES
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or_else(|| panic!("unknown placement outcome {outcome:?}"));
        self.placements[i].inc();
    }

    /// Counts a refused token.
    pub fn auth_failure(&self, reason: &str) {
        self.auth_failures
            .get_or_create(&label("reason", reason))
            .inc();
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

#[derive(Clone)]
struct AdminState {
    metrics: ApiMetrics,
    matchmaker: MatchmakerHandle,
}

/// `/metrics`, `/healthz` and `/readyz` for the admin port.
pub fn admin_router(metrics: ApiMetrics, matchmaker: MatchmakerHandle) -> Router {
    Router::new()
        .route("/metrics", get(serve_metrics))
        .route("/healthz", get(super::routes::healthz))
        .route("/readyz", get(admin_ready))
        .with_state(AdminState {
            metrics,
            matchmaker,
        })
}

async fn serve_metrics(State(state): State<AdminState>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

async fn admin_ready(State(state): State<AdminState>) -> impl IntoResponse {
    super::routes::ready(&state.matchmaker).await
}

/// The result consumer's counters on the admin port, when `backend serve --consume`
/// runs it in the same process (`backend_results_*`).
#[derive(Debug)]
struct ConsumerCollector(Arc<crate::consumer::Counters>);

impl prometheus_client::collector::Collector for ConsumerCollector {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::DescriptorEncoder<'_>,
    ) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeMetric;
        use prometheus_client::metrics::counter::ConstCounter;
        let s = self.0.snapshot();
        for (name, help, value) in [
            (
                "results_received",
                "Result messages received (redeliveries count again)",
                s.received,
            ),
            (
                "results_applied",
                "Match results applied to profiles and rankings",
                s.applied,
            ),
            (
                "results_duplicates",
                "Deliveries of results applied before",
                s.duplicates,
            ),
            (
                "results_transient_failures",
                "Deliveries left for redelivery",
                s.transient_failures,
            ),
        ] {
            let counter = ConstCounter::new(value);
            let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(metric)?;
        }
        let counter = ConstCounter::new(0u64);
        let mut family = encoder.encode_descriptor(
            "results_dead_lettered",
            "Result messages moved to the dead-letter queue, by reason",
            None,
            counter.metric_type(),
        )?;
        for (reason, n) in &s.dead_lettered {
            let labels = [("reason", reason.as_str())];
            ConstCounter::new(*n).encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

impl ApiMetrics {
    /// [`ApiMetrics::new`] plus the consumer's counters (`backend_results_applied_total`
    /// and the rest), for a process that also consumes results.
    pub fn with_consumer(counters: Arc<crate::consumer::Counters>) -> ApiMetrics {
        let mut metrics = ApiMetrics::new();
        let registry = Arc::get_mut(&mut metrics.registry).expect("a fresh registry");
        registry.register_collector(Box::new(ConsumerCollector(counters)));
        metrics
    }
}
