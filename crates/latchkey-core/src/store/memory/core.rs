//! [`CoreStore`] in memory: projects, keys, users, sessions and sign-in throttling.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, Tables, duplicate, ms};
use crate::domain::{ApiKeyId, ApiKeyRecord, Project, ProjectId, ProjectSettings, SessionId, User, UserId};
use crate::store::{CoreStore, FailureWindow, LiveApiKey, Rotation, SessionRecord, StoreResult};
use crate::tokens::StoredSigningKey;

impl Tables {
    /// Checks a project and its first signing key (and API key) before anything is written.
    fn check_project_insert(
        &self,
        project: &Project,
        key: &StoredSigningKey,
        api_key: Option<&ApiKeyRecord>,
    ) -> StoreResult<()> {
        if self.projects.contains_key(&project.id) {
            return Err(duplicate());
        }
        if key.project_id != project.id {
            self.require_project(key.project_id)?;
        }
        if self.signing_keys.contains_key(&(key.project_id, key.kid.clone())) {
            return Err(duplicate());
        }
        if let Some(api_key) = api_key {
            if api_key.project_id != project.id {
                self.require_project(api_key.project_id)?;
            }
            self.check_api_key_insert(api_key)?;
        }
        Ok(())
    }

    fn insert_project(&mut self, project: &Project, key: &StoredSigningKey) {
        let stored = Project { created_at: ms(project.created_at), ..project.clone() };
        self.projects.insert(project.id, stored);
        let key = StoredSigningKey { created_at: ms(key.created_at), ..key.clone() };
        self.signing_keys.insert((key.project_id, key.kid.clone()), key);
    }

    fn check_api_key_insert(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        let digest_taken = self.api_keys.values().any(|k| k.digest == key.digest);
        if self.api_keys.contains_key(&key.id) || digest_taken {
            return Err(duplicate());
        }
        Ok(())
    }

    /// A new key is live: the insert does not take `revoked_at`.
    fn insert_api_key(&mut self, key: &ApiKeyRecord) {
        let stored = ApiKeyRecord { created_at: ms(key.created_at), revoked_at: None, ..key.clone() };
        self.api_keys.insert(key.id, stored);
    }
}

