//! Proves the test bed's Redis Cluster is real: three masters that split the 16384 hash
//! slots between them, keys placed by their hash tag (`{...}`) on the node owning their
//! slot (and refused with `MOVED` by the others), commands naming keys in different slots
//! refused with `CROSSSLOT` while the same with a shared hash tag work, and sorted sets
//! written and read through the `redis` crate's async cluster connection.
//!
//! Run through `scripts/test.sh` (it starts the cluster and exports `REDIS_CLUSTER_URLS`).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, bail, ensure};
use redis::aio::MultiplexedConnection;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncCommands, ErrorKind, RedisError, ServerErrorKind};

const SLOTS: u16 = 16_384;

/// The cluster's masters, `127.0.0.1:PORT` → the slot ranges it owns, from
/// `CLUSTER NODES`.
async fn slot_map(
    conn: &mut ClusterConnection,
) -> anyhow::Result<BTreeMap<String, Vec<(u16, u16)>>> {
    let text: String = redis::cmd("CLUSTER")
        .arg("NODES")
        .query_async(conn)
        .await
        .context("CLUSTER NODES")?;
    let mut masters = BTreeMap::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        // <id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>...
        let fields: Vec<&str> = line.split_whitespace().collect();
        ensure!(fields.len() >= 8, "short CLUSTER NODES line: {line}");
        if !fields[2].split(',').any(|flag| flag == "master") {
            continue;
        }
        let addr = fields[1].split('@').next().unwrap_or_default().to_owned();
        let mut ranges = Vec::new();
        for range in &fields[8..] {
            if range.starts_with('[') {
                bail!("slot {range} is migrating on {addr}: the cluster is not settled");
            }
            let (start, end) = range.split_once('-').unwrap_or((range, range));
            ranges.push((start.parse()?, end.parse()?));
        }
        masters.insert(addr, ranges);
    }
    Ok(masters)
}

/// The master owning `slot`.
fn owner(map: &BTreeMap<String, Vec<(u16, u16)>>, slot: u16) -> anyhow::Result<&str> {
    map.iter()
        .find(|(_, ranges)| ranges.iter().any(|&(a, b)| (a..=b).contains(&slot)))
        .map(|(addr, _)| addr.as_str())
        .with_context(|| format!("no master owns slot {slot}"))
}

async fn keyslot(conn: &mut ClusterConnection, key: &str) -> anyhow::Result<u16> {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(conn)
        .await
        .with_context(|| format!("CLUSTER KEYSLOT {key}"))
}

/// One key per master, `{PREFIX-N}:k` for the first N whose hash tag lands there:
/// master → (key, slot).
async fn key_on_each_master(
    conn: &mut ClusterConnection,
    map: &BTreeMap<String, Vec<(u16, u16)>>,
    prefix: &str,
) -> anyhow::Result<BTreeMap<String, (String, u16)>> {
    let mut found = BTreeMap::new();
    for n in 0..1_000 {
        if found.len() == map.len() {
            break;
        }
        let key = format!("{{{prefix}-{n}}}:k");
        let slot = keyslot(conn, &key).await?;
        found
            .entry(owner(map, slot)?.to_owned())
            .or_insert((key, slot));
    }
    ensure!(
        found.len() == map.len(),
        "1000 hash tags did not reach every master: {found:?}"
    );
    Ok(found)
}

/// A plain (not cluster-aware) connection to one node.
async fn node(addr: &str) -> anyhow::Result<MultiplexedConnection> {
    let client = redis::Client::open(format!("redis://{addr}"))?;
    Ok(client.get_multiplexed_async_connection().await?)
}

fn is_cross_slot(error: &RedisError) -> bool {
    error.kind() == ErrorKind::Server(ServerErrorKind::CrossSlot)
}

/// Three masters, named by `REDIS_CLUSTER_URLS`, split all 16384 slots between them; a
/// key's slot depends only on its hash tag; each key lives on the master owning its slot,
/// and every other master answers `MOVED` to that one.
#[tokio::test]
async fn keys_with_different_hash_tags_live_on_different_nodes() -> anyhow::Result<()> {
    let mut conn = tests::redis_cluster_connection().await?;
    let map = slot_map(&mut conn).await?;

    let urls: BTreeSet<String> = tests::redis_cluster_urls()
        .iter()
        .map(|url| url.trim_start_matches("redis://").to_owned())
        .collect();
    let masters: BTreeSet<String> = map.keys().cloned().collect();
    ensure!(masters.len() == 3, "expected 3 masters, got {map:?}");
    ensure!(
        masters == urls,
        "masters {masters:?} are not REDIS_CLUSTER_URLS {urls:?}"
    );
    let mut covered = vec![0u8; usize::from(SLOTS)];
    for &(start, end) in map.values().flatten() {
        for slot in start..=end {
            covered[usize::from(slot)] += 1;
        }
    }
    ensure!(
        covered.iter().all(|&n| n == 1),
        "every slot must have exactly one master: {map:?}"
    );

    let prefix = tests::unique_name("bed-slot");
    let tag = format!("{prefix}-tag");
    let in_tag = keyslot(&mut conn, &format!("{{{tag}}}:a")).await?;
    ensure!(in_tag == keyslot(&mut conn, &format!("{{{tag}}}:b")).await?);
    ensure!(
        in_tag == keyslot(&mut conn, &tag).await?,
        "only the tag is hashed"
    );

    let placed = key_on_each_master(&mut conn, &map, &prefix).await?;
    let slots: BTreeSet<u16> = placed.values().map(|&(_, slot)| slot).collect();
    ensure!(slots.len() == 3, "one slot per master: {placed:?}");
    for (addr, (key, slot)) in &placed {
        let _: () = conn.set(key, addr).await?;
        for other in &masters {
            let mut direct = node(other).await?;
            let read: redis::RedisResult<Option<String>> = direct.get(key).await;
            if other == addr {
                ensure!(
                    read? == Some(addr.clone()),
                    "{key} (slot {slot}) is not on its owner {addr}"
                );
            } else {
                let error = match read {
                    Ok(value) => {
                        bail!("{other} served {key} (slot {slot}, owner {addr}): {value:?}")
                    }
                    Err(error) => error,
                };
                ensure!(
                    error.kind() == ErrorKind::Server(ServerErrorKind::Moved)
                        && error.redirect_node() == Some((addr.as_str(), *slot)),
                    "{other} should answer MOVED {slot} {addr} for {key}, got {error}"
                );
            }
        }
    }
    Ok(())
}

