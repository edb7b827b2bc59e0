//! Rule tests with direct access to the match's entities (positions set by hand).

use protocol::game::{
    EventKind, InputFrame, Inputs, ItemState, MAX_DATAGRAM_SIZE, Phase, PlayerDelta, PlayerState,
    ServerMessage, Snapshot, buttons, encode, player_flags,
};

use super::*;

/// A match already in play with `n` players at known spots and no items.
fn playing(n: u8, teams: u8) -> Match {
    let mut params = MatchConfig::default_params("gs-test", 42);
    params.teams = teams;
    params.max_players = n.max(2);
    let mut config = MatchConfig::new(params);
    config.expected_players = n;
    config.rules.countdown_ticks = 1;
    let mut m = Match::new(config).unwrap();
    for i in 0..n {
        m.join(&format!("p{i}"), None).unwrap();
    }
    while m.phase().phase != Phase::Playing {
        m.step();
    }
    m.items.alive.clear();
    m.items.respawns.clear();
    m.rules.items_alive = 0;
    for (i, p) in m.players.iter_mut().enumerate() {
        (p.x, p.y) = (10_000 + 3_000 * i as i32, 10_000);
    }
    while m.poll_event().is_some() {}
    m
}

fn press(m: &mut Match, player: u8, seq: u32, move_x: i8, move_y: i8, buttons: u8) {
    let frame = InputFrame {
        move_x,
        move_y,
        buttons,
    };
    m.apply_inputs(
        player,
        &Inputs {
            newest_seq: seq,
            frames: vec![frame],
            ack: None,
        },
    )
    .unwrap();
}

fn events(m: &mut Match) -> Vec<EventKind> {
    std::iter::from_fn(|| m.poll_event())
        .map(|e| e.kind)
        .collect()
}

#[test]
fn movement_follows_the_stick_and_diagonals_are_not_faster() {
    let mut m = playing(2, 0);
    let speed = m.rules.speed_mm_per_tick;
    press(&mut m, 0, 1, 127, 0, 0);
    press(&mut m, 1, 1, 127, 127, 0);
    m.step();
    let p0 = m.player_state(0).unwrap();
    assert_eq!(
        (p0.x, p0.y, i32::from(p0.vx)),
        (10_000 + speed, 10_000, speed)
    );
    let p1 = m.player_state(1).unwrap();
    let d2 = i32::from(p1.vx).pow(2) + i32::from(p1.vy).pow(2);
    assert!(d2 <= speed * speed, "diagonal {d2} faster than {speed}²");
    assert!(p1.vx > 0 && p1.vy > 0);
}

#[test]
fn positions_are_clamped_to_the_map() {
    let mut m = playing(2, 0);
    m.players[0].x = 50;
    m.players[0].y = 29_990;
    press(&mut m, 0, 1, -127, 127, 0);
    for _ in 0..3 {
        m.step();
    }
    let p = m.player_state(0).unwrap();
    assert_eq!((p.x, p.y, p.vx, p.vy), (0, 30_000, 0, 0));
}

#[test]
fn dash_doubles_speed_briefly_then_cools_down() {
    let mut m = playing(2, 0);
    let (speed, dash, cooldown) = (
        m.rules.speed_mm_per_tick,
        m.rules.dash_ticks,
        m.rules.dash_cooldown_ticks,
    );
    press(&mut m, 0, 1, 127, 0, buttons::DASH);
    let mut dashing_ticks = 0;
    for _ in 0..cooldown {
        m.step();
        let p = m.player_state(0).unwrap();
        if p.flags & player_flags::DASHING != 0 {
            assert_eq!(i32::from(p.vx), speed * 2);
            dashing_ticks += 1;
        } else {
            assert_eq!(i32::from(p.vx), speed);
        }
    }
    // Held DASH dashes once per cooldown.
    assert_eq!(dashing_ticks, dash);
    m.step();
    assert_ne!(m.player_state(0).unwrap().flags & player_flags::DASHING, 0);
}

#[test]
fn touching_an_item_collects_it_for_its_value() {
    let mut m = playing(2, 0);
    m.items.alive.push(ItemState {
        id: 900,
        x: 10_000 + 600,
        y: 10_000,
        value: 3,
    });
    m.rules.items_alive = 1;
    m.step();
    assert_eq!(m.player_state(0).unwrap().score, 3);
    assert!(m.items.alive.is_empty());
    assert_eq!(
        events(&mut m),
        [EventKind::ItemCollected {
            player: 0,
            item: 900,
            points: 3
        }]
    );
    for _ in 0..m.rules.item_respawn_ticks {
        m.step();
    }
    assert_eq!(
        m.items.alive.len(),
        1,
        "a replacement appears after the delay"
    );
}

