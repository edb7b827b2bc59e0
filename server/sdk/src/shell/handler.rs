//! The game's side of the process hooks: [`ProcessHandler`] and the task that calls it.

use std::future::Future;
use std::sync::Arc;

use protocol::sdk5::{GameSession, UpdateGameSession};
use tokio::sync::mpsc;

/// The callbacks of `ProcessReady` (Go `ProcessParameters.OnStartGameSession`, …), as
/// async methods.
///
/// Each callback runs in its own tokio task, like the official SDKs' detached threads,
/// so a slow `on_start_game_session` never delays a health check. Keep a clone of the
/// [`GameLiftServer`](crate::GameLiftServer) in the handler to call back into the SDK
/// (for example `activate_game_session` once the session is loaded).
pub trait ProcessHandler: Send + Sync + 'static {
    /// A `CreateGameSession` push arrived: load the session, then call
    /// [`activate_game_session`](crate::GameLiftServer::activate_game_session).
    fn on_start_game_session(&self, game_session: GameSession) -> impl Future<Output = ()> + Send;

    /// An `UpdateGameSession` push arrived (FlexMatch backfill results). Default: ignore.
    fn on_update_game_session(&self, update: UpdateGameSession) -> impl Future<Output = ()> + Send {
        let _ = update;
        async {}
    }

    /// A `TerminateProcess` push arrived: finish, call
    /// [`process_ending`](crate::GameLiftServer::process_ending), then exit. The time is
    /// also kept for [`get_termination_time`](crate::GameLiftServer::get_termination_time).
    fn on_process_terminate(&self, termination_time_ms: i64) -> impl Future<Output = ()> + Send;

    /// Is the process healthy? Called right after `ProcessReady` and then every 60 s ± 10 s;
    /// an answer that takes more than 50 s counts as `false`. Default: `true` (the C++
    /// SDK's behaviour without a callback).
    fn on_health_check(&self) -> impl Future<Output = bool> + Send {
        async { true }
    }
}

/// What the driver hands to the handler task.
#[derive(Debug)]
pub(crate) enum Dispatch {
    /// `on_start_game_session`.
    Start(GameSession),
    /// `on_update_game_session`.
    Update(UpdateGameSession),
    /// `on_process_terminate`.
    Terminate(i64),
    /// `on_health_check`; answer on the health channel with this id.
    Health(u64),
}

/// Runs `handler` for every dispatched event until the driver drops the sender.
pub(crate) fn spawn_dispatcher<H: ProcessHandler>(
    handler: H,
    mut events: mpsc::UnboundedReceiver<Dispatch>,
    health: mpsc::UnboundedSender<(u64, bool)>,
) {
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            let handler = handler.clone();
            match event {
                Dispatch::Start(session) => {
                    tokio::spawn(async move { handler.on_start_game_session(session).await });
                }
                Dispatch::Update(update) => {
                    tokio::spawn(async move { handler.on_update_game_session(update).await });
                }
                Dispatch::Terminate(time) => {
                    tokio::spawn(async move { handler.on_process_terminate(time).await });
                }
                Dispatch::Health(id) => {
                    let health = health.clone();
                    tokio::spawn(async move {
                        let healthy = handler.on_health_check().await;
                        let _ = health.send((id, healthy));
                    });
                }
            }
        }
    });
}
