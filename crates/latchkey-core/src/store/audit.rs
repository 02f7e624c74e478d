//! [`AuditStore`]: the append-only audit trail.
//!
//! Admin mutations write their record in the same transaction as the change (their store
//! methods take the [`AuditEvent`]), so the trail cannot miss an action that happened nor
//! show one that did not. `record_audit_event` is for records that stand alone (security
//! events of the auth flows, read-only admin actions worth recording).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::{AuditEvent, AuditFilter, ProjectId};

#[async_trait]
pub trait AuditStore: Send + Sync + 'static {
    async fn record_audit_event(&self, event: &AuditEvent) -> StoreResult<()>;
    /// Up to `limit` records of `project` matching `filter`, newest first.
    async fn list_audit_events(
        &self,
        project: ProjectId,
        filter: &AuditFilter,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>>;
    /// Deletes records older than `before` (the retention setting); returns how many.
    async fn purge_audit_events(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}
