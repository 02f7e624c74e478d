//! Email subcommands: a project's mail settings (`project set` flags) and `outbox list|retry`.

use std::io::Read;

use anyhow::Context;
use latchkey_core::auth::{MailAdmin, MailSettingsChange};
use latchkey_core::domain::{MailSettings, ProjectId};
use latchkey_core::store::{OutboxRow, OutboxState};

use super::{MailFlags, OutboxCommand};
use crate::config::StorageConfig;
use crate::mail::SmtpUrl;

/// `none` or an empty value clears an optional setting.
pub(super) fn optional(value: Option<String>) -> Option<Option<String>> {
    value.map(|v| Some(v).filter(|v| !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("none")))
}

/// Applies the mail flags of `latchkey project set` and returns the resulting settings.
pub(super) async fn apply_mail(
    admin: &MailAdmin,
    project: ProjectId,
    flags: MailFlags,
) -> anyhow::Result<MailSettings> {
    let mut change = MailSettingsChange {
        reset_page_url: optional(flags.reset_page_url),
        verify_page_url: optional(flags.verify_page_url),
        mail_from: optional(flags.mail_from),
        reset_ttl_secs: flags.reset_ttl,
        verify_ttl_secs: flags.verify_ttl,
        verify_on_sign_up: flags.verify_on_sign_up,
        ..Default::default()
    };
    if let Some(Some(from)) = &change.mail_from {
        from.parse::<lettre::message::Mailbox>().with_context(|| format!("--mail-from {from:?} is not a mailbox"))?;
    }
    match optional(flags.smtp_url) {
        Some(Some(text)) => {
            let mut url = SmtpUrl::parse(&text).map_err(|e| anyhow::anyhow!("--smtp-url is invalid: {e}"))?;
            // The password is sealed on its own; the stored URL never contains it.
            if let Some(password) = url.password.take() {
                change.smtp_password = Some(Some(secrecy::ExposeSecret::expose_secret(&password).to_owned()));
            }
            change.smtp_url = Some(Some(url.to_string()));
        }
        Some(None) => change.smtp_url = Some(None),
        None => {}
    }
    if flags.smtp_password_stdin {
        let mut password = String::new();
        std::io::stdin().read_to_string(&mut password).context("cannot read the SMTP password from stdin")?;
        change.smtp_password = Some(Some(password.trim_end_matches(['\r', '\n']).to_owned()));
    }
    Ok(admin.update_mail_settings(project, change).await?)
}

/// The text form of a project's mail settings (under `print_project`'s lines).
pub(super) fn print_mail(settings: &MailSettings) {
    let or_default = |v: &Option<String>, d: &str| v.clone().unwrap_or_else(|| d.to_owned());
    println!("  reset page           {}", or_default(&settings.reset_page_url, "(hosted)"));
    println!("  verify page          {}", or_default(&settings.verify_page_url, "(hosted)"));
    println!("  mail from            {}", or_default(&settings.mail_from, "(server default)"));
    let smtp = settings
        .smtp
        .as_ref()
        .map(|s| format!("{}{}", s.url, if s.has_password { " (password set, encrypted)" } else { "" }));
    println!("  smtp                 {}", smtp.unwrap_or_else(|| "(server default)".into()));
    println!("  reset link ttl       {}s", settings.reset_ttl_secs);
    println!("  verify link ttl      {}s", settings.verify_ttl_secs);
    println!("  verify on sign-up    {}", settings.verify_on_sign_up);
}

pub async fn outbox(storage: &StorageConfig, command: OutboxCommand) -> anyhow::Result<()> {
    let admin = super::admin::checked_admin(storage).await?.mail;
    match command {
        OutboxCommand::List { state, limit, json } => {
            let state = state
                .map(|s| {
                    OutboxState::parse(s.trim()).with_context(|| {
                        format!("--state must be pending, sending, sent, failed or dropped, got {s:?}")
                    })
                })
                .transpose()?;
            let rows = admin.outbox(state, limit.clamp(1, 10_000)).await?;
            if json {
                super::admin::print_json(&rows.iter().map(super::wire::OutboxMessage::from).collect::<Vec<_>>())?;
            } else if rows.is_empty() {
                println!("(no messages)");
            } else {
                for row in &rows {
                    print_row(row);
                }
            }
        }
        OutboxCommand::Retry { id, all_failed } => {
            let id = match (id, all_failed) {
                (Some(id), false) => Some(id.trim().parse().with_context(|| format!("{id:?} is not a message id"))?),
                (None, true) => None,
                _ => anyhow::bail!("give a message id or --all-failed"),
            };
            let count = admin.retry_outbox(id).await?;
            println!("requeued {count} message(s)");
        }
    }
    Ok(())
}

fn print_row(row: &OutboxRow) {
    let when = row.sent_at.or(row.next_attempt_at).map(|t| t.to_rfc3339()).unwrap_or_default();
    println!(
        "{}  {:<14} {:<8} attempts={:<2} {}  {}",
        row.id,
        row.purpose.as_str(),
        row.state.as_str(),
        row.attempts,
        when,
        row.last_error.as_deref().unwrap_or("")
    );
}
