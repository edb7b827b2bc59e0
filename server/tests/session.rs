//! Admission and bad-input scenarios for the session core (`server::session`), each
//! driven with virtual time: the test owns `now` and never sleeps.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use protocol::game::{
    ClientMessage, DisconnectReason, Hello, InputFrame, Inputs, LeaveReason, PROTOCOL_VERSION,
    SnapshotAck, encode,
};
use server::session::{AcceptError, ConnId, Output, PlayerId, SessionConfig, Sessions};

/// A core plus a virtual clock and helpers to speak the wire to it.
struct Harness {
    s: Sessions,
    now: Instant,
}

fn frame(msg: &ClientMessage) -> Vec<u8> {
    encode(msg).expect("encodes")
}

fn hello_bytes(version: u16, psess: &str) -> Vec<u8> {
    frame(&ClientMessage::Hello(Hello {
        protocol_version: version,
        player_session_id: psess.into(),
        name: "ann".into(),
    }))
}

fn inputs_bytes(seq: u32) -> Vec<u8> {
    frame(&ClientMessage::Inputs(Inputs {
        newest_seq: seq,
        frames: vec![InputFrame::default()],
        ack: None,
    }))
}

impl Harness {
    fn new(max_players: u8) -> Self {
        Self::with(SessionConfig::default(), max_players)
    }

    fn with(config: SessionConfig, max_players: u8) -> Self {
        Self {
            s: Sessions::new(config, "gsess-1", max_players),
            now: Instant::now(),
        }
    }

    fn drain(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.s.poll()).collect()
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.s.handle_timeout(self.now);
    }

    fn connect(&mut self, conn: u64) {
        self.s.handle_connected(self.now, ConnId(conn));
    }

    fn stream(&mut self, conn: u64, bytes: &[u8]) {
        self.s.handle_stream_bytes(self.now, ConnId(conn), bytes);
    }

    fn datagram(&mut self, conn: u64, bytes: &[u8]) {
        self.s.handle_datagram(self.now, ConnId(conn), bytes);
    }

    fn accept(&mut self, conn: u64, result: Result<(), AcceptError>) {
        self.s.handle_accept_result(self.now, ConnId(conn), result);
    }

    /// Connects `conn`, sends a hello for `psess` and has GameLift accept it.
    fn admit(&mut self, conn: u64, psess: &str) -> PlayerId {
        self.connect(conn);
        self.stream(conn, &hello_bytes(PROTOCOL_VERSION, psess));
        assert_eq!(
            self.drain(),
            [Output::Accept {
                conn: ConnId(conn),
                player_session_id: psess.into()
            }]
        );
        self.accept(conn, Ok(()));
        let out = self.drain();
        let Some(Output::Welcome {
            player,
            resumed: false,
            ..
        }) = out.first()
        else {
            panic!("no welcome: {out:?}");
        };
        *player
    }

    /// Sends `bytes` as `conn`'s first stream bytes and returns the close reason.
    fn first_bytes_close(&mut self, conn: u64, bytes: &[u8]) -> DisconnectReason {
        self.connect(conn);
        self.stream(conn, bytes);
        close_reason(&self.drain(), conn).expect("closed")
    }
}

fn close_reason(out: &[Output], conn: u64) -> Option<DisconnectReason> {
    out.iter().find_map(|o| match o {
        Output::Close { conn: c, reason } if *c == ConnId(conn) => Some(*reason),
        _ => None,
    })
}

/// Hello, then `Accept` asked of the shell, then `Welcome` and `PlayerJoined` only after
/// GameLift's `Ok`.
#[test]
fn happy_path_hello_accept_welcome() {
    let mut h = Harness::new(8);
    h.connect(1);
    h.stream(1, &hello_bytes(PROTOCOL_VERSION, "psess-a"));
    let out = h.drain();
    assert!(
        matches!(&out[..], [Output::Accept { player_session_id, .. }] if player_session_id == "psess-a")
    );
    assert_eq!(h.s.players(), 0, "no slot before GameLift says yes");
    h.accept(1, Ok(()));
    let out = h.drain();
    assert_eq!(
        out,
        [
            Output::Welcome {
                conn: ConnId(1),
                player: 0,
                resumed: false
            },
            Output::PlayerJoined {
                player: 0,
                name: "ann".into()
            },
        ]
    );
    h.datagram(1, &inputs_bytes(7));
    h.datagram(1, &frame(&ClientMessage::Ack(SnapshotAck { tick: 3 })));
    let out = h.drain();
    assert!(matches!(&out[0], Output::Input { player: 0, inputs } if inputs.newest_seq == 7));
    assert_eq!(out[1], Output::Ack { player: 0, tick: 3 });
}

