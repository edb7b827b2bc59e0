//! What the QUIC shell tests share.

use std::sync::Arc;

use server::net::TlsIdentity;

/// A quinn client (TLS 1.3, the game's ALPN) that trusts only `identity`'s certificate.
pub(crate) fn client_trusting(identity: &TlsIdentity) -> quinn::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(identity.leaf_der().clone()).expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("tls13")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![protocol::game::ALPN.to_vec()];
    let quic = quinn::crypto::rustls::QuicClientConfig::try_from(tls).expect("quic");
    quinn::ClientConfig::new(Arc::new(quic))
}
