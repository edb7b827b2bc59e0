//! The shell: one task that owns the admission core ([`Sessions`]), the match
//! ([`Match`]) and each player's [`SnapshotHistory`], and moves bytes between quinn and
//! them at a fixed tick.
//!
//! **What it is.** [`Shell::bind`] opens the QUIC endpoint ([`crate::net`]) and returns
//! the shell and a [`ShellHandle`] (address, certificate fingerprint, shutdown, and in
//! [`TickMode::Manual`] the ticks themselves). [`Shell::run`] is the loop: it decides
//! each handshake (accept, retry, or refuse when the session is full or when handshakes
//! in flight plus connections awaiting admission reach the pending cap), hands stream
//! bytes as they arrive and, at the start of each tick, every datagram quinn buffered
//! since the previous one to `Sessions` (which parses and polices them), answers
//! `Output::Accept` through [`PlayerSessions`] without blocking the loop, steps the match
//! once per tick (missed ticks are skipped, not replayed), broadcasts events on the
//! stream, sends one snapshot datagram per player per tick, and closes connections with
//! the typed reason (a `Disconnect` frame, then the QUIC close code `reason.code()`). It
//! returns a [`MatchOutcome`] when the match ends or after [`ShellHandle::shutdown`].
//!
//! **What it is not.** No GameLift lifecycle, no signing or reporting of results (main
//! does those with the outcome), no parsing of client bytes (the cores do), and no
//! threads: run it on a current-thread runtime. Each connection has a small task that
//! forwards what arrives on the stream to this loop and carries out the close; this loop
//! writes stream frames itself, without waiting (what quinn's flow control holds back
//! waits for the next tick, and a client whose backlog passes
//! [`ShellConfig::stream_backlog`] is kicked with `InternalError`).
//!
//! **Why datagrams are read at the tick.** Inputs and acks only matter when the match
//! steps and snapshots are built, so reading them once per tick changes nothing the game
//! sees, and it costs no task wake-up and no channel hop per datagram (in the session
//! benchmark those were about a third of the server's own CPU). quinn's datagram receive
//! buffer (`NetConfig::datagram_recv_buffer`, 32 KiB) holds a tick's worth many times over
//! and bounds what one connection can queue between ticks (it drops the oldest).

mod conn;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use protocol::game::{
    DisconnectReason, EventKind, LeaveReason, MatchParams, PROTOCOL_VERSION, ServerMessage,
    Welcome, encode,
};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::game::{DiffCache, Match, MatchConfig, MatchResults, SnapshotHistory};
use crate::metrics::{Liveness, Metrics, dropped, rejected};
use crate::net::{
    Fingerprint, IncomingDecision, NetConfig, NetError, TlsIdentity, decide_incoming,
};
use crate::session::{AcceptError, ConnId, Output, PlayerId, SessionConfig, Sessions};

use conn::{Ev, Out};

/// The GameLift calls the shell makes for players: `AcceptPlayerSession` and
/// `RemovePlayerSession`. Main implements it over the SDK; tests answer in-process.
pub trait PlayerSessions: Clone + Send + Sync + 'static {
    /// `AcceptPlayerSession`, classified.
    fn accept(
        &self,
        player_session_id: String,
    ) -> impl Future<Output = Result<(), AcceptError>> + Send;
    /// `RemovePlayerSession`; failures are the implementation's to log.
    fn remove(&self, player_session_id: String) -> impl Future<Output = ()> + Send;
    /// GameLift's player id for an accepted player session (`DescribePlayerSessions`),
    /// asked only when [`ShellConfig::teams`] places players by id. `None` when unknown:
    /// the player then joins the team with the fewest players.
    fn player_id(&self, player_session_id: String) -> impl Future<Output = Option<String>> + Send {
        let _ = player_session_id;
        async { None }
    }
}

/// Where ticks come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickMode {
    /// A timer at the match's tick rate; a late tick is run once, missed ones are skipped.
    Realtime,
    /// Only [`ShellHandle::tick`] ticks (tests count snapshots per tick, not per second).
    Manual,
}

/// How long the shell waits, once the match is over, for connections to deliver their
/// `Disconnect` and for `RemovePlayerSession` calls to finish.
pub const DEFAULT_LINGER: Duration = Duration::from_secs(3);

