//! Per-project signing keys and the two token kinds.
//!
//! Access tokens are EdDSA JWTs that a customer's server verifies against the project's JWKS.
//!
//! Refresh tokens are JWTs too (so client libraries can read `sub`), but they are HS256 under
//! a per-project secret derived from the master key and published nowhere: no verifier that
//! trusts the JWKS can ever accept a refresh token as an access token, even one that forgets
//! to check `aud` (which also differs: `latchkey:refresh:{projectId}`). Only Latchkey can
//! verify them, and it also checks them against the session row on every use.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::Signer;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::crypto::{MasterKey, SecretKey, random_bytes};
use crate::domain::{ProjectId, Role, SessionId, UserId};
use crate::{CoreError, Result};

/// A signing key as stored: the private half sealed under the master key, and where the key
/// stands in its rotation (see [`KeyState`]). Published in the JWKS from creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    pub kid: String,
    pub project_id: ProjectId,
    pub public_key: Vec<u8>,
    pub private_key_sealed: Vec<u8>,
    pub created_at: DateTime<Utc>,
    /// When it began signing; `None` while it is the standby.
    pub activated_at: Option<DateTime<Utc>>,
    /// When it stopped signing.
    pub retired_at: Option<DateTime<Utc>>,
    /// When a retired key leaves the JWKS (set at retirement).
    pub published_until: Option<DateTime<Utc>>,
}

/// Where a key stands: the standby is published but signs nothing (so verifiers that cache
/// the JWKS hold it before it signs), the active key signs new access tokens, a retired key
/// stays published until the last token it signed has expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Standby,
    Active,
    Retired { published_until: DateTime<Utc> },
}

impl StoredSigningKey {
    pub fn state(&self) -> KeyState {
        match (self.activated_at, self.retired_at) {
            (None, _) => KeyState::Standby,
            (Some(_), None) => KeyState::Active,
            // A retirement always sets both; a missing end reads as "already unpublished".
            (Some(_), Some(retired_at)) => {
                KeyState::Retired { published_until: self.published_until.unwrap_or(retired_at) }
            }
        }
    }

    /// Whether the JWKS lists it at `now`.
    pub fn is_published(&self, now: DateTime<Utc>) -> bool {
        match self.state() {
            KeyState::Retired { published_until } => published_until > now,
            KeyState::Standby | KeyState::Active => true,
        }
    }
}

/// A usable signing key.
/// An unsealed signing key, parsed once: `jsonwebtoken::encode` would re-read the PKCS#8
/// document and re-derive the public key for every token (half the cost of a signature), so
/// access tokens are signed here with the parsed key. It lives as long as the project's cached
/// [`KeyRing`], which a rotation invalidates.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    /// Zeroized on drop (ed25519-dalek), shared by the clones in the ring.
    secret: Arc<ed25519_dalek::SigningKey>,
    /// The encoded JWT header (`alg` EdDSA, this `kid`): the same for every token.
    header: Arc<str>,
    decoding: DecodingKey,
    public_key: [u8; 32],
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

fn sealing_context(project: ProjectId, kid: &str) -> String {
    format!("latchkey/signing-key/{project}/{kid}")
}

impl SigningKey {
    /// A fresh Ed25519 key for `project`, and its sealed form for storage: a standby (set
    /// `activated_at` for a key that signs at once).
    pub fn generate(project: ProjectId, master: &MasterKey, now: DateTime<Utc>) -> Result<(Self, StoredSigningKey)> {
        let seed: [u8; 32] =
            random_bytes(32).try_into().map_err(|_| CoreError::Internal("rng returned a short buffer".into()))?;
        let secret = ed25519_dalek::SigningKey::from_bytes(&seed);
        let public_key = secret.verifying_key().to_bytes();
        let kid = thumbprint(&public_key);
        let der = secret.to_pkcs8_der().map_err(|e| CoreError::Internal(format!("cannot encode signing key: {e}")))?;
        let sealed = master.encrypt(der.as_bytes(), &sealing_context(project, &kid))?;
        let stored = StoredSigningKey {
            kid: kid.clone(),
            project_id: project,
            public_key: public_key.to_vec(),
            private_key_sealed: sealed,
            created_at: now,
            activated_at: None,
            retired_at: None,
            published_until: None,
        };
        Self::from_parts(kid, secret, public_key).map(|key| (key, stored))
    }

