//! Password reset and email verification: the four API functions and the link checks the
//! hosted pages use. Tokens are 256-bit random values from the OS RNG; only their SHA-256
//! digest is stored. Sending is never done here: flows commit an outbox row and wake the
//! worker, so an SMTP outage never fails or slows a request.

use chrono::{DateTime, Duration, Utc};

use std::sync::Arc;

use super::outbox::MailPayload;
use super::security_events::security_event;
use super::shared::Shared;
use crate::crypto::{digest, random_token};
use crate::domain::{AuditAction, Email, LinkPurpose, OutboxId, Password, ProjectId, User, UserId};
use crate::store::{LinkToken, NewOutbox};
use crate::{CoreError, Result};

/// Reset requests per (project, address) accepted in [`RESET_RATE_WINDOW_SECS`]; more are
/// answered identically but not queued (stops mail-bombing one inbox through the API).
const RESET_RATE_MAX: u32 = 5;
const RESET_RATE_WINDOW_SECS: i64 = 15 * 60;
/// Tokens we mint are 43 characters; anything much longer is garbage, refused before hashing.
const MAX_TOKEN_LEN: usize = 256;
/// 32 bytes = 256 bits of entropy.
const TOKEN_BYTES: usize = 32;

/// What a link token is worth right now (for the hosted pages' outcome messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    Valid {
        expires_at: DateTime<Utc>,
    },
    Expired,
    Used,
    /// Replaced by a newer reset request before it was used.
    Superseded,
    /// Unknown, garbage, of another project or of the other purpose.
    Invalid,
}

#[derive(Clone)]
pub struct EmailLinks {
    shared: Arc<Shared>,
}

impl EmailLinks {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Always succeeds for a well-formed address; whether an account exists is decided later
    /// by the outbox worker, so this costs one constant insert either way.
    pub async fn request_password_reset(&self, project: ProjectId, email: &str) -> Result<()> {
        let email = Email::parse(email)?;
        let now = self.shared.clock.now();
        let id = OutboxId::generate();
        let payload = MailPayload::ResetRequest { email: email.as_str().into() };
        let row = NewOutbox {
            id,
            project_id: project,
            purpose: LinkPurpose::PasswordReset,
            payload_sealed: payload.seal(&self.shared.master, project, id)?,
            rate_key: Some(reset_rate_key(project, email.as_str())),
            user_id: None,
            created_at: now,
        };
        let since = now - Duration::seconds(RESET_RATE_WINDOW_SECS);
        if self.shared.store.enqueue_reset_request(&row, since, RESET_RATE_MAX).await? {
            self.shared.outbox_signal.notify_one();
        } else {
            tracing::info!(project = %project, "password reset request rate-limited for one address");
        }
        Ok(())
    }

    /// Sets a new password with a reset token. In one transaction: the token is consumed, the
    /// password set, the email marked verified (the link proved ownership) and every session
    /// of the user revoked; `password-reset.completed` is recorded with them.
    pub async fn reset_password(&self, project: ProjectId, token: &str, new_password: String) -> Result<()> {
        let status = self.link_status(project, LinkPurpose::PasswordReset, token).await?;
        if !matches!(status, LinkStatus::Valid { .. }) {
            return Err(CoreError::InvalidResetToken);
        }
        let password = Password::new_for("newPassword", new_password)?;
        let hash = self.shared.hasher.hash(project, password).await?;
        let now = self.shared.clock.now();
        // The store adds the user's id: the token names it.
        let completed = security_event(project, now, AuditAction::PasswordResetCompleted, None);
        let user = self.shared.store.complete_password_reset(project, &digest(token), &hash, now, &completed).await?;
        let user = user.ok_or(CoreError::InvalidResetToken)?;
        tracing::info!(project = %project, user = %user, "password reset completed; sessions revoked");
        Ok(())
    }

