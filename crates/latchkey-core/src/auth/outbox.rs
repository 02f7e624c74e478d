//! What the outbox worker asks of the core: open a claimed row and, for a reset request,
//! decide whether there is anyone to send to and issue their token.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::AuthService;
use super::email::new_link;
use crate::crypto::MasterKey;
use crate::domain::{LinkPurpose, OutboxId, ProjectId};
use crate::store::OutboxRow;
use crate::{CoreError, Result};

/// An outbox row's body, sealed under the master key (bound to project and row id).
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum MailPayload {
    /// Someone asked for a reset of this address; no account lookup has happened yet.
    ResetRequest { email: String },
    /// A ready message: recipient and the plaintext link token.
    Link { to: String, token: String, expires_at: DateTime<Utc> },
}

/// Never prints the address or the token.
impl std::fmt::Debug for MailPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MailPayload::ResetRequest { .. } => f.write_str("ResetRequest(..)"),
            MailPayload::Link { expires_at, .. } => write!(f, "Link(.., expires_at: {expires_at})"),
        }
    }
}

fn payload_context(project: ProjectId, id: OutboxId) -> String {
    format!("latchkey/outbox/{project}/{id}")
}

impl MailPayload {
    pub fn seal(&self, master: &MasterKey, project: ProjectId, id: OutboxId) -> Result<Vec<u8>> {
        let plain = serde_json::to_vec(self).map_err(|e| CoreError::Internal(e.to_string()))?;
        master.encrypt(&plain, &payload_context(project, id))
    }

    pub fn unseal(sealed: &[u8], master: &MasterKey, project: ProjectId, id: OutboxId) -> Result<Self> {
        let plain = master.decrypt(sealed, &payload_context(project, id))?;
        serde_json::from_slice(&plain).map_err(|e| CoreError::Internal(format!("unreadable outbox payload: {e}")))
    }
}

/// A message ready to render and send. Its `Debug` omits the recipient and the token.
#[derive(Clone)]
pub struct OutgoingLink {
    pub id: OutboxId,
    pub project: ProjectId,
    pub purpose: LinkPurpose,
    pub to: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for OutgoingLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingLink")
            .field("id", &self.id)
            .field("project", &self.project)
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
pub enum Prepared {
    Send(OutgoingLink),
    /// Nothing to send (no such account); the row should be closed as dropped.
    Drop,
    /// Another worker took the row over (our lease lapsed); leave it alone.
    Lost,
}

impl AuthService {
    /// Opens a claimed row. A reset request is resolved here, off the request path: the
    /// account lookup, superseding older tokens and issuing the new one (committed together
    /// with the row's new sealed body, so a crash before sending just resends the same link).
    pub async fn prepare_outbox(&self, row: &OutboxRow, claim: &str) -> Result<Prepared> {
        let sealed =
            row.payload_sealed.as_deref().ok_or_else(|| CoreError::Internal("outbox row has no body".into()))?;
        let (to, token, expires_at) = match MailPayload::unseal(sealed, &self.master, row.project_id, row.id)? {
            MailPayload::Link { to, token, expires_at } => (to, token, expires_at),
            MailPayload::ResetRequest { email } => {
                let user = self.store.find_user_by_email(row.project_id, &email).await?;
                let Some(user) = user.filter(|u| u.is_active) else { return Ok(Prepared::Drop) };
                let settings = self.store.mail_settings(row.project_id).await?;
                let now = self.clock.now();
                let (plain, stored) = new_link(&user, LinkPurpose::PasswordReset, now, settings.reset_ttl_secs);
                let payload =
                    MailPayload::Link { to: email.clone(), token: plain.clone(), expires_at: stored.expires_at };
                let resealed = payload.seal(&self.master, row.project_id, row.id)?;
                if !self.store.attach_reset_link(row.id, claim, &stored, &resealed, now).await? {
                    return Ok(Prepared::Lost);
                }
                (email, plain, stored.expires_at)
            }
        };
        Ok(Prepared::Send(OutgoingLink {
            id: row.id,
            project: row.project_id,
            purpose: row.purpose,
            to,
            token,
            expires_at,
        }))
    }

    /// The project's SMTP password, unsealed for one send.
    pub fn smtp_password(&self, project: ProjectId, sealed: &[u8]) -> Result<String> {
        let plain = self.master.decrypt(sealed, &crate::domain::smtp_password_context(project))?;
        String::from_utf8(plain).map_err(|_| CoreError::Internal("SMTP password is not UTF-8".into()))
    }
}
