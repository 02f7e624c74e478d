//! Operator actions for external users: HMAC signing secrets (create, rotate with overlap,
//! list, revoke), registered public keys (add from PEM or JWK, list, remove) and the
//! per-project settings (maximum token lifetime, JWKS URL).

use std::sync::Arc;

use chrono::Duration;

use super::shared::Deps;
use crate::crypto::random_token;
use crate::domain::ProjectId;
use crate::external::jwks::check_jwks_url;
use crate::external::keys::{ParsedPublicKey, alg_name, parse_public_jwk_input, parse_public_pem};
use crate::store::{ExternalKeyRecord, ExternalSecretRecord, ExternalSettings, StoreError, UniqueField};
use crate::{CoreError, Result};

/// Prefix of signing secrets, so secret scanners can recognise a leaked one.
pub const SECRET_PREFIX: &str = "lkx_";
/// Default overlap during which a rotated-out secret keeps working.
pub const DEFAULT_OVERLAP_SECS: i64 = 24 * 3600;
pub const MAX_OVERLAP_SECS: i64 = 30 * 24 * 3600;

pub(crate) fn secret_context(project: ProjectId, id: &str) -> String {
    format!("latchkey/external-secret/{project}/{id}")
}

#[derive(Clone)]
pub struct ExternalAdmin {
    deps: Arc<Deps>,
}

/// A secret as created: the plaintext exists only here, to be shown once.
pub struct NewSigningSecret {
    pub record: ExternalSecretRecord,
    pub plaintext: String,
}

impl std::fmt::Debug for NewSigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSigningSecret").field("record", &self.record).finish_non_exhaustive()
    }
}

impl ExternalAdmin {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    fn mint_secret(&self, project: ProjectId) -> Result<NewSigningSecret> {
        let id = format!("hs-{}", random_token(9));
        let plaintext = format!("{SECRET_PREFIX}{}", random_token(32));
        let sealed = self.deps.master.encrypt(plaintext.as_bytes(), &secret_context(project, &id))?;
        let record = ExternalSecretRecord {
            id,
            project_id: project,
            secret_sealed: sealed,
            created_at: self.deps.clock.now(),
            expires_at: None,
            revoked_at: None,
        };
        Ok(NewSigningSecret { record, plaintext })
    }

    /// The project's first signing secret. Refused while a live one exists (use rotate).
    pub async fn create_signing_secret(&self, project: ProjectId) -> Result<NewSigningSecret> {
        self.deps.project(project).await?;
        let now = self.deps.clock.now();
        if self.deps.store.external_secrets(project).await?.iter().any(|s| s.is_live(now)) {
            return Err(CoreError::invalid(
                "project",
                "this project already has a live signing secret; use `signing-secret rotate`",
            ));
        }
        let created = self.mint_secret(project)?;
        self.deps.store.insert_external_secret(&created.record, None).await?;
        Ok(created)
    }

    /// A new secret; every other live secret keeps working for `overlap_secs`, then stops.
    pub async fn rotate_signing_secret(&self, project: ProjectId, overlap_secs: i64) -> Result<NewSigningSecret> {
        if !(0..=MAX_OVERLAP_SECS).contains(&overlap_secs) {
            return Err(CoreError::invalid("overlap", "overlap must be between 0 and 30 days"));
        }
        self.deps.project(project).await?;
        let created = self.mint_secret(project)?;
        let until = created.record.created_at + Duration::seconds(overlap_secs);
        self.deps.store.insert_external_secret(&created.record, Some(until)).await?;
        Ok(created)
    }

    pub async fn signing_secrets(&self, project: ProjectId) -> Result<Vec<ExternalSecretRecord>> {
        self.deps.project(project).await?;
        Ok(self.deps.store.external_secrets(project).await?)
    }

    /// Stops a secret at once. False when the project has no unrevoked secret with that id.
    pub async fn revoke_signing_secret(&self, project: ProjectId, id: &str) -> Result<bool> {
        Ok(self.deps.store.revoke_external_secret(project, id.trim(), self.deps.clock.now()).await?)
    }

    pub async fn add_public_key_pem(
        &self,
        project: ProjectId,
        pem: &str,
        kid: Option<&str>,
        alg: Option<&str>,
    ) -> Result<ExternalKeyRecord> {
        let parsed = parse_public_pem(pem, kid, alg)?;
        self.insert_key(project, parsed).await
    }

    pub async fn add_public_key_jwk(
        &self,
        project: ProjectId,
        jwk: &str,
        kid: Option<&str>,
        alg: Option<&str>,
    ) -> Result<ExternalKeyRecord> {
        let parsed = parse_public_jwk_input(jwk, kid, alg)?;
        self.insert_key(project, parsed).await
    }

    async fn insert_key(&self, project: ProjectId, parsed: ParsedPublicKey) -> Result<ExternalKeyRecord> {
        self.deps.project(project).await?;
        // One kid namespace per project: a token's kid must select exactly one key.
        if self.deps.store.external_secrets(project).await?.iter().any(|s| s.id == parsed.kid) {
            return Err(CoreError::invalid("kid", "this kid is already used by a signing secret"));
        }
        let record = ExternalKeyRecord {
            project_id: project,
            kid: parsed.kid.clone(),
            alg: alg_name(parsed.alg).to_owned(),
            jwk: parsed.jwk.clone(),
            created_at: self.deps.clock.now(),
        };
        self.deps.store.insert_external_key(&record).await.map_err(|e| match e {
            StoreError::Conflict(UniqueField::Other) => {
                CoreError::invalid("kid", format!("the project already has a key with kid {:?}", record.kid))
            }
            other => other.into(),
        })?;
        Ok(record)
    }

    pub async fn public_keys(&self, project: ProjectId) -> Result<Vec<ExternalKeyRecord>> {
        self.deps.project(project).await?;
        Ok(self.deps.store.external_keys(project).await?)
    }

    pub async fn remove_public_key(&self, project: ProjectId, kid: &str) -> Result<bool> {
        Ok(self.deps.store.remove_external_key(project, kid).await?)
    }

    pub async fn settings(&self, project: ProjectId) -> Result<ExternalSettings> {
        self.deps.project(project).await?;
        Ok(self.deps.store.external_settings(project).await?.unwrap_or_default())
    }

    pub async fn update_settings(&self, project: ProjectId, settings: ExternalSettings) -> Result<ExternalSettings> {
        self.deps.project(project).await?;
        let lifetime = settings.max_token_lifetime_secs;
        if !(ExternalSettings::MIN_MAX_TOKEN_LIFETIME_SECS..=ExternalSettings::MAX_MAX_TOKEN_LIFETIME_SECS)
            .contains(&lifetime)
        {
            return Err(CoreError::invalid("maxTokenLifetime", "maximum token lifetime must be 1 minute to 24 hours"));
        }
        let jwks_url = settings.jwks_url.as_deref().map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned);
        if let Some(url) = &jwks_url {
            check_jwks_url(url)?;
        }
        let settings = ExternalSettings { max_token_lifetime_secs: lifetime, jwks_url };
        self.deps.store.put_external_settings(project, &settings, self.deps.clock.now()).await?;
        Ok(settings)
    }
}
