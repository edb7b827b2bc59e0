//! The game wire: every message round-trips through its channel, arbitrary bytes never
//! panic the decoder, and oversized, truncated, trailing, over-cap, unknown-tag and
//! wrong-channel input each gets its typed error.

use proptest::collection::vec;
use proptest::prelude::*;
use protocol::game::*;

// ---------- strategies ----------

fn name(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-zA-Z0-9 _\\-é]{{0,{}}}", max / 2))
        .expect("valid regex")
}

fn hello() -> impl Strategy<Value = Hello> {
    (
        any::<u16>(),
        name(MAX_PLAYER_SESSION_ID_LEN),
        name(MAX_NAME_LEN),
    )
        .prop_map(|(protocol_version, player_session_id, name)| Hello {
            protocol_version,
            player_session_id,
            name,
        })
}

fn input_frame() -> impl Strategy<Value = InputFrame> {
    (any::<i8>(), any::<i8>(), any::<u8>()).prop_map(|(move_x, move_y, buttons)| InputFrame {
        move_x,
        move_y,
        buttons,
    })
}

fn client_message() -> impl Strategy<Value = ClientMessage> {
    prop_oneof![
        hello().prop_map(ClientMessage::Hello),
        (
            any::<u32>(),
            vec(input_frame(), 1..=MAX_INPUT_FRAMES),
            any::<Option<u32>>()
        )
            .prop_map(|(newest_seq, frames, ack)| ClientMessage::Inputs(Inputs {
                newest_seq,
                frames,
                ack
            })),
        any::<u32>().prop_map(|tick| ClientMessage::Ack(SnapshotAck { tick })),
        Just(ClientMessage::Leave),
    ]
}

fn phase() -> impl Strategy<Value = Phase> {
    prop_oneof![
        Just(Phase::WaitingForPlayers),
        Just(Phase::Countdown),
        Just(Phase::Playing),
        Just(Phase::Ended)
    ]
}

fn player_state() -> impl Strategy<Value = PlayerState> {
    (
        0..64u8,
        any::<i32>(),
        any::<i32>(),
        any::<i16>(),
        any::<i16>(),
        any::<u32>(),
        any::<u8>(),
    )
        .prop_map(|(id, x, y, vx, vy, score, flags)| PlayerState {
            id,
            x,
            y,
            vx,
            vy,
            score,
            flags,
        })
}

fn player_delta() -> impl Strategy<Value = PlayerDelta> {
    (
        0..64u8,
        any::<Option<i32>>(),
        any::<Option<i32>>(),
        any::<Option<i16>>(),
        any::<Option<i16>>(),
        any::<Option<u32>>(),
        any::<Option<u8>>(),
    )
        .prop_map(|(id, x, y, vx, vy, score, flags)| PlayerDelta {
            id,
            x,
            y,
            vx,
            vy,
            score,
            flags,
        })
}

fn item_state() -> impl Strategy<Value = ItemState> {
    (
        any::<u16>(),
        -100_000..100_000i32,
        -100_000..100_000i32,
        any::<u16>(),
    )
        .prop_map(|(id, x, y, value)| ItemState { id, x, y, value })
}

/// Snapshots sized so they fit a datagram (the game keeps them there; see the cap tests).
fn snapshot() -> impl Strategy<Value = Snapshot> {
    (
        any::<u32>(),
        proptest::option::of(any::<u32>()),
        any::<u32>(),
        phase(),
        any::<u32>(),
        vec(player_state(), 0..16),
        vec(0..64u8, 0..8),
        vec(item_state(), 0..24),
        vec(any::<u16>(), 0..16),
        vec(player_delta(), 0..12),
    )
        .prop_map(
            |(tick, baseline, last_input_seq, phase, ends, players, rp, items, ri, deltas)| {
                Snapshot {
                    tick,
                    baseline,
                    last_input_seq,
                    phase: PhaseState {
                        phase,
                        ends_at_tick: ends,
                    },
                    players,
                    player_deltas: deltas,
                    removed_players: rp,
                    items,
                    removed_items: ri,
                }
            },
        )
}

