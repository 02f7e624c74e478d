//! [`ProjectAdminStore`] in memory: renaming and deleting projects, signing-key rotation.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, Tables, duplicate, ms, ms_opt};
use crate::domain::{AuditEvent, ProjectId};
use crate::store::{KeyRotation, ProjectAdminStore, StoreResult};
use crate::tokens::{KeyState, StoredSigningKey};

impl Tables {
    /// The unique checks of `INSERT INTO signing_keys`: the primary key and the indexes of one
    /// active key and one standby per project (`pending`: keys inserted before it in the same
    /// call). The caller checks the project exists.
    pub(super) fn check_signing_key_insert(
        &self,
        key: &StoredSigningKey,
        pending: &[StoredSigningKey],
    ) -> StoreResult<()> {
        let same_slot = |other: &StoredSigningKey| {
            let same_role = matches!(
                (key.state(), other.state()),
                (KeyState::Standby, KeyState::Standby) | (KeyState::Active, KeyState::Active)
            );
            other.project_id == key.project_id && (other.kid == key.kid || same_role)
        };
        if self.signing_keys.values().chain(pending).any(same_slot) {
            return Err(duplicate());
        }
        Ok(())
    }

    pub(super) fn insert_signing_key(&mut self, key: &StoredSigningKey) {
        let stored = StoredSigningKey {
            created_at: ms(key.created_at),
            activated_at: ms_opt(key.activated_at),
            retired_at: ms_opt(key.retired_at),
            published_until: ms_opt(key.published_until),
            ..key.clone()
        };
        self.signing_keys.insert((key.project_id, key.kid.clone()), stored);
    }

    fn key_in_state(&self, project: ProjectId, kid: &str, state: KeyState) -> bool {
        self.signing_keys.get(&(project, kid.to_owned())).is_some_and(|k| k.state() == state)
    }
}

#[async_trait]
impl ProjectAdminStore for MemoryStore {
    async fn rename_project(&self, project: ProjectId, name: &str, audit: &AuditEvent) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        if !tables.projects.contains_key(&project) {
            return Ok(false);
        }
        tables.check_audit_insert(audit)?;
        if let Some(stored) = tables.projects.get_mut(&project) {
            name.clone_into(&mut stored.name);
        }
        tables.insert_audit_event(audit);
        Ok(true)
    }

    async fn delete_project(&self, project: ProjectId) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        if tables.projects.remove(&project).is_none() {
            return Ok(false);
        }
        // ON DELETE CASCADE, table by table.
        let users: Vec<_> = tables.users.values().filter(|u| u.project_id == project).map(|u| u.id).collect();
        tables.signing_keys.retain(|(p, _), _| *p != project);
        tables.api_keys.retain(|_, k| k.project_id != project);
        tables.users.retain(|_, u| u.project_id != project);
        tables.sessions.retain(|_, s| s.project_id != project);
        tables.sign_in_failures.retain(|(p, _), _| *p != project);
        tables.mail_settings.remove(&project);
        tables.link_tokens.retain(|_, t| t.project_id != project && !users.contains(&t.user_id));
        let gone: Vec<_> =
            tables.outbox.iter().filter(|(_, row)| row.project_id == project).map(|(id, _)| *id).collect();
        for id in gone {
            tables.outbox.remove(&id);
            tables.outbox_rate_keys.remove(&id);
            tables.outbox_users.remove(&id);
        }
        tables.external_settings.remove(&project);
        tables.external_secrets.retain(|(p, _), _| *p != project);
        tables.external_keys.retain(|(p, _), _| *p != project);
        tables.external_jtis.retain(|(p, _), _| *p != project);
        tables.audit_events.retain(|_, e| e.project_id != project);
        tables.suspensions.retain(|_, s| s.project_id != project);
        Ok(true)
    }

    async fn add_standby_signing_key(&self, key: &StoredSigningKey) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        let has_standby =
            tables.signing_keys.values().any(|k| k.project_id == key.project_id && k.state() == KeyState::Standby);
        if has_standby {
            return Ok(false);
        }
        tables.require_project(key.project_id)?;
        tables.check_signing_key_insert(key, &[])?;
        tables.insert_signing_key(key);
        Ok(true)
    }

    async fn projects_without_standby_key(&self) -> StoreResult<Vec<ProjectId>> {
        let tables = self.lock().await;
        let has_standby =
            |p: &ProjectId| tables.signing_keys.values().any(|k| k.project_id == *p && k.state() == KeyState::Standby);
        let mut projects: Vec<_> = tables.projects.keys().copied().filter(|p| !has_standby(p)).collect();
        projects.sort();
        Ok(projects)
    }

    async fn rotate_signing_key(&self, rotation: &KeyRotation) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        let project = rotation.project_id;
        if !tables.key_in_state(project, &rotation.retiring_kid, KeyState::Active)
            || !tables.key_in_state(project, &rotation.promoted_kid, KeyState::Standby)
        {
            return Ok(false);
        }
        tables.require_project(rotation.new_standby.project_id)?;
        // The new standby is checked against the keys as they will be after the two updates.
        let mut after = tables.signing_keys.clone();
        if let Some(old) = after.get_mut(&(project, rotation.retiring_kid.clone())) {
            old.retired_at = Some(ms(rotation.now));
            old.published_until = Some(ms(rotation.published_until));
        }
        if let Some(new) = after.get_mut(&(project, rotation.promoted_kid.clone())) {
            new.activated_at = Some(ms(rotation.now));
        }
        let before = std::mem::replace(&mut tables.signing_keys, after);
        let checked = tables
            .check_signing_key_insert(&rotation.new_standby, &[])
            .and_then(|()| tables.check_audit_insert(&rotation.audit));
        if let Err(e) = checked {
            tables.signing_keys = before;
            return Err(e);
        }
        tables.insert_signing_key(&rotation.new_standby);
        tables.insert_audit_event(&rotation.audit);
        Ok(true)
    }

    async fn purge_unpublished_signing_keys(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut tables = self.lock().await;
        let count = tables.signing_keys.len();
        tables.signing_keys.retain(|_, k| k.is_published(ms(now)));
        Ok((count - tables.signing_keys.len()) as u64)
    }
}
