//! Placement: turning a proposed match into a game session players can connect to.
//!
//! **What it is:** the [`Placer`] trait the matchmaking driver hands each
//! [`ProposedMatch`] to, the [`PlacedMatch`] it answers with (the game session's address
//! and one player session per player), and [`DevPlacer`], which answers at once with
//! configured connection information, for tests and local runs without GameLift; and
//! [`GameLiftPlacer`], which places on a GameLift fleet or alias (or `fleet local`).
//!
//! **What it is not:** no retries and no ticket states: a failed placement is reported
//! as a [`PlacementFailure`] and the matchmaking core decides (return the tickets to the
//! pool, or fail them once their retry budget is spent). The placement record is written
//! by the driver, not the placer, so every placer gets that promise for free.

use std::collections::BTreeMap;
use std::net::IpAddr;

use protocol::http::{CertificateFingerprint, FailureReason};

use crate::matchmaking::ProposedMatch;
use crate::rankings::BoxFuture;

mod gamelift;

pub use gamelift::{Certificates, GameLiftPlacer, Target, matchmaker_data};

/// A placed match: where its game server is and each player's player session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedMatch {
    /// The GameLift game session id (an ARN): the match id of its result.
    pub game_session_id: String,
    /// The server's IP address.
    pub ip_address: IpAddr,
    /// The server's DNS name, when the fleet has one.
    pub dns_name: Option<String>,
    /// The server's UDP port.
    pub port: u16,
    /// SHA-256 of the server's TLS certificate.
    pub certificate_sha256: CertificateFingerprint,
    /// Player id → player session id, for every player of the match.
    pub player_sessions: BTreeMap<String, String>,
}

/// Why a placement failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason:?}: {message}")]
pub struct PlacementFailure {
    /// The code the tickets carry if this failure spends their retry budget.
    pub reason: FailureReason,
    /// For humans (and the ticket's `message`).
    pub message: String,
}

/// Places matches. Called once per proposed match, concurrently for different matches.
pub trait Placer: Send + Sync {
    /// Creates the game session and one player session per player of `proposed`.
    fn place<'a>(
        &'a self,
        proposed: &'a ProposedMatch,
    ) -> BoxFuture<'a, Result<PlacedMatch, PlacementFailure>>;

    /// Nobody is coming to a placed match (a ticket was cancelled while it was being
    /// placed, or its record could not be stored): end the game session. Best effort.
    fn release<'a>(&'a self, placed: &'a PlacedMatch) -> BoxFuture<'a, ()>;
}

/// A placer without GameLift: every match is "placed" at once on one configured address,
/// with made-up game and player session ids. For tests and local runs; nothing listens
/// there unless the caller started a session server itself.
#[derive(Debug, Clone)]
pub struct DevPlacer {
    /// The address handed out.
    pub ip_address: IpAddr,
    /// The port handed out.
    pub port: u16,
    /// The DNS name handed out.
    pub dns_name: Option<String>,
    /// The certificate fingerprint handed out.
    pub certificate_sha256: CertificateFingerprint,
}

impl Default for DevPlacer {
    fn default() -> Self {
        DevPlacer {
            ip_address: IpAddr::from([127, 0, 0, 1]),
            port: 7777,
            dns_name: None,
            certificate_sha256: CertificateFingerprint::of_der(b"dev-placer"),
        }
    }
}

impl Placer for DevPlacer {
    fn place<'a>(
        &'a self,
        proposed: &'a ProposedMatch,
    ) -> BoxFuture<'a, Result<PlacedMatch, PlacementFailure>> {
        Box::pin(async move {
            let session = crate::random_uuid();
            let game_session_id = format!(
                "arn:aws:gamelift:{}::gamesession/fleet-dev/gsess-{session}",
                proposed.region
            );
            let player_sessions = proposed
                .teams
                .iter()
                .flatten()
                .map(|p| {
                    let psess = format!("psess-{}", crate::random_uuid());
                    (p.player_id.clone(), psess)
                })
                .collect();
            Ok(PlacedMatch {
                game_session_id,
                ip_address: self.ip_address,
                dns_name: self.dns_name.clone(),
                port: self.port,
                certificate_sha256: self.certificate_sha256,
                player_sessions,
            })
        })
    }

    fn release<'a>(&'a self, placed: &'a PlacedMatch) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            tracing::debug!(game_session = %placed.game_session_id, "dev placer: released");
        })
    }
}
