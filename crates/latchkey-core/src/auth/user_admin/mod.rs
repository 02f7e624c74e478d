//! Operator actions on users and their sessions (the admin API's `/users` routes and
//! `latchkey user ...`). Each mutation takes the [`Actor`] and writes its audit record in the
//! same store transaction as its change; records name users by id only, with field names,
//! counts and operator-written reasons as details.
//!
//! - `query.rs`: the list's filters and its opaque cursor.
//! - `input.rs`: create, change and suspend requests, checked like sign-up.
//! - `links.rs`: password-reset and verification links an operator issues.

mod input;
mod links;
mod query;

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

pub(super) use input::foreign_id;
pub use input::{NewUser, SuspendUser, UserChanges};
pub use links::{IssuedLink, LinkDelivery};
pub use query::{UserQuery, UserStatus};

use super::reset_rate_key;
use super::shared::Deps;
use crate::domain::{
    Actor, AuditAction, AuditEvent, Password, ProjectId, SessionId, Suspension, SuspensionId, User, UserId,
};
use crate::hashing::HasherPool;
use crate::store::{SessionRecord, StoreError, SuspensionChange, UniqueField, UserDeletion, UserUpdate};
use crate::{CoreError, Result};

/// A user as an operator sees it: the stored user and the suspensions in force.
#[derive(Debug, Clone)]
pub struct ManagedUser {
    pub user: User,
    /// In force at `as_of`, newest first.
    pub suspensions: Vec<Suspension>,
    pub as_of: DateTime<Utc>,
}

impl ManagedUser {
    pub fn is_suspended(&self) -> bool {
        self.user.is_suspended(self.as_of)
    }
}

/// One page of the user list, oldest first.
#[derive(Debug, Clone)]
pub struct UserPage {
    pub users: Vec<ManagedUser>,
    /// `None` on the last page.
    pub next_cursor: Option<String>,
}

/// How to find one user besides its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserLookup {
    Email(String),
    ForeignId(String),
}

#[derive(Clone)]
pub struct UserAdmin {
    deps: Arc<Deps>,
    hasher: Arc<HasherPool>,
    /// Wakes the outbox worker when an operator queues mail (it also polls).
    outbox_signal: Option<Arc<Notify>>,
}

impl UserAdmin {
    pub fn new(deps: Arc<Deps>, hasher: Arc<HasherPool>) -> Self {
        Self { deps, hasher, outbox_signal: None }
    }

    /// In a server process: mail queued here wakes the worker at once.
    pub(crate) fn wake_outbox_with(&mut self, signal: Arc<Notify>) {
        self.outbox_signal = Some(signal);
    }

    fn now(&self) -> DateTime<Utc> {
        self.deps.clock.now()
    }

    fn event(&self, project: ProjectId, actor: Actor, action: AuditAction, user: UserId) -> AuditEvent {
        AuditEvent::new(project, self.now(), actor, action).user(user)
    }

    /// The stored user, or [`CoreError::UserNotFound`].
    async fn user(&self, project: ProjectId, id: UserId) -> Result<User> {
        self.deps.store.get_user(project, id).await?.ok_or(CoreError::UserNotFound)
    }

    /// `user` with its suspensions in force now (read only when the row says there are some).
    async fn managed(&self, user: User) -> Result<ManagedUser> {
        let now = self.now();
        let suspensions = if user.is_suspended(now) {
            self.deps.store.suspensions_in_force(user.project_id, user.id, now).await?
        } else {
            Vec::new()
        };
        Ok(ManagedUser { user, suspensions, as_of: now })
    }

    async fn reread(&self, project: ProjectId, id: UserId) -> Result<ManagedUser> {
        let user = self.user(project, id).await?;
        self.managed(user).await
    }

    pub async fn list(&self, project: ProjectId, query: &UserQuery) -> Result<UserPage> {
        let (limit, filter) = query.to_filter(self.now())?;
        self.deps.project(project).await?;
        // One more than asked: whether there is a next page, without a count.
        let mut users = self.deps.store.list_users(project, &filter, limit + 1).await?;
        let next_cursor = (users.len() > limit as usize).then(|| {
            users.truncate(limit as usize);
            users.last().map(|last| query::encode_cursor(last.id))
        });
        let mut page = Vec::with_capacity(users.len());
        for user in users {
            page.push(self.managed(user).await?);
        }
        Ok(UserPage { users: page, next_cursor: next_cursor.flatten() })
    }