/// Commands queued for one connection task (only a close or a refusal, once).
const OUT_QUEUE: usize = 2;

/// Stream bytes quinn has not taken yet (flow control) for one connection, beyond which
/// the client counts as not reading its stream and is kicked (`InternalError`): far more
/// than a match's events between two ticks.
pub const DEFAULT_STREAM_BACKLOG: usize = 64 * 1024;

/// Everything the shell is built from.
#[derive(Debug, Clone)]
pub struct ShellConfig {
    /// The endpoint.
    pub net: NetConfig,
    /// The admission core.
    pub session: SessionConfig,
    /// The match (its `params.game_session_id` is the game session admitted to).
    pub game: MatchConfig,
    /// Where ticks come from.
    pub tick: TickMode,
    /// See [`DEFAULT_LINGER`].
    pub linger: Duration,
    /// Team index by GameLift player id, from the matchmaker data (FlexMatch's `teams`,
    /// in order). Empty: players join the team with the fewest players.
    pub teams: HashMap<String, u8>,
    /// See [`DEFAULT_STREAM_BACKLOG`].
    pub stream_backlog: usize,
}

/// Why the shell could not start.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// The endpoint.
    #[error(transparent)]
    Net(#[from] NetError),
    /// The match configuration.
    #[error("match configuration: {0}")]
    Game(#[from] crate::game::ConfigError),
}

/// One player as the match ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatRecord {
    /// The player's id in the match (results, snapshots, `Welcome`).
    pub player: u8,
    /// The GameLift player session that held it.
    pub player_session_id: String,
}

/// What [`Shell::run`] returns.
#[derive(Debug, Clone)]
pub struct MatchOutcome {
    /// The match's parameters.
    pub params: MatchParams,
    /// The results (`None` only if the endpoint died before the match ended).
    pub results: Option<MatchResults>,
    /// Every player who ever held a slot, by match id.
    pub seats: Vec<SeatRecord>,
}

enum Command {
    Tick(oneshot::Sender<u32>),
    Shutdown,
}

/// Control of a running shell; cheap to clone.
#[derive(Debug, Clone)]
pub struct ShellHandle {
    commands: mpsc::UnboundedSender<Command>,
    local_addr: SocketAddr,
    fingerprint: Fingerprint,
}

impl ShellHandle {
    /// The bound UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// SHA-256 of the certificate's DER, for clients to pin.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// Runs one tick now and returns its number once it is done (`None` if the shell has
    /// stopped). Meant for [`TickMode::Manual`].
    pub async fn tick(&self) -> Option<u32> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(Command::Tick(tx)).ok()?;
        rx.await.ok()
    }

    /// Ends the match as cut short (`ServerShutdown`), warns and closes every player with
    /// `ServerShutdown`, and lets [`Shell::run`] return.
    pub fn shutdown(&self) {
        let _ = self.commands.send(Command::Shutdown);
    }
}

struct Link {
    out: mpsc::Sender<Out>,
    conn: Option<quinn::Connection>,
    /// The stream's send half, once the client opened the stream; the shell writes to
    /// it directly, without waiting ([`Shell::flush_stream`]).
    send: Option<quinn::SendStream>,
    /// Frames (or what is left of one) quinn did not take yet, oldest first.
    backlog: VecDeque<Bytes>,
    /// Their total length.
    backlog_bytes: usize,
    /// Reported to `Sessions` (`handle_connected`).
    known: bool,
    player: Option<PlayerId>,
    history: SnapshotHistory,
    psess: Option<String>,
    /// GameLift's player id, when [`ShellConfig::teams`] needed it.
    player_id: Option<String>,
}

struct Seat {
    conn: Option<ConnId>,
    game_id: u8,
}

/// The session loop. See the module docs.
pub struct Shell<P: PlayerSessions> {
    endpoint: quinn::Endpoint,
    sessions: Sessions,
    game: Match,
    api: P,
    metrics: Metrics,
    liveness: Arc<Liveness>,
    tick_mode: TickMode,
    tick_period: Duration,
    linger: Duration,
    retry_threshold: usize,
    links: HashMap<ConnId, Link>,
    seats: HashMap<PlayerId, Seat>,
    records: Vec<SeatRecord>,
    pending_welcome: Vec<(ConnId, PlayerId, bool)>,
    next_conn: u64,
    handshaking: usize,
    ev_tx: mpsc::Sender<Ev>,
    ev_rx: mpsc::Receiver<Ev>,
    commands: mpsc::UnboundedReceiver<Command>,
    removes: JoinSet<()>,
    ended_at: Option<Instant>,
    teams: Arc<HashMap<String, u8>>,
    stream_backlog: usize,
    /// Connections whose stream backlog overflowed, to be kicked by the next `drain`.
    stuck: Vec<ConnId>,
}

