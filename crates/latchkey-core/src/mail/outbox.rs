//! The outbox as the worker drives it: claim a due row, prepare it, settle its outcome.
//! [`Outbox`] is the store-backed implementation; the [`OutboxQueue`] trait lets the worker's
//! retry policy be tested against a queue held in memory.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Notify;

use super::mailer::OutgoingMail;
use crate::auth::MailPayload;
use crate::auth::new_link;
use crate::clock::Clock;
use crate::crypto::MasterKey;
use crate::domain::{LinkPurpose, OutboxId, ProjectId, smtp_password_context};
use crate::store::{Claim, OutboxRow, OutboxState, Store};
use crate::{CoreError, Result};

#[derive(Debug)]
pub enum Prepared {
    Send(Box<OutgoingMail>),
    /// Nothing to send (no such account); the row should be closed as dropped.
    Drop,
    /// Another worker took the row over (our lease lapsed); leave it alone.
    Lost,
    /// The row can never be sent as it stands (its relay password cannot be unsealed).
    Undeliverable(String),
}

/// How a claimed row ends this round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    Sent,
    Dropped,
    Retry { at: DateTime<Utc>, error: String },
    Failed { error: String },
}

#[async_trait]
pub trait OutboxQueue: Send + Sync + 'static {
    /// Atomically takes the oldest due row, if any.
    async fn claim(&self, claim: &Claim) -> Result<Option<OutboxRow>>;
    async fn prepare(&self, row: &OutboxRow, claim: &str) -> Result<Prepared>;
    /// Records the outcome while `claim` still holds the row. False if a `Sent` could not be
    /// recorded because the claim had lapsed.
    async fn settle(&self, id: OutboxId, claim: &str, settlement: &Settlement, now: DateTime<Utc>) -> Result<bool>;
    /// Notified when a request commits a row.
    fn wakeups(&self) -> Arc<Notify>;
}

/// The outbox over the store. Built by `auth::Services::outbox`, sharing its store, master key,
/// clock (link lifetimes) and wake-up signal.
#[derive(Clone)]
pub struct Outbox {
    store: Arc<dyn Store>,
    master: MasterKey,
    clock: Arc<dyn Clock>,
    signal: Arc<Notify>,
}

impl Outbox {
    pub(crate) fn new(store: Arc<dyn Store>, master: MasterKey, clock: Arc<dyn Clock>, signal: Arc<Notify>) -> Self {
        Self { store, master, clock, signal }
    }

    /// Opens the row's sealed body. A reset request is resolved here, off the request path:
    /// the account lookup, superseding older tokens and issuing the new one (committed with
    /// the row's new sealed body, so a crash before sending just resends the same link).
    async fn open(&self, row: &OutboxRow, claim: &str) -> Result<Opened> {
        let sealed =
            row.payload_sealed.as_deref().ok_or_else(|| CoreError::Internal("outbox row has no body".into()))?;
        match MailPayload::unseal(sealed, &self.master, row.project_id, row.id)? {
            MailPayload::Link { to, token, expires_at } => Ok(Opened::Link { to, token, expires_at }),
            MailPayload::ResetRequest { email } => {
                let user = self.store.find_user_by_email(row.project_id, email.expose_secret()).await?;
                let Some(user) = user.filter(|u| u.is_active) else { return Ok(Opened::NoAccount) };
                let settings = self.store.mail_settings(row.project_id).await?;
                let now = self.clock.now();
                let (plain, stored) = new_link(&user, LinkPurpose::PasswordReset, now, settings.reset_ttl_secs);
                let token = SecretString::from(plain);
                let payload =
                    MailPayload::Link { to: email.clone(), token: token.clone(), expires_at: stored.expires_at };
                let resealed = payload.seal(&self.master, row.project_id, row.id)?;
                if !self.store.attach_reset_link(row.id, claim, &stored, &resealed, now).await? {
                    return Ok(Opened::Lost);
                }
                Ok(Opened::Link { to: email, token, expires_at: stored.expires_at })
            }
        }
    }

    /// The project's SMTP password, unsealed for one send.
    fn unseal_password(&self, project: ProjectId, sealed: &[u8]) -> Result<SecretString> {
        let plain = self.master.decrypt(sealed, &smtp_password_context(project))?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| CoreError::Internal("SMTP password is not UTF-8".into()))
    }
}

/// A row's body, opened.
enum Opened {
    Link {
        to: SecretString,
        token: SecretString,
        expires_at: DateTime<Utc>,
    },
    /// A reset request for an address with no active account.
    NoAccount,
    /// Our claim lapsed while resolving a reset request.
    Lost,
}

#[async_trait]
impl OutboxQueue for Outbox {
    async fn claim(&self, claim: &Claim) -> Result<Option<OutboxRow>> {
        Ok(self.store.claim_outbox(claim).await?)
    }

    async fn prepare(&self, row: &OutboxRow, claim: &str) -> Result<Prepared> {
        let (to, token, expires_at) = match self.open(row, claim).await? {
            Opened::Link { to, token, expires_at } => (to, token, expires_at),
            Opened::NoAccount => return Ok(Prepared::Drop),
            Opened::Lost => return Ok(Prepared::Lost),
        };
        let project = self.store.get_project(row.project_id).await?.ok_or(CoreError::ProjectNotFound)?;
        let settings = self.store.mail_settings(row.project_id).await?;
        let relay_password = match settings.smtp.as_ref().and_then(|s| s.password_sealed.as_deref()) {
            None => None,
            Some(sealed) => match self.unseal_password(row.project_id, sealed) {
                Ok(password) => Some(password),
                Err(e) => return Ok(Prepared::Undeliverable(e.to_string())),
            },
        };
        Ok(Prepared::Send(Box::new(OutgoingMail {
            id: row.id,
            project: row.project_id,
            project_name: project.name,
            purpose: row.purpose,
            to,
            token,
            expires_at,
            settings,
            relay_password,
        })))
    }

    async fn settle(&self, id: OutboxId, claim: &str, settlement: &Settlement, now: DateTime<Utc>) -> Result<bool> {
        let store = &self.store;
        match settlement {
            Settlement::Sent => return Ok(store.outbox_sent(id, claim, now).await?),
            Settlement::Dropped => store.outbox_finish(id, claim, OutboxState::Dropped, None, now).await?,
            Settlement::Failed { error } => {
                store.outbox_finish(id, claim, OutboxState::Failed, Some(error), now).await?
            }
            Settlement::Retry { at, error } => store.outbox_retry_at(id, claim, *at, error, now).await?,
        }
        Ok(true)
    }

    fn wakeups(&self) -> Arc<Notify> {
        Arc::clone(&self.signal)
    }
}
