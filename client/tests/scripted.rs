//! The client against a minimal scripted quinn server that speaks the wire: `Welcome`,
//! full and delta snapshots (one out of order, one against an unknown baseline), events,
//! and a `Disconnect` with a reason. The server waits for each ack before the next step,
//! so nothing here waits on a timer.

mod common;

use std::time::Duration;

use client::{ClientOptions, CloseReason, ConnectError};
use common::{Peer, TEST_LIMIT, info, pinned_server, playing, welcome};
use protocol::game::{
    ClientMessage, DisconnectReason, EndReason, Event, EventKind, InputFrame, ItemState,
    PlayerState, Snapshot, SnapshotAck, Standing, player_flags,
};

fn player(id: u8, x: i32) -> PlayerState {
    PlayerState {
        id,
        x,
        y: 0,
        vx: 0,
        vy: 0,
        score: 0,
        flags: player_flags::CONNECTED,
    }
}

fn item(id: u16) -> ItemState {
    ItemState {
        id,
        x: 1_000,
        y: 1_000,
        value: 1,
    }
}

fn snapshot(tick: u32, baseline: Option<u32>) -> Snapshot {
    Snapshot {
        tick,
        baseline,
        last_input_seq: 3,
        phase: playing(),
        players: vec![],
        player_deltas: vec![],
        removed_players: vec![],
        items: vec![],
        removed_items: vec![],
    }
}

/// Skips `Inputs` datagrams, returns the next ack.
async fn next_ack(peer: &Peer) -> SnapshotAck {
    loop {
        match peer.datagram().await {
            ClientMessage::Ack(a) => return a,
            ClientMessage::Inputs(_) => continue,
            other => panic!("unexpected datagram {other:?}"),
        }
    }
}

fn standings() -> Vec<Standing> {
    vec![Standing {
        player: 3,
        team: None,
        placement: 1,
        score: 5,
        left_early: false,
    }]
}

