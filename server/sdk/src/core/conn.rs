//! Connection lifecycle: opening, retrying with backoff, switching to a new connection
//! (make before break), and what a close means (§2.6, §3.4, §5.4).

use std::time::Instant;

use tracing::{debug, info, warn};

use super::{Attempt, ConnId, Core, Event, Output, ProcessState, Purpose};
use crate::error::SdkError;

impl Core {
    /// Connection `conn` finished its WebSocket handshake.
    pub fn handle_connected(&mut self, now: Instant, conn: ConnId) {
        let matches = self.attempt.as_ref().is_some_and(|a| a.conn == Some(conn));
        if !matches || self.state == ProcessState::Destroyed {
            debug!(conn = conn.0, "stale connection opened; closing it");
            self.outputs.push_back(Output::Close { conn, code: 1000 });
            return;
        }
        let Some(attempt) = self.attempt.take() else {
            return;
        };
        info!(conn = conn.0, purpose = ?attempt.purpose, "connected");
        if let Some(old) = self.active.replace(conn) {
            self.draining.push((old, now + self.timing.drain));
        }
        self.active_url = Some(attempt.url);
        if attempt.purpose == Purpose::Initial {
            self.state = ProcessState::Connected;
            self.outputs.push_back(Output::Event(Event::Initialized));
        }
        while let Some(request_id) = self.outbox.pop_front() {
            if let Some(pending) = self.pending.get_mut(&request_id) {
                pending.sent_on = Some(conn);
                let text = pending.text.clone();
                self.outputs.push_back(Output::Send { conn, text });
            }
        }
    }

    /// Opening connection `conn` failed (handshake refused, DNS, TCP, TLS, timeout).
    pub fn handle_connect_failed(&mut self, now: Instant, conn: ConnId, error: &str) {
        let Some(attempt) = self.attempt.as_mut().filter(|a| a.conn == Some(conn)) else {
            return;
        };
        attempt.conn = None;
        attempt.failures += 1;
        let purpose = attempt.purpose;
        if purpose == Purpose::Refresh {
            warn!(%error, "RefreshConnection: the new endpoint failed; keeping the old connection");
            self.attempt = None;
            if self.active.is_none() {
                self.reconnect_to_active_url();
            }
            return;
        }
        if let Some(wait) = self.timing.backoff(attempt.failures) {
            warn!(%error, failures = attempt.failures, wait_s = wait.as_secs_f64(), "connect failed; retrying");
            attempt.retry_at = Some(now + wait);
            return;
        }
        self.attempt = None;
        match purpose {
            Purpose::Initial => {
                warn!(%error, "connect failed; giving up");
                self.outputs.push_back(Output::Event(Event::InitFailed {
                    error: error.to_owned(),
                }));
            }
            _ if self.active.is_some() => {
                warn!(%error, "reconnect failed; staying on the current connection");
            }
            _ => {
                warn!(%error, "reconnect failed every attempt; connection lost");
                self.lose_connection();
            }
        }
    }

    /// Connection `conn` closed, with the peer's close code if there was a close frame
    /// (`None` for a network error or a missing close frame, i.e. 1006).
    pub fn handle_closed(&mut self, now: Instant, conn: ConnId, code: Option<u16>) {
        let _ = now;
        self.draining.retain(|(c, _)| *c != conn);
        if self.active != Some(conn) {
            return;
        }
        self.active = None;
        if self.state == ProcessState::Destroyed {
            return;
        }
        if matches!(code, Some(1000 | 1001)) {
            info!(
                ?code,
                "the service closed the connection normally; not reconnecting"
            );
            self.attempt = None;
            self.lose_connection();
            return;
        }
        warn!(?code, "connection dropped; reconnecting");
        // Requests in flight on the dead connection go out again, same RequestId.
        let mut resend: Vec<_> = self
            .pending
            .iter()
            .filter(|(_, p)| p.sent_on == Some(conn))
            .map(|(id, p)| (p.deadline, id.clone()))
            .collect();
        resend.sort();
        for (_, id) in resend.into_iter().rev() {
            if let Some(p) = self.pending.get_mut(&id) {
                p.sent_on = None;
            }
            self.outbox.push_front(id);
        }
        if self.attempt.is_none() {
            self.reconnect_to_active_url();
        }
    }

    /// No connection any more, none to come: fail everything waiting.
    pub(super) fn lose_connection(&mut self) {
        self.closed_for_good = true;
        self.next_health = None;
        self.health_in_flight = None;
        self.outbox.clear();
        self.fail_all(|| SdkError::ConnectionClosed);
        self.outputs.push_back(Output::Event(Event::ConnectionLost));
    }

    /// A reconnect to the URL of the active (or last active) connection.
    pub(super) fn reconnect_to_active_url(&mut self) {
        match self.active_url.clone() {
            Some(url) => self.start_attempt(Purpose::Reconnect, url),
            None => self.lose_connection(),
        }
    }

    /// Opens a connection for `purpose`.
    pub(super) fn start_attempt(&mut self, purpose: Purpose, url: String) {
        let conn = ConnId(self.fresh_id());
        self.outputs.push_back(Output::Connect {
            conn,
            url: url.clone(),
        });
        self.attempt = Some(Attempt {
            conn: Some(conn),
            url,
            purpose,
            failures: 0,
            retry_at: None,
        });
    }
}
