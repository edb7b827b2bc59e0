//! Certificate pinning for the game server's self-signed certificate.
//!
//! **What it is:** a rustls [`ServerCertVerifier`] that accepts exactly one end-entity
//! certificate, identified by the SHA-256 of its DER (the fingerprint matchmaking hands
//! out), and verifies the handshake signatures with the ring crypto provider's algorithms.
//! **What it is not:** a WebPKI verifier: no chain, no CA, no host-name check (the pin
//! identifies the server). TLS 1.2 is never negotiated (QUIC is TLS 1.3 only), so its
//! signature check refuses.

use std::sync::Arc;

use protocol::http::CertificateFingerprint;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, SignatureScheme};

/// Accepts only the certificate whose SHA-256 fingerprint is pinned.
#[derive(Debug)]
pub struct PinnedCertVerifier {
    pin: CertificateFingerprint,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedCertVerifier {
    /// A verifier pinned to `pin`, checking signatures with `provider`'s algorithms.
    pub fn new(pin: CertificateFingerprint, provider: &CryptoProvider) -> Self {
        Self {
            pin,
            algorithms: provider.signature_verification_algorithms,
        }
    }

    /// A verifier pinned to `pin`, using ring's algorithms.
    pub fn with_ring(pin: CertificateFingerprint) -> Arc<Self> {
        Arc::new(Self::new(pin, &rustls::crypto::ring::default_provider()))
    }

    /// The pinned fingerprint.
    pub fn pin(&self) -> CertificateFingerprint {
        self.pin
    }
}

impl ServerCertVerifier for PinnedCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if !intermediates.is_empty() {
            return Err(Error::General(format!(
                "server sent a certificate chain ({} intermediates); the game server's \
                 certificate is self-signed and pinned",
                intermediates.len()
            )));
        }
        let got = CertificateFingerprint::of_der(end_entity.as_ref());
        if got != self.pin {
            return Err(Error::General(format!(
                "server certificate fingerprint {got} does not match the pinned {}",
                self.pin
            )));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Err(Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls13RequiredForQuic,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
