//! The pinning verifier against a real TLS 1.3 handshake: a tiny quinn server (a TLS
//! fixture that only completes the handshake) presents one of two rcgen certificates.

mod common;

use std::time::Duration;

use client::{ClientOptions, ConnectError};
use common::{TEST_LIMIT, fingerprint, info, self_signed, server, server_with_alpn};

/// Handshake only: the client config from the library, the connection from quinn.
async fn handshake(
    addr: std::net::SocketAddr,
    pin: protocol::http::CertificateFingerprint,
) -> Result<quinn::Connection, quinn::ConnectionError> {
    let info = info(addr, pin, "psess-1");
    let config = client::client_config(&info, &ClientOptions::default()).expect("config");
    let endpoint = quinn::Endpoint::client((std::net::Ipv4Addr::LOCALHOST, 0).into()).unwrap();
    endpoint
        .connect_with(config, addr, "localhost")
        .expect("start")
        .await
}

#[tokio::test]
async fn pinned_certificate_is_accepted() {
    let (cert, key) = self_signed();
    let pin = fingerprint(&cert);
    let (endpoint, addr) = server(cert.clone(), key);
    let accept = tokio::spawn(async move {
        let conn = endpoint.accept().await.unwrap().await.unwrap();
        conn.handshake_data()
            .and_then(|d| d.downcast::<quinn::crypto::rustls::HandshakeData>().ok())
            .and_then(|d| d.protocol)
    });
    let conn = tokio::time::timeout(TEST_LIMIT, handshake(addr, pin))
        .await
        .unwrap()
        .expect("handshake with the pinned certificate succeeds");
    let certs = conn
        .peer_identity()
        .and_then(|i| {
            i.downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>()
                .ok()
        })
        .expect("peer certificates");
    assert_eq!(fingerprint(&certs[0]), pin);
    let alpn = accept.await.unwrap();
    assert_eq!(alpn.as_deref(), Some(protocol::game::ALPN));
}

#[tokio::test]
async fn another_certificate_is_refused_with_a_clear_error() {
    let (cert, key) = self_signed();
    let (other, _) = self_signed();
    assert_ne!(fingerprint(&cert), fingerprint(&other));
    let (endpoint, addr) = server(cert.clone(), key);
    let server_side = tokio::spawn(async move {
        let incoming = endpoint.accept().await.unwrap();
        incoming.await.map(|_| ())
    });
    let err = tokio::time::timeout(
        TEST_LIMIT,
        client::connect(
            &info(addr, fingerprint(&other), "psess-1"),
            &ClientOptions::default(),
        ),
    )
    .await
    .unwrap()
    .expect_err("a certificate other than the pinned one must be refused");
    match &err {
        ConnectError::Tls(msg) => {
            assert!(
                msg.contains("does not match the pinned"),
                "unclear error: {msg}"
            );
            assert!(msg.contains(&fingerprint(&cert).to_string()), "{msg}");
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
    assert!(!err.is_retryable());
    // The server saw the handshake fail too.
    assert!(server_side.await.unwrap().is_err());
}

#[tokio::test]
async fn a_server_without_the_game_alpn_is_refused() {
    let (cert, key) = self_signed();
    let pin = fingerprint(&cert);
    let (endpoint, addr) = server_with_alpn(cert, key, b"h3");
    let _server = tokio::spawn(async move {
        let incoming = endpoint.accept().await.unwrap();
        let _ = incoming.await;
    });
    let err = tokio::time::timeout(TEST_LIMIT, handshake(addr, pin))
        .await
        .unwrap()
        .expect_err("no common ALPN");
    // TLS alert 120, no_application_protocol (RFC 7301), as QUIC crypto error 0x178.
    match &err {
        quinn::ConnectionError::ConnectionClosed(c) => {
            assert_eq!(u64::from(c.error_code), 0x100 + 120, "{err}");
        }
        other => panic!("expected the server to close with no_application_protocol: {other}"),
    }
}

#[test]
fn verifier_checks_the_fingerprint_directly() {
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{ServerName, UnixTime};
    let (cert, _) = self_signed();
    let (other, _) = self_signed();
    let v = client::PinnedCertVerifier::with_ring(fingerprint(&cert));
    let name = ServerName::try_from("localhost").unwrap();
    let now = UnixTime::since_unix_epoch(Duration::from_secs(1_800_000_000));
    assert!(v.verify_server_cert(&cert, &[], &name, &[], now).is_ok());
    assert!(v.verify_server_cert(&other, &[], &name, &[], now).is_err());
    // A chain is refused even when the leaf matches: the pin is for a self-signed leaf.
    assert!(
        v.verify_server_cert(&cert, std::slice::from_ref(&other), &name, &[], now)
            .is_err()
    );
    assert!(!v.supported_verify_schemes().is_empty());
}
