//! [`ImportSettingsStore`]: a project's parameters for imported password hashes.

use async_trait::async_trait;
use latchkey_core::domain::{AuditEvent, ProjectId};
use latchkey_core::store::{FirebaseHashSettings, ImportSettingsStore, StoreError, StoreResult};

use crate::SqlStore;
use crate::types::{Id, Millis};

#[derive(sqlx::FromRow)]
struct FirebaseRow {
    project_id: Id<ProjectId>,
    signer_key_sealed: Vec<u8>,
    salt_separator: Vec<u8>,
    rounds: i64,
    mem_cost: i64,
    updated_at: Millis,
}

impl TryFrom<FirebaseRow> for FirebaseHashSettings {
    type Error = StoreError;

    fn try_from(row: FirebaseRow) -> StoreResult<Self> {
        let small = |v: i64| u32::try_from(v).map_err(|_| StoreError::Other(format!("stored Firebase cost {v}")));
        Ok(FirebaseHashSettings {
            project_id: row.project_id.0,
            signer_key_sealed: row.signer_key_sealed,
            salt_separator: row.salt_separator,
            rounds: small(row.rounds)?,
            mem_cost: small(row.mem_cost)?,
            updated_at: row.updated_at.0,
        })
    }
}

#[async_trait]
impl ImportSettingsStore for SqlStore {
    async fn put_firebase_hash_settings(&self, settings: &FirebaseHashSettings, audit: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.query(
            "INSERT INTO firebase_hash_settings
                 (project_id, signer_key_sealed, salt_separator, rounds, mem_cost, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (project_id) DO UPDATE SET
                 signer_key_sealed = excluded.signer_key_sealed, salt_separator = excluded.salt_separator,
                 rounds = excluded.rounds, mem_cost = excluded.mem_cost, updated_at = excluded.updated_at",
        )
        .bind(Id(settings.project_id))
        .bind(settings.signer_key_sealed.as_slice())
        .bind(settings.salt_separator.as_slice())
        .bind(i64::from(settings.rounds))
        .bind(i64::from(settings.mem_cost))
        .bind(Millis(settings.updated_at))
        .execute()
        .await?;
        tx.insert_audit_event(audit).await?;
        tx.commit().await
    }

    async fn firebase_hash_settings(&self, project: ProjectId) -> StoreResult<Option<FirebaseHashSettings>> {
        self.read(
            "SELECT project_id, signer_key_sealed, salt_separator, rounds, mem_cost, updated_at
             FROM firebase_hash_settings WHERE project_id = $1",
        )
        .bind(Id(project))
        .fetch_optional::<FirebaseRow>()
        .await?
        .map(FirebaseHashSettings::try_from)
        .transpose()
    }
}
