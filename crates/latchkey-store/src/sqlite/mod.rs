//! The SQLite backend: WAL mode, one writer connection (SQLite serialises writes anyway, and
//! a single writer turns lock contention into a queue), a small pool of readers.

mod mail;
mod rows;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_core::domain::{ApiKeyId, ApiKeyRecord, Project, ProjectId, ProjectSettings, SessionId, User, UserId};
use latchkey_core::store::{CoreStore, FailureWindow, Rotation, SessionRecord, StoreError, StoreResult};
use latchkey_core::tokens::StoredSigningKey;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::map_err;
use crate::time::{from_millis, to_millis};
use rows::{api_key_from_row, project_from_row, session_from_row, signing_key_from_row, user_from_row};

pub struct SqliteStore {
    pub(crate) writer: SqlitePool,
    pub(crate) reader: SqlitePool,
}

impl SqliteStore {
    pub async fn open(path: &Path) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(map_err)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode is durable against process crashes; only an OS crash or power
            // loss can lose the last transactions, and never corrupts the database.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(map_err)?;
        sqlx::migrate!("migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| StoreError::Other(format!("migration failed: {e}")))?;
        let readers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2) as u32;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers * 2)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(true))
            .await
            .map_err(map_err)?;
        Ok(Self { writer, reader })
    }
}

