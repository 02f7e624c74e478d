//! [`ExternalStore`] in memory: settings, secrets, keys, used `jti`s, and the sign-in that
//! writes the user change, the `jti` and the session together or not at all.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, Tables, duplicate, ms, ms_opt, stored_user};
use crate::domain::{ProjectId, User};
use crate::store::{
    ExternalKeyRecord, ExternalSecretRecord, ExternalSettings, ExternalSignIn, ExternalSignInOutcome, ExternalStore,
    StoreError, StoreResult, UserChange,
};

impl Tables {
    /// `user`'s row with every mutable column of `user` applied, if the stored row still has
    /// `expected_foreign_id` (`None`: must still have none) and may still sign in at `now`.
    /// A changed email is not verified.
    fn external_update(&self, user: &User, expected_foreign_id: Option<&str>, now: DateTime<Utc>) -> Option<User> {
        let stored = self.user_in(user.project_id, user.id)?;
        if stored.foreign_id.as_deref() != expected_foreign_id || stored.may_sign_in(now).is_err() {
            return None;
        }
        Some(User {
            foreign_id: user.foreign_id.clone(),
            email: user.email.clone(),
            username: user.username.clone(),
            profile: user.profile.clone(),
            metadata: user.metadata.clone(),
            secure_metadata: user.secure_metadata.clone(),
            last_active: ms_opt(user.last_active),
            updated_at: ms(user.updated_at),
            is_verified: stored.is_verified && stored.email == user.email,
            ..stored.clone()
        })
    }
}

#[async_trait]
impl ExternalStore for MemoryStore {
    async fn external_settings(&self, project: ProjectId) -> StoreResult<Option<ExternalSettings>> {
        Ok(self.lock().await.external_settings.get(&project).cloned())
    }

    async fn put_external_settings(
        &self,
        project: ProjectId,
        settings: &ExternalSettings,
        _now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tables = self.lock().await;
        tables.require_project(project)?;
        tables.external_settings.insert(project, settings.clone());
        Ok(())
    }

    async fn external_secrets(&self, project: ProjectId) -> StoreResult<Vec<ExternalSecretRecord>> {
        let tables = self.lock().await;
        let mut secrets: Vec<ExternalSecretRecord> =
            tables.external_secrets.values().filter(|s| s.project_id == project).cloned().collect();
        // Newest first, ties by id.
        secrets.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(secrets)
    }

    async fn insert_external_secret(
        &self,
        secret: &ExternalSecretRecord,
        expire_live_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        let mut tables = self.lock().await;
        if tables.external_secrets.contains_key(&(secret.project_id, secret.id.clone())) {
            return Err(duplicate());
        }
        tables.require_project(secret.project_id)?;
        if let Some(until) = expire_live_at.map(ms) {
            let live = tables.external_secrets.values_mut().filter(|s| s.project_id == secret.project_id);
            // An earlier expiry is never pushed later.
            for other in live.filter(|s| s.revoked_at.is_none() && s.expires_at.is_none_or(|at| at > until)) {
                other.expires_at = Some(until);
            }
        }
        let stored = ExternalSecretRecord {
            created_at: ms(secret.created_at),
            expires_at: ms_opt(secret.expires_at),
            revoked_at: ms_opt(secret.revoked_at),
            ..secret.clone()
        };
        tables.external_secrets.insert((secret.project_id, secret.id.clone()), stored);
        Ok(())
    }

    async fn revoke_external_secret(&self, project: ProjectId, id: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        let live = tables.external_secrets.get_mut(&(project, id.to_owned())).filter(|s| s.revoked_at.is_none());
        Ok(live.map(|secret| secret.revoked_at = Some(ms(now))).is_some())
    }

    async fn external_keys(&self, project: ProjectId) -> StoreResult<Vec<ExternalKeyRecord>> {
        let tables = self.lock().await;
        let mut keys: Vec<ExternalKeyRecord> =
            tables.external_keys.values().filter(|k| k.project_id == project).cloned().collect();
        keys.sort_by(|a, b| (a.created_at, &a.kid).cmp(&(b.created_at, &b.kid)));
        Ok(keys)
    }

    async fn insert_external_key(&self, key: &ExternalKeyRecord) -> StoreResult<()> {
        let mut tables = self.lock().await;
        let id = (key.project_id, key.kid.clone());
        if tables.external_keys.contains_key(&id) {
            return Err(duplicate());
        }
        tables.require_project(key.project_id)?;
        tables.external_keys.insert(id, ExternalKeyRecord { created_at: ms(key.created_at), ..key.clone() });
        Ok(())
    }

    async fn remove_external_key(&self, project: ProjectId, kid: &str) -> StoreResult<bool> {
        Ok(self.lock().await.external_keys.remove(&(project, kid.to_owned())).is_some())
    }

    async fn find_user_by_foreign_id(&self, project: ProjectId, foreign_id: &str) -> StoreResult<Option<User>> {
        let tables = self.lock().await;
        let found =
            tables.users.values().find(|u| u.project_id == project && u.foreign_id.as_deref() == Some(foreign_id));
        Ok(found.cloned())
    }

    async fn apply_external_sign_in(&self, sign_in: &ExternalSignIn) -> StoreResult<ExternalSignInOutcome> {
        let mut tables = self.lock().await;
        let now = ms(sign_in.now);
        if sign_in.jti.is_some() {
            // Housekeeping: ids no accepted token can carry any more.
            tables.external_jtis.retain(|_, (until, _)| *until > now);
        }
        let user = sign_in.change.user();
        let jti = sign_in.jti.as_ref().map(|(digest, until)| ((user.project_id, digest.clone()), ms(*until)));
        if let Some((id, _)) = &jti {
            if tables.external_jtis.contains_key(id) {
                return Ok(ExternalSignInOutcome::Replayed);
            }
            tables.require_project(user.project_id)?;
        }

        // Every check first: a sign-in that fails writes nothing, its jti included.
        let row = match &sign_in.change {
            UserChange::Create(user) => {
                tables.check_user_insert(user)?;
                stored_user(user)
            }
            UserChange::Update(user) => match tables.external_update(user, user.foreign_id.as_deref(), now) {
                Some(row) => row,
                None => return Ok(ExternalSignInOutcome::Stale),
            },
            UserChange::Link(user) => match tables.external_update(user, None, now) {
                Some(row) => row,
                None => return Ok(ExternalSignInOutcome::Stale),
            },
        };
        if let Some(field) = tables.user_conflict(&row) {
            return Err(StoreError::Conflict(field));
        }
        tables.check_session_insert(&sign_in.session, Some(&row))?;

        if let Some((id, until)) = jti {
            tables.external_jtis.insert(id, (until, Some(row.id)));
        }
        let (project, id) = (row.project_id, row.id);
        // Linking an unverified account drops its password and its earlier sessions.
        let drop_credentials = matches!(sign_in.change, UserChange::Link(_)) && !row.is_verified;
        let password_hash = if drop_credentials { None } else { row.password_hash.clone() };
        tables.users.insert(id, User { password_hash, ..row });
        if drop_credentials {
            tables.revoke_user_sessions(project, id, now);
        }
        tables.insert_session(&sign_in.session);
        Ok(ExternalSignInOutcome::Applied)
    }
}
