//! Issue 4's "bad input", over real QUIC on loopback: each kind of hostile client runs
//! beside honest players in `TickMode::Manual`. Every test asserts the same two things:
//! the honest players get exactly one snapshot per tick while the hostile one misbehaves,
//! and the misbehaviour is rejected or dropped and counted in the metrics with its reason.
//!
//! The harness is the one of `quic_shell.rs` (a plain quinn client, GameLift answered
//! in-process), plus raw access to the stream and datagrams so a client can send what the
//! client library never would, and a UDP relay that swallows the server's answers so a
//! handshake starts and never finishes.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use protocol::game::{
    ClientMessage, DisconnectReason, FRAME_HEADER_LEN, FrameReader, Hello, InputFrame, Inputs,
    MAX_DATAGRAM_SIZE, MAX_STREAM_MESSAGE_SIZE, PROTOCOL_VERSION, Phase, ServerMessage, Snapshot,
    SnapshotAck, decode_datagram, decode_stream_payload, encode,
};
use server::game::{MatchConfig, Rules};
use server::metrics::{Liveness, Metrics, dropped, rejected};
use server::net::{NetConfig, TlsIdentity};
use server::session::{AcceptError, DEFAULT_DATAGRAM_BURST, DEFAULT_DATAGRAM_RATE, SessionConfig};
use server::shell::{
    DEFAULT_STREAM_BACKLOG, PlayerSessions, Shell, ShellConfig, ShellHandle, TickMode,
};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// A bound on every wait; never a way to let something happen.
const DEADLINE: Duration = Duration::from_secs(10);

/// Honest players beside each hostile client.
const HONEST: usize = 2;

/// GameLift in-process: accepts every player session (admission is `quic_shell.rs`'s
/// subject; here every hostile client is a legitimate player or not one at all).
#[derive(Clone, Default)]
struct AcceptAll;

impl PlayerSessions for AcceptAll {
    async fn accept(&self, _id: String) -> Result<(), AcceptError> {
        Ok(())
    }

    async fn remove(&self, _id: String) {}
}

struct Server {
    handle: ShellHandle,
    metrics: Metrics,
    client_config: quinn::ClientConfig,
}

/// A shell configuration for tests: loopback, manual ticks, 16 slots.
fn config() -> ShellConfig {
    let mut params = MatchConfig::default_params("gsess-hostile", 7);
    params.max_players = 16;
    ShellConfig {
        net: NetConfig {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            ..NetConfig::default()
        },
        session: SessionConfig::default(),
        game: MatchConfig::new(params),
        tick: TickMode::Manual,
        linger: Duration::from_secs(1),
        teams: Default::default(),
        stream_backlog: DEFAULT_STREAM_BACKLOG,
    }
}

fn start(config: ShellConfig) -> Server {
    let identity = TlsIdentity::self_signed(&["localhost".to_owned()]).expect("cert");
    let metrics = Metrics::new();
    let (shell, handle) = Shell::bind(
        config,
        &identity,
        AcceptAll,
        metrics.clone(),
        Arc::new(Liveness::new(Duration::from_secs(5))),
    )
    .expect("bind");
    tokio::spawn(shell.run());
    Server {
        handle,
        metrics,
        client_config: common::client_trusting(&identity),
    }
}

struct Client {
    conn: quinn::Connection,
    send: Option<quinn::SendStream>,
    recv: Option<quinn::RecvStream>,
    frames: FrameReader,
    /// Stream bytes read but not yet framed.
    buffered: Vec<u8>,
    /// The player id from `Welcome`, once admitted.
    player: Option<u8>,
}

