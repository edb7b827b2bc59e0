//! The driver task: owns the [`Core`], runs its outputs (connection tasks, replies,
//! callbacks) and feeds it inputs (commands from handles, connection events, health
//! answers, timers). The only place where the core meets tokio.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use protocol::sdk5::ResponseFrame;
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use super::handler::Dispatch;
use super::transport::{self, ConnCommand, ConnEvent};
use crate::core::{ConnId, Core, Event, Output, ProcessState, RequestKey};
use crate::error::SdkError;

/// A call's reply channel.
pub(crate) type Reply = oneshot::Sender<Result<ResponseFrame, SdkError>>;

/// Starts a call on the core: the key to wait for, or an answer right away.
pub(crate) type Start =
    Box<dyn FnOnce(&mut Core, Instant, i64) -> Result<Started, SdkError> + Send>;

/// How a call started.
pub(crate) enum Started {
    /// Sent; the answer comes with this key.
    Sent(RequestKey),
    /// Answered locally (a cached value).
    Done(ResponseFrame),
}

/// From a [`GameLiftServer`](crate::GameLiftServer) handle to the driver.
pub(crate) enum Command {
    /// An API call.
    Call {
        /// Runs on the core.
        start: Start,
        /// Gets the result.
        reply: Reply,
    },
    /// Send callbacks here from now on (`process_ready`).
    SetHandler(mpsc::UnboundedSender<Dispatch>),
    /// `destroy`.
    Destroy(oneshot::Sender<()>),
}

/// The connection settings the driver passes to each connection task.
#[derive(Debug, Clone)]
pub(crate) struct TransportOptions {
    /// TLS configuration for `wss://` (`None` = native roots).
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    /// Limit for one connection attempt.
    pub(crate) connect_timeout: std::time::Duration,
}

/// What handles can read without a round trip to the driver.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) state: ProcessState,
    pub(crate) game_session_id: Option<String>,
    pub(crate) termination_time_ms: Option<i64>,
}

/// Everything the driver loop owns besides the core.
struct Driver {
    core: Core,
    options: TransportOptions,
    shared: Arc<Mutex<Snapshot>>,
    conn_events: mpsc::UnboundedSender<ConnEvent>,
    conns: HashMap<ConnId, mpsc::UnboundedSender<ConnCommand>>,
    calls: HashMap<RequestKey, Reply>,
    init: Option<oneshot::Sender<Result<(), SdkError>>>,
    handler: Option<mpsc::UnboundedSender<Dispatch>>,
    /// Callbacks that arrived before a handler was registered.
    early: Vec<Dispatch>,
}

/// Runs until `destroy`, a failed init, or every handle is dropped.
pub(crate) async fn run(
    core: Core,
    options: TransportOptions,
    shared: Arc<Mutex<Snapshot>>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    mut health: mpsc::UnboundedReceiver<(u64, bool)>,
    init: oneshot::Sender<Result<(), SdkError>>,
) {
    let (conn_events, mut conn_rx) = mpsc::unbounded_channel();
    let mut driver = Driver {
        core,
        options,
        shared,
        conn_events,
        conns: HashMap::new(),
        calls: HashMap::new(),
        init: Some(init),
        handler: None,
        early: Vec::new(),
    };
    let mut destroyed: Vec<oneshot::Sender<()>> = Vec::new();
    loop {
        if !driver.flush() {
            return;
        }
        if driver.core.state() == ProcessState::Destroyed {
            info!("SDK destroyed; driver stops");
            for reply in destroyed {
                let _ = reply.send(());
            }
            return;
        }
        let deadline = driver
            .core
            .poll_timeout()
            .map(tokio::time::Instant::from_std);
        tokio::select! {
            command = commands.recv() => match command {
                None => driver.core.destroy(now()),
                Some(Command::Call { start, reply }) => driver.call(start, reply),
                Some(Command::SetHandler(sink)) => {
                    for event in driver.early.drain(..) {
                        let _ = sink.send(event);
                    }
                    driver.handler = Some(sink);
                }
                Some(Command::Destroy(reply)) => {
                    destroyed.push(reply);
                    driver.core.destroy(now());
                }
            },
            Some(event) = conn_rx.recv() => driver.connection_event(event),
            Some((id, healthy)) = health.recv() => driver.core.handle_health_result(now(), id, healthy),
            () = sleep_until(deadline), if deadline.is_some() => driver.core.handle_timeout(now()),
        }
    }
}

