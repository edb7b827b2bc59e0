//! Time-driven work: request deadlines and forced reconnects (§3.3), connection retries,
//! the health schedule and its callback budget (§6.1), and closing drained connections.

use std::time::Instant;

use protocol::sdk5::{Action, HeartbeatServerProcess};
use tracing::{debug, warn};

use super::{ConnId, Core, Event, Output};
use crate::error::SdkError;

impl Core {
    /// Fires every deadline at or before `now`: request timeouts (two in a row force a
    /// reconnect), connection retries, health checks and their budgets, drained
    /// connections.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.expire_requests(now);

        let retry_due = self
            .attempt
            .as_ref()
            .is_some_and(|a| a.retry_at.is_some_and(|at| at <= now));
        if retry_due {
            let conn = ConnId(self.fresh_id());
            if let Some(attempt) = self.attempt.as_mut() {
                attempt.retry_at = None;
                attempt.conn = Some(conn);
                let url = attempt.url.clone();
                self.outputs.push_back(Output::Connect { conn, url });
            }
        }

        if let Some((id, deadline)) = self.health_in_flight
            && deadline <= now
        {
            warn!(
                id,
                "health callback exceeded its budget; reporting unhealthy"
            );
            self.health_in_flight = None;
            self.send_heartbeat(now, false);
        }

        if let Some(due) = self.next_health
            && due <= now
        {
            if self.state.is_ready() {
                if self.health_in_flight.is_none() {
                    let id = self.fresh_id();
                    self.health_in_flight = Some((id, now + self.timing.health_budget));
                    self.outputs
                        .push_back(Output::Event(Event::HealthCheck { id }));
                }
                let period = self.timing.health_period(self.jitter.sample());
                self.next_health = Some(now + period);
            } else {
                self.next_health = None;
            }
        }

        let (expired, kept): (Vec<_>, Vec<_>) =
            self.draining.drain(..).partition(|(_, at)| *at <= now);
        self.draining = kept;
        for (conn, _) in expired {
            self.outputs.push_back(Output::Close { conn, code: 1000 });
        }
    }

    /// The game's health callback answered check `id`. Late answers are ignored.
    pub fn handle_health_result(&mut self, now: Instant, id: u64, healthy: bool) {
        if self
            .health_in_flight
            .is_some_and(|(current, _)| current == id)
        {
            self.health_in_flight = None;
            self.send_heartbeat(now, healthy);
        } else {
            debug!(id, "late health result ignored");
        }
    }

    /// Fails every request whose deadline passed; forces a reconnect after enough
    /// consecutive timeouts of requests that were actually sent.
    pub(super) fn expire_requests(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            let Some(pending) = self.pending.remove(&id) else {
                continue;
            };
            self.outbox.retain(|queued| *queued != id);
            warn!(action = %pending.action, request_id = %id, "request timed out");
            if pending.action == Action::ActivateServerProcess {
                self.process_ready_in_flight = false;
            }
            if pending.sent_on.is_some() {
                self.consecutive_timeouts += 1;
            }
            let action = pending.action;
            self.complete(pending, Err(SdkError::Timeout { action }));
        }
        if self.consecutive_timeouts >= self.timing.timeouts_before_reconnect.max(1) {
            self.consecutive_timeouts = 0;
            if self.active.is_some() && self.attempt.is_none() && !self.closed_for_good {
                warn!("consecutive request timeouts; replacing the connection");
                self.reconnect_to_active_url();
            }
        }
    }

    /// Sends `HeartbeatServerProcess` if the process is still ready.
    pub(super) fn send_heartbeat(&mut self, now: Instant, healthy: bool) {
        if self.state.is_ready() && !self.closed_for_good {
            let body = HeartbeatServerProcess {
                health_status: healthy,
            };
            self.send_request(now, &body, None, None);
        }
    }
}