/// A hello of another version closes with `VersionMismatch`, even when the rest of a
/// future hello does not parse with this version's layout.
#[test]
fn version_mismatch_including_unparsable_future_hello() {
    let mut h = Harness::new(8);
    assert_eq!(
        h.first_bytes_close(1, &hello_bytes(PROTOCOL_VERSION + 1, "psess-a")),
        DisconnectReason::VersionMismatch
    );
    // Tag 0, the next version, then bytes no current hello could hold (a 0xFF varint
    // marker).
    let future = u8::try_from(PROTOCOL_VERSION + 1).unwrap();
    assert!(future <= 250, "one-byte varint");
    let body = [0x00, future, 0xFF, 0xFF, 0xFF, 0x13, 0x37];
    let mut bytes = (body.len() as u32).to_le_bytes().to_vec();
    bytes.extend_from_slice(&body);
    assert_eq!(
        h.first_bytes_close(2, &bytes),
        DisconnectReason::VersionMismatch
    );
    assert_eq!(h.s.stats().closed(DisconnectReason::VersionMismatch), 2);
    assert_eq!(h.s.stats().accepts_requested, 0);
}

/// Garbage first bytes: a plausible length with junk is malformed; text (an HTTP request)
/// reads as a huge length and is too large; a zero length is malformed.
#[test]
fn garbage_first_bytes() {
    let mut h = Harness::new(8);
    let junk = [5, 0, 0, 0, 0x09, 0x42, 0x42, 0x42, 0x42];
    assert_eq!(
        h.first_bytes_close(1, &junk),
        DisconnectReason::MalformedMessage
    );
    assert_eq!(
        h.first_bytes_close(2, b"GET / HTTP/1.1\r\n"),
        DisconnectReason::MessageTooLarge
    );
    assert_eq!(
        h.first_bytes_close(3, &[0, 0, 0, 0]),
        DisconnectReason::MalformedMessage
    );
}

/// A frame header declaring more than 16 KiB closes before any body is read.
#[test]
fn oversize_frame() {
    let mut h = Harness::new(8);
    let header = (16 * 1024 + 1u32).to_le_bytes();
    assert_eq!(
        h.first_bytes_close(1, &header),
        DisconnectReason::MessageTooLarge
    );
    // The same after a hello, on the later-frames decoder.
    h.connect(2);
    h.stream(2, &hello_bytes(PROTOCOL_VERSION, "psess-b"));
    h.stream(2, &u32::MAX.to_le_bytes());
    assert_eq!(
        close_reason(&h.drain(), 2),
        Some(DisconnectReason::MessageTooLarge)
    );
}

/// No complete hello within 5 s closes with `HelloTimeout`; half a hello does not help.
#[test]
fn hello_timeout() {
    let mut h = Harness::new(8);
    h.connect(1);
    let hello = hello_bytes(PROTOCOL_VERSION, "psess-a");
    h.stream(1, &hello[..6]);
    assert_eq!(h.s.poll_timeout(), Some(h.now + Duration::from_secs(5)));
    h.advance(Duration::from_millis(4999));
    assert!(h.drain().is_empty());
    h.advance(Duration::from_millis(1));
    assert_eq!(
        close_reason(&h.drain(), 1),
        Some(DisconnectReason::HelloTimeout)
    );
}

