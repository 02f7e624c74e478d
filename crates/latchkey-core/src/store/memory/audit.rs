//! [`AuditStore`] in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, Tables, duplicate, ms};
use crate::domain::{AuditEvent, AuditFilter, ProjectId};
use crate::store::{AuditStore, StoreResult};

impl Tables {
    /// `INSERT INTO audit_events` (also inside the admin mutations' transactions).
    pub(super) fn check_audit_insert(&self, event: &AuditEvent) -> StoreResult<()> {
        if self.audit_events.contains_key(&event.id) {
            return Err(duplicate());
        }
        self.require_project(event.project_id)
    }

    pub(super) fn insert_audit_event(&mut self, event: &AuditEvent) {
        self.audit_events.insert(event.id, AuditEvent { at: ms(event.at), ..event.clone() });
    }
}

/// Whether `event` passes `filter` (the SQL backends' WHERE clause).
fn matches(event: &AuditEvent, filter: &AuditFilter) -> bool {
    let action = event.action.as_str();
    filter.user_id.is_none_or(|user| event.user_id == Some(user))
        && filter.action.as_deref().is_none_or(|wanted| match wanted.strip_suffix('.') {
            Some(_) => action.starts_with(wanted),
            None => action == wanted,
        })
        && filter.actor.as_deref().is_none_or(|actor| event.actor.to_string() == actor)
        && filter.at_or_after.is_none_or(|t| event.at >= ms(t))
        && filter.before.is_none_or(|t| event.at < ms(t))
        && filter.before_id.is_none_or(|id| event.id < id)
}

#[async_trait]
impl AuditStore for MemoryStore {
    async fn record_audit_event(&self, event: &AuditEvent) -> StoreResult<()> {
        let mut tables = self.lock().await;
        tables.check_audit_insert(event)?;
        tables.insert_audit_event(event);
        Ok(())
    }

    async fn list_audit_events(
        &self,
        project: ProjectId,
        filter: &AuditFilter,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        let tables = self.lock().await;
        let newest_first = tables.audit_events.values().rev();
        let hits = newest_first.filter(|e| e.project_id == project && matches(e, filter));
        Ok(hits.take(limit as usize).cloned().collect())
    }

    async fn purge_audit_events(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut tables = self.lock().await;
        let count = tables.audit_events.len();
        tables.audit_events.retain(|_, e| e.at >= ms(before));
        Ok((count - tables.audit_events.len()) as u64)
    }
}
