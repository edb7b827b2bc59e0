//! Test fixtures: self-signed certificates and a tiny quinn server that speaks the game
//! wire one scripted message at a time. Not a mock of the session server: no rules, no
//! ticks; each test decides what the server says and checks what the client sent.

#![allow(dead_code, unreachable_pub)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use protocol::game::{
    ALPN, ClientMessage, Disconnect, DisconnectReason, MatchParams, PROTOCOL_VERSION, Phase,
    PhaseState, ServerMessage, Snapshot, StreamDecoder, Welcome, decode_datagram, encode,
};
use protocol::http::{CertificateFingerprint, ConnectionInfo};
use quinn::crypto::rustls::QuicServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Bound on every test, so a hang fails instead of blocking CI.
pub const TEST_LIMIT: Duration = Duration::from_secs(20);

/// A fresh self-signed certificate and its key.
pub fn self_signed() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("rcgen");
    let key = PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der());
    (ck.cert.der().clone(), PrivateKeyDer::Pkcs8(key))
}

/// The SHA-256 fingerprint of a certificate.
pub fn fingerprint(cert: &CertificateDer<'_>) -> CertificateFingerprint {
    CertificateFingerprint::of_der(cert.as_ref())
}

/// A quinn server endpoint on loopback presenting `cert`, with ALPN `alpn`.
pub fn server_with_alpn(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    alpn: &[u8],
) -> (quinn::Endpoint, SocketAddr) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("tls13")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("server cert");
    tls.alpn_protocols = vec![alpn.to_vec()];
    let quic = QuicServerConfig::try_from(tls).expect("quic server config");
    let config = quinn::ServerConfig::with_crypto(Arc::new(quic));
    let endpoint =
        quinn::Endpoint::server(config, (Ipv4Addr::LOCALHOST, 0).into()).expect("server endpoint");
    let addr = endpoint.local_addr().expect("local addr");
    (endpoint, addr)
}

/// A quinn server endpoint speaking `gls/1` with `cert`.
pub fn server(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> (quinn::Endpoint, SocketAddr) {
    server_with_alpn(cert, key, ALPN)
}

/// A loopback server with a fresh self-signed certificate, and the pin of that
/// certificate.
pub fn pinned_server() -> (quinn::Endpoint, SocketAddr, CertificateFingerprint) {
    let (cert, key) = self_signed();
    let pin = fingerprint(&cert);
    let (endpoint, addr) = server(cert, key);
    (endpoint, addr, pin)
}

/// Connection info for a loopback server.
pub fn info(addr: SocketAddr, pin: CertificateFingerprint, psess: &str) -> ConnectionInfo {
    client::connection_info(addr.ip(), addr.port(), pin, psess)
}

/// Match parameters for scripted servers.
pub fn params() -> MatchParams {
    MatchParams {
        game_session_id: "gsess-1".to_owned(),
        mode: "ffa".to_owned(),
        tick_rate_hz: 30,
        map_width: 50_000,
        map_height: 50_000,
        teams: 0,
        max_players: 8,
        duration_ticks: 3_000,
        score_limit: 0,
        seed: 7,
    }
}

/// A welcome for player `player`.
pub fn welcome(player: u8, resumed: bool) -> ServerMessage {
    ServerMessage::Welcome(Welcome {
        protocol_version: PROTOCOL_VERSION,
        player,
        resumed,
        tick: 100,
        params: params(),
    })
}

/// A playing phase.
pub fn playing() -> PhaseState {
    PhaseState {
        phase: Phase::Playing,
        ends_at_tick: 10_000,
    }
}

/// The server side of one accepted client connection.
pub struct Peer {
    pub conn: quinn::Connection,
    pub send: quinn::SendStream,
    recv: quinn::RecvStream,
    decoder: StreamDecoder<ClientMessage>,
    pending: Vec<u8>,
}

impl Peer {
    /// Accepts the next connection and the stream it opens.
    pub async fn accept(endpoint: &quinn::Endpoint) -> Peer {
        let incoming = endpoint.accept().await.expect("an incoming connection");
        let conn = incoming.await.expect("handshake");
        let (send, recv) = conn.accept_bi().await.expect("the client's stream");
        Peer {
            conn,
            send,
            recv,
            decoder: StreamDecoder::new(),
            pending: Vec::new(),
        }
    }

    /// Accepts the next connection, reads its `Hello` and answers `Welcome` for `player`.
    pub async fn admitted(endpoint: &quinn::Endpoint, player: u8) -> Peer {
        let mut peer = Peer::accept(endpoint).await;
        peer.read().await.expect("hello");
        peer.send(&welcome(player, false)).await;
        peer
    }

    /// The next message on the stream; `None` when it ended.
    pub async fn read(&mut self) -> Option<ClientMessage> {
        loop {
            let mut input: &[u8] = &self.pending;
            let got = self.decoder.feed(&mut input).expect("client frame decodes");
            let used = self.pending.len() - input.len();
            self.pending.drain(..used);
            if got.is_some() {
                return got;
            }
            if !self.pending.is_empty() {
                continue;
            }
            match self.recv.read_chunk(usize::MAX, true).await {
                Ok(Some(chunk)) => self.pending.extend_from_slice(&chunk.bytes),
                _ => return None,
            }
        }
    }

    /// Sends a stream message.
    pub async fn send(&mut self, msg: &ServerMessage) {
        let frame = encode(msg).expect("encode");
        self.send.write_all(&frame).await.expect("write");
    }

    /// Sends a snapshot datagram.
    pub fn snapshot(&self, s: Snapshot) {
        let bytes = encode(&ServerMessage::Snapshot(s)).expect("encode");
        self.conn
            .send_datagram(Bytes::from(bytes))
            .expect("datagram");
    }

    /// The next datagram from the client.
    pub async fn datagram(&self) -> ClientMessage {
        let bytes = self.conn.read_datagram().await.expect("a datagram");
        decode_datagram(&bytes).expect("client datagram decodes")
    }

    /// Sends `Disconnect(reason)` and closes with its code once the client has it.
    pub async fn disconnect(&mut self, reason: DisconnectReason) {
        self.send(&ServerMessage::Disconnect(Disconnect { reason }))
            .await;
        // The client closes on `Disconnect`; wait for that rather than for a timer.
        self.conn.closed().await;
    }
}
