//! [`MailStore`] in memory: mail settings, link tokens and the outbox. As in SQL, every
//! outbox transition after the claim applies only while the caller still holds the claim.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{MemoryStore, Tables, duplicate, missing_parent, ms, ms_opt};
use crate::domain::{LinkPurpose, MailSettings, OutboxId, ProjectId, UserId};
use crate::store::{Claim, LinkToken, MailStore, NewOutbox, OutboxRow, OutboxState, StoreResult};

impl Tables {
    pub(super) fn check_token_insert(&self, token: &LinkToken) -> StoreResult<()> {
        if self.link_tokens.contains_key(&token.digest) {
            return Err(duplicate());
        }
        self.require_project(token.project_id)?;
        if !self.users.contains_key(&token.user_id) {
            return Err(missing_parent("user for the link token"));
        }
        Ok(())
    }

    pub(super) fn insert_token(&mut self, token: &LinkToken) {
        let stored = LinkToken {
            created_at: ms(token.created_at),
            expires_at: ms(token.expires_at),
            used_at: ms_opt(token.used_at),
            ..token.clone()
        };
        self.link_tokens.insert(token.digest.clone(), stored);
    }

    pub(super) fn check_outbox_insert(&self, row: &NewOutbox) -> StoreResult<()> {
        if self.outbox.contains_key(&row.id) {
            return Err(duplicate());
        }
        self.require_project(row.project_id)
    }

    /// A new row is pending, with no attempt yet.
    pub(super) fn insert_outbox(&mut self, row: &NewOutbox) {
        let created_at = ms(row.created_at);
        let stored = OutboxRow {
            id: row.id,
            project_id: row.project_id,
            purpose: row.purpose,
            state: OutboxState::Pending,
            payload_sealed: Some(row.payload_sealed.clone()),
            attempts: 0,
            next_attempt_at: None,
            lease_until: None,
            claim: None,
            last_error: None,
            created_at,
            updated_at: created_at,
            sent_at: None,
        };
        self.outbox.insert(row.id, stored);
        if let Some(key) = &row.rate_key {
            self.outbox_rate_keys.insert(row.id, key.clone());
        }
        if let Some(user) = row.user_id {
            self.outbox_users.insert(row.id, user);
        }
    }

    /// Every unused, unsuperseded token of `user` for `purpose` dies.
    pub(super) fn supersede_tokens(&mut self, project: ProjectId, user: UserId, purpose: LinkPurpose) {
        let tokens = self.link_tokens.values_mut();
        for token in tokens.filter(|t| t.project_id == project && t.user_id == user && t.purpose == purpose) {
            if token.used_at.is_none() {
                token.superseded = true;
            }
        }
    }

    /// Consumes a live token of `purpose` whose user still has the address it was sent to.
    fn consume_token(
        &mut self,
        project: ProjectId,
        digest: &str,
        purpose: LinkPurpose,
        now: DateTime<Utc>,
    ) -> Option<UserId> {
        let now = ms(now);
        let token = self.link_tokens.get(digest).filter(|t| {
            t.project_id == project
                && t.purpose == purpose
                && t.used_at.is_none()
                && !t.superseded
                && t.expires_at > now
        })?;
        let user = token.user_id;
        let current_email = self.user_in(project, user).and_then(|u| u.email.as_deref());
        if current_email != Some(token.email.as_str()) {
            return None;
        }
        self.link_tokens.get_mut(digest)?.used_at = Some(now);
        Some(user)
    }

    /// The claimed row `id`, if `claim` still holds it.
    fn claimed_row(&mut self, id: OutboxId, claim: &str) -> Option<&mut OutboxRow> {
        self.outbox.get_mut(&id).filter(|r| r.state == OutboxState::Sending && r.claim.as_deref() == Some(claim))
    }
}