/// `sleep_until` for an optional deadline (the branch is disabled when `None`).
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    if let Some(deadline) = deadline {
        tokio::time::sleep_until(deadline).await;
    }
}

/// The core's clock: tokio's (so paused test time applies).
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Wall-clock milliseconds since the Unix epoch.
pub(crate) fn epoch_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Wall-clock seconds since the Unix epoch (SigV4 signing time).
pub(crate) fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Driver {
    /// Executes every pending output; `false` when the driver must stop (init failed).
    fn flush(&mut self) -> bool {
        // Before any callback is dispatched, so that it sees the new game session id.
        self.publish();
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::Connect { conn, url } => {
                    let tx = transport::spawn(
                        conn,
                        url,
                        self.options.tls.clone(),
                        self.options.connect_timeout,
                        self.conn_events.clone(),
                    );
                    self.conns.insert(conn, tx);
                }
                Output::Send { conn, text } => {
                    if let Some(tx) = self.conns.get(&conn) {
                        let _ = tx.send(ConnCommand::Text(text));
                    }
                }
                Output::Close { conn, code } => {
                    if let Some(tx) = self.conns.remove(&conn) {
                        let _ = tx.send(ConnCommand::Close(code));
                    }
                }
                Output::Complete { key, result } => {
                    if let Some(reply) = self.calls.remove(&key) {
                        let _ = reply.send(result);
                    }
                }
                Output::Event(event) => {
                    if !self.event(event) {
                        return false;
                    }
                }
            }
        }
        self.publish();
        true
    }

    /// Copies what handles may read into the shared snapshot.
    fn publish(&self) {
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        *shared = Snapshot {
            state: self.core.state(),
            game_session_id: self.core.game_session_id().map(str::to_owned),
            termination_time_ms: self.core.termination_time_ms(),
        };
    }

    /// Handles one core event; `false` when the driver must stop.
    fn event(&mut self, event: Event) -> bool {
        let dispatch = match event {
            Event::Initialized => {
                if let Some(init) = self.init.take() {
                    let _ = init.send(Ok(()));
                }
                return true;
            }
            Event::InitFailed { error } => {
                if let Some(init) = self.init.take() {
                    let _ = init.send(Err(SdkError::ConnectFailed(error)));
                }
                return false;
            }
            Event::ConnectionLost => {
                warn!("connection to GameLift lost for good");
                return true;
            }
            Event::StartGameSession(session) => Dispatch::Start(session),
            Event::UpdateGameSession(update) => Dispatch::Update(update),
            Event::ProcessTerminate {
                termination_time_ms,
            } => Dispatch::Terminate(termination_time_ms),
            Event::HealthCheck { id } => Dispatch::Health(id),
        };
        match &self.handler {
            Some(sink) => {
                let _ = sink.send(dispatch);
            }
            None => self.early.push(dispatch),
        }
        true
    }

    /// Starts an API call.
    fn call(&mut self, start: Start, reply: Reply) {
        match start(&mut self.core, now(), epoch_ms()) {
            Ok(Started::Sent(key)) => {
                self.calls.insert(key, reply);
            }
            Ok(Started::Done(frame)) => {
                let _ = reply.send(Ok(frame));
            }
            Err(error) => {
                let _ = reply.send(Err(error));
            }
        }
    }

    /// Feeds a connection event to the core.
    fn connection_event(&mut self, event: ConnEvent) {
        let now = now();
        match event {
            ConnEvent::Connected(conn) => self.core.handle_connected(now, conn),
            ConnEvent::ConnectFailed(conn, error) => {
                self.conns.remove(&conn);
                self.core.handle_connect_failed(now, conn, &error);
            }
            ConnEvent::Text(conn, text) => self.core.handle_text(now, conn, &text),
            ConnEvent::Closed(conn, code) => {
                self.conns.remove(&conn);
                self.core.handle_closed(now, conn, code);
            }
        }
    }
}
