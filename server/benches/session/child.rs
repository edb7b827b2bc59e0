//! The measured side, in a child process of its own (so that its resident memory is the
//! server's alone): either the real server, one [`Shell`] per 64 players on one
//! current-thread runtime, or bare quinn on the same endpoints and transport settings,
//! sending one fixed-size datagram per connection per tick and counting what comes in.
//!
//! It talks to the parent over its stdin and stdout, one JSON line per message: it
//! prints [`Ready`] once bound, answers `baseline` (once the parent's warm-up clients
//! have played on the warm-up target) by closing the warm-up target and printing a
//! [`Baseline`], then answers `mark` with a [`Mark`] and `stop` with `{"stopped":true}`
//! after a clean shutdown.

use std::io::BufRead;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use server::game::MatchConfig;
use server::metrics::{Liveness, Metrics};
use server::net::{NetConfig, TlsIdentity};
use server::session::{AcceptError, SessionConfig};
use server::shell::{
    DEFAULT_STREAM_BACKLOG, PlayerSessions, Shell, ShellConfig, ShellHandle, TickMode,
};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::procfs::{self, ThreadTimes};

/// One endpoint the parent points clients at.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    pub(crate) fingerprint: [u8; 32],
    pub(crate) players: usize,
}

/// Printed once everything is bound and before any client connects.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Ready {
    pub(crate) targets: Vec<Target>,
    /// A separate endpoint (a shell of its own, or a bare endpoint) for
    /// [`WARM_UP_PLAYERS`] warm-up clients, closed before the baseline.
    pub(crate) warmup: Target,
    /// Resident memory with every endpoint bound and no connection, KiB ("cold").
    pub(crate) rss_kib: u64,
    /// Its anonymous part (`RssAnon`), KiB.
    pub(crate) anon_kib: u64,
}

/// Clients of the warm-up (a shell needs two: one per team).
pub(crate) const WARM_UP_PLAYERS: usize = 2;

/// The answer to `baseline`: memory once the warm-up clients have played and gone, and
/// their endpoint is closed, so code paths run once (their code pages faulted in,
/// lazily built state made) are not counted as the first players' memory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Baseline {
    pub(crate) rss_kib: u64,
    pub(crate) anon_kib: u64,
}

impl Baseline {
    fn now() -> Baseline {
        Baseline {
            rss_kib: procfs::rss_kib(),
            anon_kib: procfs::anon_kib(),
        }
    }
}

/// The child's counters at one instant (tick durations since the previous mark).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Mark {
    /// Nanoseconds since the child started (a monotonic clock).
    pub(crate) at_ns: u64,
    /// The runtime thread: the only thread that does the server's work.
    pub(crate) thread: ThreadTimes,
    pub(crate) rss_kib: u64,
    pub(crate) anon_kib: u64,
    pub(crate) datagrams_out: u64,
    pub(crate) bytes_out: u64,
    pub(crate) datagrams_in: u64,
    pub(crate) bytes_in: u64,
    /// Writes to the clients' streams, and their bytes.
    pub(crate) stream_writes: u64,
    pub(crate) stream_bytes_out: u64,
    /// Every tick since the previous mark, µs (the bare server's send loop, for bare).
    pub(crate) ticks_us: Vec<u64>,
}

/// What the child runs.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// The real server: `--child shell 64,64`.
    Shell,
    /// Bare quinn: `--child bare 64,64 <datagram bytes> <stream write bytes> <stream
    /// writes per connection per tick>`.
    Bare { size: usize, stream: StreamLoad },
}

/// The stream traffic bare quinn mimics: the server's event writes, `size` bytes each,
/// `per_tick` of them per connection per tick on average (spread evenly).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamLoad {
    pub(crate) size: usize,
    pub(crate) per_tick: f64,
}

/// The child's command line after `--child`.
pub(crate) fn args(kind: &Kind, sizes: &[usize], hz: u32) -> Vec<String> {
    let sizes = sizes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut args = vec!["--child".to_owned()];
    match kind {
        Kind::Shell => args.extend(["shell".to_owned(), sizes, hz.to_string()]),
        Kind::Bare { size, stream } => args.extend([
            "bare".to_owned(),
            sizes,
            hz.to_string(),
            size.to_string(),
            stream.size.to_string(),
            stream.per_tick.to_string(),
        ]),
    }
    args
}

