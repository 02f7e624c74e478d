//! The audit trail as operators read it (the admin API and `latchkey audit list`): one
//! project's records, filtered, newest first, in pages joined by an opaque cursor.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use latchkey_proto::admin::AuditQuery;
use strum::IntoEnumIterator;
use uuid::Uuid;

use super::shared::Deps;
use crate::domain::{Actor, AuditAction, AuditEvent, AuditEventId, AuditFilter, ProjectId};
use crate::{CoreError, Result};

/// Records per page when the query names no limit.
pub const DEFAULT_AUDIT_PAGE: u32 = 100;
pub const MAX_AUDIT_PAGE: u32 = 1000;

/// One page, newest first; `next_cursor` is `None` on the last page.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
}

impl From<&AuditEvent> for latchkey_proto::admin::AuditEvent {
    fn from(event: &AuditEvent) -> Self {
        Self {
            id: event.id.to_string(),
            at: event.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            project_id: event.project_id.to_string(),
            actor: event.actor.to_string(),
            action: event.action.as_str().to_owned(),
            user_id: event.user_id.map(|id| id.to_string()),
            request_id: event.request_id.clone(),
            details: event.details.clone(),
        }
    }
}

impl From<&AuditPage> for latchkey_proto::admin::AuditPage {
    fn from(page: &AuditPage) -> Self {
        Self { events: page.events.iter().map(Into::into).collect(), next_cursor: page.next_cursor.clone() }
    }
}

/// A checked query: the store's filter and the page size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditListing {
    pub filter: AuditFilter,
    pub limit: u32,
}

impl AuditListing {
    /// Checks every parameter of `query`, naming the one at fault.
    pub fn parse(query: &AuditQuery) -> Result<Self> {
        let limit = query.limit.unwrap_or(DEFAULT_AUDIT_PAGE);
        if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
            return Err(CoreError::invalid("limit", format!("limit must be 1 to {MAX_AUDIT_PAGE}")));
        }
        let filter = AuditFilter {
            user_id: parse_opt(&query.user_id, "userId", "a user id")?,
            action: query.action.as_deref().map(action_filter).transpose()?,
            actor: parse_opt::<Actor>(&query.actor, "actor", "apiKey:<id>, cli or system")?.map(|a| a.to_string()),
            at_or_after: query.after.as_deref().map(|t| instant(t, "after")).transpose()?,
            before: query.before.as_deref().map(|t| instant(t, "before")).transpose()?,
            before_id: query.cursor.as_deref().map(decode_cursor).transpose()?,
        };
        Ok(Self { filter, limit })
    }
}

fn parse_opt<T: std::str::FromStr>(text: &Option<String>, field: &'static str, expected: &str) -> Result<Option<T>> {
    text.as_deref()
        .map(|t| t.trim().parse::<T>().map_err(|_| CoreError::invalid(field, format!("{field} must be {expected}"))))
        .transpose()
}

/// An exact action, or a prefix ending in `.` that some action has (`user.`).
fn action_filter(text: &str) -> Result<String> {
    let text = text.trim();
    let known = AuditAction::iter()
        .any(|action| action.as_str() == text || (text.ends_with('.') && action.as_str().starts_with(text)));
    if !known {
        return Err(CoreError::invalid(
            "action",
            "action must be an audit action (user.suspended) or a prefix (user.)",
        ));
    }
    Ok(text.to_owned())
}

fn instant(text: &str, field: &'static str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| CoreError::invalid(field, format!("{field} must be an ISO 8601 time (2026-01-31T12:00:00Z)")))
}

/// The cursor is the last listed record's id (base64url); the next page lists older ones.
fn encode_cursor(id: AuditEventId) -> String {
    URL_SAFE_NO_PAD.encode(id.0.as_bytes())
}

fn decode_cursor(text: &str) -> Result<AuditEventId> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| CoreError::InvalidCursor)?;
    let bytes: [u8; 16] = bytes.try_into().map_err(|_| CoreError::InvalidCursor)?;
    Ok(AuditEventId(Uuid::from_bytes(bytes)))
}

#[derive(Clone)]
pub struct AuditTrail {
    deps: Arc<Deps>,
}

impl AuditTrail {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    /// One page of `project`'s records matching `query`, newest first.
    pub async fn list(&self, project: ProjectId, query: &AuditQuery) -> Result<AuditPage> {
        let AuditListing { filter, limit } = AuditListing::parse(query)?;
        self.deps.project(project).await?;
        // One more than asked tells whether another page follows.
        let mut events = self.deps.store.list_audit_events(project, &filter, limit + 1).await?;
        let more = events.len() > limit as usize;
        events.truncate(limit as usize);
        let next_cursor = events.last().filter(|_| more).map(|last| encode_cursor(last.id));
        Ok(AuditPage { events, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_checked_field_by_field() {
        let field = |query: AuditQuery| match AuditListing::parse(&query) {
            Err(CoreError::InvalidInput { field, .. }) => field,
            other => panic!("{query:?} -> {other:?}"),
        };
        assert_eq!(field(AuditQuery { limit: Some(0), ..Default::default() }), "limit");
        assert_eq!(field(AuditQuery { limit: Some(1001), ..Default::default() }), "limit");
        assert_eq!(field(AuditQuery { user_id: Some("nope".into()), ..Default::default() }), "userId");
        assert_eq!(field(AuditQuery { action: Some("user".into()), ..Default::default() }), "action");
        assert_eq!(field(AuditQuery { action: Some("nothing.".into()), ..Default::default() }), "action");
        assert_eq!(field(AuditQuery { actor: Some("root".into()), ..Default::default() }), "actor");
        assert_eq!(field(AuditQuery { after: Some("yesterday".into()), ..Default::default() }), "after");

        let ok = AuditListing::parse(&AuditQuery {
            action: Some("user.".into()),
            actor: Some("cli".into()),
            after: Some("2026-01-01T00:00:00+01:00".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.limit, DEFAULT_AUDIT_PAGE);
        assert_eq!(ok.filter.action.as_deref(), Some("user."));
        assert_eq!(ok.filter.at_or_after.map(|t| t.to_rfc3339()).as_deref(), Some("2025-12-31T23:00:00+00:00"));
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = AuditEventId::generate();
        assert_eq!(decode_cursor(&encode_cursor(id)).unwrap(), id);
        for garbage in ["", "!!", "AAAA", &URL_SAFE_NO_PAD.encode([0u8; 17])] {
            assert!(matches!(decode_cursor(garbage), Err(CoreError::InvalidCursor)), "{garbage:?}");
        }
    }
}
