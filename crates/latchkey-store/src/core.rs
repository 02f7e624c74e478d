//! [`CoreStore`]: projects, signing and API keys, users, sessions, sign-in lockout. Every
//! tenant read or write is scoped by `project_id`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_core::domain::{
    ApiKeyId, ApiKeyRecord, ApiKeyScope, AuditEvent, Location, Profile, Project, ProjectId, ProjectSettings, Role,
    SessionId, SessionMethod, User, UserId,
};
use latchkey_core::store::{
    ConnectionPoolStats, CoreStore, FailureWindow, LiveApiKey, Rotation, SessionRecord, StoreError, StoreResult,
};
use latchkey_core::tokens::StoredSigningKey;
use serde_json::{Map, Value};

use crate::SqlStore;
use crate::db::{Db, On, Tx};
use crate::types::{Id, JsonText, Millis, instant, millis};

/// A round trip that touches no table (readiness, start-up).
pub(crate) const PING: &str = "SELECT CAST(1 AS BIGINT)";
/// Bytes of the readiness probe's payload: about what a sign-up writes (rows and index entries).
const WRITE_PROBE_BYTES: usize = 32 * 1024;

#[derive(sqlx::FromRow)]
struct ProjectRow {
    id: Id<ProjectId>,
    name: String,
    access_token_ttl_secs: i64,
    refresh_token_ttl_secs: i64,
    app_url: Option<String>,
    created_at: Millis,
}

impl From<ProjectRow> for Project {
    fn from(row: ProjectRow) -> Self {
        Project {
            id: row.id.0,
            name: row.name,
            settings: ProjectSettings {
                access_token_ttl_secs: row.access_token_ttl_secs,
                refresh_token_ttl_secs: row.refresh_token_ttl_secs,
                app_url: row.app_url,
            },
            created_at: row.created_at.0,
        }
    }
}

#[derive(sqlx::FromRow)]
struct SigningKeyRow {
    kid: String,
    project_id: Id<ProjectId>,
    public_key: Vec<u8>,
    private_key_sealed: Vec<u8>,
    created_at: Millis,
    activated_at: Option<Millis>,
    retired_at: Option<Millis>,
    published_until: Option<Millis>,
}

impl From<SigningKeyRow> for StoredSigningKey {
    fn from(row: SigningKeyRow) -> Self {
        StoredSigningKey {
            kid: row.kid,
            project_id: row.project_id.0,
            public_key: row.public_key,
            private_key_sealed: row.private_key_sealed,
            created_at: row.created_at.0,
            activated_at: instant(row.activated_at),
            retired_at: instant(row.retired_at),
            published_until: instant(row.published_until),
        }
    }
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: Id<ApiKeyId>,
    project_id: Id<ProjectId>,
    name: String,
    prefix: String,
    scope: String,
    digest: String,
    created_at: Millis,
    revoked_at: Option<Millis>,
}

fn api_key_scope(text: &str) -> StoreResult<ApiKeyScope> {
    text.parse().map_err(|_| StoreError::Other(format!("bad API key scope {text:?}")))
}

impl TryFrom<ApiKeyRow> for ApiKeyRecord {
    type Error = StoreError;

    fn try_from(row: ApiKeyRow) -> StoreResult<Self> {
        Ok(ApiKeyRecord {
            id: row.id.0,
            project_id: row.project_id.0,
            name: row.name,
            prefix: row.prefix,
            scope: api_key_scope(&row.scope)?,
            digest: row.digest,
            created_at: row.created_at.0,
            revoked_at: instant(row.revoked_at),
        })
    }
}

