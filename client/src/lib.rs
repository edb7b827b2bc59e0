//! The game-client library: QUIC with certificate pinning, `Hello`/`Welcome`, inputs with
//! redundancy, delta snapshots applied and acked, interpolation, events, typed
//! disconnect reasons and resume; and, as binaries, a bot and a load generator.
//!
//! **What it is not:** a renderer or an engine integration; it depends on neither the
//! server nor the backend, only on [`protocol`], exactly as a third-party client would.
//!
//! A test drives a bot like this:
//!
//! ```no_run
//! # async fn run(info: protocol::http::ConnectionInfo) -> Result<(), client::ConnectError> {
//! use std::time::Duration;
//! let session = client::connect(&info, &client::ClientOptions::default()).await?;
//! let outcome = client::bot::play(session, Duration::from_millis(33), Duration::from_secs(60)).await;
//! println!("player {} scored {}", outcome.player, outcome.score);
//! # Ok(()) }
//! ```

pub mod bot;
pub mod cli;
pub mod interp;
pub mod matchmaking;
pub mod session;
pub mod state;
pub mod tls;

pub use interp::{RenderPlayer, RenderWorld, interpolate};
pub use matchmaking::{Matchmaking, MatchmakingError};
pub use session::{
    CLIENT_CLOSE, ClientOptions, CloseReason, ConnectError, DatagramCounters, SendError, Session,
    SessionStats, client_config, connect, resume,
};
pub use state::{ClientState, SnapshotCounters, SnapshotOutcome};
pub use tls::PinnedCertVerifier;

/// Builds a [`ConnectionInfo`](protocol::http::ConnectionInfo) from its parts, for tools
/// and tests that do not go through matchmaking.
pub fn connection_info(
    ip: std::net::IpAddr,
    port: u16,
    certificate_sha256: protocol::http::CertificateFingerprint,
    player_session_id: impl Into<String>,
) -> protocol::http::ConnectionInfo {
    protocol::http::ConnectionInfo {
        ip_address: ip,
        dns_name: None,
        port,
        player_session_id: player_session_id.into(),
        game_session_id: String::new(),
        certificate_sha256,
    }
}
