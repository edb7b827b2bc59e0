//! Bearer-token authentication: JWTs signed with a configured HMAC key (HS256) or by a
//! key from a JWKS URL (RS256, as a Cognito user pool publishes them).
//!
//! **What it is:** [`Authenticator::verify`], which checks a token's signature, `exp`
//! (required), `nbf`, and, when configured, `iss` and `aud`, and returns its `sub`: the
//! caller's player id, which the API never takes from a body. A JWKS is fetched over
//! HTTPS and cached by `kid`; an unknown `kid` refreshes the set, at most once per
//! [`JWKS_MIN_REFRESH`], so a stream of forged `kid`s cannot make the backend hammer the
//! identity provider. [`mint_dev_token`] signs HS256 tokens for local use
//! (`backend dev-token`).
//!
//! **What it is not:** no sessions, no refresh tokens, no scopes or groups, no token
//! revocation list: a token is good until its `exp`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::rankings::BoxFuture;

/// An unknown `kid` refreshes the JWKS at most this often.
pub const JWKS_MIN_REFRESH: Duration = Duration::from_secs(30);

/// A cached JWKS is refetched when a token arrives after this long, so rotated-out keys
/// stop being accepted.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(3600);

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 30;

/// Shortest HMAC key accepted: 32 bytes, HS256's own output size (RFC 7518 §3.2).
pub const MIN_HMAC_KEY_BYTES: usize = 32;

/// The claims the backend reads (others are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The player id.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// Why a token was refused. Every variant is a `401` for the client, which is only told
/// that the token is not valid; the variant is logged and counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    #[error("missing bearer token")]
    Missing,
    /// The token is malformed, badly signed, expired, or for another issuer/audience.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The token's `kid` is not in the JWKS (after a refresh).
    #[error("unknown signing key {0:?}")]
    UnknownKey(String),
    /// The JWKS could not be fetched or read.
    #[error("key set unavailable: {0}")]
    KeySetUnavailable(String),
}

impl AuthError {
    /// A short label for metrics.
    pub const fn label(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Invalid(_) => "invalid",
            AuthError::UnknownKey(_) => "unknown_key",
            AuthError::KeySetUnavailable(_) => "key_set_unavailable",
        }
    }
}

/// Where a JWKS comes from.
pub trait JwksSource: Send + Sync {
    /// Fetches the current key set.
    fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, String>>;
}

/// A JWKS fetched over HTTP(S) with the tree's hyper client (rustls on ring, native roots).
pub struct HttpJwks {
    url: http::Uri,
    client: hyper_util::client::legacy::Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        http_body_util::Empty<bytes::Bytes>,
    >,
}

/// Largest JWKS document read: 64 KiB (Cognito's is about 1 KiB).
const MAX_JWKS_BYTES: usize = 64 * 1024;

/// How long one JWKS fetch may take.
const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

impl HttpJwks {
    /// A source for `url`: `https://…`, or `http://` on a loopback host only (tests and
    /// local identity providers), since keys fetched in the clear could be swapped.
    ///
    /// # Errors
    ///
    /// When the URL does not parse, is plain HTTP to another host, or the system's root
    /// certificates cannot be loaded.
    pub fn new(url: &str) -> Result<HttpJwks, String> {
        let url: http::Uri = url.parse().map_err(|e| format!("JWKS URL {url:?}: {e}"))?;
        let loopback = matches!(url.host(), Some("127.0.0.1" | "localhost" | "[::1]"));
        match url.scheme_str() {
            Some("https") => {}
            Some("http") if loopback => {}
            _ => {
                return Err(format!(
                    "JWKS URL {url}: must be https (http only on loopback)"
                ));
            }
        }
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| format!("loading root certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https);
        Ok(HttpJwks { url, client })
    }
}

impl JwksSource for HttpJwks {
    fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, String>> {
        Box::pin(async move {
            use http_body_util::BodyExt;
            let get = async {
                let response = self
                    .client
                    .get(self.url.clone())
                    .await
                    .map_err(|e| format!("GET {}: {e}", self.url))?;
                if !response.status().is_success() {
                    return Err(format!("GET {}: status {}", self.url, response.status()));
                }
                let body = http_body_util::Limited::new(response.into_body(), MAX_JWKS_BYTES)
                    .collect()
                    .await
                    .map_err(|e| format!("reading {}: {e}", self.url))?
                    .to_bytes();
                serde_json::from_slice::<JwkSet>(&body)
                    .map_err(|e| format!("{} is not a JWKS: {e}", self.url))
            };
            tokio::time::timeout(JWKS_FETCH_TIMEOUT, get)
                .await
                .map_err(|_| format!("GET {}: timed out", self.url))?
        })
    }
}

struct JwksCache {
    keys: HashMap<String, Arc<DecodingKey>>,
    fetched_at: Option<Instant>,
}

enum Keys {
    Hmac(DecodingKey),
    Jwks {
        source: Arc<dyn JwksSource>,
        cache: Mutex<JwksCache>,
    },
}

/// Verifies bearer tokens; cheap to share behind an `Arc`.
pub struct Authenticator {
    keys: Keys,
    validation: Validation,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.keys {
            Keys::Hmac(_) => "hmac",
            Keys::Jwks { .. } => "jwks",
        };
        f.debug_struct("Authenticator")
            .field("keys", &kind)
            .finish_non_exhaustive()
    }
}

