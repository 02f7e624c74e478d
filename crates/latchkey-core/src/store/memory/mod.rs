//! An in-memory [`Store`](super::Store): the storage contract without a database, so the
//! core's rules can be unit-tested (and the contract suite can check it beside SQLite and
//! PostgreSQL).
//!
//! One mutex guards every table; each trait method takes it once and never across an
//! `.await`, so every call is one serialisable transaction, as the SQL backends make their
//! multi-row calls. Each call yields once before it runs, so concurrent callers interleave
//! between calls as they do over a database. A call that can fail checks everything first and only then writes, so a
//! refused call changes nothing (the SQL backends roll back).
//!
//! The SQL backends' constraints are mirrored: primary keys and unique indexes (reported as
//! [`StoreError::Conflict`] with the same [`UniqueField`]), foreign keys (reported as
//! [`StoreError::Other`]), and timestamps stored to the millisecond.

mod audit;
mod core;
mod external;
mod import_settings;
mod mail;
mod project_admin;
mod user_admin;
mod user_import;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use super::{ExternalKeyRecord, ExternalSecretRecord, ExternalSettings, LinkToken, OutboxRow, SessionRecord};
use super::{StoreError, StoreResult, UniqueField};
use crate::domain::{ApiKeyRecord, MailSettings, OutboxId, Project, ProjectId, SessionId, User, UserId};
use crate::tokens::StoredSigningKey;

/// Every table, keyed like its SQL primary key.
#[derive(Default)]
struct Tables {
    projects: HashMap<ProjectId, Project>,
    /// Keyed by (project, kid).
    signing_keys: BTreeMap<(ProjectId, String), StoredSigningKey>,
    api_keys: HashMap<crate::domain::ApiKeyId, ApiKeyRecord>,
    users: HashMap<UserId, User>,
    sessions: HashMap<SessionId, SessionRecord>,
    /// (project, email) -> (failures, window start).
    sign_in_failures: HashMap<(ProjectId, String), (i64, DateTime<Utc>)>,
    mail_settings: HashMap<ProjectId, MailSettings>,
    link_tokens: HashMap<String, LinkToken>,
    outbox: HashMap<OutboxId, OutboxRow>,
    /// The rate key of each outbox row that has one (not part of [`OutboxRow`]).
    outbox_rate_keys: HashMap<OutboxId, String>,
    /// The user each outbox row is about, when known (not part of [`OutboxRow`]).
    outbox_users: HashMap<OutboxId, UserId>,
    external_settings: HashMap<ProjectId, ExternalSettings>,
    /// Keyed by (project, secret id).
    external_secrets: HashMap<(ProjectId, String), ExternalSecretRecord>,
    /// Keyed by (project, kid).
    external_keys: HashMap<(ProjectId, String), ExternalKeyRecord>,
    /// (project, jti digest) -> until when it stays used, and the user it signed in.
    external_jtis: HashMap<(ProjectId, String), (DateTime<Utc>, Option<UserId>)>,
    /// Keyed by id: UUIDv7, so key order is time order.
    audit_events: BTreeMap<crate::domain::AuditEventId, crate::domain::AuditEvent>,
    /// Keyed by id: UUIDv7, so key order is time order.
    suspensions: BTreeMap<crate::domain::SuspensionId, crate::domain::Suspension>,
    firebase_hash_settings: HashMap<ProjectId, super::FirebaseHashSettings>,
}

/// The in-memory store. Cheap to create; each value is its own empty database.
#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The tables, for one call. It first yields to the scheduler, as a database round trip
    /// would, so that concurrent callers interleave between their calls (a refresh's read and
    /// its conditional update, say) and races in the code above the store can happen here too.
    /// A panic while the tables were held (a bug in this module) leaves them as the panicking
    /// call found them, since calls write only after every check.
    async fn lock(&self) -> MutexGuard<'_, Tables> {
        tokio::task::yield_now().await;
        self.tables.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A timestamp as the SQL backends store it: whole milliseconds.
