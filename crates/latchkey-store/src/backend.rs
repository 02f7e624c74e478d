//! The core store's logic, written once and instantiated for each sqlx backend.
//!
//! sqlx's generic-over-database API needs a wall of trait bounds for every query; these two
//! macros keep one readable body instead. `row_mappers!` generates the row <-> record
//! functions for a backend's row type; `impl_core_store!` generates `CoreStore` for a store
//! type that has `writer` and `reader` pools of that backend. The SQL itself is in `sql.rs`.

use latchkey_core::store::{StoreError, StoreResult};

/// A user's JSON object column as stored (TEXT on both backends).
pub(crate) fn json_text(object: &serde_json::Map<String, serde_json::Value>) -> StoreResult<String> {
    serde_json::to_string(object).map_err(|e| StoreError::Other(e.to_string()))
}

/// Row mapping and multi-statement insert helpers for one backend.
/// `row_mappers!(Sqlite, SqliteRow)` expands to `project_from_row`, `user_from_row`, ...
#[macro_export]
#[doc(hidden)]
macro_rules! row_mappers {
    ($db:ty, $row:ty) => {
        use std::str::FromStr;

        use latchkey_core::domain::{ApiKeyRecord, Location, Profile, Project, ProjectSettings, Role, User};
        use latchkey_core::store::{SessionRecord, StoreError, StoreResult};
        use latchkey_core::tokens::StoredSigningKey;
        use sqlx::Row;
        use $crate::Tx;

        use $crate::map_err;
        use $crate::time::{from_millis, opt_from_millis, to_millis};

        /// One column of `row` (shared with the other areas' stores of this backend).
        pub fn get<'r, T>(row: &'r $row, column: &str) -> StoreResult<T>
        where
            T: sqlx::Decode<'r, $db> + sqlx::Type<$db>,
        {
            row.try_get(column).map_err(map_err)
        }

        /// A stored id (or other `FromStr` value) kept as text.
        pub fn parse_text<T: FromStr>(text: &str) -> StoreResult<T>
        where
            T::Err: std::fmt::Display,
        {
            T::from_str(text).map_err(|e| StoreError::Other(format!("bad stored value {text:?}: {e}")))
        }

        pub fn parse_id<T: FromStr>(row: &$row, column: &str) -> StoreResult<T>
        where
            T::Err: std::fmt::Display,
        {
            let text: String = get(row, column)?;
            parse_text(&text)
        }

        fn json_object(row: &$row, column: &str) -> StoreResult<serde_json::Map<String, serde_json::Value>> {
            let text: String = get(row, column)?;
            serde_json::from_str(&text).map_err(|e| StoreError::Other(format!("bad {column} JSON: {e}")))
        }

        pub fn project_from_row(row: &$row) -> StoreResult<Project> {
            Ok(Project {
                id: parse_id(row, "id")?,
                name: get(row, "name")?,
                settings: ProjectSettings {
                    access_token_ttl_secs: get(row, "access_token_ttl_secs")?,
                    refresh_token_ttl_secs: get(row, "refresh_token_ttl_secs")?,
                },
                created_at: from_millis(get(row, "created_at")?)?,
            })
        }

        pub fn signing_key_from_row(row: &$row) -> StoreResult<StoredSigningKey> {
            Ok(StoredSigningKey {
                kid: get(row, "kid")?,
                project_id: parse_id(row, "project_id")?,
                public_key: get(row, "public_key")?,
                private_key_sealed: get(row, "private_key_sealed")?,
                created_at: from_millis(get(row, "created_at")?)?,
            })
        }

        pub fn api_key_from_row(row: &$row) -> StoreResult<ApiKeyRecord> {
            Ok(ApiKeyRecord {
                id: parse_id(row, "id")?,
                project_id: parse_id(row, "project_id")?,
                name: get(row, "name")?,
                prefix: get(row, "prefix")?,
                digest: get(row, "digest")?,
                created_at: from_millis(get(row, "created_at")?)?,
                revoked_at: opt_from_millis(get(row, "revoked_at")?)?,
            })
        }

        pub fn user_from_row(row: &$row) -> StoreResult<User> {
            let role: String = get(row, "role")?;
            let latitude: Option<f64> = get(row, "latitude")?;
            let longitude: Option<f64> = get(row, "longitude")?;
            Ok(User {
                id: parse_id(row, "id")?,
                project_id: parse_id(row, "project_id")?,
                foreign_id: get(row, "foreign_id")?,
                role: Role::parse(&role).ok_or_else(|| StoreError::Other(format!("bad role {role:?}")))?,
                email: get(row, "email")?,
                username: get(row, "username")?,
                profile: Profile {
                    name: get(row, "name")?,
                    avatar: get(row, "avatar")?,
                    bio: get(row, "bio")?,
                    birthdate: get(row, "birthdate")?,
                    location: latitude.zip(longitude).map(|(latitude, longitude)| Location { latitude, longitude }),
                },
                metadata: json_object(row, "metadata")?,
                secure_metadata: json_object(row, "secure_metadata")?,
                reputation: get(row, "reputation")?,
                is_verified: get(row, "is_verified")?,
                is_active: get(row, "is_active")?,
                password_hash: get(row, "password_hash")?,
                last_active: opt_from_millis(get(row, "last_active")?)?,
                created_at: from_millis(get(row, "created_at")?)?,
                updated_at: from_millis(get(row, "updated_at")?)?,
            })
        }

        pub fn session_from_row(row: &$row) -> StoreResult<SessionRecord> {
            Ok(SessionRecord {
                id: parse_id(row, "id")?,
                project_id: parse_id(row, "project_id")?,
                user_id: parse_id(row, "user_id")?,
                generation: get(row, "generation")?,
                current_digest: get(row, "current_digest")?,
                previous_digest: get(row, "previous_digest")?,
                rotated_at: from_millis(get(row, "rotated_at")?)?,
                current_pair_sealed: get(row, "current_pair_sealed")?,
                expires_at: from_millis(get(row, "expires_at")?)?,
                revoked_at: opt_from_millis(get(row, "revoked_at")?)?,
                created_at: from_millis(get(row, "created_at")?)?,
            })
        }

        pub async fn insert_user(tx: &mut Tx<$db>, user: &User) -> StoreResult<()> {
            let metadata = $crate::backend::json_text(&user.metadata)?;
            let secure = $crate::backend::json_text(&user.secure_metadata)?;
            sqlx::query($crate::sql::INSERT_USER)
                .bind(user.id.to_string())
                .bind(user.project_id.to_string())
                .bind(&user.foreign_id)
                .bind(user.role.as_str())
                .bind(&user.email)
                .bind(&user.profile.name)
                .bind(&user.username)
                .bind(&user.profile.avatar)
                .bind(&user.profile.bio)
                .bind(&user.profile.birthdate)
                .bind(user.profile.location.map(|l| l.latitude))
                .bind(user.profile.location.map(|l| l.longitude))
                .bind(metadata)
                .bind(secure)
                .bind(user.reputation)
                .bind(user.is_verified)
                .bind(user.is_active)
                .bind(&user.password_hash)
                .bind(user.last_active.map(to_millis))
                .bind(to_millis(user.created_at))
                .bind(to_millis(user.updated_at))
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            Ok(())
        }

        pub async fn insert_session(tx: &mut Tx<$db>, s: &SessionRecord) -> StoreResult<()> {
            sqlx::query($crate::sql::INSERT_SESSION)
                .bind(s.id.to_string())
                .bind(s.project_id.to_string())
                .bind(s.user_id.to_string())
                .bind(s.generation)
                .bind(&s.current_digest)
                .bind(&s.previous_digest)
                .bind(to_millis(s.rotated_at))
                .bind(&s.current_pair_sealed)
                .bind(to_millis(s.expires_at))
                .bind(s.revoked_at.map(to_millis))
                .bind(to_millis(s.created_at))
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            Ok(())
        }
    };
}