#[test]
fn tag_reaches_only_within_reach() {
    let mut m = playing(2, 0);
    let reach = m.rules.tag_reach_mm as i32;
    m.players[1].x = m.players[0].x + reach + 1;
    press(&mut m, 0, 1, 0, 0, buttons::TAG);
    m.step();
    assert!(events(&mut m).is_empty());
    m.players[1].x = m.players[0].x + reach;
    m.step();
    assert_eq!(
        events(&mut m),
        [EventKind::Tagged {
            by: 0,
            target: 1,
            points: TAG_POINTS
        }]
    );
    assert_eq!(m.player_state(0).unwrap().score, u32::from(TAG_POINTS));
}

#[test]
fn tagged_player_is_stunned_cannot_move_or_tag_and_tagger_cools_down() {
    let mut m = playing(3, 0);
    m.players[1].x = m.players[0].x + 1_000;
    m.players[2].x = m.players[0].x - 1_000;
    press(&mut m, 0, 1, 0, 0, buttons::TAG);
    press(&mut m, 1, 1, 0, 0, buttons::TAG);
    m.step();
    // Player 0 acts first (id order) and tags the nearest: 1 and 2 tie, the lower id
    // is tagged; stunned, player 1 cannot tag back on the same tick.
    let tag = |by, target| EventKind::Tagged {
        by,
        target,
        points: TAG_POINTS,
    };
    assert_eq!(events(&mut m), [tag(0, 1)]);
    let stunned = m.player_state(1).unwrap();
    assert_ne!(stunned.flags & player_flags::STUNNED, 0);
    press(&mut m, 1, 2, 127, 0, buttons::TAG);
    let x = stunned.x;
    // During the tagger's cooldown nobody is tagged (2 is in reach and unstunned).
    for _ in 1..m.rules.tag_cooldown_ticks {
        m.step();
        assert_eq!(
            m.player_state(1).unwrap().x,
            x,
            "stunned players stand still"
        );
    }
    assert_eq!(events(&mut m), []);
    m.step();
    assert_eq!(events(&mut m), [tag(0, 2)], "off cooldown, the next target");
    while m.player_state(1).unwrap().flags & player_flags::STUNNED != 0 {
        assert_eq!(m.player_state(1).unwrap().x, x);
        m.step();
    }
    assert_eq!(
        m.tick(),
        1 + 2 + m.rules.countdown_ticks + m.rules.stun_ticks - 1
    );
    m.step();
    assert!(
        m.player_state(1).unwrap().x > x,
        "moves again after the stun"
    );
}

#[test]
fn no_friendly_tags_in_team_modes() {
    let mut m = playing(3, 2);
    // Auto-balanced: 0 → team 0, 1 → team 1, 2 → team 0.
    assert_eq!(
        (m.team_of(0), m.team_of(1), m.team_of(2)),
        (Some(0), Some(1), Some(0))
    );
    m.players[2].x = m.players[0].x + 500;
    m.players[1].x = m.players[0].x + 1_400;
    press(&mut m, 0, 1, 0, 0, buttons::TAG);
    m.step();
    // The teammate is nearer, but the opponent is the one tagged.
    assert_eq!(
        events(&mut m),
        [EventKind::Tagged {
            by: 0,
            target: 1,
            points: TAG_POINTS
        }]
    );
    m.players[1].x = 0;
    for _ in 0..m.rules.tag_cooldown_ticks * 2 {
        m.step();
    }
    assert!(
        events(&mut m).is_empty(),
        "a teammate alone in reach is never tagged"
    );
}

#[test]
fn dropped_players_neither_move_tag_nor_get_tagged() {
    let mut m = playing(2, 0);
    m.players[1].x = m.players[0].x + 500;
    press(&mut m, 1, 1, 127, 0, buttons::TAG);
    m.drop_player(1).unwrap();
    press(&mut m, 0, 1, 0, 0, buttons::TAG);
    events(&mut m);
    let x = m.player_state(1).unwrap().x;
    m.step();
    assert_eq!(events(&mut m), []);
    let p = m.player_state(1).unwrap();
    assert_eq!((p.x, p.flags & player_flags::CONNECTED), (x, 0));
}

fn datagram_len(s: &Snapshot) -> usize {
    encode(&ServerMessage::Snapshot(s.clone())).unwrap().len()
}

proptest::proptest! {
    /// The size arithmetic the packer relies on equals the real encoder's output.
    #[test]
    fn encoded_len_matches_the_encoder(
        tick: u32, baseline: Option<u32>, seq: u32, ends: u32,
        players in proptest::collection::vec(
            (0u8..64, proptest::num::i32::ANY, proptest::num::i32::ANY, proptest::num::i16::ANY,
             proptest::num::i16::ANY, proptest::num::u32::ANY, proptest::num::u8::ANY), 0..20),
        items in proptest::collection::vec(
            (proptest::num::u16::ANY, -70_000i32..70_000, 0i32..300, proptest::num::u16::ANY), 0..20),
        removed_items in proptest::collection::vec(proptest::num::u16::ANY, 0..20),
        deltas in proptest::collection::vec(
            (0u8..64, proptest::option::of(proptest::num::i32::ANY),
             proptest::option::of(proptest::num::i32::ANY),
             proptest::option::of(proptest::num::i16::ANY),
             proptest::option::of(proptest::num::i16::ANY),
             proptest::option::of(proptest::num::u32::ANY),
             proptest::option::of(proptest::num::u8::ANY)), 0..20),
    ) {
        let s = Snapshot {
            tick, baseline, last_input_seq: seq,
            phase: protocol::game::PhaseState { phase: Phase::Countdown, ends_at_tick: ends },
            players: players.into_iter().map(|(id, x, y, vx, vy, score, flags)|
                PlayerState { id, x, y, vx, vy, score, flags }).collect(),
            player_deltas: deltas.into_iter().map(|(id, x, y, vx, vy, score, flags)|
                PlayerDelta { id, x, y, vx, vy, score, flags }).collect(),
            removed_players: vec![1, 2, 3],
            items: items.into_iter().map(|(id, x, y, value)| ItemState { id, x, y, value }).collect(),
            removed_items,
        };
        proptest::prop_assert_eq!(encoded_len(&s), datagram_len(&s));
    }
}

