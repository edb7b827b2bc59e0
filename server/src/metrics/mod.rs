//! The session server's Prometheus metrics and the admin HTTP routes that serve them.
//!
//! **What it is.** [`Metrics`]: the counters, gauges and the tick-duration histogram
//! the shell updates (players, datagrams and bytes in and out, rejected connections and
//! dropped datagrams by reason), [`Metrics::sync_sessions`] to fold the admission core's
//! [`SessionStats`] in, [`Metrics::encode`] for the text format, and [`admin_router`]
//! with `/metrics` and `/healthz`.
//!
//! **What it is not.** No push gateway, no auth on the admin port (bind it to a private
//! address), and no game metrics beyond players and tick time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use protocol::game::DisconnectReason;

use crate::session::SessionStats;

type ByReason = Family<Vec<(String, String)>, Counter>;

/// Every metric the server exports; cheap to clone (all handles are shared).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Player slots held (connected or in their reconnect grace).
    pub players: Gauge,
    /// Connections awaiting hello or GameLift's answer.
    pub pending: Gauge,
    /// Time one tick took (simulation, snapshots and sends), in seconds.
    pub tick_seconds: Histogram,
    /// Datagrams received.
    pub datagrams_in: Counter,
    /// Datagrams sent.
    pub datagrams_out: Counter,
    /// Bytes received (datagrams and stream).
    pub bytes_in: Counter,
    /// Bytes sent (datagrams and stream).
    pub bytes_out: Counter,
    /// Writes to players' streams: one per player per tick that has frames for them
    /// (events of a tick go out together), plus `Welcome` and the joins after it.
    pub stream_writes: Counter,
    /// Bytes in those writes (part of `bytes_out`).
    pub stream_bytes_out: Counter,
    rejected: ByReason,
    closed: ByReason,
    dropped: ByReason,
    last: Arc<Mutex<SessionStats>>,
    /// Every tick duration since the last [`Metrics::take_tick_durations`], kept only
    /// once [`Metrics::keep_tick_durations`] was called: the histogram's buckets are too
    /// coarse for a benchmark's percentiles (`server/benches/session`).
    tick_log: Arc<Mutex<Option<Vec<Duration>>>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a connection was turned away before or at admission (`rejected_connections`).
pub mod rejected {
    /// `Incoming::refuse`: the session was full or the match over.
    pub const SESSION_FULL: &str = "session_full";
    /// `Incoming::retry`: too many unvalidated handshakes.
    pub const RETRY: &str = "retry";
    /// Too many pending connections (hello flood): refused at the handshake
    /// (`Incoming::refuse`) while handshakes in flight plus connections awaiting hello or
    /// admission reach the cap, or by the admission core just after the handshake.
    pub const PENDING_CAP: &str = "pending_cap";
    /// The handshake failed (wrong ALPN, bad Initial, timeout).
    pub const HANDSHAKE_FAILED: &str = "handshake_failed";
}

/// Why a datagram was dropped (`dropped_datagrams`).
pub mod dropped {
    /// Over the connection's rate.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// Its connection was closing or unknown.
    pub const IGNORED: &str = "ignored";
    /// quinn refused to send it (too large, unsupported, lost connection).
    pub const SEND_FAILED: &str = "send_failed";
}

