//! Security events of the auth flows in the audit trail (actor `system`).
//!
//! Successes (`sign-in.succeeded`, `password-reset.completed`) are written by the store in the
//! transaction that makes the change, so neither can happen without its record. Failures
//! (`sign-in.failed`, `sign-in.locked-out`, `refresh.reuse-detected`) stand alone and are
//! best effort: the request still answers its real outcome when the record cannot be written,
//! and the loss is logged (as a warning naming the action, project and user id). A refused
//! sign-in must not turn into a 503 because the trail is unavailable: that would make a
//! failure look retryable, and tell a caller when the trail is not recording.

use chrono::{DateTime, Utc};

use super::shared::Shared;
use crate::domain::{Actor, AuditAction, AuditEvent, ProjectId, UserId};

/// A security event of `project`, about `user` when the flow knows one.
pub(super) fn security_event(
    project: ProjectId,
    at: DateTime<Utc>,
    action: AuditAction,
    user: Option<UserId>,
) -> AuditEvent {
    let event = AuditEvent::new(project, at, Actor::System, action);
    match user {
        Some(user) => event.user(user),
        None => event,
    }
}

impl Shared {
    /// Records a failure event, best effort (see the module notes).
    pub(super) async fn record_failure_event(&self, event: AuditEvent) {
        if let Err(e) = self.store.record_audit_event(&event).await {
            tracing::warn!(
                error = %e,
                action = event.action.as_str(),
                project = %event.project_id,
                user = ?event.user_id.map(|id| id.to_string()),
                "security event not recorded in the audit trail"
            );
        }
    }

    /// `sign-in.locked-out`, naming the account's user when the address has one.
    pub(super) async fn record_lockout(&self, project: ProjectId, email: &str, at: DateTime<Utc>) {
        let user = match self.store.find_user_by_email(project, email).await {
            Ok(user) => user.map(|u| u.id),
            Err(e) => {
                tracing::warn!(error = %e, "cannot look up the locked-out account's user");
                None
            }
        };
        self.record_failure_event(security_event(project, at, AuditAction::SignInLockedOut, user)).await;
    }
}
