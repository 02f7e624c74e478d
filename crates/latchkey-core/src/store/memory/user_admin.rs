//! [`UserAdminStore`] in memory: each operator action checks everything, then writes its
//! change and its audit record together.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, Tables, duplicate, ms, ms_opt};
use crate::domain::{AuditEvent, LinkPurpose, ProjectId, SessionId, Suspension, User, UserId};
use crate::store::{
    LinkToken, NewOutbox, SessionRecord, StoreError, StoreResult, SuspensionChange, UserAdminStore, UserDeletion,
    UserFilter, UserUpdate,
};

/// Whether `user` passes `filter` (the SQL backends' WHERE clause).
fn matches(user: &User, filter: &UserFilter) -> bool {
    let prefixed = |value: &Option<String>, prefix: &Option<String>| {
        prefix.as_deref().is_none_or(|p| value.as_deref().is_some_and(|v| v.starts_with(p)))
    };
    prefixed(&user.email, &filter.email_prefix)
        && prefixed(&user.username, &filter.username_prefix)
        && filter.verified.is_none_or(|verified| user.is_verified == verified)
        && filter.suspended.is_none_or(|suspended| user.is_suspended(filter.now) == suspended)
        && filter.foreign_id.as_deref().is_none_or(|id| user.foreign_id.as_deref() == Some(id))
        && filter.created_at_or_after.is_none_or(|t| user.created_at >= ms(t))
        && filter.created_before.is_none_or(|t| user.created_at < ms(t))
        && filter.after_id.is_none_or(|after| user.id > after)
}

impl Tables {
    /// Recomputes the user's `suspended_until` from the suspensions in force at `now`.
    fn refresh_suspended_until(&mut self, project: ProjectId, user: UserId, now: DateTime<Utc>) {
        let now = ms(now);
        let in_force = self.suspensions.values().filter(|s| s.project_id == project && s.user_id == user);
        let until = in_force.filter(|s| s.in_force(now)).map(|s| s.ends_at.unwrap_or(DateTime::<Utc>::MAX_UTC)).max();
        if let Some(stored) = self.user_in_mut(project, user) {
            stored.suspended_until = until;
        }
    }

    /// A token with its optional message, checked before anything is written.
    fn check_link(&self, token: &LinkToken, mail: Option<&NewOutbox>) -> StoreResult<()> {
        self.check_token_insert(token)?;
        mail.map(|m| self.check_outbox_insert(m)).transpose()?;
        Ok(())
    }

    fn insert_link(&mut self, token: &LinkToken, mail: Option<&NewOutbox>) {
        self.insert_token(token);
        if let Some(mail) = mail {
            self.insert_outbox(mail);
        }
    }
}

#[async_trait]
impl UserAdminStore for MemoryStore {
    async fn list_users(&self, project: ProjectId, filter: &UserFilter, limit: u32) -> StoreResult<Vec<User>> {
        let tables = self.lock().await;
        let mut users: Vec<User> =
            tables.users.values().filter(|u| u.project_id == project && matches(u, filter)).cloned().collect();
        users.sort_by_key(|u| u.id);
        users.truncate(limit as usize);
        Ok(users)
    }

    async fn suspensions_in_force(
        &self,
        project: ProjectId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Suspension>> {
        let tables = self.lock().await;
        let newest_first = tables.suspensions.values().rev();
        let of_user = newest_first.filter(|s| s.project_id == project && s.user_id == user && s.in_force(ms(now)));
        Ok(of_user.cloned().collect())
    }

    async fn create_user(&self, user: &User, event: &AuditEvent) -> StoreResult<()> {
        let mut tables = self.lock().await;
        tables.check_user_insert(user)?;
        tables.check_audit_insert(event)?;
        tables.insert_user(&User { suspended_until: None, ..user.clone() });
        tables.insert_audit_event(event);
        Ok(())
    }

    async fn update_user(&self, update: &UserUpdate) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        let new = &update.user;
        let Some(stored) = tables.user_in(new.project_id, new.id) else { return Ok(false) };
        let row = User {
            email: new.email.clone(),
            username: new.username.clone(),
            profile: new.profile.clone(),
            role: new.role,
            metadata: new.metadata.clone(),
            secure_metadata: new.secure_metadata.clone(),
            is_verified: new.is_verified,
            is_active: new.is_active,
            updated_at: ms(new.updated_at),
            ..stored.clone()
        };
        if let Some(field) = tables.user_conflict(&row) {
            return Err(StoreError::Conflict(field));
        }
        tables.check_audit_insert(&update.event)?;
        if let Some((token, mail)) = &update.verification {
            tables.check_link(token, Some(mail))?;
        }
        tables.users.insert(row.id, row);
        if update.revoke_sessions {
            tables.revoke_user_sessions(new.project_id, new.id, update.event.at);
        }
        if let Some((token, mail)) = &update.verification {
            tables.insert_link(token, Some(mail));
        }
        tables.insert_audit_event(&update.event);
        Ok(true)
    }

