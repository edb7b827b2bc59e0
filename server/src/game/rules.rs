//! The game's rules: movement, dashing, item collection and tagging, one tick at a time.
//!
//! Durations are written in milliseconds and converted to ticks for the match's tick rate
//! (rounded up, at least one tick), so the game plays the same at 20 Hz or 60 Hz.

use protocol::game::{Event, EventKind, InputFrame, buttons};

use super::world::{Bounds, Items, Player};

/// Walking speed, millimetres per second (5 m/s).
pub const SPEED_MM_PER_S: u32 = 5_000;
/// Speed multiplier while dashing.
pub const DASH_MULTIPLIER: i32 = 2;
/// How long a dash lasts.
pub const DASH_MS: u32 = 300;
/// Time from one dash's start to the next.
pub const DASH_COOLDOWN_MS: u32 = 2_000;
/// Farthest a tag reaches, centre to centre, in millimetres.
pub const TAG_REACH_MM: u32 = 1_500;
/// Time from one successful tag to the next.
pub const TAG_COOLDOWN_MS: u32 = 1_000;
/// How long a tagged player is stunned (cannot move or tag, and cannot be tagged again).
pub const STUN_MS: u32 = 1_500;
/// Points for a tag.
pub const TAG_POINTS: u16 = 5;
/// Distance, centre to centre, at which a player collects an item, in millimetres.
pub const PICKUP_RADIUS_MM: u32 = 700;
/// Items alive per player slot (before the bounds below).
pub const ITEMS_PER_SLOT: usize = 3;
/// Fewest items alive on any map.
pub const MIN_ITEMS: usize = 8;
/// Most items alive (half the snapshot's item cap, leaving room for removals).
pub const MAX_ITEMS: usize = 64;
/// Delay before a collected item's replacement appears.
pub const ITEM_RESPAWN_MS: u32 = 2_000;
/// Length of the countdown phase.
pub const COUNTDOWN_MS: u32 = 3_000;
/// Longest wait for the expected players.
pub const WAIT_TIMEOUT_MS: u32 = 30_000;
/// How long a dropped player's slot is held by the match alone. The shell overrides it
/// with the admission core's grace plus one second (`SessionConfig::reconnect_grace`,
/// 15 s by default), so that admission, which removes the player session, decides first.
pub const RECONNECT_GRACE_MS: u32 = 20_000;

/// The rules in tick units for one tick rate. [`Rules::for_tick_rate`] gives the defaults;
/// tests and modes may change any field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// Walking speed in millimetres per tick at full stick.
    pub speed_mm_per_tick: i32,
    /// Dash length in ticks.
    pub dash_ticks: u32,
    /// Ticks from one dash's start to the next.
    pub dash_cooldown_ticks: u32,
    /// Tag reach in millimetres.
    pub tag_reach_mm: u32,
    /// Ticks from one tag to the next.
    pub tag_cooldown_ticks: u32,
    /// Stun length in ticks.
    pub stun_ticks: u32,
    /// Points per tag.
    pub tag_points: u16,
    /// Pickup radius in millimetres.
    pub pickup_radius_mm: u32,
    /// Items alive at once.
    pub items_alive: usize,
    /// Ticks before a collected item is replaced.
    pub item_respawn_ticks: u32,
    /// Countdown length in ticks.
    pub countdown_ticks: u32,
    /// Longest wait for players, in ticks.
    pub wait_timeout_ticks: u32,
    /// Reconnect grace in ticks.
    pub reconnect_grace_ticks: u32,
}

impl Rules {
    /// The default rules at `hz` ticks per second (0 is treated as 1) for `max_players`
    /// slots.
    pub fn for_tick_rate(hz: u16, max_players: u8) -> Self {
        let hz = u32::from(hz.max(1));
        let ticks = |ms: u32| (ms * hz).div_ceil(1_000).max(1);
        Self {
            // ≤ 5,000, fits i32.
            speed_mm_per_tick: (SPEED_MM_PER_S / hz).max(1) as i32,
            dash_ticks: ticks(DASH_MS),
            dash_cooldown_ticks: ticks(DASH_COOLDOWN_MS),
            tag_reach_mm: TAG_REACH_MM,
            tag_cooldown_ticks: ticks(TAG_COOLDOWN_MS),
            stun_ticks: ticks(STUN_MS),
            tag_points: TAG_POINTS,
            pickup_radius_mm: PICKUP_RADIUS_MM,
            items_alive: (ITEMS_PER_SLOT * usize::from(max_players)).clamp(MIN_ITEMS, MAX_ITEMS),
            item_respawn_ticks: ticks(ITEM_RESPAWN_MS),
            countdown_ticks: ticks(COUNTDOWN_MS),
            wait_timeout_ticks: ticks(WAIT_TIMEOUT_MS),
            reconnect_grace_ticks: ticks(RECONNECT_GRACE_MS),
        }
    }
}

/// Squared distance between two points, in square millimetres.
pub(crate) fn dist2(ax: i32, ay: i32, bx: i32, by: i32) -> i64 {
    let dx = i64::from(ax) - i64::from(bx);
    let dy = i64::from(ay) - i64::from(by);
    dx * dx + dy * dy
}