/// `CoreStore` for `$store` (with `writer`/`reader` pools of `$db`), using the mappers of
/// module `$rows` (generated by `row_mappers!`).
#[macro_export]
#[doc(hidden)]
macro_rules! impl_core_store {
    ($store:ty, $rows:path) => {
        const _: () = {
            use std::str::FromStr;

            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use latchkey_core::domain::{
                ApiKeyId, ApiKeyRecord, Project, ProjectId, ProjectSettings, SessionId, User, UserId,
            };
            use latchkey_core::store::{CoreStore, FailureWindow, Rotation, SessionRecord, StoreError, StoreResult};
            use latchkey_core::tokens::StoredSigningKey;
            use $crate::map_err;
            use $crate::sql;
            use $crate::time::{from_millis, to_millis};
            use $rows as rows;

            fn failure_window((failures, started): (i64, i64)) -> StoreResult<FailureWindow> {
                Ok(FailureWindow {
                    failures: failures.clamp(0, i64::from(u32::MAX)) as u32,
                    window_started_at: from_millis(started)?,
                })
            }

            #[async_trait]
            impl CoreStore for $store {
                async fn ping(&self) -> StoreResult<()> {
                    sqlx::query(sql::PING).execute(&self.reader).await.map_err(map_err)?;
                    if let Err(err) = self.check_free_space() {
                        self.write_health.record(&Err(err));
                        return self.write_health.last();
                    }
                    // Reads can work while writes fail (full disk, read-only file), so readiness
                    // also commits a one-row write. Only when a writer connection is idle: a busy
                    // writer is serving requests, and queueing the probe behind them would turn
                    // load into "not ready"; the last probe's outcome stands meanwhile.
                    // A pool below its size limit (e.g. after discarding a failed connection)
                    // opens a fresh connection at once, so it is acquired normally.
                    let has_room = self.writer.size() < self.writer.options().get_max_connections();
                    let mut conn = match self.writer.try_acquire() {
                        Some(conn) => conn,
                        None if has_room => match self.writer.acquire().await {
                            Ok(conn) => conn,
                            Err(err) => {
                                let failed = Err(map_err(err));
                                self.write_health.record(&failed);
                                return failed;
                            }
                        },
                        None => return self.write_health.last(),
                    };
                    let probed = sqlx::query(sql::WRITE_PROBE)
                        .bind(to_millis(Utc::now()))
                        .bind(vec![0u8; sql::WRITE_PROBE_BYTES])
                        .execute(&mut *conn)
                        .await
                        .map(|_| ())
                        .map_err(map_err);
                    self.write_health.record(&probed);
                    probed
                }

                async fn create_project(&self, project: &Project, key: &StoredSigningKey) -> StoreResult<()> {
                    let mut tx = self.writer.begin().await.map_err(map_err)?;
                    sqlx::query(sql::INSERT_PROJECT)
                        .bind(project.id.to_string())
                        .bind(&project.name)
                        .bind(project.settings.access_token_ttl_secs)
                        .bind(project.settings.refresh_token_ttl_secs)
                        .bind(to_millis(project.created_at))
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    sqlx::query(sql::INSERT_SIGNING_KEY)
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
                    let row = sqlx::query(sql::GET_PROJECT)
                        .bind(id.to_string())
                        .fetch_optional(&self.reader)
                        .await
                        .map_err(map_err)?;
                    row.as_ref().map(rows::project_from_row).transpose()
                }

                async fn list_projects(&self) -> StoreResult<Vec<Project>> {
                    let found = sqlx::query(sql::LIST_PROJECTS).fetch_all(&self.reader).await.map_err(map_err)?;
                    found.iter().map(rows::project_from_row).collect()
                }

                async fn update_project_settings(&self, id: ProjectId, settings: &ProjectSettings) -> StoreResult<()> {
                    sqlx::query(sql::UPDATE_PROJECT_SETTINGS)
                        .bind(settings.access_token_ttl_secs)
                        .bind(settings.refresh_token_ttl_secs)
                        .bind(id.to_string())
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(())
                }

                async fn signing_keys(&self, project: ProjectId) -> StoreResult<Vec<StoredSigningKey>> {
                    let found = sqlx::query(sql::LIVE_SIGNING_KEYS)
                        .bind(project.to_string())
                        .fetch_all(&self.reader)
                        .await
                        .map_err(map_err)?;
                    found.iter().map(rows::signing_key_from_row).collect()
                }

                async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<()> {
                    sqlx::query(sql::INSERT_API_KEY)
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
                    let found = sqlx::query(sql::LIST_API_KEYS)
                        .bind(project.to_string())
                        .fetch_all(&self.reader)
                        .await
                        .map_err(map_err)?;
                    found.iter().map(rows::api_key_from_row).collect()
                }

                async fn revoke_api_key(
                    &self,
                    project: ProjectId,
                    id: ApiKeyId,
                    now: DateTime<Utc>,
                ) -> StoreResult<bool> {
                    let done = sqlx::query(sql::REVOKE_API_KEY)
                        .bind(to_millis(now))
                        .bind(project.to_string())
                        .bind(id.to_string())
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn project_for_api_key(&self, digest: &str) -> StoreResult<Option<ProjectId>> {
                    let id: Option<String> = sqlx::query_scalar(sql::PROJECT_FOR_API_KEY)
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
                    let row = sqlx::query(sql::USER_BY_EMAIL)
                        .bind(project.to_string())
                        .bind(email)
                        .fetch_optional(&self.reader)
                        .await
                        .map_err(map_err)?;
                    row.as_ref().map(rows::user_from_row).transpose()
                }

                async fn get_user(&self, project: ProjectId, id: UserId) -> StoreResult<Option<User>> {
                    let row = sqlx::query(sql::USER_BY_ID)
                        .bind(project.to_string())
                        .bind(id.to_string())
                        .fetch_optional(&self.reader)
                        .await
                        .map_err(map_err)?;
                    row.as_ref().map(rows::user_from_row).transpose()
                }

                async fn username_taken(&self, project: ProjectId, username: &str) -> StoreResult<bool> {
                    let found: Option<i64> = sqlx::query_scalar(sql::USERNAME_TAKEN)
                        .bind(project.to_string())
                        .bind(username)
                        .fetch_optional(&self.reader)
                        .await
                        .map_err(map_err)?;
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
                    let done = sqlx::query(sql::UPGRADE_PASSWORD_HASH)
                        .bind(new)
                        .bind(to_millis(now))
                        .bind(project.to_string())
                        .bind(user.to_string())
                        .bind(old)
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn create_password_session(
                    &self,
                    session: &SessionRecord,
                    verified_hash: &str,
                    last_active: DateTime<Utc>,
                ) -> StoreResult<bool> {
                    let mut tx = self.writer.begin().await.map_err(map_err)?;
                    let touched = sqlx::query(sql::TOUCH_VERIFIED_USER)
                        .bind(to_millis(last_active))
                        .bind(session.project_id.to_string())
                        .bind(session.user_id.to_string())
                        .bind(verified_hash)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    if touched.rows_affected() != 1 {
                        return Ok(false); // dropping `tx` rolls back
                    }
                    rows::insert_session(&mut tx, session).await?;
                    tx.commit().await.map_err(map_err)?;
                    Ok(true)
                }

                async fn get_session(&self, project: ProjectId, id: SessionId) -> StoreResult<Option<SessionRecord>> {
                    let row = sqlx::query(sql::GET_SESSION)
                        .bind(project.to_string())
                        .bind(id.to_string())
                        .fetch_optional(&self.reader)
                        .await
                        .map_err(map_err)?;
                    row.as_ref().map(rows::session_from_row).transpose()
                }

                async fn rotate_session(&self, r: &Rotation) -> StoreResult<bool> {
                    let done = sqlx::query(sql::ROTATE_SESSION)
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

                async fn revoke_session(
                    &self,
                    project: ProjectId,
                    id: SessionId,
                    now: DateTime<Utc>,
                ) -> StoreResult<()> {
                    sqlx::query(sql::REVOKE_SESSION)
                        .bind(to_millis(now))
                        .bind(project.to_string())
                        .bind(id.to_string())
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(())
                }

                async fn record_sign_in_attempt(
                    &self,
                    project: ProjectId,
                    email: &str,
                    now: DateTime<Utc>,
                    window_start_after: DateTime<Utc>,
                ) -> StoreResult<FailureWindow> {
                    let row: (i64, i64) = sqlx::query_as(sql::RECORD_SIGN_IN_ATTEMPT)
                        .bind(project.to_string())
                        .bind(email)
                        .bind(to_millis(now))
                        .bind(to_millis(window_start_after))
                        .fetch_one(&self.writer)
                        .await
                        .map_err(map_err)?;
                    failure_window(row)
                }

                async fn clear_sign_in_failures(&self, project: ProjectId, email: &str) -> StoreResult<()> {
                    sqlx::query(sql::CLEAR_SIGN_IN_FAILURES)
                        .bind(project.to_string())
                        .bind(email)
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(())
                }

                async fn release_sign_in_attempt(
                    &self,
                    project: ProjectId,
                    email: &str,
                    window_started_at: DateTime<Utc>,
                ) -> StoreResult<()> {
                    sqlx::query(sql::RELEASE_SIGN_IN_ATTEMPT)
                        .bind(project.to_string())
                        .bind(email)
                        .bind(to_millis(window_started_at))
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(())
                }

                async fn purge_sign_in_failures(&self, before: DateTime<Utc>) -> StoreResult<u64> {
                    let done = sqlx::query(sql::PURGE_SIGN_IN_FAILURES)
                        .bind(to_millis(before))
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(done.rows_affected())
                }

                async fn create_first_project(
                    &self,
                    project: &Project,
                    key: &StoredSigningKey,
                    api_key: &ApiKeyRecord,
                ) -> StoreResult<bool> {
                    // Serialised per backend: SQLite's BEGIN IMMEDIATE takes the database's write
                    // lock before the read (other processes wait on it too); PostgreSQL takes a
                    // transaction-scoped advisory lock, and READ COMMITTED's next statement then
                    // sees whatever the previous holder committed.
                    let mut tx = self.begin_bootstrap().await.map_err(map_err)?;
                    let any: Option<(i64,)> =
                        sqlx::query_as(sql::ANY_PROJECT).fetch_optional(&mut *tx).await.map_err(map_err)?;
                    if any.is_some() {
                        // Nothing written: ending it releases the lock.
                        tx.commit().await.map_err(map_err)?;
                        return Ok(false);
                    }
                    sqlx::query(sql::INSERT_PROJECT)
                        .bind(project.id.to_string())
                        .bind(&project.name)
                        .bind(project.settings.access_token_ttl_secs)
                        .bind(project.settings.refresh_token_ttl_secs)
                        .bind(to_millis(project.created_at))
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    sqlx::query(sql::INSERT_SIGNING_KEY)
                        .bind(key.project_id.to_string())
                        .bind(&key.kid)
                        .bind(&key.public_key)
                        .bind(&key.private_key_sealed)
                        .bind(to_millis(key.created_at))
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    sqlx::query(sql::INSERT_API_KEY)
                        .bind(api_key.id.to_string())
                        .bind(api_key.project_id.to_string())
                        .bind(&api_key.name)
                        .bind(&api_key.prefix)
                        .bind(&api_key.digest)
                        .bind(to_millis(api_key.created_at))
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    tx.commit().await.map_err(map_err)?;
                    Ok(true)
                }
            }
        };
    };
}