    async fn suspend_user(&self, change: &SuspensionChange) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        let s = &change.suspension;
        if tables.user_in(s.project_id, s.user_id).is_none() {
            return Ok(false);
        }
        if tables.suspensions.contains_key(&s.id) {
            return Err(duplicate());
        }
        tables.check_audit_insert(&change.event)?;
        let stored = Suspension { starts_at: ms(s.starts_at), ends_at: ms_opt(s.ends_at), ..s.clone() };
        tables.suspensions.insert(s.id, stored);
        tables.refresh_suspended_until(s.project_id, s.user_id, s.starts_at);
        if let Some(user) = tables.user_in_mut(s.project_id, s.user_id) {
            user.updated_at = ms(s.starts_at);
        }
        tables.revoke_user_sessions(s.project_id, s.user_id, s.starts_at);
        tables.insert_audit_event(&change.event);
        Ok(true)
    }

    async fn unsuspend_user(
        &self,
        project: ProjectId,
        user: UserId,
        now: DateTime<Utc>,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        if tables.user_in(project, user).is_none() {
            return Ok(false);
        }
        tables.check_audit_insert(event)?;
        let of_user = tables.suspensions.values_mut().filter(|s| s.project_id == project && s.user_id == user);
        for suspension in of_user.filter(|s| s.in_force(ms(now))) {
            suspension.lifted_at = Some(ms(now));
        }
        tables.refresh_suspended_until(project, user, now);
        if let Some(stored) = tables.user_in_mut(project, user) {
            stored.updated_at = ms(now);
        }
        tables.insert_audit_event(event);
        Ok(true)
    }

    async fn delete_user(&self, d: &UserDeletion) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        if tables.user_in(d.project, d.user).is_none() {
            return Ok(false);
        }
        tables.check_audit_insert(&d.event)?;
        let (project, user) = (d.project, d.user);
        tables.sessions.retain(|_, s| !(s.project_id == project && s.user_id == user));
        tables.link_tokens.retain(|_, t| !(t.project_id == project && t.user_id == user));
        tables.suspensions.retain(|_, s| !(s.project_id == project && s.user_id == user));
        let Tables { outbox, outbox_users, outbox_rate_keys, .. } = &mut *tables;
        let about_them = |id: &crate::domain::OutboxId| {
            outbox_users.get(id) == Some(&user)
                || d.reset_rate_key.as_ref().is_some_and(|key| outbox_rate_keys.get(id) == Some(key))
        };
        outbox.retain(|id, row| !(row.project_id == project && about_them(id)));
        outbox_users.retain(|id, _| outbox.contains_key(id));
        outbox_rate_keys.retain(|id, _| outbox.contains_key(id));
        tables.external_jtis.retain(|(p, _), (_, signed_in)| !(*p == project && *signed_in == Some(user)));
        if let Some(email) = &d.email {
            tables.sign_in_failures.remove(&(project, email.clone()));
        }
        for event in tables.audit_events.values_mut().filter(|e| e.project_id == project && e.user_id == Some(user)) {
            event.user_id = None;
            event.details.clear();
        }
        tables.users.remove(&user);
        tables.insert_audit_event(&d.event);
        Ok(true)
    }

    async fn set_password(
        &self,
        project: ProjectId,
        user: UserId,
        password_hash: &str,
        now: DateTime<Utc>,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        if tables.user_in(project, user).is_none() {
            return Ok(false);
        }
        tables.check_audit_insert(event)?;
        if let Some(stored) = tables.user_in_mut(project, user) {
            stored.password_hash = Some(password_hash.to_owned());
            stored.updated_at = ms(now);
        }
        tables.revoke_user_sessions(project, user, now);
        tables.supersede_tokens(project, user, LinkPurpose::PasswordReset);
        tables.insert_audit_event(event);
        Ok(true)
    }

    async fn issue_link(&self, token: &LinkToken, mail: Option<&NewOutbox>, event: &AuditEvent) -> StoreResult<()> {
        let mut tables = self.lock().await;
        tables.check_link(token, mail)?;
        tables.check_audit_insert(event)?;
        tables.supersede_tokens(token.project_id, token.user_id, token.purpose);
        tables.insert_link(token, mail);
        tables.insert_audit_event(event);
        Ok(())
    }

    async fn unlock_user(&self, project: ProjectId, email: Option<&str>, event: &AuditEvent) -> StoreResult<()> {
        let mut tables = self.lock().await;
        tables.check_audit_insert(event)?;
        if let Some(email) = email {
            tables.sign_in_failures.remove(&(project, email.to_owned()));
        }
        tables.insert_audit_event(event);
        Ok(())
    }

    async fn live_sessions(
        &self,
        project: ProjectId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionRecord>> {
        let tables = self.lock().await;
        let live = |s: &&SessionRecord| {
            s.project_id == project && s.user_id == user && s.revoked_at.is_none() && s.expires_at > ms(now)
        };
        let mut sessions: Vec<SessionRecord> = tables.sessions.values().filter(live).cloned().collect();
        sessions.sort_by_key(|s| (s.created_at, s.id));
        Ok(sessions)
    }

    async fn revoke_user_session(
        &self,
        project: ProjectId,
        user: UserId,
        session: SessionId,
        now: DateTime<Utc>,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        let live = tables.sessions.get(&session).is_some_and(|s| {
            s.project_id == project && s.user_id == user && s.revoked_at.is_none() && s.expires_at > ms(now)
        });
        if !live {
            return Ok(false);
        }
        tables.check_audit_insert(event)?;
        if let Some(s) = tables.sessions.get_mut(&session) {
            s.revoked_at = Some(ms(now));
        }
        tables.insert_audit_event(event);
        Ok(true)
    }

    async fn revoke_user_sessions(
        &self,
        project: ProjectId,
        user: UserId,
        now: DateTime<Utc>,
        event: &AuditEvent,
    ) -> StoreResult<u64> {
        let mut tables = self.lock().await;
        tables.check_audit_insert(event)?;
        let live = tables.sessions.values_mut().filter(|s| {
            s.project_id == project && s.user_id == user && s.revoked_at.is_none() && s.expires_at > ms(now)
        });
        let mut revoked = 0;
        for session in live {
            session.revoked_at = Some(ms(now));
            revoked += 1;
        }
        tables.insert_audit_event(&event.clone().detail("revoked", revoked));
        Ok(revoked)
    }
}