fn ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

fn ms_opt(t: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    t.map(ms)
}

/// A violated primary key, or a unique index that is not one of the named user fields.
fn duplicate() -> StoreError {
    StoreError::Conflict(UniqueField::Other)
}

fn missing_parent(what: &str) -> StoreError {
    StoreError::Other(format!("foreign key violation: no {what}"))
}

impl Tables {
    fn require_project(&self, id: ProjectId) -> StoreResult<()> {
        if self.projects.contains_key(&id) { Ok(()) } else { Err(missing_parent("such project")) }
    }

    /// The user `id` of `project` (sessions may only name a user of their own project).
    fn user_in(&self, project: ProjectId, id: UserId) -> Option<&User> {
        self.users.get(&id).filter(|u| u.project_id == project)
    }

    fn user_in_mut(&mut self, project: ProjectId, id: UserId) -> Option<&mut User> {
        self.users.get_mut(&id).filter(|u| u.project_id == project)
    }

    /// The unique index `candidate` would violate among the other users of its project, in the
    /// order the SQL schema declares them (email, username, foreign id).
    fn user_conflict(&self, candidate: &User) -> Option<UniqueField> {
        let others = || self.users.values().filter(|u| u.project_id == candidate.project_id && u.id != candidate.id);
        let clash = |field: fn(&User) -> &Option<String>| {
            field(candidate).as_ref().is_some_and(|value| others().any(|u| field(u).as_ref() == Some(value)))
        };
        if clash(|u| &u.email) {
            Some(UniqueField::Email)
        } else if clash(|u| &u.username) {
            Some(UniqueField::Username)
        } else if clash(|u| &u.foreign_id) {
            Some(UniqueField::ForeignId)
        } else {
            None
        }
    }

    /// Every check of `INSERT INTO users`.
    fn check_user_insert(&self, user: &User) -> StoreResult<()> {
        if self.users.contains_key(&user.id) {
            return Err(duplicate());
        }
        if let Some(field) = self.user_conflict(user) {
            return Err(StoreError::Conflict(field));
        }
        self.require_project(user.project_id)
    }

    fn insert_user(&mut self, user: &User) {
        self.users.insert(user.id, stored_user(user));
    }

    /// Every check of `INSERT INTO sessions`, given the users as they will be by then.
    fn check_session_insert(&self, session: &SessionRecord, new_user: Option<&User>) -> StoreResult<()> {
        if self.sessions.contains_key(&session.id) {
            return Err(duplicate());
        }
        self.require_project(session.project_id)?;
        let new_user_matches = new_user.is_some_and(|u| u.id == session.user_id && u.project_id == session.project_id);
        if !new_user_matches && self.user_in(session.project_id, session.user_id).is_none() {
            return Err(missing_parent("user of this project for the session"));
        }
        Ok(())
    }

    fn insert_session(&mut self, session: &SessionRecord) {
        let stored = SessionRecord {
            rotated_at: ms(session.rotated_at),
            expires_at: ms(session.expires_at),
            revoked_at: ms_opt(session.revoked_at),
            created_at: ms(session.created_at),
            ..session.clone()
        };
        self.sessions.insert(session.id, stored);
    }

    /// Revokes every unrevoked session of `user` in `project`; how many.
    fn revoke_user_sessions(&mut self, project: ProjectId, user: UserId, now: DateTime<Utc>) -> u64 {
        let live = self.sessions.values_mut().filter(|s| s.project_id == project && s.user_id == user);
        let mut revoked = 0;
        for session in live.filter(|s| s.revoked_at.is_none()) {
            session.revoked_at = Some(ms(now));
            revoked += 1;
        }
        revoked
    }
}

/// A user as stored: timestamps to the millisecond.
fn stored_user(user: &User) -> User {
    User {
        last_active: ms_opt(user.last_active),
        created_at: ms(user.created_at),
        updated_at: ms(user.updated_at),
        ..user.clone()
    }
}
