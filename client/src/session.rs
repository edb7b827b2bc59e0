//! Connecting to a session server and playing over the game wire.
//!
//! **What it is:** [`connect`] opens a QUIC connection (ALPN `gls/1`, the server
//! certificate pinned by fingerprint), opens the one bidirectional stream, sends `Hello`
//! and waits for `Welcome`. The returned [`Session`] sends inputs with redundancy, applies
//! snapshots (through [`ClientState`]) and acks them, hands out events in order, and says
//! why the connection ended. [`resume`] reconnects with the same player session within
//! the reconnect grace period.
//!
//! **What it is not:** no matchmaking (it starts from a [`ConnectionInfo`]), no rendering,
//! no prediction; and no GameLift player-gateway socket wrapper.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use protocol::game::{
    ALPN, ClientMessage, ConnState, DecodeError, DisconnectReason, Event, Hello, InputFrame,
    PROTOCOL_VERSION, ServerMessage, StreamDecoder, Welcome, WorldView, check_server,
    decode_datagram, encode,
};
use protocol::http::ConnectionInfo;
use quinn::crypto::rustls::QuicClientConfig;
use quinn::{ConnectionError, IdleTimeout, RecvStream, SendStream, TransportConfig, VarInt};
use tokio::sync::{mpsc, watch};

use crate::state::{ClientState, DEFAULT_HISTORY, DEFAULT_REDUNDANCY, SnapshotCounters};
use crate::tls::PinnedCertVerifier;

/// The application close code the client uses when it ends a connection normally
/// (after `Disconnect`, on leave, on drop): `ClientLeft`'s code, since the wire defines
/// close codes only as [`DisconnectReason`]s.
pub const CLIENT_CLOSE: VarInt = VarInt::from_u32(DisconnectReason::ClientLeft.code());

/// How a client connects. [`Default`] suits a game client on the internet.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Display name sent in `Hello` (at most 32 bytes; the server may replace it).
    pub name: String,
    /// Input frames per `Inputs` datagram (the newest plus older ones), 1 to 8.
    pub redundancy: usize,
    /// World views kept for delta baselines and interpolation.
    pub history: usize,
    /// Limit on the QUIC handshake plus the wait for `Welcome`.
    pub connect_timeout: Duration,
    /// QUIC idle timeout.
    pub idle_timeout: Duration,
    /// QUIC keep-alive interval (below the idle timeout).
    pub keep_alive: Duration,
    /// Initial RTT estimate before a sample exists.
    pub initial_rtt: Duration,
    /// Local address to bind; the unspecified address of the server's family when unset.
    pub bind: Option<SocketAddr>,
    /// An endpoint (one UDP socket) to connect from instead of binding one per session;
    /// `bind` is then ignored. A load generator runs many sessions over one socket this
    /// way. A session never closes an endpoint it was given, only its connection.
    pub endpoint: Option<quinn::Endpoint>,
    /// Events buffered for the application before the stream reader waits.
    pub event_buffer: usize,
    /// `Inputs` carry the snapshot ack; a separate `Ack` datagram goes out for a snapshot
    /// only when no `Inputs` were sent for this long (a client that stopped sending
    /// inputs still moves its delta baseline forward).
    pub ack_idle: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            name: "player".to_owned(),
            redundancy: DEFAULT_REDUNDANCY,
            history: DEFAULT_HISTORY,
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(10),
            keep_alive: Duration::from_secs(1),
            initial_rtt: Duration::from_millis(100),
            bind: None,
            endpoint: None,
            event_buffer: 1024,
            ack_idle: Duration::from_millis(100),
        }
    }
}