/// Inputs before `Welcome` (waiting for hello or for GameLift) and a second hello are
/// illegal in their state.
#[test]
fn illegal_messages_in_state() {
    let mut h = Harness::new(8);
    h.connect(1);
    h.datagram(1, &inputs_bytes(1));
    assert_eq!(
        close_reason(&h.drain(), 1),
        Some(DisconnectReason::IllegalMessage)
    );

    h.connect(2);
    h.stream(2, &hello_bytes(PROTOCOL_VERSION, "psess-b"));
    h.drain();
    h.datagram(2, &inputs_bytes(1));
    assert_eq!(
        close_reason(&h.drain(), 2),
        Some(DisconnectReason::IllegalMessage)
    );

    h.connect(3);
    h.stream(3, &hello_bytes(PROTOCOL_VERSION, "psess-c"));
    h.stream(3, &hello_bytes(PROTOCOL_VERSION, "psess-c"));
    assert_eq!(
        close_reason(&h.drain(), 3),
        Some(DisconnectReason::IllegalMessage)
    );

    // In the match, a second hello kicks the player for good.
    h.admit(4, "psess-d");
    h.stream(4, &hello_bytes(PROTOCOL_VERSION, "psess-d"));
    let out = h.drain();
    assert_eq!(
        close_reason(&out, 4),
        Some(DisconnectReason::IllegalMessage)
    );
    assert!(out.contains(&Output::PlayerLeft {
        player: 0,
        reason: LeaveReason::Kicked
    }));
    assert!(out.contains(&Output::RemovePlayerSession {
        player_session_id: "psess-d".into()
    }));
    // A datagram-only message on the stream is illegal too.
    h.connect(5);
    h.stream(5, &hello_bytes(PROTOCOL_VERSION, "psess-e"));
    h.accept(5, Ok(()));
    h.drain();
    let mut on_stream = inputs_bytes(1);
    let len = on_stream.len() as u32;
    on_stream.splice(0..0, len.to_le_bytes());
    h.stream(5, &on_stream);
    assert_eq!(
        close_reason(&h.drain(), 5),
        Some(DisconnectReason::IllegalMessage)
    );
}

/// GameLift's refusals map to their reasons, and no slot is allocated.
#[test]
fn gamelift_refusal_and_expiry() {
    let mut h = Harness::new(8);
    for (conn, err, reason) in [
        (
            1,
            AcceptError::Invalid,
            DisconnectReason::InvalidPlayerSession,
        ),
        (
            2,
            AcceptError::Expired,
            DisconnectReason::ExpiredPlayerSession,
        ),
        (3, AcceptError::Unavailable, DisconnectReason::InternalError),
    ] {
        h.connect(conn);
        h.stream(
            conn,
            &hello_bytes(PROTOCOL_VERSION, &format!("psess-{conn}")),
        );
        h.drain();
        h.accept(conn, Err(err));
        assert_eq!(
            h.drain(),
            [Output::Close {
                conn: ConnId(conn),
                reason
            }]
        );
    }
    assert_eq!(h.s.players(), 0);
    assert_eq!(h.s.stats().accepts_failed, 3);
    // An id that cannot be a player session is refused without asking GameLift.
    assert_eq!(
        h.first_bytes_close(4, &hello_bytes(PROTOCOL_VERSION, "")),
        DisconnectReason::InvalidPlayerSession
    );
}

/// A player session live on one connection (or being admitted) is refused on another with
/// `DuplicatePlayerSession`; the first connection is unaffected.
#[test]
fn duplicate_live_session() {
    let mut h = Harness::new(8);
    h.admit(1, "psess-a");
    assert_eq!(
        h.first_bytes_close(2, &hello_bytes(PROTOCOL_VERSION, "psess-a")),
        DisconnectReason::DuplicatePlayerSession
    );
    h.datagram(1, &inputs_bytes(1));
    assert!(matches!(h.drain()[..], [Output::Input { player: 0, .. }]));
    h.connect(3);
    h.stream(3, &hello_bytes(PROTOCOL_VERSION, "psess-b"));
    h.drain();
    assert_eq!(
        h.first_bytes_close(4, &hello_bytes(PROTOCOL_VERSION, "psess-b")),
        DisconnectReason::DuplicatePlayerSession
    );
}

/// With every slot held or being admitted, a further hello gets `SessionFull`.
#[test]
fn session_full() {
    let mut h = Harness::new(2);
    h.admit(1, "psess-a");
    h.connect(2);
    h.stream(2, &hello_bytes(PROTOCOL_VERSION, "psess-b"));
    h.drain(); // admission in flight holds the last slot
    assert_eq!(
        h.first_bytes_close(3, &hello_bytes(PROTOCOL_VERSION, "psess-c")),
        DisconnectReason::SessionFull
    );
    h.accept(2, Ok(()));
    assert_eq!(h.s.players(), 2);
}

/// `Leave` removes the player for good; the same player session later is expired.
#[test]
fn leave_removes_player_session() {
    let mut h = Harness::new(8);
    let p = h.admit(1, "psess-a");
    h.stream(1, &frame(&ClientMessage::Leave));
    assert_eq!(
        h.drain(),
        [
            Output::Close {
                conn: ConnId(1),
                reason: DisconnectReason::ClientLeft
            },
            Output::PlayerLeft {
                player: p,
                reason: LeaveReason::Left
            },
            Output::RemovePlayerSession {
                player_session_id: "psess-a".into()
            },
        ]
    );
    h.s.handle_conn_lost(h.now, ConnId(1));
    assert!(h.drain().is_empty(), "a closed player is not dropped again");
    assert_eq!(
        h.first_bytes_close(2, &hello_bytes(PROTOCOL_VERSION, "psess-a")),
        DisconnectReason::ExpiredPlayerSession
    );
}

