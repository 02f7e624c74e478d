//! `latchkey db move-schema`: moves the tables of a PostgreSQL deployment made by a version
//! before the schema setting (everything in `public`) into the configured schema
//! (`LATCHKEY_DATABASE_SCHEMA`), in one transaction. Until then such a deployment is served
//! from `public`, with a warning at start-up. Every `latchkey` process must be stopped first.

use anyhow::{Context, bail};
use clap::Subcommand;
use latchkey_store::SchemaMove;
use serde_json::json;

use crate::config::StorageConfig;

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// PostgreSQL: move Latchkey's tables (and _sqlx_migrations) from public, where versions
    /// before LATCHKEY_DATABASE_SCHEMA created them, into that schema, in one transaction.
    /// Stop every latchkey process first, run this once, then start them again. Other tables
    /// in public stay; running it again when done changes nothing.
    #[command(name = "move-schema")]
    MoveSchema {
        /// Print the outcome as JSON: {"schema", "moved", "tables"}.
        #[arg(long)]
        json: bool,
    },
}

pub async fn db(storage: &StorageConfig, command: DbCommand) -> anyhow::Result<()> {
    match command {
        DbCommand::MoveSchema { json } => move_schema(storage, json).await,
    }
}

async fn move_schema(storage: &StorageConfig, json: bool) -> anyhow::Result<()> {
    if !storage.is_postgres() {
        bail!("`latchkey db move-schema` applies to PostgreSQL only (SQLite has no schemas)");
    }
    let outcome = latchkey_store::postgres::move_from_public(storage.database_url.expose(), &storage.open_options())
        .await
        .context("cannot move Latchkey's tables")?;
    let (schema, moved) = match &outcome {
        SchemaMove::Moved { schema, tables } => (schema, Some(tables)),
        SchemaMove::AlreadyThere { schema } => (schema, None),
    };
    if json {
        let tables = moved.cloned().unwrap_or_default();
        println!("{}", json!({"schema": schema.as_str(), "moved": moved.is_some(), "tables": tables}));
        return Ok(());
    }
    match moved {
        Some(tables) => println!(
            "moved {} tables and _sqlx_migrations from public into schema {schema}: {}\n\
             start the latchkey processes again (with the same LATCHKEY_DATABASE_SCHEMA)",
            tables.len(),
            tables.join(", ")
        ),
        None => println!("Latchkey's tables are already in schema {schema}; nothing to move"),
    }
    Ok(())
}
