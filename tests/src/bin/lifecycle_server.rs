//! A small game server on `gamelift-server-sdk`, for end-to-end tests under `fleet local`.
//!
//! It listens on a TCP port of its own (127.0.0.1, picked by the OS) and reports that port
//! in ProcessReady. A "player" connects and sends one line, its player-session id; the
//! server calls AcceptPlayerSession and answers `accepted` or `refused: <error>`. It
//! activates every game session it is given, and on TerminateProcess calls ProcessEnding
//! and exits 0. With `--unhealthy` its health check reports false.

use std::process::ExitCode;
use std::sync::Arc;

use gamelift_server_sdk::sdk5::GameSession;
use gamelift_server_sdk::{GameLiftServer, ProcessHandler, ProcessParameters};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

struct Game {
    server: GameLiftServer,
    healthy: bool,
    terminate: mpsc::UnboundedSender<()>,
}

impl ProcessHandler for Game {
    async fn on_start_game_session(&self, game_session: GameSession) {
        eprintln!(
            "lifecycle_server: game session {}",
            game_session.game_session_id
        );
        if let Err(e) = self.server.activate_game_session().await {
            eprintln!("lifecycle_server: ActivateGameSession failed: {e}");
        }
    }

    async fn on_process_terminate(&self, _termination_time_ms: i64) {
        let _ = self.terminate.send(());
    }

    async fn on_health_check(&self) -> bool {
        self.healthy
    }
}

async fn admit(server: GameLiftServer, socket: tokio::net::TcpStream) {
    let (read, mut write) = socket.into_split();
    let mut line = String::new();
    if BufReader::new(read).read_line(&mut line).await.is_err() {
        return;
    }
    let answer = match server.accept_player_session(line.trim()).await {
        Ok(()) => "accepted\n".to_owned(),
        Err(e) => format!("refused: {e}\n"),
    };
    let _ = write.write_all(answer.as_bytes()).await;
}

#[tokio::main]
async fn main() -> ExitCode {
    let healthy = !std::env::args().any(|a| a == "--unhealthy");
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("lifecycle_server: bind failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let server = match GameLiftServer::init_sdk_from_environment().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("lifecycle_server: InitSDK failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (terminate, mut terminated) = mpsc::unbounded_channel();
    let game = Game {
        server: server.clone(),
        healthy,
        terminate,
    };
    let params = ProcessParameters {
        port,
        log_paths: Vec::new(),
    };
    if let Err(e) = server.process_ready(params, game).await {
        eprintln!("lifecycle_server: ProcessReady failed: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!("lifecycle_server: ready on port {port}");
    let accepting = Arc::new(server.clone());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((socket, _)) = accepted {
                    tokio::spawn(admit((*accepting).clone(), socket));
                }
            }
            _ = terminated.recv() => break,
        }
    }
    let ended = server.process_ending().await;
    let _ = server.destroy().await;
    match ended {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lifecycle_server: ProcessEnding failed: {e}");
            ExitCode::FAILURE
        }
    }
}