/// A client endpoint (its own UDP socket) starting a handshake with `to`.
fn dial(config: &quinn::ClientConfig, to: SocketAddr) -> quinn::Connecting {
    let mut endpoint =
        quinn::Endpoint::client(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("client");
    endpoint.set_default_client_config(config.clone());
    endpoint.connect(to, "localhost").expect("connect")
}

/// Finishes a handshake (within the deadline) into a client.
async fn handshake(connecting: quinn::Connecting) -> Result<Client, quinn::ConnectionError> {
    let conn = tokio::time::timeout(DEADLINE, connecting)
        .await
        .expect("handshake in time")?;
    Ok(Client {
        conn,
        send: None,
        recv: None,
        frames: FrameReader::new(),
        buffered: Vec::new(),
        player: None,
    })
}

impl Server {
    async fn connect(&self) -> Result<Client, quinn::ConnectionError> {
        handshake(dial(&self.client_config, self.handle.local_addr())).await
    }

    /// A client that said hello and got `Welcome`.
    async fn player(&self, psess: &str) -> Client {
        let mut client = self.connect().await.expect("connect");
        client.hello(psess).await;
        client.expect_welcome().await;
        client
    }

    /// `HONEST` welcomed players.
    async fn honest(&self) -> Vec<Client> {
        let mut players = Vec::new();
        for i in 0..HONEST {
            players.push(self.player(&format!("psess-honest-{i}")).await);
        }
        players
    }

    /// Runs one tick and asserts that every honest player got that tick's snapshot, and
    /// nothing else, as the next datagram: the snapshot rate holds at one per tick.
    async fn tick_beside(&self, honest: &[Client]) -> u32 {
        let tick = self.handle.tick().await.expect("tick");
        for (i, player) in honest.iter().enumerate() {
            assert_eq!(
                player.next_snapshot().await.tick,
                tick,
                "honest player {i} missed the snapshot of tick {tick}"
            );
        }
        tick
    }
}

/// A stream message's payload without its frame header.
fn payload(msg: &ClientMessage) -> Vec<u8> {
    let bytes = encode(msg).expect("encode");
    match msg.channel() {
        protocol::game::Channel::Stream => bytes[FRAME_HEADER_LEN..].to_vec(),
        protocol::game::Channel::Datagram => bytes,
    }
}

/// A stream frame around any payload.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

fn hello_msg(psess: &str) -> ClientMessage {
    ClientMessage::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        player_session_id: psess.to_owned(),
        name: "hostile".to_owned(),
    })
}

fn inputs_msg(newest_seq: u32, move_x: i8) -> ClientMessage {
    ClientMessage::Inputs(Inputs {
        newest_seq,
        frames: (0..8)
            .map(|_| InputFrame {
                move_x,
                move_y: 0,
                buttons: 0,
            })
            .collect(),
        ack: None,
    })
}

impl Client {
    /// Opens the stream (the hello's, or one for raw bytes).
    async fn open_stream(&mut self) {
        let (send, recv) = self.conn.open_bi().await.expect("open stream");
        self.send = Some(send);
        self.recv = Some(recv);
    }

    /// Raw bytes on the stream (opened first if need be).
    async fn write(&mut self, bytes: &[u8]) {
        if self.send.is_none() {
            self.open_stream().await;
        }
        let send = self.send.as_mut().expect("stream");
        send.write_all(bytes).await.expect("write");
    }

    /// FIN on the stream.
    fn finish(&mut self) {
        self.send
            .as_mut()
            .expect("stream")
            .finish()
            .expect("finish");
    }

    async fn hello(&mut self, psess: &str) {
        self.write(&encode(&hello_msg(psess)).expect("encode"))
            .await;
    }

    /// Raw bytes as one datagram.
    fn datagram(&self, bytes: Vec<u8>) {
        self.conn
            .send_datagram(Bytes::from(bytes))
            .expect("send datagram");
    }

    async fn next_message(&mut self) -> ServerMessage {
        loop {
            let mut input: &[u8] = &self.buffered;
            let framed = self.frames.feed(&mut input).expect("frame");
            let rest = input.to_vec();
            self.buffered = rest;
            if let Some(payload) = framed {
                return decode_stream_payload(&payload).expect("decode");
            }
            let recv = self.recv.as_mut().expect("stream");
            let chunk = tokio::time::timeout(DEADLINE, recv.read_chunk(4096, true))
                .await
                .expect("a frame in time")
                .expect("read")
                .expect("stream open");
            self.buffered.extend_from_slice(&chunk.bytes);
        }
    }

