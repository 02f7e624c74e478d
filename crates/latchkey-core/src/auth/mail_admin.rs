//! Operator actions for email: per-project mail settings and the outbox.

use std::sync::Arc;

use super::shared::Deps;
use crate::domain::{MailSettings, OutboxId, ProjectId, SmtpOverride, smtp_password_context};
use crate::store::{OutboxRow, OutboxState};
use crate::{CoreError, Result};

/// A partial update of [`MailSettings`]: `None` leaves a field alone; `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct MailSettingsChange {
    pub reset_page_url: Option<Option<String>>,
    pub verify_page_url: Option<Option<String>>,
    pub mail_from: Option<Option<String>>,
    /// The relay URL without its password (the caller splits it out and validates the URL).
    pub smtp_url: Option<Option<String>>,
    pub smtp_password: Option<Option<String>>,
    pub reset_ttl_secs: Option<i64>,
    pub verify_ttl_secs: Option<i64>,
    pub verify_on_sign_up: Option<bool>,
}

#[derive(Clone)]
pub struct MailAdmin {
    deps: Arc<Deps>,
}

impl MailAdmin {
    pub fn new(deps: Arc<Deps>) -> Self {
        Self { deps }
    }

    pub async fn mail_settings(&self, project: ProjectId) -> Result<MailSettings> {
        self.deps.project(project).await?;
        Ok(self.deps.store.mail_settings(project).await?)
    }

    pub async fn update_mail_settings(&self, project: ProjectId, change: MailSettingsChange) -> Result<MailSettings> {
        let mut settings = self.mail_settings(project).await?;
        if let Some(url) = change.reset_page_url {
            settings.reset_page_url = url.map(|u| page_url("resetPageUrl", u)).transpose()?;
        }
        if let Some(url) = change.verify_page_url {
            settings.verify_page_url = url.map(|u| page_url("verifyPageUrl", u)).transpose()?;
        }
        if let Some(from) = change.mail_from {
            settings.mail_from = from.map(|f| f.trim().to_owned()).filter(|f| !f.is_empty());
        }
        match change.smtp_url {
            Some(None) => settings.smtp = None,
            Some(Some(url)) => {
                let kept = settings.smtp.take().and_then(|s| s.password_sealed);
                settings.smtp = Some(SmtpOverride { url, has_password: kept.is_some(), password_sealed: kept });
            }
            None => {}
        }
        if let Some(password) = change.smtp_password {
            let smtp = settings.smtp.as_mut().ok_or_else(|| {
                CoreError::invalid("smtpPassword", "set an SMTP URL for the project before its password")
            })?;
            smtp.password_sealed = password
                .map(|p| self.deps.master.encrypt(p.as_bytes(), &smtp_password_context(project)))
                .transpose()?;
            smtp.has_password = smtp.password_sealed.is_some();
        }
        if let Some(ttl) = change.reset_ttl_secs {
            settings.reset_ttl_secs = link_ttl("resetTtl", ttl)?;
        }
        if let Some(ttl) = change.verify_ttl_secs {
            settings.verify_ttl_secs = link_ttl("verifyTtl", ttl)?;
        }
        if let Some(on) = change.verify_on_sign_up {
            settings.verify_on_sign_up = on;
        }
        self.deps.store.put_mail_settings(project, &settings, self.deps.clock.now()).await?;
        Ok(settings)
    }

    pub async fn outbox(&self, state: Option<OutboxState>, limit: u32) -> Result<Vec<OutboxRow>> {
        Ok(self.deps.store.list_outbox(state, limit).await?)
    }

    /// Requeues failed messages (one, or all with `None`).
    pub async fn retry_outbox(&self, id: Option<OutboxId>) -> Result<u64> {
        Ok(self.deps.store.requeue_outbox(id, self.deps.clock.now()).await?)
    }
}

fn page_url(field: &'static str, url: String) -> Result<String> {
    let url = url.trim().to_owned();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2048
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        return Err(CoreError::invalid(field, "page URL must be an absolute http(s) URL"));
    }
    Ok(url)
}

fn link_ttl(field: &'static str, secs: i64) -> Result<i64> {
    if !(MailSettings::MIN_LINK_TTL_SECS..=MailSettings::MAX_LINK_TTL_SECS).contains(&secs) {
        return Err(CoreError::invalid(field, "link lifetime must be between 5 minutes and 7 days"));
    }
    Ok(secs)
}