/// Why [`connect`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The local UDP socket could not be bound.
    #[error("cannot bind the local UDP socket: {0}")]
    Bind(#[source] std::io::Error),
    /// The client configuration was refused by quinn or rustls (a bug, not the peer).
    #[error("client configuration: {0}")]
    Config(String),
    /// quinn refused to start the connection (bad address, endpoint stopping).
    #[error("cannot start the connection: {0}")]
    Start(#[from] quinn::ConnectError),
    /// The TLS handshake failed: most often the server's certificate is not the pinned
    /// one, or the server does not speak `gls/1`.
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    /// The connection failed or closed before `Welcome` for a transport reason.
    #[error("connection failed: {0}")]
    Connection(#[source] ConnectionError),
    /// The server refused the player with a reason.
    #[error("server refused the connection: {0:?}")]
    Refused(DisconnectReason),
    /// The server closed with an application code this version does not know.
    #[error("server closed with unknown code {0}")]
    UnknownCode(u64),
    /// The server broke the wire protocol before `Welcome`.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// No `Welcome` within [`ClientOptions::connect_timeout`].
    #[error("no Welcome within {0:?}")]
    Timeout(Duration),
    /// [`resume`] gave up: the grace period passed without a successful reconnect.
    #[error("could not resume within {grace:?}; last error: {last}")]
    GraceExpired {
        /// The grace period tried.
        grace: Duration,
        /// The last attempt's error.
        last: Box<ConnectError>,
    },
}

impl ConnectError {
    /// Whether trying again (for example within the reconnect grace) may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Refused(r) => matches!(
                r,
                DisconnectReason::DuplicatePlayerSession
                    | DisconnectReason::RateLimited
                    | DisconnectReason::InternalError
            ),
            Self::Connection(_) | Self::Timeout(_) => true,
            _ => false,
        }
    }
}

/// Why a [`Session`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The server said why, with `Disconnect` or its QUIC close code.
    Server(DisconnectReason),
    /// The server closed with an application code this version does not know.
    UnknownCode(u64),
    /// The client left ([`Session::leave`]) or closed the connection.
    Local,
    /// Nothing heard from the server within the idle timeout.
    TimedOut,
    /// The server broke the wire protocol; the client closed the connection.
    Protocol(String),
    /// Any other transport failure.
    Transport(String),
}

/// Why sending failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The message could not be encoded (a bug: it breaks a wire cap).
    #[error(transparent)]
    Encode(#[from] protocol::game::EncodeError),
    /// quinn refused the datagram.
    #[error(transparent)]
    Datagram(#[from] quinn::SendDatagramError),
    /// The stream is closed.
    #[error("stream closed: {0}")]
    Stream(String),
}

/// Transport and protocol counters of a session, for load tests and diagnostics.
#[derive(Debug, Clone)]
pub struct SessionStats {
    /// Snapshot counters from [`ClientState`].
    pub snapshots: SnapshotCounters,
    /// quinn's current RTT estimate.
    pub rtt: Duration,
    /// quinn's connection statistics (UDP bytes and datagrams in and out, frames, path).
    pub quic: quinn::ConnectionStats,
    /// Application datagrams (inputs and acks out, snapshots in) and their payload bytes.
    pub datagrams: DatagramCounters,
}

/// Application datagrams a session sent and received: payload bytes, without QUIC's
/// framing, so a load test can tell snapshot sizes from transport overhead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatagramCounters {
    /// Datagrams handed to quinn (`Inputs` and `Ack`).
    pub sent: u64,
    /// Their payload bytes.
    pub bytes_sent: u64,
    /// Datagrams received (snapshots, whether applied or not).
    pub received: u64,
    /// Their payload bytes.
    pub bytes_received: u64,
}

/// The live counters behind [`DatagramCounters`].
#[derive(Default)]
struct DatagramTally {
    sent: AtomicU64,
    bytes_sent: AtomicU64,
    received: AtomicU64,
    bytes_received: AtomicU64,
}

impl DatagramTally {
    fn sent(&self, len: usize) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.bytes_sent.fetch_add(len as u64, Ordering::Relaxed);
    }

    fn received(&self, len: usize) {
        self.received.fetch_add(1, Ordering::Relaxed);
        self.bytes_received.fetch_add(len as u64, Ordering::Relaxed);
    }

    fn get(&self) -> DatagramCounters {
        DatagramCounters {
            sent: self.sent.load(Ordering::Relaxed),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            bytes_received: self.bytes_received.load(Ordering::Relaxed),
        }
    }
}