    async fn expect_welcome(&mut self) {
        match self.next_message().await {
            ServerMessage::Welcome(w) => self.player = Some(w.player),
            other => panic!("expected Welcome, got {other:?}"),
        }
    }

    /// The close reason, read from the QUIC application close code.
    async fn closed_with(&self) -> DisconnectReason {
        let error = tokio::time::timeout(DEADLINE, self.conn.closed())
            .await
            .expect("closed in time");
        match error {
            quinn::ConnectionError::ApplicationClosed(close) => {
                DisconnectReason::from_code(close.error_code.into_inner() as u32)
                    .expect("a known reason")
            }
            other => panic!("closed otherwise: {other}"),
        }
    }

    async fn next_snapshot(&self) -> Snapshot {
        let bytes = tokio::time::timeout(DEADLINE, self.conn.read_datagram())
            .await
            .expect("a snapshot in time")
            .expect("datagram");
        match decode_datagram::<ServerMessage>(&bytes).expect("decode") {
            ServerMessage::Snapshot(s) => s,
            other => panic!("not a snapshot: {other:?}"),
        }
    }
}

/// A UDP relay that passes a client's first packet (its Initial) to `server` and nothing
/// else, and swallows every answer, so the server sees a handshake start that never
/// completes (as from a spoofed address); the client's retransmissions are not passed on,
/// so each relay is exactly one handshake attempt. The receiver fires on the server's
/// first answer: by then the server has decided the handshake (accepted it, or sent a
/// Retry).
async fn blackhole(server: SocketAddr) -> (SocketAddr, oneshot::Receiver<()>) {
    let socket = tokio::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("relay");
    let addr = socket.local_addr().expect("relay addr");
    let (tx, rx) = oneshot::channel();
    // Ends with the test's runtime.
    tokio::spawn(async move {
        let mut answered = Some(tx);
        let mut forwarded = false;
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            if from == server {
                if let Some(tx) = answered.take() {
                    let _ = tx.send(());
                }
            } else if !forwarded {
                forwarded = true;
                let _ = socket.send_to(&buf[..n], server).await;
            }
        }
    });
    (addr, rx)
}

// ---------------------------------------------------------------------------------------
// Oversized and truncated messages
// ---------------------------------------------------------------------------------------

/// A frame header declaring more than `MAX_STREAM_MESSAGE_SIZE` is refused as soon as the
/// header arrives, before the hello and in the match alike.
#[tokio::test]
async fn stream_frames_over_the_limit_close_as_too_large() {
    let server = start(config());
    let honest = server.honest().await;
    let too_long = ((MAX_STREAM_MESSAGE_SIZE + 1) as u32).to_le_bytes();

    let mut before_hello = server.connect().await.expect("connect");
    before_hello.write(&too_long).await;
    let mut in_match = server.player("psess-big").await;
    in_match.write(&u32::MAX.to_le_bytes()).await;
    for _ in 0..10 {
        server.tick_beside(&honest).await;
    }
    assert_eq!(
        before_hello.closed_with().await,
        DisconnectReason::MessageTooLarge
    );
    assert_eq!(
        in_match.closed_with().await,
        DisconnectReason::MessageTooLarge
    );
    server.tick_beside(&honest).await;
    assert_eq!(server.metrics.closed(DisconnectReason::MessageTooLarge), 2);
}