#[async_trait]
impl CoreStore for MemoryStore {
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }

    async fn create_project(&self, project: &Project, signing_key: &StoredSigningKey) -> StoreResult<()> {
        let mut tables = self.lock().await;
        tables.check_project_insert(project, signing_key, None)?;
        tables.insert_project(project, signing_key);
        Ok(())
    }

    async fn get_project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        Ok(self.lock().await.projects.get(&id).cloned())
    }

    async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        let mut projects: Vec<Project> = self.lock().await.projects.values().cloned().collect();
        projects.sort_by_key(|p| (p.created_at, p.id));
        Ok(projects)
    }

    async fn update_project_settings(&self, id: ProjectId, settings: &ProjectSettings) -> StoreResult<()> {
        if let Some(project) = self.lock().await.projects.get_mut(&id) {
            project.settings = settings.clone();
        }
        Ok(())
    }

    async fn signing_keys(&self, project: ProjectId) -> StoreResult<Vec<StoredSigningKey>> {
        let tables = self.lock().await;
        let mut keys: Vec<StoredSigningKey> =
            tables.signing_keys.values().filter(|k| k.project_id == project).cloned().collect();
        keys.sort_by_key(|k| std::cmp::Reverse(k.created_at));
        Ok(keys)
    }

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        let mut tables = self.lock().await;
        tables.check_api_key_insert(key)?;
        tables.require_project(key.project_id)?;
        tables.insert_api_key(key);
        Ok(())
    }

    async fn list_api_keys(&self, project: ProjectId) -> StoreResult<Vec<ApiKeyRecord>> {
        let tables = self.lock().await;
        let mut keys: Vec<ApiKeyRecord> =
            tables.api_keys.values().filter(|k| k.project_id == project).cloned().collect();
        keys.sort_by_key(|k| (k.created_at, k.id));
        Ok(keys)
    }

    async fn revoke_api_key(&self, project: ProjectId, id: ApiKeyId, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        let live = tables.api_keys.get_mut(&id).filter(|k| k.project_id == project && k.revoked_at.is_none());
        Ok(live.map(|key| key.revoked_at = Some(ms(now))).is_some())
    }

    async fn live_api_key(&self, digest: &str) -> StoreResult<Option<LiveApiKey>> {
        let tables = self.lock().await;
        let live = tables.api_keys.values().find(|k| k.digest == digest && k.revoked_at.is_none());
        Ok(live.map(|k| LiveApiKey { project_id: k.project_id, id: k.id, scope: k.scope }))
    }

    async fn create_user_with_session(&self, user: &User, session: &SessionRecord) -> StoreResult<()> {
        let mut tables = self.lock().await;
        tables.check_user_insert(user)?;
        tables.check_session_insert(session, Some(user))?;
        tables.insert_user(user);
        tables.insert_session(session);
        Ok(())
    }

    async fn find_user_by_email(&self, project: ProjectId, email: &str) -> StoreResult<Option<User>> {
        let tables = self.lock().await;
        Ok(tables.users.values().find(|u| u.project_id == project && u.email.as_deref() == Some(email)).cloned())
    }

    async fn get_user(&self, project: ProjectId, id: UserId) -> StoreResult<Option<User>> {
        Ok(self.lock().await.user_in(project, id).cloned())
    }

    async fn username_taken(&self, project: ProjectId, username: &str) -> StoreResult<bool> {
        let tables = self.lock().await;
        Ok(tables.users.values().any(|u| u.project_id == project && u.username.as_deref() == Some(username)))
    }

    async fn upgrade_password_hash(
        &self,
        project: ProjectId,
        user: UserId,
        old: &str,
        new: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        let Some(user) = tables.user_in_mut(project, user).filter(|u| u.password_hash.as_deref() == Some(old)) else {
            return Ok(false);
        };
        user.password_hash = Some(new.to_owned());
        user.updated_at = ms(now);
        Ok(true)
    }

    async fn create_password_session(
        &self,
        session: &SessionRecord,
        verified_hash: &str,
        last_active: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        let still_verified = tables.user_in(session.project_id, session.user_id).is_some_and(|u| {
            u.is_active && !u.is_suspended(last_active) && u.password_hash.as_deref() == Some(verified_hash)
        });
        if !still_verified {
            return Ok(false);
        }
        tables.check_session_insert(session, None)?;
        if let Some(user) = tables.user_in_mut(session.project_id, session.user_id) {
            user.last_active = Some(ms(last_active));
        }
        tables.insert_session(session);
        Ok(true)
    }

    async fn get_session(&self, project: ProjectId, id: SessionId) -> StoreResult<Option<SessionRecord>> {
        Ok(self.lock().await.sessions.get(&id).filter(|s| s.project_id == project).cloned())
    }

    async fn rotate_session(&self, rotation: &Rotation) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        let Some(session) = tables.sessions.get_mut(&rotation.session_id).filter(|s| {
            s.project_id == rotation.project_id && s.generation == rotation.from_generation && s.revoked_at.is_none()
        }) else {
            return Ok(false);
        };
        session.generation += 1;
        session.previous_digest = Some(rotation.previous_digest.clone());
        session.current_digest = rotation.new_digest.clone();
        session.current_pair_sealed = rotation.pair_sealed.clone();
        session.rotated_at = ms(rotation.now);
        session.expires_at = ms(rotation.expires_at);
        Ok(true)
    }

    async fn revoke_session(&self, project: ProjectId, id: SessionId, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tables = self.lock().await;
        let live = tables.sessions.get_mut(&id).filter(|s| s.project_id == project && s.revoked_at.is_none());
        if let Some(session) = live {
            session.revoked_at = Some(ms(now));
        }
        Ok(())
    }

    async fn record_sign_in_attempt(
        &self,
        project: ProjectId,
        email: &str,
        now: DateTime<Utc>,
        window_start_after: DateTime<Utc>,
    ) -> StoreResult<FailureWindow> {
        let mut tables = self.lock().await;
        tables.require_project(project)?;
        let (now, restart_at_or_before) = (ms(now), ms(window_start_after));
        let window = tables.sign_in_failures.entry((project, email.to_owned())).or_insert((0, now));
        if window.1 <= restart_at_or_before {
            *window = (0, now);
        }
        window.0 += 1;
        Ok(FailureWindow { failures: window.0.clamp(0, i64::from(u32::MAX)) as u32, window_started_at: window.1 })
    }

    async fn clear_sign_in_failures(&self, project: ProjectId, email: &str) -> StoreResult<()> {
        self.lock().await.sign_in_failures.remove(&(project, email.to_owned()));
        Ok(())
    }

    async fn release_sign_in_attempt(
        &self,
        project: ProjectId,
        email: &str,
        window_started_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tables = self.lock().await;
        let counted = tables.sign_in_failures.get_mut(&(project, email.to_owned()));
        if let Some(window) = counted.filter(|w| w.1 == ms(window_started_at) && w.0 > 0) {
            window.0 -= 1;
        }
        Ok(())
    }

    async fn purge_sign_in_failures(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut tables = self.lock().await;
        let count_before = tables.sign_in_failures.len();
        tables.sign_in_failures.retain(|_, window| window.1 >= ms(before));
        Ok((count_before - tables.sign_in_failures.len()) as u64)
    }

    async fn create_first_project(
        &self,
        project: &Project,
        signing_key: &StoredSigningKey,
        api_key: &ApiKeyRecord,
    ) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        if !tables.projects.is_empty() {
            return Ok(false);
        }
        tables.check_project_insert(project, signing_key, Some(api_key))?;
        tables.insert_project(project, signing_key);
        tables.insert_api_key(api_key);
        Ok(true)
    }
}
