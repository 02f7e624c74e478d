//! User suspensions: an operator's "not now" with a reason and an optional end. The user row
//! keeps `suspended_until` (the latest end in force) so the sign-in paths need no extra read;
//! these records are the history behind it, listed in the admin view of the user.

use chrono::{DateTime, Utc};

use super::{Actor, ProjectId, SuspensionId, UserId};

/// One suspension of one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspension {
    pub id: SuspensionId,
    pub project_id: ProjectId,
    pub user_id: UserId,
    /// Operator-written, 1 to 500 characters; never shown to the user.
    pub reason: String,
    pub starts_at: DateTime<Utc>,
    /// `None`: until lifted.
    pub ends_at: Option<DateTime<Utc>>,
    /// Set when an operator unsuspended the user before the end.
    pub lifted_at: Option<DateTime<Utc>>,
    pub created_by: Actor,
}

impl Suspension {
    pub const MAX_REASON_CHARS: usize = 500;

    /// In force at `now`: started, not lifted, not ended.
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.starts_at <= now && self.lifted_at.is_none() && self.ends_at.is_none_or(|end| end > now)
    }
}
