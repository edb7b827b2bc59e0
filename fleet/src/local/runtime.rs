//! The tokio side of the engine: one shared [`Engine`] behind a lock, a driver task that
//! carries out its effects and ticks it at its deadlines, and the registry of live SDK
//! connections.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{Notify, mpsc};

use super::control_plane::builds::BuildStore;
use super::control_plane::catalog::Catalog;
use super::engine::{ConnId, Effect, Engine, FleetConfig, Millis};

/// What the driver hands a connection task.
#[derive(Debug)]
pub enum Outbound {
    /// A text frame to send.
    Text(String),
    /// Close the WebSocket with this code and reason, then stop.
    Close(u16, String),
}

/// Something that can kill a server process by id (the launcher, when there is one).
pub trait Killer: Send + Sync + 'static {
    /// Terminates the process (SIGTERM, then SIGKILL); unknown ids are ignored.
    fn kill(&self, process_id: &str);
}

struct Shared {
    engine: Mutex<Engine>,
    /// Woken whenever the engine may have effects or an earlier deadline.
    wake: Notify,
    conns: Mutex<HashMap<ConnId, mpsc::UnboundedSender<Outbound>>>,
    next_conn: Mutex<ConnId>,
    killer: Mutex<Option<Arc<dyn Killer>>>,
    /// Builds and fleets created through the API.
    catalog: Mutex<Catalog>,
    /// Where build files live, when fleet local was given a bucket.
    build_store: Mutex<Option<Arc<BuildStore>>>,
}

/// A cloneable handle on the running fleet.
#[derive(Clone)]
pub struct FleetHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FleetHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetHandle").finish_non_exhaustive()
    }
}

/// Wall-clock now in Unix epoch milliseconds, the engine's clock.
pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl FleetHandle {
    /// A fleet with this configuration. Call [`run`](Self::run) to drive it.
    pub fn new(cfg: FleetConfig) -> Self {
        Self {
            shared: Arc::new(Shared {
                engine: Mutex::new(Engine::new(cfg)),
                wake: Notify::new(),
                conns: Mutex::new(HashMap::new()),
                next_conn: Mutex::new(0),
                killer: Mutex::new(None),
                catalog: Mutex::new(Catalog::default()),
                build_store: Mutex::new(None),
            }),
        }
    }

    /// Runs `f` on the engine with the current time, then wakes the driver so any
    /// effects are carried out. Never hold it across an await.
    pub fn with_engine<R>(&self, f: impl FnOnce(&mut Engine, Millis) -> R) -> R {
        let r = f(&mut lock(&self.shared.engine), now_ms());
        self.shared.wake.notify_one();
        r
    }

    /// Sets who kills processes on the engine's behalf.
    pub fn set_killer(&self, killer: Arc<dyn Killer>) {
        *lock(&self.shared.killer) = Some(killer);
    }

    /// Runs `f` on the catalog of builds and created fleets. Never hold it across an
    /// await; taking the engine inside `f` is allowed (never the other way round).
    pub fn with_catalog<R>(&self, f: impl FnOnce(&mut Catalog) -> R) -> R {
        f(&mut lock(&self.shared.catalog))
    }

    /// Sets where build files live (CreateBuild and DescribeBuild need it).
    pub fn set_build_store(&self, store: BuildStore) {
        *lock(&self.shared.build_store) = Some(Arc::new(store));
    }

    /// The build store, if one was set.
    pub fn build_store(&self) -> Option<Arc<BuildStore>> {
        lock(&self.shared.build_store).clone()
    }

    /// Registers a new connection; frames for it arrive on the returned receiver.
    pub fn register(&self) -> (ConnId, mpsc::UnboundedReceiver<Outbound>) {
        let id = {
            let mut n = lock(&self.shared.next_conn);
            *n += 1;
            *n
        };
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.shared.conns).insert(id, tx);
        (id, rx)
    }

    /// Forgets a connection (its task ended).
    pub fn unregister(&self, conn: ConnId) {
        lock(&self.shared.conns).remove(&conn);
    }

    /// Drives the engine until `shutdown` resolves: carries out effects as they appear
    /// and ticks the engine at each deadline.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            // Every wake ticks the engine: a change (a process became ready, capacity
            // came back) may let a pending placement go ahead before any deadline.
            lock(&self.shared.engine).tick(now_ms());
            self.dispatch();
            let deadline = lock(&self.shared.engine).next_deadline();
            let sleep = match deadline {
                Some(t) => Duration::from_millis(u64::try_from(t - now_ms()).unwrap_or(0)),
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                () = &mut shutdown => break,
                () = self.shared.wake.notified() => {}
                () = tokio::time::sleep(sleep) => {}
            }
        }
        self.dispatch();
    }

    /// Carries out every queued effect.
    fn dispatch(&self) {
        loop {
            let Some(effect) = lock(&self.shared.engine).poll_effect() else {
                return;
            };
            match effect {
                Effect::Send { conn, text } => self.to_conn(conn, Outbound::Text(text)),
                Effect::Close { conn, code, reason } => {
                    self.to_conn(conn, Outbound::Close(code, reason));
                }
                Effect::Kill { process_id, .. } => {
                    let killer = lock(&self.shared.killer).clone();
                    if let Some(k) = killer {
                        k.kill(&process_id);
                    }
                }
            }
        }
    }

    fn to_conn(&self, conn: ConnId, msg: Outbound) {
        if let Some(tx) = lock(&self.shared.conns).get(&conn) {
            // A closed receiver means the connection task already ended.
            let _ = tx.send(msg);
        }
    }
}

/// Locks a mutex, recovering from poisoning: the engine's state stays consistent between
/// calls because every input is applied whole or not at all.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