fn match_params() -> impl Strategy<Value = MatchParams> {
    (
        name(MAX_GAME_SESSION_ID_LEN),
        name(MAX_NAME_LEN),
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
        any::<u32>(),
        any::<u64>(),
    )
        .prop_map(|(g, m, t, w, h, teams, maxp, d, s, seed)| MatchParams {
            game_session_id: g,
            mode: m,
            tick_rate_hz: t,
            map_width: w,
            map_height: h,
            teams,
            max_players: maxp,
            duration_ticks: d,
            score_limit: s,
            seed,
        })
}

fn standing() -> impl Strategy<Value = Standing> {
    (
        any::<u8>(),
        proptest::option::of(any::<u8>()),
        any::<u8>(),
        any::<u32>(),
        any::<bool>(),
    )
        .prop_map(|(player, team, placement, score, left_early)| Standing {
            player,
            team,
            placement,
            score,
            left_early,
        })
}

fn event_kind() -> impl Strategy<Value = EventKind> {
    let leave = prop_oneof![
        Just(LeaveReason::Left),
        Just(LeaveReason::Dropped),
        Just(LeaveReason::TimedOut),
        Just(LeaveReason::Kicked)
    ];
    let end = prop_oneof![
        Just(EndReason::TimeUp),
        Just(EndReason::ScoreLimit),
        Just(EndReason::NotEnoughPlayers),
        Just(EndReason::ServerShutdown)
    ];
    prop_oneof![
        (
            any::<u8>(),
            name(MAX_NAME_LEN),
            proptest::option::of(any::<u8>())
        )
            .prop_map(|(player, name, team)| EventKind::PlayerJoined {
                player,
                name,
                team
            }),
        (any::<u8>(), leave).prop_map(|(player, reason)| EventKind::PlayerLeft { player, reason }),
        any::<u8>().prop_map(|player| EventKind::PlayerReturned { player }),
        any::<u32>().prop_map(|starts_at_tick| EventKind::Countdown { starts_at_tick }),
        any::<u32>().prop_map(|ends_at_tick| EventKind::MatchStarted { ends_at_tick }),
        (any::<u8>(), any::<u8>(), any::<u16>())
            .prop_map(|(by, target, points)| EventKind::Tagged { by, target, points }),
        (any::<u8>(), any::<u16>(), any::<u16>()).prop_map(|(player, item, points)| {
            EventKind::ItemCollected {
                player,
                item,
                points,
            }
        }),
        (end, vec(standing(), 0..=MAX_PLAYERS))
            .prop_map(|(reason, standings)| EventKind::MatchEnded { reason, standings }),
    ]
}

fn server_message() -> impl Strategy<Value = ServerMessage> {
    prop_oneof![
        (
            any::<u16>(),
            any::<u8>(),
            any::<bool>(),
            any::<u32>(),
            match_params()
        )
            .prop_map(|(protocol_version, player, resumed, tick, params)| {
                ServerMessage::Welcome(Welcome {
                    protocol_version,
                    player,
                    resumed,
                    tick,
                    params,
                })
            }),
        snapshot().prop_map(ServerMessage::Snapshot),
        (any::<u32>(), event_kind())
            .prop_map(|(tick, kind)| ServerMessage::Event(Event { tick, kind })),
        proptest::sample::select(DisconnectReason::ALL.to_vec())
            .prop_map(|reason| ServerMessage::Disconnect(Disconnect { reason })),
    ]
}

// ---------- helpers ----------

/// Decodes what `encode` produced, through the channel the message uses; stream bytes are
/// fed in chunks of `chunk` bytes to exercise reassembly.
fn roundtrip<M: Message + Clone + PartialEq + std::fmt::Debug>(msg: &M, chunk: usize) -> M {
    let bytes = encode(msg).expect("encodes");
    match msg.channel() {
        Channel::Datagram => decode_datagram(&bytes).expect("decodes"),
        Channel::Stream => {
            let mut dec = StreamDecoder::<M>::new();
            let mut out = None;
            for piece in bytes.chunks(chunk.max(1)) {
                let mut rest = piece;
                while !rest.is_empty() {
                    if let Some(m) = dec.feed(&mut rest).expect("decodes") {
                        assert!(out.is_none(), "one frame yields one message");
                        out = Some(m);
                    }
                }
            }
            dec.finish().expect("no partial frame left");
            out.expect("a whole frame was fed")
        }
    }
}