struct Shared {
    state: Mutex<ClientState>,
    /// The reason from a received `Disconnect`, or a protocol violation found locally.
    reason: Mutex<Option<CloseReason>>,
    datagrams: DatagramTally,
    /// When `send_inputs` last handed an `Inputs` datagram (and so an ack) to quinn.
    inputs_sent_at: Mutex<Option<Instant>>,
    /// See [`ClientOptions::ack_idle`].
    ack_idle: Duration,
}

impl Shared {
    /// Whether the snapshot just applied needs its own `Ack`: no `Inputs` carried one
    /// within `ack_idle`.
    fn needs_separate_ack(&self, now: Instant) -> bool {
        let sent_at = *self
            .inputs_sent_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        sent_at.is_none_or(|at| now.saturating_duration_since(at) >= self.ack_idle)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ClientState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_reason(&self, reason: CloseReason) {
        let mut r = self.reason.lock().unwrap_or_else(PoisonError::into_inner);
        r.get_or_insert(reason);
    }

    fn reason(&self) -> Option<CloseReason> {
        self.reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A connected, admitted player. Dropping it closes the connection.
pub struct Session {
    /// The endpoint this session bound for itself (closed on drop); `None` when shared.
    endpoint: Option<quinn::Endpoint>,
    conn: quinn::Connection,
    send: tokio::sync::Mutex<Option<SendStream>>,
    welcome: Welcome,
    shared: Arc<Shared>,
    events: tokio::sync::Mutex<mpsc::Receiver<Event>>,
    ticks: watch::Receiver<Option<u32>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("remote", &self.conn.remote_address())
            .field("welcome", &self.welcome)
            .finish_non_exhaustive()
    }
}

/// The quinn client configuration: ALPN `gls/1`, TLS 1.3 with the pinned certificate,
/// transport settings for a game client.
pub fn client_config(
    info: &ConnectionInfo,
    opts: &ClientOptions,
) -> Result<quinn::ClientConfig, ConnectError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedCertVerifier::new(info.certificate_sha256, &provider));
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| ConnectError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let quic = QuicClientConfig::try_from(tls).map_err(|e| ConnectError::Config(e.to_string()))?;
    let mut config = quinn::ClientConfig::new(Arc::new(quic));
    config.transport_config(Arc::new(transport_config(opts)?));
    Ok(config)
}

fn transport_config(opts: &ClientOptions) -> Result<TransportConfig, ConnectError> {
    let mut t = TransportConfig::default();
    let idle = IdleTimeout::try_from(opts.idle_timeout)
        .map_err(|e| ConnectError::Config(format!("idle timeout: {e}")))?;
    t.max_idle_timeout(Some(idle))
        .keep_alive_interval(Some(opts.keep_alive))
        .initial_rtt(opts.initial_rtt)
        // Snapshots are about a kilobyte at most; a few dozen of them is plenty, and
        // older ones are worthless once a newer one arrives.
        .datagram_receive_buffer_size(Some(64 * 1024))
        // Inputs are tiny and latest-wins: drop stale ones rather than queue them.
        .datagram_send_buffer_size(8 * 1024)
        // The server never opens streams.
        .max_concurrent_bidi_streams(VarInt::from_u32(0))
        .max_concurrent_uni_streams(VarInt::from_u32(0))
        .stream_receive_window(VarInt::from_u32(256 * 1024));
    // Ask the server to acknowledge every 11th packet or after its ACK delay rather than
    // every 2nd, so its snapshots carry the ACKs instead of ACK-only packets.
    let mut acks = quinn::AckFrequencyConfig::default();
    acks.ack_eliciting_threshold(VarInt::from_u32(10))
        .max_ack_delay(Some(Duration::from_millis(50)));
    t.ack_frequency_config(Some(acks));
    Ok(t)
}

