//! [`ImportSettingsStore`]: a project's parameters for imported password hashes (issue 11).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::{AuditEvent, ProjectId};

/// Firebase's modified-scrypt parameters of one project, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirebaseHashSettings {
    pub project_id: ProjectId,
    /// The signer key, sealed under the master key (`auth::import_settings` names the context).
    pub signer_key_sealed: Vec<u8>,
    pub salt_separator: Vec<u8>,
    pub rounds: u32,
    pub mem_cost: u32,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait ImportSettingsStore: Send + Sync + 'static {
    /// Sets or replaces the project's Firebase parameters and writes `audit`, in one
    /// transaction. The project must exist (a foreign-key error otherwise).
    async fn put_firebase_hash_settings(&self, settings: &FirebaseHashSettings, audit: &AuditEvent) -> StoreResult<()>;

    async fn firebase_hash_settings(&self, project: ProjectId) -> StoreResult<Option<FirebaseHashSettings>>;
}