/// A frame cut short and then FIN is malformed, whether it is the hello or a later frame.
#[tokio::test]
async fn a_truncated_frame_then_fin_closes_as_malformed() {
    let server = start(config());
    let honest = server.honest().await;

    let hello = encode(&hello_msg("psess-cut")).expect("encode");
    let mut cut_hello = server.connect().await.expect("connect");
    cut_hello.write(&hello[..hello.len() - 3]).await;
    cut_hello.finish();
    let mut cut_later = server.player("psess-cut-later").await;
    // A frame announcing 100 bytes, then 10 of them, then the end of the stream.
    let mut partial = 100u32.to_le_bytes().to_vec();
    partial.extend_from_slice(&[0; 10]);
    cut_later.write(&partial).await;
    cut_later.finish();
    for _ in 0..10 {
        server.tick_beside(&honest).await;
    }
    assert_eq!(
        cut_hello.closed_with().await,
        DisconnectReason::MalformedMessage
    );
    assert_eq!(
        cut_later.closed_with().await,
        DisconnectReason::MalformedMessage
    );
    server.tick_beside(&honest).await;
    assert_eq!(server.metrics.closed(DisconnectReason::MalformedMessage), 2);
}

/// A datagram above `MAX_DATAGRAM_SIZE` (which QUIC itself would still carry) closes as
/// too large, without disturbing anyone else.
#[tokio::test]
async fn an_oversized_datagram_closes_as_too_large() {
    let server = start(config());
    let honest = server.honest().await;
    let hostile = server.player("psess-wide").await;
    let room = hostile.conn.max_datagram_size().expect("datagrams");
    assert!(
        room > MAX_DATAGRAM_SIZE,
        "QUIC must allow {room} > {MAX_DATAGRAM_SIZE} bytes for this test to mean anything"
    );
    // A valid `Inputs` head padded past the limit: only the size is wrong.
    let mut big = payload(&inputs_msg(1, 0));
    big.resize(MAX_DATAGRAM_SIZE + 1, 0);
    hostile.datagram(big);
    for _ in 0..10 {
        server.tick_beside(&honest).await;
    }
    assert_eq!(
        hostile.closed_with().await,
        DisconnectReason::MessageTooLarge
    );
    server.tick_beside(&honest).await;
    assert_eq!(server.metrics.closed(DisconnectReason::MessageTooLarge), 1);
}

/// Bytes that frame correctly but do not decode (as the very first frame, and after the
/// hello), a frame declaring zero bytes, and an empty datagram: each is malformed.
#[tokio::test]
async fn garbage_frames_and_empty_messages_close_as_malformed() {
    let server = start(config());
    let honest = server.honest().await;
    let mut hostiles = Vec::new();
    let mut garbage_first = server.connect().await.expect("connect");
    garbage_first.write(&frame(&[0xee; 40])).await;
    hostiles.push(("garbage as the first frame", garbage_first));
    let mut garbage_later = server.player("psess-junk-1").await;
    garbage_later.write(&frame(&[0xee; 40])).await;
    hostiles.push(("garbage after the hello", garbage_later));
    let mut empty_frame = server.player("psess-junk-2").await;
    empty_frame.write(&0u32.to_le_bytes()).await;
    hostiles.push(("a zero-length frame", empty_frame));
    let empty_datagram = server.player("psess-junk-3").await;
    empty_datagram.datagram(Vec::new());
    hostiles.push(("an empty datagram", empty_datagram));
    for _ in 0..10 {
        server.tick_beside(&honest).await;
    }
    for (what, hostile) in &hostiles {
        assert_eq!(
            hostile.closed_with().await,
            DisconnectReason::MalformedMessage,
            "{what}"
        );
    }
    server.tick_beside(&honest).await;
    assert_eq!(
        server.metrics.closed(DisconnectReason::MalformedMessage),
        hostiles.len() as u64
    );
}

// ---------------------------------------------------------------------------------------
// Messages illegal in the connection's state or on their channel
// ---------------------------------------------------------------------------------------