impl Metrics {
    /// Registers every metric under the `gls_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("gls");
        let players = Gauge::default();
        let pending = Gauge::default();
        let tick_seconds = Histogram::new(exponential_buckets(0.000_05, 2.0, 14));
        let (datagrams_in, datagrams_out, bytes_in, bytes_out) = Default::default();
        let (stream_writes, stream_bytes_out) = Default::default();
        let rejected = ByReason::default();
        let closed = ByReason::default();
        let dropped = ByReason::default();
        registry.register("players", "Player slots held", players.clone());
        registry.register(
            "pending_connections",
            "Connections awaiting admission",
            pending.clone(),
        );
        registry.register(
            "tick_duration_seconds",
            "Time one tick took",
            tick_seconds.clone(),
        );
        registry.register(
            "datagrams_in",
            "Datagrams received",
            Counter::clone(&datagrams_in),
        );
        registry.register(
            "datagrams_out",
            "Datagrams sent",
            Counter::clone(&datagrams_out),
        );
        registry.register("bytes_in", "Bytes received", Counter::clone(&bytes_in));
        registry.register("bytes_out", "Bytes sent", Counter::clone(&bytes_out));
        registry.register(
            "stream_writes",
            "Writes to players' streams (a tick's frames for one player are one write)",
            Counter::clone(&stream_writes),
        );
        registry.register(
            "stream_bytes_out",
            "Bytes written to players' streams",
            Counter::clone(&stream_bytes_out),
        );
        registry.register(
            "rejected_connections",
            "Connections turned away, by reason",
            rejected.clone(),
        );
        registry.register(
            "closed_connections",
            "Connections closed by the server, by reason",
            closed.clone(),
        );
        registry.register(
            "dropped_datagrams",
            "Datagrams dropped, by reason",
            dropped.clone(),
        );
        Self {
            registry: Arc::new(registry),
            players,
            pending,
            tick_seconds,
            datagrams_in,
            datagrams_out,
            bytes_in,
            bytes_out,
            stream_writes,
            stream_bytes_out,
            rejected,
            closed,
            dropped,
            last: Arc::default(),
            tick_log: Arc::default(),
        }
    }

    /// Records one tick's duration in [`tick_seconds`](Self::tick_seconds) (and in the
    /// exact log when it is kept).
    pub fn observe_tick(&self, took: Duration) {
        self.tick_seconds.observe(took.as_secs_f64());
        let mut log = self.tick_log.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(log) = log.as_mut() {
            log.push(took);
        }
    }

    /// From now on, also keeps every tick duration exactly, for
    /// [`take_tick_durations`](Self::take_tick_durations). Meant for benchmarks: the log
    /// grows until it is taken.
    pub fn keep_tick_durations(&self) {
        let mut log = self.tick_log.lock().unwrap_or_else(|e| e.into_inner());
        log.get_or_insert_with(Vec::new);
    }

    /// The tick durations kept since the last call (empty unless
    /// [`keep_tick_durations`](Self::keep_tick_durations) was called).
    pub fn take_tick_durations(&self) -> Vec<Duration> {
        let mut log = self.tick_log.lock().unwrap_or_else(|e| e.into_inner());
        log.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Counts one rejected connection (see [`rejected`]).
    pub fn reject(&self, reason: &str) {
        self.rejected.get_or_create(&label(reason)).inc();
    }

    /// Counts one dropped datagram (see [`dropped`]).
    pub fn drop_datagram(&self, reason: &str) {
        self.dropped.get_or_create(&label(reason)).inc();
    }

    /// The rejected-connection count for `reason`.
    pub fn rejected(&self, reason: &str) -> u64 {
        self.rejected.get_or_create(&label(reason)).get()
    }

    /// The dropped-datagram count for `reason`.
    pub fn dropped(&self, reason: &str) -> u64 {
        self.dropped.get_or_create(&label(reason)).get()
    }

    /// Connections the server closed with `reason`.
    pub fn closed(&self, reason: DisconnectReason) -> u64 {
        self.closed
            .get_or_create(&label(&format!("{reason:?}")))
            .get()
    }

    /// Folds what the admission core counted since the last call into the counters.
    pub fn sync_sessions(&self, stats: &SessionStats, players: usize, pending: usize) {
        self.players.set(players as i64);
        self.pending.set(pending as i64);
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        for reason in DisconnectReason::ALL {
            let delta = stats.closed(reason).saturating_sub(last.closed(reason));
            if delta > 0 {
                self.closed
                    .get_or_create(&label(&format!("{reason:?}")))
                    .inc_by(delta);
            }
        }
        let add = |family: &ByReason, name: &str, now: u64, before: u64| {
            if now > before {
                family.get_or_create(&label(name)).inc_by(now - before);
            }
        };
        add(
            &self.rejected,
            rejected::PENDING_CAP,
            stats.refused_pending_cap,
            last.refused_pending_cap,
        );
        add(
            &self.dropped,
            dropped::RATE_LIMITED,
            stats.datagrams_rate_dropped,
            last.datagrams_rate_dropped,
        );
        add(
            &self.dropped,
            dropped::IGNORED,
            stats.datagrams_ignored,
            last.datagrams_ignored,
        );
        *last = stats.clone();
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

fn label(reason: &str) -> Vec<(String, String)> {
    vec![("reason".to_owned(), reason.to_owned())]
}

/// The tick loop's heartbeat, shared between the shell (writer) and the health check.
#[derive(Debug)]
pub struct Liveness {
    start: Instant,
    /// Nanoseconds from `start` to the last tick, plus one (0 = never ticked).
    last_tick_us: AtomicU64,
    /// A tick older than this means the loop is stalled.
    max_gap: Duration,
}

impl Liveness {
    /// A heartbeat that counts as stalled after `max_gap` without a tick (a few ticks).
    pub fn new(max_gap: Duration) -> Self {
        Self {
            start: Instant::now(),
            last_tick_us: AtomicU64::new(0),
            max_gap,
        }
    }

    /// The tick loop ran a tick at `now`.
    pub fn beat(&self, now: Instant) {
        let us = now.saturating_duration_since(self.start).as_nanos() as u64;
        self.last_tick_us.store(us + 1, Ordering::Relaxed);
    }

    /// True when a tick ran within `max_gap` of `now`, or the tick loop has not started
    /// yet (a process waiting for its game session is idle, not stalled).
    pub fn is_healthy(&self, now: Instant) -> bool {
        match self.last_tick_us.load(Ordering::Relaxed) {
            0 => true,
            ns => {
                let last = self.start + Duration::from_nanos(ns - 1);
                now.saturating_duration_since(last) <= self.max_gap
            }
        }
    }
}

#[derive(Clone)]
struct AdminState {
    metrics: Metrics,
    liveness: Arc<Liveness>,
}

/// `/metrics` (Prometheus text) and `/healthz` (200 while the tick loop is alive, 503
/// once it stalls).
pub fn admin_router(metrics: Metrics, liveness: Arc<Liveness>) -> Router {
    Router::new()
        .route("/metrics", get(serve_metrics))
        .route("/healthz", get(serve_health))
        .with_state(AdminState { metrics, liveness })
}

async fn serve_metrics(State(state): State<AdminState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
}

async fn serve_health(State(state): State<AdminState>) -> impl IntoResponse {
    if state.liveness.is_healthy(Instant::now()) {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "tick loop stalled")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_stats_fold_in_as_deltas() {
        let m = Metrics::new();
        let mut stats = SessionStats::default();
        stats.closed_by_reason[DisconnectReason::HelloTimeout.code() as usize] = 2;
        stats.datagrams_rate_dropped = 5;
        m.sync_sessions(&stats, 3, 1);
        stats.closed_by_reason[DisconnectReason::HelloTimeout.code() as usize] = 3;
        m.sync_sessions(&stats, 3, 1);
        assert_eq!(m.closed(DisconnectReason::HelloTimeout), 3);
        assert_eq!(m.dropped(dropped::RATE_LIMITED), 5);
        let text = m.encode();
        assert!(text.contains("gls_players 3"), "{text}");
        assert!(text.contains("gls_tick_duration_seconds_bucket"), "{text}");
        assert!(
            text.contains(r#"gls_closed_connections_total{reason="HelloTimeout"} 3"#),
            "{text}"
        );
    }

    #[test]
    fn tick_durations_are_kept_only_when_asked() {
        let m = Metrics::new();
        m.observe_tick(Duration::from_micros(10));
        assert!(m.take_tick_durations().is_empty());
        m.keep_tick_durations();
        m.observe_tick(Duration::from_micros(20));
        m.observe_tick(Duration::from_micros(30));
        assert_eq!(
            m.take_tick_durations(),
            vec![Duration::from_micros(20), Duration::from_micros(30)]
        );
        assert!(m.take_tick_durations().is_empty(), "taken means cleared");
        assert!(m.encode().contains("gls_tick_duration_seconds_count 3"));
    }

    #[test]
    fn a_stalled_loop_is_unhealthy() {
        let l = Liveness::new(Duration::from_millis(100));
        let t0 = Instant::now();
        assert!(
            l.is_healthy(t0 + Duration::from_secs(60)),
            "not started is not stalled"
        );
        l.beat(t0);
        assert!(l.is_healthy(t0 + Duration::from_millis(100)));
        assert!(!l.is_healthy(t0 + Duration::from_millis(101)));
    }
}
