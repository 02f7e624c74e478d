//! What the worker hands to a transport, and how a transport reports failure.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;

use crate::domain::{LinkPurpose, MailSettings, OutboxId, ProjectId};

/// Renders and delivers one prepared message (SMTP, a file drop, a test double).
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError>;
}

/// Why a delivery failed: transient failures are retried with backoff, permanent ones are not.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Permanent(String),
}

/// A message ready to render and send. Recipient, token and relay password are secrets:
/// `Debug` shows them as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// Also the stable Message-ID: a resend after a crash carries the same one.
    pub id: OutboxId,
    pub project: ProjectId,
    pub project_name: String,
    pub purpose: LinkPurpose,
    pub to: SecretString,
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
    /// The project's settings when the message was prepared: page URLs, sender, link
    /// lifetimes, its own relay.
    pub settings: MailSettings,
    /// The project relay's password, unsealed for this one send.
    pub relay_password: Option<SecretString>,
}