    pub fn unseal(stored: &StoredSigningKey, master: &MasterKey) -> Result<Self> {
        let der = master.decrypt(&stored.private_key_sealed, &sealing_context(stored.project_id, &stored.kid))?;
        let public_key: [u8; 32] = stored
            .public_key
            .as_slice()
            .try_into()
            .map_err(|_| CoreError::Internal("stored public key has the wrong length".into()))?;
        let secret = ed25519_dalek::SigningKey::from_pkcs8_der(&der)
            .map_err(|e| CoreError::Internal(format!("stored signing key unreadable: {e}")))?;
        Self::from_parts(stored.kid.clone(), secret, public_key)
    }

    fn from_parts(kid: String, secret: ed25519_dalek::SigningKey, public_key: [u8; 32]) -> Result<Self> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        let header = serde_json::to_vec(&header)
            .map_err(|e| CoreError::Internal(format!("cannot encode the token header: {e}")))?;
        Ok(Self {
            kid,
            secret: Arc::new(secret),
            header: URL_SAFE_NO_PAD.encode(header).into(),
            decoding: DecodingKey::from_ed_der(&public_key),
            public_key,
        })
    }

    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.public_key),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    }

    /// A compact JWS exactly as `jsonwebtoken::encode` makes it (base64url JSON header and
    /// claims, Ed25519 signature over `header.claims`), with the already parsed key.
    fn sign<T: Serialize>(&self, claims: &T) -> Result<String> {
        let claims = serde_json::to_vec(claims).map_err(|e| CoreError::Internal(format!("signing failed: {e}")))?;
        let mut token = format!("{}.{}", self.header, URL_SAFE_NO_PAD.encode(claims));
        let signature = self.secret.sign(token.as_bytes());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature.to_bytes()));
        Ok(token)
    }
}

/// RFC 7638 thumbprint of an Ed25519 public key: a stable, collision-free `kid`.
fn thumbprint(public_key: &[u8; 32]) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, URL_SAFE_NO_PAD.encode(public_key));
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The keys of one project: the active signing key signs access tokens; it, the standby and
/// the retired keys still published verify them and make up the JWKS. The refresh secret
/// signs and verifies refresh tokens.
#[derive(Clone, Debug)]
pub struct KeyRing {
    active: SigningKey,
    /// Every key the JWKS lists: the active one first (for verifiers that take the first
    /// key), then the standby, then the retired keys newest first, each with the instant it
    /// leaves the JWKS (`None`: not retired).
    published: Vec<(SigningKey, Option<DateTime<Utc>>)>,
    refresh_secret: Arc<SecretKey>,
}

impl KeyRing {
    /// The ring of `keys` (unsealed, with their stored state), newest first; exactly one
    /// must be active.
    pub fn new(project: ProjectId, keys: Vec<(SigningKey, KeyState)>, master: &MasterKey) -> Result<Self> {
        let mut active = None;
        let mut published = Vec::with_capacity(keys.len());
        for (key, state) in keys {
            match state {
                KeyState::Active if active.is_some() => {
                    return Err(CoreError::Internal(format!("project {project} has two active signing keys")));
                }
                KeyState::Active => {
                    active = Some(key.clone());
                    published.push((key, None));
                }
                KeyState::Standby => published.push((key, None)),
                KeyState::Retired { published_until } => published.push((key, Some(published_until))),
            }
        }
        let active =
            active.ok_or_else(|| CoreError::Internal(format!("project {project} has no active signing key")))?;
        // Stable: the retired keys keep their order.
        published.sort_by_key(|(key, until)| (key.kid != active.kid, until.is_some()));
        Ok(Self { active, published, refresh_secret: Arc::new(master.derive_key(&format!("refresh-token/{project}"))) })
    }

    /// The key that signs new access tokens.
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// The published key with this `kid` at `now`.
    pub fn find(&self, kid: &str, now: DateTime<Utc>) -> Option<&SigningKey> {
        self.published_at(now).find(|k| k.kid == kid)
    }

    /// The JWK Set at `now`: the active key, the standby, and the retired keys whose tokens
    /// may still be live.
    pub fn jwks(&self, now: DateTime<Utc>) -> serde_json::Value {
        serde_json::json!({ "keys": self.published_at(now).map(SigningKey::jwk).collect::<Vec<_>>() })
    }