/// Each of these closes its connection with `IllegalMessage`, and each is counted:
/// datagram messages on the stream, a second hello, stream messages in datagrams, and
/// in-match messages before the hello.
#[tokio::test]
async fn messages_illegal_in_their_state_or_channel_close_as_illegal() {
    let server = start(config());
    let honest = server.honest().await;
    let mut hostiles = Vec::new();

    // In the match.
    let mut inputs_on_stream = server.player("psess-ill-1").await;
    inputs_on_stream
        .write(&frame(&payload(&inputs_msg(1, 0))))
        .await;
    hostiles.push(("inputs on the stream", inputs_on_stream));
    let mut ack_on_stream = server.player("psess-ill-2").await;
    ack_on_stream
        .write(&frame(&payload(&ClientMessage::Ack(SnapshotAck {
            tick: 1,
        }))))
        .await;
    hostiles.push(("ack on the stream", ack_on_stream));
    let mut second_hello = server.player("psess-ill-3").await;
    second_hello.hello("psess-ill-3").await;
    hostiles.push(("a second hello", second_hello));
    let hello_datagram = server.player("psess-ill-4").await;
    hello_datagram.datagram(payload(&hello_msg("psess-ill-4")));
    hostiles.push(("hello in a datagram", hello_datagram));
    let leave_datagram = server.player("psess-ill-5").await;
    leave_datagram.datagram(payload(&ClientMessage::Leave));
    hostiles.push(("leave in a datagram", leave_datagram));

    // Before the hello.
    let early_hello_datagram = server.connect().await.expect("connect");
    early_hello_datagram.datagram(payload(&hello_msg("psess-ill-6")));
    hostiles.push(("hello in a datagram, first", early_hello_datagram));
    let early_inputs = server.connect().await.expect("connect");
    early_inputs.datagram(payload(&inputs_msg(1, 0)));
    hostiles.push(("inputs before hello", early_inputs));
    let mut inputs_first_frame = server.connect().await.expect("connect");
    inputs_first_frame
        .write(&frame(&payload(&inputs_msg(1, 0))))
        .await;
    hostiles.push(("inputs as the first frame", inputs_first_frame));

    for _ in 0..10 {
        server.tick_beside(&honest).await;
    }
    for (what, hostile) in &hostiles {
        assert_eq!(
            hostile.closed_with().await,
            DisconnectReason::IllegalMessage,
            "{what}"
        );
    }
    server.tick_beside(&honest).await;
    assert_eq!(
        server.metrics.closed(DisconnectReason::IllegalMessage),
        hostiles.len() as u64
    );
}

// ---------------------------------------------------------------------------------------
// Hello floods and slow hellos
// ---------------------------------------------------------------------------------------

/// Many connections at once that never say hello: past the pending cap (which counts
/// handshakes in flight) they are refused at the QUIC handshake, before any TLS work,
/// and counted as `pending_cap` (not as a full session); the ones within the cap time out
/// (`HelloTimeout`); the players in the match never miss a snapshot. Afterwards a new
/// player gets in.
#[tokio::test]
async fn a_hello_flood_is_capped_then_timed_out() {
    const CAP: usize = 4;
    const FLOOD: usize = 12;
    const LATE: usize = 4;
    let mut config = config();
    config.session.max_pending = CAP;
    // Long enough that no silent connection times out while the flood is still arriving.
    config.session.hello_timeout = Duration::from_secs(2);
    let server = start(config);
    let honest = server.honest().await;

    let mut flood = JoinSet::new();
    for _ in 0..FLOOD {
        flood.spawn(handshake(dial(
            &server.client_config,
            server.handle.local_addr(),
        )));
    }
    let mut silent = Vec::new();
    while let Some(result) = flood.join_next().await {
        match result.expect("join") {
            Ok(client) => silent.push(client),
            Err(quinn::ConnectionError::ConnectionClosed(close))
                if close.error_code == quinn::TransportErrorCode::CONNECTION_REFUSED => {}
            Err(other) => panic!("flood connection failed otherwise: {other}"),
        }
    }
    assert_eq!(
        silent.len(),
        CAP,
        "handshakes in flight count against the cap: the excess never got one"
    );
    // The server finishes the silent handshakes a moment after their clients do; each
    // tick updates the pending gauge.
    for _ in 0..10 {
        server.tick_beside(&honest).await;
    }
    let mut ticks = 10;
    while server.metrics.pending.get() != CAP as i64 {
        assert!(ticks < 1_000, "the silent connections never became pending");
        server.tick_beside(&honest).await;
        ticks += 1;
    }
    // The cap stays full until the deadline: later handshakes are refused too.
    for _ in 0..LATE {
        match server.connect().await {
            Err(quinn::ConnectionError::ConnectionClosed(close))
                if close.error_code == quinn::TransportErrorCode::CONNECTION_REFUSED => {}
            Err(other) => panic!("refused otherwise: {other}"),
            Ok(_) => panic!("a handshake completed past the pending cap"),
        }
        server.tick_beside(&honest).await;
    }
    for client in &silent {
        assert_eq!(client.closed_with().await, DisconnectReason::HelloTimeout);
    }
    server.tick_beside(&honest).await;
    assert_eq!(
        server.metrics.rejected(rejected::PENDING_CAP),
        (FLOOD - CAP + LATE) as u64
    );
    assert_eq!(server.metrics.rejected(rejected::SESSION_FULL), 0);
    assert_eq!(server.metrics.closed(DisconnectReason::SessionFull), 0);
    assert_eq!(
        server.metrics.closed(DisconnectReason::HelloTimeout),
        CAP as u64
    );
    // The cap is free again.
    let late = server.player("psess-late").await;
    let mut all = honest;
    all.push(late);
    server.tick_beside(&all).await;
}

