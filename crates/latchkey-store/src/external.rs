//! [`ExternalStore`]: users signed in with tokens of the customer's own issuer
//! (`verify-external-user`): the project's settings, shared secrets and public keys, the
//! token ids already used, and the sign-in itself in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_core::domain::{ProjectId, User};
use latchkey_core::store::{
    ExternalKeyRecord, ExternalSecretRecord, ExternalSettings, ExternalSignIn, ExternalSignInOutcome, ExternalStore,
    StoreResult, UserChange,
};

use crate::SqlStore;
use crate::core::user;
use crate::db::Tx;
use crate::types::{Id, JsonText, Millis, instant, millis};

#[derive(sqlx::FromRow)]
struct ExternalSettingsRow {
    max_token_lifetime_secs: i64,
    jwks_url: Option<String>,
}

impl From<ExternalSettingsRow> for ExternalSettings {
    fn from(row: ExternalSettingsRow) -> Self {
        ExternalSettings { max_token_lifetime_secs: row.max_token_lifetime_secs, jwks_url: row.jwks_url }
    }
}

#[derive(sqlx::FromRow)]
struct SecretRow {
    id: String,
    project_id: Id<ProjectId>,
    secret_sealed: Vec<u8>,
    created_at: Millis,
    expires_at: Option<Millis>,
    revoked_at: Option<Millis>,
}

impl From<SecretRow> for ExternalSecretRecord {
    fn from(row: SecretRow) -> Self {
        ExternalSecretRecord {
            id: row.id,
            project_id: row.project_id.0,
            secret_sealed: row.secret_sealed,
            created_at: row.created_at.0,
            expires_at: instant(row.expires_at),
            revoked_at: instant(row.revoked_at),
        }
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    project_id: Id<ProjectId>,
    kid: String,
    alg: String,
    jwk: String,
    created_at: Millis,
}

impl From<KeyRow> for ExternalKeyRecord {
    fn from(row: KeyRow) -> Self {
        ExternalKeyRecord {
            project_id: row.project_id.0,
            kid: row.kid,
            alg: row.alg,
            jwk: row.jwk,
            created_at: row.created_at.0,
        }
    }
}

impl Tx {
    /// Writes every mutable column of an externally signed-in `user`, if the row still has
    /// `expected_foreign_id` (`None`: must still have none); whether it did. `IS NOT DISTINCT
    /// FROM` is the NULL-safe equality both backends understand (SQLite since 3.39). A changed
    /// email is no longer verified. A user disabled or suspended (at `now`) since it was read
    /// is not written either.
    async fn update_external_user(
        &mut self,
        user: &User,
        expected_foreign_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let updated = self
            .query(
                "UPDATE users
                    SET foreign_id = $1, email = $2, name = $3, username = $4, avatar = $5, bio = $6,
                        birthdate = $7, latitude = $8, longitude = $9, metadata = $10, secure_metadata = $11,
                        last_active = $12, updated_at = $13,
                        is_verified = CASE WHEN email IS NOT DISTINCT FROM $2 THEN is_verified ELSE FALSE END
                  WHERE project_id = $14 AND id = $15 AND foreign_id IS NOT DISTINCT FROM $16
                    AND is_active AND (suspended_until IS NULL OR suspended_until <= $17)",
            )
            .bind(user.foreign_id.as_deref())
            .bind(user.email.as_deref())
            .bind(user.profile.name.as_deref())
            .bind(user.username.as_deref())
            .bind(user.profile.avatar.as_deref())
            .bind(user.profile.bio.as_deref())
            .bind(user.profile.birthdate.as_deref())
            .bind(user.profile.location.map(|l| l.latitude))
            .bind(user.profile.location.map(|l| l.longitude))
            .bind(JsonText(&user.metadata))
            .bind(JsonText(&user.secure_metadata))
            .bind(millis(user.last_active))
            .bind(Millis(user.updated_at))
            .bind(Id(user.project_id))
            .bind(Id(user.id))
            .bind(expected_foreign_id)
            .bind(Millis(now))
            .execute()
            .await?;
        Ok(updated == 1)
    }
}

#[async_trait]
impl ExternalStore for SqlStore {
    async fn external_settings(&self, project: ProjectId) -> StoreResult<Option<ExternalSettings>> {
        let row: Option<ExternalSettingsRow> = self
            .read("SELECT max_token_lifetime_secs, jwks_url FROM external_settings WHERE project_id = $1")
            .bind(Id(project))
            .fetch_optional()
            .await?;
        Ok(row.map(ExternalSettings::from))
    }

    async fn put_external_settings(
        &self,
        project: ProjectId,
        settings: &ExternalSettings,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(
            "INSERT INTO external_settings (project_id, max_token_lifetime_secs, jwks_url, updated_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (project_id) DO UPDATE SET
                     max_token_lifetime_secs = $2, jwks_url = $3, updated_at = $4",
        )
        .bind(Id(project))
        .bind(settings.max_token_lifetime_secs)
        .bind(settings.jwks_url.as_deref())
        .bind(Millis(now))
        .execute()
        .await?;
        Ok(())
    }

    async fn external_secrets(&self, project: ProjectId) -> StoreResult<Vec<ExternalSecretRecord>> {
        let rows: Vec<SecretRow> = self
            .read("SELECT * FROM external_secrets WHERE project_id = $1 ORDER BY created_at DESC, id")
            .bind(Id(project))
            .fetch_all()
            .await?;
        Ok(rows.into_iter().map(ExternalSecretRecord::from).collect())
    }

