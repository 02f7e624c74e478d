//! The storage contract. Every method that touches tenant data takes the [`ProjectId`] and
//! every implementation scopes its queries by it: tenancy is enforced here, not in handlers.
//!
//! Multi-row invariants are single calls (`create_user_with_session`, `rotate_session`), so
//! each backend can make them one transaction or one conditional statement.
//!
//! [`Store`] is the sum of one trait per area ([`CoreStore`] here; later areas add their own
//! trait in their own file and list it as a supertrait of [`Store`]).

mod audit;
mod external;
mod import_settings;
/// A store without a database, for tests (the `memory-store` feature).
#[cfg(feature = "memory-store")]
pub mod memory;
mod project_admin;
mod user_admin;
mod user_import;

pub use audit::AuditStore;
pub use external::{
    ExternalKeyRecord, ExternalSecretRecord, ExternalSettings, ExternalSignIn, ExternalSignInOutcome, ExternalStore,
    UserChange,
};
pub use import_settings::{FirebaseHashSettings, ImportSettingsStore};
pub use project_admin::{KeyRotation, ProjectAdminStore};
pub use user_admin::{SuspensionChange, UserAdminStore, UserDeletion, UserFilter, UserUpdate};
pub use user_import::{ImportBatch, UserImportStore};
mod mail;

pub use mail::{Claim, LinkToken, MailStore, NewOutbox, OutboxRow, OutboxState};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{
    ApiKeyId, ApiKeyRecord, ApiKeyScope, AuditEvent, Project, ProjectId, ProjectSettings, SessionId, SessionMethod,
    User, UserId,
};
use crate::tokens::StoredSigningKey;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated; the value names which one.
    #[error("conflict on {0:?}")]
    Conflict(UniqueField),
    #[error("not found")]
    NotFound,
    /// The database cannot be reached right now (the API answers 503 `server/unavailable`).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database's disk is full (SQLite `SQLITE_FULL`, PostgreSQL `disk_full`): nothing was
    /// written; retry once space is freed (the API answers 503 `server/storage-full`).
    #[error("database storage full: {0}")]
    StorageFull(String),
    #[error("database error: {0}")]
    Other(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueField {
    Email,
    Username,
    ForeignId,
    Other,
}

pub type StoreResult<T> = std::result::Result<T, StoreError>;

/// A login session. It holds digests only; the current pair is kept sealed under the master
/// key so that a replay inside the grace window can be answered with the same pair.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: SessionId,
    pub project_id: ProjectId,
    pub user_id: UserId,
    pub generation: i64,
    pub current_digest: String,
    pub previous_digest: Option<String>,
    pub rotated_at: DateTime<Utc>,
    pub current_pair_sealed: Vec<u8>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// How the session began (the admin session list shows it).
    pub method: SessionMethod,
}

/// One refresh exchange: applies only if the session is still at `from_generation`.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub project_id: ProjectId,
    pub session_id: SessionId,
    pub from_generation: i64,
    pub previous_digest: String,
    pub new_digest: String,
    pub pair_sealed: Vec<u8>,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What a presented API key grants, once found live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveApiKey {
    pub project_id: ProjectId,
    pub id: ApiKeyId,
    pub scope: ApiKeyScope,
}

/// Sign-in attempts not (yet) vindicated by a success, per (project, email), in a fixed window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureWindow {
    pub failures: u32,
    pub window_started_at: DateTime<Utc>,
}

/// One database connection pool's load now, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionPoolStats {
    /// Which pool: `main` (PostgreSQL), or `writer` and `reader` (SQLite).
    pub pool: &'static str,
    /// Connections open, idle or in use.
    pub open: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}

/// Everything a backend provides. Implemented automatically for any type with every area trait.
pub trait Store:
    CoreStore
    + ExternalStore
    + MailStore
    + AuditStore
    + UserAdminStore
    + ProjectAdminStore
    + ImportSettingsStore
    + UserImportStore
{
}

impl<T> Store for T where
    T: CoreStore
        + ExternalStore
        + MailStore
        + AuditStore
        + UserAdminStore
        + ProjectAdminStore
        + ImportSettingsStore
        + UserImportStore
{
}

