//! The shell over real QUIC on loopback: admission, typed closes, hostile input and a
//! full session, with a plain quinn client and GameLift's accept answered in-process.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use protocol::game::{
    ClientMessage, DisconnectReason, Event, EventKind, FrameReader, Hello, PROTOCOL_VERSION,
    ServerMessage, decode_datagram, decode_stream_payload, encode,
};
use server::game::MatchConfig;
use server::metrics::{Liveness, Metrics, rejected};
use server::net::{NetConfig, TlsIdentity};
use server::session::{AcceptError, SessionConfig};
use server::shell::{
    DEFAULT_STREAM_BACKLOG, PlayerSessions, Shell, ShellConfig, ShellHandle, TickMode,
};

const DEADLINE: Duration = Duration::from_secs(10);

/// GameLift in-process: accepts the ids it was given, records every call.
#[derive(Clone, Default)]
struct FakeGameLift {
    valid: Arc<Mutex<HashSet<String>>>,
    accepted: Arc<Mutex<Vec<String>>>,
    removed: Arc<Mutex<Vec<String>>>,
    /// GameLift's player id by player session id (DescribePlayerSessions).
    player_ids: Arc<Mutex<HashMap<String, String>>>,
}

impl PlayerSessions for FakeGameLift {
    fn accept(
        &self,
        id: String,
    ) -> impl std::future::Future<Output = Result<(), AcceptError>> + Send {
        let ok = self.valid.lock().unwrap().contains(&id);
        if ok {
            self.accepted.lock().unwrap().push(id);
        }
        async move {
            if ok {
                Ok(())
            } else {
                Err(AcceptError::Invalid)
            }
        }
    }

    fn remove(&self, id: String) -> impl std::future::Future<Output = ()> + Send {
        self.removed.lock().unwrap().push(id);
        async {}
    }

    fn player_id(&self, id: String) -> impl std::future::Future<Output = Option<String>> + Send {
        let found = self.player_ids.lock().unwrap().get(&id).cloned();
        async move { found }
    }
}

struct Server {
    handle: ShellHandle,
    gamelift: FakeGameLift,
    metrics: Metrics,
    client_config: quinn::ClientConfig,
}

fn start(max_players: u8, session: SessionConfig, ids: &[&str]) -> Server {
    start_with(max_players, 0, session, ids, &[])
}

