//! [`MailStore`] for SQLite. Every outbox transition after the claim is conditioned on the
//! claim token, so a worker whose lease lapsed can never overwrite the row's new owner.

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_core::domain::{LinkPurpose, MailSettings, OutboxId, ProjectId, SmtpOverride, UserId};
use latchkey_core::store::{Claim, LinkToken, MailStore, NewOutbox, OutboxRow, OutboxState, StoreError, StoreResult};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use crate::map_err;
use crate::time::{from_millis, opt_from_millis, to_millis};

fn get<'r, T>(row: &'r SqliteRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
{
    row.try_get(column).map_err(map_err)
}

fn parse<T: FromStr>(text: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    T::from_str(text).map_err(|e| StoreError::Other(format!("bad stored id {text:?}: {e}")))
}

fn purpose(text: &str) -> StoreResult<LinkPurpose> {
    LinkPurpose::parse(text).ok_or_else(|| StoreError::Other(format!("bad purpose {text:?}")))
}

fn token_from_row(row: &SqliteRow) -> StoreResult<LinkToken> {
    Ok(LinkToken {
        digest: get(row, "digest")?,
        project_id: parse(&get::<String>(row, "project_id")?)?,
        user_id: parse(&get::<String>(row, "user_id")?)?,
        purpose: purpose(&get::<String>(row, "purpose")?)?,
        created_at: from_millis(get(row, "created_at")?)?,
        expires_at: from_millis(get(row, "expires_at")?)?,
        used_at: opt_from_millis(get(row, "used_at")?)?,
        superseded: get(row, "superseded")?,
    })
}

