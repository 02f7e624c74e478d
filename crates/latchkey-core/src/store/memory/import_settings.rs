//! [`ImportSettingsStore`] in memory.

use async_trait::async_trait;

use super::{MemoryStore, ms};
use crate::domain::{AuditEvent, ProjectId};
use crate::store::{FirebaseHashSettings, ImportSettingsStore, StoreResult};

#[async_trait]
impl ImportSettingsStore for MemoryStore {
    async fn put_firebase_hash_settings(&self, settings: &FirebaseHashSettings, audit: &AuditEvent) -> StoreResult<()> {
        let mut tables = self.lock().await;
        tables.require_project(settings.project_id)?;
        let stored = FirebaseHashSettings { updated_at: ms(settings.updated_at), ..settings.clone() };
        tables.firebase_hash_settings.insert(settings.project_id, stored);
        tables.insert_audit_event(audit);
        Ok(())
    }

    async fn firebase_hash_settings(&self, project: ProjectId) -> StoreResult<Option<FirebaseHashSettings>> {
        Ok(self.lock().await.firebase_hash_settings.get(&project).cloned())
    }
}