/// A dropped player reconnecting within the grace takes the same slot back with
/// `resumed: true` and without a second `AcceptPlayerSession`.
#[test]
fn drop_then_reconnect_resumes_slot() {
    let mut h = Harness::new(8);
    h.admit(1, "psess-x");
    let p = h.admit(2, "psess-a");
    h.s.handle_conn_lost(h.now, ConnId(2));
    assert_eq!(h.drain(), [Output::PlayerDropped { player: p }]);
    assert_eq!(h.s.players(), 2, "slot held");
    h.advance(Duration::from_secs(14));
    assert!(h.drain().is_empty());
    h.connect(3);
    h.stream(3, &hello_bytes(PROTOCOL_VERSION, "psess-a"));
    assert_eq!(
        h.drain(),
        [
            Output::Welcome {
                conn: ConnId(3),
                player: p,
                resumed: true
            },
            Output::PlayerReturned { player: p },
        ]
    );
    assert_eq!(h.s.stats().accepts_requested, 2);
    h.advance(Duration::from_secs(30));
    h.datagram(3, &inputs_bytes(9));
    assert!(matches!(h.drain()[..], [Output::Input { player, .. }] if player == p));
}

/// After the grace runs out the player times out and is removed; the id is then expired.
#[test]
fn drop_then_grace_expiry_removes() {
    let mut h = Harness::new(8);
    let p = h.admit(1, "psess-a");
    h.s.handle_conn_lost(h.now, ConnId(1));
    h.drain();
    assert_eq!(h.s.poll_timeout(), Some(h.now + Duration::from_secs(15)));
    h.advance(Duration::from_secs(15));
    assert_eq!(
        h.drain(),
        [
            Output::PlayerLeft {
                player: p,
                reason: LeaveReason::TimedOut
            },
            Output::RemovePlayerSession {
                player_session_id: "psess-a".into()
            },
        ]
    );
    assert_eq!(h.s.players(), 0);
    assert_eq!(
        h.first_bytes_close(2, &hello_bytes(PROTOCOL_VERSION, "psess-a")),
        DisconnectReason::ExpiredPlayerSession
    );
}

/// Past the pending cap new connections are refused at once; admitted players keep
/// playing, and the cap frees up when the silent connections time out.
#[test]
fn hello_flood_refused_players_unaffected() {
    let config = SessionConfig {
        max_pending: 4,
        ..SessionConfig::default()
    };
    let mut h = Harness::with(config, 8);
    h.admit(1, "psess-a");
    h.admit(2, "psess-b");
    for conn in 100..110 {
        h.connect(conn);
    }
    let refused: Vec<_> = h.drain();
    assert_eq!(refused.len(), 6);
    assert!(refused.iter().all(|o| matches!(o, Output::Refuse { .. })));
    assert!(h.s.is_pending_full());
    for seq in 0..30 {
        h.now += Duration::from_millis(33);
        h.datagram(1, &inputs_bytes(seq));
        h.datagram(2, &inputs_bytes(seq));
    }
    let inputs = h.drain();
    assert_eq!(inputs.len(), 60);
    assert!(inputs.iter().all(|o| matches!(o, Output::Input { .. })));
    h.advance(Duration::from_secs(5));
    assert_eq!(h.drain().len(), 4, "four hello timeouts");
    h.admit(3, "psess-c");
    assert_eq!(h.s.stats().refused_pending_cap, 6);
}

/// A burst above the rate is dropped and counted; sustained abuse closes with
/// `RateLimited`; a client at the normal rate is never touched.
#[test]
fn input_flood_dropped_then_rate_limited() {
    let mut h = Harness::new(8);
    let honest = h.admit(1, "psess-a");
    h.admit(2, "psess-b");
    // The honest client sends inputs + acks at 30 Hz, the hostile one 1,000 inputs/s.
    let mut closed = None;
    for ms in 0..4000u32 {
        h.now += Duration::from_millis(1);
        if ms % 33 == 0 {
            h.datagram(1, &inputs_bytes(ms));
            h.datagram(1, &frame(&ClientMessage::Ack(SnapshotAck { tick: ms })));
        }
        h.datagram(2, &inputs_bytes(ms));
        let out = h.drain();
        if let Some(reason) = close_reason(&out, 2) {
            closed.get_or_insert((ms, reason));
        }
        assert!(close_reason(&out, 1).is_none());
    }
    let (at, reason) = closed.expect("hostile closed");
    assert_eq!(reason, DisconnectReason::RateLimited);
    assert!(
        (2000..3100).contains(&at),
        "closed after ~3 abusive seconds, at {at} ms"
    );
    assert!(h.s.stats().datagrams_rate_dropped > 1500);
    assert_eq!(h.s.player_of(ConnId(1)), Some(honest));
    assert_eq!(h.s.player_of(ConnId(2)), None);
}

