//! Turns an [`OutgoingLink`] into a MIME message and hands it to the right transport: the
//! project's own SMTP relay, else the server-wide `LATCHKEY_SMTP_URL`, else (no SMTP at all,
//! the embedded default) a `.eml` file under the data directory.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use latchkey_core::auth::{AuthService, OutgoingLink};
use latchkey_core::domain::{LinkPurpose, MailSettings, ProjectId};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncTransport, Message};
use minijinja::context;

use super::smtp::SmtpUrl;
use super::templates::Templates;

/// Server-wide mail settings (see `config.rs`).
#[derive(Debug, Clone)]
pub struct MailerConfig {
    pub public_url: String,
    pub default_smtp: Option<SmtpUrl>,
    pub default_from: String,
    /// Where the file transport writes (`<data dir>/mail`).
    pub file_dir: PathBuf,
    pub smtp_timeout: Duration,
    pub templates: Templates,
    /// Extra trusted CA certificates (PEM) for relays with a private CA.
    pub smtp_ca_pem: Option<Vec<u8>>,
}

/// Why a delivery failed: transient failures are retried with backoff, permanent ones are not.
#[derive(Debug)]
pub enum SendError {
    Transient(String),
    Permanent(String),
}

pub struct Mailer {
    auth: Arc<AuthService>,
    config: MailerConfig,
}

impl Mailer {
    pub fn new(auth: Arc<AuthService>, config: MailerConfig) -> Self {
        Self { auth, config }
    }

    pub async fn deliver(&self, link: &OutgoingLink) -> Result<(), SendError> {
        let transient = |e: String| SendError::Transient(e);
        let project = self.auth.project_context(link.project).await.map_err(|e| transient(e.to_string()))?;
        let settings = self.auth.store().mail_settings(link.project).await.map_err(|e| transient(e.to_string()))?;
        let url = link_url(&self.config.public_url, link.project, link.purpose, &settings, &link.token);
        let ttl = settings.ttl_secs(link.purpose);
        let context = context! {
            project_name => project.project.name.clone(),
            email => link.to.clone(),
            link => url,
            expires_at => link.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            expires_in => human_duration(ttl),
        };
        let rendered =
            self.config.templates.render(link.project, link.purpose, context).map_err(SendError::Permanent)?;

        let from_text = settings.mail_from.as_deref().unwrap_or(&self.config.default_from);
        let from: Mailbox = from_text.parse().map_err(|e| SendError::Permanent(format!("bad sender address: {e}")))?;
        // The stored address is an addr-spec; parse it as exactly that (never as a mailbox with a
        // display name, which could route to a different address than the one stored).
        let address: lettre::Address =
            link.to.parse().map_err(|e| SendError::Permanent(format!("bad recipient address: {e}")))?;
        let to = Mailbox::new(None, address);
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(rendered.subject)
            // Stable per outbox row: a resend after a crash carries the same id, so the
            // receiving side can recognise the duplicate.
            .message_id(Some(format!("<{}@latchkey>", link.id)))
            .multipart(MultiPart::alternative_plain_html(rendered.text, rendered.html))
            .map_err(|e| SendError::Permanent(format!("cannot build message: {e}")))?;

        match self.relay(link.project, &settings)? {
            Some(relay) => {
                let transport = relay
                    .transport(self.config.smtp_timeout, self.config.smtp_ca_pem.as_deref())
                    .map_err(SendError::Permanent)?;
                transport.send(message).await.map_err(|e| {
                    let text = format!("SMTP {}:{}: {e}", relay.host, relay.port);
                    if e.is_permanent() { SendError::Permanent(text) } else { SendError::Transient(text) }
                })?;
                tracing::info!(outbox = %link.id, relay = %relay, "email sent");
                Ok(())
            }
            None => self.write_file(link, &message.formatted()).await,
        }
    }

    /// The project's relay (password unsealed for this send), else the server default.
    fn relay(&self, project: ProjectId, settings: &MailSettings) -> Result<Option<SmtpUrl>, SendError> {
        let Some(own) = &settings.smtp else { return Ok(self.config.default_smtp.clone()) };
        let mut relay = SmtpUrl::parse(&own.url).map_err(|e| SendError::Permanent(format!("project SMTP URL: {e}")))?;
        if let Some(sealed) = &own.password_sealed {
            relay.password =
                Some(self.auth.smtp_password(project, sealed).map_err(|e| SendError::Permanent(e.to_string()))?);
        }
        Ok(Some(relay))
    }

    /// Writes `<file dir>/<project>/<outbox id>.eml` (named by row, so a retry overwrites
    /// rather than duplicates), via a temporary file so a reader never sees half a message.
    async fn write_file(&self, link: &OutgoingLink, bytes: &[u8]) -> Result<(), SendError> {
        let dir = self.config.file_dir.join(link.project.to_string());
        let path = dir.join(format!("{}.eml", link.id));
        let partial = dir.join(format!(".{}.eml.partial", link.id));
        let io = |e: std::io::Error| SendError::Transient(format!("cannot write {}: {e}", path.display()));
        tokio::fs::create_dir_all(&dir).await.map_err(io)?;
        tokio::fs::write(&partial, bytes).await.map_err(io)?;
        tokio::fs::rename(&partial, &path).await.map_err(io)?;
        tracing::info!(outbox = %link.id, path = %path.display(), "no SMTP configured: email written to file");
        Ok(())
    }
}

/// The project's page URL, or Latchkey's hosted page, with `token` appended.
pub fn link_url(public_url: &str, project: ProjectId, purpose: LinkPurpose, s: &MailSettings, token: &str) -> String {
    let base = match s.page_url(purpose) {
        Some(own) => own.to_owned(),
        None => {
            let page = match purpose {
                LinkPurpose::PasswordReset => "reset-password-page",
                LinkPurpose::VerifyEmail => "verify-email-link",
            };
            format!("{public_url}/v7/{project}/auth/{page}")
        }
    };
    let separator = if base.contains('?') { '&' } else { '?' };
    // Tokens are base64url: already safe in a query string.
    format!("{base}{separator}token={token}")
}

fn human_duration(secs: i64) -> String {
    let plural = |n: i64, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    if secs % 86400 == 0 {
        plural(secs / 86400, "day")
    } else if secs % 3600 == 0 {
        plural(secs / 3600, "hour")
    } else {
        plural((secs + 59) / 60, "minute")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_use_the_project_page_or_the_hosted_one() {
        let p = ProjectId::generate();
        let mut s = MailSettings::default();
        assert_eq!(
            link_url("http://h", p, LinkPurpose::PasswordReset, &s, "T"),
            format!("http://h/v7/{p}/auth/reset-password-page?token=T")
        );
        s.verify_page_url = Some("https://app.example/verify?from=mail".into());
        assert_eq!(
            link_url("http://h", p, LinkPurpose::VerifyEmail, &s, "T"),
            "https://app.example/verify?from=mail&token=T"
        );
        assert_eq!(human_duration(3600), "1 hour");
        assert_eq!(human_duration(86400), "1 day");
        assert_eq!(human_duration(900), "15 minutes");
    }
}