    fn published_at(&self, now: DateTime<Utc>) -> impl Iterator<Item = &SigningKey> {
        self.published.iter().filter(move |(_, until)| until.is_none_or(|until| until > now)).map(|(key, _)| key)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AccessClaims {
    pub sub: UserId,
    pub project_id: ProjectId,
    pub sid: SessionId,
    pub role: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RefreshClaims {
    pub sub: UserId,
    pub project_id: ProjectId,
    pub sid: SessionId,
    /// The session generation this token belongs to; each exchange mints `gen + 1`.
    pub generation: i64,
    /// Random, so two tokens of one generation (never minted) or of two sessions never collide.
    pub jti: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

pub fn refresh_audience(project: ProjectId) -> String {
    format!("latchkey:refresh:{project}")
}

/// What a token pair is minted from.
#[derive(Debug, Clone)]
pub struct PairSpec<'a> {
    pub issuer: &'a str,
    pub project: ProjectId,
    pub user: UserId,
    pub role: Role,
    pub session: SessionId,
    pub generation: i64,
    pub now: DateTime<Utc>,
    pub access_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
}

#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenPair(..)")
    }
}

pub fn mint_pair(ring: &KeyRing, spec: &PairSpec<'_>) -> Result<TokenPair> {
    let iat = spec.now.timestamp();
    let access = AccessClaims {
        sub: spec.user,
        project_id: spec.project,
        sid: spec.session,
        role: spec.role.as_str().to_owned(),
        iss: spec.issuer.to_owned(),
        aud: spec.project.to_string(),
        iat,
        exp: iat + spec.access_ttl_secs,
    };
    let refresh = RefreshClaims {
        sub: spec.user,
        project_id: spec.project,
        sid: spec.session,
        generation: spec.generation,
        jti: crate::crypto::random_token(32),
        iss: spec.issuer.to_owned(),
        aud: refresh_audience(spec.project),
        iat,
        exp: iat + spec.refresh_ttl_secs,
    };
    let refresh_token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &refresh,
        &EncodingKey::from_secret(ring.refresh_secret.expose_secret()),
    )
    .map_err(|e| CoreError::Internal(format!("signing failed: {e}")))?;
    Ok(TokenPair { access_token: ring.active().sign(&access)?, refresh_token })
}

/// Reads and checks a refresh token for `project`: the signature (algorithm pinned to HS256
/// under the project's refresh secret), the audience and expiry.
pub fn verify_refresh(token: &str, project: ProjectId, ring: &KeyRing, now: DateTime<Utc>) -> Result<RefreshClaims> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| CoreError::RefreshTokenMalformed)?;
    // Read the claims unverified only to tell "another project's token" from a forgery.
    let unverified: RefreshClaims =
        jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|_| CoreError::RefreshTokenMalformed)?;
    if unverified.project_id != project {
        return Err(CoreError::RefreshTokenProjectMismatch);
    }
    if header.alg != Algorithm::HS256 {
        return Err(CoreError::RefreshTokenInvalid);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false; // checked below against the injectable clock
    validation.required_spec_claims.clear();
    validation.set_audience(&[refresh_audience(project)]);
    let key = DecodingKey::from_secret(ring.refresh_secret.expose_secret());
    let claims = jsonwebtoken::decode::<RefreshClaims>(token, &key, &validation)
        .map_err(|_| CoreError::RefreshTokenInvalid)?
        .claims;
    if claims.exp <= now.timestamp() {
        return Err(CoreError::RefreshTokenInvalid);
    }
    Ok(claims)
}