/// Connects to the game server in `info` as its player session, and waits for `Welcome`.
pub async fn connect(info: &ConnectionInfo, opts: &ClientOptions) -> Result<Session, ConnectError> {
    let addr = SocketAddr::new(info.ip_address, info.port);
    let bind = opts.bind.unwrap_or_else(|| match addr {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    });
    let (endpoint, owned) = match &opts.endpoint {
        Some(shared) => (shared.clone(), false),
        None => (
            quinn::Endpoint::client(bind).map_err(ConnectError::Bind)?,
            true,
        ),
    };
    let config = client_config(info, opts)?;
    let server_name = info
        .dns_name
        .clone()
        .unwrap_or_else(|| info.ip_address.to_string());
    let attempt = async {
        let conn = endpoint
            .connect_with(config, addr, &server_name)?
            .await
            .map_err(handshake_error)?;
        let (send, recv) = conn.open_bi().await.map_err(|e| closed_error(&conn, e))?;
        let own = owned.then(|| endpoint.clone());
        admit(own, conn, send, recv, info, opts).await
    };
    match tokio::time::timeout(opts.connect_timeout, attempt).await {
        Ok(result) => result,
        Err(_) => {
            // A shared endpoint stays open; the dropped attempt closes its connection.
            if owned {
                endpoint.close(CLIENT_CLOSE, b"connect timeout");
            }
            Err(ConnectError::Timeout(opts.connect_timeout))
        }
    }
}