/// A `users` row (shared with the external-user store).
#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Id<UserId>,
    project_id: Id<ProjectId>,
    foreign_id: Option<String>,
    role: String,
    email: Option<String>,
    name: Option<String>,
    username: Option<String>,
    avatar: Option<String>,
    bio: Option<String>,
    birthdate: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    metadata: JsonText<Map<String, Value>>,
    secure_metadata: JsonText<Map<String, Value>>,
    reputation: i64,
    is_verified: bool,
    is_active: bool,
    password_hash: Option<String>,
    last_active: Option<Millis>,
    created_at: Millis,
    updated_at: Millis,
    /// Unix ms; [`SUSPENDED_WITHOUT_END`] for a suspension without an end.
    suspended_until: Option<i64>,
}

/// `users.suspended_until` of a suspension without an end (migration 0005).
pub(crate) const SUSPENDED_WITHOUT_END: i64 = i64::MAX;

/// The stored `suspended_until` as an instant (`MAX_UTC` for a suspension without an end).
fn suspended_until(stored: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
    stored
        .map(|ms| match ms {
            SUSPENDED_WITHOUT_END => Ok(DateTime::<Utc>::MAX_UTC),
            ms => DateTime::from_timestamp_millis(ms)
                .ok_or_else(|| StoreError::Other(format!("bad suspended_until {ms}"))),
        })
        .transpose()
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> StoreResult<Self> {
        let role = Role::parse(&row.role).ok_or_else(|| StoreError::Other(format!("bad role {:?}", row.role)))?;
        Ok(User {
            id: row.id.0,
            project_id: row.project_id.0,
            foreign_id: row.foreign_id,
            role,
            email: row.email,
            username: row.username,
            profile: Profile {
                name: row.name,
                avatar: row.avatar,
                bio: row.bio,
                birthdate: row.birthdate,
                location: row.latitude.zip(row.longitude).map(|(latitude, longitude)| Location { latitude, longitude }),
            },
            metadata: row.metadata.0,
            secure_metadata: row.secure_metadata.0,
            reputation: row.reputation,
            is_verified: row.is_verified,
            is_active: row.is_active,
            password_hash: row.password_hash,
            last_active: instant(row.last_active),
            created_at: row.created_at.0,
            updated_at: row.updated_at.0,
            suspended_until: suspended_until(row.suspended_until)?,
        })
    }
}

/// The user of an optional row.
pub(crate) fn user(row: Option<UserRow>) -> StoreResult<Option<User>> {
    row.map(User::try_from).transpose()
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    id: Id<SessionId>,
    project_id: Id<ProjectId>,
    user_id: Id<UserId>,
    generation: i64,
    current_digest: String,
    previous_digest: Option<String>,
    rotated_at: Millis,
    current_pair_sealed: Vec<u8>,
    expires_at: Millis,
    revoked_at: Option<Millis>,
    created_at: Millis,
    method: String,
}

impl From<SessionRow> for SessionRecord {
    fn from(row: SessionRow) -> Self {
        SessionRecord {
            id: row.id.0,
            project_id: row.project_id.0,
            user_id: row.user_id.0,
            generation: row.generation,
            current_digest: row.current_digest,
            previous_digest: row.previous_digest,
            rotated_at: row.rotated_at.0,
            current_pair_sealed: row.current_pair_sealed,
            expires_at: row.expires_at.0,
            revoked_at: instant(row.revoked_at),
            created_at: row.created_at.0,
            method: SessionMethod::parse(&row.method),
        }
    }
}