/// One step of the fuzz scenario.
#[derive(Debug, Clone)]
enum Op {
    Connect(u8),
    Stream(u8, Vec<u8>),
    Hello(u8, u8),
    Datagram(u8, Vec<u8>),
    Refuse(u8, u8),
    AcceptOk(u8),
    Lost(u8),
    Advance(u16),
}

fn op() -> impl Strategy<Value = Op> {
    let conn = 0u8..12;
    let bytes = |n| proptest::collection::vec(any::<u8>(), 0..n);
    prop_oneof![
        conn.clone().prop_map(Op::Connect),
        (conn.clone(), bytes(64)).prop_map(|(c, b)| Op::Stream(c, b)),
        (conn.clone(), 0u8..6).prop_map(|(c, p)| Op::Hello(c, p)),
        (conn.clone(), bytes(32)).prop_map(|(c, b)| Op::Datagram(c, b)),
        (conn.clone(), 0u8..3).prop_map(|(c, e)| Op::Refuse(c, e)),
        conn.clone().prop_map(Op::AcceptOk),
        conn.prop_map(Op::Lost),
        (0u16..20_000).prop_map(Op::Advance),
    ]
}

/// Runs `ops`; with `allow_ok` false no accept ever succeeds. Checks after every step that
/// the core never grants a fresh slot to a connection without an `Ok` for it, resumes only
/// when someone was welcomed before, and never exceeds its slots.
fn run(ops: Vec<Op>, allow_ok: bool) {
    let config = SessionConfig {
        max_pending: 6,
        ..SessionConfig::default()
    };
    let mut h = Harness::with(config, 4);
    let mut ok_given: HashSet<u64> = HashSet::new();
    let mut welcomed = 0usize;
    for op in ops {
        match op {
            Op::Connect(c) => h.connect(c.into()),
            Op::Stream(c, b) => h.stream(c.into(), &b),
            Op::Hello(c, p) => h.stream(
                c.into(),
                &hello_bytes(PROTOCOL_VERSION, &format!("psess-{p}")),
            ),
            Op::Datagram(c, b) => h.datagram(c.into(), &b),
            Op::Refuse(c, e) => {
                let err = [
                    AcceptError::Invalid,
                    AcceptError::Expired,
                    AcceptError::Unavailable,
                ];
                h.accept(c.into(), Err(err[usize::from(e)]));
            }
            Op::AcceptOk(c) if allow_ok => {
                ok_given.insert(c.into());
                h.accept(c.into(), Ok(()));
            }
            Op::AcceptOk(_) => {}
            Op::Lost(c) => h.s.handle_conn_lost(h.now, ConnId(c.into())),
            Op::Advance(ms) => h.advance(Duration::from_millis(ms.into())),
        }
        for out in h.drain() {
            match out {
                Output::Welcome {
                    conn,
                    resumed: false,
                    ..
                } => {
                    assert!(
                        ok_given.contains(&conn.0),
                        "slot granted without Ok: {conn:?}"
                    );
                    welcomed += 1;
                }
                Output::Welcome { resumed: true, .. } => assert!(welcomed > 0),
                Output::PlayerJoined { .. } => assert!(allow_ok),
                _ => {}
            }
        }
        assert!(h.s.players() <= 4);
    }
    if !allow_ok {
        assert_eq!(h.s.players(), 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes and events from many connections never panic and never grant a slot
    /// when GameLift never says yes.
    #[test]
    fn fuzz_never_grants_without_ok(ops in proptest::collection::vec(op(), 0..80)) {
        run(ops, false);
    }

    /// With some `Ok`s mixed in, every fresh slot follows an `Ok` for its connection.
    #[test]
    fn fuzz_slots_only_after_ok(ops in proptest::collection::vec(op(), 0..80)) {
        run(ops, true);
    }
}
