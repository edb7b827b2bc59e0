//! The QUIC endpoint players connect to: transport settings for untrusted clients, the
//! TLS identity, the dual-stack UDP socket, and the per-handshake admission decision.
//!
//! **What it is.** [`NetConfig`] (every knob, with defaults from `netcode.md` §1.6),
//! [`TlsIdentity`] (a certificate and key, today a per-process self-signed one from
//! rcgen, with the SHA-256 fingerprint of its DER that clients pin), [`bind_endpoint`]
//! (a `quinn::Endpoint` on a dual-stack socket, falling back to IPv4) and
//! [`decide_incoming`] (accept, retry or refuse a new handshake, a pure function the shell
//! calls for every `quinn::Incoming`).
//!
//! **What it is not.** It reads no bytes and knows no game: the shell owns the
//! connections, and the wire is [`protocol::game`]'s. It does not fetch the fleet's
//! certificate: `GetComputeCertificate` is not available under `fleet local`, so the
//! hook is [`TlsIdentity::from_der`], which main can feed with the fleet's certificate
//! chain and key once it reads them.

mod socket;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use quinn::{IdleTimeout, TransportConfig, VarInt};

pub use socket::{bind_dual_stack, bind_udp, set_recv_buffer};
pub use tls::{Fingerprint, TlsError, TlsIdentity};

/// How long a connection may stay silent before quinn drops it: 10 s, the top of
/// netcode.md §1.6's 5–10 s (GNS's `TimeoutConnected`), so a dead client's slot is freed
/// quickly while a stalled mobile link survives a few seconds.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Keep-alive: 1 s, well below the idle timeout (tick traffic usually keeps the
/// connection alive anyway; this covers a client in the lobby with nothing to send).
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(1);

/// Initial RTT estimate: 100 ms instead of QUIC's 333 ms, for a faster first PTO before
/// the first sample (netcode.md §1.6).
pub const DEFAULT_INITIAL_RTT: Duration = Duration::from_millis(100);

/// Receive window of the one stream, and of the whole connection: 64 KiB holds four
/// largest stream messages (`MAX_STREAM_MESSAGE_SIZE`) while capping what an untrusted
/// client can make the server buffer.
pub const DEFAULT_STREAM_WINDOW: u32 = 64 * 1024;

/// Send window for the stream: the server sends `Welcome`, events and `Disconnect` only.
pub const DEFAULT_SEND_WINDOW: u64 = 256 * 1024;

/// Incoming datagram buffer: 32 KiB, about 30 full-size client datagrams; an app that
/// falls behind drops the oldest (netcode.md §1.6 suggests 16–64 KB).
pub const DEFAULT_DATAGRAM_RECV_BUFFER: usize = 32 * 1024;

/// Outgoing datagram buffer: four full snapshots (about 4 ticks), so a stale snapshot is
/// dropped rather than queued behind congestion (netcode.md §1.6, quinn #1359).
pub const DEFAULT_DATAGRAM_SEND_BUFFER: usize = 4 * protocol::game::MAX_DATAGRAM_SIZE;

/// Handshakes quinn may queue before the shell sees them (`max_incoming`): 256, about
/// four full matches connecting at once; beyond it quinn refuses on its own.
pub const DEFAULT_MAX_INCOMING: usize = 256;

/// Unvalidated handshakes in progress above which new ones must first prove their address
/// with a Retry round trip: 32, half a full match, so a normal match start never pays
/// the extra round trip and a spoofed flood does not cost a TLS handshake each.
pub const DEFAULT_RETRY_THRESHOLD: usize = 32;