#[test]
fn a_full_world_of_64_players_is_packed_under_the_limit_own_player_first() {
    let mut params = MatchConfig::default_params("gs-big", 9);
    params.max_players = 64;
    params.map_width = 200_000;
    params.map_height = 200_000;
    let mut m = Match::new(MatchConfig::new(params)).unwrap();
    for i in 0..64 {
        m.join(&format!("p{i}"), None).unwrap();
    }
    for p in &mut m.players {
        p.score = 1_000_000;
    }
    let world = std::sync::Arc::new(m.world_view());
    let full = world.full_snapshot(0);
    assert!(datagram_len_unchecked(&full) > MAX_DATAGRAM_SIZE);
    let mut history = SnapshotHistory::new();
    let snap = history.build(&world, Some(63), 7);
    assert!(datagram_len(&snap) <= MAX_DATAGRAM_SIZE);
    // Too big to share: the encoded build packs for its viewer as the plain build does.
    let datagram = SnapshotHistory::new()
        .build_encoded(&world, Some(63), 7, &mut DiffCache::default())
        .unwrap();
    assert_eq!(
        datagram,
        encode(&ServerMessage::Snapshot(snap.clone())).unwrap()
    );
    assert_eq!(snap.players[0].id, 63);
    // The nearest others come next.
    let me = world.player(63).unwrap();
    let d = |p: &PlayerState| super::rules::dist2(me.x, me.y, p.x, p.y);
    assert!(snap.players[1..].windows(2).all(|w| d(&w[0]) <= d(&w[1])));
    // Acking it and building again sends the rest: the client converges to the world.
    let mut held = apply_snapshot(None, &snap).unwrap();
    for tick in 1..10 {
        history.ack(held.tick);
        let mut next = (*world).clone();
        next.tick = tick;
        let snap = history.build(&std::sync::Arc::new(next), Some(63), 7);
        assert!(datagram_len(&snap) <= MAX_DATAGRAM_SIZE);
        held = apply_snapshot(Some(&held), &snap).unwrap();
    }
    assert_eq!(
        (held.players.clone(), held.items.clone()),
        (world.players.clone(), world.items.clone())
    );
}

/// Encoded size without the encoder's datagram limit check.
fn datagram_len_unchecked(s: &Snapshot) -> usize {
    encoded_len(s)
}

/// Clients sharing one diff cache per tick get exactly the snapshots each would get alone,
/// whatever each acks (the latest tick, an older one, nothing, or not every tick).
#[test]
fn a_shared_diff_cache_changes_no_snapshot() {
    let mut m = playing(8, 0);
    let mut alone: Vec<SnapshotHistory> = (0..8).map(|_| SnapshotHistory::new()).collect();
    let mut shared = alone.clone();
    let mut by_encoding = alone.clone();
    for tick in 0..40u32 {
        for p in 0..8u8 {
            press(&mut m, p, tick + 1, (p as i8 - 4) * 30, 20, 0);
        }
        m.step();
        let world = std::sync::Arc::new(m.world_view());
        let mut cache = DiffCache::default();
        let mut encoded = DiffCache::default();
        let histories = alone.iter_mut().zip(&mut shared).zip(&mut by_encoding);
        for (i, ((a, s), e)) in histories.enumerate() {
            let lone = a.build(&world, Some(i as u8), tick);
            let together = s.build_shared(&world, Some(i as u8), tick, &mut cache);
            assert_eq!(lone, together, "client {i} at tick {}", world.tick);
            // The encoded datagram, from the shared encoding when the snapshot is whole,
            // is the client's own snapshot encoded.
            let datagram = e
                .build_encoded(&world, Some(i as u8), tick, &mut encoded)
                .unwrap();
            assert_eq!(
                datagram,
                encode(&ServerMessage::Snapshot(lone.clone())).unwrap(),
                "client {i} at tick {}",
                world.tick
            );
            // Client i acks every (i % 4 + 1)th tick; client 7 never does.
            if i != 7 && tick % (i as u32 % 4 + 1) == 0 {
                a.ack(world.tick);
                s.ack(world.tick);
                e.ack(world.tick);
            }
        }
    }
}
