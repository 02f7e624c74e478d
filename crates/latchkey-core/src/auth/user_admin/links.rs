//! Links an operator issues for a user: a password reset or an email verification, either
//! mailed as the user's own request would be (through the outbox) or handed back to the
//! operator to deliver some other way. Either way the token is the flows' usual one (single
//! use, its purpose's lifetime, valid only while the user keeps the address).

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::UserAdmin;
use crate::auth::{MailPayload, new_link};
use crate::domain::{Actor, AuditAction, LinkPurpose, OutboxId, ProjectId, User, UserId};
use crate::store::{LinkToken, NewOutbox};
use crate::{CoreError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkDelivery {
    /// Queue the usual email.
    Email,
    /// Return the token; send nothing.
    Return,
}

/// A link handed back to the operator. `Debug` never shows the token.
#[derive(Debug)]
pub struct IssuedLink {
    pub purpose: LinkPurpose,
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
    /// The project's own page for this purpose, if it has one (else the hosted page).
    pub page_url: Option<String>,
}

impl UserAdmin {
    /// Issues a `purpose` link for the user; it replaces their unused links of that purpose.
    /// `Some` with [`LinkDelivery::Return`], `None` once the email is queued.
    pub async fn issue_link(
        &self,
        actor: Actor,
        project: ProjectId,
        id: UserId,
        purpose: LinkPurpose,
        delivery: LinkDelivery,
    ) -> Result<Option<IssuedLink>> {
        let user = self.user(project, id).await?;
        if user.email.is_none() {
            return Err(CoreError::invalid("kind", "this user has no email address for a link"));
        }
        if purpose == LinkPurpose::VerifyEmail && user.is_verified {
            return Err(CoreError::AlreadyVerified);
        }
        let settings = self.deps.store.mail_settings(project).await?;
        let now = self.now();
        let (plain, token) = new_link(&user, purpose, now, settings.ttl_secs(purpose));
        let event = self
            .event(project, actor, AuditAction::UserLinkIssued, id)
            .detail("kind", purpose.as_str())
            .detail("delivery", if delivery == LinkDelivery::Email { "email" } else { "return" });
        match delivery {
            LinkDelivery::Email => {
                let mail = self.link_mail(&user, &token, plain)?;
                self.deps.store.issue_link(&token, Some(&mail), &event).await?;
                self.wake_outbox();
                Ok(None)
            }
            LinkDelivery::Return => {
                self.deps.store.issue_link(&token, None, &event).await?;
                let page_url = settings.page_url(purpose).map(str::to_owned);
                Ok(Some(IssuedLink { purpose, token: plain.into(), expires_at: token.expires_at, page_url }))
            }
        }
    }

    /// A verification link for `user`'s (new) address and its message, to write with a change.
    pub(super) async fn verification_mail(&self, user: &User, now: DateTime<Utc>) -> Result<(LinkToken, NewOutbox)> {
        let settings = self.deps.store.mail_settings(user.project_id).await?;
        let (plain, token) = new_link(user, LinkPurpose::VerifyEmail, now, settings.verify_ttl_secs);
        let mail = self.link_mail(user, &token, plain)?;
        Ok((token, mail))
    }

    /// The outbox row carrying `token` (plaintext `plain`) to the user's address, sealed.
    fn link_mail(&self, user: &User, token: &LinkToken, plain: String) -> Result<NewOutbox> {
        let to = user.email.clone().ok_or(CoreError::UserNotFound)?;
        let id = OutboxId::generate();
        let payload = MailPayload::Link { to: to.into(), token: plain.into(), expires_at: token.expires_at };
        Ok(NewOutbox {
            id,
            project_id: user.project_id,
            purpose: token.purpose,
            payload_sealed: payload.seal(&self.deps.master, user.project_id, id)?,
            rate_key: None,
            user_id: Some(user.id),
            created_at: token.created_at,
        })
    }
}
