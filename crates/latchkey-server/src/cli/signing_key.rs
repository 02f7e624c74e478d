//! `latchkey signing-key rotate|list`: the access-token signing keys of a project, over
//! [`latchkey_core::auth::SigningKeys`] (actor `cli`). `--json` prints the admin API's
//! `SigningKeyList`.

use clap::Subcommand;
use latchkey_core::auth::{SigningKeyStatus, signing_key_list};
use latchkey_core::domain::Actor;
use latchkey_core::tokens::KeyState;

use super::admin::{checked_admin, project_id};
use super::{JSON_HELP, PROJECT_HELP};
use crate::config::StorageConfig;

#[derive(Debug, Subcommand)]
pub enum SigningKeyCommand {
    /// Promote the standby key to sign new access tokens, retire the signing key (kept in the
    /// JWKS until its last token has expired) and publish a new standby. Running servers sign
    /// with the new key within 30 s.
    Rotate {
        #[arg(long, value_name = "ID", help = PROJECT_HELP)]
        project: String,
        /// Emergency: rotate even if the standby was published less than 5 min 30 s ago
        /// (verifiers whose cached JWKS lacks it reject new tokens until they refetch it).
        #[arg(long)]
        force: bool,
        #[arg(long, help = JSON_HELP)]
        json: bool,
    },
    /// List the keys in the project's JWKS, newest first.
    List {
        #[arg(long, value_name = "ID", help = PROJECT_HELP)]
        project: String,
        #[arg(long, help = JSON_HELP)]
        json: bool,
    },
}

pub async fn signing_key(storage: &StorageConfig, command: SigningKeyCommand) -> anyhow::Result<()> {
    let keys = checked_admin(storage).await?.signing_keys;
    let (listed, json) = match command {
        SigningKeyCommand::Rotate { project, force, json } => {
            (keys.rotate(project_id(&project)?, Actor::Cli, force).await?, json)
        }
        SigningKeyCommand::List { project, json } => (keys.list(project_id(&project)?).await?, json),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&signing_key_list(&listed))?);
    } else {
        for key in &listed {
            println!("{}", key_line(key));
        }
    }
    Ok(())
}

fn key_line(key: &SigningKeyStatus) -> String {
    let state = match key.state {
        KeyState::Active => "active (signs new tokens)".to_owned(),
        KeyState::Standby => "standby (published, signs after the next rotation)".to_owned(),
        KeyState::Retired { published_until } => format!("retired, published until {}", published_until.to_rfc3339()),
    };
    format!("{}  created {}  {state}", key.kid, key.created_at.to_rfc3339())
}
