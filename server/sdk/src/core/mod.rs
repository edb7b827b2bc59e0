//! The sans-IO client: the whole SDK 5 protocol state machine with no socket and no clock.
//!
//! Modelled on quinn-proto. The shell (or a test) feeds it what happened —
//! [`handle_connected`](Core::handle_connected), [`handle_text`](Core::handle_text),
//! [`handle_closed`](Core::handle_closed), [`handle_timeout`](Core::handle_timeout),
//! [`handle_health_result`](Core::handle_health_result) and the API calls of
//! [`calls`](self) — always with the current `now`, and then drains what the core wants
//! done with [`poll_output`](Core::poll_output) and when it next needs waking with
//! [`poll_timeout`](Core::poll_timeout).
//!
//! # Process state
//!
//! ```text
//! NotInitialized ─connect─▶ Connected ─ActivateServerProcess 200─▶ Ready
//!     ─CreateGameSession push─▶ HostingGameSession ─process_ending─▶ Ending ─destroy─▶ Destroyed
//! ```
//!
//! # Connections
//!
//! A connection is opened with [`Output::Connect`] and identified by a [`ConnId`]. Traffic
//! goes to one *active* connection. A new one is always opened before the old one is let
//! go (§3.4): after a forced reconnect (two request timeouts in a row) or a
//! `RefreshConnection` push, the old connection drains for [`Timing::drain`] and is then
//! closed with 1000. An abnormal close (any code but 1000/1001, or none) reconnects to the
//! same URL — same `IdempotencyToken`, same signature — at once and then after each
//! failure with [`Timing::reconnect_backoff`]; requests that were in flight are sent again
//! with their original `RequestId` once connected. A 1000/1001 close, or running out of
//! attempts, ends the connection for good ([`Event::ConnectionLost`]).

mod calls;
mod conn;
mod inbound;
mod timers;
mod timing;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use protocol::sdk5::{
    Action, GameSession, GetFleetRoleCredentialsResult, RequestBody, ResponseFrame,
    UpdateGameSession, encode_request,
};
use tracing::debug;

use crate::config::SdkConfig;
use crate::error::SdkError;
use crate::url::connect_url;

pub use calls::{CallStart, ProcessParameters};
pub use timing::{Jitter, Timing};

/// Identifies one WebSocket connection the core asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// Identifies one API call, from the call until its [`Output::Complete`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestKey(pub u64);

/// Where the process is in its lifecycle (§6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcessState {
    /// Nothing connected yet.
    NotInitialized,
    /// Connected (`InitSDK` done); `ProcessReady` not yet acknowledged.
    Connected,
    /// `ActivateServerProcess` answered 200: health checks run, game sessions may come.
    Ready,
    /// A `CreateGameSession` push was received; session-scoped calls are allowed.
    HostingGameSession,
    /// `process_ending` was called: no more health checks or new game sessions.
    Ending,
    /// `destroy` was called: everything is refused.
    Destroyed,
}

impl ProcessState {
    /// Ready or hosting a game session.
    pub fn is_ready(self) -> bool {
        matches!(self, ProcessState::Ready | ProcessState::HostingGameSession)
    }
}

/// Something for the game, surfaced by [`Output::Event`].
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The first connection is open (`InitSDK` succeeded).
    Initialized,
    /// The first connection could not be opened after every attempt.
    InitFailed {
        /// The last error.
        error: String,
    },
    /// The connection ended for good; every later call fails with
    /// [`SdkError::ConnectionClosed`].
    ConnectionLost,
    /// `CreateGameSession` arrived: call the game's `onStartGameSession`.
    StartGameSession(GameSession),
    /// `UpdateGameSession` arrived: call `onUpdateGameSession`.
    UpdateGameSession(UpdateGameSession),
    /// `TerminateProcess` arrived: call `onProcessTerminate`.
    ProcessTerminate {
        /// `TerminationTime`, epoch milliseconds.
        termination_time_ms: i64,
    },
    /// Run the game's health callback and answer with
    /// [`handle_health_result`](Core::handle_health_result) with this id; no answer within
    /// [`Timing::health_budget`] reports unhealthy.
    HealthCheck {
        /// Correlates the answer.
        id: u64,
    },
}