/// Projects, keys, users, sessions and sign-in throttling.
#[async_trait]
pub trait CoreStore: Send + Sync + 'static {
    /// Cheap round trip for readiness checks.
    async fn ping(&self) -> StoreResult<()>;

    /// Each connection pool's load now, read without touching the database (none for a store
    /// without pools).
    fn connection_pools(&self) -> Vec<ConnectionPoolStats> {
        Vec::new()
    }

    // Projects and their keys.
    /// Creates `project` with its signing keys (the active one and the standby).
    async fn create_project(&self, project: &Project, signing_keys: &[StoredSigningKey]) -> StoreResult<()>;
    async fn get_project(&self, id: ProjectId) -> StoreResult<Option<Project>>;
    async fn list_projects(&self) -> StoreResult<Vec<Project>>;
    async fn update_project_settings(&self, id: ProjectId, settings: &ProjectSettings) -> StoreResult<()>;
    /// Every stored signing key of `project` (standby, active, retired), newest first.
    async fn signing_keys(&self, project: ProjectId) -> StoreResult<Vec<StoredSigningKey>>;

    /// Inserts `key` and records `audit` (`api-key.created`) in one transaction.
    async fn insert_api_key(&self, key: &ApiKeyRecord, audit: &AuditEvent) -> StoreResult<()>;
    async fn list_api_keys(&self, project: ProjectId) -> StoreResult<Vec<ApiKeyRecord>>;
    /// Revokes the key and records `audit` (`api-key.revoked`) in one transaction. Returns
    /// false, and records nothing, when no live key with that id exists in that project.
    async fn revoke_api_key(
        &self,
        project: ProjectId,
        id: ApiKeyId,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
    /// The live (unrevoked) key with this digest: its project, id and scope.
    async fn live_api_key(&self, digest: &str) -> StoreResult<Option<LiveApiKey>>;

    // Users.
    async fn create_user_with_session(&self, user: &User, session: &SessionRecord) -> StoreResult<()>;
    async fn find_user_by_email(&self, project: ProjectId, email: &str) -> StoreResult<Option<User>>;
    async fn get_user(&self, project: ProjectId, id: UserId) -> StoreResult<Option<User>>;
    async fn username_taken(&self, project: ProjectId, username: &str) -> StoreResult<bool>;
    /// Replaces the hash only if it is still `old` (a rehash must never undo a newer password).
    async fn upgrade_password_hash(
        &self,
        project: ProjectId,
        user: UserId,
        old: &str,
        new: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    // Sessions.
    /// Creates a password sign-in's session and touches `last_active`, only if the user is
    /// active, not suspended at `last_active`, and its password hash is still `verified_hash`
    /// (the one the password was checked against): a reset, a disable or a suspension that
    /// committed while the hash was being verified must not be outlived by a session created
    /// after it. False, and nothing written, otherwise. `audit` (`sign-in.succeeded`) is
    /// recorded in the same transaction.
    async fn create_password_session(
        &self,
        session: &SessionRecord,
        verified_hash: &str,
        last_active: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<bool>;
    async fn get_session(&self, project: ProjectId, id: SessionId) -> StoreResult<Option<SessionRecord>>;
    /// The conditional update at the heart of refresh: true if this call moved the session
    /// from `from_generation` to `from_generation + 1`, false if someone else did first.
    async fn rotate_session(&self, rotation: &Rotation) -> StoreResult<bool>;
    async fn revoke_session(&self, project: ProjectId, id: SessionId, now: DateTime<Utc>) -> StoreResult<()>;

    // Sign-in throttling (shared state, so it holds across server processes).
    /// Counts one attempt atomically and returns the count after it, starting a new window if
    /// the current one began at or before `window_start_after`.
    async fn record_sign_in_attempt(
        &self,
        project: ProjectId,
        email: &str,
        now: DateTime<Utc>,
        window_start_after: DateTime<Utc>,
    ) -> StoreResult<FailureWindow>;
    async fn clear_sign_in_failures(&self, project: ProjectId, email: &str) -> StoreResult<()>;
    /// Takes back one attempt counted by `record_sign_in_attempt` whose password was never
    /// checked, if its window (`window_started_at`, as returned then) is still the current one.
    async fn release_sign_in_attempt(
        &self,
        project: ProjectId,
        email: &str,
        window_started_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Deletes throttling windows that began before `before` (they can no longer block anyone).
    async fn purge_sign_in_failures(&self, before: DateTime<Utc>) -> StoreResult<u64>;

    /// First start: creates `project` with its signing keys and `api_key`, in one transaction,
    /// only if the database holds no project at all. Of any number of racing callers (in one
    /// process or several) exactly one gets `true`; the others create nothing.
    async fn create_first_project(
        &self,
        project: &Project,
        signing_keys: &[StoredSigningKey],
        api_key: &ApiKeyRecord,
    ) -> StoreResult<bool>;
}
