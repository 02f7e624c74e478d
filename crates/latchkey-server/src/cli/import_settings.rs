//! `latchkey user import-settings`: a project's parameters for imported password hashes,
//! given once before (or after) importing users. Firebase's modified scrypt needs the values of
//! the Firebase console (Authentication > Users > Password hash parameters); the signer key is
//! stored sealed under the master key.

use clap::Args;
use latchkey_core::auth::ImportSettings;
use latchkey_core::domain::Actor;
use latchkey_core::hashing::imported::FirebaseScryptParams;

use super::PROJECT_HELP;
use super::admin::project_id;

#[derive(Debug, Args)]
pub struct ImportSettingsArgs {
    #[arg(long, value_name = "ID", help = PROJECT_HELP)]
    project: String,
    /// Firebase's `base64_signer_key`. Prefer --firebase-signer-key-stdin: a flag's value
    /// shows in process lists and shell history.
    #[arg(
        long,
        value_name = "B64",
        required_unless_present = "firebase_signer_key_stdin",
        conflicts_with = "firebase_signer_key_stdin"
    )]
    firebase_signer_key: Option<String>,
    /// Read the signer key (base64) from standard input.
    #[arg(long)]
    firebase_signer_key_stdin: bool,
    /// Firebase's `base64_salt_separator`.
    #[arg(long, value_name = "B64")]
    firebase_salt_separator: String,
    /// Firebase's `rounds` (1 to 8).
    #[arg(long, value_name = "N")]
    firebase_rounds: u32,
    /// Firebase's `mem_cost` (1 to 14).
    #[arg(long, value_name = "N")]
    firebase_mem_cost: u32,
}

pub async fn run(settings: &ImportSettings, args: ImportSettingsArgs) -> anyhow::Result<()> {
    let project = project_id(&args.project)?;
    let signer_key = match args.firebase_signer_key {
        Some(key) => key,
        None => super::user::read_secret_from_stdin("the Firebase signer key")?,
    };
    let params = FirebaseScryptParams::from_base64(
        signer_key.trim(),
        &args.firebase_salt_separator,
        args.firebase_rounds,
        args.firebase_mem_cost,
    )?;
    settings.set_firebase(project, &params, Actor::Cli).await?;
    println!("Firebase hash parameters set for project {project}");
    Ok(())
}