impl<P: PlayerSessions> std::fmt::Debug for Shell<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shell")
            .field("sessions", &self.sessions)
            .field("tick", &self.game.tick())
            .finish_non_exhaustive()
    }
}

impl<P: PlayerSessions> Shell<P> {
    /// Binds the endpoint and builds the cores. Must run inside a tokio runtime.
    pub fn bind(
        config: ShellConfig,
        identity: &TlsIdentity,
        api: P,
        metrics: Metrics,
        liveness: Arc<Liveness>,
    ) -> Result<(Self, ShellHandle), ShellError> {
        // One reconnect grace: the admission core's decides when a dropped player is
        // gone (and RemovePlayerSession); the match holds the slot one second longer,
        // so it never gives the slot away while admission would still take them back.
        let mut game_config = config.game.clone();
        let hz = u64::from(game_config.params.tick_rate_hz.max(1));
        let grace_ms = (config.session.reconnect_grace + Duration::from_secs(1)).as_millis();
        game_config.rules.reconnect_grace_ticks =
            u32::try_from(grace_ms.saturating_mul(u128::from(hz)) / 1000).unwrap_or(u32::MAX);
        let game = Match::new(game_config)?;
        let params = game.params().clone();
        let endpoint = crate::net::bind_endpoint(&config.net, identity)?;
        let local_addr = endpoint.local_addr().map_err(|source| NetError::Bind {
            addr: config.net.bind,
            source,
        })?;
        let sessions = Sessions::new(
            config.session,
            params.game_session_id.clone(),
            params.max_players,
        );
        let (ev_tx, ev_rx) = mpsc::channel(4096);
        let (cmd_tx, commands) = mpsc::unbounded_channel();
        let tick_period = Duration::from_secs(1) / u32::from(params.tick_rate_hz.max(1));
        let shell = Self {
            endpoint,
            sessions,
            game,
            api,
            metrics,
            liveness,
            tick_mode: config.tick,
            tick_period,
            linger: config.linger,
            retry_threshold: config.net.retry_threshold,
            links: HashMap::new(),
            seats: HashMap::new(),
            records: Vec::new(),
            pending_welcome: Vec::new(),
            next_conn: 0,
            handshaking: 0,
            ev_tx,
            ev_rx,
            commands,
            removes: JoinSet::new(),
            ended_at: None,
            teams: Arc::new(config.teams),
            stream_backlog: config.stream_backlog,
            stuck: Vec::new(),
        };
        let handle = ShellHandle {
            commands: cmd_tx,
            local_addr,
            fingerprint: identity.fingerprint(),
        };
        Ok((shell, handle))
    }