#[tokio::test]
async fn client_applies_deltas_acks_surfaces_events_and_the_disconnect_reason() {
    let (endpoint, addr, pin) = pinned_server();
    let script = tokio::spawn(async move {
        let mut peer = Peer::accept(&endpoint).await;
        let hello = peer.read().await.expect("hello");
        peer.send(&welcome(3, false)).await;
        // Inputs: wait until input 3 arrives, which must carry 2 and 1 as well.
        let inputs = loop {
            if let ClientMessage::Inputs(i) = peer.datagram().await
                && i.newest_seq == 3
            {
                break i;
            }
        };
        let mut acks = Vec::new();
        let mut s = snapshot(100, None);
        s.players = vec![player(3, 0), player(5, 500)];
        s.items = vec![item(1), item(2)];
        peer.snapshot(s);
        acks.push(next_ack(&peer).await);
        let mut s = snapshot(101, Some(100));
        s.players = vec![player(3, 100)];
        s.items = vec![item(7)];
        s.removed_items = vec![2];
        peer.snapshot(s);
        acks.push(next_ack(&peer).await);
        // Tick 102 is "lost": 103 against 101 removes player 5.
        let mut s = snapshot(103, Some(101));
        s.removed_players = vec![5];
        peer.snapshot(s);
        acks.push(next_ack(&peer).await);
        // 102 arrives late: ignored, 103 acked again.
        peer.snapshot(snapshot(102, Some(101)));
        acks.push(next_ack(&peer).await);
        // A delta against a tick the client never held: ignored, 103 acked again.
        peer.snapshot(snapshot(104, Some(90)));
        acks.push(next_ack(&peer).await);
        peer.send(&protocol::game::ServerMessage::Event(Event {
            tick: 104,
            kind: EventKind::Tagged {
                by: 3,
                target: 5,
                points: 5,
            },
        }))
        .await;
        peer.send(&protocol::game::ServerMessage::Event(Event {
            tick: 105,
            kind: EventKind::MatchEnded {
                reason: EndReason::TimeUp,
                standings: standings(),
            },
        }))
        .await;
        peer.disconnect(DisconnectReason::MatchEnded).await;
        (hello, inputs, acks)
    });

    let test = async {
        let opts = ClientOptions {
            name: "ann".to_owned(),
            redundancy: 3,
            // Every snapshot is acked in an `Ack` of its own (inputs stopped long ago).
            ack_idle: Duration::ZERO,
            ..ClientOptions::default()
        };
        let session = client::connect(&info(addr, pin, "psess-42"), &opts)
            .await
            .expect("connect");
        assert_eq!(session.player(), 3);
        assert!(!session.resumed());
        assert_eq!(session.welcome().params.mode, "ffa");
        for x in 1..=3 {
            let seq = session
                .send_inputs(InputFrame {
                    move_x: x,
                    move_y: 0,
                    buttons: 0,
                })
                .expect("inputs");
            assert_eq!(seq, x as u32);
        }
        let first = session.next_event().await.expect("tagged event");
        assert_eq!(
            first.kind,
            EventKind::Tagged {
                by: 3,
                target: 5,
                points: 5
            }
        );
        let second = session.next_event().await.expect("match ended event");
        assert!(matches!(
            second.kind,
            EventKind::MatchEnded {
                reason: EndReason::TimeUp,
                ..
            }
        ));
        assert_eq!(
            session.closed().await,
            CloseReason::Server(DisconnectReason::MatchEnded)
        );
        assert_eq!(
            session.next_event().await,
            None,
            "no events after Disconnect"
        );
        // Every snapshot was handled before the events were sent (the server waited for
        // each ack), so the world is final here.
        let world = session.latest_world().expect("world");
        assert_eq!(world.tick, 103);
        assert_eq!(world.players, vec![player(3, 100)]);
        assert_eq!(world.items, vec![item(1), item(7)]);
        let (older, newer) = session.latest_pair().expect("pair");
        assert_eq!((older.tick, newer.tick), (101, 103));
        assert_eq!(session.last_input_seq(), 3);
        let stats = session.stats();
        assert_eq!(stats.snapshots.applied, 3);
        assert_eq!(stats.snapshots.stale, 1);
        assert_eq!(stats.snapshots.missing_baseline, 1);
        assert_eq!(stats.snapshots.gap_ticks, 1);
        assert!(stats.quic.udp_rx.bytes > 0 && stats.quic.udp_tx.bytes > 0);
    };
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .expect("client side in time");
    let (hello, inputs, acks) = tokio::time::timeout(TEST_LIMIT, script)
        .await
        .expect("server side in time")
        .unwrap();
    match hello {
        ClientMessage::Hello(h) => {
            assert_eq!(h.protocol_version, protocol::game::PROTOCOL_VERSION);
            assert_eq!(h.player_session_id, "psess-42");
            assert_eq!(h.name, "ann");
        }
        other => panic!("first message must be Hello, got {other:?}"),
    }
    let xs: Vec<i8> = inputs.frames.iter().map(|f| f.move_x).collect();
    assert_eq!(xs, vec![3, 2, 1], "input 3 carries 2 and 1, newest first");
    let ticks: Vec<u32> = acks.iter().map(|a| a.tick).collect();
    assert_eq!(ticks, vec![100, 101, 103, 103, 103]);
}

/// While the application sends inputs, they carry the ack and no `Ack` datagram goes out.
#[tokio::test]
async fn inputs_carry_the_ack_while_they_flow() {
    let (endpoint, addr, pin) = pinned_server();
    let script = tokio::spawn(async move {
        let mut peer = Peer::admitted(&endpoint, 3).await;
        let first = peer.datagram().await;
        let mut s = snapshot(100, None);
        s.last_input_seq = 1;
        peer.snapshot(s);
        let second = peer.datagram().await;
        peer.disconnect(DisconnectReason::MatchEnded).await;
        (first, second)
    });
    let test = async {
        let opts = ClientOptions {
            ack_idle: Duration::from_secs(3600),
            ..ClientOptions::default()
        };
        let mut session = client::connect(&info(addr, pin, "psess-7"), &opts)
            .await
            .expect("connect");
        session.send_inputs(InputFrame::default()).expect("inputs");
        assert_eq!(session.next_tick().await, Some(100));
        session.send_inputs(InputFrame::default()).expect("inputs");
        session.closed().await
    };
    let closed = tokio::time::timeout(TEST_LIMIT, test)
        .await
        .expect("client side in time");
    assert_eq!(closed, CloseReason::Server(DisconnectReason::MatchEnded));
    let (first, second) = tokio::time::timeout(TEST_LIMIT, script)
        .await
        .expect("server side in time")
        .unwrap();
    let ClientMessage::Inputs(first) = first else {
        panic!("first datagram must be Inputs, got {first:?}");
    };
    assert_eq!(
        (first.newest_seq, first.ack),
        (1, None),
        "nothing to ack yet"
    );
    // The datagram right after the snapshot is the next input with the ack, not an Ack.
    let ClientMessage::Inputs(second) = second else {
        panic!("the snapshot must be acked inside Inputs, got {second:?}");
    };
    assert_eq!((second.newest_seq, second.ack), (2, Some(100)));
}