    pub async fn verify_email(&self, project: ProjectId, token: &str) -> Result<()> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(CoreError::InvalidOrExpiredToken);
        }
        let now = self.shared.clock.now();
        let user = self.shared.store.complete_email_verification(project, &digest(token), now).await?;
        user.map(|_| ()).ok_or(CoreError::InvalidOrExpiredToken)
    }

    /// The server-side trigger: queues a verification email for an unverified user.
    pub async fn send_verification_email(&self, project: ProjectId, user: UserId) -> Result<()> {
        let user = self.shared.store.get_user(project, user).await?.ok_or(CoreError::UserNotFound)?;
        if user.is_verified {
            return Err(CoreError::AlreadyVerified);
        }
        self.queue_verification(&user).await
    }

    /// Sign-up's automatic verification email, when the project asks for it. Best effort: the
    /// account exists either way and the customer can trigger the email again.
    pub(super) async fn after_sign_up(&self, user: &User) {
        let wanted = match self.shared.store.mail_settings(user.project_id).await {
            Ok(settings) => settings.verify_on_sign_up,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read mail settings after sign-up");
                false
            }
        };
        if wanted && let Err(e) = self.queue_verification(user).await {
            tracing::warn!(error = %e, user = %user.id, "verification email not queued after sign-up");
        }
    }

    async fn queue_verification(&self, user: &User) -> Result<()> {
        let to = user.email.clone().ok_or(CoreError::UserNotFound)?;
        let settings = self.shared.store.mail_settings(user.project_id).await?;
        let now = self.shared.clock.now();
        let (plain, token) = new_link(user, LinkPurpose::VerifyEmail, now, settings.verify_ttl_secs);
        let id = OutboxId::generate();
        let payload = MailPayload::Link { to: to.into(), token: plain.into(), expires_at: token.expires_at };
        let mail = NewOutbox {
            id,
            project_id: user.project_id,
            purpose: LinkPurpose::VerifyEmail,
            payload_sealed: payload.seal(&self.shared.master, user.project_id, id)?,
            rate_key: None,
            user_id: Some(user.id),
            created_at: now,
        };
        self.shared.store.insert_link_with_mail(&token, &mail).await?;
        self.shared.outbox_signal.notify_one();
        Ok(())
    }

    /// Reads a token's state without consuming it (a GET of a hosted page).
    pub async fn link_status(&self, project: ProjectId, purpose: LinkPurpose, token: &str) -> Result<LinkStatus> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Ok(LinkStatus::Invalid);
        }
        let Some(stored) = self.shared.store.link_token(project, &digest(token)).await? else {
            return Ok(LinkStatus::Invalid);
        };
        // A link to an address the user no longer has is dead (the consume statement agrees).
        let current_email = self.shared.store.get_user(project, stored.user_id).await?.and_then(|u| u.email);
        Ok(if stored.purpose != purpose || current_email.as_deref() != Some(stored.email.as_str()) {
            LinkStatus::Invalid
        } else if stored.superseded {
            LinkStatus::Superseded
        } else if stored.used_at.is_some() {
            LinkStatus::Used
        } else if stored.expires_at <= self.shared.clock.now() {
            LinkStatus::Expired
        } else {
            LinkStatus::Valid { expires_at: stored.expires_at }
        })
    }
}

/// The rate key of reset requests for `email` in `project` (a digest: the address is not
/// stored in clear on the outbox row).
pub(crate) fn reset_rate_key(project: ProjectId, email: &str) -> String {
    digest(&format!("{project}\n{email}"))
}

/// A fresh token for `user`: the plaintext (for the email only) and the stored digest form.
pub(crate) fn new_link(user: &User, purpose: LinkPurpose, now: DateTime<Utc>, ttl_secs: i64) -> (String, LinkToken) {
    let plain = random_token(TOKEN_BYTES);
    let stored = LinkToken {
        digest: digest(&plain),
        project_id: user.project_id,
        user_id: user.id,
        email: user.email.clone().unwrap_or_default(),
        purpose,
        created_at: now,
        expires_at: now + Duration::seconds(ttl_secs),
        used_at: None,
        superseded: false,
    };
    (plain, stored)
}
