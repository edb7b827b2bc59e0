//! Command-line helpers shared by the `bot` and `loadgen` binaries: where the server is
//! and how to turn that into [`ConnectionInfo`]s.
//!
//! **What it is not:** matchmaking; the player session ids must already exist.

use std::net::IpAddr;

use protocol::http::{CertificateFingerprint, ConnectionInfo};

/// The server to connect to, as given on a command line.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Game server host: an IP address or a DNS name.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Game server UDP port.
    #[arg(long)]
    pub port: u16,
    /// SHA-256 of the server's certificate (DER), 64 hex digits.
    #[arg(long)]
    pub fingerprint: CertificateFingerprint,
}

impl ServerArgs {
    /// Resolves the host and builds the connection info for `player_session_id`.
    pub async fn connection_info(&self, player_session_id: &str) -> anyhow::Result<ConnectionInfo> {
        let (ip, dns_name) = match self.host.parse::<IpAddr>() {
            Ok(ip) => (ip, None),
            Err(_) => {
                let addr = tokio::net::lookup_host((self.host.as_str(), self.port))
                    .await?
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("{} resolves to no address", self.host))?;
                (addr.ip(), Some(self.host.clone()))
            }
        };
        Ok(ConnectionInfo {
            ip_address: ip,
            dns_name,
            port: self.port,
            player_session_id: player_session_id.to_owned(),
            game_session_id: String::new(),
            certificate_sha256: self.fingerprint,
        })
    }
}

/// One entry of a sessions file: a bare player session id (the server comes from the
/// command line) or a whole connection info as matchmaking returns it.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum SessionEntry {
    /// A player session id.
    Id(String),
    /// A full connection info.
    Info(ConnectionInfo),
}

/// Reads a JSON array of [`SessionEntry`].
pub fn read_sessions_file(path: &std::path::Path) -> anyhow::Result<Vec<SessionEntry>> {
    let text = std::fs::read_to_string(path)?;
    Ok(serde_json::from_str(&text)?)
}
