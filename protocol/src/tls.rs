//! The session server's TLS certificate when the fleet has none: derived, not random, so
//! that the backend knows what clients must pin without any channel from the server.
//!
//! GameLift gives a game server no way to publish data to the backend, yet a client
//! connecting to a self-signed server needs the certificate's SHA-256 to pin. Both ends
//! therefore compute it: the session server and the backend share a secret (like the
//! result-signing keys), and the certificate of a game session is a pure function of
//! that secret and the game session id:
//!
//! * seed = HMAC-SHA256(secret, `"gamelift-stack tls v1\0"` ‖ game session id);
//! * key = the Ed25519 key of that seed (Ed25519 signing is deterministic);
//! * certificate = self-signed, with fixed names ([`DERIVED_CERT_NAME`]), validity
//!   (1975–4096, rcgen's defaults, written out) and a serial number from the seed.
//!
//! The backend calls [`derived_fingerprint`] when a placement completes and hands the
//! hex string to clients with the connection info; the server calls
//! [`derive_certificate`] at `CreateGameSession`. Each game session gets its own key, so
//! one leaked process key exposes one match.
//!
//! **What it is not:** a CA. When the fleet generates a certificate
//! (`GetComputeCertificate`), clients verify it against the public CA chain instead and
//! nothing here is used. Knowing the secret lets one impersonate any game session: keep
//! it where the result-signing keys are kept.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The DNS name in every derived certificate. Clients pin the certificate, so the name
/// is not checked; it only has to be stable.
pub const DERIVED_CERT_NAME: &str = "session.gamelift-stack.invalid";

/// Domain separation for the seed.
const SEED_LABEL: &[u8] = b"gamelift-stack tls v1\0";

/// PKCS#8 v1 header of an Ed25519 private key (RFC 8410): the 32-byte seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// A derived certificate and its key.
#[derive(Clone, PartialEq, Eq)]
pub struct DerivedCertificate {
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The Ed25519 private key, PKCS#8 DER.
    pub key_pkcs8_der: Vec<u8>,
    /// SHA-256 of `cert_der`, lower-case hex: what clients pin.
    pub fingerprint_hex: String,
}

impl std::fmt::Debug for DerivedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DerivedCertificate")
            .field("fingerprint_hex", &self.fingerprint_hex)
            .finish_non_exhaustive()
    }
}

/// Why a certificate could not be derived.
#[derive(Debug, thiserror::Error)]
pub enum DeriveError {
    /// The secret is empty.
    #[error("the TLS secret is empty")]
    EmptySecret,
    /// The game session id is empty.
    #[error("the game session id is empty")]
    EmptyGameSession,
    /// rcgen refused the key or the parameters (not expected with fixed inputs).
    #[error("building the certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
}

/// The certificate of `game_session_id` under `secret`.
///
/// # Errors
///
/// An empty secret or game session id; rcgen failing (not expected).
pub fn derive_certificate(
    secret: &[u8],
    game_session_id: &str,
) -> Result<DerivedCertificate, DeriveError> {
    if secret.is_empty() {
        return Err(DeriveError::EmptySecret);
    }
    if game_session_id.is_empty() {
        return Err(DeriveError::EmptyGameSession);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(SEED_LABEL);
    mac.update(game_session_id.as_bytes());
    let seed: [u8; 32] = mac.finalize().into_bytes().into();

    let mut pkcs8 = ED25519_PKCS8_PREFIX.to_vec();
    pkcs8.extend_from_slice(&seed);
    let key = rcgen::KeyPair::try_from(pkcs8.as_slice())?;

    let mut params = rcgen::CertificateParams::new(vec![DERIVED_CERT_NAME.to_owned()])?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, "gamelift-stack session server");
    params.distinguished_name = dn;
    params.not_before = rcgen::date_time_ymd(1975, 1, 1);
    params.not_after = rcgen::date_time_ymd(4096, 1, 1);
    // A positive 16-byte serial from the seed (never the seed itself).
    let mut serial: [u8; 16] = Sha256::digest(seed)[..16].try_into().expect("16 bytes");
    serial[0] &= 0x7f;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let cert = params.self_signed(&key)?;
    let cert_der = cert.der().to_vec();
    Ok(DerivedCertificate {
        fingerprint_hex: fingerprint_hex(&cert_der),
        cert_der,
        key_pkcs8_der: key.serialize_der(),
    })
}

/// What clients pin for `game_session_id` under `secret`: the backend's half of
/// [`derive_certificate`].
///
/// # Errors
///
/// As [`derive_certificate`].
pub fn derived_fingerprint(secret: &[u8], game_session_id: &str) -> Result<String, DeriveError> {
    derive_certificate(secret, game_session_id).map(|c| c.fingerprint_hex)
}

/// SHA-256 of a certificate's DER, lower-case hex.
pub fn fingerprint_hex(cert_der: &[u8]) -> String {
    hex::encode(Sha256::digest(cert_der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_inputs_give_the_same_certificate() {
        let a = derive_certificate(b"secret", "gsess-1").expect("derive");
        let b = derive_certificate(b"secret", "gsess-1").expect("derive");
        assert_eq!(a, b);
        assert_eq!(a.fingerprint_hex, fingerprint_hex(&a.cert_der));
        assert_eq!(a.fingerprint_hex.len(), 64);
        assert_eq!(
            derived_fingerprint(b"secret", "gsess-1").expect("derive"),
            a.fingerprint_hex
        );
    }

    #[test]
    fn other_sessions_and_secrets_give_other_keys() {
        let base = derive_certificate(b"secret", "gsess-1").expect("derive");
        let other_session = derive_certificate(b"secret", "gsess-2").expect("derive");
        let other_secret = derive_certificate(b"secret2", "gsess-1").expect("derive");
        for other in [&other_session, &other_secret] {
            assert_ne!(other.fingerprint_hex, base.fingerprint_hex);
            assert_ne!(other.key_pkcs8_der, base.key_pkcs8_der);
        }
    }

    #[test]
    fn the_key_is_never_in_the_certificate() {
        let c = derive_certificate(b"secret", "gsess-1").expect("derive");
        let seed = &c.key_pkcs8_der[16..48];
        assert!(!c.cert_der.windows(32).any(|w| w == seed));
    }

    #[test]
    fn empty_inputs_are_refused() {
        assert!(matches!(
            derive_certificate(b"", "g"),
            Err(DeriveError::EmptySecret)
        ));
        assert!(matches!(
            derive_certificate(b"s", ""),
            Err(DeriveError::EmptyGameSession)
        ));
    }
}