/// Entry point of the child process (`args` follow `--child`).
pub(crate) fn main(args: &[String]) -> anyhow::Result<()> {
    let kind = match (
        args.first().map(String::as_str),
        args.get(3),
        args.get(4),
        args.get(5),
    ) {
        (Some("shell"), ..) => Kind::Shell,
        (Some("bare"), Some(size), Some(stream_size), Some(per_tick)) => Kind::Bare {
            size: size.parse().context("datagram size")?,
            stream: StreamLoad {
                size: stream_size.parse().context("stream write size")?,
                per_tick: per_tick.parse().context("stream writes per tick")?,
            },
        },
        _ => anyhow::bail!("usage: --child shell|bare SIZES HZ [BYTES STREAM_BYTES PER_TICK]"),
    };
    let sizes: Vec<usize> = args
        .get(1)
        .context("sizes")?
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .context("sizes")?;
    let hz: u32 = args.get(2).context("hz")?.parse().context("hz")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match kind {
            Kind::Shell => serve_shells(&sizes, hz).await,
            Kind::Bare { size, stream } => serve_bare(&sizes, hz, size, stream).await,
        }
    })
}

/// Lines from stdin, read on a thread of their own (it only blocks, never spins).
fn commands() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line.trim().to_owned()).is_err() {
                break;
            }
        }
    });
    rx
}

/// Lets every endpoint driver and loop run a few times before the baseline memory is
/// read, so that their one-off buffers (quinn allocates its receive buffers on the first
/// poll) count as fixed cost, not as the first players' memory.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(200)).await;
}

fn say(value: &impl Serialize) {
    println!(
        "{}",
        serde_json::to_string(value).expect("plain data serializes")
    );
}

fn loopback() -> NetConfig {
    NetConfig {
        bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        ..NetConfig::default()
    }
}

fn micros(durations: Vec<Duration>) -> Vec<u64> {
    durations.iter().map(|d| d.as_micros() as u64).collect()
}

/// GameLift answered in-process: every player session is accepted.
#[derive(Debug, Clone, Copy)]
struct AcceptAll;

impl PlayerSessions for AcceptAll {
    fn accept(&self, _id: String) -> impl Future<Output = Result<(), AcceptError>> + Send {
        std::future::ready(Ok(()))
    }

    fn remove(&self, _id: String) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }
}

async fn serve_shells(sizes: &[usize], hz: u32) -> anyhow::Result<()> {
    let started = Instant::now();
    let thread = procfs::this_thread_dir();
    let identity = TlsIdentity::self_signed(&["localhost".to_owned()])?;
    let mut targets = Vec::new();
    let mut handles = Vec::new();
    let mut metrics = Vec::new();
    let mut runs = JoinSet::new();
    let bind =
        |i: usize, players: usize| -> anyhow::Result<(Shell<AcceptAll>, ShellHandle, Metrics)> {
            let mut params = MatchConfig::default_params(&format!("gsess-bench-{i}"), i as u64 + 1);
            params.max_players = u8::try_from(players).context("at most 64 players a shell")?;
            params.tick_rate_hz = u16::try_from(hz).context("tick rate")?;
            // Longer than any run: the match never ends by itself during a measurement.
            params.duration_ticks = hz * 3_600;
            let mut game = MatchConfig::new(params);
            // Half a second of countdown once everyone is in, instead of three.
            game.rules.countdown_ticks = hz / 2;
            let config = ShellConfig {
                net: loopback(),
                session: SessionConfig::default(),
                game,
                tick: TickMode::Realtime,
                linger: Duration::from_secs(1),
                teams: Default::default(),
                stream_backlog: DEFAULT_STREAM_BACKLOG,
            };
            let m = Metrics::new();
            m.keep_tick_durations();
            let liveness = Arc::new(Liveness::new(Duration::from_secs(5)));
            let (shell, handle) = Shell::bind(config, &identity, AcceptAll, m.clone(), liveness)?;
            Ok((shell, handle, m))
        };
    let target = |handle: &ShellHandle, players: usize| Target {
        addr: handle.local_addr(),
        fingerprint: handle.fingerprint().0,
        players,
    };
    for (i, &players) in sizes.iter().enumerate() {
        let (shell, handle, m) = bind(i, players)?;
        targets.push(target(&handle, players));
        runs.spawn(shell.run());
        handles.push(handle);
        metrics.push(m);
    }
    let (warm_shell, warm_handle, _) = bind(sizes.len(), WARM_UP_PLAYERS)?;
    let warmup = target(&warm_handle, WARM_UP_PLAYERS);
    let warm_run = tokio::spawn(warm_shell.run());
    settle().await;
    say(&Ready {
        targets,
        warmup,
        rss_kib: procfs::rss_kib(),
        anon_kib: procfs::anon_kib(),
    });
    let mut commands = commands();
    let mut warm = Some((warm_handle, warm_run));
    while let Some(cmd) = commands.recv().await {
        match cmd.as_str() {
            "baseline" => {
                if let Some((handle, run)) = warm.take() {
                    handle.shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(10), run).await;
                }
                settle().await;
                say(&Baseline::now());
            }
            "mark" => {
                let mut mark = Mark {
                    at_ns: started.elapsed().as_nanos() as u64,
                    thread: procfs::thread_times(&thread),
                    rss_kib: procfs::rss_kib(),
                    anon_kib: procfs::anon_kib(),
                    ..Mark::default()
                };
                for m in &metrics {
                    mark.datagrams_out += m.datagrams_out.get();
                    mark.bytes_out += m.bytes_out.get();
                    mark.datagrams_in += m.datagrams_in.get();
                    mark.bytes_in += m.bytes_in.get();
                    mark.stream_writes += m.stream_writes.get();
                    mark.stream_bytes_out += m.stream_bytes_out.get();
                    mark.ticks_us.extend(micros(m.take_tick_durations()));
                }
                say(&mark);
            }
            "stop" => break,
            other => anyhow::bail!("unknown command {other:?}"),
        }
    }
    for h in &handles {
        h.shutdown();
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while runs.join_next().await.is_some() {}
    })
    .await;
    say(&serde_json::json!({ "stopped": true }));
    Ok(())
}

