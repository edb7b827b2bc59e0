//! The endpoint's TLS identity: certificate chain, key, and the SHA-256 fingerprint of
//! the leaf certificate's DER that clients pin when the certificate is self-signed.

use std::fmt;
use std::sync::Arc;

use quinn::crypto::rustls::QuicServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

/// Why a TLS identity could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rcgen failed to make a certificate.
    #[error("generating the self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificate, the key or the protocol settings.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The chain is empty.
    #[error("the certificate chain is empty")]
    EmptyChain,
    /// rustls' config has no TLS 1.3 cipher suite QUIC can use.
    #[error("no QUIC-capable cipher suite: {0}")]
    NoQuicSuite(String),
}

/// SHA-256 of a certificate's DER: what a client pins.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of `der`.
    pub fn of(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

/// A certificate chain (leaf first) and its private key.
#[derive(Debug)]
pub struct TlsIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    fingerprint: Fingerprint,
}

impl TlsIdentity {
    /// A fresh self-signed certificate (ECDSA P-256) for `names` (DNS names or IPs), made
    /// once per process. Clients cannot verify it against a CA: they pin
    /// [`fingerprint`](Self::fingerprint), which the server publishes.
    pub fn self_signed(names: &[String]) -> Result<Self, TlsError> {
        let certified = rcgen::generate_simple_self_signed(names.to_vec())?;
        let cert = certified.cert.der().clone();
        let key = PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
        Self::from_der(vec![cert], key.into())
    }

    /// An identity from a DER chain (leaf first) and key: the hook for the fleet's own
    /// certificate (`GetComputeCertificate`), when main reads it.
    pub fn from_der(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, TlsError> {
        let leaf = chain.first().ok_or(TlsError::EmptyChain)?;
        let fingerprint = Fingerprint::of(leaf.as_ref());
        Ok(Self {
            chain,
            key,
            fingerprint,
        })
    }

    /// SHA-256 of the leaf certificate's DER.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The leaf certificate's DER (a client test may trust it as a root).
    pub fn leaf_der(&self) -> &CertificateDer<'static> {
        &self.chain[0]
    }

    /// rustls (TLS 1.3 only, ring, ALPN `gls/1`, no client auth) wrapped for quinn.
    pub fn quic_server_config(&self) -> Result<Arc<QuicServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        tls.alpn_protocols = vec![protocol::game::ALPN.to_vec()];
        let quic =
            QuicServerConfig::try_from(tls).map_err(|e| TlsError::NoQuicSuite(e.to_string()))?;
        Ok(Arc::new(quic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_sha256_of_the_leaf_der() {
        let id = TlsIdentity::self_signed(&["localhost".to_owned()]).expect("rcgen");
        let expected: [u8; 32] = Sha256::digest(id.leaf_der().as_ref()).into();
        assert_eq!(id.fingerprint().0, expected);
        assert_eq!(id.fingerprint().to_hex().len(), 64);
        id.quic_server_config().expect("rustls accepts it");
        let other = TlsIdentity::self_signed(&["localhost".to_owned()]).expect("rcgen");
        assert_ne!(
            id.fingerprint(),
            other.fingerprint(),
            "one certificate per process"
        );
    }

    #[test]
    fn an_empty_chain_is_refused() {
        let key = PrivatePkcs8KeyDer::from(vec![0u8; 4]);
        assert!(matches!(
            TlsIdentity::from_der(Vec::new(), key.into()),
            Err(TlsError::EmptyChain)
        ));
    }
}