/// Sessions given one endpoint share its UDP socket, and dropping one closes only its own
/// connection: the other keeps receiving.
#[tokio::test]
async fn sessions_sharing_an_endpoint_outlive_each_other() {
    let (endpoint, addr, pin) = pinned_server();
    let script = tokio::spawn(async move {
        let first = Peer::admitted(&endpoint, 1).await;
        let mut second = Peer::admitted(&endpoint, 2).await;
        // The first client is dropped; then the second still gets a snapshot.
        first.conn.closed().await;
        let mut s = snapshot(100, None);
        s.last_input_seq = 0;
        second.snapshot(s);
        second.disconnect(DisconnectReason::MatchEnded).await;
    });
    let test = async {
        let shared =
            quinn::Endpoint::client((std::net::Ipv4Addr::LOCALHOST, 0).into()).expect("endpoint");
        let opts = ClientOptions {
            endpoint: Some(shared.clone()),
            ..ClientOptions::default()
        };
        let first = client::connect(&info(addr, pin, "psess-1"), &opts)
            .await
            .expect("first");
        let mut second = client::connect(&info(addr, pin, "psess-2"), &opts)
            .await
            .expect("second");
        assert_eq!(shared.open_connections(), 2, "both on the shared socket");
        drop(first);
        assert_eq!(second.next_tick().await, Some(100));
        second.closed().await
    };
    let closed = tokio::time::timeout(TEST_LIMIT, test)
        .await
        .expect("client side in time");
    assert_eq!(closed, CloseReason::Server(DisconnectReason::MatchEnded));
    tokio::time::timeout(TEST_LIMIT, script)
        .await
        .expect("server side in time")
        .unwrap();
}

#[tokio::test]
async fn a_refusal_before_welcome_is_a_typed_error() {
    let (endpoint, addr, pin) = pinned_server();
    let script = tokio::spawn(async move {
        let mut peer = Peer::accept(&endpoint).await;
        peer.read().await.expect("hello");
        peer.disconnect(DisconnectReason::SessionFull).await;
    });
    let err = tokio::time::timeout(
        TEST_LIMIT,
        client::connect(&info(addr, pin, "psess-1"), &ClientOptions::default()),
    )
    .await
    .unwrap()
    .expect_err("refused");
    assert!(
        matches!(err, ConnectError::Refused(DisconnectReason::SessionFull)),
        "{err:?}"
    );
    tokio::time::timeout(TEST_LIMIT, script)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_close_code_alone_gives_the_typed_reason() {
    let (endpoint, addr, pin) = pinned_server();
    let script = tokio::spawn(async move {
        let peer = Peer::admitted(&endpoint, 1).await;
        // Wait for the client's first input so it is surely in the match, then close
        // with the reason's code and no stream message.
        let _ = peer.datagram().await;
        let code = DisconnectReason::ServerShutdown.code();
        peer.conn.close(quinn::VarInt::from_u32(code), b"bye");
        endpoint.wait_idle().await;
    });
    let test = async {
        let session = client::connect(&info(addr, pin, "psess-1"), &ClientOptions::default())
            .await
            .expect("connect");
        session.send_inputs(InputFrame::default()).expect("inputs");
        assert_eq!(
            session.closed().await,
            CloseReason::Server(DisconnectReason::ServerShutdown)
        );
        assert_eq!(
            session.close_reason(),
            Some(CloseReason::Server(DisconnectReason::ServerShutdown))
        );
    };
    tokio::time::timeout(TEST_LIMIT, test).await.unwrap();
    tokio::time::timeout(TEST_LIMIT, script)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn leave_sends_leave_and_reports_the_servers_reason() {
    let (endpoint, addr, pin) = pinned_server();
    let script = tokio::spawn(async move {
        let mut peer = Peer::admitted(&endpoint, 1).await;
        let leave = peer.read().await;
        peer.disconnect(DisconnectReason::ClientLeft).await;
        leave
    });
    let test = async {
        let session = client::connect(&info(addr, pin, "psess-1"), &ClientOptions::default())
            .await
            .expect("connect");
        session.leave(TEST_LIMIT).await
    };
    let reason = tokio::time::timeout(TEST_LIMIT, test).await.unwrap();
    assert_eq!(reason, CloseReason::Server(DisconnectReason::ClientLeft));
    let leave = tokio::time::timeout(TEST_LIMIT, script)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(leave, Some(ClientMessage::Leave));
}

#[tokio::test]
async fn resume_reconnects_with_the_same_player_session() {
    let (endpoint, addr, pin) = pinned_server();
    let script = tokio::spawn(async move {
        let mut first = Peer::accept(&endpoint).await;
        let hello1 = first.read().await.expect("hello");
        first.send(&welcome(2, false)).await;
        // The client drops the connection.
        first.conn.closed().await;
        let mut second = Peer::accept(&endpoint).await;
        let hello2 = second.read().await.expect("hello again");
        second.send(&welcome(2, true)).await;
        second.disconnect(DisconnectReason::MatchEnded).await;
        (hello1, hello2)
    });
    let test = async {
        let info = info(addr, pin, "psess-9");
        let opts = ClientOptions::default();
        let session = client::connect(&info, &opts).await.expect("connect");
        drop(session);
        let again = client::resume(&info, &opts, Duration::from_secs(10))
            .await
            .expect("resume");
        assert!(again.resumed());
        assert_eq!(again.player(), 2);
        again.closed().await
    };
    let reason = tokio::time::timeout(TEST_LIMIT, test).await.unwrap();
    assert_eq!(reason, CloseReason::Server(DisconnectReason::MatchEnded));
    let (h1, h2) = tokio::time::timeout(TEST_LIMIT, script)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h1, h2, "the same Hello, with the same player session id");
}

#[tokio::test]
async fn resume_stops_at_once_on_an_expired_session() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (endpoint, addr, pin) = pinned_server();
    let refused = Arc::new(AtomicUsize::new(0));
    let counter = refused.clone();
    // Refuses every attempt; counts them before answering, so an attempt that resume
    // saw refused is always counted.
    let _script = tokio::spawn(async move {
        loop {
            let mut peer = Peer::accept(&endpoint).await;
            peer.read().await.expect("hello");
            counter.fetch_add(1, Ordering::SeqCst);
            peer.disconnect(DisconnectReason::ExpiredPlayerSession)
                .await;
        }
    });
    let err = tokio::time::timeout(
        TEST_LIMIT,
        client::resume(
            &info(addr, pin, "psess-1"),
            &ClientOptions::default(),
            Duration::from_secs(30),
        ),
    )
    .await
    .expect("returns long before the grace period")
    .expect_err("expired");
    assert!(matches!(
        err,
        ConnectError::Refused(DisconnectReason::ExpiredPlayerSession)
    ));
    assert_eq!(
        refused.load(Ordering::SeqCst),
        1,
        "no retry after a final refusal"
    );
}

