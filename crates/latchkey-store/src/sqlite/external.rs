//! [`ExternalStore`] for SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_core::domain::{ProjectId, User};
use latchkey_core::store::{
    ExternalKeyRecord, ExternalSecretRecord, ExternalSettings, ExternalSignIn, ExternalSignInOutcome, ExternalStore,
    StoreError, StoreResult, UserChange,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use super::SqliteStore;
use super::rows::{insert_session, insert_user, user_from_row};
use crate::map_err;
use crate::time::{from_millis, opt_from_millis, to_millis};

fn secret_from_row(row: &SqliteRow) -> StoreResult<ExternalSecretRecord> {
    let project: String = row.try_get("project_id").map_err(map_err)?;
    Ok(ExternalSecretRecord {
        id: row.try_get("id").map_err(map_err)?,
        project_id: project.parse().map_err(|e| StoreError::Other(format!("bad project_id: {e}")))?,
        secret_sealed: row.try_get("secret_sealed").map_err(map_err)?,
        created_at: from_millis(row.try_get("created_at").map_err(map_err)?)?,
        expires_at: opt_from_millis(row.try_get("expires_at").map_err(map_err)?)?,
        revoked_at: opt_from_millis(row.try_get("revoked_at").map_err(map_err)?)?,
    })
}

fn key_from_row(row: &SqliteRow) -> StoreResult<ExternalKeyRecord> {
    let project: String = row.try_get("project_id").map_err(map_err)?;
    Ok(ExternalKeyRecord {
        project_id: project.parse().map_err(|e| StoreError::Other(format!("bad project_id: {e}")))?,
        kid: row.try_get("kid").map_err(map_err)?,
        alg: row.try_get("alg").map_err(map_err)?,
        jwk: row.try_get("jwk").map_err(map_err)?,
        created_at: from_millis(row.try_get("created_at").map_err(map_err)?)?,
    })
}

/// Writes every mutable column of `user`, if the row still has `foreign_id` as expected
/// (`None`: must still have none). Returns whether the row was updated.
async fn update_user(
    tx: &mut Transaction<'_, Sqlite>,
    user: &User,
    expected_foreign_id: Option<&str>,
) -> StoreResult<bool> {
    let metadata = serde_json::to_string(&user.metadata).map_err(|e| StoreError::Other(e.to_string()))?;
    let secure = serde_json::to_string(&user.secure_metadata).map_err(|e| StoreError::Other(e.to_string()))?;
    let done = sqlx::query(
        "UPDATE users
            SET foreign_id = ?, email = ?, name = ?, username = ?, avatar = ?, bio = ?, birthdate = ?,
                latitude = ?, longitude = ?, metadata = ?, secure_metadata = ?, last_active = ?, updated_at = ?
          WHERE project_id = ? AND id = ? AND foreign_id IS ?",
    )
    .bind(&user.foreign_id)
    .bind(&user.email)
    .bind(&user.name)
    .bind(&user.username)
    .bind(&user.avatar)
    .bind(&user.bio)
    .bind(&user.birthdate)
    .bind(user.location.map(|l| l.latitude))
    .bind(user.location.map(|l| l.longitude))
    .bind(metadata)
    .bind(secure)
    .bind(user.last_active.map(to_millis))
    .bind(to_millis(user.updated_at))
    .bind(user.project_id.to_string())
    .bind(user.id.to_string())
    .bind(expected_foreign_id)
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() == 1)
}

#[async_trait]
impl ExternalStore for SqliteStore {
    async fn external_settings(&self, project: ProjectId) -> StoreResult<Option<ExternalSettings>> {
        let row: Option<(i64, Option<String>)> =
            sqlx::query_as("SELECT max_token_lifetime_secs, jwks_url FROM external_settings WHERE project_id = ?")
                .bind(project.to_string())
                .fetch_optional(&self.reader)
                .await
                .map_err(map_err)?;
        Ok(row.map(|(max_token_lifetime_secs, jwks_url)| ExternalSettings { max_token_lifetime_secs, jwks_url }))
    }

