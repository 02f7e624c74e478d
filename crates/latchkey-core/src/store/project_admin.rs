//! [`ProjectAdminStore`]: what an operator changes on a whole project: its name, its
//! existence, and the rotation of its access-token signing keys. Each admin mutation writes
//! its audit record in the same transaction as the change.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::{AuditEvent, ProjectId};
use crate::tokens::StoredSigningKey;

/// One signing-key rotation, as the core decided it from the keys it read.
#[derive(Debug, Clone)]
pub struct KeyRotation {
    pub project_id: ProjectId,
    /// The active key, retired at `now`.
    pub retiring_kid: String,
    /// The standby, which signs from `now`.
    pub promoted_kid: String,
    pub now: DateTime<Utc>,
    /// When the retired key leaves the JWKS.
    pub published_until: DateTime<Utc>,
    /// The next standby.
    pub new_standby: StoredSigningKey,
    /// `signing-key.rotated`.
    pub audit: AuditEvent,
}

#[async_trait]
pub trait ProjectAdminStore: Send + Sync + 'static {
    /// Renames `project` and records `audit`, in one transaction; false (nothing written)
    /// when there is no such project.
    async fn rename_project(&self, project: ProjectId, name: &str, audit: &AuditEvent) -> StoreResult<bool>;
    /// Deletes `project` and every row of it (users, sessions, keys, mail, audit trail...);
    /// false when there is no such project.
    async fn delete_project(&self, project: ProjectId) -> StoreResult<bool>;

    /// Adds `key`, a standby, unless its project has a standby already: true if added.
    async fn add_standby_signing_key(&self, key: &StoredSigningKey) -> StoreResult<bool>;
    /// The projects without a standby key (created before rotation existed).
    async fn projects_without_standby_key(&self) -> StoreResult<Vec<ProjectId>>;
    /// Retires the active key, promotes the standby, adds the new standby and records the
    /// audit event, in one transaction; false, and nothing written, unless both keys are still
    /// as the caller read them (a racing rotation came first).
    async fn rotate_signing_key(&self, rotation: &KeyRotation) -> StoreResult<bool>;
    /// Deletes retired keys whose publication ended at or before `now` (every project).
    async fn purge_unpublished_signing_keys(&self, now: DateTime<Utc>) -> StoreResult<u64>;
}
