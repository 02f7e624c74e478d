//! [`UserImportStore`]: one transaction per batch of imported users, with its audit record.

use async_trait::async_trait;
use latchkey_core::domain::User;
use latchkey_core::store::{ImportBatch, StoreError, StoreResult, UserImportStore};

use crate::SqlStore;
use crate::db::Tx;
use crate::types::{Id, JsonText, Millis};

impl Tx {
    /// Applies an import to an existing user; the stored password hash wins over the
    /// imported one (see [`ImportBatch::update`]). Whether the user exists.
    async fn update_imported_user(&mut self, user: &User) -> StoreResult<bool> {
        let updated = self
            .query(
                "UPDATE users
                    SET email = $1, username = $2, name = $3, avatar = $4, bio = $5, birthdate = $6,
                        latitude = $7, longitude = $8, role = $9, metadata = $10, secure_metadata = $11,
                        is_verified = $12, foreign_id = $13, password_hash = COALESCE(password_hash, $14),
                        updated_at = $15
                  WHERE project_id = $16 AND id = $17",
            )
            .bind(user.email.as_deref())
            .bind(user.username.as_deref())
            .bind(user.profile.name.as_deref())
            .bind(user.profile.avatar.as_deref())
            .bind(user.profile.bio.as_deref())
            .bind(user.profile.birthdate.as_deref())
            .bind(user.profile.location.map(|l| l.latitude))
            .bind(user.profile.location.map(|l| l.longitude))
            .bind(user.role.as_str())
            .bind(JsonText(&user.metadata))
            .bind(JsonText(&user.secure_metadata))
            .bind(user.is_verified)
            .bind(user.foreign_id.as_deref())
            .bind(user.password_hash.as_deref())
            .bind(Millis(user.updated_at))
            .bind(Id(user.project_id))
            .bind(Id(user.id))
            .execute()
            .await?;
        Ok(updated == 1)
    }
}

#[async_trait]
impl UserImportStore for SqlStore {
    async fn import_users(&self, batch: &ImportBatch) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        for user in batch.create.iter().filter(|u| u.project_id == batch.project) {
            tx.insert_user(user).await?;
        }
        for user in batch.update.iter().filter(|u| u.project_id == batch.project) {
            if !tx.update_imported_user(user).await? {
                return Err(StoreError::NotFound); // dropping `tx` rolls back
            }
        }
        tx.insert_audit_event(&batch.event).await?;
        tx.commit().await
    }
}
