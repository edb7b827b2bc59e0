//! The sans-IO client state (redundancy window, baselines, acks, history), interpolation
//! and the bot policy, without sockets.

use client::bot::policy;
use client::{ClientState, SnapshotOutcome, interpolate};
use protocol::game::{
    InputFrame, ItemState, MAX_INPUT_FRAMES, Phase, PhaseState, PlayerState, Snapshot, SnapshotAck,
    WorldView, buttons, player_flags,
};

fn frame(x: i8) -> InputFrame {
    InputFrame {
        move_x: x,
        move_y: 0,
        buttons: 0,
    }
}

fn player(id: u8, x: i32, y: i32) -> PlayerState {
    PlayerState {
        id,
        x,
        y,
        vx: 0,
        vy: 0,
        score: 0,
        flags: player_flags::CONNECTED,
    }
}

fn item(id: u16, x: i32, y: i32) -> ItemState {
    ItemState { id, x, y, value: 1 }
}

fn phase() -> PhaseState {
    PhaseState {
        phase: Phase::Playing,
        ends_at_tick: 1_000,
    }
}

fn full(tick: u32, players: Vec<PlayerState>, items: Vec<ItemState>) -> Snapshot {
    Snapshot {
        tick,
        baseline: None,
        last_input_seq: tick,
        phase: phase(),
        players,
        player_deltas: vec![],
        removed_players: vec![],
        items,
        removed_items: vec![],
    }
}

fn delta(tick: u32, baseline: u32) -> Snapshot {
    Snapshot {
        baseline: Some(baseline),
        ..full(tick, vec![], vec![])
    }
}

#[test]
fn inputs_carry_the_last_k_frames_newest_first() {
    let mut s = ClientState::new(3, 8);
    let a = s.next_inputs(frame(1));
    assert_eq!((a.newest_seq, a.frames.clone()), (1, vec![frame(1)]));
    s.next_inputs(frame(2));
    s.next_inputs(frame(3));
    let d = s.next_inputs(frame(4));
    assert_eq!(d.newest_seq, 4);
    assert_eq!(d.frames, vec![frame(4), frame(3), frame(2)]);
    assert_eq!(s.newest_input_seq(), 4);
}

#[test]
fn redundancy_is_clamped_to_the_wire_cap() {
    let mut s = ClientState::new(100, 8);
    for i in 0..20 {
        s.next_inputs(frame(i));
    }
    assert_eq!(s.next_inputs(frame(20)).frames.len(), MAX_INPUT_FRAMES);
    let mut one = ClientState::new(0, 8);
    one.next_inputs(frame(1));
    assert_eq!(one.next_inputs(frame(2)).frames, vec![frame(2)]);
}

#[test]
fn full_then_deltas_are_applied_against_the_named_baseline_and_acked() {
    let mut s = ClientState::new(4, 8);
    assert_eq!(s.ack(), None);
    let out = s.on_snapshot(&full(
        10,
        vec![player(1, 0, 0), player(2, 5, 5)],
        vec![item(1, 1, 1), item(2, 2, 2)],
    ));
    assert_eq!(
        out,
        SnapshotOutcome::Applied {
            tick: 10,
            ack: SnapshotAck { tick: 10 }
        }
    );
    // Delta against 10: player 1 moved, item 2 collected, item 3 new.
    let mut d = delta(11, 10);
    d.players = vec![player(1, 100, 0)];
    d.items = vec![item(3, 3, 3)];
    d.removed_items = vec![2];
    assert_eq!(s.on_snapshot(&d).ack(), Some(SnapshotAck { tick: 11 }));
    // Delta against 10 again (the server had not seen ack 11 yet): still applies, since
    // 10 is held; player 2 left.
    let mut d2 = delta(12, 10);
    d2.removed_players = vec![2];
    assert!(matches!(
        s.on_snapshot(&d2),
        SnapshotOutcome::Applied { tick: 12, .. }
    ));
    let w = s.latest().unwrap();
    assert_eq!(w.tick, 12);
    // Built on 10, not 11: player 1 back at x=0, items 1 and 2.
    assert_eq!(w.players, vec![player(1, 0, 0)]);
    assert_eq!(w.items, vec![item(1, 1, 1), item(2, 2, 2)]);
    assert_eq!(
        s.view(11).unwrap().items,
        vec![item(1, 1, 1), item(3, 3, 3)]
    );
    assert_eq!(s.last_input_seq(), 12);
    assert_eq!(s.held_ticks(), vec![10, 11, 12]);
}

