//! [`MailStore`]: per-project mail settings, link tokens and the outbox. Every outbox
//! transition after the claim is conditioned on the claim token, so a worker whose lease lapsed
//! can never overwrite the row's new owner. Booleans are written `TRUE`/`FALSE` (SQLite >= 3.23
//! reads them as 1/0).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use latchkey_core::domain::{LinkPurpose, MailSettings, OutboxId, ProjectId, SmtpOverride, UserId};
use latchkey_core::store::{Claim, LinkToken, MailStore, NewOutbox, OutboxRow, OutboxState, StoreError, StoreResult};

use crate::SqlStore;
use crate::db::{Db, Tx};
use crate::types::{Id, Millis, instant, millis};

#[derive(sqlx::FromRow)]
struct MailSettingsRow {
    reset_page_url: Option<String>,
    verify_page_url: Option<String>,
    mail_from: Option<String>,
    smtp_url: Option<String>,
    smtp_password_sealed: Option<Vec<u8>>,
    reset_ttl_secs: i64,
    verify_ttl_secs: i64,
    verify_on_sign_up: bool,
}

impl From<MailSettingsRow> for MailSettings {
    fn from(row: MailSettingsRow) -> Self {
        let sealed = row.smtp_password_sealed;
        MailSettings {
            reset_page_url: row.reset_page_url,
            verify_page_url: row.verify_page_url,
            mail_from: row.mail_from,
            smtp: row.smtp_url.map(|url| SmtpOverride { url, has_password: sealed.is_some(), password_sealed: sealed }),
            reset_ttl_secs: row.reset_ttl_secs,
            verify_ttl_secs: row.verify_ttl_secs,
            verify_on_sign_up: row.verify_on_sign_up,
        }
    }
}

fn purpose(text: &str) -> StoreResult<LinkPurpose> {
    LinkPurpose::parse(text).ok_or_else(|| StoreError::Other(format!("bad purpose {text:?}")))
}

#[derive(sqlx::FromRow)]
struct LinkTokenRow {
    digest: String,
    project_id: Id<ProjectId>,
    user_id: Id<UserId>,
    email: String,
    purpose: String,
    created_at: Millis,
    expires_at: Millis,
    used_at: Option<Millis>,
    superseded: bool,
}

impl TryFrom<LinkTokenRow> for LinkToken {
    type Error = StoreError;

    fn try_from(row: LinkTokenRow) -> StoreResult<Self> {
        Ok(LinkToken {
            digest: row.digest,
            project_id: row.project_id.0,
            user_id: row.user_id.0,
            email: row.email,
            purpose: purpose(&row.purpose)?,
            created_at: row.created_at.0,
            expires_at: row.expires_at.0,
            used_at: instant(row.used_at),
            superseded: row.superseded,
        })
    }
}

#[derive(sqlx::FromRow)]
struct OutboxRecordRow {
    id: Id<OutboxId>,
    project_id: Id<ProjectId>,
    purpose: String,
    state: String,
    payload_sealed: Option<Vec<u8>>,
    attempts: i64,
    next_attempt_at: Option<Millis>,
    lease_until: Option<Millis>,
    claim: Option<String>,
    last_error: Option<String>,
    created_at: Millis,
    updated_at: Millis,
    sent_at: Option<Millis>,
}

impl TryFrom<OutboxRecordRow> for OutboxRow {
    type Error = StoreError;

    fn try_from(row: OutboxRecordRow) -> StoreResult<Self> {
        let state = OutboxState::parse(&row.state)
            .ok_or_else(|| StoreError::Other(format!("bad outbox state {:?}", row.state)))?;
        Ok(OutboxRow {
            id: row.id.0,
            project_id: row.project_id.0,
            purpose: purpose(&row.purpose)?,
            state,
            payload_sealed: row.payload_sealed,
            attempts: row.attempts,
            next_attempt_at: instant(row.next_attempt_at),
            lease_until: instant(row.lease_until),
            claim: row.claim,
            last_error: row.last_error,
            created_at: row.created_at.0,
            updated_at: row.updated_at.0,
            sent_at: instant(row.sent_at),
        })
    }
}

/// The link-token statements the completions share, inside their transactions.
impl Tx {
    pub(crate) async fn insert_token(&mut self, t: &LinkToken) -> StoreResult<()> {
        self.query(
            "INSERT INTO link_tokens (digest, project_id, user_id, purpose, created_at, expires_at, used_at,
                                      superseded, email)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(t.digest.as_str())
        .bind(Id(t.project_id))
        .bind(Id(t.user_id))
        .bind(t.purpose.as_str())
        .bind(Millis(t.created_at))
        .bind(Millis(t.expires_at))
        .bind(millis(t.used_at))
        .bind(t.superseded)
        .bind(t.email.as_str())
        .execute()
        .await?;
        Ok(())
    }