/// Reconnects as the same player session after a dropped connection: tries [`connect`]
/// until one succeeds, one fails for a reason that will not change (an expired or
/// invalid session, a finished match), or `grace` has passed. Check
/// [`Session::resumed`] to learn whether the server gave back the old slot.
pub async fn resume(
    info: &ConnectionInfo,
    opts: &ClientOptions,
    grace: Duration,
) -> Result<Session, ConnectError> {
    let deadline = tokio::time::Instant::now() + grace;
    let mut backoff = Duration::from_millis(250);
    loop {
        let err = match connect(info, opts).await {
            Ok(session) => return Ok(session),
            Err(e) if !e.is_retryable() => return Err(e),
            Err(e) => e,
        };
        let now = tokio::time::Instant::now();
        if now + backoff >= deadline {
            return Err(ConnectError::GraceExpired {
                grace,
                last: Box::new(err),
            });
        }
        tracing::debug!(error = %err, ?backoff, "resume attempt failed; retrying");
        // A retry backoff, not synchronisation: the server may not have seen the old
        // connection drop yet (DuplicatePlayerSession).
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

fn handshake_error(e: ConnectionError) -> ConnectError {
    match &e {
        // 0x100..=0x1ff are TLS alerts (RFC 9001 §20.1): the pin or the ALPN failed.
        ConnectionError::TransportError(t) if (0x100..0x200).contains(&u64::from(t.code)) => {
            ConnectError::Tls(t.to_string())
        }
        ConnectionError::ConnectionClosed(c)
            if (0x100..0x200).contains(&u64::from(c.error_code)) =>
        {
            ConnectError::Tls(c.to_string())
        }
        _ => close_to_connect_error(e),
    }
}

fn close_to_connect_error(e: ConnectionError) -> ConnectError {
    match e {
        ConnectionError::ApplicationClosed(c) => {
            let code = c.error_code.into_inner();
            match u32::try_from(code)
                .ok()
                .and_then(DisconnectReason::from_code)
            {
                Some(r) => ConnectError::Refused(r),
                None => ConnectError::UnknownCode(code),
            }
        }
        other => ConnectError::Connection(other),
    }
}

fn closed_error(conn: &quinn::Connection, e: ConnectionError) -> ConnectError {
    close_to_connect_error(conn.close_reason().unwrap_or(e))
}

/// Reads server messages off the stream, keeping bytes that follow a message.
struct StreamReader {
    recv: RecvStream,
    decoder: StreamDecoder<ServerMessage>,
    pending: Bytes,
}

enum ReadOutcome {
    Message(ServerMessage),
    Finished,
    Decode(DecodeError),
    Closed(quinn::ReadError),
}

impl StreamReader {
    async fn next(&mut self) -> ReadOutcome {
        loop {
            if !self.pending.is_empty() {
                let mut input: &[u8] = &self.pending;
                let result = self.decoder.feed(&mut input);
                let used = self.pending.len() - input.len();
                let _ = self.pending.split_to(used);
                match result {
                    Ok(Some(msg)) => return ReadOutcome::Message(msg),
                    Ok(None) => {}
                    Err(e) => return ReadOutcome::Decode(e),
                }
                continue;
            }
            match self.recv.read_chunk(usize::MAX, true).await {
                Ok(Some(chunk)) => self.pending = chunk.bytes,
                Ok(None) => {
                    return match self.decoder.finish() {
                        Ok(()) => ReadOutcome::Finished,
                        Err(e) => ReadOutcome::Decode(e),
                    };
                }
                Err(e) => return ReadOutcome::Closed(e),
            }
        }
    }
}

fn protocol_close(conn: &quinn::Connection, reason: DisconnectReason, detail: &str) {
    conn.close(VarInt::from_u32(reason.code()), detail.as_bytes());
}

async fn admit(
    endpoint: Option<quinn::Endpoint>,
    conn: quinn::Connection,
    mut send: SendStream,
    recv: RecvStream,
    info: &ConnectionInfo,
    opts: &ClientOptions,
) -> Result<Session, ConnectError> {
    let hello = ClientMessage::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        player_session_id: info.player_session_id.clone(),
        name: opts.name.clone(),
    });
    let frame = encode(&hello).map_err(|e| ConnectError::Config(e.to_string()))?;
    send.write_all(&frame).await.map_err(|e| match e {
        quinn::WriteError::ConnectionLost(c) => closed_error(&conn, c),
        other => ConnectError::Protocol(format!("cannot send Hello: {other}")),
    })?;
    let mut reader = StreamReader {
        recv,
        decoder: StreamDecoder::new(),
        pending: Bytes::new(),
    };
    let welcome = match reader.next().await {
        ReadOutcome::Message(msg) => {
            if let Err(e) = check_server(ConnState::Admitting, &msg) {
                protocol_close(&conn, DisconnectReason::IllegalMessage, "illegal message");
                return Err(ConnectError::Protocol(e.to_string()));
            }
            match msg {
                ServerMessage::Welcome(w) => w,
                ServerMessage::Disconnect(d) => {
                    conn.close(CLIENT_CLOSE, b"refused");
                    return Err(ConnectError::Refused(d.reason));
                }
                other => {
                    return Err(ConnectError::Protocol(format!(
                        "expected Welcome, got {}",
                        other.kind()
                    )));
                }
            }
        }
        ReadOutcome::Finished => {
            return Err(ConnectError::Protocol(
                "server ended the stream before Welcome".into(),
            ));
        }
        ReadOutcome::Decode(e) => {
            protocol_close(&conn, e.disconnect_reason(), "bad message");
            return Err(ConnectError::Protocol(e.to_string()));
        }
        ReadOutcome::Closed(quinn::ReadError::ConnectionLost(e)) => {
            return Err(closed_error(&conn, e));
        }
        ReadOutcome::Closed(e) => return Err(ConnectError::Protocol(e.to_string())),
    };
    if welcome.protocol_version != PROTOCOL_VERSION {
        protocol_close(&conn, DisconnectReason::VersionMismatch, "version");
        return Err(ConnectError::Refused(DisconnectReason::VersionMismatch));
    }

    let shared = Arc::new(Shared {
        state: Mutex::new(ClientState::new(opts.redundancy, opts.history)),
        reason: Mutex::new(None),
        datagrams: DatagramTally::default(),
        inputs_sent_at: Mutex::new(None),
        ack_idle: opts.ack_idle,
    });
    let (event_tx, events) = mpsc::channel(opts.event_buffer.max(1));
    let (tick_tx, ticks) = watch::channel(None);
    let tasks = vec![
        tokio::spawn(stream_task(reader, conn.clone(), shared.clone(), event_tx)),
        tokio::spawn(datagram_task(conn.clone(), shared.clone(), tick_tx)),
    ];
    Ok(Session {
        endpoint,
        conn,
        send: tokio::sync::Mutex::new(Some(send)),
        welcome,
        shared,
        events: tokio::sync::Mutex::new(events),
        ticks,
        tasks,
    })
}