fn validation(alg: Algorithm, issuer: Option<&str>, audience: Option<&str>) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = LEEWAY_SECS;
    v.validate_nbf = true;
    v.set_required_spec_claims(&["exp", "sub"]);
    if let Some(iss) = issuer {
        v.set_issuer(&[iss]);
    }
    match audience {
        Some(aud) => v.set_audience(&[aud]),
        None => v.validate_aud = false,
    }
    v
}

impl Authenticator {
    /// Tokens signed with HS256 and `secret`; `issuer` and `audience` are checked when set.
    ///
    /// # Errors
    ///
    /// When the secret is shorter than [`MIN_HMAC_KEY_BYTES`].
    pub fn hmac(
        secret: &[u8],
        issuer: Option<&str>,
        audience: Option<&str>,
    ) -> Result<Authenticator, String> {
        if secret.len() < MIN_HMAC_KEY_BYTES {
            return Err(format!(
                "the HMAC key must be at least {MIN_HMAC_KEY_BYTES} bytes, got {}",
                secret.len()
            ));
        }
        let key = DecodingKey::from_secret(secret).map_err(|e| e.to_string())?;
        Ok(Authenticator {
            keys: Keys::Hmac(key),
            validation: validation(Algorithm::HS256, issuer, audience),
        })
    }

    /// Tokens signed with RS256 by a key of the JWKS `source` (fetched on first use).
    pub fn jwks(
        source: Arc<dyn JwksSource>,
        issuer: Option<&str>,
        audience: Option<&str>,
    ) -> Authenticator {
        Authenticator {
            keys: Keys::Jwks {
                source,
                cache: Mutex::new(JwksCache {
                    keys: HashMap::new(),
                    fetched_at: None,
                }),
            },
            validation: validation(Algorithm::RS256, issuer, audience),
        }
    }

    /// The `Authorization` header's token, verified: its claims.
    ///
    /// # Errors
    ///
    /// See [`AuthError`].
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let invalid = |e: jsonwebtoken::errors::Error| AuthError::Invalid(e.to_string());
        let key = match &self.keys {
            Keys::Hmac(key) => return decode(token, key, &self.validation).map_err(invalid),
            Keys::Jwks { source, cache } => {
                let header = jsonwebtoken::decode_header(token).map_err(invalid)?;
                if header.alg != Algorithm::RS256 {
                    return Err(AuthError::Invalid(format!(
                        "algorithm {:?} is not accepted",
                        header.alg
                    )));
                }
                let kid = header
                    .kid
                    .ok_or_else(|| AuthError::Invalid("the token has no kid".to_owned()))?;
                jwks_key(source.as_ref(), cache, &kid).await?
            }
        };
        decode(token, &key, &self.validation).map_err(invalid)
    }
}

fn decode(
    token: &str,
    key: &DecodingKey,
    validation: &Validation,
) -> Result<Claims, jsonwebtoken::errors::Error> {
    jsonwebtoken::decode::<Claims>(token, key, validation).map(|d| d.claims)
}

/// The key for `kid`, refreshing the cached set when it is stale or lacks the kid (at
/// most once per [`JWKS_MIN_REFRESH`]).
async fn jwks_key(
    source: &dyn JwksSource,
    cache: &Mutex<JwksCache>,
    kid: &str,
) -> Result<Arc<DecodingKey>, AuthError> {
    let mut cache = cache.lock().await;
    let now = Instant::now();
    let age = cache.fetched_at.map(|t| now.duration_since(t));
    let stale = age.is_none_or(|a| a >= JWKS_MAX_AGE);
    let missing = !cache.keys.contains_key(kid);
    let may_refresh = age.is_none_or(|a| a >= JWKS_MIN_REFRESH);
    if stale || (missing && may_refresh) {
        match source.fetch().await {
            Ok(set) => {
                cache.keys = set
                    .keys
                    .iter()
                    .filter_map(|jwk| {
                        let kid = jwk.common.key_id.clone()?;
                        let key = DecodingKey::from_jwk(jwk).ok()?;
                        Some((kid, Arc::new(key)))
                    })
                    .collect();
                cache.fetched_at = Some(now);
                tracing::info!(keys = cache.keys.len(), "auth: JWKS refreshed");
            }
            // A stale set keeps serving if the refresh fails; an empty one cannot.
            Err(e) if cache.fetched_at.is_none() => return Err(AuthError::KeySetUnavailable(e)),
            Err(e) => tracing::warn!(cause = %e, "auth: JWKS refresh failed; keeping the old set"),
        }
    }
    cache
        .keys
        .get(kid)
        .cloned()
        .ok_or_else(|| AuthError::UnknownKey(kid.to_owned()))
}

/// Signs an HS256 token for `player`, valid for `ttl` from `now_secs` (`backend dev-token`
/// and tests).
///
/// # Errors
///
/// When signing fails (it does not with an HMAC key).
pub fn mint_dev_token(
    secret: &[u8],
    player: &str,
    now_secs: u64,
    ttl: Duration,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> Result<String, String> {
    let claims = Claims {
        sub: player.to_owned(),
        exp: now_secs + ttl.as_secs(),
        iat: Some(now_secs),
        iss: issuer.map(str::to_owned),
        aud: audience.map(str::to_owned),
    };
    let key = EncodingKey::from_secret(secret).map_err(|e| e.to_string())?;
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).map_err(|e| e.to_string())
}
