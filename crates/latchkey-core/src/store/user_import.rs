//! [`UserImportStore`]: writing one batch of imported users in one transaction, with the
//! batch's audit record, so a large import is a few hundred transactions, not 100,000.

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::{AuditEvent, ProjectId, User};

/// One batch of an import, all of `project`.
#[derive(Debug, Clone)]
pub struct ImportBatch {
    pub project: ProjectId,
    /// Inserted as they are (password hashes as imported).
    pub create: Vec<User>,
    /// Existing users with the import applied: their profile fields, email, username, role,
    /// metadata, verified flag, foreign id and `updated_at` replace the stored ones; the
    /// password hash is written only where the stored one is NULL (an import never replaces
    /// a password the user may have changed or that sign-in upgraded since).
    pub update: Vec<User>,
    /// `user.imported`, counts only.
    pub event: AuditEvent,
}

#[async_trait]
pub trait UserImportStore: Send + Sync + 'static {
    /// Writes the whole batch and its record, or nothing: `Conflict` names a unique rule
    /// a user broke (a concurrent writer took the email, say); an update whose user is gone
    /// is `NotFound`.
    async fn import_users(&self, batch: &ImportBatch) -> StoreResult<()>;
}