/// Statements several methods (and the other areas) run inside their transactions.
impl Tx {
    pub(crate) async fn insert_project(&mut self, project: &Project, keys: &[StoredSigningKey]) -> StoreResult<()> {
        self.query(
            "INSERT INTO projects (id, name, access_token_ttl_secs, refresh_token_ttl_secs, app_url, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Id(project.id))
        .bind(project.name.as_str())
        .bind(project.settings.access_token_ttl_secs)
        .bind(project.settings.refresh_token_ttl_secs)
        .bind(project.settings.app_url.as_deref())
        .bind(Millis(project.created_at))
        .execute()
        .await?;
        for key in keys {
            crate::project_admin::insert_signing_key(self.on(), key).await?;
        }
        Ok(())
    }

    pub(crate) async fn insert_user(&mut self, user: &User) -> StoreResult<()> {
        self.query(
            "INSERT INTO users (id, project_id, foreign_id, role, email, name, username, avatar, bio,
                                birthdate, latitude, longitude, metadata, secure_metadata, reputation,
                                is_verified, is_active, password_hash, last_active, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        )
        .bind(Id(user.id))
        .bind(Id(user.project_id))
        .bind(user.foreign_id.as_deref())
        .bind(user.role.as_str())
        .bind(user.email.as_deref())
        .bind(user.profile.name.as_deref())
        .bind(user.username.as_deref())
        .bind(user.profile.avatar.as_deref())
        .bind(user.profile.bio.as_deref())
        .bind(user.profile.birthdate.as_deref())
        .bind(user.profile.location.map(|l| l.latitude))
        .bind(user.profile.location.map(|l| l.longitude))
        .bind(JsonText(&user.metadata))
        .bind(JsonText(&user.secure_metadata))
        .bind(user.reputation)
        .bind(user.is_verified)
        .bind(user.is_active)
        .bind(user.password_hash.as_deref())
        .bind(millis(user.last_active))
        .bind(Millis(user.created_at))
        .bind(Millis(user.updated_at))
        .execute()
        .await?;
        Ok(())
    }

    pub(crate) async fn insert_session(&mut self, s: &SessionRecord) -> StoreResult<()> {
        self.query(
            "INSERT INTO sessions (id, project_id, user_id, generation, current_digest, previous_digest,
                                   rotated_at, current_pair_sealed, expires_at, revoked_at, created_at, method)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(Id(s.id))
        .bind(Id(s.project_id))
        .bind(Id(s.user_id))
        .bind(s.generation)
        .bind(s.current_digest.as_str())
        .bind(s.previous_digest.as_deref())
        .bind(Millis(s.rotated_at))
        .bind(s.current_pair_sealed.as_slice())
        .bind(Millis(s.expires_at))
        .bind(millis(s.revoked_at))
        .bind(Millis(s.created_at))
        .bind(s.method.as_str())
        .execute()
        .await?;
        Ok(())
    }
}

/// An API key, on the writer or inside a transaction.
async fn insert_api_key(on: On<'_>, key: &ApiKeyRecord) -> StoreResult<()> {
    on.query(
        "INSERT INTO api_keys (id, project_id, name, prefix, scope, digest, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Id(key.id))
    .bind(Id(key.project_id))
    .bind(key.name.as_str())
    .bind(key.prefix.as_str())
    .bind(key.scope.as_str())
    .bind(key.digest.as_str())
    .bind(Millis(key.created_at))
    .execute()
    .await?;
    Ok(())
}

/// One readiness probe (single-flight and bounded by `health::Readiness`): a read, SQLite's
/// free space, then a committed write. Reads can work while writes fail (full disk, read-only
/// file, another process holding SQLite's write lock), so it writes; it waits for a writer
/// connection like any request, since a node whose writes queue past the probe's bound could
/// not serve a write in time either.
async fn probe(db: Db) -> StoreResult<()> {
    db.reader().query(PING).execute().await?;
    if let Db::Sqlite { path, .. } = &db {
        // The server's disk is PostgreSQL's to watch; its `disk_full` shows in the write.
        crate::sqlite::check_free_space(path)?;
    }
    // Random bytes: a constant payload could be deduplicated or compressed away by the
    // filesystem or the server, and the write would prove nothing about free space.
    let mut payload = vec![0u8; WRITE_PROBE_BYTES];
    getrandom::fill(&mut payload).map_err(|e| StoreError::Other(format!("no random bytes for the probe: {e}")))?;
    // One fixed row (the database does not grow), rewritten whole.
    db.writer()
        .query(
            "INSERT INTO write_probe (id, probed_at, payload) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at, payload = excluded.payload",
        )
        .bind(Millis(Utc::now()))
        .bind(payload)
        .execute()
        .await
        .map(|_| ())
}

#[async_trait]
impl CoreStore for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        let db = self.db.clone();
        self.readiness.check(move || probe(db)).await
    }