#[derive(Default)]
struct BareCounters {
    datagrams_out: AtomicU64,
    bytes_out: AtomicU64,
    datagrams_in: AtomicU64,
    bytes_in: AtomicU64,
    stream_writes: AtomicU64,
    stream_bytes_out: AtomicU64,
    ticks: Mutex<Vec<Duration>>,
}

/// A bare connection: its stream's send half (the client opens the stream) and how far
/// it is toward its next stream write.
struct BareConn {
    conn: quinn::Connection,
    send: quinn::SendStream,
    due: f64,
}

async fn serve_bare(
    sizes: &[usize],
    hz: u32,
    size: usize,
    stream: StreamLoad,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let thread = procfs::this_thread_dir();
    let identity = TlsIdentity::self_signed(&["localhost".to_owned()])?;
    let counters = Arc::new(BareCounters::default());
    let payload = Bytes::from(vec![0x5a; size]);
    let mut targets = Vec::new();
    let mut endpoints = Vec::new();
    let mut tasks = JoinSet::new();
    let serve = |players: usize,
                 tasks: &mut JoinSet<()>,
                 counters: Arc<BareCounters>|
     -> anyhow::Result<(quinn::Endpoint, Target)> {
        let endpoint = server::net::bind_endpoint(&loopback(), &identity)?;
        let target = Target {
            addr: endpoint.local_addr()?,
            fingerprint: identity.fingerprint().0,
            players,
        };
        let conns: Arc<Mutex<Vec<BareConn>>> = Arc::default();
        tasks.spawn(accept_loop(endpoint.clone(), conns.clone()));
        tasks.spawn(send_loop(conns, counters, payload.clone(), hz, stream));
        Ok((endpoint, target))
    };
    for &players in sizes {
        let (endpoint, target) = serve(players, &mut tasks, counters.clone())?;
        targets.push(target);
        endpoints.push(endpoint);
    }
    let mut warm_tasks = JoinSet::new();
    let (warm_endpoint, warmup) = serve(
        WARM_UP_PLAYERS,
        &mut warm_tasks,
        Arc::new(BareCounters::default()),
    )?;
    settle().await;
    say(&Ready {
        targets,
        warmup,
        rss_kib: procfs::rss_kib(),
        anon_kib: procfs::anon_kib(),
    });
    let mut commands = commands();
    let mut warm = Some((warm_endpoint, warm_tasks));
    while let Some(cmd) = commands.recv().await {
        match cmd.as_str() {
            "baseline" => {
                if let Some((endpoint, mut tasks)) = warm.take() {
                    tasks.abort_all();
                    while tasks.join_next().await.is_some() {}
                    endpoint.close(quinn::VarInt::from_u32(0), b"warm-up done");
                    let _ =
                        tokio::time::timeout(Duration::from_secs(2), endpoint.wait_idle()).await;
                }
                settle().await;
                say(&Baseline::now());
            }
            "mark" => {
                let ticks = std::mem::take(&mut *counters.ticks.lock().expect("not poisoned"));
                say(&Mark {
                    at_ns: started.elapsed().as_nanos() as u64,
                    thread: procfs::thread_times(&thread),
                    rss_kib: procfs::rss_kib(),
                    anon_kib: procfs::anon_kib(),
                    datagrams_out: counters.datagrams_out.load(Ordering::Relaxed),
                    bytes_out: counters.bytes_out.load(Ordering::Relaxed),
                    datagrams_in: counters.datagrams_in.load(Ordering::Relaxed),
                    bytes_in: counters.bytes_in.load(Ordering::Relaxed),
                    stream_writes: counters.stream_writes.load(Ordering::Relaxed),
                    stream_bytes_out: counters.stream_bytes_out.load(Ordering::Relaxed),
                    ticks_us: micros(ticks),
                });
            }
            "stop" => break,
            other => anyhow::bail!("unknown command {other:?}"),
        }
    }
    tasks.abort_all();
    for e in &endpoints {
        e.close(quinn::VarInt::from_u32(0), b"done");
    }
    for e in &endpoints {
        let _ = tokio::time::timeout(Duration::from_secs(2), e.wait_idle()).await;
    }
    say(&serde_json::json!({ "stopped": true }));
    Ok(())
}

