//! The email store's logic, written once and instantiated for each sqlx backend (the same
//! approach as `backend.rs`; the SQL is in `sql_mail.rs`). Every outbox transition after the
//! claim is conditioned on the claim token, so a worker whose lease lapsed can never overwrite
//! the row's new owner.

/// `MailStore` for `$store` (with `writer`/`reader` pools of database `$db`, whose rows are
/// `$row`, read with the helpers of module `$rows` from `row_mappers!`). The two dialect-specific statements are passed in: `claim` (how a worker takes
/// the oldest due outbox row) and `rate_lock` (a statement taking the rate key as `$1` that
/// serialises reset requests for that key until the transaction ends, or `None` when the
/// backend's single writer already does).
#[macro_export]
#[doc(hidden)]
macro_rules! impl_mail_store {
    ($store:ty, $db:ty, $row:ty, $rows:path, claim = $claim:expr, rate_lock = $rate_lock:expr $(,)?) => {
        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};
            use latchkey_core::domain::{LinkPurpose, MailSettings, OutboxId, ProjectId, SmtpOverride, UserId};
            use latchkey_core::store::{
                Claim, LinkToken, MailStore, NewOutbox, OutboxRow, OutboxState, StoreError, StoreResult,
            };
            use $crate::Tx;
            use $crate::map_err;
            use $crate::sql_mail as sql;
            use $crate::time::{from_millis, opt_from_millis, to_millis};

            const CLAIM_OUTBOX: &str = $claim;
            const RATE_LOCK: Option<&str> = $rate_lock;

            use $rows::{get, parse_text as parse};

            fn purpose(text: &str) -> StoreResult<LinkPurpose> {
                LinkPurpose::parse(text).ok_or_else(|| StoreError::Other(format!("bad purpose {text:?}")))
            }

            fn token_from_row(row: &$row) -> StoreResult<LinkToken> {
                Ok(LinkToken {
                    digest: get(row, "digest")?,
                    project_id: parse(&get::<String>(row, "project_id")?)?,
                    user_id: parse(&get::<String>(row, "user_id")?)?,
                    email: get(row, "email")?,
                    purpose: purpose(&get::<String>(row, "purpose")?)?,
                    created_at: from_millis(get(row, "created_at")?)?,
                    expires_at: from_millis(get(row, "expires_at")?)?,
                    used_at: opt_from_millis(get(row, "used_at")?)?,
                    superseded: get(row, "superseded")?,
                })
            }

            fn outbox_from_row(row: &$row) -> StoreResult<OutboxRow> {
                let state: String = get(row, "state")?;
                Ok(OutboxRow {
                    id: parse(&get::<String>(row, "id")?)?,
                    project_id: parse(&get::<String>(row, "project_id")?)?,
                    purpose: purpose(&get::<String>(row, "purpose")?)?,
                    state: OutboxState::parse(&state)
                        .ok_or_else(|| StoreError::Other(format!("bad outbox state {state:?}")))?,
                    payload_sealed: get(row, "payload_sealed")?,
                    attempts: get(row, "attempts")?,
                    next_attempt_at: opt_from_millis(get(row, "next_attempt_at")?)?,
                    lease_until: opt_from_millis(get(row, "lease_until")?)?,
                    claim: get(row, "claim")?,
                    last_error: get(row, "last_error")?,
                    created_at: from_millis(get(row, "created_at")?)?,
                    updated_at: from_millis(get(row, "updated_at")?)?,
                    sent_at: opt_from_millis(get(row, "sent_at")?)?,
                })
            }

            async fn insert_token(tx: &mut Tx<$db>, t: &LinkToken) -> StoreResult<()> {
                sqlx::query(sql::INSERT_LINK_TOKEN)
                    .bind(&t.digest)
                    .bind(t.project_id.to_string())
                    .bind(t.user_id.to_string())
                    .bind(t.purpose.as_str())
                    .bind(to_millis(t.created_at))
                    .bind(to_millis(t.expires_at))
                    .bind(t.used_at.map(to_millis))
                    .bind(t.superseded)
                    .bind(&t.email)
                    .execute(&mut **tx)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn supersede_tokens(
                tx: &mut Tx<$db>,
                project: ProjectId,
                user: &str,
                purpose: LinkPurpose,
            ) -> StoreResult<()> {
                sqlx::query(sql::SUPERSEDE_LINK_TOKENS)
                    .bind(project.to_string())
                    .bind(user)
                    .bind(purpose.as_str())
                    .execute(&mut **tx)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            /// Consumes a live token of `purpose`; the user it belongs to, if it was live.
            async fn consume_token(
                tx: &mut Tx<$db>,
                project: ProjectId,
                digest: &str,
                purpose: LinkPurpose,
                now: DateTime<Utc>,
            ) -> StoreResult<Option<String>> {
                sqlx::query_scalar(sql::CONSUME_LINK_TOKEN)
                    .bind(to_millis(now))
                    .bind(project.to_string())
                    .bind(digest)
                    .bind(purpose.as_str())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(map_err)
            }

            #[async_trait]
            impl MailStore for $store {
                async fn mail_settings(&self, project: ProjectId) -> StoreResult<MailSettings> {
                    let row = sqlx::query(sql::MAIL_SETTINGS)
                        .bind(project.to_string())
                        .fetch_optional(&self.reader)
                        .await
                        .map_err(map_err)?;
                    let Some(row) = row else { return Ok(MailSettings::default()) };
                    let smtp_url: Option<String> = get(&row, "smtp_url")?;
                    let sealed: Option<Vec<u8>> = get(&row, "smtp_password_sealed")?;
                    Ok(MailSettings {
                        reset_page_url: get(&row, "reset_page_url")?,
                        verify_page_url: get(&row, "verify_page_url")?,
                        mail_from: get(&row, "mail_from")?,
                        smtp: smtp_url.map(|url| SmtpOverride {
                            url,
                            has_password: sealed.is_some(),
                            password_sealed: sealed,
                        }),
                        reset_ttl_secs: get(&row, "reset_ttl_secs")?,
                        verify_ttl_secs: get(&row, "verify_ttl_secs")?,
                        verify_on_sign_up: get(&row, "verify_on_sign_up")?,
                    })
                }

                async fn put_mail_settings(
                    &self,
                    project: ProjectId,
                    s: &MailSettings,
                    now: DateTime<Utc>,
                ) -> StoreResult<()> {
                    sqlx::query(sql::PUT_MAIL_SETTINGS)
                        .bind(project.to_string())
                        .bind(&s.reset_page_url)
                        .bind(&s.verify_page_url)
                        .bind(&s.mail_from)
                        .bind(s.smtp.as_ref().map(|o| o.url.clone()))
                        .bind(s.smtp.as_ref().and_then(|o| o.password_sealed.clone()))
                        .bind(s.reset_ttl_secs)
                        .bind(s.verify_ttl_secs)
                        .bind(s.verify_on_sign_up)
                        .bind(to_millis(now))
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(())
                }

                async fn enqueue_reset_request(
                    &self,
                    row: &NewOutbox,
                    since: DateTime<Utc>,
                    max: u32,
                ) -> StoreResult<bool> {
                    let mut tx = self.writer.begin().await.map_err(map_err)?;
                    if let (Some(lock), Some(key)) = (RATE_LOCK, &row.rate_key) {
                        sqlx::query(lock).bind(key).execute(&mut *tx).await.map_err(map_err)?;
                    }
                    let done = sqlx::query(sql::ENQUEUE_RESET_REQUEST)
                        .bind(row.id.to_string())
                        .bind(row.project_id.to_string())
                        .bind(row.purpose.as_str())
                        .bind(&row.payload_sealed)
                        .bind(&row.rate_key)
                        .bind(to_millis(row.created_at))
                        .bind(to_millis(since))
                        .bind(i64::from(max))
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    tx.commit().await.map_err(map_err)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn insert_link_with_mail(&self, token: &LinkToken, mail: &NewOutbox) -> StoreResult<()> {
                    let mut tx = self.writer.begin().await.map_err(map_err)?;
                    insert_token(&mut tx, token).await?;
                    sqlx::query(sql::INSERT_OUTBOX)
                        .bind(mail.id.to_string())
                        .bind(mail.project_id.to_string())
                        .bind(mail.purpose.as_str())
                        .bind(&mail.payload_sealed)
                        .bind(&mail.rate_key)
                        .bind(to_millis(mail.created_at))
                        .bind(to_millis(mail.created_at))
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    tx.commit().await.map_err(map_err)
                }

                async fn attach_reset_link(
                    &self,
                    outbox: OutboxId,
                    claim: &str,
                    token: &LinkToken,
                    payload_sealed: &[u8],
                    now: DateTime<Utc>,
                ) -> StoreResult<bool> {
                    let mut tx = self.writer.begin().await.map_err(map_err)?;
                    let moved = sqlx::query(sql::ATTACH_PAYLOAD)
                        .bind(payload_sealed)
                        .bind(to_millis(now))
                        .bind(outbox.to_string())
                        .bind(claim)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    if moved.rows_affected() != 1 {
                        return Ok(false); // dropping the transaction rolls back
                    }
                    // A new reset request supersedes every older unused one of the same user.
                    supersede_tokens(&mut tx, token.project_id, &token.user_id.to_string(), token.purpose).await?;
                    insert_token(&mut tx, token).await?;
                    tx.commit().await.map_err(map_err)?;
                    Ok(true)
                }

                async fn link_token(&self, project: ProjectId, digest: &str) -> StoreResult<Option<LinkToken>> {
                    let row = sqlx::query(sql::LINK_TOKEN)
                        .bind(project.to_string())
                        .bind(digest)
                        .fetch_optional(&self.reader)
                        .await
                        .map_err(map_err)?;
                    row.as_ref().map(token_from_row).transpose()
                }

                async fn complete_password_reset(
                    &self,
                    project: ProjectId,
                    digest: &str,
                    password_hash: &str,
                    now: DateTime<Utc>,
                ) -> StoreResult<Option<UserId>> {
                    let mut tx = self.writer.begin().await.map_err(map_err)?;
                    let purpose = LinkPurpose::PasswordReset;
                    let Some(user) = consume_token(&mut tx, project, digest, purpose, now).await? else {
                        return Ok(None);
                    };
                    sqlx::query(sql::RESET_PASSWORD)
                        .bind(password_hash)
                        .bind(to_millis(now))
                        .bind(project.to_string())
                        .bind(&user)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    sqlx::query($crate::sql::REVOKE_USER_SESSIONS)
                        .bind(to_millis(now))
                        .bind(project.to_string())
                        .bind(&user)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    // Any other reset link still in a mailbox dies with this one.
                    supersede_tokens(&mut tx, project, &user, purpose).await?;
                    tx.commit().await.map_err(map_err)?;
                    parse(&user).map(Some)
                }

                async fn complete_email_verification(
                    &self,
                    project: ProjectId,
                    digest: &str,
                    now: DateTime<Utc>,
                ) -> StoreResult<Option<UserId>> {
                    let mut tx = self.writer.begin().await.map_err(map_err)?;
                    let purpose = LinkPurpose::VerifyEmail;
                    let Some(user) = consume_token(&mut tx, project, digest, purpose, now).await? else {
                        return Ok(None);
                    };
                    sqlx::query(sql::MARK_VERIFIED)
                        .bind(to_millis(now))
                        .bind(project.to_string())
                        .bind(&user)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    tx.commit().await.map_err(map_err)?;
                    parse(&user).map(Some)
                }

                async fn claim_outbox(&self, claim: &Claim) -> StoreResult<Option<OutboxRow>> {
                    let row = sqlx::query(CLAIM_OUTBOX)
                        .bind(&claim.token)
                        .bind(to_millis(claim.lease_until))
                        .bind(to_millis(claim.now))
                        .fetch_optional(&self.writer)
                        .await
                        .map_err(map_err)?;
                    row.as_ref().map(outbox_from_row).transpose()
                }

                async fn outbox_sent(&self, id: OutboxId, claim: &str, now: DateTime<Utc>) -> StoreResult<bool> {
                    let done = sqlx::query(sql::OUTBOX_SENT)
                        .bind(to_millis(now))
                        .bind(id.to_string())
                        .bind(claim)
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn outbox_retry_at(
                    &self,
                    id: OutboxId,
                    claim: &str,
                    next_attempt_at: DateTime<Utc>,
                    error: &str,
                    now: DateTime<Utc>,
                ) -> StoreResult<()> {
                    sqlx::query(sql::OUTBOX_RETRY_AT)
                        .bind(to_millis(next_attempt_at))
                        .bind(error)
                        .bind(to_millis(now))
                        .bind(id.to_string())
                        .bind(claim)
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(())
                }

                async fn outbox_finish(
                    &self,
                    id: OutboxId,
                    claim: &str,
                    state: OutboxState,
                    error: Option<&str>,
                    now: DateTime<Utc>,
                ) -> StoreResult<()> {
                    sqlx::query(sql::OUTBOX_FINISH)
                        .bind(state.as_str())
                        .bind(error)
                        .bind(to_millis(now))
                        .bind(id.to_string())
                        .bind(claim)
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(())
                }

                async fn list_outbox(&self, state: Option<OutboxState>, limit: u32) -> StoreResult<Vec<OutboxRow>> {
                    let found = sqlx::query(sql::LIST_OUTBOX)
                        .bind(state.map(OutboxState::as_str))
                        .bind(i64::from(limit))
                        .fetch_all(&self.reader)
                        .await
                        .map_err(map_err)?;
                    found.iter().map(outbox_from_row).collect()
                }

                async fn requeue_outbox(&self, id: Option<OutboxId>, now: DateTime<Utc>) -> StoreResult<u64> {
                    let done = sqlx::query(sql::REQUEUE_OUTBOX)
                        .bind(to_millis(now))
                        .bind(id.map(|i| i.to_string()))
                        .execute(&self.writer)
                        .await
                        .map_err(map_err)?;
                    Ok(done.rows_affected())
                }

                async fn purge_mail(&self, before: DateTime<Utc>) -> StoreResult<u64> {
                    let mut purged = 0;
                    for statement in [sql::PURGE_FINISHED_OUTBOX, sql::PURGE_DEAD_LINK_TOKENS] {
                        let done = sqlx::query(statement)
                            .bind(to_millis(before))
                            .execute(&self.writer)
                            .await
                            .map_err(map_err)?;
                        purged += done.rows_affected();
                    }
                    Ok(purged)
                }
            }
        };
    };
}