/// `teams` modes; `placed` = (player session id, player id, team) from the matchmaker.
fn start_with(
    max_players: u8,
    teams: u8,
    session: SessionConfig,
    ids: &[&str],
    placed: &[(&str, &str, u8)],
) -> Server {
    let identity = TlsIdentity::self_signed(&["localhost".to_owned()]).expect("cert");
    let mut params = MatchConfig::default_params("gsess-test", 7);
    params.max_players = max_players;
    params.teams = teams;
    let config = ShellConfig {
        net: NetConfig {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            ..NetConfig::default()
        },
        session,
        game: MatchConfig::new(params),
        tick: TickMode::Manual,
        linger: Duration::from_secs(1),
        teams: placed
            .iter()
            .map(|(_, player, team)| (player.to_string(), *team))
            .collect(),
        stream_backlog: DEFAULT_STREAM_BACKLOG,
    };
    let gamelift = FakeGameLift::default();
    gamelift.player_ids.lock().unwrap().extend(
        placed
            .iter()
            .map(|(psess, player, _)| (psess.to_string(), player.to_string())),
    );
    gamelift
        .valid
        .lock()
        .unwrap()
        .extend(ids.iter().map(|s| s.to_string()));
    let metrics = Metrics::new();
    let (shell, handle) = Shell::bind(
        config,
        &identity,
        gamelift.clone(),
        metrics.clone(),
        Arc::new(Liveness::new(Duration::from_secs(5))),
    )
    .expect("bind");
    tokio::spawn(shell.run());
    Server {
        handle,
        gamelift,
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
}

impl Server {
    async fn connect(&self) -> Result<Client, quinn::ConnectionError> {
        let mut endpoint =
            quinn::Endpoint::client(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("client");
        endpoint.set_default_client_config(self.client_config.clone());
        let connecting = endpoint
            .connect(self.handle.local_addr(), "localhost")
            .expect("connect");
        let conn = tokio::time::timeout(DEADLINE, connecting)
            .await
            .expect("handshake in time")?;
        Ok(Client {
            conn,
            send: None,
            recv: None,
            frames: FrameReader::new(),
            buffered: Vec::new(),
        })
    }
}

impl Client {
    async fn hello(&mut self, version: u16, psess: &str) {
        let (mut send, recv) = self.conn.open_bi().await.expect("open stream");
        let frame = encode(&ClientMessage::Hello(Hello {
            protocol_version: version,
            player_session_id: psess.to_owned(),
            name: "tester".to_owned(),
        }))
        .expect("encode");
        send.write_all(&frame).await.expect("write hello");
        self.send = Some(send);
        self.recv = Some(recv);
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

    async fn next_snapshot_tick(&self) -> u32 {
        let bytes = tokio::time::timeout(DEADLINE, self.conn.read_datagram())
            .await
            .expect("a snapshot in time")
            .expect("datagram");
        match decode_datagram::<ServerMessage>(&bytes).expect("decode") {
            ServerMessage::Snapshot(s) => s.tick,
            other => panic!("not a snapshot: {other:?}"),
        }
    }
}

fn session() -> SessionConfig {
    SessionConfig::default()
}

#[tokio::test]
async fn an_accepted_player_is_welcomed_and_gets_a_snapshot_per_tick() {
    let server = start(4, session(), &["psess-1"]);
    let mut client = server.connect().await.expect("connect");
    client.hello(PROTOCOL_VERSION, "psess-1").await;
    match client.next_message().await {
        ServerMessage::Welcome(w) => {
            assert_eq!(w.protocol_version, PROTOCOL_VERSION);
            assert!(!w.resumed);
            assert_eq!(w.params.game_session_id, "gsess-test");
        }
        other => panic!("expected Welcome, got {other:?}"),
    }
    assert_eq!(
        *server.gamelift.accepted.lock().unwrap(),
        vec!["psess-1".to_owned()]
    );
    for _ in 0..3 {
        let tick = server.handle.tick().await.expect("tick");
        assert_eq!(client.next_snapshot_tick().await, tick);
    }
    server.handle.shutdown();
    assert_eq!(client.closed_with().await, DisconnectReason::ServerShutdown);
}

#[tokio::test]
async fn a_wrong_player_session_is_closed_as_invalid() {
    let server = start(4, session(), &["psess-1"]);
    let mut client = server.connect().await.expect("connect");
    client.hello(PROTOCOL_VERSION, "psess-unknown").await;
    assert_eq!(
        client.closed_with().await,
        DisconnectReason::InvalidPlayerSession
    );
}

#[tokio::test]
async fn a_second_connection_for_the_same_player_session_is_a_duplicate() {
    let server = start(4, session(), &["psess-1"]);
    let mut first = server.connect().await.expect("connect");
    first.hello(PROTOCOL_VERSION, "psess-1").await;
    assert!(matches!(
        first.next_message().await,
        ServerMessage::Welcome(_)
    ));
    let mut second = server.connect().await.expect("connect");
    second.hello(PROTOCOL_VERSION, "psess-1").await;
    assert_eq!(
        second.closed_with().await,
        DisconnectReason::DuplicatePlayerSession
    );
    // The first one is untouched.
    let tick = server.handle.tick().await.expect("tick");
    assert_eq!(first.next_snapshot_tick().await, tick);
}

#[tokio::test]
async fn no_hello_before_the_deadline_closes_with_hello_timeout() {
    let config = SessionConfig {
        hello_timeout: Duration::from_millis(200),
        ..session()
    };
    let server = start(4, config, &[]);
    let client = server.connect().await.expect("connect");
    assert_eq!(client.closed_with().await, DisconnectReason::HelloTimeout);
}

#[tokio::test]
async fn another_protocol_version_is_refused_as_a_mismatch() {
    let server = start(4, session(), &["psess-1"]);
    let mut client = server.connect().await.expect("connect");
    client.hello(PROTOCOL_VERSION + 1, "psess-1").await;
    assert_eq!(
        client.closed_with().await,
        DisconnectReason::VersionMismatch
    );
    // The Disconnect frame arrived before the close, with the same reason.
    match client.next_message().await {
        ServerMessage::Disconnect(d) => assert_eq!(d.reason, DisconnectReason::VersionMismatch),
        other => panic!("expected Disconnect, got {other:?}"),
    }
    assert!(server.gamelift.accepted.lock().unwrap().is_empty());
}

#[tokio::test]
async fn garbage_beside_a_player_does_not_cost_them_a_snapshot() {
    let server = start(4, session(), &["psess-good", "psess-bad"]);
    let mut good = server.connect().await.expect("connect");
    good.hello(PROTOCOL_VERSION, "psess-good").await;
    assert!(matches!(
        good.next_message().await,
        ServerMessage::Welcome(_)
    ));
    let mut bad = server.connect().await.expect("connect");
    bad.hello(PROTOCOL_VERSION, "psess-bad").await;
    assert!(matches!(
        bad.next_message().await,
        ServerMessage::Welcome(_)
    ));
    // Raw UDP junk at the port, and junk datagrams inside an admitted connection.
    let raw = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("udp");
    const TICKS: u32 = 30;
    let mut received = 0;
    for i in 0..TICKS {
        for j in 0..20u8 {
            let _ = raw.send_to(&[0xff, i as u8, j, 0, 1, 2, 3], server.handle.local_addr());
        }
        let _ = bad
            .conn
            .send_datagram(bytes::Bytes::from_static(&[0xee; 40]));
        let tick = server.handle.tick().await.expect("tick");
        if good.next_snapshot_tick().await == tick {
            received += 1;
        }
    }
    assert_eq!(
        received, TICKS,
        "one snapshot per tick for the honest player"
    );
    assert_eq!(bad.closed_with().await, DisconnectReason::MalformedMessage);
    assert_eq!(server.metrics.closed(DisconnectReason::MalformedMessage), 1);
}

/// A player whose connection drops takes their slot back on a new connection within the
/// grace period: same player id, `resumed`, no second AcceptPlayerSession, nothing removed.
#[tokio::test]
async fn a_dropped_player_reconnects_within_the_grace_and_keeps_their_slot() {
    let server = start(4, session(), &["psess-a"]);
    let mut first = server.connect().await.expect("connect");
    first.hello(PROTOCOL_VERSION, "psess-a").await;
    let ServerMessage::Welcome(welcome) = first.next_message().await else {
        panic!("welcome expected")
    };
    assert!(!welcome.resumed);
    // The link dies without a goodbye (as when a phone changes networks).
    first.conn.close(quinn::VarInt::from_u32(0), b"");
    drop(first);
    let mut again = server.connect().await.expect("reconnect");
    let welcome_again = loop {
        again.hello(PROTOCOL_VERSION, "psess-a").await;
        match again.next_message().await {
            ServerMessage::Welcome(w) => break w,
            // The server may not have seen the old connection go yet: it says so with a
            // duplicate, and the client tries again on a fresh connection.
            ServerMessage::Disconnect(d) => {
                assert_eq!(d.reason, DisconnectReason::DuplicatePlayerSession);
                server.handle.tick().await.expect("tick");
                again = server.connect().await.expect("reconnect");
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    assert!(welcome_again.resumed);
    assert_eq!(welcome_again.player, welcome.player);
    let tick = server.handle.tick().await.expect("tick");
    assert_eq!(again.next_snapshot_tick().await, tick);
    assert_eq!(
        server.gamelift.accepted.lock().unwrap().as_slice(),
        ["psess-a"],
        "accepted once"
    );
    assert!(server.gamelift.removed.lock().unwrap().is_empty());
}

/// Teams come from the matchmaker (player id → team), not from balancing: two players
/// the matchmaker put on team 1 both land there, though balancing would split them.
#[tokio::test]
async fn players_join_the_team_the_matchmaker_put_them_on() {
    let server = start_with(
        4,
        2,
        session(),
        &["psess-a", "psess-b", "psess-c"],
        &[("psess-a", "alice", 1), ("psess-b", "bob", 1)],
    );
    let mut teams = Vec::new();
    let mut connected = Vec::new();
    for psess in ["psess-a", "psess-b", "psess-c"] {
        let mut client = server.connect().await.expect("connect");
        client.hello(PROTOCOL_VERSION, psess).await;
        let ServerMessage::Welcome(welcome) = client.next_message().await else {
            panic!("welcome expected")
        };
        let team = loop {
            if let ServerMessage::Event(Event {
                kind: EventKind::PlayerJoined { player, team, .. },
                ..
            }) = client.next_message().await
                && player == welcome.player
            {
                break team;
            }
        };
        teams.push(team);
        connected.push(client); // stays connected while the others join
    }
    // carol has no matchmaker placement: she joins the smaller team.
    assert_eq!(teams, vec![Some(1), Some(1), Some(0)]);
}

#[tokio::test]
async fn a_full_session_refuses_the_handshake() {
    let server = start(1, session(), &["psess-1", "psess-2"]);
    let mut first = server.connect().await.expect("connect");
    first.hello(PROTOCOL_VERSION, "psess-1").await;
    assert!(matches!(
        first.next_message().await,
        ServerMessage::Welcome(_)
    ));
    match server.connect().await {
        Err(quinn::ConnectionError::ConnectionClosed(close)) => {
            assert_eq!(
                close.error_code,
                quinn::TransportErrorCode::CONNECTION_REFUSED
            );
        }
        Err(other) => panic!("refused otherwise: {other}"),
        Ok(_) => panic!("a full session accepted a handshake"),
    }
    assert_eq!(server.metrics.rejected(rejected::SESSION_FULL), 1);
}
