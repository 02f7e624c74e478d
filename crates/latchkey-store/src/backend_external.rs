//! The external-user store's logic, written once and instantiated for each sqlx backend
//! (the same approach as `backend.rs`; the SQL is in `sql_external.rs`).

/// `ExternalStore` for `$store` (with `writer`/`reader` pools of database `$db`, whose rows
/// are `$row`), reusing the user and session helpers of module `$rows` (from `row_mappers!`).
#[macro_export]
#[doc(hidden)]
macro_rules! impl_external_store {
    ($store:ty, $db:ty, $row:ty, $rows:path) => {
        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use latchkey_core::domain::{ProjectId, User};
            use latchkey_core::store::{
                ExternalKeyRecord, ExternalSecretRecord, ExternalSettings, ExternalSignIn, ExternalSignInOutcome,
                ExternalStore, StoreResult, UserChange,
            };
            use $crate::Tx;
            use $crate::map_err;
            use $crate::sql_external as sql;
            use $crate::time::{from_millis, opt_from_millis, to_millis};
            use $rows as rows;

            use rows::get;

            fn project_id(row: &$row) -> StoreResult<ProjectId> {
                rows::parse_id(row, "project_id")
            }

            fn secret_from_row(row: &$row) -> StoreResult<ExternalSecretRecord> {
                Ok(ExternalSecretRecord {
                    id: get(row, "id")?,
                    project_id: project_id(row)?,
                    secret_sealed: get(row, "secret_sealed")?,
                    created_at: from_millis(get(row, "created_at")?)?,
                    expires_at: opt_from_millis(get(row, "expires_at")?)?,
                    revoked_at: opt_from_millis(get(row, "revoked_at")?)?,
                })
            }

            fn key_from_row(row: &$row) -> StoreResult<ExternalKeyRecord> {
                Ok(ExternalKeyRecord {
                    project_id: project_id(row)?,
                    kid: get(row, "kid")?,
                    alg: get(row, "alg")?,
                    jwk: get(row, "jwk")?,
                    created_at: from_millis(get(row, "created_at")?)?,
                })
            }

            /// Writes every mutable column of `user`, if the row still has `foreign_id` as
            /// expected (`None`: must still have none). Returns whether the row was updated.
            async fn update_user(
                tx: &mut Tx<$db>,
                user: &User,
                expected_foreign_id: Option<&str>,
            ) -> StoreResult<bool> {
                let metadata = $crate::backend::json_text(&user.metadata)?;
                let secure = $crate::backend::json_text(&user.secure_metadata)?;
                let done = sqlx::query(sql::UPDATE_EXTERNAL_USER)
                    .bind(&user.foreign_id)
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
                    .bind(user.last_active.map(to_millis))
                    .bind(to_millis(user.updated_at))
                    .bind(user.project_id.to_string())
                    .bind(user.id.to_string())
                    .bind(expected_foreign_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() == 1)
            }

            #[async_trait]
            impl ExternalStore for $store {
                async fn external_settings(&self, project: ProjectId) -> StoreResult<Option<ExternalSettings>> {
                    let row: Option<(i64, Option<String>)> = sqlx::query_as(sql::EXTERNAL_SETTINGS)
                        .bind(project.to_string())
                        .fetch_optional(&self.reader)
                        .await
                        .map_err(map_err)?;
                    Ok(row.map(|(max_token_lifetime_secs, jwks_url)| ExternalSettings {
                        max_token_lifetime_secs,
                        jwks_url,
                    }))
                }

                async fn put_external_settings(
                    &self,
                    project: ProjectId,
                    settings: &ExternalSettings,
                    now: DateTime<Utc>,
                ) -> StoreResult<()> {
                    sqlx::query(sql::PUT_EXTERNAL_SETTINGS)
                        .bind(project.to_string())
                        .bind(settings.max_token_lifetime_secs)
                        .bind(&settings.jwks_url)
                        .bind(to_millis(now))
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(())
                }

                async fn external_secrets(&self, project: ProjectId) -> StoreResult<Vec<ExternalSecretRecord>> {
                    let found = sqlx::query(sql::EXTERNAL_SECRETS)
                        .bind(project.to_string())
                        .fetch_all(&self.reader)
                        .await
                        .map_err(map_err)?;
                    found.iter().map(secret_from_row).collect()
                }

                async fn insert_external_secret(
                    &self,
                    secret: &ExternalSecretRecord,
                    expire_live_at: Option<DateTime<Utc>>,
                ) -> StoreResult<()> {
                    let mut tx = self.writer.begin().await.map_err(map_err)?;
                    if let Some(until) = expire_live_at {
                        sqlx::query(sql::EXPIRE_LIVE_EXTERNAL_SECRETS)
                            .bind(to_millis(until))
                            .bind(secret.project_id.to_string())
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err)?;
                    }
                    sqlx::query(sql::INSERT_EXTERNAL_SECRET)
                        .bind(secret.project_id.to_string())
                        .bind(&secret.id)
                        .bind(&secret.secret_sealed)
                        .bind(to_millis(secret.created_at))
                        .bind(secret.expires_at.map(to_millis))
                        .bind(secret.revoked_at.map(to_millis))
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    tx.commit().await.map_err(map_err)
                }

                async fn revoke_external_secret(
                    &self,
                    project: ProjectId,
                    id: &str,
                    now: DateTime<Utc>,
                ) -> StoreResult<bool> {
                    let done = sqlx::query(sql::REVOKE_EXTERNAL_SECRET)
                        .bind(to_millis(now))
                        .bind(project.to_string())
                        .bind(id)
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn external_keys(&self, project: ProjectId) -> StoreResult<Vec<ExternalKeyRecord>> {
                    let found = sqlx::query(sql::EXTERNAL_KEYS)
                        .bind(project.to_string())
                        .fetch_all(&self.reader)
                        .await
                        .map_err(map_err)?;
                    found.iter().map(key_from_row).collect()
                }

                async fn insert_external_key(&self, key: &ExternalKeyRecord) -> StoreResult<()> {
                    sqlx::query(sql::INSERT_EXTERNAL_KEY)
                        .bind(key.project_id.to_string())
                        .bind(&key.kid)
                        .bind(&key.alg)
                        .bind(&key.jwk)
                        .bind(to_millis(key.created_at))
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(())
                }

                async fn remove_external_key(&self, project: ProjectId, kid: &str) -> StoreResult<bool> {
                    let done = sqlx::query(sql::REMOVE_EXTERNAL_KEY)
                        .bind(project.to_string())
                        .bind(kid)
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn find_user_by_foreign_id(
                    &self,
                    project: ProjectId,
                    foreign_id: &str,
                ) -> StoreResult<Option<User>> {
                    let row = sqlx::query(sql::USER_BY_FOREIGN_ID)
                        .bind(project.to_string())
                        .bind(foreign_id)
                        .fetch_optional(&self.reader)
                        .await
                        .map_err(map_err)?;
                    row.as_ref().map(rows::user_from_row).transpose()
                }

                async fn apply_external_sign_in(&self, sign_in: &ExternalSignIn) -> StoreResult<ExternalSignInOutcome> {
                    if sign_in.jti.is_some() {
                        // Housekeeping, outside the sign-in's transaction: on PostgreSQL,
                        // concurrent sign-ins would otherwise queue on the locks of the same
                        // expired rows until each other's commit.
                        sqlx::query(sql::PURGE_EXTERNAL_JTIS)
                            .bind(to_millis(sign_in.now))
                            .execute(&self.writer)
                            .await
                            .map_err(map_err)?;
                    }
                    let mut tx = self.writer.begin().await.map_err(map_err)?;
                    if let Some((digest, expires_at)) = &sign_in.jti {
                        let inserted = sqlx::query(sql::CONSUME_EXTERNAL_JTI)
                            .bind(sign_in.change.user().project_id.to_string())
                            .bind(digest)
                            .bind(to_millis(*expires_at))
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err)?;
                        if inserted.rows_affected() == 0 {
                            return Ok(ExternalSignInOutcome::Replayed); // dropping `tx` rolls back
                        }
                    }
                    let applied = match &sign_in.change {
                        UserChange::Create(user) => {
                            rows::insert_user(&mut tx, user).await?;
                            true
                        }
                        UserChange::Update(user) => update_user(&mut tx, user, user.foreign_id.as_deref()).await?,
                        UserChange::Link(user) => update_user(&mut tx, user, None).await?,
                    };
                    if !applied {
                        return Ok(ExternalSignInOutcome::Stale);
                    }
                    if let UserChange::Link(user) = &sign_in.change {
                        // Both decided on the row as it is now, inside this transaction.
                        sqlx::query(sql::REVOKE_UNVERIFIED_SESSIONS)
                            .bind(to_millis(sign_in.now))
                            .bind(user.project_id.to_string())
                            .bind(user.id.to_string())
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err)?;
                        sqlx::query(sql::DROP_UNVERIFIED_PASSWORD)
                            .bind(user.project_id.to_string())
                            .bind(user.id.to_string())
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err)?;
                    }
                    rows::insert_session(&mut tx, &sign_in.session).await?;
                    tx.commit().await.map_err(map_err)?;
                    Ok(ExternalSignInOutcome::Applied)
                }
            }
        };
    };
}
