//! Local access-token verification against the project's JWKS, with a cache.
//!
//! - Keys are fetched from `{base}/v7/{projectId}/.well-known/jwks.json` on first use and
//!   reused for `jwks_ttl`; a failed refetch keeps using the stale set.
//! - A token whose `kid` is not in the set triggers one refetch (a key rotation), but at
//!   most once per `min_refetch` interval, so forged `kid`s cannot amplify into requests.
//! - Concurrent misses wait on one fetch instead of each fetching.
//! - Only EdDSA (Ed25519) is accepted, whatever the token's header says (refresh tokens are
//!   HS256 and have the audience `latchkey:refresh:{id}`: refused either way); `aud` must be
//!   the project id, `iss` the configured issuer, and `exp` in the future (with leeway).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::client::Client;
use crate::error::{Error, TokenError};
use crate::types::AccessTokenClaims;

struct KeySet {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Instant,
}

pub(crate) struct JwksCache {
    url: String,
    http: reqwest::Client,
    ttl: Duration,
    min_refetch: Duration,
    current: RwLock<Option<Arc<KeySet>>>,
    /// Held while fetching; remembers when the last fetch started.
    fetching: tokio::sync::Mutex<Option<Instant>>,
    fetches: AtomicU64,
}

#[derive(Deserialize)]
struct JwkSetDoc {
    keys: Vec<JwkDoc>,
}

#[derive(Deserialize)]
struct JwkDoc {
    kty: Option<String>,
    crv: Option<String>,
    kid: Option<String>,
    x: Option<String>,
    alg: Option<String>,
}

impl JwksCache {
    pub(crate) fn new(url: String, ttl: Duration, min_refetch: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            url,
            http,
            ttl,
            min_refetch,
            current: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(None),
            fetches: AtomicU64::new(0),
        }
    }

    fn snapshot(&self) -> Option<Arc<KeySet>> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn fresh(&self, set: &KeySet) -> bool {
        set.fetched_at.elapsed() < self.ttl
    }

    /// The key for `kid`, fetching or refetching the set when needed.
    async fn key(&self, kid: &str) -> Result<DecodingKey, Error> {
        if let Some(set) = self.snapshot()
            && self.fresh(&set)
            && let Some(key) = set.keys.get(kid)
        {
            return Ok(key.clone());
        }
        let mut last_fetch = self.fetching.lock().await;
        // Another task may have fetched while we waited.
        let set = self.snapshot();
        if let Some(set) = &set
            && self.fresh(set)
            && let Some(key) = set.keys.get(kid)
        {
            return Ok(key.clone());
        }
        let stale = set.as_ref().is_none_or(|s| !self.fresh(s));
        let may_refetch = last_fetch.is_none_or(|at| at.elapsed() >= self.min_refetch);
        if stale || may_refetch {
            *last_fetch = Some(Instant::now());
            match self.fetch().await {
                Ok(fetched) => {
                    let fetched = Arc::new(fetched);
                    *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&fetched));
                    return fetched.keys.get(kid).cloned().ok_or_else(|| TokenError::UnknownKey(kid.to_owned()).into());
                }
                // Keep serving from a stale set when the server is briefly unreachable.
                Err(e) => match &set {
                    Some(old) => {
                        return old.keys.get(kid).cloned().ok_or_else(|| TokenError::UnknownKey(kid.to_owned()).into());
                    }
                    None => return Err(e),
                },
            }
        }
        set.and_then(|s| s.keys.get(kid).cloned()).ok_or_else(|| TokenError::UnknownKey(kid.to_owned()).into())
    }

    async fn fetch(&self) -> Result<KeySet, Error> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let response = self.http.get(&self.url).send().await.map_err(|e| Error::Jwks(e.to_string()))?;
        if !response.status().is_success() {
            return Err(Error::Jwks(format!("GET {} answered {}", self.url, response.status())));
        }
        let doc: JwkSetDoc = response.json().await.map_err(|e| Error::Jwks(format!("not a JWK Set: {e}")))?;
        let mut keys = HashMap::new();
        for jwk in doc.keys {
            let ed25519 = jwk.kty.as_deref() == Some("OKP")
                && jwk.crv.as_deref() == Some("Ed25519")
                && jwk.alg.as_deref().is_none_or(|a| a == "EdDSA");
            if let (true, Some(kid), Some(x)) = (ed25519, jwk.kid, jwk.x)
                && let Ok(key) = DecodingKey::from_ed_components(&x)
            {
                keys.insert(kid, key);
            }
        }
        Ok(KeySet { keys, fetched_at: Instant::now() })
    }
}

impl Client {
    /// Verifies an access token locally against the project's JWKS (fetched once, cached):
    /// EdDSA signature by a key of this project, `aud` = project id, `iss` = the configured
    /// issuer (default: the base URL), `exp` not passed (60 s leeway by default).
    ///
    /// `Err(Error::InvalidToken(_))` means the caller is not authenticated (answer 401);
    /// `Err(Error::Jwks(_))` means the keys could not be loaded (answer 503).
    pub async fn verify_access_token(&self, token: &str) -> Result<AccessTokenClaims, Error> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(TokenError::Algorithm(format!("{:?}", header.alg)).into());
        }
        let kid = header.kid.ok_or(TokenError::MissingKid)?;
        let key = self.inner.jwks.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[&self.inner.project_id]);
        validation.set_issuer(&[&self.inner.issuer]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.leeway = self.inner.leeway_secs;
        // Decode to a map first so the signature, `aud`, `iss` and `exp` are judged before the
        // claim shape: a refresh token is refused for its audience, not for a missing `role`.
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => TokenError::Signature,
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::InvalidAudience => TokenError::Audience,
            ErrorKind::InvalidIssuer => TokenError::Issuer,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidAlgorithm => TokenError::Algorithm("mismatch".into()),
            ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                TokenError::Malformed
            }
            other => TokenError::Claims(format!("{other:?}")),
        })?;
        let claims: AccessTokenClaims =
            serde_json::from_value(data.claims).map_err(|e| TokenError::Claims(e.to_string()))?;
        if claims.project_id != self.inner.project_id {
            return Err(TokenError::Audience.into());
        }
        Ok(claims)
    }

    /// How many times this client has fetched the JWKS (for metrics and tests).
    pub fn jwks_fetch_count(&self) -> u64 {
        self.inner.jwks.fetches.load(Ordering::Relaxed)
    }
}