/// The endpoint's configuration. Build it with [`Default`] and override fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetConfig {
    /// Address to bind. `[::]:port` binds dual-stack (IPv4 falls back if IPv6 is absent).
    pub bind: SocketAddr,
    /// See [`DEFAULT_IDLE_TIMEOUT`].
    pub idle_timeout: Duration,
    /// See [`DEFAULT_KEEP_ALIVE`].
    pub keep_alive: Duration,
    /// See [`DEFAULT_INITIAL_RTT`].
    pub initial_rtt: Duration,
    /// See [`DEFAULT_STREAM_WINDOW`].
    pub stream_window: u32,
    /// See [`DEFAULT_SEND_WINDOW`].
    pub send_window: u64,
    /// See [`DEFAULT_DATAGRAM_RECV_BUFFER`].
    pub datagram_recv_buffer: usize,
    /// See [`DEFAULT_DATAGRAM_SEND_BUFFER`].
    pub datagram_send_buffer: usize,
    /// See [`DEFAULT_MAX_INCOMING`].
    pub max_incoming: usize,
    /// See [`DEFAULT_RETRY_THRESHOLD`]; 0 retries every unvalidated handshake.
    pub retry_threshold: usize,
    /// The UDP socket's receive buffer (`SO_RCVBUF`, bytes); `None` keeps the OS default
    /// (Linux: `net.core.rmem_default`, 208 KiB). Every player's datagrams land in this
    /// one socket between two reads at the tick: a process hosting hundreds of players
    /// should raise it (the session bench's clients lost 13% of their snapshots at 1,024
    /// players on two sockets with the default; 4 MiB fixed it). The kernel caps it at
    /// `net.core.rmem_max` ([`set_recv_buffer`] warns then).
    pub udp_recv_buffer: Option<usize>,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([0u16; 8], 0)),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            keep_alive: DEFAULT_KEEP_ALIVE,
            initial_rtt: DEFAULT_INITIAL_RTT,
            stream_window: DEFAULT_STREAM_WINDOW,
            send_window: DEFAULT_SEND_WINDOW,
            datagram_recv_buffer: DEFAULT_DATAGRAM_RECV_BUFFER,
            datagram_send_buffer: DEFAULT_DATAGRAM_SEND_BUFFER,
            max_incoming: DEFAULT_MAX_INCOMING,
            retry_threshold: DEFAULT_RETRY_THRESHOLD,
            udp_recv_buffer: None,
        }
    }
}

/// Why the endpoint could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The idle timeout does not fit QUIC's varint.
    #[error("idle timeout {0:?} is out of range")]
    IdleTimeout(Duration),
    /// The TLS configuration was refused.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// Binding the UDP socket or starting the endpoint failed.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

impl NetConfig {
    /// The transport settings for untrusted game clients: one client-opened bidi
    /// stream, no uni streams, small windows and datagram buffers.
    pub fn transport(&self) -> Result<TransportConfig, NetError> {
        let mut t = TransportConfig::default();
        let idle = IdleTimeout::try_from(self.idle_timeout)
            .map_err(|_| NetError::IdleTimeout(self.idle_timeout))?;
        t.max_idle_timeout(Some(idle))
            .keep_alive_interval(Some(self.keep_alive))
            .initial_rtt(self.initial_rtt)
            .max_concurrent_bidi_streams(VarInt::from_u32(1))
            .max_concurrent_uni_streams(VarInt::from_u32(0))
            .stream_receive_window(VarInt::from_u32(self.stream_window))
            .receive_window(VarInt::from_u32(self.stream_window))
            .send_window(self.send_window)
            .datagram_receive_buffer_size(Some(self.datagram_recv_buffer))
            .datagram_send_buffer_size(self.datagram_send_buffer);
        // Ask the client (QUIC ACK frequency extension, when it supports it) to acknowledge
        // every 11th packet or after its ACK delay, not every 2nd: its inputs carry the
        // ACKs then, instead of ACK-only packets (fewer packets on both sides: about 10%
        // less CPU per player in the session benchmark).
        let mut acks = quinn::AckFrequencyConfig::default();
        acks.ack_eliciting_threshold(VarInt::from_u32(10))
            .max_ack_delay(Some(Duration::from_millis(50)));
        t.ack_frequency_config(Some(acks));
        Ok(t)
    }