    fn connection_pools(&self) -> Vec<ConnectionPoolStats> {
        self.db.connection_pools()
    }

    async fn create_project(&self, project: &Project, keys: &[StoredSigningKey]) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.insert_project(project, keys).await?;
        tx.commit().await
    }

    async fn get_project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        let row: Option<ProjectRow> =
            self.read("SELECT * FROM projects WHERE id = $1").bind(Id(id)).fetch_optional().await?;
        Ok(row.map(Project::from))
    }

    async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        let rows: Vec<ProjectRow> = self.read("SELECT * FROM projects ORDER BY created_at, id").fetch_all().await?;
        Ok(rows.into_iter().map(Project::from).collect())
    }

    async fn update_project_settings(&self, id: ProjectId, settings: &ProjectSettings) -> StoreResult<()> {
        self.write(
            "UPDATE projects SET access_token_ttl_secs = $1, refresh_token_ttl_secs = $2, app_url = $3 WHERE id = $4",
        )
        .bind(settings.access_token_ttl_secs)
        .bind(settings.refresh_token_ttl_secs)
        .bind(settings.app_url.as_deref())
        .bind(Id(id))
        .execute()
        .await?;
        Ok(())
    }

    async fn signing_keys(&self, project: ProjectId) -> StoreResult<Vec<StoredSigningKey>> {
        let rows: Vec<SigningKeyRow> = self
            .read("SELECT * FROM signing_keys WHERE project_id = $1 ORDER BY created_at DESC, kid")
            .bind(Id(project))
            .fetch_all()
            .await?;
        Ok(rows.into_iter().map(StoredSigningKey::from).collect())
    }

    async fn insert_api_key(&self, key: &ApiKeyRecord, audit: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        insert_api_key(tx.on(), key).await?;
        tx.insert_audit_event(audit).await?;
        tx.commit().await
    }

    async fn list_api_keys(&self, project: ProjectId) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows: Vec<ApiKeyRow> = self
            .read("SELECT * FROM api_keys WHERE project_id = $1 ORDER BY created_at, id")
            .bind(Id(project))
            .fetch_all()
            .await?;
        rows.into_iter().map(ApiKeyRecord::try_from).collect()
    }

    async fn revoke_api_key(
        &self,
        project: ProjectId,
        id: ApiKeyId,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let revoked = tx
            .query("UPDATE api_keys SET revoked_at = $1 WHERE project_id = $2 AND id = $3 AND revoked_at IS NULL")
            .bind(Millis(now))
            .bind(Id(project))
            .bind(Id(id))
            .execute()
            .await?;
        if revoked != 1 {
            return Ok(false); // dropping `tx` rolls back
        }
        tx.insert_audit_event(audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn live_api_key(&self, digest: &str) -> StoreResult<Option<LiveApiKey>> {
        let row: Option<(Id<ProjectId>, Id<ApiKeyId>, String)> = self
            .read("SELECT project_id, id, scope FROM api_keys WHERE digest = $1 AND revoked_at IS NULL")
            .bind(digest)
            .fetch_optional()
            .await?;
        row.map(|(project, id, scope)| {
            Ok(LiveApiKey { project_id: project.0, id: id.0, scope: api_key_scope(&scope)? })
        })
        .transpose()
    }

    async fn create_user_with_session(&self, user: &User, session: &SessionRecord) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.insert_user(user).await?;
        tx.insert_session(session).await?;
        tx.commit().await
    }

    async fn find_user_by_email(&self, project: ProjectId, email: &str) -> StoreResult<Option<User>> {
        let row = self
            .read("SELECT * FROM users WHERE project_id = $1 AND email = $2")
            .bind(Id(project))
            .bind(email)
            .fetch_optional()
            .await?;
        user(row)
    }

    async fn get_user(&self, project: ProjectId, id: UserId) -> StoreResult<Option<User>> {
        let row = self
            .read("SELECT * FROM users WHERE project_id = $1 AND id = $2")
            .bind(Id(project))
            .bind(Id(id))
            .fetch_optional()
            .await?;
        user(row)
    }

    async fn username_taken(&self, project: ProjectId, username: &str) -> StoreResult<bool> {
        let found: Option<(i64,)> = self
            .read("SELECT CAST(1 AS BIGINT) FROM users WHERE project_id = $1 AND username = $2")
            .bind(Id(project))
            .bind(username)
            .fetch_optional()
            .await?;
        Ok(found.is_some())
    }

    async fn upgrade_password_hash(
        &self,
        project: ProjectId,
        user: UserId,
        old: &str,
        new: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let upgraded = self
            .write(
                "UPDATE users SET password_hash = $1, updated_at = $2
                  WHERE project_id = $3 AND id = $4 AND password_hash = $5",
            )
            .bind(new)
            .bind(Millis(now))
            .bind(Id(project))
            .bind(Id(user))
            .bind(old)
            .execute()
            .await?;
        Ok(upgraded == 1)
    }

    async fn create_password_session(
        &self,
        session: &SessionRecord,
        verified_hash: &str,
        last_active: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        // Touches `last_active` only while the user is active, not suspended, and still has the
        // hash the password was verified against. Being an UPDATE, it takes the user's row lock: on
        // PostgreSQL a reset in flight (which updates the same row) is waited for and then
        // re-checked, and a reset that comes later waits for this sign-in's commit, so its
        // "revoke every session" sees the new session. (An `INSERT ... SELECT WHERE EXISTS`
        // reads without locking: under READ COMMITTED it would let a session created during a
        // reset outlive it.)
        let touched = tx
            .query(
                "UPDATE users SET last_active = $1
                  WHERE project_id = $2 AND id = $3 AND password_hash = $4 AND is_active
                    AND (suspended_until IS NULL OR suspended_until <= $1)",
            )
            .bind(Millis(last_active))
            .bind(Id(session.project_id))
            .bind(Id(session.user_id))
            .bind(verified_hash)
            .execute()
            .await?;
        if touched != 1 {
            return Ok(false); // dropping `tx` rolls back
        }
        tx.insert_session(session).await?;
        tx.insert_audit_event(audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn get_session(&self, project: ProjectId, id: SessionId) -> StoreResult<Option<SessionRecord>> {
        let row: Option<SessionRow> = self
            .read("SELECT * FROM sessions WHERE project_id = $1 AND id = $2")
            .bind(Id(project))
            .bind(Id(id))
            .fetch_optional()
            .await?;
        Ok(row.map(SessionRecord::from))
    }

    async fn rotate_session(&self, r: &Rotation) -> StoreResult<bool> {
        // The refresh exchange: applies only from the expected generation of a live session.
        let rotated = self
            .write(
                "UPDATE sessions
                    SET generation = generation + 1, previous_digest = $1, current_digest = $2,
                        current_pair_sealed = $3, rotated_at = $4, expires_at = $5
                  WHERE project_id = $6 AND id = $7 AND generation = $8 AND revoked_at IS NULL",
            )
            .bind(r.previous_digest.as_str())
            .bind(r.new_digest.as_str())
            .bind(r.pair_sealed.as_slice())
            .bind(Millis(r.now))
            .bind(Millis(r.expires_at))
            .bind(Id(r.project_id))
            .bind(Id(r.session_id))
            .bind(r.from_generation)
            .execute()
            .await?;
        Ok(rotated == 1)
    }

    async fn revoke_session(&self, project: ProjectId, id: SessionId, now: DateTime<Utc>) -> StoreResult<()> {
        self.write("UPDATE sessions SET revoked_at = $1 WHERE project_id = $2 AND id = $3 AND revoked_at IS NULL")
            .bind(Millis(now))
            .bind(Id(project))
            .bind(Id(id))
            .execute()
            .await?;
        Ok(())
    }

    async fn record_sign_in_attempt(
        &self,
        project: ProjectId,
        email: &str,
        now: DateTime<Utc>,
        window_start_after: DateTime<Utc>,
    ) -> StoreResult<FailureWindow> {
        // One attempt: counts up inside the window, restarts it when it began at or before `$4`.
        let (failures, started): (i64, Millis) = self
            .write(
                "INSERT INTO sign_in_failures (project_id, email, failures, window_started_at)
                 VALUES ($1, $2, 1, $3)
                 ON CONFLICT (project_id, email) DO UPDATE SET
                     failures = CASE WHEN sign_in_failures.window_started_at <= $4 THEN 1
                                     ELSE sign_in_failures.failures + 1 END,
                     window_started_at = CASE WHEN sign_in_failures.window_started_at <= $4 THEN $3
                                              ELSE sign_in_failures.window_started_at END
                 RETURNING failures, window_started_at",
            )
            .bind(Id(project))
            .bind(email)
            .bind(Millis(now))
            .bind(Millis(window_start_after))
            .fetch_one()
            .await?;
        Ok(FailureWindow { failures: failures.clamp(0, i64::from(u32::MAX)) as u32, window_started_at: started.0 })
    }

    async fn clear_sign_in_failures(&self, project: ProjectId, email: &str) -> StoreResult<()> {
        self.write("DELETE FROM sign_in_failures WHERE project_id = $1 AND email = $2")
            .bind(Id(project))
            .bind(email)
            .execute()
            .await?;
        Ok(())
    }

    async fn release_sign_in_attempt(
        &self,
        project: ProjectId,
        email: &str,
        window_started_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        // Gives back one attempt whose password was never checked, in the window that counted
        // it only (a window restarted since has dropped it already).
        self.write(
            "UPDATE sign_in_failures SET failures = failures - 1
                  WHERE project_id = $1 AND email = $2 AND window_started_at = $3 AND failures > 0",
        )
        .bind(Id(project))
        .bind(email)
        .bind(Millis(window_started_at))
        .execute()
        .await?;
        Ok(())
    }

    async fn purge_sign_in_failures(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        // Maintenance across all projects: windows that can no longer block anyone.
        self.write("DELETE FROM sign_in_failures WHERE window_started_at < $1").bind(Millis(before)).execute().await
    }

    async fn create_first_project(
        &self,
        project: &Project,
        keys: &[StoredSigningKey],
        api_key: &ApiKeyRecord,
    ) -> StoreResult<bool> {
        // Racing first starts take turns, each dialect its way: SQLite's BEGIN IMMEDIATE takes
        // the database's write lock before the read (other processes wait on it too);
        // PostgreSQL takes a transaction-scoped advisory lock, and READ COMMITTED's next
        // statement then sees whatever the previous holder committed.
        let mut tx = match &self.db {
            Db::Sqlite { writer, .. } => {
                Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await.map_err(crate::map_err)?)
            }
            Db::Postgres(_) => {
                let mut tx = self.db.begin().await?;
                tx.query("SELECT pg_advisory_xact_lock(hashtextextended('latchkey:bootstrap', 0))").execute().await?;
                tx
            }
        };
        let any: Option<(i64,)> = tx.query("SELECT CAST(1 AS BIGINT) FROM projects LIMIT 1").fetch_optional().await?;
        if any.is_some() {
            // Nothing written: ending it releases the lock.
            tx.commit().await?;
            return Ok(false);
        }
        tx.insert_project(project, keys).await?;
        insert_api_key(tx.on(), api_key).await?;
        tx.commit().await?;
        Ok(true)
    }
}