/// Reads `Event`s and the final `Disconnect` off the stream.
async fn stream_task(
    mut reader: StreamReader,
    conn: quinn::Connection,
    shared: Arc<Shared>,
    events: mpsc::Sender<Event>,
) {
    loop {
        match reader.next().await {
            ReadOutcome::Message(msg) => {
                if let Err(e) = check_server(ConnState::InMatch, &msg) {
                    shared.set_reason(CloseReason::Protocol(e.to_string()));
                    protocol_close(&conn, DisconnectReason::IllegalMessage, "illegal message");
                    return;
                }
                match msg {
                    ServerMessage::Event(ev) => {
                        // The application may have dropped its receiver; events are then
                        // simply not wanted.
                        let _ = events.send(ev).await;
                    }
                    ServerMessage::Disconnect(d) => {
                        shared.set_reason(CloseReason::Server(d.reason));
                        // `Disconnect` is the server's last message: close our side.
                        conn.close(CLIENT_CLOSE, b"disconnect received");
                        return;
                    }
                    _ => {}
                }
            }
            ReadOutcome::Finished => return,
            ReadOutcome::Decode(e) => {
                shared.set_reason(CloseReason::Protocol(e.to_string()));
                protocol_close(&conn, e.disconnect_reason(), "bad message");
                return;
            }
            ReadOutcome::Closed(_) => return,
        }
    }
}