/// Due: pending and past its retry time, or sending with a lapsed lease.
fn is_due(row: &OutboxRow, now: DateTime<Utc>) -> bool {
    match row.state {
        OutboxState::Pending => row.next_attempt_at.is_none_or(|at| at <= now),
        OutboxState::Sending => row.lease_until.is_some_and(|at| at <= now),
        _ => false,
    }
}

/// Ends a claim: the row is no longer held by anyone.
fn release_claim(row: &mut OutboxRow, now: DateTime<Utc>) {
    row.claim = None;
    row.lease_until = None;
    row.updated_at = ms(now);
}

#[async_trait]
impl MailStore for MemoryStore {
    async fn mail_settings(&self, project: ProjectId) -> StoreResult<MailSettings> {
        Ok(self.lock().await.mail_settings.get(&project).cloned().unwrap_or_default())
    }

    async fn put_mail_settings(
        &self,
        project: ProjectId,
        settings: &MailSettings,
        _now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tables = self.lock().await;
        tables.require_project(project)?;
        let mut stored = settings.clone();
        // Stored as URL and sealed password; whether there is a password is read from the latter.
        if let Some(smtp) = &mut stored.smtp {
            smtp.has_password = smtp.password_sealed.is_some();
        }
        tables.mail_settings.insert(project, stored);
        Ok(())
    }