    /// Every unused token of a user and purpose dies (a newer one replaces it, or one was used).
    pub(crate) async fn supersede_tokens(
        &mut self,
        project: ProjectId,
        user: UserId,
        purpose: LinkPurpose,
    ) -> StoreResult<()> {
        self.query(
            "UPDATE link_tokens SET superseded = TRUE
              WHERE project_id = $1 AND user_id = $2 AND purpose = $3 AND used_at IS NULL AND superseded = FALSE",
        )
        .bind(Id(project))
        .bind(Id(user))
        .bind(purpose.as_str())
        .execute()
        .await?;
        Ok(())
    }

    /// A pending message.
    pub(crate) async fn insert_outbox(&mut self, mail: &NewOutbox) -> StoreResult<()> {
        self.query(
            "INSERT INTO mail_outbox (id, project_id, purpose, state, payload_sealed, rate_key, user_id, created_at,
                                      updated_at)
             VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $7)",
        )
        .bind(Id(mail.id))
        .bind(Id(mail.project_id))
        .bind(mail.purpose.as_str())
        .bind(mail.payload_sealed.as_slice())
        .bind(mail.rate_key.as_deref())
        .bind(mail.user_id.map(Id))
        .bind(Millis(mail.created_at))
        .execute()
        .await?;
        Ok(())
    }

    /// Consumes a live token of `purpose`; the user it belongs to, if it was live. The user
    /// must still have the address the link was sent to: a link mailed to an old address
    /// neither verifies nor resets the account after its email changed.
    async fn consume_token(
        &mut self,
        project: ProjectId,
        digest: &str,
        purpose: LinkPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        let user: Option<(Id<UserId>,)> = self
            .query(
                "UPDATE link_tokens SET used_at = $1
                  WHERE project_id = $2 AND digest = $3 AND purpose = $4
                    AND used_at IS NULL AND superseded = FALSE AND expires_at > $1
                    AND email = (SELECT u.email FROM users u WHERE u.project_id = $2 AND u.id = link_tokens.user_id)
                 RETURNING user_id",
            )
            .bind(Millis(now))
            .bind(Id(project))
            .bind(digest)
            .bind(purpose.as_str())
            .fetch_optional()
            .await?;
        Ok(user.map(|(id,)| id.0))
    }
}

#[async_trait]
impl MailStore for SqlStore {
    async fn mail_settings(&self, project: ProjectId) -> StoreResult<MailSettings> {
        let row: Option<MailSettingsRow> = self
            .read("SELECT * FROM project_mail_settings WHERE project_id = $1")
            .bind(Id(project))
            .fetch_optional()
            .await?;
        Ok(row.map(MailSettings::from).unwrap_or_default())
    }

    async fn put_mail_settings(&self, project: ProjectId, s: &MailSettings, now: DateTime<Utc>) -> StoreResult<()> {
        self.write(
            "INSERT INTO project_mail_settings (project_id, reset_page_url, verify_page_url, mail_from, smtp_url,
                     smtp_password_sealed, reset_ttl_secs, verify_ttl_secs, verify_on_sign_up, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (project_id) DO UPDATE SET
                     reset_page_url = $2, verify_page_url = $3, mail_from = $4, smtp_url = $5,
                     smtp_password_sealed = $6, reset_ttl_secs = $7, verify_ttl_secs = $8,
                     verify_on_sign_up = $9, updated_at = $10",
        )
        .bind(Id(project))
        .bind(s.reset_page_url.as_deref())
        .bind(s.verify_page_url.as_deref())
        .bind(s.mail_from.as_deref())
        .bind(s.smtp.as_ref().map(|o| o.url.as_str()))
        .bind(s.smtp.as_ref().and_then(|o| o.password_sealed.as_deref()))
        .bind(s.reset_ttl_secs)
        .bind(s.verify_ttl_secs)
        .bind(s.verify_on_sign_up)
        .bind(Millis(now))
        .execute()
        .await?;
        Ok(())
    }