/// Applies snapshot datagrams, and acks them in a datagram of their own while the
/// application sends no `Inputs` (which carry the ack otherwise).
async fn datagram_task(
    conn: quinn::Connection,
    shared: Arc<Shared>,
    ticks: watch::Sender<Option<u32>>,
) {
    while let Ok(bytes) = conn.read_datagram().await {
        shared.datagrams.received(bytes.len());
        let snapshot = match decode_datagram::<ServerMessage>(&bytes) {
            Ok(ServerMessage::Snapshot(s)) => s,
            Ok(other) => {
                // The codec refuses stream messages in datagrams; nothing else exists.
                let detail = format!("{} in a datagram", other.kind());
                shared.set_reason(CloseReason::Protocol(detail.clone()));
                protocol_close(&conn, DisconnectReason::IllegalMessage, &detail);
                return;
            }
            Err(e) => {
                shared.set_reason(CloseReason::Protocol(e.to_string()));
                protocol_close(&conn, e.disconnect_reason(), "bad datagram");
                return;
            }
        };
        let outcome = shared.state().on_snapshot(&snapshot);
        if let Some(ack) = outcome
            .ack()
            .filter(|_| shared.needs_separate_ack(Instant::now()))
        {
            match encode(&ClientMessage::Ack(ack)) {
                Ok(b) => {
                    let len = b.len();
                    // A lost or refused ack is repaired by the next one.
                    if conn.send_datagram(Bytes::from(b)).is_ok() {
                        shared.datagrams.sent(len);
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot encode an ack"),
            }
        }
        if let crate::state::SnapshotOutcome::Applied { tick, .. } = outcome {
            ticks.send_replace(Some(tick));
        }
    }
}

impl Session {
    /// The server's `Welcome`: player id, match parameters.
    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    /// This client's player id.
    pub fn player(&self) -> u8 {
        self.welcome.player
    }

    /// Whether the server gave back a slot this player held before (a resumed session).
    pub fn resumed(&self) -> bool {
        self.welcome.resumed
    }

    /// The QUIC connection (for `rtt()`, `stats()` and the like).
    pub fn connection(&self) -> &quinn::Connection {
        &self.conn
    }

    /// Sends the input of the next client tick, with the previous inputs of the
    /// redundancy window, in one datagram. Returns its sequence number.
    pub fn send_inputs(&self, frame: InputFrame) -> Result<u32, SendError> {
        let inputs = self.shared.state().next_inputs(frame);
        let seq = inputs.newest_seq;
        let bytes = encode(&ClientMessage::Inputs(inputs))?;
        let len = bytes.len();
        self.conn.send_datagram(Bytes::from(bytes))?;
        self.shared.datagrams.sent(len);
        *self
            .shared
            .inputs_sent_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        Ok(seq)
    }

    /// The newest world view.
    pub fn latest_world(&self) -> Option<WorldView> {
        self.shared.state().latest().cloned()
    }

    /// Runs `f` on the newest world view without copying it (the session's state is
    /// locked meanwhile: keep `f` short). `None` before the first snapshot.
    pub fn with_latest_world<R>(&self, f: impl FnOnce(&WorldView) -> R) -> Option<R> {
        self.shared.state().latest().map(f)
    }

    /// The two newest world views, older first, for [`interpolate`](crate::interpolate).
    pub fn latest_pair(&self) -> Option<(WorldView, WorldView)> {
        let state = self.shared.state();
        state.latest_pair().map(|(a, b)| (a.clone(), b.clone()))
    }

    /// The newest input sequence number the server reported as applied.
    pub fn last_input_seq(&self) -> u32 {
        self.shared.state().last_input_seq()
    }

    /// Waits until a snapshot newer than the one last seen through this method is
    /// applied, and returns its tick; `None` once no more snapshots can arrive.
    pub async fn next_tick(&mut self) -> Option<u32> {
        self.ticks.changed().await.ok()?;
        *self.ticks.borrow_and_update()
    }

    /// The next event from the server, in order; `None` once the stream has ended and
    /// every event was taken.
    pub async fn next_event(&self) -> Option<Event> {
        self.events.lock().await.recv().await
    }

    /// Protocol and transport counters.
    pub fn stats(&self) -> SessionStats {
        SessionStats {
            snapshots: self.shared.state().counters(),
            rtt: self.conn.rtt(),
            quic: self.conn.stats(),
            datagrams: self.shared.datagrams.get(),
        }
    }

    /// The reason the session ended, if it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        if let Some(r) = self.shared.reason() {
            return Some(r);
        }
        self.conn.close_reason().map(|e| self.reason_for(e))
    }

    /// Waits for the session to end and says why.
    pub async fn closed(&self) -> CloseReason {
        let e = self.conn.closed().await;
        // The stream task records a `Disconnect` before it closes the connection.
        self.shared.reason().unwrap_or_else(|| self.reason_for(e))
    }

    fn reason_for(&self, e: ConnectionError) -> CloseReason {
        if let Some(r) = self.shared.reason() {
            return r;
        }
        match e {
            ConnectionError::ApplicationClosed(c) => {
                let code = c.error_code.into_inner();
                match u32::try_from(code)
                    .ok()
                    .and_then(DisconnectReason::from_code)
                {
                    Some(r) => CloseReason::Server(r),
                    None => CloseReason::UnknownCode(code),
                }
            }
            ConnectionError::LocallyClosed => CloseReason::Local,
            ConnectionError::TimedOut => CloseReason::TimedOut,
            other => CloseReason::Transport(other.to_string()),
        }
    }

    /// Leaves the match on purpose (no reconnect grace): sends `Leave`, waits up to
    /// `wait` for the server to close, then closes. Returns why the session ended
    /// (normally `Server(ClientLeft)`).
    pub async fn leave(&self, wait: Duration) -> CloseReason {
        if let Some(mut send) = self.send.lock().await.take()
            && let Ok(frame) = encode(&ClientMessage::Leave)
            && send.write_all(&frame).await.is_ok()
        {
            let _ = send.finish();
        }
        let reason = match tokio::time::timeout(wait, self.closed()).await {
            Ok(r) => r,
            Err(_) => CloseReason::Local,
        };
        self.conn.close(CLIENT_CLOSE, b"left");
        reason
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.conn.close(CLIENT_CLOSE, b"client dropped");
        for t in &self.tasks {
            t.abort();
        }
        if let Some(endpoint) = &self.endpoint {
            endpoint.close(CLIENT_CLOSE, b"client dropped");
        }
    }
}
