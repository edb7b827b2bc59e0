//! [`RedisRankings`]: the rankings as Redis sorted sets.
//!
//! # Keys
//!
//! With the prefix `P` (default [`DEFAULT_KEY_PREFIX`]) and a board written `S:M`, where
//! `S` is the season and `M` the mode, `*` for "all" (neither contains `*`, `:` or braces:
//! see the protocol's `validate_season` and `validate_mode`):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `P:{lb:S:M}` | sorted set | the board: member = player id, score = [`Composite`] |
//! | `P:{lb:S:M}:rebuild:N` | sorted set | a board being rebuilt (expires after an hour) |
//! | `P:boards` | set | every board written and not cleared, as `S:M` |
//!
//! e.g. `rk:{lb:*:*}` (global), `rk:{lb:*:duel}`, `rk:{lb:2025-spring:*}`,
//! `rk:{lb:2025-spring:duel}`.
//!
//! # Redis Cluster
//!
//! Only one command touches two keys: `RENAME` of a rebuilt board over the live one (in a
//! `MULTI` with `PERSIST`). Both keys share the board's hash tag `{lb:S:M}`, so they are
//! in one slot. Everything else names one key: each read is a `MULTI` (or one `EVAL`) on
//! one board key, so it is consistent. A result's writes are one **non-transactional**
//! pipeline: one `ZADD` per board with all of that board's players, and one `SADD` to
//! the registry. These keys are in different slots on purpose (boards spread over the
//! cluster); they need no common slot because nothing relies on them changing together:
//! each command sets absolute values, so if a crash or a failover applies only some of
//! them, the redelivered result writes them all again with the same outcome. On a
//! cluster connection, the client splits such a pipeline by node.
//!
//! # Round trips
//!
//! [`Rankings::set_many`] with the updates of one match result sends its commands
//! concurrently on the multiplexed connection, so they travel together: one round trip
//! of latency per result on a single Redis (one `ZADD` per board, not per player), one
//! per node touched on a cluster; each read is one round trip; [`Rankings::remove`] is
//! two (read the registry, then `ZREM` everywhere).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use protocol::http::BoardId;
use redis::aio::{ConnectionLike, ConnectionManager};

use super::sorted_set::{entry, sort_and_dedup};
use super::{
    BoxFuture, Composite, PlayerRanking, RankedEntry, RankedPage, RankingUpdate, Rankings,
    RankingsError, Score, encode_for_store,
};

/// The key prefix when none is configured.
pub const DEFAULT_KEY_PREFIX: &str = "rk";

/// Members per `ZADD` while rebuilding, and `ZADD`s per pipeline.
const REBUILD_CHUNK: usize = 1_000;
const REBUILD_CHUNKS_PER_TRIP: usize = 10;
/// A rebuild key left by a crashed rebuild disappears after this long.
const REBUILD_TTL_SECS: u64 = 3_600;
/// Radii beyond this are clamped (no board is that large; Lua numbers stay integers).
const MAX_RADIUS: u64 = 1 << 40;

/// Around a player, consistently in one call: board size, start, rows.
const AROUND_SCRIPT: &str = r"
local card = redis.call('ZCARD', KEYS[1])
local r = redis.call('ZREVRANK', KEYS[1], ARGV[1])
if not r then return {card, -1, {}} end
local start = r - tonumber(ARGV[2])
if start < 0 then start = 0 end
return {card, start, redis.call('ZREVRANGE', KEYS[1], start, r + tonumber(ARGV[2]), 'WITHSCORES')}
";

/// Rankings in Redis sorted sets (see the module docs for keys, Cluster and round trips).
///
/// Generic over the connection so a Redis Cluster connection fits the same code; the
/// default is a reconnecting [`ConnectionManager`]. Cheap to clone.
#[derive(Clone)]
pub struct RedisRankings<C = ConnectionManager> {
    conn: C,
    prefix: String,
}

/// The key of a board under `prefix`: `prefix:{lb:S:M}` (module docs).
pub fn board_key(prefix: &str, board: &BoardId) -> String {
    format!("{prefix}:{{lb:{}}}", board_tag(board))
}