/// Verifies an access token the way a customer's server should: EdDSA only, `kid` from the
/// ring, `aud` = project, `iss` = issuer, `exp` with at most 60 s of leeway.
pub fn verify_access(
    token: &str,
    issuer: &str,
    project: ProjectId,
    ring: &KeyRing,
    now: DateTime<Utc>,
) -> Result<AccessClaims> {
    let bad = || CoreError::invalid("accessToken", "invalid access token");
    let header = jsonwebtoken::decode_header(token).map_err(|_| bad())?;
    if header.alg != Algorithm::EdDSA {
        return Err(bad());
    }
    let key = header.kid.as_deref().and_then(|kid| ring.find(kid, now)).ok_or_else(bad)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_exp = false;
    validation.set_audience(&[project.to_string()]);
    validation.set_issuer(&[issuer]);
    let claims = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &validation).map_err(|_| bad())?.claims;
    if claims.exp + 60 <= now.timestamp() {
        return Err(bad());
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (ProjectId, KeyRing, MasterKey) {
        let (master, _) = MasterKey::generate();
        let project = ProjectId::generate();
        let (key, stored) = SigningKey::generate(project, &master, Utc::now()).unwrap();
        let unsealed = SigningKey::unseal(&stored, &master).unwrap();
        assert_eq!(unsealed.kid, key.kid);
        (project, KeyRing::new(project, vec![(unsealed, KeyState::Active)], &master).unwrap(), master)
    }

    fn spec(project: ProjectId, now: DateTime<Utc>) -> PairSpec<'static> {
        PairSpec {
            issuer: "http://issuer",
            project,
            user: UserId::generate(),
            role: Role::Visitor,
            session: SessionId::generate(),
            generation: 3,
            now,
            access_ttl_secs: 1800,
            refresh_ttl_secs: 3600,
        }
    }

    #[test]
    fn pair_round_trips_and_kinds_do_not_mix() {
        let (project, ring, _) = setup();
        let now = Utc::now();
        let pair = mint_pair(&ring, &spec(project, now)).unwrap();
        let refresh = verify_refresh(&pair.refresh_token, project, &ring, now).unwrap();
        assert_eq!(refresh.generation, 3);
        let access = verify_access(&pair.access_token, "http://issuer", project, &ring, now).unwrap();
        assert_eq!(access.sid, refresh.sid);
        // An access token is not a refresh token, and the reverse.
        assert!(verify_refresh(&pair.access_token, project, &ring, now).is_err());
        assert!(verify_access(&pair.refresh_token, "http://issuer", project, &ring, now).is_err());
    }

    #[test]
    fn a_key_ring_shows_its_kids_only() {
        let (_, ring, _) = setup();
        let shown = format!("{ring:?}");
        assert!(shown.contains(&ring.active().kid), "{shown}");
        assert!(shown.contains("refresh_secret: SecretBox<[u8; 32]>([REDACTED])"), "{shown}");
    }

    #[test]
    fn the_active_key_signs_and_every_published_key_verifies() {
        let (master, _) = MasterKey::generate();
        let project = ProjectId::generate();
        let now = Utc::now();
        let key = || SigningKey::generate(project, &master, now).unwrap().0;
        let (standby, active, retired) = (key(), key(), key());
        let until = now + chrono::Duration::minutes(40);
        let states = [KeyState::Standby, KeyState::Active, KeyState::Retired { published_until: until }];
        let ring = KeyRing::new(
            project,
            [standby.clone(), active.clone(), retired.clone()].into_iter().zip(states).collect(),
            &master,
        )
        .unwrap();
        assert_eq!(ring.active().kid, active.kid, "the standby is newer but does not sign");
        let kids = |at| -> Vec<String> {
            ring.jwks(at)["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(kids(now), [active.kid.clone(), standby.kid.clone(), retired.kid.clone()], "the signer first");
        assert_eq!(kids(until), [active.kid.clone(), standby.kid.clone()], "the retired key leaves at its end");
        assert!(ring.find(&retired.kid, now).is_some());
        assert!(ring.find(&retired.kid, until).is_none());

        let pair = mint_pair(&ring, &spec(project, now)).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&pair.access_token).unwrap().kid.as_deref(), Some(active.kid.as_str()));
        assert!(verify_access(&pair.access_token, "http://issuer", project, &ring, now).is_ok());

        let two_active = vec![(active.clone(), KeyState::Active), (retired, KeyState::Active)];
        assert!(KeyRing::new(project, two_active, &master).is_err());
        assert!(KeyRing::new(project, vec![(standby, KeyState::Standby)], &master).is_err(), "none signs");
    }

    #[test]
    fn a_stored_key_reads_its_state() {
        let (master, _) = MasterKey::generate();
        let now = Utc::now();
        let (_, mut stored) = SigningKey::generate(ProjectId::generate(), &master, now).unwrap();
        assert_eq!(stored.state(), KeyState::Standby, "a fresh key is a standby");
        stored.activated_at = Some(now);
        assert_eq!(stored.state(), KeyState::Active);
        // Within the tokens' 30-minute lifetime, so only the key's end can refuse them.
        let until = now + chrono::Duration::minutes(10);
        stored.retired_at = Some(now);
        stored.published_until = Some(until);
        assert_eq!(stored.state(), KeyState::Retired { published_until: until });
        assert!(stored.is_published(now));
        assert!(!stored.is_published(until));
    }

    #[test]
    fn refresh_checks_project_expiry_and_signature() {
        let (project, ring, _) = setup();
        let now = Utc::now();
        let pair = mint_pair(&ring, &spec(project, now)).unwrap();
        let other = ProjectId::generate();
        assert!(matches!(
            verify_refresh(&pair.refresh_token, other, &ring, now),
            Err(CoreError::RefreshTokenProjectMismatch)
        ));
        let later = now + chrono::Duration::seconds(3601);
        assert!(matches!(
            verify_refresh(&pair.refresh_token, project, &ring, later),
            Err(CoreError::RefreshTokenInvalid)
        ));
        // Same project id, other master key: the derived refresh secret differs.
        let (_, other_master) = MasterKey::generate();
        let keys = vec![(ring.active.clone(), KeyState::Active)];
        let other_ring = KeyRing::new(project, keys, &MasterKey::from_base64(&other_master).unwrap()).unwrap();
        assert!(matches!(
            verify_refresh(&pair.refresh_token, project, &other_ring, now),
            Err(CoreError::RefreshTokenInvalid)
        ));
        // Refresh tokens are not EdDSA and the JWKS cannot verify them.
        let header = jsonwebtoken::decode_header(&pair.refresh_token).unwrap();
        assert_eq!(header.alg, Algorithm::HS256);
        assert!(!ring.jwks(now).to_string().contains("oct"), "no symmetric key is published");
        assert!(matches!(verify_refresh("garbage", project, &ring, now), Err(CoreError::RefreshTokenMalformed)));
    }

    #[test]
    fn the_parsed_key_signs_exactly_as_jsonwebtoken_would() {
        // Ed25519 is deterministic: the token signed with the cached, parsed key is byte for
        // byte the one `jsonwebtoken::encode` makes from the PKCS#8 document.
        let (master, _) = MasterKey::generate();
        let project = ProjectId::generate();
        let (_, stored) = SigningKey::generate(project, &master, Utc::now()).unwrap();
        let key = SigningKey::unseal(&stored, &master).unwrap();
        let der = master.decrypt(&stored.private_key_sealed, &sealing_context(project, &stored.kid)).unwrap();
        let claims = serde_json::json!({"sub": "someone", "aud": project.to_string(), "n": "\u{e9}\"<>"});
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        let theirs = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(&der)).unwrap();
        assert_eq!(key.sign(&claims).unwrap(), theirs);
    }

    #[test]
    fn a_rotated_ring_signs_with_the_new_kid_and_still_verifies_old_tokens() {
        let (master, _) = MasterKey::generate();
        let project = ProjectId::generate();
        let now = Utc::now();
        let (old, _) = SigningKey::generate(project, &master, now).unwrap();
        let (new, _) = SigningKey::generate(project, &master, now).unwrap();
        let before = KeyRing::new(project, vec![(old.clone(), KeyState::Active)], &master).unwrap();
        // Within the tokens' 30-minute lifetime, so only the key's end can refuse them.
        let until = now + chrono::Duration::minutes(10);
        let after = KeyRing::new(
            project,
            vec![(new.clone(), KeyState::Active), (old.clone(), KeyState::Retired { published_until: until })],
            &master,
        )
        .unwrap();
        let old_token = mint_pair(&before, &spec(project, now)).unwrap().access_token;
        let new_token = mint_pair(&after, &spec(project, now)).unwrap().access_token;
        let kid = |t: &str| jsonwebtoken::decode_header(t).unwrap().kid.unwrap();
        assert_eq!(kid(&old_token), old.kid);
        assert_eq!(kid(&new_token), new.kid);
        for token in [&old_token, &new_token] {
            assert!(verify_access(token, "http://issuer", project, &after, now).is_ok());
        }
        // Once the retired key leaves the JWKS its tokens are refused.
        let later = until + chrono::Duration::seconds(1);
        assert!(verify_access(&old_token, "http://issuer", project, &after, later).is_err());
        assert!(verify_access(&new_token, "http://issuer", project, &after, later).is_ok());
        assert!(verify_access(&new_token, "http://issuer", project, &before, now).is_err());
    }
}