#[test]
fn late_duplicate_and_orphan_snapshots_are_ignored_and_the_newest_is_acked() {
    let mut s = ClientState::new(4, 8);
    s.on_snapshot(&full(20, vec![player(1, 0, 0)], vec![]));
    s.on_snapshot(&full(22, vec![player(1, 9, 9)], vec![]));
    // Out of order (21 < 22) and duplicate (22).
    assert_eq!(
        s.on_snapshot(&full(21, vec![], vec![])),
        SnapshotOutcome::Stale {
            ack: Some(SnapshotAck { tick: 22 })
        }
    );
    assert!(matches!(
        s.on_snapshot(&full(22, vec![], vec![])),
        SnapshotOutcome::Stale { .. }
    ));
    // A delta against a tick never held.
    assert_eq!(
        s.on_snapshot(&delta(25, 19)),
        SnapshotOutcome::MissingBaseline {
            baseline: 19,
            ack: Some(SnapshotAck { tick: 22 })
        }
    );
    // A delta before any snapshot at all: nothing to ack.
    let mut fresh = ClientState::default();
    assert_eq!(fresh.on_snapshot(&delta(5, 4)).ack(), None);
    assert_eq!(s.latest().unwrap().players, vec![player(1, 9, 9)]);
    let c = s.counters();
    assert_eq!(
        (c.applied, c.stale, c.missing_baseline, c.gap_ticks),
        (2, 2, 1, 1)
    );
}

#[test]
fn history_is_bounded_and_old_baselines_are_forgotten() {
    let mut s = ClientState::new(4, 3);
    for t in 1..=5 {
        s.on_snapshot(&full(t, vec![player(1, t as i32, 0)], vec![]));
    }
    assert_eq!(s.held_ticks(), vec![3, 4, 5]);
    assert!(matches!(
        s.on_snapshot(&delta(6, 2)),
        SnapshotOutcome::MissingBaseline { .. }
    ));
    assert!(matches!(
        s.on_snapshot(&delta(6, 3)),
        SnapshotOutcome::Applied { .. }
    ));
    let (a, b) = s.latest_pair().unwrap();
    assert_eq!((a.tick, b.tick), (5, 6));
    assert_eq!(b.players, vec![player(1, 3, 0)]);
}

fn world(tick: u32, players: Vec<PlayerState>, items: Vec<ItemState>) -> WorldView {
    WorldView {
        tick,
        phase: phase(),
        players,
        items,
    }
}

#[test]
fn interpolation_blends_positions_and_clamps() {
    let a = world(10, vec![player(1, 0, 0), player(2, 50, 50)], vec![]);
    let b = world(
        12,
        vec![player(1, 100, -200), player(3, 7, 7)],
        vec![item(4, 1, 2)],
    );
    let mid = interpolate(&a, &b, 0.5);
    assert_eq!(mid.tick, 11.0);
    assert_eq!(mid.players.len(), 2, "player 2 is gone in the newer view");
    assert_eq!((mid.players[0].x, mid.players[0].y), (50.0, -100.0));
    assert_eq!(
        (mid.players[1].id, mid.players[1].x),
        (3, 7.0),
        "new player drawn where it is"
    );
    assert_eq!(mid.items, vec![(4, 1, 2)]);
    assert_eq!(interpolate(&a, &b, 0.0).players[0].x, 0.0);
    assert_eq!(interpolate(&a, &b, 2.0).players[0].x, 100.0);
    assert_eq!(interpolate(&a, &b, -1.0).tick, 10.0);
}

