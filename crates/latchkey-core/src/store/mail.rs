//! Storage for the email flows: per-project mail settings, single-use link tokens (stored as
//! SHA-256 digests only), and the durable outbox the delivery worker drains.
//!
//! Every state change that must be atomic is one call: issuing a token together with its
//! outbox row, completing a reset (password + verified + every session revoked), and each
//! outbox transition, which applies only while the caller still holds the row's claim.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::{LinkPurpose, MailSettings, OutboxId, ProjectId, UserId};

/// A link token as stored: its digest, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkToken {
    pub digest: String,
    pub project_id: ProjectId,
    pub user_id: UserId,
    /// The address the link was sent to: it only works while the user still has it.
    pub email: String,
    pub purpose: LinkPurpose,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// Set when a newer reset request replaced this token before it was used.
    pub superseded: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    /// Waiting for its next attempt.
    Pending,
    /// Claimed by a worker until `lease_until`; a crashed worker's claim lapses.
    Sending,
    Sent,
    /// Gave up (permanent SMTP error or attempts exhausted); `latchkey outbox retry` requeues.
    Failed,
    /// A reset request for an address with no account: nothing to send, by design.
    Dropped,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Dropped => "dropped",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => OutboxState::Pending,
            "sending" => OutboxState::Sending,
            "sent" => OutboxState::Sent,
            "failed" => OutboxState::Failed,
            "dropped" => OutboxState::Dropped,
            _ => return None,
        })
    }
}

/// A new outbox row. `payload_sealed` is sealed under the master key: once a link is attached
/// it holds the plaintext token, so the database alone must not reveal it.
#[derive(Debug, Clone)]
pub struct NewOutbox {
    pub id: OutboxId,
    pub project_id: ProjectId,
    pub purpose: LinkPurpose,
    pub payload_sealed: Vec<u8>,
    /// Digest of (project, email) for per-address rate limiting of reset requests.
    pub rate_key: Option<String>,
    /// The user the message is about, when known (a reset request learns it only when the
    /// worker resolves the address): how erasing a user finds their messages.
    pub user_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: OutboxId,
    pub project_id: ProjectId,
    pub purpose: LinkPurpose,
    pub state: OutboxState,
    /// None once sent or dropped: delivered bodies are not kept.
    pub payload_sealed: Option<Vec<u8>>,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub lease_until: Option<DateTime<Utc>>,
    pub claim: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A worker's claim on one row.
#[derive(Debug, Clone)]
pub struct Claim {
    pub token: String,
    /// Worker-clock time; rows whose next attempt or lapsed lease is at or before it are due.
    pub now: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
}

#[async_trait]
pub trait MailStore: Send + Sync + 'static {
    async fn mail_settings(&self, project: ProjectId) -> StoreResult<MailSettings>;
    async fn put_mail_settings(
        &self,
        project: ProjectId,
        settings: &MailSettings,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Inserts a reset-request row unless `max` rows with the same `rate_key` were created
    /// after `since`. Returns whether it was inserted. Costs the same whether or not the
    /// address has an account (the account is resolved later by the worker).
    async fn enqueue_reset_request(&self, row: &NewOutbox, since: DateTime<Utc>, max: u32) -> StoreResult<bool>;

    /// Issues a token and its message in one transaction (verification emails).
    async fn insert_link_with_mail(&self, token: &LinkToken, mail: &NewOutbox) -> StoreResult<()>;

    /// For a claimed reset-request row: supersedes the user's unused reset tokens, inserts
    /// `token`, and replaces the row's payload with `payload_sealed` (and names the token's
    /// user on the row), in one transaction.
    /// False if the claim was lost.
    async fn attach_reset_link(
        &self,
        outbox: OutboxId,
        claim: &str,
        token: &LinkToken,
        payload_sealed: &[u8],
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    async fn link_token(&self, project: ProjectId, digest: &str) -> StoreResult<Option<LinkToken>>;

    /// Consumes a live reset token and, in the same transaction, sets the password hash,
    /// marks the email verified and revokes every session of the user. None when the token
    /// is unknown, of another project or purpose, used, superseded or expired at `now`.
    async fn complete_password_reset(
        &self,
        project: ProjectId,
        digest: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>>;

    /// Consumes a live verification token and marks the email verified, atomically.
    async fn complete_email_verification(
        &self,
        project: ProjectId,
        digest: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UserId>>;

    // The outbox, as the delivery worker sees it.
    /// Atomically takes the oldest due row (pending and due, or sending with a lapsed lease).
    async fn claim_outbox(&self, claim: &Claim) -> StoreResult<Option<OutboxRow>>;
    /// Marks a claimed row sent and drops its body. False if the claim was lost.
    async fn outbox_sent(&self, id: OutboxId, claim: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Returns a claimed row to pending with its attempt counted.
    async fn outbox_retry_at(
        &self,
        id: OutboxId,
        claim: &str,
        next_attempt_at: DateTime<Utc>,
        error: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Ends a claimed row as failed or dropped (dropping clears the body).
    async fn outbox_finish(
        &self,
        id: OutboxId,
        claim: &str,
        state: OutboxState,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    // Operators.
    async fn list_outbox(&self, state: Option<OutboxState>, limit: u32) -> StoreResult<Vec<OutboxRow>>;
    /// Requeues failed rows (one, or all with `None`); returns how many.
    async fn requeue_outbox(&self, id: Option<OutboxId>, now: DateTime<Utc>) -> StoreResult<u64>;

    // Maintenance.
    /// Deletes finished outbox rows (sent, dropped) last touched before `before`, and link
    /// tokens that expired before it; returns how many rows went. Keeps the tables from
    /// growing without bound (a flood of reset requests for random addresses, say).
    async fn purge_mail(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}
