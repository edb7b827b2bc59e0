//! A minimal game server on the SDK, used by the local-fleet integration tests.
//!
//! `minimal_server [PORT]` (default 7777): reads `GAMELIFT_SDK_*` from the environment,
//! calls `process_ready` with the port, activates every game session it is given,
//! reports healthy, and on `TerminateProcess` calls `process_ending`, `destroy` and exits 0.
//! It does not listen on the port: it stands in for a game's lifecycle, not its gameplay.

use std::process::ExitCode;

use gamelift_server_sdk::sdk5::GameSession;
use gamelift_server_sdk::{GameLiftServer, ProcessHandler, ProcessParameters};
use tokio::sync::mpsc;

/// The game's callbacks.
struct Game {
    server: GameLiftServer,
    terminate: mpsc::UnboundedSender<i64>,
}

impl ProcessHandler for Game {
    async fn on_start_game_session(&self, game_session: GameSession) {
        eprintln!(
            "minimal_server: starting game session {}",
            game_session.game_session_id
        );
        match self.server.activate_game_session().await {
            Ok(()) => eprintln!("minimal_server: game session active"),
            Err(error) => eprintln!("minimal_server: ActivateGameSession failed: {error}"),
        }
    }

    async fn on_process_terminate(&self, termination_time_ms: i64) {
        eprintln!("minimal_server: asked to terminate by {termination_time_ms} ms");
        let _ = self.terminate.send(termination_time_ms);
    }

    async fn on_health_check(&self) -> bool {
        true
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let port = match std::env::args().nth(1).map(|arg| arg.parse::<u16>()) {
        None => 7777,
        Some(Ok(port)) => port,
        Some(Err(error)) => {
            eprintln!("minimal_server: bad port: {error}");
            return ExitCode::from(2);
        }
    };
    let server = match GameLiftServer::init_sdk_from_environment().await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("minimal_server: InitSDK failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    let (terminate, mut terminated) = mpsc::unbounded_channel();
    let game = Game {
        server: server.clone(),
        terminate,
    };
    let params = ProcessParameters {
        port,
        log_paths: Vec::new(),
    };
    if let Err(error) = server.process_ready(params, game).await {
        eprintln!("minimal_server: ProcessReady failed: {error}");
        return ExitCode::FAILURE;
    }
    eprintln!("minimal_server: ready on port {port}");
    terminated.recv().await;
    let ended = server.process_ending().await;
    let _ = server.destroy().await;
    match ended {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("minimal_server: ProcessEnding failed: {error}");
            ExitCode::FAILURE
        }
    }
}