/// A hello that trickles in a byte per tick is admitted (a slow link is not an attack);
/// one that stops halfway times out.
#[tokio::test]
async fn a_slow_hello_is_admitted_and_a_stalled_one_times_out() {
    let mut config = config();
    config.session.hello_timeout = Duration::from_secs(2);
    let server = start(config);
    let honest = server.honest().await;

    let hello = encode(&hello_msg("psess-slow")).expect("encode");
    let mut slow = server.connect().await.expect("connect");
    let mut stalled = server.connect().await.expect("connect");
    stalled.write(&hello[..hello.len() / 2]).await;
    for byte in &hello {
        slow.write(std::slice::from_ref(byte)).await;
        server.tick_beside(&honest).await;
    }
    slow.expect_welcome().await;
    assert_eq!(stalled.closed_with().await, DisconnectReason::HelloTimeout);
    let mut all = honest;
    all.push(slow);
    server.tick_beside(&all).await;
    assert_eq!(server.metrics.closed(DisconnectReason::HelloTimeout), 1);
}

/// Unvalidated handshakes that pile up (here: started from addresses that never answer)
/// make the next ones prove their address with a QUIC Retry; a spoofer never completes
/// it, a real client does and gets in, even with a pending cap only one above the Retry
/// threshold. Counted as `retry`.
#[tokio::test]
async fn piled_up_handshakes_make_new_ones_retry() {
    const THRESHOLD: usize = 2;
    let mut config = config();
    config.net.retry_threshold = THRESHOLD;
    // Handshakes in flight count against the pending cap; with the Retry threshold below
    // it, spoofed ones alone can never fill it.
    config.session.max_pending = THRESHOLD + 1;
    // The stalled handshakes must outlive the test rather than fail half-way through it.
    config.net.idle_timeout = Duration::from_secs(60);
    let server = start(config);
    let honest = server.honest().await;
    assert_eq!(server.metrics.rejected(rejected::RETRY), 0);

    let mut stalled = Vec::new();
    for _ in 0..THRESHOLD {
        let (relay, answered) = blackhole(server.handle.local_addr()).await;
        stalled.push(dial(&server.client_config, relay));
        tokio::time::timeout(DEADLINE, answered)
            .await
            .expect("answered in time")
            .expect("relay alive");
    }
    assert_eq!(
        server.metrics.rejected(rejected::RETRY),
        0,
        "below the threshold handshakes are accepted"
    );
    // One more from a blackholed address: answered with a Retry it never sees.
    let (relay, answered) = blackhole(server.handle.local_addr()).await;
    stalled.push(dial(&server.client_config, relay));
    tokio::time::timeout(DEADLINE, answered)
        .await
        .expect("answered in time")
        .expect("relay alive");
    assert_eq!(server.metrics.rejected(rejected::RETRY), 1);
    server.tick_beside(&honest).await;

    // A real client goes through the Retry and plays.
    let late = server.player("psess-retried").await;
    // (At least: a retransmitted first Initial would be retried again.)
    assert!(server.metrics.rejected(rejected::RETRY) >= 2);
    let mut all = honest;
    all.push(late);
    for _ in 0..10 {
        server.tick_beside(&all).await;
    }
    assert_eq!(server.metrics.rejected(rejected::HANDSHAKE_FAILED), 0);
    drop(stalled);
}