#[test]
fn bot_walks_to_the_nearest_item() {
    let w = world(
        1,
        vec![player(0, 0, 0)],
        vec![item(1, 10_000, 0), item(2, 0, -3_000)],
    );
    let f = policy(&w, 0);
    assert_eq!((f.move_x, f.move_y), (0, -127));
    assert_eq!(f.buttons & buttons::TAG, 0);
}

#[test]
fn bot_chases_and_tags_a_close_opponent_but_not_a_stunned_one() {
    let mut w = world(
        1,
        vec![player(0, 0, 0), player(1, 1_000, 0)],
        vec![item(1, 0, 3_000)],
    );
    let f = policy(&w, 0);
    assert_eq!((f.move_x, f.move_y), (127, 0));
    assert_ne!(f.buttons & buttons::TAG, 0);
    // Opponent within chase range but out of reach: chase without tagging.
    w.players[1].x = 3_000;
    let f = policy(&w, 0);
    assert_eq!((f.move_x, f.buttons & buttons::TAG), (127, 0));
    // Stunned opponents cannot be tagged: go for the item instead.
    w.players[1].x = 1_000;
    w.players[1].flags |= player_flags::STUNNED;
    let f = policy(&w, 0);
    assert_eq!((f.move_x, f.move_y, f.buttons & buttons::TAG), (0, 127, 0));
    // Disconnected opponents are ignored too.
    w.players[1].flags = 0;
    assert_eq!(policy(&w, 0).buttons & buttons::TAG, 0);
}

#[test]
fn bot_idles_when_stunned_absent_or_not_playing() {
    let mut w = world(
        1,
        vec![player(0, 0, 0), player(1, 500, 0)],
        vec![item(1, 9, 9)],
    );
    w.players[0].flags |= player_flags::STUNNED;
    assert_eq!(policy(&w, 0), InputFrame::default());
    assert_eq!(policy(&w, 7), InputFrame::default());
    w.players[0].flags = player_flags::CONNECTED;
    w.phase.phase = Phase::Countdown;
    assert_eq!(policy(&w, 0), InputFrame::default());
}

#[test]
fn bot_dashes_occasionally_toward_far_targets_only() {
    let far = |tick| world(tick, vec![player(0, 0, 0)], vec![item(1, 20_000, 0)]);
    let dashes = (0..400)
        .filter(|&t| policy(&far(t), 0).buttons & buttons::DASH != 0)
        .count();
    assert_eq!(dashes, 400 / client::bot::DASH_EVERY_TICKS as usize);
    let near = |tick| world(tick, vec![player(0, 0, 0)], vec![item(1, 1_000, 0)]);
    assert!((0..400).all(|t| policy(&near(t), 0).buttons & buttons::DASH == 0));
}

#[test]
fn input_numbers_continue_above_what_the_server_applied_on_a_resumed_session() {
    let mut s = ClientState::new(4, 8);
    s.next_inputs(frame(1));
    // The server reports input 500 applied (from the previous connection).
    let mut snap = full(10, vec![], vec![]);
    snap.last_input_seq = 500;
    s.on_snapshot(&snap);
    let next = s.next_inputs(frame(2));
    assert_eq!(next.newest_seq, 501);
    assert_eq!(
        next.frames,
        vec![frame(2)],
        "frames of the old numbering are dropped"
    );
    // In the normal case the server lags behind and nothing changes.
    let mut snap = full(11, vec![], vec![]);
    snap.last_input_seq = 501;
    s.on_snapshot(&snap);
    assert_eq!(s.next_inputs(frame(3)).newest_seq, 502);
}
