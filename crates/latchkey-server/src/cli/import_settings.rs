//! `latchkey user import-settings`: a project's parameters for imported password hashes,
//! given once before (or after) importing users. Firebase's modified scrypt needs the values of
//! the Firebase console (Authentication > Users > Password hash parameters); the signer key is
//! stored sealed under the master key.

use clap::Args;
use latchkey_core::auth::ImportSettings;
use latchkey_core::domain::Actor;
use latchkey_core::hashing::imported::FirebaseScryptParams;

use super::admin::project_id;

#[derive(Debug, Args)]
pub struct ImportSettingsArgs {
    #[arg(long)]
    project: String,
    /// Firebase's `base64_signer_key`.
    #[arg(long, value_name = "B64")]
    firebase_signer_key: String,
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
    let params = FirebaseScryptParams::from_base64(
        &args.firebase_signer_key,
        &args.firebase_salt_separator,
        args.firebase_rounds,
        args.firebase_mem_cost,
    )?;
    settings.set_firebase(project, &params, Actor::Cli).await?;
    println!("Firebase hash parameters set for project {project}");
    Ok(())
}