    pub async fn get(&self, project: ProjectId, id: UserId) -> Result<ManagedUser> {
        self.reread(project, id).await
    }

    /// By email (normalised like sign-up) or foreign id; an unparsable email finds nobody.
    pub async fn lookup(&self, project: ProjectId, by: &UserLookup) -> Result<ManagedUser> {
        let found = match by {
            UserLookup::Email(raw) => match crate::domain::Email::parse(raw) {
                Ok(email) => self.deps.store.find_user_by_email(project, email.as_str()).await?,
                Err(_) => None,
            },
            UserLookup::ForeignId(id) => self.deps.store.find_user_by_foreign_id(project, id).await?,
        };
        self.managed(found.ok_or(CoreError::UserNotFound)?).await
    }

    pub async fn create(&self, actor: Actor, project: ProjectId, request: NewUser) -> Result<ManagedUser> {
        let (mut user, password) = request.validate(User::new_visitor(project, self.now()))?;
        self.deps.project(project).await?;
        // A cheap early answer before spending a hash; the unique indexes stay authoritative.
        if let Some(email) = &user.email
            && self.deps.store.find_user_by_email(project, email).await?.is_some()
        {
            return Err(CoreError::DuplicateEmail);
        }
        if let Some(password) = password {
            user.password_hash = Some(self.hasher.hash(project, password).await?);
        }
        let event = self
            .event(project, actor, AuditAction::UserCreated, user.id)
            .detail("role", user.role.as_str())
            .detail("emailVerified", user.is_verified)
            .detail("hasPassword", user.password_hash.is_some());
        self.deps.store.create_user(&user, &event).await.map_err(unique_conflict)?;
        self.managed(user).await
    }

    /// PATCH semantics (see [`UserChanges`]). A change that changes nothing writes nothing.
    pub async fn update(
        &self,
        actor: Actor,
        project: ProjectId,
        id: UserId,
        changes: UserChanges,
    ) -> Result<ManagedUser> {
        let current = self.user(project, id).await?;
        let send_verification = changes.send_verification;
        let input::Changed { mut user, fields, email_changed } = changes.apply(&current)?;
        if fields.is_empty() {
            return self.managed(current).await;
        }
        let now = self.now();
        user.updated_at = now;
        let verification = if email_changed && send_verification && !user.is_verified {
            Some(self.verification_mail(&user, now).await?)
        } else {
            None
        };
        let update = UserUpdate {
            revoke_sessions: current.is_active && !user.is_active,
            event: self.event(project, actor, AuditAction::UserUpdated, id).detail("fields", fields),
            verification,
            user,
        };
        if !self.deps.store.update_user(&update).await.map_err(unique_conflict)? {
            return Err(CoreError::UserNotFound);
        }
        if update.verification.is_some() {
            self.wake_outbox();
        }
        self.reread(project, id).await
    }

    /// Suspends the user (sign-in, refresh and external sign-in refuse with
    /// `auth/user-suspended` until the end or an unsuspend) and revokes every session.
    pub async fn suspend(
        &self,
        actor: Actor,
        project: ProjectId,
        id: UserId,
        request: SuspendUser,
    ) -> Result<ManagedUser> {
        let now = self.now();
        let (reason, ends_at) = request.validate(now)?;
        let suspension = Suspension {
            id: SuspensionId::generate(),
            project_id: project,
            user_id: id,
            reason,
            starts_at: now,
            ends_at,
            lifted_at: None,
            created_by: actor,
        };
        let event = self
            .event(project, actor, AuditAction::UserSuspended, id)
            .detail("suspensionId", suspension.id.to_string())
            .detail("reason", suspension.reason.clone())
            .detail("endsAt", ends_at.map(iso));
        if !self.deps.store.suspend_user(&SuspensionChange { suspension, event }).await? {
            return Err(CoreError::UserNotFound);
        }
        self.reread(project, id).await
    }

    /// Lifts every suspension in force.
    pub async fn unsuspend(&self, actor: Actor, project: ProjectId, id: UserId) -> Result<ManagedUser> {
        let event = self.event(project, actor, AuditAction::UserUnsuspended, id);
        if !self.deps.store.unsuspend_user(project, id, self.now(), &event).await? {
            return Err(CoreError::UserNotFound);
        }
        self.reread(project, id).await
    }