/// Integer square root (floor).
fn isqrt(n: i64) -> i64 {
    if n < 2 {
        return n.max(0);
    }
    let mut x = (n as f64).sqrt() as i64;
    // Correct the float estimate exactly, so the result never depends on rounding.
    while x * x > n {
        x -= 1;
    }
    while (x + 1) * (x + 1) <= n {
        x += 1;
    }
    x
}

/// The displacement for one tick from a stick position: the stick vector is limited to
/// length 127 (so diagonals are not faster) and scaled to `speed`.
pub(crate) fn stick_velocity(frame: InputFrame, speed: i32) -> (i64, i64) {
    let (mut mx, mut my) = (
        i64::from(frame.move_x.max(-127)),
        i64::from(frame.move_y.max(-127)),
    );
    let len2 = mx * mx + my * my;
    if len2 > 127 * 127 {
        let len = isqrt(len2);
        mx = mx * 127 / len;
        my = my * 127 / len;
    }
    (mx * i64::from(speed) / 127, my * i64::from(speed) / 127)
}

/// Moves every connected player from the input in force. Stunned and disconnected players
/// stand still. Positions are clamped to the map.
pub(crate) fn move_players(players: &mut [Player], rules: &Rules, bounds: Bounds, tick: u32) {
    for p in players.iter_mut().filter(|p| p.is_present()) {
        let input = p.input.current();
        if !p.is_connected() || p.is_stunned(tick) {
            (p.vx, p.vy) = (0, 0);
            continue;
        }
        if input.buttons & buttons::DASH != 0 && tick >= p.dash_ready_at {
            p.dash_until = tick + rules.dash_ticks;
            p.dash_ready_at = tick + rules.dash_cooldown_ticks;
        }
        let mut speed = rules.speed_mm_per_tick;
        if p.is_dashing(tick) {
            speed = speed.saturating_mul(DASH_MULTIPLIER);
        }
        let (dx, dy) = stick_velocity(input, speed);
        let (x, y) = bounds.clamp(i64::from(p.x) + dx, i64::from(p.y) + dy);
        let vx = i64::from(x) - i64::from(p.x);
        let vy = i64::from(y) - i64::from(p.y);
        p.vx = vx.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16;
        p.vy = vy.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16;
        (p.x, p.y) = (x, y);
    }
}

/// Connected players collect the items they touch, in player id order (the lower id wins
/// an item two players reach on the same tick). Each collected item schedules a
/// replacement.
pub(crate) fn collect_items(
    players: &mut [Player],
    items: &mut Items,
    rules: &Rules,
    tick: u32,
    events: &mut impl Extend<Event>,
) {
    let r2 = i64::from(rules.pickup_radius_mm).pow(2);
    for p in players.iter_mut().filter(|p| p.is_connected()) {
        items.alive.retain(|item| {
            if dist2(p.x, p.y, item.x, item.y) > r2 {
                return true;
            }
            p.score = p.score.saturating_add(u32::from(item.value));
            events.extend([Event {
                tick,
                kind: EventKind::ItemCollected {
                    player: p.id,
                    item: item.id,
                    points: item.value,
                },
            }]);
            false
        });
    }
    let missing = rules
        .items_alive
        .saturating_sub(items.alive.len() + items.respawns.len());
    for _ in 0..missing {
        items.respawns.push_back(tick + rules.item_respawn_ticks);
    }
}

/// Replaces collected items whose respawn time has come.
pub(crate) fn respawn_items(items: &mut Items, bounds: Bounds, tick: u32) {
    while items.respawns.front().is_some_and(|&at| at <= tick) {
        items.respawns.pop_front();
        items.spawn(bounds);
    }
}

/// Resolves tags in player id order. A tagger must be connected, not stunned, off
/// cooldown and holding TAG; the target is the nearest other connected, unstunned player
/// within reach who is not a teammate (ties go to the lower id). The tagger scores, the
/// target is stunned. A player stunned earlier in the same tick cannot tag.
pub(crate) fn resolve_tags(
    players: &mut [Player],
    rules: &Rules,
    tick: u32,
    events: &mut impl Extend<Event>,
) {
    let reach2 = i64::from(rules.tag_reach_mm).pow(2);
    for i in 0..players.len() {
        let tagger = &players[i];
        let wants = tagger.input.current().buttons & buttons::TAG != 0;
        if !wants || !tagger.is_connected() || tagger.is_stunned(tick) || tick < tagger.tag_ready_at
        {
            continue;
        }
        let target = players
            .iter()
            .filter(|t| t.id != tagger.id && t.is_connected() && !t.is_stunned(tick))
            .filter(|t| tagger.team.is_none() || t.team != tagger.team)
            .map(|t| (dist2(tagger.x, tagger.y, t.x, t.y), t.id))
            .filter(|&(d2, _)| d2 <= reach2)
            .min();
        let Some((_, target)) = target else { continue };
        let by = tagger.id;
        let tagger = &mut players[i];
        tagger.tag_ready_at = tick + rules.tag_cooldown_ticks;
        tagger.score = tagger.score.saturating_add(u32::from(rules.tag_points));
        if let Some(t) = players.iter_mut().find(|t| t.id == target) {
            t.stun_until = tick + rules.stun_ticks;
            (t.vx, t.vy) = (0, 0);
        }
        events.extend([Event {
            tick,
            kind: EventKind::Tagged {
                by,
                target,
                points: rules.tag_points,
            },
        }]);
    }
}