async fn accept_loop(endpoint: quinn::Endpoint, conns: Arc<Mutex<Vec<BareConn>>>) {
    while let Some(incoming) = endpoint.accept().await {
        let Ok(connecting) = incoming.accept() else {
            continue;
        };
        let conns = conns.clone();
        tokio::spawn(async move {
            let Ok(conn) = connecting.await else { return };
            let Ok((send, _recv)) = conn.accept_bi().await else {
                return;
            };
            conns.lock().expect("not poisoned").push(BareConn {
                conn,
                send,
                due: 0.0,
            });
        });
    }
}

/// One datagram of `payload` to every connection per tick, like the shell's snapshots,
/// and `stream` like its event writes, after reading what each connection sent since the
/// last tick the way the shell does (polling `read_datagram` once with a no-op waker
/// until nothing is buffered), so both sides pay the same for receiving. Stream writes
/// are made as the shell makes them (one `write` polled once); what flow control holds
/// back is not retried (the clients read everything).
async fn send_loop(
    conns: Arc<Mutex<Vec<BareConn>>>,
    counters: Arc<BareCounters>,
    payload: Bytes,
    hz: u32,
    stream: StreamLoad,
) {
    let stream_payload = vec![0x3c; stream.size];
    let mut interval = tokio::time::interval(Duration::from_secs(1) / hz.max(1));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        interval.tick().await;
        let started = Instant::now();
        let mut conns = conns.lock().expect("not poisoned");
        conns.retain(|c| c.conn.close_reason().is_none());
        let mut cx = TaskContext::from_waker(Waker::noop());
        for c in conns.iter() {
            loop {
                let read = std::pin::pin!(c.conn.read_datagram());
                let Poll::Ready(Ok(d)) = read.poll(&mut cx) else {
                    break;
                };
                counters.datagrams_in.fetch_add(1, Ordering::Relaxed);
                counters
                    .bytes_in
                    .fetch_add(d.len() as u64, Ordering::Relaxed);
            }
        }
        for c in conns.iter_mut() {
            c.due += stream.per_tick;
            if c.due >= 1.0 && stream.size > 0 {
                c.due -= 1.0;
                let write = std::pin::pin!(c.send.write(&stream_payload)).poll(&mut cx);
                if let Poll::Ready(Ok(n)) = write {
                    counters.stream_writes.fetch_add(1, Ordering::Relaxed);
                    counters
                        .stream_bytes_out
                        .fetch_add(n as u64, Ordering::Relaxed);
                }
            }
            if c.conn.send_datagram(payload.clone()).is_ok() {
                counters.datagrams_out.fetch_add(1, Ordering::Relaxed);
                counters
                    .bytes_out
                    .fetch_add(payload.len() as u64, Ordering::Relaxed);
            }
        }
        drop(conns);
        counters
            .ticks
            .lock()
            .expect("not poisoned")
            .push(started.elapsed());
    }
}