    async fn insert_external_secret(
        &self,
        secret: &ExternalSecretRecord,
        expire_live_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        if let Some(until) = expire_live_at {
            // Rotation with overlap: every other live secret of the project expires at `$1` at
            // the latest.
            tx.query(
                "UPDATE external_secrets SET expires_at = $1
                  WHERE project_id = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)",
            )
            .bind(Millis(until))
            .bind(Id(secret.project_id))
            .execute()
            .await?;
        }
        tx.query(
            "INSERT INTO external_secrets (project_id, id, secret_sealed, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Id(secret.project_id))
        .bind(secret.id.as_str())
        .bind(secret.secret_sealed.as_slice())
        .bind(Millis(secret.created_at))
        .bind(millis(secret.expires_at))
        .bind(millis(secret.revoked_at))
        .execute()
        .await?;
        tx.commit().await
    }

    async fn revoke_external_secret(&self, project: ProjectId, id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let revoked = self
            .write(
                "UPDATE external_secrets SET revoked_at = $1
                  WHERE project_id = $2 AND id = $3 AND revoked_at IS NULL",
            )
            .bind(Millis(now))
            .bind(Id(project))
            .bind(id)
            .execute()
            .await?;
        Ok(revoked == 1)
    }

    async fn external_keys(&self, project: ProjectId) -> StoreResult<Vec<ExternalKeyRecord>> {
        let rows: Vec<KeyRow> = self
            .read("SELECT * FROM external_keys WHERE project_id = $1 ORDER BY created_at, kid")
            .bind(Id(project))
            .fetch_all()
            .await?;
        Ok(rows.into_iter().map(ExternalKeyRecord::from).collect())
    }

    async fn insert_external_key(&self, key: &ExternalKeyRecord) -> StoreResult<()> {
        self.write("INSERT INTO external_keys (project_id, kid, alg, jwk, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(Id(key.project_id))
            .bind(key.kid.as_str())
            .bind(key.alg.as_str())
            .bind(key.jwk.as_str())
            .bind(Millis(key.created_at))
            .execute()
            .await?;
        Ok(())
    }

    async fn remove_external_key(&self, project: ProjectId, kid: &str) -> StoreResult<bool> {
        let removed = self
            .write("DELETE FROM external_keys WHERE project_id = $1 AND kid = $2")
            .bind(Id(project))
            .bind(kid)
            .execute()
            .await?;
        Ok(removed == 1)
    }

    async fn find_user_by_foreign_id(&self, project: ProjectId, foreign_id: &str) -> StoreResult<Option<User>> {
        let row = self
            .read("SELECT * FROM users WHERE project_id = $1 AND foreign_id = $2")
            .bind(Id(project))
            .bind(foreign_id)
            .fetch_optional()
            .await?;
        user(row)
    }

    async fn apply_external_sign_in(&self, sign_in: &ExternalSignIn) -> StoreResult<ExternalSignInOutcome> {
        if sign_in.jti.is_some() {
            // Housekeeping across all projects, outside the sign-in's transaction: token ids
            // that no accepted token can carry any more. On PostgreSQL, concurrent sign-ins
            // would otherwise queue on the locks of the same expired rows until each other's
            // commit.
            self.write("DELETE FROM external_jtis WHERE expires_at <= $1").bind(Millis(sign_in.now)).execute().await?;
        }
        let mut tx = self.db.begin().await?;
        if let Some((digest, expires_at)) = &sign_in.jti {
            // Consumes the token id: inserts nothing when it was already used.
            let inserted = tx
                .query(
                    "INSERT INTO external_jtis (project_id, jti_digest, expires_at, user_id) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (project_id, jti_digest) DO NOTHING",
                )
                .bind(Id(sign_in.change.user().project_id))
                .bind(digest.as_str())
                .bind(Millis(*expires_at))
                .bind(Id(sign_in.change.user().id))
                .execute()
                .await?;
            if inserted == 0 {
                return Ok(ExternalSignInOutcome::Replayed); // dropping `tx` rolls back
            }
        }
        let applied = match &sign_in.change {
            UserChange::Create(user) => {
                tx.insert_user(user).await?;
                true
            }
            UserChange::Update(user) => tx.update_external_user(user, user.foreign_id.as_deref(), sign_in.now).await?,
            UserChange::Link(user) => tx.update_external_user(user, None, sign_in.now).await?,
        };
        if !applied {
            return Ok(ExternalSignInOutcome::Stale);
        }
        if let UserChange::Link(user) = &sign_in.change {
            // Linking an account whose email is not verified: its existing sessions and its
            // password go (see `UserChange::Link`; the link's own session is created after
            // this). Both decide on the row as it is now, inside this transaction.
            tx.query(
                "UPDATE sessions SET revoked_at = $1
                  WHERE project_id = $2 AND user_id = $3 AND revoked_at IS NULL
                    AND EXISTS (SELECT 1 FROM users WHERE project_id = $2 AND id = $3 AND NOT is_verified)",
            )
            .bind(Millis(sign_in.now))
            .bind(Id(user.project_id))
            .bind(Id(user.id))
            .execute()
            .await?;
            tx.query("UPDATE users SET password_hash = NULL WHERE project_id = $1 AND id = $2 AND NOT is_verified")
                .bind(Id(user.project_id))
                .bind(Id(user.id))
                .execute()
                .await?;
        }
        tx.insert_session(&sign_in.session).await?;
        tx.commit().await?;
        Ok(ExternalSignInOutcome::Applied)
    }
}
