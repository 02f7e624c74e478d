//! The server's [`Mailer`]: renders a prepared message with the shared templates into MIME
//! and hands it to the right transport: the project's own SMTP relay, else the server-wide
//! `LATCHKEY_SMTP_URL`, else (no SMTP at all, the embedded default) a `.eml` file.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use latchkey_core::domain::{LinkPurpose, ProjectId};
use latchkey_core::mail::{Mailer, OutgoingMail, SendError};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncTransport, Message};
use minijinja::context;
use secrecy::ExposeSecret;

use super::file::EmlDrop;
use super::smtp::SmtpUrl;
use super::templates::Templates;

/// Server-wide mail settings (see `config.rs`).
#[derive(Debug, Clone)]
pub struct MailerConfig {
    pub public_url: String,
    pub default_smtp: Option<SmtpUrl>,
    pub default_from: String,
    /// Where the file transport writes (`<data dir>/mail`).
    pub file_drop: EmlDrop,
    pub smtp_timeout: Duration,
    /// Built once at start-up and shared.
    pub templates: Arc<Templates>,
    /// Extra trusted CA certificates (PEM) for relays with a private CA.
    pub smtp_ca_pem: Option<Vec<u8>>,
}

pub struct LinkMailer {
    config: MailerConfig,
}

impl LinkMailer {
    pub fn new(config: MailerConfig) -> Self {
        Self { config }
    }

    fn compose(&self, mail: &OutgoingMail) -> Result<Message, SendError> {
        let settings = &mail.settings;
        let token = mail.token.expose_secret();
        let url = link_url(&self.config.public_url, mail.project, mail.purpose, settings.page_url(mail.purpose), token);
        let context = context! {
            project_name => mail.project_name.clone(),
            email => mail.to.expose_secret(),
            link => url,
            expires_at => mail.expires_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            expires_in => human_duration(settings.ttl_secs(mail.purpose)),
        };
        let rendered =
            self.config.templates.render(mail.project, mail.purpose, context).map_err(SendError::Permanent)?;

        let from_text = settings.mail_from.as_deref().unwrap_or(&self.config.default_from);
        let from: Mailbox = from_text.parse().map_err(|e| SendError::Permanent(format!("bad sender address: {e}")))?;
        // The stored address is an addr-spec; parse it as exactly that (never as a mailbox with a
        // display name, which could route to a different address than the one stored).
        let address: lettre::Address =
            mail.to.expose_secret().parse().map_err(|e| SendError::Permanent(format!("bad recipient address: {e}")))?;
        Message::builder()
            .from(from)
            .to(Mailbox::new(None, address))
            .subject(rendered.subject)
            // Stable per outbox row: a resend after a crash carries the same id, so the
            // receiving side can recognise the duplicate.
            .message_id(Some(format!("<{}@latchkey>", mail.id)))
            .multipart(MultiPart::alternative_plain_html(rendered.text, rendered.html))
            .map_err(|e| SendError::Permanent(format!("cannot build message: {e}")))
    }

    /// The project's relay (with the password the core unsealed for this send), else the
    /// server default.
    fn relay(&self, mail: &OutgoingMail) -> Result<Option<SmtpUrl>, SendError> {
        let Some(own) = &mail.settings.smtp else { return Ok(self.config.default_smtp.clone()) };
        let mut relay = SmtpUrl::parse(&own.url).map_err(|e| SendError::Permanent(format!("project SMTP URL: {e}")))?;
        if let Some(password) = &mail.relay_password {
            relay.password = Some(password.clone());
        }
        Ok(Some(relay))
    }
}

#[async_trait]
impl Mailer for LinkMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), SendError> {
        let message = self.compose(mail)?;
        let Some(relay) = self.relay(mail)? else {
            return self.config.file_drop.write(mail.project, mail.id, &message.formatted()).await;
        };
        let transport = relay
            .transport(self.config.smtp_timeout, self.config.smtp_ca_pem.as_deref())
            .map_err(SendError::Permanent)?;
        transport.send(message).await.map_err(|e| {
            let text = format!("SMTP {}:{}: {e}", relay.host, relay.port);
            if e.is_permanent() { SendError::Permanent(text) } else { SendError::Transient(text) }
        })?;
        tracing::info!(outbox = %mail.id, relay = %relay, "email sent");
        Ok(())
    }
}

/// The project's page URL (`page_url`, from its mail settings), or Latchkey's hosted page,
/// with `token` appended.
pub fn link_url(
    public_url: &str,
    project: ProjectId,
    purpose: LinkPurpose,
    page_url: Option<&str>,
    token: &str,
) -> String {
    let base = match page_url {
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
    use latchkey_core::domain::MailSettings;

    use super::*;

    #[test]
    fn links_use_the_project_page_or_the_hosted_one() {
        let p = ProjectId::generate();
        let mut s = MailSettings::default();
        assert_eq!(
            link_url("http://h", p, LinkPurpose::PasswordReset, s.page_url(LinkPurpose::PasswordReset), "T"),
            format!("http://h/v7/{p}/auth/reset-password-page?token=T")
        );
        s.verify_page_url = Some("https://app.example/verify?from=mail".into());
        assert_eq!(
            link_url("http://h", p, LinkPurpose::VerifyEmail, s.page_url(LinkPurpose::VerifyEmail), "T"),
            "https://app.example/verify?from=mail&token=T"
        );
        assert_eq!(human_duration(3600), "1 hour");
        assert_eq!(human_duration(86400), "1 day");
        assert_eq!(human_duration(900), "15 minutes");
    }
}
