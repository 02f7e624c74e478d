//! [`UserImportStore`] in memory: the batch is applied row by row and undone on the first
//! failure, so it is all or nothing like the SQL backends' transaction.

use async_trait::async_trait;

use super::{MemoryStore, Tables, ms};
use crate::domain::{User, UserId};
use crate::store::{ImportBatch, StoreError, StoreResult, UserImportStore};

impl Tables {
    /// Applies the batch, pushing what each write replaced onto `undo`.
    fn apply_import(&mut self, batch: &ImportBatch, undo: &mut Vec<(UserId, Option<User>)>) -> StoreResult<()> {
        for user in batch.create.iter().filter(|u| u.project_id == batch.project) {
            self.check_user_insert(user)?;
            undo.push((user.id, None));
            self.insert_user(&User { suspended_until: None, ..user.clone() });
        }
        for new in batch.update.iter().filter(|u| u.project_id == batch.project) {
            let stored = self.user_in(batch.project, new.id).ok_or(StoreError::NotFound)?.clone();
            let row = User {
                email: new.email.clone(),
                username: new.username.clone(),
                profile: new.profile.clone(),
                role: new.role,
                metadata: new.metadata.clone(),
                secure_metadata: new.secure_metadata.clone(),
                is_verified: new.is_verified,
                foreign_id: new.foreign_id.clone(),
                password_hash: stored.password_hash.clone().or_else(|| new.password_hash.clone()),
                updated_at: ms(new.updated_at),
                ..stored.clone()
            };
            if let Some(field) = self.user_conflict(&row) {
                return Err(StoreError::Conflict(field));
            }
            undo.push((row.id, Some(stored)));
            self.users.insert(row.id, row);
        }
        self.check_audit_insert(&batch.event)
    }
}

#[async_trait]
impl UserImportStore for MemoryStore {
    async fn import_users(&self, batch: &ImportBatch) -> StoreResult<()> {
        let mut tables = self.lock().await;
        let mut undo = Vec::new();
        if let Err(err) = tables.apply_import(batch, &mut undo) {
            for (id, before) in undo.into_iter().rev() {
                match before {
                    Some(user) => tables.users.insert(id, user),
                    None => tables.users.remove(&id),
                };
            }
            return Err(err);
        }
        tables.insert_audit_event(&batch.event);
        Ok(())
    }
}