// ---------------------------------------------------------------------------------------
// Input floods
// ---------------------------------------------------------------------------------------

/// A match that starts playing as soon as `players` are in, after a one-tick countdown.
fn playing_config(players: u8) -> ShellConfig {
    let mut config = config();
    let params = config.game.params.clone();
    config.game = MatchConfig {
        rules: Rules {
            countdown_ticks: 1,
            ..Rules::for_tick_rate(params.tick_rate_hz, params.max_players)
        },
        expected_players: players,
        ..MatchConfig::new(params)
    };
    config
}

/// Ticks until the honest players' snapshots say `Playing`.
async fn tick_until_playing(server: &Server, honest: &[Client], hostile: &Client) {
    for _ in 0..10 {
        let tick = server.handle.tick().await.expect("tick");
        let mut phase = None;
        for player in honest {
            let s = player.next_snapshot().await;
            assert_eq!(s.tick, tick);
            phase = Some(s.phase.phase);
        }
        assert_eq!(hostile.next_snapshot().await.tick, tick);
        if phase == Some(Phase::Playing) {
            return;
        }
    }
    panic!("the match did not start");
}

/// 20 input datagrams per tick, each claiming a new input (a client running its clock 20×
/// fast): the excess is dropped as `rate_limited`, the hostile player moves no faster
/// than one input per tick at full stick, and the honest players miss nothing.
#[tokio::test]
async fn an_input_flood_is_rate_limited_and_moves_one_input_per_tick() {
    const PER_TICK: u32 = 20;
    const TICKS: u32 = 30;
    let mut config = playing_config(HONEST as u8 + 1);
    // This test is about dropping; closing for sustained abuse is the next test's.
    config.session.abuse_seconds = u32::MAX;
    let speed = config.game.rules.speed_mm_per_tick;
    let server = start(config);
    let began = Instant::now();
    let honest = server.honest().await;
    let hostile = server.player("psess-flood").await;
    let me = hostile.player.expect("player id");
    tick_until_playing(&server, &honest, &hostile).await;
    assert_eq!(
        server.metrics.datagrams_in.get(),
        0,
        "nobody sent a datagram yet"
    );

    let start = hostile.next_snapshot_of(me, &server, &honest).await;
    // Toward the middle of the map, so the edge never stops it.
    let direction: i8 = if start.1 < 15_000 { 127 } else { -127 };
    let mut last = start;
    let mut seq = 0;
    for _ in 0..TICKS {
        for _ in 0..PER_TICK {
            seq += 1;
            hostile.datagram(payload(&inputs_msg(seq, direction)));
        }
        let now = hostile.next_snapshot_of(me, &server, &honest).await;
        let ticks = i64::from(now.0 - last.0);
        let moved = (now.1 - last.1).abs();
        assert!(
            moved <= i64::from(speed) * ticks,
            "moved {moved} mm in {ticks} tick(s), faster than one input per tick ({speed} mm)"
        );
        assert_eq!(now.2, last.2, "no sideways motion");
        last = now;
    }
    assert!(
        last.1 != start.1,
        "the hostile player's inputs were applied"
    );
    assert!(
        (last.1 - start.1).abs() <= i64::from(speed) * i64::from(TICKS),
        "at most one input per tick in total"
    );
    // Every datagram the server took in came from the hostile client, and each one it
    // counted has been through the rate limiter; the next tick folds the limiter's drops
    // into the metrics. The token bucket passes at most its burst plus its rate over the
    // time the connection existed.
    let received = server.metrics.datagrams_in.get();
    hostile.next_snapshot_of(me, &server, &honest).await;
    let elapsed = began.elapsed().as_secs_f64();
    let passable = f64::from(DEFAULT_DATAGRAM_BURST) + f64::from(DEFAULT_DATAGRAM_RATE) * elapsed;
    let must_drop = received.saturating_sub(passable.ceil() as u64);
    let dropped = server.metrics.dropped(dropped::RATE_LIMITED);
    assert!(dropped > 0, "an input flood is dropped and counted");
    assert!(
        dropped >= must_drop,
        "{dropped} dropped of {received} received in {elapsed:.2} s; at least {must_drop} must be"
    );
    assert!(hostile.conn.close_reason().is_none(), "dropped, not closed");
}

