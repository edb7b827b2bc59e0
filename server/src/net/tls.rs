//! The endpoint's TLS identity: certificate chain, key, and the SHA-256 fingerprint of
//! the leaf certificate's DER that clients pin when the certificate is self-signed.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use quinn::crypto::rustls::QuicServerConfig;
use rustls::pki_types::pem::PemObject;
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
    /// A certificate could not be derived.
    #[error("deriving the certificate: {0}")]
    Derive(#[from] protocol::tls::DeriveError),
    /// A certificate file could not be read.
    #[error("reading {0}: {1}")]
    Read(String, #[source] std::io::Error),
    /// A certificate file is not valid PEM.
    #[error("parsing {0}: {1:?}")]
    Pem(String, rustls::pki_types::pem::Error),
    /// No private key next to the certificate.
    #[error("no private key in {0}")]
    NoKey(String),
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

    /// The certificate of `game_session_id` derived from `secret` ([`protocol::tls`]):
    /// the backend derives the same fingerprint and hands it to clients, so nothing has
    /// to travel from the server to the backend.
    pub fn derived(secret: &[u8], game_session_id: &str) -> Result<Self, TlsError> {
        let derived = protocol::tls::derive_certificate(secret, game_session_id)?;
        let key = PrivatePkcs8KeyDer::from(derived.key_pkcs8_der);
        Self::from_der(vec![CertificateDer::from(derived.cert_der)], key.into())
    }

    /// The fleet's certificate from `GetComputeCertificate`'s path: a PEM file, or a
    /// directory of PEM files, holding the certificate chain and one private key. The
    /// leaf is the first certificate of the file named `certificate*.pem` if there is
    /// one, else the first certificate found; the rest of the chain follows (root
    /// certificates are sent too, which clients ignore).
    pub fn from_pem_path(path: &Path) -> Result<Self, TlsError> {
        let mut files = if path.is_dir() {
            std::fs::read_dir(path)
                .map_err(|e| TlsError::Read(path.display().to_string(), e))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "pem"))
                .collect::<Vec<_>>()
        } else {
            vec![path.to_owned()]
        };
        // certificate*.pem first, then the chain files, in a stable order.
        files.sort_by_key(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_lowercase());
            let leaf_first = !name
                .as_deref()
                .is_some_and(|n| n.starts_with("certificate") && !n.contains("chain"));
            (leaf_first, p.clone())
        });
        let mut chain = Vec::new();
        let mut key = None;
        for file in &files {
            let pem =
                std::fs::read(file).map_err(|e| TlsError::Read(file.display().to_string(), e))?;
            for item in CertificateDer::pem_slice_iter(&pem) {
                let cert = item.map_err(|e| TlsError::Pem(file.display().to_string(), e))?;
                if !chain.contains(&cert) {
                    chain.push(cert);
                }
            }
            if key.is_none() {
                key = PrivateKeyDer::from_pem_slice(&pem).ok();
            }
        }
        let key = key.ok_or_else(|| TlsError::NoKey(path.display().to_string()))?;
        Self::from_der(chain, key)
    }

    /// An identity from a DER chain (leaf first) and key: the fleet's own certificate
    /// ([`from_pem_path`](Self::from_pem_path)) or a derived one.
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
    fn a_derived_identity_matches_what_the_backend_computes() {
        let id = TlsIdentity::derived(b"shared secret", "gsess-7").expect("derive");
        assert_eq!(
            id.fingerprint().to_hex(),
            protocol::tls::derived_fingerprint(b"shared secret", "gsess-7").expect("derive")
        );
        id.quic_server_config()
            .expect("rustls accepts an Ed25519 certificate");
    }

    #[test]
    fn a_fleet_certificate_directory_is_read_leaf_first() {
        let dir = std::env::temp_dir().join(format!("gls-cert-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let ca = rcgen::generate_simple_self_signed(vec!["ca.example".to_owned()]).expect("ca");
        let leaf =
            rcgen::generate_simple_self_signed(vec!["leaf.example".to_owned()]).expect("leaf");
        std::fs::write(dir.join("certificateChain.pem"), ca.cert.pem()).expect("write");
        std::fs::write(dir.join("certificate.pem"), leaf.cert.pem()).expect("write");
        std::fs::write(dir.join("privateKey.pem"), leaf.signing_key.serialize_pem())
            .expect("write");
        let id = TlsIdentity::from_pem_path(&dir).expect("read");
        assert_eq!(id.leaf_der(), leaf.cert.der());
        assert_eq!(id.chain.len(), 2);
        id.quic_server_config().expect("rustls accepts it");

        std::fs::remove_file(dir.join("privateKey.pem")).expect("rm");
        assert!(matches!(
            TlsIdentity::from_pem_path(&dir),
            Err(TlsError::NoKey(_))
        ));
        std::fs::remove_dir_all(&dir).expect("rm -r");
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
