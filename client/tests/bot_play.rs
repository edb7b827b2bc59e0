//! `bot::play` driving a session against a scripted gls/1 server: it sends inputs from
//! the policy once a world view exists, and ends with the final standings' score.

mod common;

use std::time::Duration;

use client::{ClientOptions, CloseReason};
use common::{Peer, TEST_LIMIT, info, pinned_server, playing};
use protocol::game::{
    ClientMessage, DisconnectReason, EndReason, Event, EventKind, ItemState, PlayerState,
    ServerMessage, Snapshot, Standing, buttons, player_flags,
};

#[tokio::test]
async fn bot_plays_toward_the_item_and_reports_its_final_score() {
    let (endpoint, addr, pin) = pinned_server();
    let script = tokio::spawn(async move {
        let mut peer = Peer::admitted(&endpoint, 0).await;
        peer.snapshot(Snapshot {
            tick: 10,
            baseline: None,
            last_input_seq: 0,
            phase: playing(),
            players: vec![PlayerState {
                id: 0,
                x: 0,
                y: 0,
                vx: 0,
                vy: 0,
                score: 2,
                flags: player_flags::CONNECTED,
            }],
            player_deltas: vec![],
            removed_players: vec![],
            items: vec![ItemState {
                id: 1,
                x: 0,
                y: 9_000,
                value: 1,
            }],
            removed_items: vec![],
        });
        // The bot's inputs, once it holds the world, head for the item (straight up).
        let frame = loop {
            if let ClientMessage::Inputs(i) = peer.datagram().await {
                break i.frames[0];
            }
        };
        peer.send(&ServerMessage::Event(Event {
            tick: 11,
            kind: EventKind::MatchEnded {
                reason: EndReason::ScoreLimit,
                standings: vec![Standing {
                    player: 0,
                    team: None,
                    placement: 1,
                    score: 17,
                    left_early: false,
                }],
            },
        }))
        .await;
        peer.disconnect(DisconnectReason::MatchEnded).await;
        frame
    });
    let session = client::connect(&info(addr, pin, "psess-1"), &ClientOptions::default())
        .await
        .expect("connect");
    let outcome = tokio::time::timeout(
        TEST_LIMIT,
        client::bot::play(session, Duration::from_millis(5), TEST_LIMIT),
    )
    .await
    .expect("the bot stops when the match ends");
    assert_eq!(outcome.player, 0);
    assert_eq!(outcome.score, 17, "score from the final standings");
    assert_eq!(outcome.standings.map(|s| s.len()), Some(1));
    assert_eq!(
        outcome.close,
        CloseReason::Server(DisconnectReason::MatchEnded)
    );
    assert!(outcome.inputs_sent >= 1);
    let frame = tokio::time::timeout(TEST_LIMIT, script)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((frame.move_x, frame.move_y), (0, 127));
    assert_eq!(frame.buttons & buttons::TAG, 0);
}