#[async_trait]
impl CoreStore for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await.map_err(map_err)?;
        Ok(())
    }

    async fn create_project(&self, project: &Project, key: &StoredSigningKey) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        sqlx::query(
            "INSERT INTO projects (id, name, access_token_ttl_secs, refresh_token_ttl_secs, created_at)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(project.id.to_string())
        .bind(&project.name)
        .bind(project.settings.access_token_ttl_secs)
        .bind(project.settings.refresh_token_ttl_secs)
        .bind(to_millis(project.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO signing_keys (project_id, kid, public_key, private_key_sealed, created_at)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(key.project_id.to_string())
        .bind(&key.kid)
        .bind(&key.public_key)
        .bind(&key.private_key_sealed)
        .bind(to_millis(key.created_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn get_project(&self, id: ProjectId) -> StoreResult<Option<Project>> {
        let row = sqlx::query("SELECT * FROM projects WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.as_ref().map(project_from_row).transpose()
    }

    async fn list_projects(&self) -> StoreResult<Vec<Project>> {
        let rows = sqlx::query("SELECT * FROM projects ORDER BY created_at, id")
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter().map(project_from_row).collect()
    }

    async fn update_project_settings(&self, id: ProjectId, settings: &ProjectSettings) -> StoreResult<()> {
        sqlx::query("UPDATE projects SET access_token_ttl_secs = ?, refresh_token_ttl_secs = ? WHERE id = ?")
            .bind(settings.access_token_ttl_secs)
            .bind(settings.refresh_token_ttl_secs)
            .bind(id.to_string())
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn signing_keys(&self, project: ProjectId) -> StoreResult<Vec<StoredSigningKey>> {
        let rows = sqlx::query(
            "SELECT * FROM signing_keys WHERE project_id = ? AND retired_at IS NULL ORDER BY created_at DESC",
        )
        .bind(project.to_string())
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        rows.iter().map(signing_key_from_row).collect()
    }

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, project_id, name, prefix, digest, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(key.id.to_string())
        .bind(key.project_id.to_string())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.digest)
        .bind(to_millis(key.created_at))
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn list_api_keys(&self, project: ProjectId) -> StoreResult<Vec<ApiKeyRecord>> {
        let rows = sqlx::query("SELECT * FROM api_keys WHERE project_id = ? ORDER BY created_at, id")
            .bind(project.to_string())
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter().map(api_key_from_row).collect()
    }

    async fn revoke_api_key(&self, project: ProjectId, id: ApiKeyId, now: DateTime<Utc>) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE project_id = ? AND id = ? AND revoked_at IS NULL")
                .bind(to_millis(now))
                .bind(project.to_string())
                .bind(id.to_string())
                .execute(&self.writer)
                .await
                .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn project_for_api_key(&self, digest: &str) -> StoreResult<Option<ProjectId>> {
        let id: Option<String> =
            sqlx::query_scalar("SELECT project_id FROM api_keys WHERE digest = ? AND revoked_at IS NULL")
                .bind(digest)
                .fetch_optional(&self.reader)
                .await
                .map_err(map_err)?;
        id.map(|s| ProjectId::from_str(&s).map_err(|e| StoreError::Other(e.to_string()))).transpose()
    }

    async fn create_user_with_session(&self, user: &User, session: &SessionRecord) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        rows::insert_user(&mut tx, user).await?;
        rows::insert_session(&mut tx, session).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn find_user_by_email(&self, project: ProjectId, email: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE project_id = ? AND email = ?")
            .bind(project.to_string())
            .bind(email)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn get_user(&self, project: ProjectId, id: UserId) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE project_id = ? AND id = ?")
            .bind(project.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn username_taken(&self, project: ProjectId, username: &str) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE project_id = ? AND username = ?")
            .bind(project.to_string())
            .bind(username)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(found.is_some())
    }

    async fn set_password_hash(
        &self,
        project: ProjectId,
        user: UserId,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE project_id = ? AND id = ?")
            .bind(hash)
            .bind(to_millis(now))
            .bind(project.to_string())
            .bind(user.to_string())
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn create_session(&self, session: &SessionRecord, last_active: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        rows::insert_session(&mut tx, session).await?;
        sqlx::query("UPDATE users SET last_active = ? WHERE project_id = ? AND id = ?")
            .bind(to_millis(last_active))
            .bind(session.project_id.to_string())
            .bind(session.user_id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn get_session(&self, project: ProjectId, id: SessionId) -> StoreResult<Option<SessionRecord>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE project_id = ? AND id = ?")
            .bind(project.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn rotate_session(&self, r: &Rotation) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE sessions
                SET generation = generation + 1, previous_digest = ?, current_digest = ?,
                    current_pair_sealed = ?, rotated_at = ?, expires_at = ?
              WHERE project_id = ? AND id = ? AND generation = ? AND revoked_at IS NULL",
        )
        .bind(&r.previous_digest)
        .bind(&r.new_digest)
        .bind(&r.pair_sealed)
        .bind(to_millis(r.now))
        .bind(to_millis(r.expires_at))
        .bind(r.project_id.to_string())
        .bind(r.session_id.to_string())
        .bind(r.from_generation)
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_session(&self, project: ProjectId, id: SessionId, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET revoked_at = ? WHERE project_id = ? AND id = ? AND revoked_at IS NULL")
            .bind(to_millis(now))
            .bind(project.to_string())
            .bind(id.to_string())
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn revoke_user_sessions(&self, project: ProjectId, user: UserId, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET revoked_at = ? WHERE project_id = ? AND user_id = ? AND revoked_at IS NULL")
            .bind(to_millis(now))
            .bind(project.to_string())
            .bind(user.to_string())
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn sign_in_failures(&self, project: ProjectId, email: &str) -> StoreResult<Option<FailureWindow>> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT failures, window_started_at FROM sign_in_failures WHERE project_id = ? AND email = ?",
        )
        .bind(project.to_string())
        .bind(email)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        row.map(|(failures, started)| {
            Ok(FailureWindow {
                failures: failures.clamp(0, u32::MAX as i64) as u32,
                window_started_at: from_millis(started)?,
            })
        })
        .transpose()
    }

    async fn record_sign_in_failure(
        &self,
        project: ProjectId,
        email: &str,
        now: DateTime<Utc>,
        window_start_after: DateTime<Utc>,
    ) -> StoreResult<FailureWindow> {
        let (failures, started): (i64, i64) = sqlx::query_as(
            "INSERT INTO sign_in_failures (project_id, email, failures, window_started_at) VALUES (?1, ?2, 1, ?3)
             ON CONFLICT (project_id, email) DO UPDATE SET
                 failures = CASE WHEN window_started_at <= ?4 THEN 1 ELSE failures + 1 END,
                 window_started_at = CASE WHEN window_started_at <= ?4 THEN ?3 ELSE window_started_at END
             RETURNING failures, window_started_at",
        )
        .bind(project.to_string())
        .bind(email)
        .bind(to_millis(now))
        .bind(to_millis(window_start_after))
        .fetch_one(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(FailureWindow {
            failures: failures.clamp(0, u32::MAX as i64) as u32,
            window_started_at: from_millis(started)?,
        })
    }

    async fn clear_sign_in_failures(&self, project: ProjectId, email: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE project_id = ? AND email = ?")
            .bind(project.to_string())
            .bind(email)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
