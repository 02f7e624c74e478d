//! `latchkey audit list`: a project's audit trail, newest first, over
//! [`latchkey_core::auth::AuditTrail`] with the admin API's filters. `--json` prints the API's
//! `AuditPage` (pass its `nextCursor` as `--cursor` for the next page).

use clap::Subcommand;
use latchkey_core::auth::DEFAULT_AUDIT_PAGE;
use latchkey_proto::admin::{AuditPage, AuditQuery};

use super::admin::{checked_admin, project_id};
use super::{JSON_HELP, PROJECT_HELP};
use crate::config::StorageConfig;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List records, newest first.
    List {
        #[arg(long, value_name = "ID", help = PROJECT_HELP)]
        project: String,
        /// Only records about this user (id).
        #[arg(long, value_name = "USER_ID")]
        user: Option<String>,
        /// An action (user.suspended) or a prefix ending in a dot (user.).
        #[arg(long, value_name = "ACTION")]
        action: Option<String>,
        /// apiKey:<id>, cli or system.
        #[arg(long, value_name = "ACTOR")]
        actor: Option<String>,
        /// ISO 8601, inclusive.
        #[arg(long, value_name = "TIME")]
        after: Option<String>,
        /// ISO 8601, exclusive.
        #[arg(long, value_name = "TIME")]
        before: Option<String>,
        /// Records per page, 1 to 1000.
        #[arg(long, value_name = "N", default_value_t = DEFAULT_AUDIT_PAGE)]
        limit: u32,
        /// The previous page's next cursor.
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long, help = JSON_HELP)]
        json: bool,
    },
}

pub async fn audit(storage: &StorageConfig, command: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::List { project, user, action, actor, after, before, limit, cursor, json } = command;
    let query = AuditQuery { limit: Some(limit), cursor, user_id: user, action, actor, after, before };
    let trail = checked_admin(storage).await?.audit;
    let page = AuditPage::from(&trail.list(project_id(&project)?, &query).await?);
    if json {
        println!("{}", serde_json::to_string_pretty(&page)?);
        return Ok(());
    }
    for event in &page.events {
        let user = event.user_id.as_deref().unwrap_or("-");
        let details = if event.details.is_empty() { String::new() } else { serde_json::to_string(&event.details)? };
        println!("{}  {:<26} {:<44} user {user}  {details}", event.at, event.action, event.actor);
    }
    if let Some(cursor) = &page.next_cursor {
        println!("more: --cursor {cursor}");
    }
    Ok(())
}
