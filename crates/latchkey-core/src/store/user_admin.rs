//! [`UserAdminStore`]: what an operator does to users and their sessions. Every mutation is
//! one call that writes its change and its audit record in one transaction, and each is scoped
//! by the project (the record, the user or the session carries it).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{LinkToken, NewOutbox, SessionRecord, StoreResult};
use crate::domain::{AuditEvent, ProjectId, SessionId, Suspension, User, UserId};

/// Which users to list, oldest first (ids are UUIDv7: id order is creation order). Every
/// filter combines with AND; `None` leaves a column unfiltered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Stored emails and usernames are lower case: prefixes must be too.
    pub email_prefix: Option<String>,
    pub username_prefix: Option<String>,
    pub verified: Option<bool>,
    /// `true`: a suspension is in force at `now`; `false`: none is.
    pub suspended: Option<bool>,
    pub foreign_id: Option<String>,
    /// Inclusive.
    pub created_at_or_after: Option<DateTime<Utc>>,
    /// Exclusive.
    pub created_before: Option<DateTime<Utc>>,
    /// The page cursor: only ids after this one.
    pub after_id: Option<UserId>,
    /// What "in force" is measured against.
    pub now: DateTime<Utc>,
}

/// An operator's change to a user: the mutable columns of `user` (profile fields, email,
/// username, role, metadata, verified, active, `updated_at`) replace the stored ones; the
/// password, suspension and activity columns are not touched.
#[derive(Debug, Clone)]
pub struct UserUpdate {
    pub user: User,
    /// Revoke every session of the user (it was disabled).
    pub revoke_sessions: bool,
    /// A verification link for a changed address, and its message.
    pub verification: Option<(LinkToken, NewOutbox)>,
    pub event: AuditEvent,
}

/// A suspension to insert: the user's sessions are revoked and `suspended_until` recomputed.
#[derive(Debug, Clone)]
pub struct SuspensionChange {
    pub suspension: Suspension,
    pub event: AuditEvent,
}

/// Erasing a user: every row naming them goes (sessions, link tokens, suspensions, outbox
/// rows with their id or, for reset requests not yet resolved, their address's rate key,
/// consumed external token ids, the sign-in failure window of their email); audit records
/// naming them keep action, time, actor and request id but lose the user id and details; then
/// `event` (which must not name them) is written.
#[derive(Debug, Clone)]
pub struct UserDeletion {
    pub project: ProjectId,
    pub user: UserId,
    pub email: Option<String>,
    /// The reset-request rate key of `email` (see `auth::reset_rate_key`).
    pub reset_rate_key: Option<String>,
    pub event: AuditEvent,
}

#[async_trait]
pub trait UserAdminStore: Send + Sync + 'static {
    /// Up to `limit` users of `project` matching `filter`, by id ascending.
    async fn list_users(&self, project: ProjectId, filter: &UserFilter, limit: u32) -> StoreResult<Vec<User>>;
    /// The suspensions of `user` in force at `now`, newest first.
    async fn suspensions_in_force(
        &self,
        project: ProjectId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<Suspension>>;

    /// Inserts `user` with its record. `Conflict` names a taken email, username or foreign id.
    async fn create_user(&self, user: &User, event: &AuditEvent) -> StoreResult<()>;
    /// Applies `update`; false (nothing written) when the user does not exist.
    async fn update_user(&self, update: &UserUpdate) -> StoreResult<bool>;
    /// False (nothing written) when the suspension's user does not exist.
    async fn suspend_user(&self, change: &SuspensionChange) -> StoreResult<bool>;
    /// Lifts every suspension of `user` in force at `now`; false when the user does not exist.
    async fn unsuspend_user(
        &self,
        project: ProjectId,
        user: UserId,
        now: DateTime<Utc>,
        event: &AuditEvent,
    ) -> StoreResult<bool>;
    /// False (nothing written) when the user does not exist.
    async fn delete_user(&self, deletion: &UserDeletion) -> StoreResult<bool>;
    /// Sets the password hash, revokes every session and supersedes unused reset links; false
    /// when the user does not exist.
    async fn set_password(
        &self,
        project: ProjectId,
        user: UserId,
        password_hash: &str,
        now: DateTime<Utc>,
        event: &AuditEvent,
    ) -> StoreResult<bool>;
    /// Supersedes the user's unused links of the token's purpose and inserts `token`, with
    /// `mail` when the link is to be emailed.
    async fn issue_link(&self, token: &LinkToken, mail: Option<&NewOutbox>, event: &AuditEvent) -> StoreResult<()>;
    /// Clears the sign-in failure window of `email` (none: only the record is written).
    async fn unlock_user(&self, project: ProjectId, email: Option<&str>, event: &AuditEvent) -> StoreResult<()>;

    /// The sessions of `user` neither revoked nor expired at `now`, oldest first.
    async fn live_sessions(
        &self,
        project: ProjectId,
        user: UserId,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SessionRecord>>;
    /// Revokes `session` if it is a live session of `user`; false (nothing written) otherwise.
    async fn revoke_user_session(
        &self,
        project: ProjectId,
        user: UserId,
        session: SessionId,
        now: DateTime<Utc>,
        event: &AuditEvent,
    ) -> StoreResult<bool>;
    /// Revokes every live session of `user`; how many. The record gets that count as
    /// `details.revoked`.
    async fn revoke_user_sessions(
        &self,
        project: ProjectId,
        user: UserId,
        now: DateTime<Utc>,
        event: &AuditEvent,
    ) -> StoreResult<u64>;
}
