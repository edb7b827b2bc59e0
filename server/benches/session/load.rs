//! The load, in the parent process: real bots ([`client::connect`] and
//! [`client::bot::play_shared`], one connection each, as a game client), or bare quinn
//! clients for the baseline, spread over a few threads that each run a current-thread
//! runtime with one QUIC endpoint its clients share.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use client::{ClientOptions, DatagramCounters, Session, bot};
use protocol::http::ConnectionInfo;
use tokio::task::LocalSet;

use crate::procfs::{self, ThreadTimes};

/// Clients running on `threads` threads.
pub(crate) struct Load {
    threads: Vec<JoinHandle<()>>,
    dirs: Arc<Mutex<Vec<PathBuf>>>,
    /// Connected bots (bots mode), for their statistics and world views.
    pub(crate) sessions: Arc<Mutex<Vec<Arc<Session>>>>,
    /// Connected clients.
    pub(crate) connected: Arc<AtomicUsize>,
    /// Connect errors.
    pub(crate) failed: Arc<Mutex<Vec<String>>>,
    /// Bare mode: datagrams of every client together.
    pub(crate) bare: Arc<BareTally>,
}

/// What the bare clients sent and received, together.
#[derive(Debug, Default)]
pub(crate) struct BareTally {
    sent: AtomicU64,
    bytes_sent: AtomicU64,
    received: AtomicU64,
    bytes_received: AtomicU64,
}

impl BareTally {
    fn sent(&self, len: usize) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        self.bytes_sent.fetch_add(len as u64, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> DatagramCounters {
        DatagramCounters {
            sent: self.sent.load(Ordering::Relaxed),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            bytes_received: self.bytes_received.load(Ordering::Relaxed),
        }
    }
}

/// How the bare clients mimic the bots' upstream traffic: one datagram every
/// `input_interval` (the bot's `Inputs`, which carry its snapshot acks since protocol
/// version 3), of `size` bytes (the bots' mean).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BareUpstream {
    pub(crate) size: usize,
}

/// Which clients to run.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    Bots,
    Bare(BareUpstream),
}

/// Starts one client per `infos` entry over `threads` threads, the i-th connecting
/// after `ramp × i`; bots leave by themselves after `limit`, bare clients when the
/// server closes.
pub(crate) fn start(
    mode: Mode,
    infos: Vec<ConnectionInfo>,
    threads: usize,
    cpus: Option<String>,
    ramp: Duration,
    input_interval: Duration,
    limit: Duration,
) -> Load {
    let load = Load {
        threads: Vec::new(),
        dirs: Arc::default(),
        sessions: Arc::default(),
        connected: Arc::default(),
        failed: Arc::default(),
        bare: Arc::default(),
    };
    let threads = threads.max(1);
    let mut groups: Vec<Vec<(usize, ConnectionInfo)>> = vec![Vec::new(); threads];
    for (i, info) in infos.into_iter().enumerate() {
        groups[i % threads].push((i, info));
    }
    let mut handles = Vec::new();
    for group in groups {
        let (dirs, sessions, connected, failed, bare) = (
            load.dirs.clone(),
            load.sessions.clone(),
            load.connected.clone(),
            load.failed.clone(),
            load.bare.clone(),
        );
        let cpus = cpus.clone();
        handles.push(std::thread::spawn(move || {
            let dir = procfs::this_thread_dir();
            if let Some(cpus) = cpus {
                procfs::pin(&dir, &cpus);
            }
            dirs.lock().expect("not poisoned").push(dir);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            let local = LocalSet::new();
            local.block_on(&runtime, async move {
                // One UDP socket per client thread, shared by its clients (bots and bare
                // alike): the load costs less, so more of the machine is left to the
                // server under test.
                let endpoint = shared_endpoint().expect("a client endpoint");
                let mut tasks = Vec::new();
                for (i, info) in group {
                    let c = Client {
                        endpoint: endpoint.clone(),
                        sessions: sessions.clone(),
                        connected: connected.clone(),
                        failed: failed.clone(),
                        bare: bare.clone(),
                    };
                    let delay = ramp * i as u32;
                    tasks.push(tokio::task::spawn_local(async move {
                        // Ramp pacing, not synchronisation.
                        tokio::time::sleep(delay).await;
                        match mode {
                            Mode::Bots => c.bot(i, info, input_interval, limit).await,
                            Mode::Bare(up) => c.bare(info, up, input_interval).await,
                        }
                    }));
                }
                for t in tasks {
                    let _ = t.await;
                }
            });
        }));
    }
    Load {
        threads: handles,
        ..load
    }
}

