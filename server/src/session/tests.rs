//! Unit tests of the session core's internals, with virtual time.

use std::time::{Duration, Instant};

use protocol::game::{
    ClientMessage, DisconnectReason, Hello, Inputs, LeaveReason, PROTOCOL_VERSION, encode,
};

use super::{AcceptError, ConnId, Output, SessionConfig, Sessions};

fn hello(psess: &str) -> Vec<u8> {
    encode(&ClientMessage::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        player_session_id: psess.into(),
        name: "bo".into(),
    }))
    .expect("encodes")
}

fn drain(s: &mut Sessions) -> Vec<Output> {
    std::iter::from_fn(|| s.poll()).collect()
}

/// Connection `conn` says hello as `psess-{conn}` and GameLift accepts it: in the match.
fn admit(s: &mut Sessions, now: Instant, conn: u64) {
    s.handle_connected(now, ConnId(conn));
    s.handle_stream_bytes(now, ConnId(conn), &hello(&format!("psess-{conn}")));
    s.handle_accept_result(now, ConnId(conn), Ok(()));
    drain(s);
}

fn core(max_players: u8) -> (Sessions, Instant) {
    (
        Sessions::new(SessionConfig::default(), "gsess", max_players),
        Instant::now(),
    )
}

/// A hello split into one-byte pieces is reassembled (the first frame is read by hand).
#[test]
fn hello_byte_by_byte() {
    let (mut s, now) = core(4);
    s.handle_connected(now, ConnId(1));
    for b in hello("psess-1") {
        s.handle_stream_bytes(now, ConnId(1), &[b]);
    }
    assert!(matches!(drain(&mut s)[..], [Output::Accept { .. }]));
    assert_eq!(
        s.conn_state(ConnId(1)),
        Some(protocol::game::ConnState::Admitting)
    );
}

/// Hello and Leave in one chunk: the client leaves while GameLift decides; a late `Ok` is
/// undone with `RemovePlayerSession` and the id is used up.
#[test]
fn leave_while_admitting_then_late_ok() {
    let (mut s, now) = core(4);
    s.handle_connected(now, ConnId(1));
    let mut bytes = hello("psess-1");
    bytes.extend(encode(&ClientMessage::Leave).expect("encodes"));
    s.handle_stream_bytes(now, ConnId(1), &bytes);
    let out = drain(&mut s);
    assert!(matches!(out[0], Output::Accept { .. }));
    assert_eq!(
        out[1],
        Output::Close {
            conn: ConnId(1),
            reason: DisconnectReason::ClientLeft
        }
    );
    s.handle_accept_result(now, ConnId(1), Ok(()));
    assert_eq!(
        drain(&mut s),
        [Output::RemovePlayerSession {
            player_session_id: "psess-1".into()
        }]
    );
    assert!(s.slots.is_removed("psess-1"));
    assert_eq!(s.players(), 0);
}

/// A connection lost while its accept is in flight: the id stays "in use" (duplicate) until
/// the answer, and a late `Ok` is undone.
#[test]
fn lost_while_admitting() {
    let (mut s, now) = core(4);
    s.handle_connected(now, ConnId(1));
    s.handle_stream_bytes(now, ConnId(1), &hello("psess-1"));
    s.handle_conn_lost(now, ConnId(1));
    s.handle_connected(now, ConnId(2));
    s.handle_stream_bytes(now, ConnId(2), &hello("psess-1"));
    let out = drain(&mut s);
    assert_eq!(
        out.last(),
        Some(&Output::Close {
            conn: ConnId(2),
            reason: DisconnectReason::DuplicatePlayerSession
        })
    );
    s.handle_accept_result(now, ConnId(1), Ok(()));
    assert_eq!(
        drain(&mut s),
        [Output::RemovePlayerSession {
            player_session_id: "psess-1".into()
        }]
    );
    // An answer nobody asked for is ignored.
    s.handle_accept_result(now, ConnId(9), Err(AcceptError::Invalid));
    assert!(drain(&mut s).is_empty());
}

/// Player ids never handed out come first; a freed id is reused only when all are used.
#[test]
fn fresh_player_ids_first() {
    let (mut s, _) = core(4);
    assert_eq!(s.slots.allocate("a".into(), ConnId(1)), Some(0));
    assert_eq!(s.slots.allocate("b".into(), ConnId(2)), Some(1));
    s.slots.release(0);
    assert_eq!(s.slots.allocate("c".into(), ConnId(3)), Some(2));
    assert_eq!(s.slots.allocate("d".into(), ConnId(4)), Some(3));
    assert_eq!(s.slots.allocate("e".into(), ConnId(5)), Some(4));
    assert_eq!(s.slots.allocate("f".into(), ConnId(6)), None, "4 of 4 held");
}