/// A command naming keys in two slots is refused with `CROSSSLOT` by the server (through
/// the cluster connection and on a plain connection to the node), and so is a pipeline
/// spanning slots by the `redis` crate's cluster connection, even a non-atomic one; with
/// one shared hash tag the same command and pipeline work.
#[tokio::test]
async fn commands_across_slots_fail_and_a_shared_hash_tag_makes_them_work() -> anyhow::Result<()> {
    let mut conn = tests::redis_cluster_connection().await?;
    let map = slot_map(&mut conn).await?;
    let prefix = tests::unique_name("bed-cross");
    let placed = key_on_each_master(&mut conn, &map, &prefix).await?;
    let mut keys = placed.iter();
    let (addr_a, (a, slot_a)) = keys.next().context("a first master")?;
    let (_, (b, slot_b)) = keys.next().context("a second master")?;
    ensure!(slot_a != slot_b);
    let dest = format!("{a}:union");
    let _: () = conn.zadd(a, "alice", 1).await?;
    let _: () = conn.zadd(b, "bob", 2).await?;

    let mut union = redis::cmd("ZUNIONSTORE");
    union.arg(&dest).arg(2).arg(a).arg(b);
    let through_cluster = union.query_async::<u64>(&mut conn).await;
    ensure!(
        through_cluster.as_ref().is_err_and(is_cross_slot),
        "ZUNIONSTORE over slots {slot_a} and {slot_b}: {through_cluster:?}"
    );
    let direct = union.query_async::<u64>(&mut node(addr_a).await?).await;
    ensure!(
        direct
            .as_ref()
            .is_err_and(|e| is_cross_slot(e) && e.code() == Some("CROSSSLOT")),
        "the node itself must refuse it with CROSSSLOT: {direct:?}"
    );

    let pipeline_across = redis::pipe()
        .zadd(a, "carol", 3)
        .ignore()
        .zadd(b, "carol", 3)
        .ignore()
        .query_async::<()>(&mut conn)
        .await;
    ensure!(
        pipeline_across.as_ref().is_err_and(is_cross_slot),
        "a pipeline over slots {slot_a} and {slot_b}: {pipeline_across:?}"
    );

    let shared = format!("{a}:other");
    let (added, count): (u64, u64) = redis::pipe()
        .zadd(&shared, "bob", 2)
        .cmd("ZUNIONSTORE")
        .arg(&dest)
        .arg(2)
        .arg(a)
        .arg(&shared)
        .query_async(&mut conn)
        .await?;
    ensure!(
        (added, count) == (1, 2),
        "{added} added, {count} in the union"
    );
    let union: Vec<(String, f64)> = conn.zrange_withscores(&dest, 0, -1).await?;
    ensure!(
        union == [("alice".to_owned(), 1.0), ("bob".to_owned(), 2.0)],
        "{union:?}"
    );
    Ok(())
}

/// Sorted sets on every master, written and read through the cluster connection: scores,
/// order, ranks and sizes come back as written.
#[tokio::test]
async fn sorted_sets_are_written_and_read_on_every_node() -> anyhow::Result<()> {
    let mut conn = tests::redis_cluster_connection().await?;
    let map = slot_map(&mut conn).await?;
    let prefix = tests::unique_name("bed-zset");
    let placed = key_on_each_master(&mut conn, &map, &prefix).await?;
    for (i, (key, _)) in placed.values().enumerate() {
        let base = i as f64 * 100.0;
        let members = [
            (base + 25.5, "alice"),
            (base + 30.0, "bob"),
            (base + 12.25, "carol"),
        ];
        let added: u64 = conn.zadd_multiple(key, &members).await?;
        ensure!(added == 3, "{key}: {added} added");
        let _: () = conn.zadd(key, "carol", base + 40.0).await?;
        let top: Vec<(String, f64)> = conn.zrevrange_withscores(key, 0, -1).await?;
        let expected = [
            ("carol".to_owned(), base + 40.0),
            ("bob".to_owned(), base + 30.0),
            ("alice".to_owned(), base + 25.5),
        ];
        ensure!(top == expected, "{key}: {top:?}");
        let rank: Option<u64> = conn.zrevrank(key, "alice").await?;
        let score: Option<f64> = conn.zscore(key, "alice").await?;
        let size: u64 = conn.zcard(key).await?;
        ensure!(
            (rank, score, size) == (Some(2), Some(base + 25.5), 3),
            "{key}: rank {rank:?}, score {score:?}, size {size}"
        );
    }
    Ok(())
}