fn outbox_from_row(row: &SqliteRow) -> StoreResult<OutboxRow> {
    let state: String = get(row, "state")?;
    Ok(OutboxRow {
        id: parse(&get::<String>(row, "id")?)?,
        project_id: parse(&get::<String>(row, "project_id")?)?,
        purpose: purpose(&get::<String>(row, "purpose")?)?,
        state: OutboxState::parse(&state).ok_or_else(|| StoreError::Other(format!("bad outbox state {state:?}")))?,
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

const INSERT_OUTBOX: &str = "INSERT INTO mail_outbox (id, project_id, purpose, state, payload_sealed, rate_key,
                                                      created_at, updated_at)
                             VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)";

/// Consumes a live token of `purpose` and returns its user (shared by both completions).
const CONSUME_TOKEN: &str = "UPDATE link_tokens SET used_at = ?1
                              WHERE project_id = ?2 AND digest = ?3 AND purpose = ?4
                                AND used_at IS NULL AND superseded = 0 AND expires_at > ?1
                          RETURNING user_id";

#[async_trait]
impl MailStore for SqliteStore {
    async fn mail_settings(&self, project: ProjectId) -> StoreResult<MailSettings> {
        let row = sqlx::query("SELECT * FROM project_mail_settings WHERE project_id = ?")
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
            smtp: smtp_url.map(|url| SmtpOverride { url, has_password: sealed.is_some(), password_sealed: sealed }),
            reset_ttl_secs: get(&row, "reset_ttl_secs")?,
            verify_ttl_secs: get(&row, "verify_ttl_secs")?,
            verify_on_sign_up: get(&row, "verify_on_sign_up")?,
        })
    }

    async fn put_mail_settings(&self, project: ProjectId, s: &MailSettings, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO project_mail_settings (project_id, reset_page_url, verify_page_url, mail_from, smtp_url,
                 smtp_password_sealed, reset_ttl_secs, verify_ttl_secs, verify_on_sign_up, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (project_id) DO UPDATE SET
                 reset_page_url = ?2, verify_page_url = ?3, mail_from = ?4, smtp_url = ?5,
                 smtp_password_sealed = ?6, reset_ttl_secs = ?7, verify_ttl_secs = ?8,
                 verify_on_sign_up = ?9, updated_at = ?10",
        )
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

    async fn enqueue_reset_request(&self, row: &NewOutbox, since: DateTime<Utc>, max: u32) -> StoreResult<bool> {
        // One conditional INSERT: the count and the insert cannot interleave with another request.
        let done = sqlx::query(
            "INSERT INTO mail_outbox (id, project_id, purpose, state, payload_sealed, rate_key, created_at, updated_at)
             SELECT ?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?6
              WHERE (SELECT COUNT(*) FROM mail_outbox WHERE rate_key = ?5 AND created_at > ?7) < ?8",
        )
        .bind(row.id.to_string())
        .bind(row.project_id.to_string())
        .bind(row.purpose.as_str())
        .bind(&row.payload_sealed)
        .bind(&row.rate_key)
        .bind(to_millis(row.created_at))
        .bind(to_millis(since))
        .bind(i64::from(max))
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_link_with_mail(&self, token: &LinkToken, mail: &NewOutbox) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        insert_token(&mut tx, token).await?;
        sqlx::query(INSERT_OUTBOX)
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
        let moved = sqlx::query(
            "UPDATE mail_outbox SET payload_sealed = ?, updated_at = ?
              WHERE id = ? AND claim = ? AND state = 'sending'",
        )
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
        sqlx::query(
            "UPDATE link_tokens SET superseded = 1
              WHERE project_id = ? AND user_id = ? AND purpose = ? AND used_at IS NULL AND superseded = 0",
        )
        .bind(token.project_id.to_string())
        .bind(token.user_id.to_string())
        .bind(token.purpose.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        insert_token(&mut tx, token).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn link_token(&self, project: ProjectId, digest: &str) -> StoreResult<Option<LinkToken>> {
        let row = sqlx::query("SELECT * FROM link_tokens WHERE project_id = ? AND digest = ?")
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
        let user: Option<String> = sqlx::query_scalar(CONSUME_TOKEN)
            .bind(to_millis(now))
            .bind(project.to_string())
            .bind(digest)
            .bind(LinkPurpose::PasswordReset.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        let Some(user) = user else { return Ok(None) };
        sqlx::query(
            "UPDATE users SET password_hash = ?, is_verified = 1, updated_at = ? WHERE project_id = ? AND id = ?",
        )
        .bind(password_hash)
        .bind(to_millis(now))
        .bind(project.to_string())
        .bind(&user)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query("UPDATE sessions SET revoked_at = ? WHERE project_id = ? AND user_id = ? AND revoked_at IS NULL")
            .bind(to_millis(now))
            .bind(project.to_string())
            .bind(&user)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        // Any other reset link still in a mailbox dies with this one.
        sqlx::query(
            "UPDATE link_tokens SET superseded = 1
              WHERE project_id = ? AND user_id = ? AND purpose = ? AND used_at IS NULL AND superseded = 0",
        )
        .bind(project.to_string())
        .bind(&user)
        .bind(LinkPurpose::PasswordReset.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
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
        let user: Option<String> = sqlx::query_scalar(CONSUME_TOKEN)
            .bind(to_millis(now))
            .bind(project.to_string())
            .bind(digest)
            .bind(LinkPurpose::VerifyEmail.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        let Some(user) = user else { return Ok(None) };
        sqlx::query("UPDATE users SET is_verified = 1, updated_at = ? WHERE project_id = ? AND id = ?")
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
        // One statement on the single writer: two workers (or processes) can never both win a row.
        let row = sqlx::query(
            "UPDATE mail_outbox SET state = 'sending', claim = ?1, lease_until = ?2, updated_at = ?3
              WHERE id = (SELECT id FROM mail_outbox
                           WHERE (state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?3))
                              OR (state = 'sending' AND lease_until <= ?3)
                           ORDER BY created_at, id LIMIT 1)
          RETURNING *",
        )
        .bind(&claim.token)
        .bind(to_millis(claim.lease_until))
        .bind(to_millis(claim.now))
        .fetch_optional(&self.writer)
        .await
        .map_err(map_err)?;
        row.as_ref().map(outbox_from_row).transpose()
    }

    async fn outbox_sent(&self, id: OutboxId, claim: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE mail_outbox
                SET state = 'sent', payload_sealed = NULL, attempts = attempts + 1, sent_at = ?1, updated_at = ?1,
                    claim = NULL, lease_until = NULL, last_error = NULL
              WHERE id = ?2 AND claim = ?3 AND state = 'sending'",
        )
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
        sqlx::query(
            "UPDATE mail_outbox
                SET state = 'pending', attempts = attempts + 1, next_attempt_at = ?1, last_error = ?2,
                    updated_at = ?3, claim = NULL, lease_until = NULL
              WHERE id = ?4 AND claim = ?5 AND state = 'sending'",
        )
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
        // A dropped row never had anything to send: its body (an address) is not kept.
        sqlx::query(
            "UPDATE mail_outbox
                SET state = ?1, last_error = ?2, updated_at = ?3, claim = NULL, lease_until = NULL,
                    attempts = attempts + CASE WHEN ?1 = 'failed' THEN 1 ELSE 0 END,
                    payload_sealed = CASE WHEN ?1 = 'dropped' THEN NULL ELSE payload_sealed END
              WHERE id = ?4 AND claim = ?5 AND state = 'sending'",
        )
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
        let rows = sqlx::query(
            "SELECT * FROM mail_outbox WHERE (?1 IS NULL OR state = ?1) ORDER BY created_at DESC, id DESC LIMIT ?2",
        )
        .bind(state.map(OutboxState::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        rows.iter().map(outbox_from_row).collect()
    }

    async fn requeue_outbox(&self, id: Option<OutboxId>, now: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE mail_outbox SET state = 'pending', attempts = 0, next_attempt_at = NULL, updated_at = ?1
              WHERE state = 'failed' AND payload_sealed IS NOT NULL AND (?2 IS NULL OR id = ?2)",
        )
        .bind(to_millis(now))
        .bind(id.map(|i| i.to_string()))
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected())
    }
}

async fn insert_token(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>, t: &LinkToken) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO link_tokens (digest, project_id, user_id, purpose, created_at, expires_at, used_at, superseded)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&t.digest)
    .bind(t.project_id.to_string())
    .bind(t.user_id.to_string())
    .bind(t.purpose.as_str())
    .bind(to_millis(t.created_at))
    .bind(to_millis(t.expires_at))
    .bind(t.used_at.map(to_millis))
    .bind(t.superseded)
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(())
}