    async fn put_external_settings(
        &self,
        project: ProjectId,
        settings: &ExternalSettings,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO external_settings (project_id, max_token_lifetime_secs, jwks_url, updated_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (project_id) DO UPDATE SET
                 max_token_lifetime_secs = ?2, jwks_url = ?3, updated_at = ?4",
        )
        .bind(project.to_string())
        .bind(settings.max_token_lifetime_secs)
        .bind(&settings.jwks_url)
        .bind(to_millis(now))
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn external_secrets(&self, project: ProjectId) -> StoreResult<Vec<ExternalSecretRecord>> {
        let rows = sqlx::query("SELECT * FROM external_secrets WHERE project_id = ? ORDER BY created_at DESC, id")
            .bind(project.to_string())
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter().map(secret_from_row).collect()
    }

    async fn insert_external_secret(
        &self,
        secret: &ExternalSecretRecord,
        expire_live_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        if let Some(until) = expire_live_at {
            let until = to_millis(until);
            sqlx::query(
                "UPDATE external_secrets SET expires_at = ?1
                  WHERE project_id = ?2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?1)",
            )
            .bind(until)
            .bind(secret.project_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        sqlx::query(
            "INSERT INTO external_secrets (project_id, id, secret_sealed, created_at, expires_at, revoked_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(secret.project_id.to_string())
        .bind(&secret.id)
        .bind(&secret.secret_sealed)
        .bind(to_millis(secret.created_at))
        .bind(secret.expires_at.map(to_millis))
        .bind(secret.revoked_at.map(to_millis))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn revoke_external_secret(&self, project: ProjectId, id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE external_secrets SET revoked_at = ? WHERE project_id = ? AND id = ? AND revoked_at IS NULL",
        )
        .bind(to_millis(now))
        .bind(project.to_string())
        .bind(id)
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn external_keys(&self, project: ProjectId) -> StoreResult<Vec<ExternalKeyRecord>> {
        let rows = sqlx::query("SELECT * FROM external_keys WHERE project_id = ? ORDER BY created_at, kid")
            .bind(project.to_string())
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter().map(key_from_row).collect()
    }

    async fn insert_external_key(&self, key: &ExternalKeyRecord) -> StoreResult<()> {
        sqlx::query("INSERT INTO external_keys (project_id, kid, alg, jwk, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(key.project_id.to_string())
            .bind(&key.kid)
            .bind(&key.alg)
            .bind(&key.jwk)
            .bind(to_millis(key.created_at))
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn remove_external_key(&self, project: ProjectId, kid: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM external_keys WHERE project_id = ? AND kid = ?")
            .bind(project.to_string())
            .bind(kid)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn find_user_by_foreign_id(&self, project: ProjectId, foreign_id: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE project_id = ? AND foreign_id = ?")
            .bind(project.to_string())
            .bind(foreign_id)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn apply_external_sign_in(&self, sign_in: &ExternalSignIn) -> StoreResult<ExternalSignInOutcome> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        if let Some((digest, expires_at)) = &sign_in.jti {
            let project = sign_in.change.user().project_id.to_string();
            sqlx::query("DELETE FROM external_jtis WHERE expires_at <= ?")
                .bind(to_millis(sign_in.now))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            let inserted = sqlx::query(
                "INSERT INTO external_jtis (project_id, jti_digest, expires_at) VALUES (?, ?, ?)
                 ON CONFLICT (project_id, jti_digest) DO NOTHING",
            )
            .bind(project)
            .bind(digest)
            .bind(to_millis(*expires_at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if inserted.rows_affected() == 0 {
                return Ok(ExternalSignInOutcome::Replayed); // dropping `tx` rolls back
            }
        }
        let applied = match &sign_in.change {
            UserChange::Create(user) => {
                insert_user(&mut tx, user).await?;
                true
            }
            UserChange::Update(user) => update_user(&mut tx, user, user.foreign_id.as_deref()).await?,
            UserChange::Link(user) => update_user(&mut tx, user, None).await?,
        };
        if !applied {
            return Ok(ExternalSignInOutcome::Stale);
        }
        insert_session(&mut tx, &sign_in.session).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(ExternalSignInOutcome::Applied)
    }
}
