//! Storage for external users (`verify-external-user`): per-project settings, HMAC signing
//! secrets (sealed), registered public keys, used `jti`s, and the atomic "user change + new
//! session (+ jti)" write that completes an external sign-in.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{SessionRecord, StoreResult};
use crate::domain::{ProjectId, User};

/// Per-project external-user settings (kept apart from `projects` on purpose).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSettings {
    /// Tokens whose lifetime (`exp - iat`, or `exp - now`) exceeds this are refused.
    pub max_token_lifetime_secs: i64,
    /// Optional JWKS document with more public keys (HTTPS; plain http only on loopback).
    pub jwks_url: Option<String>,
}

impl ExternalSettings {
    pub const DEFAULT_MAX_TOKEN_LIFETIME_SECS: i64 = 10 * 60;
    pub const MIN_MAX_TOKEN_LIFETIME_SECS: i64 = 60;
    pub const MAX_MAX_TOKEN_LIFETIME_SECS: i64 = 24 * 3600;
}

impl Default for ExternalSettings {
    fn default() -> Self {
        Self { max_token_lifetime_secs: Self::DEFAULT_MAX_TOKEN_LIFETIME_SECS, jwks_url: None }
    }
}

/// An HMAC signing secret as stored: the secret itself only sealed under the master key.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretRecord {
    /// Also the `kid` a token may carry to select this secret.
    pub id: String,
    pub project_id: ProjectId,
    #[serde(skip)]
    pub secret_sealed: Vec<u8>,
    pub created_at: DateTime<Utc>,
    /// Set when the secret was rotated out: it keeps working until then (the overlap).
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ExternalSecretRecord {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// A registered public key, stored as its public JWK (not secret, so not sealed).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalKeyRecord {
    pub project_id: ProjectId,
    pub kid: String,
    /// The one algorithm this key verifies (`RS256`, `ES256`, `EdDSA`, ...).
    pub alg: String,
    /// The public JWK, as JSON text.
    pub jwk: String,
    pub created_at: DateTime<Utc>,
}

/// What an external sign-in does to the user row.
#[derive(Debug, Clone)]
pub enum UserChange {
    /// A new user.
    Create(User),
    /// An existing user found by foreign id; applies only if it still has that foreign id (and,
    /// like `Link`, is still active and not suspended: else the write is `Stale`).
    Update(User),
    /// An existing user found by email gets its foreign id; applies only if it still has none.
    /// If the account's email is not verified, its password and existing sessions are dropped
    /// in the same transaction (nobody proved the password's owner controls the address).
    Link(User),
}

impl UserChange {
    pub fn user(&self) -> &User {
        match self {
            UserChange::Create(u) | UserChange::Update(u) | UserChange::Link(u) => u,
        }
    }
}

/// One external sign-in, written in one transaction.
#[derive(Debug, Clone)]
pub struct ExternalSignIn {
    pub change: UserChange,
    pub session: SessionRecord,
    /// Digest of the token's `jti` and until when it must stay unusable.
    pub jti: Option<(String, DateTime<Utc>)>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalSignInOutcome {
    Applied,
    /// The `jti` was already used: nothing was written.
    Replayed,
    /// The user row changed under us (a racing sign-in): nothing was written; re-read and retry.
    Stale,
}

#[async_trait]
pub trait ExternalStore: Send + Sync + 'static {
    async fn external_settings(&self, project: ProjectId) -> StoreResult<Option<ExternalSettings>>;
    async fn put_external_settings(
        &self,
        project: ProjectId,
        settings: &ExternalSettings,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// All secrets of the project (live, expired and revoked), newest first.
    async fn external_secrets(&self, project: ProjectId) -> StoreResult<Vec<ExternalSecretRecord>>;
    /// Inserts `secret`; when `expire_live_at` is set, every other live secret of the project
    /// first gets that expiry (rotation with overlap), in the same transaction.
    async fn insert_external_secret(
        &self,
        secret: &ExternalSecretRecord,
        expire_live_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;
    /// False when no unrevoked secret with that id exists in that project.
    async fn revoke_external_secret(&self, project: ProjectId, id: &str, now: DateTime<Utc>) -> StoreResult<bool>;

    async fn external_keys(&self, project: ProjectId) -> StoreResult<Vec<ExternalKeyRecord>>;
    /// `Conflict(Other)` when the project already has a key with that `kid`.
    async fn insert_external_key(&self, key: &ExternalKeyRecord) -> StoreResult<()>;
    async fn remove_external_key(&self, project: ProjectId, kid: &str) -> StoreResult<bool>;

    async fn find_user_by_foreign_id(&self, project: ProjectId, foreign_id: &str) -> StoreResult<Option<User>>;
    /// Consumes the `jti` (if any), applies the user change and creates the session, atomically.
    async fn apply_external_sign_in(&self, sign_in: &ExternalSignIn) -> StoreResult<ExternalSignInOutcome>;
}