/// What the core wants done, drained with [`Core::poll_output`].
#[derive(Debug)]
pub enum Output {
    /// Open a WebSocket to `url`; report with `handle_connected` or `handle_connect_failed`.
    Connect {
        /// The id to report back with.
        conn: ConnId,
        /// The full URL with query.
        url: String,
    },
    /// Send a text frame.
    Send {
        /// On this connection.
        conn: ConnId,
        /// The JSON frame.
        text: String,
    },
    /// Close a connection with this close code; the core forgets it.
    Close {
        /// The connection.
        conn: ConnId,
        /// The close code (1000).
        code: u16,
    },
    /// An API call finished: a 200 response frame or the error.
    Complete {
        /// The call.
        key: RequestKey,
        /// The response or why the call failed.
        result: Result<ResponseFrame, SdkError>,
    },
    /// Something for the game.
    Event(Event),
}

/// Why a connection attempt is being made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// The first connection (`InitSDK`).
    Initial,
    /// Replacing a dropped or half-open connection, same URL.
    Reconnect,
    /// A `RefreshConnection` push: new endpoint and token.
    Refresh,
}

/// A connection being opened (or waiting out its backoff).
#[derive(Debug)]
struct Attempt {
    /// The connection being opened; `None` while waiting for `retry_at`.
    conn: Option<ConnId>,
    url: String,
    purpose: Purpose,
    /// Failed attempts so far.
    failures: u32,
    /// When to try again after a failure.
    retry_at: Option<Instant>,
}

/// A request sent (or queued) and not yet answered.
#[derive(Debug)]
struct Pending {
    /// `None` for the SDK's own requests (heartbeats).
    key: Option<RequestKey>,
    action: Action,
    deadline: Instant,
    /// The encoded frame, kept to resend it after a reconnect.
    text: String,
    /// The connection it went out on; `None` while queued.
    sent_on: Option<ConnId>,
    /// For `GetFleetRoleCredentials`: the cache key.
    role_arn: Option<String>,
}

/// The SDK 5 client state machine. See the [module docs](self).
#[derive(Debug)]
pub struct Core {
    config: SdkConfig,
    timing: Timing,
    jitter: Jitter,
    state: ProcessState,
    /// `ActivateServerProcess` sent and unanswered: a second `process_ready` is refused.
    process_ready_in_flight: bool,
    game_session_id: Option<String>,
    termination_time_ms: Option<i64>,
    next_id: u64,
    active: Option<ConnId>,
    /// The URL of the active connection, reused verbatim by reconnects.
    active_url: Option<String>,
    attempt: Option<Attempt>,
    /// Connections replaced by a newer one, closed at the given time.
    draining: Vec<(ConnId, Instant)>,
    /// No connection and none will be tried again.
    closed_for_good: bool,
    /// Keyed by `RequestId`.
    pending: HashMap<String, Pending>,
    /// `RequestId`s waiting for a connection, oldest first.
    outbox: VecDeque<String>,
    consecutive_timeouts: u32,
    next_health: Option<Instant>,
    /// The health check the game is running: its id and budget deadline.
    health_in_flight: Option<(u64, Instant)>,
    role_credentials: HashMap<String, GetFleetRoleCredentialsResult>,
    /// A `GetFleetRoleCredentials` came back with no `AccessKeyId` (not a managed fleet).
    role_credentials_unavailable: bool,
    outputs: VecDeque<Output>,
}

