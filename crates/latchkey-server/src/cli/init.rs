//! `latchkey init`: the documented way to prepare a data directory without serving. It creates
//! the embedded database and its master key (as the first `serve` would, without the first
//! project), or on PostgreSQL applies the migrations, then checks that the master key opens
//! what is stored. Running it again changes nothing. The admin commands never create a
//! database, so this (or a first `serve`) comes before them.

use clap::Args;

use super::JSON_HELP;
use super::admin::{checked_admin, print_json};
use super::wire::InitReport;
use crate::config::{StorageConfig, embedded_database};
use crate::settings::GlobalSettings;

#[derive(Debug, Args)]
pub struct InitArgs {
    #[arg(long, help = JSON_HELP)]
    pub json: bool,
}

pub async fn init(global: &GlobalSettings, master_key: Option<String>, args: InitArgs) -> anyhow::Result<()> {
    // What exists before: the report says what this run created.
    let database_file = embedded_database(global);
    let key_file = match (&master_key, &global.master_key_file, &database_file) {
        (Some(_), _, _) => None,
        (None, Some(file), _) => Some(file.clone()),
        (None, None, Some(database)) => Some(crate::master_key::embedded_key_path(database)),
        (None, None, None) => None,
    };
    let database_existed = database_file.as_ref().is_none_or(|path| path.exists());
    let key_existed = key_file.as_ref().is_none_or(|path| path.exists());

    let storage = StorageConfig::resolve(global, master_key)?;
    // Opens (creating and migrating) the database and refuses a master key that does not open it.
    checked_admin(&storage).await?;

    let shown = |path: &std::path::Path| std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let report = InitReport {
        database: match &database_file {
            Some(path) => shown(path).display().to_string(),
            None => storage.database_url.redacted(),
        },
        database_created: !database_existed,
        master_key_file: key_file.as_deref().map(|path| shown(path).display().to_string()),
        master_key_created: !key_existed,
    };
    if args.json {
        return print_json(&report);
    }
    let state = |created: bool| if created { "created" } else { "already there" };
    println!("database    {} ({})", report.database, state(report.database_created));
    match &report.master_key_file {
        Some(file) => println!("master key  {file} ({})", state(report.master_key_created)),
        None => println!("master key  LATCHKEY_MASTER_KEY"),
    }
    if report.master_key_created {
        println!("Back up the master key with the database: without it the stored secrets cannot be read.");
    }
    println!(
        "Next: `latchkey project create --name NAME` and `latchkey api-key create --project ID`, or \
         `latchkey serve` (its first start on an empty database creates a project and an API key)."
    );
    Ok(())
}