    /// Erases the user and every row about them in one transaction (see [`UserDeletion`]).
    /// The `user.deleted` record names them only by a pseudonym keyed by the master key: an
    /// operator who still knows the id can confirm the deletion, a reader of the trail alone
    /// cannot link it to anyone.
    pub async fn delete(&self, actor: Actor, project: ProjectId, id: UserId) -> Result<()> {
        let user = self.user(project, id).await?;
        let event = AuditEvent::new(project, self.now(), actor, AuditAction::UserDeleted)
            .detail("subject", self.deleted_user_pseudonym(project, id));
        let deletion = UserDeletion {
            project,
            user: id,
            reset_rate_key: user.email.as_deref().map(|email| reset_rate_key(project, email)),
            email: user.email,
            event,
        };
        if !self.deps.store.delete_user(&deletion).await? {
            return Err(CoreError::UserNotFound);
        }
        Ok(())
    }

    /// The `subject` of a `user.deleted` record: a keyed hash of the id, stable per master key.
    pub fn deleted_user_pseudonym(&self, project: ProjectId, id: UserId) -> String {
        let key = self.deps.master.derive_key(&format!("audit/deleted-user/{project}/{id}"));
        let digest = Sha256::digest(secrecy::ExposeSecret::expose_secret(&key));
        hex::encode(&digest[..16])
    }

    /// Sets a new password (checked against the policy): every session is revoked and unused
    /// reset links die.
    pub async fn set_password(&self, actor: Actor, project: ProjectId, id: UserId, password: String) -> Result<()> {
        let password = Password::new_for("password", password)?;
        self.user(project, id).await?;
        let hash = self.hasher.hash(project, password).await?;
        let event = self.event(project, actor, AuditAction::UserPasswordSet, id);
        if !self.deps.store.set_password(project, id, &hash, self.now(), &event).await? {
            return Err(CoreError::UserNotFound);
        }
        Ok(())
    }

    /// Clears the sign-in lockout of the user's email.
    pub async fn unlock(&self, actor: Actor, project: ProjectId, id: UserId) -> Result<()> {
        let user = self.user(project, id).await?;
        let event = self.event(project, actor, AuditAction::UserUnlocked, id);
        Ok(self.deps.store.unlock_user(project, user.email.as_deref(), &event).await?)
    }

    /// The user's sessions neither revoked nor expired, oldest first.
    pub async fn sessions(&self, project: ProjectId, id: UserId) -> Result<Vec<SessionRecord>> {
        self.user(project, id).await?;
        Ok(self.deps.store.live_sessions(project, id, self.now()).await?)
    }

    /// Revokes one live session of the user ([`CoreError::SessionNotFound`] otherwise).
    pub async fn revoke_session(&self, actor: Actor, project: ProjectId, id: UserId, session: SessionId) -> Result<()> {
        self.user(project, id).await?;
        let event =
            self.event(project, actor, AuditAction::SessionRevoked, id).detail("sessionId", session.to_string());
        if !self.deps.store.revoke_user_session(project, id, session, self.now(), &event).await? {
            return Err(CoreError::SessionNotFound);
        }
        Ok(())
    }

    /// "Sign out everywhere": how many sessions were revoked.
    pub async fn revoke_sessions(&self, actor: Actor, project: ProjectId, id: UserId) -> Result<u64> {
        self.user(project, id).await?;
        let event = self.event(project, actor, AuditAction::SessionsRevokedAll, id);
        Ok(self.deps.store.revoke_user_sessions(project, id, self.now(), &event).await?)
    }

    fn wake_outbox(&self) {
        if let Some(signal) = &self.outbox_signal {
            signal.notify_one();
        }
    }
}

/// An instant as the API writes it (ISO 8601, milliseconds, UTC).
fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The unique rule a write broke, as the API's conflict.
fn unique_conflict(err: StoreError) -> CoreError {
    match err {
        StoreError::Conflict(UniqueField::Email) => CoreError::DuplicateEmail,
        StoreError::Conflict(UniqueField::Username) => CoreError::DuplicateUsername,
        StoreError::Conflict(UniqueField::ForeignId) => CoreError::ForeignIdConflict,
        other => other.into(),
    }
}