/// Receive buffer of a client thread's shared socket. Hundreds of connections share it,
/// so the default (about 200 KiB, some hundreds of packets) overflows whenever the thread
/// stalls for a few ms and the kernel drops snapshots (`RcvbufErrors`): at 1,024 clients
/// on two sockets that cost 13% of the snapshots. Linux caps it at `net.core.rmem_max`.
const CLIENT_RECV_BUFFER: usize = 4 << 20;

/// A client endpoint on loopback whose socket has [`CLIENT_RECV_BUFFER`].
fn shared_endpoint() -> std::io::Result<quinn::Endpoint> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    socket.set_recv_buffer_size(CLIENT_RECV_BUFFER)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())?;
    quinn::Endpoint::new(
        quinn::EndpointConfig::default(),
        None,
        socket.into(),
        Arc::new(quinn::TokioRuntime),
    )
}

struct Client {
    endpoint: quinn::Endpoint,
    sessions: Arc<Mutex<Vec<Arc<Session>>>>,
    connected: Arc<AtomicUsize>,
    failed: Arc<Mutex<Vec<String>>>,
    bare: Arc<BareTally>,
}

impl Client {
    fn fail(&self, error: String) {
        self.failed.lock().expect("not poisoned").push(error);
    }

    async fn bot(self, i: usize, info: ConnectionInfo, input_interval: Duration, limit: Duration) {
        let opts = ClientOptions {
            name: format!("bot{i}"),
            endpoint: Some(self.endpoint.clone()),
            ..ClientOptions::default()
        };
        match client::connect(&info, &opts).await {
            Ok(session) => {
                let session = Arc::new(session);
                self.sessions
                    .lock()
                    .expect("not poisoned")
                    .push(session.clone());
                self.connected.fetch_add(1, Ordering::Relaxed);
                bot::play_shared(&session, input_interval, limit).await;
            }
            Err(e) => self.fail(e.to_string()),
        }
    }

    async fn bare(self, info: ConnectionInfo, up: BareUpstream, input_interval: Duration) {
        let result = async {
            let config = client::client_config(&info, &ClientOptions::default())?;
            let addr = SocketAddr::new(info.ip_address, info.port);
            let conn = self
                .endpoint
                .connect_with(config, addr, "localhost")?
                .await?;
            // The stream the server writes its "events" to, opened as a bot opens its
            // stream (a stream is visible to the peer once it carries a byte).
            let (mut send, recv) = conn.open_bi().await?;
            send.write_all(&[0]).await?;
            anyhow::Ok((conn, send, recv))
        };
        let (conn, _send, mut recv) = match result.await {
            Ok(c) => c,
            Err(e) => return self.fail(e.to_string()),
        };
        self.connected.fetch_add(1, Ordering::Relaxed);
        let upstream = Bytes::from(vec![0xa5; up.size]);
        let mut tick = tokio::time::interval(input_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                d = conn.read_datagram() => match d {
                    Ok(d) => {
                        self.bare.received.fetch_add(1, Ordering::Relaxed);
                        self.bare.bytes_received.fetch_add(d.len() as u64, Ordering::Relaxed);
                    }
                    Err(_) => break,
                },
                chunk = recv.read_chunk(4096, true) => {
                    if !matches!(chunk, Ok(Some(_))) {
                        break;
                    }
                }
                _ = tick.tick() => {
                    if conn.send_datagram(upstream.clone()).is_ok() {
                        self.bare.sent(up.size);
                    }
                }
            }
        }
    }
}

impl Load {
    /// CPU and run-queue wait of the client threads together.
    pub(crate) fn times(&self) -> ThreadTimes {
        self.dirs
            .lock()
            .expect("not poisoned")
            .iter()
            .map(|d| procfs::thread_times(d))
            .fold(ThreadTimes::default(), ThreadTimes::plus)
    }

    /// Clients that connected or failed so far.
    pub(crate) fn settled(&self) -> usize {
        self.connected.load(Ordering::Relaxed) + self.failed.lock().expect("not poisoned").len()
    }

    /// Waits for every client thread to finish (they do once the server has closed).
    pub(crate) fn join(self) {
        for t in self.threads {
            let _ = t.join();
        }
        self.sessions.lock().expect("not poisoned").clear();
    }
}