    /// The quinn server configuration: [`transport`](Self::transport), the TLS identity
    /// with ALPN `gls/1`, and the bounded incoming queue.
    pub fn server_config(&self, identity: &TlsIdentity) -> Result<quinn::ServerConfig, NetError> {
        let mut config = quinn::ServerConfig::with_crypto(identity.quic_server_config()?);
        config.transport_config(Arc::new(self.transport()?));
        config.max_incoming(self.max_incoming);
        // Each queued handshake may buffer at most a few Initial packets.
        config.incoming_buffer_size(16 * 1024);
        config.incoming_buffer_size_total(self.max_incoming as u64 * 16 * 1024);
        Ok(config)
    }
}

/// Binds the endpoint on `config.bind` (dual-stack when it is `[::]`) with `identity`.
/// Must run inside a tokio runtime.
pub fn bind_endpoint(
    config: &NetConfig,
    identity: &TlsIdentity,
) -> Result<quinn::Endpoint, NetError> {
    let server = config.server_config(identity)?;
    let bind_error = |source| NetError::Bind {
        addr: config.bind,
        source,
    };
    let socket = bind_udp(config.bind).map_err(bind_error)?;
    if let Some(bytes) = config.udp_recv_buffer {
        set_recv_buffer(&socket, bytes).map_err(bind_error)?;
    }
    quinn::Endpoint::new(
        quinn::EndpointConfig::default(),
        Some(server),
        socket,
        Arc::new(quinn::TokioRuntime),
    )
    .map_err(bind_error)
}

/// What to do with a new handshake (`quinn::Incoming`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IncomingDecision {
    /// Go on with the handshake.
    Accept,
    /// Send a stateless Retry: the client must prove it owns its address first.
    Retry,
    /// Refuse at once (`CONNECTION_REFUSED`): no slot or no room to admit.
    Refuse,
}

/// Decides a new handshake: refuse when the session cannot take anyone now (`full`: no
/// free slot, or the pending-connection cap is reached), make an unvalidated client retry
/// when more than `retry_threshold` handshakes are already in progress (if quinn still
/// may retry it), accept otherwise.
pub fn decide_incoming(
    full: bool,
    address_validated: bool,
    may_retry: bool,
    handshaking: usize,
    retry_threshold: usize,
) -> IncomingDecision {
    if full {
        IncomingDecision::Refuse
    } else if !address_validated && may_retry && handshaking >= retry_threshold {
        IncomingDecision::Retry
    } else {
        IncomingDecision::Accept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_sessions_refuse_before_anything_else() {
        assert_eq!(
            decide_incoming(true, true, false, 0, 0),
            IncomingDecision::Refuse
        );
        assert_eq!(
            decide_incoming(true, false, true, 99, 1),
            IncomingDecision::Refuse
        );
    }

    #[test]
    fn retry_only_above_the_threshold_and_only_once() {
        assert_eq!(
            decide_incoming(false, false, true, 31, 32),
            IncomingDecision::Accept
        );
        assert_eq!(
            decide_incoming(false, false, true, 32, 32),
            IncomingDecision::Retry
        );
        // Already validated (came back with a Retry token): no second Retry.
        assert_eq!(
            decide_incoming(false, true, false, 99, 32),
            IncomingDecision::Accept
        );
        assert_eq!(
            decide_incoming(false, false, false, 99, 32),
            IncomingDecision::Accept
        );
    }

    #[test]
    fn transport_defaults_build() {
        NetConfig::default()
            .transport()
            .expect("defaults are valid");
        let bad = NetConfig {
            idle_timeout: Duration::from_secs(u64::MAX / 2),
            ..NetConfig::default()
        };
        assert!(matches!(bad.transport(), Err(NetError::IdleTimeout(_))));
    }
}