    async fn enqueue_reset_request(&self, row: &NewOutbox, since: DateTime<Utc>, max: u32) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        // Like SQL's `rate_key = $5`: a row without a key is never counted.
        let recent = row.rate_key.as_ref().map_or(0, |key| {
            let same_key = tables.outbox_rate_keys.iter().filter(|(_, k)| *k == key);
            let rows = same_key.filter_map(|(id, _)| tables.outbox.get(id));
            rows.filter(|r| r.created_at > ms(since)).count()
        });
        if recent >= max as usize {
            return Ok(false);
        }
        tables.check_outbox_insert(row)?;
        tables.insert_outbox(row);
        Ok(true)
    }

    async fn insert_link_with_mail(&self, token: &LinkToken, mail: &NewOutbox) -> StoreResult<()> {
        let mut tables = self.lock().await;
        tables.check_token_insert(token)?;
        tables.check_outbox_insert(mail)?;
        tables.insert_token(token);
        tables.insert_outbox(mail);
        Ok(())
    }

    async fn attach_reset_link(
        &self,
        outbox: OutboxId,
        claim: &str,
        token: &LinkToken,
        payload_sealed: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        if tables.claimed_row(outbox, claim).is_none() {
            return Ok(false);
        }
        tables.check_token_insert(token)?;
        if let Some(row) = tables.claimed_row(outbox, claim) {
            row.payload_sealed = Some(payload_sealed.to_vec());
            row.updated_at = ms(now);
        }
        tables.supersede_tokens(token.project_id, token.user_id, token.purpose);
        tables.insert_token(token);
        tables.outbox_users.insert(outbox, token.user_id);
        Ok(true)
    }

    async fn link_token(&self, project: ProjectId, digest: &str) -> StoreResult<Option<LinkToken>> {
        Ok(self.lock().await.link_tokens.get(digest).filter(|t| t.project_id == project).cloned())
    }

    async fn complete_password_reset(
        &self,
        project: ProjectId,
        digest: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        let mut tables = self.lock().await;
        let Some(id) = tables.consume_token(project, digest, LinkPurpose::PasswordReset, now) else {
            return Ok(None);
        };
        if let Some(user) = tables.user_in_mut(project, id) {
            user.password_hash = Some(password_hash.to_owned());
            user.is_verified = true;
            user.updated_at = ms(now);
        }
        tables.revoke_user_sessions(project, id, now);
        // Any other reset link still in a mailbox dies with this one.
        tables.supersede_tokens(project, id, LinkPurpose::PasswordReset);
        Ok(Some(id))
    }

    async fn complete_email_verification(
        &self,
        project: ProjectId,
        digest: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>> {
        let mut tables = self.lock().await;
        let Some(id) = tables.consume_token(project, digest, LinkPurpose::VerifyEmail, now) else {
            return Ok(None);
        };
        if let Some(user) = tables.user_in_mut(project, id) {
            user.is_verified = true;
            user.updated_at = ms(now);
        }
        Ok(Some(id))
    }

    async fn claim_outbox(&self, claim: &Claim) -> StoreResult<Option<OutboxRow>> {
        let mut tables = self.lock().await;
        let now = ms(claim.now);
        let oldest_due = tables.outbox.values().filter(|r| is_due(r, now)).min_by_key(|r| (r.created_at, r.id));
        let Some(id) = oldest_due.map(|r| r.id) else { return Ok(None) };
        let Some(row) = tables.outbox.get_mut(&id) else { return Ok(None) };
        row.state = OutboxState::Sending;
        row.claim = Some(claim.token.clone());
        row.lease_until = Some(ms(claim.lease_until));
        row.updated_at = now;
        Ok(Some(row.clone()))
    }

    async fn outbox_sent(&self, id: OutboxId, claim: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut tables = self.lock().await;
        let Some(row) = tables.claimed_row(id, claim) else { return Ok(false) };
        row.state = OutboxState::Sent;
        row.payload_sealed = None;
        row.attempts += 1;
        row.sent_at = Some(ms(now));
        row.last_error = None;
        release_claim(row, now);
        Ok(true)
    }

    async fn outbox_retry_at(
        &self,
        id: OutboxId,
        claim: &str,
        next_attempt_at: DateTime<Utc>,
        error: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tables = self.lock().await;
        if let Some(row) = tables.claimed_row(id, claim) {
            row.state = OutboxState::Pending;
            row.attempts += 1;
            row.next_attempt_at = Some(ms(next_attempt_at));
            row.last_error = Some(error.to_owned());
            release_claim(row, now);
        }
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
        let mut tables = self.lock().await;
        if let Some(row) = tables.claimed_row(id, claim) {
            row.state = state;
            row.last_error = error.map(str::to_owned);
            if state == OutboxState::Failed {
                row.attempts += 1;
            }
            if state == OutboxState::Dropped {
                row.payload_sealed = None;
            }
            release_claim(row, now);
        }
        Ok(())
    }

    async fn list_outbox(&self, state: Option<OutboxState>, limit: u32) -> StoreResult<Vec<OutboxRow>> {
        let tables = self.lock().await;
        let mut rows: Vec<OutboxRow> =
            tables.outbox.values().filter(|r| state.is_none_or(|s| r.state == s)).cloned().collect();
        rows.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.id)));
        rows.truncate(limit as usize);
        Ok(rows)
    }

    async fn requeue_outbox(&self, id: Option<OutboxId>, now: DateTime<Utc>) -> StoreResult<u64> {
        let mut tables = self.lock().await;
        let mut requeued = 0;
        let failed =
            tables.outbox.values_mut().filter(|r| r.state == OutboxState::Failed && r.payload_sealed.is_some());
        for row in failed.filter(|r| id.is_none_or(|id| r.id == id)) {
            row.state = OutboxState::Pending;
            row.attempts = 0;
            row.next_attempt_at = None;
            row.updated_at = ms(now);
            requeued += 1;
        }
        Ok(requeued)
    }

    async fn purge_mail(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let mut tables = self.lock().await;
        let before = ms(before);
        let (rows, tokens) = (tables.outbox.len(), tables.link_tokens.len());
        let finished = |r: &OutboxRow| matches!(r.state, OutboxState::Sent | OutboxState::Dropped);
        tables.outbox.retain(|_, r| !(finished(r) && r.updated_at < before));
        let Tables { outbox, outbox_rate_keys, outbox_users, .. } = &mut *tables;
        outbox_rate_keys.retain(|id, _| outbox.contains_key(id));
        outbox_users.retain(|id, _| outbox.contains_key(id));
        tables.link_tokens.retain(|_, t| t.expires_at >= before);
        Ok((rows - tables.outbox.len() + tokens - tables.link_tokens.len()) as u64)
    }
}