    async fn enqueue_reset_request(&self, row: &NewOutbox, since: DateTime<Utc>, max: u32) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        // The request is one conditional INSERT (below). On SQLite the single writer keeps the
        // count and the insert from interleaving with another request; on PostgreSQL two READ
        // COMMITTED statements could both count below the limit, so requests for one rate key
        // first take turns on an advisory lock until the transaction ends.
        if let (Db::Postgres(_), Some(key)) = (&self.db, &row.rate_key) {
            tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(key.as_str()).execute().await?;
        }
        // Inserted unless `$8` rows with the same rate key were created after `$7`.
        let enqueued = tx
            .query(
                "INSERT INTO mail_outbox (id, project_id, purpose, state, payload_sealed, rate_key, created_at,
                                          updated_at, user_id)
                 SELECT $1, $2, $3, 'pending', $4, $5, $6, $6, $9
                  WHERE (SELECT COUNT(*) FROM mail_outbox WHERE rate_key = $5 AND created_at > $7) < $8",
            )
            .bind(Id(row.id))
            .bind(Id(row.project_id))
            .bind(row.purpose.as_str())
            .bind(row.payload_sealed.as_slice())
            .bind(row.rate_key.as_deref())
            .bind(Millis(row.created_at))
            .bind(Millis(since))
            .bind(i64::from(max))
            .bind(row.user_id.map(Id))
            .execute()
            .await?;
        tx.commit().await?;
        Ok(enqueued == 1)
    }

    async fn insert_link_with_mail(&self, token: &LinkToken, mail: &NewOutbox) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.insert_token(token).await?;
        tx.insert_outbox(mail).await?;
        tx.commit().await
    }

    async fn attach_reset_link(
        &self,
        outbox: OutboxId,
        claim: &str,
        token: &LinkToken,
        payload_sealed: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        // Moves a claimed reset-request row to its real payload, while the caller holds the claim.
        let moved = tx
            .query(
                "UPDATE mail_outbox SET payload_sealed = $1, updated_at = $2, user_id = $5
                  WHERE id = $3 AND claim = $4 AND state = 'sending'",
            )
            .bind(payload_sealed)
            .bind(Millis(now))
            .bind(Id(outbox))
            .bind(claim)
            .bind(Id(token.user_id))
            .execute()
            .await?;
        if moved != 1 {
            return Ok(false); // dropping the transaction rolls back
        }
        // A new reset request supersedes every older unused one of the same user.
        tx.supersede_tokens(token.project_id, token.user_id, token.purpose).await?;
        tx.insert_token(token).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn link_token(&self, project: ProjectId, digest: &str) -> StoreResult<Option<LinkToken>> {
        let row: Option<LinkTokenRow> = self
            .read("SELECT * FROM link_tokens WHERE project_id = $1 AND digest = $2")
            .bind(Id(project))
            .bind(digest)
            .fetch_optional()
            .await?;
        row.map(LinkToken::try_from).transpose()
    }

    async fn complete_password_reset(
        &self,
        project: ProjectId,
        digest: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        let mut tx = self.db.begin().await?;
        let purpose = LinkPurpose::PasswordReset;
        let Some(user) = tx.consume_token(project, digest, purpose, now).await? else {
            return Ok(None);
        };
        tx.query(
            "UPDATE users SET password_hash = $1, is_verified = TRUE, updated_at = $2
              WHERE project_id = $3 AND id = $4",
        )
        .bind(password_hash)
        .bind(Millis(now))
        .bind(Id(project))
        .bind(Id(user))
        .execute()
        .await?;
        tx.query("UPDATE sessions SET revoked_at = $1 WHERE project_id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(Millis(now))
            .bind(Id(project))
            .bind(Id(user))
            .execute()
            .await?;
        // Any other reset link still in a mailbox dies with this one.
        tx.supersede_tokens(project, user, purpose).await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    async fn complete_email_verification(
        &self,
        project: ProjectId,
        digest: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        let mut tx = self.db.begin().await?;
        let Some(user) = tx.consume_token(project, digest, LinkPurpose::VerifyEmail, now).await? else {
            return Ok(None);
        };
        tx.query("UPDATE users SET is_verified = TRUE, updated_at = $1 WHERE project_id = $2 AND id = $3")
            .bind(Millis(now))
            .bind(Id(project))
            .bind(Id(user))
            .execute()
            .await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    async fn claim_outbox(&self, claim: &Claim) -> StoreResult<Option<OutboxRow>> {
        // Takes the oldest due row (pending and due, or sending with a lapsed lease). The outer
        // `WHERE` repeats the due test: when two claims race for the same row on PostgreSQL,
        // the second waits for the first and then re-checks the row as it now is (no longer
        // due), so it can never take a row another worker holds. PostgreSQL adds `FOR UPDATE
        // SKIP LOCKED`, so concurrent workers (of any process) each take a different due row
        // instead of queueing on the oldest one; SQLite's single writer serialises claims.
        let sql = match self.db {
            Db::Sqlite { .. } => {
                "UPDATE mail_outbox SET state = 'sending', claim = $1, lease_until = $2, updated_at = $3
                  WHERE id = (SELECT id FROM mail_outbox
                               WHERE (state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $3))
                                  OR (state = 'sending' AND lease_until <= $3)
                               ORDER BY created_at, id LIMIT 1)
                    AND ((state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $3))
                         OR (state = 'sending' AND lease_until <= $3))
                 RETURNING *"
            }
            Db::Postgres(_) => {
                "UPDATE mail_outbox SET state = 'sending', claim = $1, lease_until = $2, updated_at = $3
                  WHERE id = (SELECT id FROM mail_outbox
                               WHERE (state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $3))
                                  OR (state = 'sending' AND lease_until <= $3)
                               ORDER BY created_at, id LIMIT 1
                               FOR UPDATE SKIP LOCKED)
                    AND ((state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= $3))
                         OR (state = 'sending' AND lease_until <= $3))
                 RETURNING *"
            }
        };
        let row: Option<OutboxRecordRow> = self
            .write(sql)
            .bind(claim.token.as_str())
            .bind(Millis(claim.lease_until))
            .bind(Millis(claim.now))
            .fetch_optional()
            .await?;
        row.map(OutboxRow::try_from).transpose()
    }

    async fn outbox_sent(&self, id: OutboxId, claim: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let sent = self
            .write(
                "UPDATE mail_outbox
                    SET state = 'sent', payload_sealed = NULL, attempts = attempts + 1, sent_at = $1,
                        updated_at = $1, claim = NULL, lease_until = NULL, last_error = NULL
                  WHERE id = $2 AND claim = $3 AND state = 'sending'",
            )
            .bind(Millis(now))
            .bind(Id(id))
            .bind(claim)
            .execute()
            .await?;
        Ok(sent == 1)
    }

    async fn outbox_retry_at(
        &self,
        id: OutboxId,
        claim: &str,
        next_attempt_at: DateTime<Utc>,
        error: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(
            "UPDATE mail_outbox
                    SET state = 'pending', attempts = attempts + 1, next_attempt_at = $1, last_error = $2,
                        updated_at = $3, claim = NULL, lease_until = NULL
                  WHERE id = $4 AND claim = $5 AND state = 'sending'",
        )
        .bind(Millis(next_attempt_at))
        .bind(error)
        .bind(Millis(now))
        .bind(Id(id))
        .bind(claim)
        .execute()
        .await?;
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
        self.write(
            "UPDATE mail_outbox
                    SET state = $1, last_error = $2, updated_at = $3, claim = NULL, lease_until = NULL,
                        attempts = attempts + CASE WHEN $1 = 'failed' THEN 1 ELSE 0 END,
                        payload_sealed = CASE WHEN $1 = 'dropped' THEN NULL ELSE payload_sealed END
                  WHERE id = $4 AND claim = $5 AND state = 'sending'",
        )
        .bind(state.as_str())
        .bind(error)
        .bind(Millis(now))
        .bind(Id(id))
        .bind(claim)
        .execute()
        .await?;
        Ok(())
    }

    async fn list_outbox(&self, state: Option<OutboxState>, limit: u32) -> StoreResult<Vec<OutboxRow>> {
        // Operators, across projects.
        let rows: Vec<OutboxRecordRow> = self
            .read(
                "SELECT * FROM mail_outbox WHERE ($1 IS NULL OR state = $1)
                  ORDER BY created_at DESC, id DESC LIMIT $2",
            )
            .bind(state.map(OutboxState::as_str))
            .bind(i64::from(limit))
            .fetch_all()
            .await?;
        rows.into_iter().map(OutboxRow::try_from).collect()
    }

    async fn requeue_outbox(&self, id: Option<OutboxId>, now: DateTime<Utc>) -> StoreResult<u64> {
        self.write(
            "UPDATE mail_outbox SET state = 'pending', attempts = 0, next_attempt_at = NULL, updated_at = $1
                  WHERE state = 'failed' AND payload_sealed IS NOT NULL AND ($2 IS NULL OR id = $2)",
        )
        .bind(Millis(now))
        .bind(id.map(Id))
        .execute()
        .await
    }

    async fn purge_mail(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        // Maintenance across all projects: finished rows and dead tokens older than `$1`.
        let mut purged = 0;
        for statement in [
            "DELETE FROM mail_outbox WHERE state IN ('sent', 'dropped') AND updated_at < $1",
            "DELETE FROM link_tokens WHERE expires_at < $1",
        ] {
            purged += self.write(statement).bind(Millis(before)).execute().await?;
        }
        Ok(purged)
    }
}
