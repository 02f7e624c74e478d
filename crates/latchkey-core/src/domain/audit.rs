//! The audit trail's records: admin actions and security events. A record never holds a
//! secret, and names a user only by id (so erasing a user can find every record about them):
//! `details` carry ids, field names, counts, kids and operator-written reasons, never an
//! email, username, password, token or key.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{ApiKeyId, AuditEventId, ProjectId, UserId};

/// Who did it: an admin API key, the command line, or the service itself (security events of
/// the auth flows, the maintenance task).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    ApiKey(ApiKeyId),
    Cli,
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::ApiKey(id) => write!(f, "apiKey:{id}"),
            Actor::Cli => f.write_str("cli"),
            Actor::System => f.write_str("system"),
        }
    }
}

impl FromStr for Actor {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "cli" => Ok(Actor::Cli),
            "system" => Ok(Actor::System),
            _ => text
                .strip_prefix("apiKey:")
                .and_then(|id| id.parse().ok())
                .map(Actor::ApiKey)
                .ok_or_else(|| format!("not an actor: {text:?}")),
        }
    }
}

/// Every action the trail records; the text is what the API and the database hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::EnumIter)]
pub enum AuditAction {
    // Admin actions on users.
    #[strum(serialize = "user.created")]
    UserCreated,
    #[strum(serialize = "user.updated")]
    UserUpdated,
    #[strum(serialize = "user.suspended")]
    UserSuspended,
    #[strum(serialize = "user.unsuspended")]
    UserUnsuspended,
    #[strum(serialize = "user.deleted")]
    UserDeleted,
    #[strum(serialize = "user.password-set")]
    UserPasswordSet,
    #[strum(serialize = "user.link-issued")]
    UserLinkIssued,
    #[strum(serialize = "user.unlocked")]
    UserUnlocked,
    /// One batch of an import (details: counts only).
    #[strum(serialize = "user.imported")]
    UserImported,
    #[strum(serialize = "session.revoked")]
    SessionRevoked,
    #[strum(serialize = "session.revoked-all")]
    SessionsRevokedAll,
    // Admin actions on the project.
    #[strum(serialize = "project.renamed")]
    ProjectRenamed,
    #[strum(serialize = "signing-key.rotated")]
    SigningKeyRotated,
    #[strum(serialize = "api-key.created")]
    ApiKeyCreated,
    #[strum(serialize = "api-key.revoked")]
    ApiKeyRevoked,
    #[strum(serialize = "project.import-settings-changed")]
    ImportSettingsChanged,
    // Security events of the auth flows.
    #[strum(serialize = "sign-in.succeeded")]
    SignInSucceeded,
    #[strum(serialize = "sign-in.failed")]
    SignInFailed,
    #[strum(serialize = "sign-in.locked-out")]
    SignInLockedOut,
    #[strum(serialize = "refresh.reuse-detected")]
    RefreshReuseDetected,
    #[strum(serialize = "password-reset.completed")]
    PasswordResetCompleted,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One record of the trail.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub id: AuditEventId,
    pub project_id: ProjectId,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: AuditAction,
    pub user_id: Option<UserId>,
    /// The HTTP request's id (`X-Request-Id`), when the event came from one.
    pub request_id: Option<String>,
    pub details: Map<String, Value>,
}

impl AuditEvent {
    /// A new record at `at`, in the current request's scope (its id is read from
    /// [`crate::request_scope`]).
    pub fn new(project_id: ProjectId, at: DateTime<Utc>, actor: Actor, action: AuditAction) -> Self {
        Self {
            id: AuditEventId::generate(),
            project_id,
            at,
            actor,
            action,
            user_id: None,
            request_id: crate::request_scope::current_request_id(),
            details: Map::new(),
        }
    }

    pub fn user(mut self, user: UserId) -> Self {
        self.user_id = Some(user);
        self
    }

    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

/// Which records to list, newest first. `before_id` is the page cursor (exclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub user_id: Option<UserId>,
    /// An exact action, or a prefix ending in `.` (`"user."`).
    pub action: Option<String>,
    pub actor: Option<String>,
    /// Inclusive.
    pub at_or_after: Option<DateTime<Utc>>,
    /// Exclusive.
    pub before: Option<DateTime<Utc>>,
    pub before_id: Option<AuditEventId>,
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    #[test]
    fn actors_and_actions_read_back_from_their_text() {
        let key = Actor::ApiKey(ApiKeyId::generate());
        for actor in [key, Actor::Cli, Actor::System] {
            assert_eq!(actor.to_string().parse::<Actor>(), Ok(actor));
        }
        assert!("apiKey:nope".parse::<Actor>().is_err());
        for action in AuditAction::iter() {
            assert_eq!(action.as_str().parse::<AuditAction>(), Ok(action));
        }
    }
}
