//! A bot: a pure policy (world view + own id → input frame) and a loop that plays a
//! [`Session`] with it until the match ends.
//!
//! **What it is:** a simple, deterministic player good enough for load tests and end-to-end
//! tests: it chases and tags a nearby opponent that can be tagged, otherwise walks to the
//! nearest item, and dashes now and then when its target is far. **What it is not:** a
//! good player (no prediction, no path planning, no teams awareness: snapshots carry no
//! teams).

use std::time::Duration;

use protocol::game::{EventKind, InputFrame, Phase, Standing, WorldView, buttons, player_flags};

use crate::session::{CloseReason, SendError, Session};

/// Farthest an opponent is chased instead of going for items, millimetres.
pub const CHASE_MM: i64 = 4_000;
/// Distance under which the bot presses tag (the server's reach is 1,500 mm).
pub const TAG_MM: i64 = 1_400;
/// Distance over which the bot may dash toward its target.
pub const DASH_MIN_MM: i64 = 2_500;
/// The bot tries to dash once every this many ticks (the server enforces a cooldown).
pub const DASH_EVERY_TICKS: u32 = 40;

fn dist2(ax: i32, ay: i32, bx: i32, by: i32) -> i64 {
    let dx = i64::from(bx) - i64::from(ax);
    let dy = i64::from(by) - i64::from(ay);
    dx * dx + dy * dy
}

/// A full-stick direction from `(ax, ay)` toward `(bx, by)`; zero when already there.
fn toward(ax: i32, ay: i32, bx: i32, by: i32) -> (i8, i8) {
    let dx = i64::from(bx) - i64::from(ax);
    let dy = i64::from(by) - i64::from(ay);
    let big = dx.abs().max(dy.abs());
    if big == 0 {
        return (0, 0);
    }
    // |d * 127 / big| ≤ 127: fits i8.
    ((dx * 127 / big) as i8, (dy * 127 / big) as i8)
}

/// The bot's input for `world` as player `me`. Pure and deterministic.
///
/// Idle when `me` is absent, stunned, or the match is not in the play phase. Otherwise:
/// the nearest connected, un-stunned opponent within [`CHASE_MM`] is chased, and tagged
/// within [`TAG_MM`]; with none, the nearest item is the target. It dashes toward a target
/// farther than [`DASH_MIN_MM`] once every [`DASH_EVERY_TICKS`] ticks (staggered by id).
pub fn policy(world: &WorldView, me: u8) -> InputFrame {
    let idle = InputFrame::default();
    if world.phase.phase != Phase::Playing {
        return idle;
    }
    let Some(p) = world.player(me) else {
        return idle;
    };
    if p.flags & player_flags::STUNNED != 0 {
        return idle;
    }
    let opponent = world
        .players
        .iter()
        .filter(|o| o.id != me)
        .filter(|o| o.flags & player_flags::CONNECTED != 0)
        .filter(|o| o.flags & player_flags::STUNNED == 0)
        .map(|o| (dist2(p.x, p.y, o.x, o.y), o.id, o.x, o.y))
        .min();
    let item = world
        .items
        .iter()
        .map(|i| (dist2(p.x, p.y, i.x, i.y), i.id, i.x, i.y))
        .min();
    let mut frame = idle;
    let target = match opponent {
        Some((d2, _, x, y)) if d2 <= CHASE_MM * CHASE_MM => {
            if d2 <= TAG_MM * TAG_MM {
                frame.buttons |= buttons::TAG;
            }
            Some((d2, x, y))
        }
        _ => item.map(|(d2, _, x, y)| (d2, x, y)),
    };
    if let Some((d2, x, y)) = target {
        (frame.move_x, frame.move_y) = toward(p.x, p.y, x, y);
        let turn = world
            .tick
            .wrapping_add(u32::from(me) * 7)
            .is_multiple_of(DASH_EVERY_TICKS);
        if d2 > DASH_MIN_MM * DASH_MIN_MM && turn {
            frame.buttons |= buttons::DASH;
        }
    }
    frame
}

/// How a bot's match ended.
#[derive(Debug, Clone)]
pub struct BotOutcome {
    /// The bot's player id.
    pub player: u8,
    /// The bot's score: from the final standings when `MatchEnded` arrived, else from the
    /// newest snapshot.
    pub score: u32,
    /// The final standings, when the match ended normally.
    pub standings: Option<Vec<Standing>>,
    /// Why the session ended.
    pub close: CloseReason,
    /// Inputs sent.
    pub inputs_sent: u64,
    /// The session's counters at the end.
    pub stats: crate::session::SessionStats,
}

/// Plays `session` with [`policy`], sending one input every `input_interval`, until the
/// session ends (normally after `MatchEnded` and the server's `Disconnect`) or `limit`
/// passes (then it leaves).
pub async fn play(session: Session, input_interval: Duration, limit: Duration) -> BotOutcome {
    play_shared(&session, input_interval, limit).await
}

/// [`play`] on a borrowed session, so that a load generator can read
/// [`Session::stats`] while the bot plays (the session stays open until it is dropped).
pub async fn play_shared(
    session: &Session,
    input_interval: Duration,
    limit: Duration,
) -> BotOutcome {
    let me = session.player();
    let deadline = tokio::time::Instant::now() + limit;
    let mut tick = tokio::time::interval(input_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut standings = None;
    let mut inputs_sent = 0u64;
    let mut events_open = true;
    let close = loop {
        tokio::select! {
            _ = tick.tick() => {
                let Some(input) = session.with_latest_world(|world| policy(world, me)) else {
                    continue;
                };
                match session.send_inputs(input) {
                    Ok(_) => inputs_sent += 1,
                    Err(SendError::Datagram(quinn::SendDatagramError::ConnectionLost(_))) => {
                        break session.closed().await;
                    }
                    Err(e) => tracing::debug!(error = %e, "input not sent"),
                }
            }
            ev = session.next_event(), if events_open => match ev {
                Some(ev) => {
                    if let EventKind::MatchEnded { standings: s, .. } = ev.kind {
                        standings = Some(s);
                    }
                }
                None => events_open = false,
            },
            reason = session.closed() => break reason,
            _ = tokio::time::sleep_until(deadline) => {
                break session.leave(Duration::from_secs(2)).await;
            }
        }
    };
    // Events still buffered when the connection closed (the stream task has ended, so
    // this drains and stops).
    while events_open {
        match tokio::time::timeout(Duration::from_secs(1), session.next_event()).await {
            Ok(Some(ev)) => {
                if let EventKind::MatchEnded { standings: s, .. } = ev.kind {
                    standings = Some(s);
                }
            }
            _ => events_open = false,
        }
    }
    let score = standings
        .as_ref()
        .and_then(|s| s.iter().find(|x| x.player == me).map(|x| x.score))
        .or_else(|| session.latest_world()?.player(me).map(|p| p.score))
        .unwrap_or(0);
    BotOutcome {
        player: me,
        score,
        standings,
        close,
        inputs_sent,
        stats: session.stats(),
    }
}