#[tokio::test]
async fn resume_retries_a_duplicate_session_until_the_old_one_is_gone() {
    let (endpoint, addr, pin) = pinned_server();
    let script = tokio::spawn(async move {
        let mut first = Peer::accept(&endpoint).await;
        first.read().await.expect("hello");
        first
            .disconnect(DisconnectReason::DuplicatePlayerSession)
            .await;
        let mut second = Peer::accept(&endpoint).await;
        second.read().await.expect("hello");
        second.send(&welcome(4, true)).await;
        second.disconnect(DisconnectReason::MatchEnded).await;
    });
    let session = tokio::time::timeout(
        TEST_LIMIT,
        client::resume(
            &info(addr, pin, "psess-1"),
            &ClientOptions::default(),
            Duration::from_secs(10),
        ),
    )
    .await
    .unwrap()
    .expect("second attempt admitted");
    assert!(session.resumed());
    tokio::time::timeout(TEST_LIMIT, script)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn an_illegal_server_message_closes_with_illegal_message() {
    let (endpoint, addr, pin) = pinned_server();
    let script = tokio::spawn(async move {
        let mut peer = Peer::admitted(&endpoint, 1).await;
        // A second Welcome is not legal once in the match.
        peer.send(&welcome(1, false)).await;
        peer.conn.closed().await
    });
    let session = client::connect(&info(addr, pin, "psess-1"), &ClientOptions::default())
        .await
        .expect("connect");
    let reason = tokio::time::timeout(TEST_LIMIT, session.closed())
        .await
        .unwrap();
    assert!(
        matches!(&reason, CloseReason::Protocol(m) if m.contains("welcome")),
        "{reason:?}"
    );
    match tokio::time::timeout(TEST_LIMIT, script)
        .await
        .unwrap()
        .unwrap()
    {
        quinn::ConnectionError::ApplicationClosed(c) => assert_eq!(
            c.error_code.into_inner(),
            u64::from(DisconnectReason::IllegalMessage.code())
        ),
        other => panic!("expected the client to close with IllegalMessage: {other}"),
    }
}