impl Client {
    /// Ticks once beside `honest` and returns this player's (tick, x, y) from the
    /// tick's snapshot (full: the client never acks).
    async fn next_snapshot_of(
        &self,
        me: u8,
        server: &Server,
        honest: &[Client],
    ) -> (u32, i64, i64) {
        let tick = server.tick_beside(honest).await;
        let s = self.next_snapshot().await;
        assert_eq!(s.tick, tick, "the hostile player's own snapshot");
        let p = s
            .players
            .iter()
            .find(|p| p.id == me)
            .expect("own state in a full snapshot");
        (s.tick, i64::from(p.x), i64::from(p.y))
    }
}

/// Flooding for a whole abusive second (with `abuse_seconds` = 1) closes with
/// `RateLimited`, after the excess was dropped and counted; honest players miss nothing.
#[tokio::test]
async fn a_sustained_input_flood_closes_as_rate_limited() {
    const PER_TICK: u32 = 20;
    let mut config = config();
    config.session.abuse_seconds = 1;
    let server = start(config);
    let honest = server.honest().await;
    let hostile = server.player("psess-abuse").await;
    let mut seq = 0;
    let mut ticks = 0;
    while server.metrics.closed(DisconnectReason::RateLimited) == 0 {
        ticks += 1;
        assert!(ticks < 1_000, "never closed for abuse");
        for _ in 0..PER_TICK {
            seq += 1;
            if hostile.conn.close_reason().is_some() {
                break;
            }
            let _ = hostile
                .conn
                .send_datagram(Bytes::from(payload(&inputs_msg(seq, 127))));
        }
        server.tick_beside(&honest).await;
    }
    assert_eq!(hostile.closed_with().await, DisconnectReason::RateLimited);
    assert!(server.metrics.dropped(dropped::RATE_LIMITED) >= 60);
    for _ in 0..10 {
        server.tick_beside(&honest).await;
    }
    assert_eq!(server.metrics.closed(DisconnectReason::RateLimited), 1);
}

/// A client that opens its stream with a tiny receive window and never reads it: what the
/// server cannot hand quinn piles up until the backlog cap, then the player is kicked
/// with `InternalError` (counted), and the honest players miss no snapshot.
#[tokio::test]
async fn a_client_that_never_reads_its_stream_is_kicked() {
    let mut config = config();
    config.stream_backlog = 64;
    let server = start(config);
    let honest = server.honest().await;
    let mut transport = quinn::TransportConfig::default();
    transport
        .stream_receive_window(quinn::VarInt::from_u32(8))
        .receive_window(quinn::VarInt::from_u32(8));
    let mut client_config = server.client_config.clone();
    client_config.transport_config(Arc::new(transport));
    let mut hostile = handshake(dial(&client_config, server.handle.local_addr()))
        .await
        .expect("connect");
    // `Welcome` and a `PlayerJoined` per player present are far more than 8 + 64 bytes.
    hostile.hello("psess-deaf").await;
    for _ in 0..3 {
        server.tick_beside(&honest).await;
    }
    assert_eq!(hostile.closed_with().await, DisconnectReason::InternalError);
    server.tick_beside(&honest).await;
    assert_eq!(server.metrics.closed(DisconnectReason::InternalError), 1);
}