/// In the match: a garbage datagram, or inputs with no frames, kick the player.
#[test]
fn bad_datagrams_in_match_kick() {
    let (mut s, now) = core(4);
    for (conn, bytes) in [
        (1, vec![0xFF, 0x00]),
        (
            2,
            encode(&ClientMessage::Inputs(Inputs {
                newest_seq: 1,
                frames: vec![],
                ack: None,
            }))
            .unwrap(),
        ),
        (3, vec![]),
    ] {
        admit(&mut s, now, conn);
        s.handle_datagram(now, ConnId(conn), &bytes);
        let out = drain(&mut s);
        assert_eq!(
            out[0],
            Output::Close {
                conn: ConnId(conn),
                reason: DisconnectReason::MalformedMessage
            }
        );
        assert!(matches!(
            out[1],
            Output::PlayerLeft {
                reason: LeaveReason::Kicked,
                ..
            }
        ));
    }
    // Datagrams after the close are ignored and counted.
    s.handle_datagram(now, ConnId(1), &[1, 2, 3]);
    assert!(drain(&mut s).is_empty());
    assert_eq!(s.stats().datagrams_ignored, 1);
}

/// A stream that ends in the middle of a frame is malformed.
#[test]
fn stream_finished_mid_frame() {
    let (mut s, now) = core(4);
    s.handle_connected(now, ConnId(1));
    s.handle_stream_bytes(now, ConnId(1), &hello("psess-1")[..3]);
    s.handle_stream_finished(now, ConnId(1));
    assert_eq!(
        drain(&mut s),
        [Output::Close {
            conn: ConnId(1),
            reason: DisconnectReason::MalformedMessage
        }]
    );
}

/// `close_all` closes everyone and removes every player session, dropped ones too,
/// without game events.
#[test]
fn close_all_removes_everyone() {
    let (mut s, now) = core(4);
    for conn in 1..=2 {
        s.handle_connected(now, ConnId(conn));
        s.handle_stream_bytes(now, ConnId(conn), &hello(&format!("psess-{conn}")));
        s.handle_accept_result(now, ConnId(conn), Ok(()));
    }
    s.handle_conn_lost(now, ConnId(2));
    drain(&mut s);
    s.close_all(now, DisconnectReason::MatchEnded);
    let out = drain(&mut s);
    assert_eq!(
        out,
        [
            Output::Close {
                conn: ConnId(1),
                reason: DisconnectReason::MatchEnded
            },
            Output::RemovePlayerSession {
                player_session_id: "psess-1".into()
            },
            Output::RemovePlayerSession {
                player_session_id: "psess-2".into()
            },
        ]
    );
    assert_eq!(s.players(), 0);
}

/// `poll_timeout` is the earliest of the hello deadlines and grace ends.
#[test]
fn poll_timeout_earliest() {
    let (mut s, t0) = core(4);
    assert_eq!(s.poll_timeout(), None);
    s.handle_connected(t0, ConnId(1));
    s.handle_stream_bytes(t0, ConnId(1), &hello("psess-1"));
    s.handle_accept_result(t0, ConnId(1), Ok(()));
    s.handle_conn_lost(t0, ConnId(1));
    let t1 = t0 + Duration::from_secs(1);
    s.handle_connected(t1, ConnId(2));
    assert_eq!(s.poll_timeout(), Some(t1 + Duration::from_secs(5)));
    s.handle_timeout(t1 + Duration::from_secs(5));
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(15)));
}

/// A short burst above the rate only drops; the bucket refills.
#[test]
fn burst_drops_without_closing() {
    let (mut s, now) = core(4);
    admit(&mut s, now, 1);
    let ack = encode(&ClientMessage::Ack(protocol::game::SnapshotAck { tick: 1 })).unwrap();
    for _ in 0..100 {
        s.handle_datagram(now, ConnId(1), &ack);
    }
    assert_eq!(drain(&mut s).len(), 60, "the burst allowance");
    assert_eq!(s.stats().datagrams_rate_dropped, 40);
    let later = now + Duration::from_millis(500);
    s.handle_datagram(later, ConnId(1), &ack);
    assert!(matches!(drain(&mut s)[..], [Output::Ack { .. }]));
}

/// `Inputs` that carry an ack hand the game the inputs, then the ack; without one, only
/// the inputs.
#[test]
fn inputs_carry_the_snapshot_ack() {
    let (mut s, now) = core(4);
    admit(&mut s, now, 1);
    let inputs = |ack| Inputs {
        newest_seq: 7,
        frames: vec![protocol::game::InputFrame::default()],
        ack,
    };
    s.handle_datagram(
        now,
        ConnId(1),
        &encode(&ClientMessage::Inputs(inputs(Some(41)))).unwrap(),
    );
    assert_eq!(
        drain(&mut s),
        [
            Output::Input {
                player: 0,
                inputs: inputs(Some(41))
            },
            Output::Ack {
                player: 0,
                tick: 41
            }
        ]
    );
    s.handle_datagram(
        now,
        ConnId(1),
        &encode(&ClientMessage::Inputs(inputs(None))).unwrap(),
    );
    assert_eq!(
        drain(&mut s),
        [Output::Input {
            player: 0,
            inputs: inputs(None)
        }]
    );
}