    /// Runs until the match has ended and every connection is closed (or the linger
    /// ran out), then closes the endpoint.
    pub async fn run(mut self) -> MatchOutcome {
        let mut interval = tokio::time::interval(self.tick_period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let realtime = self.tick_mode == TickMode::Realtime;
        let mut commands_open = true;
        self.liveness.beat(Instant::now());
        loop {
            if let Some(ended) = self.ended_at {
                let idle = self.links.is_empty() && self.removes.is_empty();
                if idle || ended.elapsed() >= self.linger {
                    break;
                }
            }
            let timeout = self.sessions.poll_timeout();
            let linger_until = self.ended_at.map(|t| t + self.linger);
            tokio::select! {
                incoming = self.endpoint.accept(), if self.ended_at.is_none() => match incoming {
                    Some(incoming) => self.on_incoming(incoming),
                    None => break,
                },
                Some(ev) = self.ev_rx.recv() => self.on_event(ev),
                _ = interval.tick(), if realtime && self.ended_at.is_none() => self.tick(Instant::now()),
                cmd = self.commands.recv(), if commands_open => match cmd {
                    Some(Command::Tick(done)) => {
                        if self.ended_at.is_none() {
                            self.tick(Instant::now());
                        }
                        let _ = done.send(self.game.tick());
                    }
                    Some(Command::Shutdown) => self.shutdown(Instant::now()),
                    None => commands_open = false,
                },
                _ = sleep_until(timeout), if timeout.is_some() => {
                    let now = Instant::now();
                    self.sessions.handle_timeout(now);
                    self.drain(now);
                },
                Some(_) = self.removes.join_next(), if !self.removes.is_empty() => {},
                _ = sleep_until(linger_until), if linger_until.is_some() => {},
            }
        }
        self.sync_metrics();
        self.endpoint.close(
            quinn::VarInt::from_u32(DisconnectReason::ServerShutdown.code()),
            b"",
        );
        let _ = tokio::time::timeout(Duration::from_secs(1), self.endpoint.wait_idle()).await;
        MatchOutcome {
            params: self.game.params().clone(),
            results: self.game.results().cloned(),
            seats: self.records,
        }
    }

    fn on_incoming(&mut self, incoming: quinn::Incoming) {
        let full =
            self.ended_at.is_some() || self.sessions.players() >= self.sessions.max_players();
        // The pending cap counts handshakes in flight too: each will be a connection
        // waiting for its hello, and a burst of them would otherwise cost a TLS handshake
        // each (about 1 ms of CPU on this shard's one thread, where the tick runs) before
        // the core refused the excess. So the core's own refusal is a safety net only.
        let busy = !full
            && self.sessions.pending() + self.handshaking >= self.sessions.config().max_pending;
        let decision = decide_incoming(
            full || busy,
            incoming.remote_address_validated(),
            incoming.may_retry(),
            self.handshaking,
            self.retry_threshold,
        );
        match decision {
            IncomingDecision::Refuse => {
                self.metrics.reject(if busy {
                    rejected::PENDING_CAP
                } else {
                    rejected::SESSION_FULL
                });
                incoming.refuse();
            }
            IncomingDecision::Retry => {
                self.metrics.reject(rejected::RETRY);
                let _ = incoming.retry();
            }
            IncomingDecision::Accept => match incoming.accept() {
                Ok(connecting) => {
                    let id = ConnId(self.next_conn);
                    self.next_conn += 1;
                    let (out, out_rx) = mpsc::channel(OUT_QUEUE);
                    self.links.insert(
                        id,
                        Link {
                            out,
                            conn: None,
                            send: None,
                            backlog: VecDeque::new(),
                            backlog_bytes: 0,
                            known: false,
                            player: None,
                            history: SnapshotHistory::new(),
                            psess: None,
                            player_id: None,
                        },
                    );
                    self.handshaking += 1;
                    tokio::spawn(conn::drive(id, connecting, self.ev_tx.clone(), out_rx));
                }
                Err(_) => self.metrics.reject(rejected::HANDSHAKE_FAILED),
            },
        }
    }

    fn on_event(&mut self, ev: Ev) {
        let now = Instant::now();
        match ev {
            Ev::Connected { id, conn } => {
                self.handshaking = self.handshaking.saturating_sub(1);
                if let Some(link) = self.links.get_mut(&id) {
                    link.conn = Some(conn);
                    link.known = true;
                    self.sessions.handle_connected(now, id);
                }
            }
            Ev::StreamOpened { id, send } => {
                if let Some(link) = self.links.get_mut(&id) {
                    link.send = Some(send);
                    if !Self::flush_stream(link, self.stream_backlog) {
                        self.stuck.push(id);
                    }
                }
            }
            Ev::HandshakeFailed { id } => {
                self.handshaking = self.handshaking.saturating_sub(1);
                self.metrics.reject(rejected::HANDSHAKE_FAILED);
                self.links.remove(&id);
            }
            Ev::Stream { id, bytes } => {
                self.metrics.bytes_in.inc_by(bytes.len() as u64);
                self.sessions.handle_stream_bytes(now, id, &bytes);
            }
            Ev::StreamFinished { id } => self.sessions.handle_stream_finished(now, id),
            Ev::Accepted {
                id,
                result,
                player_id,
            } => {
                if let Some(link) = self.links.get_mut(&id) {
                    link.player_id = player_id;
                }
                self.sessions.handle_accept_result(now, id, result);
            }
            Ev::Lost { id } => {
                if let Some(link) = self.links.remove(&id)
                    && link.known
                {
                    self.sessions.handle_conn_lost(now, id);
                }
            }
        }
        self.drain(now);
    }

    /// Hands `Sessions` every datagram quinn holds for each connection, without waiting
    /// ([`poll_once`]).
    fn read_datagrams(&mut self, now: Instant) {
        for (id, link) in &self.links {
            let Some(conn) = &link.conn else { continue };
            loop {
                let Poll::Ready(Ok(bytes)) = poll_once(conn.read_datagram()) else {
                    break;
                };
                self.metrics.datagrams_in.inc();
                self.metrics.bytes_in.inc_by(bytes.len() as u64);
                self.sessions.handle_datagram(now, *id, &bytes);
            }
        }
    }

    /// Carries out everything the admission core asked for, and feeds the game.
    fn drain(&mut self, now: Instant) {
        loop {
            for conn in std::mem::take(&mut self.stuck) {
                self.sessions
                    .close(now, conn, DisconnectReason::InternalError);
            }
            self.drain_outputs(now);
            self.broadcast_events();
            if self.stuck.is_empty() {
                return;
            }
        }
    }

    fn drain_outputs(&mut self, now: Instant) {
        while let Some(output) = self.sessions.poll() {
            match output {
                Output::Accept {
                    conn,
                    player_session_id,
                } => {
                    if let Some(link) = self.links.get_mut(&conn) {
                        link.psess = Some(player_session_id.clone());
                    }
                    let (api, ev) = (self.api.clone(), self.ev_tx.clone());
                    let wants_id = !self.teams.is_empty();
                    tokio::spawn(async move {
                        let result = api.accept(player_session_id.clone()).await;
                        let player_id = match (&result, wants_id) {
                            (Ok(()), true) => api.player_id(player_session_id).await,
                            _ => None,
                        };
                        let _ = ev
                            .send(Ev::Accepted {
                                id: conn,
                                result,
                                player_id,
                            })
                            .await;
                    });
                }
                Output::Welcome {
                    conn,
                    player,
                    resumed,
                } => self.pending_welcome.push((conn, player, resumed)),
                Output::Close { conn, reason } => {
                    if let Some(link) = self.links.get_mut(&conn) {
                        link.player = None;
                        let close = Out::Close {
                            reason,
                            send: link.send.take(),
                            backlog: link.backlog.drain(..).collect(),
                        };
                        link.backlog_bytes = 0;
                        let _ = link.out.try_send(close);
                    }
                }
                Output::Refuse { conn } => {
                    if let Some(link) = self.links.get_mut(&conn) {
                        link.known = false;
                        let _ = link.out.try_send(Out::Refuse);
                    }
                }
                Output::RemovePlayerSession { player_session_id } => {
                    let api = self.api.clone();
                    self.removes
                        .spawn(async move { api.remove(player_session_id).await });
                }
                Output::PlayerJoined { player, name } => self.on_joined(now, player, &name),
                Output::PlayerReturned { player } => self.on_returned(now, player),
                Output::PlayerDropped { player } => {
                    if let Some(seat) = self.seats.get_mut(&player) {
                        seat.conn = None;
                        let _ = self.game.drop_player(seat.game_id);
                    }
                }
                Output::PlayerLeft { player, reason } => {
                    if let Some(seat) = self.seats.remove(&player) {
                        let _ = match reason {
                            LeaveReason::Left => self.game.leave(seat.game_id),
                            _ => self.game.kick(seat.game_id),
                        };
                    }
                }
                Output::Input { player, inputs } => {
                    if let Some(seat) = self.seats.get(&player) {
                        let _ = self.game.apply_inputs(seat.game_id, &inputs);
                    }
                }
                Output::Ack { player, tick } => {
                    if let Some(link) = self
                        .seats
                        .get(&player)
                        .and_then(|s| s.conn)
                        .and_then(|c| self.links.get_mut(&c))
                    {
                        link.history.ack(tick);
                    }
                }
            }
        }
    }

    fn take_welcome(&mut self, player: PlayerId) -> Option<(ConnId, bool)> {
        let at = self
            .pending_welcome
            .iter()
            .position(|(_, p, _)| *p == player)?;
        let (conn, _, resumed) = self.pending_welcome.swap_remove(at);
        Some((conn, resumed))
    }

    fn on_joined(&mut self, now: Instant, player: PlayerId, name: &str) {
        let Some((conn, _)) = self.take_welcome(player) else {
            return;
        };
        let team = self
            .links
            .get(&conn)
            .and_then(|l| l.player_id.as_ref())
            .and_then(|id| self.teams.get(id))
            .copied()
            .filter(|t| *t < self.game.params().teams);
        match self.game.join(name, team) {
            Ok(game_id) => {
                self.seats.insert(
                    player,
                    Seat {
                        conn: Some(conn),
                        game_id,
                    },
                );
                let psess = self
                    .links
                    .get(&conn)
                    .and_then(|l| l.psess.clone())
                    .unwrap_or_default();
                self.records.push(SeatRecord {
                    player: game_id,
                    player_session_id: psess,
                });
                self.welcome(conn, player, game_id, false);
            }
            Err(error) => {
                tracing::info!(conn = conn.0, %error, "the match cannot take the player");
                self.sessions
                    .close(now, conn, DisconnectReason::SessionFull);
            }
        }
    }

    fn on_returned(&mut self, now: Instant, player: PlayerId) {
        let Some((conn, _)) = self.take_welcome(player) else {
            return;
        };
        let Some(seat) = self.seats.get_mut(&player) else {
            return self
                .sessions
                .close(now, conn, DisconnectReason::InternalError);
        };
        seat.conn = Some(conn);
        let game_id = seat.game_id;
        if self.game.return_player(game_id).is_err() {
            // The match's own grace ran out first: the slot is gone.
            return self
                .sessions
                .close(now, conn, DisconnectReason::ExpiredPlayerSession);
        }
        if let Some(link) = self.links.get_mut(&conn) {
            link.history.reset();
        }
        self.welcome(conn, player, game_id, true);
    }

    /// `Welcome`, then a `PlayerJoined` for every other player present.
    fn welcome(&mut self, conn: ConnId, player: PlayerId, game_id: u8, resumed: bool) {
        let welcome = ServerMessage::Welcome(Welcome {
            protocol_version: PROTOCOL_VERSION,
            player: game_id,
            resumed,
            tick: self.game.tick(),
            params: self.game.params().clone(),
        });
        let mut frames = vec![welcome];
        for p in self.game.current_standings() {
            if p.player != game_id && self.game.player_state(p.player).is_some() {
                frames.push(ServerMessage::Event(protocol::game::Event {
                    tick: self.game.tick(),
                    kind: EventKind::PlayerJoined {
                        player: p.player,
                        name: p.name,
                        team: p.team,
                    },
                }));
            }
        }
        if let Some(link) = self.links.get_mut(&conn) {
            link.player = Some(player);
        }
        for msg in frames {
            self.send_message(conn, &msg);
        }
    }

    fn send_message(&mut self, conn: ConnId, msg: &ServerMessage) {
        match encode(msg) {
            Ok(frame) => {
                self.metrics.bytes_out.inc_by(frame.len() as u64);
                self.write_stream(conn, Bytes::from(frame));
            }
            Err(error) => tracing::error!(%error, "a server message does not encode"),
        }
    }

    /// Queues `frames` on the connection's stream and hands quinn what it takes now.
    fn write_stream(&mut self, conn: ConnId, frames: Bytes) {
        let Some(link) = self.links.get_mut(&conn) else {
            return;
        };
        self.metrics.stream_writes.inc();
        self.metrics.stream_bytes_out.inc_by(frames.len() as u64);
        link.backlog_bytes += frames.len();
        link.backlog.push_back(frames);
        if !Self::flush_stream(link, self.stream_backlog) {
            self.stuck.push(conn);
        }
    }

    /// Writes the link's backlog to its stream until quinn takes no more (flow control;
    /// the rest waits for the next tick). Each `write` is polled once ([`poll_once`]): it
    /// writes a prefix of the bytes, or nothing and stays pending. Returns false
    /// when the stream failed or the backlog is above `limit` (a client that does not read
    /// its stream): the stream and backlog are dropped, and the caller has the connection
    /// closed.
    fn flush_stream(link: &mut Link, limit: usize) -> bool {
        let Some(send) = link.send.as_mut() else {
            return true;
        };
        let mut failed = false;
        while let Some(front) = link.backlog.front_mut() {
            match poll_once(send.write(front)) {
                Poll::Ready(Ok(n)) => {
                    link.backlog_bytes -= n;
                    if n == front.len() {
                        link.backlog.pop_front();
                    } else {
                        front.advance(n);
                    }
                }
                Poll::Ready(Err(_)) => {
                    failed = true;
                    break;
                }
                Poll::Pending => break,
            }
        }
        if failed || link.backlog_bytes > limit {
            link.send = None;
            link.backlog.clear();
            link.backlog_bytes = 0;
            return false;
        }
        true
    }

    /// Sends every event the match raised since the last call to every player: each
    /// event is encoded once, and the frames go out as one stream write per connection
    /// (the same bytes, shared), not one per event and player.
    fn broadcast_events(&mut self) {
        let mut frames = Vec::new();
        while let Some(event) = self.game.poll_event() {
            match encode(&ServerMessage::Event(event)) {
                Ok(frame) => frames.extend_from_slice(&frame),
                Err(error) => tracing::error!(%error, "an event does not encode"),
            }
        }
        if frames.is_empty() {
            return;
        }
        let frames = Bytes::from(frames);
        let targets: Vec<ConnId> = self
            .links
            .iter()
            .filter(|(_, l)| l.player.is_some())
            .map(|(id, _)| *id)
            .collect();
        for conn in targets {
            self.metrics.bytes_out.inc_by(frames.len() as u64);
            self.write_stream(conn, frames.clone());
        }
    }

    fn tick(&mut self, now: Instant) {
        let started = Instant::now();
        for (id, link) in &mut self.links {
            if !link.backlog.is_empty() && !Self::flush_stream(link, self.stream_backlog) {
                self.stuck.push(*id);
            }
        }
        self.read_datagrams(now);
        self.sessions.handle_timeout(now);
        self.drain(now);
        self.game.step();
        self.broadcast_events();
        let world = Arc::new(self.game.world_view());
        let mut diffs = DiffCache::default();
        for (player, seat) in &self.seats {
            let Some(link) = seat.conn.and_then(|c| self.links.get_mut(&c)) else {
                continue;
            };
            let (Some(conn), Some(_)) = (&link.conn, link.player.filter(|p| p == player)) else {
                continue;
            };
            let datagram = link.history.build_encoded(
                &world,
                Some(seat.game_id),
                self.game.last_input_seq(seat.game_id),
                &mut diffs,
            );
            match datagram {
                Ok(bytes) => {
                    let len = bytes.len() as u64;
                    match conn.send_datagram(Bytes::from(bytes)) {
                        Ok(()) => {
                            self.metrics.datagrams_out.inc();
                            self.metrics.bytes_out.inc_by(len);
                        }
                        Err(_) => self.metrics.drop_datagram(dropped::SEND_FAILED),
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "a snapshot does not encode");
                    self.metrics.drop_datagram(dropped::SEND_FAILED);
                }
            }
        }
        if self.game.results().is_some() && self.ended_at.is_none() {
            tracing::info!(tick = self.game.tick(), "match ended");
            self.end(now, DisconnectReason::MatchEnded);
        }
        self.sync_metrics();
        self.liveness.beat(now);
        self.metrics.observe_tick(started.elapsed());
    }

    fn shutdown(&mut self, now: Instant) {
        if self.ended_at.is_some() {
            return;
        }
        tracing::info!("shutting down: the match is cut short");
        self.game.shutdown();
        self.broadcast_events();
        self.end(now, DisconnectReason::ServerShutdown);
    }

    fn end(&mut self, now: Instant, reason: DisconnectReason) {
        self.ended_at = Some(now);
        self.sessions.close_all(now, reason);
        self.drain(now);
        // Handshakes still in progress never reach the core: close them too.
        for link in self.links.values().filter(|l| !l.known) {
            if let Some(c) = &link.conn {
                c.close(quinn::VarInt::from_u32(reason.code()), b"");
            }
        }
    }

    fn sync_metrics(&self) {
        self.metrics.sync_sessions(
            self.sessions.stats(),
            self.sessions.players(),
            self.sessions.pending(),
        );
    }
}

/// Polls `future` once with a no-op waker and drops it: quinn's `read_datagram` and
/// `write` answer at once from what is buffered, or stay pending (and, dropped, leave no
/// trace), so the tick can use them without waiting or being woken.
fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
    std::pin::pin!(future).poll(&mut Context::from_waker(Waker::noop()))
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}