fn payload<M: Message>(msg: &M) -> Vec<u8> {
    let bytes = encode(msg).expect("encodes");
    match msg.channel() {
        Channel::Datagram => bytes,
        Channel::Stream => bytes[FRAME_HEADER_LEN..].to_vec(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn client_messages_roundtrip(msg in client_message(), chunk in 1usize..64) {
        prop_assert_eq!(roundtrip(&msg, chunk), msg);
    }

    #[test]
    fn server_messages_roundtrip(msg in server_message(), chunk in 1usize..64) {
        prop_assert_eq!(roundtrip(&msg, chunk), msg);
    }

    #[test]
    fn arbitrary_datagrams_never_panic(bytes in vec(any::<u8>(), 0..1400)) {
        let c = decode_datagram::<ClientMessage>(&bytes);
        let s = decode_datagram::<ServerMessage>(&bytes);
        if bytes.len() > MAX_DATAGRAM_SIZE {
            prop_assert!(matches!(c, Err(DecodeError::TooLarge { .. })), "client: {:?}", c);
            prop_assert!(matches!(s, Err(DecodeError::TooLarge { .. })), "server: {:?}", s);
        }
    }

    #[test]
    fn arbitrary_streams_never_panic(bytes in vec(any::<u8>(), 0..4096), chunk in 1usize..512) {
        let mut client = StreamDecoder::<ClientMessage>::new();
        let mut server = StreamDecoder::<ServerMessage>::new();
        let (mut c_dead, mut s_dead) = (false, false);
        for piece in bytes.chunks(chunk) {
            let mut rest = piece;
            while !c_dead && !rest.is_empty() {
                c_dead = client.feed(&mut rest).is_err();
            }
            let mut rest = piece;
            while !s_dead && !rest.is_empty() {
                s_dead = server.feed(&mut rest).is_err();
            }
        }
    }

    /// Every strict prefix of a valid message is reported as truncated (or empty), never
    /// accepted as some other message.
    #[test]
    fn prefixes_are_truncated(msg in server_message(), cut in any::<prop::sample::Index>()) {
        let full = payload(&msg);
        let at = cut.index(full.len());
        let err = match msg.channel() {
            Channel::Datagram => decode_datagram::<ServerMessage>(&full[..at]).unwrap_err(),
            Channel::Stream => decode_stream_payload::<ServerMessage>(&full[..at]).unwrap_err(),
        };
        if at == 0 {
            prop_assert_eq!(err, DecodeError::Empty);
        } else {
            prop_assert_eq!(err, DecodeError::Truncated);
        }
    }

    #[test]
    fn trailing_bytes_are_rejected(msg in client_message(), extra in vec(any::<u8>(), 1..8)) {
        let mut bytes = payload(&msg);
        bytes.extend_from_slice(&extra);
        let res = match msg.channel() {
            Channel::Datagram => decode_datagram::<ClientMessage>(&bytes),
            Channel::Stream => decode_stream_payload::<ClientMessage>(&bytes),
        };
        prop_assert_eq!(res, Err(DecodeError::TrailingBytes { extra: extra.len() }));
    }
}

// ---------- examples ----------

fn hello_msg(id: &str) -> ClientMessage {
    ClientMessage::Hello(Hello {
        protocol_version: PROTOCOL_VERSION,
        player_session_id: id.into(),
        name: "ann".into(),
    })
}

/// The exact bytes documented in `protocol/docs/wire-format.md`; a client in another
/// language can test against them.
#[test]
fn golden_bytes_match_the_wire_format_document() {
    let hello = encode(&hello_msg("psess-1")).unwrap();
    assert_eq!(
        hex(&hello),
        "0e000000 00 03 07 70736573732d31 03 616e6e".replace(' ', "")
    );
    let inputs = encode(&ClientMessage::Inputs(Inputs {
        newest_seq: 300,
        frames: vec![
            InputFrame {
                move_x: -1,
                move_y: 127,
                buttons: buttons::TAG,
            },
            InputFrame {
                move_x: 0,
                move_y: 0,
                buttons: 0,
            },
        ],
        ack: Some(299),
    }))
    .unwrap();
    assert_eq!(hex(&inputs), "01fb2c0102ff7f0100000001fb2b01");
    let ack = encode(&ClientMessage::Ack(SnapshotAck { tick: 251 })).unwrap();
    assert_eq!(hex(&ack), "02fbfb00");
    let bye = encode(&ServerMessage::Disconnect(Disconnect {
        reason: DisconnectReason::SessionFull,
    }))
    .unwrap();
    assert_eq!(hex(&bye), "020000000305");
    let delta = encode(&ServerMessage::Snapshot(golden_delta())).unwrap();
    assert_eq!(
        hex(&delta),
        "01 fb2c01 01fb2b01 07 02fb2823 00 01 03 06 03 02 01 05 00 00".replace(' ', "")
    );
}

/// The delta snapshot of wire-format.md §6: player 3 moved as predicted in x, 1 mm off
/// the prediction downwards in y, and sped up by 1 mm/tick in x; player 5 left.
fn golden_delta() -> Snapshot {
    Snapshot {
        tick: 300,
        baseline: Some(299),
        last_input_seq: 7,
        phase: PhaseState {
            phase: Phase::Playing,
            ends_at_tick: 9_000,
        },
        players: vec![],
        player_deltas: vec![PlayerDelta {
            id: 3,
            y: Some(-2),
            vx: Some(1),
            ..PlayerDelta::default()
        }],
        removed_players: vec![5],
        items: vec![],
        removed_items: vec![],
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A snapshot with every list at its cap and every value at its smallest encoding: the
/// most decode budget (in-memory bytes bincode claims) per wire byte. Before the budget
/// was separated from the wire limit, a full snapshot of 64 players failed to decode on
/// the client with `LimitExceeded` (found by `server/benches/session`).
#[test]
fn a_full_snapshot_of_every_player_and_item_decodes() {
    let snap = Snapshot {
        tick: 1,
        baseline: None,
        last_input_seq: 0,
        phase: PhaseState {
            phase: Phase::Playing,
            ends_at_tick: 0,
        },
        players: (0..MAX_PLAYERS as u8)
            .map(|id| PlayerState {
                id,
                x: 0,
                y: 0,
                vx: 0,
                vy: 0,
                score: 0,
                flags: 0,
            })
            .collect(),
        player_deltas: Vec::new(),
        removed_players: Vec::new(),
        items: (0..MAX_SNAPSHOT_ITEMS as u16)
            .map(|id| ItemState {
                id,
                x: 0,
                y: 0,
                value: 0,
            })
            .collect(),
        removed_items: Vec::new(),
    };
    let msg = ServerMessage::Snapshot(snap);
    let bytes = encode(&msg).expect("fits a datagram");
    assert!(bytes.len() <= MAX_DATAGRAM_SIZE);
    assert_eq!(decode_datagram::<ServerMessage>(&bytes), Ok(msg));
}

#[test]
fn oversized_datagram_is_rejected_before_decoding() {
    let bytes = vec![2u8; MAX_DATAGRAM_SIZE + 1];
    assert_eq!(
        decode_datagram::<ClientMessage>(&bytes),
        Err(DecodeError::TooLarge {
            size: MAX_DATAGRAM_SIZE + 1,
            limit: MAX_DATAGRAM_SIZE
        })
    );
}

#[test]
fn oversized_frame_is_rejected_from_its_header_alone() {
    let mut dec = StreamDecoder::<ClientMessage>::new();
    let header = u32::try_from(MAX_STREAM_MESSAGE_SIZE + 1)
        .unwrap()
        .to_le_bytes();
    let mut input = &header[..];
    assert_eq!(
        dec.feed(&mut input),
        Err(DecodeError::TooLarge {
            size: MAX_STREAM_MESSAGE_SIZE + 1,
            limit: MAX_STREAM_MESSAGE_SIZE
        })
    );
    let mut empty = StreamDecoder::<ClientMessage>::new();
    let mut zero = &[0u8, 0, 0, 0][..];
    assert_eq!(empty.feed(&mut zero), Err(DecodeError::Empty));
}

#[test]
fn stream_cut_mid_frame_is_truncated() {
    let bytes = encode(&hello_msg("psess-1")).unwrap();
    let mut dec = StreamDecoder::<ClientMessage>::new();
    let mut part = &bytes[..bytes.len() - 1];
    assert_eq!(dec.feed(&mut part), Ok(None));
    assert!(dec.is_mid_frame());
    assert_eq!(dec.finish(), Err(DecodeError::Truncated));
}

#[test]
fn several_frames_in_one_chunk_come_out_in_order() {
    let mut bytes = encode(&hello_msg("a")).unwrap();
    bytes.extend(encode(&ClientMessage::Leave).unwrap());
    let mut dec = StreamDecoder::<ClientMessage>::new();
    let mut input = &bytes[..];
    assert_eq!(dec.feed(&mut input), Ok(Some(hello_msg("a"))));
    assert_eq!(dec.feed(&mut input), Ok(Some(ClientMessage::Leave)));
    assert!(input.is_empty());
    assert_eq!(dec.finish(), Ok(()));
}

#[test]
fn messages_on_the_wrong_channel_are_rejected() {
    let ack = encode(&ClientMessage::Ack(SnapshotAck { tick: 1 })).unwrap();
    assert_eq!(
        decode_stream_payload::<ClientMessage>(&ack),
        Err(DecodeError::WrongChannel {
            kind: "ack",
            got: Channel::Stream
        })
    );
    let hello = payload(&hello_msg("p"));
    let err = decode_datagram::<ClientMessage>(&hello).unwrap_err();
    assert_eq!(err.disconnect_reason(), DisconnectReason::IllegalMessage);
}

#[test]
fn unknown_tags_are_malformed() {
    let err = decode_datagram::<ClientMessage>(&[9]).unwrap_err();
    assert!(
        matches!(&err, DecodeError::Malformed { detail } if detail.contains("variant index")),
        "{err:?}"
    );
}

#[test]
fn field_caps_hold_on_both_sides() {
    // Encoding refuses what the peer would refuse.
    let long = "x".repeat(MAX_PLAYER_SESSION_ID_LEN + 1);
    assert!(matches!(
        encode(&hello_msg(&long)),
        Err(EncodeError::FieldCap { kind: "hello", .. })
    ));
    let too_many = ClientMessage::Inputs(Inputs {
        newest_seq: 0,
        frames: vec![InputFrame::default(); MAX_INPUT_FRAMES + 1],
        ack: None,
    });
    assert!(matches!(
        encode(&too_many),
        Err(EncodeError::FieldCap { .. })
    ));

    // Decoding refuses a list longer than its cap, even with the bytes present.
    let mut bytes = vec![1u8, 0, u8::try_from(MAX_INPUT_FRAMES + 1).unwrap()];
    bytes.extend(std::iter::repeat_n(0u8, 3 * (MAX_INPUT_FRAMES + 1)));
    assert!(matches!(
        decode_datagram::<ClientMessage>(&bytes),
        Err(DecodeError::Malformed { .. })
    ));
    // ... and a string longer than its cap.
    let mut hello = vec![0u8, 1, 251];
    hello.extend(
        u16::try_from(MAX_PLAYER_SESSION_ID_LEN + 1)
            .unwrap()
            .to_le_bytes(),
    );
    hello.extend(std::iter::repeat_n(b'x', MAX_PLAYER_SESSION_ID_LEN + 1));
    hello.push(0);
    assert!(matches!(
        decode_stream_payload::<ClientMessage>(&hello),
        Err(DecodeError::Malformed { .. })
    ));
}

#[test]
fn invalid_utf8_and_bools_are_malformed() {
    // Hello with a 1-byte session id that is not UTF-8.
    let bad_utf8 = [0u8, 1, 1, 0xff, 0];
    assert!(matches!(
        decode_stream_payload::<ClientMessage>(&bad_utf8),
        Err(DecodeError::Malformed { .. })
    ));
    // Disconnect is fine; a Welcome whose `resumed` bool is 2 is not.
    let mut welcome = payload(&ServerMessage::Welcome(Welcome {
        protocol_version: 1,
        player: 0,
        resumed: false,
        tick: 0,
        params: MatchParams {
            game_session_id: String::new(),
            mode: String::new(),
            tick_rate_hz: 30,
            map_width: 1,
            map_height: 1,
            teams: 0,
            max_players: 2,
            duration_ticks: 1,
            score_limit: 0,
            seed: 0,
        },
    }));
    welcome[3] = 2; // [tag, version, player, resumed, ...]
    assert!(matches!(
        decode_stream_payload::<ServerMessage>(&welcome),
        Err(DecodeError::Malformed { .. })
    ));
}

#[test]
fn a_full_snapshot_that_overflows_a_datagram_is_refused_by_the_encoder() {
    let players = (0..MAX_PLAYERS as u8)
        .map(|id| PlayerState {
            id,
            x: i32::MAX,
            y: i32::MIN,
            vx: i16::MAX,
            vy: i16::MIN,
            score: u32::MAX,
            flags: 0xff,
        })
        .collect();
    let snap = ServerMessage::Snapshot(Snapshot {
        tick: 1,
        baseline: None,
        last_input_seq: 0,
        phase: PhaseState {
            phase: Phase::Playing,
            ends_at_tick: 9,
        },
        players,
        player_deltas: vec![],
        removed_players: vec![],
        items: vec![],
        removed_items: vec![],
    });
    assert!(matches!(
        encode(&snap),
        Err(EncodeError::TooLarge {
            kind: "snapshot",
            limit: MAX_DATAGRAM_SIZE,
            ..
        })
    ));
}

#[test]
fn hello_version_can_be_read_from_any_future_hello() {
    let current = payload(&hello_msg("psess-1"));
    assert_eq!(peek_hello_version(&current), Some(PROTOCOL_VERSION));
    // A future version whose Hello has other fields after the version.
    let future = [0u8, 251, 0x10, 0x27, 0xde, 0xad];
    assert_eq!(peek_hello_version(&future), Some(10_000));
    assert_eq!(peek_hello_version(&[1, 0]), None, "not a hello");
    assert_eq!(peek_hello_version(&[]), None);
}

#[test]
fn disconnect_codes_are_stable() {
    for (i, r) in DisconnectReason::ALL.iter().enumerate() {
        assert_eq!(r.code() as usize, i);
        assert_eq!(DisconnectReason::from_code(r.code()), Some(*r));
        let bytes = encode(&ServerMessage::Disconnect(Disconnect { reason: *r })).unwrap();
        assert_eq!(
            u32::from(bytes[FRAME_HEADER_LEN + 1]),
            r.code(),
            "wire tag is the code"
        );
    }
    assert_eq!(
        DisconnectReason::from_code(DisconnectReason::ALL.len() as u32),
        None
    );
    assert_eq!(DisconnectReason::VersionMismatch.code(), 0);
    assert_eq!(DisconnectReason::InternalError.code(), 14);
}

#[test]
fn legality_table() {
    use ConnState::*;
    let hello = hello_msg("p");
    let inputs = ClientMessage::Inputs(Inputs {
        newest_seq: 1,
        frames: vec![InputFrame::default()],
        ack: None,
    });
    let ack = ClientMessage::Ack(SnapshotAck { tick: 1 });
    let leave = ClientMessage::Leave;
    let expect = [
        (AwaitingHello, [true, false, false, false]),
        (Admitting, [false, false, false, true]),
        (InMatch, [false, true, true, true]),
        (Closing, [false, false, false, false]),
    ];
    for (state, legal) in expect {
        for (msg, ok) in [&hello, &inputs, &ack, &leave].into_iter().zip(legal) {
            assert_eq!(
                check_client(state, msg).is_ok(),
                ok,
                "{state:?} {}",
                msg.kind()
            );
        }
    }
    let err = check_client(InMatch, &hello).unwrap_err();
    assert_eq!(
        err,
        IllegalMessage {
            kind: "hello",
            state: InMatch
        }
    );

    let snapshot = ServerMessage::Snapshot(Snapshot {
        tick: 0,
        baseline: None,
        last_input_seq: 0,
        phase: PhaseState {
            phase: Phase::WaitingForPlayers,
            ends_at_tick: 0,
        },
        players: vec![],
        player_deltas: vec![],
        removed_players: vec![],
        items: vec![],
        removed_items: vec![],
    });
    let event = ServerMessage::Event(Event {
        tick: 0,
        kind: EventKind::PlayerReturned { player: 0 },
    });
    let bye = ServerMessage::Disconnect(Disconnect {
        reason: DisconnectReason::MatchEnded,
    });
    for state in [AwaitingHello, Admitting, InMatch, Closing] {
        assert!(check_server(state, &bye).is_ok());
        assert_eq!(check_server(state, &snapshot).is_ok(), state == InMatch);
        assert_eq!(check_server(state, &event).is_ok(), state == InMatch);
    }
}

// ---------- player deltas ----------

proptest! {
    /// Any two player states, any tick distance: the delta between them applied to the
    /// first gives the second, bit for bit, also after a trip over the wire.
    #[test]
    fn player_deltas_are_exact(
        base in player_state(),
        target in player_state(),
        ticks in prop_oneof![0u32..8, any::<u32>()],
    ) {
        let d = PlayerDelta::between(&base, &target, ticks);
        prop_assert_eq!(d.apply(&base, ticks), target);
        let mut snap = golden_delta();
        snap.player_deltas = vec![d];
        let bytes = encode(&ServerMessage::Snapshot(snap.clone())).unwrap();
        prop_assert_eq!(decode_datagram::<ServerMessage>(&bytes), Ok(ServerMessage::Snapshot(snap)));
    }

    /// A player moving at its new velocity needs nothing for its position.
    #[test]
    fn steady_motion_costs_no_position_bytes(
        base in player_state(),
        vx in -2_000i16..2_000,
        vy in -2_000i16..2_000,
        ticks in 1u32..16,
    ) {
        let mut target = base;
        target.vx = vx;
        target.vy = vy;
        target.x = base.x.wrapping_add(i32::from(vx) * ticks as i32);
        target.y = base.y.wrapping_add(i32::from(vy) * ticks as i32);
        let d = PlayerDelta::between(&base, &target, ticks);
        prop_assert_eq!((d.x, d.y, d.score, d.flags), (None, None, None, None));
        prop_assert_eq!(d.mask() & !(delta_fields::VX | delta_fields::VY), 0);
    }
}

#[test]
fn unknown_delta_mask_bits_and_short_deltas_are_malformed() {
    let good = encode(&ServerMessage::Snapshot(golden_delta())).unwrap();
    // The mask byte of the golden delta is at offset 16 (see the golden bytes).
    assert_eq!(good[16], 0x06);
    for bad_mask in [0x40u8, 0x80, 0xc6] {
        let mut bad = good.clone();
        bad[16] = bad_mask;
        assert!(
            matches!(
                decode_datagram::<ServerMessage>(&bad),
                Err(DecodeError::Malformed { .. })
            ),
            "mask {bad_mask:#x}"
        );
    }
    // Announcing a field that is not there: the next bytes are read as it, and the
    // message ends early.
    let mut short = good.clone();
    short[16] = delta_fields::ALL;
    assert!(decode_datagram::<ServerMessage>(&short).is_err());
    // Too many deltas for the cap.
    let mut snap = golden_delta();
    snap.player_deltas = vec![PlayerDelta::default(); MAX_PLAYERS + 1];
    assert!(matches!(
        encode(&ServerMessage::Snapshot(snap)),
        Err(EncodeError::FieldCap { .. })
    ));
}

#[test]
fn deltas_apply_only_to_players_the_baseline_holds() {
    let p = PlayerState {
        id: 3,
        x: 1_000,
        y: 2_000,
        vx: 10,
        vy: 0,
        score: 4,
        flags: 1,
    };
    let base = WorldView {
        tick: 299,
        phase: PhaseState {
            phase: Phase::Playing,
            ends_at_tick: 9_000,
        },
        players: vec![p],
        items: vec![],
    };
    let view = apply_snapshot(Some(&base), &golden_delta()).unwrap();
    assert_eq!(
        view.players,
        [PlayerState {
            x: 1_011,
            y: 1_998,
            vx: 11,
            ..p
        }]
    );
    let mut other = base.clone();
    other.players[0].id = 4;
    assert_eq!(
        apply_snapshot(Some(&other), &golden_delta()),
        Err(ApplyError::NotInBaseline(3))
    );
    let mut full = golden_delta();
    full.baseline = None;
    assert_eq!(
        apply_snapshot(None, &full),
        Err(ApplyError::NotInBaseline(3))
    );
}

/// What applying a snapshot means, written the plain way (maps keyed by id): the library's
/// `apply_snapshot` must agree with it on any input, well-formed or not.
fn apply_by_maps(base: Option<&WorldView>, s: &Snapshot) -> Result<WorldView, ApplyError> {
    use std::collections::BTreeMap;
    let (mut players, mut items) = (BTreeMap::new(), BTreeMap::new());
    if let Some(wanted) = s.baseline {
        let base = base.ok_or(ApplyError::MissingBaseline(wanted))?;
        if base.tick != wanted {
            return Err(ApplyError::WrongBaseline {
                wanted,
                given: base.tick,
            });
        }
        players.extend(base.players.iter().map(|p| (p.id, *p)));
        items.extend(base.items.iter().map(|i| (i.id, *i)));
        for id in &s.removed_players {
            players.remove(id);
        }
        for id in &s.removed_items {
            items.remove(id);
        }
        let ticks = s.tick.wrapping_sub(wanted);
        for d in &s.player_deltas {
            let p = players
                .get_mut(&d.id)
                .ok_or(ApplyError::NotInBaseline(d.id))?;
            *p = d.apply(p, ticks);
        }
    } else if let Some(d) = s.player_deltas.first() {
        return Err(ApplyError::NotInBaseline(d.id));
    }
    players.extend(s.players.iter().map(|p| (p.id, *p)));
    items.extend(s.items.iter().map(|i| (i.id, *i)));
    Ok(WorldView {
        tick: s.tick,
        phase: s.phase,
        players: players.into_values().collect(),
        items: items.into_values().collect(),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Any baseline (ids in any order, repeated or not) and any snapshot against it, or a
    /// full one: the result, ascending by id, equals the map-based definition, errors too.
    #[test]
    fn apply_snapshot_agrees_with_the_map_definition(
        base_players in vec(player_state(), 0..64),
        base_items in vec(item_state().prop_map(|mut i| { i.id %= 96; i }), 0..128),
        mut snap in snapshot(),
        against_base in any::<bool>(),
    ) {
        let base = WorldView {
            tick: snap.tick.wrapping_sub(1),
            phase: snap.phase,
            players: base_players,
            items: base_items,
        };
        if against_base {
            snap.baseline = Some(base.tick);
        }
        for i in &mut snap.items {
            i.id %= 96;
        }
        for id in &mut snap.removed_items {
            *id %= 96;
        }
        let got = apply_snapshot(Some(&base), &snap);
        prop_assert_eq!(&got, &apply_by_maps(Some(&base), &snap));
        if let Ok(world) = got {
            prop_assert!(world.players.windows(2).all(|w| w[0].id < w[1].id));
            prop_assert!(world.items.windows(2).all(|w| w[0].id < w[1].id));
        }
    }
}

proptest! {
    /// A snapshot encoded once and completed per client with its input sequence number
    /// is byte for byte what encoding that client's own snapshot gives, including the
    /// sequence numbers whose varint is longer than the placeholder's one byte.
    #[test]
    fn shared_snapshot_encodes_as_each_clients_own(
        snap in snapshot(),
        seqs in vec(prop_oneof![0..251u32, 251..65_536u32, any::<u32>()], 1..8),
    ) {
        let own = |seq: u32| {
            let mut s = snap.clone();
            s.last_input_seq = seq;
            encode(&ServerMessage::Snapshot(s))
        };
        match SharedSnapshot::new(snap.clone()) {
            Ok(shared) => {
                for seq in seqs {
                    let ours = shared.encode_for(seq);
                    match own(seq) {
                        Ok(bytes) => prop_assert_eq!(ours.unwrap(), bytes),
                        Err(EncodeError::TooLarge { .. }) => {
                            let too_large = matches!(ours, Err(EncodeError::TooLarge { .. }));
                            prop_assert!(too_large);
                        }
                        Err(e) => prop_assert!(false, "{e}"),
                    }
                }
            }
            // Only a snapshot that does not fit even with a one-byte sequence number.
            Err(_) => prop_assert!(own(0).is_err()),
        }
    }
}

/// The boundaries of bincode's `u32` varint (1, 3 and 5 bytes) in a shared snapshot.
#[test]
fn shared_snapshot_sequence_numbers_at_the_varint_boundaries() {
    let snap = Snapshot {
        tick: 70_000,
        baseline: Some(69_990),
        last_input_seq: 7,
        phase: PhaseState {
            phase: Phase::Playing,
            ends_at_tick: 90_000,
        },
        players: Vec::new(),
        player_deltas: Vec::new(),
        removed_players: vec![3],
        items: Vec::new(),
        removed_items: vec![300],
    };
    let shared = SharedSnapshot::new(snap.clone()).unwrap();
    for seq in [0, 250, 251, 65_535, 65_536, u32::MAX] {
        let mut own = snap.clone();
        own.last_input_seq = seq;
        let bytes = shared.encode_for(seq).unwrap();
        assert_eq!(
            bytes,
            encode(&ServerMessage::Snapshot(own.clone())).unwrap()
        );
        assert_eq!(
            decode_datagram::<ServerMessage>(&bytes).unwrap(),
            ServerMessage::Snapshot(own)
        );
    }
}
