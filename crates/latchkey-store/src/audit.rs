//! [`AuditStore`]: the append-only audit trail. Admin mutations insert their record with
//! [`Tx::insert_audit_event`] inside their own transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_core::domain::{AuditEvent, AuditEventId, AuditFilter, ProjectId, UserId};
use latchkey_core::store::{AuditStore, StoreError, StoreResult};
use serde_json::{Map, Value};

use crate::SqlStore;
use crate::db::{On, Tx};
use crate::types::{Id, JsonText, Millis, millis};

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: Id<AuditEventId>,
    project_id: Id<ProjectId>,
    at: Millis,
    actor: String,
    action: String,
    user_id: Option<Id<UserId>>,
    request_id: Option<String>,
    details: JsonText<Map<String, Value>>,
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> StoreResult<Self> {
        Ok(AuditEvent {
            id: row.id.0,
            project_id: row.project_id.0,
            at: row.at.0,
            actor: row.actor.parse().map_err(StoreError::Other)?,
            action: row.action.parse().map_err(|_| StoreError::Other(format!("bad audit action {:?}", row.action)))?,
            user_id: row.user_id.map(|id| id.0),
            request_id: row.request_id,
            details: row.details.0,
        })
    }
}

/// One record, on the writer or inside a transaction.
async fn insert(on: On<'_>, event: &AuditEvent) -> StoreResult<()> {
    on.query(
        "INSERT INTO audit_events (id, project_id, at, actor, action, user_id, request_id, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Id(event.id))
    .bind(Id(event.project_id))
    .bind(Millis(event.at))
    .bind(event.actor.to_string().as_str())
    .bind(event.action.as_str())
    .bind(event.user_id.map(Id))
    .bind(event.request_id.as_deref())
    .bind(JsonText(&event.details))
    .execute()
    .await?;
    Ok(())
}

impl Tx {
    /// The record of the admin mutation this transaction makes.
    pub(crate) async fn insert_audit_event(&mut self, event: &AuditEvent) -> StoreResult<()> {
        insert(self.on(), event).await
    }
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn record_audit_event(&self, event: &AuditEvent) -> StoreResult<()> {
        insert(self.db.writer(), event).await
    }

    async fn list_audit_events(
        &self,
        project: ProjectId,
        filter: &AuditFilter,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        // Unset filters bind NULL and drop out; an action ending in '.' matches as a prefix.
        let action_prefix = filter.action.as_deref().filter(|a| a.ends_with('.'));
        let action_exact = filter.action.as_deref().filter(|a| !a.ends_with('.'));
        let rows: Vec<AuditRow> = self
            .read(
                "SELECT * FROM audit_events
                 WHERE project_id = $1
                   AND ($2 IS NULL OR user_id = $2)
                   AND ($3 IS NULL OR action = $3)
                   AND ($4 IS NULL OR substr(action, 1, length($4)) = $4)
                   AND ($5 IS NULL OR actor = $5)
                   AND ($6 IS NULL OR at >= $6)
                   AND ($7 IS NULL OR at < $7)
                   AND ($8 IS NULL OR id < $8)
                 ORDER BY id DESC
                 LIMIT $9",
            )
            .bind(Id(project))
            .bind(filter.user_id.map(Id))
            .bind(action_exact)
            .bind(action_prefix)
            .bind(filter.actor.as_deref())
            .bind(millis(filter.at_or_after))
            .bind(millis(filter.before))
            .bind(filter.before_id.map(Id))
            .bind(i64::from(limit))
            .fetch_all()
            .await?;
        rows.into_iter().map(AuditEvent::try_from).collect()
    }

    async fn purge_audit_events(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.write("DELETE FROM audit_events WHERE at < $1").bind(Millis(before)).execute().await
    }
}