/// `S:M`, `*` for none.
fn board_tag(board: &BoardId) -> String {
    format!(
        "{}:{}",
        board.season.as_deref().unwrap_or("*"),
        board.mode.as_deref().unwrap_or("*")
    )
}

fn parse_board_tag(tag: &str) -> Option<BoardId> {
    let (season, mode) = tag.split_once(':')?;
    let part = |s: &str| (s != "*").then(|| s.to_owned());
    Some(BoardId {
        season: part(season),
        mode: part(mode),
    })
}

impl<C> RedisRankings<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// A store on `conn` whose keys start with `prefix:`.
    ///
    /// # Panics
    ///
    /// When `prefix` is empty or holds `{` or `}`, which would change the keys' hash
    /// slots.
    pub fn new(conn: C, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        assert!(
            !prefix.is_empty() && !prefix.contains(['{', '}']),
            "rankings key prefix {prefix:?} must be non-empty and free of braces"
        );
        RedisRankings { conn, prefix }
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, board: &BoardId) -> String {
        board_key(&self.prefix, board)
    }

    fn registry(&self) -> String {
        format!("{}:boards", self.prefix)
    }

    fn rows(
        key: &str,
        start: u64,
        rows: Vec<(String, f64)>,
    ) -> Result<Vec<RankedEntry>, RankingsError> {
        rows.into_iter()
            .enumerate()
            .map(|(i, (player, score))| {
                Ok(entry(start + i as u64, &player, composite(key, score)?))
            })
            .collect()
    }
}

fn composite(key: &str, score: f64) -> Result<Composite, RankingsError> {
    Composite::from_f64(score).map_err(|source| RankingsError::ForeignScore {
        key: key.to_owned(),
        source,
    })
}

/// Board size, each listed player's score, each listed player's 0-based rank.
type FriendsReply = (u64, Vec<Option<f64>>, Vec<Option<u64>>);

/// The friends `MULTI` reply: board size, `ZMSCORE`'s scores, then one rank per player.
fn split_friends_reply(value: redis::Value) -> Result<FriendsReply, redis::ParsingError> {
    let mut items: Vec<redis::Value> = redis::from_redis_value(value)?;
    let ranks = items.split_off(2.min(items.len()));
    let (total, scores) = redis::from_redis_value(redis::Value::Array(items))?;
    Ok((
        total,
        scores,
        redis::from_redis_value(redis::Value::Array(ranks))?,
    ))
}

/// A name no other rebuild uses: process, clock and counter.
fn rebuild_nonce() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:x}-{nanos:x}-{n:x}", std::process::id())
}

impl<C> RedisRankings<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// Sends single-key commands all at once, each on its own (module docs: a pipeline
    /// may not span hash slots on a cluster). The multiplexed connection still puts them
    /// on the wire together.
    async fn send_each(&self, cmds: Vec<redis::Cmd>) -> Result<(), RankingsError> {
        let sends = cmds.into_iter().map(|cmd| {
            let mut conn = self.conn.clone();
            async move { cmd.query_async::<()>(&mut conn).await }
        });
        futures_util::future::try_join_all(sends).await?;
        Ok(())
    }
}