impl Core {
    /// A core for `config` with the given timing and jitter source.
    pub fn new(config: SdkConfig, timing: Timing, jitter: Jitter) -> Core {
        Core {
            config,
            timing,
            jitter,
            state: ProcessState::NotInitialized,
            process_ready_in_flight: false,
            game_session_id: None,
            termination_time_ms: None,
            next_id: 0,
            active: None,
            active_url: None,
            attempt: None,
            draining: Vec::new(),
            closed_for_good: false,
            pending: HashMap::new(),
            outbox: VecDeque::new(),
            consecutive_timeouts: 0,
            next_health: None,
            health_in_flight: None,
            role_credentials: HashMap::new(),
            role_credentials_unavailable: false,
            outputs: VecDeque::new(),
        }
    }

    /// Starts the first connection (`InitSDK`), with a new `IdempotencyToken`, signing at
    /// `unix_secs` in SigV4 mode. Only the first call has an effect.
    pub fn connect(&mut self, now: Instant, unix_secs: u64) {
        let _ = now;
        if self.state != ProcessState::NotInitialized || self.attempt.is_some() {
            debug!("connect called twice; ignored");
            return;
        }
        let token = uuid::Uuid::new_v4().to_string();
        let url = connect_url(&self.config, &token, unix_secs);
        self.start_attempt(Purpose::Initial, url);
    }

    /// The process state.
    pub fn state(&self) -> ProcessState {
        self.state
    }

    /// The id of the game session received with `CreateGameSession`, if any.
    pub fn game_session_id(&self) -> Option<&str> {
        self.game_session_id.as_deref()
    }

    /// `TerminationTime` of the `TerminateProcess` push (epoch ms), if one arrived.
    pub fn termination_time_ms(&self) -> Option<i64> {
        self.termination_time_ms
    }

    /// The configuration in use.
    pub fn config(&self) -> &SdkConfig {
        &self.config
    }

    /// The connection requests currently go to.
    pub fn active_connection(&self) -> Option<ConnId> {
        self.active
    }

    /// The next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let requests = self.pending.values().map(|p| p.deadline);
        let retry = self.attempt.as_ref().and_then(|a| a.retry_at);
        let drains = self.draining.iter().map(|(_, at)| *at);
        let health = self.health_in_flight.map(|(_, at)| at);
        requests
            .chain(retry)
            .chain(drains)
            .chain(health)
            .chain(self.next_health)
            .min()
    }

    /// Encodes and sends (or queues) a request; returns its `RequestId`.
    fn send_request<R: RequestBody>(
        &mut self,
        now: Instant,
        body: &R,
        key: Option<RequestKey>,
        role_arn: Option<String>,
    ) -> String {
        let request_id = uuid::Uuid::new_v4().to_string();
        let text = encode_request(&request_id, body);
        let timeout = if R::ACTION == Action::ActivateServerProcess {
            self.timing.activate_timeout
        } else {
            self.timing.request_timeout
        };
        let sent_on = self.active;
        match sent_on {
            Some(conn) => self.outputs.push_back(Output::Send {
                conn,
                text: text.clone(),
            }),
            None => self.outbox.push_back(request_id.clone()),
        }
        let pending = Pending {
            key,
            action: R::ACTION,
            deadline: now + timeout,
            text,
            sent_on,
            role_arn,
        };
        self.pending.insert(request_id.clone(), pending);
        request_id
    }

    /// Reports a finished request to its caller (the SDK's own requests are only logged).
    fn complete(&mut self, pending: Pending, result: Result<ResponseFrame, SdkError>) {
        match (pending.key, result) {
            (Some(key), result) => self.outputs.push_back(Output::Complete { key, result }),
            (None, Err(error)) => {
                debug!(action = %pending.action, %error, "internal request failed")
            }
            (None, Ok(_)) => {}
        }
    }

    /// Fails every pending request with `error()`.
    fn fail_all(&mut self, error: impl Fn() -> SdkError) {
        let mut all: Vec<_> = self.pending.drain().map(|(_, p)| p).collect();
        all.sort_by_key(|p| p.deadline);
        for pending in all {
            self.complete(pending, Err(error()));
        }
    }

    /// A fresh id for connections and health checks.
    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}
