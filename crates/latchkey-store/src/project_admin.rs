//! [`ProjectAdminStore`]: renaming and deleting projects, and signing-key rotation. The
//! partial unique indexes `signing_keys_one_active` and `signing_keys_one_standby` keep one
//! key of each role per project, whatever races.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_core::domain::{AuditEvent, ProjectId};
use latchkey_core::store::{KeyRotation, ProjectAdminStore, StoreResult};
use latchkey_core::tokens::StoredSigningKey;

use crate::SqlStore;
use crate::db::On;
use crate::types::{Id, Millis, millis};

/// One signing key, on the writer or inside a transaction (project creation, rotation).
pub(crate) async fn insert_signing_key(on: On<'_>, key: &StoredSigningKey) -> StoreResult<u64> {
    on.query(
        "INSERT INTO signing_keys (project_id, kid, public_key, private_key_sealed, created_at,
                                   activated_at, retired_at, published_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Id(key.project_id))
    .bind(key.kid.as_str())
    .bind(key.public_key.as_slice())
    .bind(key.private_key_sealed.as_slice())
    .bind(Millis(key.created_at))
    .bind(millis(key.activated_at))
    .bind(millis(key.retired_at))
    .bind(millis(key.published_until))
    .execute()
    .await
}

#[async_trait]
impl ProjectAdminStore for SqlStore {
    async fn rename_project(&self, project: ProjectId, name: &str, audit: &AuditEvent) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let renamed =
            tx.query("UPDATE projects SET name = $1 WHERE id = $2").bind(name).bind(Id(project)).execute().await?;
        if renamed != 1 {
            return Ok(false); // dropping `tx` rolls back
        }
        tx.insert_audit_event(audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_project(&self, project: ProjectId) -> StoreResult<bool> {
        // Every table's project_id references projects ON DELETE CASCADE (and the rows about a
        // user reference the user), so one statement erases the whole project.
        let deleted = self.write("DELETE FROM projects WHERE id = $1").bind(Id(project)).execute().await?;
        Ok(deleted == 1)
    }

    async fn add_standby_signing_key(&self, key: &StoredSigningKey) -> StoreResult<bool> {
        // A project's standby exists already: `signing_keys_one_standby` refuses the row, and
        // DO NOTHING turns that into "not added" (also for a racing start-up).
        let added = self
            .write(
                "INSERT INTO signing_keys (project_id, kid, public_key, private_key_sealed, created_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT DO NOTHING",
            )
            .bind(Id(key.project_id))
            .bind(key.kid.as_str())
            .bind(key.public_key.as_slice())
            .bind(key.private_key_sealed.as_slice())
            .bind(Millis(key.created_at))
            .execute()
            .await?;
        Ok(added == 1)
    }

    async fn projects_without_standby_key(&self) -> StoreResult<Vec<ProjectId>> {
        let rows: Vec<(Id<ProjectId>,)> = self
            .read(
                "SELECT id FROM projects p
                  WHERE NOT EXISTS (SELECT 1 FROM signing_keys k
                                     WHERE k.project_id = p.id AND k.activated_at IS NULL)
                  ORDER BY id",
            )
            .fetch_all()
            .await?;
        Ok(rows.into_iter().map(|(id,)| id.0).collect())
    }

    async fn rotate_signing_key(&self, r: &KeyRotation) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        // Both updates are conditional on the state the caller read; on PostgreSQL a racing
        // rotation waits for this one's row lock and then finds the key no longer active.
        let retired = tx
            .query(
                "UPDATE signing_keys SET retired_at = $1, published_until = $2
                  WHERE project_id = $3 AND kid = $4 AND activated_at IS NOT NULL AND retired_at IS NULL",
            )
            .bind(Millis(r.now))
            .bind(Millis(r.published_until))
            .bind(Id(r.project_id))
            .bind(r.retiring_kid.as_str())
            .execute()
            .await?;
        if retired != 1 {
            return Ok(false); // dropping `tx` rolls back
        }
        let promoted = tx
            .query(
                "UPDATE signing_keys SET activated_at = $1
                  WHERE project_id = $2 AND kid = $3 AND activated_at IS NULL",
            )
            .bind(Millis(r.now))
            .bind(Id(r.project_id))
            .bind(r.promoted_kid.as_str())
            .execute()
            .await?;
        if promoted != 1 {
            return Ok(false);
        }
        insert_signing_key(tx.on(), &r.new_standby).await?;
        tx.insert_audit_event(&r.audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn purge_unpublished_signing_keys(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        // Maintenance across projects: retired keys no verifier can need any more.
        self.write(
            "DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND COALESCE(published_until, retired_at) <= $1",
        )
        .bind(Millis(now))
        .execute()
        .await
    }
}