impl<C> Rankings for RedisRankings<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    fn set_many<'a>(
        &'a self,
        updates: &'a [RankingUpdate],
    ) -> BoxFuture<'a, Result<(), RankingsError>> {
        Box::pin(async move {
            // Encode everything first: a NaN fails the call before anything is written.
            let mut by_board: BTreeMap<&BoardId, Vec<(u64, &str)>> = BTreeMap::new();
            for u in updates {
                let c = encode_for_store(&u.player, u.score)?;
                by_board
                    .entry(&u.board)
                    .or_default()
                    .push((c.get(), &u.player));
            }
            if by_board.is_empty() {
                return Ok(());
            }
            let mut cmds = Vec::with_capacity(by_board.len() + 1);
            let mut sadd = redis::cmd("SADD");
            sadd.arg(self.registry());
            for (board, members) in &by_board {
                let mut zadd = redis::cmd("ZADD");
                zadd.arg(self.key(board)).arg(members);
                cmds.push(zadd);
                sadd.arg(board_tag(board));
            }
            cmds.push(sadd);
            self.send_each(cmds).await
        })
    }

    fn top<'a>(
        &'a self,
        board: &'a BoardId,
        offset: u64,
        limit: u64,
    ) -> BoxFuture<'a, Result<RankedPage, RankingsError>> {
        Box::pin(async move {
            let key = self.key(board);
            let (Ok(start), true) = (i64::try_from(offset), limit > 0) else {
                let total: u64 = redis::cmd("ZCARD")
                    .arg(&key)
                    .query_async(&mut self.conn.clone())
                    .await?;
                return Ok(RankedPage {
                    total_players: total,
                    entries: Vec::new(),
                });
            };
            let stop = start.saturating_add(i64::try_from(limit - 1).unwrap_or(i64::MAX));
            let (total, rows): (u64, Vec<(String, f64)>) = redis::pipe()
                .atomic()
                .cmd("ZCARD")
                .arg(&key)
                .cmd("ZREVRANGE")
                .arg(&key)
                .arg(start)
                .arg(stop)
                .arg("WITHSCORES")
                .query_async(&mut self.conn.clone())
                .await?;
            Ok(RankedPage {
                total_players: total,
                entries: Self::rows(&key, offset, rows)?,
            })
        })
    }

    fn rank<'a>(
        &'a self,
        board: &'a BoardId,
        player: &'a str,
    ) -> BoxFuture<'a, Result<PlayerRanking, RankingsError>> {
        Box::pin(async move {
            let key = self.key(board);
            let (total, position, score): (u64, Option<u64>, Option<f64>) = redis::pipe()
                .atomic()
                .cmd("ZCARD")
                .arg(&key)
                .cmd("ZREVRANK")
                .arg(&key)
                .arg(player)
                .cmd("ZSCORE")
                .arg(&key)
                .arg(player)
                .query_async(&mut self.conn.clone())
                .await?;
            let entry = match (position, score) {
                (Some(position), Some(score)) => {
                    Some(entry(position, player, composite(&key, score)?))
                }
                _ => None,
            };
            Ok(PlayerRanking {
                total_players: total,
                entry,
            })
        })
    }

    fn around<'a>(
        &'a self,
        board: &'a BoardId,
        player: &'a str,
        radius: u64,
    ) -> BoxFuture<'a, Result<RankedPage, RankingsError>> {
        Box::pin(async move {
            let key = self.key(board);
            let (total, start, rows): (u64, i64, Vec<(String, f64)>) = redis::cmd("EVAL")
                .arg(AROUND_SCRIPT)
                .arg(1)
                .arg(&key)
                .arg(player)
                .arg(radius.min(MAX_RADIUS))
                .query_async(&mut self.conn.clone())
                .await?;
            let entries = match u64::try_from(start) {
                Ok(start) => Self::rows(&key, start, rows)?,
                Err(_) => Vec::new(),
            };
            Ok(RankedPage {
                total_players: total,
                entries,
            })
        })
    }

    fn friends<'a>(
        &'a self,
        board: &'a BoardId,
        players: &'a [String],
    ) -> BoxFuture<'a, Result<RankedPage, RankingsError>> {
        Box::pin(async move {
            let key = self.key(board);
            if players.is_empty() {
                let total: u64 = redis::cmd("ZCARD")
                    .arg(&key)
                    .query_async(&mut self.conn.clone())
                    .await?;
                return Ok(RankedPage {
                    total_players: total,
                    entries: Vec::new(),
                });
            }
            // One MULTI: the scores (ZMSCORE) and the rank of each player on the whole
            // board (ZREVRANK, unique and consistent with top and around; ZCOUNT would
            // give equal composites one shared rank).
            let mut pipe = redis::pipe();
            pipe.atomic()
                .cmd("ZCARD")
                .arg(&key)
                .cmd("ZMSCORE")
                .arg(&key)
                .arg(players);
            for player in players {
                pipe.cmd("ZREVRANK").arg(&key).arg(player);
            }
            let value: redis::Value = pipe.query_async(&mut self.conn.clone()).await?;
            let (total, scores, positions) =
                split_friends_reply(value).map_err(redis::RedisError::from)?;
            let mut entries = Vec::new();
            for ((player, score), position) in players.iter().zip(scores).zip(positions) {
                if let (Some(score), Some(position)) = (score, position) {
                    entries.push(entry(position, player, composite(&key, score)?));
                }
            }
            sort_and_dedup(&mut entries);
            Ok(RankedPage {
                total_players: total,
                entries,
            })
        })
    }

    fn remove<'a>(&'a self, player: &'a str) -> BoxFuture<'a, Result<(), RankingsError>> {
        Box::pin(async move {
            let tags: Vec<String> = redis::cmd("SMEMBERS")
                .arg(self.registry())
                .query_async(&mut self.conn.clone())
                .await?;
            let cmds = tags
                .iter()
                .filter_map(|t| parse_board_tag(t))
                .map(|board| {
                    let mut zrem = redis::cmd("ZREM");
                    zrem.arg(self.key(&board)).arg(player);
                    zrem
                })
                .collect();
            self.send_each(cmds).await
        })
    }

    fn clear_board<'a>(&'a self, board: &'a BoardId) -> BoxFuture<'a, Result<(), RankingsError>> {
        Box::pin(async move {
            let mut del = redis::cmd("DEL");
            del.arg(self.key(board));
            let mut srem = redis::cmd("SREM");
            srem.arg(self.registry()).arg(board_tag(board));
            self.send_each(vec![del, srem]).await
        })
    }

    fn rebuild<'a>(
        &'a self,
        board: &'a BoardId,
        entries: &'a [(String, Score)],
    ) -> BoxFuture<'a, Result<(), RankingsError>> {
        Box::pin(async move {
            let members: Vec<(u64, &str)> = entries
                .iter()
                .map(|(p, s)| encode_for_store(p, *s).map(|c| (c.get(), p.as_str())))
                .collect::<Result<_, _>>()?;
            let key = self.key(board);
            // Same hash tag as the board: RENAME stays within one slot.
            let tmp = format!("{key}:rebuild:{}", rebuild_nonce());
            let mut conn = self.conn.clone();
            for trip in members.chunks(REBUILD_CHUNK * REBUILD_CHUNKS_PER_TRIP) {
                let mut pipe = redis::pipe();
                for chunk in trip.chunks(REBUILD_CHUNK) {
                    pipe.cmd("ZADD").arg(&tmp).arg(chunk).ignore();
                }
                pipe.cmd("EXPIRE").arg(&tmp).arg(REBUILD_TTL_SECS).ignore();
                pipe.query_async::<()>(&mut conn).await?;
            }
            let mut swap = redis::pipe();
            swap.atomic();
            if members.is_empty() {
                swap.cmd("DEL").arg(&key).ignore();
            } else {
                // RENAME carries the temporary key's TTL over: PERSIST drops it.
                swap.cmd("RENAME").arg(&tmp).arg(&key).ignore();
                swap.cmd("PERSIST").arg(&key).ignore();
            }
            swap.query_async::<()>(&mut conn).await?;
            redis::cmd("SADD")
                .arg(self.registry())
                .arg(board_tag(board))
                .query_async::<()>(&mut conn)
                .await?;
            Ok(())
        })
    }

    fn boards(&self) -> BoxFuture<'_, Result<Vec<BoardId>, RankingsError>> {
        Box::pin(async move {
            let tags: Vec<String> = redis::cmd("SMEMBERS")
                .arg(self.registry())
                .query_async(&mut self.conn.clone())
                .await?;
            let mut boards: Vec<BoardId> = tags.iter().filter_map(|t| parse_board_tag(t)).collect();
            boards.sort();
            Ok(boards)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_keys_carry_one_hash_tag_and_round_trip() {
        let board = BoardId {
            season: Some("2025-spring".into()),
            mode: Some("duel".into()),
        };
        assert_eq!(board_key("rk", &board), "rk:{lb:2025-spring:duel}");
        assert_eq!(board_key("rk", &BoardId::GLOBAL), "rk:{lb:*:*}");
        for b in [
            board,
            BoardId::GLOBAL,
            BoardId {
                season: None,
                mode: Some("ffa".into()),
            },
        ] {
            assert_eq!(parse_board_tag(&board_tag(&b)), Some(b));
        }
    }
}
